"""The history store on SQLite and PostgreSQL: record shipped audits, list, show, trend, migrate."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from tests.conftest import ROOT

from ethicsgate.attest import generate_keypair, load_signing_key
from ethicsgate.audit.result import AuditResult
from ethicsgate.cli import cli
from ethicsgate.errors import HistoryError
from ethicsgate.history import (
    CHUNK,
    RunDetail,
    TrendResult,
    group_key,
    metric_rows,
    parse_group_filter,
    parse_run_id,
)
from ethicsgate.review import open_store
from ethicsgate.session import open_history, render_report_files, run_and_report

LL144 = ROOT / "audits" / "nyc-ll144-example.yaml"
COMPAS = ROOT / "audits" / "compas-example.yaml"
BAKERY = ROOT / "audits" / "bakery.yaml"


def _clock(day: int) -> Callable[[], datetime]:
    moment = datetime(2026, 1, day, 3, 4, 5, tzinfo=UTC)
    return lambda: moment


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[AuditResult, dict[str, bytes]]]:
    """Run LL144 twice (January 1st and 2nd), then COMPAS and the bakery: four results."""
    from ethicsgate.audit import run_audit

    runs = []
    for spec, day in ((LL144, 1), (LL144, 2), (COMPAS, 3), (BAKERY, 4)):
        result = run_audit(spec, clock=_clock(day))
        runs.append((result, render_report_files(result)))
    return runs


def _record_all(db_url: str, shipped: list[tuple[AuditResult, dict[str, bytes]]]) -> list[int]:
    with open_history(db_url) as store:
        return [
            store.record(result, files, report_path=f"r{i}/report.json").id
            for i, (result, files) in enumerate(shipped)
        ]


def _report_values(files: dict[str, bytes]) -> dict[tuple[str, str, str], Any]:
    """Return every group metric of report.json, by (rule, group key, metric): the oracle."""
    report = json.loads(files["report.json"])
    values = {}
    for rule in report["rules"]:
        for g in rule["groups"]:
            for metric, value in g["metrics"].items():
                if metric == "count":
                    continue
                test = g["tests"].get(metric)
                interval = g["intervals"].get(metric) or {}
                values[(rule["id"], group_key(g["group"]), metric)] = (
                    value,
                    interval.get("low"),
                    interval.get("high"),
                    g["ratios"].get(metric),
                    test["p_value"] if test else None,
                    g["count"],
                )
            if g["score"] is not None and "roc_auc" not in g["metrics"]:
                auc = g["score"]["roc_auc_interval"] or {}
                values[(rule["id"], group_key(g["group"]), "roc_auc")] = (
                    g["score"]["roc_auc"],
                    auc.get("low"),
                    auc.get("high"),
                    None,
                    None,
                    g["count"],
                )
        for table in (rule["impact_ratio"] or {}).get("tables", []):
            for row in table["rows"]:
                ir = row["impact_ratio_interval"] or {}
                values[(rule["id"], group_key(row["category"]), "impact_ratio")] = (
                    row["impact_ratio"],
                    ir.get("low"),
                    ir.get("high"),
                    row["impact_ratio"],
                    row["test"]["p_value"] if row["test"] else None,
                    row["applicants"],
                )
    return values


def test_records_list_and_show_the_shipped_audits(
    db_url: str, shipped: list[tuple[AuditResult, dict[str, bytes]]]
) -> None:
    ids = _record_all(db_url, shipped)
    assert ids == sorted(ids) and len(set(ids)) == 4
    with open_history(db_url) as store:
        runs = store.list_runs()
        assert [r.id for r in runs] == ids[::-1]  # newest first
        assert [r.id for r in store.list_runs(audit_id="nyc-ll144-example")] == ids[1::-1]
        for run_id, (result, files) in zip(ids, shipped, strict=True):
            detail = store.get_run(run_id)
            run = detail.run
            assert run.report_sha256 == hashlib.sha256(files["report.json"]).hexdigest()
            assert run.envelope_sha256 is None and run.signer is None
            assert (run.audit_id, run.policy_id, run.policy_version, run.policy_sha256) == (
                result.audit.id,
                result.audit.policy.id,
                result.audit.policy.version,
                result.audit.policy.sha256,
            )
            assert run.status == result.status and run.engine == result.audit.engine
            assert run.finished_at == result.audit.finished_at
            assert [(r.rule_id, r.status, r.severity) for r in detail.rules] == sorted(
                (r.id, r.status.value, r.severity) for r in result.rules
            )
            # every group metric equals report.json's (the oracle), exactly
            stored = {
                (m.rule_id, group_key(m.group), m.metric): (
                    m.value,
                    m.low,
                    m.high,
                    m.ratio,
                    m.p_value,
                    m.n,
                )
                for m in detail.metrics
            }
            assert stored == _report_values(files)
            assert len(detail.metrics) == sum(1 for _ in metric_rows(result))
    bakery = shipped[3][0]
    assert any(r.groups == [] for r in bakery.rules)  # record-level rules: rules, no metrics


def test_recording_the_same_report_again_is_idempotent(
    db_url: str, shipped: list[tuple[AuditResult, dict[str, bytes]]]
) -> None:
    result, files = shipped[0]
    with open_history(db_url) as store:
        first = store.record(result, files)
        again = store.record(result, files)
        assert again == first
        assert len(store.list_runs()) == 1


def test_trend_follows_a_rule_and_group_across_runs(
    db_url: str, shipped: list[tuple[AuditResult, dict[str, bytes]]]
) -> None:
    ids = _record_all(db_url, shipped)
    with open_history(db_url) as store:
        trend = store.trend(
            "ll144-selection", metric="selection_rate", groups=parse_group_filter(["sex=Female"])
        )
        # by default the metric the rule asserts on: LL144's impact ratio, per category
        ratios = store.trend("ll144-selection", groups=[{"sex": "Female"}])
    assert trend.metric == "selection_rate"
    assert ratios.metric == "impact_ratio"
    rule0 = next(r for r in shipped[0][0].rules if r.id == "ll144-selection")
    assert rule0.impact_ratio is not None
    female = next(
        r for t in rule0.impact_ratio.tables for r in t.rows if r.category == {"sex": "Female"}
    )
    first = next(p for p in ratios.points if p.run_id == ids[0] and p.group == {"sex": "Female"})
    assert (first.value, first.n) == (female.impact_ratio, female.applicants)
    assert {p.run_id for p in trend.points} == set(ids[:2])
    assert [p.finished_at for p in trend.points] == sorted(p.finished_at for p in trend.points)
    assert all(p.group["sex"] == "Female" for p in trend.points)
    groups = {
        g.group["race_ethnicity"]
        for r in shipped[0][0].rules
        if r.id == "ll144-selection"
        for g in r.groups
        if g.group["sex"] == "Female"
    }
    assert len(trend.points) == 2 * len(groups)
    rule = next(r for r in shipped[0][0].rules if r.id == "ll144-selection")
    white = next(g for g in rule.groups if g.group == {"race_ethnicity": "White", "sex": "Female"})
    point = next(p for p in trend.points if p.run_id == ids[0] and p.group == white.group)
    assert point.value == white.metrics["selection_rate"]
    assert point.ratio == white.ratios["selection_rate"]
    assert point.p_value == white.tests["selection_rate"].p_value
    assert (point.n, point.status) == (white.count, rule.status.value)


def test_trend_errors_name_the_fix(
    db_url: str, shipped: list[tuple[AuditResult, dict[str, bytes]]]
) -> None:
    _record_all(db_url, shipped[:1])
    with open_history(db_url) as store:
        with pytest.raises(HistoryError, match="no recorded run has rule 'nope'") as exc:
            store.trend("nope")
        assert "ll144-selection" in (exc.value.hint or "")
        with pytest.raises(HistoryError, match="no recorded metric 'selection_rte'") as exc:
            store.trend("ll144-selection", metric="selection_rte")
        assert "selection_rate" in (exc.value.hint or "")
        with pytest.raises(HistoryError, match="no group of rule 'll144-selection' matches"):
            store.trend("ll144-selection", groups=[{"sex": "Martian"}])
        # a misspelt value: the groups recorded are listed, the closest named
        with pytest.raises(HistoryError, match=r"sex=Femal \(did you mean 'sex=Female'\?\)") as exc:
            store.trend("ll144-selection", groups=[{"sex": "Femal"}])
        hint = exc.value.hint or ""
        assert hint.startswith("recorded groups include ") and "sex=Female, sex=Male" in hint
        with pytest.raises(HistoryError, match="no recorded run 99"):
            store.get_run(99)


def test_parse_run_id_and_group_filters() -> None:
    assert parse_run_id("7") == 7
    for bad in ("x", "0", "-1", "1.5"):
        with pytest.raises(HistoryError, match="bad run id"):
            parse_run_id(bad)
    assert parse_group_filter(["sex=Female,race=Black", "sex=Male"]) == [
        {"sex": "Female", "race": "Black"},
        {"sex": "Male"},
    ]
    with pytest.raises(HistoryError, match="write feature=value"):
        parse_group_filter(["sex"])


def test_a_signed_run_records_the_envelope_digest_and_signer(
    db_url: str, make_audit: Callable[..., Path], tmp_path: Path
) -> None:
    from tests.cli.test_audit_cli import FAILING

    spec = make_audit(FAILING)
    pair = generate_keypair(tmp_path / "keys")
    run = run_and_report(
        spec,
        out=tmp_path / "out",
        key=load_signing_key(pair.private_path),
        record=open_history(db_url),
        clock=_clock(5),
    )
    assert run.recorded is not None
    envelope = (tmp_path / "out" / "report.intoto.json").read_bytes()
    assert run.recorded.envelope_sha256 == hashlib.sha256(envelope).hexdigest()
    assert run.recorded.report_sha256 == hashlib.sha256(run.files["report.json"]).hexdigest()
    assert run.recorded.signer == pair.fingerprint
    assert run.recorded.report_path == str(tmp_path / "out" / "report.json")
    assert run.recorded.recorded_at == "2026-01-05T03:04:05.000000Z"


def test_many_groups_are_inserted_in_chunks(
    db_url: str, shipped: list[tuple[AuditResult, dict[str, bytes]]]
) -> None:
    result, files = shipped[2]
    rule = next(r for r in result.rules if r.groups)
    template = rule.groups[0]
    n = CHUNK * 2 + 7
    groups = [dataclasses.replace(template, group={"id": str(i)}) for i in range(n)]
    big = result.model_copy(update={"rules": [rule.model_copy(update={"groups": groups})]})
    per_group = sum(1 for _ in metric_rows(big)) // n
    with open_history(db_url) as store:
        run = store.record(big, {"report.json": b"synthetic"})
        detail = store.get_run(run.id)
    assert len(detail.metrics) == n * per_group
    assert {m.group["id"] for m in detail.metrics} == {str(i) for i in range(n)}


def _tables(db_url: str) -> set[str]:
    engine = sa.create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migration_0003_down_to_0001_and_up_again(
    db_url: str, shipped: list[tuple[AuditResult, dict[str, bytes]]]
) -> None:
    from alembic import command
    from alembic.config import Config

    from ethicsgate.history.store import _meta
    from ethicsgate.review.store import _MIGRATIONS

    _record_all(db_url, shipped[:1])
    history = set(_meta.tables)
    assert history <= _tables(db_url)
    # the migration builds what the store reads
    engine = sa.create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        inspector = sa.inspect(engine)
        for name, table in _meta.tables.items():
            assert {c["name"] for c in inspector.get_columns(name)} == {
                c.name for c in table.columns
            }
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0001")
    finally:
        engine.dispose()
    left = _tables(db_url)
    assert not history & left and "review_items" in left  # only the history tables went
    with open_store(db_url) as store:  # opening migrates up again
        assert store.list_items() == []
    with open_history(db_url) as store:
        assert store.list_runs() == []


# -- the CLI ---------------------------------------------------------------------------------


def test_audit_record_then_history_commands(
    db_url: str, make_audit: Callable[..., Path], tmp_path: Path
) -> None:
    from tests.cli.test_audit_cli import FAILING, PASSING

    runner = CliRunner()
    for data in (PASSING, FAILING):
        spec = make_audit(data)
        done = runner.invoke(
            cli, ["audit", str(spec), "--out", str(tmp_path / "o"), "--record", "--db", db_url]
        )
        assert done.exit_code in (0, 1), done.output
        assert "recorded: run" in done.stderr
    listed = runner.invoke(cli, ["history", "list", "--db", db_url, "--format", "json"])
    assert listed.exit_code == 0, listed.output
    runs = json.loads(listed.stdout)["runs"]
    assert [r["status"] for r in runs] == ["fail", "pass"]
    text = runner.invoke(cli, ["history", "list", "--db", db_url])
    assert text.exit_code == 0 and "test-audit" in text.stdout and "recorded runs" in text.stdout

    shown = runner.invoke(
        cli, ["history", "show", str(runs[0]["id"]), "--db", db_url, "--format", "json"]
    )
    assert shown.exit_code == 0, shown.output
    detail = RunDetail.model_validate_json(shown.stdout)
    assert set(json.loads(shown.stdout)) == {"run", "rules", "metrics"}
    assert detail.rules[0].rule_id == "parity" and detail.rules[0].status == "fail"
    text = runner.invoke(cli, ["history", "show", str(runs[0]["id"]), "--db", db_url])
    assert text.exit_code == 0 and "selection_rate" in text.stdout

    trend = runner.invoke(
        cli,
        ["history", "trend", "parity", "--db", db_url, "--format", "json", "--group", "group=a"],
    )
    assert trend.exit_code == 0, trend.output
    result = TrendResult.model_validate_json(trend.stdout)
    assert set(json.loads(trend.stdout)) == {"rule_id", "metric", "points"}
    assert result.metric == "selection_rate"
    assert [p.run_id for p in result.points] == [runs[1]["id"], runs[0]["id"]]
    assert set(json.loads(trend.stdout)["points"][0]) == {
        "run_id",
        "finished_at",
        "status",
        "group",
        "value",
        "low",
        "high",
        "ratio",
        "ratio_low",
        "ratio_high",
        "p_value",
        "n",
    }
    text = runner.invoke(
        cli, ["history", "trend", "parity", "--db", db_url, "--metric", "false_positive_rate"]
    )
    assert text.exit_code == 0 and "false_positive_rate by run" in text.stdout


@pytest.mark.parametrize(
    ("args", "message", "hint"),
    [
        (["show", "x"], "bad run id 'x'", "history list"),
        (["show", "42"], "no recorded run 42", "history list"),
        (["show", "99999999999999999999"], "no recorded run 99999999999999999999", "list"),
        (["trend", "nope"], "no recorded run has rule 'nope'", "recorded runs"),
        (["trend", "parity", "--group", "group"], "bad --group 'group'", "feature=value"),
    ],
)
def test_history_errors_exit_2_with_the_fix(
    tmp_path: Path, args: list[str], message: str, hint: str
) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    open_store(db).close()  # an empty store: `history` only reads, it creates none
    done = CliRunner().invoke(cli, ["history", *args, "--db", db])
    assert done.exit_code == 2, done.output
    assert message in done.stderr and hint in done.stderr
    assert "Traceback" not in done.stderr


def test_a_trend_never_mixes_the_runs_of_different_audits(
    db_url: str, shipped: list[tuple[AuditResult, dict[str, bytes]]]
) -> None:
    # found by QA: `history trend approval-parity` listed the runs of three audits over
    # different evidence (candidate-pass, candidate-fail, released) as one series, with no
    # word of which audit each point came from
    result, _ = shipped[0]
    other = result.model_copy(
        update={"audit": result.audit.model_copy(update={"id": "ll144-other-vendor"})}
    )
    with open_history(db_url) as store:
        store.record(result, render_report_files(result))
        store.record(other, render_report_files(other))
    runner = CliRunner()
    mixed = runner.invoke(cli, ["history", "trend", "ll144-selection", "--db", db_url])
    assert mixed.exit_code == 2, mixed.output
    assert "recorded by runs of 2 audits (ll144-other-vendor, nyc-ll144-example)" in mixed.output
    assert "--audit ID" in mixed.output and "Traceback" not in mixed.output
    one = runner.invoke(
        cli,
        ["history", "trend", "ll144-selection", "--db", db_url, "--audit", "nyc-ll144-example"],
    )
    assert one.exit_code == 0, one.output
    with open_history(db_url) as store:
        trend = store.trend("ll144-selection", audit_id="ll144-other-vendor")
        runs = {r.id: r.audit_id for r in store.list_runs()}
    assert trend.points and {runs[p.run_id] for p in trend.points} == {"ll144-other-vendor"}


DIFFERENCE_POLICY = """\
schema_version: 1
id: gaps
version: "1"
title: Gaps
owner: QA
rules:
  - id: gap
    kind: fairness
    dataset: predictions
    sensitive_features: [group]
    metrics: [selection_rate]
    min_group_size: 1
    assert:
      - {metric: selection_rate, aggregate: difference, op: "<=", value: 0.1}
