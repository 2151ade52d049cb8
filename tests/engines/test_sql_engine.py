"""The SQL engine end to end: --engine and engine:, table/query evidence, identity, bad input.

Against a real PostgreSQL server. Every bad input exits 2 naming the engine (password
redacted), the table and the fix; the password never appears in any output or report file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from tests.cli.test_logs_cli import follow_actor_hint
from tests.conftest import ROOT
from tests.engines.conftest import load_table, sa_url

from ethicsgate.cli import cli
from ethicsgate.engines import engine_kind, open_engine, redact_message, redact_target
from ethicsgate.errors import EvidenceError

COMPAS = ROOT / "examples" / "data" / "compas_for_aequitas.csv"
POLICY = ROOT / "policies" / "recidivism-fairness.yaml"
PASSWORD = "hunter2-Secret-pw"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def compas_table(pg_engine: sa.Engine) -> str:
    load_table(pg_engine, COMPAS, "engine_tests.compas")
    return "engine_tests.compas"


def spec(tmp_path: Path, evidence: str, *, engine: str = "", name: str = "audit.yaml") -> Path:
    path = tmp_path / name
    path.write_text(
        f"schema_version: 1\nid: sqltest\npolicy: {POLICY}\n{engine}evidence:\n  predictions:\n"
        f"{evidence}    columns:\n      label: label_value\n      prediction: score\n"
    )
    return path


def with_user(url: str, user: str, password: str | None = PASSWORD) -> str:
    """Return the server's URL with another user (and a password, which trust auth ignores)."""
    parsed = sa.make_url(sa_url(url)).set(username=user, password=password)
    return parsed.render_as_string(hide_password=False)


# -- targets -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "kind"),
    [
        (None, "duckdb"),
        ("duckdb", "duckdb"),
        ("spark", "spark"),
        ("local[2]", "spark"),
        ("local[*]", "spark"),
        ("spark://master:7077", "spark"),
        ("sc://host:15002", "spark"),
        ("postgresql://u@h/db", "sql"),
        ("postgresql+psycopg://u:p@h:5432/db", "sql"),
    ],
)
def test_engine_kinds(target: str | None, kind: str) -> None:
    assert engine_kind(target) == kind


def test_unknown_engine_is_a_located_error_with_the_fix() -> None:
    with pytest.raises(EvidenceError, match="unknown engine 'oracle'") as caught:
        open_engine("oracle")
    assert "postgresql://USER@HOST/DB" in (caught.value.hint or "")


def test_passwords_are_redacted() -> None:
    assert redact_target("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    assert redact_target("postgresql://u@h/db?password=pw&x=1") == (
        "postgresql://u@h/db?password=***&x=1"
    )
    assert redact_target("postgresql://h/db") == "postgresql://h/db"


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        (
            "postgresql://u@h/db?sslmode=require&sslpassword=k&password=p",
            "postgresql://u@h/db?sslmode=require&sslpassword=***&password=***",
        ),
        ("postgresql://u:pa/ss@h/db", "postgresql://u:***@h/db"),  # SQLAlchemy reads pa/ss
        ("postgresql://u:p%40ss@h/db?PASSWORD=p", "postgresql://u:***@h/db?PASSWORD=***"),
        (
            "databricks://h/db?access_token=t&http_path=/sql/1&client_secret=s",
            "databricks://h/db?access_token=***&http_path=/sql/1&client_secret=***",
        ),
        (
            "snowflake://u@acct/db?private_key_file_pwd=k&warehouse=w&api_key=a&token=t",
            "snowflake://u@acct/db?private_key_file_pwd=***&warehouse=w&api_key=***&token=***",
        ),
        ("postgresql://u@h/db?application_name=x", "postgresql://u@h/db?application_name=x"),
    ],
)
def test_every_secret_of_a_url_is_redacted(target: str, shown: str) -> None:
    assert redact_target(target) == shown


def test_a_driver_message_loses_the_secrets_of_its_url() -> None:
    target = "postgresql://u:pw%2F1@h/db?sslpassword=key-secret&password=query-secret"
    message = (
        f'could not open key with "key-secret"; user u password pw/1 or query-secret; dsn {target}'
    )
    assert redact_message(message, target) == (
        'could not open key with "***"; user u password *** or ***; '
        "dsn postgresql://u:***@h/db?sslpassword=***&password=***"
    )


def test_untested_warehouses_are_refused_with_the_reason() -> None:
    with pytest.raises(EvidenceError, match="untested until a real engine runs it in CI"):
        open_engine("snowflake://u:pw@account/db")


def test_unknown_engine_exits_2(tmp_path: Path) -> None:
    code, _, stderr = run("audit", str(spec(tmp_path, f"    path: {COMPAS}\n")), "--engine", "nope")
    assert code == 2
    assert "unknown engine 'nope'" in stderr and "hint:" in stderr


# -- evidence specs -------------------------------------------------------------------------


