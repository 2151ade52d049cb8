"""Sessions: the workflows a front door runs, the same for the CLI, a Python API and a web app.

An audit session runs the audit, renders every report file, signs the exact bytes, writes them
atomically and hands findings to the review queue (:func:`run_and_report`); a gate session adds
the baseline comparison and the CI files (:func:`run_gate`); a publishing session builds, renders
and signs a transparency statement (:func:`publish_statement`). Nothing here prints or exits.
Names are imported on first use, so an audit does not load the publishing machinery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ethicsgate.lazy import lazy_exports

if TYPE_CHECKING:
    from ethicsgate.session.audit import AuditRun, render_report_files, run_and_report
    from ethicsgate.session.gate import GateRun, run_gate
    from ethicsgate.session.history import open_history
    from ethicsgate.session.publish import PublishRun, publish_statement

__all__ = [
    "AuditRun",
    "GateRun",
    "PublishRun",
    "open_history",
    "publish_statement",
    "render_report_files",
    "run_and_report",
    "run_gate",
]

_HOMES = {
    "AuditRun": "audit",
    "render_report_files": "audit",
    "run_and_report": "audit",
    "GateRun": "gate",
    "run_gate": "gate",
    "open_history": "history",
    "PublishRun": "publish",
    "publish_statement": "publish",
}

__getattr__ = lazy_exports(__name__, _HOMES)
