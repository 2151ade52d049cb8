"""What the window tests over Parquet row groups share: times, the footer plan, the evidence."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ethicsgate.engines.duckdb import dataset as duckdb_dataset
from ethicsgate.engines.duckdb import open_evidence, rowgroups
from ethicsgate.errors import Location
from ethicsgate.evidence import EvidenceSpec


def every_20_minutes(stretches: Sequence[tuple[str, str]]) -> pd.DatetimeIndex:
    """Return UTC times every 20 minutes over each stretch (end left out), in order."""
    parts = [pd.date_range(a, b, freq="20min", inclusive="left", tz="UTC") for a, b in stretches]
    return parts[0].append(parts[1:])


def plan_from_footer_always(
    monkeypatch: pytest.MonkeyPatch,
) -> list[rowgroups.RowGroupWindows | None]:
    """Plan from the footer whatever it costs; return the list every plan is recorded in."""
    monkeypatch.setattr(rowgroups, "MAX_BRANCHES", 10_000)
    monkeypatch.setattr(rowgroups, "MIN_ROWS_PER_BRANCH", 0)
    monkeypatch.setattr(rowgroups, "MAX_RANGES", 10_000)
    monkeypatch.setattr(rowgroups, "BRANCH_NS", 0.0)
    monkeypatch.setattr(rowgroups, "RANGE_NS_PER_ROW", 0.0)
    plans: list[rowgroups.RowGroupWindows | None] = []
    real = duckdb_dataset.plan_row_group_windows

    def planned(row_groups):  # type: ignore[no-untyped-def]
        plans.append(real(row_groups))
        return plans[-1]

    monkeypatch.setattr(duckdb_dataset, "plan_row_group_windows", planned)
    return plans


def open_decisions(path: Path, **spec: str) -> Any:
    """Open the Parquet file as evidence whose prediction is the column ``approved``."""
    return open_evidence(
        "ev",
        EvidenceSpec.model_validate(
            {"path": str(path), "columns": {"prediction": "approved"}, **spec}
        ),
        base_dir=path.parent,
        locate=lambda loc: Location("audit.yaml", 1, 1),
    )
