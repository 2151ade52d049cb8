"""``ethicsgate.audit`` in Python: the same results and bytes as the CLI, frames of every kind.

The oracle for an in-memory audit is the same audit of the same rows written to a file and run
by the CLI's core: rule results must be equal, field for field.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from tests.cli.test_audit_cli import FAILING, PASSING
from tests.conftest import POLICY, ROOT
from tests.folders import Clock, folder_bytes

import ethicsgate
from ethicsgate.attest import generate_keypair
from ethicsgate.audit.run import run_audit
from ethicsgate.cli import cli
from ethicsgate.errors import AuditSpecError, EvidenceError, PolicyError, VerificationError
from ethicsgate.testing import assert_policy

#: Two features, a mapped label, a prediction from a score, a filter; intervals and tests.
RICH_POLICY = """
schema_version: 1
id: rich-policy
version: "1"
title: Rich policy
owner: Tests
rules:
  - id: parity
    kind: fairness
    dataset: predictions
    sensitive_features: [sex, race]
    metrics: [selection_rate, true_positive_rate, false_positive_rate]
    min_group_size: 5
    uncertainty: {confidence_level: 0.9, bootstrap_samples: 50, seed: 7, test: auto}
    assert:
      - {metric: selection_rate, aggregate: ratio, op: ">=", value: 0.8}
      - {metric: true_positive_rate, aggregate: difference, op: "<=", value: 0.2}
"""

RICH_COLUMNS = {"label": "y", "prediction": "score >= 0.5"}
RICH_FILTER = "race <> 'other'"


def _rich_frame(n: int = 3000, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["f", "m"], n)
    race = rng.choice(["a", "b", "c", "other"], n, p=[0.4, 0.3, 0.25, 0.05])
    score = np.clip(rng.normal(0.5, 0.2, n) + np.where(sex == "m", 0.08, 0.0), 0, 1)
    y = (rng.random(n) < score).astype("int64")
    return pd.DataFrame({"sex": sex, "race": race, "y": y, "score": score, "extra": np.arange(n)})


def _rules(report_rules: list[Any]) -> list[dict[str, Any]]:
    return [r.model_dump(mode="json") for r in report_rules]


def _csv_frame(text: str) -> pd.DataFrame:
    rows = [line.split(",") for line in text.strip().splitlines()]
    frame = pd.DataFrame(rows[1:], columns=rows[0])
    return frame.astype({"label": "int64", "prediction": "int64"})


# -- the API and the CLI --------------------------------------------------------------------


def test_an_audit_spec_gives_the_cli_bytes_signed(
    make_audit: Callable[..., Path],
    tmp_path: Path,
    frozen_clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    spec = make_audit(FAILING)
    pair = generate_keypair(tmp_path / "keys")
    report = ethicsgate.audit(spec.name, clock=frozen_clock)
    assert report.status == "fail" and not report.passed
    assert report.spec_json == spec.read_bytes()
    written = report.write(tmp_path / "api", key=pair.private_path)
    assert sorted(written) == [
        "findings.parquet",
        "groups.csv",
        "groups.parquet",
        "report.html",
        "report.intoto.json",
        "report.json",
        "report.md",
    ]

    real = ethicsgate.audit.run_audit

    def frozen(spec: object, **kwargs: object) -> object:
        return real(spec, **{**kwargs, "clock": frozen_clock})  # type: ignore[arg-type]

    monkeypatch.setattr(ethicsgate.audit, "run_audit", frozen)
    args = ["audit", spec.name, "--out", "cli", "--key", str(pair.private_path)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    assert folder_bytes(tmp_path / "cli") == folder_bytes(tmp_path / "api")
    assert report.files(pair.private_path) == folder_bytes(tmp_path / "api")
    # a report sent to another process (pickled) keeps its findings file, in a folder of its own
    copy = pickle.loads(pickle.dumps(report))
    assert (
        copy.findings_parquet == report.findings_parquet == written["findings.parquet"].read_bytes()
    )
    assert copy.findings_file is not None and report.findings_file is not None
    assert copy.findings_file.path.parent != report.findings_file.path.parent


def test_a_frame_gives_the_rule_results_of_its_file(
    write: Callable[[str, str], Path], tmp_path: Path, frozen_clock: Clock
) -> None:
    frame = _rich_frame()
    policy = write("policy.yaml", RICH_POLICY)
    frame.to_parquet(tmp_path / "data.parquet")
    spec = write(
        "audit.yaml",
        f"""
        schema_version: 1
        id: rich
        policy: policy.yaml
        evidence:
          predictions:
            path: data.parquet
            filter: "{RICH_FILTER}"
            columns: {json.dumps(RICH_COLUMNS)}
        """,
    )
    from_file = run_audit(spec, clock=frozen_clock)
    entry = {"data": frame, "columns": RICH_COLUMNS, "filter": RICH_FILTER}
    in_memory = ethicsgate.audit(policy, {"predictions": entry}, id="rich", clock=frozen_clock)
    assert from_file.rules[0].groups, "the oracle audit evaluated groups"
    assert _rules(in_memory.rules) == _rules(from_file.rules)
    assert in_memory.result.summary == from_file.summary
    memory, file = in_memory.result.audit.evidence[0], from_file.audit.evidence[0]
    assert (memory.rows_read, memory.rows) == (file.rows_read, file.rows) == (3000, file.rows)
    assert memory.format == "arrow" and memory.path == "predictions.parquet"
    assert memory.files[0].path == "arrow-ipc-sha256:predictions.parquet"
    assert in_memory.result.audit.spec_path == "python:ethicsgate.audit"
    import hashlib

    assert hashlib.sha256(in_memory.spec_json).hexdigest() == in_memory.result.audit.spec_sha256
    described = json.loads(in_memory.spec_json)["evidence"]["predictions"]
    assert described["data"] == {
        "kind": "pandas.DataFrame",
        "columns": ["sex", "race", "y", "score", "extra"],
        "rows": 3000,
    }
    assert described["filter"] == RICH_FILTER and described["columns"] == RICH_COLUMNS
    markdown = in_memory.files()["report.md"].decode()
    assert "(a frame in memory, to be saved there, 3,000 rows read" in markdown
    assert f"arrow-ipc-sha256 `{memory.sha256}`" in markdown


@pytest.mark.parametrize(
    "convert",
    [
        pytest.param(lambda df: pa.Table.from_pandas(df, preserve_index=False), id="pyarrow"),
        pytest.param(
            lambda df: pa.Table.from_pandas(df, preserve_index=False).to_reader(max_chunksize=333),
            id="record-batch-reader",
        ),
        pytest.param(lambda df: duckdb.from_df(df), id="duckdb-relation"),
        pytest.param(
            lambda df: df.astype({"sex": "category", "race": "category"}), id="pandas-categorical"
        ),
        pytest.param(lambda df: df.iloc[::-1].iloc[::-1], id="pandas-non-range-index"),
        pytest.param(lambda df: pl.from_pandas(df), id="polars"),
        pytest.param(lambda df: pl.from_pandas(df).lazy(), id="polars-lazy"),
        pytest.param(
            lambda df: pl.from_pandas(df).with_columns(pl.col("sex", "race").cast(pl.Categorical)),
            id="polars-categorical",  # dictionary<string_view>: pyarrow cannot decode it as is
        ),
        pytest.param(
            lambda df: pl.from_pandas(df).with_columns(
                pl.col("sex").cast(pl.Enum(sorted(df["sex"].unique())))
            ),
            id="polars-enum",
        ),
    ],
)
def test_every_kind_of_frame_gives_the_same_results_and_digest(
    write: Callable[[str, str], Path], frozen_clock: Clock, convert: Callable[[Any], Any]
) -> None:
    frame = _rich_frame(n=1200, seed=5)
    policy = write("policy.yaml", RICH_POLICY)

    def run(data: Any) -> ethicsgate.AuditReport:
        entry = {"data": data, "columns": RICH_COLUMNS, "filter": RICH_FILTER}
        return ethicsgate.audit(policy, {"predictions": entry}, clock=frozen_clock)

    reference, other = run(frame), run(convert(frame))
    assert _rules(other.rules) == _rules(reference.rules)
    assert other.result.audit.evidence[0].sha256 == reference.result.audit.evidence[0].sha256
    assert other.result.audit.evidence[0].rows == reference.result.audit.evidence[0].rows


def test_a_path_or_a_bare_frame_is_an_entry_too(
    make_audit: Callable[..., Path],
    tmp_path: Path,
    frozen_clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    make_audit(FAILING)
    by_path = ethicsgate.audit("policy.yaml", {"predictions": "data.csv"}, clock=frozen_clock)
    bare = ethicsgate.audit("policy.yaml", {"predictions": _csv_frame(FAILING)}, clock=frozen_clock)
    by_spec = run_audit("audit.yaml", clock=frozen_clock)
    assert _rules(by_path.rules) == _rules(bare.rules) == _rules(by_spec.rules)
    assert by_path.result.audit.evidence == by_spec.audit.evidence


def test_a_naive_clock_is_read_as_local_time_and_reported_with_its_offset(
    make_audit: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the Python API QA: clock=lambda: datetime(2026, 1, 1) wrote report times with
    no zone, which read differently on every reader's machine."""
    import time
    from datetime import UTC, datetime

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        make_audit(FAILING)
        report = ethicsgate.audit(
            "policy.yaml", {"predictions": "data.csv"}, clock=lambda: datetime(2026, 1, 1, 9)
        )
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    # 09:00 in New York, in UTC
    assert report.result.audit.started_at == "2026-01-01T14:00:00+00:00"
    assert json.loads(report.files()["report.json"])["audit"]["started_at"] == (
        "2026-01-01T14:00:00+00:00"
    )
    assert datetime(2026, 1, 1, 14, tzinfo=UTC).isoformat() == "2026-01-01T14:00:00+00:00"


