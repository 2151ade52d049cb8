"""Outputs that cannot be written: exit 2 naming the path and the fix, before the scan, no trace.

Found by a QA pass: an ``--out`` under a file, on ``/proc`` or in a folder the user may not
write made a traceback and exit 3, and ``gate`` wrote the report and the JUnit file before
failing on the SARIF file's folder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.conftest import AUDIT, POLICY

import ethicsgate
import ethicsgate.session.audit
import ethicsgate.session.gate
from ethicsgate.cli import cli
from ethicsgate.errors import OutputError
from ethicsgate.files import check_writable, staged_files, write_files_atomically

PASSING = "group,label,prediction\n" + "a,1,1\na,0,0\n" * 5 + "b,1,1\nb,0,0\n" * 5


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def spec(write: Callable[[str, str], Path]) -> Path:
    write("policy.yaml", POLICY)
    write("data.csv", PASSING)
    return write("audit.yaml", AUDIT)


@pytest.fixture
def no_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the audit reaches its scan: the outputs are checked before it."""

    def scanned(*args: object, **kwargs: object) -> None:
        raise AssertionError("the evidence was scanned before the output was checked")

    monkeypatch.setattr(ethicsgate.session.audit, "run_collecting_findings", scanned)
    monkeypatch.setattr(ethicsgate.session.gate, "run_collecting_findings", scanned)


@pytest.mark.usefixtures("no_scan")
def test_an_out_folder_under_a_file_is_named_before_the_scan(spec: Path, tmp_path: Path) -> None:
    before = _tree(tmp_path)
    code, _, stderr = run("audit", str(spec), "--out", str(tmp_path / "data.csv" / "reports"))
    assert code == 2
    assert f"{tmp_path / 'data.csv' / 'reports'}: cannot write the output folder" in stderr
    assert f"{tmp_path / 'data.csv'} is a file, not a folder" in stderr
    assert "hint:" in stderr and "Traceback" not in stderr
    assert _tree(tmp_path) == before


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
@pytest.mark.usefixtures("no_scan")
def test_an_out_folder_the_system_refuses_is_exit_2_not_a_bug(spec: Path) -> None:
    # /proc takes no new folder, whatever the permission bits say (root included)
    code, _, stderr = run("audit", str(spec), "--out", "/proc/ethicsgate-test-out")
    assert code == 2
    assert "/proc/ethicsgate-test-out: cannot write the output folder" in stderr
    assert "internal error" not in stderr and "Traceback" not in stderr


