"""Delta tables audited from their Parquet files (delta-rs lists them): DuckDB and Spark.

The oracle is the same rows as a CSV file: ProPublica's COMPAS sample (Aequitas' recoding,
7,214 people) written by ``deltalake`` as a table partitioned by sex and age band, in two
versions (half the rows, then the rest appended). Auditing the table (latest version, or
``version: 0``) must give the rule results of auditing the CSV of the same rows, on DuckDB and
on a local Spark session without delta-spark; the report names the version and binds every
file read, and ``verify --evidence`` catches a changed file. Features that reading the files
alone would get wrong are refused, located, with exit 2 and nothing written.
"""

from __future__ import annotations

import builtins
import json
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from click.testing import CliRunner
from tests.jsonclose import TIMINGS, differences

from ethicsgate.audit import run_audit
from ethicsgate.audit.result import AuditResult
from ethicsgate.cli import cli

deltalake = pytest.importorskip("deltalake")

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "policies" / "recidivism-fairness.yaml"
COMPAS = ROOT / "examples" / "data" / "compas_for_aequitas.csv"
COLUMNS = "    columns:\n      label: label_value\n      prediction: score\n"


def _spec(folder: Path, evidence: str, name: str = "audit.yaml") -> Path:
    spec = folder / name
    spec.write_text(
        f"schema_version: 1\nid: delta\npolicy: {POLICY}\nevidence:\n  predictions:\n"
        f"{evidence}{COLUMNS}"
    )
    return spec


