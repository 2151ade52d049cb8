"""The Spark engine against the DuckDB engine, its oracle: same audits, same results.

One local[2] Spark session serves the whole test session (a JVM takes seconds to start). Each
shipped audit (COMPAS, the LL144 examples, the bakery logs) runs through
``ethicsgate.audit.run_audit`` on DuckDB and on Spark; rule statuses, metrics (to 1e-12), LL144
tables, violation counts and finding ids must be the same. Without Java the tests skip, except
under ``CI=true``, where they fail: CI installs Java (.ci/run).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.cli.test_logs_cli import follow_actor_hint
from tests.jsonclose import TIMINGS, differences

from ethicsgate.audit import run_audit
from ethicsgate.audit.result import AuditResult
from ethicsgate.audit.spec import load_audit_spec
from ethicsgate.errors import EthicsgateError, EvidenceError, SettingsError
from ethicsgate.evidence.median import middle_ranks, plan_median
from ethicsgate.evidence.roles import Role
from ethicsgate.evidence.spec import EvidenceSpec
from ethicsgate.rules.records import collecting_findings
from ethicsgate.rules.results import Finding

ROOT = Path(__file__).resolve().parents[2]
AUDITS = ROOT / "audits"
#: Spark's distinct-count estimate (HyperLogLog++) is not DuckDB's: it only decides exact or
#: binned ROC AUC, and both engines agree on that for these data; the estimate itself differs.
#: Fields two engines may differ in: HyperLogLog estimates, times.
UNCOMPARED = frozenset({"distinct_estimate"}) | TIMINGS


def _same_rules(duck: AuditResult, spark: AuditResult) -> None:
    assert spark.status == duck.status
    assert [r.id for r in spark.rules] == [r.id for r in duck.rules]
    for d, s in zip(duck.rules, spark.rules, strict=True):
        assert s.status == d.status, d.id
        found = differences(
            d.model_dump(mode="json"), s.model_dump(mode="json"), skip=UNCOMPARED, path=d.id
        )
        assert not found, "\n".join(found[:20])
    assert [(e.name, e.rows_read, e.rows, e.sha256) for e in spark.audit.evidence] == [
        (e.name, e.rows_read, e.rows, e.sha256) for e in duck.audit.evidence
    ]


class _Sink:
    def __init__(self) -> None:
        self.found: dict[str, list[Finding]] = {}

    def add(self, rule_id: str, findings: Sequence[Finding]) -> None:
        self.found.setdefault(rule_id, []).extend(findings)

    def add_rows(self, rule_id: str, rows: Sequence[tuple[str, str, str, Any]]) -> None:
        self.add(
            rule_id, [Finding(record_id=i, reason=r, message=m, fields=f) for i, r, m, f in rows]
        )


def _both(spec: Path, engine: Any) -> tuple[AuditResult, AuditResult, _Sink, _Sink]:
    duck_sink, spark_sink = _Sink(), _Sink()
    with collecting_findings(duck_sink):
        duck = run_audit(spec)
    with collecting_findings(spark_sink):
        spark = run_audit(spec, engine=engine)
    return duck, spark, duck_sink, spark_sink


# -- the shipped audits ----------------------------------------------------------------------


def test_compas_selection_audit_is_the_same_on_spark(engine: Any) -> None:
    duck, spark, _, _ = _both(AUDITS / "compas-example.yaml", engine)
    _same_rules(duck, spark)
    assert {r.id: r.status.value for r in spark.rules} == {
        "fpr-parity": "fail",
        "selection-rate-by-race-and-sex": "warn",
    }
    assert spark.audit.engine["spark_master"] == "local[2]"


def test_ll144_example_tables_are_the_same_on_spark(engine: Any) -> None:
    duck, spark, _, _ = _both(AUDITS / "nyc-ll144-example.yaml", engine)
    _same_rules(duck, spark)
    kinds = [r.impact_ratio.kind for r in spark.rules if r.impact_ratio is not None]
    assert sorted(kinds) == ["scoring", "selection"], "both LL144 tables are compared"
    scoring = next(r for r in spark.rules if r.impact_ratio and r.impact_ratio.kind == "scoring")
    assert scoring.impact_ratio is not None and scoring.impact_ratio.median_score == 61.0


def test_bakery_logs_give_the_same_findings_on_spark(engine: Any) -> None:
    duck, spark, duck_sink, spark_sink = _both(AUDITS / "bakery.yaml", engine)
    _same_rules(duck, spark)
    assert {r.id: r.violations_by_reason for r in spark.rules} == {
        r.id: r.violations_by_reason for r in duck.rules
    }
    ids = {k: [(f.record_id, f.reason, f.fields) for f in v] for k, v in duck_sink.found.items()}
    assert {
        k: [(f.record_id, f.reason, f.fields) for f in v] for k, v in spark_sink.found.items()
    } == ids
    assert sum(len(v) for v in ids.values()) == sum(r.violations for r in duck.rules)


def test_companion_chatbot_log_gives_the_same_findings_on_spark(engine: Any) -> None:
    """California SB 243 over the companion log: window functions, sessions and as-of joins."""
    duck, spark, duck_sink, spark_sink = _both(AUDITS / "ca-sb243-companion-chatbots.yaml", engine)
    _same_rules(duck, spark)
    found = {k: [(f.record_id, f.reason, f.fields) for f in v] for k, v in duck_sink.found.items()}
    assert {
        k: [(f.record_id, f.reason, f.fields) for f in v] for k, v in spark_sink.found.items()
    } == found
    assert sum(len(v) for v in found.values()) == 6


def test_portable_asof_join_gives_the_native_results(spark: Any) -> None:
    from ethicsgate.engines.spark import SparkEngine

    portable = SparkEngine(
        "local[2]", session=spark, conf={"spark.sql.join.asofJoin.enabled": "false"}
    )
    try:
        assert not portable.dialect.native_asof
        duck = run_audit(AUDITS / "bakery.yaml")
        result = run_audit(AUDITS / "bakery.yaml", engine=portable)
    finally:
        portable.close()
        spark.conf.set("spark.sql.join.asofJoin.enabled", "true")
    _same_rules(duck, result)


# -- record rows: findings streamed in batches ------------------------------------------------


def test_violation_batches_stream_every_violation_by_id(engine: Any) -> None:
    from ethicsgate.engines.duckdb import DuckDBEngine
    from ethicsgate.rules.consent import consent_roles, consent_sql

    audit = load_audit_spec(AUDITS / "bakery.yaml")
    rule = next(r for r in audit.policy.pack.rules if r.id == "marketing-needs-consent")
    batches: dict[str, list[list[tuple[Any, ...]]]] = {}
    with DuckDBEngine() as duck_engine:
        for name, reader in (("duckdb", duck_engine), ("spark", engine)):
            tables = {}
            for dataset, roles in consent_roles(rule).items():
                opened = reader.open(
                    dataset,
                    audit.spec.evidence[dataset],
                    base_dir=audit.base_dir,
                    locate=lambda loc: None,
                )
                tables[dataset] = opened.read_rows(roles)
            events, ledger = tables[rule.dataset], tables[rule.ledger]
            sql, fields = consent_sql(rule, events, ledger)
            batches[name] = [
                [(r["_id"], r["_reason"], *(r[f] for f in fields)) for r in batch]
                for batch in events.violation_batches(sql, fields, batch_rows=4)
            ]
            counted = events.verdicts(sql, fields, limit=3, id_role=Role("event_id", "key"))
            assert [r["_id"] for r in counted.listed] == [b[0] for b in batches[name][0][:3]]
    assert batches["spark"] == batches["duckdb"]
    assert [len(b) for b in batches["spark"]] == [4, 4, 4, 1]


# -- oracles ----------------------------------------------------------------------------------


def _open(engine: Any, path: Path, **columns: str) -> Any:
    spec = EvidenceSpec(path=str(path), columns=columns)
    return engine.open("evidence", spec, base_dir=ROOT, locate=lambda loc: None)


def test_grouped_counts_equal_a_pandas_group_by(engine: Any) -> None:
    import pandas as pd

    csv = ROOT / "examples" / "data" / "compas_for_aequitas.csv"
    found = _open(engine, csv, label="label_value", prediction="score").grouped_counts(
        roles=["race", "sex", "label", "prediction"], binary_roles=["label", "prediction"]
    )
    frame = pd.read_csv(csv)
    expected = frame.groupby(["race", "sex", "label_value", "score"]).size()
    got = found.frame.set_index(["race", "sex", "label", "prediction"])["n"]
    assert found.rows == found.rows_read == len(frame)
    assert {(a, b, int(c), int(d)): int(n) for (a, b, c, d), n in expected.items()} == {
        k: int(n) for k, n in got.items()
    }


def test_exact_median_by_bisection_equals_numpy(
    engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ethicsgate.engines.spark import dataset as spark_dataset

    rng = np.random.default_rng(7)
    scores = np.concatenate([rng.normal(0.4, 0.2, 40_001), np.full(999, 0.5), [1e-300, 7e12]])
    path = tmp_path / "scores.parquet"
    pq.write_table(pa.table({"score": scores}), path)
    dataset = _open(engine, path)
    profile = dataset.score_profile(distinct=False, median=True)
    assert (profile.rows, profile.min, profile.max) == (scores.size, scores.min(), scores.max())
    plan = plan_median(profile)
    expected = float(np.median(scores))
    if plan.median is not None:
        assert plan.median == expected
    # the narrowing search, histogram passes down to the exact count (forced small)
    monkeypatch.setattr(spark_dataset, "_EXACT_ROWS", 1_000)
    ranks = middle_ranks(scores.size)
    found = dataset.score_order_statistics(
        ranks, low=profile.min, high=profile.max, rows=profile.rows
    )
    assert sum(found[r] for r in ranks) / len(ranks) == expected
    ordered = np.sort(scores)
    assert all(found[r] == ordered[r] for r in ranks)


def test_builtin_contracts_count_what_duckdb_counts(engine: Any, tmp_path: Path) -> None:
    text = (AUDITS / "bakery.yaml").read_text(encoding="utf-8").replace("../", str(ROOT) + "/")
    spec = tmp_path / "bakery.yaml"
    spec.write_text(text + "contracts: report\n", encoding="utf-8")
    broken = tmp_path / "chat.jsonl"
    lines = (ROOT / "examples" / "bakery" / "chat_events.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    rows[3]["sender"] = "robot"
    broken.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    spec.write_text(
        spec.read_text().replace(
            str(ROOT / "examples" / "bakery" / "chat_events.jsonl"), str(broken)
        )
    )
    duck = run_audit(spec)
    spark = run_audit(spec, engine=engine)
    assert [r.status for r in spark.rules] == [r.status for r in duck.rules]

    def counted(result: AuditResult) -> list[tuple[Any, ...]]:
        return [
            (c.rule_id, c.success, c.rows, e.expect, e.column, e.success, e.unexpected, e.examples)
            for c in result.contracts
            for e in c.expectations
        ]

    assert counted(spark) == counted(duck)
    assert any(not e[5] for e in counted(spark)), "the planted bad actor fails a check"


def test_an_unknown_actor_hint_works_as_written_on_spark(engine: Any, tmp_path: Path) -> None:
    text = (AUDITS / "bakery.yaml").read_text(encoding="utf-8").replace("../", str(ROOT) + "/")
    case = "\"CASE sender WHEN 'agent' THEN 'human' ELSE sender END\""
    assert case in text
    spec = tmp_path / "bakery.yaml"
    spec.write_text(text.replace(case, "sender"), encoding="utf-8")
    with pytest.raises(EvidenceError) as err:
        run_audit(spec, engine=engine)
    shown = err.value.diagnostics()
    assert "found 'agent'" in shown and case in shown
    follow_actor_hint(spec, shown)
    assert run_audit(spec, engine=engine).status == run_audit(AUDITS / "bakery.yaml").status


# -- bad input ----------------------------------------------------------------------------------


def test_a_missing_column_names_the_engine_the_file_and_the_fix(engine: Any) -> None:
    csv = ROOT / "examples" / "data" / "compas_for_aequitas.csv"
    with pytest.raises(EvidenceError) as err:
        _open(engine, csv, label="reoffended").grouped_counts(
            roles=["label"], binary_roles=["label"]
        )
    text = str(err.value)
    assert "engine spark" in text and "reoffended" in text and "label_value" in err.value.hint
    # found by QA: a misspelt column was not matched to the one meant
    with pytest.raises(EvidenceError) as err:
        _open(engine, csv, label="label_valeu").grouped_counts(
            roles=["label"], binary_roles=["label"]
        )
    assert "(did you mean 'label_value'?)" in err.value.message


def test_a_missing_table_names_the_engine_the_table_and_the_fix(engine: Any) -> None:
    from ethicsgate.engines.spark import SparkDataset

    dataset = SparkDataset(
        name="predictions",
        spec=EvidenceSpec(path="-"),
        files=[],
        format="parquet",
        locate=lambda loc: None,
        engine=engine,
        table_name="audit_db.missing_predictions",
    )
    with pytest.raises(EvidenceError) as err:
        dataset.columns()
    assert "engine spark" in str(err.value) and "audit_db.missing_predictions" in str(err.value)
    assert "GRANT SELECT" in (err.value.hint or "")


def test_a_value_that_is_not_a_timestamp_is_named(engine: Any, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("event_id,ts\n1,2025-03-01T10:00:00Z\n2,next tuesday\n", encoding="utf-8")
    with pytest.raises(EvidenceError) as err:
        _open(engine, path).read_rows([Role("event_id", "key"), Role("ts", "timestamp")])
    assert "'next tuesday'" in str(err.value) and str(path) in str(err.value)
    assert "ISO 8601" in (err.value.hint or "")


#: Set by PySpark in this process once a Spark Connect session opened here (the Connect tests
#: run first), and read by a child's PySpark: a child starts without them unless a test sets one.
_CONNECT_ENVIRONMENT = ("SPARK_REMOTE", "SPARK_API_MODE", "SPARK_CONNECT_MODE_ENABLED")


def _child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _CONNECT_ENVIRONMENT}
    env.pop("SPARK_LOCAL_REMOTE", None)
    return {**env, **(extra or {})}


def _engine_error(target: str, env: dict[str, str] | None = None) -> str:
    """Open an engine in a fresh process (no Spark session running) and return its error."""
    code = (
        "from ethicsgate.engines.spark import open_spark_engine\n"
        "from ethicsgate.errors import EthicsgateError\n"
        "try:\n"
        f"    open_spark_engine({target!r}).connect()\n"
        "except EthicsgateError as exc:\n"
        "    print(type(exc).__name__, exc, '|', exc.hint)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env=_child_env(env),
        check=False,
    )
    return done.stdout + done.stderr


def test_missing_java_is_named_with_the_fix(tmp_path: Path) -> None:
    out = _engine_error("local[1]", {"PATH": str(tmp_path), "JAVA_HOME": str(tmp_path)})
    assert "EvidenceError engine spark" in out and "Java" in out
    assert "default-jre-headless" in out


def test_an_unreachable_master_fails_fast_with_the_fix() -> None:
    out = _engine_error("spark://127.0.0.1:9")
    assert "EvidenceError engine spark: cannot reach the Spark master at spark://127.0.0.1:9" in out
    out = _engine_error("sc://127.0.0.1:9/;token=s3cr3t-token")
    assert "cannot reach the Spark Connect server" in out and "s3cr3t" not in out


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SPARK_REMOTE": "sc://db.example:443/;token=s3cr3t-token"}, "SPARK_REMOTE"),
        ({"SPARK_CONNECT_MODE_ENABLED": "1"}, "SPARK_CONNECT_MODE_ENABLED"),
        ({"SPARK_API_MODE": "connect"}, "SPARK_API_MODE"),
    ],
)
def test_an_inherited_spark_connect_environment_is_named(env: dict[str, str], named: str) -> None:
    """PySpark turns these variables into a Connect session; a local target names them."""
    out = _engine_error("local[1]", env)
    assert f"SettingsError engine spark: cannot start local[1]: {named}=" in out, out
    assert f"unset {named}" in out and "s3cr3t" not in out and "Traceback" not in out


def test_an_inherited_spark_remote_fails_the_cli_with_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ethicsgate",
            "audit",
            str(AUDITS / "compas-example.yaml"),
            "--engine",
            "spark",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=_child_env({"SPARK_REMOTE": "sc://db.example:443/;token=s3cr3t-token"}),
        check=False,
    )
    text = done.stdout + done.stderr
    assert done.returncode == 2, text
    assert "SPARK_REMOTE=sc://db.example:443/;token=***" in text
    assert "--engine sc://db.example:443/;token=***" in text  # the way through Connect
    assert "s3cr3t" not in text and "Traceback" not in text
    assert not out.exists() or not any(out.iterdir())  # nothing half-written


def test_a_target_that_is_not_spark_is_refused() -> None:
    from ethicsgate.engines.spark import open_spark_engine

    with pytest.raises(SettingsError) as err:
        open_spark_engine("mysql://user:pw@host/db")
    assert "pw" not in str(err.value) and "spark://HOST:PORT" in (err.value.hint or "")
    assert isinstance(err.value, EthicsgateError)


# -- SQL text ------------------------------------------------------------------------------------


def test_portable_sql_is_rewritten_only_where_spark_reads_it_otherwise() -> None:
    from ethicsgate.engines.spark.sqltext import spark_sql

    assert spark_sql("SELECT CAST(x AS VARCHAR), CAST(y AS varchar(10))") == (
        "SELECT CAST(x AS STRING), CAST(y AS varchar(10))"
    )
    # literals: quotes doubled stay, backslashes are doubled for Spark's escapes; identifiers
    # and literals that look like a cast are left alone
    assert spark_sql(r"""SELECT 'it''s \d AS VARCHAR', "a AS VARCHAR" FROM t""") == (
        r"""SELECT 'it''s \\d AS VARCHAR', "a AS VARCHAR" FROM t"""
    )
    # a column aliased text is not a type (the pricing check lists the shown text)
    assert spark_sql("SELECT v0 AS text, CAST(v1 AS TEXT) FROM t") == (
        "SELECT v0 AS text, CAST(v1 AS STRING) FROM t"
    )


def test_the_portable_as_of_join_is_a_lateral_nearest_row() -> None:
    from ethicsgate.engines.spark.dialect import SparkDialect

    sql = SparkDialect(native_asof=False).asof_left_join(
        "req", "hum", equal=[("req.conv", "hum.conv")], on="req.ts <= hum.ts"
    )
    assert "LEFT JOIN LATERAL" in sql and "ORDER BY _asof_hum.ts ASC LIMIT 1" in sql
    native = SparkDialect().asof_left_join(
        "eb AS ev", "led", equal=[("ev.k", "led.k")], on="ev.ts >= led.granted_at"
    )
    assert (
        native
        == "eb AS ev LEFT ASOF JOIN led MATCH_CONDITION (ev.ts >= led.granted_at) ON ev.k = led.k"
    )


@pytest.mark.parametrize("every", ["month", "week"])
def test_windowed_audit_with_drift_is_the_same_on_spark(
    engine: Any, tmp_path: Path, every: str
) -> None:
    """A year of decisions with a drop in September: same windows, ratios and drift findings."""
    from tests.unit.rules.windows_data import DRIFT_POLICY, write_audit, year_of_decisions

    spec = write_audit(
        tmp_path,
        year_of_decisions(per_day=300 if every == "month" else 40),
        window=f"{{column: decided_at, every: {every}}}",
        policy=DRIFT_POLICY,
    )
    duck, spark, _, _ = _both(spec, engine)
    _same_rules(duck, spark)
    windows = spark.rules[0].windows
    assert len(windows) == {"month": 12, "week": 53}[every]
    if every == "month":
        assert [d.after for d in spark.rules[0].drift] == ["2026-09"]


def test_a_text_window_column_with_a_value_that_is_no_time_is_named_on_spark(
    engine: Any, tmp_path: Path
) -> None:
    # found by QA: Spark's CAST_INVALID_INPUT was reported as "cannot read ... as csv" with
    # the hint "check the file's format", located at the evidence path
    from tests.unit.rules.windows_data import write_audit, year_of_decisions

    from ethicsgate.audit.spec import parse_window_option, with_window

    frame = year_of_decisions(per_day=2)
    frame["decided_at"] = frame["decided_at"].dt.strftime("%Y-%m-%d")
    frame.loc[17, "decided_at"] = "yesterday"
    spec = write_audit(tmp_path, frame)
    with pytest.raises(EvidenceError, match="is text that is not a date or time: 'yesterday'") as e:
        run_audit(spec, engine=engine)
    assert str(e.value.location).startswith(str(spec)) and "set window.column" in str(e.value)
    option = with_window(
        load_audit_spec(spec), parse_window_option("week:group"), option="week:group"
    )
    with pytest.raises(EvidenceError, match="is text that is not a date or time: '[AB]'") as e:
        run_audit(option, engine=engine)
    assert str(e.value.location) == "--window 'week:group'"


def test_in_memory_evidence_counts_as_duckdb_counts_it(engine: Any) -> None:
    import pyarrow.csv as pacsv

    from ethicsgate.engines.duckdb import DuckDBEngine
    from ethicsgate.evidence.spec import MemoryEvidenceSpec

    table = pacsv.read_csv(ROOT / "examples" / "data" / "compas_for_aequitas.csv")
    spec = MemoryEvidenceSpec(
        path="compas.arrow",
        data=table,
        kind="pyarrow.Table",
        columns={"label": "label_value", "prediction": "score"},
    )
    frames = []
    with DuckDBEngine() as duck:
        for reader in (duck, engine):
            opened = reader.open("frame", spec, base_dir=ROOT, locate=lambda loc: None)
            frames.append(
                opened.grouped_counts(
                    roles=["race", "label", "prediction"], binary_roles=["label", "prediction"]
                ).frame
            )
            assert opened.digests()[0].kind == "arrow-ipc-sha256"
    assert frames[1].to_dict("records") == frames[0].to_dict("records")
    assert [str(t) for t in frames[1].dtypes] == [str(t) for t in frames[0].dtypes]


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        pytest.param(
            {"columns": {"label": "label_value) AS v FROM range(1) --"}},
            ("columns", "label"),
            id="mapping",
        ),
        pytest.param({"filter": "race = 'Other') OR (1 = 1"}, ("filter",), id="filter"),
        pytest.param(
            {"columns": {"label": "label_value + length(`odd ) name`"}},
            ("columns", "label"),
            id="backtick-name-holds-the-parenthesis",
        ),
        pytest.param(
            {"columns": {"label": "label_value", "race": "race || '"}},
            ("columns", "race"),
            id="quote-left-open",
        ),
        pytest.param(
            # Spark ends a -- comment at a carriage return: the rest was SQL reading another
            # relation (the check read the comment on to the newline)
            {"columns": {"label": "label_value --\r) AS v FROM range(1) UNION SELECT (1\n"}},
            ("columns", "label"),
            id="carriage-return-ends-a-comment",
        ),
        pytest.param(
            # Spark's lexer reads \" inside "..." as an escaped quote
            {"columns": {"label": '(SELECT 1 AS "\\" + ")) FROM range(1) UNION SELECT ((1 --"\n)'}},
            ("columns", "label"),
            id="backslash-in-a-double-quoted-name",
        ),
    ],
)
def test_a_mapping_that_is_not_one_expression_is_refused_on_spark(
    engine: Any, spec: dict[str, Any], key: tuple[str, ...]
) -> None:
    """A mapping or filter is spliced into Spark SQL as ``(expr)``: it must stay inside it."""
    located: list[tuple[str, ...]] = []

    def locate(loc: Any) -> None:
        located.append(tuple(loc))

    csv = ROOT / "examples" / "data" / "compas_for_aequitas.csv"
    columns = {"label": "label_value", "prediction": "score", **spec.get("columns", {})}
    dataset = engine.open(
        "evidence",
        EvidenceSpec.model_validate({"path": str(csv), **spec, "columns": columns}),
        base_dir=ROOT,
        locate=locate,
    )
    with pytest.raises(EvidenceError, match="is not one SQL expression") as err:
        dataset.grouped_counts(roles=["race", "label", "prediction"], binary_roles=["label"])
    assert "engine spark" in str(err.value) and err.value.hint
    assert located[-1] == key


def test_backticks_and_comments_holding_parentheses_are_one_expression_on_spark(
    engine: Any,
) -> None:
    csv = ROOT / "examples" / "data" / "compas_for_aequitas.csv"
    spec = EvidenceSpec.model_validate(
        {
            "path": str(csv),
            "columns": {"label": "`label_value` /* ; ) */", "prediction": "score -- a note )\n"},
            "filter": "race <> 'a;b)'",
        }
    )
    found = engine.open("evidence", spec, base_dir=ROOT, locate=lambda loc: None).grouped_counts(
        roles=["label", "prediction"], binary_roles=["label", "prediction"]
    )
    assert found.rows == 7214


# -- CSV files Spark's reader would misread: DuckDB's checks (evidence/csvcheck.py) -----------


def _csv(engine: Any, path: Path, **options: Any) -> Any:
    spec = EvidenceSpec(path=str(path), columns={"label": "label_value"}, options=options)
    return engine.open("evidence", spec, base_dir=path.parent, locate=lambda loc: None)


def test_an_empty_csv_is_named_empty_on_spark(engine: Any, tmp_path: Path) -> None:
    # Spark read 0 bytes as no columns, and every role was "missing"
    (tmp_path / "d.csv").write_bytes(b"")
    with pytest.raises(EvidenceError, match="the file is empty") as caught:
        _csv(engine, tmp_path / "d.csv").columns()
    assert "(engine spark)" in caught.value.message
    assert caught.value.location is not None and caught.value.location.path == str(
        tmp_path / "d.csv"
    )


def test_a_csv_header_naming_two_different_columns_alike_is_refused_on_spark(
    engine: Any, tmp_path: Path
) -> None:
    # Spark named them score2 and Score3: no role could read "score", and the error said so
    (tmp_path / "d.csv").write_text("race,label_value,score,Score\nA,1,1,0\nB,0,0,1\n")
    with pytest.raises(EvidenceError, match="names column 'Score' twice") as caught:
        _csv(engine, tmp_path / "d.csv").columns()
    assert "fields 3 and 4, as 'score' and 'Score'" in caught.value.message
    assert "(engine spark)" in caught.value.message
    location = caught.value.location
    assert location is not None and (location.path, location.line) == (str(tmp_path / "d.csv"), 1)


def test_a_csv_header_repeating_a_column_with_the_same_values_is_read_on_spark(
    engine: Any, tmp_path: Path
) -> None:
    # ProPublica's COMPAS file repeats decile_score and priors_count, values equal: DuckDB reads
    # the first by its name (the second as score_1), and so does Spark now
    (tmp_path / "d.csv").write_text(
        "race,label_value,score,n,score\nA,1,3,,3\nB,0,7,1,7\nA,1,,2,\n"
    )
    dataset = _csv(engine, tmp_path / "d.csv")
    assert [n for n, _ in dataset.columns()] == ["race", "label_value", "score", "n", "score_1"]
    found = dataset.grouped_counts(roles=["race", "score"], binary_roles=[])
    assert found.rows == 3


def test_a_csv_in_another_encoding_names_its_first_bad_byte_on_spark(
    engine: Any, tmp_path: Path
) -> None:
    # Spark read the byte as U+FFFD: the group "M\ufffdller" was audited under that name
    (tmp_path / "d.csv").write_bytes("race,label_value\nA,1\nMüller,0\n".encode("latin-1"))
    with pytest.raises(EvidenceError, match="line 3 is not UTF-8") as caught:
        _csv(engine, tmp_path / "d.csv").columns()
    assert caught.value.location is not None
    assert (caught.value.location.line, caught.value.location.column) == (3, 2)
    assert "byte 0xfc" in caught.value.message and "(engine spark)" in caught.value.message
    assert "options: {encoding: latin-1}" in (caught.value.hint or "")
    # the fix the hint gives reads the file
    fixed = _csv(engine, tmp_path / "d.csv", encoding="latin-1")
    found = fixed.grouped_counts(roles=["race", "label"], binary_roles=["label"])
    assert set(found.frame["race"]) == {"A", "Müller"}


def test_a_role_of_the_wrong_type_names_the_engine(engine: Any) -> None:
    # it said only "evidence 'evidence': 'label' must be 0/1 or true/false"
    csv = ROOT / "examples" / "data" / "compas_for_aequitas.csv"
    dataset = _open(engine, csv, label="current_timestamp()")
    with pytest.raises(EvidenceError, match="must be 0/1 or true/false") as err:
        dataset.grouped_counts(roles=["label"], binary_roles=["label"])
    assert "(engine spark)" in err.value.message


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
def test_windows_in_a_time_zone_are_the_same_on_spark(
    engine: Any, tmp_path: Path, zone: str
) -> None:
    """Instants, naive times and text with and without an offset: DuckDB's windows exactly."""
    from tests.unit.rules.windows_data import decisions_around_local_midnights, write_audit

    frame = decisions_around_local_midnights()
    for column in ("decided_at", "naive_at", "text_offset", "text_naive"):
        for text in (
            f"{{column: {column}, every: day, time_zone: {zone}}}",
            f"{{column: {column}, every: month, last: 7d, time_zone: {zone}}}",
        ):
            spec = write_audit(tmp_path / f"{column}-{len(text)}", frame, window=text)
            duck, spark, _, _ = _both(spec, engine)
            assert duck.rules[0].windows, column
            _same_rules(duck, spark)
            assert spark.rules[0].window is not None
            assert spark.rules[0].window.time_zone == zone


