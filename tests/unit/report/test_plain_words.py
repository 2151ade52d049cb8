"""The report names the disadvantaged group in words, metric ids second (#22 item 5).

For an error rate (higher is worse) with ``reference: max``, the ratio check's extreme is the
group with the *lowest* rate, but the harmed group is the highest: COMPAS's false positive
rates are the published example (ProPublica 2016: African-American defendants who did not
reoffend were labelled high risk at 44.85 %, against 23.45 % for Caucasian defendants).

The shipped COMPAS policy says prediction 1 is adverse (``favorable_prediction: 0``); the
``compas`` fixture audits it with that field taken out, the wording every rule without the
field keeps (``test_adverse_direction.py`` has the field's own wording).
"""

from __future__ import annotations

import pandas as pd
import pytest
from tests.conftest import ROOT

from ethicsgate.audit import run_audit
from ethicsgate.policy.models import FairnessRule
from ethicsgate.report import report_files
from ethicsgate.report.views.fairness import assertion_view, fairness_depth
from ethicsgate.rules.fairness import evaluate_fairness


@pytest.fixture(scope="module")
def compas(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    # the shipped policy and spec, without favorable_prediction (the default's wording)
    folder = tmp_path_factory.mktemp("compas-default")
    policy = (ROOT / "policies" / "recidivism-fairness.yaml").read_text(encoding="utf-8")
    unset = "".join(
        line for line in policy.splitlines(keepends=True) if "favorable_prediction" not in line
    )
    assert unset != policy
    (folder / "policy.yaml").write_text(unset, encoding="utf-8")
    spec = (ROOT / "audits" / "compas-example.yaml").read_text(encoding="utf-8")
    spec = spec.replace("../policies/recidivism-fairness.yaml", str(folder / "policy.yaml"))
    spec = spec.replace("../examples/", f"{ROOT / 'examples'}/")
    (folder / "audit.yaml").write_text(spec, encoding="utf-8")
    result = run_audit(folder / "audit.yaml")
    files = report_files(result)
    return {name: files[name].decode("utf-8") for name in ("report.md", "report.html")}


def test_error_rates_name_the_highest_group_as_the_worst(compas: dict[str, str]) -> None:
    sentence = (
        "race = African-American has the highest false positive rate: 44.85 %, 5.16× the "
        "lowest (race = Asian: 8.70 %) and 1.91× the largest other group (race = Caucasian: "
        "23.45 %); the requirement is not met."
    )
    for text in compas.values():
        assert sentence in text
    row = next(
        line
        for line in compas["report.md"].splitlines()
        if line.startswith("| False positive rate")
    )
    cells = [c.strip() for c in row.strip("|").split("|")]
    # worst observed ratio unchanged; the worst group is the harmed one, compared with the lowest
    assert cells[2:5] == [
        "0.1939",
        "race = African-American (highest: 44.85 %)",
        "lowest: race = Asian: 8.70 %",
    ]
    assert "race = Asian (0.1939)" not in compas["report.md"]


def test_rates_where_higher_is_better_or_neutral_name_the_lowest(compas: dict[str, str]) -> None:
    assert (
        "race = Hispanic, sex = Female has the lowest selection rate: 15.53 %, 0.26× the "
        "highest, also the largest other group (race = African-American, sex = Male: 60.35 %); "
        "the requirement is not met." in compas["report.md"]
    )
    row = next(
        line for line in compas["report.md"].splitlines() if line.startswith("| Selection rate")
    )
    assert "race = Hispanic, sex = Female" in row and "highest:" not in row


def test_the_sentence_comes_before_the_metric_ids(compas: dict[str, str]) -> None:
    md = compas["report.md"]
    sentence = md.index("has the highest false positive rate")
    section = md.rindex("\n## ", 0, sentence)  # the rule's own section
    assert section < sentence < md.index("false_positive_rate ratio for", section)


def _counts(rates: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """Group -> (people, selected) as grouped counts of prediction 0/1."""
    rows = [(g, 1, k) for g, (n, k) in rates.items()] + [
        (g, 0, n - k) for g, (n, k) in rates.items()
    ]
    return pd.DataFrame(rows, columns=["race", "prediction", "n"])


@pytest.mark.parametrize(
    ("check", "sentence"),
    [
        # an upper bound on the ratio: the group over it is the highest, not the lowest
        (
            {"op": "<=", "value": 1.25},
            "race = A has the highest selection rate: 60.00 %, 3.00× the lowest (race = C: "
            "20.00 %) and 2.00× the largest other group (race = B: 30.00 %); the requirement "
            "is not met.",
        ),
        # a difference: the group farthest from the reference (A, 0.30 from B) is named
        (
            {"aggregate": "difference", "op": "<=", "value": 0.2},
            "race = A has the highest selection rate: 60.00 %",
        ),
        # the lower bound names the lowest, as before
        (
            {"op": ">=", "value": 0.8},
            "race = C has the lowest selection rate: 20.00 %, 0.33× the highest (race = A: "
            "60.00 %) and 0.67× the largest other group (race = B: 30.00 %); the requirement "
            "is not met.",
        ),
    ],
)
def test_the_sentence_names_the_group_the_check_is_about(
    check: dict[str, object], sentence: str
) -> None:
    rule = FairnessRule.model_validate(
        {
            "id": "r",
            "kind": "fairness",
            "dataset": "d",
            "sensitive_features": ["race"],
            "min_group_size": 1,
            "reference": {"race": "B"},
            "assert": [{"metric": "selection_rate", **check}],
        }
    )
    result = evaluate_fairness(rule, _counts({"A": (100, 60), "B": (300, 90), "C": (200, 40)}))
    assert result.assertions[0].status == "fail"
    assert assertion_view(result.assertions[0], result).plain.startswith(sentence)


def test_a_group_of_one_is_one_person() -> None:
    rule = FairnessRule.model_validate(
        {
            "id": "r",
            "kind": "fairness",
            "dataset": "d",
            "severity": "info",
            "sensitive_features": ["race"],
            "metrics": ["selection_rate"],
            "min_group_size": 5,
        }
    )
    result = evaluate_fairness(rule, _counts({"A": (100, 60), "B": (1, 1), "C": (2, 1)}))
    depth = fairness_depth(result)
    assert depth is not None
    assert depth.small_groups == ["race = B (1 person)", "race = C (2 people)"]


@pytest.mark.parametrize("reference", [{"race": "B"}, "overall"])
def test_only_the_highest_group_is_called_highest(reference: object) -> None:
    # an error rate against a named group (or everyone): the reference is not the highest
    # group, so the check's row must not call it that
    rule = FairnessRule.model_validate(
        {
            "id": "r",
            "kind": "fairness",
            "dataset": "d",
            "sensitive_features": ["race"],
            "min_group_size": 1,
            "reference": reference,
            "assert": [{"metric": "false_positive_rate", "op": ">=", "value": 0.8}],
        }
    )
    # false positive rates (everyone has label 0): A 60 %, B 30 %, C 10 %
    counts = pd.DataFrame(
        [
            (g, 0, p, k)
            for g, n, s in (("A", 100, 60), ("B", 300, 90), ("C", 200, 20))
            for p, k in ((1, s), (0, n - s))
        ],
        columns=["race", "label", "prediction", "n"],
    )
    result = evaluate_fairness(rule, counts)
    view = assertion_view(result.assertions[0], result)
    assert "highest" not in view.group
    assert view.group == "race = C"
    assert view.plain.startswith("race = C has the lowest false positive rate: 10.00 %")
