"""Post notifications with retries; a failure is an outcome, never an exception.

The standard library's ``urllib`` posts them: one small JSON POST per target needs no
connection pool or HTTP/2, and keeps notifying free of a runtime dependency and of import cost
(httpx is only a dev extra).
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit, urlunsplit

from ethicsgate.notify.message import build_payload, has_problems

if TYPE_CHECKING:
    from ethicsgate.audit.result import AuditResult
    from ethicsgate.notify.targets import NotifyTarget

__all__ = ["BACKOFF", "NotifyOutcome", "notify", "post_json"]

#: Seconds before the second try; doubled before each later one.
BACKOFF = 0.5
_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class NotifyOutcome:
    """What happened to one notification (the URL shown redacted)."""

    target: str
    format: str
    sent: bool
    attempts: int
    status: int | None = None
    error: str | None = None
    skipped: bool = False


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Follow no redirect: urllib turns a redirected POST into a GET without the message.

    A 301 from a moved webhook then answered 200 to the GET, and the message, never
    delivered, was reported as sent.
    """

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _split_credentials(url: str) -> tuple[str, str | None]:
    """Return ``url`` without its user info, and the Basic ``Authorization`` value it held.

    urllib does not read ``user:password@`` itself: left in, it becomes part of the host name
    to look up. The user and password are percent-decoded, as RFC 3986 encodes them.
    """
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    token = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode("ascii")
    return urlunsplit(parts._replace(netloc=hostport)), f"Basic {token}"


def post_json(
    url: str,
    body: bytes,
    *,
    tries: int,
    timeout: float,
    backoff: float | None = None,
    sleep: Callable[[float], None] | None = None,
) -> tuple[bool, int, int | None, str | None]:
    """POST ``body`` as JSON; retry timeouts, connection errors, 408/425/429 and 5xx.

    The waits before tries 2, 3, ... are ``backoff`` (default :data:`BACKOFF`) seconds,
    doubling each time. Returns (sent, attempts, last HTTP status, last error). Errors never
    name the URL. A ``user:password@`` in the URL is sent as an HTTP Basic ``Authorization``
    header (percent-decoded), not as part of the host.
    """
    backoff = BACKOFF if backoff is None else backoff
    sleep = time.sleep if sleep is None else sleep
    url, authorization = _split_credentials(url)
    status: int | None = None
    error: str | None = None
    for attempt in range(1, tries + 1):
        if attempt > 1:
            sleep(backoff * 2 ** (attempt - 2))
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "ethicsgate"},
        )
        if authorization:
            # unredirected: a redirect to another host must not carry the credentials along
            request.add_unredirected_header("Authorization", authorization)
        try:
            with _OPENER.open(request, timeout=timeout) as response:
                status = response.status
                return True, attempt, status, None
        except urllib.error.HTTPError as exc:
            status, error = exc.code, f"HTTP {exc.code}"
            if 300 <= exc.code < 400:
                # the new address may hold a secret too: not shown
                error += " (a redirect, not followed: it would drop the message; give the "
                error += "webhook's new URL)"
            if exc.code not in _RETRY_STATUS:
                return False, attempt, status, error
        except TimeoutError:
            status, error = None, f"no answer within {timeout:g} s"
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError):
                status, error = None, f"no answer within {timeout:g} s"
            else:
                # the reason is an OSError (refused, no such host): its text holds no URL
                status, error = (
                    None,
                    f"cannot connect: {getattr(reason, 'strerror', None) or reason}",
                )
        except OSError as exc:
            status, error = None, f"connection failed: {exc.strerror or type(exc).__name__}"
    return False, tries, status, error


def notify(
    result: AuditResult,
    targets: Sequence[NotifyTarget],
    *,
    report: str | None = None,
    backoff: float | None = None,
    sleep: Callable[[float], None] | None = None,
) -> list[NotifyOutcome]:
    """Post the audit's outcome to every target that wants it; return what happened to each."""
    outcomes = []
    problems = has_problems(result)
    for target in targets:
        if target.when == "problems" and not problems:
            outcomes.append(NotifyOutcome(target.shown, target.format, False, 0, skipped=True))
            continue
        payload = build_payload(result, target.format, report=report)
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        sent, attempts, status, error = post_json(
            target.url,
            body,
            tries=target.tries,
            timeout=target.timeout,
            backoff=backoff,
            sleep=sleep,
        )
        outcomes.append(NotifyOutcome(target.shown, target.format, sent, attempts, status, error))
    return outcomes
