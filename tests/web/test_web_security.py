"""Security of the web app: CSRF, XSS, session fixation, passwords, cookies, headers, leases."""

from __future__ import annotations

import sqlite3
from html.parser import HTMLParser

import httpx
import pytest
import sqlalchemy as sa
from markupsafe import escape
from starlette.testclient import TestClient
from tests.web.conftest import PASSWORD, XSS, csrf_of, login

from ethicsgate.review import open_store


def _log_size(url: str) -> int:
    with open_store(url) as store:
        return store.verify_log().entries


# -- CSRF ------------------------------------------------------------------------------------

FORMS = [
    ("/claim", {}),
    ("/items/2/claim", {}),
    ("/items/2/decide", {"outcome": "confirmed"}),
    ("/items/2/release", {}),
    ("/admin/users", {"name": "mallory", "role": "admin", "password": "p" * 16}),
    ("/logout", {}),
]


def test_every_form_without_the_csrf_token_is_refused(client, db_copy) -> None:
    csrf = login(client, "admin")
    before = _log_size(db_copy)
    for path, data in FORMS:
        for token in (None, "", "forged-" + csrf[7:], csrf[:-1]):
            body = dict(data) if token is None else {**data, "csrf": token}
            response = client.post(path, data=body)
            assert response.status_code == 403, (path, token, response.status_code)
            assert "CSRF" in response.text
    assert _log_size(db_copy) == before  # nothing happened
    assert client.get("/").status_code == 200  # still signed in: logout was refused too
    with open_store(db_copy) as store:
        from ethicsgate.review.users import UserStore

        assert "mallory" not in {u.name for u in UserStore(store).list()}


def test_a_token_of_another_session_is_refused(app, client) -> None:
    csrf_admin = login(client, "admin")
    with TestClient(app, follow_redirects=False) as other:
        login(other, "reviewer")
        response = other.post("/claim", data={"csrf": csrf_admin})
        assert response.status_code == 403


def test_the_login_form_is_csrf_protected(client) -> None:
    page = client.get("/login")
    token = csrf_of(page.text)
    # a third-party page posting credentials (no eg_login cookie of ours)
    client.cookies.clear()
    response = client.post(
        "/login", data={"username": "admin", "password": PASSWORD, "csrf": token}
    )
    assert response.status_code == 403
    assert "eg_session" not in response.headers.get("set-cookie", "")
    # the cookie alone with a made-up form token
    client.get("/login")
    response = client.post(
        "/login", data={"username": "admin", "password": PASSWORD, "csrf": "made-up"}
    )
    assert response.status_code == 403


def test_api_posts_need_a_json_body(client, seed) -> None:
    headers = {"authorization": f"Bearer {seed.tokens['reviewer']}"}
    response = client.post("/api/claim", data={"x": "1"}, headers=headers)
    assert response.status_code == 415
    # and the API never accepts the browser's session cookie
    login(client, "reviewer")
    assert client.post("/api/claim", json={}).status_code == 401


# -- XSS -------------------------------------------------------------------------------------


def test_xss_payloads_from_evidence_are_rendered_inert(client, seed) -> None:
    login(client, "reviewer")
    pages = [
        client.get(f"/items/{seed.xss_item}").text,
        client.get("/?rule=chatbot-discloses-automation").text,
    ]
    for page in pages:
        assert "<script>" not in page
        assert "onerror=" not in page.replace("onerror=&#34;", "")
        assert "<svg" not in page
        assert "<img" not in page
    item_page = pages[0]
    assert str(escape(XSS)) in item_page
    assert "Ada &lt;b&gt;Lovelace&lt;/b&gt; &amp; co" in item_page
    assert "&#34;&gt;&lt;svg onload=alert(2)&gt;" in item_page
    # the decision note is evidence too
    csrf = csrf_of(item_page)
    assert client.post(f"/items/{seed.xss_item}/claim", data={"csrf": csrf}).status_code == 303
    note = "</textarea><script>alert(3)</script>"
    done = client.post(
        f"/items/{seed.xss_item}/decide",
        data={"csrf": csrf, "outcome": "dismissed", "note": note},
    )
    assert done.status_code == 303
    for page in (client.get(f"/items/{seed.xss_item}").text, client.get("/log").text):
        assert "<script>" not in page
    assert "&lt;/textarea&gt;&lt;script&gt;alert(3)" in client.get(f"/items/{seed.xss_item}").text
    # and the CSP would block any script anyway
    csp = client.get("/").headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp


RLO, ZWSP = "\u202e", "\u200b"


def test_evidence_cannot_reorder_or_hide_the_text_of_a_page(client, db_copy) -> None:
    """Found by the web QA: a group named with U+202E (right-to-left override) in a fairness
    finding turned the rest of the item page's lines around: "severity block · due 2026-12-10"
    read "01-21-6202 eud · kcolb ytireves", the summary's 0.3613 read 3163.0 and 13.8 % read
    8.31 %. Such characters, and zero-width ones (S0012 and S00<U+200B>12 look alike), are now
    written out where evidence, notes and names are shown, and kept as they are in the links and
    filters that must send them back."""
    from ethicsgate.review import NewReviewItem

    with open_store(db_url := db_copy) as store:
        item = store.enqueue(
            [
                NewReviewItem(
                    policy_id="hiring",
                    policy_version="1",
                    rule_id="ll144-selection",
                    record_id=f"group:race={RLO}evil",
                    audit_id=f"audit{ZWSP}-1",
                    severity="block",
                    fields={"summary": f"Applicants in race = {RLO}evil were selected at 13.8 %"},
                    reason="impact_ratio_value",
                    due_at="2030-01-01T00:00:00.000000Z",
                )
            ],
            actor="seed",
        ).ids[0]
    csrf = login(client, "reviewer")
    filtered = client.get("/", params={"audit": f"audit{ZWSP}-1"})
    assert f'href="/items/{item}"' in filtered.text  # the filter sends the audit id back as is
    assert f'value="audit{ZWSP}-1"' in filtered.text
    assert client.post(f"/items/{item}/claim", data={"csrf": csrf}).status_code == 303
    note = f"test account{RLO} see ticket 12"
    done = client.post(
        f"/items/{item}/decide", data={"csrf": csrf, "outcome": "dismissed", "note": note}
    )
    assert done.status_code == 303
    kept = f'value="audit{ZWSP}-1"'  # the filter's own field: sent back as typed
    for page in (client.get(f"/items/{item}").text, filtered.text, client.get("/log").text):
        assert RLO not in page and ZWSP not in page.replace(kept, "")
    page = client.get(f"/items/{item}").text
    assert "group:race=&lt;U+202E&gt;evil" in page
    assert "Applicants in race = &lt;U+202E&gt;evil were selected at 13.8 %" in page
    assert "test account&lt;U+202E&gt; see ticket 12" in page
    assert "audit&lt;U+200B&gt;-1" in page
    with open_store(db_url) as store:  # shown written out, stored as given
        assert store.get(item).note == note


# -- sessions --------------------------------------------------------------------------------


def test_the_session_id_is_new_at_every_sign_in(app, client) -> None:
    # a planted session id is never adopted
    client.cookies.set("eg_session", "attacker-chosen-id", domain="testserver.local")
    login(client, "reviewer")
    first = client.cookies.get("eg_session")
    assert first and first != "attacker-chosen-id"
    # signing in again (as someone else) rotates it, and the old id is dead
    login(client, "approver")
    second = client.cookies.get("eg_session")
    assert second != first
    with TestClient(app, follow_redirects=False) as stolen:
        stolen.cookies.set("eg_session", first)
        assert stolen.get("/").status_code == 303
        stolen.cookies.set("eg_session", second)
        assert stolen.get("/").status_code == 200
    # signing out kills it on the server, not only in the browser
    csrf = csrf_of(client.get("/").text)
    client.post("/logout", data={"csrf": csrf})
    with TestClient(app, follow_redirects=False) as replay:
        replay.cookies.set("eg_session", second)
        assert replay.get("/").status_code == 303


def test_only_hashes_of_secrets_are_stored(client, seed, db_copy) -> None:
    login(client, "reviewer")
    sid = client.cookies.get("eg_session")
    engine = sa.create_engine(db_copy)
    with engine.connect() as conn:
        dump = "\n".join(
            str(row)
            for table in ("users", "web_sessions")
            for row in conn.execute(sa.text(f"SELECT * FROM {table}"))
        )
    engine.dispose()
    assert sid not in dump
    assert seed.tokens["reviewer"] not in dump
    assert PASSWORD not in dump
    assert "$argon2id$" in dump