# -- evidence identity ----------------------------------------------------------------------


def test_verify_evidence_passes_for_the_frame_saved_and_fails_for_other_rows(
    write: Callable[[str, str], Path],
    tmp_path: Path,
    frozen_clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    pair = generate_keypair(tmp_path / "keys")
    policy = write("policy.yaml", RICH_POLICY)
    frame = _rich_frame(n=70_000, seed=11)  # more than one canonical batch
    frame.loc[3, "sex"] = None
    frame["noise"] = np.where(np.arange(len(frame)) % 5 == 0, np.nan, 0.5)
    frame = frame[frame["extra"] % 7 != 0]  # a non-range index: pandas stores it in Parquet
    entry = {"data": frame, "columns": RICH_COLUMNS, "filter": RICH_FILTER, "path": "pred.parquet"}
    report = ethicsgate.audit(policy, {"predictions": entry}, clock=frozen_clock)
    report.write("out", key=pair.private_path)

    def verify() -> tuple[int, str]:
        args = ["verify", "out", "--key", str(pair.public_path), "--evidence"]
        result = CliRunner().invoke(cli, args)
        return result.exit_code, result.output

    assert verify()[0] == 1  # not saved yet
    assert "pred.parquet: file not found" in verify()[1]
    frame.to_parquet("pred.parquet")
    assert verify() == (0, verify()[1]) and "verified" in verify()[1]
    assert ethicsgate.verify("out", pair.public_path, evidence=True).ok

    feather.write_feather(pa.Table.from_pandas(frame, preserve_index=False), "pred.parquet")
    assert verify()[0] == 0, "an Arrow IPC file of the same rows verifies too"
    pl.from_pandas(frame).write_parquet("pred.parquet")
    assert verify()[0] == 0, "as does polars' Parquet"

    changed = frame.copy()
    changed.iloc[100, changed.columns.get_loc("y")] = 1 - changed.iloc[100]["y"]
    changed.to_parquet("pred.parquet")
    code, output = verify()
    assert code == 1 and "arrow-ipc-sha256 differs" in output


def test_the_digest_is_the_sha256_of_the_plain_ipc_stream_of_a_simple_table() -> None:
    import hashlib

    from ethicsgate.evidence.arrow import arrow_ipc_sha256

    table = pa.table({"g": pa.array(["a", "b", None], pa.large_string()), "n": pa.array([1, 2, 3])})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    stream = sink.getvalue().to_pybytes()
    digest = arrow_ipc_sha256(table)
    assert digest.sha256 == hashlib.sha256(stream).hexdigest()
    assert digest.size == len(stream)
    # the same rows in other chunks and types hash alike; other rows do not
    chunked = pa.Table.from_batches(table.to_batches(max_chunksize=1))
    as_string = table.cast(pa.schema([("g", pa.string()), ("n", pa.int64())]))
    dictionary = table.set_column(0, "g", table.column("g").dictionary_encode())
    assert {arrow_ipc_sha256(t).sha256 for t in (chunked, as_string, dictionary)} == {digest.sha256}
    assert arrow_ipc_sha256(table.slice(1)).sha256 != digest.sha256


def test_null_slots_hash_alike_whatever_bytes_are_under_them() -> None:
    from ethicsgate.evidence.arrow import arrow_ipc_sha256

    values = pa.array([1.5, 99.0, 3.0])
    validity = pa.array([True, False, True]).buffers()[1]
    under_99 = pa.Array.from_buffers(pa.float64(), 3, [validity, values.buffers()[1]], 1)
    under_0 = pa.array([1.5, None, 3.0])
    assert under_99.to_pylist() == under_0.to_pylist()
    assert (
        arrow_ipc_sha256(pa.table({"x": under_99})).sha256
        == arrow_ipc_sha256(pa.table({"x": under_0})).sha256
    )


# -- bad input: located errors, as the CLI gives them ----------------------------------------


def test_a_missing_mapped_column_is_the_error_the_cli_gives(
    make_audit: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    make_audit(PASSING)
    frame = _csv_frame(PASSING)
    with pytest.raises(EvidenceError) as api:
        ethicsgate.audit(
            "policy.yaml", {"predictions": {"data": frame, "columns": {"label": "outcome"}}}
        )
    assert "outcome" in api.value.message
    assert 'evidence["predictions"]["columns"]["label"]' in str(api.value.location)
    pq.write_table(pa.Table.from_pandas(frame), "data.parquet")
    spec = Path("audit.yaml")
    spec.write_text(
        "schema_version: 1\nid: t\npolicy: policy.yaml\nevidence:\n  predictions:\n"
        "    path: data.parquet\n    columns: {label: outcome}\n"
    )
    with pytest.raises(EvidenceError) as cli_error:
        run_audit(spec)
    assert type(api.value) is type(cli_error.value)
    assert api.value.message == cli_error.value.message
    assert CliRunner().invoke(cli, ["audit", str(spec)]).exit_code == 2


@pytest.mark.parametrize(
    ("frame", "error", "fragment"),
    [
        pytest.param(
            pd.DataFrame({"group": ["a", "b"], "label": ["yes", "no"], "prediction": [1, 0]}),
            EvidenceError,
            "label",
            id="wrong-dtype",
        ),
        pytest.param(
            pd.DataFrame({"group": ["a", "b"], "label": [1, 7], "prediction": [1, 0]}),
            EvidenceError,
            "'label' must be 0 or 1, found '7' in row 2",
            id="not-binary",
        ),
        pytest.param(
            pd.DataFrame({"group": pd.Series([], dtype=str), "label": [], "prediction": []}),
            EvidenceError,
            "is empty (0 rows, 3 columns)",
            id="empty",
        ),
        pytest.param(
            pd.DataFrame({"group": ["a", 1], "label": [1, 0], "prediction": [1, 0]}),
            EvidenceError,
            "column 'group' cannot be read as one type",
            id="mixed-object-column",
        ),
        pytest.param(
            pd.DataFrame({"label": [1, 0], "prediction": [1, 0]}),
            EvidenceError,
            "group",
            id="missing-feature-column",
        ),
    ],
)
def test_bad_frames_raise_located_errors_naming_the_column(
    write: Callable[[str, str], Path], frame: pd.DataFrame, error: type[Exception], fragment: str
) -> None:
    policy = write("policy.yaml", POLICY)
    with pytest.raises(error) as raised:
        ethicsgate.audit(policy, {"predictions": {"data": frame}})
    assert fragment in str(raised.value)
    assert "predictions" in str(raised.value)


def test_policy_and_entry_errors_are_located(write: Callable[[str, str], Path]) -> None:
    frame = _csv_frame(PASSING)
    bad = write("bad.yaml", POLICY.replace("selection_rate, false", "selection_rte, false"))
    with pytest.raises(PolicyError, match="selection_rte"):
        ethicsgate.audit(bad, {"predictions": frame})
    good = write("policy.yaml", POLICY)
    with pytest.raises(AuditSpecError, match=r"unknown key 'colums' \(did you mean 'columns'\?\)"):
        ethicsgate.audit(good, {"predictions": {"data": frame, "colums": {}}})
    with pytest.raises(AuditSpecError, match="reads dataset 'predictions'"):
        ethicsgate.audit(good, {"other": frame})
    with pytest.raises(EvidenceError, match="cannot read a builtins.list as a table"):
        ethicsgate.audit(good, {"predictions": {"data": [1, 2]}})


DATA_AT = 'python:ethicsgate.audit(evidence["predictions"]["data"])'


def _columns_frame() -> pd.DataFrame:
    return _csv_frame(PASSING)


def _with_column(frame: pd.DataFrame, name: str, array: pa.Array) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False).append_column(name, array)


def _dense_union(n: int) -> pa.Array:
    """Return n values, alternately an integer and a text: a type DuckDB does not read."""
    return pa.UnionArray.from_dense(
        pa.array([i % 2 for i in range(n)], pa.int8()),
        pa.array([i // 2 for i in range(n)], pa.int32()),
        [pa.array(range(n)), pa.array(["x"] * n)],
    )


@pytest.mark.parametrize(
    ("add", "column", "fix"),
    [
        pytest.param(
            lambda df: df.assign(c=np.ones(len(df), dtype="complex128")),
            "'c'",
            "df.drop(columns=['c'])",
            id="pandas-complex",
        ),
        pytest.param(
            lambda df: df.assign(s=pd.arrays.SparseArray(np.zeros(len(df)))),
            "'s'",
            "df['s'].sparse.to_dense()",
            id="pandas-sparse",
        ),
        pytest.param(
            lambda df: _with_column(df, "big", pa.array([1] * len(df)).cast(pa.decimal256(40, 0))),
            "'big' (decimal256(40, 0))",
            "table.drop_columns(['big'])",
            id="pyarrow-decimal256",
        ),
        pytest.param(
            lambda df: _with_column(df, "u", _dense_union(len(df))),
            "'u' (dense_union",
            "table.drop_columns(['u'])",
            id="pyarrow-dense-union",
        ),
    ],
)
def test_a_column_no_engine_reads_is_named_at_the_data_with_its_fix(
    write: Callable[[str, str], Path], add: Callable[[Any], Any], column: str, fix: str
) -> None:
    """An unused column of a type that cannot be read: the column is named, not a file's path."""
    policy = write("policy.yaml", POLICY)
    with pytest.raises(EvidenceError) as raised:
        ethicsgate.audit(policy, {"predictions": add(_columns_frame())})
    error = raised.value
    assert str(error.location) == DATA_AT, str(error)
    assert column in error.message and fix in (error.hint or ""), str(error)
    assert "file" not in str(error) and "Internal Arrow Type" not in error.message, str(error)


def test_an_error_that_is_no_column_type_is_not_blamed_on_the_columns(
    write: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cast that fails in a mapping: shown as DuckDB says it, no column probed (review)."""
    from ethicsgate.engines.duckdb.dataset import DuckDBDataset

    probed: list[bool] = []
    real = DuckDBDataset._unreadable_columns
    monkeypatch.setattr(
        DuckDBDataset, "_unreadable_columns", lambda self: probed.append(True) or real(self)
    )
    policy = write("policy.yaml", POLICY)
    frame = _columns_frame().assign(decision=lambda f: f["prediction"].map({1: "yes", 0: "no"}))
    entry = {"data": frame, "columns": {"prediction": "CAST(decision AS INTEGER)"}}
    with pytest.raises(EvidenceError) as raised:
        ethicsgate.audit(policy, {"predictions": entry})
    assert "Could not convert string" in raised.value.message, str(raised.value)
    assert "cannot read the type" not in raised.value.message
    assert probed == []


def test_a_float16_column_is_widened_to_float32_and_its_saved_frame_verifies(
    write: Callable[[str, str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB reads no float16; float32 holds every float16 value, so the widening is lossless."""
    monkeypatch.chdir(tmp_path)
    policy = write("policy.yaml", POLICY)
    frame = _columns_frame()
    frame["f16"] = np.resize([0.5, np.nan, 1.5, 3.0, 65504.0, 2**-24], len(frame)).astype("float16")
    frame["score"] = np.resize([0.5, 1.5, 3.0, 0.0], len(frame)).astype("float16")
    entry = {"data": frame, "path": "pred.parquet", "columns": {"prediction": "score >= 1"}}
    report = ethicsgate.audit(policy, {"predictions": entry})
    widened = frame.astype({"f16": "float32", "score": "float32"})
    entry32 = {"data": widened, "path": "pred.parquet", "columns": {"prediction": "score >= 1"}}
    same = ethicsgate.audit(policy, {"predictions": entry32})
    assert _rules(report.rules) == _rules(same.rules)
    assert report.result.audit.evidence[0].sha256 == same.result.audit.evidence[0].sha256
    pair = generate_keypair(tmp_path / "keys")
    report.write("out", key=pair.private_path)
    frame.to_parquet("pred.parquet")  # saved as float16: the digest reads it as float32
    assert pq.read_schema("pred.parquet").field("f16").type == pa.float16()
    assert ethicsgate.verify("out", pair.public_path, evidence=True).ok


def test_a_frame_that_is_no_table_is_located_at_its_data(
    write: Callable[[str, str], Path],
) -> None:
    policy = write("policy.yaml", POLICY)
    with pytest.raises(EvidenceError, match="cannot read a builtins.list") as raised:
        ethicsgate.audit(policy, {"predictions": {"data": [1, 2]}})
    assert str(raised.value.location) == DATA_AT


@pytest.mark.parametrize(
    ("entry", "at"),
    [
        pytest.param(
            {"columns": {"label": "label) FROM (SELECT 1 AS label); SELECT (1"}},
            '["columns"]["label"]',
            id="two-statements",
        ),
        pytest.param(
            {"columns": {"label": "label) AS l, (prediction"}},
            '["columns"]["label"]',
            id="closes-the-parenthesis",
        ),
        pytest.param(
            {
                "columns": {
                    "prediction": "prediction) FROM (SELECT 1 AS prediction) UNION SELECT (1"
                }
            },
            '["columns"]["prediction"]',
            id="a-union",
        ),
        pytest.param(
            {"filter": "true), false) FROM (SELECT 1); SELECT coalesce((true"},
            '["filter"]',
            id="filter-two-statements",
        ),
    ],
)
def test_a_mapping_that_is_not_one_sql_expression_is_located_at_its_key(
    write: Callable[[str, str], Path], entry: dict[str, Any], at: str
) -> None:
    policy = write("policy.yaml", POLICY)
    with pytest.raises(EvidenceError) as raised:
        ethicsgate.audit(policy, {"predictions": {"data": _columns_frame(), **entry}})
    error = raised.value
    assert str(error.location) == f'python:ethicsgate.audit(evidence["predictions"]{at})'
    assert "is not one SQL expression" in error.message, str(error)
    assert "Parser Error" not in str(error)


def test_parentheses_and_semicolons_in_strings_and_names_are_part_of_one_expression(
    write: Callable[[str, str], Path],
) -> None:
    policy = write("policy.yaml", POLICY)
    frame = _columns_frame().rename(columns={"group": "grp (a;b)"})
    frame["note"] = ");"
    entry = {
        "data": frame,
        "columns": {"group": '"grp (a;b)"', "label": "CASE WHEN (label) = 1 THEN 1 ELSE 0 END"},
        "filter": "note = ');' AND \"grp (a;b)\" <> ')' /* ) ; */",
    }
    report = ethicsgate.audit(policy, {"predictions": entry})
    assert report.status == "pass"


def test_an_entry_no_rule_reads_is_an_error_with_the_name_it_was_meant_to_be(
    write: Callable[[str, str], Path],
) -> None:
    """A misspelled entry would otherwise leave its data unaudited, without a word."""
    policy = write("policy.yaml", POLICY)
    frame = _columns_frame()
    with pytest.raises(AuditSpecError) as extra:
        ethicsgate.audit(policy, {"predictions": frame, "predictionz": frame})
    assert str(extra.value.location) == 'python:ethicsgate.audit(evidence["predictionz"])'
    assert "no rule" in extra.value.message and "'predictionz'" in extra.value.message
    assert "did you mean 'predictions'?" in extra.value.message
    assert "predictions" in (extra.value.hint or "")
    with pytest.raises(AuditSpecError) as unrelated:
        ethicsgate.audit(policy, {"predictions": frame, "notes": frame})
    assert "did you mean" not in str(unrelated.value)
    assert "rules of the policy read: predictions" in str(unrelated.value)
    with pytest.raises(AuditSpecError) as alone:  # the misspelling alone: the rule's dataset
        ethicsgate.audit(policy, {"predictionz": frame})
    assert "reads dataset 'predictions'" in alone.value.message
    assert "did you mean 'predictionz'?" not in str(alone.value)
    assert """rename evidence["predictionz"] to 'predictions'""" in (alone.value.hint or "")
    assert str(alone.value.location) == 'python:ethicsgate.audit(evidence["predictionz"])'


def test_a_misspelled_role_under_columns_is_located_in_the_call(
    write: Callable[[str, str], Path],
) -> None:
    """The mapping was ignored: the rule read the column named label, not the one meant."""
    policy = write("policy.yaml", POLICY)
    frame = _columns_frame()
    with pytest.raises(AuditSpecError) as typo:
        ethicsgate.audit(policy, {"predictions": {"data": frame, "columns": {"lable": "group"}}})
    where = 'python:ethicsgate.audit(evidence["predictions"]["columns"]["lable"])'
    assert str(typo.value.location) == where
    assert typo.value.message == (
        "evidence 'predictions' maps 'lable', which is no role ethicsgate knows and no column "
        "policy 'test-policy' names (did you mean 'label'?)"
    )
    assert "the roles ethicsgate knows: label, prediction, score," in (typo.value.hint or "")
    assert """rename the key in evidence["predictions"]["columns"]""" in (typo.value.hint or "")
    known = {"score": "label", "subject_id": "prediction"}  # read or not: allowed
    report = ethicsgate.audit(policy, {"predictions": {"data": frame, "columns": known}})
    assert report.status == "pass"


# -- the report object ----------------------------------------------------------------------


def test_raise_for_status_and_assert_policy_name_the_failing_groups(
    write: Callable[[str, str], Path],
) -> None:
    policy = write("policy.yaml", POLICY)
    failing = _csv_frame(FAILING)
    report = ethicsgate.audit(policy, {"predictions": failing})
    with pytest.raises(ethicsgate.AuditFailed) as raised:
        report.raise_for_status()
    assert [r.id for r in raised.value.failing] == ["parity"]
    message = str(raised.value)
    assert "parity [fail]" in message and "group=b: selection_rate ratio 0, needs >= 0.8" in message
    with pytest.raises(AssertionError, match=r"group=b: selection_rate ratio"):
        assert_policy(policy, {"predictions": failing})
    passing = assert_policy(policy, {"predictions": _csv_frame(PASSING)})
    assert passing.raise_for_status() is passing and passing.status == "pass"


def test_to_pandas_is_one_row_per_rule_group_and_metric(
    write: Callable[[str, str], Path], frozen_clock: Clock
) -> None:
    policy = write("policy.yaml", RICH_POLICY)
    entry = {"data": _rich_frame(), "columns": RICH_COLUMNS, "filter": RICH_FILTER}
    report = ethicsgate.audit(policy, {"predictions": entry}, clock=frozen_clock)
    table = report.to_pandas()
    rule = report.rule("parity")
    assert len(table) == sum(len(g.metrics) for g in rule.groups)
    assert list(table.columns[:5]) == ["rule", "kind", "status", "sex", "race"]
    for group in rule.groups:
        for metric, value in group.metrics.items():
            row = table[
                (table["sex"] == group.group["sex"])
                & (table["race"] == group.group["race"])
                & (table["metric"] == metric)
            ]
            assert len(row) == 1
            assert row["value"].iloc[0] == pytest.approx(value, abs=0)
            interval = group.intervals.get(metric)
            if interval is not None:
                assert row["interval_low"].iloc[0] == interval.low
            test = group.tests.get(metric)
            if test is not None:
                assert row["p_value"].iloc[0] == test.p_value
    assert table["p_value"].notna().any() and table["interval_low"].notna().any()


def test_repr_html_is_the_report_in_an_iframe_with_no_script(
    write: Callable[[str, str], Path],
) -> None:
    policy = write("policy.yaml", POLICY)
    report = ethicsgate.audit(policy, {"predictions": _csv_frame(FAILING)})
    page = report._repr_html_()
    assert page.startswith("<iframe srcdoc=") and page.endswith("</iframe>")
    assert "<script" not in page.lower() and "http://" not in page and "https://" not in page
    assert "&lt;svg" in page, "the charts are inline"
    assert "parity" in page and repr(report).startswith("<AuditReport test-policy: fail")


def test_repr_html_sandboxes_the_iframe_so_nothing_in_it_runs(
    write: Callable[[str, str], Path],
) -> None:
    """The report holds evidence values; a sandbox with no allowances runs no script in it."""
    from html.parser import HTMLParser

    frames: list[dict[str, str | None]] = []

    class Frames(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "iframe":
                frames.append(dict(attrs))

    policy = write("policy.yaml", POLICY)
    frame = _csv_frame(FAILING)
    frame["group"] = frame["group"].replace("b", "<script>alert(1)</script>")
    report = ethicsgate.audit(policy, {"predictions": frame})
    Frames().feed(report._repr_html_())
    assert len(frames) == 1
    attrs = frames[0]
    assert attrs.get("sandbox") == "", attrs.get("sandbox")  # present, and allowing nothing
    page = attrs["srcdoc"] or ""
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script" not in page.lower()
    assert "<svg" in page and "<style" in page, "static styles and inline charts, all it needs"


# -- the package surface --------------------------------------------------------------------


def test_import_ethicsgate_loads_nothing_heavy_and_audit_is_both_names() -> None:
    code = (
        "import sys, ethicsgate\n"
        "heavy = [m for m in ('pandas', 'duckdb', 'pyarrow', 'pydantic', 'yaml', 'numpy',"
        " 'jinja2', 'sqlalchemy') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
        "import ethicsgate.audit.run\n"
        "print(callable(ethicsgate.audit), ethicsgate.audit.run_audit.__name__)\n"
        "from ethicsgate import audit, load_policy, verify, open_store, ReviewStore\n"
        "print(callable(audit), sorted(ethicsgate.__all__) == ethicsgate.__all__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    assert out == ["", "True run_audit", "True True"]


def test_every_exported_name_resolves() -> None:
    for name in ethicsgate.__all__:
        assert getattr(ethicsgate, name) is not None, name
    assert (Path(ethicsgate.__file__).parent / "py.typed").is_file()


def test_record_level_rules_read_frames_as_they_read_files(
    tmp_path: Path, frozen_clock: Clock
) -> None:
    import yaml

    from ethicsgate.examples.bakery import generate_bakery

    generate_bakery(tmp_path)
    spec = yaml.safe_load((tmp_path / "audit.yaml").read_text())
    evidence = {}
    for name, entry in spec["evidence"].items():
        path = str(tmp_path / entry["path"])
        # DuckDB relations read the files with the types the file audit sniffs
        relation = (
            duckdb.read_json(path, format="newline_delimited")
            if path.endswith(".jsonl")
            else duckdb.read_csv(path)
        )
        evidence[name] = {"data": relation, "columns": entry.get("columns", {})}
    in_memory = ethicsgate.audit(tmp_path / "bakery-policy.yaml", evidence, clock=frozen_clock)
    from_files = run_audit(tmp_path / "audit.yaml", clock=frozen_clock)
    assert sum(r.violations or 0 for r in from_files.rules) > 0, "the oracle found violations"
    assert _rules(in_memory.rules) == _rules(from_files.rules)
    assert {e.format for e in in_memory.result.audit.evidence} == {"arrow"}


def test_contracts_report_checks_a_frame_as_it_checks_a_file(
    write: Callable[[str, str], Path], tmp_path: Path, frozen_clock: Clock
) -> None:
    frame = _csv_frame(PASSING)
    frame.loc[3, "label"] = 7  # breaks the built-in contract: label must be 0/1
    policy = write("policy.yaml", POLICY)
    frame.to_parquet(tmp_path / "data.parquet")
    spec = write(
        "audit.yaml",
        """
        schema_version: 1
        id: t
        policy: policy.yaml
        contracts: report
        evidence:
          predictions: {path: data.parquet}
        """,
    )
    from_file = run_audit(spec, clock=frozen_clock)
    in_memory = ethicsgate.audit(
        policy, {"predictions": frame}, contracts="report", clock=frozen_clock
    )
    assert from_file.rules[0].status == "error" and not from_file.contracts[0].success

    def where(results: list[Any], at: str) -> str:  # the first bad row's place differs
        text = json.dumps([r.model_dump(mode="json") for r in results])
        assert at in text
        return text.replace(at, "<where>")

    frame_at, file_at = "<pandas.DataFrame predictions>", str(tmp_path / "data.parquet")
    assert where(in_memory.rules, frame_at) == where(from_file.rules, file_at)
    assert where(in_memory.result.contracts, frame_at) == where(from_file.contracts, file_at)


def test_a_shipped_pack_with_a_data_quality_rule_audits_a_frame() -> None:
    rng = np.random.default_rng(0)
    n = 2000
    frame = pd.DataFrame(
        {
            "sex": rng.choice(["f", "m"], n),
            "race_ethnicity": rng.choice(["A", "B", "C"], n),
            "label": rng.integers(0, 2, n),
            "prediction": rng.integers(0, 2, n),
        }
    )
    frame.loc[10, "prediction"] = 2  # breaks the pack's data contract (prediction in {0, 1})
    report = ethicsgate.audit("pack:eeoc-four-fifths", {"applicants": frame})
    contract = report.rule("selection-data-contract")
    assert contract.status == "fail" and "prediction" in contract.message
    assert report.result.audit.policy.path == "pack:eeoc-four-fifths"


# -- windows ---------------------------------------------------------------------------------


def test_windows_from_python_give_the_windows_of_the_spec(
    tmp_path: Path, frozen_clock: Clock
) -> None:
    from tests.unit.rules.windows_data import POLICY as CREDIT
    from tests.unit.rules.windows_data import write_audit, year_of_decisions

    year = year_of_decisions(per_day=40)
    oracle = run_audit(write_audit(tmp_path / "spec", year), clock=frozen_clock).rules[0]
    assert [w.label for w in oracle.windows if w.status == "fail"] == ["2026-09"]
    policy = tmp_path / "policy.yaml"
    policy.write_text(CREDIT)
    columns = {"prediction": "approved"}
    by_entry = ethicsgate.audit(
        policy,
        {"decisions": {"data": year, "columns": columns, "window": "month:decided_at"}},
        clock=frozen_clock,
    )
    by_argument = ethicsgate.audit(
        policy,
        {"decisions": {"data": year, "columns": columns}},
        window={"every": "month", "column": "decided_at"},
        clock=frozen_clock,
    )
    spec_with_option = ethicsgate.audit(
        write_audit(tmp_path / "plain", year, window=None),
        window="month:decided_at",
        clock=frozen_clock,
    )
    for report in (by_entry, by_argument, spec_with_option):
        assert _rules(report.rules) == _rules([oracle])
    # the window is part of what the report binds
    assert json.loads(by_entry.spec_json)["evidence"]["decisions"]["window"] == {
        "column": "decided_at",
        "every": "month",
    }
    assert json.loads(by_argument.spec_json)["window"] == {"column": "decided_at", "every": "month"}
    unwindowed = ethicsgate.audit(policy, {"decisions": {"data": year, "columns": columns}})
    assert unwindowed.rules[0].windows == [] and unwindowed.spec_json != by_argument.spec_json


def test_a_window_argument_naming_a_missing_column_is_blamed_on_the_argument(
    tmp_path: Path,
) -> None:
    # found by QA: window="month:nosuch" was located at evidence["decisions"]["window"]
    # ["column"], a key the call never wrote, with the fix "set window.column"
    from tests.unit.rules.windows_data import POLICY as CREDIT
    from tests.unit.rules.windows_data import write_audit, year_of_decisions

    year = year_of_decisions(per_day=2)
    policy = tmp_path / "policy.yaml"
    policy.write_text(CREDIT)
    evidence = {"decisions": {"data": year, "columns": {"prediction": "approved"}}}
    with pytest.raises(EvidenceError, match="the window column nosuch does not evaluate") as e:
        ethicsgate.audit(policy, evidence, window="month:nosuch")
    assert str(e.value.location) == "window='month:nosuch'"
    assert "e.g. window='month:decided_at'" in (e.value.hint or "")
    spec = write_audit(tmp_path / "spec", year, window=None)
    with pytest.raises(EvidenceError, match="the window column nosuch") as e:
        ethicsgate.audit(spec, window={"every": "week", "column": "nosuch"})
    assert str(e.value.location) == "window={'every': 'week', 'column': 'nosuch'}"


@pytest.mark.parametrize(
    ("window", "says"),
    [
        ("fortnight", "'fortnight' is not a window"),
        # found by QA: a misspelt unit was not named
        ("montth:decided_at", "'montth:decided_at' is not a window (did you mean 'month'?)"),
        ({"every": "year"}, "'day', 'week', 'month' or 'quarter'"),
        ({"every": "montth"}, "'day', 'week', 'month' or 'quarter' (did you mean 'month'?)"),
        ({}, "a window needs `every`"),
        (7, "a window is text or a dict, not int"),
    ],
)
def test_a_bad_window_is_located_with_the_forms_that_work(
    tmp_path: Path, window: Any, says: str
) -> None:
    from tests.unit.rules.windows_data import POLICY as CREDIT
    from tests.unit.rules.windows_data import year_of_decisions

    policy = tmp_path / "policy.yaml"
    policy.write_text(CREDIT)
    year = year_of_decisions(per_day=2)
    with pytest.raises(AuditSpecError) as caught:
        ethicsgate.audit(policy, {"decisions": year}, window=window)
    assert str(caught.value.location) == "python:ethicsgate.audit(window)"
    assert 'window="month:decided_at"' in (caught.value.hint or "")
    with pytest.raises(AuditSpecError) as in_entry:
        ethicsgate.audit(policy, {"decisions": {"data": year, "window": window}})
    assert str(in_entry.value.location) == (
        'python:ethicsgate.audit(evidence["decisions"]["window"])'
    )
    assert says in str(caught.value) and says in str(in_entry.value)


@pytest.mark.parametrize("policy", [{"schema_version": 1, "rules": []}, 42, None])
def test_a_policy_that_is_no_path_is_a_type_error_saying_what_a_policy_is(policy: Any) -> None:
    frame = _csv_frame(PASSING)
    kind = type(policy).__name__
    says = rf"policy is a file's path, 'pack:NAME' or .*load_policy.*, not {kind}"
    with pytest.raises(TypeError, match=says):
        ethicsgate.audit(policy, {"predictions": frame})
    with pytest.raises(TypeError, match=says):
        ethicsgate.load_policy(policy)
    with pytest.raises(TypeError, match=says):
        assert_policy(policy, {"predictions": frame}, rules="parity")
    with pytest.raises(TypeError, match=says):
        ethicsgate.audit(policy)  # no evidence: an audit spec's path, which it is not either
    with pytest.raises(TypeError, match=says):
        assert_policy(policy, rules="parity")


def test_audit_failed_pickles_as_a_worker_process_sends_it(
    write: Callable[[str, str], Path],
) -> None:
    # multiprocessing, concurrent.futures and pytest-xdist send a raised exception pickled
    policy = write("policy.yaml", POLICY)
    report = ethicsgate.audit(policy, {"predictions": _csv_frame(FAILING)})
    with pytest.raises(ethicsgate.AuditFailed) as raised:
        report.raise_for_status()
    copy = pickle.loads(pickle.dumps(raised.value))
    assert str(copy) == str(raised.value)
    assert [r.id for r in copy.failing] == ["parity"] and copy.report.status == "fail"


def test_every_error_a_stable_name_raises_is_exported_with_it() -> None:
    # catching what ethicsgate.open_store raises must not need an internal module
    import inspect
    import re

    from ethicsgate.docsgen import PYTHON_API

    raised: set[str] = set()
    for name in PYTHON_API["ethicsgate"]:
        obj = getattr(ethicsgate, name)
        members = [obj, *(m for _, m in inspect.getmembers(obj, inspect.isfunction))]
        for member in members:
            doc = inspect.getdoc(member) or ""
            raises = doc.partition("Raises:")[2]
            raised.update(re.findall(r"^\s+(\w+Error)\b", raises, re.M))
    ours = {n for n in raised if hasattr(ethicsgate.errors, n)}
    assert "ReviewError" in ours
    missing = sorted(
        n for n in ours if n not in ethicsgate.__all__ or n not in PYTHON_API["ethicsgate"]
    )
    assert not missing, missing
    assert ethicsgate.ReviewError is ethicsgate.errors.ReviewError


def test_a_bad_value_in_a_frame_is_located_at_its_data_in_the_call(
    write: Callable[[str, str], Path],
) -> None:
    # a frame has no file to point at: the error points at where the call hands it over
    policy = write("policy.yaml", POLICY)
    frame = _csv_frame(PASSING).astype({"prediction": "Int64"})
    frame.loc[2, "prediction"] = None
    with pytest.raises(EvidenceError) as info:
        ethicsgate.audit(policy, {"predictions": frame})
    error = info.value
    assert str(error.location) == DATA_AT
    assert "'prediction' must be 0 or 1, found NULL (missing) in row 3" in error.message
    assert "audit spec" not in (error.hint or "")


@pytest.mark.parametrize(
    ("frame", "twice"),
    [
        pytest.param(lambda df: df.assign(Group="x"), "'group' and 'Group'", id="pandas-case"),
        pytest.param(
            lambda df: pd.concat([df, df[["label"]]], axis=1), "'label' and 'label'", id="pandas"
        ),
        pytest.param(
            lambda df: _with_column(df, "group", pa.array(["x"] * len(df))),
            "'group' and 'group'",
            id="pyarrow",
        ),
        pytest.param(
            lambda df: pl.from_pandas(df).with_columns(pl.lit("x").alias("GROUP")),
            "'group' and 'GROUP'",
            id="polars-case",
        ),
    ],
)
def test_a_frame_naming_a_column_twice_even_in_two_cases_is_refused(
    write: Callable[[str, str], Path], frame: Callable[[pd.DataFrame], Any], twice: str
) -> None:
    # DuckDB's names ignore case: the rules would read whichever came first, silently
    policy = write("policy.yaml", POLICY)
    with pytest.raises(EvidenceError) as info:
        ethicsgate.audit(policy, {"predictions": frame(_columns_frame())})
    assert f"names a column twice: {twice}" in info.value.message
    first, second = twice.split(" and ")
    assert ("ignore case" in info.value.message) is (first != second)
    assert str(info.value.location) == DATA_AT


@pytest.mark.parametrize(
    ("make", "says"),
    [
        pytest.param(
            lambda tmp: pl.scan_csv(tmp / "missing.csv"), "No such file", id="polars-lazy-scan"
        ),
        pytest.param(
            lambda tmp: pl.LazyFrame({"a": [1]}).select(pl.col("zz")),
            'unable to find column "zz"',
            id="polars-lazy-query",
        ),
        pytest.param(lambda tmp: _closed_relation(), "closed", id="duckdb-closed-connection"),
    ],
)
def test_a_frame_that_fails_to_materialise_is_an_evidence_error_at_its_data(
    write: Callable[[str, str], Path], tmp_path: Path, make: Callable[[Path], Any], says: str
) -> None:
    # a lazy frame runs its query when read: its failure is bad input, not an internal error
    policy = write("policy.yaml", POLICY)
    with pytest.raises(EvidenceError) as info:
        ethicsgate.audit(policy, {"predictions": make(tmp_path)})
    assert "cannot be read" in info.value.message and says in info.value.message
    assert str(info.value.location) == DATA_AT
    assert info.value.__cause__ is not None
    # the fix is the frame's own: a polars hint does not talk of DuckDB connections
    hint = info.value.hint or ""
    polars = info.value.message.find("polars.LazyFrame") >= 0
    assert (".collect()" in hint, "DuckDB" in hint) == (polars, not polars)


def _closed_relation() -> duckdb.DuckDBPyRelation:
    con = duckdb.connect()
    relation = con.sql("SELECT 'a' AS \"group\", 1 AS label, 1 AS prediction")
    con.close()
    return relation


def test_a_key_pair_made_from_python_signs_a_report_that_verifies(
    write: Callable[[str, str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # signing from Python needs a key: a stable name, taking a path as text as the rest do
    monkeypatch.chdir(tmp_path)
    policy = write("policy.yaml", POLICY)
    pair = ethicsgate.generate_keypair("keys")
    assert pair.private_path == Path("keys") / "ethicsgate.key"
    report = ethicsgate.audit(policy, {"predictions": _csv_frame(PASSING)})
    report.write("out", key=str(pair.private_path))
    assert ethicsgate.verify("out", str(pair.public_path)).ok


@pytest.mark.parametrize("path", ["missing.csv", "data/*.parquet"], ids=["file", "glob"])
def test_a_missing_file_s_hint_says_where_relative_paths_start_in_python(
    write: Callable[[str, str], Path], tmp_path: Path, path: str
) -> None:
    # the call has no audit spec: the hint sent the user looking for a folder that is not there
    policy = write("policy.yaml", POLICY)
    with pytest.raises(EvidenceError) as info:
        ethicsgate.audit(policy, {"predictions": path}, base_dir=tmp_path)
    hint = info.value.hint or ""
    assert f"relative paths start from {tmp_path}" in hint and "base_dir=" in hint


def test_the_key_pair_itself_signs_and_verifies_and_other_keys_are_told_what_a_key_is(
    write: Callable[[str, str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # key=pair (what generate_keypair returned) was an AttributeError from inside the signer
    monkeypatch.chdir(tmp_path)
    policy = write("policy.yaml", POLICY)
    pair = ethicsgate.generate_keypair("keys")
    report = ethicsgate.audit(policy, {"predictions": _csv_frame(PASSING)})
    report.write("out", key=pair)
    assert "report.intoto.json" in report.files(key=pair)
    assert ethicsgate.verify("out", pair).ok
    for wrong in (pair.private_path.read_bytes(), 42):
        with pytest.raises(TypeError, match="key= of AuditReport.write is the private key"):
            report.write("wrong", key=wrong)  # type: ignore[arg-type]
        assert not Path("wrong").exists()  # nothing written
        with pytest.raises(TypeError, match="key= of AuditReport.files is the private key"):
            report.files(key=wrong)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="key= of ethicsgate.verify is the public key"):
            ethicsgate.verify("out", wrong)  # type: ignore[arg-type]


def test_an_encrypted_key_s_hint_says_how_to_give_its_passphrase_in_python(
    write: Callable[[str, str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "enter it at the prompt": Python has no prompt
    from ethicsgate.errors import SigningError

    monkeypatch.delenv("ETHICSGATE_KEY_PASSPHRASE", raising=False)
    pair = ethicsgate.generate_keypair(tmp_path / "keys", passphrase=b"secret")
    report = ethicsgate.audit(write("policy.yaml", POLICY), {"predictions": _csv_frame(PASSING)})
    with pytest.raises(SigningError, match="encrypted") as info:
        report.write(tmp_path / "out", key=pair)
    hint = info.value.hint or ""
    assert "prompt" not in hint and "ETHICSGATE_KEY_PASSPHRASE" in hint
    assert "passphrase=" in hint and not (tmp_path / "out").exists()
    # the passphrase as a parameter (noted by the Python API QA: only the environment took it)
    with pytest.raises(SigningError, match="passphrase"):
        report.write(tmp_path / "out", key=pair, passphrase="wrong")
    assert not (tmp_path / "out").exists()
    report.write(tmp_path / "out", key=pair, passphrase="secret")
    assert ethicsgate.verify(tmp_path / "out", pair).ok
    assert report.files(key=pair.private_path, passphrase=b"secret")["report.json"]
    monkeypatch.setenv("ETHICSGATE_KEY_PASSPHRASE", "secret")
    report.write(tmp_path / "out2", key=pair)
    assert ethicsgate.verify(tmp_path / "out2", pair).ok


@pytest.mark.parametrize(
    ("make", "says", "fix"),
    [
        pytest.param(
            lambda df: df["group"], "a pandas.Series is one column", "to_frame()", id="series"
        ),
        pytest.param(
            lambda df: df.set_axis(
                pd.MultiIndex.from_tuples([("x", "group"), ("x", "label"), ("y", "prediction")]),
                axis=1,
            ),
            "columns are a MultiIndex",
            "df.columns = ",
            id="multiindex-columns",
        ),
    ],
)
def test_a_pandas_object_that_is_no_flat_table_says_how_to_make_one(
    write: Callable[[str, str], Path], make: Callable[[pd.DataFrame], Any], says: str, fix: str
) -> None:
    policy = write("policy.yaml", POLICY)
    with pytest.raises(EvidenceError) as info:
        ethicsgate.audit(policy, {"predictions": make(_columns_frame())})
    assert says in info.value.message and fix in (info.value.hint or "")
    assert str(info.value.location) == DATA_AT


def test_verify_raises_for_a_bad_key_what_its_docstring_says(tmp_path: Path) -> None:
    import inspect

    with pytest.raises(VerificationError, match="public key file not found"):
        ethicsgate.verify(tmp_path, tmp_path / "missing.pub")
    raises = " ".join((inspect.getdoc(ethicsgate.verify) or "").partition("Raises:")[2].split())
    assert "SigningError" not in raises and "key file cannot be read" in raises


@pytest.mark.parametrize("cross_check", [True, -1, 0, "1000", 2.5])
def test_cross_check_is_a_number_of_groups_or_refused_at_its_argument(
    write: Callable[[str, str], Path], cross_check: Any
) -> None:
    # True is the int 1 (one group recomputed), -1 sliced off the last group: both silently
    policy = write("policy.yaml", POLICY)
    with pytest.raises(AuditSpecError, match="how many groups") as info:
        ethicsgate.audit(policy, {"predictions": _csv_frame(PASSING)}, cross_check=cross_check)
    assert str(info.value.location) == "python:ethicsgate.audit(cross_check)"


def test_a_progress_that_cannot_be_called_is_refused_before_the_audit(
    write: Callable[[str, str], Path],
) -> None:
    policy = write("policy.yaml", POLICY)
    with pytest.raises(TypeError, match="progress= is called with"):
        ethicsgate.audit(policy, {"predictions": _csv_frame(PASSING)}, progress=5)  # type: ignore[arg-type]
    # a time for clock=: "'str' object is not callable" came from inside the audit
    with pytest.raises(TypeError, match="clock= is called for the audit's times"):
        ethicsgate.audit(policy, {"predictions": _csv_frame(PASSING)}, clock="2026-01-01")  # type: ignore[arg-type]


def test_a_hint_names_the_mapping_as_the_python_call_writes_it(
    write: Callable[[str, str], Path],
) -> None:
    # evidence.predictions.columns is the YAML of an audit spec, not this call's dict
    policy = write("policy.yaml", POLICY)
    frame = _csv_frame(PASSING).rename(columns={"prediction": "pred"})
    with pytest.raises(EvidenceError) as info:
        ethicsgate.audit(policy, {"predictions": frame})
    hint = info.value.hint or ""
    assert """map it under evidence["predictions"]["columns"], e.g. {"prediction": """ in hint
    assert "evidence.predictions.columns" not in hint


def test_to_pandas_holds_each_ll144_category_s_impact_ratio() -> None:
    # the LL144 tables are what the rule asserts on; a failing category (race alone) must be
    # in the tidy table with its figure
    applicants = pd.read_csv(ROOT / "examples" / "hiring" / "applicants.csv")
    columns = {"prediction": "advanced", "score": "match_score"}
    report = ethicsgate.audit(
        "pack:nyc-ll144", {"applicants": {"data": applicants, "columns": columns}}
    )
    table = report.to_pandas()
    rule = report.rule("ll144-selection")
    assert rule.impact_ratio is not None
    rows = [row for t in rule.impact_ratio.tables for row in t.rows]
    ratios = table[(table["rule"] == "ll144-selection") & (table["metric"] == "impact_ratio")]
    assert len(ratios) == len(rows)
    black = ratios[ratios["race_ethnicity"].eq("Black or African American") & ratios["sex"].isna()]
    [row] = [r for r in rows if r.category == {"race_ethnicity": "Black or African American"}]
    assert len(black) == 1
    got = black.iloc[0]
    assert got["value"] == pytest.approx(row.impact_ratio)
    assert got["count"] == row.applicants and bool(got["excluded"]) is row.excluded
    assert row.impact_ratio_interval is not None and row.test is not None
    assert got["interval_low"] == pytest.approx(row.impact_ratio_interval.low)
    assert got["p_value"] == pytest.approx(row.test.p_value)


def test_to_pandas_of_a_windowed_rule_holds_each_window_s_figures(tmp_path: Path) -> None:
    # the rule failed in 2026-09 alone: its overall rows (a ratio of 0.9) could not show why
    from tests.unit.rules.windows_data import POLICY as CREDIT
    from tests.unit.rules.windows_data import year_of_decisions

    policy = tmp_path / "policy.yaml"
    policy.write_text(CREDIT)
    entry = {
        "decisions": {"data": year_of_decisions(per_day=40), "columns": {"prediction": "approved"}}
    }
    report = ethicsgate.audit(policy, entry, window="month:decided_at")
    rule = report.rules[0]
    table = report.to_pandas()
    assert list(table.columns[:5]) == ["rule", "kind", "status", "window", "group"]
    overall = table[table["window"].isna()]
    assert len(overall) == sum(len(g.metrics) for g in rule.groups)
    assert len(table) == len(overall) + sum(len(g.metrics) for w in rule.windows for g in w.groups)
    september = next(w for w in rule.windows if w.label == "2026-09")
    in_window = next(g for g in september.groups if g.group == {"group": "B"})
    [row] = table[table["window"].eq("2026-09") & table["group"].eq("B")].itertuples()
    assert (row.count, row.value, row.ratio) == (
        in_window.count,
        in_window.metrics["selection_rate"],
        in_window.ratios["selection_rate"],
    )
    assert row.ratio < 0.8
    # an audit without windows has no window column
    plain = ethicsgate.audit(policy, {"decisions": entry["decisions"]})
    assert "window" not in plain.to_pandas().columns


def test_to_pandas_keeps_a_feature_named_like_a_column_apart_from_that_column(
    write: Callable[[str, str], Path],
) -> None:
    # marital "status" is a common feature: it overwrote the rule's status, two columns named so
    policy = write(
        "policy.yaml", POLICY.replace("sensitive_features: [group]", "sensitive_features: [status]")
    )
    frame = _csv_frame(FAILING).rename(columns={"group": "status"})
    report = ethicsgate.audit(policy, {"predictions": frame})
    table = report.to_pandas()
    assert table.columns.is_unique
    assert set(table["status"]) == {"fail"}
    assert set(table["status (feature)"]) == {"a", "b"}


def test_a_frame_with_second_times_verifies_from_the_parquet_it_was_saved_to(
    write: Callable[[str, str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Parquet has no second unit (nor date64): times in seconds come back in milliseconds,
    # the same instants; the digest must not tell them apart
    monkeypatch.chdir(tmp_path)
    policy = write("policy.yaml", POLICY)
    pair = ethicsgate.generate_keypair("keys")

    def verified(data: Any, save: Callable[[str], None]) -> bool:
        report = ethicsgate.audit(policy, {"predictions": {"data": data, "path": "p.parquet"}})
        report.write("out", key=pair.private_path)
        save("p.parquet")
        return ethicsgate.verify("out", pair.public_path, evidence=True).ok

    frame = _csv_frame(PASSING)
    n = len(frame)
    frame["decided_at"] = pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC").as_unit("s")
    frame["naive"] = frame["decided_at"].dt.tz_localize(None)
    assert verified(frame, frame.to_parquet)
    assert pq.read_table("p.parquet").schema.field("decided_at").type.unit == "ms"
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.append_column("day", pa.array([i * 86_400_000 for i in range(n)], pa.date64()))
    table = table.append_column("at", pa.array(list(range(n)), pa.time32("s")))
    assert verified(table, lambda path: pq.write_table(table, path))


@pytest.mark.parametrize(
    "save",
    [
        pytest.param(lambda frame, path: frame.write_parquet(path), id="polars-parquet"),
        pytest.param(lambda frame, path: pq.write_table(frame.to_arrow(), path), id="pyarrow"),
        pytest.param(lambda frame, path: frame.to_pandas().to_parquet(path), id="pandas"),
    ],
)
def test_a_frame_with_list_and_struct_columns_verifies_from_its_parquet(
    write: Callable[[str, str], Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    save: Callable[[pl.DataFrame, str], None],
) -> None:
    # Parquet names a list's item "element", and polars hands lists and structs of text over as
    # large lists and string_view: the same values, which the digest must not tell apart
    monkeypatch.chdir(tmp_path)
    policy = write("policy.yaml", POLICY)
    pair = ethicsgate.generate_keypair("keys")
    frame = pl.from_pandas(_csv_frame(PASSING))
    n = frame.height
    frame = frame.with_columns(
        pl.Series("scores", [[i, i + 1] for i in range(n)]),
        pl.Series("tags", [["x", str(i)] for i in range(n)]),
        pl.Series("meta", [{"source": f"s{i}", "rank": i} for i in range(n)]),
    )
    report = ethicsgate.audit(policy, {"predictions": {"data": frame, "path": "p.parquet"}})
    report.write("out", key=pair.private_path)
    save(frame, "p.parquet")
    verified = ethicsgate.verify("out", pair.public_path, evidence=True)
    assert verified.ok, verified.reasons


@pytest.mark.parametrize("option", ["id", "title"])
def test_an_id_or_title_that_is_not_text_is_told_so_in_python_terms(
    write: Callable[[str, str], Path], option: str
) -> None:
    # the audit spec's message spoke of YAML reading a number, in a call that has no YAML
    policy = write("policy.yaml", POLICY)
    with pytest.raises(AuditSpecError) as info:
        ethicsgate.audit(policy, {"predictions": _csv_frame(PASSING)}, **{option: 5})
    assert f"{option} is text, not int (5)" in info.value.message
    assert "YAML" not in str(info.value)
    assert str(info.value.location) == f"python:ethicsgate.audit({option})"


def test_an_engine_may_be_named_as_the_cli_names_it(
    write: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # engine="spark" or a database URL was an AttributeError: 'str' object has no attribute 'open'
    policy = write("policy.yaml", POLICY)
    evidence = {"predictions": _csv_frame(PASSING)}
    closed: list[object] = []
    from ethicsgate.engines.duckdb import DuckDBEngine

    close = DuckDBEngine.close

    def recording(self: DuckDBEngine) -> None:
        closed.append(self)
        close(self)

    monkeypatch.setattr(DuckDBEngine, "close", recording)
    named = ethicsgate.audit(policy, evidence, engine="duckdb")
    assert len(closed) == 1  # opened for the audit, closed after it
    assert named.status == ethicsgate.audit(policy, evidence).status
    with pytest.raises(EvidenceError, match="nosuch") as info:
        ethicsgate.audit(policy, evidence, engine="nosuch://host/db")
    assert str(info.value.location) == "python:ethicsgate.audit(engine)"
    with pytest.raises(TypeError, match="engine= is an engine or what --engine takes"):
        ethicsgate.audit(policy, evidence, engine=5)  # type: ignore[arg-type]
