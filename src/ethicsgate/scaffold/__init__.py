"""Files ``ethicsgate init`` writes: a sample policy, audit spec and data that run as-is."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ethicsgate.errors import EthicsgateError

__all__ = ["SCAFFOLD", "InitError", "scaffold_project"]

#: Packaged file -> where it goes in the new project.
SCAFFOLD = {
    "policy.yaml": "policies/customer-offers.yaml",
    "audit.yaml": "audits/sample.yaml",
    "offers.csv": "data/sample-offers.csv",
    "README.md": "ETHICSGATE.md",
}


class InitError(EthicsgateError):
    """``ethicsgate init`` cannot write the project (a file exists, or the folder is a file)."""

    kind = "init"


def scaffold_project(target: Path) -> list[Path]:
    """Write the sample project into ``target``; return the files written.

    Raises:
        InitError: ``target`` is a file, or one of the files already exists (nothing is written).
    """
    if target.exists() and not target.is_dir():
        raise InitError(f"{target} is a file, not a folder", location=target)
    existing = [target / rel for rel in SCAFFOLD.values() if (target / rel).exists()]
    if existing:
        raise InitError(
            f"refusing to overwrite {', '.join(str(p) for p in existing)}",
            location=existing[0],
            hint="run ethicsgate init in a new or empty folder, or move these files away",
        )
    written = []
    package = resources.files(__name__)
    for name, rel in SCAFFOLD.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(package.joinpath(name).read_bytes())
        written.append(path)
    return written