def test_evidence_needs_exactly_one_of_path_table_query(tmp_path: Path) -> None:
    both = spec(tmp_path, f"    path: {COMPAS}\n    table: a.b\n")
    code, _, stderr = run("audit", str(both))
    assert code == 2
    assert "exactly one of path (files), table or query; found path and table" in stderr
    assert f"{both}:6:5" in stderr  # located at the evidence entry


def test_a_query_must_be_one_select(tmp_path: Path) -> None:
    code, _, stderr = run("audit", str(spec(tmp_path, "    query: DELETE FROM x\n")))
    assert code == 2 and "query must be one SELECT" in stderr


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM {t} WHERE race <> 'a;b' -- every row but those",
        "SELECT * FROM {t} /* not 'Other'; */ WHERE race <> 'Other;'",
    ],
)
def test_a_query_with_a_semicolon_in_a_string_or_a_trailing_comment_runs(
    tmp_path: Path, pg_url: str, compas_table: str, query: str
) -> None:
    # the ';' in a string was "not one SELECT", and a closing -- comment hid the ")" that the
    # engine wraps the query in: "syntax error at end of input"
    path = spec(tmp_path, "    query: " + json.dumps(query.format(t=compas_table)) + "\n")
    code, stdout, stderr = run("audit", str(path), "--engine", pg_url, "--out", str(tmp_path / "q"))
    assert code == 1, stdout + stderr
    evidence = json.loads((tmp_path / "q" / "report.json").read_text())["audit"]["evidence"][0]
    assert evidence["rows"] == 7214


def test_a_query_of_two_statements_is_refused(tmp_path: Path) -> None:
    path = spec(tmp_path, "    query: \"SELECT 1 AS x; DROP TABLE t -- ';'\"\n")
    code, _, stderr = run("audit", str(path))
    assert code == 2 and "without a ';' between statements" in stderr


def test_a_query_that_writes_is_refused_by_the_server_and_the_table_is_intact(
    tmp_path: Path, pg_url: str, pg_engine: sa.Engine
) -> None:
    # the query runs as a subquery, where PostgreSQL refuses a data-modifying WITH: the audit
    # exits 2 at the query with a hint saying why, and no row is deleted
    load_table(pg_engine, COMPAS, "engine_tests.compas_victim")
    query = "WITH d AS (DELETE FROM engine_tests.compas_victim RETURNING *) SELECT * FROM d"
    path = spec(tmp_path, f'    query: "{query}"\n')
    code, _, stderr = run("audit", str(path), "--engine", pg_url, "--out", str(tmp_path / "w"))
    assert code == 2
    assert f"{path}:6:12" in stderr and "data-modifying statement" in stderr
    assert "an audit only reads" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "w").exists()
    with pg_engine.connect() as con:
        rows = con.execute(sa.text("SELECT count(*) FROM engine_tests.compas_victim")).scalar()
    assert rows == 7214


def test_duckdb_cannot_open_a_table(tmp_path: Path) -> None:
    code, _, stderr = run("audit", str(spec(tmp_path, "    table: engine_tests.compas\n")))
    assert code == 2
    assert "is a table (table engine_tests.compas)" in stderr and "--engine" in stderr


def test_a_database_cannot_open_files(tmp_path: Path, pg_url: str) -> None:
    code, _, stderr = run("audit", str(spec(tmp_path, f"    path: {COMPAS}\n")), "--engine", pg_url)
    assert code == 2 and "is files" in stderr and "load the files into a table" in stderr


# -- running ----------------------------------------------------------------------------------


