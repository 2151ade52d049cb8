"""The notebook tutorial runs, top to bottom, in a real Jupyter kernel, and says what it claims."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from tests.conftest import ROOT

NOTEBOOK = ROOT / "docs" / "notebooks" / "audit-a-dataframe.ipynb"


def _text(cell: Any) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output["text"])
        elif output.get("output_type") == "error":
            parts.append("\n".join(output["traceback"]))
        else:
            data = output.get("data", {})
            parts.append(data.get("text/html") or data.get("text/plain", ""))
    return "".join(parts)


def test_the_tutorial_notebook_runs_and_shows_what_it_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), (
        "commit the tutorial without outputs"
    )
    src = str(ROOT / "src")  # the kernel imports this checkout's ethicsgate
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]))
    client = NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    outputs = [_text(cell) for cell in code]
    assert not any("Traceback" in text for text in outputs), outputs
    policy_error, status, inline, table, failure, written, verified, tampered = outputs[2:]
    assert "hiring.yaml:" in policy_error and "selection_rte" in policy_error
    assert "did you mean 'selection_rate'" in policy_error
    assert status.strip() == "'fail'"
    assert inline.startswith("<iframe srcdoc=") and "<script" not in inline
    assert "age_band" in table and "ratio" in table
    assert "four-fifths [fail]" in failure and "age_band=40 and over" in failure
    assert "report.intoto.json" in written
    assert verified.strip() == "verified: True []"
    assert "verified: False" in tampered and "arrow-ipc-sha256 differs" in tampered
