"""Group metrics from grouped confusion counts, for every group at once (numpy and pandas only).

Every metric of :data:`ethicsgate.metrics.METRICS` is ``sum(n over its numerator cells) /
sum(n over its denominator cells)``, the denominator summed over the group (or, for a share of
all such as ``ppr``, over all the groups). The counts are summed per group in one ``groupby`` over
one column per distinct cell set, and each value is one division of two exact integer sums,
which is what fairlearn and scikit-learn compute too, so the values are bit-identical to
``MetricFrame`` (:mod:`ethicsgate.metrics._fairlearn`, the oracle). 0/0 is ``NaN`` per group
and ``None`` overall, never 0. Neither fairlearn nor scikit-learn is imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ethicsgate.metrics import LABEL, METRICS, MISSING, PREDICTION, Cell

__all__ = [
    "as_multiindex",
    "cells_mask",
    "collapse_counts",
    "compute_group_metrics",
    "group_ids",
    "group_keys",
    "key_ranks",
    "level_keys",
]


def cells_mask(cells: Sequence[Cell], labels: Any, predictions: Any) -> Any:
    """Return a boolean array: which rows fall in one of the confusion ``cells``.

    Args:
        cells: ``(label, prediction)`` pairs; ``None`` is a wildcard.
        labels: the rows' 0/1 labels (None: the rows have none; no row then matches a cell
            that names a label).
        predictions: the rows' 0/1 predictions, as long as ``labels`` (None: as for labels).
    """
    size = len(labels if labels is not None else predictions)
    mask = np.zeros(size, dtype=bool)
    for label, pred in cells:
        part = np.ones(size, dtype=bool)
        if label is not None:
            part &= labels == label
        if pred is not None:
            part &= predictions == pred
        mask |= part
    return mask


def group_keys(counts: pd.DataFrame, features: Sequence[str]) -> list[pd.Series]:
    """Return the feature columns as group keys, a missing value as ``MISSING``."""
    return [counts[f].astype(object).where(counts[f].notna(), MISSING) for f in features]


def level_keys(values: Any) -> np.ndarray:
    """Return each value as a group key string (``str(value)``), ``MISSING`` where missing.

    None, NaN and pd.NA are all missing, as the rule's own grouping treats them. Each distinct
    value is converted once (``pd.factorize``), so a column of a million rows costs one pass.
    """
    codes, names = _distinct_keys(values)
    keys: np.ndarray = names[codes]
    return keys


def _distinct_keys(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return each value's code and the distinct keys (the code -1 picks the last, MISSING).

    A categorical gives its codes and categories as they are, with no pass over the rows.
    """
    series = pd.Series(values, copy=False)
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes, uniques = series.cat.codes.to_numpy(), series.cat.categories
    else:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return codes, np.array([*(str(u) for u in uniques), MISSING], dtype=object)


def group_ids(frame: pd.DataFrame, features: list[str], keys: Sequence[np.ndarray]) -> Any:
    """Return each row's group index (int32; int64 past 2^31 groups or with no feature; -1: none).

    ``keys`` holds, per feature, the groups' values as :func:`level_keys` gives them, in the
    groups' order. Each row's values become one mixed-radix code over the groups' levels
    (a categorical column maps its categories, not its rows), and the codes of the groups are
    looked up in one table (or by binary search when the levels' product is large): at 10^7
    rows about 0.2 GB less than renumbering level by level with hash lookups.
    """
    if not keys:
        return np.full(len(frame), -1, dtype=np.int64)
    rows = np.zeros(len(frame), dtype=np.int64)
    unknown = np.zeros(len(frame), dtype=bool)
    groups = np.zeros(len(keys[0]), dtype=np.int64)
    span = 1
    for feature, group_values in zip(features, keys, strict=True):
        level = pd.Index(pd.unique(group_values))
        codes, names = _distinct_keys(frame[feature])
        lookup = level.get_indexer(pd.Index(names)).astype(np.int32)  # one per distinct value
        width = len(level)
        if span > _SAFE_SPAN // max(width, 1):  # the codes would overflow: renumber the prefixes
            rows, groups, span = _renumbered(rows, unknown, groups, span)
        row_codes = lookup[codes]
        unknown |= row_codes < 0
        rows *= width
        rows += row_codes
        del row_codes
        groups = groups * width + level.get_indexer(group_values)
        span *= width
    index = _lookup_groups(rows, groups, span)
    index[unknown] = -1
    return index


