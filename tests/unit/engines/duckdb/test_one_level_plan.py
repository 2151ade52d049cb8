"""The one-level grouped scan gives the two-level scan's frame, and the probe picks it only
where the keys make many cells.

With exact score keys over many groups the cells run into the millions; one GROUP BY of the
normalised keys then takes about two thirds of the keyed hash's time and memory
(docs/benchmarks.md, "The 2e7-row, 10^5-group audit"). Oracle: the two-level scan (the plan
every audit used before) on the same evidence, frame for frame and report byte for byte.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import ethicsgate.engines.duckdb.dataset as reader

ROWS = 30_000


def _frame(seed: int, groups: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    score = np.round(rng.random(ROWS), 2)
    return pd.DataFrame(
        {
            "zip": rng.choice([f"z{i:05d}" for i in range(groups)] + [None], ROWS),
            "sex": rng.choice(["F", "M", "X"], ROWS),
            "score": score,
            "hired": (rng.random(ROWS) < score).astype(np.int64),
            "decided_at": pd.Timestamp("2026-01-01")
            + pd.to_timedelta(rng.integers(0, 365 * 24, ROWS), unit="h"),
            "keep": rng.random(ROWS) < 0.95,
        }
    )


def _same_frame(one_level: pd.DataFrame, two_level: pd.DataFrame) -> None:
    """The one-level frame is the two-level one, its counts int32 (fewer than 2^31 rows)."""
    assert one_level["n"].dtype == "int32" and two_level["n"].dtype == "int64"
    pd.testing.assert_frame_equal(one_level.astype({"n": "int64"}), two_level)


def _policy(tmp_path: Path, *, threshold: bool) -> Path:
    rule: dict[str, Any] = {
        "id": "scoring",
        "kind": "fairness",
        "dataset": "applicants",
        "sensitive_features": ["zip", "sex"],
        "impact_ratio": "scoring",
        "min_group_size": 5,
        "score_metrics": ["roc_auc"],
        "uncertainty": {"bootstrap_samples": 50, "seed": 1},
        "assert": [{"metric": "impact_ratio", "op": ">=", "value": 0.8}],
    }
    if threshold:
        rule["threshold"] = 0.5
        rule["metrics"] = ["selection_rate", "true_positive_rate"]
    document = {"schema_version": 1, "id": "one-level", "version": "1", "title": "One level"}
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump({**document, "owner": "Tests", "rules": [rule]}))
    return path


def _audit(
    policy: Path, data: Path, *, one_level: bool, filter: str | None, window: str | None
) -> tuple[dict[str, Any], list[str]]:
    """Return the audit's rule results (as JSON) and the grouped scans' SQL."""
    from ethicsgate.audit import run_audit

    scans: list[str] = []
    run = reader.DuckDBDataset._run

    def recording(self: Any, sql: str, progress: Any, *, label: str | None = None) -> Any:
        if label is None:
            scans.append(sql)
        return run(self, sql, progress, label=label)

    evidence: dict[str, Any] = {"path": data.name, "columns": {"label": "hired"}}
    if filter:
        evidence["filter"] = filter
    if window:
        evidence["window"] = {"column": "decided_at", "every": window}
    spec = data.parent / "audit.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "schema_version": 1,
                "id": "one-level",
                "policy": policy.name,
                "evidence": {"applicants": evidence},
            }
        )
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reader.DuckDBDataset, "_run", recording)
        patch.setattr(
            reader.DuckDBDataset, "_many_cells", lambda self, keys: ROWS if one_level else None
        )
        result = run_audit(spec)
    found = result.model_dump(mode="json")
    return {"rules": found["rules"], "evidence": found["audit"]["evidence"]}, scans


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize(
    ("threshold", "filter", "window"),
    [(False, None, None), (True, "keep", None), (True, None, "month"), (False, "keep", "week")],
)
def test_one_level_scan_reports_what_the_two_levels_report(
    tmp_path: Path, fmt: str, threshold: bool, filter: str | None, window: str | None
) -> None:
    frame = _frame(5, groups=400)
    data = tmp_path / f"applicants.{fmt}"
    if fmt == "parquet":
        frame.to_parquet(data)
    else:
        frame.to_csv(data, index=False)
    policy = _policy(tmp_path, threshold=threshold)
    two, two_sql = _audit(policy, data, one_level=False, filter=filter, window=window)
    one, one_sql = _audit(policy, data, one_level=True, filter=filter, window=window)
    assert len(one_sql) == len(two_sql) == 1
    assert "GROUP BY _h" in two_sql[0]
    if window is None or fmt == "csv":  # Parquet windows take the row-group plan: two levels
        assert "GROUP BY _h" not in one_sql[0] and "count(*)" in one_sql[0]
    assert one == two


def test_one_level_frame_equals_the_two_level_frame_with_nulls_and_text_labels(
    tmp_path: Path,
) -> None:
    """A label computed from text and NULL group values meet the same way in both plans."""
    from ethicsgate.engines.duckdb import DuckDBEngine
    from ethicsgate.evidence.model import ScoreColumn
    from ethicsgate.evidence.spec import EvidenceSpec

    frame = _frame(9, groups=50)
    frame["hired"] = np.where(frame["hired"] == 1, "yes", "no")
    frame.loc[::7, "sex"] = None
    path = tmp_path / "a.csv"
    frame.to_csv(path, index=False)
    spec = EvidenceSpec(path=str(path), columns={"label": "hired = 'yes'"}, filter="keep")
    frames = []
    for one_level in (False, True):
        with DuckDBEngine() as engine, pytest.MonkeyPatch.context() as patch:
            patch.setattr(
                reader.DuckDBDataset,
                "_many_cells",
                lambda self, keys, one=one_level: ROWS if one else None,
            )
            dataset = engine.open("a", spec, base_dir=tmp_path, locate=lambda loc: None)
            dataset.score_profile(distinct=False)
            found = dataset.grouped_counts(
                roles=["zip", "sex", "label"],
                binary_roles=["label"],
                score_columns={"_score_key": ScoreColumn("value")},
            )
            frames.append(found)
    two, one = frames
    assert (
        (one.rows, one.rows_read)
        == (two.rows, two.rows_read)
        == (
            int(frame["keep"].sum()),
            ROWS,
        )
    )
    _same_frame(one.frame, two.frame)


def _probe(tmp_path: Path, frame: pd.DataFrame, fmt: str = "parquet") -> bool:
    from ethicsgate.engines.duckdb import DuckDBEngine
    from ethicsgate.evidence.spec import EvidenceSpec

    path = tmp_path / f"probe.{fmt}"
    if fmt == "parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)
    with DuckDBEngine() as engine:
        dataset = engine.open(
            "a", EvidenceSpec(path=str(path)), base_dir=tmp_path, locate=lambda loc: None
        )
        keys = [('"zip"', "VARCHAR"), ('"sex"', "VARCHAR"), ("CAST(score AS DOUBLE)", "DOUBLE")]
        return dataset._many_cells(keys) is not None


def test_the_probe_picks_one_level_only_for_many_cells_in_large_parquet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "_ONE_LEVEL_MIN_ROWS", 10_000)
    monkeypatch.setattr(reader, "_ONE_LEVEL_PROBE_ROWS", 5_000)
    many = _frame(3, groups=20_000)  # 20,000 zips x 3 x 101 scores: nearly a cell per row
    few = _frame(3, groups=5)  # 5 x 3 x 101: about 1,500 cells
    assert _probe(tmp_path, many)
    assert not _probe(tmp_path, few)
    assert not _probe(tmp_path, many, fmt="csv")  # no footer row count: no probe
    monkeypatch.setattr(reader, "_ONE_LEVEL_MIN_ROWS", 10_000_000)
    assert not _probe(tmp_path, many)  # too few rows to be worth a probe


@pytest.mark.parametrize("user_limit", [None, "3GB"])
def test_the_one_level_scan_spills_beyond_its_cap_unless_the_user_set_a_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user_limit: str | None
) -> None:
    """DuckDB's memory limit as the grouped scan sees it, and after: capped at
    ONE_LEVEL_MEMORY for the one-level plan only, reset after it; ETHICSGATE_MEMORY_LIMIT
    (the user's) never touched."""
    from ethicsgate.engines.duckdb import DuckDBEngine
    from ethicsgate.evidence.model import ScoreColumn
    from ethicsgate.evidence.spec import EvidenceSpec

    if user_limit:
        monkeypatch.setenv("ETHICSGATE_MEMORY_LIMIT", user_limit)
    else:
        monkeypatch.delenv("ETHICSGATE_MEMORY_LIMIT", raising=False)
    path = tmp_path / "a.parquet"
    _frame(4, groups=30).to_parquet(path)
    seen: list[tuple[bool, str]] = []
    run = reader.DuckDBDataset._run

    def limit(con: Any) -> str:
        return str(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])

    def recording(self: Any, sql: str, progress: Any, *, label: str | None = None) -> Any:
        if label is None:
            seen.append(("GROUP BY _h" not in sql, limit(self.con)))
        return run(self, sql, progress, label=label)

    monkeypatch.setattr(reader.DuckDBDataset, "_run", recording)
    for one_level in (False, True):
        monkeypatch.setattr(
            reader.DuckDBDataset, "_many_cells", lambda s, k, o=one_level: ROWS if o else None
        )
        with DuckDBEngine() as engine:
            before = limit(engine.con)
            dataset = engine.open(
                "a", EvidenceSpec(path=str(path)), base_dir=tmp_path, locate=lambda loc: None
            )
            dataset.grouped_counts(
                roles=["zip", "sex"], binary_roles=[], score_columns={"_s": ScoreColumn("value")}
            )
            assert limit(engine.con) == before  # reset after the scan
    import duckdb

    scratch = duckdb.connect()
    scratch.execute("SET memory_limit = ?", [reader.ONE_LEVEL_MEMORY])
    cap = limit(scratch)
    (two_level, default), (one_level_seen, during) = seen
    assert not two_level and one_level_seen
    assert default == before
    assert during == (before if user_limit else cap)
    assert cap != before


