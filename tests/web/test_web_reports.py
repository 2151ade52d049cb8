"""The report index: a report's signature is verified again whenever its files change."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ethicsgate.attest import (
    ENVELOPE_FILENAME,
    Subject,
    build_statement,
    sha256_file,
    sign_envelope,
)
from ethicsgate.web.reports import ReportIndex


def _signed_report(folder: Path, key: Ed25519PrivateKey) -> None:
    folder.mkdir(parents=True)
    report = {"audit": {"id": "a", "policy": {"id": "p"}, "finished_at": "2026-01-01"}}
    (folder / "report.json").write_text(json.dumps({**report, "status": "fail"}))
    (folder / "report.html").write_text("<p>status: FAIL</p>\n")
    subjects = [Subject(n, sha256_file(folder / n)) for n in ("report.json", "report.html")]
    statement = build_statement(subjects, {"status": "fail"})
    (folder / ENVELOPE_FILENAME).write_bytes(sign_envelope(statement, key))


def test_an_edit_that_keeps_size_and_mtime_is_still_seen(tmp_path: Path) -> None:
    # an edit in place that restores the file's mtime (touch -r) must not keep "verified"
    key = Ed25519PrivateKey.generate()
    _signed_report(tmp_path / "r", key)
    index = ReportIndex(tmp_path, [key.public_key()])
    assert index.reports()[0].signature.state == "verified"
    html = tmp_path / "r" / "report.html"
    before = html.stat()
    time.sleep(0.05)  # file times tick by the kernel's coarse clock (a few ms)
    html.write_text("<p>status: PASS</p>\n")  # the same size
    os.utime(html, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert html.stat().st_size == before.st_size
    assert index.reports()[0].signature.state == "not verified"


def test_a_planted_device_pipe_or_huge_report_is_not_read(tmp_path: Path) -> None:
    """Found by the review: the index read report.json whole, before any check: a symlink to
    /dev/zero was read forever, a FIFO waited for a writer, a huge file took the memory."""
    from ethicsgate.web import reports

    key = Ed25519PrivateKey.generate()
    _signed_report(tmp_path / "good", key)
    _signed_report(tmp_path / "zero", key)
    (tmp_path / "zero" / "report.json").unlink()
    (tmp_path / "zero" / "report.json").symlink_to("/dev/zero")
    _signed_report(tmp_path / "pipe", key)
    (tmp_path / "pipe" / "report.json").unlink()
    os.mkfifo(tmp_path / "pipe" / "report.json")
    _signed_report(tmp_path / "huge", key)
    with (tmp_path / "huge" / "report.json").open("r+b") as handle:
        handle.truncate(reports.MAX_REPORT_BYTES + 1)  # sparse
    index = ReportIndex(tmp_path, [key.public_key()])
    assert [r.name for r in index.reports()] == ["good"]
    assert index.html("good") == b"<p>status: FAIL</p>\n"
