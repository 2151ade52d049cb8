"""The record rules' oracle tests, run on PostgreSQL: the same randomized logs, the same loops.

``tests/unit/rules`` holds property tests comparing each record check (consent's as-of join,
human hand-off's nearest human, bot disclosure, explanations, AI labels, human review and the
review sample's md5 ranking) with a plain-Python loop, on DuckDB. Here the same tests run with their evidence loaded into PostgreSQL tables and
read by the SQL engine: the as-of join's sorted-stream form, the struct emulation and the
conflict tests must equal the same loops, ties and missing timestamps included.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.conftest import ROOT
from tests.engines.conftest import load_table

from ethicsgate.engines.sql import open_sql_engine
from ethicsgate.errors import Location
from ethicsgate.evidence import EvidenceSpec

sys.path.insert(0, str(ROOT / "tests" / "unit" / "rules"))

import logs_reference  # noqa: E402
import test_consent_oracle  # noqa: E402
import test_logchecks_oracle  # noqa: E402
import test_oversight_oracle  # noqa: E402
import test_transparency_oracle  # noqa: E402

_COUNTER = iter(range(10**9))


@pytest.fixture
def on_postgres(
    pg_url: str, pg_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Make the oracle modules' ``run_rule`` read their files as PostgreSQL tables."""

    def run_rule(
        rule: Any,
        files: Mapping[str, Path],
        *,
        columns: Mapping[str, Mapping[str, str]] | None = None,
        filters: Mapping[str, str] | None = None,
    ) -> Any:
        engine = open_sql_engine(pg_url)
        try:
            tables = {}
            for name, roles in logs_reference.ROLES[rule.kind](rule).items():
                table = f"oracle.t{next(_COUNTER)}"
                if files[name].read_text().strip():
                    load_table(pg_engine, files[name], table)
                else:  # no rows, no columns: the roles as empty text columns
                    with pg_engine.connect() as con:
                        con.execute(sa.text("CREATE SCHEMA IF NOT EXISTS oracle"))
                        cols = ", ".join(f'"{r.name}" text' for r in dict.fromkeys(roles))
                        con.execute(sa.text(f"CREATE TABLE {table} ({cols or '_none text'})"))
                spec = EvidenceSpec(
                    table=table,
                    columns=dict((columns or {}).get(name, {})),
                    filter=(filters or {}).get(name),
                )
                dataset = engine.open(
                    name, spec, base_dir=files[name].parent, locate=lambda loc: Location("a.yaml")
                )
                tables[name] = dataset.read_rows(roles)
            return logs_reference.EVALUATE[rule.kind](rule, tables)
        finally:
            engine.close()

    for module in (
        test_consent_oracle,
        test_oversight_oracle,
        test_transparency_oracle,
        test_logchecks_oracle,
    ):
        monkeypatch.setattr(module, "run_rule", run_rule)
    with pg_engine.connect() as con:
        con.execute(sa.text("DROP SCHEMA IF EXISTS oracle CASCADE"))
        con.execute(sa.text("CREATE SCHEMA oracle"))
    yield


ORACLES: dict[str, Callable[[], None]] = {
    "consent": test_consent_oracle.test_consent_checks_equal_reference,
    "bot_disclosure": test_transparency_oracle.test_bot_disclosure_equals_reference,
    "human_handoff": test_transparency_oracle.test_human_handoff_equals_reference,
    "decision_explained": test_transparency_oracle.test_decision_explained_equals_reference,
    "ai_content_labeled": test_transparency_oracle.test_ai_content_labeled_equals_reference,
    "human_review_required": test_oversight_oracle.test_human_review_required_equals_reference,
    "review_sampling": test_oversight_oracle.test_review_sampling_equals_reference,
    "notice_before_decision": test_logchecks_oracle.test_notice_before_decision_equals_reference,
    "opt_out_honored": test_logchecks_oracle.test_opt_out_honored_equals_reference,
    "request_answered": test_logchecks_oracle.test_request_answered_equals_reference,
    "log_retention": test_logchecks_oracle.test_log_retention_equals_reference,
    "disclosed_on_request": test_logchecks_oracle.test_disclosed_on_request_equals_reference,
    "pricing_disclosed": test_logchecks_oracle.test_pricing_disclosed_equals_reference,
    "periodic_reminder": test_logchecks_oracle.test_periodic_reminder_equals_reference,
    "crisis_referral": test_logchecks_oracle.test_crisis_referral_equals_reference,
}


@pytest.mark.slow
@pytest.mark.parametrize("check", sorted(ORACLES))
def test_record_oracles_on_postgres(check: str, on_postgres: None) -> None:
    ORACLES[check]()