"""


def test_the_trend_page_draws_no_threshold_of_another_aggregate(tmp_path: Path) -> None:
    # found by QA: a rule asserting a difference of at most 0.1 had its ratios charted with
    # a dashed "threshold 0.1" line, as if a ratio of 0.1 were the limit
    db = f"sqlite:///{tmp_path / 'h.db'}"
    (tmp_path / "policy.yaml").write_text(DIFFERENCE_POLICY)
    (tmp_path / "audit.yaml").write_text(
        "schema_version: 1\nid: gaps\npolicy: policy.yaml\n"
        "evidence:\n  predictions: {path: data.csv}\n"
    )
    for run, b_selected in enumerate((18, 12)):
        rows = ["a,1"] * 20 + ["a,0"] * 20 + ["b,1"] * b_selected + ["b,0"] * (40 - b_selected)
        (tmp_path / "data.csv").write_text("group,prediction\n" + "\n".join(rows) + "\n")
        run_and_report(tmp_path / "audit.yaml", out=tmp_path / f"r{run}", record=open_history(db))
    page = tmp_path / "trend.html"
    result = CliRunner().invoke(cli, ["history", "trend", "gap", "--db", db, "--html", str(page)])
    assert result.exit_code == 0, result.output
    html = page.read_text()
    assert "selection_rate ratio" in html  # ratios are drawn
    assert "threshold 0.1" not in html and 'class="threshold"' not in html
    assert "no threshold recorded" in html


def test_a_mistyped_audit_is_an_error_naming_the_recorded_audits(
    db_url: str, shipped: list[tuple[AuditResult, dict[str, bytes]]]
) -> None:
    # found by QA: `history list --audit candidate-fial` said "no recorded runs (record one:
    # ethicsgate audit SPEC --record)" and exited 0; `history trend RULE --audit nosuch` said
    # "no recorded run has rule 'approval-parity'" with the hint "recorded rules:
    # approval-parity"
    _record_all(db_url, shipped)
    runner = CliRunner()
    listed = runner.invoke(cli, ["history", "list", "--db", db_url, "--audit", "bakeri"])
    assert listed.exit_code == 2, listed.output
    assert "no recorded run of audit 'bakeri'" in listed.output
    assert "(did you mean 'bakery'?)" in listed.output
    assert "recorded audits: bakery, compas-example, nyc-ll144-example" in listed.output
    as_json = runner.invoke(
        cli, ["history", "list", "--db", db_url, "--audit", "bakeri", "--format", "json"]
    )
    assert as_json.exit_code == 2 and "Traceback" not in as_json.output
    trend = runner.invoke(
        cli, ["history", "trend", "ll144-selection", "--db", db_url, "--audit", "nosuch"]
    )
    assert trend.exit_code == 2 and "no recorded run of audit 'nosuch'" in trend.output
    other = runner.invoke(
        cli, ["history", "trend", "ll144-selection", "--db", db_url, "--audit", "bakery"]
    )
    assert other.exit_code == 2, other.output
    assert "no recorded run of audit 'bakery' has rule 'll144-selection'" in other.output
    assert "recorded rules of audit 'bakery': " in other.output
    # an empty store, or an audit with runs, is no error
    assert (
        runner.invoke(cli, ["history", "list", "--db", db_url, "--audit", "bakery"]).exit_code == 0
    )
