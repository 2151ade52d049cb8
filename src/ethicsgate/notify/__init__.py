"""Alerts: post an audit's failing rules and groups to Slack, Teams or a generic webhook.

``resolve_targets`` reads ``--notify`` URLs and the spec's ``notify:`` (``${VAR}`` from the
environment); ``notify`` posts, retrying with exponential back-off, and returns outcomes: a
failed notification never raises and never changes an audit's exit code.
"""

from __future__ import annotations

from ethicsgate.notify.message import build_payload, failing_rules, has_problems
from ethicsgate.notify.send import NotifyOutcome, notify, post_json
from ethicsgate.notify.targets import (
    NotifyTarget,
    guess_format,
    redact_url,
    resolve_targets,
)

__all__ = [
    "NotifyOutcome",
    "NotifyTarget",
    "build_payload",
    "failing_rules",
    "guess_format",
    "has_problems",
    "notify",
    "post_json",
    "redact_url",
    "resolve_targets",
]
