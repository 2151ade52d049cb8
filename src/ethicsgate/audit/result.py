"""The audit result: exactly what ``report.json`` holds (its JSON Schema is in docs/)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ethicsgate.base import StrictModel
from ethicsgate.evidence.contracts import ContractResult
from ethicsgate.rules.results import RuleResult

__all__ = [
    "AuditInfo",
    "AuditResult",
    "EvidenceFileInfo",
    "TableIdentityInfo",
    "EvidenceInfo",
    "PolicyInfo",
    "ReferenceInfo",
    "ReviewRuleSummary",
    "ReviewSummary",
    "Summary",
]


class ReferenceInfo(StrictModel):
    """A regulation or standard the policy's rules cite."""

    id: str
    title: str
    url: str | None = None


class PolicyInfo(StrictModel):
    """The policy pack an audit ran, pinned by digest."""

    id: str
    version: str
    title: str
    owner: str
    path: str
    sha256: str
    references: list[ReferenceInfo] = Field(default_factory=list)


class EvidenceFileInfo(StrictModel):
    """One evidence file, pinned by digest."""

    path: str
    sha256: str
    bytes: int


class TableIdentityInfo(StrictModel):
    """Evidence that is no file (a database table or query), pinned by the engine's digest."""

    engine: str = Field(description="The engine, its URL's password redacted.")
    table: str | None = Field(default=None, description="The table, as the audit spec names it.")
    query_sha256: str | None = Field(
        default=None, description="sha256 of the exact query text the engine ran."
    )
    version: str | None = Field(
        default=None, description="The table version (Delta, Iceberg), where the engine has one."
    )
    rows: int = Field(description="Rows of the table or query (before the evidence filter).")
    content_digest: str = Field(
        description="An order-independent digest of the rows, computed inside the engine."
    )
    digest_kind: str = Field(
        description="How content_digest is computed: sum-pghash-64 (PostgreSQL), "
        "sum-xxhash64-2x64 (Spark), sum-md5-128 (earlier reports)."
    )


class EvidenceInfo(StrictModel):
    """One named evidence set: its files, and how many rows were read and audited."""

    name: str
    path: str | None = Field(
        default=None, description="The path or glob as written in the audit spec."
    )
    table: TableIdentityInfo | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="For a table or query (no files): the engine, the table or the query's "
        "sha256, and the rows' digest; sha256 then binds all of them.",
    )
    format: str
    version: str | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="A Delta table read from its files: the table version audited (delta:N); "
        "files then lists the version's Parquet files.",
    )
    sha256: str = Field(
        description="The file's sha256; for several files, the sha256 of their sorted "
        "'<sha256>  <path>' lines."
    )
    files: list[EvidenceFileInfo]
    filter: str | None = None
    rows_read: int | None = Field(description="Rows in the files (null if no rule read them).")
    rows: int | None = Field(description="Rows left after the filter.")


class AuditInfo(StrictModel):
    """What was audited, with what, when, and by which version."""

    id: str
    title: str | None = None
    spec_path: str
    spec_sha256: str
    policy: PolicyInfo
    evidence: list[EvidenceInfo]
    started_at: str
    finished_at: str
    ethicsgate_version: str
    engine: dict[str, str] = Field(default_factory=dict)


class Summary(StrictModel):
    """Rule counts by status."""

    rules: int
    passed: int
    failed: int
    warned: int
    errors: int
    blocking_failed: int
    waived: int = Field(default=0, description="Failures covered by an unexpired waiver.")


class ReviewRuleSummary(StrictModel):
    """The review queue's items of one rule."""

    rule_id: str
    open: int = Field(description="Waiting for a reviewer (claimed items included).")
    overdue: int = Field(description="Undecided and past their due time.")
    decided: int = Field(description="Confirmed or dismissed.")
    escalated: int
    dismissed: int = Field(description="Decided as not a problem.")


class ReviewSummary(StrictModel):
    """The state of this audit's human review queue when the report was written."""

    store: str = Field(description="The review database (password hidden).")
    enqueued: int = Field(description="Items this run added to the queue.")
    already_queued: int = Field(description="Findings of this run that were queued before.")
    rules: list[ReviewRuleSummary]


class AuditResult(StrictModel):
    """A whole audit: overall status, provenance, and every rule's outcome."""

    schema_version: Literal[1] = 1
    status: Literal["pass", "fail", "error"] = Field(
        description="fail if a block rule failed; else error if a block rule could not be "
        "evaluated; else pass."
    )
    audit: AuditInfo
    summary: Summary
    rules: list[RuleResult]
    review: ReviewSummary | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="The review queue of this audit (only with a review store).",
    )
    contracts: list[ContractResult] = Field(
        default_factory=list,
        exclude_if=lambda value: not value,
        description="Data contracts (data_quality rules) checked before the rules ran.",
    )
