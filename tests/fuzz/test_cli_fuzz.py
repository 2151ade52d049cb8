"""A fuzzing harness: generated and mangled policies, audit specs and evidence through the CLI.

Every command must end in exit 0, 1 or 2 (never 3, a bug), with no traceback; an exit 2 says
``error:`` and names the file (and line, row or column) at fault; a failed audit leaves no
partial report behind; and each command finishes in bounded time.

The number of examples is bounded in ``make test`` (the ``default`` profile below); run longer
on demand with ``ETHICSGATE_FUZZ=long make test`` or
``ETHICSGATE_FUZZ=long .venv/bin/python -m pytest tests/fuzz``.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ethicsgate.cli import cli

settings.register_profile(
    "fuzz-default",
    max_examples=25,
    deadline=None,
    derandomize=True,  # the suite stays reproducible; the long profile explores
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz-long",
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PROFILE = "fuzz-long" if os.environ.get("ETHICSGATE_FUZZ") == "long" else "fuzz-default"
#: The longest any one command may take on these tiny inputs (the machine may be loaded).
COMMAND_SECONDS = 30.0

POLICY: dict[str, Any] = {
    "schema_version": 1,
    "id": "fuzz-policy",
    "version": "1",
    "title": "Fuzzed policy",
    "owner": "Tests",
    "references": [{"id": "eeoc", "title": "EEOC four-fifths rule"}],
    "systems": [
        {
            "id": "screening",
            "name": "Screening model",
            "purpose": "Ranks applications",
            "encounter": "When you apply",
            "disclosure": "The application form says so",
            "human_contact": "Write to hr@example.com",
            "data": [{"data": "application", "basis": "contract"}],
            "accountable": "HR",
            "rules": ["parity"],
        }
    ],
    "rules": [
        {
            "id": "parity",
            "kind": "fairness",
            "dataset": "predictions",
            "references": ["eeoc"],
            "sensitive_features": ["group"],
            "metrics": ["selection_rate", "false_positive_rate"],
            "min_group_size": 1,
            "uncertainty": {"bootstrap_samples": 20, "seed": 1},
            "assert": [{"metric": "selection_rate", "op": ">=", "value": 0.8}],
        },
        {
            "id": "scores",
            "kind": "fairness",
            "dataset": "predictions",
            "severity": "warn",
            "sensitive_features": ["group"],
            "impact_ratio": "scoring",
            "score_metrics": ["roc_auc"],
            "min_group_size": 1,
        },
    ],
}
SPEC: dict[str, Any] = {
    "schema_version": 1,
    "id": "fuzz-audit",
    "policy": "policy.yaml",
    "evidence": {"predictions": {"path": "data.csv"}},
}
HEADER = ["group", "label", "prediction", "score"]
ROWS = [
    [g, str(i % 2), str((i // 2) % 2), f"{(i * 37 % 100) / 100:.2f}"]
    for g in ("a", "b", "c")
    for i in range(8)
]

EXTREMES = st.sampled_from(
    [
        0,
        -1,
        1,
        10**30,
        -(10**30),
        1e308,
        -1e308,
        math.nan,
        math.inf,
        0.5,
        "",
        " ",
        "x" * 5000,
        "ünïcödé ✓",
        "1e999",
        "999999999999999999999999d",
        "1000000000d",
        "-5m",
        None,
        True,
        [],
        {},
        [1, [2, [3]]],
        {"a": {"b": None}},
        "<script>alert(1)</script>",
        "../../etc/passwd",
        "*alias",
        "&anchor",
    ]
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Return the path of every value in a parsed document (not the root)."""
    out: list[tuple[Any, ...]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((*prefix, key))
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.append((*prefix, index))
            out.extend(_paths(value, (*prefix, index)))
    return out


@st.composite
def mutated_document(draw: st.DrawFn, base: dict[str, Any]) -> str:
    """Return a YAML text: ``base`` with a few values deleted, replaced, renamed or re-typed."""
    data = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(0, 3))):
        paths = _paths(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        action = draw(st.sampled_from(["delete", "replace", "rename", "wrap"]))
        if action == "delete":
            del parent[last]
        elif action == "replace":
            parent[last] = draw(EXTREMES)
        elif action == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["kind", "metric", "unknown_field", "Rules", ""]))] = (
                parent.pop(last)
            )
        else:
            parent[last] = [parent[last]]
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    return draw(mangled_text(text))


@st.composite
def mangled_text(draw: st.DrawFn, text: str) -> str:
    """Return ``text``, or it cut short, with junk inserted or an alias bomb appended."""
    how = draw(st.sampled_from(["keep", "keep", "keep", "truncate", "insert", "bomb", "tabs"]))
    if how == "truncate":
        return text[: draw(st.integers(0, len(text)))]
    if how == "insert":
        at = draw(st.integers(0, len(text)))
        junk = draw(
            st.sampled_from(["\x00", ":", "- ", "{", "]", "'", '"', "\t", "&a *a", "\ufeff"])
        )
        return text[:at] + junk + text[at:]
    if how == "bomb":
        lines = ["x0: &x0 [a, a, a, a, a, a, a, a]"]
        lines += [f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 8)}]" for i in range(1, 8)]
        return text + "\n".join(lines) + "\n"
    if how == "tabs":
        return text.replace("  ", "\t", 1)
    return text


