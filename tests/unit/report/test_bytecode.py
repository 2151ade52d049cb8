"""The compiled-template cache: same bytes, a changed template recompiled, never an error."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import DictLoader, Environment

from ethicsgate.report import _bytecode
from ethicsgate.report._bytecode import template_cache
from ethicsgate.report.formats.base import html_environment


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point XDG_CACHE_HOME at a fresh folder and forget the caches already made."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("ETHICSGATE_TEMPLATE_CACHE", raising=False)
    monkeypatch.setattr(_bytecode, "_CACHES", {})
    return tmp_path / "cache"


def test_the_cache_lives_under_xdg_cache_home(cache_home: Path) -> None:
    env = html_environment()
    first = env.get_template("report.html.j2")
    entries = list((cache_home / "ethicsgate" / "jinja").glob("*-html/__jinja2_*.cache"))
    assert entries, "compiled templates are cached"
    again = html_environment().get_template("report.html.j2")
    assert again.name == first.name


def test_a_changed_template_is_recompiled(cache_home: Path) -> None:
    cache = template_cache("test")
    sources = {"t.j2": "one {{ x }}"}

    def render() -> str:
        env = Environment(loader=DictLoader(sources), bytecode_cache=cache)
        return env.get_template("t.j2").render(x=1)

    assert render() == "one 1"
    assert render() == "one 1"  # from the cache
    sources["t.j2"] = "two {{ x }}"
    assert render() == "two 1"


def test_an_unusable_cache_folder_only_means_no_cache(
    cache_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert template_cache("html") is None
    env = html_environment()
    assert env.bytecode_cache is None
    assert env.get_template("report.html.j2").name == "report.html.j2"


def test_a_corrupt_entry_is_a_cache_miss(cache_home: Path) -> None:
    cache = template_cache("test")
    sources = {"t.j2": "one {{ x }}"}
    env = Environment(loader=DictLoader(sources), bytecode_cache=cache)
    assert env.get_template("t.j2").render(x=1) == "one 1"
    for entry in cache_home.rglob("__jinja2_*.cache"):
        entry.write_bytes(b"garbage")
    env = Environment(loader=DictLoader(sources), bytecode_cache=cache)
    assert env.get_template("t.j2").render(x=2) == "one 2"


def test_the_cache_can_be_turned_off(cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETHICSGATE_TEMPLATE_CACHE", "0")
    assert template_cache("html") is None
