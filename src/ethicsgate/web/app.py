"""The reviewer web app: the queue, items, signed reports and the decision log, server-rendered.

Starlette serves HTML rendered by Jinja2 (autoescaped: evidence is data, never markup) and one
stylesheet shipped in the package; there is no script at all, so the Content-Security-Policy
allows none. The JSON API under ``/api/`` has the same roles. Every queue change goes through
the review store (``ethicsgate.review``), which records it in the hash-chained decision log
under the signed-in user's name, with how they authenticated.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import jinja2
from markupsafe import Markup, escape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ethicsgate import __version__
from ethicsgate.errors import ReviewError
from ethicsgate.escapes import written_out
from ethicsgate.web.auth import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Identity,
    LoginLimiter,
    TrustedProxies,
    new_login_token,
    same_token,
)
from ethicsgate.web.reports import ReportIndex

if TYPE_CHECKING:
    from ethicsgate.review.models import ReviewItem

__all__ = ["WebConfig", "create_app"]

HERE = Path(__file__).parent
STATUSES = ("open", "claimed", "decided", "escalated")
#: The app's own pages: no script anywhere, styles from our stylesheet only.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
#: A stored report.html: its inline styles and SVG, no script, sandboxed, no network.
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'; sandbox"
)
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
NOTICES = {
    "claimed": "The item is yours: decide it, or give it back.",
    "decided": "Your decision is recorded in the log.",
    "decided-next": "Your decision is recorded in the log; this is the next item, yours now.",
    "decided-empty": "Your decision is recorded in the log. Nothing more to claim: the queue is "
    "empty.",
    "released": "The item is back in the queue.",
    "empty": "Nothing to claim: no item of that kind is waiting.",
    "saved": "The user is saved.",
}
_SESSION_SECONDS = 8 * 3600
#: What a permission lets a role do, as a refusal names it (a route may name it closer).
DOES = {
    "read": "read the queue",
    "decide": "claim or decide items",
    "approve": "take escalated items",
    "admin": "manage users",
}
#: The most items one API call returns (and the default).
MAX_LIMIT, DEFAULT_LIMIT = 10_000, 100
#: What a request that failed on a bug is told: nothing of the exception.
INTERNAL_ERROR = "internal error: the server's log has the details"
#: What the router's refusals say on the page (its own words are the bare status phrases).
_ROUTER_ERRORS = {
    404: "There is no page at this address.",
    405: "This address does not answer that kind of request: use the links and buttons of the "
    "app's pages.",
}
#: The 500 page when even the error template cannot be rendered.
_BARE_500 = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Server error'
    "</title></head><body><h1>Something went wrong</h1><p>The server's log has the details."
    "</p></body></html>"
)


@dataclass
class WebConfig:
    """How the server runs: its store, its reports, whom it trusts."""

    db_url: str | None = None
    reports: Path = Path("reports")
    keys: list[Path] = field(default_factory=list)
    proxy_header: str | None = None
    trusted_proxies: list[str] = field(default_factory=lambda: ["127.0.0.1/32", "::1/128"])
    secret: str | None = None
    lease: str | None = None
    secure_cookies: bool | None = None  # None: Secure when the request came over HTTPS
    pool_size: int = 8


class SecurityHeaders:
    """Add the security headers (and no-store caching) to every response that lacks them.

    :class:`_ReviewStarlette` puts it outside Starlette's own error handling, so the answer to
    a request that failed on a bug (500) gets them too.
    """

    def __init__(self, app: ASGIApp, *, hsts: Callable[[Scope], bool]) -> None:
        """Wrap ``app``; ``hsts`` says whether a request came over HTTPS."""
        self.app, self.hsts = app, hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to the response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = dict(SECURITY_HEADERS)
                extra["content-security-policy"] = CSP
                extra["cache-control"] = "public, max-age=3600" if static else "no-store"
                if self.hsts(scope):
                    extra["strict-transport-security"] = "max-age=31536000"
                for name, value in extra.items():
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _ReviewStarlette(Starlette):
    """Starlette with :class:`SecurityHeaders` as the outermost layer.

    Middleware added with ``add_middleware`` runs inside ``ServerErrorMiddleware``, whose 500
    answer would then go out without the headers.
    """

    def build_middleware_stack(self) -> ASGIApp:
        """Return Starlette's stack wrapped in the security headers."""
        return SecurityHeaders(super().build_middleware_stack(), hsts=_https)


def _https(scope: Scope) -> bool:
    return bool(scope.get("scheme") == "https")


Handler = Callable[[Request, Identity], Awaitable[Response]]


_CODE_SPAN = re.compile(r"`([^`]+)`")


