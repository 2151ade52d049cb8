"""Reports of many groups: HTML and Markdown show the failing and worst groups, then count the rest."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ethicsgate.audit import AuditResult, run_audit
from ethicsgate.report import report_files, report_view
from ethicsgate.report.views.base import GROUP_LIMIT

POLICY = """
schema_version: 1
id: large
version: "1"
title: Large
owner: Tests
rules:
  - id: parity
    kind: fairness
    dataset: d
    sensitive_features: [group]
    metrics: [selection_rate]
    min_group_size: 1
    reference: max
    assert:
      - {metric: selection_rate, aggregate: ratio, op: ">=", value: 0.8}
  - id: ll144
    kind: fairness
    dataset: d
    sensitive_features: [group]
    impact_ratio: selection
    metrics: [selection_rate]
    min_group_size: 1
    assert:
      - {metric: impact_ratio, op: ">=", value: 0.8}
"""
AUDIT = """
schema_version: 1
id: large
policy: policy.yaml
evidence:
  d: {path: data.csv}
"""


def _data(groups: int) -> str:
    """Return ``groups`` groups of 20 people; group i selects a share that varies with i."""
    lines = ["group,label,prediction"]
    for i in range(groups):
        selected = 20 - (i * 7) % 6  # 15..20 of 20: one group in six under 0.8, unsorted
        lines += [f"g{i:03d},1,{int(k < selected)}" for k in range(20)]
    return "\n".join(lines) + "\n"


def _audit(
    groups: int, write: Callable[[str, str], Path], clock: Callable[[], datetime]
) -> AuditResult:
    write("policy.yaml", POLICY)
    write("data.csv", _data(groups))
    return run_audit(write("audit.yaml", AUDIT), clock=clock)


@pytest.fixture
def large(write: Callable[[str, str], Path], frozen_clock: Callable[[], datetime]) -> AuditResult:
    return _audit(120, write, frozen_clock)


def _html_group_cells(html: str, rule: str) -> list[str]:
    """Return the group labels of a rule's "metrics by group" table in the HTML."""
    section = html.split(f'id="rule-{rule}"')[1].split("</section>")[0]
    table = section.split("<summary>")[-1]
    return re.findall(r"<tr><td>(group = g\d+)</td>", table)


def test_a_large_rule_shows_its_failing_groups_then_the_worst(large: AuditResult) -> None:
    files = report_files(large)
    report = json.loads(files["report.json"])
    parity = report["rules"][0]
    assert len(parity["groups"]) == 120  # report.json keeps every group
    failing = [g["group"] for g in parity["assertions"][0]["failing_groups"]]
    assert 0 < len(failing) < GROUP_LIMIT
    # the oracle: failing ones, then the rest by ratio (lowest first), ties in report order
    by_ratio = sorted(
        parity["groups"],
        key=lambda g: (g["group"]["group"] not in failing, g["ratios"]["selection_rate"]),
    )
    expected = [f"group = {g['group']['group']}" for g in by_ratio[:GROUP_LIMIT]]

    view = report_view(large).rules[0]
    assert [row["label"] for row in view.group_rows] == expected
    assert [bar.label for bar in view.charts[0].bars] == expected
    assert _html_group_cells(files["report.html"].decode(), "parity") == expected
    md = files["report.md"].decode()
    assert [f"group = {g}" for g in re.findall(r"^\| group = (g\d+) \|", md, re.M)][
        :GROUP_LIMIT
    ] == expected
    note = (
        "120 groups: shown are the 50 that fail or come closest to failing. "
        "70 more groups pass; every group is in report.json, groups.parquet and groups.csv."
    )
    assert view.groups_note == note
    assert note in md and note in files["report.html"].decode()
    assert (
        "Metrics of the groups shown (every group is in groups.csv)"
        in files["report.html"].decode()
    )


def test_a_large_ll144_table_shows_the_lowest_impact_ratios(large: AuditResult) -> None:
    view = report_view(large).rules[1]
    assert view.depth is not None and view.depth.ll144 is not None
    (table,) = view.depth.ll144.tables
    rows = large.rules[1].impact_ratio.tables[0].rows  # type: ignore[union-attr]
    failing = {g["group"] for g in large.rules[1].assertions[0].failing_groups}
    expected = sorted(
        rows, key=lambda r: (r.category["group"] not in failing, r.impact_ratio or 0.0)
    )[:GROUP_LIMIT]
    assert [r["category"] for r in table.rows] == [[r.category["group"]] for r in expected]
    hidden_failing = len(failing) - sum(r.category["group"] in failing for r in expected)
    assert hidden_failing == 0
    assert table.notes[0] == (
        "120 categories: shown are the 50 with the lowest impact ratios. 70 more categories "
        "pass; every group is in report.json, groups.parquet and groups.csv."
    )
    assert len(view.charts[0].bars) == GROUP_LIMIT


def test_a_rule_at_the_limit_shows_every_group_in_report_order(
    write: Callable[[str, str], Path], frozen_clock: Callable[[], datetime]
) -> None:
    result = _audit(GROUP_LIMIT, write, frozen_clock)
    files = report_files(result)
    view = report_view(result).rules[0]
    labels = [f"group = g{i:03d}" for i in range(GROUP_LIMIT)]
    assert [row["label"] for row in view.group_rows] == labels
    assert view.groups_note is None
    assert "Large rule" not in files["report.md"].decode()
    assert "more groups" not in files["report.html"].decode()


def test_many_failing_groups_are_counted_in_the_note(large: AuditResult) -> None:
    # every group fails: the first 50 are shown, and the note counts the other 70 as failing
    rule = large.rules[0]
    assertion = rule.assertions[0].model_copy(
        update={"failing_groups": [g.group for g in rule.groups]}
    )
    many = rule.model_copy(update={"assertions": [assertion]})
    changed = large.model_copy(update={"rules": [many]})
    view = report_view(changed).rules[0]
    assert len(view.group_rows) == GROUP_LIMIT
    assert view.groups_note is not None
    assert "70 more groups are not shown (70 fail);" in view.groups_note


def _no_more(items: list[Any]) -> bool:
    return not any("more" in str(i) for i in items)


def test_small_groups_and_quiet_groups_are_capped(large: AuditResult) -> None:
    rule = large.rules[0]
    small = [dataclasses.replace(g, excluded=True) for g in rule.groups]
    view = report_view(
        large.model_copy(update={"rules": [rule.model_copy(update={"groups": small})]})
    ).rules[0]
    assert len(view.excluded_groups) == GROUP_LIMIT + 1
    assert view.excluded_groups[-1] == "and 70 more"
    assert view.depth is not None
    assert view.depth.small_groups[-1] == "and 70 more"
    assert _no_more(report_view(large).rules[0].excluded_groups)
