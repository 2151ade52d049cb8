"""The roles record-level rules read from evidence, and how each must be typed.

An engine reads every role a rule names into a typed column (see the engine's rows reader
for the conversions); the rules refer to those columns by :attr:`Role.column`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Literal

from ethicsgate.evidence.sql import quote_ident, sql_literal

__all__ = [
    "ACTORS",
    "KNOWN_ROLES",
    "Role",
    "RoleKind",
    "role_mapping",
    "role_type_hint",
    "unknown_actor_hint",
    "written_time_format",
]

RoleKind = Literal[
    "key", "ref", "text", "required_text", "actor", "timestamp", "flag", "flag_or_false", "number"
]
ACTORS = ("bot", "human", "customer", "system")
#: The actor a chat log's own name for a sender most likely means (the unknown-actor hint's
#: mapping); any other name is taken for a person of the operator's, ``human``.
_ACTOR_SPELLINGS = {
    "user": "customer",
    "client": "customer",
    "visitor": "customer",
    "end_user": "customer",
    "assistant": "bot",
    "ai": "bot",
    "model": "bot",
    "chatbot": "bot",
}
#: The roles the built-in rule kinds read by a fixed name, which an audit spec's ``columns:``
#: maps: fairness (label, prediction, score), the windows' default column (timestamp) and the
#: record-level kinds' roles (tests/unit/evidence keeps this equal to the rules' ``Role``s).
#: A spec may map any of them whether or not its policy reads it (specs are shared across
#: policies); the other names it maps are those its policy's rules name (sensitive features,
#: finding fields, ...).
KNOWN_ROLES = (
    "label",
    "prediction",
    "score",
    "timestamp",
    "actor",
    "adverse",
    "ai_generated",
    "ai_label",
    "answered_at",
    "conversation_id",
    "decision_id",
    "event_id",
    "expires_at",
    "explanation",
    "granted_at",
    "minor",
    "outcome",
    "personalized",
    "purpose",
    "qa_reviewer",
    "request_id",
    "reviewer",
    "routed_to_review",
    "subject_id",
    "text",
    "ts",
    "type",
    "withdrawn_at",
)


@dataclass(frozen=True)
class Role:
    """A role a rule reads and how it must be typed."""

    name: str
    kind: RoleKind

    @property
    def column(self) -> str:
        """Return the quoted column name of this role in the rows table."""
        return quote_ident(f"{self.name}:{self.kind}")


_IDENTIFIER = re.compile(r'[A-Za-z_][A-Za-z0-9_]*|"(?:[^"]|"")+"')


def unknown_actor_hint(role: Role, expr: str, value: object) -> str:
    """Return the fix for an actor value outside :data:`ACTORS`: a mapping that reads it.

    ``expr`` is the role's SQL over the source (its mapping, or the quoted column of the
    role's name) and ``value`` the value found (None when missing). The suggested mapping
    is YAML that can be pasted under ``columns:`` as it is: a ``CASE`` over ``expr`` that
    turns that very value into an actor, every other value left as it was.
    """
    source = _source(role, expr)
    if value is None:
        mapping = f"coalesce({source}, 'human')"
        what = "missing values"
    else:
        actor = _ACTOR_SPELLINGS.get(str(value).strip().lower(), "human")
        mapping = f"CASE {source} WHEN {sql_literal(str(value))} THEN '{actor}' ELSE {source} END"
        what = "other values"
    return (
        f"map {what} to {', '.join(ACTORS)} under columns.{role.name}, e.g. "
        f"{role.name}: {_yaml(mapping)}, or exclude the rows with a filter"
    )


def role_type_hint(role: Role, expr: str, *, seconds: str, parsed: str) -> str:
    """Return the fix for a role of the wrong type: mappings to paste under ``columns:``.

    ``seconds`` and ``parsed`` are the engine's SQL for a time from Unix seconds and from
    day.month.year text, with ``{}`` where the source goes (DuckDB: ``to_timestamp({})`` and
    ``strptime({}, '%d.%m.%Y %H:%M')``).
    """
    source = _source(role, expr)
    if role.kind == "timestamp":
        return (
            f"map it under columns, e.g. {role.name}: {_yaml(seconds.format(source))} for "
            f"Unix seconds, or {role.name}: {_yaml(parsed.format(source))}"
        )
    if role.kind in ("flag", "flag_or_false"):
        condition = _yaml(source + " = 'yes'")
        return f"map it to a condition under columns, e.g. {role.name}: {condition}"
    if role.kind == "number":
        return f"map it to a numeric column or expression under columns.{role.name}"
    return f"map it under columns.{role.name} to a column or SQL expression"


#: A date as people write it: day and month in either order, then the year, maybe a time.
_WRITTEN_DATE = re.compile(
    r"\s*(?P<a>\d{1,2})(?P<sep>[./-])(?P<b>\d{1,2})(?P=sep)(?P<year>\d{4})"
    r"(?:(?P<t>[ T])\d{1,2}:\d{2}(?P<s>:\d{2})?)?\s*"
)


def written_time_format(value: object) -> tuple[str, str | None] | None:
    """Return the strptime format of a date written ``12/03/2025 10:00``, or None.

    The format uses DuckDB's (C) codes; the second item, when the value reads either way
    (both numbers 12 or less), is the other order's format. Day first, as in most of the
    world, unless the second number cannot be a month.
    """
    match = _WRITTEN_DATE.fullmatch(str(value)) if value is not None else None
    if match is None:
        return None
    a, b, sep = int(match["a"]), int(match["b"]), match["sep"]
    time = ""
    if match["t"]:
        time = f"{match['t']}%H:%M" + (":%S" if match["s"] else "")
    day_first, month_first = (f"%d{sep}%m{sep}%Y{time}", f"%m{sep}%d{sep}%Y{time}")
    if a > 12:
        return day_first, None
    if b > 12:
        return month_first, None
    return day_first, (month_first if a != b else None)


def role_mapping(role: Role, expr: str, sql: str) -> str:
    """Return ``role: "SQL"`` to paste under ``columns:``; ``{}`` in ``sql`` is the source."""
    return f"{role.name}: {_yaml(sql.format(_source(role, expr)))}"


def _source(role: Role, expr: str) -> str:
    """Return the role's source as a mapping over it writes it: a name, or ``(expression)``."""
    if expr == quote_ident(role.name) and re.fullmatch(r"[a-z_]+", role.name):
        return role.name  # the role's own column: our names need no quotes in any engine
    if _IDENTIFIER.fullmatch(expr.strip()):
        return expr.strip()
    return f"({expr.strip()})"


def _yaml(mapping: str) -> str:
    """Return SQL as a YAML double-quoted scalar (a JSON string): quotes come out escaped."""
    return json.dumps(mapping, ensure_ascii=not mapping.isprintable())
