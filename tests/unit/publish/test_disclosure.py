"""No count of 1 to k-1 people can be worked out from a statement by adding and subtracting.

The attacker here is independent of the code under test: it reads ``statement.json`` only,
knows the raw rows' finest cells (the join of the rules' groups, a stronger attacker than
the public), turns every published group size, rate-with-its-people and total into exact
linear equations over the (cell, label, prediction) counts, uses published zeros as a reader
would (a count of 0 makes each cell in it 0), and solves them with exact fractions. Every
count of a rule's group (or of everyone) over any set of the four confusion types that holds
1 to k-1 people in the raw rows must stay undetermined. Not attacked: the worst value of a
requirement (it does not name its group; the code counts it as showing both sides' counts).
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable, Sequence
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ethicsgate.metrics import METRICS
from ethicsgate.publish import build_statement, load_publish_inputs
from ethicsgate.publish.disclosure import (
    CellSum,
    Disclosure,
    determined,
    finest_cells,
    type_mask,
    withhold_determined,
)
from ethicsgate.report import statement_files

FEATURES = {"race": ["A", "B", "C"], "sex": ["F", "M"], "age": ["young", "old"]}
RATES = [
    "selection_rate",
    "base_rate",
    "accuracy",
    "true_positive_rate",
    "false_positive_rate",
    "precision",
    "false_omission_rate",
]
SYSTEM = """
systems:
  - id: m
    name: Model
    purpose: P
    encounter: E
    disclosure: D
    human_contact: H
    accountable: A
    data: [{{data: Income, basis: contract}}]
    rules: [{rules}]
"""
AUDIT = """
schema_version: 1
id: loans
policy: policy.yaml
evidence:
  predictions: {path: data.csv}
"""

Row = dict[str, Any]


# -- an exact attacker --------------------------------------------------------------------------


class _Span:
    """The span of rows over the rationals (reduced row echelon form, dense and obvious)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.rows: dict[int, list[Fraction]] = {}

    def reduce(self, vector: Sequence[int | Fraction]) -> list[Fraction]:
        left = [Fraction(v) for v in vector]
        for pivot, row in self.rows.items():
            if left[pivot]:
                factor = left[pivot]
                left = [a - factor * b for a, b in zip(left, row, strict=True)]
        return left

    def add(self, vector: Sequence[int | Fraction]) -> None:
        left = self.reduce(vector)
        pivot = next((i for i, v in enumerate(left) if v), None)
        if pivot is None:
            return
        left = [v / left[pivot] for v in left]
        for other, row in self.rows.items():
            if row[pivot]:
                factor = row[pivot]
                self.rows[other] = [a - factor * b for a, b in zip(row, left, strict=True)]
        self.rows[pivot] = left

    def spans(self, vector: Sequence[int | Fraction]) -> bool:
        return not any(self.reduce(vector))


def _parse_group(label: str) -> dict[str, str]:
    return dict(part.split(" = ", 1) for part in label.split(", "))


def _type(row: Row) -> int:
    return 2 * row["label"] + row["prediction"]


def _recovered(
    rows: list[Row], rules: dict[str, list[str]], data: dict[str, Any], k: int
) -> list[str]:
    """Return every count of 1 to k-1 people the statement gives away, in words."""
    used = [f for f in FEATURES if any(f in features for features in rules.values())]
    groups = {
        rule: {tuple(row[f] for f in features) for row in rows} for rule, features in rules.items()
    }
    cells = [
        cell
        for cell in itertools.product(*(FEATURES[f] for f in used))
        if all(
            tuple(cell[used.index(f)] for f in features) in groups[rule]
            for rule, features in rules.items()
        )
    ]
    size = 4 * len(cells)

    def vector(group: dict[str, str] | None, mask: int) -> list[int]:
        out = [0] * size
        for i, cell in enumerate(cells):
            if group is None or all(cell[used.index(f)] == v for f, v in group.items()):
                for t in range(4):
                    if mask >> t & 1:
                        out[4 * i + t] = 1
        return out

    equations: list[list[int]] = []
    zeros: list[list[int]] = []
    checks = [c for s in data["systems"] for c in s["checks"]] + data["other_checks"]
    for check in checks:
        for group in check["groups"]:
            key = _parse_group(group["group"])
            equations.append(vector(key, 0b1111))
            for value in group["values"]:
                spec = METRICS[value["metric"]]
                num, den = type_mask(spec.numerator), type_mask(spec.denominator or ())
                counted = round(value["value"] * value["people"])
                equations += [vector(key, num), vector(key, den)]
                for mask, count in (
                    (num, counted),
                    (den & ~num, value["people"] - counted),
                    (0b1111 & ~den, group["people"] - value["people"]),
                ):
                    if mask and count == 0:
                        zeros.append(vector(key, mask))
        if check["people"] is not None:
            equations.append(vector(None, 0b1111))
    span = _Span(size)
    for zero in zeros:  # every variable of a zero count is 0
        for i, v in enumerate(zero):
            if v:
                span.add([int(j == i) for j in range(size)])
    for equation in equations:
        span.add(equation)

    found = []
    for rule, features in [*rules.items(), ("everyone", [])]:
        keys = groups.get(rule, {()})
        for key in keys:
            mine = [r for r in rows if tuple(r[f] for f in features) == key]
            group = dict(zip(features, key, strict=True)) if features else None
            for mask in range(1, 16):
                count = sum(1 for r in mine if mask >> _type(r) & 1)
                if 0 < count < k and span.spans(vector(group, mask)):
                    found.append(f"{rule} {group} types {mask:04b}: {count} people")
    return found