def test_spec_engine_with_env_password_and_cli_override(
    tmp_path: Path, pg_url: str, compas_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = sa.make_url(sa_url(pg_url)).username or "postgres"
    target = with_user(pg_url, user, "PLACEHOLDER").replace("PLACEHOLDER", "${EG_PW}")
    declared = spec(
        tmp_path,
        f"    table: {compas_table}\n",
        engine=f"engine:\n  target: '{target}'\n  conf: {{application_name: ethicsgate-test}}\n",
    )
    code, _, stderr = run("audit", str(declared), "--out", str(tmp_path / "unset"))
    assert code == 2 and "uses ${EG_PW}, which is not set" in stderr
    assert f"{declared}:5:11" in stderr

    monkeypatch.setenv("EG_PW", PASSWORD)
    out = tmp_path / "out"
    code, stdout, stderr = run("audit", str(declared), "--out", str(out))
    assert code == 1, stderr  # COMPAS fails its block rule
    report = json.loads((out / "report.json").read_text())
    evidence = report["audit"]["evidence"][0]
    assert evidence["table"]["table"] == compas_table and evidence["files"] == []
    assert evidence["table"]["rows"] == 7214
    assert report["audit"]["engine"]["engine"].startswith("postgresql+psycopg://")
    for file in out.iterdir():
        assert PASSWORD.encode() not in file.read_bytes(), file
    assert PASSWORD not in stdout + stderr

    # --engine overrides the spec's engine: DuckDB cannot open the table
    code, _, stderr = run("audit", str(declared), "--engine", "duckdb", "--out", str(out))
    assert code == 2 and "is a table" in stderr


def test_query_evidence_binds_the_query_digest(
    tmp_path: Path, pg_url: str, compas_table: str
) -> None:
    query = f"SELECT * FROM {compas_table} WHERE race <> 'Other'"
    path = spec(tmp_path, f'    query: "{query}"\n')
    out = tmp_path / "q"
    code, _, stderr = run("audit", str(path), "--engine", pg_url, "--out", str(out))
    assert code == 1, stderr
    evidence = json.loads((out / "report.json").read_text())["audit"]["evidence"][0]
    import hashlib

    assert evidence["table"]["query_sha256"] == hashlib.sha256(query.encode()).hexdigest()
    assert evidence["table"]["table"] is None
    assert evidence["rows"] == 7214 - 377  # the 377 'Other' rows are not in the query's result
    # the same audit with a DuckDB filter over the file: the same figures
    files = spec(tmp_path, f"    path: {COMPAS}\n    filter: \"race <> 'Other'\"\n", name="f.yaml")
    code, _, _ = run("audit", str(files), "--out", str(tmp_path / "f"))
    duck = json.loads((tmp_path / "f" / "report.json").read_text())
    pg = json.loads((out / "report.json").read_text())
    assert pg["rules"] == duck["rules"]


def test_content_digest_is_order_independent_and_changes_with_the_data(
    tmp_path: Path, pg_url: str, pg_engine: sa.Engine
) -> None:
    load_table(pg_engine, COMPAS, "engine_tests.a")
    with pg_engine.connect() as con:  # the same rows, stored in another order
        con.execute(sa.text("DROP TABLE IF EXISTS engine_tests.b"))
        con.execute(
            sa.text("CREATE TABLE engine_tests.b AS SELECT * FROM engine_tests.a ORDER BY random()")
        )
    digests = {}
    for table in ("a", "b"):
        out = tmp_path / table
        run("audit", str(spec(tmp_path, f"    table: engine_tests.{table}\n")), "--engine", pg_url,
            "--out", str(out))  # fmt: skip
        digests[table] = json.loads((out / "report.json").read_text())["audit"]["evidence"][0]
    assert digests["a"]["table"]["content_digest"] == digests["b"]["table"]["content_digest"]
    with pg_engine.connect() as con:
        con.execute(sa.text("UPDATE engine_tests.b SET sex = 'Female' WHERE ctid IN "
                            "(SELECT ctid FROM engine_tests.b WHERE sex = 'Male' LIMIT 1)"))  # fmt: skip
    out = tmp_path / "changed"
    run("audit", str(spec(tmp_path, "    table: engine_tests.b\n")), "--engine", pg_url, "--out",
        str(out))  # fmt: skip
    changed = json.loads((out / "report.json").read_text())["audit"]["evidence"][0]
    assert changed["table"]["rows"] == digests["a"]["table"]["rows"]
    assert changed["table"]["content_digest"] != digests["a"]["table"]["content_digest"]


def test_verify_evidence_says_what_it_cannot_recheck(
    tmp_path: Path, pg_url: str, compas_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("keys", "generate", "--out", "keys")[0] == 0
    path = spec(tmp_path, f"    table: {compas_table}\n")
    code, _, stderr = run(
        "audit", str(path), "--engine", pg_url, "--out", "r", "--key", "keys/ethicsgate.key"
    )
    assert code == 1, stderr
    code, stdout, stderr = run("verify", "r", "--key", "keys/ethicsgate.pub", "--evidence")
    assert code == 0, stderr
    assert (
        "not re-checked: evidence 'predictions' was read by an engine (a database or Spark)"
        in stdout
    )
    code, stdout, _ = run(
        "verify", "r", "--key", "keys/ethicsgate.pub", "--evidence", "--format", "json"
    )
    shown = json.loads(stdout)
    assert shown["verified"] is True and "evidence-table:predictions" in shown["subjects"]
    assert len(shown["not_rechecked"]) == 1


# -- bad input: exit 2 naming engine, table and fix; never the password ----------------------


def _bad(tmp_path: Path, evidence: str, target: str) -> str:
    out = tmp_path / "bad"
    code, stdout, stderr = run("audit", str(spec(tmp_path, evidence)), "--engine", target,
                               "--out", str(out))  # fmt: skip
    assert code == 2, stdout + stderr
    assert "Traceback" not in stderr and PASSWORD not in stdout + stderr
    assert not out.exists()  # no half-written report
    return stderr


def test_unreachable_server(tmp_path: Path) -> None:
    target = f"postgresql://auditor:{PASSWORD}@127.0.0.1:9/evidence"
    stderr = _bad(tmp_path, "    table: public.scores\n", target)
    assert "engine postgresql://auditor:***@127.0.0.1:9/evidence: cannot connect" in stderr
    assert "hint: check the host, port and database name" in stderr


def test_missing_table(tmp_path: Path, pg_url: str) -> None:
    target = with_user(pg_url, sa.make_url(sa_url(pg_url)).username or "postgres")
    stderr = _bad(tmp_path, "    table: engine_tests.no_such_table\n", target)
    assert "evidence 'predictions' (table engine_tests.no_such_table) on engine" in stderr
    assert ":***@" in stderr and "does not exist" in stderr
    assert "hint: check the table's schema and name" in stderr


def test_missing_column(tmp_path: Path, pg_url: str, compas_table: str) -> None:
    # the policy reads race: a table without it
    with sa.create_engine(sa_url(pg_url), isolation_level="AUTOCOMMIT").connect() as con:
        con.execute(sa.text("DROP TABLE IF EXISTS engine_tests.no_race"))
        con.execute(sa.text(f"CREATE TABLE engine_tests.no_race AS SELECT label_value, score, sex "
                            f"FROM {compas_table}"))  # fmt: skip
    stderr = _bad(tmp_path, "    table: engine_tests.no_race\n",
                  with_user(pg_url, sa.make_url(sa_url(pg_url)).username or "postgres"))  # fmt: skip
    assert "has no column 'race' (table engine_tests.no_race, engine" in stderr
    assert "available columns: label_value, score, sex" in stderr


def test_permission_denied(tmp_path: Path, pg_url: str, pg_engine: sa.Engine) -> None:
    load_table(pg_engine, COMPAS, "engine_tests.locked")
    user = sa.make_url(sa_url(pg_url)).username or "postgres"
    with pg_engine.connect() as con:
        if con.execute(
            sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        ).scalar():
            # a superuser passes every permission check: audit as a role without SELECT
            user = "eg_noread"
            if not con.execute(
                sa.text("SELECT 1 FROM pg_roles WHERE rolname = :u"), {"u": user}
            ).all():
                con.execute(sa.text(f"CREATE ROLE {user} LOGIN"))
            con.execute(sa.text(f"GRANT USAGE ON SCHEMA engine_tests TO {user}"))
        else:  # an owner may revoke its own SELECT (CI's user may not create roles)
            con.execute(sa.text("REVOKE SELECT ON engine_tests.locked FROM CURRENT_USER"))
    stderr = _bad(tmp_path, "    table: engine_tests.locked\n", with_user(pg_url, user))
    assert f"engine postgresql+psycopg://{user}:***@" in stderr
    assert "permission denied" in stderr and "(table engine_tests.locked)" in stderr
    assert "hint: grant the engine's user SELECT on the table" in stderr


def _open(tmp_path: Path, pg_url: str, evidence: str) -> Any:
    from ethicsgate.audit.spec import load_audit_spec
    from ethicsgate.engines.sql import open_sql_engine

    loaded = load_audit_spec(spec(tmp_path, evidence))
    engine = open_sql_engine(pg_url)
    return engine, engine.open(
        "predictions",
        loaded.spec.evidence["predictions"],
        base_dir=tmp_path,
        locate=lambda key: loaded.document.locate(("evidence", "predictions", *key)),
    )


#: The digest's definition, column by column (docs/scale-out.md), for the oracle below.
_TYPED = {
    "i": "hashint4extended(i, 1)",
    "t": "hashtextextended(t, 2)",
    "v": "hashtextextended(CAST(v AS text), 3)",
    "b": "hashint4extended(CAST(b AS integer), 4)",
    "x": "hashfloat8extended(x, 5)",
    "n": "hash_numeric_extended(n, 6)",
    "d": "timestamp_hash_extended(CAST(d AS timestamp), 7)",
    "ts": "timestamp_hash_extended(ts AT TIME ZONE 'UTC', 8)",
    "j": "jsonb_hash_extended(j, 9)",
    "a": "hashtextextended(CAST(a AS text), 10)",
}


@pytest.fixture(scope="module")
def typed_table(pg_engine: sa.Engine) -> str:
    with pg_engine.connect() as con:
        con.execute(sa.text("CREATE SCHEMA IF NOT EXISTS engine_tests"))
        con.execute(sa.text("DROP TABLE IF EXISTS engine_tests.typed"))
        con.execute(sa.text(
            "CREATE TABLE engine_tests.typed (i integer, t text, v varchar(5), b boolean, "
            "x double precision, n numeric, d date, ts timestamptz, j jsonb, a integer[])"
        ))  # fmt: skip
        con.execute(sa.text(
            "INSERT INTO engine_tests.typed SELECT g, 'row ' || g, CASE WHEN g % 3 = 0 THEN "
            "NULL ELSE 'v' || g END, g % 2 = 0, g / 7.0, g * 1.5, DATE '2026-01-01' + g, "
            "TIMESTAMPTZ '2026-01-01 00:00:00+00' + g * INTERVAL '1 hour', "
            "CAST('{\"k\": ' || g || '}' AS jsonb), ARRAY[g, NULL] "
            "FROM generate_series(1, 500) AS g"
        ))  # fmt: skip
        # an all-NULL row, twice: a repeated row counts twice
        con.execute(sa.text("INSERT INTO engine_tests.typed (i) VALUES (NULL), (NULL)"))
    return "engine_tests.typed"


def test_content_digest_equals_a_python_sum_of_row_hashes(
    tmp_path: Path, pg_url: str, pg_engine: sa.Engine, typed_table: str
) -> None:
    engine, dataset = _open(tmp_path, pg_url, f"    table: {typed_table}\n")
    with engine:
        identity = dataset.identity()
    # the obvious way: each column's hash fetched row by row, XOR-ed and summed in Python
    with pg_engine.connect() as con:
        rows = con.execute(sa.text(f"SELECT {', '.join(_TYPED.values())} FROM {typed_table}"))
        hashes = []
        for row in rows:
            h = 0
            for position, value in enumerate(row, start=1):
                h ^= (-position if value is None else value) & ((1 << 64) - 1)
            hashes.append(h)
    assert identity.rows == len(hashes) == 502
    assert identity.content_digest == f"{sum(hashes) % (1 << 64):016x}"
    assert identity.digest_kind == "sum-pghash-64"


def test_the_grouped_pass_computes_the_same_digest_on_the_way(
    tmp_path: Path, pg_url: str, compas_table: str
) -> None:
    engine, alone = _open(tmp_path, pg_url, f"    table: {compas_table}\n")
    with engine:
        standalone = alone.identity()
    engine, dataset = _open(
        tmp_path, pg_url, f"    table: {compas_table}\n    filter: sex = 'Male'\n"
    )
    statements: list[str] = []
    with engine:
        sa.event.listen(engine.con, "before_cursor_execute", lambda *a: statements.append(a[2]))
        counts = dataset.grouped_counts(roles=["race", "label_value"])
        folded = dataset.identity()
    assert counts.rows_read == 7214 and counts.rows < 7214
    assert list(counts.frame.columns) == ["race", "label_value", "n"]
    assert (folded.rows, folded.content_digest) == (standalone.rows, standalone.content_digest)
    # one statement read the table's rows: the grouped pass (the rest are LIMIT 0 probes)
    assert len([s for s in statements if "count(*)" in s]) == 1


def test_content_digest_counts_repeats_and_where_a_null_is(
    tmp_path: Path, pg_url: str, pg_engine: sa.Engine
) -> None:
    tables = {
        "once": "VALUES (1, 'a', NULL), (2, 'b', 'c')",
        "twice": "VALUES (1, 'a', NULL), (2, 'b', 'c'), (2, 'b', 'c')",
        "moved": "VALUES (1, NULL, 'a'), (2, 'b', 'c')",
        "reordered": "VALUES (2, 'b', 'c'), (1, 'a', NULL)",
    }
    digests = {}
    for name, values in tables.items():
        with pg_engine.connect() as con:
            con.execute(sa.text(f"DROP TABLE IF EXISTS engine_tests.d_{name}"))
            con.execute(
                sa.text(
                    f"CREATE TABLE engine_tests.d_{name} AS SELECT * FROM ({values}) AS v(k, x, y)"
                )
            )
        engine, dataset = _open(tmp_path, pg_url, f"    table: engine_tests.d_{name}\n")
        with engine:
            digests[name] = dataset.identity().content_digest
    assert digests["once"] == digests["reordered"]
    assert len({digests["once"], digests["twice"], digests["moved"]}) == 3
    # a query whose result repeats a column name: digested by position, in one pass
    query = '    query: "SELECT k AS a, x AS a FROM engine_tests.d_once"\n'
    engine, dataset = _open(tmp_path, pg_url, query)
    with engine:
        repeated = dataset.identity()
    assert repeated.rows == 2 and repeated.query_sha256 is not None


def test_gate_runs_on_the_engine(tmp_path: Path, pg_url: str, compas_table: str) -> None:
    out = tmp_path / "gate"
    code, stdout, stderr = run(
        "gate", str(spec(tmp_path, f"    table: {compas_table}\n")), "--engine", pg_url,
        "--out", str(out),
    )  # fmt: skip
    assert code == 1, stdout + stderr  # the blocking fpr-parity rule fails on COMPAS
    evidence = json.loads((out / "report.json").read_text())["audit"]["evidence"][0]
    assert evidence["table"]["table"] == compas_table


def test_a_value_a_record_rule_cannot_read_names_value_count_and_column(
    tmp_path: Path, pg_url: str, pg_engine: sa.Engine
) -> None:
    log = tmp_path / "chat.csv"
    log.write_text(
        "conversation_id,ts,actor,type,text\n"
        "c1,2025-03-01T10:00:00Z,bot,message,I am a virtual assistant\n"
        "c1,not a time,customer,message,hello\n"
        "c2,also not,customer,message,hi\n"
        "c2,2025-03-01T11:00:00Z,bot,message,I am a chatbot\n"
    )
    load_table(pg_engine, log, "engine_tests.chat")
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        'schema_version: 1\nid: p\nversion: "1"\ntitle: t\nowner: o\nrules:\n'
        "  - id: disclosure\n    kind: transparency\n    check: bot_disclosure\n"
        "    dataset: chat\n"
    )
    path = tmp_path / "chat.yaml"
    path.write_text(
        "schema_version: 1\nid: chat\npolicy: policy.yaml\nevidence:\n  chat:\n"
        "    table: engine_tests.chat\n"
    )
    out = tmp_path / "out"
    code, _, stderr = run("audit", str(path), "--engine", pg_url, "--out", str(out))
    assert code == 2 and not out.exists()
    assert "'ts' is not a timestamp: found 'also not' (2 row(s)) in column \"ts\"" in stderr
    assert "of table engine_tests.chat (engine" in stderr and "hint: use ISO 8601" in stderr


@pytest.mark.parametrize(
    ("column", "mapping", "source"),
    [("sender", "sender", "sender"), ("Sent By", "'\"Sent By\"'", '\\"Sent By\\"')],
    ids=["plain", "quoted"],
)
def test_an_unknown_actor_hint_works_as_written(
    tmp_path: Path, pg_url: str, pg_engine: sa.Engine, column: str, mapping: str, source: str
) -> None:
    log = tmp_path / "chat.csv"
    log.write_text(
        f'conversation_id,ts,"{column}",type,text\n'
        "c1,2025-03-01T10:00:00Z,bot,message,I am a virtual assistant\n"
        "c1,2025-03-01T10:01:00Z,staff's desk,message,hello\n"
        "c2,2025-03-01T11:00:00Z,bot,message,hi\n"
    )
    load_table(pg_engine, log, "engine_tests.chat_actor")
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        'schema_version: 1\nid: p\nversion: "1"\ntitle: t\nowner: o\nrules:\n'
        "  - id: disclosure\n    kind: transparency\n    check: bot_disclosure\n"
        "    dataset: chat\n"
    )
    path = tmp_path / "chat.yaml"
    path.write_text(
        "schema_version: 1\nid: chat\npolicy: policy.yaml\nevidence:\n  chat:\n"
        f"    table: engine_tests.chat_actor\n    columns:\n      actor: {mapping}\n"
    )
    code, _, stderr = run("audit", str(path), "--engine", pg_url, "--out", str(tmp_path / "o"))
    assert code == 2
    assert 'found "staff\'s desk" (1 row(s))' in stderr
    case = f"CASE {source} WHEN 'staff''s desk' THEN 'human' ELSE {source} END"
    assert f'actor: "{case}"' in stderr
    follow_actor_hint(path, stderr)
    code, _, stderr = run("audit", str(path), "--engine", pg_url, "--out", str(tmp_path / "o"))
    assert code == 1, stderr  # c2's bot never says it is one


