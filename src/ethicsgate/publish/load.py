"""Find what a statement is published from: an audit spec (run now) or a report.json."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from ethicsgate.audit.reportfile import read_report
from ethicsgate.audit.result import AuditResult
from ethicsgate.errors import Location, PolicyError, PublishError
from ethicsgate.policy.loader import LoadedPolicy, load_policy
from ethicsgate.policy.models import PolicyPack
from ethicsgate.policy.packs import is_pack_ref, pack_path

__all__ = ["SYSTEMS_EXAMPLE", "load_publish_inputs"]


def load_publish_inputs(
    source: Path,
    *,
    policy: Path | None = None,
    clock: Callable[[], datetime] | None = None,
) -> tuple[PolicyPack, AuditResult]:
    """Return the policy pack and audit result a statement is built from.

    ``source`` is an audit spec (``*.yaml``: the audit runs now), a ``report.json`` or the
    report folder holding one. For a report, the policy is read from the path it records (or
    ``policy``) and must be byte-for-byte the one the audit ran.

    Raises:
        PublishError: the report is unreadable, its policy is missing or changed since the
            audit, or the policy describes no systems.
        PolicyError, AuditSpecError, EvidenceError: the audit spec, policy or evidence is wrong.
    """
    if source.suffix in (".yaml", ".yml"):
        from ethicsgate.audit import load_audit_spec, run_audit

        loaded = load_audit_spec(source)
        _need_systems(loaded.policy.pack, loaded.policy.path, loaded.policy.ref)
        _no_placeholders(loaded.policy, loaded.policy.ref)
        result = run_audit(loaded) if clock is None else run_audit(loaded, clock=clock)
        return loaded.policy.pack, result
    report_path = source / "report.json" if source.is_dir() else source
    result = read_report(
        report_path,
        error=PublishError,
        what="report",
        missing=f"looked for {report_path.absolute()}; pass an audit spec (*.yaml), a "
        "report.json or the folder `ethicsgate audit SPEC --out DIR` wrote",
    )
    recorded = result.audit.policy.path
    if policy is None and is_pack_ref(recorded):
        try:
            policy_path = pack_path(recorded)
        except PolicyError as exc:
            raise PublishError(
                f"the report's policy {recorded!r} is not shipped with this ethicsgate",
                location=report_path,
                hint="install the ethicsgate version the audit ran with, or pass --policy PATH",
            ) from exc
    else:
        policy_path = policy if policy is not None else Path(recorded)
    if not policy_path.is_file():
        raise PublishError(
            f"the report's policy {str(policy_path)!r} was not found",
            location=report_path,
            hint="run from the folder the audit ran in, or pass --policy PATH",
        )
    digest = hashlib.sha256(policy_path.read_bytes()).hexdigest()
    if digest != result.audit.policy.sha256:
        raise PublishError(
            f"policy {policy_path} changed since the audit (sha256 {digest[:12]}…, the report "
            f"recorded {result.audit.policy.sha256[:12]}…)",
            location=report_path,
            hint="publish from a fresh audit of the current policy, or pass the policy "
            "version the report was made with (--policy)",
        )
    loaded_policy = load_policy(policy_path)
    pack = loaded_policy.pack
    _need_systems(pack, policy_path, recorded if is_pack_ref(recorded) and policy is None else None)
    _no_placeholders(loaded_policy, recorded if is_pack_ref(recorded) and policy is None else None)
    return pack, result


#: The ``systems:`` entry the error shows, filled with the pack's own rule ids.
SYSTEMS_EXAMPLE = """\
systems:
  - id: chat-assistant
    name: Website chat assistant
    purpose: Answers questions about orders and opening hours.
    encounter: When you open the chat on our website.
    disclosure: The chat's first message says that it is an automated assistant.
    human_contact: Type "person" in the chat, or call Replace with your phone number.
    data:
      - {{data: Your chat messages, basis: contract, purpose: Answer your question}}
    accountable: Replace with your business's name and who answers for it
    rules: [{rules}]   # rules whose latest results are published with this system"""


def _need_systems(pack: PolicyPack, path: Path, ref: str | None = None) -> None:
    """Raise unless the pack describes a system: the error shows the section to add.

    Raises:
        PublishError: the pack has no ``systems:``; the hint is a ready-to-edit example.
    """
    if pack.systems:
        return
    where = (
        f"a copy of {ref} (`ethicsgate init --pack {ref.removeprefix('pack:')}` writes one, "
        "then point the audit spec's policy at it)"
        if ref
        else str(path)
    )
    example = SYSTEMS_EXAMPLE.format(rules=", ".join(rule.id for rule in pack.rules))
    raise PublishError(
        "the policy describes no automated systems, so there is nothing to publish",
        location=ref or path,
        hint=f"add a top-level 'systems:' section to {where}, one entry per system customers "
        f"meet, for example:\n\n{example}\n\n  basis is a GDPR Art. 6(1) basis (consent, "
        "contract, legal_obligation, vital_interests, public_task, legitimate_interests); "
        "docs/transparency-statements.md describes every field",
    )


#: A value's place in the policy document: its keys and list indexes from the top.
_Path = tuple[str | int, ...]

#: The words every shipped template uses for text the business must write itself.
_PLACEHOLDER = re.compile(r"\breplace with\b", re.IGNORECASE)


def _no_placeholders(loaded: LoadedPolicy, ref: str | None = None) -> None:
    """Raise if the owner or a system still reads as a template's placeholder.

    The shipped packs and the ``systems:`` example say "Replace with ..." where only the
    business knows the words (its name, how to reach a person); published, such a statement
    would tell the public "Transparency statement by Replace with the operator ...".

    Raises:
        PublishError: naming every such value with its file:line:column; ``ref`` (a shipped
            pack used as it is) is named so, with the command that copies it.
    """
    found = [
        (path, text)
        for path, text in _texts(loaded.pack.model_dump(include={"owner", "systems"}))
        if _PLACEHOLDER.search(text)
    ]
    if not found:
        return

    def where(path: _Path) -> Location:
        located = loaded.document.locate(path)
        return located if ref is None else Location(ref, located.line, located.column)

    lines = [
        f"{where(path)}: " * (index > 0) + f"{'.'.join(str(part) for part in path)}: '{text}' "
        "is the template's placeholder, not yet your own words"
        for index, (path, text) in enumerate(found)
    ]
    copy = (
        f"copy the pack with `ethicsgate init --pack {ref.removeprefix('pack:')}`, point the "
        "audit spec's policy at the copy, and there "
        if ref
        else ""
    )
    raise PublishError(
        "\n  ".join(lines),
        location=where(found[0][0]),
        hint=f"{copy}write who you are and how to reach you in place of each 'Replace with "
        "...': the statement shows them to the public as written",
    )


def _texts(value: object, path: _Path = ()) -> Iterator[tuple[_Path, str]]:
    """Yield every text in ``value`` (dicts and lists of a dumped model) with its path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _texts(item, (*path, index))
