"""LL144 table semantics: unknown categories, small-category exclusion, intersections, tests."""

from __future__ import annotations

import pandas as pd
import pytest
from statsmodels.stats.proportion import proportions_ztest

from ethicsgate.policy.models import FairnessRule
from ethicsgate.rules.fairness import evaluate_fairness


def _rule(**extra: object) -> FairnessRule:
    return FairnessRule.model_validate(
        {
            "id": "ll144",
            "kind": "fairness",
            "dataset": "d",
            "severity": "block",
            "sensitive_features": ["sex", "race"],
            "impact_ratio": "selection",
            "min_group_size": 1,
            "assert": [{"metric": "impact_ratio", "op": ">=", "value": 0.8}],
            **extra,
        }
    )


def _counts(rows: list[tuple[str | None, str | None, int, int]]) -> pd.DataFrame:
    """(sex, race, applicants, selected) -> grouped counts with prediction 0/1."""
    out = []
    for sex, race, n, k in rows:
        out += [(sex, race, 1, k), (sex, race, 0, n - k)]
    return pd.DataFrame(out, columns=["sex", "race", "prediction", "n"])


ROWS = [
    ("F", "A", 400, 200),
    ("M", "A", 500, 300),
    ("F", "B", 300, 90),
    ("M", "B", 280, 100),
    ("M", "C", 10, 9),  # 0.67 % of the data, selected at 90 %
    (None, "A", 40, 20),  # missing sex
    ("F", "Declined", 30, 3),
    ("Unknown", "B", 25, 5),
]


def test_unknown_categories_are_counted_but_left_out_of_rates() -> None:
    result = evaluate_fairness(_rule(unknown_values=["Unknown", "Declined"]), _counts(ROWS))
    sex, race, both = result.impact_ratio.tables
    assert sex.unknown == 40 + 25  # null and "Unknown"
    assert race.unknown == 30
    assert both.unknown == 40 + 30 + 25  # unknown in either feature
    assert {r.category["sex"] for r in sex.rows} == {"F", "M"}
    female = next(r for r in sex.rows if r.category == {"sex": "F"})
    assert (female.applicants, female.selected) == (400 + 300 + 30, 200 + 90 + 3)
    assert sex.applicants + sex.unknown == sum(n for *_, n, _ in ROWS)


def test_small_categories_keep_count_and_rate_but_get_no_ratio() -> None:
    result = evaluate_fairness(
        _rule(unknown_values=["Unknown", "Declined"], exclude_below_share=0.02), _counts(ROWS)
    )
    _, race, both = result.impact_ratio.tables
    c = next(r for r in race.rows if r.category == {"race": "C"})
    assert c.excluded and c.impact_ratio is None
    assert (c.applicants, c.selected, c.rate) == (10, 9, 0.9)
    # the most selected is taken among the remaining categories, not the 90 % one
    assert race.most_selected == {"race": "A"}
    assert race.most_selected_rate == pytest.approx(520 / 940)
    b = next(r for r in race.rows if r.category == {"race": "B"})
    # race is known for the 25 people of unknown sex: the race table counts them
    assert (b.applicants, b.selected) == (605, 195)
    assert b.impact_ratio == pytest.approx((195 / 605) / (520 / 940))
    assert any(r.excluded for r in both.rows)
    assertion = result.assertions[0]
    assert assertion.status == "fail" and {"race": "B"} in assertion.failing_groups
    assert {"race": "C"} not in assertion.failing_groups


def test_without_exclusion_the_small_category_is_the_most_selected() -> None:
    result = evaluate_fairness(_rule(unknown_values=["Unknown", "Declined"]), _counts(ROWS))
    race = result.impact_ratio.tables[1]
    assert race.most_selected == {"race": "C"}
    assert not any(r.excluded for r in race.rows)


