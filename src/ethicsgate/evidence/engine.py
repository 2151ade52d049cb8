"""The evidence engine interface: what an audit needs from wherever the evidence lives.

An :class:`Engine` opens each evidence set of an audit spec as a :class:`Dataset`. Fairness
rules read only aggregates of a dataset (grouped counts, a score profile with the histogram
buckets around the median, and, rarely, order statistics of the scores);
record-level rules read a :class:`Rows` handle: the roles they need, typed, filter applied,
kept inside the engine, and SQL composed with the engine's :class:`Dialect` for the few
constructs that differ between engines. Only aggregates and a bounded sample of findings leave
the engine, so the driver's memory stays bounded whatever the table size.

DuckDB (:mod:`ethicsgate.engines.duckdb`) is the default engine and the reference the others
are checked against. Rules never see a connection.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ethicsgate.evidence.model import (
    EvidenceFile,
    GroupedCounts,
    Locator,
    ProgressCallback,
    ScoreBucket,
    ScoreColumn,
    ScoreProfile,
    WindowKey,
)
from ethicsgate.evidence.roles import Role, RoleKind
from ethicsgate.evidence.spec import DatasetFormat, EvidenceSpec

if TYPE_CHECKING:
    from ethicsgate.evidence.contracts import BuiltinCheck, ContractResult
    from ethicsgate.policy.models import DataQualityRule

__all__ = ["Dataset", "Dialect", "Engine", "Rows", "VerdictCounts"]


class Dialect(Protocol):
    """SQL constructs that differ between engines, for rules that must compose SQL.

    Everything else the record rules write is portable SQL (CASE, FILTER, window functions).
    Each method returns SQL text; arguments are SQL expressions unless named otherwise.
    """

    @property
    def name(self) -> str:
        """Return the dialect's name, e.g. ``duckdb``."""
        ...

    def regexp_match(self, text: str, pattern: str) -> str:
        """Return a condition: ``text`` matches ``pattern``, ignoring case.

        ``pattern`` is a Python string in RE2 syntax; a missing text matches nothing (false).
        """
        ...

    def microseconds(self, micros: int) -> str:
        """Return an interval of ``micros`` microseconds to add to a timestamp."""
        ...

    def epoch_us(self, timestamp: str) -> str:
        """Return a timestamp as integer microseconds since the Unix epoch."""
        ...

    def struct(self, fields: Mapping[str, str]) -> str:
        """Return a struct (record) value of named fields."""
        ...

    def trim(self, text: str, characters: str) -> str:
        """Return ``text`` with ``characters`` (a Python string) trimmed from both ends."""
        ...

    def struct_field(self, struct: str, name: str) -> str:
        """Return one named field of a struct (record) value."""
        ...

    def first_by(self, value: str, order: str, where: str) -> str:
        """Return an aggregate: ``value`` of the row with the least ``order`` where ``where``."""
        ...

    def ceil_div_exact(self, n: str, numerator: int, denominator: int) -> str:
        """Return ``ceil(n * numerator / denominator)`` in exact integer arithmetic."""
        ...

    def stable_hash_text(self, text: str) -> str:
        """Return a stable, engine-independent hex digest of ``text`` (md5) for ordering."""
        ...

    def unique_records(
        self, table: str, key: str, values: Sequence[tuple[str, str]], *, where: str = "true"
    ) -> str:
        """Return SQL with one row per id: ``_id``, each value column as its alias, ``_conflict``.

        Rows that repeat a record exactly count once; ids on rows that differ get
        ``_conflict = true``. ``values`` are (column, alias) pairs; NULL ids are no records.
        """
        ...

    def asof_left_join(
        self, left: str, right: str, *, equal: Sequence[tuple[str, str]], on: str
    ) -> str:
        """Return ``left ASOF LEFT JOIN right``: for each left row the nearest right row.

        ``left``/``right`` are ``relation AS alias``; ``equal`` pairs columns that must match;
        ``on`` is the one inequality (``l.ts >= r.ts`` or ``l.ts <= r.ts``) that picks the
        nearest row.
        """
        ...


