"""Helpers shared by the benchmark scripts in this folder (not a benchmark itself).

The scripts run directly (``.venv/bin/python benchmarks/bench_x.py``); each puts this folder on
``sys.path`` and imports this module as ``_common``. Only the standard library is imported here,
so the scripts' children and the measuring wrapper stay as small as before.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOC_PATH = ROOT / "docs" / "benchmarks.md"
DOC_INTRO = (
    "# Benchmarks\n\n"
    "Benchmarks live in `benchmarks/`; each compares against the obvious alternative in the "
    "same run, on the same machine, and checks that both give the same answer.\n"
)


def log(message: str) -> None:
    """Print a progress line with the time of day, at once."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def parse_count(text: str, *, noun: str | None = "rows") -> int:
    """Parse '1e6', '10000000' or '2.5e6' as a whole, positive number (of ``noun``)."""
    value = float(text)
    if value < 1 or value != int(value):
        what = f"number of {noun}" if noun else "number"
        raise argparse.ArgumentTypeError(f"not a whole, positive {what}: {text!r}")
    return int(value)


def warm_cache(*paths: Path) -> None:
    """Read the files once so that every method starts from the page cache."""
    for path in paths:
        with path.open("rb") as handle:
            while handle.read(1 << 24):
                pass


def ethicsgate_command(spec: Path, out_dir: Path) -> list[str]:
    """Return the audit CLI command, preferring the console script next to this interpreter."""
    script = Path(sys.executable).parent / "ethicsgate"
    head = [str(script)] if script.is_file() else [sys.executable, "-m", "ethicsgate"]
    return [*head, "audit", str(spec), "--out", str(out_dir), "--no-progress"]


# -- synthetic data ----------------------------------------------------------------------------


def parquet_has_metadata(path: Path, expected: Mapping[bytes, bytes]) -> bool:
    """Return whether ``path`` is a Parquet file whose schema metadata holds ``expected``."""
    import pyarrow.parquet as pq

    if not path.is_file():
        return False
    try:
        found = pq.read_schema(path).metadata or {}
    except Exception:  # a broken or foreign file is simply regenerated
        return False
    return all(found.get(k) == v for k, v in expected.items())


def write_parquet_chunks(
    path: Path,
    chunks: Iterable[Any],
    metadata: Mapping[bytes, bytes],
    *,
    tmp: Path | None = None,
) -> None:
    """Write pyarrow tables, one chunk at a time, to one snappy Parquet file at ``path``.

    The schema (with ``metadata``) comes from the first chunk; the file is written to ``tmp``
    (default ``path`` with the suffix ``.parquet.tmp``) and moved into place only when complete.
    """
    import pyarrow.parquet as pq

    tmp = path.with_suffix(".parquet.tmp") if tmp is None else tmp
    writer = None
    try:
        for table in chunks:
            if writer is None:
                schema = table.schema.with_metadata(dict(metadata))
                writer = pq.ParquetWriter(tmp, schema, compression="snappy")
            writer.write_table(table)
        assert writer is not None
        writer.close()
        writer = None
        os.replace(tmp, path)
    finally:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)


# -- measuring a child process through a small wrapper ----------------------------------------

# The measuring wrapper: a stdlib-only Python that runs the command as its only child and reports
# that child's wall time and getrusage(RUSAGE_CHILDREN).ru_maxrss. It is needed because Linux
# carries the parent's high-water RSS over into a child's ru_maxrss at exec (vfork or fork, then
# exec records the old address space's peak), so a child spawned straight from a benchmark
# process, which holds numpy, pyarrow and DuckDB results, would report at least that process's
# peak. The small wrapper's own peak (about 10 MB) is what its child starts from instead.
WRAPPER = """\
import resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.call(sys.argv[2:])
wall = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(sys.argv[1], "w") as out:
    out.write(f"{code} {wall!r} {peak}")
"""


