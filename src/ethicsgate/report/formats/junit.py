"""JUnit XML of a gate: a testcase per rule, per assertion and per regression budget.

Names are stable across runs (``<rule id>``, ``<rule id>::<metric>.<aggregate>``,
``<rule id>::<metric>.<aggregate>::regression``) so CI history can track each check. A
regression check the baseline gave nothing to compare with is skipped, with the reason.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ethicsgate.escapes import escape_chars
from ethicsgate.gate.outcome import GateResult
from ethicsgate.report.formats.base import Format
from ethicsgate.rules.results import RuleResult
from ethicsgate.vocabulary import group_label

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

__all__ = ["JUNIT", "render_junit"]

# characters XML 1.0 cannot hold at all, not even escaped: a category or message from the
# evidence holding one would make the whole file unparseable for the CI system
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _make_xml_safe(root: ET.Element) -> None:
    """Show every character XML 1.0 forbids, in every text and attribute, as an escape."""
    for element in root.iter():
        if element.text:
            element.text = escape_chars(element.text, _NOT_XML)
        if element.tail:
            element.tail = escape_chars(element.tail, _NOT_XML)
        for key, value in element.attrib.items():
            element.set(key, escape_chars(value, _NOT_XML))


def _case(
    suite: ET.Element, gate: GateResult, rule: RuleResult, name: str, line: int
) -> ET.Element:
    from xml.etree.ElementTree import SubElement

    return SubElement(
        suite,
        "testcase",
        {
            "classname": f"ethicsgate.{gate.result.audit.policy.id}.{rule.id}",
            "name": name,
            "file": gate.policy_uri,
            "line": str(line),
            "time": "0",
        },
    )


def _mark(case: ET.Element, status: str, severity: str, message: str, detail: str) -> str:
    """Attach the outcome to a testcase and return its JUnit kind."""
    from xml.etree.ElementTree import SubElement

    blocking = severity == "block"
    if status == "fail" and blocking:
        SubElement(case, "failure", {"message": message, "type": "fail"}).text = detail
        return "failure"
    if status == "error" and blocking:
        SubElement(case, "error", {"message": message, "type": "error"}).text = detail
        return "error"
    if status in ("waived", "skipped"):
        SubElement(case, "skipped", {"message": f"{status}: {message}"})
        return "skipped"
    if status in ("fail", "warn", "error"):  # a non-blocking rule: reported, never failing
        SubElement(case, "system-out").text = f"{status} ({severity}, not blocking): {detail}"
    return "pass"


def render_junit(gate: GateResult) -> bytes:
    """Return the JUnit XML bytes (UTF-8) of a gate."""
    import xml.etree.ElementTree as ET  # only a gate writes XML: not an audit's import
    from xml.etree.ElementTree import SubElement

    result = gate.result
    root = ET.Element("testsuites", {"name": "ethicsgate"})
    suite = ET.SubElement(
        root,
        "testsuite",
        {"name": f"ethicsgate gate {result.audit.id}", "timestamp": result.audit.started_at},
    )
    props = ET.SubElement(suite, "properties")
    for key, value in (
        ("policy.id", result.audit.policy.id),
        ("policy.version", result.audit.policy.version),
        ("policy.sha256", result.audit.policy.sha256),
        ("audit.status", result.status),
        ("gate.status", gate.status),
        ("baseline", gate.baseline or ""),
    ):
        ET.SubElement(props, "property", {"name": key, "value": value})
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}

    def count(kind: str) -> None:
        counts["tests"] += 1
        plural = {"failure": "failures", "error": "errors", "skipped": "skipped"}.get(kind)
        if plural:
            counts[plural] += 1

    for rule in result.rules:
        line = gate.rule_positions.get(rule.id, (1, 1))[0]
        case = _case(suite, gate, rule, rule.id, line)
        count(_mark(case, rule.status.value, rule.severity, rule.message, rule.message))
        names = gate.assertion_names.get(rule.id, [])
        for name, assertion in zip(names, rule.assertions, strict=False):
            a_line = gate.assertion_positions.get((rule.id, name), (line, 1))[0]
            case = _case(suite, gate, rule, f"{rule.id}::{name}", a_line)
            count(
                _mark(case, assertion.status, rule.severity, assertion.message, assertion.message)
            )
        if gate.baseline is None:
            continue
        for name in names:
            a_line = gate.assertion_positions.get((rule.id, name), (line, 1))[0]
            case = _case(suite, gate, rule, f"{rule.id}::{name}::regression", a_line)
            found = [r for r in gate.regressions if r.rule == rule.id and r.assertion == name]
            missing = [
                n.reason
                for n in gate.not_compared
                if n.rule == rule.id and n.assertion in (None, name)
            ]
            if not found and missing:
                SubElement(case, "skipped", {"message": "not compared: " + "; ".join(missing)})
                count("skipped")
                continue
            if not found:
                count("pass")
                continue
            detail = "\n".join(
                f"{group_label(r.group)}: {r.baseline:.4g} -> {r.candidate:.4g} "
                f"(worse by {r.worse_by:.4g}, budget {r.budget:.4g})"
                + (f" [waived: {r.waiver_reason}]" if r.waived else "")
                for r in found
            )
            detail += "".join(f"\nnot compared: {reason}" for reason in missing)
            message = f"{len(found)} group(s) regressed beyond the budget against the baseline"
            status = "fail" if any(r.blocking for r in found) else "waived"
            if rule.severity != "block":
                status = "fail"  # _mark reports it without failing the test
            count(_mark(case, status, rule.severity, message, detail))
    for key, total in counts.items():
        suite.set(key, str(total))
        root.set(key, str(total))
    _make_xml_safe(root)
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


#: A gate as JUnit XML, for CI test reports.
JUNIT: Format[GateResult] = Format("junit", "ethicsgate-junit.xml", render_junit)
