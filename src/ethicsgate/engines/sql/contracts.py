"""Data contracts on a SQL database: not yet written for this engine (a located error says so).

The built-in checks (``contracts: report``) and ``data_quality`` rules run on DuckDB today;
on a database engine they raise an EvidenceError naming the engine and the way round
(``contracts: stop``, whose checks the reader itself makes, or DuckDB over an export).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ethicsgate.errors import EvidenceError

if TYPE_CHECKING:
    from ethicsgate.engines.sql.dataset import SQLDataset
    from ethicsgate.evidence.contracts import BuiltinCheck, ContractResult
    from ethicsgate.policy.models import DataQualityRule

__all__ = ["run_builtin_contract", "run_contract"]


def run_contract(
    evidence: SQLDataset, rule: DataQualityRule, *, guards: Sequence[str] = ()
) -> ContractResult:
    """Raise: data_quality rules do not run on a database engine yet.

    Raises:
        EvidenceError: always, naming the engine and the way round.
    """
    raise EvidenceError(
        f"rule {rule.id!r}: data_quality expectations do not run on engine "
        f"{evidence.engine.shown} yet (evidence {evidence.name!r}, {evidence.describe()})",
        location=evidence.locate(evidence.where_key()),
        hint="run this audit on DuckDB over an export of the table (Parquet), or move the "
        "expectations to your warehouse's own tests",
    )


def run_builtin_contract(evidence: SQLDataset, checks: Sequence[BuiltinCheck]) -> ContractResult:
    """Raise: ``contracts: report`` does not run on a database engine yet.

    Raises:
        EvidenceError: always, naming the engine and the way round.
    """
    raise EvidenceError(
        f"contracts: report does not run on engine {evidence.engine.shown} yet (evidence "
        f"{evidence.name!r}, {evidence.describe()})",
        location=evidence.locate(evidence.where_key()),
        hint="use contracts: stop (the default): the reader then stops at the first value a "
        "rule cannot read, naming it",
    )
