"""canonical_json: the layout signed reports use, checked against ``json.dumps`` as an oracle."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ethicsgate.canonical import canonical_json

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=40,
)


def _indented(data: Any, *, sort_keys: bool = True) -> str:
    return json.dumps(data, sort_keys=sort_keys, indent=2, ensure_ascii=False, allow_nan=False)


@given(DOCUMENTS)
def test_canonical_json_holds_the_data_with_sorted_keys(data: Any) -> None:
    produced = canonical_json(data)
    assert produced.endswith(b"\n")
    parsed = json.loads(produced)
    assert parsed == data or (isinstance(data, float) and math.isclose(parsed, data))
    # read back in file order and laid out as json.dumps does: the sorted, indented document
    assert _indented(parsed, sort_keys=False) == _indented(data)
    assert canonical_json(parsed) == produced


@given(st.dictionaries(st.text(), SCALARS | st.lists(SCALARS, max_size=3), max_size=5))
def test_shallow_documents_are_laid_out_as_json_dumps_indent_2(data: dict[str, Any]) -> None:
    assert canonical_json(data) == (_indented(data) + "\n").encode()


def test_objects_two_lists_deep_are_one_line_each() -> None:
    group = {"metrics": {"rate": 0.5}, "group": {"sex": "F", "zip": "é"}, "count": 3}
    table = {"rows": [{"b": 1, "a": [1, 2]}], "features": ["zip"]}
    data = {"rules": [{"groups": [group, {"count": 0}], "tables": [table, {"rows": []}]}]}
    assert canonical_json(data).decode() == (
        "{\n"
        '  "rules": [\n'
        "    {\n"
        '      "groups": [\n'
        '        {"count": 3, "group": {"sex": "F", "zip": "é"}, "metrics": {"rate": 0.5}},\n'
        '        {"count": 0}\n'
        "      ],\n"
        '      "tables": [\n'
        "        {\n"
        '          "features": [\n'
        '            "zip"\n'
        "          ],\n"
        '          "rows": [\n'
        '            {"a": [1, 2], "b": 1}\n'
        "          ]\n"
        "        },\n"
        '        {"rows": []}\n'
        "      ]\n"
        "    }\n"
        "  ]\n"
        "}\n"
    )


def test_each_one_line_object_is_json_by_itself() -> None:
    groups = [{"group": {"k": f"v{i}"}, "values": [i, i / 3]} for i in range(5)]
    lines = canonical_json({"rules": [{"groups": groups}]}).decode().splitlines()
    one_line = [json.loads(line.strip().rstrip(",")) for line in lines if '"group"' in line]
    assert one_line == groups


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_are_refused_at_any_depth(bad: float) -> None:
    for data in (bad, {"a": bad}, [[{"deep": bad}]]):
        with pytest.raises(ValueError):
            canonical_json(data)


def test_keys_follow_json_dumps() -> None:
    with pytest.raises(TypeError):  # as json.dumps(sort_keys=True): mixed keys do not sort
        canonical_json({1: "a", "b": 2})
    assert canonical_json({2: "x", 10: "y"}) == (_indented({2: "x", 10: "y"}) + "\n").encode()
    assert canonical_json({None: 1}) == b'{\n  "null": 1\n}\n'
    with pytest.raises(TypeError):
        canonical_json({(1, 2): 3})
    with pytest.raises(TypeError):
        canonical_json({"a": {1, 2}})