def test_one_level_text_keys_as_enums_sort_and_read_as_text(tmp_path: Path) -> None:
    """The one-level scan groups text keys as ENUMs (a code per cell): the frame is the
    two-level scan's, for values that sort differently by case, accent or as numbers, quotes
    and NULLs, integer group columns and a key of no value; the types are dropped after, and
    the counts are INTEGER only below 2^31 rows."""
    from ethicsgate.engines.duckdb import DuckDBEngine
    from ethicsgate.evidence.model import ScoreColumn
    from ethicsgate.evidence.spec import EvidenceSpec

    rng = np.random.default_rng(11)
    names = ["b", "B", "a", "é", "Z", "10", "9", "O'Neil", 'say "hi"', "", None]
    frame = pd.DataFrame(
        {
            "name": rng.choice(np.array(names, dtype=object), ROWS),
            "branch": rng.integers(-3, 40, ROWS),
            "nothing": pd.Series([None] * ROWS, dtype="string"),
            "score": np.round(rng.random(ROWS), 3),
        }
    )
    path = tmp_path / "a.parquet"
    frame.to_parquet(path)
    frames = []
    scans: list[str] = []
    run = reader.DuckDBDataset._run

    def recording(self: Any, sql: str, progress: Any, *, label: str | None = None) -> Any:
        scans.append(sql)
        return run(self, sql, progress, label=label)

    for rows in (None, ROWS, 2**31):
        with DuckDBEngine() as engine, pytest.MonkeyPatch.context() as patch:
            patch.setattr(reader.DuckDBDataset, "_many_cells", lambda self, keys, r=rows: r)
            patch.setattr(reader.DuckDBDataset, "_run", recording)
            dataset = engine.open(
                "a", EvidenceSpec(path=str(path)), base_dir=tmp_path, locate=lambda loc: None
            )
            found = dataset.grouped_counts(
                roles=["name", "branch", "nothing"],
                score_columns={"_score_key": ScoreColumn("value")},
            )
            left = engine.con.sql(
                "SELECT count(*) FROM duckdb_types() WHERE type_name LIKE '_eg_enum%'"
            )
            assert left.fetchall() == [(0,)]
            frames.append(found.frame)
    two, one, wide = frames
    assert "GROUP BY _h" in scans[0] and "AS _eg_enum_" in scans[1]
    assert "AS INTEGER) AS n" in scans[1] and "AS BIGINT) AS n" in scans[2]
    _same_frame(one, two)
    assert wide["n"].dtype == "int64"  # 2^31 rows or more: BIGINT counts
    pd.testing.assert_frame_equal(wide, two)
    assert list(two["name"].cat.categories)[:3] == sorted(n for n in names if n is not None)[:3]


