"""The canonical forms of what ethicsgate writes and signs: JSON bytes and file names.

Signatures cover exact bytes, so every signed JSON document (``report.json``,
``statement.json``) is serialised by :func:`canonical_json` alone. This module is on the
ground floor: it imports nothing from ethicsgate, so ``attest/`` and ``report/`` share it.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar, overload

__all__ = [
    "FINDINGS_PARQUET",
    "GROUPS_CSV",
    "GROUPS_PARQUET",
    "REPORT_FILES",
    "REPORT_HTML",
    "REPORT_JSON",
    "REPORT_MARKDOWN",
    "RENDERED_REPORT_FILES",
    "STATEMENT_FILES",
    "STATEMENT_HTML",
    "STATEMENT_JSON",
    "STATEMENT_MARKDOWN",
    "ItemSequence",
    "canonical_json",
    "write_canonical_json",
]

REPORT_JSON = "report.json"
REPORT_HTML = "report.html"
REPORT_MARKDOWN = "report.md"
GROUPS_PARQUET = "groups.parquet"
GROUPS_CSV = "groups.csv"
FINDINGS_PARQUET = "findings.parquet"
#: The files of a report rendered from its result (report/formats).
RENDERED_REPORT_FILES = (REPORT_JSON, REPORT_HTML, REPORT_MARKDOWN, GROUPS_PARQUET, GROUPS_CSV)
#: The files of a report, beside its envelope, all signed: the rendered ones and the findings
#: the audit run collects (audit/findings.py).
REPORT_FILES = (*RENDERED_REPORT_FILES, FINDINGS_PARQUET)

STATEMENT_JSON = "statement.json"
STATEMENT_HTML = "statement.html"
STATEMENT_MARKDOWN = "statement.md"
#: The files of a public transparency statement, beside its envelope.
STATEMENT_FILES = (STATEMENT_JSON, STATEMENT_HTML, STATEMENT_MARKDOWN)


_T = TypeVar("_T")


class ItemSequence(Sequence[_T]):
    """A sequence that makes each item when it is read; JSON writes it as a list.

    Subclasses give ``__len__`` and ``_item(index)``. The list JSON writes is the items in
    order: :func:`canonical_json` makes and writes one item at a time, so a sequence held as
    columns (100,000 groups of a rule) is never held as objects all at once.
    """

    __slots__ = ()

    def _item(self, index: int) -> _T:  # pragma: no cover - abstract
        raise NotImplementedError

    @overload
    def __getitem__(self, index: int) -> _T: ...
    @overload
    def __getitem__(self, index: slice) -> list[_T]: ...
    def __getitem__(self, index: int | slice) -> _T | list[_T]:
        """Return the item at ``index`` (made now), or a list of the slice's items."""
        if isinstance(index, slice):
            return [self._item(i) for i in range(*index.indices(len(self)))]
        index = operator.index(index)  # a numpy integer reads as the int it is
        size = len(self)
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError("index out of range")
        return self._item(index)

    def __iter__(self) -> Iterator[_T]:
        """Yield the items in order, each made as it is reached."""
        for index in range(len(self)):
            yield self._item(index)

    def __eq__(self, other: object) -> bool:
        """Return whether ``other`` is a sequence of equal items (a list, or another)."""
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # equal to a list of the same items

    def __repr__(self) -> str:
        """Return the class and the number of items (not the items)."""
        return f"{type(self).__name__}({len(self):,} items)"


#: What JSON writes as a list.
_LISTS = (list, tuple, ItemSequence)


def canonical_json(data: Any, *, expand: Callable[[Any], dict[str, Any]] | None = None) -> bytes:
    """Return the canonical bytes of a JSON document: sorted keys, 2-space indent, UTF-8.

    The layout is ``json.dumps(sort_keys=True, indent=2)``'s, except that an object inside
    a list inside another list (a group of a rule, a row of an LL144 table, an assertion, a
    finding) is written on one line, ``{"a": 1, "b": [2, 3]}``, unless it directly holds a
    non-empty list of objects (an LL144 table holding its rows). One line per group keeps a
    100,000-group report greppable and lets the C encoder write it: ``json`` uses its pure
    Python encoder whenever ``indent`` is set, which is ten times slower.

    ``expand`` turns a value that is not JSON data (a model) into a dict, which may hold
    such values again, but only as items of a list; it is called as the writer reaches the
    value, so a document of 100,000 groups is never held as one tree of dicts
    (``report/formats/json.py``). The text is encoded as it is written, a chunk at a time.

    Raises:
        ValueError: ``data`` holds NaN or an infinity, which JSON cannot represent.
        TypeError: ``data`` holds a value JSON cannot represent (a set, a non-str key that
            is not a number, bool or None).
    """
    chunks: list[bytes] = []
    write_canonical_json(data, chunks.append, expand=expand, chunk_parts=_CHUNK_PARTS)
    return b"".join(chunks)


