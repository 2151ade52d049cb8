"""The docs stay true: generated reference pages are current and cover every kind and metric."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import ROOT

from ethicsgate.docsgen import cli_reference, policy_reference, python_api_reference
from ethicsgate.metrics import METRICS
from ethicsgate.policy.models import RULE_KINDS

DOCS = ROOT / "docs"


def test_policy_reference_is_current() -> None:
    assert (DOCS / "policy-reference.md").read_text() == policy_reference(), (
        "docs/policy-reference.md is stale: run `python -m ethicsgate.docsgen docs`"
    )


def test_cli_reference_is_current() -> None:
    assert (DOCS / "cli.md").read_text() == cli_reference(), (
        "docs/cli.md is stale: run `python -m ethicsgate.docsgen docs`"
    )


def test_python_api_reference_is_current() -> None:
    assert (DOCS / "python-api-reference.md").read_text() == python_api_reference(), (
        "docs/python-api-reference.md is stale: run `python -m ethicsgate.docsgen docs`"
    )


def test_every_rule_kind_and_metric_is_documented() -> None:
    text = (DOCS / "policy-reference.md").read_text()
    for kind in RULE_KINDS:
        assert f"### `{kind.__name__}`" in text
    for metric in METRICS:
        assert f"| `{metric}` |" in text


def test_readme_quick_start_has_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme


_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)


def _anchor(heading: str) -> str:
    """Return GitHub's anchor for a Markdown heading (lower case, punctuation dropped)."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    return {_anchor(h) for h in re.findall(r"^#+ (.*)$", text, re.M)}


def test_every_relative_link_in_the_docs_reaches_its_file_and_heading() -> None:
    pages = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
    broken = []
    for page in pages:
        for match in _LINK.finditer(_CODE.sub("", page.read_text())):
            target = match.group(1)
            if re.match(r"[a-z][a-z0-9+.-]*:", target):
                continue  # https:, mailto: — not this repository's
            path, _, anchor = target.partition("#")
            dest = (page.parent / path) if path else page
            if not dest.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert len(pages) > 20 and not broken, broken


_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([^`\s]*)")
_SHELLS = frozenset({"sh", "bash", "shell", "console"})
#: A backslash meant to continue the line but followed by spaces (and a comment, or more
#: words): bash then ends the command there. An escaped space inside a word (``my\ file``)
#: and an escaped backslash (``\\``) are fine.
_BROKEN_CONTINUATION = re.compile(r"(?<!\\)(?:\\\\)*\\(?:[ \t]+$|[ \t]+#|[ \t]{2,}\S)")


def _shell_lines(text: str) -> list[tuple[int, str]]:
    """Return the (line number, line) of every line inside a sh/bash/shell/console block."""
    found: list[tuple[int, str]] = []
    fence = ""
    shell = False
    for number, line in enumerate(text.splitlines(), 1):
        match = _FENCE.match(line)
        if not fence:
            if match:
                fence, shell = match.group(1), match.group(2).lower() in _SHELLS
        elif match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
            if not match.group(2):
                fence = ""
        elif shell:
            found.append((number, line))
    return found


def test_the_broken_continuation_check_sees_what_bash_sees() -> None:
    block = (
        "```sh\na \\   # why\nb \\ \nc \\\nd\\ e \\\\  # ok\n```\n```text\nx \\  # not shell\n```\n"
    )
    flagged = [n for n, line in _shell_lines(block) if _BROKEN_CONTINUATION.search(line)]
    assert flagged == [2, 3]


def test_shell_blocks_in_the_docs_continue_their_lines() -> None:
    pages = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
    broken = [
        f"{page.relative_to(ROOT)}:{number}: {line.strip()}"
        for page in pages
        for number, line in _shell_lines(page.read_text())
        if _BROKEN_CONTINUATION.search(line)
    ]
    assert not broken, (
        "a backslash that continues a line must end it: move the comment out of the block "
        f"(above it, or a list after it): {broken}"
    )
