"""Read YAML while keeping where every value came from, so errors can name file:line:column."""

from __future__ import annotations

import re
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from ethicsgate.errors import EthicsgateError, Location, close_match, did_you_mean

__all__ = [
    "MAX_YAML_BYTES",
    "MAX_YAML_DEPTH",
    "MAX_YAML_NODES",
    "YamlDocument",
    "load_yaml",
    "pydantic_errors_to_message",
    "validate_document",
]

#: The largest policy or audit spec file read, in bytes (10 MiB; the largest shipped pack
#: is a few KiB).
MAX_YAML_BYTES = 10 * 1024 * 1024
#: The most values (scalars, lists and mappings) a document may hold once every alias is
#: expanded: the nested anchors of a "billion laughs" document expand exponentially.
MAX_YAML_NODES = 200_000
#: The deepest nesting of lists and mappings, aliases expanded.
MAX_YAML_DEPTH = 100

#: A value's place in a document: its keys and list indexes from the top.
_Path = tuple[str | int, ...]

if TYPE_CHECKING:  # the stubs type CSafeLoader apart from SafeLoader; both build the same nodes
    _Loader = yaml.SafeLoader
else:  # the C loader is several times faster; fall back where libyaml is missing
    _Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class YamlDocument:
    """A parsed YAML document plus the position of every node, keyed by its path."""

    path: Path
    data: Any
    _marks: dict[_Path, tuple[int, int]] = field(default_factory=dict)
    _key_marks: dict[_Path, tuple[int, int]] = field(default_factory=dict)
    #: the source text of every unquoted scalar YAML reads as a number or a boolean
    #: (``1.10``, ``0100``, ``yes``), by path: what a text field holds instead
    _written: dict[_Path, str] = field(default_factory=dict)
    #: the paths of the mapping keys written so (``(..., "0100")``)
    _written_keys: set[_Path] = field(default_factory=set)

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


def _char_at(text: str, line: int, column: int) -> str:
    """Return the character at 0-based ``line`` and ``column`` as YAML counts them, or ''."""
    lines = re.split(r"\r\n|\r|\n", text)
    return lines[line][column : column + 1] if line < len(lines) else ""


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


#: Tags of the scalars YAML turns into something other than text.
_NOT_TEXT_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("int", "float", "bool"))


def _walk(node: yaml.Node, path: _Path, doc: YamlDocument) -> None:
    doc._marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.ScalarNode):
        if _written_as_other(node):
            doc._written[path] = node.value
    elif isinstance(node, yaml.MappingNode):
        _walk_pairs(node, path, doc, merged=False)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), doc)


def _walk_pairs(node: yaml.MappingNode, path: _Path, doc: YamlDocument, *, merged: bool) -> None:
    """Walk a mapping's pairs, then those a merge key (``<<: *anchor``) brings, as PyYAML does.

    A key written in the mapping overrides a merged one, and an earlier merged mapping a
    later one: a merged pair is walked only where no pair walked before has its key.
    """
    merges: list[yaml.Node] = []
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            merges.append(value_node)
            continue
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
        if merged and (*path, key) in doc._key_marks:
            continue
        mark = key_node.start_mark
        doc._key_marks[(*path, key)] = (mark.line + 1, mark.column + 1)
        if isinstance(key_node, yaml.ScalarNode) and _written_as_other(key_node):
            doc._written_keys.add((*path, key))
        _walk(value_node, (*path, key), doc)
    for merge in merges:
        for mapping in merge.value if isinstance(merge, yaml.SequenceNode) else [merge]:
            if isinstance(mapping, yaml.MappingNode):
                _walk_pairs(mapping, path, doc, merged=True)


def _written_as_other(node: yaml.ScalarNode) -> bool:
    """Return whether YAML reads this scalar as no text: unquoted ``1.10``, ``0100``, ``yes``."""
    return not node.style and node.tag in _NOT_TEXT_TAGS  # plain: None, or "" (libyaml)


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
        if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
            # an editor's tab: PyYAML's words ("found character that cannot start any
            # token") do not say that it is the tab, nor what to write instead
            raise error(
                "invalid YAML: a tab character here; YAML indents and separates with spaces only",
                location=loc,
                hint="replace the tab with spaces, as many as the lines around it use; an editor "
                "set to 'indent using spaces' does so for you",
            ) from exc
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
    _walk(node, (), doc)
    return doc