def test_a_csv_line_break_in_a_quoted_field_and_a_blank_stratum_are_read_as_duckdb_reads_them(
    engine: Any, tmp_path: Path
) -> None:
    # Spark split a row at a quoted line break (one row more, the statement cut in two: a false
    # not_disclosed), and listed the stratum without a segment first, DuckDB last
    statement = "THIS  PRICE WAS SET BY AN\nALGORITHM USING YOUR PERSONAL DATA"
    rows = [
        f'O{i},{"" if i == 3 else "new" if i % 2 else "old"},true,"Price. {statement}",'
        for i in range(1, 9)
    ]
    (tmp_path / "offers.csv").write_text(
        "decision_id,segment,personalized,shown_text,qa_reviewer\n" + "\n".join(rows) + "\n"
    )
    (tmp_path / "policy.yaml").write_text(
        "schema_version: 1\nid: p\nversion: '1'\ntitle: t\nowner: o\nrules:\n"
        "  - {id: prices, kind: transparency, check: pricing_disclosed, dataset: offers,\n"
        "     finding_fields: [segment]}\n"
        "  - {id: sample, kind: oversight, check: review_sampling, dataset: offers,\n"
        "     share: 0.5, seed: 1, strata: [segment]}\n"
    )
    (tmp_path / "audit.yaml").write_text(
        "schema_version: 1\nid: a\ntitle: a\npolicy: policy.yaml\nevidence:\n"
        "  offers: {path: offers.csv, columns: {event_id: decision_id, text: shown_text}}\n"
    )
    duck, spark, _, _ = _both(tmp_path / "audit.yaml", engine)
    _same_rules(duck, spark)
    assert spark.audit.evidence[0].rows == 8
    assert spark.rules[0].violations == 0
    assert [s.group["segment"] for s in spark.rules[1].strata] == ["new", "old", None]