@pytest.mark.parametrize(
    ("evidence", "key"),
    [
        pytest.param(
            "    columns:\n      label: 'label_value) AS _c0 FROM engine_tests.compas LIMIT 0; "
            "CREATE TABLE engine_tests.pwned AS SELECT (1'\n      prediction: score\n",
            "8:14",
            id="mapping",
        ),
        pytest.param(
            "    columns: {label: label_value, prediction: score}\n"
            "    filter: 'true), false); CREATE TABLE engine_tests.pwned AS SELECT (1'\n",
            "8:13",
            id="filter",
        ),
        pytest.param(
            "    columns: {label: label_value, prediction: score}\n"
            "    window: {every: month, column: 'now()); CREATE TABLE engine_tests.pwned AS "
            "SELECT (now()'}\n",
            "8:36",
            id="window-column",
        ),
        pytest.param(
            # a dollar-quoted string PostgreSQL reads as text: the ';' in it would count if it
            # were read as DuckDB reads it, so a refusal here names the quote left open
            "    columns:\n      label: 'label_value + length($x$ ; $x) AS _c0; CREATE TABLE "
            "engine_tests.pwned AS SELECT (1'\n      prediction: score\n",
            "8:14",
            id="dollar-quote-left-open",
        ),
        pytest.param(
            # PostgreSQL ends a -- comment at a carriage return: the rest of the line is SQL
            '    columns:\n      label: "label_value --\\r) AS _c0 FROM engine_tests.compas '
            'LIMIT 0; CREATE TABLE engine_tests.pwned AS SELECT (1\\n"\n      prediction: score\n',
            "8:14",
            id="carriage-return-ends-a-comment",
        ),
        pytest.param(
            # a no-break space is a letter of a name to PostgreSQL: no dollar quote opens
            '    columns:\n      label: "(SELECT 1 \\u00a0$q$)) AS _c0 FROM engine_tests.compas '
            'LIMIT 0; CREATE TABLE engine_tests.pwned AS SELECT ((SELECT 1 -- $q$\\n)"\n'
            "      prediction: score\n",
            "8:14",
            id="no-break-space-before-a-dollar",
        ),
    ],
)
def test_a_mapping_that_is_not_one_expression_runs_nothing_on_the_database(
    tmp_path: Path, pg_url: str, pg_engine: sa.Engine, compas_table: str, evidence: str, key: str
) -> None:
    """A mapping, filter or window column is spliced into queries: one more statement must not run."""
    with pg_engine.connect() as con:
        con.execute(sa.text("DROP TABLE IF EXISTS engine_tests.pwned"))
    path = tmp_path / "audit.yaml"
    path.write_text(
        f"schema_version: 1\nid: sqltest\npolicy: {POLICY}\nevidence:\n  predictions:\n"
        f"    table: {compas_table}\n{evidence}"
    )
    target = with_user(pg_url, sa.make_url(sa_url(pg_url)).username or "postgres")
    out = tmp_path / "out"
    code, stdout, stderr = run("audit", str(path), "--engine", target, "--out", str(out))
    assert code == 2, stdout + stderr
    assert "is not one SQL expression" in stderr and f"audit.yaml:{key}:" in stderr
    assert "engine postgresql+psycopg://" in stderr and "Traceback" not in stderr
    assert not out.exists()
    with pg_engine.connect() as con:
        assert con.execute(sa.text("SELECT to_regclass('engine_tests.pwned')")).scalar() is None


