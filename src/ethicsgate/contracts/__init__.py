"""Data contracts: Great Expectations checks on evidence before the rules that read it run.

The runner is :mod:`ethicsgate.contracts.run`; this package's import is light (no DuckDB, no
pandas), and ``great_expectations`` (seconds to import) is imported only when a contract runs.
"""

from ethicsgate.contracts.results import ContractResult, ExpectationResult

__all__ = ["ContractResult", "ExpectationResult"]