def test_windows_in_a_time_zone_over_csv_are_the_same_on_spark(engine: Any, tmp_path: Path) -> None:
    """Naive CSV times are a zone's wall clock on both engines, as from Parquet.

    Spark inferred every CSV column of times as an instant, DuckDB naive ones as TIMESTAMP:
    in a Berlin window, 18 days of naive times fell into 19 on Spark, an hour early.
    """
    from tests.unit.rules.windows_data import POLICY, decisions_around_local_midnights

    (tmp_path / "policy.yaml").write_text(POLICY)
    decisions_around_local_midnights().to_csv(tmp_path / "decisions.csv", index=False)
    setting = engine.spark.conf.get("spark.sql.timestampType", None)
    for column in ("decided_at", "naive_at", "text_offset", "text_naive"):
        spec = tmp_path / f"{column}.yaml"
        spec.write_text(
            "schema_version: 1\nid: w\npolicy: policy.yaml\nevidence:\n  decisions:\n"
            "    path: decisions.csv\n    columns: {prediction: approved}\n"
            f"    window: {{column: {column}, every: day, time_zone: Europe/Berlin}}\n"
        )
        duck, spark, _, _ = _both(spec, engine)
        _same_rules(duck, spark)
        assert duck.rules[0].windows, column
    types = dict(_open(engine, tmp_path / "decisions.csv").columns())
    assert (types["naive_at"], types["decided_at"]) == ("timestamp_ntz", "timestamp")
    # the session's own setting is as it was (inferred under NTZ, then restored)
    assert engine.spark.conf.get("spark.sql.timestampType", None) == setting


