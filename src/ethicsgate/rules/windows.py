"""Windowed fairness: one grouped scan keyed by time window, each window judged on its own.

The engine adds the key ``_window`` (the first day of each row's calendar window) to the
grouped counts of the dataset: one more GROUP BY expression, never a pass per window. Here the
counts are numbered by that key (one factorize) and every window is judged at once, the
window one more leading group key (:mod:`~ethicsgate.rules.fairness_windows`), with the
results of judging each window's slice alone (groups, ratios, intervals, tests); rolling
windows (``last: 90d``) are sums of the daily slices, stacked by one groupby (each day's
counts repeated once per window holding it), never a filter per window. The rule fails when an
assertion fails in any window; its ``groups`` and ``overall`` cover all windows together.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from ethicsgate.evidence.model import WINDOW_KEY
from ethicsgate.evidence.spec import WindowEvery, WindowSpec
from ethicsgate.policy.models import FairnessRule, Severity
from ethicsgate.rules.results import (
    AssertionResult,
    GroupResult,
    ImpactRatioResult,
    ReferenceValue,
    RuleResult,
    RuleStatus,
    WindowInfo,
    WindowResult,
)

__all__ = [
    "WINDOW_INDEX",
    "Split",
    "Window",
    "WindowJudgement",
    "evaluate_windowed",
    "split_windows",
    "window_label",
]


#: The column of stacked window counts holding each row's window (0, 1, ... oldest first).
WINDOW_INDEX = "_window_index"


@dataclass(frozen=True)
class Window:
    """One time window: its label and its first and last day."""

    label: str
    start: date
    end: date


@dataclass(frozen=True)
class WindowJudgement:
    """A rule judged on one window: the fields of its result that a window reports."""

    rows: int
    status: RuleStatus
    message: str
    overall: dict[str, float | int | None]
    reference_values: dict[str, ReferenceValue]
    assertions: list[AssertionResult]
    groups: Sequence[GroupResult]
    impact_ratio: ImpactRatioResult | None = None


@dataclass(frozen=True)
class Split:
    """Grouped counts split into windows (oldest first).

    ``stacked`` holds every window's counts one under another, each row's window in
    :data:`WINDOW_INDEX` (rolling windows overlap, so a day's counts appear in each of its
    windows); ``whole`` the counts of all windows together; ``without_time`` the rows without
    a time and ``outside`` (rolling windows) the rows older than every window.
    """

    windows: list[Window]
    stacked: pd.DataFrame
    whole: pd.DataFrame
    without_time: int
    outside: int

    def frames(self) -> list[pd.DataFrame]:
        """Return each window's counts alone (rows in the scan's order)."""
        parts = dict(iter(self.stacked.groupby(WINDOW_INDEX, sort=True)))
        empty = self.stacked.iloc[:0]
        return [
            parts.get(i, empty).drop(columns=[WINDOW_INDEX]).reset_index(drop=True)
            for i in range(len(self.windows))
        ]


def _next_start(start: date, every: WindowEvery) -> date:
    if every == "day":
        return start + timedelta(days=1)
    if every == "week":
        return start + timedelta(days=7)
    months = 1 if every == "month" else 3
    month = start.month - 1 + months
    return date(start.year + month // 12, month % 12 + 1, 1)


def _calendar_start(day: date, every: WindowEvery) -> date:
    if every == "day":
        return day
    if every == "week":
        return day - timedelta(days=day.weekday())
    if every == "month":
        return day.replace(day=1)
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def window_label(start: date, every: WindowEvery) -> str:
    """Return how reports name a calendar window: 2026-03-05, 2026-W10, 2026-03, 2026-Q1."""
    if every == "day":
        return start.isoformat()
    if every == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if every == "month":
        return f"{start.year}-{start.month:02d}"
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def _collapse(frame: pd.DataFrame, sums: list[str]) -> pd.DataFrame:
    """Return ``frame`` without ``_window``, rows of equal keys added up, sorted by the keys."""
    frame = frame.drop(columns=[WINDOW_KEY])
    keys = [c for c in frame.columns if c != "n" and c not in sums]
    if not keys:
        return frame[["n", *sums]].sum().to_frame().T.astype({"n": "int64"})
    out = frame.groupby(keys, dropna=False, sort=True)[["n", *sums]].sum().reset_index()
    out["n"] = out["n"].astype("int64")
    out = out.sort_values(keys, na_position="first", kind="stable")
    return out.reset_index(drop=True)[list(frame.columns)]


def split_windows(frame: pd.DataFrame, spec: WindowSpec, *, sums: list[str]) -> Split:
    """Split grouped counts keyed by ``_window`` into windows, oldest first.

    ``sums`` are the aggregate columns (score sums), added up with ``n``. Calendar windows
    are one key each: the rows keep their counts as they are (the scan's order), numbered by
    window with one factorize, never a filter per window.
    """
    timed = frame[WINDOW_KEY].notna()
    without_time = int(frame.loc[~timed, "n"].sum())
    frame = frame[timed]
    if frame.empty:
        stacked = frame.drop(columns=[WINDOW_KEY]).assign(**{WINDOW_INDEX: np.int64(0)})
        return Split([], stacked, _collapse(frame, sums), without_time, 0)
    last_days = spec.last_days
    windows: list[Window] = []
    if last_days is None:
        every = spec.key_every
        days = frame[WINDOW_KEY]
        if isinstance(days.dtype, pd.CategoricalDtype):
            # a categorical sorts by its categories, listed as the scan first met them (each
            # group's windows in turn): in time order, ISO days sort as text
            days = days.cat.reorder_categories(sorted(days.cat.categories))
        codes, keys = pd.factorize(days, sort=True)
        for key in keys:
            start = date.fromisoformat(str(key))
            end = _next_start(start, every) - timedelta(days=1)
            windows.append(Window(window_label(start, every), start, end))
        stacked = frame.drop(columns=[WINDOW_KEY]).reset_index(drop=True)
        stacked[WINDOW_INDEX] = codes.astype(np.int64)
        return Split(windows, stacked, _collapse(frame, sums), without_time, 0)
    days = pd.to_datetime(frame[WINDOW_KEY]).dt.date
    latest = max(days)
    if spec.every is None:
        ends = [latest]
    else:
        starts = sorted({_calendar_start(d, spec.every) for d in days})
        ends = [min(_next_start(s, spec.every) - timedelta(days=1), latest) for s in starts]
    span = timedelta(days=last_days - 1)
    windows = [Window(f"{last_days}d to {end.isoformat()}", end - span, end) for end in ends]
    first = ends[0] - span
    inside = (days >= first).to_numpy()
    outside = int(frame.loc[~inside, "n"].sum())
    stacked = _stack_rolling(frame, days, windows, sums)
    return Split(windows, stacked, _collapse(frame[inside], sums), without_time, outside)


#: Most rows :func:`_stack_rolling` repeats at once (a day's counts repeat once per window
#: holding the day); windows beyond it are stacked in further chunks, each one groupby.
_MAX_REPEATED = 4_000_000


def _stack_rolling(
    frame: pd.DataFrame, days: pd.Series, windows: list[Window], sums: list[str]
) -> pd.DataFrame:
    """Return every rolling window's counts stacked, as :func:`_collapse` of its days alone.

    The windows are sorted by their last day and all equally long, so the windows holding
    a day are a run of indices: each row is repeated once per window holding it, numbered by
    that window, and one groupby over (window, keys) adds them up. Every (window, group) sums
    its rows in the frame's order, exactly as collapsing the window's rows alone does.
    """
    keys = [c for c in frame.columns if c not in (WINDOW_KEY, "n", *sums)]
    day = pd.to_datetime(days).to_numpy().astype("datetime64[D]").astype(np.int64)
    starts = np.array([w.start for w in windows], dtype="datetime64[D]").astype(np.int64)
    ends = np.array([w.end for w in windows], dtype="datetime64[D]").astype(np.int64)
    low = np.searchsorted(ends, day, side="left")  # the first window ending on or after it
    high = np.searchsorted(starts, day, side="right")  # after the last starting on or before
    rows = frame.drop(columns=[WINDOW_KEY]).reset_index(drop=True)
    parts: list[pd.DataFrame] = []
    chunk = max(1, _MAX_REPEATED // max(len(rows), 1))
    for first in range(0, len(windows), chunk):
        lo = np.maximum(low, first)
        hi = np.minimum(high, first + chunk)
        repeats = np.maximum(hi - lo, 0)
        taken = np.repeat(np.arange(len(rows)), repeats)
        # each row's windows, lo, lo + 1, ...: a running count within each row's repeats
        offsets = np.arange(len(taken)) - np.repeat(np.cumsum(repeats) - repeats, repeats)
        part = rows.take(taken).reset_index(drop=True)
        part.insert(0, WINDOW_INDEX, np.repeat(lo, repeats) + offsets)
        by = [WINDOW_INDEX, *keys]
        summed = part.groupby(by, dropna=False, sort=True)[["n", *sums]].sum().reset_index()
        summed = summed.sort_values(by, na_position="first", kind="stable")
        parts.append(summed)
    stacked = pd.concat(parts, ignore_index=True)
    stacked["n"] = stacked["n"].astype("int64")
    stacked[WINDOW_INDEX] = stacked[WINDOW_INDEX].astype(np.int64)
    return stacked[[*rows.columns, WINDOW_INDEX]]


def _judgement(result: RuleResult) -> WindowJudgement:
    return WindowJudgement(
        rows=result.rows,
        status=result.status,
        message=result.message,
        overall=result.overall,
        reference_values=result.reference_values,
        assertions=result.assertions,
        groups=result.groups,
        impact_ratio=result.impact_ratio,
    )


def evaluate_windowed(
    rule: FairnessRule,
    frame: pd.DataFrame,
    spec: WindowSpec,
    *,
    sums: list[str],
    evaluate: Callable[[pd.DataFrame], RuleResult],
    evaluate_all: Callable[[pd.DataFrame, int], list[WindowJudgement]] | None = None,
) -> RuleResult:
    """Evaluate ``rule`` per window of ``frame`` (keyed by ``_window``) and over all of them.

    ``evaluate`` judges one frame of grouped counts (:func:`~ethicsgate.rules.fairness.
    evaluate_fairness` with the rule's options); ``evaluate_all``, when given, judges every
    window of the stacked counts at once with the same results (:mod:`~ethicsgate.rules.
    fairness_windows`), else each window's frame is judged on its own. The rule's status is
    the worst window's: it fails (or warns, by severity) when an assertion fails in any
    window; its assertions are each the first failing window's result (else the worst
    value's), naming the window.
    """
    split = split_windows(frame, spec, sums=sums)
    windows = split.windows
    info = WindowInfo(
        column=spec.column or "timestamp",
        every=spec.every,
        last_days=spec.last_days,
        time_zone=spec.time_zone,
        rows_without_time=split.without_time,
        rows_outside=split.outside,
    )
    total = evaluate(split.whole)
    if not windows:
        return total.model_copy(
            update={
                "status": RuleStatus.ERROR,
                "message": "no evidence row has a time, so there is no window to judge "
                f"(window column {info.column})",
                "window": info,
            }
        )
    if evaluate_all is not None:
        found = evaluate_all(split.stacked, len(windows))
    else:
        found = [_judgement(evaluate(part)) for part in split.frames()]
    judged = [
        WindowResult(
            label=window.label,
            start=window.start.isoformat(),
            end=window.end.isoformat(),
            rows=result.rows,
            status=result.status,
            message=result.message,
            overall=result.overall,
            reference_values=result.reference_values,
            assertions=[a.model_copy(update={"window": window.label}) for a in result.assertions],
            groups=result.groups,
            impact_ratio=result.impact_ratio,
        )
        for window, result in zip(windows, found, strict=True)
    ]
    assertions = [_worst(rule, i, judged) for i in range(len(rule.assertions))]
    status, message = _status(rule, judged)
    result = total.model_copy(
        update={
            "status": status,
            "message": message,
            "assertions": assertions,
            "window": info,
            "windows": judged,
        }
    )
    if rule.drift is None:
        return result
    from ethicsgate.rules.drift import apply_drift, detect_drift, rate_point, tracked_metric

    metric = tracked_metric(rule.drift)
    points = [
        rate_point(w.label, w.groups, w.reference_values.get(metric), metric=metric) for w in judged
    ]
    return apply_drift(
        rule, result, detect_drift(rule, list(zip(points, points[1:], strict=False)))
    )


def _worst(rule: FairnessRule, index: int, windows: list[WindowResult]) -> AssertionResult:
    """Return the assertion's result in its first failing window (else error, else worst)."""
    results = [w.assertions[index] for w in windows if index < len(w.assertions)]
    for status in ("fail", "error"):
        found = [a for a in results if a.status == status]
        if found:
            names = ", ".join(a.window or "" for a in found[:10])
            names += f" and {len(found) - 10} more" if len(found) > 10 else ""
            more = f" (in {len(found)} windows: {names})" if len(found) > 1 else ""
            first = found[0]
            return first.model_copy(
                update={"message": f"window {first.window}: {first.message}{more}"}
            )
    assertion = rule.assertions[index]
    lower_is_worse = assertion.op in (">=", ">")
    observed = [a for a in results if a.observed is not None]
    if not observed:
        return results[0]
    pick = min if lower_is_worse else max
    worst = pick(observed, key=lambda a: float(a.observed or 0.0))
    return worst.model_copy(
        update={
            "message": f"holds in all {len(results)} windows; worst in window {worst.window}: "
            f"{worst.message}"
        }
    )


def _names(windows: list[WindowResult], limit: int = 10) -> str:
    """Return the windows' labels, the first ``limit`` and how many more."""
    names = ", ".join(w.label for w in windows[:limit])
    return names + (f" and {len(windows) - limit} more" if len(windows) > limit else "")


def _status(rule: FairnessRule, windows: list[WindowResult]) -> tuple[RuleStatus, str]:
    failing = [w for w in windows if w.status in (RuleStatus.FAIL, RuleStatus.WARN)]
    errors = [w for w in windows if w.status == RuleStatus.ERROR]
    if failing:
        status = RuleStatus.FAIL if rule.severity == Severity.BLOCK else RuleStatus.WARN
        names = _names(failing)
        first = failing[0]
        return status, (
            f"fails in {len(failing)} of {len(windows)} window(s) ({names}); "
            f"window {first.label}: {first.message}"
        )
    if errors:
        names = _names(errors)
        return RuleStatus.ERROR, (
            f"cannot be judged in {len(errors)} of {len(windows)} window(s) ({names}); "
            f"window {errors[0].label}: {errors[0].message}"
        )
    return RuleStatus.PASS, f"holds in all {len(windows)} window(s)"