_Model = TypeVar("_Model", bound=BaseModel)


def validate_document(
    model: type[_Model], doc: YamlDocument, *, error: type[EthicsgateError], schema: str
) -> _Model:
    """Validate ``doc`` as ``model``; a text field gets an unquoted scalar exactly as written.

    YAML reads an unquoted ``1.10`` as the number 1.1, ``0100`` as 64 (octal) and ``yes`` as
    true. A field that takes text gets the scalar's source text instead (``"1.10"``,
    ``"0100"``, ``"yes"``): each value refused as no string is replaced by the text the file
    writes and the document validated again, so fields that take numbers never see a change.
    ``doc.data`` is then the document as validated.

    Raises:
        error: the document does not fit ``model``; the message names every problem at its
            file:line:column, the hint is the first one's fix (``schema`` names the command
            that prints the model's schema).
    """
    data = doc.data
    replaced: set[tuple[tuple[bool, _Path], str]] = set()
    while True:
        try:
            value = model.model_validate(data)
        except ValidationError as exc:
            errors: list[Any] = exc.errors()
            edits = _texts_as_written(doc, data, errors).items() - replaced
            if edits:  # each pass replaces values not replaced before: the loop ends
                for (is_key, path), text in edits:
                    data = _with_key(data, path, text) if is_key else _with_value(data, path, text)
                replaced.update(edits)
                continue
            problems = _problems(doc, errors, model, schema=schema, data=data)
            raise error(
                _joined(problems), location=problems[0].location, hint=_hint(problems)
            ) from exc
        doc.data = data
        return value


def pydantic_errors_to_message(
    doc: YamlDocument,
    errors: list[dict[str, Any]],
    *,
    model: type[BaseModel] | None = None,
    schema: str = "ethicsgate policy schema",
) -> tuple[Location, str]:
    """Turn pydantic validation errors into the first error's location and a readable message.

    With the ``model`` validated, an unknown field is compared with the fields it has.
    """
    problems = _problems(doc, errors, model, schema=schema)
    return problems[0].location, _joined(problems)


@dataclass(frozen=True)
class _Problem:
    """One validation error as the user reads it: where, which field, what, and the fix."""

    location: Location
    field_path: str
    message: str
    hint: str | None = None
    #: (the key written, the field it misspells) when the fix is a rename
    rename: tuple[str, str] | None = None


def _hint(problems: list[_Problem]) -> str | None:
    """Return the first problem's fix; several misspelled keys are one hint: rename them."""
    renames = [p.rename for p in problems if p.rename is not None]
    if len(renames) > 1 and problems[0].rename is not None:
        return "rename " + ", ".join(f"{key} to {meant}" for key, meant in renames)
    return problems[0].hint


def _joined(problems: list[_Problem]) -> str:
    """Return the first problem as ``field: message``, each further one with its location."""
    lines = [f"{p.field_path}: {p.message}" for p in problems[:1]]
    lines += [f"{p.location}: {p.field_path}: {p.message}" for p in problems[1:]]
    return "\n  ".join(lines)


def _problems(
    doc: YamlDocument,
    errors: list[dict[str, Any]],
    model: type[BaseModel] | None,
    *,
    schema: str,
    data: Any = None,
) -> list[_Problem]:
    """Describe pydantic's errors, a misspelled required field as one rename at its key.

    ``data``: the document as validated, when its text replaced values YAML read as no text
    (``off:`` read as false is the key ``off`` there) [default: ``doc.data``].
    """
    validated = doc.data if data is None else data
    locs = [
        _strip_union_tags(validated, err["loc"], missing=err["type"] == "missing") for err in errors
    ]
    missing: dict[_Path, dict[str, list[int]]] = {}
    for index, (err, loc) in enumerate(zip(errors, locs, strict=True)):
        if err["type"] == "missing" and loc and isinstance(loc[-1], str):
            missing.setdefault(tuple(loc[:-1]), {}).setdefault(loc[-1], []).append(index)
    renamed: dict[int, str] = {}  # an unknown field's error -> the missing field it misspells
    absorbed: set[int] = set()  # the missing fields' errors: said by the rename
    for index, (err, loc) in enumerate(zip(errors, locs, strict=True)):
        if err["type"] == "extra_forbidden" and loc and isinstance(loc[-1], str):
            names = missing.get(tuple(loc[:-1]), {})
            meant = close_match(loc[-1], names)
            if meant is not None:
                renamed[index] = meant
                absorbed.update(names.pop(meant))
    for index, (err, loc) in enumerate(zip(errors, locs, strict=True)):
        kind = err["type"]
        # loc has no union labels ('review.bool' is 'review'): a longer path is inside it
        if (kind.endswith("_type") or kind == "literal_error") and any(
            len(other) > len(loc) and other[: len(loc)] == loc for other in locs
        ):
            # a member of a union the value is not (a dict is no 'max'): the error inside the
            # member it is says what is wrong
            absorbed.add(index)
    return [
        _problem(doc, err, loc, model, renamed.get(index), schema=schema)
        for index, (err, loc) in enumerate(zip(errors, locs, strict=True))
        if index not in absorbed
    ]