def test_columns_named_as_a_spreadsheet_names_them_are_read_as_columns_on_spark(
    engine: Any, tmp_path: Path
) -> None:
    """As on DuckDB (the owner QA): `race: race ethnicity` names that column. Spark read it
    as another expression, `race AS ethnicity`, and `Risiko-Score` as a subtraction: with
    columns of those names beside it, silently the wrong column."""
    import duckdb

    compas = ROOT / "examples" / "data" / "compas_for_aequitas.csv"
    renamed = tmp_path / "spreadsheet.csv"
    duckdb.sql(
        f'COPY (SELECT score AS "Risiko-Score", label_value AS "two year recid", '
        f'race AS "race ethnicity", sex AS "Größe", 1 - score AS Risiko, 0 AS Score, '
        f"sex AS race "
        f"FROM read_csv('{compas}')) TO '{renamed}' (HEADER)"
    )
    spec = tmp_path / "audit.yaml"
    spec.write_text(
        f"schema_version: 1\nid: sp\npolicy: {ROOT / 'policies' / 'recidivism-fairness.yaml'}\n"
        f"evidence:\n  predictions:\n    path: {renamed}\n    columns:\n"
        "      label: two year recid\n      prediction: Risiko-Score\n"
        "      race: Race Ethnicity\n"  # in another case, as the engines read names
        "      sex: Größe\n"  # a letter Spark's lexer takes only quoted
    )
    duck, spark, _, _ = _both(spec, engine)
    _same_rules(duck, spark)
    groups = {g.group["race"] for r in spark.rules for g in r.groups if "race" in g.group}
    assert "African-American" in groups  # the race column, not sex read as race
