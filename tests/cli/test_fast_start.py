"""Fast start: ``ethicsgate --help`` and a plain audit import nothing slow they do not use.

Not a timed test (timings flake on a busy machine): a test of what the process imports. The
command runs as ``python -m ethicsgate`` in a fresh interpreter, with no ``ETHICSGATE_*``
variable set and its output streams not a terminal, and reports the modules it loaded.
benchmarks/bench_start.py times the same commands.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import AUDIT, POLICY, ROOT

#: Imported only by the commands, options or rule kinds that use them, never by a plain audit.
NOT_IMPORTED = {
    "asyncio": "pulled in by pydantic-settings; read only when an ETHICSGATE_* variable is set",
    "fairlearn": "the metrics are computed from the counts (metrics/counts.py)",
    "great_expectations": "only for rules that run expectation suites",
    "matplotlib": "no chart library: the report's charts are inline SVG",
    "pydantic_settings": "settings.load_settings reads the environment itself when none is set",
    "rich": "progress bars only on a terminal or with --progress",
    "scipy": "only for Fisher's exact test (p-values and intervals use the standard library)",
    "sklearn": "the metrics are computed from the counts (metrics/counts.py)",
    "sqlalchemy": "only for the review queue (--enqueue, review commands)",
    "xml": "only a gate's JUnit file is XML (report/formats/junit.py)",
}

#: Imported by a fairness rule only: an audit of records (transparency, consent, oversight)
#: reads its rows through the engine and never needs a data frame.
FAIRNESS_ONLY = {
    "numpy": "the fairness kind's group metrics",
    "pandas": "the fairness kind's grouped counts (rules/fairness.py, metrics/counts.py)",
    "pyarrow": "pandas' Arrow-backed types",
}

PROBE = """
import atexit, json, runpy, sys

out, *args = sys.argv[1:]

def dump():
    with open(out, "w") as f:
        json.dump(sorted(sys.modules), f)

atexit.register(dump)
sys.argv = ["ethicsgate", *args]
runpy.run_module("ethicsgate", run_name="__main__", alter_sys=True)
"""

PASSING = "group,label,prediction\n" + "a,1,1\na,0,0\n" * 5 + "b,1,1\nb,0,0\n" * 5


def _loaded(tmp_path: Path, *args: str, exit_code: int = 0) -> set[str]:
    """Run ``ethicsgate *args`` in a fresh interpreter; return the modules it had loaded."""
    probe = tmp_path / "probe.py"
    probe.write_text(textwrap.dedent(PROBE))
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("ETHICSGATE_")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    modules = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, str(probe), str(modules), *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == exit_code, done.stderr
    return set(json.loads(modules.read_text()))


def _packages(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_a_plain_audit_imports_nothing_slow_it_does_not_use(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    write("policy.yaml", POLICY)
    write("data.csv", PASSING)
    spec = write("audit.yaml", AUDIT)
    loaded = _packages(_loaded(tmp_path, "audit", str(spec), "--out", str(tmp_path / "out")))
    assert (tmp_path / "out" / "report.html").is_file()
    assert {"duckdb", "jinja2"} <= loaded, "the probe saw the audit's own imports"
    assert sorted(loaded & NOT_IMPORTED.keys()) == []


def test_intervals_tests_and_auc_intervals_import_no_scipy(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    # bootstrap intervals, z-tests (groups of 50: no expected count under 5) and DeLong AUC
    # intervals: the normal distribution comes from the standard library
    policy = POLICY.replace(
        "    min_group_size: 1\n",
        "    min_group_size: 1\n"
        "    score_metrics: [roc_auc]\n"
        "    uncertainty: {bootstrap_samples: 50, seed: 1, test: z_test}\n",
    ).replace("value: 0.8}", "value: 0.8, significant_at: 0.05}")
    rows = [f"{g},{i % 2},{(i // 2) % 2},{(i % 7) / 7}" for g in "ab" for i in range(50)]
    write("policy.yaml", policy)
    write("data.csv", "group,label,prediction,score\n" + "\n".join(rows) + "\n")
    spec = write("audit.yaml", AUDIT)
    out = tmp_path / "out"
    loaded = _packages(_loaded(tmp_path, "audit", str(spec), "--out", str(out)))
    report = json.loads((out / "report.json").read_text())
    groups = report["rules"][0]["groups"]
    tests = [g["tests"]["selection_rate"] for g in groups if "selection_rate" in g["tests"]]
    assert [t["method"] for t in tests] == ["z_test"]
    assert all(g["intervals"]["selection_rate"] is not None for g in groups)
    assert all(g["score"]["roc_auc_interval"] is not None for g in groups)
    assert "scipy" not in loaded


def test_history_and_notify_are_imported_only_when_asked_for(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    write("policy.yaml", POLICY)
    write("data.csv", PASSING)
    spec = write("audit.yaml", AUDIT)
    plain = _loaded(tmp_path, "audit", str(spec), "--out", str(tmp_path / "plain"))
    assert not {"ethicsgate.history", "ethicsgate.notify", "urllib.request"} & plain
    db = f"sqlite:///{tmp_path / 'h.db'}"
    recorded = _loaded(
        tmp_path, "audit", str(spec), "--out", str(tmp_path / "r"), "--record", "--db", db
    )
    assert {"sqlalchemy", "ethicsgate.history.store"} <= recorded


def test_help_imports_click_and_nothing_else_outside_the_standard_library(
    tmp_path: Path,
) -> None:
    loaded = _packages(_loaded(tmp_path, "--help"))
    third_party = {m for m in loaded - set(sys.stdlib_module_names) if not m.startswith("_")}
    assert third_party == {"click", "ethicsgate"}


def test_an_audit_without_fairness_rules_imports_no_data_frames(tmp_path: Path) -> None:
    # the shipped bakery audit: transparency, consent and oversight rules on chat, email and
    # decision logs; its rules fail on purpose (exit 1)
    spec = ROOT / "audits" / "bakery.yaml"
    out = tmp_path / "out"
    modules = _loaded(tmp_path, "audit", str(spec), "--out", str(out), exit_code=1)
    loaded = _packages(modules)
    assert (out / "report.json").is_file()
    assert {"duckdb", "jinja2"} <= loaded, "the probe saw the audit's own imports"
    assert sorted(loaded & (NOT_IMPORTED.keys() | FAIRNESS_ONLY.keys())) == []
    assert "ethicsgate.rules.fairness" not in modules


CONTRACT = """
  - id: contract
    kind: data_quality
    dataset: predictions
    expectations:
      - {expect: in_set, column: prediction, values: [0, 1]}
      - {expect: not_null, column: group}
      - {expect: regex, column: group, pattern: "^[a-z]$"}
      - {expect: between, column: label, min: 0, max: 1}
      - {expect: row_count_between, min: 1}