def _problem(
    doc: YamlDocument,
    err: dict[str, Any],
    loc: list[str | int],
    model: type[BaseModel] | None,
    rename: str | None,
    *,
    schema: str,
) -> _Problem:
    """Describe one pydantic error (``rename``: the missing field an unknown key misspells)."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "union_tag_invalid":
        loc = [*loc, str(ctx.get("discriminator", "kind")).strip("'\"")]
    is_extra = kind == "extra_forbidden"
    where = doc.locate(loc, key=is_extra)
    field_path = ".".join(str(p) for p in loc) or "(document)"
    msg: str = err["msg"]
    hint: str | None = None
    if is_extra:
        key = str(loc[-1])
        meant = rename
        if meant is None and model is not None:
            present = _mapping_at(doc.data, loc[:-1])
            known = [f for f in _fields_at(model, err["loc"][:-1]) if f not in present]
            meant = close_match(key, known)
        msg = f"unknown field '{key}'"
        if meant is not None:
            msg += f" (did you mean {meant!r}?)"
        if rename is not None:
            hint = f"rename it to {rename}"
        elif meant is not None:
            hint = f"rename it to {meant}, or remove it; `{schema}` lists the fields"
        else:
            hint = f"remove the field or fix its spelling; `{schema}` lists the fields"
    elif kind == "missing":
        msg = f"missing required field '{loc[-1]}'"
        hint = f"add the field; `{schema}` lists the required fields"
    elif kind in ("value_error", "assertion_error"):
        msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    elif kind.startswith("date_"):
        # pydantic's own words ("invalid character in year") do not say what a date looks like
        hint = "write the date as YYYY-MM-DD, e.g. 2026-06-30"
    elif kind.startswith("datetime_"):
        hint = "write the time in ISO 8601, e.g. 2026-06-30T12:00:00Z"
    elif kind in ("float_parsing", "int_parsing") and isinstance(err.get("input"), str):
        msg, hint = _number_as_written(err["input"], msg)
    elif kind == "string_pattern_mismatch":
        msg = (
            f"an id may contain only letters, digits, '_', '.' and '-', and must start with "
            f"a letter or digit (found {err.get('input')!r})"
        )
    elif kind == "literal_error":
        expected = _quoted(str(ctx.get("expected", "")))
        if isinstance(err.get("input"), str):
            msg += did_you_mean(err["input"], expected)
        hint = f"use one of the allowed values ({ctx.get('expected')})"
    elif kind == "union_tag_invalid":
        tag = str(ctx.get("tag"))
        tags = _quoted(str(ctx.get("expected_tags", "")))
        what = "rule kind" if loc[-1] == "kind" else str(loc[-1])
        msg = f"unknown {what} {tag!r}{did_you_mean(tag, tags)}"
        hint = f"known {what}s: {', '.join(tags)}"
    elif kind == "string_type" and isinstance(err.get("input"), (int, float)):
        # a text value left a number: a key, or a value whose source text is not known
        value = err["input"]
        read_as = "true or false" if isinstance(value, bool) else "a number"
        what = "key" if err["loc"][-1:] == ("[key]",) else "value"
        msg = f"this {what} is text, but YAML reads it as {read_as} ({value!r})"
        hint = f'write the {what} as quoted text with no !!int, !!float or !!bool tag, e.g. "1.10"'
    return _Problem(where, field_path, msg, hint, (str(loc[-1]), rename) if rename else None)


_PERCENT = re.compile(r"\s*([0-9]+(?:[.,][0-9]+)?)\s*%\s*")
_DECIMAL_COMMA = re.compile(r"\s*-?[0-9]+,[0-9]+\s*")


def _number_as_written(text: str, msg: str) -> tuple[str, str | None]:
    """Say why a number written as people write it is no number here: ``80%``, ``0,8``.

    Returns the message and the fix (None when the text is none of these).
    """
    if match := _PERCENT.fullmatch(text):
        share = float(match.group(1).replace(",", ".")) / 100
        return (
            f"'{text}' is a percentage, but this value is a plain number",
            f"write {share:g} for {match.group(1)} %",
        )
    if _DECIMAL_COMMA.fullmatch(text):
        return (
            f"'{text}' has a decimal comma, but YAML numbers have a decimal point",
            f"write {text.strip().replace(',', '.')}",
        )
    return msg, None


def _quoted(text: str) -> list[str]:
    """Return the values pydantic lists in ``'a', 'b' or 'c'``."""
    return re.findall(r"'([^']*)'", text)


def _texts_as_written(
    doc: YamlDocument, data: Any, errors: list[dict[str, Any]]
) -> dict[tuple[bool, _Path], str]:
    """Return the source text of each value (or key) a text field refused as no string.

    Keyed by (whether it is a key, its path in ``data``): ``(False, ("version",))``.
    """
    texts: dict[tuple[bool, _Path], str] = {}
    for err in errors:
        value = err.get("input")
        if not isinstance(value, (int, float)):
            continue
        if err["type"] == "invalid_key":
            # a model's key YAML read as no text (`on:` is true): pydantic's loc ends with
            # the key as a number (1), so the path is found by the key itself
            is_key, loc = True, (*err["loc"][:-1], value)
        elif err["type"] == "string_type":
            is_key = err["loc"][-1:] == ("[key]",)
            loc = err["loc"][:-1] if is_key else err["loc"]
        else:
            continue
        path = _data_path(data, loc, value, key=is_key)
        if path is None:
            continue
        if not is_key and path in doc._written:
            texts[(False, path)] = doc._written[path]
        elif is_key:
            written = [
                p[-1]
                for p in doc._written_keys
                if p[:-1] == path[:-1] and _same(yaml.safe_load(str(p[-1])), value)
            ]
            if len(written) == 1 and written[0] not in _mapping_at(data, path[:-1]):
                texts[(True, path)] = str(written[0])
    return texts


def _data_path(
    data: Any, loc: Sequence[str | int], value: Any, *, key: bool = False
) -> _Path | None:
    """Return the document path of the ``value`` pydantic refused at ``loc``, or None.

    Parts of ``loc`` that index nothing in the document are the tags and labels of union
    members (``fairness``, ``dict[str,str]``). With ``key``, ``value`` is the last key of
    the path, not what it holds.
    """
    node, path = data, []
    for part in loc:
        child = _child(node, part)
        if child is _NOTHING:
            continue
        node = child
        path.append(part)
    if key:
        return tuple(path) if path and _same(path[-1], value) else None
    return tuple(path) if _same(node, value) else None


def _same(one: Any, other: Any) -> bool:
    """Return whether two scalars are the same value of the same type (NaN is NaN)."""
    return type(one) is type(other) and (one == other or (one != one and other != other))


_NOTHING = object()


def _child(node: Any, part: str | int) -> Any:
    """Return what ``part`` indexes in a mapping or a list of the document, or ``_NOTHING``."""
    if isinstance(node, dict):
        return node.get(part, _NOTHING)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return _NOTHING


def _with_value(data: Any, path: _Path, value: Any) -> Any:
    """Return ``data`` with ``value`` at ``path``; the containers on the way are copies."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy: Any = dict(data) if isinstance(data, dict) else list(data)
    copy[head] = _with_value(data[head], rest, value)
    return copy


