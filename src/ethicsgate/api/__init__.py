"""The Python front door: audit frames and files, read reports, verify them, review findings.

A front door beside ``cli/``, above ``session/``: it never prints or exits. Its stable names are
re-exported (lazily) by the ``ethicsgate`` package itself; docs/python-api.md lists them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ethicsgate.lazy import lazy_exports

if TYPE_CHECKING:
    from ethicsgate.api._report import AuditFailed, AuditReport, FailingGroup, failing_groups
    from ethicsgate.api._run import PYTHON_SPEC, audit, build_audit
    from ethicsgate.api._verify import verify

__all__ = [
    "PYTHON_SPEC",
    "AuditFailed",
    "AuditReport",
    "FailingGroup",
    "audit",
    "build_audit",
    "failing_groups",
    "verify",
]

_HOMES = {
    "PYTHON_SPEC": "_run",
    "audit": "_run",
    "build_audit": "_run",
    "AuditFailed": "_report",
    "AuditReport": "_report",
    "FailingGroup": "_report",
    "failing_groups": "_report",
    "verify": "_verify",
}

__getattr__ = lazy_exports(__name__, _HOMES)