def to_the_minute(stamp: str) -> str:
    """Return a stored UTC time (``2026-12-10T01:58:31.188237Z``) as ``2026-12-10 01:58 UTC``.

    The queue and an item's page show due times alike; the stored microseconds are noise.
    """
    if len(stamp) >= 16 and stamp.endswith("Z"):
        return f"{stamp[:10]} {stamp[11:16]} UTC"
    return stamp


def code_spans(text: object) -> Markup:
    """Return ``text`` escaped, with each backquoted span of it as ``<code>``.

    Messages and hints the CLI and the web app share name commands that way
    (```ethicsgate audit SPEC --enqueue```); shown as written, the backquotes read as noise.
    Characters that reorder or hide text are written out (:func:`written_out`).
    """
    shown = str(escape(str(written_out(str(text)))))
    return Markup(_CODE_SPAN.sub(r"<code>\1</code>", shown))


class ReviewApp:
    """The app's state (store, users, reports, templates) and its endpoints."""

    def __init__(self, config: WebConfig) -> None:
        """Open the store (migrating it) and load the trusted keys.

        Raises:
            ReviewError: the store cannot be opened.
            SigningError: a key file is not a public key.
        """
        import secrets

        from itsdangerous import URLSafeTimedSerializer

        from ethicsgate.attest import load_public_key
        from ethicsgate.review.users import UserStore
        from ethicsgate.review.workflow import open_review_store

        self.config = config
        keys = [load_public_key(path) for path in config.keys]
        self.store = open_review_store(config.db_url, config.lease, pool_size=config.pool_size)
        self.users = UserStore(self.store)
        self.reports = ReportIndex(config.reports, keys)
        self.proxies = TrustedProxies(config.trusted_proxies)
        self.limiter = LoginLimiter()
        self.signer = URLSafeTimedSerializer(
            config.secret or secrets.token_urlsafe(32), salt="ethicsgate-login"
        )
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            trim_blocks=False,
            finalize=written_out,
        )
        self.templates.filters["code_spans"] = code_spans
        self.templates.filters["minute"] = to_the_minute

    # -- plumbing -------------------------------------------------------------------------

    def https(self, request: Request) -> bool:
        """Return whether the request came over HTTPS (directly or via a trusted proxy)."""
        if request.url.scheme == "https":
            return True
        forwarded = request.headers.get("x-forwarded-proto", "")
        return forwarded.lower() == "https" and self.proxies.trusts(request)

    def secure_cookies(self, request: Request) -> bool:
        """Return whether cookies get the Secure flag."""
        if self.config.secure_cookies is not None:
            return self.config.secure_cookies
        return self.https(request)

    def peer(self, request: Request) -> str:
        """Return the client's address (the forwarded one only from a trusted proxy)."""
        forwarded = request.headers.get("x-forwarded-for")
        if forwarded and self.proxies.trusts(request):
            return forwarded.split(",")[0].strip()
        return request.client.host if request.client else "unknown"

    def render(
        self,
        request: Request,
        template: str,
        ident: Identity | None,
        *,
        status: int = 200,
        section: str = "",
        **context: Any,
    ) -> HTMLResponse:
        """Render a page (autoescaped)."""
        done = request.query_params.get("done", "")
        page = self.templates.get_template(template).render(
            user=ident,
            csrf=ident.csrf if ident else None,
            version=__version__,
            section=section,
            notice=context.pop("notice", NOTICES.get(done)),
            problem=context.pop("problem", None),
            **context,
        )
        return HTMLResponse(page, status_code=status)

    def error_page(
        self, request: Request, ident: Identity | None, status: int, heading: str, message: str
    ) -> HTMLResponse:
        """Render an error page."""
        return self.render(
            request,
            "error.html.j2",
            ident,
            status=status,
            title=heading,
            heading=heading,
            message=message,
        )

    def server_error(self, request: Request) -> Response:
        """Answer a request that failed on a bug: 500, without a word about the exception."""
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": INTERNAL_ERROR}, status_code=500)
        try:
            return self.error_page(
                request,
                None,
                500,
                "Something went wrong",
                "The server could not answer this request; its log has the details. "
                "Please report the problem with the time it happened.",
            )
        except Exception:  # a failing template must not hide the first error: a bare page
            return HTMLResponse(_BARE_500, status_code=500)

    async def identify(self, request: Request, *, api: bool) -> Identity | None:
        """Return who is asking, or None (anonymous).

        Raises:
            HTTPException: 403, a trusted proxy names a user who has no account.
        """
        if api:
            header = request.headers.get("authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                user = await run_in_threadpool(self.users.user_by_token, token.strip())
                if user is not None:
                    return Identity(user.name, user.role, "token")
                return None
        header_name = self.config.proxy_header
        if header_name and self.proxies.trusts(request):
            name = request.headers.get(header_name, "").strip()
            if name:
                return await self._proxy_identity(request, name, api=api)
        if api:
            return None
        sid = request.cookies.get(SESSION_COOKIE)
        if not sid:
            return None
        info = await run_in_threadpool(self.users.session, sid)
        if info is None:
            return None
        return Identity(info.user.name, info.user.role, info.auth, csrf=info.csrf, session_id=sid)

    async def _proxy_identity(self, request: Request, name: str, *, api: bool) -> Identity:
        sid = None if api else request.cookies.get(SESSION_COOKIE)
        info = await run_in_threadpool(self.users.session, sid) if sid else None
        if info is not None and info.user.name == name and info.auth == "proxy":
            return Identity(name, info.user.role, "proxy", csrf=info.csrf, session_id=sid)
        try:
            user = await run_in_threadpool(self.users.get, name)
        except ReviewError:
            raise HTTPException(
                403,
                f"{name} signed in through the proxy but has no account here: an administrator "
                f"adds one with `ethicsgate users add {name} --role reviewer`",
            ) from None
        if api:  # no cookie, no CSRF: the API takes JSON bodies only, no session is kept
            return Identity(name, user.role, "proxy")
        new_sid, csrf = await run_in_threadpool(
            lambda: self.users.start_session(name, auth="proxy", replaces=sid)
        )
        return Identity(name, user.role, "proxy", csrf=csrf, session_id=new_sid, new_session=True)

    def set_session_cookie(self, request: Request, response: Response, sid: str) -> None:
        """Set the session cookie: HttpOnly, SameSite=Lax, Secure over HTTPS."""
        response.set_cookie(
            SESSION_COOKIE,
            sid,
            max_age=_SESSION_SECONDS,
            path="/",
            httponly=True,
            samesite="lax",
            secure=self.secure_cookies(request),
        )

    def page(
        self, permission: str, handler: Handler, *, does: str | None = None
    ) -> Callable[[Request], Awaitable[Response]]:
        """Wrap an HTML endpoint: sign-in, role and (for POST) CSRF checks.

        ``does`` is what a role without ``permission`` is told it cannot do.
        """
        does = does or DOES[permission]

        async def endpoint(request: Request) -> Response:
            ident = await self.identify(request, api=False)
            if ident is None:
                target = request.url.path
                if request.url.query:
                    target += "?" + request.url.query
                nxt = target if request.method == "GET" else "/"
                return RedirectResponse("/login?" + urlencode({"next": nxt}), status_code=303)
            if not ident.can(permission):
                return self.error_page(
                    request,
                    ident,
                    403,
                    "Not allowed",
                    f"The {ident.role} role cannot {does}.",
                )
            if request.method == "POST":
                form = await request.form()
                request.state.form = form
                if not same_token(_text(form, "csrf"), ident.csrf):
                    return self.error_page(
                        request,
                        ident,
                        403,
                        "The form expired",
                        "The form's security token is missing or wrong (CSRF protection). "
                        "Go back, reload the page and submit it again.",
                    )
            response = await handler(request, ident)
            if ident.new_session and ident.session_id:
                self.set_session_cookie(request, response, ident.session_id)
            return response

        return endpoint

    def api(
        self, permission: str, handler: Handler, *, does: str | None = None
    ) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a JSON endpoint: bearer token (or trusted proxy), role, JSON body.

        ``does`` is what a role without ``permission`` is told it cannot do.
        """
        does = does or DOES[permission]

        async def endpoint(request: Request) -> Response:
            try:
                ident = await self.identify(request, api=True)
            except HTTPException as exc:
                return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
            if ident is None:
                return JSONResponse(
                    {"error": "authentication required: Authorization: Bearer <token>"},
                    status_code=401,
                    headers={"www-authenticate": 'Bearer realm="ethicsgate"'},
                )
            if not ident.can(permission):
                return JSONResponse(
                    {"error": f"the {ident.role} role cannot {does}"},
                    status_code=403,
                )
            if request.method == "POST":
                kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
                if kind != "application/json":  # also keeps cross-site forms out
                    return JSONResponse(
                        {"error": "send a JSON body (Content-Type: application/json)"},
                        status_code=415,
                    )
                try:
                    body = await request.json()
                except ValueError:
                    return JSONResponse({"error": "the body is not JSON"}, status_code=400)
                if not isinstance(body, dict):
                    return JSONResponse({"error": "the body must be an object"}, status_code=400)
                request.state.body = body
            return await handler(request, ident)

        return endpoint

    # -- sign-in --------------------------------------------------------------------------

    def login_page(
        self,
        request: Request,
        *,
        status: int = 200,
        problem: str | None = None,
        username: str = "",
        headers: dict[str, str] | None = None,
    ) -> Response:
        """Render the sign-in form with a fresh double-submit token."""
        token = new_login_token()
        nxt = _local(request.query_params.get("next") or _text(_form(request), "next"))
        response = self.render(
            request,
            "login.html.j2",
            None,
            status=status,
            title="Sign in",
            login_csrf=self.signer.dumps(token),
            next=nxt,
            username=username,
            problem=problem,
        )
        response.set_cookie(
            LOGIN_COOKIE,
            token,
            max_age=3600,
            path="/login",
            httponly=True,
            samesite="strict",
            secure=self.secure_cookies(request),
        )
        for name, value in (headers or {}).items():
            response.headers[name] = value
        return response

    async def get_login(self, request: Request) -> Response:
        """GET /login (also when signed in: to sign in as someone else)."""
        return self.login_page(request)

    async def post_login(self, request: Request) -> Response:
        """POST /login: check the double-submit token, the rate limit, then the password."""
        from itsdangerous import BadSignature

        form = await request.form()
        request.state.form = form
        name = _text(form, "username").strip()[:128]
        password = _text(form, "password")[:1024]
        try:
            token = self.signer.loads(_text(form, "csrf"), max_age=3600)
        except BadSignature:
            token = None
        if not same_token(token, request.cookies.get(LOGIN_COOKIE)):
            return self.login_page(
                request,
                status=403,
                problem="The sign-in form expired (CSRF protection): please sign in again.",
                username=name,
            )
        address = self.peer(request)
        wait = self.limiter.retry_after(name, address)
        if wait:
            return self.login_page(
                request,
                status=429,
                problem=f"Too many failed sign-ins: try again in {wait} seconds.",
                username=name,
                headers={"retry-after": str(wait)},
            )
        user = await run_in_threadpool(self.users.check_password, name, password) if name else None
        if user is None:
            self.limiter.failed(name, address)
            return self.login_page(
                request, status=401, problem="Wrong user name or password.", username=name
            )
        self.limiter.succeeded(name)
        old = request.cookies.get(SESSION_COOKIE)
        sid, _ = await run_in_threadpool(
            lambda: self.users.start_session(user.name, auth="password", replaces=old)
        )
        response = RedirectResponse(_local(_text(form, "next")), status_code=303)
        self.set_session_cookie(request, response, sid)
        response.delete_cookie(LOGIN_COOKIE, path="/login")
        return response

    async def post_logout(self, request: Request, ident: Identity) -> Response:
        """POST /logout: end the session."""
        if ident.session_id:
            await run_in_threadpool(self.users.end_session, ident.session_id)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # -- pages ----------------------------------------------------------------------------

    async def queue(self, request: Request, ident: Identity) -> Response:
        """GET /: the queue, filtered."""
        q = request.query_params
        status = q.get("status") or None
        if status not in (None, *STATUSES):
            status = None
        rule, assignee, audit = q.get("rule") or None, q.get("assignee"), q.get("audit")
        overdue = _flag(q.get("overdue")) is True
        filters = {
            "rule": rule,
            "status": status,
            "assignee": assignee or None,
            "audit": audit or None,
            "overdue": overdue,
        }
        limit = 200

        def read() -> tuple[list[Any], list[Any], list[Any], str | None, int]:
            chosen: dict[str, Any] = {
                "status": status,
                "rule_id": rule,
                "assignee": assignee or None,
                "audit_id": audit or None,
                "overdue": overdue,
            }
            items = self.store.list_items(**chosen, limit=limit + 1)
            total = len(items) if len(items) <= limit else self.store.count_items(**chosen)
            # a mistyped audit looks like one that queued nothing: the page says which it is
            notes = (
                []
                if items
                else [
                    self.store.unknown_audit(audit) if audit else None,
                    self.store.unknown_rule(rule) if rule else None,
                    self.store.unknown_assignee(assignee) if assignee else None,
                ]
            )
            said = [f"{n[:1].upper()}{n[1:]}." for n in notes if n is not None]
            every_rule = self.store.stats()
            # the table of counts follows the audit filter; the rule menu lists every rule
            counts = self.store.stats(audit_id=audit) if audit else every_rule
            return items, every_rule, counts, " ".join(said) or None, total

        items, stats, counts, note, total = await run_in_threadpool(read)
        return self.render(
            request,
            "queue.html.j2",
            ident,
            notice=note,
            section="queue",
            title="Review queue",
            items=items[:limit],
            truncated=len(items) > limit,
            total=total,
            stats=stats,
            counts=counts,
            filters=filters,
            statuses=STATUSES,
            lease=_duration(self.store.lease.total_seconds()),
        )

    async def claim_next(self, request: Request, ident: Identity) -> Response:
        """POST /claim: claim the most urgent item (``escalated=1``: escalated, approvers)."""
        form: FormData = request.state.form
        escalated = _text(form, "escalated") == "1"
        if escalated and not ident.can("approve"):
            return self.error_page(
                request, ident, 403, "Not allowed", "Escalated items are taken by approvers."
            )
        item = await run_in_threadpool(
            lambda: self.store.claim(
                ident.name, identity=ident.log_identity(), next_escalated=escalated
            )
        )
        if item is None:
            return RedirectResponse("/?done=empty", status_code=303)
        return RedirectResponse(f"/items/{item.id}?done=claimed", status_code=303)

    async def item_page(
        self,
        request: Request,
        ident: Identity,
        *,
        status: int = 200,
        problem: str | None = None,
        problem_field: str | None = None,
        typed: dict[str, str] | None = None,
    ) -> Response:
        """GET /items/{id}: the evidence, the rule and its law, the decision form, history.

        ``typed`` is a refused decision's outcome and note, filled in again in the form;
        ``problem_field`` the form field the ``problem`` is about (``outcome``, ``note``): it is
        marked invalid and described by the problem, which takes the focus.
        """
        from ethicsgate.review.fairness import FAIRNESS_FIELDS

        item_id = int(request.path_params["item_id"])
        try:
            item = await run_in_threadpool(self.store.get, item_id)
        except ReviewError:
            return self.error_page(
                request, ident, 404, "No such item", f"There is no item {item_id}."
            )
        history = await run_in_threadpool(self.store.item_log, item_id)
        # what the page shows must be what the log says: a row edited behind its back says so
        disagreements = await run_in_threadpool(self.store.verify_item, item_id)
        report = await run_in_threadpool(self.reports.for_item, item.audit_id, item.policy_id)
        rule = report.rules.get(item.rule_id) if report else None
        order = {name: index for index, name in enumerate(FAIRNESS_FIELDS)}
        fields = [
            (name, item.fields[name])
            for name in sorted(item.fields, key=lambda n: order.get(n, -1))
            if name != "summary"
        ]
        status_now = item.status.value
        mine = status_now == "claimed" and item.assignee == ident.name
        lapsed = status_now == "claimed" and (item.lease_expires_at or "") < _now_text()
        escalated = item.outcome is not None and item.outcome.value == "escalated"
        claimable = ident.can("decide") and (
            status_now == "open"
            or (status_now == "escalated" and ident.can("approve"))
            or (lapsed and not mine and (not escalated or ident.can("approve")))
        )
        return self.render(
            request,
            "item.html.j2",
            ident,
            status=status,
            section="queue",
            title=f"Item #{item.id}",
            item=item,
            fields=fields,
            history=history,
            disagreements=disagreements,
            report=report,
            rule=rule,
            mine=mine and ident.can("decide"),
            claimable=claimable,
            problem=problem,
            problem_field=problem_field,
            typed=typed or {},
        )

    async def claim_item(self, request: Request, ident: Identity) -> Response:
        """POST /items/{id}/claim."""
        item_id = int(request.path_params["item_id"])
        try:
            await run_in_threadpool(
                lambda: self.store.claim(
                    ident.name,
                    item_id,
                    identity=ident.log_identity(),
                    escalated=ident.can("approve"),
                )
            )
        except ReviewError as exc:
            return await self.item_page(request, ident, status=409, problem=exc.message)
        return RedirectResponse(f"/items/{item_id}?done=claimed", status_code=303)

    def _decide(
        self,
        ident: Identity,
        item_id: int,
        outcome: str,
        note: str | None,
        claim_next: bool,
        next_escalated: bool,
    ) -> tuple[ReviewItem, ReviewItem | None]:
        """Decide the item; with ``claim_next`` claim the next one in the same transaction.

        Returns the decided item and the one claimed (None: none claimed or none asked for).
        The form and the API call it after checking the role ``next_escalated`` needs.
        """
        if claim_next:
            return self.store.decide_and_claim_next(
                item_id,
                actor=ident.name,
                outcome=outcome,
                note=note,
                identity=ident.log_identity(),
                next_escalated=next_escalated,
            )
        decided = self.store.decide(
            item_id, actor=ident.name, outcome=outcome, note=note, identity=ident.log_identity()
        )
        return decided, None

    async def decide_item(self, request: Request, ident: Identity) -> Response:
        """POST /items/{id}/decide."""
        item_id = int(request.path_params["item_id"])
        form: FormData = request.state.form
        outcome = _text(form, "outcome")
        note = _text(form, "note")
        typed = {"outcome": outcome, "note": note}  # shown again when the decision is refused
        if outcome not in ("confirmed", "dismissed", "escalated"):
            return await self.item_page(
                request,
                ident,
                status=400,
                problem="Choose an outcome: confirmed, dismissed or escalated.",
                problem_field="outcome",
                typed=typed,
            )
        claim_next = _text(form, "next") in ("1", "escalated")
        next_escalated = _text(form, "next") == "escalated"
        if next_escalated and not ident.can("approve"):
            return self.error_page(
                request, ident, 403, "Not allowed", "Escalated items are taken by approvers."
            )
        try:
            self.store.check_decision(item_id, outcome, note)
        except ReviewError as exc:  # the outcome is one of the three: the reason is missing
            problem = "A dismissal needs a reason: say why the finding is not a problem."
            if note.strip():  # or too long
                problem = f"{exc.message[:1].upper()}{exc.message[1:]}: {exc.hint}."
            return await self.item_page(
                request, ident, status=400, problem=problem, problem_field="note", typed=typed
            )
        try:
            _, following = await run_in_threadpool(
                self._decide, ident, item_id, outcome, note, claim_next, next_escalated
            )
        except ReviewError as exc:
            return await self.item_page(
                request, ident, status=409, problem=exc.message, typed=typed
            )
        if not claim_next:
            return RedirectResponse(f"/items/{item_id}?done=decided", status_code=303)
        if following is None:
            return RedirectResponse("/?done=decided-empty", status_code=303)
        return RedirectResponse(f"/items/{following.id}?done=decided-next", status_code=303)

    async def release_item(self, request: Request, ident: Identity) -> Response:
        """POST /items/{id}/release."""
        item_id = int(request.path_params["item_id"])
        try:
            await run_in_threadpool(
                lambda: self.store.release(item_id, actor=ident.name, identity=ident.log_identity())
            )
        except ReviewError as exc:
            return await self.item_page(request, ident, status=409, problem=exc.message)
        return RedirectResponse(f"/items/{item_id}?done=released", status_code=303)

    async def reports_page(self, request: Request, ident: Identity) -> Response:
        """GET /reports: every report and its verified signature."""
        reports = await run_in_threadpool(self.reports.reports)
        return self.render(
            request,
            "reports.html.j2",
            ident,
            section="reports",
            title="Signed reports",
            reports=reports,
            root=str(self.config.reports),
            keys=self.reports.fingerprints(),
        )

    async def report_html(self, request: Request, ident: Identity) -> Response:
        """GET /reports/{name}/report.html: the report itself, sandboxed."""
        name = request.path_params["name"]
        body = await run_in_threadpool(self.reports.html, name)
        if body is None:
            return self.error_page(
                request, ident, 404, "No such report", "There is no such report."
            )
        return Response(
            body,
            media_type="text/html; charset=utf-8",
            headers={"content-security-policy": REPORT_CSP},
        )

    async def log_page(self, request: Request, ident: Identity) -> Response:
        """GET /log: the hash-chain verification and the latest entries."""
        result = await run_in_threadpool(self.store.verify_log)
        entries = await run_in_threadpool(self.store.recent_log, 100)
        return self.render(
            request,
            "log.html.j2",
            ident,
            section="log",
            title="Decision log",
            result=result,
            entries=entries,
        )

    async def users_page(
        self, request: Request, ident: Identity, problem: str | None = None
    ) -> Response:
        """GET /admin/users."""
        from ethicsgate.review.users import ROLES

        users = await run_in_threadpool(self.users.list)
        return self.render(
            request,
            "users.html.j2",
            ident,
            status=400 if problem else 200,
            section="users",
            title="Users",
            users=users,
            roles=sorted(ROLES),
            problem=problem,
        )

    async def save_user(self, request: Request, ident: Identity) -> Response:
        """POST /admin/users: add a user or change a role (and password)."""
        form: FormData = request.state.form
        password = _text(form, "password") or None
        try:
            await run_in_threadpool(
                self.users.add, _text(form, "name").strip(), _text(form, "role"), password
            )
        except ReviewError as exc:
            return await self.users_page(request, ident, problem=exc.message)
        return RedirectResponse("/admin/users?done=saved", status_code=303)

    # -- JSON API -------------------------------------------------------------------------

    async def api_items(self, request: Request, ident: Identity) -> Response:
        """GET /api/items?status=&rule=&assignee=&audit=&overdue=&limit=."""
        q = request.query_params
        status = q.get("status") or None
        if status not in (None, *STATUSES):
            return JSONResponse({"error": f"unknown status {status!r}"}, status_code=400)
        overdue = _flag(q.get("overdue"))
        if overdue is None:
            return JSONResponse(
                {"error": f"overdue must be 1 or true (or 0 or false), not {q['overdue']!r}"},
                status_code=400,
            )
        try:
            limit = int(q.get("limit") or DEFAULT_LIMIT)
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_LIMIT:
            return JSONResponse(
                {"error": f"limit must be a whole number from 1 to {MAX_LIMIT}"}, status_code=400
            )
        items = await run_in_threadpool(
            lambda: self.store.list_items(
                status=status,
                rule_id=q.get("rule") or None,
                assignee=q.get("assignee") or None,
                audit_id=q.get("audit") or None,
                overdue=overdue,
                limit=limit,
            )
        )
        return JSONResponse([item.model_dump(mode="json") for item in items])

    async def api_item(self, request: Request, ident: Identity) -> Response:
        """GET /api/items/{id}."""
        try:
            item = await run_in_threadpool(self.store.get, int(request.path_params["item_id"]))
        except ReviewError as exc:
            return JSONResponse({"error": exc.message}, status_code=404)
        return JSONResponse(item.model_dump(mode="json"))

    async def api_claim(self, request: Request, ident: Identity) -> Response:
        """POST /api/claim ({} or {"item_id": N}); POST /api/items/{id}/claim."""
        body = request.state.body
        raw = request.path_params.get("item_id", body.get("item_id"))
        if raw is not None and (isinstance(raw, bool) or not isinstance(raw, int)):
            return JSONResponse({"error": "item_id must be a whole number"}, status_code=400)
        escalated = body.get("escalated") is True
        if escalated and not ident.can("approve"):
            return JSONResponse(
                {"error": "escalated items are taken by approvers"}, status_code=403
            )
        try:
            item = await run_in_threadpool(
                lambda: self.store.claim(
                    ident.name,
                    raw,
                    identity=ident.log_identity(),
                    escalated=ident.can("approve"),
                    next_escalated=escalated,
                )
            )
        except ReviewError as exc:
            return _api_error(exc)
        if item is None:
            return JSONResponse({"item": None, "message": "nothing to claim"}, status_code=200)
        return JSONResponse({"item": item.model_dump(mode="json")})

    async def api_decide(self, request: Request, ident: Identity) -> Response:
        """POST /api/items/{id}/decide {"outcome": ..., "note": ..., "next": false}.

        With ``"next": true`` the next item is claimed in the decision's transaction and
        returned as ``next`` (null: nothing left to claim); with ``"escalated": true`` as well,
        the next escalated item (approvers only), as ``POST /api/claim`` takes it.
        """
        body = request.state.body
        outcome, note, claim_next = body.get("outcome"), body.get("note"), body.get("next", False)
        escalated = body.get("escalated", False)
        if not isinstance(outcome, str) or not (note is None or isinstance(note, str)):
            return JSONResponse({"error": "outcome (and note) must be strings"}, status_code=400)
        if not isinstance(claim_next, bool) or not isinstance(escalated, bool):
            return JSONResponse(
                {"error": "next and escalated must be true or false"}, status_code=400
            )
        if escalated and not claim_next:
            return JSONResponse(
                {"error": "escalated says which item to claim next: send it with next: true"},
                status_code=400,
            )
        if escalated and not ident.can("approve"):
            return JSONResponse(
                {"error": "escalated items are taken by approvers"}, status_code=403
            )
        item_id = int(request.path_params["item_id"])
        try:
            self.store.check_decision(item_id, outcome, note)
        except ReviewError as exc:  # malformed, whatever the item's state
            return JSONResponse({"error": exc.message}, status_code=400)
        try:
            item, following = await run_in_threadpool(
                self._decide, ident, item_id, outcome, note, claim_next, escalated
            )
        except ReviewError as exc:
            return _api_error(exc)
        if not claim_next:
            return JSONResponse({"item": item.model_dump(mode="json")})
        return JSONResponse(
            {
                "item": item.model_dump(mode="json"),
                "next": following.model_dump(mode="json") if following is not None else None,
            }
        )

    async def api_release(self, request: Request, ident: Identity) -> Response:
        """POST /api/items/{id}/release."""
        item_id = int(request.path_params["item_id"])
        try:
            item = await run_in_threadpool(
                lambda: self.store.release(item_id, actor=ident.name, identity=ident.log_identity())
            )
        except ReviewError as exc:
            return _api_error(exc)
        return JSONResponse({"item": item.model_dump(mode="json")})

    async def api_verify(self, request: Request, ident: Identity) -> Response:
        """GET /api/log/verify."""
        result = await run_in_threadpool(self.store.verify_log)
        return JSONResponse(result.model_dump(mode="json"))

    async def healthz(self, request: Request) -> Response:
        """GET /healthz: unauthenticated; the database answers."""
        try:
            await run_in_threadpool(lambda: self.store.list_items(limit=1))
        except Exception:  # any database failure is "unhealthy", without details
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok", "version": __version__})


def _api_error(exc: ReviewError) -> JSONResponse:
    """Answer a refusal of the review store: 404 for no such item, else 409 (its state).

    Malformed requests (a bad outcome, a dismissal without a note) are answered 400 before
    the store is asked.
    """
    status = 404 if exc.message.startswith("no review item") else 409
    return JSONResponse({"error": exc.message}, status_code=status)


def _flag(value: str | None) -> bool | None:
    """Read a query flag (``overdue=1``): True, False, or None when it is neither.

    Case-insensitive, so that ``overdue=True`` (what Python's ``requests`` sends for ``True``)
    and a checkbox's ``on`` mean the same on the page and in the API.
    """
    text = (value or "").strip().lower()
    if text in ("1", "true", "on", "yes"):
        return True
    if text in ("", "0", "false", "off", "no"):
        return False
    return None


def _form(request: Request) -> FormData | None:
    return getattr(request.state, "form", None)


def _text(form: FormData | None, name: str) -> str:
    value = form.get(name) if form is not None else None
    return value if isinstance(value, str) else ""


def _local(target: str | None) -> str:
    """Return ``target`` when it is a path on this site, else ``/`` (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return quote(target, safe="/?=&%-._~+")


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes} minutes" if minutes < 120 else f"{minutes // 60} hours"


def _now_text() -> str:
    from datetime import UTC, datetime

    from ethicsgate.review import format_time

    return format_time(datetime.now(UTC))


def create_app(config: WebConfig) -> Starlette:
    """Return the ASGI app serving ``config``'s store and reports.

    Raises:
        ReviewError: the store cannot be opened.
        SigningError: a key file is not a public key.
    """
    app_state = ReviewApp(config)
    a = app_state
    read, decide, admin = "read", "decide", "admin"

    async def logout(request: Request) -> Response:
        return await a.page(read, a.post_logout)(request)

    routes = [
        Route("/healthz", a.healthz),
        Route("/login", a.get_login, methods=["GET"]),
        Route("/login", a.post_login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/", a.page(read, a.queue), methods=["GET"]),
        Route("/claim", a.page(decide, a.claim_next, does="claim items"), methods=["POST"]),
        Route("/items/{item_id:int}", a.page(read, a.item_page), methods=["GET"]),
        Route(
            "/items/{item_id:int}/claim",
            a.page(decide, a.claim_item, does="claim items"),
            methods=["POST"],
        ),
        Route(
            "/items/{item_id:int}/decide",
            a.page(decide, a.decide_item, does="decide items"),
            methods=["POST"],
        ),
        Route(
            "/items/{item_id:int}/release",
            a.page(decide, a.release_item, does="release items"),
            methods=["POST"],
        ),
        Route("/reports", a.page(read, a.reports_page), methods=["GET"]),
        Route("/reports/{name:path}/report.html", a.page(read, a.report_html), methods=["GET"]),
        Route("/log", a.page(read, a.log_page), methods=["GET"]),
        Route("/admin/users", a.page(admin, a.users_page), methods=["GET"]),
        Route("/admin/users", a.page(admin, a.save_user), methods=["POST"]),
        Route("/api/items", a.api(read, a.api_items), methods=["GET"]),
        Route("/api/items/{item_id:int}", a.api(read, a.api_item), methods=["GET"]),
        Route("/api/claim", a.api(decide, a.api_claim, does="claim items"), methods=["POST"]),
        Route(
            "/api/items/{item_id:int}/claim",
            a.api(decide, a.api_claim, does="claim items"),
            methods=["POST"],
        ),
        Route(
            "/api/items/{item_id:int}/decide",
            a.api(decide, a.api_decide, does="decide items"),
            methods=["POST"],
        ),
        Route(
            "/api/items/{item_id:int}/release",
            a.api(decide, a.api_release, does="release items"),
            methods=["POST"],
        ),
        Route("/api/log/verify", a.api(read, a.api_verify), methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
        headings = {403: "Not allowed", 404: "Not found", 405: "Not allowed here"}
        message = str(exc.detail)
        if message == HTTPStatus(exc.status_code).phrase:  # the router's: say it in words
            message = _ROUTER_ERRORS.get(exc.status_code, message)
        try:  # the menu and who is signed in, as on every page, so there is a way on
            ident = await a.identify(request, api=False)
        except HTTPException:
            ident = None
        return a.error_page(
            request, ident, exc.status_code, headings.get(exc.status_code, "Error"), message
        )

    async def server_error(request: Request, exc: Exception) -> Response:
        # Starlette raises the exception again once this is sent: uvicorn logs its traceback
        return a.server_error(request)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        a.store.close()

    app = _ReviewStarlette(
        routes=routes,
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
    app.state.review = a
    return app
