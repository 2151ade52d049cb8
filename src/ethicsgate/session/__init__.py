"""Sessions: the workflows a front door runs, the same for the CLI, a Python API and a web app.

An audit session runs the audit, renders every report file, signs the exact bytes, writes them
atomically and hands findings to the review queue (:func:`run_and_report`); a gate session adds
the baseline comparison and the CI files (:func:`run_gate`); a publishing session builds, renders
and signs a transparency statement (:func:`publish_statement`). Nothing here prints or exits.
"""

from ethicsgate.session.audit import AuditRun, render_report_files, run_and_report
from ethicsgate.session.gate import GateRun, run_gate
from ethicsgate.session.publish import PublishRun, publish_statement

__all__ = [
    "AuditRun",
    "GateRun",
    "PublishRun",
    "publish_statement",
    "render_report_files",
    "run_and_report",
    "run_gate",
]