@pytest.mark.usefixtures("no_scan")
def test_a_folder_in_the_way_of_a_report_file_is_found_before_anything_moves(
    spec: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    (out / "groups.csv").mkdir(parents=True)  # the fourth file: three would have been new
    code, _, stderr = run("audit", str(spec), "--out", str(out))
    assert code == 2
    assert f"{out / 'groups.csv'}: cannot write the file: a folder of that name" in stderr
    assert "hint: remove or rename that folder, or choose another folder (--out)" in stderr
    assert _tree(out) == ["groups.csv"]


def test_report_write_in_python_names_its_out_parameter_not_the_flag(
    spec: Path, tmp_path: Path
) -> None:
    """Found in review: AuditReport.write's errors told a Python caller to change --out."""
    report = ethicsgate.audit(spec)
    out = tmp_path / "out"
    (out / "groups.csv").mkdir(parents=True)
    with pytest.raises(OutputError) as in_the_way:
        report.write(out)
    assert str(in_the_way.value.location) == str(out / "groups.csv")
    assert in_the_way.value.hint == (
        "remove or rename that folder, or choose another folder (out= of AuditReport.write)"
    )
    assert _tree(out) == ["groups.csv"]
    with pytest.raises(OutputError) as under_a_file:
        report.write(tmp_path / "data.csv" / "reports")
    assert f"{tmp_path / 'data.csv'} is a file, not a folder" in under_a_file.value.message
    assert under_a_file.value.hint == (
        "choose a folder you can write to (out= of AuditReport.write), or fix the permissions "
        "of its parent"
    )
    code, _, stderr = run("audit", str(spec), "--out", str(tmp_path / "data.csv" / "reports"))
    assert code == 2
    assert "hint: choose a folder you can write to (--out), or fix the permissions" in stderr


def test_gate_checks_its_ci_files_folders_before_writing_anything(
    spec: Path, tmp_path: Path
) -> None:
    before = _tree(tmp_path)
    code, _, stderr = run(
        "gate",
        str(spec),
        "--out",
        str(tmp_path / "reports"),
        "--junit",
        str(tmp_path / "ci" / "junit.xml"),
        "--sarif",
        str(tmp_path / "data.csv" / "out.sarif"),
    )
    assert code == 2
    assert f"{tmp_path / 'data.csv'}: cannot write the folder of out.sarif" in stderr
    # the hint names the option to change (found by QA: it said --out)
    assert "hint: choose a folder you can write to (--sarif)" in stderr
    assert "Traceback" not in stderr
    assert _tree(tmp_path) == before, "no report, no JUnit file, no folder"


def test_findings_export_and_scaffolds_name_the_folder(spec: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run("audit", str(spec), "--out", str(out))[0] == 0
    blocked = tmp_path / "data.csv"
    code, _, stderr = run("findings", "export", str(out), "--out", str(blocked / "f.csv"))
    assert code == 2 and f"{blocked}: cannot write the folder of f.csv" in stderr
    code, _, stderr = run("init", str(blocked / "project"))
    assert code == 2 and "cannot write the project folder" in stderr
    code, _, stderr = run("examples", "bakery", "--out", str(blocked / "bakery"))
    assert code == 2 and "cannot write the output folder" in stderr
    assert "Traceback" not in stderr


def test_check_writable_leaves_no_folder_and_no_file(tmp_path: Path) -> None:
    check_writable(tmp_path / "a" / "b" / "c")
    assert _tree(tmp_path) == []
    (tmp_path / "kept").mkdir()
    check_writable(tmp_path / "kept" / "new")
    assert _tree(tmp_path) == ["kept"]


def test_a_write_that_fails_raises_an_output_error_and_replaces_nothing(tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_text("old")
    (tmp_path / "dir.txt").mkdir()
    with pytest.raises(OutputError, match="a folder of that name is in the way") as raised:
        write_files_atomically(tmp_path, {"old.txt": b"new", "dir.txt": b"x"})
    assert raised.value.location is not None and raised.value.location.path.endswith("dir.txt")
    assert (tmp_path / "old.txt").read_text() == "old"
    assert _tree(tmp_path) == ["dir.txt", "old.txt"]
    with (
        pytest.raises(OutputError, match="is a file, not a folder"),
        staged_files(tmp_path / "old.txt" / "out"),
    ):
        pass
    assert _tree(tmp_path) == ["dir.txt", "old.txt"]


def test_an_os_error_about_a_file_reaching_the_cli_is_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # the last line of defence: a command whose own checks missed the path
    import ethicsgate.scaffold

    def refused(directory: Path) -> list[Path]:
        raise PermissionError(13, "Permission denied", str(directory / "audits"))

    monkeypatch.setattr(ethicsgate.scaffold, "scaffold_project", refused)
    code, _, stderr = run("init", str(tmp_path / "p"))
    assert code == 2
    assert f"error: {tmp_path / 'p' / 'audits'}: Permission denied" in stderr
    assert "Traceback" not in stderr


def test_an_os_error_about_no_file_is_still_a_bug(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import ethicsgate.scaffold

    def broken(directory: Path) -> list[Path]:
        raise OSError("something internal")

    monkeypatch.setattr(ethicsgate.scaffold, "scaffold_project", broken)
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "p")])
    assert result.exit_code == 3
    assert "internal error" in result.stderr and "something internal" in result.stderr
