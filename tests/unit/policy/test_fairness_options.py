"""Policy language for LL144 tables, uncertainty and score metrics: valid and invalid uses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from ethicsgate.errors import PolicyError
from ethicsgate.policy import load_policy
from ethicsgate.policy.models import FairnessRule

BASE = {"id": "r", "kind": "fairness", "dataset": "d", "sensitive_features": ["sex"]}


def rule(**extra: object) -> FairnessRule:
    return FairnessRule.model_validate({**BASE, **extra})


def test_a_rule_of_ll144_tables_only_is_valid_and_reads_what_it_needs() -> None:
    selection = rule(impact_ratio="selection", severity="info")
    assert selection.all_metrics == ["count"]
    assert selection.needs_prediction and selection.reads_prediction
    assert not selection.needs_score and not selection.needs_label
    scoring = rule(impact_ratio="scoring", severity="info")
    assert scoring.needs_score and not scoring.needs_prediction
    thresholded = rule(metrics=["selection_rate"], threshold=0.7, severity="info")
    assert thresholded.needs_score and thresholded.needs_prediction
    assert not thresholded.reads_prediction
    scored = rule(score_metrics=["roc_auc"], severity="info")
    assert scored.needs_label and scored.needs_score


def test_impact_ratio_assertions_read_the_ratio_as_a_value() -> None:
    checked = rule(
        impact_ratio="selection",
        **{"assert": [{"metric": "impact_ratio", "op": ">=", "value": 0.8}]},
    )
    assert checked.assertions[0].aggregate == "value"
    assert checked.all_metrics == ["count"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"assert": [{"metric": "impact_ratio", "op": ">=", "value": 0.8}]},
            "needs the rule's impact_ratio",
        ),
        (
            {
                "impact_ratio": "selection",
                "assert": [
                    {"metric": "impact_ratio", "aggregate": "ratio", "op": ">=", "value": 0.8}
                ],
            },
            "already a ratio",
        ),
        (
            {
                "metrics": ["selection_rate"],
                "assert": [
                    {
                        "metric": "selection_rate",
                        "aggregate": "value",
                        "op": ">=",
                        "value": 0.1,
                        "significant_at": 0.05,
                    }
                ],
            },
            "significant_at needs a comparison",
        ),
        ({"metrics": ["count"], "exclude_below_share": 0.02}, "only used with impact_ratio"),
        ({"impact_ratio": "selection", "exclude_below_share": 2}, "less than 1"),
        (
            {"metrics": ["count"], "reference": {"sex": "Unknown"}, "unknown_values": ["Unknown"]},
            "reference group sex=Unknown is one of unknown_values",
        ),
        ({"score_metrics": ["roc_auc"], "score_bins": 105}, "multiple of calibration_bins"),
        ({"score_metrics": ["brier"]}, "roc_auc"),
        ({"impact_ratio": "selection", "uncertainty": {"confidence_level": 0.4}}, "greater than"),
        ({}, "needs 'metrics', 'assert', 'impact_ratio', 'score_metrics' or 'drift'"),
    ],
)
def test_invalid_options_are_rejected(extra: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        rule(**extra)


def test_a_misspelt_impact_ratio_is_located(write: Callable[[str, str], Path]) -> None:
    path = write(
        "policy.yaml",
        """
        schema_version: 1
        id: p
        version: "1"
        title: t
        owner: o
        rules:
          - id: ll144
            kind: fairness
            dataset: d
            sensitive_features: [sex]
            impact_ratio: selection
            assert:
              - {metric: impact_ration, op: ">=", value: 0.8}
        """,
    )
    with pytest.raises(PolicyError, match=r"policy.yaml:13:18: .*did you mean 'impact_ratio'"):
        load_policy(path)


def test_an_assertion_error_is_located_at_the_assertion_not_the_rule(
    write: Callable[[str, str], Path],
) -> None:
    # found by QA: ppr with significant_at was located at the rule (7:3)
    path = write(
        "policy.yaml",
        """
        schema_version: 1
        id: p
        version: "1"
        title: t
        owner: o
        rules:
          - id: shares
            kind: fairness
            dataset: d
            sensitive_features: [sex]
            assert:
              - {metric: selection_rate, op: ">=", value: 0.8}
              - {metric: ppr, op: ">=", value: 0.8, significant_at: 0.05}
        """,
    )
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    where = caught.value.location
    assert where is not None and where.line == 13 and where.column is not None
    assert path.read_text().splitlines()[12][where.column - 1 :] == "0.05}"  # its significant_at
    assert caught.value.message.startswith(
        "rules.0.assert.1.significant_at: ppr is a share of all the groups' selections"
    )
    count = path.read_text().replace("metric: selection_rate,", "metric: count,")
    with pytest.raises(PolicyError) as caught:
        load_policy(write("count.yaml", count))
    assert caught.value.message.startswith("rules.0.assert.0: count can only be asserted with")
    assert caught.value.location is not None and caught.value.location.line == 12


def test_the_shipped_ll144_policy_loads() -> None:
    root = Path(__file__).resolve().parents[3]
    pack = load_policy(root / "policies" / "nyc-ll144-example.yaml").pack
    kinds = {r.impact_ratio for r in pack.rules if isinstance(r, FairnessRule)}
    assert kinds == {"selection", "scoring"}
