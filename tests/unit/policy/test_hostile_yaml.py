"""Hostile YAML: alias bombs, recursion, deep nesting, huge files and bad bytes are refused fast.

Each case must end in a located PolicyError (exit 2 through the CLI), in well under a second and
without the memory an expansion would take.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from ethicsgate.audit.spec import load_audit_spec
from ethicsgate.errors import EthicsgateError, PolicyError
from ethicsgate.policy import load_policy
from ethicsgate.policy.yamlsource import (
    MAX_YAML_BYTES,
    MAX_YAML_DEPTH,
    MAX_YAML_NODES,
    load_yaml,
)

HEAD = 'schema_version: 1\nid: x\nversion: "1"\ntitle: t\nowner: o\n'


def billion_laughs(levels: int, width: int = 10) -> str:
    """Return a document whose last anchor expands to ``width ** levels`` scalars."""
    text = HEAD + "a0: &a0 [" + ", ".join(["lol"] * width) + "]\n"
    for i in range(1, levels + 1):
        text += f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]\n"
    return text + f"rules: *a{levels}\n"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize("levels", [7, 9])
def test_alias_bomb_is_refused_fast_and_located(tmp_path: Path, levels: int) -> None:
    path = write(tmp_path, "bomb.yaml", billion_laughs(levels))
    started = time.perf_counter()
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert time.perf_counter() - started < 1.0
    error = info.value
    assert f"more than {MAX_YAML_NODES:,} values" in str(error)
    assert error.location is not None and error.location.line is not None  # an anchor's line
    assert error.hint and "anchors" in error.hint


def test_alias_bomb_in_an_audit_spec_is_refused(tmp_path: Path) -> None:
    text = billion_laughs(8).replace(HEAD, "schema_version: 1\nid: a\npolicy: p.yaml\n")
    with pytest.raises(EthicsgateError, match="aliases"):
        load_audit_spec(write(tmp_path, "spec.yaml", text))


def test_modest_anchors_still_work(tmp_path: Path) -> None:
    """Anchors are a legitimate way to share values: a small reuse loads as before, located."""
    text = "features: &f [sex, race]\nrules:\n" + "".join(
        f"  - {{id: r{i}, sensitive_features: *f}}\n" for i in range(200)
    )
    doc = load_yaml(write(tmp_path, "p.yaml", text), error=PolicyError, what="policy")
    assert doc.data["rules"][199]["sensitive_features"] == ["sex", "race"]
    assert doc.locate(["rules", 199, "id"]).line == 202


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "rec.yaml", HEAD + "rules: &r [*r]\n")
    with pytest.raises(PolicyError, match="alias inside its own anchor") as info:
        load_policy(path)
    assert info.value.location is not None
    assert (info.value.location.line, info.value.location.column) == (6, 8)


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    depth = MAX_YAML_DEPTH + 20
    path = write(tmp_path, "deep.yaml", HEAD + "rules: " + "[" * depth + "]" * depth + "\n")
    with pytest.raises(PolicyError, match=f"more than {MAX_YAML_DEPTH} deep"):
        load_policy(path)


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("w") as handle:
        handle.write(HEAD + "rules: [")
        handle.write("1," * (MAX_YAML_BYTES // 2))
        handle.write("1]\n")
    started = time.perf_counter()
    with pytest.raises(PolicyError, match="larger than 10 MiB"):
        load_policy(path)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("content", "message", "line", "column"),
    [
        (HEAD.encode() + b"title2: caf\xe9\n", "byte 0xe9", 6, 12),
        (b'schema_version: 1\nid: "a\x00b"\n', r"U\+0000", 2, 7),
        (b"\n\n# only a comment\n", "is empty", 1, 1),
        (b"   \n", "is empty", 1, 1),
        (bytes(range(128, 256)), "not UTF-8", 1, 1),
    ],
    ids=["latin-1", "nul-in-string", "comments-only", "blank", "binary"],
)
def test_bad_bytes_are_located(
    tmp_path: Path, content: bytes, message: str, line: int, column: int
) -> None:
    with pytest.raises(PolicyError, match=message) as info:
        load_policy(write(tmp_path, "p.yaml", content))
    location = info.value.location
    assert location is not None
    assert (location.line, location.column) == (line, column)
    assert info.value.hint


def test_cli_refuses_the_bomb_in_bounded_time_and_memory(tmp_path: Path) -> None:
    path = write(tmp_path, "bomb.yaml", billion_laughs(9))
    # a fresh parent process, so that the peak RSS of its only child is the CLI's own
    measure = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "p = subprocess.run([sys.executable, '-m', 'ethicsgate', 'policy', 'check', sys.argv[1]],"
        " capture_output=True, text=True); "
        "print(p.returncode, time.perf_counter() - t, "
        "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); print(p.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", measure, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    first, stderr = done.stdout.split("\n", 1)
    code, elapsed, peak_kib = first.split()
    assert int(code) == 2, stderr
    assert f"{path}:" in stderr and "Traceback" not in stderr
    assert float(elapsed) < 5  # the process start dominates; expanding would take minutes
    assert int(peak_kib) < 150 * 1024  # far below the gigabytes an expansion takes


def test_merge_keys_share_options_and_may_be_overridden(tmp_path: Path) -> None:
    """`<<: *anchor` works (it failed with 'could not determine a constructor'), duplicates
    written out are still refused."""
    text = (
        "common: &common {severity: warn, dataset: chats}\n"
        "rules:\n"
        "  - {<<: *common, id: r1}\n"
        "  - {<<: *common, id: r2, severity: block}\n"
    )
    doc = load_yaml(write(tmp_path, "p.yaml", text), error=PolicyError, what="policy")
    assert doc.data["rules"][0] == {"severity": "warn", "dataset": "chats", "id": "r1"}
    assert doc.data["rules"][1]["severity"] == "block"
    with pytest.raises(PolicyError, match="duplicate key 'id'"):
        load_yaml(
            write(tmp_path, "d.yaml", "a: {<<: *x, id: 1, id: 2}\n".replace("*x", "{b: 1}")),
            error=PolicyError,
            what="policy",
        )
