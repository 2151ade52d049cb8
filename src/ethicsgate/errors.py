"""The error tree: every problem a user can fix raises an ``EthicsgateError``.

Findings (a rule that fails) are data, never exceptions; bugs are any other exception.
The CLI maps an ``EthicsgateError`` to exit code 2 and prints ``diagnostics()`` without a
traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "AuditSpecError",
    "BaselineError",
    "EthicsgateError",
    "EvidenceError",
    "HistoryError",
    "Location",
    "NotifyError",
    "OutputError",
    "PolicyError",
    "PublishError",
    "ReviewError",
    "SettingsError",
    "SigningError",
    "VerificationError",
    "close_match",
    "did_you_mean",
    "first_line",
]


@dataclass(frozen=True)
class Location:
    """Where a problem is: a file and, when known, a 1-based line and column."""

    path: str
    line: int | None = None
    column: int | None = None
    #: The command-line option the problem came from (``--window``), when not from a file;
    #: ``path`` then shows the option as given.
    option: str | None = None

    def __str__(self) -> str:
        """Return ``path[:line[:column]]``."""
        text = self.path
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        return text


class EthicsgateError(Exception):
    """A problem the user can fix: bad input, a missing file, a wrong key."""

    #: What the error is about, shown before the message when no location is known.
    kind = "error"

    def __init__(
        self,
        message: str,
        *,
        location: Location | str | Path | None = None,
        hint: str | None = None,
    ) -> None:
        """Keep the message, where it happened (a file position or a name) and the fix."""
        super().__init__(message)
        self.message = message
        if isinstance(location, (str, Path)):
            location = Location(str(location))
        self.location = location
        self.hint = hint

    def diagnostics(self) -> str:
        """Return the one-paragraph message the CLI prints: ``where: what (fix)``."""
        where = f"{self.location}: " if self.location else ""
        text = f"{where}{self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def __str__(self) -> str:
        """Return :meth:`diagnostics`."""
        return self.diagnostics()

    def _render_traceback_(self) -> list[str]:
        """Return what IPython and Jupyter show when this error is not caught: no traceback.

        The message says where and what, as the CLI prints it; the frames inside ethicsgate
        (DuckDB, pydantic, the causes chained) would bury it. Any other exception is a bug and
        keeps its traceback. ``sys.last_value.__traceback__`` still holds this one's.
        """
        return f"{type(self).__name__}: {self.diagnostics()}".splitlines()


class PolicyError(EthicsgateError):
    """A policy pack is missing, unparsable or invalid."""

    kind = "policy"


class AuditSpecError(EthicsgateError):
    """An audit spec is missing, unparsable, invalid or does not fit its policy."""

    kind = "audit spec"


class EvidenceError(EthicsgateError):
    """Evidence cannot be read or holds values a rule cannot use."""

    kind = "evidence"


class SigningError(EthicsgateError):
    """A key cannot be read, generated or used to sign."""

    kind = "signing"


class VerificationError(EthicsgateError):
    """A signature, digest or envelope does not verify."""

    kind = "verification"


class ReviewError(EthicsgateError):
    """A review-queue operation is not possible (unknown item, wrong state, bad store)."""

    kind = "review"


class HistoryError(EthicsgateError):
    """A recorded run, rule or metric asked of the history store does not exist."""

    kind = "history"


class NotifyError(EthicsgateError):
    """A notification target cannot be used (bad URL, unset ${VAR}); checked before the scan."""

    kind = "notify"


class BaselineError(EthicsgateError):
    """A baseline report for ``ethicsgate gate`` is missing, invalid or of another policy."""

    kind = "baseline"


class PublishError(EthicsgateError):
    """A transparency statement cannot be published from the given input."""

    kind = "publish"


class OutputError(EthicsgateError):
    """An output folder or file cannot be written (missing parent, a file in the way, denied)."""

    kind = "output"


class SettingsError(EthicsgateError):
    """An ``ETHICSGATE_*`` environment setting holds a value that cannot be used."""

    kind = "settings"


def first_line(exc: BaseException, *, lines: int = 1) -> str:
    """Return the first ``lines`` non-blank lines of an error's text, joined by spaces."""
    text = str(exc).strip()
    return " ".join(part.strip() for part in text.splitlines()[:lines] if part.strip())


#: The longest text :func:`close_match` looks for a close choice of.
_MAX_GUESSED = 256


def close_match(word: str, choices: Iterable[str]) -> str | None:
    """Return the choice most like ``word`` (``difflib``, similarity 0.6 or more), or None.

    None for a ``word`` longer than :data:`_MAX_GUESSED` characters: difflib's time grows with
    its length times each choice's, and a typo is not that long (a web page's query value
    could be).
    """
    if len(word) > _MAX_GUESSED:
        return None
    close = difflib.get_close_matches(word, list(choices), n=1)
    return close[0] if close else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return `` (did you mean 'choice'?)`` for the choice most like ``word``, else ``""``."""
    match = close_match(word, choices)
    return f" (did you mean {match!r}?)" if match is not None else ""