def test_postgresql_quoting_passes_where_it_is_one_expression(
    tmp_path: Path, pg_url: str, compas_table: str
) -> None:
    """Dollar quotes, E'' strings and comments holding ; and ) are text, as PostgreSQL reads them."""
    path = tmp_path / "audit.yaml"
    path.write_text(
        f"schema_version: 1\nid: sqltest\npolicy: {POLICY}\nevidence:\n  predictions:\n"
        f"    table: {compas_table}\n    columns:\n      label: label_value\n"
        "      prediction: \"score /* ; ) */ + 0 * length($q$it's ; )$q$ || E'\\\\' ;)')\"\n"
        "    filter: \"race <> 'a;b' -- not this one)\\n\"\n"
    )
    target = with_user(pg_url, sa.make_url(sa_url(pg_url)).username or "postgres")
    code, stdout, stderr = run("audit", str(path), "--engine", target, "--out", str(tmp_path / "o"))
    assert code in (0, 1), stdout + stderr


def _renamed_compas_audit(
    tmp_path: Path, pg_url: str, pg_engine: sa.Engine, table: str, select: str, columns: str
) -> list[Any]:
    """Audit COMPAS from a table of renamed columns; return its rules, equal to DuckDB's."""
    with pg_engine.connect() as con:
        con.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
        con.execute(sa.text(f"CREATE TABLE {table} AS SELECT {select} FROM engine_tests.compas"))
    path = tmp_path / "audit.yaml"
    path.write_text(
        f"schema_version: 1\nid: sqltest\npolicy: {POLICY}\nevidence:\n  predictions:\n"
        f"    table: {table}\n{columns}"
    )
    code, stdout, stderr = run("audit", str(path), "--engine", pg_url, "--out", str(tmp_path / "o"))
    assert code == 1, stdout + stderr
    duck = spec(tmp_path, f"    path: {COMPAS}\n", name="d.yaml")
    run("audit", str(duck), "--out", str(tmp_path / "d"))
    pg = json.loads((tmp_path / "o" / "report.json").read_text())
    assert pg["rules"] == json.loads((tmp_path / "d" / "report.json").read_text())["rules"]
    return list(pg["rules"])


