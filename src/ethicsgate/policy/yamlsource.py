"""Read YAML while keeping where every value came from, so errors can name file:line:column."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ethicsgate.errors import EthicsgateError, Location

__all__ = ["YamlDocument", "load_yaml", "pydantic_errors_to_message"]

if TYPE_CHECKING:  # the stubs type CSafeLoader apart from SafeLoader; both build the same nodes
    _Loader = yaml.SafeLoader
else:  # the C loader is several times faster; fall back where libyaml is missing
    _Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class YamlDocument:
    """A parsed YAML document plus the position of every node, keyed by its path."""

    path: Path
    data: Any
    _marks: dict[tuple[str | int, ...], tuple[int, int]] = field(default_factory=dict)
    _key_marks: dict[tuple[str | int, ...], tuple[int, int]] = field(default_factory=dict)

    def locate(self, loc: Sequence[str | int], *, key: bool = False) -> Location:
        """Return the location of the value at ``loc`` (or its key), or the nearest parent."""
        parts = tuple(loc)
        while True:
            marks = self._key_marks if key else self._marks
            if parts in marks:
                line, col = marks[parts]
                return Location(str(self.path), line, col)
            if not parts:
                return Location(str(self.path))
            parts = parts[:-1]
            key = False


def _walk(
    node: yaml.Node,
    path: tuple[str | int, ...],
    marks: dict[tuple[str | int, ...], tuple[int, int]],
    key_marks: dict[tuple[str | int, ...], tuple[int, int]],
) -> None:
    marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            key_marks[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            _walk(value_node, (*path, key), marks, key_marks)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), marks, key_marks)


class _UniqueKeyLoader(_Loader):
    """A safe loader that rejects duplicate mapping keys and leaves dates as text.

    Dates stay strings so that pydantic parses them and an impossible date (2030-02-30)
    is a located validation error, not a crash inside PyYAML's timestamp constructor.
    """

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _Loader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def load_yaml(path: Path, *, error: type[EthicsgateError], what: str) -> YamlDocument:
    """Parse one YAML file with positions.

    Raises:
        error: the file is missing, unreadable, empty, not YAML, or not a mapping.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise error(f"{what} file not found", location=path, hint="check the path") from exc
    except IsADirectoryError as exc:
        raise error(f"expected a {what} file, found a directory", location=path) from exc
    except UnicodeDecodeError as exc:
        raise error(f"{what} file is not UTF-8 text ({exc.reason})", location=path) from exc
    except OSError as exc:
        raise error(f"cannot read {what} file: {exc.strerror}", location=path) from exc
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(str(path), mark.line + 1, mark.column + 1) if mark else Location(str(path))
        problem = " ".join(filter(None, [exc.context, exc.problem]))
        raise error(
            f"invalid YAML: {problem}", location=loc, hint="fix the YAML syntax at this position"
        ) from exc
    except yaml.YAMLError as exc:
        raise error(f"invalid YAML: {exc}", location=path) from exc
    if node is None or data is None:
        raise error(f"{what} file is empty", location=path)
    if not isinstance(data, dict):
        raise error(
            f"a {what} must be a YAML mapping (key: value), found {type(data).__name__}",
            location=Location(str(path), node.start_mark.line + 1, node.start_mark.column + 1),
        )
    doc = YamlDocument(path=path, data=data)
    _walk(node, (), doc._marks, doc._key_marks)
    return doc


def pydantic_errors_to_message(
    doc: YamlDocument, errors: list[dict[str, Any]]
) -> tuple[Location, str]:
    """Turn pydantic validation errors into the first error's location and a readable message."""
    lines: list[str] = []
    first: Location | None = None
    for err in errors:
        loc = _strip_union_tags(doc.data, err["loc"])
        if err["type"] == "union_tag_invalid":
            loc = [*loc, "kind"]
        is_extra = err["type"] == "extra_forbidden"
        where = doc.locate(loc, key=is_extra)
        if first is None:
            first = where
        field_path = ".".join(str(p) for p in loc) or "(document)"
        msg = err["msg"]
        if is_extra:
            msg = f"unknown field '{loc[-1]}'"
            allowed = err.get("ctx", {}).get("allowed")
            if allowed:
                msg += f" (allowed: {allowed})"
        elif err["type"] == "missing":
            msg = f"missing required field '{loc[-1]}'"
        elif err["type"] in ("value_error", "assertion_error"):
            msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        elif err["type"] == "string_pattern_mismatch":
            msg = (
                f"an id may contain only letters, digits, '_', '.' and '-', and must start with "
                f"a letter or digit (found {err.get('input')!r})"
            )
        elif err["type"] == "union_tag_invalid":
            tag = err.get("ctx", {}).get("tag")
            expected = err.get("ctx", {}).get("expected_tags")
            msg = f"unknown rule kind {tag!r} (known kinds: {expected})"
        line = f"{where}: {field_path}: {msg}" if lines else f"{field_path}: {msg}"
        lines.append(line)
    assert first is not None
    return first, "\n  ".join(lines)


def _strip_union_tags(data: Any, loc: Sequence[str | int]) -> list[str | int]:
    """Drop the discriminator tags pydantic puts into error paths ('rules.0.fairness.x')."""
    out: list[str | int] = []
    node = data
    for part in loc:
        if (
            isinstance(node, dict)
            and part not in node
            and part
            in (
                node.get("kind"),
                node.get("check"),
            )
        ):
            continue  # the tag of a discriminated union (kind, then check), not a YAML key
        out.append(part)
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
    return out
