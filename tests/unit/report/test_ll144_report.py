"""LL144 tables in HTML and Markdown: the published layout, escaping of evidence values."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from tests.conftest import AUDIT_D, HtmlTables

from ethicsgate.audit import run_audit
from ethicsgate.policy import load_policy
from ethicsgate.report import render_html, render_markdown
from ethicsgate.rules.fairness import explain_fairness

HOSTILE = '<script>alert("x")</script> | *b*'
POLICY = """
schema_version: 1
id: p
version: "1"
title: LL144 report
owner: tests
rules:
  - id: ll144
    kind: fairness
    dataset: d
    sensitive_features: [group]
    impact_ratio: selection
    unknown_values: [n/a]
    min_group_size: 1
    uncertainty: {bootstrap_samples: 200}
    assert:
      - {metric: impact_ratio, op: ">=", value: 0.8}
"""


def _result(write: Callable[[str, str], Path]) -> object:
    rows = ["group,prediction"]
    rows += ["a,1"] * 30 + ["a,0"] * 20 + [f'"{HOSTILE.replace(chr(34), chr(34) * 2)}",1'] * 10
    rows += [f'"{HOSTILE.replace(chr(34), chr(34) * 2)}",0'] * 40 + ["n/a,1"] * 5
    write("policy.yaml", POLICY)
    write("data.csv", "\n".join(rows) + "\n")
    return run_audit(write("audit.yaml", AUDIT_D))


def test_html_table_has_the_ll144_columns_and_escapes_categories(
    write: Callable[[str, str], Path],
) -> None:
    html = render_html(_result(write))
    parser = HtmlTables()
    parser.feed(html)
    assert "script" not in parser.tags
    ll144 = next(
        t
        for t in parser.tables
        if t
        and t[0][:5] == ["Group", "# of Applicants", "# Selected", "Selection Rate", "Impact Ratio"]
    )
    body = {row[0]: row[1:] for row in ll144[1:]}
    assert body["a (most selected)"][:4] == ["50", "30", "60.0%", "1.000"]
    assert body[HOSTILE][:4] == ["50", "10", "20.0%", "0.333"]
    assert "The tool also assessed 5 people in an unknown group category" in html


def test_markdown_escapes_pipes_in_categories(write: Callable[[str, str], Path]) -> None:
    md = render_markdown(_result(write))
    # the category reads as itself: no raw HTML, no emphasis, no extra column
    assert "<script>" not in md and "*b*" not in md
    row = next(line for line in md.splitlines() if line.startswith("| \\<script\\>"))
    assert 'alert("x")\\</script\\> \\| \\*b\\*' in row
    # the escaped pipe keeps the row at the header's column count
    header = next(line for line in md.splitlines() if line.startswith("| Group | # of"))
    assert row.replace("\\|", "").count("|") == header.count("|")


def test_an_ll144_rule_has_no_empty_table_of_group_intervals(
    write: Callable[[str, str], Path],
) -> None:
    # the intervals and tests of an LL144-only rule are in its tables: the per-group table of
    # intervals would be a header with no rows
    result = _result(write)
    md = render_markdown(result)
    assert "| Group | Metric | Value |" not in md
    assert "200 bootstrap resamples" in md  # the method is still said
    parser = HtmlTables()
    parser.feed(render_html(result))
    assert not any(t and t[0][:3] == ["Group", "Metric", "Value"] for t in parser.tables)


def test_delong_is_named_only_for_a_rule_with_roc_auc(write: Callable[[str, str], Path]) -> None:
    # the bootstrap method is said for every rule with uncertainty; DeLong's AUC intervals
    # only where the rule computes ROC AUC
    policy = POLICY + (
        "  - id: auc\n"
        "    kind: fairness\n"
        "    dataset: d\n"
        "    sensitive_features: [group]\n"
        "    severity: info\n"
        "    score_metrics: [roc_auc]\n"
        "    min_group_size: 1\n"
        "    uncertainty: {bootstrap_samples: 200}\n"
    )
    rows = ["group,label,prediction,score"]
    rows += [f"{'ab'[i % 2]},{i % 3 % 2},{i % 5 % 2},{i % 7 / 7:.3f}" for i in range(200)]
    write("policy.yaml", policy)
    write("data.csv", "\n".join(rows) + "\n")
    result = run_audit(write("audit.yaml", AUDIT_D))
    methods = {r.id: r.uncertainty.method for r in result.rules if r.uncertainty}
    assert "DeLong" not in methods["ll144"] and "percentile intervals" in methods["ll144"]
    assert "DeLong" in methods["auc"]
    ll144, auc = render_markdown(result).split("Rule `auc`")
    assert "DeLong's variance" not in ll144 and "DeLong's variance" in auc


def test_an_ll144_only_rule_says_its_own_exclusion(write: Callable[[str, str], Path]) -> None:
    # its groups are compared in nothing, so the 30-people rule leaves none out; its tables
    # exclude categories under the share (6 RCNY § 5-301(d))
    policy = POLICY.replace("    min_group_size: 1\n", "    exclude_below_share: 0.1\n")
    rows = ["group,prediction"] + ["a,1"] * 60 + ["a,0"] * 40 + ["b,1"] * 10 + ["b,0"] * 10
    rows += ["c,1"] * 5
    write("policy.yaml", policy)
    write("data.csv", "\n".join(rows) + "\n")
    result = run_audit(write("audit.yaml", AUDIT_D))
    rule = result.rules[0]
    assert rule.min_group_size == 30 and sum(g.excluded for g in rule.groups) == 2
    assert "under 30" not in rule.message
    for page in (render_markdown(result), html.unescape(render_html(result))):
        assert "30 people" not in page and "too small" not in page
        assert "Categories under 10% of a table's known applicants are excluded" in page
    assert "30 people" not in explain_fairness(
        load_policy(write("policy.yaml", policy)).pack.rules[0]
    )