@dataclass(frozen=True)
class VerdictCounts:
    """What a check's verdicts add up to, computed inside the engine in one pass.

    ``listed``: the first ``limit`` violating records by id, each a mapping of ``_id``,
    ``_reason`` and the finding fields; ``conflict_id``: one id two different rows share.
    """

    records: int
    violations: int
    by_reason: dict[str, int]
    listed: list[Mapping[str, Any]]
    conflicts: int
    conflict_id: Any


class Rows(Protocol):
    """The typed roles of one dataset that record-level rules read, held by the engine."""

    @property
    def table(self) -> str:
        """Return the SQL name of the rows table."""
        ...

    @property
    def roles(self) -> list[Role]:
        """Return the roles read, one typed column each."""
        ...

    @property
    def rows(self) -> int:
        """Return the number of rows after the evidence filter."""
        ...

    @property
    def rows_read(self) -> int:
        """Return the number of rows before the evidence filter."""
        ...

    @property
    def dialect(self) -> Dialect:
        """Return the engine's SQL dialect."""
        ...

    def col(self, name: str, kind: RoleKind) -> str:
        """Return the quoted column of a role read as ``kind`` (KeyError: not read)."""
        ...

    def is_integer(self, role: Role) -> bool:
        """Return whether an id role kept an integer type (else it is text)."""
        ...

    def raw(self, role: Role) -> str:
        """Return the role's typed SQL over the source rows (to name a row in the files)."""
        ...

    def require_present(
        self, role: Role, *, where: str = "true", raw_where: str = "true", purpose: str
    ) -> None:
        """Raise EvidenceError at the first row where ``where`` holds and ``role`` is missing."""
        ...

    def check_patterns(self, patterns: Sequence[str]) -> tuple[str, str]:
        """Return the first regular expression the engine rejects and why, or ``("", "")``."""
        ...

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        """Run a small aggregate query over the rows table and return its rows."""
        ...

    def verdicts(
        self, sql: str, fields: Sequence[str], *, limit: int, id_role: Role
    ) -> VerdictCounts:
        """Count a verdict query's records and violations, list the first ``limit`` by id.

        Raises:
            EvidenceError: two different rows share a record id (both are named).
        """
        ...

    def violation_batches(
        self, sql: str, fields: Sequence[str], *, batch_rows: int
    ) -> Iterator[list[Mapping[str, Any]]]:
        """Yield every violating record of a verdict query by id, ``batch_rows`` at a time.

        Each record is a mapping of ``_id``, ``_reason`` and the finding fields, as
        :meth:`verdicts` lists them; the engine streams them, so memory is bounded at any count.
        """
        ...


