"""Oracle: proxy_features equals scipy / scikit-learn on raw rows, on COMPAS and generated data."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy.stats import chi2_contingency
from scipy.stats.contingency import association
from sklearn.metrics import normalized_mutual_info_score
from tests.conftest import PROPUBLICA_CSV as COMPAS_CSV

import ethicsgate
from ethicsgate.errors import PolicyError
from ethicsgate.policy import load_policy
from ethicsgate.policy.models import DEFAULT_REFUSED_PROXIES
from ethicsgate.rules.proxy import (
    cramers_v,
    normalized_mutual_information,
    rank_bins,
    refused_name,
)
from ethicsgate.rules.results import RuleStatus


def corrected_v(x: pd.Series, y: pd.Series) -> float | None:
    """Bergsma-Wicher bias-corrected Cramér's V, written out from the paper's formulas."""
    table = pd.crosstab(x, y, dropna=False).to_numpy()
    n = table.sum()
    r, k = table.shape
    if n < 2 or r < 2 or k < 2:
        return None
    chi2 = chi2_contingency(table, correction=False)[0]
    phi2 = max(0.0, chi2 / n - (k - 1) * (r - 1) / (n - 1))
    rcorr = r - (r - 1) ** 2 / (n - 1)
    kcorr = k - (k - 1) ** 2 / (n - 1)
    denominator = min(rcorr - 1, kcorr - 1)
    return None if denominator <= 0 else min(1.0, math.sqrt(phi2 / denominator))


def rank_binned(values: pd.Series, bins: int) -> pd.Series:
    """Equal-count bins by rank (ties share the lowest rank), missing values their own bin."""
    present = values.notna()
    ranks = values[present].rank(method="min")
    out = pd.Series(-1, index=values.index)
    out[present] = np.floor(bins * (ranks - 1) / present.sum()).astype(int)
    return out


def write_policy(tmp_path: Path, rule: dict[str, Any]) -> Path:
    import yaml

    path = tmp_path / "policy.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "schema_version": 1,
                "id": "proxy-test",
                "version": "1",
                "title": "proxies",
                "owner": "tests",
                "rules": [{"id": "no-proxies", "kind": "proxy", "dataset": "d", **rule}],
            }
        )
    )
    return path


def run(tmp_path: Path, frame: pd.DataFrame, **rule: Any) -> Any:
    report = ethicsgate.audit(
        write_policy(tmp_path, rule), {"d": {"data": frame}}, base_dir=tmp_path
    )
    return report, report.rules[0]


def test_compas_associations_equal_scipy_and_sklearn_on_raw_rows(tmp_path: Path) -> None:
    if not COMPAS_CSV.is_file():
        pytest.skip(f"evidence not shipped: {COMPAS_CSV}")
    frame = pd.read_csv(COMPAS_CSV)
    categorical = ["age_cat", "c_charge_degree", "c_charge_desc"]
    numeric = ["priors_count", "age", "juv_fel_count", "days_b_screening_arrest"]
    frame = frame[["id", "race", "sex", *categorical, *numeric]]
    report, rule = run(
        tmp_path,
        frame,
        features=categorical + numeric,
        numeric=numeric,
        sensitive_features=["race", "sex"],
    )
    checked = 0
    for sensitive in ["race", "sex"]:
        for feature in categorical:
            x = frame[feature].fillna("\0missing")
            expected = corrected_v(x, frame[sensitive])
            got = rule.overall[f"cramers_v[{feature}~{sensitive}]"]
            assert got == pytest.approx(expected, abs=1e-12), (feature, sensitive)
            checked += 1
        for feature in numeric:
            binned = rank_binned(frame[feature], 10)
            expected = normalized_mutual_info_score(frame[sensitive], binned)
            got = rule.overall[f"normalized_mi[{feature}~{sensitive}]"]
            assert got == pytest.approx(expected, abs=1e-12), (feature, sensitive)
            checked += 1
    assert checked == 14
    # COMPAS: age category and race are associated, but below the default thresholds; the
    # charge description (437 categories) is not inflated by its many categories
    assert rule.status == RuleStatus.PASS, rule.message
    assert rule.overall["cramers_v[c_charge_desc~race]"] < 0.2
    assert report.status == "pass"


def test_a_zip_code_that_tracks_race_is_flagged_and_a_random_input_is_not(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    n = 4000
    race = rng.choice(["A", "B", "C"], size=n, p=[0.5, 0.3, 0.2])
    # neighbourhood: mostly determined by race (segregation), so it is a proxy
    hood = np.where(rng.random(n) < 0.8, np.char.add("h", race), rng.choice(["hA", "hB", "hC"], n))
    income = rng.normal(50, 10, n) + np.where(race == "A", 15, 0)
    noise = rng.choice(["x", "y", "z", "w"], size=n)
    tenure = rng.integers(0, 40, n).astype(float)
    frame = pd.DataFrame(
        {
            "id": range(n),
            "race": race,
            "neighbourhood": hood,
            "noise": noise,
            "income": income,
            "tenure": tenure,
        }
    )
    _, rule = run(
        tmp_path,
        frame,
        features=["neighbourhood", "noise", "income", "tenure"],
        numeric=["income", "tenure"],
        sensitive_features=["race"],
        max_mutual_information=0.05,
    )
    assert rule.status == RuleStatus.FAIL
    flagged = {f.record_id for f in rule.findings}
    assert flagged == {"neighbourhood ~ race", "income ~ race"}
    assert rule.overall["cramers_v[neighbourhood~race]"] > 0.7
    assert rule.overall["cramers_v[noise~race]"] < 0.05
    assert rule.violations_by_reason == {"proxy_association": 2}


def test_an_input_named_like_a_zip_code_is_refused_whatever_its_association(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(1)
    n = 500
    frame = pd.DataFrame(
        {
            "sex": rng.choice(["F", "M"], n),
            "ZIP_Code": rng.choice([f"{z:05d}" for z in range(20)], n),
            "postal_area": rng.choice(["N", "S"], n),
        }
    )
    report, rule = run(
        tmp_path, frame, features=["ZIP_Code", "postal_area"], sensitive_features=["sex"]
    )
    assert rule.status == RuleStatus.FAIL
    assert [f.record_id for f in rule.findings] == ["ZIP_Code"]
    assert rule.findings[0].reason == "named_proxy"
    assert "remove it from the model's inputs" in rule.findings[0].message
    # every finding is in findings.parquet too
    from ethicsgate.audit.findings import finding_batches

    rows = [r for batch in finding_batches(report.findings_parquet) for r in batch]
    assert [(r["rule_id"], r["record_id"], r["reason"]) for r in rows] == [
        ("no-proxies", "ZIP_Code", "named_proxy")
    ]
    # refuse: [] turns the name check off
    _, rule = run(
        tmp_path,
        frame,
        features=["ZIP_Code", "postal_area"],
        sensitive_features=["sex"],
        refuse=[],
    )
    assert rule.status == RuleStatus.PASS


@pytest.mark.parametrize(
    ("feature", "refused"),
    [
        ("zip", "zip"),
        ("ZIP_Code", "zip"),
        ("zip3", "zip"),
        ("Postal-Code", "postalcode"),
        ("postcode_area", "postcode"),
        # a zip code named after what it belongs to: the usual column names
        ("applicant_zip", "zip"),
        ("home_zip_code", "zip"),
        ("homeZip5", "zip"),
        ("residence_postal_code", "postalcode"),
        ("address.postcode", "postcode"),
        # not a zip or postal code
        ("postal_area", None),
        ("commute_km", None),
        ("unzipped_size", None),
        ("HOMEZIP", None),  # no word boundary to tell
    ],
)
def test_refused_names_are_matched_from_the_start_of_any_word(
    feature: str, refused: str | None
) -> None:
    # IL HB 3773 forbids zip codes as a proxy: an input called applicant_zip was measured like
    # any other (and passed when weakly associated) because only the name's start was compared
    assert refused_name(feature, DEFAULT_REFUSED_PROXIES) == refused


def test_a_single_category_everywhere_is_an_error_not_a_pass(tmp_path: Path) -> None:
    frame = pd.DataFrame({"sex": ["F"] * 20, "tier": ["a", "b"] * 10})
    _, rule = run(tmp_path, frame, features=["tier"], sensitive_features=["sex"])
    assert rule.status == RuleStatus.ERROR
    assert "with nothing measured, it cannot pass" in rule.message


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            {"features": ["a"], "numeric": ["b"], "sensitive_features": ["s"]},
            "numeric names b, which is not in features",
        ),
        (
            {"features": ["a", "s"], "sensitive_features": ["s"]},
            "is both a feature and a sensitive feature",
        ),
        ({"features": [], "sensitive_features": ["s"]}, "features"),
        ({"features": ["a"], "sensitive_features": ["s"], "max_cramers_v": 0}, "max_cramers_v"),
    ],
)
def test_invalid_rules_are_located(tmp_path: Path, rule: dict[str, Any], expected: str) -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(write_policy(tmp_path, rule))
    text = info.value.diagnostics()
    assert expected in text
    assert "policy.yaml:" in text


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def pairs(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    n = draw(st.integers(0, 80))
    xs = draw(st.lists(st.sampled_from("abcdef"), min_size=n, max_size=n))
    ys = draw(st.lists(st.sampled_from("PQR"), min_size=n, max_size=n))
    return xs, ys


def table_of(xs: list[str], ys: list[str]) -> dict[tuple[str, str], int]:
    table: dict[tuple[str, str], int] = {}
    for x, y in zip(xs, ys, strict=True):
        table[x, y] = table.get((x, y), 0) + 1
    return table


@SETTINGS
@given(pairs())
# chi2 / n equals the bias term exactly: fsum gives 0, scipy's sum 1.7e-16, whose root is 1.3e-8
@example((["a", "a", "b", "c", "d", "a", "a"], ["P", "P", "R", "R", "R", "P", "Q"]))
def test_cramers_v_equals_scipy_and_the_corrected_formula(
    data: tuple[list[str], list[str]],
) -> None:
    xs, ys = data
    table = table_of(xs, ys)
    plain = cramers_v(table, corrected=False)
    if len(set(xs)) < 2 or len(set(ys)) < 2:
        assert plain is None and cramers_v(table) is None
        return
    crosstab = pd.crosstab(pd.Series(xs), pd.Series(ys)).to_numpy()
    assert plain == pytest.approx(association(crosstab, method="cramer"), abs=1e-12)
    # compared squared: near the correction's clamp at 0 the square root turns a rounding
    # difference of 1e-16 in the corrected phi^2 into 1e-8
    mine, oracle = cramers_v(table), corrected_v(pd.Series(xs), pd.Series(ys))
    assert (mine is None) == (oracle is None)
    if mine is not None and oracle is not None:
        assert mine**2 == pytest.approx(oracle**2, abs=1e-12)


@SETTINGS
@given(pairs())
def test_normalized_mi_equals_sklearn(data: tuple[list[str], list[str]]) -> None:
    xs, ys = data
    got = normalized_mutual_information(table_of(xs, ys))
    if not xs:
        assert got is None
        return
    assert got == pytest.approx(normalized_mutual_info_score(ys, xs), abs=1e-12)


@SETTINGS
@given(
    st.lists(st.one_of(st.none(), st.integers(-5, 5).map(float)), max_size=60),
    st.integers(2, 12),
)
def test_rank_bins_equal_pandas_min_rank(values: list[float | None], bins: int) -> None:
    series = pd.Series(values, dtype="float64")
    expected = rank_binned(series, bins).tolist() if values else []
    got = [-1 if b is None else b for b in rank_bins(values, bins)]
    assert got == expected
