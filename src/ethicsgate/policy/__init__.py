"""Policy language: YAML packs of rules, validated into pydantic models."""

from ethicsgate.policy.loader import LoadedPolicy, load_policy
from ethicsgate.policy.models import FairnessAssertion, FairnessRule, PolicyPack, Rule, Severity

__all__ = [
    "FairnessAssertion",
    "FairnessRule",
    "LoadedPolicy",
    "PolicyPack",
    "Rule",
    "Severity",
    "load_policy",
]
