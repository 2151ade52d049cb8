"""The group table behind ``groups.parquet`` and ``groups.csv``: one tidy row per group and metric.

Built once per report (``ReportInput.group_rows``) and laid out by both formats, so the two
files hold the same rows. Values are the floats of ``report.json``, unformatted.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from typing import Any

from ethicsgate.audit.result import AuditResult
from ethicsgate.rules.results import (
    AssertionResult,
    ComparisonTest,
    GroupKey,
    ImpactRatioResult,
    Interval,
    RuleResult,
    WindowResult,
)

__all__ = [
    "GROUP_COLUMNS",
    "arrow_group_table",
    "arrow_table",
    "group_table",
    "iter_group_table",
]

#: The columns of ``groups.parquet`` and ``groups.csv``, in order, with their Arrow types.
GROUP_COLUMNS: dict[str, str] = {
    "rule": "string",  # the rule's id
    "table": "string",  # "groups" (the rule's groups) or "impact_ratio" (an LL144 table row)
    "group": "string",  # the group (or LL144 category) as compact JSON, keys sorted
    "count": "int64",  # people in the group (applicants of an LL144 category)
    "excluded": "bool",  # too small to compare (an LL144 category under the share threshold)
    "metric": "string",  # metric id: selection_rate, roc_auc, ... (LL144: selection/scoring_rate)
    "value": "float64",  # the group's value of the metric
    "value_low": "float64",  # its confidence interval, when the rule computed one
    "value_high": "float64",
    "ratio": "float64",  # value / reference group's value (LL144: the impact ratio)
    "ratio_low": "float64",
    "ratio_high": "float64",
    "difference": "float64",  # |value - reference group's value|
    "difference_low": "float64",
    "difference_high": "float64",
    "test": "string",  # z_test or fisher_exact, against the reference group
    "p_value": "float64",
    "fails": "bool",  # the group is a failing group of an assertion on this metric
    "window": "string",  # a windowed rule's window (e.g. 2026-03); empty: the whole evidence
}


_COMPACT = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _group_json(group: GroupKey) -> str:
    return _COMPACT.encode(group)


def _bounds(interval: Interval | None) -> tuple[float | None, float | None]:
    return (None, None) if interval is None else (interval.low, interval.high)


def _test(test: ComparisonTest | None) -> tuple[str | None, float | None]:
    return (None, None) if test is None else (test.method, test.p_value)


def _failing(assertions: Iterable[AssertionResult]) -> dict[str, set[str]]:
    """Return, per asserted metric, the failing groups as :func:`_group_json` text."""
    failing: dict[str, set[str]] = {}
    for assertion in assertions:
        keys = failing.setdefault(assertion.metric, set())
        keys.update(_group_json(g) for g in assertion.failing_groups)
    return failing


def _group_rows(rule: RuleResult, window: WindowResult | None = None) -> Iterator[tuple[Any, ...]]:
    """Yield the rows of a rule's groups: over the whole evidence, or in one of its windows."""
    judged = rule if window is None else window
    label = None if window is None else window.label
    failing = _failing(judged.assertions)
    for g in judged.groups:
        key = _group_json(g.group)
        for metric, value in g.metrics.items():
            test, p_value = _test(g.tests.get(metric))
            yield (
                rule.id,
                "groups",
                key,
                g.count,
                g.excluded,
                metric,
                value,
                *_bounds(g.intervals.get(metric)),
                g.ratios.get(metric),
                *_bounds(g.ratio_intervals.get(metric)),
                g.differences.get(metric),
                *_bounds(g.difference_intervals.get(metric)),
                test,
                p_value,
                key in failing.get(metric, ()),
                label,
            )
        if g.score is not None:
            s = g.score
            head = (rule.id, "groups", key, g.count, g.excluded)
            empty = (None,) * 8  # no ratio, difference or test for score metrics
            yield (*head, "roc_auc", s.roc_auc, *_bounds(s.roc_auc_interval), *empty,
                   key in failing.get("roc_auc", ()), label)  # fmt: skip
            yield (*head, "calibration_error", s.calibration_error, None, None, *empty,
                   key in failing.get("calibration_error", ()), label)  # fmt: skip


def _impact_ratio_rows(
    rule: RuleResult, result: ImpactRatioResult, window: WindowResult | None = None
) -> Iterator[tuple[Any, ...]]:
    metric = "scoring_rate" if result.kind == "scoring" else "selection_rate"
    judged = rule if window is None else window
    label = None if window is None else window.label
    failing = _failing(judged.assertions).get("impact_ratio", set())
    for table in result.tables:
        for row in table.rows:
            key = _group_json(row.category)
            test, p_value = _test(row.test)
            yield (
                rule.id,
                "impact_ratio",
                key,
                row.applicants,
                row.excluded,
                metric,
                row.rate,
                *_bounds(row.rate_interval),
                row.impact_ratio,
                *_bounds(row.impact_ratio_interval),
                None,
                None,
                None,
                test,
                p_value,
                key in failing,
                label,
            )


def iter_group_table(result: AuditResult) -> Iterator[tuple[Any, ...]]:
    """Yield the rows of the group table, one tuple per row in :data:`GROUP_COLUMNS` order.

    One row per rule, group and metric (a group's ROC AUC and calibration error included),
    then one per row of each LL144 table, then a windowed rule's groups and LL144 tables in
    each window (the ``window`` column names it; empty on the other rows).
    """
    for rule in result.rules:
        yield from _group_rows(rule)
        if rule.impact_ratio is not None:
            yield from _impact_ratio_rows(rule, rule.impact_ratio)
        for window in rule.windows:
            yield from _group_rows(rule, window)
            if window.impact_ratio is not None:
                yield from _impact_ratio_rows(rule, window.impact_ratio, window)


def group_table(result: AuditResult) -> list[tuple[Any, ...]]:
    """Return the rows of the group table as a list (:func:`iter_group_table`)."""
    return list(iter_group_table(result))


#: rows turned into Arrow at a time: the tuples of a chunk, not of the table, are in memory
_CHUNK_ROWS = 65_536


def arrow_table(rows: Iterable[tuple[Any, ...]]) -> Any:
    """Return the rows as a ``pyarrow.Table`` with the types of :data:`GROUP_COLUMNS`.

    Converted a chunk of rows at a time: at 100,000 groups the table has about 650,000
    rows, and a tuple per row held at once took about 300 MB.
    """
    import pyarrow as pa

    schema = pa.schema([(name, pa.type_for_alias(t)) for name, t in GROUP_COLUMNS.items()])
    batches = []
    rows = iter(rows)
    while chunk := list(itertools.islice(rows, _CHUNK_ROWS)):
        columns = list(zip(*chunk, strict=True))
        arrays = [pa.array(col, type=f.type) for col, f in zip(columns, schema, strict=True)]
        batches.append(pa.RecordBatch.from_arrays(arrays, schema=schema))
    return pa.Table.from_batches(batches, schema=schema)


def arrow_group_table(result: AuditResult) -> Any:
    """Return the group table of ``result`` as a ``pyarrow.Table``, None when it has no row.

    Without groups nothing is imported: the header-only files are written without Arrow.
    """
    rows = iter_group_table(result)
    first = next(rows, None)
    if first is None:
        return None
    return arrow_table(itertools.chain([first], rows))
