"""Audits: bind a policy to evidence and run every rule; findings are data.

Called, this package is the Python front door: ``ethicsgate.audit(policy, evidence)`` runs
:func:`ethicsgate.api.audit` (see ``ethicsgate/__init__.py``; docs/python-api.md).
"""

from ethicsgate.audit.result import AuditResult
from ethicsgate.audit.run import run_audit, status_of
from ethicsgate.audit.spec import AuditSpec, LoadedAudit, load_audit_spec

__all__ = ["AuditResult", "AuditSpec", "LoadedAudit", "load_audit_spec", "run_audit", "status_of"]
