"""Render a transparency statement as JSON, accessible HTML and Markdown; sign it."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from ethicsgate.attest.verify import (
    STATEMENT_ENVELOPE_FILENAME as STATEMENT_ENVELOPE,
)
from ethicsgate.attest.verify import (
    STATEMENT_FILES,
    STATEMENT_PREDICATE_TYPE,
)
from ethicsgate.publish.statement import CheckStatement, Statement
from ethicsgate.report.markdown import markdown_environment

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = [
    "STATEMENT_ENVELOPE",
    "STATEMENT_FILES",
    "STATEMENT_PREDICATE_TYPE",
    "render_statement_html",
    "render_statement_json",
    "render_statement_markdown",
    "sign_statement",
    "statement_files",
]

#: The predicate of a signed statement: which policy and audit it was published from.

_OVERALL_WORDS = {
    "pass": "every blocking requirement was met",
    "fail": "at least one blocking requirement was not met",
    "error": "at least one blocking requirement could not be checked",
}


def render_statement_json(statement: Statement) -> bytes:
    """Return the canonical bytes of ``statement.json``: sorted keys, 2-space indent, UTF-8."""
    data = statement.model_dump(mode="json")
    text = json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


def _html_environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(
        loader=PackageLoader("ethicsgate.publish", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _context(statement: Statement, signer: str | None) -> dict[str, Any]:
    checks: list[CheckStatement] = []
    seen: set[str] = set()
    for check in [c for s in statement.systems for c in s.checks] + statement.other_checks:
        if check.rule not in seen:
            seen.add(check.rule)
            checks.append(check)
    return {
        "s": statement,
        "checks": checks,
        "overall_words": _OVERALL_WORDS.get(statement.audit["status"], statement.audit["status"]),
        "signer": signer,
        "lang": "en",
    }


def render_statement_html(statement: Statement, *, signer: str | None = None) -> str:
    """Return the statement as one self-contained, accessible HTML page (WCAG 2.1 AA)."""
    template = _html_environment().get_template("statement.html.j2")
    return str(template.render(**_context(statement, signer)))


def render_statement_markdown(statement: Statement, *, signer: str | None = None) -> str:
    """Return the statement as GitHub-flavoured Markdown (every value escaped as text)."""
    template = markdown_environment("ethicsgate.publish").get_template("statement.md.j2")
    return str(template.render(**_context(statement, signer)))


def statement_files(statement: Statement, *, signer: str | None = None) -> dict[str, bytes]:
    """Render ``statement.json``, ``statement.html`` and ``statement.md`` in memory."""
    return {
        "statement.json": render_statement_json(statement),
        "statement.html": render_statement_html(statement, signer=signer).encode("utf-8"),
        "statement.md": render_statement_markdown(statement, signer=signer).encode("utf-8"),
    }


def sign_statement(statement: Statement, files: dict[str, bytes], key: Ed25519PrivateKey) -> bytes:
    """Return a DSSE envelope of an in-toto statement over the exact statement files."""
    from ethicsgate.attest import Subject, build_statement, key_fingerprint, sign_envelope

    subjects = [
        Subject(name, hashlib.sha256(files[name]).hexdigest())
        for name in STATEMENT_FILES
        if name in files
    ]
    predicate = {
        "policy": statement.policy,
        "audit": statement.audit,
        "k": statement.k,
        "signer": key_fingerprint(key.public_key()),
    }
    payload = build_statement(subjects, predicate, predicate_type=STATEMENT_PREDICATE_TYPE)
    return sign_envelope(payload, key)
