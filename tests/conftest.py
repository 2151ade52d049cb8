"""Shared fixtures: tiny files written per test, a frozen clock, paths to real data."""

from __future__ import annotations

import os
import subprocess
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from tests.goldens import REGENERATE_GOLDEN, regenerated, shown

ROOT = Path(__file__).resolve().parent.parent
ASSETS = Path(__file__).resolve().parent / "assets"


def _shared_datasets() -> Path:
    """Return the workplace's shared datasets folder (never committed: licences, names).

    In order: ``$ETHICSGATE_SHARED_DATASETS``; ``../shared/datasets`` beside this checkout (the
    workplace's layout); beside the checkout this one was cloned from, when its origin is a local
    folder (a scratch clone under /tmp). The first candidate that exists wins; otherwise the
    layout's own path, so that a missing file is reported where it was expected.
    """
    candidates = []
    if os.environ.get("ETHICSGATE_SHARED_DATASETS"):
        candidates.append(Path(os.environ["ETHICSGATE_SHARED_DATASETS"]))
    candidates.append(ROOT.parent / "shared" / "datasets")
    origin = subprocess.run(
        ["git", "-C", str(ROOT), "remote", "get-url", "origin"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if origin and "://" not in origin and not origin.startswith("git@"):
        candidates.append(
            Path(origin.removeprefix("file:")).resolve().parent / "shared" / "datasets"
        )
    return next((c for c in candidates if c.is_dir()), candidates[0])


SHARED = _shared_datasets()


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the compiled-template cache of the tests (and their subprocesses) out of ~/.cache."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))


PROPUBLICA_CSV = SHARED / "compas" / "compas-scores-two-years.csv"


#: Skip reasons that mean a real component is missing, and the one command that provides it.
REAL_COMPONENTS = {
    "PostgreSQL": ("ETHICSGATE_TEST_POSTGRES_URL", "make test  (installs pgserver, a dev extra)"),
    "Chromium": ("Chromium is not installed", "sudo apt-get install chromium"),
    "axe-core": ("axe-core", "npm ci --prefix tests/browser"),
    "shared datasets": ("evidence not shipped", "clone next to ../shared/datasets"),
    "Java (Spark)": ("Java 17+ for Spark", "sudo apt-get install default-jre-headless"),
}


def _skipped_components(terminalreporter: pytest.TerminalReporter) -> dict[str, int]:
    """Count the skipped tests per missing real component."""
    counts: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
        for name, (marker, _) in REAL_COMPONENTS.items():
            if marker in reason:
                counts[name] = counts.get(name, 0) + 1
    return counts


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say which real-component tests were skipped and how to run them; list rewritten goldens."""
    skipped = _skipped_components(terminalreporter)
    if skipped:
        terminalreporter.section("real components missing: these tests were skipped")
        for name, count in skipped.items():
            terminalreporter.write_line(
                f"{count:4d} test(s) need {name}: {REAL_COMPONENTS[name][1]}"
            )
        terminalreporter.write_line(
            "all of them at once (installs Chromium, PostgreSQL, axe-core; needs root): "
            "CI=true bash .ci/run"
        )
    paths = regenerated()
    if paths:
        terminalreporter.section("regenerated golden files")
        for path in paths:
            terminalreporter.write_line(shown(path))
        terminalreporter.write_line(
            f"regenerated {len(paths)} golden file(s); review the diff and rerun without "
            f"{REGENERATE_GOLDEN}"
        )


@pytest.fixture
def frozen_clock() -> Callable[[], datetime]:
    """Return a clock that always says 2026-01-02T03:04:05Z."""
    return lambda: datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a dedented text file under tmp_path and return its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write


POLICY = """
schema_version: 1
id: test-policy
version: "1"
title: Test policy
owner: Tests
references:
  - {id: eeoc, title: EEOC four-fifths rule}
rules:
  - id: parity
    kind: fairness
    dataset: predictions
    references: [eeoc]
    sensitive_features: [group]
    metrics: [selection_rate, false_positive_rate, count]
    min_group_size: 1
    assert:
      - {metric: selection_rate, aggregate: ratio, op: ">=", value: 0.8}
"""

AUDIT = """
schema_version: 1
id: test-audit
policy: policy.yaml
evidence:
  predictions:
    path: data.csv
"""

# one evidence set named d, read from data.csv (the report tests' policies name their dataset d)
AUDIT_D = """
schema_version: 1
id: a
policy: policy.yaml
evidence:
  d: {path: data.csv}
"""


@pytest.fixture
def make_audit(write: Callable[[str, str], Path]) -> Callable[..., Path]:
    """Write policy.yaml, audit.yaml and data.csv; return the audit spec's path."""

    def _make(
        data: str, *, policy: str = POLICY, audit: str = AUDIT, data_name: str = "data.csv"
    ) -> Path:
        write("policy.yaml", policy)
        write(data_name, data)
        return write("audit.yaml", audit)

    return _make


class HtmlTables(HTMLParser):
    """Collect the tags of an HTML page and the text of its tables' cells, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.tables: list[list[list[str]]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
