"""Evidence identity on Spark: tables, queries and URIs are pinned by a digest Spark computes.

The digest (``sum-xxhash64-2x64``) must equal the obvious computation (each row's hash
fetched and summed in Python), be the same for the same rows in any order or partitioning,
change when one row changes or repeats, and be computed on the way by the grouped pass.
Delta tables by path are read from their files when the session has no Delta data source (no
delta-spark release supports this PySpark yet), or refused, located, without deltalake.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ethicsgate.audit import run_audit
from ethicsgate.audit.spec import load_audit_spec
from ethicsgate.errors import EvidenceError

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "policies" / "recidivism-fairness.yaml"
COMPAS = ROOT / "examples" / "data" / "compas_for_aequitas.csv"
ROWS = [(1, "a", None, 0.5), (2, "b", "c", -0.0), (3, None, "d", 1e300), (4, "e", "f", None)]
MASK = (1 << 64) - 1


def _view(spark: Any, name: str, rows: list[tuple[Any, ...]], partitions: int = 1) -> str:
    frame = spark.createDataFrame(rows, "k BIGINT, x STRING, y STRING, z DOUBLE")
    frame.repartition(partitions).createOrReplaceTempView(name)
    return name


def _dataset(engine: Any, tmp_path: Path, evidence: str, name: str = "audit.yaml") -> Any:
    spec = tmp_path / name
    spec.write_text(
        f"schema_version: 1\nid: t\npolicy: {POLICY}\nevidence:\n  predictions:\n{evidence}"
    )
    loaded = load_audit_spec(spec)
    return engine.open(
        "predictions",
        loaded.spec.evidence["predictions"],
        base_dir=tmp_path,
        locate=lambda key: loaded.document.locate(("evidence", "predictions", *key)),
    )


def test_digest_equals_a_python_sum_of_row_hashes(spark: Any, engine: Any, tmp_path: Path) -> None:
    _view(spark, "id_rows", ROWS, partitions=3)
    identity = _dataset(engine, tmp_path, "    table: id_rows\n").identity()
    # the obvious way: each row's xxhash64 (values, then the NULL mask), summed in Python
    mask = " + ".join(
        f"CASE WHEN {c} IS NULL THEN {1 << i} ELSE 0 END" for i, c in enumerate("kxyz")
    )
    rows = spark.sql(
        f"SELECT h, xxhash64(h) FROM (SELECT xxhash64(k, x, y, z, CAST({mask} AS BIGINT)) AS h "
        "FROM id_rows)"
    ).collect()
    lane1 = sum(r[0] for r in rows) & MASK
    lane2 = sum(r[1] for r in rows) & MASK
    assert identity.rows == len(ROWS)
    assert identity.content_digest == f"{lane1:016x}{lane2:016x}"
    assert identity.digest_kind == "sum-xxhash64-2x64"
    assert identity.table == "id_rows" and identity.version is None


def test_digest_ignores_order_and_partitions_but_not_a_changed_or_repeated_row(
    spark: Any, engine: Any, tmp_path: Path
) -> None:
    cases = {
        "same": (ROWS, 1),
        "reordered": (list(reversed(ROWS)), 4),
        "changed": ([*ROWS[:3], (4, "e", "f", 0.25)], 1),
        "repeated": ([*ROWS, ROWS[0]], 1),
        "moved_null": ([(1, None, "a", 0.5), *ROWS[1:]], 1),
    }
    digests = {}
    for name, (rows, partitions) in cases.items():
        _view(spark, f"id_{name}", rows, partitions)
        found = _dataset(engine, tmp_path, f"    table: id_{name}\n", f"{name}.yaml").identity()
        digests[name] = found.content_digest
    assert digests["same"] == digests["reordered"]
    assert len({digests[n] for n in ("same", "changed", "repeated", "moved_null")}) == 4


def test_the_grouped_pass_computes_the_digest_on_the_way(
    spark: Any, engine: Any, tmp_path: Path
) -> None:
    spark.read.csv(str(COMPAS), header=True, inferSchema=True).createOrReplaceTempView("id_c")
    alone = _dataset(engine, tmp_path, "    table: id_c\n").identity()
    dataset = _dataset(engine, tmp_path, "    table: id_c\n    filter: sex = 'Male'\n", "f.yaml")
    counts = dataset.grouped_counts(roles=["race", "label_value"])
    assert dataset._identity is not None  # pinned by the grouped pass, no pass of its own
    assert list(counts.frame.columns) == ["race", "label_value", "n"]
    assert counts.rows_read == alone.rows == 7214 and counts.rows < 7214
    assert dataset.identity().content_digest == alone.content_digest


def test_report_binds_a_table_and_a_uri_but_hashes_local_files(
    spark: Any, engine: Any, tmp_path: Path
) -> None:
    spark.read.csv(str(COMPAS), header=True, inferSchema=True).createOrReplaceTempView("id_r")
    columns = "    columns:\n      label: label_value\n      prediction: score\n"
    parquet = tmp_path / "compas"
    spark.table("id_r").write.parquet(str(parquet))
    reports = {}
    for name, evidence in {
        "table": "    table: id_r\n",
        "uri": f"    path: file://{parquet}\n    format: parquet\n",
        "file": f"    path: {parquet}/*.parquet\n",
    }.items():
        spec = tmp_path / f"{name}.yaml"
        spec.write_text(
            f"schema_version: 1\nid: t\npolicy: {POLICY}\nevidence:\n  predictions:\n"
            f"{evidence}{columns}"
        )
        result = run_audit(spec, engine=engine)
        reports[name] = json.loads(result.model_dump_json())["audit"]["evidence"][0]
    for name in ("table", "uri"):
        table = reports[name]["table"]
        assert table["rows"] == 7214 and table["digest_kind"] == "sum-xxhash64-2x64"
        assert table["engine"] == "spark local[2]" and reports[name]["files"] == []
    assert reports["table"]["table"]["content_digest"] == reports["uri"]["table"]["content_digest"]
    assert reports["table"]["table"]["table"] == "id_r"
    assert "table" not in reports["file"] and reports["file"]["files"][0]["sha256"]


def _delta_table(folder: Path) -> Path:
    """Write a Delta table by its protocol: two commits, the second removing a file."""
    log = folder / "_delta_log"
    log.mkdir(parents=True)
    schema = {
        "type": "struct",
        "fields": [
            {"name": n, "type": t, "nullable": True, "metadata": {}}
            for n, t in (
                ("race", "string"),
                ("sex", "string"),
                ("label_value", "long"),
                ("score", "long"),
            )  # fmt: skip
        ],
    }
    files = []
    for part in range(2):
        name = f"part-{part}.parquet"
        table = pa.table({"race": ["A", "B"], "sex": ["Male", "Female"], "label_value": [0, 1],
                          "score": [part, 1]})  # fmt: skip
        pq.write_table(table, folder / name)
        files.append({"path": name, "partitionValues": {}, "size": (folder / name).stat().st_size,
                      "modificationTime": 0, "dataChange": True})  # fmt: skip
    first = [
        {"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}},
        {"metaData": {"id": "00000000-0000-0000-0000-000000000001", "format": {"provider":
            "parquet", "options": {}}, "schemaString": json.dumps(schema),
            "partitionColumns": [], "configuration": {}, "createdTime": 0}},
        *({"add": f} for f in files),
    ]  # fmt: skip
    second = [{"remove": {"path": files[0]["path"], "deletionTimestamp": 1, "dataChange": True}}]
    for version, actions in enumerate((first, second)):
        (log / f"{version:020d}.json").write_text("\n".join(json.dumps(a) for a in actions))
    return folder


def test_a_delta_table_by_path_is_read_from_its_files_or_refused_with_the_versions(
    engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ethicsgate.engines.spark.versions import delta_log_version

    table = _delta_table(tmp_path / "decisions")
    assert delta_log_version(table) == 1
    dataset = _dataset(engine, tmp_path, "    path: decisions\n")
    assert dataset.format == "delta" and dataset.delta_path == str(table)
    # no delta-spark on this session: the version's files are read (deltalake lists them);
    # the second commit removed part-0, so two rows are left
    assert dataset.identity().rows == 2 and dataset.identity().version == "delta:1"
    # without deltalake either, the refusal names both ways and the versions
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "deltalake" else real(name, *a),
    )
    refused = _dataset(engine, tmp_path, "    path: decisions\n", "refused.yaml")
    with pytest.raises(EvidenceError, match="is a Delta table, but this Spark session") as err:
        refused.columns()
    assert "Spark 4." in str(err.value) and "delta-spark" in str(err.value)
    assert 'pip install "ethicsgate[delta]"' in str(err.value)
    assert str(err.value).startswith(str(tmp_path / "refused.yaml"))  # located at path:


def test_digest_reads_every_column_type_and_repeated_names(
    spark: Any, engine: Any, tmp_path: Path
) -> None:
    spark.sql(
        "SELECT 1 AS k, map('a', 1) AS m, array(1, NULL) AS a, named_struct('x', 1.5D) AS s, "
        "CAST(2.50 AS DECIMAL(10, 2)) AS d, X'00FF' AS b, DATE'2026-01-01' AS day, "
        "TIMESTAMP'2026-01-01 10:00:00' AS ts, CAST(NULL AS STRING) AS nothing"
    ).createOrReplaceTempView("id_types")
    typed = _dataset(engine, tmp_path, "    table: id_types\n").identity()
    assert typed.rows == 1 and len(typed.content_digest) == 32
    # a query whose result repeats a column name is digested too (columns taken by position)
    repeated = _dataset(engine, tmp_path, '    query: "SELECT k, k FROM id_types"\n', "q.yaml")
    found = repeated.identity()
    assert found.rows == 1 and found.query_sha256 is not None and found.table is None


def test_a_data_quality_rule_is_refused_with_the_versions(engine: Any, tmp_path: Path) -> None:
    from importlib import metadata

    spec = tmp_path / "dq.yaml"
    data = ROOT / "examples" / "hiring" / "applicants.csv"
    spec.write_text(
        f"schema_version: 1\nid: t\npolicy: {ROOT / 'policies' / 'eeoc-four-fifths.yaml'}\n"
        f"evidence:\n  applicants:\n    path: {data}\n    columns:\n      prediction: advanced\n"
    )
    with pytest.raises(EvidenceError, match="'selection-data-contract': data_quality") as err:
        run_audit(spec, engine=engine)
    assert f"Great Expectations {metadata.version('great_expectations')}" in str(err.value)
    assert f"PySpark {metadata.version('pyspark')}" in str(err.value)
    assert "--engine duckdb" in (err.value.hint or "")


def test_verify_says_it_cannot_recheck_a_spark_digest(
    spark: Any, engine: Any, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ethicsgate.attest.verify import verify_attestation
    from ethicsgate.session.audit import run_and_report

    spark.read.csv(str(COMPAS), header=True, inferSchema=True).createOrReplaceTempView("id_v")
    spec = tmp_path / "v.yaml"
    spec.write_text(
        f"schema_version: 1\nid: t\npolicy: {POLICY}\nevidence:\n  predictions:\n"
        "    table: id_v\n    columns:\n      label: label_value\n      prediction: score\n"
    )
    key = Ed25519PrivateKey.generate()
    run_and_report(spec, out=tmp_path / "r", key=key, engine=engine)
    found = verify_attestation(tmp_path / "r", key.public_key(), check_files=True)
    assert found.ok, found.reasons
    assert len(found.notes) == 1
    assert "evidence 'predictions' was read by an engine (a database or Spark)" in found.notes[0]
    assert "does not connect" in found.notes[0] and "content_digest" in found.notes[0]