def test_cookies_are_httponly_samesite_and_secure_over_https(app) -> None:
    with TestClient(app, base_url="https://review.example", follow_redirects=False) as https:
        page = https.get("/login")
        assert "secure" in page.headers["set-cookie"].lower()  # the login cookie too
        response = https.post(
            "/login",
            data={"username": "auditor", "password": PASSWORD, "csrf": csrf_of(page.text)},
        )
    assert response.status_code == 303
    set_cookie = response.headers["set-cookie"]
    session = next(part for part in set_cookie.split(", eg_") if "eg_session=" in part)
    for flag in ("HttpOnly", "Secure", "SameSite=lax", "Path=/"):
        assert flag.lower() in session.lower(), (flag, session)
    assert "strict-transport-security" in response.headers


def test_plain_http_cookies_are_not_secure(client) -> None:
    page = client.get("/login")
    response = client.post(
        "/login", data={"username": "auditor", "password": PASSWORD, "csrf": csrf_of(page.text)}
    )
    assert "httponly" in response.headers["set-cookie"].lower()
    assert "secure" not in response.headers["set-cookie"].lower()


# -- passwords -------------------------------------------------------------------------------


def test_wrong_passwords_and_unknown_users_are_refused_alike(client) -> None:
    for name, password in (("reviewer", "wrong password!"), ("nobody", PASSWORD), ("", "")):
        page = client.get("/login")
        response = client.post(
            "/login", data={"username": name, "password": password, "csrf": csrf_of(page.text)}
        )
        assert response.status_code in (401, 422) if name else True
        assert "eg_session" not in response.headers.get("set-cookie", "")
        if name:
            assert response.status_code == 401
            assert "Wrong user name or password" in response.text
    assert client.get("/").status_code == 303


def test_sign_in_is_rate_limited(client) -> None:
    codes = []
    for _ in range(7):
        page = client.get("/login")
        response = client.post(
            "/login",
            data={"username": "approver", "password": "guess guess", "csrf": csrf_of(page.text)},
        )
        codes.append(response.status_code)
    assert codes[:5] == [401] * 5
    assert codes[5:] == [429, 429]
    assert int(response.headers["retry-after"]) > 0
    # even the right password waits now
    page = client.get("/login")
    response = client.post(
        "/login", data={"username": "approver", "password": PASSWORD, "csrf": csrf_of(page.text)}
    )
    assert response.status_code == 429
    # another user is not locked out by it
    login(client, "reviewer")


def test_redirects_after_sign_in_stay_on_the_site(client) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        client.cookies.clear()
        page = client.get("/login", params={"next": target})
        response = client.post(
            "/login",
            data={
                "username": "auditor",
                "password": PASSWORD,
                "csrf": csrf_of(page.text),
                "next": target,
            },
        )
        assert response.headers["location"] == "/"


# -- headers ---------------------------------------------------------------------------------


def test_security_headers_on_every_page(client) -> None:
    login(client, "admin")
    for path in ("/", "/items/1", "/reports", "/log", "/admin/users", "/login", "/healthz"):
        headers = client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["cache-control"] == "no-store"
    report = client.get("/reports/bakery/report.html").headers["content-security-policy"]
    assert "sandbox" in report and "script-src" not in report


def test_no_inline_script_or_style_attribute_in_any_page(client) -> None:
    login(client, "admin")
    for path in ("/", "/items/1", "/reports", "/log", "/admin/users"):
        tags = _Tags()
        tags.feed(client.get(path).text)
        assert "script" not in tags.names, path
        assert not tags.bad_attributes, (path, tags.bad_attributes)