# -- statements of random data and rules --------------------------------------------------------


def _policy(rules: list[dict[str, Any]]) -> str:
    lines = ['schema_version: 1\nid: loans\nversion: "1"\ntitle: Loans\nowner: QA Bank\nrules:']
    for rule in rules:
        asserts = ", ".join(
            f'{{metric: {a["metric"]}, aggregate: {a["aggregate"]}, op: "{a["op"]}", '
            f"value: {a['value']}}}"
            for a in rule.get("assert", [])
        )
        lines.append(
            f"  - {{id: {rule['id']}, kind: fairness, dataset: predictions, "
            f"sensitive_features: [{', '.join(rule['features'])}], "
            f"metrics: [{', '.join(rule['metrics'])}], "
            f"min_group_size: {rule.get('min_group_size', 1)}, "
            f"reference: {rule.get('reference', 'max')}, assert: [{asserts}]"
            + ("}" if asserts else ", severity: info}")
        )
    return "\n".join(lines) + SYSTEM.format(rules=", ".join(r["id"] for r in rules))


def _publish(
    write: Callable[[str, str], Path],
    clock: Callable[[], datetime],
    rows: list[Row],
    rules: list[dict[str, Any]],
    k: int,
) -> dict[str, Any]:
    write("policy.yaml", _policy(rules))
    header = [*FEATURES, "label", "prediction"]
    write(
        "data.csv",
        ",".join(header) + "\n" + "".join(",".join(str(r[h]) for h in header) + "\n" for r in rows),
    )
    pack, result = load_publish_inputs(write("audit.yaml", AUDIT), clock=clock)
    files = statement_files(build_statement(pack, result, k=k))
    data: dict[str, Any] = json.loads(files["statement.json"])
    return data


def _cell_rows(cell: dict[str, str], counts: Sequence[int]) -> list[Row]:
    """Rows of one finest cell: ``counts`` people of each type (label, prediction) 00..11."""
    return [
        {**cell, "label": t >> 1, "prediction": t & 1}
        for t, count in enumerate(counts)
        for _ in range(count)
    ]


def _random_rows(rng: random.Random) -> list[Row]:
    rows: list[Row] = []
    for values in itertools.product(*FEATURES.values()):
        cell = dict(zip(FEATURES, values, strict=True))
        size = rng.choice([0, 1, 3, 6, 12, 25, 40])
        p_label, p_pred = rng.choice([0.0, 0.1, 0.5, 0.9, 1.0]), rng.random()
        for _ in range(size):
            label, pred = int(rng.random() < p_label), int(rng.random() < p_pred)
            rows += _cell_rows(cell, [int(2 * label + pred == t) for t in range(4)])
    return rows


def _random_rules(rng: random.Random) -> list[dict[str, Any]]:
    rules = []
    for i in range(rng.randint(1, 4)):
        features = [f for f in FEATURES if rng.random() < 0.5] or [rng.choice(list(FEATURES))]
        metric = rng.choice(["selection_rate", "base_rate", "false_positive_rate"])
        aggregate = rng.choice(["ratio", "difference", "value"])
        rules.append(
            {
                "id": f"r{i}",
                "features": features,
                "metrics": sorted({metric, *rng.sample([*RATES, "count"], rng.randint(1, 5))}),
                "min_group_size": rng.choice([1, 5, 30]),
                "reference": rng.choice(["max", "min", "overall"]),
                "assert": [
                    {
                        "metric": metric,
                        "aggregate": aggregate,
                        "op": "<=" if aggregate == "difference" else ">=",
                        "value": 1 if aggregate == "difference" else 0,
                    }
                ],
            }
        )
    return rules


