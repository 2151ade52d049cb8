"""History of recorded audit runs: signed results' digests, rule results and group metrics.

``HistoryStore`` keeps them in the review queue's database (``ethicsgate.session.open_history``
opens it); ``record`` adds a run, ``list_runs``/``get_run``/``trend`` read them back.

Names are imported on first use (PEP 562): an audit that records nothing must not pay for
SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ethicsgate.lazy import lazy_exports

if TYPE_CHECKING:
    from ethicsgate.history.models import (
        MetricRow,
        RecordedRule,
        RecordedRun,
        RunDetail,
        TrendPoint,
        TrendResult,
    )
    from ethicsgate.history.rows import group_key, metric_rows, report_digests
    from ethicsgate.history.store import CHUNK, HistoryStore, parse_group_filter, parse_run_id

__all__ = [
    "CHUNK",
    "HistoryStore",
    "MetricRow",
    "RecordedRule",
    "RecordedRun",
    "RunDetail",
    "TrendPoint",
    "TrendResult",
    "group_key",
    "metric_rows",
    "parse_group_filter",
    "parse_run_id",
    "report_digests",
]

#: Exported name -> the submodule that defines it.
_HOMES = {
    "MetricRow": "models",
    "RecordedRule": "models",
    "RecordedRun": "models",
    "RunDetail": "models",
    "TrendPoint": "models",
    "TrendResult": "models",
    "group_key": "rows",
    "metric_rows": "rows",
    "report_digests": "rows",
    "CHUNK": "store",
    "HistoryStore": "store",
    "parse_group_filter": "store",
    "parse_run_id": "store",
}

__getattr__ = lazy_exports(__name__, _HOMES)