@pytest.mark.parametrize(
    "columns",
    [
        "    columns: {label: Label, prediction: Score, race: Race, sex: Sex}\n",
        "    columns: {label: Label, prediction: Score}\n",  # race and sex by the role's name
    ],
)
def test_columns_named_in_another_case_are_read_as_duckdb_reads_them(
    tmp_path: Path, pg_url: str, pg_engine: sa.Engine, compas_table: str, columns: str
) -> None:
    # `race: Race` failed on PostgreSQL with 'column "race" does not exist' (an unquoted name
    # is folded to lower case) while the hint listed Race; DuckDB reads it
    select = 'entity_id, score AS "Score", label_value AS "Label", race AS "Race", sex AS "Sex"'
    _renamed_compas_audit(tmp_path, pg_url, pg_engine, "engine_tests.cased", select, columns)


def test_columns_named_like_keywords_are_read_as_columns(
    tmp_path: Path, pg_url: str, pg_engine: sa.Engine, compas_table: str
) -> None:
    # found by QA: `race: group` was a syntax error, and `race: user` read the session's user
    # name, not the column: every row one group, and the audit passed on it
    select = 'score AS "order", label_value AS "authorization", race AS "user", sex AS "group"'
    columns = "    columns: {label: authorization, prediction: order, race: user, sex: group}\n"
    rules = _renamed_compas_audit(
        tmp_path, pg_url, pg_engine, "engine_tests.keywords", select, columns
    )
    assert len(rules[0]["groups"]) > 1  # the races, not one session user


