"""The proxy kind: model inputs that stand in for a protected attribute (IL HB 3773).

``proxy_features`` measures, over a predictions dataset, how strongly each model input is
associated with each protected attribute, from one contingency table per (input, attribute)
counted inside the engine:

* a categorical input: **bias-corrected Cramér's V** (Bergsma 2013). The plain V grows with
  the number of categories even when there is no association (about ``sqrt((k-1)/n)``), which
  would flag every zip-like input of a small sample; the corrected V is 0 in expectation then.
* a numeric input: binned into ``bins`` equal-count bins by rank (ties share a bin:
  ``floor(bins * (rank - 1) / n)`` with ``rank`` the SQL ``RANK()``), then the **normalized
  mutual information** ``2 I(X; Y) / (H(X) + H(Y))`` of the bins with the attribute, as
  scikit-learn's ``normalized_mutual_info_score`` (arithmetic mean) computes it.

Rows without a value of the attribute are left out of its tables (an unknown group is no
group); a missing input is a category of its own (missingness can be a proxy too). A pair
above its threshold is a finding, and an input named like a zip or postal code is refused
whatever its association. Plain-Python references: :func:`cramers_v`,
:func:`normalized_mutual_information`, :func:`rank_bins`.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ethicsgate.errors import EvidenceError
from ethicsgate.evidence.engine import Rows
from ethicsgate.evidence.roles import Role
from ethicsgate.policy.models import PolicyPack, ProxyFeaturesRule, Severity
from ethicsgate.rules.kind import AuditInputs, KindBase
from ethicsgate.rules.records import emit_findings
from ethicsgate.rules.results import Finding, RuleResult, RuleStatus

__all__ = [
    "Association",
    "ProxyKind",
    "cramers_v",
    "normalized_mutual_information",
    "rank_bins",
    "refused_name",
]

#: A contingency table: (input value, attribute value) -> rows.
Table = Mapping[tuple[Hashable, Hashable], int]


def _margins(table: Table) -> tuple[dict[Hashable, int], dict[Hashable, int], int]:
    rows: dict[Hashable, int] = {}
    cols: dict[Hashable, int] = {}
    for (x, y), n in table.items():
        if n:
            rows[x] = rows.get(x, 0) + n
            cols[y] = cols.get(y, 0) + n
    return rows, cols, sum(rows.values())


def cramers_v(table: Table, *, corrected: bool = True) -> float | None:
    """Return Cramér's V of a contingency table (bias-corrected by default; Bergsma 2013).

    ``None`` when it is undefined: fewer than two rows, or a single category on either side
    (after the correction: too few effective categories).
    """
    rows, cols, n = _margins(table)
    r, k = len(rows), len(cols)
    if n < 2 or r < 2 or k < 2:
        return None
    # fsum: exactly rounded, so the value does not depend on the order the engine's GROUP BY
    # returned the cells in (a shipped report is compared byte for byte)
    chi2 = math.fsum(
        (table.get((x, y), 0) - nx * ny / n) ** 2 / (nx * ny / n)
        for x, nx in rows.items()
        for y, ny in cols.items()
    )
    phi2 = chi2 / n
    if not corrected:
        return math.sqrt(phi2 / min(r - 1, k - 1))
    phi2 = max(0.0, phi2 - (k - 1) * (r - 1) / (n - 1))
    r_eff = r - (r - 1) ** 2 / (n - 1)
    k_eff = k - (k - 1) ** 2 / (n - 1)
    denominator = min(r_eff - 1, k_eff - 1)
    if denominator <= 0:
        return None
    return min(1.0, math.sqrt(phi2 / denominator))


def normalized_mutual_information(table: Table) -> float | None:
    """Return ``2 I(X;Y) / (H(X) + H(Y))`` of a contingency table (natural logs).

    1.0 when both sides are constant and equal (scikit-learn's convention), ``None`` for an
    empty table; 0.0 when exactly one side is constant.
    """
    rows, cols, n = _margins(table)
    if n == 0:
        return None
    hx = -math.fsum(c / n * math.log(c / n) for c in rows.values())
    hy = -math.fsum(c / n * math.log(c / n) for c in cols.values())
    if len(rows) == 1 and len(cols) == 1:
        return 1.0
    if len(rows) == 1 or len(cols) == 1:
        return 0.0
    mi = math.fsum(
        nxy / n * math.log(nxy * n / (rows[x] * cols[y])) for (x, y), nxy in table.items() if nxy
    )
    mi = max(0.0, mi)
    return min(1.0, 2 * mi / (hx + hy))


def rank_bins(values: Sequence[float | None], bins: int) -> list[int | None]:
    """Return each value's equal-count bin by rank, as the engine computes it (None: missing).

    ``floor(bins * (rank - 1) / n)`` where ``rank`` is 1 + the number of smaller present
    values and ``n`` the number of present values: ties share a bin.
    """
    present = sorted(v for v in values if v is not None)
    n = len(present)
    out: list[int | None] = []
    for v in values:
        if v is None:
            out.append(None)
        else:
            rank = bisect.bisect_left(present, v) + 1
            out.append(bins * (rank - 1) // n)
    return out


_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
#: Where a word of a name begins: after a separator, or at a capital after a small letter or
#: digit (``applicant_zip``, ``homeZip``).
_WORD_START = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]|(?<=[a-z0-9])[A-Z]")


def refused_name(feature: str, refuse: Iterable[str]) -> str | None:
    """Return the refused name ``feature`` has from the start of one of its words, or None.

    Compared lower-cased, letters and digits only, from each word on: ``ZIP_Code``,
    ``applicant_zip`` and ``residence_postal_code`` are zip or postal codes; a zip code is
    usually named after whose it is, so comparing only the name's start let ``applicant_zip``
    be measured like any other input.
    """
    tails = [
        _NOT_ALNUM.sub("", feature[m.start() :].lower()) for m in _WORD_START.finditer(feature)
    ]
    for name in refuse:
        prefix = _NOT_ALNUM.sub("", name.lower())
        if prefix and any(tail.startswith(prefix) for tail in tails):
            return name
    return None


@dataclass(frozen=True)
class Association:
    """One (input, attribute) pair: its measure, value and the categories it was counted over."""

    feature: str
    sensitive: str
    measure: str  # "cramers_v" | "normalized_mi"
    value: float | None
    threshold: float
    rows: int
    categories: int

    @property
    def flagged(self) -> bool:
        """Return whether the association is above its threshold."""
        return self.value is not None and self.value > self.threshold


_MEASURE_WORDS = {"cramers_v": "Cramér's V", "normalized_mi": "normalized mutual information"}


def _role(name: str, numeric: bool) -> Role:
    return Role(name, "number" if numeric else "text")


def _table_sql(rows: Rows, rule: ProxyFeaturesRule, feature: str, sensitive: str) -> str:
    numeric = feature in rule.numeric
    f = rows.col(feature, "number" if numeric else "text")
    s = rows.col(sensitive, "text")
    if not numeric:
        return (
            f"SELECT {f} AS x, {s} AS y, count(*) AS n FROM {rows.table} "
            f"WHERE {s} IS NOT NULL GROUP BY {f}, {s}"
        )
    # equal-count bins by rank, ties together; portable SQL (window functions, FLOOR)
    binned = (
        f"CASE WHEN {f} IS NULL THEN NULL ELSE CAST(FLOOR(({rule.bins} * "
        f"(RANK() OVER (PARTITION BY ({f} IS NULL) ORDER BY {f}) - 1)) * 1.0 / "
        f"COUNT({f}) OVER ()) AS INTEGER) END"
    )
    return (
        f"SELECT x, y, count(*) AS n FROM (SELECT {binned} AS x, {s} AS y FROM {rows.table} "
        f"WHERE {s} IS NOT NULL) AS binned GROUP BY x, y"
    )


def associations(rule: ProxyFeaturesRule, rows: Rows) -> list[Association]:
    """Return the association of every (input, attribute) pair, counted inside the engine."""
    out = []
    for sensitive in rule.sensitive_features:
        for feature in rule.features:
            table = {
                (x, y): int(n) for x, y, n in rows.fetch(_table_sql(rows, rule, feature, sensitive))
            }
            numeric = feature in rule.numeric
            value = normalized_mutual_information(table) if numeric else cramers_v(table)
            out.append(
                Association(
                    feature=feature,
                    sensitive=sensitive,
                    measure="normalized_mi" if numeric else "cramers_v",
                    value=value,
                    threshold=rule.max_mutual_information if numeric else rule.max_cramers_v,
                    rows=sum(table.values()),
                    categories=len({x for x, _ in table}),
                )
            )
    return out


def _fmt(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.3f}"


def evaluate_proxy(rule: ProxyFeaturesRule, rows_by_dataset: Mapping[str, Rows]) -> RuleResult:
    """Measure every pair, flag those above their threshold and the refused names."""
    rows = rows_by_dataset[rule.dataset]
    if rows.rows == 0:
        raise EvidenceError(
            f"dataset {rule.dataset!r} has no rows: rule {rule.id!r} cannot measure proxies",
            hint="check the evidence path and filter",
        )
    found = associations(rule, rows)
    findings: list[Finding] = []
    for feature in rule.features:
        refused = refused_name(feature, rule.refuse)
        if refused is not None:
            findings.append(
                Finding(
                    record_id=feature,
                    reason="named_proxy",
                    message=(
                        f"the model input {feature!r} is a zip or postal code ({refused!r}): "
                        "zip codes must not be used as a proxy for protected classes; remove "
                        "it from the model's inputs"
                    ),
                    fields={
                        "feature": feature,
                        "sensitive_feature": None,
                        "measure": None,
                        "value": None,
                        "threshold": None,
                    },
                )
            )
    for a in found:
        if a.flagged:
            findings.append(
                Finding(
                    record_id=f"{a.feature} ~ {a.sensitive}",
                    reason="proxy_association",
                    message=(
                        f"{a.feature!r} is associated with {a.sensitive!r}: "
                        f"{_MEASURE_WORDS[a.measure]} {_fmt(a.value)} above "
                        f"{a.threshold:g} over {a.rows:,} row(s), so it can stand in for it"
                    ),
                    fields={
                        "feature": a.feature,
                        "sensitive_feature": a.sensitive,
                        "measure": a.measure,
                        "value": _fmt(a.value),
                        "threshold": f"{a.threshold:g}",
                    },
                )
            )
    findings.sort(key=lambda f: f.record_id)
    emit_findings(rule.id, findings)
    by_reason: dict[str, int] = {}
    for f in findings:
        by_reason[f.reason] = by_reason.get(f.reason, 0) + 1
    undefined = [a for a in found if a.value is None]
    checked = len(found) + len(rule.features)
    base: dict[str, Any] = {
        "id": rule.id,
        "kind": rule.kind,
        "title": rule.title,
        "severity": rule.severity.value,
        "dataset": rule.dataset,
        "references": list(rule.references),
        "sensitive_features": list(rule.sensitive_features),
        "rows": rows.rows,
        "check": rule.check,
        "parameters": {
            "features": list(rule.features),
            "numeric": list(rule.numeric),
            "max_cramers_v": rule.max_cramers_v,
            "max_mutual_information": rule.max_mutual_information,
            "bins": rule.bins,
            "refuse": list(rule.refuse),
            "associations": [
                f"{a.feature} ~ {a.sensitive}: {_MEASURE_WORDS[a.measure]} {_fmt(a.value)}"
                for a in found
            ],
        },
        "overall": {f"{a.measure}[{a.feature}~{a.sensitive}]": a.value for a in found},
        "records_checked": checked,
        "violations": len(findings),
        "violation_rate": len(findings) / checked,
        "max_violation_rate": 0.0,
        "violations_by_reason": by_reason,
        "findings": findings,
        "findings_total": len(findings),
        "findings_truncated": False,
    }
    if findings:
        status = RuleStatus.FAIL if rule.severity == Severity.BLOCK else RuleStatus.WARN
        named = by_reason.get("named_proxy", 0)
        parts = []
        if named:
            parts.append(f"{named} input(s) named like a zip or postal code")
        if by_reason.get("proxy_association"):
            pairs = [f.record_id for f in findings if f.reason == "proxy_association"]
            parts.append(
                f"{len(pairs)} input/attribute pair(s) above the threshold: " + ", ".join(pairs)
            )
        message = "; ".join(parts)
    elif undefined and len(undefined) == len(found):
        status = RuleStatus.ERROR
        message = (
            "no association could be measured: every protected attribute or input has a single "
            "category in the audited rows (with nothing measured, it cannot pass)"
        )
    else:
        status = RuleStatus.PASS
        strongest = max((a for a in found if a.value is not None), key=lambda a: a.value or 0.0)
        message = (
            f"no input stands in for {', '.join(rule.sensitive_features)}: the strongest "
            f"association is {strongest.feature!r} ~ {strongest.sensitive!r}, "
            f"{_MEASURE_WORDS[strongest.measure]} {_fmt(strongest.value)}"
        )
        if undefined:
            message += f" ({len(undefined)} pair(s) undefined: a single category)"
    return RuleResult(status=status, message=message, **base)


def explain_proxy(rule: ProxyFeaturesRule, pack: PolicyPack | None) -> str:
    """Return what a proxy_features rule checks, in plain words."""
    categorical = [f for f in rule.features if f not in rule.numeric]
    parts = []
    if categorical:
        parts.append(
            f"for the categorical inputs ({', '.join(categorical)}) the bias-corrected "
            f"Cramér's V must be at most {rule.max_cramers_v:g}"
        )
    if rule.numeric:
        parts.append(
            f"for the numeric inputs ({', '.join(rule.numeric)}), split into {rule.bins} "
            f"equal-count bins, the normalized mutual information must be at most "
            f"{rule.max_mutual_information:g}"
        )
    text = (
        f"Checks in '{rule.dataset}' that no model input stands in for "
        f"{', '.join(rule.sensitive_features)}: " + "; ".join(parts) + "."
    )
    if rule.refuse:
        text += (
            " Inputs named like a zip or postal code ("
            + ", ".join(rule.refuse)
            + ") are refused whatever their association."
        )
    return text


class ProxyKind(KindBase):
    """Proxy features: model inputs associated with protected attributes."""

    name = "proxy"
    model = ProxyFeaturesRule

    def roles(self, rule: Any) -> dict[str, list[Role]]:
        """Return every input (typed as the rule says) and every protected attribute."""
        read = [_role(f, f in rule.numeric) for f in rule.features]
        read += [Role(s, "text") for s in rule.sensitive_features]
        return {rule.dataset: read}

    def evaluate(self, rule: Any, inputs: AuditInputs) -> RuleResult:
        """Measure the associations on the rule's typed rows."""
        return evaluate_proxy(rule, inputs.rows)

    def explain(self, rule: Any, pack: PolicyPack | None) -> str:
        """Return what the check checks, in plain words."""
        return explain_proxy(rule, pack)
