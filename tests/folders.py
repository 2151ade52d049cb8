"""What the audit-session, staged-report and API tests share: a clock's type, a folder's bytes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

#: A clock as ``run_and_report`` and the Python API take it (the ``frozen_clock`` fixture).
Clock = Callable[[], datetime]


def folder_bytes(path: Path) -> dict[str, bytes]:
    """Return every file directly in ``path`` by name, with its bytes (sorted by name)."""
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}
