"""Public transparency statements: the systems a policy governs and their latest results."""

from ethicsgate.publish.load import load_publish_inputs
from ethicsgate.publish.render import (
    STATEMENT_ENVELOPE,
    STATEMENT_FILES,
    STATEMENT_PREDICATE_TYPE,
    render_statement_html,
    render_statement_json,
    render_statement_markdown,
    sign_statement,
    statement_files,
)
from ethicsgate.publish.statement import DEFAULT_K, Statement, build_statement

__all__ = [
    "DEFAULT_K",
    "STATEMENT_ENVELOPE",
    "STATEMENT_FILES",
    "STATEMENT_PREDICATE_TYPE",
    "Statement",
    "build_statement",
    "load_publish_inputs",
    "render_statement_html",
    "render_statement_json",
    "render_statement_markdown",
    "sign_statement",
    "statement_files",
]
