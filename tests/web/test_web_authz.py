"""The authorisation matrix: every route × anonymous, reviewer, approver, auditor, admin.

The expected answer is derived from a table written here independently of the app's own role
table: anonymous browsers are sent to the sign-in page (API: 401), a role without the right
gets 403, and a role with it gets anything but 401/403 (the operation itself may still say
409: the item is someone else's). Every HTML POST carries a valid CSRF token, so it is the role
that is checked, not the token.
"""

from __future__ import annotations

import pytest
from starlette.routing import Mount, Route
from tests.web.conftest import ROLES, login

# who may do what, as docs/web.md states it
MAY = {
    "read": {"reviewer", "approver", "auditor", "admin"},
    "decide": {"reviewer", "approver", "admin"},
    "admin": {"admin"},
}

# (method, path, permission, is_api, body)
ROUTES = [
    ("GET", "/", "read", False, None),
    ("GET", "/?status=open&rule=x&overdue=1", "read", False, None),
    ("GET", "/items/1", "read", False, None),
    ("GET", "/reports", "read", False, None),
    ("GET", "/reports/bakery/report.html", "read", False, None),
    ("GET", "/log", "read", False, None),
    ("GET", "/admin/users", "admin", False, None),
    ("POST", "/claim", "decide", False, {}),
    ("POST", "/items/2/claim", "decide", False, {}),
    ("POST", "/items/2/decide", "decide", False, {"outcome": "confirmed", "note": "ok"}),
    ("POST", "/items/2/release", "decide", False, {}),
    ("POST", "/admin/users", "admin", False, {"name": "newbie", "role": "auditor"}),
    ("POST", "/logout", "read", False, {}),
    ("GET", "/api/items", "read", True, None),
    ("GET", "/api/items/1", "read", True, None),
    ("GET", "/api/log/verify", "read", True, None),
    ("POST", "/api/claim", "decide", True, {}),
    ("POST", "/api/items/3/claim", "decide", True, {}),
    ("POST", "/api/items/3/decide", "decide", True, {"outcome": "confirmed"}),
    ("POST", "/api/items/3/release", "decide", True, {}),
]


def test_the_matrix_covers_every_route(app) -> None:
    """A new route must be added to the matrix."""
    served = set()
    for route in app.routes:
        if isinstance(route, Route):
            for method in route.methods or ():
                if method != "HEAD":
                    served.add((method, route.path))
        elif isinstance(route, Mount):
            served.add(("GET", route.path))
    # the matrix's paths, with their ids turned back into the route's pattern
    import re

    covered = {
        (m, re.sub(r"/\d+", "/{item_id:int}", p.split("?")[0]).replace("bakery", "{name:path}"))
        for m, p, *_ in ROUTES
    }
    public = {("GET", "/healthz"), ("GET", "/login"), ("POST", "/login"), ("GET", "/static")}
    assert served - public == covered


def _request(client, method, path, body, *, api, csrf, token):  # type: ignore[no-untyped-def]
    if api:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        if method == "GET":
            return client.get(path, headers=headers)
        return client.post(path, json=body, headers=headers)
    if method == "GET":
        return client.get(path)
    return client.post(path, data={**body, "csrf": csrf or "none"})


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_authorisation_matrix(client, seed, role: str) -> None:
    csrf = login(client, role) if role != "anonymous" else None
    token = seed.tokens.get(role)
    failures = []
    for method, path, permission, api, body in ROUTES:
        if path == "/logout":
            continue  # checked last: it ends the session
        response = _request(client, method, path, body, api=api, csrf=csrf, token=token)
        got = response.status_code
        if role == "anonymous":
            ok = got == 401 if api else (got == 303 and "/login" in response.headers["location"])
        elif role in MAY[permission]:
            ok = got not in (401, 403) and got < 500
        else:
            ok = got == 403
        if not ok:
            failures.append(f"{role} {method} {path}: {got}")
    response = _request(client, "POST", "/logout", {}, api=False, csrf=csrf, token=None)
    if role == "anonymous":
        assert response.status_code == 303 and "/login" in response.headers["location"]
    else:
        assert response.status_code == 303 and response.headers["location"] == "/login"
        assert client.get("/").status_code == 303  # signed out
    assert not failures, "\n".join(failures)


def test_public_routes_need_no_sign_in(client) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/login").status_code == 200
    assert client.get("/static/app.css").status_code == 200


def test_escalated_items_are_taken_by_approvers_only(client, seed) -> None:
    api = {"authorization": f"Bearer {seed.tokens['reviewer']}"}
    claimed = client.post("/api/items/5/claim", json={}, headers=api)
    assert claimed.status_code == 200
    done = client.post("/api/items/5/decide", json={"outcome": "escalated"}, headers=api)
    assert done.json()["item"]["status"] == "escalated"
    # a reviewer cannot take it back; an approver can, and decides it
    refused = client.post("/api/items/5/claim", json={}, headers=api)
    assert refused.status_code == 409 and "approver" in refused.json()["error"]
    approver = {"authorization": f"Bearer {seed.tokens['approver']}"}
    refused = client.post("/api/claim", json={"escalated": True}, headers=api)
    assert refused.status_code == 403
    taken = client.post("/api/claim", json={"escalated": True}, headers=approver)
    assert taken.json()["item"]["id"] == 5  # the one escalated item
    assert client.post("/api/items/5/release", json={}, headers=approver).status_code == 200
    assert client.post("/api/items/5/claim", json={}, headers=approver).status_code == 200
    final = client.post(
        "/api/items/5/decide", json={"outcome": "dismissed", "note": "exception"}, headers=approver
    )
    assert final.json()["item"]["decided_by"] == "approver"
    # and the HTML pages offer escalated items to approvers only
    csrf = login(client, "reviewer")
    assert "Claim the next escalated item" not in client.get("/").text
    assert client.post("/claim", data={"csrf": csrf, "escalated": "1"}).status_code == 403
    page = client.get("/items/5")
    assert "Claim this item" not in page.text
    csrf = login(client, "approver")
    assert "Claim the next escalated item" in client.get("/").text
    nothing = client.post("/claim", data={"csrf": csrf, "escalated": "1"})
    assert nothing.headers["location"] == "/?done=empty"  # item 5 is decided now


def test_admin_manages_users(client) -> None:
    csrf = login(client, "admin")
    saved = client.post(
        "/admin/users",
        data={"csrf": csrf, "name": "carol", "role": "reviewer", "password": "x" * 14},
    )
    assert saved.status_code == 303
    assert "carol" in client.get("/admin/users").text
    short = client.post(
        "/admin/users", data={"csrf": csrf, "name": "dave", "role": "reviewer", "password": "x"}
    )
    assert short.status_code == 400 and "too short" in short.text


def test_the_only_admin_cannot_demote_themselves(client) -> None:
    csrf = login(client, "admin")
    for role in ("reviewer", "approver", "auditor"):
        refused = client.post("/admin/users", data={"csrf": csrf, "name": "admin", "role": role})
        assert refused.status_code == 400, role
        assert "admin is the only active admin and cannot become" in refused.text
    page = client.get("/admin/users")  # still signed in, still an admin
    assert page.status_code == 200
    # with a second admin, the first may step down
    saved = client.post("/admin/users", data={"csrf": csrf, "name": "reviewer", "role": "admin"})
    assert saved.status_code == 303
    stepped = client.post("/admin/users", data={"csrf": csrf, "name": "admin", "role": "auditor"})
    assert stepped.status_code == 303
    assert client.get("/admin/users").status_code == 303  # a changed role signs out
