"""Audit specs: bind a policy pack to named evidence (``audits/*.yaml``)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import Field, ValidationError

from ethicsgate.base import Identifier, StrictModel
from ethicsgate.errors import AuditSpecError, PolicyError, did_you_mean
from ethicsgate.evidence.spec import EvidenceSpec, WindowEvery, WindowSpec, check_time_zone
from ethicsgate.policy.loader import LoadedPolicy, load_policy
from ethicsgate.policy.packs import is_pack_ref, pack_path
from ethicsgate.policy.yamlsource import YamlDocument, load_yaml, validate_document

__all__ = [
    "AuditSpec",
    "EngineSpec",
    "LoadedAudit",
    "NotifySpec",
    "check_column_roles",
    "check_evidence_names",
    "load_audit_spec",
    "parse_window_option",
    "window_unit_guess",
    "with_window",
]


class NotifySpec(StrictModel):
    """A webhook told about the audit's outcome (``ethicsgate audit`` posts after the report)."""

    url: str = Field(
        min_length=1,
        description="The webhook URL; write secrets as ${ENV_VAR} (e.g. url: ${SLACK_WEBHOOK}) "
        "so they stay out of the spec. Messages and errors never show its path or query.",
    )
    format: Literal["slack", "teams", "generic"] = Field(
        default="generic",
        description="slack: Slack incoming webhook (text + blocks); teams: a Teams workflow "
        "webhook (an Adaptive Card); generic: ethicsgate's own JSON.",
    )
    when: Literal["problems", "always"] = Field(
        default="problems",
        description="problems: post only when a rule fails, warns or errors; always: every run.",
    )
    tries: int = Field(default=3, ge=1, le=10, description="Attempts before giving up.")
    timeout: float = Field(default=10.0, gt=0, le=120, description="Seconds per attempt.")


class EngineSpec(StrictModel):
    """Where the evidence is read: an engine target and its settings (``engine:``)."""

    target: str = Field(
        min_length=1,
        description="duckdb (the default), spark or local[N], spark://HOST:PORT, "
        "sc://HOST:PORT (Spark Connect), or a SQLAlchemy URL such as "
        "postgresql://USER@HOST/DB (write a password as ${ENV_VAR}; it is never shown).",
    )
    conf: dict[str, str] = Field(
        default_factory=dict,
        description="Engine settings: Spark conf (spark.sql.shuffle.partitions: '8', ...), "
        "or for a SQL database options of its connection.",
    )


class AuditSpec(StrictModel):
    """An audit: which policy, run against which evidence. Paths are relative to this file."""

    schema_version: Literal[1] = Field(description="Version of the audit spec format: 1.")
    id: Identifier = Field(description="Names the report folder: reports/<id>/.")
    title: str | None = None
    description: str | None = None
    policy: str = Field(
        min_length=1,
        description="Path of the policy pack (relative to this file), or pack:NAME for a pack "
        "shipped with ethicsgate (`ethicsgate policy list`).",
    )
    evidence: dict[Identifier, EvidenceSpec] = Field(
        min_length=1,
        description="Evidence sets by the name rules use as `dataset`. Each must be one a "
        "rule reads: an entry no rule reads is an error (a misspelled name would leave its "
        "data unaudited).",
    )
    contracts: Literal["stop", "report"] = Field(
        default="stop",
        description="Evidence a rule cannot read (a missing column, a label that is not 0/1, "
        "a score that is not finite, a timestamp that does not parse, an id naming two "
        "records). stop: the audit stops at the first such value (exit 2, no report). "
        "report: built-in data contracts derived from the rules are checked first (as "
        "DuckDB queries); each failure is reported and only the rules that depend on it "
        "are error (exit 1 for a block rule).",
    )
    engine: str | EngineSpec | None = Field(
        default=None,
        description="Where the evidence is read (the command line's --engine overrides it): "
        "an engine target, or {target: ..., conf: {...}}. Default: the embedded DuckDB.",
    )
    notify: list[NotifySpec] = Field(
        default_factory=list,
        description="Webhooks to post the outcome to (failing rules and groups with their "
        "figures and a link to the report; never evidence rows). A failed post is reported "
        "and never changes the exit code.",
    )


@dataclass(frozen=True)
class LoadedAudit:
    """A validated audit spec, its policy, and where both came from."""

    spec: AuditSpec
    path: Path
    document: YamlDocument
    policy: LoadedPolicy
    source: bytes | None = None
    """The spec's bytes when it is no file (``ethicsgate.audit`` in Python); else read ``path``."""
    display: str | None = None
    """How the report names a spec that is no file (``python:ethicsgate.audit``)."""
    window_option: str | None = None
    """How the option that set the evidence's windows was given (``--window 'month'``, or
    ``window='month'`` in Python); errors about the windows name it."""
    window_option_name: str = "--window"
    """The option's name: ``--window`` (the CLI) or ``window`` (:func:`ethicsgate.audit`)."""
    window_option_column: bool = False
    """Whether ``window_option`` named the column (else it came from the spec or the role)."""

    @property
    def base_dir(self) -> Path:
        """Return the folder the spec's relative paths start from."""
        return self.path.parent


