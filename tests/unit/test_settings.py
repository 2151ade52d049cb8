"""Deployment settings: read from ``ETHICSGATE_*`` variables, defaults without pydantic-settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ethicsgate.settings import Settings, load_settings


def _clear(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("ETHICSGATE_"):
            monkeypatch.delenv(name)


def test_no_variable_means_every_default(monkeypatch: pytest.MonkeyPatch) -> None:
    _clear(monkeypatch)
    assert load_settings() == Settings()
    assert load_settings().review_lease == "15m"


def test_variables_are_read_case_insensitively(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _clear(monkeypatch)
    monkeypatch.setenv("ETHICSGATE_THREADS", "3")
    monkeypatch.setenv("ethicsgate_temp_dir", str(tmp_path))
    monkeypatch.setenv("ETHICSGATE_KEY_PASSPHRASE", "secret")
    settings = load_settings()
    assert isinstance(settings, Settings)
    assert settings.threads == "3"
    assert settings.temp_dir == tmp_path
    assert settings.key_passphrase is not None
    assert settings.key_passphrase.get_secret_value() == "secret"
    assert settings.memory_limit is None


def test_defaults_do_not_import_pydantic_settings() -> None:
    code = (
        "import os, sys\n"
        "for k in [k for k in os.environ if k.upper().startswith('ETHICSGATE_')]: del os.environ[k]\n"
        "from ethicsgate.settings import load_settings\n"
        "load_settings()\n"
        "print('pydantic_settings' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
