"""Secondary suppression: no withheld count can be worked out from the published ones.

A transparency statement publishes counts of people: group sizes, and rates together with
their base (a rate and its base give the count it counts: ``x = rate * people``). On one
dataset every such count is a sum over the cells of the finest partition — the intersection
of all the sensitive features the dataset's rules group by — and over some of the four
confusion types (label, prediction) of each cell: a group's size sums all four types of its
cells, the people it selected the two with prediction 1. Counts of 1 to k-1 people are
withheld (primary suppression); but a withheld count is only safe when it is *not* a linear
combination of the published ones, i.e. not in the row space of their matrix (18 selected
of race X minus 13 selected of race X and sex M gives away 5 of race X and sex F).

:func:`withhold_determined` decides that exactly — rational arithmetic over sparse rows kept
in reduced row echelon form, no floating-point tolerance — and withholds more (secondary
suppression). It is greedy, in one pass: the numbers are taken in order of what they are
worth (groups first, then the numbers of most people) and each is published only if, with
those already published, it determines no protected count; otherwise it is withheld. Adding
rows only grows the row space, so a withheld number could not be added back at the end
either: the published set is maximal, and what is withheld is, at each step, the smallest
number that would complete a subtraction. Published zeros are used as an attacker would: a
count of 0 makes each cell it sums 0.

What it does not cover: bounds from the counts being non-negative integers beyond those zeros
(an attacker still knows a withheld count lies between 0 and its group's size, and may narrow
that with linear programming), comparisons in words (a requirement met by every group), and
data outside the statement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence, Sized
from dataclasses import dataclass
from fractions import Fraction

__all__ = [
    "ALL_TYPES",
    "CellSum",
    "Disclosure",
    "determined",
    "finest_cells",
    "spanned_sums",
    "type_mask",
    "withhold_determined",
]

#: All four confusion types of a cell: bit ``2 * label + prediction``.
ALL_TYPES = 0b1111

_Number = int | Fraction


def type_mask(cells: Iterable[tuple[int | None, int | None]]) -> int:
    """Return the confusion types (bits ``2 * label + prediction``) of ``(label, prediction)``.

    ``None`` is a wildcard, as in :data:`ethicsgate.metrics.METRICS`.
    """
    mask = 0
    for label, prediction in cells:
        for t in range(4):
            if label in (None, t >> 1) and prediction in (None, t & 1):
                mask |= 1 << t
    return mask


@dataclass(frozen=True, slots=True)
class CellSum:
    """A count of people: those of ``cells`` (finest cells of a dataset) with ``types``."""

    cells: tuple[int, ...]
    types: int


@dataclass(frozen=True, slots=True)
class Disclosure:
    """One number a statement would publish, and the counts a reader can get from it.

    ``zeros`` are counts it shows to be 0 (each of their cells is then 0 too). Numbers are
    kept in order of ``tier`` (higher first: a whole group before a value), then ``people``
    (more first); ``needs`` are the keys it is published only with (a value needs its group).
    """

    key: Hashable
    sums: tuple[CellSum, ...]
    people: int
    zeros: tuple[CellSum, ...] = ()
    tier: int = 0
    needs: tuple[Hashable, ...] = ()


def finest_cells(
    partitions: Sequence[tuple[Sequence[str], Iterable[tuple[Hashable, ...]]]],
) -> tuple[list[str], list[tuple[Hashable, ...]]]:
    """Return the finest partition of several: its features and its cells, in a fixed order.

    Each partition is its features and the keys (values of those features) of its non-empty
    groups; a cell is a combination of values that is a group of every partition (their join).
    """
    features: list[str] = []
    cells: list[dict[str, Hashable]] = [{}]
    for names, keys in sorted(partitions, key=lambda p: -len(p[0])):
        shared = [f for f in names if f in features]
        at = [list(names).index(f) for f in shared]
        matching: dict[tuple[Hashable, ...], list[tuple[Hashable, ...]]] = defaultdict(list)
        for key in dict.fromkeys(keys):
            matching[tuple(key[i] for i in at)].append(key)
        cells = [
            {**cell, **dict(zip(names, key, strict=True))}
            for cell in cells
            for key in matching.get(tuple(cell[f] for f in shared), ())
        ]
        features += [f for f in names if f not in features]
    return features, [tuple(cell[f] for f in features) for cell in cells]


_SpanPlan = dict[int, tuple[_Number, ...]]
_plans: dict[tuple[int, ...], _SpanPlan] = {}


def _span_plan(masks: tuple[int, ...]) -> _SpanPlan:
    """Return, for each type mask in the span of ``masks``, its coefficients over them."""
    if masks in _plans:
        return _plans[masks]
    # Gaussian elimination on the 4-type vectors, each row carrying its combination of masks
    rows: list[tuple[list[Fraction], list[Fraction]]] = []
    for i, mask in enumerate(masks):
        vector = [Fraction((mask >> t) & 1) for t in range(4)]
        combo = [Fraction(int(j == i)) for j in range(len(masks))]
        for pivot_row, pivot_combo in rows:
            p = next(t for t in range(4) if pivot_row[t])
            if vector[p]:
                f = vector[p] / pivot_row[p]
                vector = [a - f * b for a, b in zip(vector, pivot_row, strict=True)]
                combo = [a - f * b for a, b in zip(combo, pivot_combo, strict=True)]
        if any(vector):
            rows.append((vector, combo))
    plan: _SpanPlan = {}
    for target in range(1, 16):
        vector = [Fraction((target >> t) & 1) for t in range(4)]
        combo = [Fraction(0)] * len(masks)
        for pivot_row, pivot_combo in rows:
            p = next(t for t in range(4) if pivot_row[t])
            if vector[p]:
                f = vector[p] / pivot_row[p]
                vector = [a - f * b for a, b in zip(vector, pivot_row, strict=True)]
                combo = [a + f * b for a, b in zip(combo, pivot_combo, strict=True)]
        if not any(vector):
            plan[target] = tuple(int(c) if c.denominator == 1 else c for c in combo)
    _plans[masks] = plan
    return plan


def spanned_sums(known: Mapping[int, int]) -> dict[int, _Number]:
    """Return every count of one group that ``known`` counts (type mask -> people) give.

    E.g. its size and the people it selected give the people it did not select.
    """
    masks = tuple(sorted(known))
    values = [known[m] for m in masks]
    return {
        target: sum(c * v for c, v in zip(combo, values, strict=True) if c)
        for target, combo in _span_plan(masks).items()
    }


class _Echelon:
    """Rows in reduced row echelon form over the rationals, kept sparse.

    Each row is ``{column: value}`` with value 1 at its pivot and 0 at every other pivot, so a
    vector is reduced in one pass over its pivot columns.
    """

    __slots__ = ("holders", "rows")

    def __init__(self) -> None:
        self.rows: dict[int, dict[int, _Number]] = {}
        self.holders: dict[int, set[int]] = defaultdict(set)

    def reduce(self, vector: Mapping[int, _Number]) -> dict[int, _Number]:
        """Return what is left of ``vector`` outside the span (empty: it is in the span)."""
        left = dict(vector)
        # pivots are columns no other row has: any order, over the shorter of the two
        if len(self.rows) < len(left):
            pivots = [c for c in self.rows if c in left]
        else:
            pivots = [c for c in left if c in self.rows]
        for pivot in pivots:
            _subtract(left, left[pivot], self.rows[pivot])
        return left

    def add(
        self, vector: Mapping[int, _Number], others: Mapping[int, Sized] | None = None
    ) -> int | None:
        """Add a row unless it is in the span already; return its pivot column, if added.

        ``others``: per column, other vectors that are kept reduced (they count as holders).
        """
        row = self.reduce(vector)
        if not row:
            return None
        held = others or {}
        holders = self.holders
        # a pivot of value ±1 keeps the arithmetic in integers; few holders keep rows sparse
        units = [c for c, v in row.items() if v == 1 or v == -1] or list(row)
        pivot = min(units, key=lambda c: (len(holders.get(c, ())) + len(held.get(c, ())), c))
        scale = row[pivot]
        if scale != 1:
            row = {c: _divide(v, scale) for c, v in row.items()}
        for other in list(self.holders[pivot]):
            target = self.rows[other]
            factor = target[pivot]
            for c, v in row.items():
                new = target.get(c, 0) - factor * v
                if new:
                    if c not in target:
                        self.holders[c].add(other)
                    target[c] = new
                elif c in target:
                    del target[c]
                    self.holders[c].discard(other)
        self.rows[pivot] = row
        for c in row:
            self.holders[c].add(pivot)
        return pivot


def _subtract(target: dict[int, _Number], factor: _Number, row: Mapping[int, _Number]) -> None:
    for c, v in row.items():
        new = target.get(c, 0) - factor * v
        if new:
            target[c] = new
        elif c in target:
            del target[c]


def _divide(value: _Number, by: _Number) -> _Number:
    if isinstance(value, int) and isinstance(by, int) and value % by == 0:
        return value // by
    return Fraction(value) / by


class _Model:
    """A dataset's counts as sparse 0/1 vectors over (cell, type class) variables.

    Types no count tells apart share one variable (a dataset without labels has two per
    cell: selected or not), which keeps the system small without changing any rank.
    """

    def __init__(self, masks: Iterable[int]) -> None:
        masks = list(dict.fromkeys(masks))
        signatures: dict[tuple[bool, ...], int] = {}
        self.type_class = [
            signatures.setdefault(tuple(bool(m >> t & 1) for m in masks), len(signatures))
            for t in range(4)
        ]
        self.classes = len(signatures)
        self._cache: dict[int, tuple[int, ...]] = {}

    def _classes_of(self, mask: int) -> tuple[int, ...]:
        if mask not in self._cache:
            self._cache[mask] = tuple(
                sorted({self.type_class[t] for t in range(4) if mask >> t & 1})
            )
        return self._cache[mask]

    def vector(self, count: CellSum) -> dict[int, _Number]:
        """Return a count as a vector: 1 on each variable it sums."""
        classes = self._classes_of(count.types)
        return {cell * self.classes + c: 1 for cell in count.cells for c in classes}

    def units(self, zero: CellSum) -> list[dict[int, _Number]]:
        """Return a zero count as what it tells: each variable it sums is 0."""
        return [{variable: 1} for variable in self.vector(zero)]


def _rows(model: _Model, item: Disclosure) -> list[dict[int, _Number]]:
    return [model.vector(s) for s in item.sums] + [u for z in item.zeros for u in model.units(z)]


def _masks(published: Sequence[Disclosure], counts: Sequence[CellSum]) -> list[int]:
    return [s.types for d in published for s in (*d.sums, *d.zeros)] + [c.types for c in counts]


def determined(published: Sequence[Disclosure], counts: Sequence[CellSum]) -> list[bool]:
    """Return, for each count, whether the published numbers determine it exactly."""
    model = _Model(_masks(published, counts))
    echelon = _Echelon()
    for item in published:
        for row in _rows(model, item):
            echelon.add(row)
    return [not echelon.reduce(model.vector(c)) for c in counts]


def withhold_determined(
    published: Sequence[Disclosure], protected: Sequence[CellSum]
) -> list[Hashable]:
    """Return the keys to withhold so that no protected count is determined by the others.

    One pass over the numbers, most worth first (by ``tier``, then ``people``, then their
    order): a number is published when what it needs is and, with the numbers published
    before it, it determines no protected count; else it is withheld. Each protected count
    is kept reduced against the published rows, so testing a number only reduces its own
    rows and the few protected counts that share a pivot with them.

    Raises:
        ValueError: a protected count is determined by nothing (it sums no variable).
    """
    model = _Model(_masks(published, protected))
    echelon = _Echelon()
    residues = [model.vector(c) for c in protected]
    if any(not r for r in residues):
        raise ValueError("a protected count sums no variable")
    # column -> the protected counts whose residue has it
    holding: dict[int, set[int]] = defaultdict(set)
    for i, residue in enumerate(residues):
        for c in residue:
            holding[c].add(i)
    order = sorted(
        range(len(published)), key=lambda i: (-published[i].tier, -published[i].people, i)
    )
    kept: set[Hashable] = set()
    withheld: list[Hashable] = []
    for i in order:
        item = published[i]
        if not all(need in kept for need in item.needs):
            withheld.append(item.key)
            continue
        # the item's rows beyond the span so far, among themselves in echelon form
        trial = _Echelon()
        for row in _rows(model, item):
            trial.add(echelon.reduce(row))
        # a residue in the trial's span lies within the trial rows' columns
        reach = {c for row in trial.rows.values() for c in row}
        touched = {j for c in trial.rows for j in holding.get(c, ())}
        if any(residues[j].keys() <= reach and not trial.reduce(residues[j]) for j in touched):
            withheld.append(item.key)
            continue
        kept.add(item.key)
        # the echelon may pivot the rows on other columns than the trial did: pivots few
        # residues hold keep the residues short
        added = [echelon.add(row, holding) for row in trial.rows.values()]
        new = [c for c in added if c is not None]
        # a residue has no older pivot: reducing it by the new rows alone keeps it reduced
        for j in sorted({j for c in new for j in holding.get(c, ())}):
            residue = residues[j]
            for pivot in new:
                factor = residue.get(pivot)
                if not factor:
                    continue
                for c, v in echelon.rows[pivot].items():
                    value = residue.get(c, 0) - factor * v
                    if value:
                        if c not in residue:
                            holding[c].add(j)
                        residue[c] = value
                    elif c in residue:
                        del residue[c]
                        holding[c].discard(j)
    return withheld