def load_audit_spec(path: Path | str) -> LoadedAudit:
    """Parse an audit spec, load its policy, and check that every rule's dataset is bound.

    Raises:
        AuditSpecError: the spec is missing, invalid, or binds no evidence a rule needs.
        PolicyError: the policy it names is invalid.
    """
    path = Path(path)
    doc = load_yaml(path, error=AuditSpecError, what="audit spec")
    spec = validate_document(
        AuditSpec, doc, error=AuditSpecError, schema="ethicsgate policy schema --kind audit"
    )
    policy = load_policy(_policy_source(spec, path, doc))
    check_evidence_names(spec, policy, doc)
    check_column_roles(spec, policy, doc)
    return LoadedAudit(spec=spec, path=path, document=doc, policy=policy)


def check_evidence_names(
    spec: AuditSpec,
    policy: LoadedPolicy,
    doc: YamlDocument,
    *,
    entry: Callable[[str], str] = lambda name: f"evidence.{name}",
    add: Callable[[str], str] = lambda name: f"add evidence.{name} with a path",
    binder: str = "this audit",
) -> None:
    """Raise unless the evidence entries are the datasets the policy's rules read, no more.

    An entry no rule reads is an error, not ignored: a misspelled name (``predictionz`` beside
    ``predictions``) would leave its data unaudited. ``entry`` writes an entry's name as the
    spec does (``evidence.x``, or ``evidence["x"]`` in Python), ``add`` how to bind a dataset,
    ``binder`` what binds them (``this audit``).

    Raises:
        AuditSpecError: a rule reads a dataset no entry binds (with the entry it was probably
            meant to be), or an entry is read by no rule (did you mean; the datasets read).
    """
    # the rule's dataset, and e.g. a consent rule's ledger; a data contract's too
    read = list(dict.fromkeys(d for rule in policy.pack.rules for d in rule.datasets))
    unread = [name for name in spec.evidence if name not in read]
    for index, rule in enumerate(policy.pack.rules):
        for dataset in rule.datasets:
            if dataset in spec.evidence:
                continue
            bound = ", ".join(spec.evidence) or "none"
            typo = _closest(dataset, unread)
            fix = f"{add(dataset)}, or change the rule ({policy.rule_location(index)})"
            raise AuditSpecError(
                f"rule {rule.id!r} of {policy.ref or policy.path} reads dataset {dataset!r}, "
                f"which {binder} does not bind (bound: {bound})",
                location=doc.locate(("evidence", typo), key=True)
                if typo
                else doc.locate(("evidence",)),
                hint=f"rename {entry(typo)} to {dataset!r}, or {fix}" if typo else fix,
            )
    for name in unread:
        typo = _closest(name, read)
        guess = f" (did you mean {typo!r}?)" if typo else ""
        raise AuditSpecError(
            f"evidence {name!r} is read by no rule of policy {policy.pack.id!r}{guess}",
            location=doc.locate(("evidence", name), key=True),
            hint=f"the rules of the policy read: {', '.join(read)}; rename {entry(name)} to "
            "the dataset it holds, or remove it (no rule would audit its data)",
        )


#: A name the policy may give a role: any Identifier (``zip-code``, ``age.band``, ``2nd_score``),
#: as a ``columns:`` key is one.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")


