"""``ethicsgate verify``: check a signed report, and optionally its policy and evidence."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ethicsgate.cli._options import format_option
from ethicsgate.cli._output import echo, secho

__all__ = ["verify"]


@click.command()
@click.argument("target", type=click.Path(path_type=Path))
@click.option(
    "--key",
    "key_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The signer's public key (PEM), e.g. keys/ethicsgate.pub.",
)
@click.option(
    "--evidence",
    "check_files",
    is_flag=True,
    help="Also re-hash the audit spec, policy and evidence files the report names (a frame "
    "audited from Python: the Parquet or Arrow file it was saved to). A transparency "
    "statement names none: verify says so.",
)
@click.option(
    "--root",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder the report's input paths are relative to [default: current folder]; "
    "with --evidence only.",
)
@format_option()
@click.pass_context
def verify(
    ctx: click.Context,
    target: Path,
    key_path: Path | None,
    check_files: bool,
    root: Path | None,
    fmt: str,
) -> None:
    """Verify TARGET: a report or statement folder, one of its files, or its envelope.

    A file (report.html, groups.csv, ...) means the *.intoto.json envelope beside it, which
    signs it.

    Exits 0 when verified, 1 when not (with the exact reason), 2 on bad input (an unsigned
    report says so, and how to sign it).
    """
    from ethicsgate.attest import load_public_key, verify_attestation
    from ethicsgate.attest.verify import locate_envelope
    from ethicsgate.cli import EXIT_FAILED, EXIT_OK
    from ethicsgate.errors import VerificationError

    if root is not None and not check_files:
        raise click.UsageError(
            "--root names the folder the report's input files are relative to, and only "
            "--evidence re-hashes them: add --evidence, or leave out --root",
            ctx=ctx,
        )
    envelope = locate_envelope(target)  # an unsigned report: say so before asking for a key
    if key_path is None:
        raise VerificationError(
            "verifying needs the signer's public key",
            location=envelope,
            hint="add --key with the public key of the pair that signed it, e.g. "
            f"`ethicsgate verify {target} --key keys/ethicsgate.pub`",
        )
    key = load_public_key(key_path)
    result = verify_attestation(target, key, check_files=check_files, root=root)
    subjects = [s.name for s in result.statement.subjects] if result.statement else []
    if fmt == "json":
        shown: dict[str, object] = {
            "verified": result.ok,
            "reasons": result.reasons,
            "key_fingerprint": result.fingerprint,
            "subjects": subjects,
            "document": result.document,
            "checked_inputs": check_files and result.document == "report",
        }
        if result.notes:
            shown["not_rechecked"] = result.notes
        if result.hint:
            shown["hint"] = result.hint
        echo(json.dumps(shown, indent=2))
    elif result.ok:
        statement = result.document == "statement"
        if statement:  # it binds only its own files: there are no inputs to claim or suggest
            what = "transparency statement"
        else:
            what = "report and its inputs" if check_files else "report"
        secho(f"verified: {target} ({what}; {len(subjects)} subject(s))", fg="green")
        echo(f"signed by key {result.fingerprint}")
        if not check_files and not statement:
            echo("inputs not re-hashed: add --evidence to check the policy and evidence")
        for note in result.notes:
            echo(f"not re-checked: {note}")
    else:
        secho(f"NOT verified: {target}", fg="red", err=True)
        for reason in result.reasons:
            echo(f"  - {reason}", err=True)
        for note in result.notes:
            echo(f"  not re-checked: {note}", err=True)
        if result.hint:
            echo(f"  hint: {result.hint}", err=True)
    ctx.exit(EXIT_OK if result.ok else EXIT_FAILED)
