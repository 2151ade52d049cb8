"""Contracts and packs stay documented; Great Expectations stays out of start-up."""

from __future__ import annotations

import subprocess
import sys
import typing
from pathlib import Path

from tests.conftest import ROOT

from ethicsgate.policy.models import EXPECTATIONS, Expectation

DOCS = ROOT / "docs"


def test_every_expectation_kind_is_documented() -> None:
    kinds = typing.get_args(Expectation.model_fields["expect"].annotation)
    assert set(kinds) == set(EXPECTATIONS)
    contracts = (DOCS / "data-contracts.md").read_text()
    reference = (DOCS / "policy-reference.md").read_text()
    for kind in kinds:
        assert f"| `{kind}` | `{EXPECTATIONS[kind].split()[0]}`" in contracts.replace(
            "` on a parse flag", "`"
        ), kind
        assert kind in reference, kind
    assert "### `DataQualityRule`" in reference and "### `Expectation`" in reference


def test_every_shipped_pack_is_documented() -> None:
    text = (DOCS / "policy-packs.md").read_text()
    for pack in (ROOT / "policies").glob("*.yaml"):
        if pack.stem in ("nyc-ll144-example", "recidivism-fairness", "bakery-customer-automation"):
            continue  # examples of the tutorials, documented there
        assert f"`{pack.name}`" in text, pack.name
    assert "data-contracts.md" in (DOCS / "concepts.md").read_text()
    assert "policy-packs.md" in (DOCS / "concepts.md").read_text()


def test_policy_commands_do_not_import_great_expectations(tmp_path: Path) -> None:
    # run from a file, not `python -c`: with pyspark installed, GX's import can sys.exit(0)
    script = tmp_path / "probe.py"
    script.write_text(
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from ethicsgate.cli import cli\n"
        "import ethicsgate.audit.run, ethicsgate.rules.data_quality, ethicsgate.engines.duckdb\n"
        f"r = CliRunner().invoke(cli, ['policy', 'explain', {str(ROOT / 'policies' / 'gdpr-consent.yaml')!r}])\n"
        "assert r.exit_code == 0, r.output\n"
        "print('great_expectations' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