def check_column_roles(
    spec: AuditSpec,
    policy: LoadedPolicy,
    doc: YamlDocument,
    *,
    entry: Callable[[str], str] = lambda name: f"evidence.{name}.columns",
) -> None:
    """Raise unless every ``columns:`` key of the evidence names a role a rule could read.

    A misspelled role (``lable: hired``) would be ignored: the rule would read the column of
    the role's own name, or stop at its absence, and never the column the spec meant. A key is
    a role when ethicsgate reads it by that name (:data:`~ethicsgate.evidence.roles.KNOWN_ROLES`,
    whether or not this policy's rules read it: specs are shared across policies) or the
    policy names it (a sensitive feature, a finding field, a plug-in kind's role). ``entry``
    writes an entry's mapping as the spec does (``evidence.x.columns``).

    Raises:
        AuditSpecError: a key is neither, located at the key, with the closest known name.
    """
    from ethicsgate.evidence.roles import KNOWN_ROLES

    named: set[str] | None = None
    # a plug-in kind may read roles by names of its own in its scan (dataset.grouped_counts):
    # what it reads is its business, so a dataset one reads maps any key
    unchecked = _plugin_datasets(policy)
    for name, evidence in spec.evidence.items():
        for key in evidence.columns:
            if key in KNOWN_ROLES or name in unchecked:
                continue
            if named is None:
                named = _policy_names(policy)
            if key in named:
                continue
            read = _roles_read(policy, name)
            choices = list(dict.fromkeys([*KNOWN_ROLES, *read]))
            typo = _closest(key, choices)
            guess = f" (did you mean {typo!r}?)" if typo else ""
            policy_reads = (
                f"; policy {policy.pack.id!r} also reads {', '.join(read)} from it" if read else ""
            )
            window = evidence.window.column if evidence.window is not None else None
            if window is not None and key == window:
                # the window's column is SQL over the evidence, read as written: not a role
                raise AuditSpecError(
                    f"evidence {name!r} maps {key!r}, the window's column: a window column is "
                    "read as written, not through columns:",
                    location=doc.locate(("evidence", name, "columns", key), key=True),
                    hint=f"write the column or SQL in the window itself (window: {{column: "
                    f'"{evidence.columns[key]}", ...}}) and remove {key!r} from {entry(name)}',
                )
            raise AuditSpecError(
                f"evidence {name!r} maps {key!r}, which is no role ethicsgate knows and no "
                f"column policy {policy.pack.id!r} names{guess}",
                location=doc.locate(("evidence", name, "columns", key), key=True),
                hint=f"the roles ethicsgate knows: {', '.join(KNOWN_ROLES)}{policy_reads}; "
                f"rename the key in {entry(name)} to the role it maps, or remove it",
            )


def _policy_names(policy: LoadedPolicy) -> set[str]:
    """Return every name the policy's rules write (keys and values), a role among them."""
    names: set[str] = set()
    todo: list[Any] = [rule.model_dump(mode="json") for rule in policy.pack.rules]
    while todo:
        value = todo.pop()
        if isinstance(value, dict):
            todo += value.values()
            names.update(k for k in value if isinstance(k, str) and _NAME.fullmatch(k))
        elif isinstance(value, list):
            todo += value
        elif isinstance(value, str) and _NAME.fullmatch(value):
            names.add(value)
    for rule in policy.pack.rules:  # a plug-in kind may read roles no field names
        for roles in _kind_roles(rule).values():
            names.update(roles)
    return names


def _plugin_datasets(policy: LoadedPolicy) -> set[str]:
    """Return the datasets a rule of a kind registered from outside ethicsgate reads."""
    from ethicsgate.rules.registry import BUILTIN

    builtin = {kind.name for kind in BUILTIN}
    return {d for rule in policy.pack.rules if rule.kind not in builtin for d in rule.datasets}


def roles_read(policy: LoadedPolicy, dataset: str) -> list[str]:
    """Return every name the policy's rules read from ``dataset``: roles and checked columns."""
    read = (n for rule in policy.pack.rules for n in _kind_roles(rule).get(dataset, []))
    return list(dict.fromkeys(read))


def _kind_roles(rule: Any) -> dict[str, list[str]]:
    """Return, per dataset, the names the rule reads: its typed roles and checked columns."""
    from ethicsgate.rules.registry import kind_of

    kind = kind_of(rule)
    read: dict[str, list[str]] = {}
    for dataset, roles in kind.roles(rule).items():
        read.setdefault(dataset, []).extend(role.name for role in roles)
    for dataset, check in kind.builtin_checks(rule):
        read.setdefault(dataset, []).append(check.column)
    return read


def _roles_read(policy: LoadedPolicy, dataset: str) -> list[str]:
    """Return the names the policy's rules read from ``dataset`` beyond the known roles."""
    from ethicsgate.evidence.roles import KNOWN_ROLES

    read = (n for rule in policy.pack.rules for n in _kind_roles(rule).get(dataset, []))
    return [n for n in dict.fromkeys(read) if n not in KNOWN_ROLES]


def _closest(name: str, names: list[str]) -> str | None:
    close = difflib.get_close_matches(name, names, n=1)
    return close[0] if close else None


def _policy_source(spec: AuditSpec, path: Path, doc: YamlDocument) -> Path | str:
    """Return the policy file the spec names, or its ``pack:NAME``, checked to exist."""
    if is_pack_ref(spec.policy):
        try:
            pack_path(spec.policy)
        except PolicyError as exc:
            raise AuditSpecError(
                exc.message, location=doc.locate(("policy",)), hint=exc.hint
            ) from exc
        return spec.policy
    policy_path = Path(spec.policy)
    if not policy_path.is_absolute():
        policy_path = path.parent / policy_path
    if not policy_path.is_file():
        raise AuditSpecError(
            f"policy file not found: {policy_path}",
            location=doc.locate(("policy",)),
            hint="the policy path is relative to the audit spec's folder; or name a shipped "
            "pack as pack:NAME (`ethicsgate policy list`)",
        )
    return policy_path


