"""The result of ``ethicsgate.audit``: typed rules, a tidy table, the report inline, its files."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import pandas as pd
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ethicsgate.attest import KeyPair
    from ethicsgate.audit.findings import FindingsFile
    from ethicsgate.audit.result import AuditResult, Summary
    from ethicsgate.rules.results import GroupKey, RuleResult, WindowResult

__all__ = ["AuditFailed", "AuditReport", "FailingGroup", "failing_groups"]

#: The tidy table's columns after the group features (see :meth:`AuditReport.to_pandas`).
TIDY_COLUMNS = [
    "count",
    "excluded",
    "metric",
    "value",
    "ratio",
    "difference",
    "interval_low",
    "interval_high",
    "ratio_interval_low",
    "ratio_interval_high",
    "p_value",
]
#: The tidy table's columns that are not group features: a feature of one of these names gets
#: a column of its own, ``<feature> (feature)``.
_OWN_COLUMNS = frozenset(["rule", "kind", "status", "window", *TIDY_COLUMNS])


@dataclass(frozen=True)
class FailingGroup:
    """One group that failed one assertion of a rule, with its value and the threshold.

    ``value`` is the figure the assertion judged: the group's ratio, difference or value of
    the metric, its impact ratio from the LL144 table, and for a windowed rule the one of the
    failing ``window`` (None when the rule is not windowed).
    """

    rule: str
    metric: str
    aggregate: str
    group: GroupKey
    value: float | int | None
    op: str
    threshold: float
    window: str | None = None

    def __str__(self) -> str:
        """Return e.g. ``group=b: selection_rate ratio 0.4792, needs >= 0.8``."""
        from ethicsgate.vocabulary import message_group_label

        shown = "undefined" if self.value is None else f"{self.value:.4g}"
        # a metric's own value needs no word; impact_ratio is asserted as a value
        figure = self.metric if self.aggregate == "value" else f"{self.metric} {self.aggregate}"
        where = f" in window {self.window}" if self.window is not None else ""
        return (
            f"{message_group_label(self.group)}: {figure} {shown}, "
            f"needs {self.op} {self.threshold:g}{where}"
        )


def failing_groups(rules: list[RuleResult]) -> list[FailingGroup]:
    """Return every failing group of every failed or errored rule, in report order."""
    found = []
    for rule in rules:
        for assertion in rule.assertions:
            if assertion.status in ("fail", "error"):
                groups = assertion.failing_groups or (
                    [assertion.group] if assertion.group is not None else []
                )
                # a windowed rule's assertion is its first failing window's: read the figure there
                judged: RuleResult | WindowResult = next(
                    (w for w in rule.windows if w.label == assertion.window), rule
                )
                for group in groups:
                    found.append(
                        FailingGroup(
                            rule=rule.id,
                            metric=assertion.metric,
                            aggregate=assertion.aggregate,
                            group=group,
                            value=_group_value(
                                judged, group, assertion.metric, assertion.aggregate
                            ),
                            op=assertion.op,
                            threshold=assertion.threshold,
                            window=assertion.window,
                        )
                    )
    return found


def _group_value(
    judged: RuleResult | WindowResult, key: GroupKey, metric: str, aggregate: str
) -> float | int | None:
    if metric == "impact_ratio":  # the LL144 tables hold it, a table per feature set
        tables = judged.impact_ratio.tables if judged.impact_ratio is not None else []
        for table in tables:
            if list(table.features) == list(key):
                for row in table.rows:
                    if row.category == key:
                        return row.impact_ratio
        return None
    for group in judged.groups:
        if group.group == key:
            values = {"ratio": group.ratios, "difference": group.differences}
            return values.get(aggregate, group.metrics).get(metric)
    return None


#: How many violating records a failure names per record-level rule (all are in
#: ``findings.parquet``).
_RECORDS_NAMED = 3


def _first_records(rule: RuleResult) -> list[str]:
    """Return the first violating records of a record-level rule, and how many more there are."""
    found = [f"record {f.record_id} ({f.reason}): {f.message}" for f in rule.findings]
    total = rule.findings_total if rule.findings_total is not None else len(found)
    more = total - min(len(found), _RECORDS_NAMED)
    shown = found[:_RECORDS_NAMED]
    if more > 0:
        shown.append(f"... and {more} more record(s) (report.findings_parquet lists them all)")
    return shown


def _feature_column(feature: str) -> str:
    """Return the tidy table's column of a group feature (``status (feature)`` on a clash).

    A feature named like one of the table's own columns (a marital ``status``) would overwrite
    that column; it gets one of its own.
    """
    return f"{feature} (feature)" if feature in _OWN_COLUMNS else feature


def _feature_columns(group: GroupKey) -> dict[str, str | None]:
    """Return a group's values by their tidy table columns (:func:`_feature_column`)."""
    return {_feature_column(feature): value for feature, value in group.items()}


