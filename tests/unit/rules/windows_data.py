"""A year of synthetic daily credit decisions with a seeded drop in one month (windows, drift)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

POLICY = """\
schema_version: 1
id: credit
version: "1"
title: Credit approvals
owner: risk-team
rules:
  - id: approval-parity
    kind: fairness
    severity: block
    dataset: decisions
    sensitive_features: [group]
    metrics: [selection_rate]
    assertions:
      - {metric: selection_rate, aggregate: ratio, op: ">=", value: 0.8}
"""

AUDIT = """\
schema_version: 1
id: credit-monthly
policy: policy.yaml
evidence:
  decisions:
    path: decisions.parquet
    columns: {prediction: approved}
"""


def year_of_decisions(
    *, per_day: int = 300, seed: int = 7, drift_month: int | None = 9, drop_to: float = 0.3
) -> pd.DataFrame:
    """Return a year (2026) of decisions: group A approved at 50 %, B at 45 % (B at
    ``drop_to`` in ``drift_month``)."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2026-01-01", "2026-12-31", freq="D")
    n = per_day * len(days)
    day = np.repeat(days.values, per_day)
    group = rng.choice(["A", "B"], size=n)
    month = pd.DatetimeIndex(day).month.to_numpy()
    rate_b = np.where(month == drift_month, drop_to, 0.45) if drift_month else 0.45
    rate = np.where(group == "A", 0.5, rate_b)
    approved = (rng.random(n) < rate).astype(np.int64)
    return pd.DataFrame({"decided_at": day, "group": group, "approved": approved})


def write_audit(
    folder: Path,
    frame: pd.DataFrame,
    *,
    window: str | None = "{column: decided_at, every: month}",
    policy: str = POLICY,
) -> Path:
    """Write policy.yaml, decisions.parquet and audit.yaml into ``folder``; return the spec."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "policy.yaml").write_text(policy)
    frame.to_parquet(folder / "decisions.parquet")
    text = AUDIT + (f"    window: {window}\n" if window else "")
    (folder / "audit.yaml").write_text(text)
    return folder / "audit.yaml"


DRIFT_POLICY = POLICY.replace(
    '    assertions:\n      - {metric: selection_rate, aggregate: ratio, op: ">=", value: 0.8}\n',
    "    drift: {metric: impact_ratio, max_drop: 0.05, significant_at: 0.05}\n",
)


def decisions_around_local_midnights() -> pd.DataFrame:
    """Every 20 minutes over both 2026 DST changes of Berlin and New York and month ends."""
    stretches = [
        ("2026-03-07", "2026-03-09 12:00"),
        ("2026-03-28", "2026-04-01 08:00"),
        ("2026-10-24", "2026-11-03"),
    ]
    parts = [pd.date_range(a, b, freq="20min", inclusive="left", tz="UTC") for a, b in stretches]
    times = parts[0].append(parts[1:])
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "decided_at": times,
            "naive_at": times.tz_localize(None),
            "text_offset": times.tz_convert("Asia/Kolkata").strftime("%Y-%m-%dT%H:%M:%S%z"),
            "text_naive": times.tz_localize(None).strftime("%Y-%m-%d %H:%M:%S"),
            "group": rng.choice(["A", "B"], size=len(times)),
            "approved": rng.integers(0, 2, size=len(times)),
        }
    )
