"""Transparency statements: plain content, and no value computed from fewer than k people."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import AUDIT

from ethicsgate.attest import generate_keypair, parse_statement, verify_envelope
from ethicsgate.attest.statement import sha256_file
from ethicsgate.audit import load_audit_spec, run_audit
from ethicsgate.publish import (
    STATEMENT_PREDICATE_TYPE,
    build_statement,
    load_publish_inputs,
    sign_statement,
)
from ethicsgate.publish.statement import metric_denominator, publishable
from ethicsgate.report import statement_files

PIPELINE = Path(__file__).resolve().parents[2] / "scenarios" / "gate_pipeline"
METRICS = "[selection_rate, base_rate, true_positive_rate, false_positive_rate, precision, false_omission_rate, accuracy, count]"
POLICY = f"""
schema_version: 1
id: random
version: "1"
title: Random
owner: Tests
rules:
  - id: parity
    kind: fairness
    title: Similar selection rates
    dataset: predictions
    sensitive_features: [group]
    metrics: {METRICS}
    min_group_size: {{min_group_size}}
    assert:
      - {{{{metric: selection_rate, aggregate: ratio, op: ">=", value: 0.8}}}}
      - {{{{metric: false_positive_rate, aggregate: difference, op: "<=", value: 0.2}}}}
systems:
  - id: bot
    name: Helper
    purpose: Helps.
    encounter: Always.
    disclosure: It says so.
    human_contact: Call us.
    data: [{{{{data: Answers, basis: consent}}}}]
    accountable: Us
    rules: [parity]
