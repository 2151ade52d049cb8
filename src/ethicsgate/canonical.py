"""The canonical forms of what ethicsgate writes and signs: JSON bytes and file names.

Signatures cover exact bytes, so every signed JSON document (``report.json``,
``statement.json``) is serialised by :func:`canonical_json` alone. This module is on the
ground floor: it imports nothing from ethicsgate, so ``attest/`` and ``report/`` share it.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "REPORT_FILES",
    "REPORT_HTML",
    "REPORT_JSON",
    "REPORT_MARKDOWN",
    "STATEMENT_FILES",
    "STATEMENT_HTML",
    "STATEMENT_JSON",
    "STATEMENT_MARKDOWN",
    "canonical_json",
]

REPORT_JSON = "report.json"
REPORT_HTML = "report.html"
REPORT_MARKDOWN = "report.md"
#: The files of a report, beside its envelope: each is rendered and signed.
REPORT_FILES = (REPORT_JSON, REPORT_HTML, REPORT_MARKDOWN)

STATEMENT_JSON = "statement.json"
STATEMENT_HTML = "statement.html"
STATEMENT_MARKDOWN = "statement.md"
#: The files of a public transparency statement, beside its envelope.
STATEMENT_FILES = (STATEMENT_JSON, STATEMENT_HTML, STATEMENT_MARKDOWN)


def canonical_json(data: Any) -> bytes:
    """Return the canonical bytes of a JSON document: sorted keys, 2-space indent, UTF-8.

    Raises:
        ValueError: ``data`` holds NaN or an infinity, which JSON cannot represent.
    """
    text = json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")