@pytest.fixture(scope="module")
def compas(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The COMPAS rows as a two-version Delta table and as CSV files of each version's rows."""
    folder = tmp_path_factory.mktemp("delta")
    rows = pacsv.read_csv(COMPAS)
    half = rows.num_rows // 2
    table = folder / "compas"
    deltalake.write_deltalake(table, rows.slice(0, half), partition_by=["sex", "age_cat"])
    deltalake.write_deltalake(table, rows.slice(half), mode="append")
    for name, part in (("first.csv", rows.slice(0, half)), ("all.csv", rows)):
        pacsv.write_csv(part, folder / name)
    return {"folder": folder, "table": table}


def _rules(result: AuditResult) -> list[dict[str, Any]]:
    return [r.model_dump(mode="json") for r in result.rules]


def _same(expected: AuditResult, actual: AuditResult) -> None:
    assert actual.status == expected.status
    found = differences(_rules(expected), _rules(actual), skip=TIMINGS)
    assert not found, "\n".join(found[:20])


def test_the_latest_version_audits_as_its_rows(compas: dict[str, Path]) -> None:
    folder = compas["folder"]
    delta = run_audit(_spec(folder, "    path: compas\n"))
    plain = run_audit(_spec(folder, "    path: all.csv\n", "csv.yaml"))
    _same(plain, delta)
    [evidence] = delta.audit.evidence
    assert (evidence.format, evidence.version, evidence.rows_read) == ("delta", "delta:1", 7214)
    active = deltalake.DeltaTable(str(compas["table"])).file_uris()
    assert len(evidence.files) == len(active) > 2  # every partition's file, and the appended one
    assert all(f.path.endswith(".parquet") and len(f.sha256) == 64 for f in evidence.files)
    assert "sex=Female/age_cat=25%20-%2045/" in " ".join(f.path for f in evidence.files)


def test_a_pinned_version_audits_its_own_rows(compas: dict[str, Path]) -> None:
    folder = compas["folder"]
    delta = run_audit(_spec(folder, "    path: compas\n    version: 0\n", "v0.yaml"))
    plain = run_audit(_spec(folder, "    path: first.csv\n", "first.yaml"))
    _same(plain, delta)
    assert delta.audit.evidence[0].version == "delta:0"
    assert delta.audit.evidence[0].rows_read == 3607


def test_the_python_api_pins_a_version_too(compas: dict[str, Path]) -> None:
    import ethicsgate

    folder = compas["folder"]
    entry = {"path": str(compas["table"]), "version": 0}
    entry["columns"] = {"label": "label_value", "prediction": "score"}  # type: ignore[assignment]
    report = ethicsgate.audit(POLICY, {"predictions": entry})
    _same(run_audit(_spec(folder, "    path: first.csv\n", "api.yaml")), report.result)
    assert report.result.audit.evidence[0].version == "delta:0"
    with pytest.raises(
        ethicsgate.AuditSpecError, match="format, options and version are for files"
    ):
        ethicsgate.audit(POLICY, {"predictions": {"data": pa.table({"a": [1]}), "version": 0}})


def test_empty_and_escaped_partition_values_read_as_delta_reads_them(tmp_path: Path) -> None:
    values = ["a b", "x/y", "50%", "c:d", "é", "=", "01234", "", None]
    rows = pa.table({"k": values, "y": list(range(len(values)))})
    deltalake.write_deltalake(tmp_path / "t", rows, partition_by=["k"])
    from ethicsgate.engines.duckdb import open_evidence
    from ethicsgate.evidence.spec import EvidenceSpec

    dataset = open_evidence(
        "t",
        EvidenceSpec(path="t"),
        base_dir=tmp_path,
        locate=lambda key: None,  # type: ignore[arg-type, return-value]
    )
    found = dict(dataset.con.sql(f"SELECT y, k FROM {dataset.source_sql()}").fetchall())
    # Delta reads an empty partition value as NULL
    assert found == {i: (v or None) for i, v in enumerate(values)}


def test_the_spark_engine_reads_the_files_without_delta_spark(
    compas: dict[str, Path], engine: Any
) -> None:
    folder = compas["folder"]
    for evidence, version in (
        ("    path: compas\n", "delta:1"),
        ("    path: compas\n    version: 0\n", "delta:0"),
    ):
        spec = _spec(folder, evidence, f"spark-{version[-1]}.yaml")
        duck, spark = run_audit(spec), run_audit(spec, engine=engine)
        _same(duck, spark)
        assert spark.audit.evidence[0].table is not None
        assert spark.audit.evidence[0].table.version == version
        assert duck.audit.evidence[0].version == version


def test_spark_takes_partition_values_from_the_log_not_the_folders(
    compas: dict[str, Path], tmp_path: Path, engine: Any
) -> None:
    # files moved out of their column=value folders (random prefixes), and an empty value:
    # DuckDB refuses the first (it reads folders), Spark reads both from the log
    values = ["a b", "é", "", None, "01234"]
    rows = pa.table({"k": values, "label_value": [0, 1, 1, 0, 1], "score": [1, 0, 1, 1, 0]})
    for name in ("moved", "kept"):
        deltalake.write_deltalake(tmp_path / name, rows, partition_by=["k"])
    _moved_out_of_its_folder(tmp_path / "moved")
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "schema_version: 1\nid: p\nversion: '1'\ntitle: t\nowner: o\nrules:\n  - id: r\n"
        "    kind: fairness\n    dataset: predictions\n    severity: info\n"
        "    sensitive_features: [k]\n    metrics: [count, selection_rate]\n"
        "    min_group_size: 1\n"
    )
    results = {}
    for name in ("moved", "kept"):
        spec = tmp_path / f"{name}.yaml"
        spec.write_text(
            f"schema_version: 1\nid: t\npolicy: policy.yaml\nevidence:\n  predictions:\n"
            f"    path: {name}\n{COLUMNS}"
        )
        results[name] = run_audit(spec, engine=engine)
    expected = {"a b": 1, "é": 1, None: 2, "01234": 1}
    for result in results.values():
        assert {g.group["k"]: g.count for g in result.rules[0].groups} == expected
    _same(run_audit(tmp_path / "kept.yaml"), results["moved"])


