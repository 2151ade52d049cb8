"""The reports under ``--reports``: what each says, and its signature, checked on the server.

A report is a folder holding ``report.json``. Its signature state is one of ``verified`` (a
trusted key verifies the envelope and every report file it signs), ``not verified`` (an
envelope is there but no trusted key verifies it, or no key was given: never assumed) and
``unsigned`` (no envelope). Parsed reports and verification results are cached by the files'
sizes and modification times, so a changed byte is checked again.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ethicsgate.canonical import REPORT_FILES, REPORT_HTML, REPORT_JSON

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = ["ReportIndex", "ReportInfo", "RuleInfo", "Signature"]

ENVELOPE = "report.intoto.json"
_MAX_DEPTH = 4


@dataclass(frozen=True)
class Signature:
    """A report's signature state, the key that verified it, or why none did."""

    state: str  # "verified" | "not verified" | "unsigned"
    fingerprint: str | None = None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleInfo:
    """A rule as its report states it: in plain language, and the law it cites."""

    id: str
    title: str
    message: str
    references: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class ReportInfo:
    """One report folder."""

    name: str
    path: Path
    title: str
    audit_id: str
    policy_id: str
    status: str
    finished_at: str
    rules: dict[str, RuleInfo] = field(default_factory=dict)
    signature: Signature = Signature("unsigned")


def _stamp(folder: Path) -> tuple[tuple[str, int, int, int, int], ...]:
    # the change time and inode too: an edit can keep the size and set the mtime back (touch -r)
    # but never the ctime, and a file replaced by a rename has a new inode
    stamps = []
    for name in (*REPORT_FILES, ENVELOPE):
        try:
            st = (folder / name).stat()
        except OSError:
            continue
        stamps.append((name, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
    return tuple(stamps)


class ReportIndex:
    """Every report under ``root``, verified with ``keys`` (the trusted public keys)."""

    def __init__(self, root: Path, keys: list[Ed25519PublicKey]) -> None:
        """Index ``root``; verify signatures with ``keys``."""
        self.root = root
        self.keys = keys
        self._cache: dict[Path, tuple[Any, ReportInfo | None]] = {}
        self._lock = threading.Lock()

    def fingerprints(self) -> list[str]:
        """Return the trusted keys' fingerprints."""
        from ethicsgate.attest import key_fingerprint

        return [key_fingerprint(k) for k in self.keys]

    def reports(self) -> list[ReportInfo]:
        """Return every readable report, newest first."""
        found: list[ReportInfo] = []
        if not self.root.is_dir():
            return found
        for path in sorted(self._report_files(self.root, 0)):
            info = self._load(path.parent)
            if info is not None:
                found.append(info)
        found.sort(key=lambda r: r.name)
        found.sort(key=lambda r: r.finished_at, reverse=True)  # stable: by name within a time
        return found

    def _report_files(self, folder: Path, depth: int) -> list[Path]:
        files = []
        if (folder / REPORT_JSON).is_file():
            files.append(folder / REPORT_JSON)
        if depth < _MAX_DEPTH:
            try:
                children = [c for c in folder.iterdir() if c.is_dir() and not c.is_symlink()]
            except OSError:
                return files
            for child in children:
                if not child.name.startswith("."):
                    files.extend(self._report_files(child, depth + 1))
        return files

    def get(self, name: str) -> ReportInfo | None:
        """Return the report named ``name`` (its folder relative to the root), else None."""
        for report in self.reports():
            if report.name == name:
                return report
        return None

    def html(self, name: str) -> bytes | None:
        """Return the bytes of a listed report's ``report.html``, else None."""
        report = self.get(name)
        if report is None:
            return None
        return _read_bounded(report.path / REPORT_HTML)

    def for_item(self, audit_id: str, policy_id: str) -> ReportInfo | None:
        """Return the newest verified report of an audit against a policy (else the newest)."""
        found = [r for r in self.reports() if r.audit_id == audit_id and r.policy_id == policy_id]
        found.sort(key=lambda r: (r.signature.state == "verified", r.finished_at), reverse=True)
        return found[0] if found else None

    def _load(self, folder: Path) -> ReportInfo | None:
        stamp = _stamp(folder)
        with self._lock:
            cached = self._cache.get(folder)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        info = self._read(folder)
        with self._lock:
            self._cache[folder] = (stamp, info)
        return info

    def _read(self, folder: Path) -> ReportInfo | None:
        raw = _read_bounded(folder / REPORT_JSON)
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            audit = data["audit"]
            policy = audit.get("policy") or {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        refs = {
            r.get("id"): r
            for r in policy.get("references") or []
            if isinstance(r, dict) and r.get("id")
        }
        rules = {}
        for rule in data.get("rules") or []:
            if not isinstance(rule, dict) or not rule.get("id"):
                continue
            cited = tuple(
                refs.get(ref_id, {"id": ref_id, "title": ref_id, "url": None})
                for ref_id in rule.get("references") or []
            )
            rules[str(rule["id"])] = RuleInfo(
                id=str(rule["id"]),
                title=str(rule.get("title") or rule["id"]),
                message=str(rule.get("message") or ""),
                references=cited,
            )
        return ReportInfo(
            name=folder.relative_to(self.root).as_posix() if folder != self.root else folder.name,
            path=folder,
            title=str(audit.get("title") or audit.get("id") or folder.name),
            audit_id=str(audit.get("id") or ""),
            policy_id=str(policy.get("id") or ""),
            status=str(data.get("status") or "unknown"),
            finished_at=str(audit.get("finished_at") or ""),
            rules=rules,
            signature=self._verify(folder),
        )

    def _verify(self, folder: Path) -> Signature:
        from ethicsgate.attest import verify_attestation
        from ethicsgate.errors import VerificationError

        if not (folder / ENVELOPE).is_file():
            return Signature("unsigned")
        if not self.keys:
            return Signature(
                "not verified",
                reasons=("no trusted public key was given to the server (--key)",),
            )
        reasons: list[str] = []
        for key in self.keys:
            try:
                result = verify_attestation(folder, key)
            except VerificationError as exc:
                reasons.append(exc.message)
                continue
            if result.ok:
                return Signature("verified", fingerprint=result.fingerprint)
            reasons.extend(f"key {result.fingerprint[:16]}…: {r}" for r in result.reasons)
        return Signature("not verified", reasons=tuple(reasons))


#: The largest report file the index reads (report.json, report.html): a planted file of
#: gigabytes, or a device, would otherwise hold the app's memory (or time) as it lists.
MAX_REPORT_BYTES = 512 * 2**20


def _read_bounded(path: Path, limit: int = MAX_REPORT_BYTES) -> bytes | None:
    """Return a regular file's bytes when it holds at most ``limit``, else None (not listed)."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # opening a FIFO would wait
            return None
        with path.open("rb") as handle:
            status = os.fstat(handle.fileno())
            if not stat.S_ISREG(status.st_mode) or status.st_size > limit:
                return None
            data = handle.read(limit + 1)  # it may grow after the stat
    except OSError:
        return None
    return data if len(data) <= limit else None
