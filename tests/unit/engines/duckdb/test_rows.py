"""Row-level evidence: typed roles from CSV, JSON Lines and Parquet; malformed logs located."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from ethicsgate.engines.duckdb import DuckDBEngine, open_evidence
from ethicsgate.engines.duckdb.rows import DuckDBRows
from ethicsgate.errors import EvidenceError, Location
from ethicsgate.evidence import EvidenceSpec, Role

TS = Role("ts", "timestamp")
ID = Role("event_id", "key")
FLAG = Role("ai_label", "flag_or_false")
SCORE = Role("score", "number")


def _read(
    path: Path | str, roles: list[Role], *, base: Path, **spec: object
) -> tuple[duckdb.DuckDBPyConnection, DuckDBRows]:
    evidence = open_evidence(
        "log",
        EvidenceSpec(path=str(path), **spec),  # type: ignore[arg-type]
        base_dir=base,
        locate=lambda loc: Location("audit.yaml", 7, 5),
    )
    return evidence.con, evidence.read_rows(roles)


def _values(con: duckdb.DuckDBPyConnection, table: DuckDBRows, role: Role) -> list[object]:
    return [r[0] for r in con.sql(f"SELECT {role.column} FROM {table.table}").fetchall()]


def test_parquet_naive_timestamps_are_utc_and_aware_ones_keep_their_instant(
    tmp_path: Path,
) -> None:
    moment = datetime(2025, 3, 1, 10, 0)
    table = pa.table(
        {
            "event_id": pa.array([1, 2], pa.int64()),
            "naive": pa.array([moment, None], pa.timestamp("us")),
            "aware": pa.array([moment.replace(tzinfo=UTC)] * 2, pa.timestamp("ms", tz="+01:00")),
        }
    )
    pq.write_table(table, tmp_path / "log.parquet")
    con, rows = _read("log.parquet", [ID, TS], base=tmp_path, columns={"ts": "naive"})
    assert _values(con, rows, TS) == [datetime(2025, 3, 1, 10, 0, tzinfo=UTC), None]
    assert rows.is_integer(ID)
    con, rows = _read("log.parquet", [TS], base=tmp_path, columns={"ts": "aware"})
    assert _values(con, rows, TS)[0] == datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def test_text_timestamps_with_offsets_naive_empty_and_missing(tmp_path: Path) -> None:
    (tmp_path / "log.csv").write_text(
        "event_id,ts\n1,2025-03-01T11:00:00+01:00\n2,2025-03-01 10:00:00\n3,\n4,   \n"
    )
    con, rows = _read("log.csv", [ID, TS], base=tmp_path)
    ten = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    assert _values(con, rows, TS) == [ten, ten, None, None]
    assert (rows.rows_read, rows.rows) == (4, 4)


def test_unparsable_timestamp_names_file_row_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "log.csv").write_text(
        "event_id,sent\n1,2025-03-01T10:00:00Z\n2,2025-03-01T10:00:00Z\n3,yesterday\n"
    )
    with pytest.raises(EvidenceError) as info:
        _read("log.csv", [ID, TS], base=tmp_path, columns={"ts": "sent"})
    text = info.value.diagnostics()
    assert text.startswith(f"{tmp_path / 'log.csv'}:4: ")
    assert "'ts' is not a timestamp: found 'yesterday' in row 3 (line 4), column sent" in text
    assert "ISO 8601" in text and 'ts: "to_timestamp(sent)"' in text


@pytest.mark.parametrize(
    ("written", "mapping", "other_order", "read"),
    [
        ("12/03/2025 10:00", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", datetime(2025, 3, 12, 10, 0)),
        ("13.3.2025 9:05", "%d.%m.%Y %H:%M", None, datetime(2025, 3, 13, 9, 5)),
        ("03-25-2025 09:30:15", "%m-%d-%Y %H:%M:%S", None, datetime(2025, 3, 25, 9, 30, 15)),
    ],
)
def test_a_date_as_people_write_it_gets_the_mapping_that_reads_it(
    tmp_path: Path, written: str, mapping: str, other_order: str | None, read: datetime
) -> None:
    # found by the owner QA: 12/03/2025 10:00 got the example strptime(sent, '%d.%m.%Y %H:%M'),
    # which, pasted, failed again ("Could not parse string ... according to format specifier")
    (tmp_path / "log.csv").write_text(f"event_id,sent\n1,{written}\n")
    with pytest.raises(EvidenceError) as info:
        _read("log.csv", [ID, TS], base=tmp_path, columns={"ts": "sent"})
    text = info.value.diagnostics()
    pasted = re.search(r"(ts: \"strptime\(sent, '[^']*'\)\")", text)
    assert pasted is not None, text
    assert f"'{mapping}'" in pasted.group(1)
    assert (f"if {written} is month first, write '{other_order}' there" in text) == bool(
        other_order
    )
    con, rows = _read("log.csv", [TS], base=tmp_path, columns=yaml.safe_load(pasted.group(1)))
    assert _values(con, rows, TS) == [read.replace(tzinfo=UTC)]


def test_a_decimal_comma_gets_the_csv_option_that_reads_it(tmp_path: Path) -> None:
    # found by the owner QA: an Excel export's 0,50 was "map it to a numeric column or
    # expression", which does not say what is wrong nor what to write
    (tmp_path / "log.csv").write_text("event_id;score\n1;0,50\n2;12\n")
    with pytest.raises(EvidenceError) as info:
        _read("log.csv", [ID, SCORE], base=tmp_path)
    text = info.value.diagnostics()
    assert "'score' is not a number: found '0,50' in row 1 (line 2), column \"score\"" in text
    assert "hint: 0,50 has a decimal comma: for a CSV file written so, add options: " in text
    assert "score: \"CAST(replace(score, ',', '.') AS DOUBLE)\"" in text
    con, rows = _read("log.csv", [SCORE], base=tmp_path, options={"decimal_separator": ","})
    assert _values(con, rows, SCORE) == [0.5, 12.0]


def test_rows_outside_the_filter_are_not_checked(tmp_path: Path) -> None:
    (tmp_path / "log.csv").write_text("event_id,ts\n1,2025-03-01T10:00:00Z\n2,yesterday\n")
    con, rows = _read("log.csv", [ID, TS], base=tmp_path, filter="event_id = 1")
    assert (rows.rows_read, rows.rows) == (2, 1)


def test_timestamp_of_the_wrong_type_names_the_type_and_the_fix(tmp_path: Path) -> None:
    pq.write_table(pa.table({"ts": pa.array([1_700_000_000], pa.int64())}), tmp_path / "l.parquet")
    with pytest.raises(EvidenceError) as info:
        _read("l.parquet", [TS], base=tmp_path)
    text = info.value.diagnostics()
    assert "'ts' must be a timestamp, but \"ts\" has type BIGINT" in text
    # the mapping is YAML to paste as it is (it was ts: "to_timestamp("ts")", invalid YAML)
    pasted = re.search(r'(ts: "to_timestamp\(ts\)") for Unix seconds', text)
    assert pasted is not None
    columns = yaml.safe_load(pasted.group(1))
    con, rows = _read("l.parquet", [TS], base=tmp_path, columns=columns)
    assert len(_values(con, rows, TS)) == 1


def test_missing_column_names_the_file_the_column_and_the_columns_there(tmp_path: Path) -> None:
    (tmp_path / "log.csv").write_text("id,when\n1,2025-03-01T10:00:00Z\n")
    with pytest.raises(EvidenceError) as info:
        _read("log.csv", [ID, TS], base=tmp_path)
    text = info.value.diagnostics()
    assert text.startswith("audit.yaml:7:5: ")
    assert "has no column 'event_id'" in text and str(tmp_path / "log.csv") in text
    assert "available columns: id, when" in text


def test_flags_and_numbers(tmp_path: Path) -> None:
    (tmp_path / "log.jsonl").write_text(
        '{"event_id": "a", "ai_label": true, "score": "0.5"}\n'
        '{"event_id": "b", "ai_label": "No", "score": 1}\n'
        '{"event_id": "c", "ai_label": null, "score": null}\n'
        '{"event_id": "d", "ai_label": " YES ", "score": ""}\n'
    )
    con, rows = _read("log.jsonl", [ID, FLAG, SCORE], base=tmp_path)
    assert _values(con, rows, FLAG) == [True, False, False, True]
    assert _values(con, rows, SCORE) == [0.5, 1.0, None, None]
    assert not rows.is_integer(ID)


def test_bad_number_and_bad_flag_are_located(tmp_path: Path) -> None:
    (tmp_path / "log.jsonl").write_text(
        '{"event_id": "a", "ai_label": "yes", "score": "0.5"}\n'
        '{"event_id": "b", "ai_label": "yes", "score": "high"}\n'
    )
    with pytest.raises(EvidenceError, match=r"'score' is not a number: found 'high' in row 2"):
        _read("log.jsonl", [ID, SCORE], base=tmp_path)
    (tmp_path / "log.jsonl").write_text('{"event_id": "a", "ai_label": 2}\n')
    with pytest.raises(EvidenceError, match=r"'ai_label' is not true/false: found '2' in row 1"):
        _read("log.jsonl", [ID, FLAG], base=tmp_path)


@pytest.mark.parametrize(
    ("value", "shown", "role"),
    [
        ("1743379199", "'1743379199'", TS),  # Unix seconds among ISO text
        ("true", "'true'", TS),
        ('{"at": "2025-03-01"}', '\'{"at":"2025-03-01"}\'', TS),
        ("[1]", "'[1]'", SCORE),
    ],
)
def test_json_value_of_another_type_among_text_is_located(
    tmp_path: Path, value: str, shown: str, role: Role
) -> None:
    # a JSON field holding strings on some lines and numbers, booleans or objects on others is
    # read as JSON; a value that is no timestamp (number) was DuckDB's conversion error with
    # the scan's SQL in it, located at the audit spec, not at the line
    (tmp_path / "log.jsonl").write_text(
        '{"event_id": "a", "ts": "2025-03-01T10:00:00Z", "score": "0.5"}\n'
        f'{{"event_id": "b", "{role.name}": {value}}}\n'
    )
    with pytest.raises(EvidenceError) as info:
        _read("log.jsonl", [ID, role], base=tmp_path)
    text = info.value.diagnostics()
    assert text.startswith(f"{tmp_path / 'log.jsonl'}:2: "), text
    assert f"found {shown} in row 2 (line 2)" in text and "SELECT" not in text


def test_error_in_a_glob_names_the_file_it_is_in(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "a.csv").write_text("event_id,ts\n1,2025-03-01T10:00:00Z\n")
    (folder / "b.csv").write_text("event_id,ts\n2,2025-03-01T10:00:00Z\n3,2025-13-01T10:00:00Z\n")
    with pytest.raises(EvidenceError) as info:
        _read("logs/*.csv", [ID, TS], base=tmp_path)
    assert info.value.diagnostics().startswith(f"{folder / 'b.csv'}:3: ")
    assert "in row 2 (line 3)" in info.value.diagnostics()


def test_duckdb_session_time_zone_is_utc_whatever_the_machine_says(tmp_path: Path) -> None:
    (tmp_path / "log.csv").write_text("event_id,ts\n1,2025-03-01 10:00:00\n")
    engine = DuckDBEngine()
    con = engine.con
    con.execute("SET TimeZone = 'America/New_York'")
    evidence = open_evidence(
        "log",
        EvidenceSpec(path="log.csv"),
        base_dir=tmp_path,
        locate=lambda loc: Location("a"),
        engine=engine,
    )
    rows = evidence.read_rows([TS])
    assert _values(con, rows, TS) == [datetime(2025, 3, 1, 10, 0, tzinfo=UTC)]


def test_an_empty_file_is_an_empty_table_but_a_header_must_have_the_columns(
    tmp_path: Path,
) -> None:
    (tmp_path / "log.jsonl").write_text("\n")
    con, rows = _read("log.jsonl", [ID, TS], base=tmp_path)
    assert (rows.rows_read, rows.rows) == (0, 0)
    (tmp_path / "log.csv").write_text("id,ts\n")
    with pytest.raises(EvidenceError, match="has no column 'event_id'"):
        _read("log.csv", [ID, TS], base=tmp_path)
