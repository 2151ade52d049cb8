"""The built-in rule kinds are registered deferred: declared at once, imported on first use."""

from __future__ import annotations

import subprocess
import sys
from typing import Any, Literal

import pytest

from ethicsgate.policy.models import RuleBase
from ethicsgate.rules.kind import KindBase
from ethicsgate.rules.registry import BUILTIN, KINDS, DeferredKind


@pytest.mark.parametrize("deferred", BUILTIN, ids=lambda k: k.name)
def test_each_declaration_equals_the_kind_it_loads(deferred: DeferredKind) -> None:
    assert KINDS[deferred.name] is deferred
    kind = deferred.load()
    assert (kind.name, kind.model, kind.contract) == (
        deferred.name,
        deferred.model,
        deferred.contract,
    )
    assert type(kind).__name__ == deferred.target.rpartition(":")[2]
    assert deferred.load() is kind


def test_importing_the_registry_imports_no_kind_module() -> None:
    code = (
        "import sys\n"
        "import ethicsgate.rules.registry\n"
        "from ethicsgate.policy.loader import load_policy\n"
        "print(sorted(m for m in sys.modules if m.startswith('ethicsgate.rules.') and m not in "
        "('ethicsgate.rules.registry', 'ethicsgate.rules.kind', 'ethicsgate.rules.results')))\n"
        "print('pandas' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:2] == ["[]", "False"]


class _Rule(RuleBase):
    kind: Literal["deferred_probe"]


class _Kind(KindBase):
    name = "deferred_probe"
    model = _Rule

    def evaluate(self, rule: Any, inputs: Any) -> Any:
        return "evaluated"


def test_a_declaration_that_does_not_match_its_class_is_refused() -> None:
    wrong = DeferredKind("deferred_probe", _Rule, f"{__name__}:_Kind", contract=True)
    with pytest.raises(TypeError, match="is not the rule kind 'deferred_probe'"):
        wrong.load()
    right = DeferredKind("deferred_probe", _Rule, f"{__name__}:_Kind")
    assert right.evaluate(None, None) == "evaluated"