@pytest.mark.parametrize("seed", range(60))
def test_attacker_recovers_no_withheld_count(
    seed: int, write: Callable[[str, str], Path], frozen_clock: Callable[[], datetime]
) -> None:
    rng = random.Random(seed)
    k = rng.choice([5, 10])
    rows, rules = _random_rows(rng), _random_rules(rng)
    data = _publish(write, frozen_clock, rows, rules, k)
    assert _recovered(rows, {r["id"]: r["features"] for r in rules}, data, k) == []


QA_RULES = [
    {
        "id": "by-race",
        "features": ["race"],
        "metrics": ["selection_rate"],
        "assert": [{"metric": "selection_rate", "aggregate": "ratio", "op": ">=", "value": 0.5}],
    },
    {
        "id": "by-race-sex",
        "features": ["race", "sex"],
        "metrics": ["selection_rate"],
        "min_group_size": 10,
        "assert": [{"metric": "selection_rate", "aggregate": "ratio", "op": ">=", "value": 0.5}],
    },
]


def _qa_rows() -> list[Row]:
    """The QA report's data: per race, women 5 selected of 16, men 13 of 24."""
    rows: list[Row] = []
    for race in "AB":  # X and Y of the report
        for sex, selected, left_out in (("F", 5, 11), ("M", 13, 11)):
            cell = {"race": race, "sex": sex, "age": "young"}
            rows += _cell_rows(cell, [left_out, selected, 0, 0])
    return rows


def _checks(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["rule"]: c for s in data["systems"] for c in s["checks"]}


def test_qa_repro_selected_women_are_not_race_total_minus_men(
    write: Callable[[str, str], Path], frozen_clock: Callable[[], datetime]
) -> None:
    rows = _qa_rows()
    data = _publish(write, frozen_clock, rows, QA_RULES, 10)
    checks = _checks(data)
    by_race = {g["group"]: g for g in checks["by-race"]["groups"]}
    by_race_sex = {g["group"]: g for g in checks["by-race-sex"]["groups"]}
    # before: race A's 18 selected of 40 and A/M's 13 of 24 were both shown, giving A/F's 5
    shown_race = [v["metric"] for v in by_race["race = A"]["values"]]
    shown_men = [v["metric"] for v in by_race_sex["race = A, sex = M"]["values"]]
    assert not (shown_race and shown_men)
    assert by_race_sex["race = A, sex = F"]["values"] == []  # 5 selected: never shown
    assert checks["by-race-sex"]["suppressed_values"] == 4  # two withheld for k, two more
    assert _recovered(rows, {r["id"]: r["features"] for r in QA_RULES}, data, 10) == []


def test_hidden_group_is_not_a_margin_minus_the_shown_groups(
    write: Callable[[str, str], Path], frozen_clock: Callable[[], datetime]
) -> None:
    # race A, sex F has 4 people: hidden in by-race-sex, but by-sex shows F = 34 and
    # by-race-sex shows B/F = 30
    rows = _cell_rows({"race": "A", "sex": "F", "age": "young"}, [1, 1, 1, 1])
    for race, sex in (("A", "M"), ("B", "F"), ("B", "M")):
        rows += _cell_rows({"race": race, "sex": sex, "age": "young"}, [10, 10, 10, 0])
    rules = [
        {"id": "by-race-sex", "features": ["race", "sex"], "metrics": ["selection_rate"]},
        {"id": "by-sex", "features": ["sex"], "metrics": ["selection_rate"]},
    ]
    data = _publish(write, frozen_clock, rows, rules, 10)
    checks = _checks(data)
    shown_sex = {g["group"] for g in checks["by-sex"]["groups"]}
    shown_cells = {g["group"] for g in checks["by-race-sex"]["groups"]}
    assert "race = A, sex = F" not in shown_cells
    assert not ("sex = F" in shown_sex and "race = B, sex = F" in shown_cells)
    assert _recovered(rows, {r["id"]: r["features"] for r in rules}, data, 10) == []


def test_nothing_small_publishes_everything(
    write: Callable[[str, str], Path], frozen_clock: Callable[[], datetime]
) -> None:
    rng = random.Random(7)
    rows: list[Row] = []
    for race, sex in itertools.product(FEATURES["race"], FEATURES["sex"]):
        counts = [rng.randint(10, 30) for _ in range(4)]  # every cell of every type: >= k
        rows += _cell_rows({"race": race, "sex": sex, "age": "young"}, counts)
    asserted = [{"metric": "selection_rate", "aggregate": "ratio", "op": ">=", "value": 0}]
    rules = [
        {"id": "r", "features": ["race"], "metrics": RATES, "assert": asserted},
        {
            "id": "s",
            "features": ["sex"],
            "metrics": RATES,
            "reference": "overall",
            "assert": asserted,
        },
        {"id": "rs", "features": ["race", "sex"], "metrics": RATES, "assert": asserted},
    ]
    data = _publish(write, frozen_clock, rows, rules, 10)
    for rule in rules:
        check = _checks(data)[rule["id"]]
        assert check["suppressed_groups"] == check["suppressed_values"] == 0
        assert check["people"] == len(rows)
        assert len(check["groups"]) == {"r": 3, "s": 2, "rs": 6}[rule["id"]]
        for group in check["groups"]:
            assert [v["metric"] for v in group["values"]] == RATES
        assert all(a["worst"] is not None for a in check["assertions"])