#: The ``@ZONE`` that ends ``--window month:decided_at@Europe/Berlin`` (an IANA name: letters,
#: digits, ``_ + - /``); an ``@`` followed by anything else belongs to the column's SQL.
_ZONE_SUFFIX = re.compile(r"@\s*([A-Za-z][A-Za-z0-9_+\-/]*)\s*$")


def _column_own_at(name: str, before: str) -> bool:
    """Return whether ``@name`` belongs to the column (``month:user@example``), not a zone.

    So when a column is given and ``name`` is no IANA zone nor close to one (a misspelt
    zone is still named as such, with the one meant).
    """
    if ":" not in before:
        return False
    try:
        check_time_zone(name)
    except ValueError as exc:
        return "did you mean" not in str(exc)
    return False


def parse_window_option(text: str, option_name: str = "--window") -> WindowSpec:
    """Return the window of ``--window``: ``month``, ``week:decided_at``, ``90d:decided_at``.

    A time zone ends it after ``@``: ``month@Europe/Berlin``, ``month:decided_at@Europe/Berlin``.

    Raises:
        AuditSpecError: the text names no calendar unit or number of days, or the zone is
            not an IANA time zone (the closest one is named).
    """
    zone: str | None = None
    found = _ZONE_SUFFIX.search(text)
    body = text
    if found is not None and not _column_own_at(found.group(1), text[: found.start()]):
        zone, body = found.group(1), text[: found.start()]
    unit, _, column = body.partition(":")
    unit = unit.strip().lower()
    fields: dict[str, Any] = {"column": column.strip() or None}
    if unit in ("day", "week", "month", "quarter"):
        fields["every"] = unit
    else:
        fields["last"] = unit
    if zone is not None:
        try:
            fields["time_zone"] = check_time_zone(zone)
        except ValueError as exc:
            raise AuditSpecError(
                f"{option_name} {text!r}: {exc}",
                hint="the time zone follows @ and is an IANA name, e.g. "
                "--window month:decided_at@Europe/Berlin",
            ) from None
    try:
        return WindowSpec.model_validate(fields)
    except ValidationError as exc:
        raise AuditSpecError(
            f"{option_name} {text!r}: not a window{window_unit_guess(unit)}",
            hint="write day, week, month or quarter, or a number of days such as 90d, "
            "optionally followed by :COLUMN and @ZONE "
            "(e.g. --window month:decided_at or --window month:decided_at@Europe/Berlin)",
        ) from exc


def window_unit_guess(unit: str) -> str:
    """Return `` (did you mean 'month'?)`` for a misspelt window unit (``montth``), else ``""``."""
    return did_you_mean(unit.strip().lower(), get_args(WindowEvery))


def with_window(
    audit: LoadedAudit,
    window: WindowSpec,
    *,
    option: object | None = None,
    option_name: str = "--window",
) -> LoadedAudit:
    """Return ``audit`` with every evidence set a fairness rule reads split by ``window``.

    The column is the window's, else the one the spec already windows by, else the
    ``timestamp`` role; the time zone likewise the window's, else the spec's, else UTC.
    ``option``: what ``option_name`` (``--window``, or ``window`` in Python) was given, which
    errors about the window then name instead of the spec.

    Raises:
        AuditSpecError: no fairness rule reads the audit's evidence (nothing to split).
    """
    datasets = {r.dataset for r in audit.policy.pack.rules if r.kind == "fairness"}
    if not datasets & set(audit.spec.evidence):
        # asked for windows, it would have got the plain report: said, not ignored
        raise AuditSpecError(
            f"a window splits the evidence of fairness rules, and policy "
            f"{audit.policy.pack.id!r} has no fairness rule over this audit's evidence",
            location=audit.display or audit.path,
            hint="drop the window (--window), or audit a policy with fairness rules",
        )
    evidence = dict(audit.spec.evidence)
    for name in datasets & set(evidence):
        spec = evidence[name]
        column = window.column or (spec.window.column if spec.window else None)
        zone = window.time_zone or (spec.window.time_zone if spec.window else None)
        evidence[name] = spec.model_copy(
            update={"window": window.model_copy(update={"column": column, "time_zone": zone})}
        )
    return replace(
        audit,
        spec=audit.spec.model_copy(update={"evidence": evidence}),
        window_option=None
        if option is None
        else f"{option_name} {option!r}"
        if option_name.startswith("-")
        else f"{option_name}={option!r}",
        window_option_name=option_name,
        window_option_column=window.column is not None,
    )
