"""The DCWP rule's worked example of scoring-rate impact ratios, reproduced end to end.

Source: NYC Department of Consumer and Worker Protection, Notice of Adoption of Final Rule,
"Use of Automated Employment Decision Tools", 6 RCNY § 5-301(c), example (an employer scores
applicants for "culture fit"), as published in the Rules of the City of New York,
https://codelibrary.amlegal.com/codes/newyorkcity/latest/NYCrules/0-0-0-138530 and
https://rules.cityofnewyork.us/wp-content/uploads/2023/04/DCWP-NOA-for-Use-of-Automated-Employment-Decisionmaking-Tools-2.pdf

The example publishes, for 168 applicants:

    Sex categories      # of Applicants   Scoring Rate   Impact Ratio
    Male                92                54.3%          1.00
    Female              76                44.7%          0.82

    Race/Ethnicity categories                                 # of Applicants  Scoring Rate  IR
    Hispanic or Latino                                        28               64.2%         1.00
    White (Not Hispanic or Latino)                            40               37.5%         0.58
    Black or African American (Not Hispanic or Latino)        32               50.0%         0.78
    Native Hawaiian or Pacific Islander (Not Hispanic or ...)   8               62.5%         0.97
    Asian (Not Hispanic or Latino)                            24               41.7%         0.65

so 50 men, 34 women, 18, 15, 16, 5 and 10 people of those race categories scored above the
median (54.3% of 92, 44.7% of 76, ...; the rule prints 18/28 = 64.29% as 64.2%). The text we
could retrieve cuts off before the table's last two race rows (Native American or Alaska
Native, Two or More Races) and the intersectional table; 36 applicants (20 above the median)
remain for them, and the test gives them two filler categories whose numbers it does not
assert. Since 84 of 168 applicants score above the median, the median lies between the 84th
and 85th scores: the test gives the 84 a higher score than everyone else, and the audit finds
them through DuckDB's scan and the exact median search.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ethicsgate.audit import run_audit
from ethicsgate.cli import cli
from ethicsgate.report import render_markdown

SEX = {"Male": (92, 50), "Female": (76, 34)}
RACE = {
    "Hispanic or Latino": (28, 18),
    "White (Not Hispanic or Latino)": (40, 15),
    "Black or African American (Not Hispanic or Latino)": (32, 16),
    "Native Hawaiian or Pacific Islander (Not Hispanic or Latino)": (8, 5),
    "Asian (Not Hispanic or Latino)": (24, 10),
    "Filler A (rows not in the retrieved text)": (18, 10),
    "Filler B (rows not in the retrieved text)": (18, 10),
}
#: (scoring rate, impact ratio) exactly as the rule prints them
PUBLISHED_SEX = {"Male": (0.543, 1.00), "Female": (0.447, 0.82)}
PUBLISHED_RACE = {
    "Hispanic or Latino": (0.642, 1.00),
    "White (Not Hispanic or Latino)": (0.375, 0.58),
    "Black or African American (Not Hispanic or Latino)": (0.500, 0.78),
    "Native Hawaiian or Pacific Islander (Not Hispanic or Latino)": (0.625, 0.97),
    "Asian (Not Hispanic or Latino)": (0.417, 0.65),
}

POLICY = """
schema_version: 1
id: dcwp-example
version: "1"
title: DCWP scoring-rate example
owner: tests
references:
  - id: rcny-5-301
    title: 6 RCNY 5-301 Bias Audit
rules:
  - id: culture-fit
    kind: fairness
    dataset: applicants
    references: [rcny-5-301]
    sensitive_features: [sex, race]
    impact_ratio: scoring
    assert:
      - {metric: impact_ratio, op: ">=", value: 0.8}
"""
AUDIT = """
schema_version: 1
id: dcwp-example
policy: policy.yaml
evidence:
  applicants:
    path: applicants.csv
    columns:
      score: culture_fit
