"""The history store: every SQL statement of recorded audit runs is in this module.

It shares the review queue's database (SQLite by default, PostgreSQL by URL) and its Alembic
chain (``0003_history``); the engine comes from the review store's opener, so URLs, settings
and SQLite's locking are the same. Group metrics are stored one row per rule x group x metric
(a long table: a trend is one indexed range scan, and any column store can load it as is),
inserted in bulk (executemany in chunks), so a run with 1e5 groups records in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from itertools import islice
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from ethicsgate.errors import HistoryError, did_you_mean
from ethicsgate.history.models import (
    MetricRow,
    RecordedRule,
    RecordedRun,
    RunDetail,
    TrendPoint,
    TrendResult,
)
from ethicsgate.history.rows import metric_rows, report_digests

if TYPE_CHECKING:
    from ethicsgate.audit.result import AuditResult

__all__ = ["CHUNK", "HistoryStore", "parse_group_filter", "parse_run_id"]

#: Metric rows per executemany call: bounds memory at 1e5+ groups, keeps round trips few.
CHUNK = 5000

_meta = sa.MetaData()
runs_t = sa.Table(
    "history_runs",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("report_sha256", sa.String(64)),
    sa.Column("envelope_sha256", sa.String(64)),
    sa.Column("signer", sa.String(128)),
    sa.Column("audit_id", sa.String(128)),
    sa.Column("audit_title", sa.String(512)),
    sa.Column("spec_sha256", sa.String(64)),
    sa.Column("policy_id", sa.String(128)),
    sa.Column("policy_version", sa.String(128)),
    sa.Column("policy_sha256", sa.String(64)),
    sa.Column("status", sa.String(8)),
    sa.Column("started_at", sa.String(32)),
    sa.Column("finished_at", sa.String(32)),
    sa.Column("recorded_at", sa.String(32)),
    sa.Column("engine", sa.Text),
    sa.Column("ethicsgate_version", sa.String(64)),
    sa.Column("report_path", sa.Text),
    sa.Column("rules", sa.Integer),
    sa.Column("failed", sa.Integer),
)
rules_t = sa.Table(
    "history_rules",
    _meta,
    sa.Column("run_id", sa.Integer, primary_key=True),
    sa.Column("rule_id", sa.String(128), primary_key=True),
    sa.Column("kind", sa.String(64)),
    sa.Column("severity", sa.String(8)),
    sa.Column("status", sa.String(8)),
    sa.Column("dataset", sa.String(128)),
    sa.Column("rows", sa.BigInteger),
    sa.Column("message", sa.Text),
    sa.Column("assertions", sa.Text),
)
metrics_t = sa.Table(
    "history_metrics",
    _meta,
    sa.Column("run_id", sa.Integer),
    sa.Column("rule_id", sa.String(128)),
    sa.Column("group_key", sa.Text),
    sa.Column("metric", sa.String(128)),
    sa.Column("value", sa.Float),
    sa.Column("low", sa.Float),
    sa.Column("high", sa.Float),
    sa.Column("ratio", sa.Float),
    sa.Column("ratio_low", sa.Float),
    sa.Column("ratio_high", sa.Float),
    sa.Column("difference", sa.Float),
    sa.Column("p_value", sa.Float),
    sa.Column("n", sa.BigInteger),
    sa.Column("excluded", sa.Boolean),
)

#: The placeholder of each DB-API parameter style the store's drivers use.
_MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}

_LIST_HINT = "`ethicsgate history list` shows the recorded runs and their ids"


def _format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_run_id(text: str | int) -> int:
    """Return a run id given as text (``42``), or raise a HistoryError naming the fix.

    Raises:
        HistoryError: the text is not a positive whole number.
    """
    if isinstance(text, int):
        value = text
    else:
        try:
            value = int(text.strip())
        except ValueError:
            raise HistoryError(
                f"bad run id {text!r}: a run id is a whole number", hint=_LIST_HINT
            ) from None
    if value < 1:
        raise HistoryError(f"bad run id {text!r}: ids start at 1", hint=_LIST_HINT)
    return value


def parse_group_filter(texts: Sequence[str]) -> list[dict[str, str]]:
    """Return ``--group`` filters (``sex=Female`` or ``sex=Female,race=Black``) as mappings.

    Raises:
        HistoryError: a filter is not ``feature=value`` pairs separated by commas.
    """
    filters = []
    for text in texts:
        pairs: dict[str, str] = {}
        for part in text.split(","):
            name, eq, value = part.partition("=")
            if not eq or not name.strip():
                raise HistoryError(
                    f"bad --group {text!r}: write feature=value, e.g. sex=Female "
                    "(several as sex=Female,race=Black)"
                )
            pairs[name.strip()] = value.strip()
        filters.append(pairs)
    return filters


def _matches(group: Mapping[str, str | None], filters: Sequence[Mapping[str, str]]) -> bool:
    return not filters or any(
        all(group.get(k) == v for k, v in wanted.items()) for wanted in filters
    )


def _rule(row: Any) -> RecordedRule:
    data = {k: v for k, v in row._mapping.items() if k != "run_id"}
    data["assertions"] = json.loads(data["assertions"])
    return RecordedRule.model_validate(data)


def _chunks(rows: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while chunk := list(islice(rows, size)):
        yield chunk


class HistoryStore:
    """Recorded audit runs on the review queue's database; close when done.

    Open one with ``ethicsgate.session.open_history`` (it opens and migrates the shared
    database), or wrap an engine whose database is already at the history revision.
    """

    def __init__(
        self,
        engine: sa.Engine,
        *,
        url: str,
        writer_gate: AbstractContextManager[object] | None = None,
    ) -> None:
        """Use an open SQLAlchemy engine of a migrated store; ``url`` is shown, password hidden.

        ``writer_gate``: held around every writing transaction, from before its ``BEGIN``: the
        review store's (``ReviewStore.writer_gate``), so that on SQLite the history's writes
        queue with the review queue's writers instead of racing them for SQLite's lock.
        """
        self._engine = engine
        self.url = url
        self._writer_gate = writer_gate

    def close(self) -> None:
        """Release every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> HistoryStore:
        """Return the store itself."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the store."""
        self.close()

    @contextmanager
    def _tx(self, *, write: bool) -> Iterator[sa.Connection]:
        gate = self._writer_gate if write and self._writer_gate is not None else nullcontext()
        # the connection is checked out before queueing at the gate, as the review store does
        with self._engine.connect() as conn, gate:
            # SQLite: the review store's begin hook starts writers with BEGIN IMMEDIATE
            conn.execution_options(ethicsgate_write=write)
            with conn.begin():
                yield conn

    # -- writing ----------------------------------------------------------------------------

    def record(
        self,
        result: AuditResult,
        files: Mapping[str, bytes],
        *,
        report_path: str | None = None,
        signer: str | None = None,
        recorded_at: datetime | None = None,
    ) -> RecordedRun:
        """Record a run: its digests, policy, rule results and group metrics, in one transaction.

        Recording the same report bytes again returns the run already recorded (idempotent).
        """
        report_sha, envelope_sha = report_digests(files)
        info = result.audit
        when = _format_time(recorded_at if recorded_at is not None else datetime.now(UTC))
        values = {
            "report_sha256": report_sha,
            "envelope_sha256": envelope_sha,
            "signer": signer,
            "audit_id": info.id,
            "audit_title": info.title,
            "spec_sha256": info.spec_sha256,
            "policy_id": info.policy.id,
            "policy_version": info.policy.version,
            "policy_sha256": info.policy.sha256,
            "status": result.status,
            "started_at": info.started_at,
            "finished_at": info.finished_at,
            "recorded_at": when,
            "engine": json.dumps(info.engine, sort_keys=True),
            "ethicsgate_version": info.ethicsgate_version,
            "report_path": report_path,
            "rules": result.summary.rules,
            "failed": result.summary.failed,
        }
        try:
            with self._tx(write=True) as conn:
                existing = conn.execute(
                    sa.select(runs_t.c.id).where(runs_t.c.report_sha256 == report_sha)
                ).scalar()
                if existing is None:
                    run_id = conn.execute(
                        sa.insert(runs_t).values(values).returning(runs_t.c.id)
                    ).scalar_one()
                    self._insert_rules(conn, run_id, result)
        except sa_exc.IntegrityError:
            # PostgreSQL: another process recorded the same report between our check and insert
            pass
        return self._run_by_digest(report_sha)

    @staticmethod
    def _insert_rules(conn: sa.Connection, run_id: int, result: AuditResult) -> None:
        rules = [
            {
                "run_id": run_id,
                "rule_id": r.id,
                "kind": r.kind,
                "severity": r.severity,
                "status": r.status.value,
                "dataset": r.dataset,
                "rows": r.rows,
                "message": r.message,
                "assertions": json.dumps(
                    [
                        a.model_dump(
                            mode="json",
                            include={
                                "metric",
                                "aggregate",
                                "op",
                                "threshold",
                                "observed",
                                "status",
                            },
                        )
                        for a in r.assertions
                    ],
                    sort_keys=True,
                ),
            }
            for r in result.rules
        ]
        if rules:
            conn.execute(sa.insert(rules_t), rules)
        names = [c.name for c in metrics_t.columns]
        fields = names[1:]
        mark = _MARKS.get(conn.dialect.paramstyle)
        if mark is None:  # pragma: no cover - sqlite3 and psycopg use ? and %s
            dicts = ({"run_id": run_id, **row} for row in metric_rows(result))
            for chunk in _chunks(dicts, CHUNK):
                conn.execute(sa.insert(metrics_t), chunk)
            return
        # the driver's executemany with plain tuples: SQLAlchemy's per-row parameter processing
        # cost 4x the insert itself at 1e5 groups (benchmarks/bench_history.py)
        sql = (
            f"INSERT INTO history_metrics ({', '.join(names)}) "
            f"VALUES ({', '.join([mark] * len(names))})"
        )
        rows = ((run_id, *(row[f] for f in fields)) for row in metric_rows(result))
        for chunk in _chunks(rows, CHUNK):
            conn.exec_driver_sql(sql, chunk)

    # -- reading ----------------------------------------------------------------------------

    @staticmethod
    def _run(row: Any) -> RecordedRun:
        data = dict(row._mapping)
        data["engine"] = json.loads(data["engine"])
        return RecordedRun.model_validate(data)

    def _run_by_digest(self, report_sha: str) -> RecordedRun:
        with self._tx(write=False) as conn:
            row = conn.execute(sa.select(runs_t).where(runs_t.c.report_sha256 == report_sha)).one()
        return self._run(row)

    def list_runs(
        self, *, audit_id: str | None = None, limit: int | None = None
    ) -> list[RecordedRun]:
        """Return recorded runs, newest first, of one audit or of all."""
        query = sa.select(runs_t).order_by(runs_t.c.finished_at.desc(), runs_t.c.id.desc())
        if audit_id is not None:
            query = query.where(runs_t.c.audit_id == audit_id)
        if limit is not None:
            query = query.limit(limit)
        with self._tx(write=False) as conn:
            return [self._run(row) for row in conn.execute(query)]

    def audit_ids(self) -> list[str]:
        """Return the ids of the audits with a recorded run, in name order."""
        with self._tx(write=False) as conn:
            return sorted(conn.execute(sa.select(runs_t.c.audit_id).distinct()).scalars())

    def check_audit(self, audit_id: str) -> None:
        """Raise unless ``audit_id`` has a recorded run (a mistyped ``--audit``).

        Raises:
            HistoryError: no run of that audit, naming the audits recorded.
        """
        known = self.audit_ids()
        if audit_id not in known:
            raise HistoryError(
                f"no recorded run of audit {audit_id!r} in {self.url}"
                + did_you_mean(audit_id, known),
                hint=f"recorded audits: {', '.join(known)}" if known else _LIST_HINT,
            )

    def get_run(self, run_id: int, *, metrics: bool = True) -> RunDetail:
        """Return a recorded run with its rules and (with ``metrics``) its group metrics.

        Raises:
            HistoryError: no run has this id.
        """
        if not -(2**63) <= run_id < 2**63:  # no BIGINT holds it: SQLite could not bind it
            raise HistoryError(f"no recorded run {run_id} in {self.url}", hint=_LIST_HINT)
        with self._tx(write=False) as conn:
            row = conn.execute(sa.select(runs_t).where(runs_t.c.id == run_id)).one_or_none()
            if row is None:
                raise HistoryError(f"no recorded run {run_id} in {self.url}", hint=_LIST_HINT)
            rules = [
                _rule(r)
                for r in conn.execute(
                    sa.select(rules_t).where(rules_t.c.run_id == run_id).order_by(rules_t.c.rule_id)
                )
            ]
            rows = []
            if metrics:
                query = (
                    sa.select(metrics_t)
                    .where(metrics_t.c.run_id == run_id)
                    .order_by(metrics_t.c.rule_id, metrics_t.c.group_key, metrics_t.c.metric)
                )
                for m in conn.execute(query):
                    data = dict(m._mapping)
                    del data["run_id"]
                    data["group"] = json.loads(data.pop("group_key"))
                    rows.append(MetricRow.model_validate(data))
        return RunDetail(run=self._run(row), rules=rules, metrics=rows)

    def trend(
        self,
        rule_id: str,
        *,
        metric: str | None = None,
        groups: Sequence[Mapping[str, str]] = (),
        audit_id: str | None = None,
    ) -> TrendResult:
        """Return ``rule_id``'s ``metric`` per group across recorded runs, oldest first.

        ``metric`` defaults to the first metric the rule asserts on (in its latest run), else
        the first in name order that has ratios, else the first. ``groups`` keeps the groups
        matching any one filter (``{"sex": "Female"}``). Without ``audit_id`` the rule's runs
        must all be of one audit: runs of different audits (another spec, other evidence) are
        not one series.

        Raises:
            HistoryError: the rule, the metric or the groups are not in any recorded run; or,
                without ``audit_id``, runs of several audits record the rule.
        """
        if audit_id is not None:
            self.check_audit(audit_id)
        with self._tx(write=False) as conn:
            rule_runs = sa.select(rules_t.c.run_id).where(rules_t.c.rule_id == rule_id)
            if audit_id is not None:
                rule_runs = rule_runs.join(runs_t, runs_t.c.id == rules_t.c.run_id).where(
                    runs_t.c.audit_id == audit_id
                )
            if conn.execute(rule_runs.limit(1)).first() is None:
                query_rules = sa.select(rules_t.c.rule_id).distinct()
                if audit_id is not None:
                    query_rules = query_rules.join(runs_t, runs_t.c.id == rules_t.c.run_id).where(
                        runs_t.c.audit_id == audit_id
                    )
                known = sorted(set(conn.execute(query_rules).scalars()))
                runs_of = "" if audit_id is None else f" of audit {audit_id!r}"
                raise HistoryError(
                    f"no recorded run{runs_of} has rule {rule_id!r}" + did_you_mean(rule_id, known),
                    hint=f"recorded rules{runs_of}: {', '.join(known)}" if known else _LIST_HINT,
                )
            if audit_id is None:
                audits = sorted(
                    conn.execute(
                        sa.select(runs_t.c.audit_id)
                        .join(rules_t, rules_t.c.run_id == runs_t.c.id)
                        .where(rules_t.c.rule_id == rule_id)
                        .distinct()
                    ).scalars()
                )
                if len(audits) > 1:
                    raise HistoryError(
                        f"rule {rule_id!r} is recorded by runs of {len(audits)} audits "
                        f"({', '.join(audits)}): their evidence differs, so one trend would "
                        "mix them",
                        hint=f"choose one with --audit ID, e.g. --audit {audits[0]}",
                    )
            of_audit = [] if audit_id is None else [runs_t.c.audit_id == audit_id]
            names = conn.execute(
                sa.select(metrics_t.c.metric, sa.func.count(metrics_t.c.ratio))
                .join(runs_t, runs_t.c.id == metrics_t.c.run_id)
                .where(metrics_t.c.rule_id == rule_id, *of_audit)
                .group_by(metrics_t.c.metric)
                .order_by(metrics_t.c.metric)
            ).all()
            available = [name for name, _ in names]
            if metric is None:
                if not available:
                    raise HistoryError(f"rule {rule_id!r} has no group metrics in any run")
                latest = conn.execute(
                    sa.select(rules_t.c.assertions)
                    .join(runs_t, runs_t.c.id == rules_t.c.run_id)
                    .where(rules_t.c.rule_id == rule_id, *of_audit)
                    .order_by(runs_t.c.finished_at.desc(), runs_t.c.id.desc())
                    .limit(1)
                ).scalar_one()
                asserted = [a["metric"] for a in json.loads(latest) if a["metric"] in available]
                with_ratio = [name for name, count in names if count]
                metric = (asserted or with_ratio or available)[0]
            elif metric not in available:
                raise HistoryError(
                    f"rule {rule_id!r} has no recorded metric {metric!r}",
                    hint=f"use --metric with one of: {', '.join(available) or '(none)'}",
                )
            m, r = metrics_t.c, runs_t.c
            query = (
                sa.select(
                    m.run_id,
                    r.finished_at,
                    rules_t.c.status,
                    m.group_key,
                    m.value,
                    m.low,
                    m.high,
                    m.ratio,
                    m.ratio_low,
                    m.ratio_high,
                    m.p_value,
                    m.n,
                )
                .join(runs_t, r.id == m.run_id)
                .join(
                    rules_t, sa.and_(rules_t.c.run_id == m.run_id, rules_t.c.rule_id == m.rule_id)
                )
                .where(m.rule_id == rule_id, m.metric == metric)
                .order_by(r.finished_at, m.run_id, m.group_key)
            )
            if audit_id is not None:
                query = query.where(r.audit_id == audit_id)
            points = []
            others: dict[str, None] = {}  # the groups --group left out, to name when none match
            for row in conn.execute(query):
                group = json.loads(row.group_key)
                if not _matches(group, groups):
                    others.update(dict.fromkeys(f"{k}={v}" for k, v in sorted(group.items())))
                    continue
                data = dict(row._mapping)
                data["group"] = group
                del data["group_key"]
                points.append(TrendPoint.model_validate(data))
        if groups and not points:
            wanted = [f"{k}={v}" for g in groups for k, v in g.items()]
            known = sorted(others)
            shown = ", ".join(known[:20]) + (
                f" and {len(known) - 20} more" if len(known) > 20 else ""
            )
            raise HistoryError(
                f"no group of rule {rule_id!r} matches --group "
                + " or ".join(",".join(f"{k}={v}" for k, v in g.items()) for g in groups)
                + (did_you_mean(wanted[0], known) if len(wanted) == 1 else ""),
                hint=(f"recorded groups include {shown}; " if known else "")
                + "`ethicsgate history show RUN` lists each run's groups",
            )
        return TrendResult(rule_id=rule_id, metric=metric, points=points)