def write_canonical_json(
    data: Any,
    write: Callable[[bytes], object],
    *,
    expand: Callable[[Any], dict[str, Any]] | None = None,
    chunk_parts: int = 4_096,
) -> None:
    """Write the canonical bytes of a JSON document (:func:`canonical_json`) a chunk at a time.

    ``write`` is called with each UTF-8 chunk of about ``chunk_parts`` text parts (a group's
    line is one part), so a 250 MB ``report.json`` goes to its file without being held.
    The chunks joined are :func:`canonical_json`'s bytes, whatever ``chunk_parts``.

    Raises:
        ValueError, TypeError: as :func:`canonical_json`; the chunks written so far are the
            start of an unfinished document.
    """
    out = _Chunks(expand, write, chunk_parts)
    out.write(data, "\n", lists=0)
    out.parts.append("\n")
    out.finish()


#: Writes one line: sorted keys, ``", "`` and ``": "`` between items, non-ASCII as it is.
_ONE_LINE = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(", ", ": ")
)
#: what JSON writes as it is, and the containers; anything else is for ``expand``
_PLAIN = (dict, list, tuple, ItemSequence, str, int, float, bool, type(None))
#: text parts joined and encoded at a time: bounds the list of small strings
_CHUNK_PARTS = 65_536


class _Chunks:
    """The document being written: text parts, encoded and passed on in chunks as they pile up."""

    def __init__(
        self,
        expand: Callable[[Any], dict[str, Any]] | None,
        sink: Callable[[bytes], object],
        chunk_parts: int,
    ) -> None:
        self.expand = expand
        self.sink = sink
        self.chunk_parts = max(1, chunk_parts)
        self.parts: list[str] = []

    def finish(self) -> None:
        if self.parts:
            self.sink("".join(self.parts).encode("utf-8"))
        self.parts = []

    def _object(self, value: Any) -> Any:
        if self.expand is None or isinstance(value, _PLAIN):
            return value
        return self.expand(value)

    def write(self, value: Any, newline: str, *, lists: int) -> None:
        """Append ``value``; ``newline`` is a line break plus its indent.

        ``lists`` counts the lists ``value`` sits in; see :func:`canonical_json` for the
        layout.
        """
        parts = self.parts
        if len(parts) > self.chunk_parts:
            self.sink("".join(parts).encode("utf-8"))
            parts.clear()
        value = self._object(value)
        if isinstance(value, dict):
            if not value:
                parts.append("{}")
                return
            if lists >= 2 and not self._holds_objects_list(value):
                parts.append(_ONE_LINE.encode(value))
                return
            inner = newline + "  "
            parts.append("{")
            for i, (key, item) in enumerate(sorted(value.items())):
                parts.append(("" if i == 0 else ",") + inner + _ONE_LINE.encode(_key(key)) + ": ")
                self.write(item, inner, lists=lists)
            parts.append(newline + "}")
        elif isinstance(value, _LISTS):
            if not value:
                parts.append("[]")
                return
            inner = newline + "  "
            parts.append("[")
            for i, item in enumerate(value):
                parts.append(inner if i == 0 else "," + inner)
                self.write(item, inner, lists=lists + 1)
            parts.append(newline + "]")
        else:
            parts.append(_ONE_LINE.encode(value))

    def _holds_objects_list(self, value: dict[Any, Any]) -> bool:
        """Return whether one of ``value``'s items is a non-empty list holding an object."""
        return any(
            isinstance(item, _LISTS)
            and any(isinstance(x, dict) or not isinstance(x, _PLAIN) for x in item)
            for item in value.values()
        )


def _key(key: Any) -> str:
    """Return an object key as ``json.dumps`` writes it: numbers, bools and None as text."""
    if isinstance(key, str):
        return key
    if key is True or key is False or key is None or isinstance(key, int | float):
        return json.dumps(key, allow_nan=False)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")
