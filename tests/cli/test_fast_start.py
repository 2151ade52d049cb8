"""Fast start: a plain ``ethicsgate audit`` imports nothing slow that it does not use.

Not a timed test (timings flake on a busy machine): a test of what the process imports. The
audit runs as ``python -m ethicsgate`` in a fresh interpreter, with no ``ETHICSGATE_*``
variable set and its output streams not a terminal, and reports the modules it loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

from tests.conftest import AUDIT, POLICY

#: Imported only by the commands, options or rule kinds that use them, never by a plain audit.
NOT_IMPORTED = {
    "asyncio": "pulled in by pydantic-settings; read only when an ETHICSGATE_* variable is set",
    "fairlearn": "the metrics are computed from the counts (metrics/counts.py)",
    "great_expectations": "only for rules that run expectation suites",
    "matplotlib": "no chart library: the report's charts are inline SVG",
    "pydantic_settings": "settings.load_settings reads the environment itself when none is set",
    "rich": "progress bars only on a terminal or with --progress",
    "scipy": "only for rules with intervals or tests",
    "sklearn": "the metrics are computed from the counts (metrics/counts.py)",
    "sqlalchemy": "only for the review queue (--enqueue, review commands)",
}

PROBE = """
import atexit, json, runpy, sys

out, spec, folder = sys.argv[1:4]

def dump():
    with open(out, "w") as f:
        json.dump(sorted({m.split(".")[0] for m in sys.modules}), f)

atexit.register(dump)
sys.argv = ["ethicsgate", "audit", spec, "--out", folder]
runpy.run_module("ethicsgate", run_name="__main__", alter_sys=True)
"""

PASSING = "group,label,prediction\n" + "a,1,1\na,0,0\n" * 5 + "b,1,1\nb,0,0\n" * 5


def test_a_plain_audit_imports_nothing_slow_it_does_not_use(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    write("policy.yaml", POLICY)
    write("data.csv", PASSING)
    spec = write("audit.yaml", AUDIT)
    probe = tmp_path / "probe.py"
    probe.write_text(textwrap.dedent(PROBE))
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("ETHICSGATE_")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    modules = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, str(probe), str(modules), str(spec), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "report.html").is_file()
    loaded = set(json.loads(modules.read_text()))
    assert {"duckdb", "jinja2"} <= loaded, "the probe saw the audit's own imports"
    assert sorted(loaded & NOT_IMPORTED.keys()) == []