def test_a_text_key_of_many_values_stays_text_in_the_one_level_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every Arrow batch repeats an ENUM's dictionary: past _ENUM_MAX_VALUES values a key is
    grouped as text (10^6 values: 456 MB of result against 108); the frame is the same."""
    from ethicsgate.engines.duckdb import DuckDBEngine
    from ethicsgate.evidence.model import ScoreColumn
    from ethicsgate.evidence.spec import EvidenceSpec

    frame = _frame(13, groups=40)  # 40 zips (and None), 3 sexes
    path = tmp_path / "a.parquet"
    frame.to_parquet(path)
    monkeypatch.setattr(reader, "_ENUM_MAX_VALUES", 3)
    scans: list[str] = []
    run = reader.DuckDBDataset._run

    def recording(self: Any, sql: str, progress: Any, *, label: str | None = None) -> Any:
        scans.append(sql)
        return run(self, sql, progress, label=label)

    monkeypatch.setattr(reader.DuckDBDataset, "_run", recording)
    frames = []
    for rows in (None, ROWS):
        monkeypatch.setattr(reader.DuckDBDataset, "_many_cells", lambda self, keys, r=rows: r)
        with DuckDBEngine() as engine:
            dataset = engine.open(
                "a", EvidenceSpec(path=str(path)), base_dir=tmp_path, locate=lambda loc: None
            )
            found = dataset.grouped_counts(
                roles=["zip", "sex"], score_columns={"_score_key": ScoreColumn("value")}
            )
            types = "SELECT count(*) FROM duckdb_types() WHERE type_name LIKE '_eg_enum%'"
            assert engine.con.sql(types).fetchall() == [(0,)]
            frames.append(found.frame)
    one_level = scans[-1]
    assert 'CAST(("zip") AS VARCHAR) AS "zip"' in one_level  # 40 values: text
    sex = r'CAST\(CAST\(\("sex"\) AS VARCHAR\) AS _eg_enum_\w+\) AS "sex"'
    assert re.search(sex, one_level)  # 3 values: an ENUM
    _same_frame(frames[1], frames[0])


@pytest.mark.parametrize("mapping", ["name COLLATE NOCASE", "lower(name) COLLATE NOACCENT"])
def test_one_level_text_keys_under_a_collation_group_as_the_text_path(
    tmp_path: Path, mapping: str
) -> None:
    """A key compared under a collation has fewer distinct values than spellings: its enum
    missed some ('NULL' against 'null'), and the scan failed "cannot read ... as parquet";
    it is grouped as text instead, as the two-level scan groups it."""
    from ethicsgate.engines.duckdb import DuckDBEngine
    from ethicsgate.evidence.model import ScoreColumn
    from ethicsgate.evidence.spec import EvidenceSpec

    rng = np.random.default_rng(5)
    names = np.array(["a", "A", "null", "NULL", "é", "e", "b", None], dtype=object)
    frame = pd.DataFrame({"name": rng.choice(names, ROWS), "score": np.round(rng.random(ROWS), 3)})
    path = tmp_path / "a.parquet"
    frame.to_parquet(path)
    frames = []
    for rows in (None, ROWS):
        with DuckDBEngine() as engine, pytest.MonkeyPatch.context() as patch:
            patch.setattr(reader.DuckDBDataset, "_many_cells", lambda self, keys, r=rows: r)
            dataset = engine.open(
                "a",
                EvidenceSpec(path=str(path), columns={"name": mapping}),
                base_dir=tmp_path,
                locate=lambda loc: None,
            )
            found = dataset.grouped_counts(
                roles=["name"], score_columns={"_score_key": ScoreColumn("value")}
            )
            left = engine.con.sql(
                "SELECT count(*) FROM duckdb_types() WHERE type_name LIKE '_eg_enum%'"
            )
            assert left.fetchall() == [(0,)]
            frames.append(found.frame)
    two, one = frames
    assert int(one["n"].sum()) == ROWS
    _same_frame(one, two)