def test_components_exclusion_follows_the_feature_tables() -> None:
    rows = [("F", "A", 500, 250), ("M", "A", 480, 250), ("F", "C", 5, 2), ("M", "C", 5, 3)]
    rule = _rule(exclude_below_share=0.02, intersection_exclusion="components")
    result = evaluate_fairness(rule, _counts(rows))
    sex, race, both = result.impact_ratio.tables
    assert not any(r.excluded for r in sex.rows)
    assert [r.category for r in race.rows if r.excluded] == [{"race": "C"}]
    assert {tuple(r.category.values()) for r in both.rows if r.excluded} == {
        ("F", "C"),
        ("M", "C"),
    }


def test_four_fifths_passes_and_errors_are_never_passes() -> None:
    even = [("F", "A", 100, 50), ("M", "A", 100, 45), ("F", "B", 100, 48), ("M", "B", 100, 44)]
    assert evaluate_fairness(_rule(), _counts(even)).status == "pass"
    nobody = [("F", "A", 100, 0), ("M", "A", 100, 0)]
    result = evaluate_fairness(_rule(sensitive_features=["sex"]), _counts(nobody))
    assert result.assertions[0].status == "error"
    assert "no category was selected" in result.assertions[0].message
    assert result.status == "error"


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ({"unknown_values": ["F", "M"]}, "no applicant is in a known category"),
        ({"exclude_below_share": 0.9}, "every category is excluded (see exclude_below_share)"),
    ],
)
def test_an_undefined_impact_ratio_says_why(extra: dict[str, object], why: str) -> None:
    rows = [("F", "A", 100, 50), ("M", "A", 100, 45)]
    result = evaluate_fairness(_rule(sensitive_features=["sex"], **extra), _counts(rows))
    assert result.assertions[0].status == "error"
    assert result.assertions[0].message.startswith(f"impact_ratio cannot be taken: {why}")


def test_category_tests_match_statsmodels_and_gate_the_assertion() -> None:
    rows = [("F", "A", 60, 30), ("M", "A", 60, 20), ("F", "B", 2000, 1000), ("M", "B", 2000, 700)]
    rule = _rule(
        sensitive_features=["race", "sex"],
        **{
            "assert": [{"metric": "impact_ratio", "op": ">=", "value": 0.8, "significant_at": 0.05}]
        },
    )
    frame = _counts([(r, s, n, k) for s, r, n, k in rows]).rename(
        columns={"sex": "race", "race": "sex"}
    )
    result = evaluate_fairness(rule, frame)
    both = result.impact_ratio.tables[-1]
    ref = next(r for r in both.rows if r.most_selected)
    for row in both.rows:
        if row.most_selected:
            assert row.test is None
            continue
        z, p = proportions_ztest([row.selected, ref.selected], [row.applicants, ref.applicants])
        assert row.test.method == "z_test"
        assert row.test.p_value == pytest.approx(p, rel=1e-9)
    assertion = result.assertions[0]
    # (A, M): 20/60 vs 30/60 is a ratio of 0.67 but p = 0.06; (B, M): 0.70 with p < 1e-80
    assert {"race": "A", "sex": "M"} in assertion.not_significant_groups
    # the sex table fails too: M 720/2060 against F 1030/2060
    assert assertion.failing_groups == [{"sex": "M"}, {"race": "B", "sex": "M"}]
    assert assertion.status == "fail"


def test_an_impact_ratio_of_exactly_four_fifths_passes_the_four_fifths_rule() -> None:
    # 20 of 30 (2/3) against 25 of 30 (5/6): exactly 4/5, 0.7999999999999999 as floats
    rows = [("F", "A", 30, 25), ("M", "A", 30, 20)]
    result = evaluate_fairness(_rule(sensitive_features=["sex"]), _counts(rows))
    assert result.assertions[0].status == "pass"
    strict = _rule(
        sensitive_features=["sex"],
        **{"assert": [{"metric": "impact_ratio", "op": ">", "value": 0.8}]},
    )
    assert evaluate_fairness(strict, _counts(rows)).assertions[0].failing_groups == [{"sex": "M"}]