@st.composite
def mangled_csv(draw: st.DrawFn) -> bytes:
    """Return CSV evidence: the base table with cells, rows or the header mangled."""
    rows = [list(r) for r in ROWS]
    header = list(HEADER)
    for _ in range(draw(st.integers(0, 3))):
        action = draw(st.sampled_from(["cell", "ragged", "drop_column", "empty", "header_only"]))
        if action == "cell" and rows:
            row = draw(st.integers(0, len(rows) - 1))
            col = draw(st.integers(0, len(header) - 1))
            value = draw(
                st.sampled_from(
                    ["", "yes", "no", "2", "-1", "nan", "inf", "1e308", "-1e308", "NULL", '"', "é"]
                )
            )
            if col < len(rows[row]):
                rows[row][col] = value
        elif action == "ragged" and rows:
            rows[draw(st.integers(0, len(rows) - 1))].append("extra")
        elif action == "drop_column" and len(header) > 1:
            col = draw(st.integers(0, len(header) - 1))
            header.pop(col)
            for row in rows:
                if col < len(row):
                    row.pop(col)
        elif action == "empty":
            return b""
        elif action == "header_only":
            rows = []
    text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "latin-1", "utf-8-sig"]))
    return text.encode(encoding, errors="replace")


def run(*args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; return the exit code, stdout and stderr, timed."""
    started = time.perf_counter()
    result = CliRunner().invoke(cli, list(args), catch_exceptions=True)
    elapsed = time.perf_counter() - started
    assert elapsed < COMMAND_SECONDS, f"{args[0]} took {elapsed:.1f} s"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # an exception that escaped the CLI's own handling is a bug
    return result.exit_code, result.stdout, result.stderr


def check_outcome(code: int, stdout: str, stderr: str, inputs: list[Path]) -> None:
    """Assert the contract of every command on any input."""
    assert code in (0, 1, 2), f"exit {code}:\n{stderr}"
    assert "Traceback" not in stderr + stdout, stderr
    if code == 2:
        assert "error" in stderr.lower(), stderr
        # located: the message names one of the inputs (or the option at fault)
        names = [p.name for p in inputs]
        assert any(name in stderr for name in names) or "option" in stderr.lower(), stderr


def report_files(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir()) if out.exists() else []


@pytest.fixture
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Path]:
    def fresh() -> Path:
        return tmp_path_factory.mktemp("fuzz")

    return fresh


@settings(settings.get_profile(PROFILE))
@given(policy=mutated_document(POLICY))
def test_policy_check(workdir: Callable[[], Path], policy: str) -> None:
    folder = workdir()
    path = folder / "policy.yaml"
    path.write_text(policy, encoding="utf-8")
    code, stdout, stderr = run("policy", "check", str(path))
    check_outcome(code, stdout, stderr, [path])
    assert code != 1


BASE_CSV = ("\n".join(",".join(r) for r in [HEADER, *ROWS]) + "\n").encode()


@st.composite
def audit_inputs(draw: st.DrawFn) -> tuple[str, str, bytes]:
    """Return policy, spec and evidence with one of them (or none) mangled, so most runs get
    past the first check and exercise what comes after it."""
    target = draw(st.sampled_from(["policy", "spec", "data", "data", "none"]))
    policy = draw(mutated_document(POLICY)) if target == "policy" else _dump(POLICY)
    spec = draw(mutated_document(SPEC)) if target == "spec" else _dump(SPEC)
    data = draw(mangled_csv()) if target == "data" else BASE_CSV
    return policy, spec, data


def _dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@settings(settings.get_profile(PROFILE))
@given(inputs=audit_inputs())
def test_audit_gate_publish_verify(
    workdir: Callable[[], Path], inputs: tuple[str, str, bytes]
) -> None:
    policy, spec, data = inputs
    folder = workdir()
    (folder / "policy.yaml").write_text(policy, encoding="utf-8")
    (folder / "audit.yaml").write_text(spec, encoding="utf-8")
    (folder / "data.csv").write_bytes(data)
    inputs = [folder / "policy.yaml", folder / "audit.yaml", folder / "data.csv"]
    out = folder / "out"
    cwd = Path.cwd()
    os.chdir(folder)  # paths in the spec are relative to it; messages name them so
    try:
        code, stdout, stderr = run("audit", "audit.yaml", "--out", str(out), "--no-progress")
        event(f"audit exit {code}")
        check_outcome(code, stdout, stderr, inputs)
        if code == 2:
            assert report_files(out) == [], "a refused audit left files behind"
            return
        assert {"report.json", "report.html", "report.md"} <= set(report_files(out))
        code, stdout, stderr = run(
            "gate", "audit.yaml", "--baseline", str(out / "report.json"), "--out", str(folder / "g")
        )
        check_outcome(code, stdout, stderr, inputs)
        code, stdout, stderr = run("publish", str(out), "--out", str(folder / "public"))
        check_outcome(code, stdout, stderr, [*inputs, out / "report.json"])
        code, stdout, stderr = run("verify", str(out))
        check_outcome(code, stdout, stderr, [out])
    finally:
        os.chdir(cwd)
