"""Evidence: reading logs, ledgers and predictions with DuckDB, and mapping their columns."""

from ethicsgate.evidence.reader import (
    EvidenceFile,
    EvidenceSet,
    GroupedCounts,
    ProgressCallback,
    open_evidence,
    sha256_file,
)
from ethicsgate.evidence.spec import EvidenceFormat, EvidenceSpec

__all__ = [
    "EvidenceFile",
    "EvidenceFormat",
    "EvidenceSet",
    "EvidenceSpec",
    "GroupedCounts",
    "ProgressCallback",
    "open_evidence",
    "sha256_file",
]