#: Mixed-radix codes stay below this (int64 with room to multiply by one more level)
_SAFE_SPAN = 1 << 62
#: A dense table maps the codes to group indexes when they are at most this many (64 MB)
_DENSE_SPAN = 1 << 24
#: Group positions are int32 below this many groups
_INT32_GROUPS = 1 << 31


def _lookup_groups(rows: np.ndarray, groups: np.ndarray, span: int) -> np.ndarray:
    """Return each row's position among ``groups`` by its code (-1: none; ``rows`` reused)."""
    # int32 positions when they fit: half the memory of an index per grouped row (10^7 cells:
    # 85 -> 42 MB, held through the scoring rule's histograms)
    dtype = np.int32 if groups.size < _INT32_GROUPS else np.int64
    if span <= _DENSE_SPAN:
        table = np.full(span, -1, dtype=dtype)
        table[groups] = np.arange(groups.size)
        np.clip(rows, 0, span - 1, out=rows)  # unknown rows: any slot, reset by the caller
        found: np.ndarray = table[rows]
        return found
    order = np.argsort(groups, kind="stable").astype(dtype, copy=False)
    ordered = groups[order]
    position = np.searchsorted(ordered, rows)
    np.clip(position, 0, max(ordered.size - 1, 0), out=position)
    match = ordered[position] == rows if ordered.size else np.zeros(rows.size, dtype=bool)
    index: np.ndarray = order[position] if ordered.size else np.full(rows.size, -1, dtype=dtype)
    index[~match] = -1
    return index