def measure_wrapped(
    command: list[str],
    *,
    log_path: Path,
    ok_codes: tuple[int, ...] = (0,),
    env: Mapping[str, str] | None = None,
) -> tuple[int, float, float]:
    """Run ``command`` as the only child of :data:`WRAPPER`; return (exit code, wall s, MiB).

    The peak is ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` in the wrapper, whose only child is
    the command: that process tree's peak resident set (KiB on Linux, returned in MiB). The
    command's output goes to ``log_path``; an exit code outside ``ok_codes`` stops the run.
    """
    stats = log_path.with_suffix(".rusage")
    stats.unlink(missing_ok=True)
    wrapper = [sys.executable, "-S", "-c", WRAPPER, str(stats), *command]
    with log_path.open("wb") as out:
        subprocess.run(wrapper, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    try:
        code_text, wall_text, peak_text = stats.read_text(encoding="utf-8").split()
    except (OSError, ValueError) as exc:
        raise SystemExit(f"the measuring wrapper failed for {shlex.join(command)}: {exc}") from exc
    code = int(code_text)
    if code not in ok_codes:
        tail = log_path.read_text(errors="replace")[-4000:]
        raise SystemExit(
            f"command failed with exit {code}: {shlex.join(command)}\n"
            f"--- last output ({log_path}) ---\n{tail}"
        )
    return code, float(wall_text), int(peak_text) / 1024


# -- the machine ------------------------------------------------------------------------------


def cpu_model(default: str | None = None) -> str:
    """Return the CPU model from /proc/cpuinfo, else ``default`` (else the platform's guess)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return (platform.processor() or platform.machine()) if default is None else default


def ram_gib() -> float | None:
    """Return the machine's total memory in GiB (MemTotal of /proc/meminfo), or None."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except (OSError, ValueError, IndexError):
        pass
    return None


def package_version(package: str, missing: str = "not installed") -> str:
    """Return an installed distribution's version, or ``missing``."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return missing


def machine_info(
    packages: Iterable[str], *, missing: str = "not installed", cpu_default: str | None = None
) -> dict[str, str]:
    """Return the CPU model, cores, RAM, OS, Python and the versions of ``packages``."""
    ram = ram_gib()
    info = {
        "cpu": cpu_model(cpu_default),
        "cores": str(os.cpu_count()),
        "ram": "unknown" if ram is None else f"{ram:.1f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }
    for package in packages:
        info[package] = package_version(package, missing)
    return info


# -- docs/benchmarks.md ---------------------------------------------------------------------


def splice_section(doc: str, section: str, start: str, end: str) -> str:
    """Return ``doc`` with the part from ``start`` to ``end`` (markers included) replaced.

    ``section`` carries its own markers. Without both markers (in order) it is appended after
    a blank line; the rest of the document is kept.
    """
    first, last = doc.find(start), doc.find(end)
    if first != -1 and last != -1 and last > first:
        rest = doc[last + len(end) :].lstrip("\n")
        return doc[:first] + section + ("\n" + rest if rest else "")
    return doc.rstrip("\n") + "\n\n" + section


def update_doc_section(
    section: str,
    start: str,
    end: str,
    *,
    doc_path: Path | None = None,
    create: bool = True,
    atomic: bool = False,
) -> None:
    """Replace one benchmark's section of ``doc_path`` (between its markers); keep the rest.

    ``doc_path`` defaults to :data:`DOC_PATH` (docs/benchmarks.md), looked up at call time.
    With ``create`` a missing file starts from :data:`DOC_INTRO` (else reading it fails); with
    ``atomic`` the new text is written to a temporary file that then replaces the document.
    """
    if doc_path is None:
        doc_path = DOC_PATH
    missing = create and not doc_path.is_file()
    doc = DOC_INTRO if missing else doc_path.read_text(encoding="utf-8")
    text = splice_section(doc, section, start, end)
    if create:
        doc_path.parent.mkdir(parents=True, exist_ok=True)
    if atomic:
        tmp = doc_path.with_suffix(doc_path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, doc_path)
    else:
        doc_path.write_text(text, encoding="utf-8")
