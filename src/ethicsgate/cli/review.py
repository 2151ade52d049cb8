"""``ethicsgate review``: list, claim, decide, release and export review items; verify the log."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ethicsgate.cli._output import echo, secho, style

if TYPE_CHECKING:
    from ethicsgate.audit.result import AuditResult
    from ethicsgate.review import ReviewItem, ReviewStore

__all__ = ["AuditReviewStep", "open_review_store", "prepare_audit_review", "review"]

F = TypeVar("F", bound=Callable[..., Any])

_FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Print for people, or as JSON.",
)


def _store_options(func: F) -> F:
    """Add --db, --as and --lease to a review command."""

    @click.option(
        "--db",
        "db_url",
        metavar="URL",
        help="Review store: sqlite:///path.db or postgresql://user@host/db "
        "[env: ETHICSGATE_DB_URL; default: sqlite:///.ethicsgate/review.db].",
    )
    @click.option(
        "--as",
        "actor",
        metavar="NAME",
        help="Reviewer name [env: ETHICSGATE_REVIEWER; default: the OS user].",
    )
    @click.option(
        "--lease",
        metavar="DURATION",
        help="How long a claim lasts, e.g. 15m [env: ETHICSGATE_REVIEW_LEASE; default: 15m].",
    )
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def open_review_store(db_url: str | None, lease: str | None = None) -> ReviewStore:
    """Open the review store from a flag or the settings.

    Raises:
        ReviewError: the URL or the lease is bad, or the database cannot be opened.
    """
    from ethicsgate.errors import ReviewError
    from ethicsgate.policy.fields import parse_duration
    from ethicsgate.review import open_store
    from ethicsgate.settings import Settings

    settings = Settings()
    text = lease or settings.review_lease
    try:
        duration = parse_duration(text)
    except ValueError as exc:
        raise ReviewError(f"bad lease {text!r}: {exc}") from exc
    if duration.total_seconds() <= 0:
        raise ReviewError(f"bad lease {text!r}: it must be longer than 0s")
    return open_store(db_url or settings.db_url, lease=duration)


def _actor(actor: str | None) -> str:
    from ethicsgate.review import default_reviewer
    from ethicsgate.settings import Settings

    return actor or Settings().reviewer or default_reviewer()


def _dump(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))


def _line(item: ReviewItem) -> list[str]:
    """Return one item's line as parts for :func:`echo` (the OVERDUE mark styled)."""
    late = style(" OVERDUE", fg="red") if item.overdue else ""
    who = f" [{item.assignee}]" if item.assignee else ""
    outcome = f" → {item.outcome.value}" if item.outcome else ""
    return [
        f"#{item.id:<6} {item.status.value:9} due {item.due_at[:16]}Z",
        late,
        f" {item.rule_id} {item.record_id}: {item.reason}{who}{outcome}",
    ]


def _show(item: ReviewItem) -> None:
    echo(*_line(item))
    echo(
        f"  policy {item.policy_id} {item.policy_version} · audit {item.audit_id} · "
        f"severity {item.severity} · created {item.created_at}"
    )
    for name, value in item.fields.items():
        echo(f"  {name}: {value if value is not None else '(missing)'}")
    if item.assignee:
        echo(f"  claimed by {item.assignee} until {item.lease_expires_at}")
    if item.outcome:
        echo(f"  {item.outcome.value} by {item.decided_by} at {item.decided_at}")
        if item.note:
            echo(f"  note: {item.note}")


def _emit(item: ReviewItem | None, fmt: str, empty: str = "") -> None:
    if fmt == "json":
        _dump(item.model_dump(mode="json") if item is not None else None)
    elif item is None:
        echo(empty)
    else:
        _show(item)