def test_verify_evidence_rehashes_the_table_files(
    compas: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(compas["table"], tmp_path / "compas")
    monkeypatch.chdir(tmp_path)
    _spec(tmp_path, "    path: compas\n")
    runner = CliRunner()
    assert runner.invoke(cli, ["keys", "generate", "--out", "keys"]).exit_code == 0
    audited = runner.invoke(
        cli, ["audit", "audit.yaml", "--out", "report", "--key", "keys/ethicsgate.key"]
    )
    assert audited.exit_code in (0, 1), audited.stderr
    verify = ["verify", "report", "--key", "keys/ethicsgate.pub", "--evidence"]
    assert runner.invoke(cli, verify).exit_code == 0
    changed = sorted((tmp_path / "compas").rglob("*.parquet"))[0]
    changed.write_bytes(changed.read_bytes()[:-8] + b"\0" * 8)
    failed = runner.invoke(cli, verify)
    assert failed.exit_code == 1
    assert f"{changed.name}: sha256 differs" in failed.stderr


def _moved_out_of_its_folder(table: Path) -> None:
    """Lay a table's files out as with random prefixes: partition values in the log only."""
    log = table / "_delta_log" / f"{0:020d}.json"
    actions = [json.loads(line) for line in log.read_text().splitlines()]
    for action in actions:
        if "add" in action:
            old = table / unquote(action["add"]["path"])  # the log escapes the path once more
            new = table / "ab" / old.name
            new.parent.mkdir(exist_ok=True)
            old.rename(new)
            action["add"]["path"] = f"ab/{old.name}"
    log.write_text("\n".join(json.dumps(a) for a in actions) + "\n")


@pytest.mark.parametrize(
    ("case", "evidence", "message", "line"),
    [
        ("no such version", "    path: compas\n    version: 7\n", "its latest version is 1", 7),
        (
            "version of a CSV",
            "    path: data.csv\n    version: 1\n",
            "version 1 applies to Delta tables",
            7,
        ),
        ("column mapping", "    path: mapped\n", "uses column mapping (name)", 6),
        ("random prefixes", "    path: moved\n", "keeps partition 'sex' of", 6),
        (
            "not a table",
            "    path: empty\n    format: delta\n",
            "cannot read the Delta table at",
            6,
        ),
        ("every row deleted", "    path: gone\n", "holds no data files", 6),
        (
            "in an object store",
            "    path: s3://bucket/t\n    format: delta\n",
            "from a local folder only",
            6,
        ),
    ],
)
def test_what_the_files_alone_would_get_wrong_exits_2_located(
    compas: dict[str, Path], tmp_path: Path, case: str, evidence: str, message: str, line: int
) -> None:
    shutil.copytree(compas["table"], tmp_path / "compas")
    (tmp_path / "data.csv").write_text("label_value,score,race,sex\n1,1,a,b\n")
    rows = pa.table({"sex": ["a", "b"], "label_value": [0, 1], "score": [1, 0], "race": ["x", "y"]})
    deltalake.write_deltalake(
        tmp_path / "mapped", rows, configuration={"delta.columnMapping.mode": "name"}
    )
    deltalake.write_deltalake(tmp_path / "moved", rows, partition_by=["sex"])
    _moved_out_of_its_folder(tmp_path / "moved")
    (tmp_path / "empty").mkdir()
    deltalake.write_deltalake(tmp_path / "gone", rows)
    deltalake.DeltaTable(str(tmp_path / "gone")).delete()
    spec = _spec(tmp_path, evidence)
    result = CliRunner().invoke(cli, ["audit", str(spec), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, (case, result.stderr)
    assert message in result.stderr, (case, result.stderr)
    assert f"{spec}:{line}:" in result.stderr, (case, result.stderr)
    assert "hint:" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_without_deltalake_the_error_says_how_to_install_it(
    compas: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = builtins.__import__

    def refuse(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.split(".")[0] == "deltalake":
            raise ImportError(f"No module named {name!r}")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse)
    spec = _spec(compas["folder"], "    path: compas\n", "no-deltalake.yaml")
    result = CliRunner().invoke(cli, ["audit", str(spec), "--out", str(compas["folder"] / "x")])
    assert result.exit_code == 2
    assert "needs the deltalake package" in result.stderr
    assert 'pip install "ethicsgate[delta]"' in result.stderr


def test_month_windows_over_a_table_partitioned_by_day(tmp_path: Path) -> None:
    # the common lakehouse layout: one folder per day; the window column is the partition
    # column, which DuckDB reads from the folder names (no footer statistics for it)
    import datetime as dt
    import random

    rng = random.Random(7)
    n = 5_000
    rows = pa.table(
        {
            "day": [dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(365)) for _ in range(n)],
            "sex": [rng.choice("fm") for _ in range(n)],
            "label_value": [rng.randrange(2) for _ in range(n)],
            "score": [rng.randrange(2) for _ in range(n)],
        }
    )
    deltalake.write_deltalake(tmp_path / "daily", rows, partition_by=["day"])
    pacsv.write_csv(rows, tmp_path / "daily.csv")
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "schema_version: 1\nid: p\nversion: '1'\ntitle: t\nowner: o\nrules:\n  - id: r\n"
        "    kind: fairness\n    dataset: predictions\n    severity: info\n"
        "    sensitive_features: [sex]\n    metrics: [selection_rate, true_positive_rate]\n"
        "    min_group_size: 1\n"
    )
    results = []
    for source in ("daily", "daily.csv"):
        spec = tmp_path / f"{source}.yaml"
        spec.write_text(
            "schema_version: 1\nid: t\npolicy: policy.yaml\nevidence:\n  predictions:\n"
            f"    path: {source}\n    window: {{column: day, every: month}}\n{COLUMNS}"
        )
        results.append(run_audit(spec))
    _same(results[1], results[0])
    assert len(results[0].rules[0].windows) == 12