# -- the linear algebra on its own --------------------------------------------------------------


def _random_system(rng: random.Random) -> tuple[list[Disclosure], list[CellSum]]:
    cells = rng.randint(2, 7)

    def count() -> CellSum:
        chosen = tuple(sorted(rng.sample(range(cells), rng.randint(1, cells))))
        return CellSum(chosen, rng.choice([0b1111, 0b1010, 0b0101, 0b1100, 0b1000, 0b0010]))

    published = [
        Disclosure(
            key=i,
            sums=tuple(count() for _ in range(rng.randint(1, 2))),
            people=rng.randint(10, 50),
            tier=rng.choice([0, 0, 1]),
            zeros=(count(),) if rng.random() < 0.1 else (),
        )
        for i in range(rng.randint(1, 12))
    ]
    return published, [count() for _ in range(rng.randint(1, 6))]


def _numpy_determined(published: Sequence[Disclosure], counts: Sequence[CellSum]) -> list[bool]:
    """Oracle: compare matrix ranks with numpy (float SVD; exact enough at this size)."""
    size = 4 * (1 + max(c for d in published for s in d.sums for c in s.cells))
    size = max(size, 4 * (1 + max(c for s in counts for c in s.cells)))

    def vector(count: CellSum) -> list[float]:
        out = [0.0] * size
        for cell in count.cells:
            for t in range(4):
                if count.types >> t & 1:
                    out[4 * cell + t] = 1.0
        return out

    rows = [vector(s) for d in published for s in d.sums]
    for d in published:
        for zero in d.zeros:
            rows += [[float(i == j) for j in range(size)] for i, v in enumerate(vector(zero)) if v]
    matrix = np.array(rows)
    rank = np.linalg.matrix_rank(matrix)
    return [np.linalg.matrix_rank(np.vstack([matrix, vector(c)])) == rank for c in counts]


@pytest.mark.parametrize("seed", range(200))
def test_determined_equals_numpy_ranks_and_withholding_is_safe_and_maximal(seed: int) -> None:
    rng = random.Random(seed)
    published, protected = _random_system(rng)
    assert determined(published, protected) == _numpy_determined(published, protected)

    withheld = set(withhold_determined(published, protected))
    kept = [d for d in published if d.key not in withheld]
    assert not any(determined(kept, protected))  # safe
    for item in published:  # maximal: each withheld number would give a count away
        if item.key in withheld:
            assert any(determined([*kept, item], protected))


def test_withholding_keeps_groups_and_the_numbers_of_most_people() -> None:
    # x = a - b: one of a, b must go; b has fewer people
    a = Disclosure("a", (CellSum((0, 1), 0b1010),), people=40)
    b = Disclosure("b", (CellSum((1,), 0b1010),), people=24)
    group = Disclosure("g", (CellSum((1,), 0b1111),), people=24, tier=1)
    value = Disclosure("v", (CellSum((1,), 0b0001),), people=24, needs=("g",))
    x = CellSum((0,), 0b1010)
    assert withhold_determined([a, b], [x]) == ["b"]
    assert withhold_determined([b, a], [x]) == ["b"]
    # the group and a are kept, b withheld; v needs the group and gives nothing away
    assert withhold_determined([a, b, group, value], [x]) == ["b"]
    assert withhold_determined([a, value], [x]) == ["v"]  # its group is not shown
    # with the complement of b in cell 1 and the group, b is known: the value must go
    complement = Disclosure("v", (CellSum((1,), 0b0101),), people=24, needs=("g",))
    assert withhold_determined([a, b, group, complement], [x]) == ["b", "v"]
    assert withhold_determined([a, b], []) == []


def test_finest_cells_are_the_join_of_the_partitions() -> None:
    features, cells = finest_cells(
        [
            (["race"], [("A",), ("B",)]),
            (["race", "sex"], [("A", "F"), ("A", "M"), ("B", "F")]),
            (["age"], [("old",), ("young",)]),
        ]
    )
    assert features == ["race", "sex", "age"]
    assert sorted(cells) == sorted(
        (r, s, a) for r, s in [("A", "F"), ("A", "M"), ("B", "F")] for a in ("old", "young")
    )
