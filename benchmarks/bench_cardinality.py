"""Benchmark fairness audits over many groups: 1e3 to 1e5 intersectional groups (issue #16).

For each row count (default 2e6 and 2e7) and group count (default 1e3, 1e4 and 1e5) the script
writes a synthetic log as Parquet with DuckDB (``COPY (SELECT ... FROM range(n))``, streamed;
git-ignored under ``benchmarks/data/``): ``zip`` (groups / 2 five-digit codes), ``sex`` (F/M),
so ``zip x sex`` has the given number of groups of about equal size; a score in steps of 0.01
(101 values, so every method's ROC AUC is exact) shifted per zip code; the prediction
``score >= 0.5``; and a label that rises with the score. One policy holds two rules over
``[zip, sex]``:

* **selection**: selection rate, TPR and FPR per group, ``min_group_size: 10``, reference the
  best group, 200 bootstrap resamples (``seed: 1``) with z-tests against the reference, and
  the assertion ``selection_rate ratio >= 0.8``;
* **scoring**: the LL144 scoring-rate tables (share above the full-sample median; over zip,
  sex and zip x sex, with impact ratios) and the ROC AUC of every group.

Three methods compute both rules, each in a fresh child process of a small wrapper that times
it and reads its peak RSS (``_common.measure_wrapped``'s wrapper, with a time limit):

* **ethicsgate**: ``ethicsgate audit`` (CLI, end to end: start-up, imports, evidence scans,
  sha256 of the evidence, evaluation, report.json/.html/.md);
* **floor**: what a careful hand-written script does, in one process: DuckDB ``GROUP BY zip,
  sex`` to the four confusion counts, numpy rates, the best group, ratios, differences and
  vectorised z-tests, and a vectorised numpy bootstrap (the same 200 multinomial resamples of
  each group's cells, in blocks of groups, percentile intervals of the rates, ratios and
  differences); for scoring DuckDB's exact ``median(score)`` and a ``GROUP BY zip, sex,
  score`` with positives and negatives per score, numpy scoring rates, impact ratios and the
  Mann-Whitney AUC of every group. It writes no report and hashes nothing;
* **fairlearn** (today's path in the first version): DuckDB groups the rows by ``zip, sex,
  label, prediction`` (and ``zip, sex, score, label``) and fairlearn's ``MetricFrame`` computes
  the rates, the scoring rates and scikit-learn's ``roc_auc_score`` per group on those grouped
  rows with ``sample_weight = count``; the ratios, tests and bootstrap are the floor's numpy
  code (fairlearn has no bootstrap over counts). It calls the metric functions once per group
  (about 0.03 s per group on an idle 2-core machine, so about 5 minutes at 1e4 groups), so it
  is skipped above ``--fairlearn-max-groups`` (default 1e4).

Cross-check: every method writes its selection rates, ratios and p-values, its scoring rates
and impact ratios and its AUCs per group; ethicsgate's come from its report.json. They must
agree with the floor's within 1e-12 (same groups, same undefined values), or the run stops
before the docs are touched. The bootstrap intervals are not compared (the floor draws in
another order).

Results go to ``benchmarks/data/bench_cardinality-results.json`` and to ``docs/benchmarks.md``
between ``<!-- bench_cardinality:start -->`` and ``<!-- bench_cardinality:end -->``, with the
machine and its load before each run. A run that takes longer than ``--timeout`` seconds is
killed (with its process group) and reported as timed out; a failing run is reported and the
benchmark goes on. Run from the repository root on an idle machine (the full run writes about
2 GB, mostly the reports at 1e5 groups; ``--quick`` takes a few minutes)::

    .venv/bin/python benchmarks/bench_cardinality.py
    .venv/bin/python benchmarks/bench_cardinality.py --quick
    .venv/bin/python benchmarks/bench_cardinality.py --rows 2e5 --groups 1e3 --no-docs
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import shlex
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402  (benchmarks/ is not a package)
    DOC_PATH,
    ROOT,
    WRAPPER,
    ethicsgate_command,
    log,
    machine_info,
    parquet_has_metadata,
    parse_count,
    update_doc_section,
    warm_cache,
)

DATA_DIR = ROOT / "benchmarks" / "data"
RESULTS = DATA_DIR / "bench_cardinality-results.json"
START = "<!-- bench_cardinality:start -->"
END = "<!-- bench_cardinality:end -->"
GENERATOR_VERSION = "1"
SALT = 16_2026

DEFAULT_ROWS = "2e6,2e7"
DEFAULT_GROUPS = "1e3,1e4,1e5"
QUICK_ROWS, QUICK_GROUPS = "2e6", "1e3,1e4"
METRICS = ("selection_rate", "true_positive_rate", "false_positive_rate")
#: Each metric's numerator and denominator over the cells (tp, fp, tn, fn).
CELLS = ("tp", "fp", "tn", "fn")
METRIC_CELLS = {
    "selection_rate": ((0, 1), (0, 1, 2, 3)),
    "true_positive_rate": ((0,), (0, 3)),
    "false_positive_rate": ((1,), (1, 2)),
}
SAMPLES = 200
SEED = 1
LEVEL = 0.95
MIN_GROUP_SIZE = 10
THRESHOLD = 0.8
TOLERANCE = 1e-12
RSS_LIMIT_MIB = 1024
#: The issue's goals: ethicsgate's wall time at most this many times the floor's, by groups.
GOALS = {10_000: 5.0, 100_000: 8.0}
#: Groups per block of the floor's bootstrap (samples x block x 4 cells of int64: 64 MB).
BOOTSTRAP_BLOCK = 10_000

METHOD_FLOOR = "floor (DuckDB GROUP BY + numpy)"
METHOD_ETHICSGATE = "ethicsgate audit (CLI, end to end)"
METHOD_FAIRLEARN = "fairlearn MetricFrame on grouped rows"

POLICY = f"""\
schema_version: 1
id: bench-cardinality
version: "1"
title: Many groups (benchmarks/bench_cardinality.py)
owner: benchmarks
rules:
  - id: selection
    kind: fairness
    title: Selection by zip code x sex
    dataset: applicants
    severity: block
    sensitive_features: [zip, sex]
    metrics: [{", ".join(METRICS)}]
    min_group_size: {MIN_GROUP_SIZE}
    reference: max
    uncertainty: {{bootstrap_samples: {SAMPLES}, seed: {SEED}, test: z_test}}
    assert:
      - {{metric: selection_rate, aggregate: ratio, op: ">=", value: {THRESHOLD}}}
  - id: scoring
    kind: fairness
    title: Scoring rate and ROC AUC by zip code x sex
    dataset: applicants
    severity: warn
    sensitive_features: [zip, sex]
    impact_ratio: scoring
    score_metrics: [roc_auc]
