"""Built-in data contracts (``contracts: report``) on PostgreSQL tables against DuckDB files.

The same crafted evidence (a label that is not 0/1, a missing score, unparsable and missing
timestamps, an unknown actor, an id naming two records, a missing column) is audited from CSV
files by DuckDB, the reference, and from tables by the SQL engine: every expectation must
agree in success, rows, unexpected count and examples, and the same rules must be ``error``.
Messages differ only where DuckDB names a file row and the database a table.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.engines.conftest import load_table
from tests.unit.engines.duckdb.test_builtin_contracts import FAIRNESS, HEADER, LOGS

from ethicsgate.audit import run_audit

BAD_PREDICTIONS = """\
id,group,label,prediction,score
1,a,1,1,0.9
2,a,yes,0,0.1
3,b,1,1,
4,b,2,0,0.3
5,a,1,1,0.8
6,b,0,1,0.4
"""
BAD_CHAT = """\
conversation_id,ts,actor,type,text
c1,2025-03-01T10:00:00Z,bot,message,I am a virtual assistant
c1,not a time,customer,message,hello
c2,2025-03-01T11:00:00Z,robot,message,I am a chatbot
c3,,bot,message,hi
"""
BAD_DECISIONS = """\
decision_id,segment,prediction,explanation
d1,new,1,Score above threshold
d2,new,0,Too few purchases
d3,regular,1,Loyal customer
d3,regular,1,Another reason
d4,regular,yes,Loyal customer
"""
NO_SEGMENT = """\
decision_id,prediction,explanation
d1,1,Score above threshold
d2,0,Too few purchases
"""

CASES = {
    "bad": {"predictions": BAD_PREDICTIONS, "chat": BAD_CHAT, "decisions": BAD_DECISIONS},
    "missing-column": {"predictions": BAD_PREDICTIONS, "chat": BAD_CHAT, "decisions": NO_SEGMENT},
}


def _comparable(contract: dict[str, Any]) -> dict[str, Any]:
    keep = ("expect", "expectation", "column", "success", "rows", "unexpected", "examples")
    return {
        "rule_id": contract["rule_id"],
        "success": contract["success"],
        "rows": contract["rows"],
        "guards": contract["guards"],
        "expectations": [{k: e.get(k) for k in keep} for e in contract["expectations"]],
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_builtin_contracts_match_duckdb(
    case: str, pg_url: str, pg_engine: sa.Engine, tmp_path: Path
) -> None:
    datasets = CASES[case]
    (tmp_path / "policy.yaml").write_text(
        HEADER + textwrap.dedent(FAIRNESS + LOGS).strip("\n") + "\n"
    )
    schema = f"contracts_{case.replace('-', '_')}"
    files = tables = ""
    for name, text in datasets.items():
        path = tmp_path / f"{name}.csv"
        path.write_text(text)
        load_table(pg_engine, path, f"{schema}.{name}")
        files += f"  {name}:\n    path: {name}.csv\n"
        tables += f"  {name}:\n    table: {schema}.{name}\n"
    head = "schema_version: 1\nid: contracts\npolicy: policy.yaml\ncontracts: report\nevidence:\n"
    (tmp_path / "files.yaml").write_text(head + files)
    (tmp_path / "tables.yaml").write_text(head + tables)

    duck = run_audit(tmp_path / "files.yaml")
    pg = run_audit(tmp_path / "tables.yaml", engine_target=pg_url)

    assert {r.id: r.status for r in pg.rules} == {r.id: r.status for r in duck.rules}
    assert any(r.status == "error" for r in duck.rules)  # the case does break a contract
    pg_contracts = [_comparable(c.model_dump(mode="json")) for c in pg.contracts]
    duck_contracts = [_comparable(c.model_dump(mode="json")) for c in duck.contracts]
    assert pg_contracts == duck_contracts
    assert any(not e["success"] for c in duck_contracts for e in c["expectations"])


@pytest.mark.parametrize("seed", [4, 5, 6])
@pytest.mark.parametrize("which", ["plain", "edges"])
def test_data_quality_rules_match_duckdb(
    seed: int, which: str, pg_url: str, pg_engine: sa.Engine, tmp_path: Path
) -> None:
    """A data_quality rule's expectations count alike: NaN, infinity, mixed value sets,
    lookahead and digit patterns, mostly, a failing row count, duplicated ids."""
    from tests.unit.engines.duckdb import test_contracts as reference

    rows = reference._rows(60, seed) if which == "plain" else reference._edge_rows(80, seed)
    expectations = reference.EXPECTATIONS if which == "plain" else reference.EDGES
    (tmp_path / "policy.yaml").write_text(reference._policy(expectations))
    (tmp_path / "data.csv").write_text(reference._csv(rows))
    table = f"dq.{which}_{seed}"
    load_table(pg_engine, tmp_path / "data.csv", table)
    head = "schema_version: 1\nid: dq\npolicy: policy.yaml\nevidence:\n  predictions:\n"
    (tmp_path / "files.yaml").write_text(head + "    path: data.csv\n")
    (tmp_path / "tables.yaml").write_text(head + f"    table: {table}\n")

    duck = run_audit(tmp_path / "files.yaml")
    pg = run_audit(tmp_path / "tables.yaml", engine_target=pg_url)

    assert {r.id: r.status for r in pg.rules} == {r.id: r.status for r in duck.rules}
    (a,), (b,) = pg.contracts, duck.contracts
    assert (a.success, a.rows) == (b.success, b.rows)
    keep = ("expect", "column", "success", "rows", "missing", "unexpected", "masked")
    assert [{k: getattr(e, k) for k in keep} for e in a.expectations] == [
        {k: getattr(e, k) for k in keep} for e in b.expectations
    ]
    assert any(not e.success for e in b.expectations)
    # examples: as many; the same ones where the order is defined (a table has no file order,
    # so row-wise examples are the first failing values the database returns)
    for e, d in zip(a.expectations, b.expectations, strict=True):
        assert len(e.examples) == len(d.examples), e.expect
        if e.expect in ("unique", "row_count_between"):
            assert e.examples == d.examples
