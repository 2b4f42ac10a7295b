"""Run the scripts in examples/ end to end, as a reader would."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name, *arguments, cwd):
    environment = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *map(str, arguments)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=300,
        check=False,
    )


def test_dfdc_file_workflow_writes_submission(tmp_path):
    result = run_example("dfdc_file_workflow.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "submission" in result.stdout.lower()


def test_compare_poolings_example_saves_figure(tmp_path):
    pytest.importorskip("matplotlib", reason="the example draws its figure with it")
    figure = tmp_path / "poolings.png"
    result = run_example("plot_compare_poolings.py", figure, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert figure.stat().st_size > 0
    assert "log loss" in result.stdout.lower()
