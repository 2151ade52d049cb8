"""A public transparency statement as canonical JSON, accessible HTML and Markdown."""

from __future__ import annotations

from typing import Any

from ethicsgate.canonical import STATEMENT_HTML, STATEMENT_JSON, STATEMENT_MARKDOWN, canonical_json
from ethicsgate.publish.statement import CheckStatement, Statement
from ethicsgate.report.formats.base import Format, StatementInput, html_environment
from ethicsgate.report.markdown import markdown_environment

__all__ = [
    "STATEMENT_HTML_FORMAT",
    "STATEMENT_JSON_FORMAT",
    "STATEMENT_MARKDOWN_FORMAT",
    "render_statement_html",
    "render_statement_json",
    "render_statement_markdown",
]

_OVERALL_WORDS = {
    "pass": "every must-meet requirement was met",
    "fail": "at least one must-meet requirement was not met",
    "error": "at least one must-meet requirement could not be checked",
}


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def privacy_note(check: CheckStatement, k: int) -> str | None:
    """Return what a check leaves out to protect privacy, in plain words (None: nothing)."""
    left_out = [
        _count(n, one, many)
        for n, one, many in (
            (check.suppressed_groups, "group", "groups"),
            (check.suppressed_values, "number", "numbers"),
        )
        if n
    ]
    if not left_out:
        return None
    many = check.suppressed_groups + check.suppressed_values > 1
    return (
        f"To protect privacy, we left out {' and '.join(left_out)}: "
        f"{'each is' if many else 'it is'} about fewer than {k} people, or would let someone "
        "work out such a small number from the other figures."
    )


def render_statement_json(statement: Statement) -> bytes:
    """Return the canonical bytes of ``statement.json``: sorted keys, 2-space indent, UTF-8."""
    return canonical_json(statement.model_dump(mode="json"))


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
        "privacy_notes": {c.rule: privacy_note(c, statement.k) for c in checks},
        "compares_groups": any(c.groups or c.assertions for c in checks),
        "signer": signer,
        "lang": "en",
    }


def render_statement_html(statement: Statement, *, signer: str | None = None) -> str:
    """Return the statement as one self-contained, accessible HTML page (WCAG 2.1 AA)."""
    template = html_environment().get_template("statement.html.j2")
    return str(template.render(**_context(statement, signer)))


def render_statement_markdown(statement: Statement, *, signer: str | None = None) -> str:
    """Return the statement as GitHub-flavoured Markdown (every value escaped as text)."""
    template = markdown_environment("ethicsgate.report").get_template("statement.md.j2")
    return str(template.render(**_context(statement, signer)))


def _json(source: StatementInput) -> bytes:
    return render_statement_json(source.statement)


def _html(source: StatementInput) -> bytes:
    return render_statement_html(source.statement, signer=source.signer).encode("utf-8")


def _markdown(source: StatementInput) -> bytes:
    return render_statement_markdown(source.statement, signer=source.signer).encode("utf-8")


#: The statement as canonical JSON.
STATEMENT_JSON_FORMAT: Format[StatementInput] = Format("json", STATEMENT_JSON, _json)
#: The statement as one accessible HTML page.
STATEMENT_HTML_FORMAT: Format[StatementInput] = Format("html", STATEMENT_HTML, _html)
#: The statement as GitHub-flavoured Markdown.
STATEMENT_MARKDOWN_FORMAT: Format[StatementInput] = Format(
    "markdown", STATEMENT_MARKDOWN, _markdown
)