"""


def _applicants() -> list[dict[str, object]]:
    """168 applicants whose marginals are the published ones; the 84 above the median first."""
    above = {"sex": [], "race": []}
    below = {"sex": [], "race": []}
    for column, table in (("sex", SEX), ("race", RACE)):
        for category, (n, k) in table.items():
            above[column] += [category] * k
            below[column] += [category] * (n - k)
    assert len(above["sex"]) == len(above["race"]) == 84
    assert len(below["sex"]) == len(below["race"]) == 84
    rng = np.random.default_rng(5301)
    high = rng.uniform(60, 100, 84)  # the 84 scores above the median
    low = rng.uniform(0, 40, 84)
    rows = [
        {"sex": s, "race": r, "culture_fit": round(float(x), 3)}
        for s, r, x in zip(above["sex"], above["race"], high, strict=True)
    ] + [
        {"sex": s, "race": r, "culture_fit": round(float(x), 3)}
        for s, r, x in zip(below["sex"], below["race"], low, strict=True)
    ]
    rng.shuffle(rows)  # type: ignore[arg-type]
    return rows


@pytest.fixture
def audit_path(write: Callable[[str, str], Path], tmp_path: Path) -> Path:
    write("policy.yaml", POLICY)
    with (tmp_path / "applicants.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["sex", "race", "culture_fit"])
        writer.writeheader()
        writer.writerows(_applicants())
    return write("audit.yaml", AUDIT)


def test_scoring_rates_and_impact_ratios_match_the_published_example(audit_path: Path) -> None:
    result = run_audit(audit_path)
    ll144 = result.rules[0].impact_ratio
    assert ll144 is not None and ll144.kind == "scoring"
    sex, race, intersection = ll144.tables
    assert sex.features == ["sex"] and race.features == ["race"]
    assert intersection.features == ["sex", "race"]
    assert sex.unknown == race.unknown == 0
    rows = {r.category["sex"]: r for r in sex.rows}
    for category, (rate, ratio) in PUBLISHED_SEX.items():
        assert rows[category].applicants == SEX[category][0]
        # the rule prints rates to 0.1 % and ratios to 0.01
        assert rows[category].rate == pytest.approx(rate, abs=0.0005)
        assert round(rows[category].impact_ratio, 2) == ratio
    assert sex.most_selected == {"sex": "Male"}
    rows = {r.category["race"]: r for r in race.rows}
    for category, (rate, ratio) in PUBLISHED_RACE.items():
        assert rows[category].applicants == RACE[category][0]
        # 18/28 = 64.29 %: the rule prints 64.2 % (truncated), hence 0.001
        assert rows[category].rate == pytest.approx(rate, abs=0.001)
        assert round(rows[category].impact_ratio, 2) == ratio
    assert race.most_selected == {"race": "Hispanic or Latino"}
    # the median of the full sample separates the 84 above from the 84 below
    assert 40 < ll144.median_score < 60
    # the four-fifths check fails: White (0.58) and Asian (0.65) are under 0.8 in the race
    # table (the intersectional categories here are the test's own, not the rule's)
    assertion = result.rules[0].assertions[0]
    assert assertion.status == "fail"
    failing = assertion.failing_groups
    assert {"race": "White (Not Hispanic or Latino)"} in failing
    assert {"race": "Asian (Not Hispanic or Latino)"} in failing
    assert {"race": "Black or African American (Not Hispanic or Latino)"} in failing
    assert {"sex": "Female"} not in failing  # 0.82


def test_markdown_and_html_show_the_published_layout(audit_path: Path) -> None:
    result = run_audit(audit_path)
    md = render_markdown(result)
    assert "| Sex | # of Applicants | # Scoring Above Median | Scoring Rate | Impact Ratio |" in md
    assert "| Male *(most selected)* | 92 | 50 | 54.3% | 1.000 |" in md
    assert "| Female | 76 | 34 | 44.7% | 0.823 |" in md
    assert "| White (Not Hispanic or Latino) | 40 | 15 | 37.5% | 0.583 |" in md
    runner = CliRunner()
    out = audit_path.parent / "out"
    outcome = runner.invoke(cli, ["audit", str(audit_path), "--out", str(out), "--no-progress"])
    assert outcome.exit_code == 1, outcome.output
    html = (out / "report.html").read_text()
    assert "Intersectional categories (sex × race)" in html
    assert "Native Hawaiian or Pacific Islander (Not Hispanic or Latino)" in html