class Dataset(Protocol):
    """One named evidence set, opened by an engine."""

    @property
    def name(self) -> str:
        """Return the evidence set's name in the audit spec."""
        ...

    @property
    def spec(self) -> EvidenceSpec:
        """Return the audit spec's entry for this evidence set."""
        ...

    @property
    def format(self) -> DatasetFormat:
        """Return the format the evidence is read as (``arrow``: in memory)."""
        ...

    @property
    def files(self) -> list[Path]:
        """Return the evidence files (empty where the evidence is a table, not files)."""
        ...

    @property
    def locate(self) -> Locator:
        """Return the function locating keys of this entry inside the audit spec."""
        ...

    def start_hashing(self, pool: ThreadPoolExecutor) -> None:
        """Compute the evidence identity in the background while the engine scans."""
        ...

    def digests(self) -> list[EvidenceFile]:
        """Return the files with their sha256 (waiting for the background hashing)."""
        ...

    def grouped_counts(
        self,
        *,
        roles: Sequence[str],
        binary_roles: Sequence[str] = (),
        progress: ProgressCallback | None = None,
        score_columns: Mapping[str, ScoreColumn] | None = None,
        window: WindowKey | None = None,
    ) -> GroupedCounts:
        """Count rows per combination of role values in one streaming pass.

        ``score_columns`` adds keys (and sums) derived from the ``score`` role, by name
        (:class:`ScoreColumn`): comparisons, the score itself, the score inside a median
        bracket (NULL outside), equal-width bins and score sums. ``window`` adds the key
        ``_window`` (:class:`WindowKey`): the first day of each row's calendar window, as
        ISO text, computed in the same pass (an engine truncates the time in SQL, e.g.
        ``date_trunc('month', ts)``, and groups by it with the other keys).

        Raises:
            EvidenceError: a role or the window column is missing or cannot be read.
        """
        ...

    def score_profile(
        self,
        *,
        distinct: bool = True,
        median: bool = False,
        progress: ProgressCallback | None = None,
    ) -> ScoreProfile:
        """Return the count, range and estimated distinct values of the audited scores.

        ``distinct=False``: skip the estimate (0). ``median=True``: also return the buckets
        of a fine, order-preserving histogram (disjoint score ranges, ascending) that hold the
        middle ranks, in the same pass where the engine can (:attr:`ScoreProfile.median_buckets`;
        empty when the histogram cannot bracket them; ``None`` when the engine computes them
        only in a pass of its own, :meth:`score_median_buckets`, which the caller then asks
        for if it needs them). The rules plan the exact median from them
        (:mod:`ethicsgate.evidence.median`). An engine may count the distinct scores from
        that histogram: exactly, or as a lower bound above
        :data:`~ethicsgate.evidence.model.EXACT_SCORE_VALUES`
        (:attr:`ScoreProfile.distinct_at_least`).

        Raises:
            EvidenceError: the score is missing, not numeric, or not finite in an audited row.
        """
        ...

    def score_median_buckets(
        self,
        *,
        low: float | None = None,
        high: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> tuple[ScoreBucket, ...]:
        """Return the histogram buckets holding the middle ranks, in one pass of their own.

        ``low``/``high``: the scores' range when known (the profile's), which lets the
        engine use equal-width bins.
        """
        ...

    def score_order_statistics(
        self,
        ranks: Sequence[int],
        *,
        low: float,
        high: float,
        rows: int,
        progress: ProgressCallback | None = None,
    ) -> dict[int, float]:
        """Return the scores at 0-based ``ranks`` among the ``rows`` audited scores in [low, high].

        The narrowing search for a median bracket too large for the grouped pass to key by
        exact score: bounded memory, one or more passes.
        """
        ...

    def read_rows(self, roles: Sequence[Role]) -> Rows:
        """Read the roles record-level rules need into typed rows kept by the engine."""
        ...

    def run_contract(self, rule: DataQualityRule, *, guards: list[str]) -> ContractResult:
        """Run a data_quality rule's expectations on this dataset."""
        ...

    def run_builtin_contract(self, checks: Sequence[BuiltinCheck]) -> ContractResult:
        """Run the built-in checks the rules need of this dataset (``contracts: report``)."""
        ...


class Engine(Protocol):
    """Where the evidence is read: opens datasets, and is closed after the audit."""

    @property
    def name(self) -> str:
        """Return the engine's name, e.g. ``duckdb``."""
        ...

    def open(self, name: str, spec: EvidenceSpec, *, base_dir: Path, locate: Locator) -> Dataset:
        """Open one evidence set of an audit spec.

        Raises:
            EvidenceError: the evidence cannot be found or read.
        """
        ...

    def connect(self) -> None:
        """Connect, checking the engine's settings; idempotent, and implied by any scan.

        Raises:
            SettingsError: a deployment setting holds a value the engine cannot use.
            EvidenceError: the engine cannot be reached.
        """
        ...

    def versions(self) -> dict[str, str]:
        """Return the engine's component versions, recorded in the report."""
        ...

    def close(self) -> None:
        """Release the engine's connections and temporary data."""
        ...
