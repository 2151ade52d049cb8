"""Evidence: how an audit names it (spec), what engines hand over, and the engine interface.

Engine-neutral; the engines themselves live in :mod:`ethicsgate.engines`.
"""

from ethicsgate.evidence.engine import Dataset, Dialect, Engine, Rows, VerdictCounts
from ethicsgate.evidence.model import (
    EvidenceFile,
    GroupedCounts,
    Locator,
    ProgressCallback,
    ScoreColumn,
    ScoreProfile,
    resolve_files,
    sha256_file,
)
from ethicsgate.evidence.roles import ACTORS, Role, RoleKind
from ethicsgate.evidence.spec import EvidenceFormat, EvidenceSpec

__all__ = [
    "ACTORS",
    "Dataset",
    "Dialect",
    "Engine",
    "EvidenceFile",
    "EvidenceFormat",
    "EvidenceSpec",
    "GroupedCounts",
    "Locator",
    "ProgressCallback",
    "Role",
    "RoleKind",
    "Rows",
    "ScoreColumn",
    "ScoreProfile",
    "VerdictCounts",
    "resolve_files",
    "sha256_file",
]