"""
AUDIT = """\
schema_version: 1
id: bench-cardinality-{label}
title: Synthetic applicants, {rows:,} rows, {groups:,} groups (benchmarks/bench_cardinality.py)
policy: bench-cardinality-policy.yaml
evidence:
  applicants:
    path: {data}
    columns: {{label: hired, prediction: selected, score: score}}
"""


def count_label(value: int) -> str:
    """Return '2e6' for 2,000,000 and '1e4' for 10,000 (else the number itself)."""
    exponent = int(math.floor(math.log10(value)))
    mantissa = value / 10**exponent
    return f"{int(mantissa)}e{exponent}" if mantissa == int(mantissa) else str(value)


def parse_counts(text: str, noun: str) -> list[int]:
    """Parse '1e3,1e4' into whole, positive numbers."""
    try:
        return [parse_count(part.strip(), noun=noun) for part in text.split(",") if part.strip()]
    except (argparse.ArgumentTypeError, ValueError) as exc:
        raise SystemExit(f"--{noun}: {exc}") from exc


# -- data ---------------------------------------------------------------------------------------


def _u(k: int) -> str:
    """A uniform [0, 1) number per row, from DuckDB's hash (parallel-safe and reproducible)."""
    return f"(hash(i * 8 + {k} + {SALT})::DOUBLE / 18446744073709551616.0)"


def generation_sql(rows: int, groups: int, path: Path) -> str:
    """Return the COPY statement that writes ``rows`` rows over ``groups`` zip x sex groups."""
    zips = groups // 2
    return f"""
COPY (
  SELECT zip, sex, score,
         CAST(score >= 0.5 AS TINYINT) AS selected,
         CAST(u3 < 0.15 + 0.6 * score AS TINYINT) AS hired
  FROM (
    SELECT lpad(CAST(z AS VARCHAR), 5, '0') AS zip,
           CASE WHEN u2 < 0.5 THEN 'F' ELSE 'M' END AS sex,
           u3,
           round(least(1.0, greatest(0.0, 0.5 + 0.45 * (u4 + u5 - 1.0)
             + (CAST(hash(z + {SALT}) % 21 AS BIGINT) - 10) / 200.0
             + CASE WHEN u2 < 0.5 THEN -0.02 ELSE 0.0 END)), 2) AS score
    FROM (SELECT i, CAST(floor({_u(1)} * {zips}) AS BIGINT) AS z, {_u(2)} AS u2,
                 {_u(3)} AS u3, {_u(4)} AS u4, {_u(5)} AS u5 FROM range({rows}) t(i))
  )
) TO '{path}' (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 1000000,
               KV_METADATA {{'bench_cardinality.generator': '{GENERATOR_VERSION}',
                             'bench_cardinality.rows': '{rows}',
                             'bench_cardinality.groups': '{groups}',
                             'bench_cardinality.salt': '{SALT}'}})
"""


def data_path(rows: int, groups: int) -> Path:
    """Return the Parquet file of ``rows`` rows over ``groups`` groups."""
    return DATA_DIR / f"cardinality_{count_label(rows)}_{count_label(groups)}.parquet"


def _expected_metadata(rows: int, groups: int) -> dict[bytes, bytes]:
    return {
        b"bench_cardinality.generator": GENERATOR_VERSION.encode(),
        b"bench_cardinality.rows": str(rows).encode(),
        b"bench_cardinality.groups": str(groups).encode(),
        b"bench_cardinality.salt": str(SALT).encode(),
    }


def ensure_data(rows: int, groups: int, *, regenerate: bool) -> Path:
    """Write the data in a child process unless an identical file exists; return its path."""
    path = data_path(rows, groups)
    if not regenerate and parquet_has_metadata(path, _expected_metadata(rows, groups)):
        log(f"data: reusing {path.relative_to(ROOT)} ({path.stat().st_size / 2**20:,.1f} MiB)")
        return path
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    log(f"data: generating {rows:,} rows over {groups:,} groups -> {path.relative_to(ROOT)}")
    started = time.perf_counter()
    result = subprocess.run(child("generate", str(rows), str(groups)), cwd=ROOT, check=False)
    if result.returncode or not parquet_has_metadata(path, _expected_metadata(rows, groups)):
        raise SystemExit(f"generating {rows:,} rows over {groups:,} groups failed")
    log(
        f"data: wrote {path.stat().st_size / 2**20:,.1f} MiB in "
        f"{time.perf_counter() - started:.1f} s"
    )
    return path


def child_generate(rows_text: str, groups_text: str) -> None:
    """Child: write the synthetic file (to a temporary name, then moved into place)."""
    import duckdb

    rows, groups = int(rows_text), int(groups_text)
    path = data_path(rows, groups)
    tmp = path.with_suffix(".parquet.tmp")
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute(generation_sql(rows, groups, tmp))
    con.close()
    os.replace(tmp, path)


def write_spec(rows: int, groups: int, data: Path) -> Path:
    """Write the policy and the audit spec of one data file; return the spec."""
    (DATA_DIR / "bench-cardinality-policy.yaml").write_text(POLICY, encoding="utf-8")
    label = f"{count_label(rows)}-{count_label(groups)}"
    spec = DATA_DIR / f"bench-cardinality-{label}.yaml"
    spec.write_text(
        AUDIT.format(label=label, rows=rows, groups=groups, data=data.name), encoding="utf-8"
    )
    return spec


# -- numpy pieces shared by the floor and the fairlearn children --------------------------------


def _sql_path(data: str) -> str:
    return data.replace("'", "''")


def selection_cells(con: Any, data: str) -> tuple[list[str], Any]:
    """Return the sorted 'zip|sex' keys and their (tp, fp, tn, fn) counts from one GROUP BY."""
    import numpy as np

    found = con.sql(
        "SELECT zip, sex, "
        "count(*) FILTER (WHERE hired = 1 AND selected = 1), "
        "count(*) FILTER (WHERE hired = 0 AND selected = 1), "
        "count(*) FILTER (WHERE hired = 0 AND selected = 0), "
        "count(*) FILTER (WHERE hired = 1 AND selected = 0) "
        f"FROM read_parquet('{_sql_path(data)}') GROUP BY ALL ORDER BY zip, sex"
    ).fetchnumpy()
    names = list(found)
    keys = [f"{z}|{s}" for z, s in zip(found[names[0]], found[names[1]], strict=True)]
    cells = np.stack([np.asarray(found[n], dtype=np.int64) for n in names[2:]], axis=1)
    return keys, cells


def rates(cells: Any, metric: str) -> tuple[Any, Any, Any]:
    """Return (numerator, denominator, rate) of ``metric`` per row of ``cells`` (NaN for 0/0)."""
    import numpy as np

    num_cols, den_cols = METRIC_CELLS[metric]
    num = sum(cells[..., j] for j in num_cols[1:]) + cells[..., num_cols[0]]
    den = sum(cells[..., j] for j in den_cols[1:]) + cells[..., den_cols[0]]
    with np.errstate(divide="ignore", invalid="ignore"):
        return num, den, np.where(den > 0, num / den, np.nan)