def _group_rows(head: dict[str, Any], judged: RuleResult | WindowResult) -> list[dict[str, Any]]:
    """Return the tidy rows of a rule's (or one window's) groups and LL144 categories."""
    rows = []
    for group in judged.groups:
        for metric, value in group.metrics.items():
            interval = group.intervals.get(metric)
            ratio_interval = group.ratio_intervals.get(metric)
            test = group.tests.get(metric)
            rows.append(
                {
                    **head,
                    **_feature_columns(group.group),
                    "count": group.count,
                    "excluded": group.excluded,
                    "metric": metric,
                    "value": value,
                    "ratio": group.ratios.get(metric),
                    "difference": group.differences.get(metric),
                    "interval_low": interval.low if interval else None,
                    "interval_high": interval.high if interval else None,
                    "ratio_interval_low": ratio_interval.low if ratio_interval else None,
                    "ratio_interval_high": ratio_interval.high if ratio_interval else None,
                    "p_value": test.p_value if test else None,
                }
            )
    if judged.impact_ratio is not None:  # LL144: each table's categories, asserted on
        for table in judged.impact_ratio.tables:
            for row in table.rows:
                interval = row.impact_ratio_interval
                rows.append(
                    {
                        **head,
                        **_feature_columns(row.category),
                        "count": row.applicants,
                        "excluded": row.excluded,
                        "metric": "impact_ratio",
                        "value": row.impact_ratio,
                        "interval_low": interval.low if interval else None,
                        "interval_high": interval.high if interval else None,
                        "p_value": row.test.p_value if row.test else None,
                    }
                )
    return rows


def _did_not_pass(rule: RuleResult) -> bool:
    """Return whether a rule failed, warned, could not be judged or had nothing to check."""
    return rule.status.value in ("fail", "warn", "error", "skipped")


#: Most groups :func:`_unjudged_groups` lists for one rule.
_MAX_LISTED = 10


def _unjudged_groups(rule: RuleResult) -> list[str]:
    """Return why each group of a rule that could not be judged was not: too few, undefined."""
    from ethicsgate.vocabulary import message_group_label

    errored = [a for a in rule.assertions if a.status == "error"]
    window = next((a.window for a in errored if a.window is not None), None)
    judged: RuleResult | WindowResult = next((w for w in rule.windows if w.label == window), rule)
    where = f" in window {window}" if window is not None else ""
    metrics = list(dict.fromkeys(a.metric for a in errored))
    found = []
    for group in judged.groups:
        label = message_group_label(group.group)
        if group.excluded:
            size = group.count
            found.append(
                f"{label}: {size:,} {'person' if size == 1 else 'people'}, under min_group_size "
                f"{rule.min_group_size}: not compared{where}"
                if rule.min_group_size is not None and size < rule.min_group_size
                else f"{label}: {size:,} people, excluded: not compared{where}"
            )
            continue
        undefined = [m for m in metrics if m in group.metrics and group.metrics[m] is None]
        if undefined:
            found.append(f"{label}: {', '.join(undefined)} undefined{where}")
    if len(found) > _MAX_LISTED:
        found = [*found[:_MAX_LISTED], f"... and {len(found) - _MAX_LISTED} more group(s)"]
    return found


