"""The proxy measures do not depend on the order the engine returns a table's cells in.

DuckDB's ``GROUP BY`` returns groups in any order; a shipped report is compared byte for byte
(tests/golden), so Cramér's V and the normalized mutual information must be the same float
for every order of the same counts.
"""

from __future__ import annotations

import random

from ethicsgate.rules.proxy import cramers_v, normalized_mutual_information


def _table(seed: int) -> dict[tuple[object, object], int]:
    rng = random.Random(seed)
    return {(x, y): rng.randint(0, 400) for x in range(10) for y in range(8)}


def test_measures_are_the_same_float_for_every_cell_order() -> None:
    for seed in range(20):
        cells = list(_table(seed).items())
        v, nmi = cramers_v(dict(cells)), normalized_mutual_information(dict(cells))
        rng = random.Random(seed)
        for _ in range(30):
            rng.shuffle(cells)
            assert cramers_v(dict(cells)) == v
            assert normalized_mutual_information(dict(cells)) == nmi
