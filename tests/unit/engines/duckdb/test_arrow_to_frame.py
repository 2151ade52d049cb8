"""A query's Arrow result becomes a frame a column at a time: the frame to_pandas gives.

Text becomes categoricals (codes in order of first appearance, nulls -1), as Arrow's
dictionary_encode of the whole column and to_pandas made them; other columns convert as
to_pandas converts them. Checked over several chunks whose values first appear in different
chunks, with nulls, and over a real DuckDB result.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ethicsgate.engines.duckdb.dataset import arrow_to_frame


def _expected(table: pa.Table) -> pd.DataFrame:
    for index, field in enumerate(table.schema):
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            table = table.set_column(index, field.name, pc.dictionary_encode(table.column(index)))
    frame: pd.DataFrame = table.to_pandas()
    return frame


def test_chunks_with_nulls_and_values_first_seen_late() -> None:
    chunks = [
        pa.record_batch(
            {
                "zip": pa.array(["b", None, "a", "b"]),
                "sex": pa.array(["F", "F", "M", None], type=pa.large_string()),
                "label": pa.array([1, 0, 1, 0], type=pa.int8()),
                "day": pa.array([dt.date(2026, 1, d) for d in (1, 2, 3, 4)]),
                "n": pa.array([3, 4, 5, 6], type=pa.int64()),
            }
        ),
        pa.record_batch(
            {
                "zip": pa.array(["c", "a", None, "d"]),
                "sex": pa.array(["X", "M", "F", "F"], type=pa.large_string()),
                "label": pa.array([0, 0, 1, 1], type=pa.int8()),
                "day": pa.array([None, dt.date(2026, 2, 1), dt.date(2026, 2, 2), None]),
                "n": pa.array([1, 2, 3, 4], type=pa.int64()),
            }
        ),
    ]
    table = pa.Table.from_batches(chunks)
    frame = arrow_to_frame(table)
    pd.testing.assert_frame_equal(frame, _expected(pa.Table.from_batches(chunks)))
    assert list(frame["zip"].cat.categories) == ["b", "a", "c", "d"]
    assert frame["zip"].cat.codes.tolist() == [0, -1, 1, 0, 2, 1, -1, 3]


def test_a_duckdb_result_converts_as_to_pandas_does() -> None:
    con = duckdb.connect()
    sql = (
        "SELECT 'z' || (i % 97)::VARCHAR AS zip, CASE WHEN i % 11 = 0 THEN NULL "
        "ELSE ['F', 'M'][1 + i % 2] END AS sex, (i % 3 = 0)::TINYINT AS label, "
        "i / 7.0 AS score, i::BIGINT AS n FROM range(300000) t(i)"
    )
    frame = arrow_to_frame(con.sql(sql).to_arrow_table())
    assert len(con.sql(sql).to_arrow_table().column("zip").chunks) > 1
    pd.testing.assert_frame_equal(frame, _expected(con.sql(sql).to_arrow_table()))


def test_an_empty_result() -> None:
    table = pa.table({"zip": pa.array([], type=pa.string()), "n": pa.array([], pa.int64())})
    frame = arrow_to_frame(table)
    pd.testing.assert_frame_equal(frame, _expected(table))


def test_a_text_column_of_nulls_only() -> None:
    table = pa.table({"zip": pa.array([None, None], type=pa.string()), "n": [1, 2]})
    pd.testing.assert_frame_equal(arrow_to_frame(table), _expected(table))
