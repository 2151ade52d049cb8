"""Extreme numbers in a policy: each has a documented range and a located error, never a crash."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ethicsgate.errors import PolicyError
from ethicsgate.policy import load_policy
from ethicsgate.policy.fields import MAX_DURATION, parse_duration

ROOT = Path(__file__).resolve().parents[3]
BAKERY = (ROOT / "policies" / "bakery-customer-automation.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("within: 10m", "within: 999999999999999999999999d", "longer than the longest allowed"),
        ("within: 10m", "within: 1000000000d", "longer than the longest allowed"),
        ("grace: 48h", "grace: 1000000000d", "longer than the longest allowed"),
        ("within: 10m", "within: 36501d", "36500d"),
    ],
)
def test_durations_beyond_the_range_are_located(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in BAKERY
    path = tmp_path / "p.yaml"
    path.write_text(BAKERY.replace(old, new, 1), encoding="utf-8")
    line = BAKERY[: BAKERY.index(old)].count("\n") + 1
    with pytest.raises(PolicyError, match=message) as info:
        load_policy(path)
    assert info.value.location is not None and info.value.location.line == line


def test_the_longest_duration_is_accepted() -> None:
    assert parse_duration("36500d") == MAX_DURATION
    assert parse_duration("5214w2d") == MAX_DURATION
    with pytest.raises(ValueError, match="longest"):
        parse_duration("5214w2d1s")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("min_group_size", "1000000000000000000000", "less than or equal to 1000000000000000"),
        ("uncertainty", "{seed: 100000000000000000000000}", "less than or equal to"),
        ("uncertainty", "{confidence_level: .nan}", "finite number"),
        ("exclude_below_share", ".nan", "finite number"),
        ("exclude_below_share", "-.inf", "finite number"),
    ],
)
def test_extreme_fairness_options_are_located(
    tmp_path: Path, field: str, value: str, message: str
) -> None:
    text = (
        "schema_version: 1\nid: p\nversion: '1'\ntitle: t\nowner: o\nrules:\n"
        "  - id: r\n    kind: fairness\n    dataset: d\n    sensitive_features: [g]\n"
        f"    {field}: {value}\n"
    )
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError, match=message) as info:
        load_policy(path)
    assert info.value.location is not None and info.value.location.line == 11


def test_review_sla_overflow_is_exit_2_through_the_cli(tmp_path: Path) -> None:
    text = BAKERY.replace("within: 10m", "within: 10m\n    review: {sla: 1000000000d}", 1)
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "ethicsgate", "policy", "check", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"{path}:" in done.stderr and "36500d" in done.stderr


@pytest.mark.parametrize("kind", ["[fairness]", "{a: 1}", "1", "null"])
def test_a_kind_that_is_not_text_is_located(tmp_path: Path, kind: str) -> None:
    """Found by the fuzz harness: a list as the kind crashed the pre-check (unhashable)."""
    text = (
        "schema_version: 1\nid: p\nversion: '1'\ntitle: t\nowner: o\nrules:\n"
        f"  - id: r\n    kind: {kind}\n    dataset: d\n"
    )
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert info.value.location is not None and info.value.location.line == 8
