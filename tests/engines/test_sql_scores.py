"""The exact median on PostgreSQL, against numpy on the raw rows (as tests/unit/rules does on DuckDB).

Heavy ties, signed zeros, subnormals, 1e300, near-equal values sharing a histogram bucket, a
filter, and a tiny bracket limit that sends cases through the narrowing search: the median,
the rows above it per group, and the grouped frame must equal the DuckDB oracle test's checks.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import ROOT

import ethicsgate.evidence.median as median_module
from ethicsgate.engines.sql import open_sql_engine
from ethicsgate.errors import Location
from ethicsgate.evidence import EvidenceSpec

sys.path.insert(0, str(ROOT / "tests" / "unit" / "rules"))

from test_score_median import SCORES, _check, _rule  # noqa: E402

_TABLES = itertools.count()


def _load(engine: sa.Engine, frame: pd.DataFrame) -> str:
    table = f"scores.t{next(_TABLES)}"
    with engine.connect() as con:
        con.execute(sa.text("CREATE SCHEMA IF NOT EXISTS scores"))
        con.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
        con.execute(
            sa.text(f"CREATE TABLE {table} (g text, y bigint, p double precision, keep boolean)")
        )
        raw = con.connection.dbapi_connection
        assert raw is not None
        with raw.cursor() as cur, cur.copy(f"COPY {table} (g, y, p, keep) FROM STDIN") as copy:
            for row in frame.itertuples(index=False):
                copy.write_row((str(row.g), int(row.y), float(row.p), bool(row.keep)))
    return table


@pytest.mark.slow
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=SCORES, data=st.data())
def test_median_and_rows_above_it_equal_numpy_on_postgres(
    pg_url: str,
    pg_engine: sa.Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    values: list[float],
    data: st.DataObject,
) -> None:
    monkeypatch.setattr(median_module, "BRACKET_ROWS", data.draw(st.sampled_from([1 << 18, 3])))
    rng = np.random.default_rng(len(values))
    keep = rng.random(len(values)) < 0.8
    keep[0] = True
    raw = pd.DataFrame(
        {
            "g": rng.choice(["a", "b", "c"], len(values)),
            "y": rng.integers(0, 2, len(values)),
            "p": values,
            "keep": keep,
        }
    )
    table = _load(pg_engine, raw)
    spec = EvidenceSpec.model_validate(
        {"table": table, "columns": {"score": "p", "label": "y"}, "filter": "keep"}
    )
    with open_sql_engine(pg_url) as engine:
        evidence = engine.open("s", spec, base_dir=tmp_path, locate=lambda loc: Location("a.yaml"))
        _check(evidence, raw[raw["keep"]], _rule())
