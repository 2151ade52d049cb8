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


def test_an_uncaught_input_error_shows_its_located_message_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # in a notebook the frames inside ethicsgate (DuckDB, pydantic) would bury where and what;
    # a bug (any other exception) keeps its traceback
    policy = tmp_path / "policy.yaml"
    policy.write_text("schema_version: 1\nid: p\nrules: nope\n")
    cells = [
        f"import ethicsgate\nethicsgate.load_policy({str(policy)!r})",
        "raise ValueError('a bug')",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    src = str(ROOT / "src")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]))
    client = NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True)
    client.execute()
    error, bug = (cell.outputs[0] for cell in notebook.cells)
    assert error.output_type == "error" and error.ename == "PolicyError"
    shown = "\n".join(error.traceback)
    assert shown.startswith(f"PolicyError: {policy}:")
    assert "Traceback" not in shown and "File " not in shown and "ethicsgate/" not in shown
    assert "Traceback" in "\n".join(bug.traceback)  # a bug still shows where it happened