def test_a_filter_naming_a_keyword_column_unquoted_gets_it_quoted_in_the_hint(
    tmp_path: Path, pg_url: str, pg_engine: sa.Engine, compas_table: str
) -> None:
    with pg_engine.connect() as con:
        con.execute(sa.text("DROP TABLE IF EXISTS engine_tests.keyword_filter"))
        con.execute(
            sa.text(
                "CREATE TABLE engine_tests.keyword_filter AS SELECT label_value AS label, "
                'score AS prediction, race, sex AS "group" FROM engine_tests.compas'
            )
        )
    path = tmp_path / "audit.yaml"
    path.write_text(
        f"schema_version: 1\nid: sqltest\npolicy: {POLICY}\nevidence:\n  predictions:\n"
        "    table: engine_tests.keyword_filter\n    columns: {sex: group}\n"
        "    filter: \"group <> 'Other'\"\n"
    )
    code, stdout, stderr = run("audit", str(path), "--engine", pg_url, "--out", str(tmp_path / "o"))
    assert code == 2, stdout + stderr
    assert "the filter does not evaluate" in stderr
    assert "hint: group is also an SQL keyword: write the column in double quotes: " in stderr
    assert "\"group\" <> 'Other'" in stderr
    assert "Traceback" not in stderr and not (tmp_path / "o").exists()


