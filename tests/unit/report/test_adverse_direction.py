"""A fairness rule's favorable_prediction decides which group the words name as harmed.

With prediction 1 adverse (``favorable_prediction: 0``: flagged high risk), the harmed group is
the one given prediction 1 most often: the highest selection rate, false positive and false
discovery rate, the lowest false negative rate. With prediction 1 favourable (a loan
approved), the other way round: the lowest selection rate, true and false positive rate, the
highest false negative and false omission rate (Aequitas' punitive and assistive
interventions). Values and pass or fail never change; unset, the wording is as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from pydantic import ValidationError
from tests.conftest import AUDIT

from ethicsgate.cli import cli
from ethicsgate.metrics import METRICS, harmed_when
from ethicsgate.policy.models import FairnessRule
from ethicsgate.publish import build_statement, load_publish_inputs
from ethicsgate.report import statement_files
from ethicsgate.report.views.fairness import assertion_view
from ethicsgate.rules.fairness import evaluate_fairness, explain_fairness


def test_which_end_harms_by_the_favourable_prediction() -> None:
    table = {m: (harmed_when(m, None), harmed_when(m, 1), harmed_when(m, 0)) for m in METRICS}
    assert table == {
        # unset: error rates harm when higher, rates where higher is better when lower
        "selection_rate": (None, "lower", "higher"),
        "ppr": (None, "lower", "higher"),
        "true_positive_rate": ("lower", "lower", "higher"),
        "false_positive_rate": ("higher", "lower", "higher"),
        "false_negative_rate": ("higher", "higher", "lower"),
        "true_negative_rate": ("lower", "higher", "lower"),
        "precision": ("lower", "higher", "lower"),
        "false_discovery_rate": ("higher", "lower", "higher"),
        "false_omission_rate": ("higher", "higher", "lower"),
        # not decided by the prediction's meaning
        "accuracy": ("lower", "lower", "lower"),
        "base_rate": (None, None, None),
        "count": (None, None, None),
    }


def _rule(favorable: int | None, metric: str, **extra: object) -> FairnessRule:
    return FairnessRule.model_validate(
        {
            "id": "r",
            "kind": "fairness",
            "dataset": "d",
            "sensitive_features": ["race"],
            "min_group_size": 1,
            "assert": [{"metric": metric, "aggregate": "ratio", "op": ">=", "value": 0.8}],
            **({} if favorable is None else {"favorable_prediction": favorable}),
            **extra,
        }
    )


# (group, label, prediction, n): A is given prediction 1 most often (selection 60 %, FPR 50 %,
# FNR 10 %), C least (selection 20 %, FPR 10 %, FNR 50 %)
_COUNTS = pd.DataFrame(
    [
        ("A", 0, 1, 25),
        ("A", 0, 0, 25),
        ("A", 1, 1, 45),
        ("A", 1, 0, 5),
        ("B", 0, 1, 30),
        ("B", 0, 0, 120),
        ("B", 1, 1, 90),
        ("B", 1, 0, 60),
        ("C", 0, 1, 10),
        ("C", 0, 0, 90),
        ("C", 1, 1, 50),
        ("C", 1, 0, 50),
    ],
    columns=["race", "label", "prediction", "n"],
)


@pytest.mark.parametrize(
    ("favorable", "metric", "group", "compared", "sentence"),
    [
        # a loan: the group approved least is harmed, though its ratio is also the check's
        (
            1,
            "selection_rate",
            "race = C",
            "race = A: 70.00 %",
            "race = C has the lowest selection rate (the harmed end: prediction 1 is "
            "favourable): 30.00 %",
        ),
        # a loan: a high false positive rate benefits a group (unqualified people approved),
        # so the lowest, C, is the harmed end; the reference is A, the highest
        (
            1,
            "false_positive_rate",
            "race = C",
            "race = A: 50.00 %",
            "race = C has the lowest false positive rate (the harmed end: prediction 1 is "
            "favourable): 10.00 %",
        ),
        # a loan: qualified people denied; the highest false negative rate is the harmed end
        (
            1,
            "false_negative_rate",
            "race = C (highest: 50.00 %)",
            "lowest: race = A: 10.00 %",
            "race = C has the highest false negative rate (the harmed end: prediction 1 is "
            "favourable): 50.00 %",
        ),
        # flagged high risk: the group flagged most
        (
            0,
            "selection_rate",
            "race = A (highest: 70.00 %)",
            "lowest: race = C: 30.00 %",
            "race = A has the highest selection rate (the harmed end: prediction 1 is "
            "adverse): 70.00 %",
        ),
        # flagged high risk: a missed positive spares the person; the lowest FNR is harmed
        (
            0,
            "false_negative_rate",
            "race = A",
            "race = C: 50.00 %",
            "race = A has the lowest false negative rate (the harmed end: prediction 1 is "
            "adverse): 10.00 %",
        ),
        # unset: as before
        (
            None,
            "false_negative_rate",
            "race = C (highest: 50.00 %)",
            "lowest: race = A: 10.00 %",
            "race = C has the highest false negative rate: 50.00 %",
        ),
        (None, "selection_rate", "race = C", "race = A: 70.00 %", "race = C has the lowest"),
    ],
)
def test_the_harmed_group_is_named_by_the_rule_s_direction(
    favorable: int | None, metric: str, group: str, compared: str, sentence: str
) -> None:
    result = evaluate_fairness(_rule(favorable, metric), _COUNTS)
    unset = evaluate_fairness(_rule(None, metric), _COUNTS)
    assert result.assertions == unset.assertions  # what the user wrote is judged the same
    view = assertion_view(result.assertions[0], result)
    assert (view.group, view.reference) == (group, compared)
    assert view.plain.startswith(sentence)


def test_a_lower_harm_against_the_lowest_group_names_the_reference() -> None:
    # a loan, selection against the lowest group with an upper bound: the reference (C, the
    # least approved) is the harmed group, the check's extreme is A
    rule = FairnessRule.model_validate(
        {
            "id": "r",
            "kind": "fairness",
            "dataset": "d",
            "sensitive_features": ["race"],
            "min_group_size": 1,
            "reference": "min",
            "favorable_prediction": 1,
            "assert": [{"metric": "selection_rate", "op": "<=", "value": 1.25}],
        }
    )
    result = evaluate_fairness(rule, _COUNTS)
    view = assertion_view(result.assertions[0], result)
    assert view.group == "race = C (lowest: 30.00 %)"
    assert view.reference == "highest: race = A: 70.00 %"


def test_a_two_sided_check_that_fails_at_the_other_end_names_the_group_that_failed() -> None:
    # found by review: a loan, selection 55/60/90 %, |difference from everyone| <= 0.15; C
    # (90 %) fails, A (55 %, the harmed end) passes: the sentence named A as failing
    counts = pd.DataFrame(
        [
            (g, 1, p, n)
            for g, ones in (("A", 55), ("B", 60), ("C", 90))
            for p, n in ((1, ones), (0, 100 - ones))
        ],  # fmt: skip
        columns=["race", "label", "prediction", "n"],
    )
    rule = _rule(
        1,
        "selection_rate",
        reference="overall",
        **{
            "assert": [
                {"metric": "selection_rate", "aggregate": "difference", "op": "<=", "value": 0.15}
            ]
        },  # fmt: skip
    )
    result = evaluate_fairness(rule, counts)
    (assertion,) = result.assertions
    assert assertion.status == "fail" and assertion.failing_groups == [{"race": "C"}]
    view = assertion_view(assertion, result)
    assert view.plain.startswith("race = C has the highest selection rate: 90.00 %"), view.plain
    assert "harmed end" not in view.plain


@pytest.mark.parametrize(
    ("value", "found"),
    [("2", "found 2"), ("true", "found true"), ("adverse", "found 'adverse'"), ('"0"', "'0'")],
)
def test_a_wrong_favorable_prediction_is_exit_2_at_its_place_with_the_fix(
    value: str, found: str, write: Callable[[str, str], Path]
) -> None:
    policy = write(
        "policy.yaml",
        f"""
        schema_version: 1
        id: p
        version: "1"
        title: T
        owner: O
        rules:
          - id: r
            kind: fairness
            dataset: d
            sensitive_features: [race]
            metrics: [false_positive_rate]
            favorable_prediction: {value}
        """,
    )
    result = CliRunner().invoke(cli, ["policy", "check", str(policy)])
    assert result.exit_code == 2
    assert f"{policy}:12:27: rules.0.favorable_prediction: " in result.stderr
    assert found in result.stderr
    assert "write 1 when prediction 1 grants something" in result.stderr
    assert "0 when prediction 1 is adverse" in result.stderr


def test_favorable_prediction_needs_a_metric_it_decides() -> None:
    with pytest.raises(ValidationError, match="this rule reports none of them"):
        FairnessRule.model_validate(
            {
                "id": "r",
                "kind": "fairness",
                "dataset": "d",
                "sensitive_features": ["race"],
                "metrics": ["base_rate", "accuracy"],
                "favorable_prediction": 0,
            }
        )


def test_policy_explain_says_which_way_harms() -> None:
    text = explain_fairness(_rule(0, "false_negative_rate", metrics=["selection_rate"]))
    assert (
        "Prediction 1 is adverse to the person (favorable_prediction: 0), so a group is harmed "
        "by a higher selection rate and a lower false negative rate; the report names the "
        "group at that end as the worst." in text
    )
    assert "favorable_prediction" not in explain_fairness(_rule(None, "false_negative_rate"))


_STATEMENT_POLICY = """
schema_version: 1
id: flags
version: "1"
title: Flags
owner: Tests
rules:
  - id: parity
    kind: fairness
    title: Similar flag rates
    dataset: predictions
    sensitive_features: [group]
    metrics: [selection_rate, count]
    min_group_size: 1{direction}
    assert:
      - {{metric: selection_rate, aggregate: ratio, op: ">=", value: 0.8}}
