"""Oracle: the oversight checks equal plain-Python loops on randomized decision logs."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from logs_reference import (
    Conflict,
    MissingId,
    human_review_required,
    make_rule,
    review_sampling,
    run_rule,
    verdicts_of,
    write_jsonl,
)

from ethicsgate.errors import EvidenceError
from ethicsgate.rules.oversight import sample_size, select_review_sample
from ethicsgate.rules.results import RuleStatus

SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
REVIEWERS = [None, "", "  ", "Anna", "Ben", "system", " SYSTEM ", "Bot", "model"]
SCORES = [None, 0.1, 0.39, 0.4, 0.45, 0.5, 0.6, 0.61, 0.9]


@st.composite
def decision_logs(draw: st.DrawFn) -> list[dict[str, Any]]:
    rows = [
        {
            "decision_id": f"d{index}",
            "outcome": draw(st.sampled_from(["denied", "approved", "pending"])),
            "score": draw(st.sampled_from(SCORES)),
            "adverse": draw(st.sampled_from([True, False, "1", "0", "yes", "no"])),
            "reviewer": draw(st.sampled_from(REVIEWERS)),
            "routed_to_review": draw(st.sampled_from([None, "", "true", "false", True])),
            "qa_reviewer": draw(st.sampled_from(REVIEWERS)),
            "segment": draw(st.sampled_from(["new", "regular", "lapsed", None])),
            "channel": draw(st.sampled_from(["web", "shop"])),
        }
        for index in range(draw(st.integers(0, 60)))
    ]
    if rows and draw(st.booleans()):
        rows += draw(st.lists(st.sampled_from(rows), max_size=3))
    if rows and not draw(st.integers(0, 9)):
        clash = dict(draw(st.sampled_from(rows)))
        clash["reviewer"] = draw(st.sampled_from(REVIEWERS))
        rows.append(clash)
    if rows and not draw(st.integers(0, 9)):
        rows.append({**draw(st.sampled_from(rows)), "adverse": None})
    return rows


def _run(rule: Any, rows: list[dict[str, Any]]) -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        return run_rule(rule, {"decisions": write_jsonl(Path(tmp) / "d.jsonl", rows)})


ADVERSE = [
    None,
    {"outcomes": ["denied"]},
    {"outcomes": ["denied"], "score_min": 0.4, "score_max": 0.6},
    {"outcomes": ["denied", "pending"], "score_max": 0.45},
]
EVIDENCE = [["reviewer"], ["routed_to_review"], ["reviewer", "routed_to_review"]]


@pytest.mark.slow
@SETTINGS
@given(rows=decision_logs(), adverse=st.sampled_from(ADVERSE), evidence=st.sampled_from(EVIDENCE))
def test_human_review_required_equals_reference(
    rows: list[dict[str, Any]], adverse: dict[str, Any] | None, evidence: list[str]
) -> None:
    rule = make_rule(
        kind="oversight",
        check="human_review_required",
        dataset="decisions",
        adverse=adverse,
        review_evidence=evidence,
    )
    try:
        records, verdicts = human_review_required(rows, rule)
    except (Conflict, MissingId):
        with pytest.raises(EvidenceError, match="decision_id|adverse"):
            _run(rule, rows)
        return
    result = _run(rule, rows)
    assert result.records_checked == records
    assert verdicts_of(result) == verdicts
    assert result.status == (
        RuleStatus.ERROR if not records else RuleStatus.FAIL if verdicts else RuleStatus.PASS
    )


@pytest.mark.slow
@SETTINGS
@given(
    rows=decision_logs(),
    strata=st.sampled_from([[], ["segment"], ["segment", "channel"]]),
    share=st.sampled_from([0.05, 0.1, 0.25, 0.3, 0.5, 1.0]),
    seed=st.integers(0, 2**31),
    min_per_group=st.integers(0, 2),
)
def test_review_sampling_equals_reference(
    rows: list[dict[str, Any]], strata: list[str], share: float, seed: int, min_per_group: int
) -> None:
    rule = make_rule(
        kind="oversight",
        check="review_sampling",
        dataset="decisions",
        share=share,
        seed=seed,
        strata=strata,
        min_per_group=min_per_group,
    )
    try:
        records, verdicts, groups = review_sampling(rows, rule)
    except (Conflict, MissingId):
        with pytest.raises(EvidenceError, match="decision_id"):
            _run(rule, rows)
        return
    result = _run(rule, rows)
    assert result.records_checked == records
    assert verdicts_of(result) == verdicts
    got = {
        tuple(s.group[name] for name in strata): (s.decisions, s.sampled, s.reviewed)
        for s in result.strata
    }
    assert got == groups
    if records == 0:
        assert result.status == RuleStatus.ERROR


@settings(max_examples=200, deadline=None)
@given(
    ids=st.lists(st.text(min_size=1, max_size=6), unique=True, max_size=50),
    share=st.sampled_from([0.01, 0.05, 0.1, 1 / 3, 0.5, 0.99]),
    seed=st.integers(0, 10**6),
)
def test_python_sample_matches_reference_sizes(ids: list[str], share: float, seed: int) -> None:
    """The generator's Python sampler takes ceil(share * n) per group, at least one."""
    groups = {i: len(i) % 3 for i in ids}
    chosen = select_review_sample(groups.items(), share=share, seed=seed)
    for group in set(groups.values()):
        members = [i for i, g in groups.items() if g == group]
        size = sample_size(len(members), share, 1)
        assert len([i for i in chosen if groups[i] == group]) == size


def test_share_is_taken_as_the_decimal_written() -> None:
    # 0.1 * 30 is 3.0000000000000004 in floating point; the sample must still be 3, not 4
    assert sample_size(30, 0.1, 1) == 3
    assert sample_size(7, 0.05, 1) == 1
    assert sample_size(7, 0.05, 0) == 1
    assert sample_size(0, 0.5, 1) == 0
    assert sample_size(3, 1.0, 5) == 3