class AuditFailed(Exception):  # noqa: N818 - named for what happened, like requests' HTTPError
    """A blocking rule failed or could not be evaluated; ``failing`` lists the rules."""

    def __init__(self, report: AuditReport) -> None:
        """Keep the report and describe every failing rule and group."""
        self.report = report
        self.failing: list[RuleResult] = report.failing_rules
        super().__init__(report.describe_failures())

    def __reduce__(self) -> tuple[type[AuditFailed], tuple[AuditReport]]:
        """Pickle the report it was raised for (a worker process sends the error pickled)."""
        return type(self), (self.report,)


@dataclass(frozen=True)
class AuditReport:
    """An audit's outcome, as ``report.json`` holds it, with Python conveniences.

    ``result`` is the full :class:`~ethicsgate.audit.result.AuditResult`; the properties below
    are shortcuts into it.
    """

    result: AuditResult
    spec_json: bytes = field(repr=False)
    """The bytes the report's ``spec_sha256`` is the digest of: the audit spec file, or the
    canonical JSON of the ``ethicsgate.audit`` call's arguments (frames described, not kept:
    a report does not hold on to the data it audited)."""
    findings_file: FindingsFile | None = field(default=None, repr=False)
    """``findings.parquet`` on disk (a temporary file, removed with the report object): every
    violating record of every record-level rule (None when the result was built without
    collecting them)."""

    @property
    def findings_parquet(self) -> bytes | None:
        """Return the bytes of ``findings.parquet`` (read from disk when asked for), or None."""
        return None if self.findings_file is None else self.findings_file.read_bytes()

    @property
    def status(self) -> Literal["pass", "fail", "error"]:
        """Return ``pass``, ``fail`` (a blocking rule failed) or ``error`` (one errored)."""
        return self.result.status

    @property
    def passed(self) -> bool:
        """Return whether every blocking rule passed."""
        return self.result.status == "pass"

    @property
    def rules(self) -> list[RuleResult]:
        """Return every rule's result: id, status, groups with metrics, ratios, intervals."""
        return self.result.rules

    @property
    def summary(self) -> Summary:
        """Return how many rules passed, failed, warned, errored and were waived."""
        return self.result.summary

    @property
    def failing_rules(self) -> list[RuleResult]:
        """Return the blocking rules that failed or errored."""
        return [
            r
            for r in self.result.rules
            if r.severity == "block" and r.status.value in ("fail", "error")
        ]

    def rule(self, rule_id: str) -> RuleResult:
        """Return the result of the rule ``rule_id``.

        Raises:
            KeyError: the policy has no such rule.
        """
        for rule in self.result.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(f"no rule {rule_id!r} (rules: {', '.join(r.id for r in self.rules)})")

    def describe_failures(self, only: list[str] | None = None) -> str:
        """Return a readable list of the failing blocking rules and their failing groups.

        ``only``: describe just these rule ids, whatever their severity (a ``warn`` rule
        that failed is described too, and a rule skipped for having nothing to check).
        """
        if only is None:
            failing = self.failing_rules
        else:
            failing = [r for r in self.result.rules if r.id in only and _did_not_pass(r)]
        if not failing:
            checked = "every blocking rule" if only is None else "every rule checked"
            return f"audit {self.result.audit.id}: {checked} passed"
        statuses = {r.status.value for r in failing}
        status = (
            self.status
            if only is None
            else "error"
            if "error" in statuses
            else "fail"
            if statuses - {"skipped"}
            else "nothing checked"
        )
        which = "blocking rule(s)" if only is None else "checked rule(s)"
        lines = [f"audit {self.result.audit.id}: {len(failing)} {which} did not pass ({status})"]
        groups = failing_groups(failing)
        for rule in failing:
            lines.append(f"  {rule.id} [{rule.status.value}]: {rule.message}")
            named = [f"    - {found}" for found in groups if found.rule == rule.id]
            if not named and rule.status.value == "error":
                named = [f"    - {text}" for text in _unjudged_groups(rule)]
            if not named and rule.findings:  # a record-level rule: the first records found
                named = [f"    - {text}" for text in _first_records(rule)]
            lines.extend(named)
        return "\n".join(lines)

    def raise_for_status(self) -> AuditReport:
        """Return the report if every blocking rule passed.

        Raises:
            AuditFailed: a blocking rule failed or errored (listed, with its failing groups).
        """
        if not self.passed:
            raise AuditFailed(self)
        return self

    def to_pandas(self) -> pd.DataFrame:
        """Return a tidy table: one row per rule, group and metric.

        Columns: ``rule``, ``kind``, ``status``, ``window`` (only when a rule is windowed),
        one column per group feature (the union of every rule's; ``status (feature)`` for a
        feature named like one of these columns), then ``count``, ``excluded``, ``metric``,
        ``value``, ``ratio``, ``difference``, ``interval_low``/``_high``,
        ``ratio_interval_low``/``_high`` and ``p_value`` (the group's test against the
        reference, when the rule asks for one).
        A record-level rule gives one row: its ``violation_rate`` over ``records_checked``
        (NaN when it applied to no record: skipped or error).
        An LL144 rule adds a row per category of each of its tables (each feature alone and
        their intersection): metric ``impact_ratio``, ``count`` the applicants, the impact
        ratio's interval and the test against the most selected category.
        A windowed rule's rows over all windows have no ``window``; each window's groups
        follow, their ``window`` its label (``2026-09``): the figures it was judged by.
        A rule with neither groups nor records (a fairness rule that errored before any
        group) gives one row with its status and no figures.
        """
        import pandas as pd

        features: list[str] = []
        rows: list[dict[str, Any]] = []
        windowed = any(rule.windows for rule in self.result.rules)
        for rule in self.result.rules:
            for feature in rule.sensitive_features:
                if _feature_column(feature) not in features:
                    features.append(_feature_column(feature))
            head = {"rule": rule.id, "kind": rule.kind, "status": rule.status.value}
            before = len(rows)
            if not rule.groups and rule.records_checked is not None:  # a record-level rule
                rows.append(
                    {
                        **head,
                        "count": rule.records_checked,
                        "excluded": False,
                        "metric": "violation_rate",
                        "value": rule.violation_rate,
                    }
                )
            rows.extend(_group_rows(head, rule))
            for window in rule.windows:
                rows.extend(_group_rows({**head, "window": window.label}, window))
            if len(rows) == before:  # a rule that judged nothing: its status, no figures
                rows.append({**head, "excluded": False})
        columns = ["rule", "kind", "status", *(["window"] if windowed else []), *features]
        frame = pd.DataFrame(rows, columns=[*columns, *TIDY_COLUMNS])
        for name in TIDY_COLUMNS[3:]:  # float even where a whole column is undefined
            if name != "metric":
                frame[name] = frame[name].astype("float64")
        return frame

    def files(
        self,
        key: Ed25519PrivateKey | KeyPair | Path | str | None = None,
        *,
        passphrase: str | bytes | None = None,
    ) -> dict[str, bytes]:
        """Return the report files' bytes (signed with ``key`` when given), as the CLI writes.

        ``key``: the private key, its file, or the pair :func:`ethicsgate.generate_keypair`
        returned. ``passphrase``: an encrypted key file's (else ``ETHICSGATE_KEY_PASSPHRASE``).

        Raises:
            SigningError: the key file cannot be read, or its passphrase is missing or wrong.
            TypeError: ``key`` is none of these.
        """
        from ethicsgate.session.audit import render_report_files

        signing = _signing_key(key, "key= of AuditReport.files", passphrase)
        return render_report_files(self.result, signing, findings=self.findings_file)

    def write(
        self,
        out: Path | str,
        key: Ed25519PrivateKey | KeyPair | Path | str | None = None,
        *,
        passphrase: str | bytes | None = None,
    ) -> dict[str, Path]:
        """Write the report files to ``out`` atomically, signed with ``key`` when given.

        The same files, byte for byte, as ``ethicsgate audit --out OUT --key KEY`` writes for
        the same audit. Returns the written paths by file name. ``key``: the private key, its
        file, or the pair :func:`ethicsgate.generate_keypair` returned. ``passphrase``: an
        encrypted key file's (else ``ETHICSGATE_KEY_PASSPHRASE``).

        Raises:
            SigningError: the key file cannot be read, or its passphrase is missing or wrong
                (nothing is written).
            TypeError: ``key`` is none of these (nothing is written).
            OutputError: ``out`` cannot be written (a file in the way, no permission); nothing
                is written.
        """
        from ethicsgate.session.audit import write_signed_report

        written = write_signed_report(
            self.result,
            Path(out),
            _signing_key(key, "key= of AuditReport.write", passphrase),
            findings=self.findings_file,
            option="out= of AuditReport.write",  # the hints name the parameter, not --out
        )
        return dict(written.paths)

    def _repr_html_(self) -> str:
        """Return the HTML report inline in Jupyter and VS Code (sandboxed: no scripts, no network).

        The report is a whole page with its own styles; an ``iframe`` keeps them off the
        notebook's page. Its ``sandbox`` allows nothing (no scripts, no forms, no popups, an
        opaque origin away from the notebook's cookies and storage): the page shows evidence
        values, and needs none of these, being static HTML with inline styles and SVG charts.
        """
        from ethicsgate.report import report_files

        page = report_files(self.result)["report.html"].decode("utf-8")
        return (
            f'<iframe srcdoc="{html.escape(page, quote=True)}" sandbox="" '
            'style="width: 100%; height: 640px; border: 1px solid #ddd" '
            f'title="ethicsgate report {html.escape(self.result.audit.id)}"></iframe>'
        )

    def __repr__(self) -> str:
        """Return the status and the rules' counts."""
        s = self.result.summary
        # the summary has no count of skipped rules: without it the counts did not add up
        skipped = sum(r.status.value == "skipped" for r in self.result.rules)
        rest = "".join(
            f", {n} {word}" for n, word in ((s.waived, "waived"), (skipped, "skipped")) if n
        )
        return (
            f"<AuditReport {self.result.audit.id}: {self.status}; {s.rules} rules, "
            f"{s.passed} passed, {s.failed} failed, {s.errors} errors, {s.warned} warned{rest}>"
        )


