"""Files ``ethicsgate init`` writes: a sample policy, audit spec and data that run as-is."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path

from ethicsgate.errors import EthicsgateError

__all__ = ["SCAFFOLD", "InitError", "pack_audit_text", "scaffold_pack", "scaffold_project"]

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
    _check_target(target, SCAFFOLD.values())
    written = []
    package = resources.files(__name__)
    for name, rel in SCAFFOLD.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(package.joinpath(name).read_bytes())
        written.append(path)
    return written


def _check_target(target: Path, files: Iterable[str]) -> None:
    """Raise unless every file can be written into ``target`` without overwriting one."""
    if target.exists() and not target.is_dir():
        raise InitError(f"{target} is a file, not a folder", location=target)
    existing = [target / rel for rel in files if (target / rel).exists()]
    if existing:
        raise InitError(
            f"refusing to overwrite {', '.join(str(p) for p in existing)}",
            location=existing[0],
            hint="run ethicsgate init in a new or empty folder, or move these files away",
        )


def pack_audit_text(name: str, datasets: Mapping[str, Iterable[str]]) -> str:
    """Return an audit spec binding the copy of pack ``name`` to one data file per dataset.

    ``datasets`` maps each dataset to the roles its rules read: each is written as a line to
    fill in, commented out (a column named like its role needs none).
    """
    lines = [
        "# Put your evidence in data/ and map its columns to the roles the rules read",
        f"# (`ethicsgate policy explain policies/{name}.yaml` lists them),",
        f"# then run:   ethicsgate audit audits/{name}.yaml",
        "schema_version: 1",
        f"id: {name}",
        f"title: {name} audit",
        f"policy: ../policies/{name}.yaml   # or pack:{name}: the shipped pack, unchanged",
        "evidence:",
    ]
    for dataset, roles in datasets.items():
        lines += [
            f"  {dataset}:",
            f"    path: ../data/{dataset}.csv   # CSV, Parquet or JSONL; globs read many files",
        ]
        roles = list(roles)
        if not roles:
            lines.append("    columns: {}   # role: your column (or an SQL expression)")
            continue
        lines += [
            "    columns: {}   # the roles its rules read are below: where your column has",
            "    # another name, map it (your column, or an SQL expression over your columns):",
            "    # delete the line above and uncomment these, keeping the roles you map",
            "    # columns:",
            *(f"    #   {role}: <your column>" for role in roles),
        ]
    return "\n".join(lines) + "\n"


def scaffold_pack(target: Path, name: str) -> list[Path]:
    """Copy the shipped pack ``name`` into ``target``/policies/ with an audit spec to fill in.

    Raises:
        InitError: ``target`` is a file, or one of the files already exists (nothing is written).
        PolicyError: no shipped pack has that name.
    """
    from ethicsgate.audit.spec import roles_read
    from ethicsgate.policy.loader import load_policy
    from ethicsgate.policy.packs import PACK_PREFIX

    loaded = load_policy(PACK_PREFIX + name.removeprefix(PACK_PREFIX))
    name = loaded.path.stem
    datasets = {
        d: roles_read(loaded, d)
        for d in dict.fromkeys(d for rule in loaded.pack.rules for d in rule.datasets)
    }
    contents = {
        f"policies/{name}.yaml": loaded.path.read_bytes(),
        f"audits/{name}.yaml": pack_audit_text(name, datasets).encode(),
    }
    _check_target(target, contents)
    written = []
    for rel, data in contents.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written