class AuditReviewStep:
    """What ``ethicsgate audit`` does for the review queue around its run (nothing without a store).

    With ``--enqueue`` the audit runs with every reviewed rule listing all its findings, so the
    queue gets all of them; the report is cut back to each rule's ``max_findings`` afterwards.
    """

    def __init__(self, spec: Path, store: ReviewStore | None, *, enqueue: bool) -> None:
        self.store = store
        self.enqueue = enqueue
        self._pack: Any = None
        self.audit: Any = spec
        if store is not None and enqueue:
            from ethicsgate.audit.spec import load_audit_spec
            from ethicsgate.review.enqueue import widen_findings

            loaded = load_audit_spec(spec)
            self._pack = loaded.policy.pack
            self.audit = widen_findings(loaded)

    def finish(self, result: AuditResult) -> AuditResult:
        """Enqueue the findings (with --enqueue) and attach the queue's state to the result."""
        if self.store is None:
            return result
        from datetime import UTC, datetime

        from ethicsgate.audit.result import ReviewRuleSummary, ReviewSummary
        from ethicsgate.review import enqueue, items_from_audit
        from ethicsgate.review.enqueue import narrow_findings

        added = existing = 0
        with self.store as store:
            if self.enqueue:
                items = items_from_audit(result, self._pack, now=datetime.now(UTC))
                outcome = enqueue(store, items, actor=_actor(None))
                added, existing = outcome.added, outcome.existing
                result = narrow_findings(result, self._pack)
            stats = store.stats(audit_id=result.audit.id)
            url = store.url
        rules = [
            ReviewRuleSummary(
                rule_id=s.rule_id,
                open=s.open + s.claimed,
                overdue=s.overdue,
                decided=s.decided,
                escalated=s.escalated,
                dismissed=s.dismissed,
            )
            for s in stats
        ]
        summary = ReviewSummary(store=url, enqueued=added, already_queued=existing, rules=rules)
        return result.model_copy(update={"review": summary})


def prepare_audit_review(spec: Path, *, enqueue: bool, db_url: str | None) -> AuditReviewStep:
    """Open the review store before the scan when one is configured (fails fast on a bad URL).

    A store is configured by ``--enqueue``, ``--db`` or ``ETHICSGATE_DB_URL``.
    """
    from ethicsgate.settings import Settings

    url = db_url or Settings().db_url
    store = open_review_store(url) if enqueue or url else None
    return AuditReviewStep(spec, store, enqueue=enqueue)


@click.group()
def review() -> None:
    """Work the human review queue that `ethicsgate audit --enqueue` fills.

    \b
    Items go open → claimed → decided (or escalated); a claim lapses after its lease.
    Every change is appended to a hash-chained decision log (`review verify-log`).
    """


def _item_filters(func: F) -> F:
    """Add the item filters that `list` and `export` share."""

    @click.option(
        "--status",
        type=click.Choice(["open", "claimed", "decided", "escalated"]),
        help="Only these.",
    )
    @click.option("--rule", "rule_id", help="Only items of this rule id.")
    @click.option("--assignee", help="Only items claimed by this reviewer.")
    @click.option("--audit", "audit_id", help="Only items of this audit id.")
    @click.option("--overdue", is_flag=True, help="Only undecided items past their due time.")
    @click.option("--limit", type=click.IntRange(min=1), help="At most this many items.")
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@review.command("list")
@_item_filters
@_FORMAT
@_store_options
def list_(
    status: str | None,
    rule_id: str | None,
    assignee: str | None,
    audit_id: str | None,
    overdue: bool,
    limit: int | None,
    fmt: str,
    db_url: str | None,
    actor: str | None,
    lease: str | None,
) -> None:
    """List review items, most urgent first."""
    with open_review_store(db_url, lease) as store:
        items = store.list_items(
            status=status,
            rule_id=rule_id,
            assignee=assignee,
            audit_id=audit_id,
            overdue=overdue,
            limit=limit,
        )
    if fmt == "json":
        _dump([item.model_dump(mode="json") for item in items])
        return
    for item in items:
        echo(*_line(item))
    echo(f"{len(items)} item(s)")


@review.command()
@click.argument("item_id", metavar="ITEM", type=int)
@_FORMAT
@_store_options
def show(item_id: int, fmt: str, db_url: str | None, actor: str | None, lease: str | None) -> None:
    """Show one review item with its evidence fields and decision."""
    with open_review_store(db_url, lease) as store:
        _emit(store.get(item_id), fmt)


@review.command()
@click.argument("item_id", metavar="[ITEM]", type=int, required=False)
@_FORMAT
@_store_options
def claim(
    item_id: int | None, fmt: str, db_url: str | None, actor: str | None, lease: str | None
) -> None:
    """Claim the most urgent open item (or ITEM) for yourself, atomically."""
    with open_review_store(db_url, lease) as store:
        _emit(store.claim(_actor(actor), item_id), fmt, "nothing to claim: the queue is empty")


