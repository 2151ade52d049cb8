"""A fairness rule's groups (GroupColumns) and LL144 rows (ImpactRatioRows) held as columns.

The rule keeps its per-group values as columns and makes a GroupResult each time one is read
(without validation, for speed): these tests pin that what is made is what validation keeps,
that every field is set, that the report is the one a list of groups gives, and that no group
object outlives its reading.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter
from tests.conftest import AUDIT_D

from ethicsgate.audit import AuditResult, run_audit
from ethicsgate.canonical import canonical_json
from ethicsgate.report.formats.json import render_json
from ethicsgate.rules.results import (
    ABSENT,
    GroupColumns,
    GroupResult,
    ImpactRatioRow,
    ImpactRatioRows,
    ImpactRatioTable,
    RuleResult,
    as_columns,
)

POLICY = """
schema_version: 1
id: columns
version: "1"
title: Columns
owner: Tests
rules:
  - id: selection
    kind: fairness
    dataset: d
    sensitive_features: [group, sex]
    metrics: [selection_rate, true_positive_rate]
    min_group_size: 8
    reference: max
    impact_ratio: selection
    exclude_below_share: 0.012
    uncertainty: {bootstrap_samples: 50, seed: 3, test: auto}
    assert:
      - {metric: selection_rate, aggregate: ratio, op: ">=", value: 0.8}
      - {metric: impact_ratio, op: ">=", value: 0.8, significant_at: 0.5}
  - id: scoring
    kind: fairness
    dataset: d
    severity: info
    sensitive_features: [group]
    impact_ratio: scoring
    score_metrics: [roc_auc, calibration]
