"""Opening the review store from the CLI: readers never create one; URLs never show secrets.

Read-only commands (``review list/show/export/verify-log``, ``history list/show/trend``,
``users list``) on a store that is not there exit 2 naming the place and create nothing; the
commands that write create it as before. A database URL is shown with every secret it carries
(``user:password@``, ``?password=``, ``?sslpassword=``, tokens) replaced by ``***``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from ethicsgate.cli import cli

READERS = [
    ("review", "list"),
    ("review", "show", "1"),
    ("review", "export"),
    ("review", "export", "--log"),
    ("review", "verify-log"),
    ("history", "list"),
    ("history", "show", "1"),
    ("history", "trend", "parity"),
    ("users", "list"),
]


def run(*args: str, env: dict[str, str | None] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False, env=env)
    return result.exit_code, result.stdout, result.stderr


def _everything(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("args", READERS, ids=" ".join)
def test_a_reader_on_a_missing_sqlite_store_exits_2_and_creates_nothing(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    missing = tmp_path / "typo" / "review.db"  # its folder is missing too
    code, stdout, stderr = run(*args, "--db", f"sqlite:///{missing}")
    assert code == 2, stdout + stderr
    assert f"no review store at {missing}" in stderr
    assert "--enqueue" in stderr and "--record" in stderr and "ETHICSGATE_DB_URL" in stderr
    assert "Traceback" not in stderr and "intact" not in stdout
    assert _everything(tmp_path) == []


@pytest.mark.parametrize("args", [("review", "verify-log"), ("history", "list")], ids=" ".join)
def test_a_reader_in_a_folder_without_a_store_creates_no_default_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, stdout, stderr = run(*args, env={"ETHICSGATE_DB_URL": None})
    assert code == 2, stdout + stderr
    assert f"no review store at {tmp_path / '.ethicsgate' / 'review.db'}" in stderr
    assert _everything(tmp_path) == []  # no .ethicsgate folder, no lock file


def test_a_sqlite_file_without_the_review_tables_is_not_read_as_a_store(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE notes (body TEXT)")
    con.close()
    before = other.read_bytes()
    code, stdout, stderr = run("review", "verify-log", "--db", f"sqlite:///{other}")
    assert code == 2, stdout + stderr
    assert f"no review store at {other}" in stderr and "no review tables" in stderr
    assert other.read_bytes() == before  # not migrated, not switched to WAL
    assert _everything(tmp_path) == ["other.db"]


def test_a_reader_on_a_postgresql_database_never_migrated_exits_2_and_migrates_nothing() -> None:
    from tests.unit.review.conftest import _fresh_postgres

    url = _fresh_postgres()  # the real server, every review table dropped
    code, stdout, stderr = run("history", "list", "--db", url)
    assert code == 2, stdout + stderr
    assert "no review store at postgresql" in stderr and "has no review tables" in stderr
    engine = sa.create_engine(url)
    try:
        assert sa.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_writers_still_create_the_store_and_readers_then_read_it(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'new' / 'review.db'}"
    code, stdout, stderr = run("review", "claim", "--db", db, "--as", "alice")
    assert code == 0, stderr
    assert "nothing to claim" in stdout
    code, stdout, stderr = run("review", "verify-log", "--db", db)
    assert code == 0, stderr
    assert "decision log intact: 0 entries" in stdout
    code, stdout, stderr = run("history", "list", "--db", db, "--format", "json")
    assert code == 0, stderr
    assert json.loads(stdout) == {"runs": []}


def test_an_audit_that_only_shows_the_queue_makes_no_store(
    make_audit: Callable[..., Path], tmp_path: Path
) -> None:
    # --db without --enqueue adds the queue's state to the report: an empty file was made
    from tests.cli.test_audit_cli import PASSING

    spec = make_audit(PASSING)
    db = tmp_path / "stores" / "review.db"
    code, _, stderr = run(
        "audit", str(spec), "--out", str(tmp_path / "a"), "--db", f"sqlite:///{db}"
    )
    assert code == 0, stderr
    assert not db.parent.exists()
    assert json.loads((tmp_path / "a" / "report.json").read_text()).get("review") is None
    code, _, stderr = run(
        "audit", str(spec), "--out", str(tmp_path / "b"), "--enqueue", "--db", f"sqlite:///{db}"
    )
    assert code == 0, stderr
    assert db.is_file()
    code, _, stderr = run(
        "audit", str(spec), "--out", str(tmp_path / "c"), "--db", f"sqlite:///{db}"
    )
    assert code == 0, stderr
    assert json.loads((tmp_path / "c" / "report.json").read_text())["review"] is not None


# -- secrets in database URLs -----------------------------------------------------------------

SECRETS = ("S3cret-userinfo", "S3cret-password", "S3cret-sslpassword", "S3cret-token")
#: nothing listens on port 1: the connection is refused at once
URL = (
    f"postgresql://auditor:{SECRETS[0]}@127.0.0.1:1/reviews?password={SECRETS[1]}"
    f"&sslpassword={SECRETS[2]}&connect_timeout=3"
)


def _no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


@pytest.mark.parametrize(
    "args",
    [
        ("history", "list"),
        ("review", "list"),
        ("review", "claim"),
        ("users", "list"),
        ("users", "add", "erin", "--role", "reviewer"),
    ],
    ids=" ".join,
)
@pytest.mark.parametrize("given", ["--db", "ETHICSGATE_DB_URL"])
def test_a_password_in_the_query_string_is_never_shown(args: tuple[str, ...], given: str) -> None:
    if given == "--db":
        code, stdout, stderr = run(*args, "--db", URL)
    else:
        code, stdout, stderr = run(*args, env={"ETHICSGATE_DB_URL": URL})
    assert code == 2, stdout + stderr
    assert "cannot open review database" in stderr and "Traceback" not in stderr
    assert "auditor:***@127.0.0.1:1/reviews" in stderr
    assert "password=***" in stderr and "sslpassword=***" in stderr
    _no_secret(stdout + stderr)


@pytest.mark.parametrize("flag", ["--record", "--enqueue"])
def test_an_audit_with_a_bad_store_never_shows_its_secrets(
    make_audit: Callable[..., Path], tmp_path: Path, flag: str
) -> None:
    from tests.cli.test_audit_cli import PASSING

    spec = make_audit(PASSING)
    code, stdout, stderr = run(
        "audit", str(spec), "--out", str(tmp_path / "out"), flag, "--db", URL
    )
    assert code == 2, stdout + stderr
    assert "cannot open review database" in stderr and "password=***" in stderr
    _no_secret(stdout + stderr)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://auditor:{SECRETS[0]}@127.0.0.1:notaport/reviews",  # a bad port
        f"not a url?password={SECRETS[1]}",
        f"mysql://auditor@h/reviews?password={SECRETS[1]}&access_token={SECRETS[3]}",
    ],
)
def test_a_malformed_url_exits_2_without_its_secrets(url: str) -> None:
    code, stdout, stderr = run("history", "list", "--db", url)
    assert code == 2, stdout + stderr
    assert "review database" in stderr and "***" in stderr and "Traceback" not in stderr
    _no_secret(stdout + stderr)
