"""Policy packs shipped with ethicsgate: list them, and resolve ``pack:NAME`` to the packaged file.

The packs are package data (``ethicsgate/packs/*.yaml``; ``policies/`` in the repository is a
link to that folder), so an installed ethicsgate carries them. An audit spec may name one as
``policy: pack:nyc-ll144``; the report then records ``pack:nyc-ll144`` with the pack's version
and the sha256 of its exact bytes, and the signed attestation binds those bytes.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ethicsgate.errors import PolicyError, close_match

__all__ = ["PACK_PREFIX", "is_pack_ref", "pack_names", "pack_path"]

#: How an audit spec, ``policy check|explain`` and ``verify`` name a shipped pack.
PACK_PREFIX = "pack:"


def _packs_dir() -> Path:
    return Path(str(resources.files("ethicsgate").joinpath("packs")))


def is_pack_ref(ref: str | Path) -> bool:
    """Return whether ``ref`` names a shipped pack (``pack:NAME``) rather than a file."""
    return str(ref).startswith(PACK_PREFIX)


def pack_names() -> list[str]:
    """Return the names of the shipped packs, sorted."""
    return sorted(p.stem for p in _packs_dir().glob("*.yaml"))


def pack_path(ref: str) -> Path:
    """Return the packaged file of ``pack:NAME`` (or of a bare ``NAME``).

    Raises:
        PolicyError: no shipped pack has that name (the message lists them).
    """
    name = ref.removeprefix(PACK_PREFIX)
    names = pack_names()
    if name not in names:
        close = close_match(name, names)
        suggestion = f" (did you mean {PACK_PREFIX}{close}?)" if close else ""
        raise PolicyError(
            f"no shipped policy pack is named {name!r}{suggestion}",
            hint=f"shipped packs: {', '.join(names)}; `ethicsgate policy list` describes them",
        )
    return _packs_dir() / f"{name}.yaml"
