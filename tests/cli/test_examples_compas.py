"""``ethicsgate examples compas``: download with a pinned sha256, cache, --from, clear offline error.

The download is served by a local HTTP server from the workplace's shared copy of the file
(the tests never reach the internet).
"""

from __future__ import annotations

import functools
import http.server
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from tests.conftest import PROPUBLICA_CSV, ROOT

from ethicsgate.cli import cli
from ethicsgate.examples import compas
from ethicsgate.examples.compas import COMPAS_FILE, COMPAS_SHA256, ExampleDataError, fetch_compas


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A local HTTP server over a folder: (folder, its base URL)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "ethicsgate" / "datasets"


@pytest.fixture
def shared() -> Path:
    assert PROPUBLICA_CSV.is_file(), f"shared dataset missing: {PROPUBLICA_CSV}"
    return PROPUBLICA_CSV


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/{COMPAS_FILE}"


def test_the_pinned_digest_is_the_shared_file(shared: Path) -> None:
    import hashlib

    assert hashlib.sha256(shared.read_bytes()).hexdigest() == COMPAS_SHA256
    assert compas.COMPAS_URL == (
        "https://raw.githubusercontent.com/propublica/compas-analysis/master/"
        "compas-scores-two-years.csv"
    )


def test_download_is_checked_and_cached(serve: tuple[Path, str], cache: Path, shared: Path) -> None:
    root, base = serve
    (root / COMPAS_FILE).write_bytes(shared.read_bytes())
    got = fetch_compas(url=f"{base}/{COMPAS_FILE}")
    assert got.parent.parent == cache
    assert got.read_bytes() == shared.read_bytes()
    # cached: the server is no longer needed
    (root / COMPAS_FILE).unlink()
    assert fetch_compas(url=_closed_port_url()) == got


def test_wrong_checksum_is_refused_and_not_cached(
    serve: tuple[Path, str], cache: Path, shared: Path
) -> None:
    root, base = serve
    (root / COMPAS_FILE).write_bytes(shared.read_bytes().replace(b"Caucasian", b"caucasian", 1))
    url = f"{base}/{COMPAS_FILE}"
    with pytest.raises(ExampleDataError, match="not the compas-scores-two-years.csv") as info:
        fetch_compas(url=url)
    assert url in str(info.value) and "--from" in str(info.value)
    assert not cache.exists() or not any(p.is_file() for p in cache.rglob("*"))


def test_offline_is_exit_2_naming_the_url_and_from(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _closed_port_url()
    monkeypatch.setattr(compas, "COMPAS_URL", url)
    code, _, stderr = run("examples", "compas", "--out", str(tmp_path / "out"))
    assert code == 2
    assert f"cannot download {url}" in stderr
    assert f"curl -LO {url}" in stderr
    assert "ethicsgate examples compas --out DIR --from compas-scores-two-years.csv" in stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "out").exists()


def test_from_a_local_copy_offline(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared: Path
) -> None:
    monkeypatch.setattr(compas, "COMPAS_URL", _closed_port_url())
    monkeypatch.chdir(tmp_path)
    wrong = ROOT / "examples" / "data" / "compas_for_aequitas.csv"
    code, _, stderr = run("examples", "compas", "--out", "c", "--from", str(wrong))
    assert code == 2 and "has sha256" in stderr and not (tmp_path / "c").exists()
    code, stdout, stderr = run("examples", "compas", "--out", "c", "--from", str(shared))
    assert code == 0, stderr
    assert (tmp_path / "c" / COMPAS_FILE).read_bytes() == shared.read_bytes()
    assert stdout.splitlines()[-1] == "next: ethicsgate audit c/audit.yaml --out c/report"


def test_written_example_audits_propublicas_table(
    serve: tuple[Path, str],
    cache: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    shared: Path,
) -> None:
    root, base = serve
    (root / COMPAS_FILE).write_bytes(shared.read_bytes())
    monkeypatch.setattr(compas, "COMPAS_URL", f"{base}/{COMPAS_FILE}")
    monkeypatch.chdir(tmp_path)
    code, stdout, stderr = run("examples", "compas", "--out", "c", "--format", "json")
    assert code == 0, stderr
    assert json.loads(stdout)["sha256"] == COMPAS_SHA256
    readme = (tmp_path / "c" / "README.md").read_text()
    command = "ethicsgate audit c/audit.yaml --out c/report"
    assert f"\n{command}\n" in readme
    code, _, stderr = run(*command.split()[1:])
    assert code == 1, stderr  # COMPAS fails false positive rate parity, as ProPublica found
    report = json.loads((tmp_path / "c" / "report" / "report.json").read_text())
    assert report["audit"]["policy"]["path"] == "pack:recidivism-fairness"
    assert report["audit"]["evidence"][0]["sha256"] == COMPAS_SHA256
    fpr = next(r for r in report["rules"] if r["id"] == "fpr-parity")
    rates = {g["group"]["race"]: g["metrics"]["false_positive_rate"] for g in fpr["groups"]}
    assert round(rates["African-American"] * 100, 2) == 44.85


def test_shipped_spec_and_readme_point_at_the_download() -> None:
    spec = yaml.safe_load((ROOT / "audits" / "compas-propublica.yaml").read_text())
    path = spec["evidence"]["predictions"]["path"]
    assert path == f"../examples/compas/{COMPAS_FILE}"
    assert "shared" not in path
    command = "ethicsgate examples compas --out examples/compas"
    assert command in (ROOT / "audits" / "compas-propublica.yaml").read_text()
    readme = (ROOT / "README.md").read_text()
    assert command in readme and "shared/datasets" not in readme
    tutorial = (ROOT / "docs" / "tutorial-compas.md").read_text()
    assert command in tutorial and "shared/datasets" not in tutorial