systems:
  - id: score
    name: Score
    purpose: Rates risk.
    encounter: Always.
    disclosure: It says so.
    human_contact: Call us.
    data: [{{data: Answers, basis: consent}}]
    accountable: Us
    rules: [parity]
"""


@pytest.mark.parametrize("favorable", [None, 1, 0])
def test_the_statement_says_when_a_yes_is_against_the_person(
    favorable: int | None, write: Callable[[str, str], Path], frozen_clock: Callable[[], datetime]
) -> None:
    direction = "" if favorable is None else f"\n    favorable_prediction: {favorable}"
    write("policy.yaml", _STATEMENT_POLICY.format(direction=direction))
    rows = [("a", 1)] * 30 + [("a", 0)] * 20 + [("b", 1)] * 10 + [("b", 0)] * 40
    write("data.csv", "group,label,prediction\n" + "".join(f"{g},0,{p}\n" for g, p in rows))
    pack, result = load_publish_inputs(write("audit.yaml", AUDIT), clock=frozen_clock)
    files = statement_files(build_statement(pack, result))
    check = json.loads(files["statement.json"])["systems"][0]["checks"][0]
    said = "is a decision against the person, such as being rated high risk"
    words = check["assertions"][0]["worst_words"]
    if favorable == 0:  # b got a yes a third as often as a: a, the harmed end, 3 times as often
        assert words.startswith(
            "For every 100 people who got a yes in group = b, there were 300 in"
        ), words
    else:
        assert words.startswith(
            "For every 100 people who got a yes in group = a, there were 33 in"
        ), words
    if favorable == 0:
        assert check["adverse_yes"] is True
        assert f"Here *a yes* {said}" in files["statement.md"].decode()
        assert f"Here <em>a yes</em> {said}" in files["statement.html"].decode()
    else:
        assert "adverse_yes" not in check
        for content in files.values():
            assert said.encode() not in content
