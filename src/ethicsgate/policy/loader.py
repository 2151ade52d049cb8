"""Load policy packs from YAML into validated models, with located errors."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from ethicsgate.errors import PolicyError, did_you_mean
from ethicsgate.metrics import ALIASES, METRICS
from ethicsgate.policy.models import (
    ASSERTION_ONLY_METRICS,
    CHECKS,
    PLANNED_KINDS,
    PolicyPack,
    rule_kinds,
)
from ethicsgate.policy.packs import is_pack_ref, pack_names, pack_path
from ethicsgate.policy.waivers import check_systems, check_waivers
from ethicsgate.policy.yamlsource import YamlDocument, load_yaml, validate_document

__all__ = ["LoadedPolicy", "PackInfo", "list_packs", "load_policy", "not_a_policy"]


@dataclass(frozen=True)
class LoadedPolicy:
    """A validated policy pack and the exact file it came from."""

    pack: PolicyPack
    path: Path
    sha256: str
    document: YamlDocument
    #: ``pack:NAME`` when the policy is a pack shipped with ethicsgate, else None
    ref: str | None = None

    def rule_location(self, index: int) -> str:
        """Return ``file:line:column`` of the rule at ``index``."""
        return str(self.document.locate(("rules", index)))


def load_policy(path: Path | str) -> LoadedPolicy:
    """Parse and validate a policy pack: a file, or ``pack:NAME`` for a shipped pack.

    Raises:
        PolicyError: the file is missing, not YAML, or not a valid pack, or no shipped pack has
            that name; the message names file:line:column and the fix.
        TypeError: ``path`` is not a path (a dict, say): the message says what a policy is.
    """
    if not isinstance(path, str | os.PathLike):
        raise not_a_policy(path)
    ref = str(path) if is_pack_ref(path) else None
    path = pack_path(ref) if ref is not None else Path(path)
    doc = load_yaml(path, error=PolicyError, what="policy")
    _precheck(doc)
    pack = validate_document(PolicyPack, doc, error=PolicyError, schema="ethicsgate policy schema")
    _check_pack(doc, pack)
    check_waivers(doc, pack)
    check_systems(doc, pack)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return LoadedPolicy(pack=pack, path=path, sha256=digest, document=doc, ref=ref)


def not_a_policy(value: object) -> TypeError:
    """Return the error for a policy argument that is no path: it says what a policy is."""
    advice = (
        ": write it to a YAML file (yaml.safe_dump) and pass the file's path; a report names "
        "its policy by the file's bytes"
        if isinstance(value, Mapping)
        else ""
    )
    return TypeError(
        "policy is a file's path, 'pack:NAME' or ethicsgate.load_policy(path), "
        f"not {type(value).__name__}{advice}"
    )


def _precheck(doc: YamlDocument) -> None:
    rules = doc.data.get("rules")
    if not isinstance(rules, list):
        return
    for index, rule in enumerate(rules):
        # a kind that is not text (a list, a mapping) is left to the model's located error
        kind = rule.get("kind") if isinstance(rule, dict) else None
        if isinstance(kind, str) and kind in PLANNED_KINDS:
            raise PolicyError(
                f"rule {rule.get('id')!r}: kind {rule['kind']!r} is not supported by this "
                f"version of ethicsgate (supported: {', '.join(_supported_kinds())})",
                location=doc.locate(("rules", index, "kind")),
                hint="upgrade ethicsgate or remove the rule",
            )
        if isinstance(kind, str) and kind in CHECKS:
            _check_check_name(doc, index, rule)
        if isinstance(rule, dict) and isinstance(rule.get("metrics"), list):
            for m_index, metric in enumerate(rule["metrics"]):
                _check_metric_name(doc, ("rules", index, "metrics", m_index), metric)
        if isinstance(rule, dict) and isinstance(rule.get("assert"), list):
            for a_index, assertion in enumerate(rule["assert"]):
                if isinstance(assertion, dict) and "metric" in assertion:
                    loc = ("rules", index, "assert", a_index, "metric")
                    _check_metric_name(doc, loc, assertion["metric"], also=ASSERTION_ONLY_METRICS)


def _supported_kinds() -> list[str]:
    return [str(get_args(kind.model_fields["kind"].annotation)[0]) for kind in rule_kinds()]


def _check_check_name(doc: YamlDocument, index: int, rule: dict[str, Any]) -> None:
    kind, check = rule["kind"], rule.get("check")
    known = CHECKS[kind]
    if "check" not in rule:
        raise PolicyError(
            f"rule {rule.get('id')!r} of kind {kind} needs a 'check' (one of: {', '.join(known)})",
            location=doc.locate(("rules", index, "kind")),
            hint=f"add e.g. check: {known[0]}; docs/rules-logs.md describes every check",
        )
    if not isinstance(check, str) or check not in known:
        raise PolicyError(
            f"unknown check {check!r} for kind {kind}{did_you_mean(str(check), known)}",
            location=doc.locate(("rules", index, "check")),
            hint=f"checks of kind {kind}: {', '.join(known)}",
        )


def _check_metric_name(
    doc: YamlDocument, loc: tuple[str | int, ...], metric: Any, *, also: tuple[str, ...] = ()
) -> None:
    known = [*METRICS, *also]
    if isinstance(metric, str) and metric not in known and metric not in ALIASES:
        raise PolicyError(
            f"unknown metric {metric!r}{did_you_mean(metric, known)}",
            location=doc.locate(loc),
            hint=f"known metrics: {', '.join(known)}",
        )


def _check_pack(doc: YamlDocument, pack: PolicyPack) -> None:
    seen: dict[str, int] = {}
    for index, rule in enumerate(pack.rules):
        if rule.id in seen:
            raise PolicyError(
                f"rule id {rule.id!r} is used twice (first at rule {seen[rule.id] + 1})",
                location=doc.locate(("rules", index, "id")),
                hint="give every rule a unique id",
            )
        seen[rule.id] = index
    known = {ref.id for ref in pack.references}
    for index, rule in enumerate(pack.rules):
        for r_index, ref in enumerate(rule.references):
            if ref not in known:
                raise PolicyError(
                    f"rule {rule.id!r} cites unknown reference {ref!r}",
                    location=doc.locate(("rules", index, "references", r_index)),
                    hint=f"declare it under the pack's 'references' (known: {sorted(known)})",
                )
        if rule.contract:
            _check_guards(doc, pack, index, rule, seen)
        drifts = getattr(rule, "drift", None) is not None  # a drift finding can fail it
        if (
            rule.has_assertions
            and not rule.rule_assertions
            and rule.severity == "block"
            and not drifts
        ):
            raise PolicyError(
                f"rule {rule.id!r} has severity block but no assertions, so it could never fail",
                location=doc.locate(("rules", index, "severity")),
                hint="add an 'assert' list (or a drift policy), or set severity: info to report "
                "metrics only",
            )


def _check_guards(
    doc: YamlDocument, pack: PolicyPack, index: int, rule: Any, ids: dict[str, int]
) -> None:
    for g_index, guarded in enumerate(rule.guards or []):
        target = pack.rules[ids[guarded]] if guarded in ids else None
        if target is None or target.id == rule.id or target.contract:
            what = "is not a rule of this pack" if target is None else "cannot be guarded"
            raise PolicyError(
                f"data_quality rule {rule.id!r} guards {guarded!r}, which {what}",
                location=doc.locate(("rules", index, "guards", g_index)),
                hint="list the ids of the fairness, transparency, consent or oversight rules "
                "that must not run on evidence that breaks this contract",
            )


@dataclass(frozen=True)
class PackInfo:
    """One shipped pack, as ``ethicsgate policy list`` shows it."""

    name: str
    version: str
    title: str
    references: list[str]
    rules: int
    systems: int
    sha256: str
    #: where the pack's law applies and from when (``scope``), or ``None`` if it does not say
    jurisdiction: str | None = None
    in_force: str | None = None


def list_packs() -> list[PackInfo]:
    """Return every shipped pack, validated, by name."""
    packs = []
    for name in pack_names():
        path = pack_path(name)
        pack = load_policy(path).pack
        packs.append(
            PackInfo(
                name=name,
                version=pack.version,
                title=pack.title,
                references=[ref.title for ref in pack.references],
                rules=len(pack.rules),
                systems=len(pack.systems),
                sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                jurisdiction=pack.scope.jurisdiction if pack.scope else None,
                in_force=(
                    min(d.date for d in pack.scope.in_force).isoformat()
                    if pack.scope and pack.scope.in_force
                    else None
                ),
            )
        )
    return packs
