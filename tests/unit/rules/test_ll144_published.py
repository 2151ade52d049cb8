"""A published LL144 bias audit, rebuilt from its counts and re-audited end to end.

Source: ADP, "candidate relevancy" tool, bias audit by BLDS, LLC (2023), scoring-rate tables,
archived at https://perma.cc/KF5Y-5XY7; the counts, rates and impact ratios are those
extracted in the ACLU's dataset of 116 published LL144 audits (Gerchick et al., "Auditing the
Audits: Lessons for Algorithmic Accountability from Local Law 144's Bias Audits", FAccT 2025,
https://doi.org/10.1145/3715275.3732004; data: https://github.com/aclu-national/
auditing-the-audits-facct-2025, audits/audits_full.csv, audit_id
adp_adp_blds_llc_2023_audit_1).

The audit reports, per table, the applicants per category, the scoring rate (to three
decimals), the impact ratio (to three decimals, or NA for categories it excluded as under 2 %
of the data) and the number of people in an unknown category. For each table the test writes
one Parquet file with exactly those applicants, round(rate x applicants) of them scoring above
the full-sample median, and the unknown people with lower scores, then checks that the audit
reproduces every published figure:

* counts and unknowns exactly; scoring rates to the published three decimals;
* impact ratios within 0.0025 (the audit took them from unrounded rates; ours come from rates
  rebuilt from the rounded ones, which moves a ratio by at most about 2 x 0.0005 / 0.49);
* the same categories excluded, and the same most selected category: in the intersectional
  table the auditor excluded exactly the intersections of the race categories under 2 %
  (American Indian or Alaska Native, Native Hawaiian or Other Pacific Islander) and kept
  Two or More Races x Male although it is 1.46 % of that table, which is what
  ``intersection_exclusion: components`` does.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ethicsgate.audit import run_audit
from ethicsgate.rules.results import ImpactRatioTable

NA = None
#: category -> (applicants, published scoring rate, published impact ratio)
SEX = {
    "Female": (573856, 0.473, 1.0),
    "Male": (478161, 0.466, 0.986),
}
SEX_UNKNOWN = 397979
RACE = {
    "Asian": (97576, 0.47, 0.956),
    "Black or African American": (278592, 0.465, 0.946),
    "Hispanic or Latino": (196581, 0.475, 0.965),
    "Two or More Races": (40542, 0.489, 0.994),
    "White": (385751, 0.492, 1.0),
    "American Indian or Alaska Native": (5050, 0.454, NA),
    "Native Hawaiian or Other Pacific Islander": (4329, 0.487, NA),
}
RACE_UNKNOWN = 439250
INTERSECTIONAL = {
    ("Asian", "Female"): (40617, 0.484, 0.992),
    ("Black or African American", "Female"): (166039, 0.467, 0.957),
    ("Hispanic or Latino", "Female"): (99243, 0.469, 0.962),
    ("Two or More Races", "Female"): (22186, 0.488, 1.0),
    ("White", "Female"): (196823, 0.485, 0.993),
    ("Asian", "Male"): (51661, 0.461, 0.945),
    ("Black or African American", "Male"): (103143, 0.453, 0.928),
    ("Hispanic or Latino", "Male"): (87864, 0.471, 0.965),
    ("Two or More Races", "Male"): (14187, 0.471, 0.966),
    ("White", "Male"): (183819, 0.486, 0.996),
    ("American Indian or Alaska Native", "Female"): (2662, 0.447, NA),
    ("American Indian or Alaska Native", "Male"): (1749, 0.464, NA),
    ("Native Hawaiian or Other Pacific Islander", "Female"): (2240, 0.505, NA),
    ("Native Hawaiian or Other Pacific Islander", "Male"): (1706, 0.523, NA),
}
INTERSECTIONAL_UNKNOWN = 447475

POLICY = """
schema_version: 1
id: adp-2023
version: "1"
title: ADP candidate relevancy, BLDS 2023 audit rebuilt
owner: tests
rules:
  - id: sex
    kind: fairness
    dataset: sex
    severity: info
    sensitive_features: [sex]
    impact_ratio: scoring
    unknown_values: [Missing/Unknown]
    exclude_below_share: 0.02
  - id: race
    kind: fairness
    dataset: race
    severity: info
    sensitive_features: [race]
    impact_ratio: scoring
    unknown_values: [Missing/Unknown]
    exclude_below_share: 0.02
  - id: intersectional
    kind: fairness
    dataset: intersectional
    severity: info
    sensitive_features: [race, sex]
    impact_ratio: scoring
    exclude_below_share: 0.02
    intersection_exclusion: {mode}