def _renumbered(
    rows: np.ndarray, unknown: np.ndarray, groups: np.ndarray, span: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Return the codes (below ``span``) renumbered among the groups' prefixes.

    Rows whose prefix is no group's become ``unknown``.
    """
    prefixes = np.unique(groups)
    # int64: the codes are multiplied by the next levels
    rows = _lookup_groups(rows, prefixes, span).astype(np.int64, copy=False)
    unknown |= rows < 0
    rows[rows < 0] = 0
    return rows, np.searchsorted(prefixes, groups), int(prefixes.size)


def key_ranks(keys: np.ndarray) -> np.ndarray:
    """Return each key's rank in the report order: by value, ``MISSING`` last (``level_keys``)."""
    distinct = sorted(pd.unique(keys).tolist(), key=lambda v: (v == MISSING, v))
    return np.asarray(pd.Index(distinct).get_indexer(keys), dtype=np.int64)


#: Collapsing by slot (one per combination of the keys' codes) when they are at most this
#: many, or twice the rows: a bincount of this many floats is 32 MB
_MAX_SLOTS = 1 << 22


def collapse_counts(frame: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Return ``n`` summed over ``keys``, one row per combination present (``n`` > 0).

    The result of ``frame.groupby(keys, dropna=False)["n"].sum().reset_index()`` with its
    empty combinations dropped, ordered by the keys' codes (missing first). Categorical keys
    and integer keys of a small range (labels, predictions) are summed by one bincount over
    each row's combination of codes: at 10^7 grouped rows pandas' groupby held about 0.4 GB
    more for its factorisation than this; other keys go through that groupby. The sums are
    of integers, exact in any order.
    """
    keys = list(keys)
    codes: list[tuple[np.ndarray, int, int]] = []  # (codes, offset, width)
    slots = 1
    for key in keys:
        column = frame[key]
        if isinstance(column.dtype, pd.CategoricalDtype):
            codes.append((column.cat.codes.to_numpy(), 1, len(column.cat.categories) + 1))
        elif pd.api.types.is_integer_dtype(column.dtype) and len(column):
            values = column.to_numpy()
            low, high = int(values.min()), int(values.max())
            if high - low >= 1024:
                return _collapse_by_groupby(frame, keys)
            codes.append((values, -low, high - low + 1))
        else:
            return _collapse_by_groupby(frame, keys)
        slots *= codes[-1][2]
    if not keys or not len(frame) or slots > max(_MAX_SLOTS, 2 * len(frame)):
        return _collapse_by_groupby(frame, keys)
    combined = np.zeros(len(frame), dtype=np.int64)
    for values, offset, width in codes:
        combined *= width
        combined += values
        if offset:
            combined += offset
    sums = np.bincount(combined, weights=frame["n"].to_numpy(), minlength=slots)
    del combined
    present = np.flatnonzero(sums > 0)
    n = sums[present].astype(np.int64)
    columns: dict[str, Any] = {}
    rest = present
    for key, (_, offset, width) in reversed(list(zip(keys, codes, strict=True))):
        rest, code = np.divmod(rest, width)
        dtype = frame[key].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            columns[key] = pd.Categorical.from_codes(code - 1, dtype=dtype)
        else:
            columns[key] = (code - offset).astype(dtype)
    out = pd.DataFrame({key: columns[key] for key in keys})
    out["n"] = n
    return out


def _collapse_by_groupby(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    counts = frame.groupby(keys, dropna=False, sort=False)["n"].sum().reset_index()
    return counts[counts["n"] > 0].reset_index(drop=True)


def as_multiindex(index: pd.Index, names: list[str]) -> pd.MultiIndex:
    """Return ``index`` as a MultiIndex (a one-feature grouping gives a plain Index)."""
    if isinstance(index, pd.MultiIndex):
        return index
    return pd.MultiIndex.from_arrays([index], names=names)


def compute_group_metrics(
    counts: pd.DataFrame, *, features: Sequence[str], metrics: Sequence[str]
) -> tuple[pd.DataFrame, dict[str, float | None], pd.Series]:
    """Compute metrics per group from aggregated rows, all groups in one ``groupby``.

    Args:
        counts: the feature columns, ``label`` and/or ``prediction`` (0/1) and ``n``.
        features: the sensitive features; their combinations are the groups.
        metrics: metric ids of :data:`ethicsgate.metrics.METRICS`.

    Returns:
        The per-group metrics (columns: ``metrics``; index: a ``MultiIndex`` of group tuples,
        a missing feature value as :data:`~ethicsgate.metrics.MISSING`; 0/0 as NaN), the
        overall metrics (``None`` where 0/0) and the group sizes (int64, same index); groups
        of size 0 are left out.
    """
    features = list(features)
    n = counts["n"].to_numpy(dtype=np.int64)
    # A side the rows lack stands in for the other, as for fairlearn's y_true/y_pred; a metric
    # reading it is not asked for (the policy checks what a rule reads).
    if LABEL in counts or PREDICTION in counts:
        labels = counts[LABEL if LABEL in counts else PREDICTION].to_numpy()
        predictions = counts[PREDICTION if PREDICTION in counts else LABEL].to_numpy()
    else:  # only counts (e.g. a rule of LL144 tables only)
        labels = predictions = np.zeros(len(counts), dtype=np.int64)

    cell_sets: dict[tuple[Cell, ...], str] = {}
    for metric in metrics:
        spec = METRICS[metric]
        for cells in (spec.numerator, spec.denominator or ()):
            cell_sets.setdefault(cells, f"c{len(cell_sets)}")
    columns = {
        name: np.where(cells_mask(cells, labels, predictions), n, 0)
        for cells, name in cell_sets.items()
    }
    columns["_size"] = n
    keys = group_keys(counts, features)
    sums = pd.DataFrame(columns, index=counts.index).groupby(keys, sort=False).sum()
    sums = sums[sums["_size"].to_numpy() > 0]
    sums.index = as_multiindex(sums.index, features)
    totals = sums.sum()

    by_group: dict[str, Any] = {}
    overall: dict[str, float | int | None] = {}
    for metric in metrics:
        spec = METRICS[metric]
        num = sums[cell_sets[spec.numerator]].to_numpy(dtype=np.float64)
        if spec.denominator is None:  # a count of people: an integer, never undefined
            by_group[metric] = num
            overall[metric] = int(totals[cell_sets[spec.numerator]])
            continue
        den_name = cell_sets[spec.denominator]
        total_den = int(totals[den_name])
        if spec.scope == "all":  # a share of all: every group divides by the groups' total
            den = np.full(len(num), float(total_den))
        else:
            den = sums[den_name].to_numpy(dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            by_group[metric] = np.where(den == 0, np.nan, num / den)
        total_num = int(totals[cell_sets[spec.numerator]])
        overall[metric] = None if total_den == 0 else float(total_num) / float(total_den)
    frame = pd.DataFrame(by_group, index=sums.index, columns=list(metrics))
    sizes = sums["_size"].astype("int64").rename("n")
    return frame, overall, sizes
