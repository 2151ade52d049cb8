"""The docs stay true: generated reference pages are current and cover every kind and metric."""

from __future__ import annotations

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