def test_a_column_postgresql_reads_as_a_value_keyword_is_refused_unquoted(
    tmp_path: Path, pg_url: str, pg_engine: sa.Engine, compas_table: str
) -> None:
    """Found by the review: on PostgreSQL `filter: "user <> 'x'"` compared the session's user,
    not the column user, and kept the wrong rows in silence (DuckDB reads the column)."""
    with pg_engine.connect() as con:
        con.execute(sa.text("DROP TABLE IF EXISTS engine_tests.value_keywords"))
        con.execute(
            sa.text(
                "CREATE TABLE engine_tests.value_keywords AS SELECT label_value AS label, "
                'score AS prediction, race, sex AS "user" FROM engine_tests.compas'
            )
        )
    head = (
        f"schema_version: 1\nid: sqltest\npolicy: {POLICY}\nevidence:\n  predictions:\n"
        "    table: engine_tests.value_keywords\n"
    )
    cases = {
        "filter": "    columns: {sex: user}\n    filter: \"user <> 'Other'\"\n",
        "mapping": "    columns: {sex: \"CASE WHEN user = 'x' THEN 'x' ELSE user END\"}\n",
    }
    for name, evidence in cases.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(head + evidence)
        out = tmp_path / name
        code, stdout, stderr = run("audit", str(path), "--engine", pg_url, "--out", str(out))
        assert code == 2, stdout + stderr
        said = "names the column 'user' unquoted, which PostgreSQL reads as its own value"
        assert said in stderr, stderr
        assert '"user"' in stderr and not out.exists()
    # quoted, it reads the column
    path = tmp_path / "quoted.yaml"
    path.write_text(head + "    columns: {sex: user}\n    filter: '\"user\" <> ''Other'''\n")
    code, stdout, stderr = run("audit", str(path), "--engine", pg_url, "--out", str(tmp_path / "q"))
    assert code in (0, 1), stdout + stderr


@pytest.mark.parametrize(
    ("columns", "said"),
    [
        (
            "{label: now(), prediction: score}",
            "'label' must be 0/1 or true/false, but now() has type timestamp with time zone",
        ),
    ],
)
def test_a_wrong_type_names_the_engine_and_table(
    tmp_path: Path, pg_url: str, compas_table: str, columns: str, said: str
) -> None:
    # these said only "evidence 'predictions': ..." without the engine or the table
    path = tmp_path / "audit.yaml"
    path.write_text(
        f"schema_version: 1\nid: sqltest\npolicy: {POLICY}\nevidence:\n  predictions:\n"
        f"    table: {compas_table}\n    columns: {columns}\n"
    )
    code, stdout, stderr = run("audit", str(path), "--engine", pg_url, "--out", str(tmp_path / "o"))
    assert code == 2, stdout + stderr
    assert said in stderr and f"(table {compas_table}, engine postgresql" in stderr


def test_a_misspelt_mapped_column_names_the_one_meant(
    tmp_path: Path, pg_url: str, compas_table: str
) -> None:
    # found by QA: the table's columns were listed, the close one not named
    path = tmp_path / "audit.yaml"
    path.write_text(
        f"schema_version: 1\nid: sqltest\npolicy: {POLICY}\nevidence:\n  predictions:\n"
        f"    table: {compas_table}\n    columns: {{label: label_valeu, prediction: score}}\n"
    )
    code, stdout, stderr = run("audit", str(path), "--engine", pg_url, "--out", str(tmp_path / "o"))
    assert code == 2 and "Traceback" not in stderr, stdout + stderr
    assert "the expression for 'label' (label_valeu) does not evaluate" in stderr
    assert "column \"label_valeu\" does not exist (did you mean 'label_value'?)" in stderr


def test_a_table_of_another_database_names_the_fix(tmp_path: Path, pg_url: str) -> None:
    # the hint was "check the table, columns and filter against the database"
    target = with_user(pg_url, sa.make_url(sa_url(pg_url)).username or "postgres")
    stderr = _bad(tmp_path, "    table: otherdb.engine_tests.compas\n", target)
    assert "cross-database references are not implemented" in stderr
    assert "hint: PostgreSQL reads the tables of the database the engine connects to" in stderr
    assert "name the table schema.name and put its database in the engine's URL" in stderr
