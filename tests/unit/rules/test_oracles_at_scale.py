"""The oracles at 1, 40, 10,000 and 100,000 groups (issue #16's done-when).

At every size the audit's numbers are checked against an implementation that shares nothing
with the vectorised path:

- every group metric against fairlearn's ``MetricFrame`` on the raw rows (all groups up to
  40; a seeded sample of 150 groups beyond, as MetricFrame costs ~1.5 ms per group and metric)
  and every group against counts of the raw rows taken with ``np.unique``, to 1e-12;
- each group's test against the reference group (``test: auto``: Fisher's exact test for small
  counts, the z-test otherwise) against scipy's ``fisher_exact`` and statsmodels'
  ``proportions_ztest`` on the raw rows (sampled the same way); the bootstrap intervals' own
  scale check is ``test_uncertainty.py``'s, bit for bit against the per-group loop;
- the LL144 tables of an audit run through the DuckDB engine on a Parquet file against DuckDB
  ``GROUP BY`` counts of the same file, category by category.

The synthetic rows: ``zip`` x ``sex`` with group sizes from 1 to a few hundred, some groups
without positives or negatives (their rates are 0/0, so null), and a missing ``sex`` group.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml
from fairlearn.metrics import MetricFrame
from scipy.stats import fisher_exact
from statsmodels.stats.proportion import proportions_ztest

from ethicsgate import api
from ethicsgate.metrics import METRICS
from ethicsgate.metrics._fairlearn import metric_functions
from ethicsgate.policy.models import FairnessRule
from ethicsgate.rules.fairness import evaluate_fairness

GROUPS = [1, 40, 10_000, 100_000]
SAMPLED = 150
#: metrics of one group (``ppr`` divides by all groups and is checked against the loop only)
GROUP_METRICS = [m for m in METRICS if METRICS[m].scope != "all"]
FEATURES = ["zip", "sex"]


def _raw(groups: int, seed: int) -> pd.DataFrame:
    """Return raw rows of ``groups`` (zip, sex) groups: sizes 1..400, some one-sided groups.

    ``gid`` is the generator's own number of each row's group: the oracles count by it.
    """
    rng = np.random.default_rng(seed)
    sizes = rng.choice(
        [1, 2, 5, 12, 30, 80, 400], size=groups, p=[0.1, 0.1, 0.2, 0.3, 0.2, 0.08, 0.02]
    )
    if groups == 1:
        sizes[0] = 400
    zips, sexes = _names(groups)
    gid = np.repeat(np.arange(groups), sizes)
    base = rng.random(groups)
    label = (rng.random(len(gid)) < base[gid]).astype(np.int64)
    prediction = (rng.random(len(gid)) < np.clip(base[gid] + 0.2 * label, 0, 1)).astype(np.int64)
    label[gid % 17 == 3] = 1  # no negatives: false positive rate and the like are 0/0
    return pd.DataFrame(
        {
            "zip": zips[gid],
            "sex": sexes[gid],
            "label": label,
            "prediction": prediction,
            "gid": gid,
        }
    )


def _names(groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Return each group's zip and sex (the last of 40 or more has no sex: a group of its own)."""
    ids = np.arange(groups)
    zips = np.array([f"z{i // 2}" for i in ids], dtype=object)
    sexes = np.array(["f", "m"], dtype=object)[ids % 2] if groups > 1 else np.array(["f"], object)
    if groups >= 40:
        sexes[-1] = None
    return zips, sexes


def _counts(raw: pd.DataFrame) -> pd.DataFrame:
    keys = [*FEATURES, "label", "prediction"]
    return raw.groupby(keys, dropna=False, sort=False).size().rename("n").reset_index()


def _rule(**extra: object) -> FairnessRule:
    return FairnessRule.model_validate(
        {
            "id": "r",
            "kind": "fairness",
            "dataset": "d",
            "severity": "info",
            "sensitive_features": FEATURES,
            "min_group_size": 1,
            **extra,
        }
    )


def _key(zip_: object, sex: object) -> tuple[str, str]:
    return str(zip_), "<missing>" if pd.isna(sex) else str(sex)


