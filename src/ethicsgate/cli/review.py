"""``ethicsgate review``: list, claim, decide, release and export review items; verify the log."""

from __future__ import annotations

import functools
import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ethicsgate.cli._options import (
    actor_option,
    db_option,
    format_option,
    lease_option,
    out_file_option,
)
from ethicsgate.cli._output import echo, secho, style

if TYPE_CHECKING:
    from ethicsgate.review import ReviewItem, ReviewStore
    from ethicsgate.review.export import ExportFormat

__all__ = ["review"]

F = TypeVar("F", bound=Callable[..., Any])

_FORMAT = format_option("Print for people, or as JSON.")


def _store_options(func: F) -> F:
    """Add --db, --as and --lease to a review command."""
    store = db_option(
        "Review store: sqlite:///path.db or postgresql://user@host/db "
        "[env: ETHICSGATE_DB_URL; default: sqlite:///.ethicsgate/review.db]."
    )
    for option in (lease_option(), actor_option(), store):  # innermost first
        func = option(func)
    return func


def _open(db_url: str | None, lease: str | None, *, create: bool = True) -> ReviewStore:
    """Open the store; ``create`` False for commands that only read (a missing store exits 2)."""
    from ethicsgate.review.workflow import open_review_store

    return open_review_store(db_url, lease, create=create)


def _actor(actor: str | None) -> str:
    from ethicsgate.review.workflow import review_actor

    return review_actor(actor)


def _dump(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))


def _line(item: ReviewItem) -> list[str]:
    """Return one item's line as parts for :func:`echo` (the OVERDUE mark styled)."""
    late = style(" OVERDUE", fg="red") if item.overdue else ""
    who = f" [{item.assignee}]" if item.assignee else ""
    outcome = f" → {item.outcome.value}" if item.outcome else ""
    fields = item.fields
    why = item.reason
    if fields.get("summary") and fields.get("requirement"):  # a fairness item: the number
        observed = fields.get("observed") or "undefined"
        why += f" ({fields.get('metric')} {observed}, required {fields['requirement']})"
    return [
        f"#{item.id:<6} {item.status.value:9} due {item.due_at[:16]}Z",
        late,
        f" {item.rule_id} {item.record_id}: {why}{who}{outcome}",
    ]


def _show(item: ReviewItem) -> None:
    echo(*_line(item))
    echo(
        f"  policy {item.policy_id} {item.policy_version} · audit {item.audit_id} · "
        f"severity {item.severity} · created {item.created_at}"
    )
    from ethicsgate.review.fairness import FAIRNESS_FIELDS

    summary = item.fields.get("summary")
    if summary:  # a fairness item says what failed in words first, then its numbers in order
        echo(textwrap.fill(summary, width=100, initial_indent="  ", subsequent_indent="  "))
    order = {name: index for index, name in enumerate(FAIRNESS_FIELDS)}
    for name in sorted(item.fields, key=lambda n: order.get(n, -1)):  # stable: features first
        if name != "summary":
            value = item.fields[name]
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


@click.group()
def review() -> None:
    """Work the human review queue that `ethicsgate audit --enqueue` fills.

    \b
    Items go open → claimed → decided (or escalated); a claim lapses after its lease.
    Every change is appended to a hash-chained decision log (`review verify-log`).
    """  # noqa: D301 - click reads \b (a backspace) as "keep these lines"


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


def _unknown_filters(
    store: ReviewStore, audit_id: str | None, rule_id: str | None, assignee: str | None
) -> list[str]:
    """Return what to say of an --audit, --rule or --assignee no item has (not an error)."""
    notes = [store.unknown_audit(audit_id)] if audit_id is not None else []
    notes += [store.unknown_rule(rule_id)] if rule_id is not None else []
    notes += [store.unknown_assignee(assignee)] if assignee is not None else []
    return [note for note in notes if note is not None]


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
    with _open(db_url, lease, create=False) as store:
        items = store.list_items(
            status=status,
            rule_id=rule_id,
            assignee=assignee,
            audit_id=audit_id,
            overdue=overdue,
            limit=limit,
        )
        notes = _unknown_filters(store, audit_id, rule_id, assignee) if not items else []
    for note in notes:  # a mistyped --audit, --rule or --assignee looks like one with no item
        echo(f"note: {note}", err=True)
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
    with _open(db_url, lease, create=False) as store:
        _emit(store.get(item_id), fmt)


