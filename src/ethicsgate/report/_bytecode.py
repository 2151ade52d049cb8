"""A per-user cache of compiled Jinja2 templates, so that a report does not recompile them.

Compiling the report templates costs about half a second, on every run. Jinja2 can keep the
compiled code of each template in a folder and load it back (marshal) instead: a template whose
source changed is recompiled, because every cached entry carries the checksum of the source it
was compiled from, and Jinja2 ignores entries written by another Python. The folder is
``$XDG_CACHE_HOME/ethicsgate/jinja`` (``~/.cache/ethicsgate/jinja`` by default), one subfolder per
Jinja2 version and environment (the environment's options shape the compiled code, and an entry
is keyed only by the template's name and path). The cache is only an optimisation: a folder that
cannot be created, read or written means the templates are compiled as before, never an error.
``ETHICSGATE_TEMPLATE_CACHE=0`` turns it off.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2.bccache import Bucket

__all__ = ["template_cache"]

_CACHES: dict[str, Any] = {}


def _cache_folder(kind: str) -> Path:
    import jinja2

    base = os.environ.get("XDG_CACHE_HOME") or ""
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "ethicsgate" / "jinja" / f"{jinja2.__version__}-{kind}"


def template_cache(kind: str) -> Any:
    """Return the bytecode cache of the templates of environment ``kind``, or None if unusable.

    Args:
        kind: Names the environment's options (``html``, ``markdown``): environments whose
            options differ must not share a folder.

    Returns:
        A ``jinja2.BytecodeCache`` to pass as ``Environment(bytecode_cache=...)``, or None when
        the cache is turned off or its folder cannot be made.
    """
    if os.environ.get("ETHICSGATE_TEMPLATE_CACHE", "1").strip().lower() in {"0", "false", "no"}:
        return None
    if kind not in _CACHES:
        _CACHES[kind] = _make_cache(kind)
    return _CACHES[kind]


def _make_cache(kind: str) -> Any:
    from jinja2 import FileSystemBytecodeCache

    class _QuietCache(FileSystemBytecodeCache):
        """A FileSystemBytecodeCache whose every failure means "compile as if uncached"."""

        def load_bytecode(self, bucket: Bucket) -> None:
            try:
                super().load_bytecode(bucket)
            except Exception:  # noqa: BLE001 -- a bad or unreadable entry is a cache miss
                bucket.reset()

        def dump_bytecode(self, bucket: Bucket) -> None:
            with contextlib.suppress(Exception):  # an unwritable cache is no cache
                super().dump_bytecode(bucket)

    try:
        folder = _cache_folder(kind)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except (OSError, RuntimeError):  # RuntimeError: no home folder to expand
        return None
    return _QuietCache(str(folder))