"""


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _random_rows(rng: random.Random) -> list[tuple[str, int, int]]:
    rows = []
    for g in range(rng.randint(2, 6)):
        size = rng.choice([1, 3, 7, 9, 10, 12, 25, 40, 80])
        p_label, p_pred = rng.random(), rng.random()
        rows += [
            (f"g{g}", int(rng.random() < p_label), int(rng.random() < p_pred)) for _ in range(size)
        ]
    return rows


def _cells(rows: list[tuple[str, int, int]], group: str, metric: str) -> tuple[int, int, int]:
    """Oracle on raw rows: (numerator, denominator, group size) of a metric for a group."""
    mine = [(y, p) for g, y, p in rows if g == group]
    spec = {
        "selection_rate": (lambda y, p: p == 1, lambda y, p: True),
        "base_rate": (lambda y, p: y == 1, lambda y, p: True),
        "accuracy": (lambda y, p: y == p, lambda y, p: True),
        "true_positive_rate": (lambda y, p: p == 1, lambda y, p: y == 1),
        "false_positive_rate": (lambda y, p: p == 1, lambda y, p: y == 0),
        "precision": (lambda y, p: y == 1, lambda y, p: p == 1),
        "false_omission_rate": (lambda y, p: y == 1, lambda y, p: p == 0),
    }[metric]
    den = [(y, p) for y, p in mine if spec[1](y, p)]
    return sum(spec[0](y, p) for y, p in den), len(den), len(mine)


@pytest.mark.parametrize("seed", range(40))
def test_no_published_value_rests_on_fewer_than_k_people(
    seed: int,
    write: Callable[[str, str], Path],
    frozen_clock: Callable[[], datetime],
) -> None:
    rng = random.Random(seed)
    k = rng.choice([5, 10])
    rows = _random_rows(rng)
    write("policy.yaml", POLICY.format(min_group_size=rng.choice([1, 3, 10])))
    write("data.csv", "group,label,prediction\n" + "".join(f"{g},{y},{p}\n" for g, y, p in rows))
    spec = write("audit.yaml", AUDIT)
    pack, result = load_publish_inputs(spec, clock=frozen_clock)
    statement = build_statement(pack, result, k=k)
    files = statement_files(statement)
    data = json.loads(files["statement.json"])
    sizes = {g: sum(1 for h, _, _ in rows if h == g) for g, _, _ in rows}

    check = data["systems"][0]["checks"][0]
    shown = {g["group"].removeprefix("group = ") for g in check["groups"]}
    small = {g for g, n in sizes.items() if n < k}
    assert shown == set(sizes) - small
    assert check["suppressed_groups"] == len(small)
    if small:
        assert check["people"] is None  # the total minus the shown groups would reveal them
    for name in small:  # a group too small to show is named nowhere
        for content in files.values():
            assert f"group = {name}".encode() not in content
    for node in _walk(data):
        if "people" in node and node["people"] is not None:
            assert node["people"] >= k, node
    for group in check["groups"]:
        name = group["group"].removeprefix("group = ")
        assert group["people"] == sizes[name] >= k
        for value in group["values"]:
            num, den, size = _cells(rows, name, value["metric"])
            assert value["people"] == den >= k
            assert value["value"] == pytest.approx(num / den)
            for cell in (num, den - num, size - den):
                assert cell == 0 or cell >= k, (value, num, den, size)
    for assertion in check["assertions"]:
        if assertion["worst"] is not None:
            assert assertion["worst"]["people"] >= k


def test_publishable_and_denominators() -> None:
    assert metric_denominator("selection_rate", {}, 40) == 40
    assert metric_denominator("false_positive_rate", {"base_rate": 0.25}, 40) == 30
    assert metric_denominator("precision", {"selection_rate": 0.5}, 40) == 20
    assert metric_denominator("true_positive_rate", {}, 40) is None  # unknown: never published
    assert publishable(0.5, 40, 40, 10)
    assert not publishable(0.1, 40, 40, 10)  # 4 people counted
    assert not publishable(0.9, 40, 40, 10)  # 4 people not counted
    assert not publishable(0.5, 36, 40, 10)  # 4 people outside the denominator
    assert publishable(0.0, 40, 40, 10) and publishable(1.0, 40, 40, 10)
    assert not publishable(0.5, 8, 8, 10)


def test_pipeline_statement_content(frozen_clock: Callable[[], datetime]) -> None:
    pack, result = load_publish_inputs(PIPELINE / "candidate-waived.yaml", clock=frozen_clock)
    files = statement_files(build_statement(pack, result))
    html = files["statement.html"].decode()
    md = files["statement.md"].decode()
    for text in (html, md):
        assert "Instant loan pre-approval" in text
        assert "Ask for a loan officer in the app chat" in text  # escalation path
        assert "a contract with you" in text  # legal basis in words
        assert "Not met, with an approved and time-limited exception" in text
        assert "Chief Risk Officer" in text
        assert "p0001" not in text  # no record ids
        assert "candidate-waived.csv" not in text  # no evidence paths
    data = json.loads(files["statement.json"])
    group_b = data["systems"][0]["checks"][0]["groups"][1]
    # only 8 people of group B have label 1: its base rate and both conditional rates are out
    assert [v["metric"] for v in group_b["values"]] == ["selection_rate"]


def test_signed_statement_verifies(tmp_path: Path, frozen_clock: Callable[[], datetime]) -> None:
    pair = generate_keypair(tmp_path / "keys")
    from ethicsgate.attest import load_private_key, load_public_key

    key = load_private_key(pair.private_path)
    pack, result = load_publish_inputs(PIPELINE / "candidate-pass.yaml", clock=frozen_clock)
    statement = build_statement(pack, result)
    files = statement_files(statement)
    envelope = sign_statement(statement, files, key)
    payload = verify_envelope(envelope, load_public_key(pair.public_path), source="env")
    parsed = parse_statement(payload, source="env", predicate_type=STATEMENT_PREDICATE_TYPE)
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    digests = {s.name: s.sha256 for s in parsed.subjects}
    assert digests == {name: sha256_file(tmp_path / name) for name in files}
    assert parsed.predicate["k"] == 10

    # verified, it is a statement; asked to re-hash inputs, it says it binds none
    import ethicsgate

    (tmp_path / "statement.intoto.json").write_bytes(envelope)
    plain = ethicsgate.verify(tmp_path, pair.public_path)
    assert plain.ok and plain.document == "statement" and plain.notes == []
    checked = ethicsgate.verify(tmp_path, pair.public_path, evidence=True)
    assert checked.ok and checked.document == "statement"
    assert [n[: n.index(" (")] for n in checked.notes] == [
        "a transparency statement binds no audit spec, policy or evidence files"
    ]


def test_statement_from_a_report(
    tmp_path: Path, frozen_clock: Callable[[], datetime], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ethicsgate.report import write_report

    monkeypatch.chdir(PIPELINE)
    result = run_audit(PIPELINE / "candidate-pass.yaml", clock=frozen_clock)
    write_report(result, tmp_path / "r")
    pack, loaded = load_publish_inputs(tmp_path / "r")
    assert loaded == result and pack.systems[0].id == "preapproval-model"


@pytest.mark.parametrize(
    ("checked", "violations", "shown"),
    [(1000, 0, 0), (1000, 3, None), (1000, 50, 50), (1000, 995, None), (8, 0, None)],
)
def test_record_level_counts_follow_the_cell_rule(
    checked: int, violations: int, shown: int | None, frozen_clock: Callable[[], datetime]
) -> None:
    from ethicsgate.rules.results import RuleResult, RuleStatus

    pack, result = load_publish_inputs(PIPELINE / "candidate-pass.yaml", clock=frozen_clock)
    rule = RuleResult(
        id="disclosure",
        kind="transparency",
        check="bot_disclosure",
        severity="block",
        status=RuleStatus.FAIL if violations else RuleStatus.PASS,
        message="m",
        dataset="chats",
        rows=checked,
        records_checked=checked,
        violations=violations,
        violation_rate=violations / checked,
    )
    statement = build_statement(pack, result.model_copy(update={"rules": [rule]}))
    check = statement.other_checks[0]
    assert check.violations == shown
    assert (check.violation_share is None) == (shown is None)
    assert check.people == (checked if checked >= 10 else None)
    # the summary says what was found, with the published numbers only (#22 item 10)
    if shown:
        assert check.summary == (
            f"{shown:,} of the {checked:,} cases we looked at ({shown / checked * 100:.2f} %) "
            "did not meet this requirement."
        )
    elif violations:
        assert check.summary == (
            "Some cases did not meet this requirement (too few to say how many without "
            "risking someone's privacy)."
        )
    elif checked >= 10:
        assert check.summary == f"No problems in the {checked:,} cases we looked at."
    else:
        assert check.summary == "No problems found."
    assert rule.id not in check.summary and "We checked" not in check.summary


@pytest.mark.parametrize(
    ("audit", "headline"),
    [
        ("candidate-pass", "found our one requirement met."),
        ("candidate-fail", "found our one requirement not met."),
        ("candidate-waived", "found our one requirement not met, with an approved exception."),
    ],
)
def test_the_headline_states_the_result_and_the_date_in_words(
    audit: str, headline: str, frozen_clock: Callable[[], datetime]
) -> None:
    pack, result = load_publish_inputs(PIPELINE / f"{audit}.yaml", clock=frozen_clock)
    statement = build_statement(pack, result)
    when = frozen_clock()
    on = f"{when.day} {when:%B %Y}"
    assert statement.headline == f"Our latest check, on {on}, {headline}"
    assert statement.audit["checked_on"] == on
    # the title is not the policy's claim; the result is stated first
    assert statement.title == "How we use automated systems" and pack.title not in statement.title
    files = statement_files(statement)
    for name in ("statement.html", "statement.md"):
        text = files[name].decode()
        assert statement.headline in text and f"Checked on {on}" in text.replace(
            f'<time datetime="{result.audit.finished_at}">', ""
        ).replace("</time>", "")
        assert text.index(statement.headline) < text.index("Our automated systems")
        assert "We checked:" not in text


def test_the_headline_of_several_checks_counts_each_outcome() -> None:
    from ethicsgate.publish.statement import CheckStatement, _headline

    def check(status: str) -> CheckStatement:
        return CheckStatement(
            rule="r",
            title="t",
            kind="transparency",
            status=status,
            status_words="w",
            icon="i",
            summary="s",
        )

    on = "4 December 2026"
    assert (
        _headline([check("met")] * 3, on)
        == f"Our latest check, on {on}, found all 3 requirements met."
    )
    assert _headline([check("not_met")] * 7 + [check("not_met_warning")], on) == (
        f"Our latest check, on {on}, found none of the 8 requirements met: 7 not met, 1 not met (warnings only)."
    )
    assert _headline([check("met"), check("not_evaluated"), check("skipped")], on) == (
        f"Our latest check, on {on}, found 1 of 3 met: 1 could not be checked, 1 had nothing to check."
    )


WINDOWED_POLICY = """
schema_version: 1
id: loans
version: "1"
title: Loans
owner: Tests
rules:
  - {id: parity, kind: fairness, dataset: predictions, sensitive_features: [group], metrics: [selection_rate], min_group_size: 1, assert: [{metric: selection_rate, aggregate: ratio, op: ">=", value: 0.8}]}