def _cells(raw: pd.DataFrame) -> dict[tuple[str, str], np.ndarray]:
    """Each group's confusion cells (tn, fp, fn, tp), counted by the generator's group number."""
    groups = int(raw["gid"].max()) + 1
    table = np.zeros((groups, 4), dtype=np.int64)
    np.add.at(table, (raw["gid"].to_numpy(), raw["label"] * 2 + raw["prediction"]), 1)
    zips, sexes = _names(groups)
    return {_key(z, s): table[i] for i, (z, s) in enumerate(zip(zips, sexes, strict=True))}


def _loop_metrics(cells: np.ndarray, all_selected: int) -> dict[str, float | None]:
    tn, fp, fn, tp = (int(c) for c in cells)
    n = tn + fp + fn + tp

    def ratio(a: int, b: int) -> float | None:
        return None if b == 0 else a / b

    return {
        "count": n,
        "selection_rate": ratio(tp + fp, n),
        "base_rate": ratio(tp + fn, n),
        "true_positive_rate": ratio(tp, tp + fn),
        "false_positive_rate": ratio(fp, fp + tn),
        "false_negative_rate": ratio(fn, tp + fn),
        "true_negative_rate": ratio(tn, fp + tn),
        "precision": ratio(tp, tp + fp),
        "false_discovery_rate": ratio(fp, tp + fp),
        "false_omission_rate": ratio(fn, fn + tn),
        "accuracy": ratio(tp + tn, n),
        "ppr": ratio(tp + fp, all_selected),
    }


def _close(ours: float | None, expected: float | None) -> bool:
    if expected is None or (isinstance(expected, float) and math.isnan(expected)):
        return ours is None
    return ours is not None and math.isclose(ours, expected, rel_tol=0, abs_tol=1e-12)


def _sample(keys: list[tuple[str, str]], seed: int) -> list[tuple[str, str]]:
    if len(keys) <= SAMPLED:
        return keys
    rng = np.random.default_rng(seed)
    return [keys[i] for i in sorted(rng.choice(len(keys), size=SAMPLED, replace=False))]


@pytest.mark.parametrize("groups", GROUPS)
def test_every_metric_equals_fairlearn_and_a_loop_on_raw_rows(groups: int) -> None:
    raw = _raw(groups, seed=groups)
    result = evaluate_fairness(_rule(metrics=list(METRICS)), _counts(raw))
    cells = _cells(raw)
    assert len(result.groups) == len(cells) == groups
    all_selected = int(raw["prediction"].sum())
    ours = {_key(g.group["zip"], g.group["sex"]): g for g in result.groups}
    for key, group_cells in cells.items():  # every group, against the loop
        expected = _loop_metrics(group_cells, all_selected)
        for metric, value in expected.items():
            assert _close(ours[key].metrics[metric], value), (key, metric)
    checked = _sample(sorted(cells), seed=groups)
    zips, sexes = _names(groups)
    wanted = [i for i, k in enumerate(zip(zips, sexes, strict=True)) if _key(*k) in set(checked)]
    rows = raw[np.isin(raw["gid"].to_numpy(), wanted)]
    functions = metric_functions()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fairlearn warns where a rate is 0/0
        oracle = MetricFrame(
            metrics={m: functions[m] for m in GROUP_METRICS},
            y_true=rows["label"].to_numpy(),
            y_pred=rows["prediction"].to_numpy(),
            sensitive_features=rows[FEATURES].fillna("<missing>"),
        ).by_group
    oracle = oracle[oracle["count"].notna()]
    assert len(oracle) == len(checked)
    for (zip_, sex), expected in oracle.iterrows():
        group = ours[(str(zip_), str(sex))]
        for metric in GROUP_METRICS:
            spec = METRICS[metric]
            undefined = spec.denominator is not None and _denominator(cells[(zip_, sex)], spec) == 0
            value = None if undefined else float(expected[metric])
            assert _close(group.metrics[metric], value), (zip_, sex, metric)