class _Tags(HTMLParser):
    """The tags of a page, and any style or event-handler attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.bad_attributes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.names.add(tag)
        self.bad_attributes += [n for n, _ in attrs if n == "style" or n.startswith("on")]


# -- leases ----------------------------------------------------------------------------------


def test_a_reviewer_cannot_decide_an_item_leased_to_someone_else(app, client, seed, db_copy):
    csrf = login(client, "approver")
    assert client.post("/items/7/claim", data={"csrf": csrf}).status_code == 303
    before = _log_size(db_copy)
    with TestClient(app, follow_redirects=False) as other:
        csrf_other = login(other, "reviewer")
        page = other.get("/items/7")
        assert "Record the decision" not in page.text  # no form for it
        for path, data in (
            ("/items/7/decide", {"outcome": "dismissed", "note": "not mine to dismiss"}),
            ("/items/7/release", {}),
            ("/items/7/claim", {}),
        ):
            response = other.post(path, data={**data, "csrf": csrf_other})
            assert response.status_code == 409
            assert "approver" in response.text
    api = {"authorization": f"Bearer {seed.tokens['reviewer']}"}
    response = client.post("/api/items/7/decide", json={"outcome": "confirmed"}, headers=api)
    assert response.status_code == 409
    assert _log_size(db_copy) == before
    item = client.get("/api/items/7", headers=api).json()
    assert item["status"] == "claimed" and item["assignee"] == "approver"


# -- single sign-on through a proxy --------------------------------------------------------


def _proxy_app(seed, db_copy, **kwargs):  # type: ignore[no-untyped-def]
    from ethicsgate.web import WebConfig, create_app

    return create_app(
        WebConfig(db_url=db_copy, reports=seed.reports, proxy_header="X-Forwarded-User", **kwargs)
    )


def test_the_proxy_header_is_ignored_unless_enabled(client) -> None:
    response = client.get("/", headers={"x-forwarded-user": "admin"})
    assert response.status_code == 303
    response = client.get("/api/items", headers={"x-forwarded-user": "admin"})
    assert response.status_code == 401


def test_the_proxy_header_is_believed_from_the_trusted_proxy_only(seed, db_copy) -> None:
    app = _proxy_app(seed, db_copy)
    with TestClient(app, follow_redirects=False, client=("203.0.113.9", 5000)) as outsider:
        assert outsider.get("/", headers={"x-forwarded-user": "admin"}).status_code == 303
    with TestClient(app, follow_redirects=False, client=("127.0.0.1", 5000)) as proxied:
        headers = {"x-forwarded-user": "reviewer"}
        page = proxied.get("/", headers=headers)
        assert page.status_code == 200 and "Signed in as <strong>reviewer</strong>" in page.text
        csrf = csrf_of(page.text)
        # forms still need the CSRF token: the proxy's cookie is ambient authority
        assert proxied.post("/claim", data={}, headers=headers).status_code == 403
        claimed = proxied.post("/claim", data={"csrf": csrf}, headers=headers)
        assert claimed.status_code == 303
        item = claimed.headers["location"].split("?")[0].rsplit("/", 1)[1]
        done = proxied.post(
            f"/items/{item}/decide", data={"csrf": csrf, "outcome": "confirmed"}, headers=headers
        )
        assert done.status_code == 303
        # a different user behind the same browser gets a new session, not the old one
        other = proxied.get("/", headers={"x-forwarded-user": "auditor"})
        assert "Signed in as <strong>auditor</strong>" in other.text
        # a user the proxy knows but this app does not
        unknown = proxied.get("/", headers={"x-forwarded-user": "stranger"})
        assert unknown.status_code == 403 and "users add stranger" in unknown.text
        # the API through the proxy: the same names and roles, no session kept
        proxied.cookies.clear()
        listed = proxied.get("/api/items?limit=1", headers={"x-forwarded-user": "auditor"})
        assert listed.status_code == 200 and "set-cookie" not in listed.headers
        refused = proxied.post("/api/claim", json={}, headers={"x-forwarded-user": "auditor"})
        assert refused.status_code == 403
        stranger = proxied.get("/api/items", headers={"x-forwarded-user": "stranger"})
        assert stranger.status_code == 403
    with open_store(db_copy) as store:
        entry = store.item_log(int(item))[-1]
    assert entry.actor == "reviewer" and entry.data["identity"]["auth"] == "proxy"


# -- errors ----------------------------------------------------------------------------------

#: Item ids no SQL BIGINT holds (SQLite refuses to bind them), and the largest one it does.
HUGE_IDS = ("99999999999999999999", str(2**63), "9223372036854775807")


def _assert_security_headers(response) -> None:  # type: ignore[no-untyped-def]
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff", response.request.url
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"


def test_an_unhandled_error_is_a_plain_500_with_the_security_headers(app, seed, monkeypatch):
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret-detail: /srv/review.db password=hunter2")

    monkeypatch.setattr(app.state.review.store, "get", broken)
    api = {"authorization": f"Bearer {seed.tokens['reviewer']}"}
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
        login(client, "reviewer")
        page = client.get("/items/1")
        answer = client.get("/api/items/1", headers=api)
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in page.text
    assert answer.status_code == 500 and answer.headers["content-type"] == "application/json"
    assert answer.json() == {"error": "internal error: the server's log has the details"}
    for response in (page, answer):
        _assert_security_headers(response)
        assert "secret-detail" not in response.text and "hunter2" not in response.text
        assert "Traceback" not in response.text and "RuntimeError" not in response.text
    # the exception still reaches the server (uvicorn logs it with its traceback)
    with TestClient(app, follow_redirects=False) as client, pytest.raises(RuntimeError):
        client.get("/api/items/1", headers=api)
    # and when even the error page cannot be rendered, a bare one
    monkeypatch.setattr(app.state.review.templates, "get_template", broken)
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
        bare = client.get("/login")
    assert bare.status_code == 500 and "Something went wrong" in bare.text
    assert "secret-detail" not in bare.text
    _assert_security_headers(bare)


def test_an_address_the_app_does_not_have_is_a_page_of_the_app(client) -> None:
    """Found by the web QA: a mistyped address answered a bare page headed "Not found" that said
    "Not Found" (a GET of a form's address: "Method Not Allowed"), without the menu or who is
    signed in, so a reviewer had no way on but the back button."""
    login(client, "reviewer")
    for path, status, said in (
        ("/nope", 404, "There is no page at this address."),
        ("/items/abc", 404, "There is no page at this address."),
        ("/claim", 405, "This address does not answer that kind of request"),
    ):
        page = client.get(path)
        assert page.status_code == status, path
        assert said in page.text, path
        assert "Not Found" not in page.text and "Method Not Allowed" not in page.text
        assert "Signed in as <strong>reviewer</strong>" in page.text
        assert 'href="/log"' in page.text
        _assert_security_headers(page)
    client.cookies.clear()
    anonymous = client.get("/nope")
    assert anonymous.status_code == 404 and "There is no page at this address." in anonymous.text
    assert "Signed in as" not in anonymous.text


def test_a_live_server_logs_an_error_and_answers_without_details(live_server, seed, db_copy):
    # the database loses the items table under the running server: a real, unforeseen failure
    with sqlite3.connect(db_copy.removeprefix("sqlite:///")) as conn:
        conn.execute("ALTER TABLE review_items RENAME TO review_items_gone")
    api = {"authorization": f"Bearer {seed.tokens['auditor']}"}
    for path in ("/api/items/1", "/api/items"):
        answer = httpx.get(live_server.url + path, headers=api, timeout=30)
        assert answer.status_code == 500, path
        assert answer.json() == {"error": "internal error: the server's log has the details"}
        _assert_security_headers(answer)
    live_server.log.seek(0)
    log = live_server.log.read()
    assert "Traceback" in log and "no such table: review_items" in log


def test_item_ids_beyond_64_bits_are_no_such_item(client, seed, db_copy) -> None:
    csrf = login(client, "admin")
    api = {"authorization": f"Bearer {seed.tokens['admin']}"}
    before = _log_size(db_copy)
    for huge in HUGE_IDS:
        page = client.get(f"/items/{huge}")
        assert page.status_code == 404 and "No such item" in page.text, huge
        _assert_security_headers(page)
        for verb, data in (("claim", {}), ("decide", {"outcome": "confirmed"}), ("release", {})):
            form = client.post(f"/items/{huge}/{verb}", data={**data, "csrf": csrf})
            assert form.status_code == 404 and "No such item" in form.text, (huge, verb)
            _assert_security_headers(form)
            answer = client.post(f"/api/items/{huge}/{verb}", json=data, headers=api)
            assert answer.status_code == 404, (huge, verb, answer.text)
            assert answer.json()["error"] == f"no review item {huge}"
        answer = client.get(f"/api/items/{huge}", headers=api)
        assert answer.status_code == 404 and answer.json()["error"] == f"no review item {huge}"
        _assert_security_headers(answer)
        for item_id in (int(huge), -int(huge)):
            answer = client.post("/api/claim", json={"item_id": item_id}, headers=api)
            assert answer.status_code == 404, (item_id, answer.text)
    assert _log_size(db_copy) == before
