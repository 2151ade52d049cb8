"""ProPublica's published COMPAS error rates, reproduced from the raw data.

Source: ProPublica, "How We Analyzed the COMPAS Recidivism Algorithm" (2016), and
`truth_tables.py` in propublica/compas-analysis: over all 7,214 defendants of
compas-scores-two-years.csv, with "higher risk" = score_text Medium or High,
FPR African-American 44.85 %, Caucasian 23.45 %; FNR 27.99 % and 47.72 %.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import PROPUBLICA_CSV, ROOT

from ethicsgate.audit import run_audit


def _rates(result, feature: str = "race") -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def]
    rule = next(r for r in result.rules if r.sensitive_features == [feature])
    return {g.group[feature]: g.metrics for g in rule.groups}


SHIPPED_SPEC = ROOT / "audits" / "compas-propublica.yaml"


@pytest.fixture(scope="module")
def propublica(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    assert PROPUBLICA_CSV.is_file(), (
        f"shared dataset missing: {PROPUBLICA_CSV} (set ETHICSGATE_SHARED_DATASETS to the folder "
        "holding compas/compas-scores-two-years.csv)"
    )
    spec = SHIPPED_SPEC
    shipped_path = "../examples/compas/compas-scores-two-years.csv"
    if not (spec.parent / shipped_path).is_file():
        # the data is downloaded by `ethicsgate examples compas`, not shipped: the tests read
        # the shared copy (same sha256), through the shipped spec with its two relative paths
        # made absolute, everything else as shipped
        text = SHIPPED_SPEC.read_text(encoding="utf-8")
        assert shipped_path in text and "policy: ../policies/" in text
        text = text.replace(shipped_path, str(PROPUBLICA_CSV)).replace(
            "policy: ../policies/", f"policy: {ROOT / 'policies'}/"
        )
        spec = tmp_path_factory.mktemp("propublica") / SHIPPED_SPEC.name
        spec.write_text(text, encoding="utf-8")
    return run_audit(spec)


def test_reproduces_propublica_table(propublica) -> None:  # type: ignore[no-untyped-def]
    evidence = propublica.audit.evidence[0]
    assert evidence.rows == 7214
    assert evidence.sha256 == "c451db85908b2f7fef1d83203bedf6b71ecda0d5af468d82ae62178f91d0cc7d"
    rates = _rates(propublica)
    assert round(rates["African-American"]["false_positive_rate"] * 100, 2) == 44.85
    assert round(rates["Caucasian"]["false_positive_rate"] * 100, 2) == 23.45
    assert round(rates["African-American"]["false_negative_rate"] * 100, 2) == 27.99
    assert round(rates["Caucasian"]["false_negative_rate"] * 100, 2) == 47.72
    assert propublica.status == "fail"


def test_filtered_population_matches_the_notebook(write: Callable[[str, str], Path]) -> None:
    """The notebook's filter keeps 6,172 rows; there FPR/FNR are 42.34/28.48 % and 22.01/49.64 %."""
    spec = write(
        "audit.yaml",
        f"""
        schema_version: 1
        id: compas-filtered
        policy: {ROOT / "policies" / "recidivism-fairness.yaml"}
        evidence:
          predictions:
            path: {PROPUBLICA_CSV}
            filter: "days_b_screening_arrest BETWEEN -30 AND 30 AND is_recid <> -1 AND c_charge_degree <> 'O' AND score_text <> 'N/A'"
            columns: {{label: two_year_recid, prediction: "score_text <> 'Low'", race: race, sex: sex}}
        """,
    )
    result = run_audit(spec)
    assert result.audit.evidence[0].rows == 6172
    assert result.audit.evidence[0].rows_read == 7214
    rates = _rates(result)
    got = [
        round(rates[race][metric] * 100, 2)
        for race in ("African-American", "Caucasian")
        for metric in ("false_positive_rate", "false_negative_rate")
    ]
    assert got == [42.34, 28.48, 22.01, 49.64]


def test_shipped_aequitas_recoding_gives_the_same_table(propublica) -> None:  # type: ignore[no-untyped-def]
    shipped = run_audit(ROOT / "audits" / "compas-example.yaml")
    assert shipped.audit.evidence[0].rows == 7214
    assert _rates(shipped) == _rates(propublica)


_ADVERSE_POLICY = """
schema_version: 1
id: compas-direction
version: "1"
title: COMPAS error rates by race
owner: QA
rules:
  - id: by-race
    kind: fairness
    dataset: predictions
    severity: warn
    sensitive_features: [race]
    metrics: [selection_rate, false_positive_rate, false_negative_rate, count]
    reference: max{direction}
    assert:
      - {{metric: selection_rate, aggregate: ratio, op: ">=", value: 0.8}}
      - {{metric: false_positive_rate, aggregate: ratio, op: ">=", value: 0.8}}
      - {{metric: false_negative_rate, aggregate: ratio, op: ">=", value: 0.8}}
"""