systems:
  - {id: m, name: Model, purpose: P, encounter: E, disclosure: D, human_contact: H, accountable: A, data: [{data: Income, basis: contract}], rules: [parity]}
"""


@pytest.mark.parametrize("january_a", [4, 12])
def test_a_windowed_worst_value_is_never_published(
    january_a: int,
    write: Callable[[str, str], Path],
    frozen_clock: Callable[[], datetime],
) -> None:
    # the rule fails in January, where group A has january_a people, none selected. Its
    # window's people beside A's whole count give the other windows' by subtraction (review:
    # 26 - 22 = 4 people of A in January), and windows are not in the disclosure check
    rows = ["A,0,2026-01-05\n"] * january_a + ["B,1,2026-01-06\n", "B,0,2026-01-07\n"] * 20
    rows += ["A,1,2026-02-05\n", "A,0,2026-02-05\n", "B,1,2026-02-06\n", "B,0,2026-02-07\n"] * 20
    write("policy.yaml", WINDOWED_POLICY)
    write("data.csv", "group,prediction,decided_at\n" + "".join(rows))
    spec = write(
        "audit.yaml",
        AUDIT + "    window: {column: decided_at, every: month}\n",
    )
    pack, result = load_publish_inputs(spec, clock=frozen_clock)
    assert result.rules[0].assertions[0].window == "2026-01"
    statement = build_statement(pack, result)
    check = statement.systems[0].checks[0]
    assert check.assertions[0].worst is None
    assert check.assertions[0].outcome  # the requirement and its outcome are still said


#: Words a customer without statistics does not know; the statement explains, never uses them.
JARGON = (
    "selection rate",
    "base rate",
    "true positive",
    "false positive",
    "recall",
    "impact ratio",
    "reference group",
    "(ratio)",
    "(difference)",
    "k-anonym",
    "suppress",
    "blocking",
    "value(s)",
    "group(s)",
    "records",
)


def test_the_statement_is_in_plain_words_with_the_same_figures(
    frozen_clock: Callable[[], datetime],
) -> None:
    # review: owners' statements read "Selection rate, compared with the reference group
    # (ratio): at least 0.8 for every group | 0.6" and "1 group(s) and 3 value(s) that rest
    # on fewer than 10 people"; a customer could not tell what 0.6 meant
    pack, result = load_publish_inputs(PIPELINE / "candidate-fail.yaml", clock=frozen_clock)
    statement = build_statement(pack, result)
    files = statement_files(statement)
    assertion = statement.systems[0].checks[0].assertions[0]
    assert assertion.worst is not None and assertion.worst.value == pytest.approx(0.6)
    assert assertion.worst_words == (
        "For every 100 people who got a yes in group = A, there were 60 in group = B, out of "
        "the same number of people."
    )
    assert assertion.requirement == (
        "For every group, the share of people who got a yes is at least 0.8 times that of "
        "the group it is compared with (at least 80 for every 100)"
    )
    md = files["statement.md"].decode()
    assert "| group = B | 200 | Got a yes: 30.0 % |" in md
    assert (
        "To protect privacy, we left out 1 group and 3 numbers: each is about fewer than 10 "
        "people, or would let someone work out such a small number from the other figures."
    ) in md
    assert "*a yes* is the decision the system makes in your favour" in md
    # a table follows a blank line (Markdown renderers other than GitHub's need one)
    assert "(see the table).\n\n| Requirement |" in md
    import re

    for name in ("statement.html", "statement.md"):
        text = files[name].decode()
        visible = re.sub(r"<[^>]+>", " ", text).lower()
        visible = visible.split("how we protect privacy in this statement")[0]
        for word in JARGON:
            assert word not in visible, (name, word)


def test_a_drift_rule_is_summarised_as_a_change_over_time(tmp_path: Path) -> None:
    # found by QA: a rule judged by drift alone that found the September drop was summarised
    # "At least one group falls short of the requirement (see the table)" with no requirement
    # table; skipped for want of an earlier point, it said "no record it applies to"
    from tests.unit.rules.windows_data import DRIFT_POLICY, write_audit, year_of_decisions

    systems = (
        "systems:\n  - {id: m, name: Credit, purpose: P, encounter: E, disclosure: D, "
        "human_contact: H, accountable: A, data: [{data: Income, basis: contract}], "
        "rules: [approval-parity]}\n"
    )
    frame = year_of_decisions(seed=1)
    spec = write_audit(tmp_path / "year", frame, policy=DRIFT_POLICY + systems)
    check = build_statement(*load_publish_inputs(spec)).systems[0].checks[0]
    assert check.status == "not_met" and not check.assertions
    assert check.summary == (
        "At least one group's chance of a yes, compared with the group it is compared with, "
        "fell from 2026-08 to 2026-09: by more than we allow, and by more than chance would "
        "explain."
    )
    august = frame[frame["decided_at"].dt.month == 8]
    one = write_audit(tmp_path / "aug", august, policy=DRIFT_POLICY + systems, window=None)
    skipped = build_statement(*load_publish_inputs(one)).systems[0].checks[0]
    assert skipped.status == "skipped"
    assert skipped.summary == (
        "This requirement is about how results change over time, and there was no earlier "
        "result to compare with yet."
    )


def test_an_ll144_requirement_reads_as_a_sentence() -> None:
    from ethicsgate.publish.statement import _requirement
    from ethicsgate.rules.results import AssertionResult

    a = AssertionResult(
        metric="impact_ratio",
        aggregate="value",
        op=">=",
        threshold=0.8,
        observed=0.4,
        group={"sex": "F"},
        status="fail",
        message="m",
    )
    assert _requirement(a) == (
        "For every group, people got a yes at least 0.8 times as often as in the group that "
        "got one most often (at least 80 for every 100)"
    )


def test_worst_words_count_whole_people_and_say_when_the_reference_is_worst() -> None:
    # a ratio of 0.634 read "there were 63.4 in group = B"; a worst group that is the
    # reference itself read "was 1 times that of group = A: 100 for every 100"
    from ethicsgate.publish.statement import _worst_words
    from ethicsgate.rules.results import AssertionResult

    def worst(metric: str, value: float, group: str, reference: str) -> AssertionResult:
        return AssertionResult(
            metric=metric,
            aggregate="ratio",
            op=">=",
            threshold=0.8,
            observed=value,
            group={"g": group},
            reference_group={"g": reference},
            status="fail",
            message="m",
        )

    shown = {"g = A", "g = B"}
    assert _worst_words(worst("selection_rate", 0.634, "B", "A"), 0.634, shown) == (
        "For every 100 people who got a yes in g = A, there were 63 in g = B, out of the "
        "same number of people."
    )
    assert _worst_words(worst("false_positive_rate", 1.0, "A", "A"), 1.0, shown) == (
        "No group did worse than g = A, the group the others are compared with."
    )
    # a group the statement does not show is not named
    assert "g = C" not in _worst_words(worst("selection_rate", 0.5, "C", "A"), 0.5, shown)


def test_met_checks_say_what_they_do_not_cover(frozen_clock: Callable[[], datetime]) -> None:
    # found by QA: a pack named after a law, all checks met, read "every must-meet requirement
    # was met" with no word of the duties the pack leaves to people (the notice's content,
    # whether a review is meaningful, ...): as if the law itself were met
    packs = Path(__file__).resolve().parents[2] / "scenarios" / "packs"
    # the shipped pack as it is (its systems still say "Replace with ...", which publish
    # refuses): the statement built from it
    loaded = load_audit_spec(packs / "colorado-sb26-189" / "pass" / "audit.yaml")
    pack, result = loaded.policy.pack, run_audit(loaded, clock=frozen_clock)
    assert result.status == "pass" and pack.scope is not None
    statement = build_statement(pack, result)
    left = [" ".join(item.split()) for item in pack.scope.left_to_people]
    assert statement.not_checked == left and len(left) == 5
    files = statement_files(statement)
    for name in ("statement.html", "statement.md"):
        text = files[name].decode().replace("&#39;", "'")
        overall = text.index("every must-meet requirement was met")
        caveat = text.index("These checks cover only what our records can show.")
        assert overall < caveat < text.index(left[0]) < text.index(left[-1])
    assert json.loads(files["statement.json"])["not_checked"] == left
    # a policy without a scope has nothing to list, and says nothing
    pack, result = load_publish_inputs(PIPELINE / "candidate-pass.yaml", clock=frozen_clock)
    assert pack.scope is None
    bare = statement_files(build_statement(pack, result))["statement.md"].decode()
    assert "These checks cover only" not in bare