def best_group(values: Any, excluded: Any) -> int | None:
    """Return the first group with the highest defined value among those not excluded."""
    import numpy as np

    candidates = np.flatnonzero(~excluded & ~np.isnan(values))
    if candidates.size == 0:
        return None
    return int(candidates[int(np.argmax(values[candidates]))])


def z_test_p(x1: Any, n1: Any, x2: int, n2: int) -> Any:
    """Return the two-sided p of the pooled two-proportion z-test of x1/n1 against x2/n2."""
    import numpy as np
    from scipy.special import ndtr

    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    spread = variance > 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(spread, (x1 / n1 - x2 / n2) / np.sqrt(variance), 0.0)
    p = np.where(spread, 2.0 * ndtr(-np.abs(z)), 1.0)
    return np.clip(p, 0.0, 1.0)


def percentile_bounds(draws: Any, level: float = LEVEL) -> tuple[Any, Any]:
    """Return each row's percentile interval (numpy's linear quantile of its defined draws).

    NaN draws are left out; a row with more than half of them undefined gets NaN bounds.
    """
    import numpy as np

    groups, samples = draws.shape
    ordered = np.sort(draws, axis=1)  # NaN last
    defined = samples - np.isnan(ordered).sum(axis=1)
    last = np.maximum(defined - 1, 0)
    rows = np.arange(groups)
    bounds = []
    for q in ((1.0 - level) / 2.0, (1.0 + level) / 2.0):
        position = last * q
        below = np.floor(position).astype(np.int64)
        above = np.minimum(below + 1, last)
        gamma = position - below
        a, b = ordered[rows, below], ordered[rows, above]
        bounds.append(np.where(defined * 2 < samples, np.nan, a + (b - a) * gamma))
    return bounds[0], bounds[1]


def bootstrap_intervals(
    cells: Any, excluded: Any, references: dict[str, int | None]
) -> dict[str, Any]:
    """Draw SAMPLES multinomial resamples of every group's cells; return percentile bounds.

    Groups are drawn in blocks (the reference groups first, once), so memory stays bounded;
    returns, per metric, the low/high bounds of the rate, the ratio and the difference.
    """
    import numpy as np

    rng = np.random.default_rng([SEED, 0])
    sizes = cells.sum(axis=1)
    shares = cells / np.where(sizes == 0, 1, sizes)[:, None]
    ref_rows = sorted({r for r in references.values() if r is not None})
    ref_draws = rng.multinomial(sizes[ref_rows], shares[ref_rows], size=(SAMPLES, len(ref_rows)))
    ref_rate = {
        m: rates(ref_draws[:, ref_rows.index(r), :], m)[2]
        for m, r in references.items()
        if r is not None
    }
    n_groups = cells.shape[0]
    out = {
        f"{what}_{m}": np.full((2, n_groups), np.nan)
        for m in METRICS
        for what in ("rate", "ratio", "difference")
    }
    for start in range(0, n_groups, BOOTSTRAP_BLOCK):
        stop = min(n_groups, start + BOOTSTRAP_BLOCK)
        draws = rng.multinomial(sizes[start:stop], shares[start:stop], size=(SAMPLES, stop - start))
        for metric in METRICS:
            values = rates(draws, metric)[2].T  # groups x samples
            ref = references[metric]
            if ref is not None and start <= ref < stop:  # one draw per group and resample
                values[ref - start] = ref_rate[metric]
            out[f"rate_{metric}"][:, start:stop] = percentile_bounds(values)
            if ref is None:
                continue
            compared = ~excluded[start:stop]
            if start <= ref < stop:
                compared[ref - start] = False
            reference = ref_rate[metric][None, :]
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(reference != 0, values[compared] / reference, np.nan)
            difference = np.abs(values[compared] - reference)
            index = np.flatnonzero(compared) + start
            out[f"ratio_{metric}"][:, index] = percentile_bounds(ratio)
            out[f"difference_{metric}"][:, index] = percentile_bounds(difference)
    return out