def _direction_audit(tmp: Path, direction: str):  # type: ignore[no-untyped-def]
    """Audit ProPublica's rows by race with ``direction`` added to the rule (or nothing)."""
    policy = tmp / "policy.yaml"
    policy.write_text(_ADVERSE_POLICY.format(direction=direction), encoding="utf-8")
    spec = tmp / "audit.yaml"
    spec.write_text(
        f"""
schema_version: 1
id: compas-direction
policy: {policy}
evidence:
  predictions:
    path: {PROPUBLICA_CSV}
    columns: {{label: two_year_recid, prediction: "score_text <> 'Low'", race: race}}
""",
        encoding="utf-8",
    )
    from ethicsgate.report import report_files

    result = run_audit(spec)
    files = report_files(result)
    return result, {name: files[name].decode("utf-8") for name in ("report.md", "report.html")}


def _check_rows(md: str) -> dict[str, list[str]]:
    """Return the check table's rows by check: [worst observed, worst group, compared with]."""
    rows = {}
    for line in md.splitlines():
        for title in ("Selection rate", "False positive rate", "False negative rate"):
            if line.startswith(f"| {title}, ratio"):
                rows[title] = [c.strip() for c in line.strip("|").split("|")][2:5]
    return rows


@pytest.fixture(scope="module")
def directions(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return {
        name: _direction_audit(tmp_path_factory.mktemp(name), direction)
        for name, direction in (
            ("adverse", "\n    favorable_prediction: 0"),
            ("unset", ""),
        )
    }


def test_an_adverse_prediction_names_the_group_flagged_most_as_harmed(directions) -> None:  # type: ignore[no-untyped-def]
    result, files = directions["adverse"]
    rows = _check_rows(files["report.md"])
    # flagged most: the harmed group, though the check's lowest ratio is Other's / Asian's
    assert rows["Selection rate"] == [
        "0.3563",
        "race = African-American (highest: 58.82 %)",
        "lowest: race = Other: 20.95 %",
    ]
    assert rows["False positive rate"] == [
        "0.1939",
        "race = African-American (highest: 44.85 %)",
        "lowest: race = Asian: 8.70 %",
    ]
    # a missed reoffence spares the person: the lowest false negative rate is the harmed end
    assert rows["False negative rate"] == [
        "0.4136",
        "race = African-American",
        "race = Other: 67.67 %",
    ]
    harmed = " (the harmed end: prediction 1 is adverse): "
    for text in files.values():
        assert f"race = African-American has the highest selection rate{harmed}58.82 %" in text
        assert (
            f"race = African-American has the highest false positive rate{harmed}44.85 %, 5.16× "
            "the lowest (race = Asian: 8.70 %) and 1.91× the largest other group (race = "
            "Caucasian: 23.45 %)" in text
        )
        assert f"race = African-American has the lowest false negative rate{harmed}27.99 %" in text
        assert "race = Other has the highest false negative rate" not in text
        assert "race = Other (highest: 67.67 %)" not in text
    assert result.rules[0].favorable_prediction == 0


def test_unset_the_wording_is_as_before_and_values_never_change(directions) -> None:  # type: ignore[no-untyped-def]
    adverse, _ = directions["adverse"]
    result, files = directions["unset"]
    rows = _check_rows(files["report.md"])
    assert rows["Selection rate"] == ["0.3563", "race = Other", "race = African-American: 58.82 %"]
    assert rows["False negative rate"] == [
        "0.4136",
        "race = Other (highest: 67.67 %)",
        "lowest: race = African-American: 27.99 %",
    ]
    assert "harmed end" not in files["report.md"] + files["report.html"]
    assert "favorable_prediction" not in result.rules[0].model_dump(mode="json")
    # values, references, ratios, statuses and failing groups: the same either way
    unset = result.rules[0].model_dump(mode="json")
    assert adverse.rules[0].model_dump(mode="json") == {**unset, "favorable_prediction": 0}


def test_the_shipped_policy_names_the_group_flagged_most(propublica) -> None:  # type: ignore[no-untyped-def]
    from ethicsgate.report import report_files

    md = report_files(propublica)["report.md"].decode("utf-8")
    assert (
        "race = African-American, sex = Male has the highest selection rate (the harmed end: "
        "prediction 1 is adverse): 60.35 %" in md
    )
    assert "race = African-American, sex = Male (highest: 60.35 %)" in md
    assert "race = Hispanic, sex = Female has the lowest selection rate" not in md
    assert "race = Other (highest: 67.67 %)" not in md