"""


def test_data_contracts_import_no_great_expectations(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    # a data_quality rule and the built-in contracts (contracts: report) run as DuckDB queries
    write("policy.yaml", POLICY + CONTRACT)
    write("data.csv", PASSING)
    spec = write("audit.yaml", AUDIT + "contracts: report\n")
    out = tmp_path / "out"
    loaded = _packages(_loaded(tmp_path, "audit", str(spec), "--out", str(out)))
    report = json.loads((out / "report.json").read_text())
    assert len(report["contracts"]) == 2, "the user's and the built-in contract ran"
    assert {"duckdb", "jinja2"} <= loaded, "the probe saw the audit's own imports"
    assert sorted(loaded & NOT_IMPORTED.keys()) == []


def test_the_process_entry_point_freezes_its_objects_before_shutdown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the interpreter's shutdown collections walked every object again (~0.2 s a command,
    # bench_start); main() is only the process's entry point, CliRunner calls cli itself
    import gc

    from ethicsgate.cli import main

    frozen = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
    try:
        main(["--version"])
    except SystemExit as exit:
        assert exit.code == 0
    assert frozen == [True]


COLLECTIONS_PROBE = """
import atexit, gc, json, runpy, sys

out, *args = sys.argv[1:]
full = []
gc.callbacks.append(lambda phase, info: phase == "start" and info["generation"] == 2
                    and full.append(len(gc.get_objects())))

def dump():
    with open(out, "w") as f:
        json.dump({"full": full, "objects": gc.get_freeze_count() + len(gc.get_objects())}, f)

atexit.register(dump)
sys.argv = ["ethicsgate", *args]
runpy.run_module("ethicsgate", run_name="__main__", alter_sys=True)
"""


def test_a_plain_audit_walks_its_imported_objects_in_no_full_collection(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    # CPython's default thresholds made two full collections of the ~10^5 objects numpy,
    # pandas and pydantic's models leave behind, during the imports (~0.09 s of a 1,000-row
    # audit, nothing freed): main() raises the full collections' threshold
    write("policy.yaml", POLICY)
    write("data.csv", PASSING)
    spec = write("audit.yaml", AUDIT)
    probe = tmp_path / "probe.py"
    probe.write_text(textwrap.dedent(COLLECTIONS_PROBE))
    seen = tmp_path / "collections.json"
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("ETHICSGATE_")}
    done = subprocess.run(
        [sys.executable, str(probe), str(seen), "audit", str(spec), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    collections = json.loads(seen.read_text())
    assert collections["objects"] > 50_000, "the audit imported its libraries"
    assert collections["full"] == []


def test_serve_gives_a_long_running_server_the_default_collections_back(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import gc

    from click.testing import CliRunner

    import ethicsgate.web.server
    from ethicsgate.cli import DEFAULT_GC_THRESHOLD, FULL_COLLECTION_EVERY, cli

    pytest.importorskip("starlette")
    seen: list[tuple[int, int, int]] = []
    monkeypatch.setattr(
        ethicsgate.web.server, "serve", lambda *a, **k: seen.append(gc.get_threshold())
    )
    before = gc.get_threshold()
    gc.set_threshold(DEFAULT_GC_THRESHOLD[0], DEFAULT_GC_THRESHOLD[1], FULL_COLLECTION_EVERY)
    try:
        done = CliRunner().invoke(cli, ["serve", "--db", f"sqlite:///{tmp_path}/r.db"])
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
    assert done.exit_code == 0, done.output
    assert seen == [DEFAULT_GC_THRESHOLD]
