"""The roles an audit spec may map under ``columns:`` whatever its policy reads."""

from __future__ import annotations

import importlib

from ethicsgate.evidence.roles import KNOWN_ROLES, Role
from ethicsgate.metrics import LABEL, PREDICTION
from ethicsgate.rules.registry import BUILTIN


def test_known_roles_are_every_role_the_built_in_kinds_read_by_a_fixed_name() -> None:
    """A role a kind reads but KNOWN_ROLES lacks would be refused in a spec shared by policies."""
    fixed = {LABEL, PREDICTION, "score", "timestamp"}  # fairness, and the windows' default
    for kind in BUILTIN:
        module = importlib.import_module(kind.target.partition(":")[0])
        fixed |= {v.name for v in vars(module).values() if isinstance(v, Role)}
    assert set(KNOWN_ROLES) == fixed
    assert len(KNOWN_ROLES) == len(fixed)  # each once
