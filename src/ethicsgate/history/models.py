"""What the history store keeps and returns: recorded runs, their rules, metric rows, trends."""

from __future__ import annotations

from pydantic import Field

from ethicsgate.base import StrictModel

__all__ = ["MetricRow", "RecordedRule", "RecordedRun", "RunDetail", "TrendPoint", "TrendResult"]


class RecordedRun(StrictModel):
    """One recorded audit run: what was signed, which policy, when, and how it ended."""

    id: int
    report_sha256: str = Field(description="sha256 of report.json, the bytes the envelope signs.")
    envelope_sha256: str | None = Field(description="sha256 of the DSSE envelope; null unsigned.")
    signer: str | None = Field(description="The signing key's fingerprint; null unsigned.")
    audit_id: str
    audit_title: str | None
    spec_sha256: str
    policy_id: str
    policy_version: str
    policy_sha256: str
    status: str = Field(description="pass, fail or error: the audit's overall status.")
    started_at: str
    finished_at: str
    recorded_at: str
    engine: dict[str, str]
    ethicsgate_version: str
    report_path: str | None
    rules: int
    failed: int


class RecordedRule(StrictModel):
    """One rule's result in a recorded run."""

    rule_id: str
    kind: str
    severity: str
    status: str
    dataset: str
    rows: int
    message: str
    assertions: list[dict[str, str | float | None]] = Field(
        description="Each assertion's metric, aggregate, op, threshold, observed and status."
    )


class MetricRow(StrictModel):
    """One group's metric in one rule of one run: value, interval, ratio, test p-value, n."""

    rule_id: str
    group: dict[str, str | None]
    metric: str
    value: float | None
    low: float | None = None
    high: float | None = None
    ratio: float | None = None
    ratio_low: float | None = None
    ratio_high: float | None = None
    difference: float | None = None
    p_value: float | None = None
    n: int
    excluded: bool = False


class RunDetail(StrictModel):
    """A recorded run with its rules and (optionally) its group metrics."""

    run: RecordedRun
    rules: list[RecordedRule]
    metrics: list[MetricRow] = Field(default_factory=list)


class TrendPoint(StrictModel):
    """One group's metric in one recorded run."""

    run_id: int
    finished_at: str
    status: str = Field(description="The rule's status in that run.")
    group: dict[str, str | None]
    value: float | None
    low: float | None
    high: float | None
    ratio: float | None
    ratio_low: float | None
    ratio_high: float | None
    p_value: float | None
    n: int


class TrendResult(StrictModel):
    """A rule's metric per group across recorded runs, oldest run first."""

    rule_id: str
    metric: str
    points: list[TrendPoint]