def _denominator(cells: np.ndarray, spec: object) -> int:
    """The raw rows in a metric's denominator cells ((label, prediction), None = any)."""
    total = 0
    for label, pred in spec.denominator:  # type: ignore[attr-defined]
        for index, count in enumerate(cells):
            if (label is None or index // 2 == label) and (pred is None or index % 2 == pred):
                total += int(count)
    return total


@pytest.mark.parametrize("groups", GROUPS)
def test_each_groups_test_equals_statsmodels_or_scipy_on_raw_rows(groups: int) -> None:
    raw = _raw(groups, seed=7 + groups)
    rule = _rule(
        metrics=["selection_rate"],
        min_group_size=12,  # the reference is then a large group: both tests occur
        uncertainty={"bootstrap_samples": 0, "test": "auto"},
    )
    result = evaluate_fairness(rule, _counts(raw))
    assert len(result.groups) == groups
    reference = result.reference_values["selection_rate"].group
    assert reference is not None
    ref_key = _key(reference["zip"], reference["sex"])
    cells = _cells(raw)
    sums = {k: int(c[1] + c[3]) for k, c in cells.items()}
    sizes = {k: int(c.sum()) for k, c in cells.items()}
    ref_sum, ref_size = sums[ref_key], sizes[ref_key]
    ours = {_key(g.group["zip"], g.group["sex"]): g for g in result.groups}
    methods = set()
    for key in _sample(sorted(ours), seed=groups):
        group = ours[key]
        successes, trials = sums[key], sizes[key]
        if key == ref_key or trials < 12:  # the reference, and groups too small to compare
            assert "selection_rate" not in group.tests
            continue
        test = group.tests["selection_rate"]
        assert (test.successes, test.trials) == (successes, trials)
        methods.add(test.method)
        if test.method == "fisher_exact":
            table = [[successes, trials - successes], [ref_sum, ref_size - ref_sum]]
            assert test.p_value == pytest.approx(fisher_exact(table).pvalue, rel=1e-9)
        elif {successes, ref_sum} <= {0} or (successes == trials and ref_sum == ref_size):
            assert test.p_value == 1.0  # equal rates of 0 or 1: statsmodels divides by zero
        else:
            z, p = proportions_ztest([successes, ref_sum], [trials, ref_size])
            assert test.statistic == pytest.approx(z, rel=1e-9)
            assert test.p_value == pytest.approx(p, rel=1e-9, abs=1e-300)
    if groups >= 40:  # small groups take Fisher's exact test, large ones the z-test
        assert methods == {"fisher_exact", "z_test"}


@pytest.mark.parametrize("groups", GROUPS)
def test_ll144_tables_through_duckdb_equal_exact_group_by_counts(
    groups: int, tmp_path: Path
) -> None:
    raw = _raw(groups, seed=11 + groups)
    path = tmp_path / "applicants.parquet"
    raw.to_parquet(path)
    rule = {
        "id": "ll144",
        "kind": "fairness",
        "dataset": "d",
        "severity": "info",
        "sensitive_features": FEATURES,
        "impact_ratio": "selection",
        "min_group_size": 1,
    }
    policy = tmp_path / "policy.yaml"
    document = {"schema_version": 1, "id": "scale", "version": "1", "title": "Scale"}
    policy.write_text(yaml.safe_dump({**document, "owner": "Tests", "rules": [rule]}))
    report = api.audit(policy, {"d": {"path": str(path)}})
    [result] = report.result.rules
    tables = {tuple(t.features): t for t in result.impact_ratio.tables}
    con = duckdb.connect()
    try:
        for features in (["zip"], ["sex"], ["zip", "sex"]):
            table = tables[tuple(features)]
            cols = ", ".join(features)
            exact = con.sql(
                f"SELECT {cols}, count(*) AS n, sum(prediction) AS k FROM read_parquet('{path}') "
                f"WHERE {' AND '.join(f'{c} IS NOT NULL' for c in features)} GROUP BY ALL"
            ).fetchall()
            unknown = con.sql(
                f"SELECT count(*) FROM read_parquet('{path}') "
                f"WHERE {' OR '.join(f'{c} IS NULL' for c in features)}"
            ).fetchall()[0][0]
            assert table.unknown == unknown
            assert len(table.rows) == len(exact)
            rows = {tuple(r.category[f] for f in features): r for r in table.rows}
            best = max(k / n for *_, n, k in exact)
            for *category, n, k in exact:
                row = rows[tuple(category)]
                assert (row.applicants, row.selected) == (n, k), category
                assert row.rate == k / n
                if best == 0:
                    assert row.impact_ratio is None
                else:
                    assert row.impact_ratio == pytest.approx((k / n) / best, rel=0, abs=1e-12)
    finally:
        con.close()
