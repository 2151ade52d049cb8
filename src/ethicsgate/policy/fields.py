"""Field types of the policy language: durations (``10m``, ``48h``, ``7d``) and text patterns."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, WithJsonSchema

__all__ = ["MAX_DURATION", "Duration", "TextPattern", "format_duration", "parse_duration"]

_UNITS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_DURATION = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
#: The longest duration a policy may state: 100 years (36,500 days). Longer ones have no
#: meaning for a deadline or a grace period, and overflow dates and SQL intervals.
MAX_DURATION = timedelta(days=36_500)
_DURATION_HELP = "write a whole number with a unit: 30s, 10m, 48h, 7d, 2w (or a sum such as 1h30m)"

# RE2 (DuckDB's regex engine) has no lookaround and no backreferences; Python's re has both,
# so a pattern that compiles here could still fail, or mean something else, in the audit.
_NOT_RE2 = re.compile(r"\(\?<?[=!]|\\[1-9]|\(\?P=|\(\?\(")


def parse_duration(value: Any) -> timedelta:
    """Parse ``30s``, ``10m``, ``48h``, ``7d``, ``2w`` or a sum of them (``1h30m``).

    ``0`` (number or text) is zero. Units must appear from the largest to the smallest.

    Raises:
        ValueError: the value is not such a duration (pydantic turns it into a located
            PolicyError).
    """
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        if seconds < 0:
            raise ValueError("a duration cannot be negative")
        if value > MAX_DURATION:
            raise ValueError("a duration cannot be longer than 36500d (100 years)")
        return value
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"{value!r} is not a duration; {_DURATION_HELP}")
    text = str(value).strip().lower()
    if text in ("0", "0s"):
        return timedelta(0)
    match = _DURATION.fullmatch(text) if text else None
    if match is None or not any(match.groups()):
        if text.lstrip("-").isdigit():
            raise ValueError(f"duration {value!r} has no unit; {_DURATION_HELP}")
        if text.startswith("-"):
            raise ValueError(f"a duration cannot be negative ({value!r})")
        raise ValueError(f"{value!r} is not a duration; {_DURATION_HELP}")
    seconds = sum(int(n) * _UNITS[u] for n, u in zip(match.groups(), "wdhms", strict=True) if n)
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(
            f"duration {value!r} is longer than the longest allowed, 36500d (100 years)"
        )
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """Return a duration the way policies write it: ``10m``, ``2d``, ``1h30m``, ``0s``."""
    seconds = int(value.total_seconds())
    if seconds == 0:
        return "0s"
    parts = []
    for unit in "dhms":
        size = _UNITS[unit]
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts)


def _check_pattern(pattern: str) -> str:
    if not pattern:
        raise ValueError("a text pattern cannot be empty (it would match every message)")
    if _NOT_RE2.search(pattern):
        raise ValueError(
            f"pattern {pattern!r} uses lookaround or a backreference, which the audit's regular "
            "expression engine (RE2) does not support"
        )
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"pattern {pattern!r} is not a valid regular expression: {exc}") from exc
    return pattern


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "title": "Duration",
            "maxDuration": "36500d",
            "pattern": r"^(0|(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?)$",
            "examples": ["10m", "48h", "7d"],
        }
    ),
]
"""A non-negative duration written ``30s``, ``10m``, ``48h``, ``7d`` or ``2w``."""

TextPattern = Annotated[str, AfterValidator(_check_pattern)]
"""A regular expression (RE2 syntax, matched case-insensitively anywhere in the text)."""
