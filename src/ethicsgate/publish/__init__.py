"""Public transparency statements: the systems a policy governs and their latest results.

This package builds and signs a statement; its formats (JSON, HTML, Markdown) are rendered by
``ethicsgate.report`` (``statement_files``).
Names are imported on first use, so rendering a report does not load the signing code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ethicsgate.lazy import lazy_exports

if TYPE_CHECKING:
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

_HOMES = {
    "load_publish_inputs": "load",
    "STATEMENT_ENVELOPE": "sign",
    "STATEMENT_FILES": "sign",
    "STATEMENT_PREDICATE_TYPE": "sign",
    "sign_statement": "sign",
    "DEFAULT_K": "statement",
    "Statement": "statement",
    "build_statement": "statement",
}

__getattr__ = lazy_exports(__name__, _HOMES)
