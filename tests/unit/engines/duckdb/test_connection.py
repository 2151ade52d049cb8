"""The DuckDB connection of evidence scans: limits from ETHICSGATE_* settings, located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ethicsgate.engines.duckdb.connection import connect
from ethicsgate.errors import SettingsError
from ethicsgate.settings import Settings


def _setting(con, name: str) -> str:  # type: ignore[no-untyped-def]
    return str(con.sql(f"SELECT current_setting('{name}')").fetchall()[0][0])


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ETHICSGATE_MEMORY_LIMIT", "300MB")
    monkeypatch.setenv("ETHICSGATE_THREADS", "1")
    monkeypatch.setenv("ETHICSGATE_TEMP_DIR", str(tmp_path / "spill"))
    con = connect()
    try:
        assert _setting(con, "memory_limit") == "286.1 MiB"  # 300 MB in DuckDB's units
        assert _setting(con, "threads") == "1"
        spill = Path(_setting(con, "temp_directory"))
        assert spill.parent == tmp_path / "spill" and spill.parent.is_dir()
    finally:
        con.close()


def test_spills_go_to_a_private_folder_that_is_removed_on_close(tmp_path: Path) -> None:
    con = connect(Settings(memory_limit="64MB", threads="1", temp_dir=tmp_path))
    try:
        spill = Path(_setting(con, "temp_directory"))
        # a sort of ~40M random strings cannot stay in 64 MB: it must spill to disk
        rows = con.sql(
            "SELECT count(*) FROM (SELECT hash(i)::VARCHAR AS s FROM range(3000000) t(i) ORDER BY s)"
        ).fetchall()
        assert rows == [(3_000_000,)]
        assert spill.is_dir()
    finally:
        con.close()
    assert not spill.exists()
    two = [connect(Settings(temp_dir=tmp_path)) for _ in range(2)]
    try:  # two connections (or processes) never share a spill folder
        assert _setting(two[0], "temp_directory") != _setting(two[1], "temp_directory")
    finally:
        for con in two:
            con.close()


def test_default_spill_folder_is_not_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ETHICSGATE_TEMP_DIR", raising=False)
    con = connect()
    try:
        assert not Path(_setting(con, "temp_directory")).is_relative_to(tmp_path)
    finally:
        con.close()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"memory_limit": "lots"},
            r"ETHICSGATE_MEMORY_LIMIT: 'lots' is not usable: .*\n  hint: set ETHICSGATE_MEMORY_LIMIT to 2GB",
        ),
        ({"threads": "two"}, r"ETHICSGATE_THREADS: 'two' must be a whole number of at least 1"),
        ({"threads": "0"}, r"ETHICSGATE_THREADS: '0' must be a whole number"),
        (
            {"temp_dir": "/proc/no/such/folder"},
            r"ETHICSGATE_TEMP_DIR: '/proc/no/such/folder' cannot be created",
        ),
    ],
)
def test_bad_settings_are_located_errors(settings: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        connect(Settings.model_validate(settings))
