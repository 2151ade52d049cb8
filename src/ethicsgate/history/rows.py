"""Turn an audit result into history rows (no database here, so it is cheap to test)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ethicsgate.files import ReportFiles

if TYPE_CHECKING:
    from ethicsgate.audit.result import AuditResult

__all__ = ["group_key", "metric_rows", "report_digests"]


def group_key(group: Mapping[str, str | None]) -> str:
    """Return a group's stored key: compact JSON with sorted keys (equal groups, equal keys)."""
    return json.dumps(dict(group), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def report_digests(files: Mapping[str, bytes]) -> tuple[str, str | None]:
    """Return the sha256 of report.json and of the DSSE envelope (None when unsigned).

    Files written by an audit (:class:`~ethicsgate.files.ReportFiles`) carry the digests
    computed as they were written: a 250 MB report.json is not read back to hash it.
    """

    def sha256(name: str) -> str:
        if isinstance(files, ReportFiles):
            return files.digests[name]
        return hashlib.sha256(files[name]).hexdigest()

    envelope = "report.intoto.json"
    return sha256("report.json"), sha256(envelope) if envelope in files else None


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def metric_rows(result: AuditResult) -> Iterator[dict[str, Any]]:
    """Yield one row per rule x group x metric, with interval, ratio, difference and p-value.

    A group's ROC AUC (scoring rules) is the metric ``roc_auc``, with its interval. A row of
    an impact-ratio table (NYC LL144 rules) is the metric ``impact_ratio`` of its category:
    value and ratio are the impact ratio, the interval its interval, ``n`` the applicants.
    """
    for rule in result.rules:
        if rule.impact_ratio is not None:
            for table in rule.impact_ratio.tables:
                for row in table.rows:
                    ratio = row.impact_ratio_interval
                    yield {
                        "rule_id": rule.id,
                        "group_key": group_key(row.category),
                        "metric": "impact_ratio",
                        "value": row.impact_ratio,
                        "low": ratio.low if ratio is not None else None,
                        "high": ratio.high if ratio is not None else None,
                        "ratio": row.impact_ratio,
                        "ratio_low": ratio.low if ratio is not None else None,
                        "ratio_high": ratio.high if ratio is not None else None,
                        "difference": None,
                        "p_value": row.test.p_value if row.test is not None else None,
                        "n": row.applicants,
                        "excluded": row.excluded,
                    }
        for g in rule.groups:
            key = group_key(g.group)
            for metric, value in g.metrics.items():
                if metric == "count":  # the group's size: every row's n
                    continue
                interval = g.intervals.get(metric)
                ratio_interval = g.ratio_intervals.get(metric)
                test = g.tests.get(metric)
                yield {
                    "rule_id": rule.id,
                    "group_key": key,
                    "metric": metric,
                    "value": _num(value),
                    "low": interval.low if interval is not None else None,
                    "high": interval.high if interval is not None else None,
                    "ratio": _num(g.ratios.get(metric)),
                    "ratio_low": ratio_interval.low if ratio_interval is not None else None,
                    "ratio_high": ratio_interval.high if ratio_interval is not None else None,
                    "difference": _num(g.differences.get(metric)),
                    "p_value": test.p_value if test is not None else None,
                    "n": g.count,
                    "excluded": g.excluded,
                }
            score = g.score
            if score is not None and "roc_auc" not in g.metrics:
                auc = score.roc_auc_interval
                yield {
                    "rule_id": rule.id,
                    "group_key": key,
                    "metric": "roc_auc",
                    "value": score.roc_auc,
                    "low": auc.low if auc is not None else None,
                    "high": auc.high if auc is not None else None,
                    "ratio": None,
                    "ratio_low": None,
                    "ratio_high": None,
                    "difference": None,
                    "p_value": None,
                    "n": g.count,
                    "excluded": g.excluded,
                }
