"""SARIF 2.1.0 of a gate, for code scanning: one result per finding, located in the policy.

``ruleId`` is the policy rule's id (``<rule id>/regression`` for a regression against the
baseline); ``partialFingerprints`` hash what identifies a finding (policy, rule, assertion,
group), never its numbers, so the same problem keeps its identity from run to run. A waived
finding carries an accepted external suppression with the waiver's reason. A rule or
assertion the baseline gave nothing to compare with is a ``notApplicable`` result of its
``<rule id>/regression`` check (level ``none``), so "no regression" is never read into it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import PurePosixPath
from typing import Any

from ethicsgate import __version__
from ethicsgate.gate.outcome import GateResult
from ethicsgate.report.formats.base import Format
from ethicsgate.rules.results import RuleResult
from ethicsgate.vocabulary import group_label

__all__ = ["SARIF", "SARIF_SCHEMA", "render_sarif"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_INFO_URI = "https://ethicsgate.dev/"
_LEVELS = {"block": "error", "warn": "warning", "info": "note"}


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def _location(gate: GateResult, position: tuple[int, int]) -> dict[str, Any]:
    uri = gate.policy_uri
    if PurePosixPath(uri).is_absolute():
        uri = PurePosixPath(uri).as_uri()
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": uri},
            "region": {"startLine": position[0], "startColumn": position[1]},
        }
    }


def _waiver_suppressions(rule: RuleResult) -> list[dict[str, Any]]:
    return [
        {
            "kind": "external",
            "status": "accepted",
            "justification": f"{w.reason} (approved by {w.approver}, until {w.expires})",
        }
        for w in rule.waivers
        if not w.expired
    ]


def _descriptor(rule_id: str, title: str, help_text: str, level: str, tags: list[str]) -> Any:
    return {
        "id": rule_id,
        "name": rule_id,
        "shortDescription": {"text": title},
        "fullDescription": {"text": help_text},
        "defaultConfiguration": {"level": level},
        "properties": {"tags": tags},
    }


def render_sarif(gate: GateResult) -> bytes:
    """Return the SARIF 2.1.0 log (UTF-8 JSON bytes) of a gate."""
    result = gate.result
    policy_id = result.audit.policy.id
    descriptors: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    index: dict[str, int] = {}

    def add_descriptor(descriptor: dict[str, Any]) -> None:
        index[descriptor["id"]] = len(descriptors)
        descriptors.append(descriptor)

    for rule in result.rules:
        level = _LEVELS.get(rule.severity, "warning")
        add_descriptor(
            _descriptor(
                rule.id,
                rule.title or rule.id,
                f"ethicsgate {rule.kind} rule {rule.id!r} of policy {policy_id!r}",
                level,
                ["ethicsgate", rule.kind, rule.severity],
            )
        )
        if gate.baseline is not None and gate.assertion_names.get(rule.id):
            add_descriptor(
                _descriptor(
                    f"{rule.id}/regression",
                    f"{rule.title or rule.id}: no regression against the released model",
                    "An asserted value got worse than in the baseline report by more than its "
                    "max_regression budget.",
                    level,
                    ["ethicsgate", "regression", rule.severity],
                )
            )

    for rule in result.rules:
        status = rule.status.value
        if status in ("pass", "skipped"):
            continue
        level = _LEVELS.get(rule.severity, "warning")
        rule_pos = gate.rule_positions.get(rule.id, (1, 1))
        names = gate.assertion_names.get(rule.id, [])
        suppressions = _waiver_suppressions(rule)
        findings: list[tuple[str, str, str, tuple[int, int]]] = []  # key, status, message, pos
        for name, assertion in zip(names, rule.assertions, strict=False):
            if assertion.status in ("fail", "error", "waived"):
                pos = gate.assertion_positions.get((rule.id, name), rule_pos)
                findings.append((name, assertion.status, assertion.message, pos))
        if not findings:
            findings.append(("", status, rule.message, rule_pos))
        for key, finding_status, message, pos in findings:
            entry: dict[str, Any] = {
                "ruleId": rule.id,
                "ruleIndex": index[rule.id],
                "kind": "fail",
                "level": level,
                "message": {"text": f"{rule.id}: {message}"},
                "locations": [_location(gate, pos)],
                "partialFingerprints": {
                    "ethicsgateFinding/v1": _fingerprint(policy_id, rule.id, key)
                },
                "properties": {"status": finding_status, "severity": rule.severity},
            }
            if status == "waived" or finding_status == "waived":
                entry["suppressions"] = suppressions or [
                    {"kind": "external", "status": "accepted", "justification": "waived"}
                ]
            results.append(entry)

    for reg in gate.regressions:
        rule_id = f"{reg.rule}/regression"
        pos = gate.assertion_positions.get(
            (reg.rule, reg.assertion), gate.rule_positions.get(reg.rule, (1, 1))
        )
        entry = {
            "ruleId": rule_id,
            "ruleIndex": index[rule_id],
            "kind": "fail",
            "level": _LEVELS.get(reg.severity, "warning"),
            "message": {
                "text": f"{reg.rule}: {reg.metric} {reg.aggregate} for {group_label(reg.group)} "
                f"went from {reg.baseline:.4g} to {reg.candidate:.4g}, worse by "
                f"{reg.worse_by:.4g} (budget {reg.budget:.4g})"
            },
            "locations": [_location(gate, pos)],
            "partialFingerprints": {
                "ethicsgateFinding/v1": _fingerprint(
                    policy_id,
                    rule_id,
                    reg.assertion,
                    json.dumps(reg.group, sort_keys=True),
                )
            },
            "properties": {"status": "waived" if reg.waived else "fail", "severity": reg.severity},
        }
        if reg.waived:
            entry["suppressions"] = [
                {"kind": "external", "status": "accepted", "justification": reg.waiver_reason}
            ]
        results.append(entry)

    for item in gate.not_compared:
        rule_id = f"{item.rule}/regression"
        if rule_id not in index:  # only rules with assertions are compared
            continue
        pos = gate.rule_positions.get(item.rule, (1, 1))
        if item.assertion is not None:
            pos = gate.assertion_positions.get((item.rule, item.assertion), pos)
        results.append(
            {
                "ruleId": rule_id,
                "ruleIndex": index[rule_id],
                "kind": "notApplicable",
                "level": "none",
                "message": {"text": f"Not compared with the baseline: {item.words}"},
                "locations": [_location(gate, pos)],
                "partialFingerprints": {
                    "ethicsgateFinding/v1": _fingerprint(
                        policy_id, rule_id, item.assertion or "", "not-compared"
                    )
                },
                "properties": {"status": "not_compared", "severity": item.severity},
            }
        )

    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ethicsgate",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": _INFO_URI,
                        "rules": descriptors,
                    }
                },
                "automationDetails": {"id": f"ethicsgate/{result.audit.id}/"},
                "results": results,
                "properties": {
                    "auditStatus": result.status,
                    "gateStatus": gate.status,
                    "policy": {
                        "id": policy_id,
                        "version": result.audit.policy.version,
                        "sha256": result.audit.policy.sha256,
                    },
                },
            }
        ],
    }
    text = json.dumps(log, indent=2, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


#: A gate as SARIF 2.1.0, for code scanning.
SARIF: Format[GateResult] = Format("sarif", "ethicsgate.sarif", render_sarif)