"""
AUDIT = """
schema_version: 1
id: adp-2023
policy: policy.yaml
evidence:
  sex: {path: sex.parquet}
  race: {path: race.parquet}
  intersectional: {path: intersectional.parquet}
"""


def _write(
    path: Path, columns: list[str], groups: list[tuple[tuple[str | None, ...], int, int]]
) -> None:
    """Write one row per applicant: ``k`` of a group's ``n`` score above the median of 1.0."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE g (" + ", ".join(f"{c} VARCHAR" for c in columns) + ", n BIGINT, k BIGINT)"
    )
    con.executemany(
        f"INSERT INTO g VALUES ({', '.join('?' for _ in columns)}, ?, ?)",
        [(*values, n, k) for values, n, k in groups],
    )
    u = "(hash(i * 7919 + n) % 1000000)::DOUBLE / 1e6"
    # above the median: (1, 2]; the others: 60 % exactly at the median (1.0), 40 % below it
    score = f"CASE WHEN i < k THEN 1.0 + ({u} + 1e-6) WHEN i % 5 < 3 THEN 1.0 ELSE {u} END"
    con.execute(
        f"COPY (SELECT {', '.join(columns)}, {score} AS score "
        f"FROM (SELECT *, unnest(range(n)) AS i FROM g)) TO '{path}' (FORMAT parquet)"
    )
    con.close()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("adp")
    _write(
        directory / "sex.parquet",
        ["sex"],
        [((c,), n, round(r * n)) for c, (n, r, _) in SEX.items()]
        + [(("Missing/Unknown",), SEX_UNKNOWN, 0)],
    )
    _write(
        directory / "race.parquet",
        ["race"],
        [((c,), n, round(r * n)) for c, (n, r, _) in RACE.items()]
        + [(("Missing/Unknown",), RACE_UNKNOWN, 0)],
    )
    _write(
        directory / "intersectional.parquet",
        ["race", "sex"],
        [(c, n, round(r * n)) for c, (n, r, _) in INTERSECTIONAL.items()]
        + [((None, None), INTERSECTIONAL_UNKNOWN, 0)],
    )
    return directory


def _audit(data_dir: Path, mode: str) -> list[ImpactRatioTable]:
    (data_dir / "policy.yaml").write_text(POLICY.replace("{mode}", mode))
    (data_dir / "audit.yaml").write_text(AUDIT)
    result = run_audit(data_dir / "audit.yaml")
    tables = []
    for rule in result.rules:
        assert rule.impact_ratio is not None and rule.impact_ratio.median_score == 1.0
        tables.append(rule.impact_ratio.tables[-1])  # the intersection for the last rule
    return tables


def _check(table: ImpactRatioTable, published: dict, unknown: int) -> None:
    assert table.unknown == unknown
    rows = {tuple(r.category.values()): r for r in table.rows}
    assert len(rows) == len(published)
    for key, (applicants, rate, ratio) in published.items():
        row = rows[key if isinstance(key, tuple) else (key,)]
        assert row.applicants == applicants, key
        assert abs(row.rate - rate) <= 0.0005 + 1e-12, (key, row.rate, rate)
        if ratio is NA:
            assert row.excluded and row.impact_ratio is None, key
        else:
            assert not row.excluded, key
            assert row.impact_ratio == pytest.approx(ratio, abs=0.0025), (key, row.impact_ratio)


def test_the_published_tables_are_reproduced(data_dir: Path) -> None:
    sex, race, intersectional = _audit(data_dir, "components")
    _check(sex, SEX, SEX_UNKNOWN)
    _check(race, RACE, RACE_UNKNOWN)
    _check(intersectional, INTERSECTIONAL, INTERSECTIONAL_UNKNOWN)
    assert sex.most_selected == {"sex": "Female"}
    assert race.most_selected == {"race": "White"}
    # the published most selected intersection is Two or More Races x Female (0.488), not the
    # excluded Native Hawaiian or Other Pacific Islander x Male with the higher 0.523
    assert intersectional.most_selected == {"race": "Two or More Races", "sex": "Female"}


def test_excluding_intersections_by_their_own_share_differs_from_the_published_audit(
    data_dir: Path,
) -> None:
    *_, intersectional = _audit(data_dir, "share")
    rows = {tuple(r.category.values()): r for r in intersectional.rows}
    small = rows[("Two or More Races", "Male")]
    assert small.share < 0.02 and small.excluded and small.impact_ratio is None
    assert rows[("Two or More Races", "Female")].most_selected
