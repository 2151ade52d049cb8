"""Transparency statements: the cost of secondary suppression at 10^2 to 10^3+ groups.

A synthetic loan log: ``--zips`` zip codes × 2 sexes × 5 races, each cell of 3 to 60 people
(a quarter under k = 10) with its own selection probability. Two policies on it:

- **one rule**: selection rate, base rate and false positive rate by zip × sex × race;
- **four rules**: the same, plus by zip, by race and by sex × race on the same data (the
  margins a subtraction needs).

``build_statement`` is timed with secondary suppression (**ethicsgate**: exact sparse
elimination, one greedy pass) and without it (**per-value rule only**, the statement before
the fix), best of ``--repeat``. The obvious alternative is a dense float check with numpy:
the SVD of the published counts' matrix, then each protected count's distance to its row
space; it is timed on the published set that secondary suppression left, and is the
oracle: it must find no protected count in the row space (distance under 1e-6), and on the
set before secondary suppression it must find the same determined counts as the exact check.

Reproduce: ``.venv/bin/python benchmarks/bench_publish.py`` (writes its section of
docs/benchmarks.md; ``--no-doc`` prints only).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import log, machine_info, update_doc_section  # noqa: E402

START = "<!-- bench_publish:start -->"
END = "<!-- bench_publish:end -->"
METRICS = "[selection_rate, base_rate, false_positive_rate]"
RULE = (
    "  - {{id: {id}, kind: fairness, dataset: predictions, sensitive_features: [{features}], "
    f"metrics: {METRICS}, min_group_size: 1, "
    'assert: [{{metric: selection_rate, aggregate: ratio, op: ">=", value: 0.0}}]}}\n'
)
RULES = {
    "one rule": [("fine", "zip, sex, race")],
    "four rules": [
        ("fine", "zip, sex, race"),
        ("by-zip", "zip"),
        ("by-race", "race"),
        ("by-sex-race", "sex, race"),
    ],
}
AUDIT = (
    "schema_version: 1\nid: b\npolicy: policy.yaml\nevidence:\n  predictions: {path: data.csv}\n"
)


def _write(folder: Path, zips: int, rules: list[tuple[str, str]]) -> Path:
    rng = random.Random(zips)
    lines = ["zip,sex,race,label,prediction"]
    for z in range(zips):
        for sex in "FM":
            for race in "ABCDE":
                p = rng.random()
                for _ in range(rng.choice([3, 8, 12, 20, 30, 45, 60])):
                    y = int(rng.random() < 0.4)
                    lines.append(f"z{z:04d},{sex},{race},{y},{int(rng.random() < p)}")
    (folder / "data.csv").write_text("\n".join(lines) + "\n")
    policy = 'schema_version: 1\nid: b\nversion: "1"\ntitle: B\nowner: B\nrules:\n'
    policy += "".join(RULE.format(id=i, features=f) for i, f in rules)
    ids = ", ".join(i for i, _ in rules)
    policy += (
        "systems:\n  - {id: m, name: M, purpose: P, encounter: E, disclosure: D, "
        "human_contact: H, accountable: A, data: [{data: Income, basis: contract}], "
        f"rules: [{ids}]}}\n"
    )
    (folder / "policy.yaml").write_text(policy)
    (folder / "audit.yaml").write_text(AUDIT)
    return folder / "audit.yaml"


def _dense(published: list[Any], protected: list[Any]) -> tuple[list[bool], float]:
    """Return which protected counts numpy finds in the row space, and the seconds it took."""
    import numpy as np

    started = time.perf_counter()
    cells = 1 + max(c for count in protected for c in count.cells)  # every cell: everyone

    def vector(count: Any) -> Any:
        out = np.zeros(4 * cells)
        for t in range(4):
            if count.types >> t & 1:
                out[[4 * c + t for c in count.cells]] = 1.0
        return out

    rows = [vector(s) for d in published for s in d.sums]
    for d in published:
        for zero in d.zeros:
            for i in np.flatnonzero(vector(zero)):
                unit = np.zeros(4 * cells)
                unit[i] = 1.0
                rows.append(unit)
    matrix = np.array(rows)
    _, singular, vt = np.linalg.svd(matrix, full_matrices=False)
    rank = int((singular > singular[0] * max(matrix.shape) * np.finfo(float).eps).sum())
    basis = vt[:rank]
    targets = np.array([vector(c) for c in protected])
    distance = np.linalg.norm(targets - (targets @ basis.T) @ basis, axis=1)
    return [bool(d < 1e-6) for d in distance], time.perf_counter() - started


def _measure(zips: int, name: str, repeat: int, dense_limit: int) -> str:
    from ethicsgate.publish import build_statement, load_publish_inputs
    from ethicsgate.publish import statement as module
    from ethicsgate.publish.disclosure import determined

    with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
        pack, result = load_publish_inputs(_write(Path(tmp), zips, RULES[name]))
    groups = sum(len(r.groups) for r in result.rules)
    best = {"with": float("inf"), "without": float("inf"), "suppress": float("inf")}
    real = module._withheld
    for _ in range(repeat):
        started = time.perf_counter()
        statement = build_statement(pack, result)
        best["with"] = min(best["with"], time.perf_counter() - started)
        started = time.perf_counter()
        withheld = real(result.rules, 10)
        best["suppress"] = min(best["suppress"], time.perf_counter() - started)
        module._withheld = lambda rules, k: set()  # type: ignore[assignment]
        try:
            started = time.perf_counter()
            build_statement(pack, result)
            best["without"] = min(best["without"], time.perf_counter() - started)
        finally:
            module._withheld = real
    published, protected = module._dataset_model(result.rules, 10)
    kept = [d for d in published if d.key not in withheld]
    before = determined(published, protected)
    values = sum(len(g.values) for s in statement.systems for c in s.checks for g in c.groups)
    dense_text = "—"
    if 4 * groups <= dense_limit:
        found, _ = _dense(published, protected)
        assert found == before, "numpy and the exact check disagree"
        found, seconds = _dense(kept, protected)
        assert not any(found), "numpy finds a protected count in the published row space"
        dense_text = f"{seconds:.2f}"
    log(
        f"{name}, {groups} groups: {best['with']:.2f} s with, {best['without']:.2f} s without, "
        f"{len(protected)} protected ({sum(before)} determined before), "
        f"{len(withheld)} withheld more, numpy {dense_text} s"
    )
    return (
        f"| {name} | {groups:,} | {len(protected):,} | {sum(before):,} | {len(withheld):,} | "
        f"{values:,} | {best['without']:.2f} | {best['with']:.2f} | {best['suppress']:.2f} | "
        f"{dense_text} |"
    )


def main() -> None:
    """Measure and write docs/benchmarks.md's section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zips", type=int, nargs="+", default=[10, 100, 300])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--dense-limit", type=int, default=5_000, help="largest 4 × groups for the numpy check"
    )
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    lines = [
        _measure(zips, name, args.repeat, args.dense_limit) for zips in args.zips for name in RULES
    ]
    info = machine_info(["numpy"])
    section = "\n".join(
        [
            START,
            "## Transparency statements: secondary suppression at 10^2 to 10^3+ groups",
            "",
            "Generated by `benchmarks/bench_publish.py`; do not edit by hand between the markers.",
            "",
            "A synthetic loan log, zip × sex × race cells of 3 to 60 people (a quarter under "
            "k = 10); **one rule** groups by all three (selection rate, base rate, false "
            "positive rate), **four rules** adds by zip, by race and by sex × race on the same "
            "data. `build_statement` without secondary suppression (the per-value rule only) "
            "and with it; *suppression* is its part (the model and the greedy pass). "
            "*protected*: counts of 1 to 9 people a group's own metrics give; *determined "
            "before*: those the per-value rule's statement gave away by subtraction. The "
            "obvious alternative, numpy's SVD of the published counts' dense matrix, is the "
            "oracle (it agrees on what was determined before, and finds nothing determined "
            "after) and is timed on the final statement's rows. Best of "
            f"{args.repeat}.",
            "",
            "Reproduce: `.venv/bin/python benchmarks/bench_publish.py`",
            "",
            f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM, {info['os']}; "
            f"Python {info['python']}, numpy {info['numpy']}. Measured "
            f"{date.today().isoformat()}; 1-minute load average at the start {load:.1f}.",
            "",
            "| policy | groups | protected | determined before | withheld more | values "
            "published | without s | with s | suppression s | numpy dense check s |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            *lines,
            END,
            "",
        ]
    )
    print(section)
    if not args.no_doc:
        update_doc_section(section, START, END)


if __name__ == "__main__":
    main()
