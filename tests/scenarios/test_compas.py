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