@review.command()
@click.argument("item_id", metavar="ITEM", type=int)
@click.option(
    "--outcome",
    type=click.Choice(["confirmed", "dismissed", "escalated"]),
    required=True,
    help="confirmed: the finding stands; dismissed: it does not (needs --note); escalated.",
)
@click.option("--note", help="Why; required for a dismissal.")
@_FORMAT
@_store_options
def decide(
    item_id: int,
    outcome: str,
    note: str | None,
    fmt: str,
    db_url: str | None,
    actor: str | None,
    lease: str | None,
) -> None:
    """Decide ITEM, which you have claimed."""
    with open_review_store(db_url, lease) as store:
        _emit(store.decide(item_id, actor=_actor(actor), outcome=outcome, note=note), fmt)


@review.command()
@click.argument("item_id", metavar="ITEM", type=int)
@_FORMAT
@_store_options
def release(
    item_id: int, fmt: str, db_url: str | None, actor: str | None, lease: str | None
) -> None:
    """Give ITEM, which you have claimed, back to the queue undecided."""
    with open_review_store(db_url, lease) as store:
        _emit(store.release(item_id, actor=_actor(actor)), fmt)


@review.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "jsonl", "csv"]),
    default="json",
    show_default=True,
    help="JSON array, one JSON object per line, or CSV (fields as a JSON column).",
)
@click.option("--log", "what", flag_value="log", help="Export the decision log, not the items.")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to this file (atomically) instead of standard output.",
)
@_item_filters
@_store_options
def export(
    fmt: str,
    what: str | None,
    out: Path | None,
    status: str | None,
    rule_id: str | None,
    assignee: str | None,
    audit_id: str | None,
    overdue: bool,
    limit: int | None,
    db_url: str | None,
    actor: str | None,
    lease: str | None,
) -> None:
    """Export review items (or, with --log, the whole decision log)."""
    filters = {
        "status": status,
        "rule_id": rule_id,
        "assignee": assignee,
        "audit_id": audit_id,
        "overdue": overdue or None,
        "limit": limit,
    }
    given = [f"--{k.removesuffix('_id')}" for k, v in filters.items() if v is not None]
    if what == "log" and given:
        raise click.UsageError(
            f"--log exports the whole decision log; {', '.join(given)} filter items only "
            "(a part of the hash chain could not be verified on its own)"
        )
    with open_review_store(db_url, lease) as store:
        if what == "log":
            rows = [e.model_dump(mode="json") for e in store.log_entries()]
        else:
            rows = [
                i.model_dump(mode="json")
                for i in store.list_items(
                    status=status,
                    rule_id=rule_id,
                    assignee=assignee,
                    audit_id=audit_id,
                    overdue=overdue,
                    limit=limit,
                )
            ]
    text = _serialise(rows, fmt)
    if out is None:
        click.echo(text, nl=False)
        return
    from ethicsgate.report import write_files_atomically

    write_files_atomically(out.parent, {out.name: text.encode("utf-8")})
    echo(f"wrote {len(rows)} row(s) to {out}", err=True)


def _serialise(rows: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(rows, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if fmt == "jsonl":
        return "".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in rows)
    import csv
    import io

    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in row.items()}
            )
    return buffer.getvalue()


@review.command("verify-log")
@_FORMAT
@_store_options
@click.pass_context
def verify_log(
    ctx: click.Context, fmt: str, db_url: str | None, actor: str | None, lease: str | None
) -> None:
    """Check the decision log: hash chain intact, nothing edited, deleted or reordered.

    Exits 0 when the log is intact and agrees with the items, 1 when it does not.
    """
    from ethicsgate.cli import EXIT_FAILED, EXIT_OK

    with open_review_store(db_url, lease) as store:
        result = store.verify_log()
    if fmt == "json":
        _dump(result.model_dump(mode="json"))
    elif result.ok:
        secho(
            f"✔ decision log intact: {result.entries} entries, {result.items} items, "
            f"head {result.head}",
            fg="green",
        )
    else:
        secho(f"✘ decision log does not verify ({len(result.problems)} problem(s)):", fg="red")
        for problem in result.problems[:50]:
            echo(f"  {problem}")
        if len(result.problems) > 50:
            echo(f"  … and {len(result.problems) - 50} more")
    ctx.exit(EXIT_OK if result.ok else EXIT_FAILED)
