"""The fix an unknown actor's error suggests: YAML to paste, SQL over the mapped source."""

from __future__ import annotations

import re

import duckdb
import pytest
import yaml

from ethicsgate.evidence.roles import ACTORS, Role, unknown_actor_hint
from ethicsgate.evidence.sql import quote_ident

ACTOR = Role("actor", "actor")


def _mapping(hint: str) -> str:
    """Return the SQL the hint maps actor to, read as the audit spec's YAML loader reads it."""
    found = re.search(r'e\.g\. (actor: "(?:[^"\\]|\\.)*")', hint)
    assert found, hint
    return str(yaml.load(found.group(1), Loader=yaml.SafeLoader)["actor"])


@pytest.mark.parametrize(
    "value",
    ["agent", "staff's", 'say "hi"', "back\\slash", "new\nline", "café", "line\u2028sep", "%s"],
)
def test_the_mapping_turns_exactly_the_value_found_into_an_actor(value: str) -> None:
    expr = quote_ident("Sent By")
    sql = _mapping(unknown_actor_hint(ACTOR, expr, value))
    assert (
        sql
        == f"CASE {expr} WHEN '{value.replace(chr(39), chr(39) * 2)}' THEN 'human' ELSE {expr} END"
    )
    con = duckdb.connect()
    rows = con.execute(
        f'SELECT {sql} FROM (VALUES (?), (?)) AS t("Sent By")', [value, "bot"]
    ).fetchall()
    assert rows == [("human",), ("bot",)]


def test_the_source_is_the_mapping_not_the_role_name() -> None:
    hint = unknown_actor_hint(ACTOR, "sender", "agent")
    assert "actor: \"CASE sender WHEN 'agent' THEN 'human' ELSE sender END\"" in hint
    assert f"map other values to {', '.join(ACTORS)} under columns.actor" in hint
    # the role's own column, unmapped, needs no quotes
    assert "CASE actor WHEN 'x'" in unknown_actor_hint(ACTOR, quote_ident("actor"), "x")
    # an expression is bracketed, so the CASE reads it whole
    assert _mapping(unknown_actor_hint(ACTOR, "lower(a) || b", "x")) == (
        "CASE (lower(a) || b) WHEN 'x' THEN 'human' ELSE (lower(a) || b) END"
    )


def test_a_missing_value_is_given_one() -> None:
    hint = unknown_actor_hint(ACTOR, "sender", None)
    assert hint.startswith("map missing values to")
    assert _mapping(hint) == "coalesce(sender, 'human')"


@pytest.mark.parametrize(
    ("value", "actor"),
    [("user", "customer"), ("User", "customer"), ("assistant", "bot"), ("model", "bot")],
)
def test_a_chat_logs_own_names_map_to_the_actor_they_mean(value: str, actor: str) -> None:
    # a companion or LLM chat log's user is the customer and its assistant the bot; mapping
    # user to human would make the customer's words replies by a person
    sql = _mapping(unknown_actor_hint(ACTOR, "role", value))
    assert sql == f"CASE role WHEN '{value}' THEN '{actor}' ELSE role END"
