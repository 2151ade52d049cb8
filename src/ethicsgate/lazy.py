"""Package names imported on first use (PEP 562), so that importing one submodule stays cheap.

A package whose ``__init__`` re-exports names from heavy submodules (SQLAlchemy, cryptography,
the publishing inputs) would load them all whenever any of its modules is imported; an audit
that signs nothing and queues nothing must not pay for them. Such a package lists where each
name lives and sets ``__getattr__ = lazy_exports(__name__, HOMES)``; for type checkers it
imports the names under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """Return a module ``__getattr__`` importing ``package.<homes[name]>`` on first use."""

    def __getattr__(name: str) -> Any:
        if name in homes:
            return getattr(importlib.import_module(f"{package}.{homes[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
