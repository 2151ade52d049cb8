"""Click options that several commands share, each defined once.

Each function returns a decorator; the parameter names (``key_path``, ``fmt``, ``db_url``,
``out``, ``actor``, ``lease``, ``cross_check``) are the same in every command that takes the
option.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

__all__ = [
    "actor_option",
    "cross_check_options",
    "cross_check_limit",
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


def engine_option() -> Decorator:
    """Return the ``--engine`` option (``engine_target``): where the evidence is read."""
    return click.option(
        "--engine",
        "engine_target",
        metavar="TARGET",
        help="Where the evidence is read, overriding the spec's engine: duckdb (the default), "
        "spark or local[N], spark://HOST:PORT, sc://HOST:PORT (Spark Connect), or a database "
        "URL such as postgresql://USER@HOST/DB (the password is never shown).",
    )


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


def cross_check_options() -> Decorator:
    """Return ``--cross-check fairlearn`` and ``--cross-check-groups N`` (one ``cross_check``)."""

    def decorate(command: Any) -> Any:
        command = click.option(
            "--cross-check-groups",
            type=click.IntRange(min=1),
            default=1000,
            show_default=True,
            help="With --cross-check: recompute this many groups of each rule (the first ones).",
        )(command)
        return click.option(
            "--cross-check",
            type=click.Choice(["fairlearn"]),
            default=None,
            help="Recompute the fairness metrics with fairlearn's MetricFrame and record the "
            "agreement in the report (imports scikit-learn, about a second).",
        )(command)

    return decorate


def cross_check_limit(cross_check: str | None, groups: int) -> int | None:
    """Return how many groups to cross-check per rule: None without ``--cross-check``."""
    return groups if cross_check else None
