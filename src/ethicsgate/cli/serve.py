"""``ethicsgate serve``: the reviewer web app; ``ethicsgate users``: its accounts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ethicsgate.cli._options import db_option, lease_option
from ethicsgate.cli._output import echo, secho

if TYPE_CHECKING:
    from ethicsgate.review.users import UserStore

__all__ = ["serve", "users"]

_DB_HELP = (
    "Review store: sqlite:///path.db or postgresql://user@host/db "
    "[env: ETHICSGATE_DB_URL; default: sqlite:///.ethicsgate/review.db]."
)


@click.command()
@db_option(_DB_HELP)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--reports",
    "reports",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("reports"),
    show_default=True,
    help="Folder of audit reports to list (each folder holding a report.json).",
)
@click.option(
    "--key",
    "keys",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="A trusted public key (PEM) that report signatures are verified with; repeatable. "
    "Without one, signed reports show as not verified.",
)
@click.option(
    "--trusted-proxy-header",
    "proxy_header",
    metavar="HEADER",
    help="Single sign-on behind a reverse proxy: believe this request header (e.g. "
    "X-Forwarded-User) as the signed-in user's name, from --trusted-proxy addresses only.",
)
@click.option(
    "--trusted-proxy",
    "trusted_proxies",
    multiple=True,
    metavar="ADDRESS",
    help="Address or CIDR range of the reverse proxy; repeatable [default: 127.0.0.1, ::1].",
)
@click.option(
    "--secure-cookies/--no-secure-cookies",
    default=None,
    help="Force the Secure flag on cookies [default: when the request came over HTTPS].",
)
@lease_option()
def serve(
    db_url: str | None,
    host: str,
    port: int,
    reports: Path,
    keys: tuple[Path, ...],
    proxy_header: str | None,
    trusted_proxies: tuple[str, ...],
    secure_cookies: bool | None,
    lease: str | None,
) -> None:
    """Serve the reviewer web app: the queue, signed reports and the decision log.

    \b
    Sign in with an account from `ethicsgate users add`; the JSON API under /api/ takes
    a token from `ethicsgate users token`. See docs/web.md.
    """  # noqa: D301 - click reads \b (a backspace) as "keep these lines"
    import gc
    import ipaddress
    import os

    from ethicsgate.cli import DEFAULT_GC_THRESHOLD
    from ethicsgate.errors import ReviewError

    try:
        from ethicsgate.web import WebConfig
        from ethicsgate.web import serve as run
    except ImportError as exc:
        raise ReviewError(
            f"the web app needs its extra ({exc.name} is missing)",
            hint="pip install 'ethicsgate[web]'",
        ) from exc
    for address in trusted_proxies:
        try:
            ipaddress.ip_network(address, strict=False)
        except ValueError:
            raise click.BadParameter(
                f"{address!r} is not an address or CIDR range", param_hint="--trusted-proxy"
            ) from None
    config = WebConfig(
        db_url=db_url,
        reports=reports,
        keys=list(keys),
        proxy_header=proxy_header,
        secret=os.environ.get("ETHICSGATE_WEB_SECRET"),
        lease=lease,
        secure_cookies=secure_cookies,
    )
    if trusted_proxies:
        config.trusted_proxies = list(trusted_proxies)
    if host not in ("127.0.0.1", "::1", "localhost") and not proxy_header:
        secho(
            f"note: listening on {host}: put HTTPS in front (a reverse proxy), so passwords "
            "and session cookies never cross the network in clear text",
            fg="yellow",
            err=True,
        )
    echo(f"ethicsgate review app on http://{host}:{port}/ (Ctrl+C stops it)", err=True)
    # a server runs for days: CPython's own collection thresholds again, and what start-up
    # imported set aside (frozen) so that full collections walk the requests' objects only
    gc.set_threshold(*DEFAULT_GC_THRESHOLD)
    gc.freeze()
    run(config, host=host, port=port)


@click.group()
def users() -> None:
    """Accounts of the reviewer web app (`ethicsgate serve`) and its API tokens.

    \b
    Roles: reviewer (decides items), approver (also takes escalated items),
    auditor (reads only), admin (everything, and manages users).
    """  # noqa: D301


def _users(db_url: str | None, *, create: bool = True) -> UserStore:
    """Open the accounts; ``create`` False for commands that only read (`users list`)."""
    from ethicsgate.review.users import UserStore
    from ethicsgate.review.workflow import open_review_store

    return UserStore(open_review_store(db_url, create=create))


@users.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(["reviewer", "approver", "auditor", "admin"]),
    required=True,
    help="What the user may do.",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password (at least 12 characters) from standard input. Without it the "
    "user has no password: single sign-on (--trusted-proxy-header) or an API token only.",
)
@db_option(_DB_HELP)
def add(name: str, role: str, password_stdin: bool, db_url: str | None) -> None:
    """Add user NAME with a role (or change an existing user's role and password)."""
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise click.UsageError("--password-stdin read an empty password")
    store = _users(db_url)
    try:
        user = store.add(name, role, password)
    finally:
        store.store.close()
    how = "with a password" if user.has_password else "without a password"
    echo(f"user {user.name}: {user.role}, {how}")


@users.command("token")
@click.argument("name")
@db_option(_DB_HELP)
def token(name: str, db_url: str | None) -> None:
    """Print a new API bearer token for NAME (the previous one stops working).

    Only its hash is stored: copy it now. Use it as `Authorization: Bearer TOKEN`.
    """
    store = _users(db_url)
    try:
        secret = store.new_token(name)
    finally:
        store.store.close()
    click.echo(secret)


@users.command("list")
@db_option(_DB_HELP)
def list_(db_url: str | None) -> None:
    """List the users and their roles."""
    store = _users(db_url, create=False)
    try:
        found = store.list()
    finally:
        store.store.close()
    for user in found:
        password = "password" if user.has_password else "no password"
        tok = "token" if user.has_token else "no token"
        echo(f"{user.name:24} {user.role:9} {password}, {tok}")
    echo(f"{len(found)} user(s)")


@users.command("disable")
@click.argument("name")
@db_option(_DB_HELP)
def disable(name: str, db_url: str | None) -> None:
    """Disable NAME: no sign-in, no API token, every session ended at once.

    The decision log keeps the name on what the user did; `users add NAME` enables it again
    with a new password.
    """
    store = _users(db_url)
    try:
        store.disable(name)
    finally:
        store.store.close()
    echo(f"user {name}: disabled")
