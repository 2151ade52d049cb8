"""Who is asking: browser sessions, API tokens, a trusted proxy's header; CSRF and rate limits.

- A browser signs in with a password (``POST /login``) and gets a fresh random session id in
  an HttpOnly, SameSite=Lax cookie (Secure over HTTPS); the server keeps only its hash. Every
  state-changing form carries the session's CSRF token, compared in constant time.
- The login form itself carries a token signed with the server's secret (itsdangerous) that
  must equal the ``eg_login`` cookie (double submit), so a third-party page cannot sign a
  visitor in as someone else.
- The JSON API takes ``Authorization: Bearer egt_...`` (``ethicsgate users token NAME``).
- With ``--trusted-proxy-header X-Forwarded-User``, a request from a trusted proxy address
  carrying that header is that user (who must exist, with a role); from anywhere else the
  header is ignored.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import time
from collections import deque
from dataclasses import dataclass

from starlette.requests import Request

__all__ = [
    "LOGIN_COOKIE",
    "SESSION_COOKIE",
    "Identity",
    "LoginLimiter",
    "TrustedProxies",
    "same_token",
]

SESSION_COOKIE = "eg_session"
LOGIN_COOKIE = "eg_login"


@dataclass(frozen=True)
class Identity:
    """The authenticated caller: name and role, how they signed in, their CSRF token."""

    name: str
    role: str
    auth: str  # "password" | "token" | "proxy"
    csrf: str | None = None
    session_id: str | None = None
    new_session: bool = False  # a session started by this request (proxy mode): set its cookie

    def can(self, permission: str) -> bool:
        """Return whether the role has ``permission`` (read, decide, approve, admin)."""
        from ethicsgate.review.users import can

        return can(self.role, permission)

    def log_identity(self) -> dict[str, str]:
        """Return what the decision log records about how this caller authenticated."""
        return {"auth": self.auth, "role": self.role, "via": "web"}


def same_token(given: str | None, expected: str | None) -> bool:
    """Return whether a submitted token equals the expected one (constant time)."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class TrustedProxies:
    """The addresses whose identity and scheme headers are believed."""

    def __init__(self, networks: list[str]) -> None:
        """Parse ``networks`` (addresses or CIDR ranges)."""
        self.networks = [ipaddress.ip_network(n, strict=False) for n in networks]

    def trusts(self, request: Request) -> bool:
        """Return whether the request's peer (not a forwarded address) is a trusted proxy."""
        peer = request.client.host if request.client else None
        if not peer:
            return False
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self.networks)


class LoginLimiter:
    """Failed sign-ins, limited per user name and per client address.

    At most ``per_name`` failures per name and ``per_address`` per address in ``window``
    seconds; then sign-ins from there wait (HTTP 429 with Retry-After).
    """

    def __init__(self, *, per_name: int = 5, per_address: int = 20, window: float = 300) -> None:
        """Set the limits."""
        self.per_name, self.per_address, self.window = per_name, per_address, window
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def retry_after(self, name: str, address: str) -> int:
        """Return the seconds to wait before another attempt, 0 when one is allowed now."""
        now = time.monotonic()
        wait = 0.0
        for key, limit in (
            (f"n:{name.lower()}", self.per_name),
            (f"a:{address}", self.per_address),
        ):
            times = self._recent(key, now)
            if len(times) >= limit:
                wait = max(wait, times[0] + self.window - now)
        return int(wait) + 1 if wait > 0 else 0

    def failed(self, name: str, address: str) -> None:
        """Record a failed attempt."""
        now = time.monotonic()
        for key in (f"n:{name.lower()}", f"a:{address}"):
            self._recent(key, now).append(now)
        if len(self._failures) > 10_000:  # forget idle keys
            for key in [k for k, v in self._failures.items() if not v]:
                del self._failures[key]

    def succeeded(self, name: str) -> None:
        """Forget the failures of a name that signed in."""
        self._failures.pop(f"n:{name.lower()}", None)


def new_login_token() -> str:
    """Return a random token for the login form's double submit."""
    return secrets.token_urlsafe(24)