"""


def _data() -> str:
    """Return 40 groups x 2 sexes; a few groups too small to compare, one with no positives."""
    lines = ["group,sex,label,prediction,score"]
    for g in range(40):
        for sex in ("F", "M"):
            size = 4 if g % 13 == 0 else 20 + g % 7
            for k in range(size):
                label = 0 if g == 5 else int((k * 7 + g) % 5 < 2)
                score = ((k * 37 + g * 11) % 100) / 100
                lines.append(f"g{g:02d},{sex},{label},{int(score >= 0.5)},{score}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def result(write: Callable[[str, str], Path], frozen_clock: Callable[[], datetime]) -> AuditResult:
    write("policy.yaml", POLICY)
    write("data.csv", _data())
    return run_audit(write("audit.yaml", AUDIT_D), clock=frozen_clock)


def test_the_rules_hold_their_groups_as_columns(result: AuditResult) -> None:
    for rule in result.rules:
        assert isinstance(rule.groups, GroupColumns)
    selection = result.rules[0]
    assert len(selection.groups) == 80
    # what makes the columns worth it: no group object is kept between readings
    gc.collect()
    assert not [o for o in gc.get_objects() if isinstance(o, GroupResult)]


def test_a_group_made_from_columns_is_what_validation_keeps(result: AuditResult) -> None:
    adapter = TypeAdapter(GroupResult)
    names = [f.name for f in dataclasses.fields(GroupResult)]
    seen_absent = seen_tests = seen_scores = False
    for rule in result.rules:
        for group in rule.groups:
            _check_made(adapter, names, group)
            seen_tests |= bool(group.tests)
            seen_scores |= group.score is not None
            seen_absent |= not group.excluded and not group.ratio_intervals
    # the data reach every kind of entry: tests, scores, and a reference group without its
    # own ratio interval (ABSENT in its column)
    assert seen_tests and seen_scores and seen_absent
    columns = result.rules[0].groups
    assert isinstance(columns, GroupColumns)
    assert any(value is ABSENT for c in columns.ratio_intervals.values() for value in c)


def _check_made(adapter: TypeAdapter[Any], names: list[str], made: object) -> None:
    """Check that an item made from columns has every field, as validation keeps it."""
    for name in names:  # every field set (a field added later must be filled)
        getattr(made, name)
    again = adapter.validate_python(adapter.dump_python(made))
    assert again == made
    assert adapter.dump_json(again) == adapter.dump_json(made)


def test_a_report_of_columns_is_the_report_of_the_list(result: AuditResult) -> None:
    as_lists = result.model_copy(update={"rules": [_with_list(rule) for rule in result.rules]})
    assert render_json(result) == render_json(as_lists)
    assert canonical_json(result.model_dump(mode="json")) == render_json(result)
    assert result.model_dump() == as_lists.model_dump()
    assert result == as_lists
    read_back = AuditResult.model_validate_json(render_json(result))
    assert read_back == result
    assert render_json(read_back) == render_json(result)


def test_as_columns_of_a_list_gives_the_same_groups(result: AuditResult) -> None:
    for rule in result.rules:
        listed = list(rule.groups)
        columns = as_columns(listed)
        assert columns == listed
        assert list(columns) == listed
        assert columns.excluded == [g.excluded for g in listed]
        assert as_columns(rule.groups) is rule.groups


def test_columns_index_like_a_list(result: AuditResult) -> None:
    groups = result.rules[0].groups
    listed = list(groups)
    assert groups[-1] == listed[-1]
    assert groups[3:6] == listed[3:6]
    with pytest.raises(IndexError):
        groups[len(listed)]
    assert repr(groups) == "GroupColumns(80 items)"
    # a numpy integer indexes as the int it is, and what is made dumps as a list's item does
    import numpy as np

    assert groups[np.int64(2)] == listed[2]
    assert result.rules[0].impact_ratio is not None
    rows = result.rules[0].impact_ratio.tables[0].rows
    made = rows[np.int64(0)]
    assert made == list(rows)[0] and type(made.most_selected) is bool
    TypeAdapter(ImpactRatioRow).dump_json(made)
    # each reading's group key is its own dict: changing one changes no other reading
    first = groups[0]
    first.group["sex"] = "changed"
    assert groups[0] == listed[0] and groups[0].group is not first.group


def _with_list(rule: RuleResult) -> RuleResult:
    update: dict[str, object] = {"groups": list(rule.groups)}
    if rule.impact_ratio is not None:
        tables = [t.model_copy(update={"rows": list(t.rows)}) for t in rule.impact_ratio.tables]
        update["impact_ratio"] = rule.impact_ratio.model_copy(update={"tables": tables})
    return rule.model_copy(update=update)


def test_ll144_rows_are_columns_and_made_as_validation_keeps(result: AuditResult) -> None:
    tables = [t for rule in result.rules if rule.impact_ratio for t in rule.impact_ratio.tables]
    assert len(tables) == 4  # group, sex, group x sex; the scoring rule's group
    assert all(isinstance(table.rows, ImpactRatioRows) for table in tables)
    seen = _read_rows(tables)
    # the data reach every kind of row: excluded, tested with intervals, the most selected,
    # and compared rows without a test (the scoring rule has no uncertainty)
    assert all(seen.values()), seen
    gc.collect()
    assert not [o for o in gc.get_objects() if isinstance(o, ImpactRatioRow)]


def _read_rows(tables: list[ImpactRatioTable]) -> dict[str, bool]:
    """Check every row against its validated copy; say which kinds of row were read."""
    adapter = TypeAdapter(ImpactRatioRow)
    names = [f.name for f in dataclasses.fields(ImpactRatioRow)]
    seen = {"excluded": False, "test": False, "interval": False, "most": False, "none": False}
    for table in tables:
        for row in table.rows:
            _check_made(adapter, names, row)
            seen["excluded"] |= row.excluded
            seen["test"] |= row.test is not None
            seen["interval"] |= row.impact_ratio_interval is not None
            seen["most"] |= row.most_selected
            seen["none"] |= not row.excluded and row.test is None and not row.most_selected
    return seen


def test_ll144_rows_of_different_lengths_are_refused() -> None:
    import numpy as np

    with pytest.raises(ValueError, match="different lengths"):
        ImpactRatioRows(
            ["sex"],
            [("F",), ("M",)],
            applicants=np.array([3, 4]),
            selected=np.array([1, 2]),
            rate=np.array([1 / 3, 0.5]),
            share=np.array([3 / 7, 4 / 7]),
            impact_ratio=np.array([2 / 3]),
            excluded=np.zeros(2, dtype=np.int8),
            reference=1,
        )


def test_an_interval_column_of_bounds_is_the_column_of_its_intervals() -> None:
    """Bounds held as they are read as the intervals interval_list makes (NaN: none)."""
    import numpy as np

    from ethicsgate.rules.results import Interval, IntervalColumn
    from ethicsgate.rules.uncertainty import interval_column, interval_list

    rng = np.random.default_rng(7)
    low = rng.random(50)
    high = low + rng.random(50)
    low[[3, 9]] = np.nan
    high[[3, 9]] = np.nan
    low[5], high[5] = -0.0, 0.0
    made = interval_column(low, high)
    assert list(made) == interval_list(low, high)
    fifth = made[5]
    assert made[3] is None and isinstance(fifth, Interval) and str(fifth.low) == "-0.0"

    at = np.array([0, 4, 7, 11])
    placed = interval_column(low[:4], high[:4], at=at, size=12)
    expected: list[object] = [ABSENT] * 12
    for position, interval in zip(at.tolist(), interval_list(low[:4], high[:4]), strict=True):
        expected[position] = interval
    assert list(placed) == expected
    assert [placed.present[i] for i in range(12)] == [int(i in at) for i in range(12)]
    with pytest.raises(ValueError, match="different lengths"):
        IntervalColumn(low, high[:3], np.ones(50, dtype=np.int8))
