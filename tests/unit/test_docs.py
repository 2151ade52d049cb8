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
