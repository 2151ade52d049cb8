"""The roles record-level rules read from evidence, and how each must be typed.

An engine reads every role a rule names into a typed column (see the engine's rows reader
for the conversions); the rules refer to those columns by :attr:`Role.column`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ethicsgate.evidence.sql import quote_ident

__all__ = ["ACTORS", "Role", "RoleKind"]

RoleKind = Literal[
    "key", "ref", "text", "required_text", "actor", "timestamp", "flag", "flag_or_false", "number"
]
ACTORS = ("bot", "human", "customer", "system")


@dataclass(frozen=True)
class Role:
    """A role a rule reads and how it must be typed."""

    name: str
    kind: RoleKind

    @property
    def column(self) -> str:
        """Return the quoted column name of this role in the rows table."""
        return quote_ident(f"{self.name}:{self.kind}")
