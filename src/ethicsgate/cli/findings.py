"""``ethicsgate findings export``: every finding of a report, as CSV or JSON Lines."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import click

from ethicsgate.cli._output import echo
from ethicsgate.escapes import csv_cell

__all__ = ["findings"]


@click.group()
def findings() -> None:
    """Read findings.parquet, which lists every violating record of a report's rules."""


@findings.command("export")
@click.argument("report", type=click.Path(path_type=Path))
@click.option(
    "--rule",
    "rules",
    multiple=True,
    help="Only this rule's findings (repeat for several). With one rule, CSV gets a column "
    "per field the rule reads.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl"]),
    default="csv",
    show_default=True,
    help="CSV (RFC 4180, UTF-8) or JSON Lines.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to this file (atomically) [default: standard output].",
)
@click.option(
    "--key",
    "key_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Verify the report's signature (and that it covers findings.parquet) with this "
    "public key first; nothing is exported if it does not verify.",
)
def export(
    report: Path, rules: tuple[str, ...], fmt: str, out: Path | None, key_path: Path | None
) -> None:
    """Export the findings of REPORT (a report folder, or its findings.parquet).

    Every finding, not only the report's first max_findings: one row per violating record,
    rule by rule and by record id. Exits 2 when the file is missing or the signature does not
    verify.
    """
    from ethicsgate.audit.findings import finding_batches
    from ethicsgate.canonical import FINDINGS_PARQUET
    from ethicsgate.errors import EthicsgateError, Location, VerificationError

    path = report / FINDINGS_PARQUET if report.is_dir() else report
    if not path.is_file():
        raise EthicsgateError(
            "findings file not found",
            location=Location(str(path)),
            hint="give a report folder written by `ethicsgate audit` (reports written before "
            "findings.parquet existed have none: run the audit again)",
        )
    if key_path is not None:
        from ethicsgate.attest import load_public_key, sha256_file, verify_attestation

        result = verify_attestation(path.parent, load_public_key(key_path))
        signed = {s.name: s.sha256 for s in (result.statement.subjects if result.statement else ())}
        reasons = result.reasons
        if not reasons and FINDINGS_PARQUET not in signed:
            reasons = [f"the signature does not cover {FINDINGS_PARQUET}"]
        elif (  # the folder verified; the file to export is another one, beside it
            not reasons
            and path.name != FINDINGS_PARQUET
            and sha256_file(path) != signed[FINDINGS_PARQUET]
        ):
            reasons = [f"{path.name} is not the {FINDINGS_PARQUET} the signature covers"]
        if reasons:
            raise VerificationError(
                "the report does not verify: " + "; ".join(reasons),
                location=path.parent,
                hint="export from the report as it was signed, or drop --key to export anyway",
            )
    known = _rule_ids(path.parent)
    unknown = [r for r in rules if known is not None and r not in known]
    if unknown:
        raise EthicsgateError(
            f"the report has no rule {unknown[0]!r}",
            location=Location(str(path.parent / "report.json")),
            hint="its rules: " + ", ".join(sorted(known or [])),
        )
    if out is not None:
        from ethicsgate.files import check_writable

        check_writable(out.parent, what=f"the folder of {out.name}")
    batches = finding_batches(path, rules=list(rules))
    if out is None:
        _write(sys.stdout, batches, fmt, expand=len(rules) == 1)
        return
    count = _write_file(out, batches, fmt, expand=len(rules) == 1)
    echo(f"{count:,} finding(s) written to {out}", err=True)


def _write_file(
    out: Path, batches: Iterator[list[dict[str, Any]]], fmt: str, *, expand: bool
) -> int:
    """Write the rows to ``out`` through a temporary file renamed into place; return the count."""
    from ethicsgate.files import output_error

    tmp: str | None = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            count = _write(handle, batches, fmt, expand=expand)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except OSError as exc:  # the disk full, or a folder named like the file
        output_error(out, exc, what="the file", folder=False)
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return count


def _rule_ids(folder: Path) -> set[str] | None:
    """Return the rule ids report.json lists, or None when it cannot be read."""
    try:
        data = json.loads((folder / "report.json").read_text(encoding="utf-8"))
        return {str(rule["id"]) for rule in data["rules"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write(
    handle: IO[str], batches: Iterator[list[dict[str, Any]]], fmt: str, *, expand: bool
) -> int:
    """Write the rows as CSV or JSON Lines; return how many were written."""
    count = 0
    writer: Any = None
    fields: list[str] = []
    for rows in batches:
        if fmt == "jsonl":
            buffer = io.StringIO()
            for row in rows:
                buffer.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
            handle.write(buffer.getvalue())
        else:
            if writer is None:
                fields = sorted(rows[0]["fields"]) if expand else []
                header = ["rule_id", "record_id", "reason", "message"]
                header += fields if expand else ["fields"]
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(header)
            for row in rows:
                base = [row["rule_id"], row["record_id"], row["reason"], row["message"]]
                if expand:
                    extra = [row["fields"].get(f) for f in fields]
                else:
                    extra = [json.dumps(row["fields"], ensure_ascii=False, sort_keys=True)]
                writer.writerow([csv_cell(cell) for cell in base + extra])
        count += len(rows)
    if writer is None and fmt == "csv":
        handle.write("rule_id,record_id,reason,message" + ("" if expand else ",fields") + "\n")
    return count
