"""Where two JSON values (reports, rule results) differ: floats to 1e-12, keys skipped by name.

The engine parity tests, the windowed-rule tests and the Spark benchmark compare result trees
with it, so "the same numbers to 1e-12" means one thing everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

#: Fields that differ between two runs of the same audit by design.
TIMINGS = frozenset({"duration_ms", "started_at", "finished_at"})


def differences(
    expected: Any,
    actual: Any,
    *,
    skip: Collection[str] = (),
    rel: float = 1e-12,
    absolute: float = 1e-12,
    strict_types: bool = False,
    path: str = "",
) -> list[str]:
    """Return where ``actual`` differs from ``expected``, one line per place (empty: equal).

    Floats agree within ``rel`` (relative) or ``absolute``; NaN equals NaN; an int compares
    with a float by value unless ``strict_types``. Dict keys in ``skip`` are not compared.
    """

    def walk(a: Any, b: Any, where: str) -> list[str]:
        if isinstance(a, dict) and isinstance(b, dict):
            keys = sorted((set(a) | set(b)) - set(skip))
            return [d for k in keys for d in walk(a.get(k), b.get(k), f"{where}.{k}")]
        if isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                return [f"{where}: {len(a)} items != {len(b)}"]
            return [
                d
                for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in walk(x, y, f"{where}[{i}]")
            ]
        if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
            if strict_types and type(a) is not type(b):
                return [f"{where}: {a!r} ({type(a).__name__}) != {b!r} ({type(b).__name__})"]
            if (math.isnan(a) and math.isnan(b)) or math.isclose(
                a, b, rel_tol=rel, abs_tol=absolute
            ):
                return []
        elif strict_types and type(a) is not type(b):
            return [f"{where}: {a!r} ({type(a).__name__}) != {b!r} ({type(b).__name__})"]
        return [] if a == b else [f"{where}: {a!r} != {b!r}"]

    return walk(expected, actual, path)
