"""Read YAML while keeping where every value came from, so errors can name file:line:column."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ethicsgate.errors import EthicsgateError, Location

__all__ = [
    "MAX_YAML_BYTES",
    "MAX_YAML_DEPTH",
    "MAX_YAML_NODES",
    "YamlDocument",
    "load_yaml",
    "pydantic_errors_to_message",
]

#: The largest policy or audit spec file read, in bytes (10 MiB; the largest shipped pack
#: is a few KiB).
MAX_YAML_BYTES = 10 * 1024 * 1024
#: The most values (scalars, lists and mappings) a document may hold once every alias is
#: expanded: the nested anchors of a "billion laughs" document expand exponentially.
MAX_YAML_NODES = 200_000
#: The deepest nesting of lists and mappings, aliases expanded.
MAX_YAML_DEPTH = 100

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


def _line_col(text: str, offset: int) -> tuple[int, int]:
    """Return the 1-based line and column of character ``offset`` in ``text``."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _byte_line_col(data: bytes, offset: int) -> tuple[int, int]:
    """Return the 1-based line and column (in characters) of byte ``offset`` in ``data``."""
    start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[start:offset].decode("utf-8", errors="replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column


def _check_size(root: yaml.Node, path: Path, error: type[EthicsgateError], what: str) -> None:
    """Reject a node graph that expands beyond the limits, without expanding it.

    Aliases make the composed graph share nodes, so its expanded size is computed once per
    distinct node (memoised, iteratively: no recursion limit to hit) and a cycle (an anchor
    used inside itself) is found on the way.

    Raises:
        error: an alias refers to its own anchor, the document nests deeper than
            MAX_YAML_DEPTH or expands to more than MAX_YAML_NODES values.
    """
    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    uses: dict[int, int] = {}
    on_stack: set[int] = set()

    def where(node: yaml.Node) -> Location:
        return Location(str(path), node.start_mark.line + 1, node.start_mark.column + 1)

    def children(node: yaml.Node) -> list[yaml.Node]:
        if isinstance(node, yaml.MappingNode):
            return [child for pair in node.value for child in pair]
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        return []

    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_stack.discard(key)
            kids = children(node)
            sizes[key] = 1 + sum(sizes[id(k)] for k in kids)
            depths[key] = 1 + max((depths[id(k)] for k in kids), default=0)
            if sizes[key] > MAX_YAML_NODES or depths[key] > MAX_YAML_DEPTH:
                # name the anchor whose repetition blows the size up, if there is one
                shared = [k for k in kids if uses.get(id(k), 0) > 1]
                culprit = max(shared, key=lambda k: sizes[id(k)], default=node)
                if depths[key] > MAX_YAML_DEPTH:
                    message = f"the {what} nests lists and mappings more than {MAX_YAML_DEPTH} deep"
                    hint = "flatten the structure; no policy or audit spec field nests this deep"
                else:
                    message = (
                        f"the {what} expands to more than {MAX_YAML_NODES:,} values once its "
                        "aliases (*name) are expanded"
                    )
                    hint = (
                        "write the values out, or use fewer and smaller anchors (&name); a "
                        "document that expands this far is refused as a denial of service"
                    )
                raise error(message, location=where(culprit), hint=hint)
            continue
        if key in on_stack:
            raise error(
                f"the {what} uses an alias inside its own anchor (a recursive structure)",
                location=where(node),
                hint="an alias (*name) cannot appear inside the value it refers to",
            )
        uses[key] = uses.get(key, 0) + 1
        if key in sizes:
            continue
        on_stack.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(children(node)))


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
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *anchor`: its keys may be overridden, which is no duplicate
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen[key] = key_node
        self.flatten_mapping(node)  # merge keys first, as PyYAML's own constructor does
        return super().construct_mapping(node, deep=deep)


def load_yaml(path: Path, *, error: type[EthicsgateError], what: str) -> YamlDocument:
    """Parse one YAML file with positions.

    Raises:
        error: the file is missing, unreadable, empty, not YAML, or not a mapping.
    """
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_YAML_BYTES + 1)
    except FileNotFoundError as exc:
        raise error(f"{what} file not found", location=path, hint="check the path") from exc
    except IsADirectoryError as exc:
        raise error(f"expected the {what} file, found a directory", location=path) from exc
    except OSError as exc:
        raise error(f"cannot read {what} file: {exc.strerror}", location=path) from exc
    if len(raw) > MAX_YAML_BYTES:
        raise error(
            f"the {what} file is larger than {MAX_YAML_BYTES // (1024 * 1024)} MiB",
            location=path,
            hint=f"check that this is the {what} you meant; split a very large policy into packs",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _byte_line_col(raw, exc.start)
        raise error(
            f"{what} file is not UTF-8 text: byte 0x{raw[exc.start]:02x} ({exc.reason})",
            location=Location(str(path), line, column),
            hint="save the file as UTF-8 (an editor's 'encoding' setting, or "
            "`iconv -f latin1 -t utf-8`)",
        ) from exc
    if not text.strip():
        raise error(
            f"{what} file is empty",
            location=Location(str(path), 1, 1),
            hint=f"write the {what} as YAML; `ethicsgate init` writes a starting point",
        )
    try:
        node = yaml.compose(text, Loader=_Loader)
        if node is not None:
            _check_size(node, path, error, what)
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.reader.ReaderError as exc:
        # a character YAML does not allow (NUL, other control characters): no mark, a position
        line, column = _line_col(text, exc.position)
        char = exc.character
        code = ord(char) if isinstance(char, str) else int(char)
        raise error(
            f"invalid YAML: character U+{code:04X} is not allowed in a YAML file",
            location=Location(str(path), line, column),
            hint="remove it: control characters such as NUL cannot appear in YAML, not "
            "even inside quotes",
        ) from exc
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
        raise error(
            f"{what} file is empty (it holds only comments or blank lines)",
            location=Location(str(path), 1, 1),
            hint=f"write the {what} as YAML; `ethicsgate init` writes a starting point",
        )
    if not isinstance(data, dict):
        raise error(
            f"the {what} must be a YAML mapping (key: value), found {type(data).__name__}",
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