_ESCALATED = click.option(
    "--escalated",
    is_flag=True,
    help="Take the most urgent escalated item instead of an open one (approvers).",
)


@review.command()
@click.argument("item_id", metavar="[ITEM]", type=int, required=False)
@_ESCALATED
@_FORMAT
@_store_options
def claim(
    item_id: int | None,
    escalated: bool,
    fmt: str,
    db_url: str | None,
    actor: str | None,
    lease: str | None,
) -> None:
    """Claim the most urgent open item (or ITEM) for yourself, atomically."""
    if escalated and item_id is not None:
        raise click.UsageError("give ITEM or --escalated, not both: an item is claimed by its id")
    with _open(db_url, lease) as store:
        _emit(
            store.claim(_actor(actor), item_id, next_escalated=escalated),
            fmt,
            "nothing to claim: "
            + ("no escalated item is waiting" if escalated else "the queue is empty"),
        )


@review.command()
@click.argument("item_id", metavar="ITEM", type=int)
@click.option(
    "--outcome",
    type=click.Choice(["confirmed", "dismissed", "escalated"]),
    required=True,
    help="confirmed: the finding stands; dismissed: it does not (needs --note); escalated.",
)
@click.option("--note", help="Why (at most 4,000 characters); required for a dismissal.")
@click.option(
    "--next",
    "claim_next",
    is_flag=True,
    help="Also claim the most urgent open item, in the same transaction, and show it.",
)
@_ESCALATED
@_FORMAT
@_store_options
def decide(
    item_id: int,
    outcome: str,
    note: str | None,
    claim_next: bool,
    escalated: bool,
    fmt: str,
    db_url: str | None,
    actor: str | None,
    lease: str | None,
) -> None:
    """Decide ITEM, which you have claimed.

    With --next, the next item is claimed in the same transaction: both are made, or neither
    (with --escalated, the next escalated item).
    """
    if escalated and not claim_next:
        raise click.UsageError("--escalated says which item to claim next: add --next")
    with _open(db_url, lease) as store:
        if not claim_next:
            _emit(store.decide(item_id, actor=_actor(actor), outcome=outcome, note=note), fmt)
            return
        decided, following = store.decide_and_claim_next(
            item_id, actor=_actor(actor), outcome=outcome, note=note, next_escalated=escalated
        )
    if fmt == "json":
        _dump(
            {
                "decided": decided.model_dump(mode="json"),
                "next": following.model_dump(mode="json") if following is not None else None,
            }
        )
        return
    echo(*_line(decided))
    empty = "no escalated item is waiting" if escalated else "the queue is empty"
    _emit(following, fmt, f"nothing more to claim: {empty}")


@review.command()
@click.argument("item_id", metavar="ITEM", type=int)
@_FORMAT
@_store_options
def release(
    item_id: int, fmt: str, db_url: str | None, actor: str | None, lease: str | None
) -> None:
    """Give ITEM, which you have claimed, back to the queue undecided."""
    with _open(db_url, lease) as store:
        _emit(store.release(item_id, actor=_actor(actor)), fmt)


@review.command()
@format_option(
    "JSON array, one JSON object per line, or CSV (fields as a JSON column).",
    choices=("json", "jsonl", "csv"),
    default="json",
)
@click.option("--log", "what", flag_value="log", help="Export the decision log, not the items.")
@out_file_option("Write to this file (atomically) instead of standard output.")
@_item_filters
@_store_options
def export(
    fmt: ExportFormat,
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
    from ethicsgate.review.export import export_items, export_log, write_export

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
    with _open(db_url, lease, create=False) as store:
        if what == "log":
            exported = export_log(store, fmt)
        else:
            exported = export_items(
                store,
                fmt,
                status=status,
                rule_id=rule_id,
                assignee=assignee,
                audit_id=audit_id,
                overdue=overdue,
                limit=limit,
            )
        empty = what != "log" and exported.rows == 0
        notes = _unknown_filters(store, audit_id, rule_id, assignee) if empty else []
    for note in notes:  # a mistyped --audit, --rule or --assignee looks like one with no item
        echo(f"note: {note}", err=True)
    if out is None:
        click.echo(exported.text, nl=False)
        return
    write_export(out, exported)
    echo(f"wrote {exported.rows} row(s) to {out}", err=True)


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

    with _open(db_url, lease, create=False) as store:
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
