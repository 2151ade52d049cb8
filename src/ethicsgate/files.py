"""Writing output files all or nothing: reports, statements, CI files, review exports."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

__all__ = ["write_files_atomically", "write_signed_files"]


def write_files_atomically(out_dir: Path, files: Mapping[str, bytes]) -> list[Path]:
    """Write each file to a temporary name in ``out_dir``, then rename it into place.

    Readers never see a half-written file; if rendering or writing fails, no file is
    replaced. Returns the written paths.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[str, Path]] = []
    try:
        for name, content in files.items():
            fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=out_dir)
            staged.append((name, Path(tmp_name)))
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp_name, 0o644)
        written = []
        for name, staged_path in staged:
            os.replace(staged_path, out_dir / name)
            written.append(out_dir / name)
        return written
    finally:
        for _, leftover in staged:
            if leftover.exists():
                leftover.unlink()


def write_signed_files(out_dir: Path, files: Mapping[str, bytes], *, envelope: str) -> list[Path]:
    """Write files atomically; remove an ``envelope`` an earlier, signed run left.

    When ``files`` holds no envelope (an unsigned run), an old one would sign files that are no
    longer there and never verify again, so it is removed. Returns the written paths.
    """
    written = write_files_atomically(out_dir, files)
    stale = out_dir / envelope
    if envelope not in files and stale.exists():
        stale.unlink()
    return written
