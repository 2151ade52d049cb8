"""What every output format shares: the ``Renderer`` protocol, the inputs, the HTML templates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from ethicsgate.report.views import ReportView, report_view

if TYPE_CHECKING:
    from ethicsgate.audit.result import AuditResult
    from ethicsgate.publish.statement import Statement

__all__ = [
    "BinarySink",
    "Format",
    "Renderer",
    "ReportInput",
    "StatementInput",
    "html_environment",
    "write_rendered",
]

S = TypeVar("S")
S_contra = TypeVar("S_contra", contravariant=True)


class Renderer(Protocol[S_contra]):
    """One output format of one kind of document: its name, its file and its bytes."""

    @property
    def name(self) -> str:
        """Return the format's name, unique within its document: ``html``, ``sarif``."""
        ...

    @property
    def filename(self) -> str:
        """Return the file name written when no other is given: ``report.html``."""
        ...

    def render(self, source: S_contra, /) -> bytes:
        """Return the document in this format, as the exact bytes to write (and sign)."""
        ...


class BinarySink(Protocol):
    """Where a document's bytes are written as they are rendered: a file open for writing."""

    def write(self, data: bytes, /) -> object:
        """Write ``data``."""
        ...


@dataclass(frozen=True)
class Format(Generic[S]):
    """A :class:`Renderer` made of a name, a file name and a rendering function.

    ``stream``, when given, writes the same bytes as ``function`` returns to a file as they
    are rendered, so that a large document (``report.json`` of 100,000 groups) is never held.
    """

    name: str
    filename: str
    function: Callable[[S], bytes]
    stream: Callable[[S, BinarySink], None] | None = None

    def render(self, source: S, /) -> bytes:
        """Return the document in this format."""
        return self.function(source)

    def write(self, source: S, out: BinarySink, /) -> None:
        """Write the document in this format to ``out``: the bytes :meth:`render` returns."""
        if self.stream is None:
            out.write(self.function(source))
        else:
            self.stream(source, out)


def write_rendered(renderer: Renderer[S], source: S, out: BinarySink) -> None:
    """Write one document to ``out``: streamed by a :class:`Format` that can, else rendered."""
    if isinstance(renderer, Format):
        renderer.write(source, out)
    else:
        out.write(renderer.render(source))


@dataclass
class ReportInput:
    """An audit result to render as a report, with its signer; its view is built once."""

    result: AuditResult
    signer: str | None = None

    @cached_property
    def view(self) -> ReportView:
        """Return the report's view, built on first use and shared by every format."""
        return report_view(self.result)

    @cached_property
    def group_arrow(self) -> Any:
        """Return the group table as a ``pyarrow.Table``, None when no rule has groups.

        Built on first use and shared by its formats (``formats/groups.py``).
        """
        from ethicsgate.report.views.groups import arrow_group_table

        return arrow_group_table(self.result)


@dataclass(frozen=True)
class StatementInput:
    """A public transparency statement to render, with its signer."""

    statement: Statement
    signer: str | None = None


def html_environment() -> Any:
    """Return the Jinja2 environment of the HTML templates: autoescaped, undefined is an error."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    from ethicsgate.escapes import written_out
    from ethicsgate.report._bytecode import template_cache

    return Environment(
        loader=PackageLoader("ethicsgate.report", "templates"),
        bytecode_cache=template_cache("html"),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
        # a group named with U+202E turned the rest of its line around (the web QA)
        finalize=written_out,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
