"""Accounts of the reviewer web app, in the review store's database: users, roles, sessions.

Passwords are hashed with argon2id (``argon2-cffi``, the ``web`` extra); API tokens and session
ids are random 256-bit secrets of which only the SHA-256 is stored (a database dump does not let
anyone act as a user). Every SQL statement on these tables is in this module.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa

from ethicsgate.errors import ReviewError
from ethicsgate.review.store import _meta, format_time

if TYPE_CHECKING:
    from ethicsgate.review.store import ReviewStore

__all__ = [
    "ROLES",
    "Role",
    "SessionInfo",
    "User",
    "UserStore",
    "can",
]

Role = Literal["reviewer", "approver", "auditor", "admin"]
#: Every role, and what it may do: read the queue, reports and log; decide items; take
#: escalated items (approve exceptions); manage users.
ROLES: dict[str, frozenset[str]] = {
    "auditor": frozenset({"read"}),
    "reviewer": frozenset({"read", "decide"}),
    "approver": frozenset({"read", "decide", "approve"}),
    "admin": frozenset({"read", "decide", "approve", "admin"}),
}
TOKEN_PREFIX = "egt_"
SESSION_LIFETIME = timedelta(hours=8)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")

users_t = sa.Table(
    "users",
    _meta,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("role", sa.String(16)),
    sa.Column("password_hash", sa.Text),
    sa.Column("token_hash", sa.String(64)),
    sa.Column("created_at", sa.String(32)),
    sa.Column("disabled", sa.Boolean),
)
sessions_t = sa.Table(
    "web_sessions",
    _meta,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("user_name", sa.String(128)),
    sa.Column("csrf", sa.String(64)),
    sa.Column("auth", sa.String(16)),
    sa.Column("created_at", sa.String(32)),
    sa.Column("expires_at", sa.String(32)),
)


def can(role: str, permission: str) -> bool:
    """Return whether ``role`` has ``permission`` (read, decide, approve, admin)."""
    return permission in ROLES.get(role, frozenset())


def _keep_an_admin(conn: sa.Connection, name: str, refused: str) -> None:
    """Refuse a change that takes ``name``'s admin role away when no other admin is active.

    The admins are read with FOR UPDATE (on PostgreSQL; SQLite writers take turns): two admins
    demoting each other at once wait for one another, and the second sees the first's change.

    Raises:
        ReviewError: ``name`` is the only active admin.
    """
    admins = conn.execute(
        sa.select(users_t.c.name)
        .where(users_t.c.role == "admin", users_t.c.disabled.is_(False))
        .with_for_update()
    ).scalars()
    if list(admins) == [name]:
        raise ReviewError(
            f"{name} is the only active admin and {refused}: nobody would be left to manage users",
            hint="make another user an admin first: `ethicsgate users add NAME --role admin`",
        )


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _hasher() -> Any:
    try:
        from argon2 import PasswordHasher
    except ImportError as exc:  # pragma: no cover - the web extra is missing
        raise ReviewError(
            "passwords need argon2-cffi",
            hint="pip install 'ethicsgate[web]'",
        ) from exc
    return PasswordHasher()


@dataclass(frozen=True)
class User:
    """A user as the app sees one: the name every log entry carries, and a role."""

    name: str
    role: str
    has_password: bool = False
    has_token: bool = False
    created_at: str = ""

    def can(self, permission: str) -> bool:
        """Return whether this user may ``permission`` (read, decide, approve, admin)."""
        return can(self.role, permission)


@dataclass(frozen=True)
class SessionInfo:
    """A signed-in browser: who, how they signed in, and the CSRF token of their forms."""

    user: User
    csrf: str
    auth: str


class UserStore:
    """Users and sessions on the review store's database (its engine and writer lock)."""

    def __init__(self, store: ReviewStore) -> None:
        """Use the tables of ``store``, which :func:`open_store` has migrated."""
        self.store = store
        self._dummy: str | None = None

    # -- users ----------------------------------------------------------------------------

    def add(self, name: str, role: str, password: str | None = None) -> User:
        """Create a user (or change an existing one's role and password).

        Raises:
            ReviewError: bad name or role, a password shorter than 12 characters, or ``name``
                is the only active admin and ``role`` is another.
        """
        if not _NAME.match(name):
            raise ReviewError(
                f"bad user name {name!r}",
                hint="letters, digits and . _ @ + -, starting with a letter or digit",
            )
        if role not in ROLES:
            raise ReviewError(f"unknown role {role!r} (choose {', '.join(sorted(ROLES))})")
        digest = None
        if password is not None:
            if len(password) < 12:
                raise ReviewError(
                    f"the password of {name} is too short: at least 12 characters",
                    hint="pipe a longer one to --password-stdin",
                )
            digest = _hasher().hash(password)
        now = format_time(self.store.clock())
        with self.store._tx(write=True) as conn:
            row = conn.execute(
                sa.select(users_t.c.name).where(users_t.c.name == name)
            ).one_or_none()
            if row is None:
                conn.execute(
                    sa.insert(users_t).values(
                        name=name, role=role, password_hash=digest, created_at=now, disabled=False
                    )
                )
            else:
                if role != "admin":
                    _keep_an_admin(conn, name, f"cannot become {role}")
                values: dict[str, Any] = {"role": role, "disabled": False}
                if digest is not None:
                    values["password_hash"] = digest
                conn.execute(sa.update(users_t).where(users_t.c.name == name).values(values))
                # a changed role or password signs every browser of the user out
                conn.execute(sa.delete(sessions_t).where(sessions_t.c.user_name == name))
        return self.get(name)

    def get(self, name: str) -> User:
        """Return one user.

        Raises:
            ReviewError: there is no such user.
        """
        user = self._find(name)
        if user is None:
            raise ReviewError(
                f"no user {name!r}", hint=f"`ethicsgate users add {name} --role reviewer`"
            )
        return user

    def _find(self, name: str) -> User | None:
        with self.store._tx(write=False) as conn:
            row = conn.execute(
                sa.select(users_t).where(users_t.c.name == name, users_t.c.disabled.is_(False))
            ).one_or_none()
        return self._user(row) if row is not None else None

    @staticmethod
    def _user(row: Any) -> User:
        return User(
            name=row.name,
            role=row.role,
            has_password=row.password_hash is not None,
            has_token=row.token_hash is not None,
            created_at=row.created_at,
        )

    def list(self) -> list[User]:
        """Return every active user, by name."""
        with self.store._tx(write=False) as conn:
            rows = conn.execute(
                sa.select(users_t).where(users_t.c.disabled.is_(False)).order_by(users_t.c.name)
            ).all()
        return [self._user(row) for row in rows]

    def new_token(self, name: str) -> str:
        """Issue a new API token for ``name`` (the old one stops working); return it once.

        Raises:
            ReviewError: there is no such user.
        """
        self.get(name)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.store._tx(write=True) as conn:
            conn.execute(
                sa.update(users_t).where(users_t.c.name == name).values(token_hash=_sha256(token))
            )
        return token

    def disable(self, name: str) -> None:
        """Disable a user: no sign-in, no token, every session ended (the log keeps the name).

        Raises:
            ReviewError: there is no such (active) user, or it is the only active admin.
        """
        self.get(name)
        with self.store._tx(write=True) as conn:
            _keep_an_admin(conn, name, "cannot be disabled")
            conn.execute(
                sa.update(users_t)
                .where(users_t.c.name == name)
                .values(disabled=True, password_hash=None, token_hash=None)
            )
            conn.execute(sa.delete(sessions_t).where(sessions_t.c.user_name == name))

    # -- authentication -------------------------------------------------------------------

    def check_password(self, name: str, password: str) -> User | None:
        """Return the user when ``password`` is theirs, else None (in about the same time)."""
        hasher = _hasher()
        with self.store._tx(write=False) as conn:
            row = conn.execute(
                sa.select(users_t).where(users_t.c.name == name, users_t.c.disabled.is_(False))
            ).one_or_none()
        stored = row.password_hash if row is not None else None
        if stored is None:  # hash anyway: an unknown name takes as long as a wrong password
            if self._dummy is None:
                self._dummy = hasher.hash(secrets.token_hex(16))
            stored = self._dummy
            row = None
        try:
            hasher.verify(stored, password)
        except Exception:  # argon2's VerifyMismatchError, InvalidHashError, VerificationError
            return None
        return self._user(row) if row is not None else None

    def user_by_token(self, token: str) -> User | None:
        """Return the user whose API token this is, else None."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        digest = _sha256(token)
        with self.store._tx(write=False) as conn:
            row = conn.execute(
                sa.select(users_t).where(
                    users_t.c.token_hash == digest, users_t.c.disabled.is_(False)
                )
            ).one_or_none()
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            return None
        return self._user(row)

    # -- sessions -------------------------------------------------------------------------

    def start_session(
        self, name: str, *, auth: str, replaces: str | None = None
    ) -> tuple[str, str]:
        """Start a session for ``name``; return (session id, CSRF token).

        A fresh id every time (the id a browser had before signing in is never kept: no session
        fixation); ``replaces``, the browser's previous session id, is ended.
        """
        sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = self.store.clock()
        with self.store._tx(write=True) as conn:
            if replaces:
                conn.execute(sa.delete(sessions_t).where(sessions_t.c.id_hash == _sha256(replaces)))
            conn.execute(sa.delete(sessions_t).where(sessions_t.c.expires_at < format_time(now)))
            conn.execute(
                sa.insert(sessions_t).values(
                    id_hash=_sha256(sid),
                    user_name=name,
                    csrf=csrf,
                    auth=auth,
                    created_at=format_time(now),
                    expires_at=format_time(now + SESSION_LIFETIME),
                )
            )
        return sid, csrf

    def session(self, sid: str) -> SessionInfo | None:
        """Return the live session with id ``sid``, else None."""
        if not sid or len(sid) > 128:
            return None
        now = format_time(self.store.clock())
        query = (
            sa.select(users_t, sessions_t.c.csrf, sessions_t.c.auth)
            .join(sessions_t, sessions_t.c.user_name == users_t.c.name)
            .where(
                sessions_t.c.id_hash == _sha256(sid),
                sessions_t.c.expires_at > now,
                users_t.c.disabled.is_(False),
            )
        )
        with self.store._tx(write=False) as conn:
            row = conn.execute(query).one_or_none()
        if row is None:
            return None
        return SessionInfo(user=self._user(row), csrf=row.csrf, auth=row.auth)

    def end_session(self, sid: str) -> None:
        """End the session ``sid`` (sign out)."""
        with self.store._tx(write=True) as conn:
            conn.execute(sa.delete(sessions_t).where(sessions_t.c.id_hash == _sha256(sid)))
