"""docs/analyst.ipynb runs from top to bottom, so that it cannot rot."""

import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import NATIVE_KERNEL_NAME, KernelSpecManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "analyst.ipynb"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_analyst_notebook_runs(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # the native python3 kernel runs this interpreter (the venv), with this environment
    spec = KernelSpecManager().get_kernel_spec(NATIVE_KERNEL_NAME)
    assert spec.argv[0] in ("python", "python3", sys.executable)
    client = NotebookClient(
        nb,
        kernel_name=NATIVE_KERNEL_NAME,
        timeout=300,
        resources={"metadata": {"path": str(tmp_path)}},  # the notebook writes its files here
    )
    client.execute()
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert errors == []
    assert (tmp_path / "valley-report.html").stat().st_size > 1_000_000
    assert (tmp_path / "valley-sweep.parquet").exists()
    text = "\n".join(
        str(o.get("data", {}).get("text/plain", "")) + str(o.get("text", ""))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )
    assert "'reused': 12" in text  # the second sweep solved nothing
    assert "equal_per_capita" in text
    assert "Fraction(243, 1336)" in text  # the exact plan's lowest level, a fraction
