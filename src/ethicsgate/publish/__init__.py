"""Public transparency statements: the systems a policy governs and their latest results.

This package builds and signs a statement; its formats (JSON, HTML, Markdown) are rendered by
``ethicsgate.report`` (``statement_files``).
"""

from ethicsgate.publish.load import load_publish_inputs
from ethicsgate.publish.sign import (
    STATEMENT_ENVELOPE,
    STATEMENT_FILES,
    STATEMENT_PREDICATE_TYPE,
    sign_statement,
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
    "sign_statement",
]
