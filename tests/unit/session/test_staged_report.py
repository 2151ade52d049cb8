"""Report files are streamed to a staging folder, hashed as written, signed, then moved.

A failure in the middle of writing a file leaves the output folder as it was and no staging
folder; the digests signed are those of the files on disk.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.cli.test_audit_cli import FAILING, PASSING
from tests.folders import Clock, folder_bytes

from ethicsgate.attest import ENVELOPE_FILENAME, generate_keypair, load_signing_key
from ethicsgate.errors import OutputError
from ethicsgate.files import ReportFiles, staged_files
from ethicsgate.report.formats import REPORT_FORMATS
from ethicsgate.report.formats.base import Format
from ethicsgate.session.audit import run_and_report


def test_a_failure_in_the_middle_of_a_file_leaves_no_partial_output(
    make_audit: Callable[..., Path],
    tmp_path: Path,
    frozen_clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    run_and_report(make_audit(FAILING), out=out, clock=frozen_clock)
    before = folder_bytes(out)
    real = REPORT_FORMATS["json"]
    assert isinstance(real, Format) and real.stream is not None
    written: list[int] = []

    def breaks_midway(source: object, sink: object) -> None:
        class Half:
            def write(self, data: bytes) -> int:
                sink.write(data)  # type: ignore[attr-defined]
                written.append(len(data))
                raise OSError(28, "No space left on device")

        real.stream(source, Half())  # type: ignore[misc, arg-type]

    monkeypatch.setitem(
        REPORT_FORMATS, "json", Format("json", "report.json", real.function, breaks_midway)
    )
    with pytest.raises(OutputError, match="cannot write the file: No space left") as caught:
        run_and_report(make_audit(PASSING), out=out, clock=frozen_clock)
    assert caught.value.location is not None and caught.value.location.path.endswith("report.json")
    assert written, "the failure came after part of report.json was written"
    assert folder_bytes(out) == before, "no partial file, no staging folder"


def test_a_refused_render_into_a_new_folder_leaves_no_folder(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b"
    with pytest.raises(RuntimeError), staged_files(out) as staged:
        with staged.open("report.json") as handle:
            handle.write(b"{")
        raise RuntimeError("render bug")
    assert not (tmp_path / "a").exists()


def test_the_signed_digests_are_the_files_on_disk(
    make_audit: Callable[..., Path],
    tmp_path: Path,
    frozen_clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    key = load_signing_key(generate_keypair(tmp_path / "keys").private_path)
    run = run_and_report(make_audit(FAILING), out=tmp_path / "out", key=key, clock=frozen_clock)
    assert isinstance(run.files, ReportFiles)
    envelope = json.loads((tmp_path / "out" / ENVELOPE_FILENAME).read_bytes())
    statement = json.loads(base64.b64decode(envelope["payload"]))
    signed = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    on_disk = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in (tmp_path / "out").iterdir()
        if p.name != ENVELOPE_FILENAME
    }
    assert on_disk and {name: signed[name] for name in on_disk} == on_disk
    assert {n: d for n, d in run.files.digests.items() if n in on_disk} == on_disk
    assert run.files["report.json"] == (tmp_path / "out" / "report.json").read_bytes()
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


def test_a_report_file_this_run_does_not_write_is_not_left_behind(
    make_audit: Callable[..., Path],
    tmp_path: Path,
    frozen_clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a result written without its findings (AuditReport made by hand) over a folder that holds
    # an earlier run's findings.parquet: that file is no part of the new, signed report
    from ethicsgate.attest import load_public_key, verify_attestation
    from ethicsgate.session.audit import write_signed_report

    monkeypatch.chdir(tmp_path)
    pair = generate_keypair(tmp_path / "keys")
    key = load_signing_key(pair.private_path)
    out = tmp_path / "out"
    run = run_and_report(make_audit(FAILING), out=out, key=key, clock=frozen_clock)
    assert (out / "findings.parquet").exists()
    write_signed_report(run.result, out, key)
    assert not (out / "findings.parquet").exists()
    result = verify_attestation(out, load_public_key(pair.public_path))
    assert result.ok, result.reasons
