"""ethicsgate: check that customer-facing automation is fair, transparent and consented to.

The Python API (docs/python-api.md)::

    import ethicsgate

    report = ethicsgate.audit("policy.yaml", {"predictions": {"data": df}})
    report.raise_for_status()

Every name is imported on first use, so ``import ethicsgate`` (and ``ethicsgate --help``) loads
nothing heavy. ``ethicsgate.audit`` is also the name of the audit package
(``ethicsgate.audit.run_audit``): calling that package runs :func:`ethicsgate.api.audit`.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from ethicsgate.lazy import lazy_exports

if TYPE_CHECKING:
    from ethicsgate.api import AuditFailed, AuditReport, audit, verify
    from ethicsgate.attest import generate_keypair
    from ethicsgate.errors import (
        AuditSpecError,
        EthicsgateError,
        EvidenceError,
        OutputError,
        PolicyError,
        ReviewError,
        SigningError,
        VerificationError,
    )
    from ethicsgate.policy.loader import LoadedPolicy, load_policy
    from ethicsgate.review import ReviewStore, open_store

__version__ = "0.1.0"
__all__ = [
    "AuditFailed",
    "AuditReport",
    "AuditSpecError",
    "EthicsgateError",
    "EvidenceError",
    "LoadedPolicy",
    "OutputError",
    "PolicyError",
    "ReviewError",
    "ReviewStore",
    "SigningError",
    "VerificationError",
    "__version__",
    "audit",
    "generate_keypair",
    "load_policy",
    "open_store",
    "verify",
]

#: Exported name -> the module that defines it.
_HOMES = {
    "AuditFailed": "api",
    "AuditReport": "api",
    "verify": "api",
    "generate_keypair": "attest",
    "AuditSpecError": "errors",
    "EthicsgateError": "errors",
    "EvidenceError": "errors",
    "OutputError": "errors",
    "PolicyError": "errors",
    "ReviewError": "errors",
    "SigningError": "errors",
    "VerificationError": "errors",
    "LoadedPolicy": "policy.loader",
    "load_policy": "policy.loader",
    "ReviewStore": "review",
    "open_store": "review",
}

_lazy = lazy_exports(__name__, _HOMES)


class _AuditPackage(types.ModuleType):
    """The ``ethicsgate.audit`` package, callable: ``ethicsgate.audit(policy, evidence)``."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run :func:`ethicsgate.api.audit` (see there)."""
        return importlib.import_module("ethicsgate.api").audit(*args, **kwargs)


class _Package(types.ModuleType):
    """This package's module type: makes the ``audit`` subpackage callable when it is bound.

    The import system binds a loaded subpackage as an attribute of its parent; binding
    ``audit`` turns the package module into an :class:`_AuditPackage`, so that
    ``ethicsgate.audit`` is both the package (``ethicsgate.audit.run_audit``) and the front
    door, whichever was imported first.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "audit" and type(value) is types.ModuleType:
            value.__class__ = _AuditPackage
        super().__setattr__(name, value)


def __getattr__(name: str) -> Any:
    if name == "audit":  # the subpackage, bound (and made callable) by its import
        importlib.import_module("ethicsgate.audit")
        return sys.modules[__name__].__dict__["audit"]
    return _lazy(name)


sys.modules[__name__].__class__ = _Package
