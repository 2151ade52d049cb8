"""The audit session API without click: same bytes as the CLI, signing, review, no partial output."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.cli.test_audit_cli import FAILING, PASSING
from tests.folders import Clock, folder_bytes

import ethicsgate.attest
import ethicsgate.audit
from ethicsgate.attest import (
    ENVELOPE_FILENAME,
    generate_keypair,
    load_public_key,
    load_signing_key,
    verify_attestation,
)
from ethicsgate.audit.run import run_audit
from ethicsgate.canonical import REPORT_FILES
from ethicsgate.cli import cli
from ethicsgate.errors import EthicsgateError, SigningError
from ethicsgate.policy.models import ReviewOptions
from ethicsgate.report import report_files
from ethicsgate.review import format_time, open_store
from ethicsgate.review.workflow import audit_review_step
from ethicsgate.session.audit import default_out_dir, run_and_report


def test_run_and_report_writes_what_the_cli_writes(
    make_audit: Callable[..., Path],
    tmp_path: Path,
    frozen_clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    spec = make_audit(FAILING)
    run = run_and_report(spec, out=tmp_path / "api", clock=frozen_clock)
    assert not run.passed and run.signer is None and run.review is None
    assert sorted(run.files) == [
        "findings.parquet",
        "groups.csv",
        "groups.parquet",
        "report.html",
        "report.json",
        "report.md",
    ]
    assert {name: path.read_bytes() for name, path in run.written.items()} == run.files
    # the plain pipeline gives the same bytes (findings.parquet is collected by the run)
    assert {k: v for k, v in run.files.items() if k != "findings.parquet"} == report_files(
        run_audit(spec, clock=frozen_clock)
    )

    real = ethicsgate.audit.run_audit

    def frozen(spec: object, **kwargs: object) -> object:
        return real(spec, **{**kwargs, "clock": frozen_clock})  # type: ignore[arg-type]

    monkeypatch.setattr(ethicsgate.audit, "run_audit", frozen)
    result = CliRunner().invoke(cli, ["audit", str(spec), "--out", str(tmp_path / "cli")])
    assert result.exit_code == 1, result.output
    assert folder_bytes(tmp_path / "cli") == folder_bytes(tmp_path / "api") == run.files


def test_default_out_dir_is_reports_audit_id(
    make_audit: Callable[..., Path],
    tmp_path: Path,
    frozen_clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    run = run_and_report(make_audit(PASSING), clock=frozen_clock)
    assert run.passed
    assert default_out_dir(run.result) == Path("reports/test-audit")
    assert run.written["report.json"] == Path("reports/test-audit/report.json")
    assert (tmp_path / "reports" / "test-audit" / "report.json").is_file()


def test_signed_report_verifies_and_an_unsigned_rerun_drops_the_envelope(
    make_audit: Callable[..., Path],
    tmp_path: Path,
    frozen_clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    spec = make_audit(FAILING)
    pair = generate_keypair(tmp_path / "keys")
    out = tmp_path / "out"
    run = run_and_report(spec, out=out, key=load_signing_key(pair.private_path), clock=frozen_clock)
    assert run.signer == pair.fingerprint
    assert sorted(run.written) == sorted([ENVELOPE_FILENAME, *REPORT_FILES])
    assert pair.fingerprint.encode() in run.files["report.html"]
    verified = verify_attestation(out, load_public_key(pair.public_path), check_files=True)
    assert verified.ok, verified.reasons

    again = run_and_report(spec, out=out, clock=frozen_clock)
    assert again.signer is None
    assert not (out / ENVELOPE_FILENAME).exists()
    assert folder_bytes(out) == again.files


def test_load_signing_key_from_settings_and_the_passphrase_prompt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ETHICSGATE_SIGNING_KEY", raising=False)
    monkeypatch.delenv("ETHICSGATE_KEY_PASSPHRASE", raising=False)
    assert load_signing_key(None) is None
    pair = generate_keypair(tmp_path, passphrase=b"correct horse")
    asked: list[Path] = []

    def ask(path: Path) -> bytes:
        asked.append(path)
        return b"correct horse"

    monkeypatch.setenv("ETHICSGATE_SIGNING_KEY", str(pair.private_path))
    key = load_signing_key(ask_passphrase=ask)
    assert key is not None and asked == [pair.private_path]
    with pytest.raises(SigningError, match="encrypted"):
        load_signing_key()  # no passphrase, nobody to ask
    monkeypatch.setenv("ETHICSGATE_KEY_PASSPHRASE", "wrong")
    with pytest.raises(SigningError, match="wrong passphrase"):
        load_signing_key(ask_passphrase=ask)
    assert len(asked) == 1, "a passphrase in the settings is used, not asked for"


def test_bad_evidence_writes_nothing(
    make_audit: Callable[..., Path],
    tmp_path: Path,
    frozen_clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    spec = make_audit(PASSING, data_name="elsewhere.csv")  # the spec reads data.csv
    with pytest.raises(EthicsgateError, match="data.csv"):
        run_and_report(spec, out=tmp_path / "out", clock=frozen_clock)
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "reports").exists()


def test_a_failed_signature_leaves_the_previous_report(
    make_audit: Callable[..., Path],
    tmp_path: Path,
    frozen_clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    run_and_report(make_audit(FAILING), out=out, clock=frozen_clock)
    before = folder_bytes(out)
    key = load_signing_key(generate_keypair(tmp_path / "keys").private_path)

    def broken(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("the signer broke")

    monkeypatch.setattr(ethicsgate.attest, "sign_report", broken)
    with pytest.raises(RuntimeError, match="the signer broke"):
        run_and_report(make_audit(PASSING), out=out, key=key, clock=frozen_clock)
    assert folder_bytes(out) == before, "nothing is written unless everything rendered"


def test_enqueue_feeds_the_queue_and_keeps_the_report(
    make_audit: Callable[..., Path],
    tmp_path: Path,
    frozen_clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ETHICSGATE_DB_URL", raising=False)
    assert audit_review_step(enqueue=False) is None, "no store configured: no review step"
    spec = make_audit(FAILING)
    url = f"sqlite:///{tmp_path / 'review.db'}"

    step = audit_review_step(enqueue=True, db_url=url)
    run = run_and_report(spec, out=tmp_path / "a", review=step, clock=frozen_clock)
    assert run.review is not None
    assert run.review.enqueued == 1 and run.review.already_queued == 0
    with open_store(url) as store:
        items = store.list_items()
    assert [i.record_id for i in items] == ["group:group=b"]
    assert items[0].due_at == format_time(frozen_clock() + ReviewOptions().sla)

    again = run_and_report(
        spec, out=tmp_path / "b", review=audit_review_step(enqueue=True, db_url=url)
    )
    assert again.review is not None
    assert again.review.enqueued == 0 and again.review.already_queued == 1

    plain = run_and_report(spec, out=tmp_path / "c", clock=frozen_clock)
    with_review = json.loads(run.files["report.json"])
    assert with_review.pop("review")["store"].startswith("sqlite:///")
    assert json.loads(plain.files["report.json"]) == with_review


def test_a_blank_enqueuing_reviewer_from_python_names_the_parameter(
    make_audit: Callable[..., Path], tmp_path: Path
) -> None:
    # found by QA: AuditReviewStep(actor=" ") was refused naming --as, a flag the Python
    # caller never gave

    from ethicsgate.errors import ReviewError
    from ethicsgate.review import open_store
    from ethicsgate.review.workflow import AuditReviewStep
    from ethicsgate.session import run_and_report

    store = open_store(f"sqlite:///{tmp_path / 'queue.db'}")
    step = AuditReviewStep(store, enqueue=True, actor=" ")
    with pytest.raises(ReviewError) as refused:
        run_and_report(make_audit(FAILING), out=tmp_path / "o", review=step)
    assert refused.value.message.startswith("actor= of AuditReviewStep gives the reviewer's")
    assert "--as" not in refused.value.message + (refused.value.hint or "")
