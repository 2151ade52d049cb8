"""Strict JSON reading shared by the envelope and statement parsers."""

from __future__ import annotations

import json
from typing import Any, NoReturn

__all__ = ["loads_strict"]


def loads_strict(data: bytes) -> Any:
    """Parse UTF-8 JSON, refusing duplicate keys and NaN/Infinity.

    Raises:
        ValueError: ``data`` is not UTF-8, not JSON, repeats a key or uses a non-JSON constant.
        RecursionError: ``data`` nests too deeply to parse.
    """
    return json.loads(
        data.decode("utf-8"),
        object_pairs_hook=_reject_duplicate_keys,
        parse_constant=_reject_constant,
    )


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            # Two parsers could pick different values for a repeated key; refuse to choose.
            raise ValueError(f"duplicate key {name!r}")
        result[name] = value
    return result


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")
