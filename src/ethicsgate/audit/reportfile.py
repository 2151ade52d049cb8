"""Read a ``report.json`` back into an ``AuditResult`` (baselines, published statements)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ethicsgate.audit.result import AuditResult
from ethicsgate.errors import EthicsgateError

__all__ = ["read_report"]

_HINT = (
    "pass the report.json an earlier `ethicsgate audit` or `gate` wrote "
    "(schema: docs/schemas/report.schema.json)"
)


def read_report(
    path: Path, *, error: type[EthicsgateError], what: str, missing: str | None = None
) -> AuditResult:
    """Parse and validate a report.json; ``what`` names it in messages (e.g. "baseline").

    ``missing``: the fix when there is no file at ``path`` (how to get one).

    Raises:
        EthicsgateError: (of class ``error``) the file is missing, not JSON, or not a valid
            report.json; the message names the file and the first invalid field.
    """
    try:
        data: Any = json.loads(path.read_bytes())
    except FileNotFoundError as exc:
        raise error(f"{what} not found", location=path, hint=missing) from exc
    except IsADirectoryError as exc:
        raise error(f"{what} is a folder, not a report.json", location=path) from exc
    except OSError as exc:
        raise error(f"cannot read the {what}: {exc.strerror}", location=path) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise error(f"{what} is not JSON ({str(exc)[:120]})", location=path, hint=_HINT) from exc
    try:
        return AuditResult.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise error(
            f"{what} is not a valid report.json: {where}: {first['msg']}",
            location=path,
            hint=_HINT,
        ) from exc
