"""Click options that several commands share, each defined once.

Each function returns a decorator; the parameter names (``key_path``, ``fmt``, ``db_url``,
``out``, ``actor``, ``lease``) are the same in every command that takes the option.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

__all__ = [
    "actor_option",
    "db_option",
    "format_option",
    "key_option",
    "lease_option",
    "out_dir_option",
    "out_file_option",
    "spec_argument",
]

#: What click's option and argument decorators are (they return the command's callback).
Decorator = Callable[[Any], Any]


def spec_argument() -> Decorator:
    """Return the SPEC argument: an audit spec file (audits/*.yaml)."""
    return click.argument("spec", type=click.Path(path_type=Path, dir_okay=False))


def key_option(what: str) -> Decorator:
    """Return the ``--key`` option of a command that signs ``what`` (e.g. "report")."""
    return click.option(
        "--key",
        "key_path",
        type=click.Path(path_type=Path, dir_okay=False),
        help=f"Sign the {what} with this Ed25519 private key [env: ETHICSGATE_SIGNING_KEY].",
    )


def format_option(
    help: str | None = None,
    *,
    choices: tuple[str, ...] = ("text", "json"),
    default: str = "text",
    show_default: bool = True,
) -> Decorator:
    """Return the ``--format`` option (``fmt``): what a command prints."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(choices)),
        default=default,
        show_default=show_default,
        help=help,
    )


def out_dir_option(help: str, *, required: bool = False) -> Decorator:
    """Return the ``--out`` option of a command that writes files into a folder."""
    return click.option(
        "--out",
        type=click.Path(path_type=Path, file_okay=False),
        required=required,
        help=help,
    )


def out_file_option(help: str) -> Decorator:
    """Return the ``--out`` option of a command that writes one file."""
    return click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help=help)


def db_option(help: str) -> Decorator:
    """Return the ``--db`` option (``db_url``): the review store's URL."""
    return click.option("--db", "db_url", metavar="URL", help=help)


def actor_option() -> Decorator:
    """Return the ``--as`` option (``actor``): who acts on the review queue."""
    return click.option(
        "--as",
        "actor",
        metavar="NAME",
        help="Reviewer name [env: ETHICSGATE_REVIEWER; default: the OS user].",
    )


def lease_option() -> Decorator:
    """Return the ``--lease`` option: how long a review claim lasts."""
    return click.option(
        "--lease",
        metavar="DURATION",
        help="How long a claim lasts, e.g. 15m [env: ETHICSGATE_REVIEW_LEASE; default: 15m].",
    )