def _with_key(data: Any, path: _Path, key: str) -> Any:
    """Return ``data`` with the last key of ``path`` renamed ``key``, in its place."""
    parent = _mapping_at(data, path[:-1])
    renamed = {key if k == path[-1] and _same(k, path[-1]) else k: v for k, v in parent.items()}
    return _with_value(data, path[:-1], renamed)


def _mapping_at(data: Any, loc: Sequence[str | int]) -> Mapping[Any, Any]:
    """Return the mapping at ``loc`` in the document, or an empty one."""
    node = data
    for part in loc:
        node = _child(node, part)
    return node if isinstance(node, dict) else {}


_UNIONS = (Union, types.UnionType)
_SEQUENCES = (list, tuple, set, frozenset, Sequence)
_MAPPINGS = (dict, Mapping)


def _fields_at(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """Return the keys of the model pydantic validated at ``loc`` (its own path), or [].

    pydantic's path names a discriminated union's member by its tag (``fairness``) and a
    plain union's by a label (the model's name, ``dict[str,str]``); both are followed here.
    """
    annotation: Any = model
    for part in loc:
        annotation = _step(annotation, part)
        if annotation is None:
            return []
    models = [m for m in _members(annotation) if _is_model(m)]
    if len(models) != 1:
        return []
    return [info.alias or name for name, info in models[0].model_fields.items()]


def _unwrap(annotation: Any) -> tuple[Any, str | None]:
    """Return an annotation without ``Annotated``, and the discriminator it names."""
    discriminator = None
    while get_origin(annotation) is Annotated:
        for meta in annotation.__metadata__:
            if isinstance(meta, FieldInfo) and isinstance(meta.discriminator, str):
                discriminator = meta.discriminator
        annotation = get_args(annotation)[0]
    return annotation, discriminator


def _members(annotation: Any) -> list[Any]:
    """Return the members of a union (None left out), or the annotation itself."""
    annotation, _ = _unwrap(annotation)
    if get_origin(annotation) in _UNIONS:
        return [m for m in get_args(annotation) if m is not type(None)]
    return [annotation]


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _step(annotation: Any, part: str | int) -> Any:
    """Return the annotation of what ``part`` of pydantic's error path leads into, or None."""
    annotation, discriminator = _unwrap(annotation)
    if _is_model(annotation):
        for name, info in annotation.model_fields.items():
            if part in (name, info.alias):
                if info.discriminator is not None:
                    return Annotated[info.annotation, info]
                return info.annotation
        return None
    origin = get_origin(annotation)
    if origin in _UNIONS:
        members = _members(annotation)
        if len(members) == 1:
            return _step(members[0], part)
        for member in members:
            if part in _tags(member, discriminator):
                return member
        containers = [m for m in members if get_origin(_unwrap(m)[0]) in (*_SEQUENCES, *_MAPPINGS)]
        # a label such as dict[str,str]: the one member that is a container
        return containers[0] if isinstance(part, str) and len(containers) == 1 else None
    args = get_args(annotation)
    if origin in _SEQUENCES and type(part) is int and args:
        return args[0]
    if origin in _MAPPINGS and isinstance(part, str) and len(args) == 2:
        return args[1]
    return None


def _tags(member: Any, discriminator: str | None) -> set[str | int]:
    """Return how pydantic's error path may name a union member: its tags, its model's name."""
    tags: set[str | int] = set()
    for model in _members(member):
        if get_origin(model) in _UNIONS or get_origin(model) is Annotated:
            tags |= _tags(model, discriminator)
        elif _is_model(model):
            tags.add(model.__name__)
            info = model.model_fields.get(discriminator) if discriminator else None
            if info is not None:
                tags.update(a for a in get_args(info.annotation) if isinstance(a, (str, int)))
    return tags


def _strip_union_tags(
    data: Any, loc: Sequence[str | int], *, missing: bool = False
) -> list[str | int]:
    """Drop the union tags and labels pydantic puts into error paths ('rules.0.fairness.x').

    A tag is a discriminator's value (``fairness``), a label a member's name
    (``ReviewOptions``, ``bool``, ``dict[str,str]``): either is a part that is no key of the
    YAML mapping (or no index of the list) at that point. ``missing``: the error is a missing
    field, whose name, last in ``loc``, is no key of the mapping by definition.
    """
    out: list[str | int] = []
    node = data
    for index, part in enumerate(loc):
        named = index == len(loc) - 1 and missing  # a missing field's own name
        if isinstance(part, str) and not named and not (isinstance(node, dict) and part in node):
            # a union member's tag or label (rules.1.review.ReviewOptions.on), or pydantic's
            # [key] for a mapping's key
            continue
        out.append(part)
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
    return out
