"""``ethicsgate.audit``: audit frames (or files) in Python, with no audit spec on disk.

The call builds what an audit spec would hold (the policy, evidence entries, options) and runs it
through the same core as ``ethicsgate audit`` (``audit/run.py``); the report is the same, with
two differences an in-memory audit needs:

* an evidence entry may hold ``data:`` (a frame) in place of ``path:``; it is read as an Arrow
  table and named in the report by its arrow-ipc-sha256 (``evidence/arrow.py``) under
  ``arrow-ipc-sha256:<path>``, where ``path`` says where the frame is (or will be) saved for
  ``ethicsgate verify --evidence`` [default: ``<name>.parquet``];
* the spec is the call itself: the report names it ``python:ethicsgate.audit`` and its
  ``spec_sha256`` is the SHA-256 of the canonical JSON of the call's arguments
  (:attr:`AuditReport.spec_json`), frames described by kind, columns and rows.

Given an audit spec file and no evidence, ``audit(spec)`` runs that spec exactly as the CLI does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError

from ethicsgate.errors import AuditSpecError, EvidenceError, Location, did_you_mean
from ethicsgate.policy.yamlsource import YamlDocument

if TYPE_CHECKING:
    from ethicsgate.api._report import AuditReport
    from ethicsgate.audit.spec import LoadedAudit
    from ethicsgate.evidence.engine import Engine
    from ethicsgate.evidence.model import ProgressCallback
    from ethicsgate.evidence.spec import WindowSpec
    from ethicsgate.policy.loader import LoadedPolicy

__all__ = ["PYTHON_SPEC", "audit", "build_audit"]

#: How the report names an audit run from Python (its spec is the call, not a file).
PYTHON_SPEC = "python:ethicsgate.audit"

#: The keys an evidence entry may hold besides ``data``: those of an audit spec's entry.
_ENTRY_KEYS = ("path", "format", "filter", "columns", "options", "window", "version")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def audit(
    policy: str | Path | LoadedPolicy,
    evidence: Mapping[str, Any] | None = None,
    *,
    id: str | None = None,
    title: str | None = None,
    contracts: Literal["stop", "report"] = "stop",
    base_dir: str | Path | None = None,
    engine: Engine | str | None = None,
    cross_check: int | None = None,
    window: str | Mapping[str, Any] | None = None,
    progress: ProgressCallback | None = None,
    clock: Callable[[], datetime] = _utc_now,
) -> AuditReport:
    """Audit ``evidence`` (frames or files, by dataset name) against ``policy``.

    Args:
        policy: A policy file, ``pack:NAME``, or a policy from :func:`ethicsgate.load_policy`;
            with no ``evidence``, an audit spec file (run exactly as ``ethicsgate audit`` runs it).
        evidence: Dataset name -> an audit spec's evidence entry as a dict, with ``data``: a
            pandas or polars DataFrame, a pyarrow Table or RecordBatchReader, or a DuckDB
            relation, in place of ``path`` (``path`` then says where the frame is saved for
            ``verify --evidence``); or a file path alone.
        id: The audit's id, naming the report folder [default: the policy's id].
        title: The report's title.
        contracts: ``stop`` at the first value a rule cannot read, or ``report`` it (see the
            audit spec's ``contracts``).
        base_dir: The folder relative file paths start from [default: the working directory].
        engine: Where the evidence is read: an engine (left open), or what ``--engine``
            takes (``"duckdb"``, ``"spark"``, ``"spark://HOST:PORT"``, ``"sc://HOST:PORT"``,
            ``"postgresql://..."``), opened for this audit and closed after it [default: the
            spec's ``engine:``, else a new embedded DuckDB engine].
        cross_check: Recompute up to this many groups (1 or more) of each fairness rule with
            fairlearn.
        window: Judge the fairness rules per time window, as ``--window`` does: ``"month"``,
            ``"week:decided_at"``, ``"90d:decided_at"``, or a dict such as ``{"every": "month",
            "column": "decided_at"}``; it windows every evidence set a fairness rule reads
            [default: each entry's ``window``, if any]. An entry may hold ``window`` of its own.
        progress: Told how far the scans and the rules' evaluation are.
        clock: Where the audit's times come from (a frozen one in tests).

    Returns:
        The report: ``status``, typed ``rules``, ``to_pandas()``, ``write(out, key=...)``.

    Raises:
        PolicyError, AuditSpecError: the policy, an evidence entry or an option (``contracts``,
            ``cross_check``, ``window``) is invalid.
        EvidenceError: a frame or file cannot be read, is empty, lacks a mapped column or holds
            a value a rule cannot read (its column named).
        TypeError: ``policy`` is not a path or a loaded policy (a dict: write it to a file),
            ``engine`` is neither an engine nor a target, or ``progress`` or ``clock`` cannot
            be called.
    """
    from ethicsgate.api._report import AuditReport
    from ethicsgate.policy.loader import LoadedPolicy
    from ethicsgate.session.audit import run_collecting_findings

    _check_options(cross_check, progress, clock)
    if not (engine is None or isinstance(engine, str) or callable(getattr(engine, "open", None))):
        raise TypeError(
            'engine= is an engine or what --engine takes, e.g. engine="spark" or '
            f'engine="postgresql://user@host/db"; not {engine!r}'
        )

    if evidence is None:
        if not isinstance(policy, str | Path | LoadedPolicy):
            from ethicsgate.policy.loader import not_a_policy

            raise not_a_policy(policy)
        if isinstance(policy, LoadedPolicy):
            raise AuditSpecError(
                "audit() needs evidence with a loaded policy",
                hint='pass evidence={"<dataset>": {"data": frame}} or an audit spec file',
            )
        from ethicsgate.audit.spec import load_audit_spec

        loaded = load_audit_spec(policy)
        if window is not None:
            from ethicsgate.audit.spec import with_window

            loaded = with_window(
                loaded, window_argument(window), option=window, option_name="window"
            )
    else:
        loaded = build_audit(
            policy,
            evidence,
            id=id,
            title=title,
            contracts=contracts,
            base_dir=base_dir,
            window=window,
        )
    owned: Engine | None = None
    if isinstance(engine, str):
        from ethicsgate.engines import open_engine

        engine = owned = open_engine(engine, location=Location(f"{PYTHON_SPEC}(engine)"))
    try:
        result, findings = run_collecting_findings(
            loaded, engine=engine, cross_check=cross_check, progress=progress, clock=clock
        )
    except EvidenceError as exc:
        _hint_index_columns(exc, evidence)
        raise
    finally:
        if owned is not None:
            owned.close()
    spec_json = loaded.source if loaded.source is not None else loaded.path.read_bytes()
    return AuditReport(result=result, spec_json=spec_json, findings_file=findings)


def _hint_index_columns(exc: EvidenceError, evidence: Mapping[str, Any] | None) -> None:
    """Add to ``exc``'s hint when the column it misses is a pandas frame's index level."""
    for entry in (evidence or {}).values():
        frame: Any = entry.get("data") if isinstance(entry, Mapping) else entry
        if type(frame).__module__.split(".")[0] != "pandas" or not hasattr(frame, "index"):
            continue
        for name in frame.index.names:
            if name is not None and f"no column {str(name)!r}" in exc.message:
                said = (
                    f"{str(name)!r} is the DataFrame's index, not a column: pass df.reset_index()"
                )
                exc.hint = f"{said}; {exc.hint}" if exc.hint else said
                return


def _check_options(cross_check: object, progress: object, clock: object) -> None:
    """Refuse options the audit would misread, before anything is read.

    Raises:
        AuditSpecError: ``cross_check`` is not a number of groups, 1 or more (``True`` is the
            int 1, and a negative count would slice groups off the end).
        TypeError: ``progress`` or ``clock`` cannot be called.
    """
    if cross_check is not None and (
        isinstance(cross_check, bool) or not isinstance(cross_check, int) or cross_check < 1
    ):
        raise AuditSpecError(
            "cross_check is how many groups of each fairness rule to recompute with fairlearn "
            f"(1 or more), not {cross_check!r}",
            location=Location(f"{PYTHON_SPEC}(cross_check)"),
            hint="e.g. cross_check=1000 (the CLI's --cross-check-groups default), or leave it out",
        )
    if progress is not None and not callable(progress):
        raise TypeError(
            "progress= is called with (stage, fraction done), e.g. "
            f"progress=lambda stage, done: print(stage, done); not {progress!r}"
        )
    if not callable(clock):
        raise TypeError(
            "clock= is called for the audit's times, e.g. "
            f"clock=lambda: datetime(2026, 1, 1, tzinfo=UTC); not {clock!r}"
        )


def build_audit(
    policy: str | Path | LoadedPolicy,
    evidence: Mapping[str, Any],
    *,
    id: str | None = None,
    title: str | None = None,
    contracts: Literal["stop", "report"] = "stop",
    base_dir: str | Path | None = None,
    window: str | Mapping[str, Any] | None = None,
) -> LoadedAudit:
    """Return the audit the arguments of :func:`audit` describe, checked, frames converted.

    Raises:
        PolicyError, AuditSpecError, EvidenceError: as :func:`audit`.
    """
    from ethicsgate.audit.spec import (
        AuditSpec,
        LoadedAudit,
        check_column_roles,
        check_evidence_names,
        with_window,
    )
    from ethicsgate.canonical import canonical_json
    from ethicsgate.policy.loader import LoadedPolicy, load_policy
    from ethicsgate.policy.yamlsource import pydantic_errors_to_message

    for option, value in (("id", id), ("title", title)):
        if value is not None and not isinstance(value, str):
            raise AuditSpecError(
                f"{option} is text, not {type(value).__name__} ({value!r})",
                location=Location(f"{PYTHON_SPEC}({option})"),
                hint=f"pass {option}=str(...)",
            )
    loaded_policy = policy if isinstance(policy, LoadedPolicy) else load_policy(policy)
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    if not isinstance(evidence, Mapping) or not evidence:
        raise AuditSpecError(
            "evidence must map dataset names to frames or files",
            location=Location(f"{PYTHON_SPEC}(evidence)"),
            hint='e.g. evidence={"predictions": {"data": df, "columns": {"label": "y"}}}',
        )
    entries = {str(name): _entry(str(name), value, base) for name, value in evidence.items()}
    document = {
        "schema_version": 1,
        "id": id or loaded_policy.pack.id,
        "title": title,
        "policy": loaded_policy.ref or str(loaded_policy.path),
        "contracts": contracts,
        "evidence": {name: described for name, (_, described) in entries.items()},
    }
    doc = _CallDocument(path=Path(PYTHON_SPEC), data=document)
    try:
        spec = AuditSpec.model_validate(
            {**document, "evidence": {name: spec for name, (spec, _) in entries.items()}}
        )
    except ValidationError as exc:
        errors: list[Any] = exc.errors()
        location, message = pydantic_errors_to_message(doc, errors)
        raise AuditSpecError(message, location=location) from exc
    check_evidence_names(
        spec,
        loaded_policy,
        doc,
        entry=lambda name: f'evidence["{name}"]',
        add=lambda name: f'add evidence["{name}"] = {{"data": frame}}',
        binder="evidence",
    )
    check_column_roles(
        spec, loaded_policy, doc, entry=lambda name: f'evidence["{name}"]["columns"]'
    )
    described = document
    if window is not None:
        # the call's window is part of what the report binds, as --window is the CLI's
        parsed = window_argument(window)
        described = {**document, "window": parsed.model_dump(mode="json", exclude_none=True)}
    loaded = LoadedAudit(
        spec=spec,
        path=base / "audit.python",  # relative evidence paths start from base
        document=doc,
        policy=loaded_policy,
        source=canonical_json(described),
        display=PYTHON_SPEC,
    )
    if window is None:
        return loaded
    return with_window(loaded, parsed, option=window, option_name="window")


def window_argument(
    window: str | Mapping[str, Any] | WindowSpec, where: str = "window"
) -> WindowSpec:
    """Return the window of :func:`audit`'s ``window``: ``--window`` text or a window dict.

    Raises:
        AuditSpecError: not a window (the message says what one looks like).
    """
    from ethicsgate.audit.spec import parse_window_option, window_unit_guess
    from ethicsgate.evidence.spec import WindowSpec

    if isinstance(window, WindowSpec):
        return window
    cause: Exception | None = None
    if isinstance(window, str):
        try:
            return parse_window_option(window, option_name="window")
        except AuditSpecError as exc:
            zone = "time zone" in exc.message
            unit = window.partition("@")[0].partition(":")[0]
            detail = exc.message if zone else f"{window!r} is not a window"
            if not zone:
                detail += window_unit_guess(unit)
            cause = exc
    elif isinstance(window, Mapping):
        try:
            return WindowSpec.model_validate(dict(window))
        except ValidationError as exc:
            first = exc.errors()[0]
            detail = str(first["msg"]).removeprefix("Value error, ")
            if first["type"] == "literal_error" and first["loc"] == ("every",):
                detail += window_unit_guess(str(first["input"]))
            cause = exc
    else:
        detail = f"a window is text or a dict, not {type(window).__name__}"
    raise AuditSpecError(
        detail,
        location=Location(f"{PYTHON_SPEC}({where})"),
        hint='write window="month:decided_at" (day, week, month, quarter or a number of '
        'days such as 90d, then :COLUMN and @ZONE), or {"every": "month", '
        '"column": "decided_at", "time_zone": "Europe/Berlin"}, or {"last": "90d"}',
    ) from cause


def _entry(name: str, value: Any, base: Path) -> tuple[Any, dict[str, Any]]:
    """Return one evidence entry as a spec (a model, or a dict to validate) and as described."""
    from ethicsgate.evidence.arrow import describe_frame, to_arrow_table
    from ethicsgate.evidence.spec import MemoryEvidenceSpec

    where = Location(f'{PYTHON_SPEC}(evidence["{name}"])')
    if isinstance(value, str | Path):
        return {"path": str(value)}, {"path": str(value)}
    if not isinstance(value, Mapping):
        # a frame on its own: the common case deserves the short form
        value = {"data": value}
    unknown = sorted(set(map(str, value)) - {"data", *_ENTRY_KEYS})
    if unknown:
        raise AuditSpecError(
            f"evidence {name!r}: unknown key {unknown[0]!r}"
            f"{did_you_mean(unknown[0], ['data', *_ENTRY_KEYS])}",
            location=where,
            hint=f"an entry holds data or path, and {', '.join(_ENTRY_KEYS[1:])}",
        )
    if value.get("window") is not None:
        window = window_argument(value["window"], where=f'evidence["{name}"]["window"]')
        value = {**value, "window": window.model_dump(mode="json", exclude_none=True)}
    if "data" not in value:
        plain = dict(value)
        return plain, plain
    if {"format", "options", "version"} & set(value):
        raise AuditSpecError(
            f"evidence {name!r}: format, options and version are for files, not data",
            location=where,
            hint="drop format/options/version, or pass the file under path instead of data",
        )
    table = to_arrow_table(
        value["data"], name=name, location=Location(f'{PYTHON_SPEC}(evidence["{name}"]["data"])')
    )
    kind = describe_frame(value["data"])
    if table.num_columns == 0 or table.num_rows == 0:
        raise EvidenceError(
            f"evidence {name!r}: the {kind} is empty "
            f"({table.num_rows} rows, {table.num_columns} columns)",
            location=where,
            hint="audit a frame with the rows to check; an empty audit would pass vacuously",
        )
    path = str(value.get("path") or f"{name}.parquet")
    fields = {k: value[k] for k in ("filter", "columns", "window") if k in value}
    try:
        spec = MemoryEvidenceSpec(path=path, data=table, kind=kind, **fields)
    except ValidationError as exc:
        raise AuditSpecError(
            f"evidence {name!r}: {exc.errors()[0]['msg']} at "
            f"{'.'.join(map(str, exc.errors()[0]['loc']))}",
            location=where,
        ) from exc
    described = {
        **fields,
        "path": path,
        "data": {"kind": kind, "columns": table.column_names, "rows": table.num_rows},
    }
    return spec, described


class _CallDocument(YamlDocument):
    """Stands in for the YAML document of a spec that is a Python call: locates by key path."""

    def locate(self, loc: Sequence[str | int], *, key: bool = False) -> Location:
        """Return the place of ``loc`` in the call, e.g. ``evidence["x"]["columns"]["label"]``."""
        parts = list(loc)
        if parts[:1] == ["evidence"] and len(parts) > 1:
            text = "".join(f"[{p!r}]".replace("'", '"') for p in parts[1:])
            return Location(f"{PYTHON_SPEC}(evidence{text})")
        return Location(f"{PYTHON_SPEC}({'.'.join(map(str, parts)) or 'arguments'})")
