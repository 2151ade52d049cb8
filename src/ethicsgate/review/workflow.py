"""The review queue's part of an audit, and opening the store from settings.

Callable the same way from the CLI, a Python program or a web app: nothing here prints, prompts
or exits. :class:`AuditReviewStep` wraps an audit run: :meth:`~AuditReviewStep.prepare` before
it (with ``enqueue``, every reviewed rule lists all its findings), :meth:`~AuditReviewStep.finish`
after it (enqueue them, cut the report back to each rule's ``max_findings``, attach the queue's
state to the result).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from ethicsgate.errors import ReviewError

if TYPE_CHECKING:
    from ethicsgate.audit.findings import FindingsFile
    from ethicsgate.audit.result import AuditResult
    from ethicsgate.audit.spec import LoadedAudit
    from ethicsgate.policy.models import PolicyPack
    from ethicsgate.review.store import ReviewStore

__all__ = [
    "AuditReviewStep",
    "audit_review_step",
    "open_review_store",
    "parse_lease",
    "review_actor",
]


def parse_lease(text: str) -> timedelta:
    """Return the claim lease ``text`` (e.g. ``15m``) as a duration.

    Raises:
        ReviewError: the text is not a duration, or not longer than zero.
    """
    from ethicsgate.policy.fields import parse_duration

    try:
        duration = parse_duration(text)
    except ValueError as exc:
        raise ReviewError(f"bad lease {text!r}: {exc}") from exc
    if duration.total_seconds() <= 0:
        raise ReviewError(f"bad lease {text!r}: it must be longer than 0s")
    return duration


def open_review_store(
    db_url: str | None = None,
    lease: str | None = None,
    *,
    pool_size: int = 2,
    create: bool = True,
) -> ReviewStore:
    """Open the review store at ``db_url``, else ``ETHICSGATE_DB_URL``, else the default file.

    ``lease`` defaults to ``ETHICSGATE_REVIEW_LEASE``; ``pool_size``: PostgreSQL connections
    kept open (a web server serves requests on several threads); ``create``: False for a
    command that only reads (a missing store is an error, nothing is made or migrated).

    Raises:
        ReviewError: the URL or the lease is bad, or the database cannot be opened; with
            ``create`` False, there is no store there.
    """
    from ethicsgate.review.store import open_store
    from ethicsgate.settings import load_settings

    settings = load_settings()
    duration = parse_lease(lease or settings.review_lease)
    return open_store(db_url or settings.db_url, lease=duration, pool_size=pool_size, create=create)


def review_actor(actor: str | None = None, *, given: str = "--as") -> str:
    """Return who acts on the queue: ``actor``, else ``ETHICSGATE_REVIEWER``, else the OS user.

    The name is recorded in the decision log as given, less surrounding whitespace.

    Raises:
        ReviewError: ``actor`` is given but blank (``--as "$REVIEWER"`` with the variable
            unset): acting as the OS user instead would sign the log with a name nobody chose.
            A blank ``ETHICSGATE_REVIEWER`` counts as unset, as empty variables usually do.
            Or the name is longer than the log takes (``MAX_ACTOR`` characters).
    """
    from ethicsgate.review.store import checked_actor, default_reviewer
    from ethicsgate.settings import load_settings

    if actor is not None:
        blank_hint = (  # a blank --as (actor= in Python): leaving it out is the other way
            f"give {given} the reviewer's name (or leave it out to act as ETHICSGATE_REVIEWER "
            "or your OS user)"
        )
        return checked_actor(actor, given=given, hint=None if actor.strip() else blank_hint)
    setting = (load_settings().reviewer or "").strip()
    if setting:
        return checked_actor(setting, given="ETHICSGATE_REVIEWER")
    return default_reviewer()


class AuditReviewStep:
    """What an audit does for the review queue around its run.

    With ``enqueue`` every finding goes to the queue: the failing groups of fairness rules and
    every violating record of the record-level rules, read from ``findings.parquet`` (the
    session collects it while the audit runs), however many. The report is not changed by
    enqueueing beyond the queue's state.
    """

    def __init__(self, store: ReviewStore, *, enqueue: bool, actor: str | None = None) -> None:
        """Wrap ``store``; with ``enqueue`` the findings are added to it, as ``actor``."""
        self.store = store
        self.enqueue = enqueue
        self.actor = actor
        self._pack: PolicyPack | None = None

    def prepare(self, spec: Path | str | LoadedAudit) -> Path | str | LoadedAudit:
        """Return what to run: the spec, loaded (with ``enqueue``, to know its policy).

        Raises:
            AuditSpecError, PolicyError: the spec or its policy is wrong (with ``enqueue``).
        """
        if not self.enqueue:
            return spec
        from ethicsgate.audit.spec import LoadedAudit, load_audit_spec

        loaded = spec if isinstance(spec, LoadedAudit) else load_audit_spec(spec)
        self._pack = loaded.policy.pack
        return loaded

    def finish(
        self,
        result: AuditResult,
        *,
        now: datetime | None = None,
        findings: FindingsFile | Path | bytes | None = None,
    ) -> AuditResult:
        """Enqueue the findings (with ``enqueue``); return the result with the queue's state.

        ``now`` (default: the current time) sets the new items' due times; ``findings``: the
        bytes of ``findings.parquet``, every record-level finding (without it, the findings
        the result lists). The store is closed afterwards.
        """
        from ethicsgate.audit.result import ReviewRuleSummary, ReviewSummary
        from ethicsgate.review.enqueue import enqueue, item_batches

        added = existing = 0
        with self.store as store:
            if self.enqueue:
                if self._pack is None:
                    raise RuntimeError("AuditReviewStep.finish called before prepare")
                when = now if now is not None else datetime.now(UTC)
                actor = review_actor(self.actor, given="actor= of AuditReviewStep")
                for items in item_batches(result, self._pack, now=when, findings=findings):
                    outcome = enqueue(store, items, actor=actor)
                    added, existing = added + outcome.added, existing + outcome.existing
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


def audit_review_step(*, enqueue: bool, db_url: str | None = None) -> AuditReviewStep | None:
    """Open the review store of an audit, or return None when none is configured.

    A store is configured by ``enqueue``, ``db_url`` or ``ETHICSGATE_DB_URL``; it is opened
    now, before the scan, so a bad URL fails fast. Without ``enqueue`` the report only shows
    the queue's state: a store that does not exist yet is not made (None: no queue state).

    Raises:
        ReviewError: the URL or the lease is bad, or the database cannot be opened.
    """
    from ethicsgate.settings import load_settings

    url = db_url or load_settings().db_url
    if not (enqueue or url):
        return None
    if enqueue:
        return AuditReviewStep(open_review_store(url), enqueue=True)
    from ethicsgate.review.store import NoReviewStore

    try:  # only the queue's state is read: a store is not made for that
        return AuditReviewStep(open_review_store(url, create=False), enqueue=False)
    except NoReviewStore:
        return None
