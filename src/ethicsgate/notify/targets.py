"""Notification targets: resolve ``${VAR}`` in webhook URLs, and show URLs without secrets."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from ethicsgate.errors import Location, NotifyError

__all__ = ["Format", "NotifyTarget", "guess_format", "redact_url", "resolve_targets"]

Format = Literal["slack", "teams", "generic"]
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_FORMATS: tuple[Format, ...] = ("slack", "teams", "generic")


@dataclass(frozen=True)
class NotifyTarget:
    """A webhook to post to: the URL (secret), how it is shown, the message format, retries."""

    url: str
    """The resolved URL, with any secret in it: only ever sent, never shown."""
    shown: str
    """The URL as messages show it: ``${VAR}`` names, or scheme and host with the rest hidden."""
    format: Format = "generic"
    when: Literal["problems", "always"] = "problems"
    tries: int = 3
    timeout: float = 10.0


def redact_url(url: str) -> str:
    """Return ``url`` with what may be a secret hidden: user info, path tokens, query, fragment.

    Webhook URLs carry their secret in the path (Slack's ``/services/T/B/XXXX``, Teams'
    ``/workflows/.../sig=...``) or the query, so only the scheme, host and port are kept.
    """
    if _VAR.fullmatch(url.strip()):
        return url.strip()
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        return "<url hidden>"
    host = parts.hostname + (f":{parts.port}" if _port(parts.netloc) else "")
    hidden = "/…" if (parts.path.strip("/") or parts.query or parts.fragment) else ""
    return f"{parts.scheme}://{host}{hidden}"


def _port(netloc: str) -> bool:
    host = netloc.rsplit("@", 1)[-1]
    return ":" in host.rsplit("]", 1)[-1]


def guess_format(url: str) -> Format:
    """Return the message format a webhook URL's host suggests (generic when unknown)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "hooks.slack.com":
        return "slack"
    if host.endswith((".webhook.office.com", ".logic.azure.com", ".powerplatform.com")):
        return "teams"
    return "generic"


def _expand(template: str, env: Mapping[str, str], where: str, location: Location | None) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env or not env[name]:
            raise NotifyError(
                f"{where}: the webhook URL uses ${{{name}}}, which is not set",
                location=location,
                hint=f"export {name}=<the webhook URL> (e.g. from your CI secrets), or drop "
                "the notification",
            )
        return env[name]

    return _VAR.sub(value, template)


def resolve_targets(
    cli_urls: Sequence[str] = (),
    spec_targets: Sequence[Mapping[str, object]] = (),
    *,
    env: Mapping[str, str] | None = None,
    spec_locations: Sequence[Location] = (),
) -> list[NotifyTarget]:
    """Return the targets of ``--notify URL`` options and the spec's ``notify:`` entries.

    A ``--notify`` URL may start with ``slack:``, ``teams:`` or ``generic:`` to set the format;
    otherwise it is guessed from the host. ``${VAR}`` is replaced from ``env`` (the process's).
    ``spec_locations``: where each ``notify:`` entry's URL is in the audit spec, for errors.

    Raises:
        NotifyError: a ``${VAR}`` is unset, or a URL is not http(s) with a host (the message
            shows the URL redacted).
    """
    env = os.environ if env is None else env
    targets = []
    entries: list[tuple[str, Mapping[str, object], Location | None]] = []
    for raw in cli_urls:
        fmt: str | None = None
        head, sep, rest = raw.partition(":")
        if sep and head in _FORMATS and not rest.startswith("//"):
            fmt, raw = head, rest
        entries.append(("--notify", {"url": raw, "format": fmt}, None))
    locations = list(spec_locations)
    entries.extend(
        ("notify:", entry, locations[i] if i < len(locations) else None)
        for i, entry in enumerate(spec_targets)
    )
    for where, entry, location in entries:
        template = str(entry["url"])
        shown = redact_url(template)
        url = _expand(template, env, f"{where} {shown}", location)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise NotifyError(
                f"{where} {shown}: not an http(s) URL with a host",
                location=location,
                hint="give the webhook's full URL, e.g. https://hooks.slack.com/services/…",
            )
        if not _VAR.fullmatch(template.strip()):
            shown = redact_url(url)
        fmt_value = entry.get("format") or guess_format(url)
        targets.append(
            NotifyTarget(
                url=url,
                shown=shown,
                format=fmt_value,  # type: ignore[arg-type]
                when=entry.get("when", "problems"),  # type: ignore[arg-type]
                tries=int(entry.get("tries", 3)),  # type: ignore[call-overload]
                timeout=float(entry.get("timeout", 10.0)),  # type: ignore[arg-type]
            )
        )
    return targets