def selection_result(
    keys: list[str], cells: Any, values: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Return the selection rule's results from the cells (``values``: rates given by another).

    Rates, the best group per metric, ratios, differences and z-tests against it, the failing
    groups of the ratio assertion and the bootstrap intervals.
    """
    import numpy as np

    sizes = cells.sum(axis=1)
    excluded = sizes < MIN_GROUP_SIZE
    out: dict[str, Any] = {"keys": keys, "excluded": excluded.tolist()}
    references: dict[str, int | None] = {}
    for metric in METRICS:
        num, den, rate = rates(cells, metric)
        if values is not None:
            rate = values[metric]
        ref = best_group(rate, excluded)
        references[metric] = ref
        compared = ~excluded.copy()
        ratio = np.full(len(keys), np.nan)
        p = np.full(len(keys), np.nan)
        if ref is not None:
            compared[ref] = False
            ref_value = rate[ref]
            if ref_value != 0:
                ratio = np.where(~excluded, rate / ref_value, np.nan)
            tested = compared & (den > 0) & (den[ref] > 0)
            p[tested] = z_test_p(num[tested], den[tested], int(num[ref]), int(den[ref]))
        out[metric] = rate
        out[f"ratio_{metric}"] = ratio
        out[f"p_{metric}"] = p
    ratio = out["ratio_selection_rate"]
    with np.errstate(invalid="ignore"):
        out["failing_groups"] = int((~np.isnan(ratio) & (ratio < THRESHOLD)).sum())
    intervals = bootstrap_intervals(cells, excluded, references)
    out["intervals_defined"] = int(sum((~np.isnan(v[0])).sum() for v in intervals.values()))
    return out


def scoring_cells(con: Any, data: str) -> tuple[float, list[str], Any, Any, Any, Any]:
    """Return the median, 'zip|sex' keys, and per group the scores with positives, negatives.

    One GROUP BY zip, sex, score (unsorted); Arrow numbers the zip codes and sexes, numpy
    sorts the cells by group and score: returns (median, keys, offsets, scores, positives,
    negatives), the last three flat in group and score order, group ``g`` at
    ``offsets[g]:offsets[g + 1]``.
    """
    import numpy as np

    path = _sql_path(data)
    median = float(con.sql(f"SELECT median(score) FROM read_parquet('{path}')").fetchall()[0][0])
    found = con.sql(
        "SELECT zip, sex, score, count(*) FILTER (WHERE hired = 1) AS pos, "
        "count(*) FILTER (WHERE hired = 0) AS neg "
        f"FROM read_parquet('{path}') GROUP BY ALL"
    ).to_arrow_table()

    def codes(name: str) -> tuple[Any, list[str]]:
        encoded = found[name].combine_chunks().dictionary_encode()
        return encoded.indices.to_numpy(), encoded.dictionary.to_pylist()

    zip_code, zips = codes("zip")
    sex_code, sexes = codes("sex")
    combined = zip_code.astype(np.int64) * len(sexes) + sex_code
    present, group = np.unique(combined, return_inverse=True)
    labels = np.asarray(
        [f"{zips[c // len(sexes)]}|{sexes[c % len(sexes)]}" for c in present.tolist()]
    )
    by_key = np.argsort(labels, kind="stable")
    rank = np.empty_like(by_key)
    rank[by_key] = np.arange(by_key.size)
    group = rank[group]
    scores = found["score"].to_numpy().astype(np.float64)
    order = np.lexsort((scores, group))
    offsets = np.concatenate([[0], np.cumsum(np.bincount(group, minlength=present.size))])
    return (
        median,
        labels[by_key].tolist(),
        offsets,
        scores[order],
        found["pos"].to_numpy().astype(np.float64)[order],
        found["neg"].to_numpy().astype(np.float64)[order],
    )


def impact_tables(keys: list[str], applicants: Any, above: Any) -> dict[str, Any]:
    """Return the LL144 tables over zip, sex and zip x sex: rate and impact ratio per category."""
    import numpy as np

    zips = [k.split("|")[0] for k in keys]
    sexes = [k.split("|")[1] for k in keys]
    out = {}
    for name, labels in (("zip", zips), ("sex", sexes), ("zip|sex", keys)):
        categories, inverse = np.unique(np.asarray(labels), return_inverse=True)
        n = np.bincount(inverse, weights=applicants, minlength=categories.size)
        x = np.bincount(inverse, weights=above, minlength=categories.size)
        rate = x / n
        best = rate.max()
        ratio = rate / best if best > 0 else np.full(rate.size, np.nan)
        out[name] = {"keys": categories.tolist(), "rate": rate, "impact_ratio": ratio}
    return out


def floor_scoring(con: Any, data: str) -> dict[str, Any]:
    """Return the scoring rule's results: median, LL144 tables and the AUC per group."""
    import numpy as np

    median, keys, offsets, scores, pos, neg = scoring_cells(con, data)
    lengths = np.diff(offsets)
    group = np.repeat(np.arange(len(keys)), lengths)
    applicants = np.bincount(group, weights=pos + neg, minlength=len(keys))
    above = np.bincount(
        group, weights=np.where(scores > median, pos + neg, 0.0), minlength=len(keys)
    )
    # Mann-Whitney: each positive outranks the negatives below its score, ties count half
    negatives_before = np.cumsum(neg) - neg
    below = negatives_before - negatives_before[offsets[:-1]][group]
    wins = np.bincount(group, weights=pos * (below + 0.5 * neg), minlength=len(keys))
    positives = np.bincount(group, weights=pos, minlength=len(keys))
    negatives = applicants - positives
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = np.where((positives > 0) & (negatives > 0), wins / (positives * negatives), np.nan)
    return {
        "median": median,
        "tables": impact_tables(keys, applicants, above),
        "auc": {"keys": keys, "roc_auc": auc},
    }


def _plain(value: Any) -> Any:
    """Return ``value`` with numpy arrays as lists and NaN as None (for JSON)."""
    import numpy as np

    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return [None if isinstance(x, float) and math.isnan(x) else x for x in value.tolist()]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def write_answers(out: str, answers: dict[str, Any]) -> None:
    """Write a child's answers (and timings) as JSON."""
    Path(out).write_text(json.dumps(_plain(answers)), encoding="utf-8")


# -- the children -------------------------------------------------------------------------------


def child_floor(data: str, out: str) -> None:
    """Child: the floor: DuckDB GROUP BYs and numpy, both rules, no report."""
    t0 = time.perf_counter()
    import duckdb

    t1 = time.perf_counter()
    con = duckdb.connect()
    keys, cells = selection_cells(con, data)
    t2 = time.perf_counter()
    selection = selection_result(keys, cells)
    t3 = time.perf_counter()
    scoring = floor_scoring(con, data)
    t4 = time.perf_counter()
    timings = {"imports": t1 - t0, "group_by": t2 - t1, "selection": t3 - t2, "scoring": t4 - t3}
    write_answers(out, {"selection": selection, "scoring": scoring, "timings_s": timings})


def child_fairlearn(data: str, out: str) -> None:
    """Child: DuckDB groups the rows, fairlearn's MetricFrame computes per group (weighted)."""
    t0 = time.perf_counter()
    import warnings

    import duckdb
    import numpy as np
    from fairlearn.metrics import (
        MetricFrame,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import roc_auc_score

    t1 = time.perf_counter()
    con = duckdb.connect()
    path = _sql_path(data)
    frame = con.sql(
        f"SELECT zip, sex, hired, selected, count(*) AS n FROM read_parquet('{path}') GROUP BY ALL"
    ).df()
    t2 = time.perf_counter()
    functions = {
        "selection_rate": selection_rate,
        "true_positive_rate": true_positive_rate,
        "false_positive_rate": false_positive_rate,
    }
    weight = frame["n"].to_numpy(dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mf = MetricFrame(
            metrics=functions,
            y_true=frame["hired"].to_numpy(dtype=np.int64),
            y_pred=frame["selected"].to_numpy(dtype=np.int64),
            sensitive_features=frame[["zip", "sex"]],
            sample_params={m: {"sample_weight": weight} for m in functions},
        )
        by_group = mf.by_group.astype(float)
    # the confusion cells for the ratios' tests and the bootstrap, sorted like the floor's
    cell = np.select(
        [
            (frame["hired"] == 1) & (frame["selected"] == 1),
            (frame["hired"] == 0) & (frame["selected"] == 1),
            (frame["hired"] == 0) & (frame["selected"] == 0),
        ],
        [0, 1, 2],
        3,
    )
    pivot = (
        frame.assign(cell=cell)
        .pivot_table(index=["zip", "sex"], columns="cell", values="n", aggfunc="sum", fill_value=0)
        .reindex(columns=range(4), fill_value=0)
        .sort_index()
    )
    keys = [f"{z}|{s}" for z, s in pivot.index]
    cells = pivot.to_numpy(dtype=np.int64)
    # fairlearn's undefined rates (0/0) are 0 or NaN with a warning: take NaN from the counts
    values = {}
    for metric in METRICS:
        den = rates(cells, metric)[1]
        theirs = by_group[metric].reindex(pivot.index).to_numpy(dtype=np.float64)
        values[metric] = np.where(den > 0, theirs, np.nan)
    selection = selection_result(keys, cells, values)
    t3 = time.perf_counter()

    median = float(con.sql(f"SELECT median(score) FROM read_parquet('{path}')").fetchall()[0][0])
    scores = con.sql(
        f"SELECT zip, sex, score, hired, count(*) AS n FROM read_parquet('{path}') GROUP BY ALL"
    ).df()
    scores["above"] = (scores["score"] > median).astype(np.int64)
    score_weight = scores["n"].to_numpy(dtype=np.float64)
    scores["zip|sex"] = scores["zip"] + "|" + scores["sex"]
    tables: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in ("zip", "sex", "zip|sex"):
            rate = MetricFrame(
                metrics=selection_rate,
                y_true=scores["hired"].to_numpy(dtype=np.int64),
                y_pred=scores["above"].to_numpy(),
                sensitive_features=scores[name],
                sample_params={"sample_weight": score_weight},
            ).by_group.astype(float)
            rate = rate.sort_index()
            best = rate.max()
            tables[name] = {
                "keys": [str(k) for k in rate.index],
                "rate": rate.to_numpy(),
                "impact_ratio": (rate / best).to_numpy() if best > 0 else np.nan * rate.to_numpy(),
            }

        def roc_auc(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
            if len(np.unique(y_true)) < 2:
                return float("nan")
            return float(roc_auc_score(y_true, y_pred, sample_weight=sample_weight))

        auc = (
            MetricFrame(
                metrics=roc_auc,
                y_true=scores["hired"].to_numpy(dtype=np.int64),
                y_pred=scores["score"].to_numpy(dtype=np.float64),
                sensitive_features=scores["zip|sex"],
                sample_params={"sample_weight": score_weight},
            )
            .by_group.astype(float)
            .sort_index()
        )
    t4 = time.perf_counter()
    scoring = {
        "median": median,
        "tables": tables,
        "auc": {"keys": [str(k) for k in auc.index], "roc_auc": auc.to_numpy()},
    }
    timings = {
        "imports": t1 - t0,
        "group_by": t2 - t1,
        "selection": t3 - t2,
        "scoring": t4 - t3,
    }
    write_answers(out, {"selection": selection, "scoring": scoring, "timings_s": timings})


def child_extract(report: str, out: str) -> None:
    """Child (not measured): take ethicsgate's answers out of its report.json."""
    document = json.loads(Path(report).read_text(encoding="utf-8"))
    rules = {rule["id"]: rule for rule in document["rules"]}
    groups = sorted(
        rules["selection"].get("groups") or [], key=lambda g: (g["group"]["zip"], g["group"]["sex"])
    )
    selection: dict[str, Any] = {
        "keys": [f"{g['group']['zip']}|{g['group']['sex']}" for g in groups],
        "excluded": [bool(g.get("excluded")) for g in groups],
    }
    for metric in METRICS:
        selection[metric] = [(g.get("metrics") or {}).get(metric) for g in groups]
        selection[f"ratio_{metric}"] = [(g.get("ratios") or {}).get(metric) for g in groups]
        selection[f"p_{metric}"] = [
            ((g.get("tests") or {}).get(metric) or {}).get("p_value") for g in groups
        ]
    failing = list(rules["selection"].get("assertions") or [])
    selection["failing_groups"] = len(failing[0].get("failing_groups") or []) if failing else None
    scoring_rule = rules["scoring"]
    impact = scoring_rule.get("impact_ratio") or {}
    tables: dict[str, Any] = {}
    for table in impact.get("tables") or []:
        name = "|".join(table["features"])
        rows = sorted(table["rows"], key=lambda r: [r["category"][f] for f in table["features"]])
        tables[name] = {
            "keys": ["|".join(r["category"][f] for f in table["features"]) for r in rows],
            "rate": [r.get("rate") for r in rows],
            "impact_ratio": [r.get("impact_ratio") for r in rows],
        }
    score_groups = sorted(
        scoring_rule.get("groups") or [], key=lambda g: (g["group"]["zip"], g["group"]["sex"])
    )
    scoring = {
        "median": impact.get("median_score"),
        "tables": tables,
        "auc": {
            "keys": [f"{g['group']['zip']}|{g['group']['sex']}" for g in score_groups],
            "roc_auc": [(g.get("score") or {}).get("roc_auc") for g in score_groups],
        },
    }
    Path(out).write_text(json.dumps({"selection": selection, "scoring": scoring}), encoding="utf-8")


# -- the cross-check ----------------------------------------------------------------------------


@dataclass
class Agreement:
    """How one method's answers compare with the floor's."""

    values: int = 0
    max_abs_diff: float = 0.0  # over the selection rates and ratios
    max_abs_diff_all: float = 0.0  # over everything compared
    problems: list[str] = field(default_factory=list)


def _compare_series(
    name: str, keys_a: list[str], a: list[Any], keys_b: list[str], b: list[Any], found: Agreement
) -> float:
    """Compare two keyed series; return the largest |difference| (problems go to ``found``)."""
    if keys_a != keys_b:
        missing = sorted(set(keys_b) - set(keys_a))[:3]
        extra = sorted(set(keys_a) - set(keys_b))[:3]
        found.problems.append(
            f"{name}: {len(keys_a):,} groups vs the floor's {len(keys_b):,} "
            f"(missing e.g. {missing}, extra e.g. {extra})"
        )
        return math.inf
    worst = 0.0
    undefined = 0
    for key, x, y in zip(keys_a, a, b, strict=True):
        if (x is None) != (y is None):
            undefined += 1
            if undefined <= 3:
                found.problems.append(f"{name} of {key}: {x} vs the floor's {y}")
            continue
        if x is not None:
            worst = max(worst, abs(float(x) - float(y)))
            found.values += 1
    if undefined > 3:
        found.problems.append(f"{name}: {undefined:,} values defined in one method only")
    if worst > TOLERANCE:
        found.problems.append(f"{name}: max |difference| {worst:.3g} > {TOLERANCE:g}")
    return worst


def compare_answers(mine: dict[str, Any], floor: dict[str, Any]) -> Agreement:
    """Compare one method's answers with the floor's (selection, scoring tables, AUC)."""
    found = Agreement()
    sel, ref = mine["selection"], floor["selection"]
    selection_worst = 0.0
    everything = 0.0
    for metric in METRICS:
        for prefix in ("", "ratio_", "p_"):
            name = f"{prefix}{metric}"
            worst = _compare_series(name, sel["keys"], sel[name], ref["keys"], ref[name], found)
            if prefix != "p_":
                selection_worst = max(selection_worst, worst)
            everything = max(everything, worst)
    if sel.get("failing_groups") != ref.get("failing_groups"):
        found.problems.append(
            f"failing groups: {sel.get('failing_groups')} vs the floor's "
            f"{ref.get('failing_groups')}"
        )
    score, score_ref = mine["scoring"], floor["scoring"]
    if score.get("median") != score_ref["median"]:
        found.problems.append(f"median score {score.get('median')} vs {score_ref['median']}")
    for name, table in score_ref["tables"].items():
        theirs = score["tables"].get(name)
        if theirs is None:
            found.problems.append(f"no scoring table over {name}")
            continue
        for column in ("rate", "impact_ratio"):
            everything = max(
                everything,
                _compare_series(
                    f"scoring {column} over {name}",
                    theirs["keys"],
                    theirs[column],
                    table["keys"],
                    table[column],
                    found,
                ),
            )
    everything = max(
        everything,
        _compare_series(
            "roc_auc",
            score["auc"]["keys"],
            score["auc"]["roc_auc"],
            score_ref["auc"]["keys"],
            score_ref["auc"]["roc_auc"],
            found,
        ),
    )
    found.max_abs_diff, found.max_abs_diff_all = selection_worst, everything
    return found


# -- measuring ----------------------------------------------------------------------------------


@dataclass
class Run:
    """One measured child process."""

    wall_s: float
    peak_rss_mib: float
    returncode: int
    idle: float  # share of idle CPU in the second before the run
    load: float  # 1-minute load average before the run
    status: str = "ok"  # ok, timeout or failed


def _cpu_times() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return fields[3] + fields[4], sum(fields)  # idle + iowait, total


def idle_share(*, wait_s: float) -> float:
    """Return the idle share of the CPUs over one second; wait up to ``wait_s`` for 90 %."""
    if not Path("/proc/stat").is_file():
        return float("nan")
    deadline = time.monotonic() + wait_s
    while True:
        idle0, total0 = _cpu_times()
        time.sleep(1.0)
        idle1, total1 = _cpu_times()
        share = (idle1 - idle0) / max(total1 - total0, 1)
        if share >= 0.9 or time.monotonic() >= deadline:
            return share


def measure(
    command: list[str],
    *,
    log_path: Path,
    timeout: float,
    idle_wait: float,
    ok_codes: tuple[int, ...] = (0,),
    env: dict[str, str] | None = None,
) -> Run:
    """Run ``command`` under the measuring wrapper with a time limit; return what it took.

    The wrapper (``_common.WRAPPER``) runs in its own process group, so on timeout the
    wrapper and the command are killed together; the run is then marked ``timeout``. An exit
    code outside ``ok_codes`` marks it ``failed`` (the log keeps the output).
    """
    idle = idle_share(wait_s=idle_wait)
    load = os.getloadavg()[0]
    if idle < 0.9:
        log(f"warning: the machine is busy ({idle:.0%} idle, load {load:.1f}); timing anyway")
    stats = log_path.with_suffix(".rusage")
    stats.unlink(missing_ok=True)
    wrapper = [sys.executable, "-S", "-c", WRAPPER, str(stats), *command]
    started = time.perf_counter()
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            wrapper, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT, start_new_session=True
        )
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return Run(time.perf_counter() - started, math.nan, -9, idle, load, "timeout")
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
    try:
        code_text, wall_text, peak_text = stats.read_text(encoding="utf-8").split()
    except (OSError, ValueError):
        return Run(time.perf_counter() - started, math.nan, proc.returncode, idle, load, "failed")
    code = int(code_text)
    status = "ok" if code in ok_codes else "failed"
    if status == "failed":
        tail = log_path.read_text(errors="replace")[-2000:]
        log(f"command failed with exit {code}: {shlex.join(command)}\n{tail}")
    return Run(float(wall_text), int(peak_text) / 1024, code, idle, load, status)


def child(kind: str, *args: str) -> list[str]:
    """Return the command of one of this script's children."""
    return [sys.executable, str(Path(__file__).resolve()), "--child", kind, *args]


def clean_env() -> dict[str, str]:
    """Return the environment without ETHICSGATE_* settings (no signing key: unsigned audits)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("ETHICSGATE_")}


# -- one case -----------------------------------------------------------------------------------


@dataclass
class Entry:
    """One method at one (rows, groups): its runs and how its answers compare."""

    rows: int
    groups: int
    method: str
    runs: list[Run] = field(default_factory=list)
    agreement: Agreement | None = None
    note: str = ""
    timings_s: dict[str, float] = field(default_factory=dict)

    @property
    def ok_runs(self) -> list[Run]:
        """Return the runs that finished."""
        return [r for r in self.runs if r.status == "ok"]

    @property
    def wall_s(self) -> float | None:
        """Return the median wall time of the finished runs."""
        ok = self.ok_runs
        return statistics.median(r.wall_s for r in ok) if ok else None

    @property
    def peak_rss_mib(self) -> float | None:
        """Return the highest peak RSS of the finished runs."""
        ok = self.ok_runs
        return max(r.peak_rss_mib for r in ok) if ok else None


def run_method(
    entry: Entry,
    command: list[str],
    *,
    args: argparse.Namespace,
    log_path: Path,
    repeat: int,
    ok_codes: tuple[int, ...] = (0,),
    env: dict[str, str] | None = None,
) -> None:
    """Measure ``command`` ``repeat`` times into ``entry``; stop at the first timeout/failure."""
    for index in range(repeat):
        run = measure(
            command,
            log_path=log_path,
            timeout=args.timeout,
            idle_wait=args.max_idle_wait,
            ok_codes=ok_codes,
            env=env,
        )
        entry.runs.append(run)
        what = f"{count_label(entry.rows)} rows, {count_label(entry.groups)} groups, {entry.method}"
        if run.status != "ok":
            entry.note = (
                f"timed out after {args.timeout:,g} s"
                if run.status == "timeout"
                else f"failed (exit {run.returncode}; see {log_path.relative_to(ROOT)})"
            )
            log(f"{what}: {entry.note}")
            return
        log(
            f"{what} run {index + 1}/{repeat}: {run.wall_s:.2f} s, {run.peak_rss_mib:,.0f} MiB"
            f" (before: {run.idle:.0%} idle, load {run.load:.1f})"
        )


def run_case(rows: int, groups: int, args: argparse.Namespace) -> list[Entry]:
    """Measure the three methods on one data file and cross-check their answers."""
    data = ensure_data(rows, groups, regenerate=args.regenerate)
    spec = write_spec(rows, groups, data)
    work = DATA_DIR / f"cardinality-run-{count_label(rows)}-{count_label(groups)}"
    work.mkdir(parents=True, exist_ok=True)
    warm_cache(data)

    floor = Entry(rows, groups, METHOD_FLOOR)
    floor_out = work / "floor.json"
    floor_out.unlink(missing_ok=True)
    run_method(
        floor,
        child("floor", str(data), str(floor_out)),
        args=args,
        log_path=work / "floor.log",
        repeat=args.repeat,
    )
    answers = json.loads(floor_out.read_text()) if floor.ok_runs else None
    if answers:
        floor.timings_s = answers.pop("timings_s")
    entries = [floor]

    eg = Entry(rows, groups, METHOD_ETHICSGATE)
    report = work / "ethicsgate-report"
    (report / "report.json").unlink(missing_ok=True)
    run_method(
        eg,
        ethicsgate_command(spec, report),
        args=args,
        log_path=work / "ethicsgate.log",
        repeat=args.repeat,
        ok_codes=(0, 1),
        env=clean_env(),
    )
    entries.append(eg)
    if eg.ok_runs and answers is not None:
        extracted = work / "ethicsgate-answers.json"
        result = subprocess.run(
            child("extract", str(report / "report.json"), str(extracted)), cwd=ROOT, check=False
        )
        if result.returncode:
            eg.note = "its report.json could not be read for the cross-check"
        else:
            eg.agreement = compare_answers(json.loads(extracted.read_text()), answers)

    fl = Entry(rows, groups, METHOD_FAIRLEARN)
    if groups > args.fairlearn_max_groups:
        fl.note = f"skipped (above --fairlearn-max-groups {args.fairlearn_max_groups:,})"
        log(f"{count_label(rows)} rows, {count_label(groups)} groups, fairlearn: {fl.note}")
    else:
        fl_out = work / "fairlearn.json"
        fl_out.unlink(missing_ok=True)
        run_method(
            fl,
            child("fairlearn", str(data), str(fl_out)),
            args=args,
            log_path=work / "fairlearn.log",
            repeat=1,
        )
        if fl.ok_runs:
            theirs = json.loads(fl_out.read_text())
            fl.timings_s = theirs.pop("timings_s")
            if answers is not None:
                fl.agreement = compare_answers(theirs, answers)
    entries.append(fl)

    for entry in entries:
        if entry.agreement is not None:
            a = entry.agreement
            status = "OK" if not a.problems else f"{len(a.problems)} PROBLEM(S)"
            log(
                f"{count_label(rows)} rows, {count_label(groups)} groups, {entry.method} vs floor: "
                f"{status}; {a.values:,} values, max |diff| {a.max_abs_diff_all:.3g}"
            )
            for problem in a.problems[:10]:
                log(f"  {problem}")
    return entries


# -- docs ---------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    """Describe the machine, its load and the library versions."""
    info = machine_info(
        ("ethicsgate", "duckdb", "fairlearn", "scikit-learn", "pandas", "numpy", "scipy"),
        missing="-",
        cpu_default="unknown",
    )
    info["load"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return info


def _fmt(value: float | None, spec: str) -> str:
    return "—" if value is None or math.isnan(value) else format(value, spec)


def table_markdown(entries: list[Entry]) -> str:
    """Return the results as a Markdown table (one line per method and case)."""
    floors = {(e.rows, e.groups): e.wall_s for e in entries if e.method == METHOD_FLOOR}
    lines = [
        "| rows | groups | method | runs | wall s | peak RSS MiB | × floor | "
        "max abs diff vs floor | CPU idle / load before |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for e in entries:
        floor = floors.get((e.rows, e.groups))
        wall = e.wall_s
        ratio = f"{wall / floor:.2f}×" if wall is not None and floor else "—"
        if e.method == METHOD_FLOOR:
            ratio, agrees = "1×", "—"
        elif e.agreement is None:
            agrees = "not checked"
        elif e.agreement.problems:
            agrees = "DIFFERS"
        else:
            agrees = f"{e.agreement.max_abs_diff:.1g}"
        idle = min((r.idle for r in e.runs), default=math.nan)
        load = max((r.load for r in e.runs), default=math.nan)
        wall_text = _fmt(wall, ",.2f") if wall is not None else e.note or "—"
        lines.append(
            f"| {e.rows:,} | {e.groups:,} | {e.method} | {len(e.ok_runs)} | {wall_text} | "
            f"{_fmt(e.peak_rss_mib, ',.0f')} | {ratio} | {agrees} | "
            f"{_fmt(idle * 100, '.0f')} % / {_fmt(load, '.1f')} |"
        )
    return "\n".join(lines)


def bounds(entries: list[Entry]) -> list[str]:
    """Return the issue's goals, each with whether the measurement meets it."""
    floors = {(e.rows, e.groups): e.wall_s for e in entries if e.method == METHOD_FLOOR}
    out = []
    for e in entries:
        if e.method != METHOD_ETHICSGATE:
            continue
        where = f"{e.rows:,} rows, {e.groups:,} groups"
        floor, wall, rss = floors.get((e.rows, e.groups)), e.wall_s, e.peak_rss_mib
        if wall is None or rss is None:
            out.append(f"{where}: ethicsgate {e.note or 'not measured'}")
            continue
        if not floor:
            out.append(f"{where}: ethicsgate {wall:.2f} s, {rss:,.0f} MiB; the floor failed")
            continue
        goal = GOALS.get(e.groups)
        verdict = (
            f" ({'within' if wall <= goal * floor else 'OVER'} the goal of {goal:g}×)"
            if goal
            else " (no goal at this group count)"
        )
        out.append(
            f"{where}: ethicsgate {wall:.2f} s = {wall / floor:.2f}× the floor{verdict}; "
            f"peak RSS {rss:,.0f} MiB ({'under' if rss < RSS_LIMIT_MIB else 'OVER'} "
            f"{RSS_LIMIT_MIB:,} MiB)"
        )
    return out


def oracle_lines(entries: list[Entry]) -> list[str]:
    """Return one sentence per cross-checked method and case."""
    out = []
    for e in entries:
        if e.method == METHOD_FLOOR:
            continue
        where = f"{e.rows:,} rows, {e.groups:,} groups, {e.method}"
        if e.agreement is None:
            out.append(f"{where}: not cross-checked ({e.note or 'no answers'})")
        elif e.agreement.problems:
            out.append(f"{where}: DIFFERS from the floor: " + "; ".join(e.agreement.problems[:5]))
        else:
            out.append(
                f"{where}: the same groups and undefined values as the floor, "
                f"{e.agreement.values:,} values within {TOLERANCE:g} (selection rates and "
                "ratios: max abs difference "
                f"{e.agreement.max_abs_diff:.2g}; with the p-values, scoring rates, impact ratios "
                f"and AUCs: {e.agreement.max_abs_diff_all:.2g})"
            )
    return out


def section_markdown(*, command: str, info: dict[str, str], entries: list[Entry], note: str) -> str:
    """Return this benchmark's section of docs/benchmarks.md, markers included."""
    timing_notes = []
    for e in entries:
        if e.timings_s and e.method != METHOD_ETHICSGATE:
            parts = ", ".join(f"{k} {v:.2f} s" for k, v in e.timings_s.items())
            timing_notes.append(f"{e.rows:,} rows, {e.groups:,} groups, {e.method}: {parts}")
    lines = [
        START,
        "## Many groups: fairness audits over 10^3 to 10^5 intersectional groups",
        "",
        "Generated by `benchmarks/bench_cardinality.py`; do not edit by hand between the markers.",
        "",
        "Synthetic applicants (zip code × sex, groups of about equal size; a score in steps of "
        "0.01, the selection `score >= 0.5`, a hiring outcome rising with the score) as "
        "Parquet. One policy with two rules over `[zip, sex]`: **selection** — selection rate, "
        f"TPR and FPR per group, `min_group_size: {MIN_GROUP_SIZE}`, ratios and z-tests "
        f"against the best group, {SAMPLES} bootstrap resamples and the assertion "
        f"`selection_rate ratio >= {THRESHOLD}`; **scoring** — the LL144 scoring-rate tables "
        "(above the exact full-sample median; zip, sex, zip × sex, impact ratios) and the ROC "
        "AUC of every group. **ethicsgate** is the CLI end to end (start-up, imports, scans, "
        "evidence sha256, evaluation, report.json/.html/.md). The **floor** is one process doing "
        "what a careful hand-written script does: a DuckDB `GROUP BY zip, sex` to confusion "
        "counts, numpy rates, ratios, differences and z-tests, a vectorised numpy bootstrap "
        f"({SAMPLES} multinomial resamples per group, percentile intervals of rates, ratios and "
        "differences), DuckDB's `median(score)` and a `GROUP BY zip, sex, score` for the scoring "
        "rates and the Mann-Whitney AUC per group; no report, no hashing. **fairlearn** is the "
        "first version's path: DuckDB grouped rows, then `MetricFrame` with `sample_weight = "
        "count` for the rates, scoring rates and scikit-learn's `roc_auc_score` per group; its "
        "ratios, tests and bootstrap are the floor's numpy code. Every measurement is a fresh "
        "child of a small wrapper that reads its `ru_maxrss` (peak RSS, MiB); the data file is "
        "in the page cache; the CPU idle share (over one second) and the 1-minute load average "
        "are taken just before each run.",
        "",
        "Reproduce (from the repository root, on an idle machine):",
        "",
        "```sh",
        command,
        "```",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM, {info['os']}; Python "
        f"{info['python']}, ethicsgate {info['ethicsgate']}, duckdb {info['duckdb']}, fairlearn "
        f"{info['fairlearn']}, scikit-learn {info['scikit-learn']}, pandas {info['pandas']}, "
        f"numpy {info['numpy']}, scipy {info['scipy']}. Load average at the start "
        f"{info['load']}. Measured {dt.date.today().isoformat()}." + (f" {note}" if note else ""),
        "",
        table_markdown(entries),
        "",
        "**Goals** (issue #16: at most 5× the floor at 10^4 groups, 8× at 10^5, peak RSS "
        f"under {RSS_LIMIT_MIB:,} MiB).",
        *[f"- {line}" for line in bounds(entries)],
        "",
        "**Cross-check** (against the floor; bootstrap intervals are not compared, the floor "
        "draws in another order).",
        *[f"- {line}" for line in oracle_lines(entries)],
    ]
    if timing_notes:
        lines += ["", "**Where the time goes** (inside the child, after start-up):"]
        lines += [f"- {line}" for line in timing_notes]
    lines.append(END)
    return "\n".join(lines) + "\n"


# -- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default=None, help=f"row counts [default: {DEFAULT_ROWS}]")
    parser.add_argument(
        "--groups", default=None, help=f"zip x sex group counts [default: {DEFAULT_GROUPS}]"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"--rows {QUICK_ROWS} --groups {QUICK_GROUPS} (unless given)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs of ethicsgate and the floor per case (median wall, highest RSS); "
        "fairlearn runs once [default: 1]",
    )
    parser.add_argument(
        "--fairlearn-max-groups",
        type=lambda s: parse_count(s, noun="groups"),
        default=parse_count("1e4", noun="groups"),
        metavar="N",
        help="skip fairlearn above N groups (it takes about 0.15 s per group) [default: 1e4]",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=1800.0,
        help="seconds one run may take; a method past it is reported as timed out [1800]",
    )
    parser.add_argument(
        "--max-idle-wait",
        type=float,
        default=60.0,
        help="seconds to wait for a 90 %% idle CPU before each run (then it runs anyway) [60]",
    )
    parser.add_argument("--regenerate", action="store_true", help="rewrite the data files")
    parser.add_argument("--no-docs", action="store_true", help="leave docs/benchmarks.md alone")
    parser.add_argument("--note", default="", help="a sentence added to the docs")
    parser.add_argument("--doc-path", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args(argv)
    if args.child:
        children = {
            "generate": child_generate,
            "floor": child_floor,
            "fairlearn": child_fairlearn,
            "extract": child_extract,
        }
        children[args.child](*rest)
        return 0
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    rows_text = args.rows or (QUICK_ROWS if args.quick else DEFAULT_ROWS)
    groups_text = args.groups or (QUICK_GROUPS if args.quick else DEFAULT_GROUPS)
    row_counts, group_counts = parse_counts(rows_text, "rows"), parse_counts(groups_text, "groups")
    if any(g % 2 or g < 2 for g in group_counts):
        parser.error("--groups: each count must be even (zip codes x 2 sexes)")

    info = machine()
    log(f"machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM; load {info['load']}")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    entries: list[Entry] = []
    started = time.perf_counter()
    for rows in row_counts:
        for groups in group_counts:
            entries.extend(run_case(rows, groups, args))
    log(f"all cases: {time.perf_counter() - started:,.0f} s")

    table = table_markdown(entries)
    print("\n" + table + "\n", flush=True)
    for line in bounds(entries) + oracle_lines(entries):
        log(line)
    RESULTS.write_text(
        json.dumps(
            {
                "machine": info,
                "date": dt.date.today().isoformat(),
                "entries": [
                    {
                        "rows": e.rows,
                        "groups": e.groups,
                        "method": e.method,
                        "note": e.note,
                        "runs": [asdict(r) for r in e.runs],
                        "timings_s": e.timings_s,
                        "agreement": asdict(e.agreement) if e.agreement else None,
                    }
                    for e in entries
                ],
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    log(f"raw results: {RESULTS.relative_to(ROOT)}")
    if any(e.agreement is not None and e.agreement.problems for e in entries):
        print(
            "CROSS-CHECK FAILED: a method disagrees with the floor; docs left alone.",
            file=sys.stderr,
        )
        return 1
    if not args.no_docs:
        command = [".venv/bin/python", "benchmarks/bench_cardinality.py"]
        if args.quick:
            command.append("--quick")
        for flag, value, default in (
            ("--rows", args.rows, None),
            ("--groups", args.groups, None),
            ("--repeat", args.repeat, 1),
        ):
            if value != default:
                command += [flag, str(value)]
        section = section_markdown(
            command=shlex.join(command), info=info, entries=entries, note=args.note
        )
        update_doc_section(section, START, END, doc_path=args.doc_path)
        log(f"docs: updated {(args.doc_path or DOC_PATH)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
