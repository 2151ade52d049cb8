"""Accounts in the review store: the last active admin stays one, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from tests.unit.review.conftest import _fresh_postgres

from ethicsgate.errors import ReviewError
from ethicsgate.review import open_store
from ethicsgate.review.users import UserStore

PASSWORD = "correct horse battery staple"


@pytest.fixture
def users(db_url: str) -> Iterator[UserStore]:
    with open_store(db_url) as store:
        yield UserStore(store)


def _roles(users: UserStore) -> dict[str, str]:
    return {user.name: user.role for user in users.list()}


def test_the_only_active_admin_cannot_be_demoted_or_disabled(users: UserStore) -> None:
    users.add("ana", "admin", PASSWORD)
    users.add("ben", "reviewer")
    for role in ("reviewer", "approver", "auditor"):
        with pytest.raises(ReviewError, match="ana is the only active admin and cannot become"):
            users.add("ana", role)
    with pytest.raises(ReviewError, match="ana is the only active admin and cannot be disabled"):
        users.disable("ana")
    assert _roles(users) == {"ana": "admin", "ben": "reviewer"}
    assert users.check_password("ana", PASSWORD) is not None  # the refusal changed nothing
    # staying an admin (a new password, say) is no demotion
    assert users.add("ana", "admin", "another long password").role == "admin"
    # with a second admin, either may go; then the other is the last one
    users.add("ben", "admin")
    assert users.add("ana", "reviewer").role == "reviewer"
    with pytest.raises(ReviewError, match="ben is the only active admin"):
        users.disable("ben")
    users.add("ana", "admin")
    users.disable("ben")
    assert _roles(users) == {"ana": "admin"}
    # a disabled admin is no admin: ana is the last one again
    with pytest.raises(ReviewError, match="ana is the only active admin"):
        users.add("ana", "auditor")


def test_a_store_without_admins_still_changes_other_roles(users: UserStore) -> None:
    users.add("ben", "reviewer")
    users.add("cleo", "approver")
    assert users.add("ben", "auditor").role == "auditor"
    users.disable("cleo")
    assert _roles(users) == {"ben": "auditor"}


def test_two_admins_demoting_each_other_at_once_leave_one() -> None:
    """The admins are counted under a lock: a demotion racing another waits for it.

    PostgreSQL only: SQLite writers take turns, so no two demotions overlap there.
    """
    with open_store(_fresh_postgres()) as store:
        users = UserStore(store)
        users.add("ana", "admin")
        users.add("ben", "admin")
        refused: list[Exception] = []

        def demote_ben() -> None:
            try:
                users.add("ben", "reviewer")
            except ReviewError as exc:
                refused.append(exc)

        with store.engine.connect() as other, other.begin():
            # another server demotes ana and has not committed yet
            admins = sa.text("SELECT name FROM users WHERE role = 'admin' FOR UPDATE")
            assert sorted(other.execute(admins).scalars()) == ["ana", "ben"]
            other.execute(sa.text("UPDATE users SET role = 'reviewer' WHERE name = 'ana'"))
            racer = threading.Thread(target=demote_ben)
            racer.start()
            time.sleep(0.5)
            assert racer.is_alive()  # waiting for the other transaction's lock
        racer.join(timeout=30)
        assert not racer.is_alive()
        assert len(refused) == 1 and "ben is the only active admin" in str(refused[0])
        assert _roles(users) == {"ana": "reviewer", "ben": "admin"}