def _signing_key(
    key: Ed25519PrivateKey | KeyPair | Path | str | None,
    option: str,
    passphrase: str | bytes | None = None,
) -> Ed25519PrivateKey | None:
    """Return the private key ``key`` is, or names; None for an unsigned report.

    ``passphrase`` decrypts an encrypted key file (else ``ETHICSGATE_KEY_PASSPHRASE``).

    Raises:
        SigningError: the key file cannot be read.
        TypeError: ``key`` is neither a key, a key pair nor a path (bytes of a PEM file, say).
    """
    if key is None:
        return None
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ethicsgate.attest import KeyPair, load_signing_key

    if isinstance(key, KeyPair):
        key = key.private_path
    if isinstance(key, Ed25519PrivateKey):
        return key
    if not isinstance(key, str | Path):
        raise TypeError(
            f"{option} is the private key: its file's path, the pair "
            "ethicsgate.generate_keypair returned, or an Ed25519PrivateKey; "
            f"not {type(key).__name__}"
        )
    if passphrase is not None:
        from ethicsgate.attest.keys import load_private_key

        secret = passphrase.encode() if isinstance(passphrase, str) else passphrase
        return load_private_key(Path(key), passphrase=secret)
    return load_signing_key(Path(key), ask_passphrase=_no_prompt)


def _no_prompt(path: Path) -> bytes:
    """Refuse an encrypted key without ``ETHICSGATE_KEY_PASSPHRASE``: Python has no prompt.

    Raises:
        SigningError: always, saying the two ways to give the passphrase from Python.
    """
    from ethicsgate.errors import SigningError

    raise SigningError(
        "the private key is encrypted",
        location=path,
        hint="pass passphrase=... with the key, or set os.environ['ETHICSGATE_KEY_PASSPHRASE']",
    )
