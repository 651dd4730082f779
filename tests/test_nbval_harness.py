"""The notebook harness itself: nbval, with this repository's conftest.py and sanitize file,
passes a notebook whose stored outputs are right and fails one whose stored output was
changed. Without this, a misconfigured ``make test`` could pass every chapter silently.

Each case runs ``pytest --nbval`` in a subprocess on a tiny notebook in a temporary folder,
with copies of the root conftest.py and tests/nbval_sanitize.cfg, exactly as make test
passes them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parent.parent


def _stream(name: str, text: str):
    return new_output("stream", name=name, text=text)


def _notebook(cells: list[tuple[str, list]]) -> nbformat.NotebookNode:
    nb = new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        }
    )
    for count, (source, outputs) in enumerate(cells, start=1):
        cell = new_code_cell(source, execution_count=count)
        cell.outputs = outputs
        nb.cells.append(cell)
    return nb


def run_nbval(folder: Path, notebooks: dict[str, nbformat.NotebookNode]):
    shutil.copy(ROOT / "conftest.py", folder / "conftest.py")
    shutil.copy(ROOT / "tests" / "nbval_sanitize.cfg", folder / "nbval_sanitize.cfg")
    for name, nb in notebooks.items():
        nbformat.write(nb, folder / name)
    return subprocess.run(
        [
            sys.executable, "-m", "pytest", "--nbval",
            "--nbval-sanitize-with", "nbval_sanitize.cfg",
            "-p", "no:cacheprovider", "-p", "no:xdist", "-v", *notebooks,
        ],
        cwd=folder, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts =\n")  # isolate from pyproject.toml
    return tmp_path


def test_matching_outputs_pass_and_tolerated_differences_are_tolerated(folder):
    notebooks = {
        "same.ipynb": _notebook([("print(2 + 3)", [_stream("stdout", "5\n")])]),
        # stderr is not compared (root conftest.py)
        "stderr.ipynb": _notebook(
            [
                (
                    "import sys\nprint('ok')\nprint('new wording', file=sys.stderr)",
                    [_stream("stdout", "ok\n"), _stream("stderr", "old wording\n")],
                )
            ]
        ),
        # memory addresses are sanitised (tests/nbval_sanitize.cfg)
        "address.ipynb": _notebook(
            [("print(object())", [_stream("stdout", "<object object at 0x7f00deadbeef>\n")])]
        ),
    }
    result = run_nbval(folder, notebooks)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout, result.stdout


def test_changed_stored_output_fails(folder):
    nb = _notebook([("print(2 + 3)", [_stream("stdout", "6\n")])])  # the true output is 5
    result = run_nbval(folder, {"changed.ipynb": nb})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed" in result.stdout, result.stdout
    assert "mismatch 'stdout'" in result.stdout, result.stdout


def test_changed_rich_output_fails(folder):
    """A changed text/plain result (what most chapter cells display) is caught too."""
    stored = new_output(
        "execute_result", data={"text/plain": "array([1, 2, 4])"}, execution_count=1
    )
    nb = _notebook([("import numpy as np\nnp.array([1, 2, 3])", [stored])])
    result = run_nbval(folder, {"rich.ipynb": nb})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "mismatch 'text/plain'" in result.stdout, result.stdout


def test_marked_machine_dependent_numbers_are_masked_and_nothing_else(folder):
    """``nnlib.report.approx`` marks a trained number with ≈: its digits may differ, the
    rest of the line may not, and an unmarked number is compared exactly."""
    code = "from nnlib.report import approx\nprint('loss', approx(0.0112, '.3f'), 'after 15 epochs')"
    marked = _notebook([(code, [_stream("stdout", "loss ≈0.017 after 15 epochs\n")])])
    wording = _notebook([(code, [_stream("stdout", "loss ≈0.011 after 16 epochs\n")])])
    plain = _notebook([("print('loss', f'{0.0112:.3f}')", [_stream("stdout", "loss 0.017\n")])])
    result = run_nbval(folder, {"marked.ipynb": marked, "wording.ipynb": wording,
                                "plain.ipynb": plain})
    assert "marked::ipynb::Cell 0 PASSED" in result.stdout, result.stdout
    assert "wording::ipynb::Cell 0 FAILED" in result.stdout, result.stdout
    assert "plain::ipynb::Cell 0 FAILED" in result.stdout, result.stdout


def test_embedded_animation_frames_are_not_compared_but_the_html_is(folder):
    frame = "<img src='data:image/png;base64,{}'>"
    code = f"from IPython.display import HTML\nHTML({frame.format('iVBORw0KGgo=')!r} + ' 4 frames')"

    def stored(png, text):
        data = {"text/html": frame.format(png) + text, "text/plain": "<IPython.core.display.HTML object>"}
        return [new_output("execute_result", data=data, execution_count=1)]

    other_pixels = _notebook([(code, stored("AAAAB3Nza+/=", " 4 frames"))])
    other_text = _notebook([(code, stored("iVBORw0KGgo=", " 5 frames"))])
    result = run_nbval(folder, {"pixels.ipynb": other_pixels, "text.ipynb": other_text})
    assert "pixels::ipynb::Cell 0 PASSED" in result.stdout, result.stdout
    assert "text::ipynb::Cell 0 FAILED" in result.stdout, result.stdout


def test_every_chapter_cell_that_prints_approx_numbers_asserts_a_claim():
    """A ≈ number is left out of the comparison, so its cell must check the claim itself."""
    missing = []
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        for index, cell in enumerate(nbformat.read(path, 4).cells):
            if cell.cell_type == "code" and "approx(" in cell.source and "assert " not in cell.source:
                missing.append(f"{path.name} cell {index}")
    assert not missing, f"cells printing approx() numbers without an assert: {missing}"


def test_round_off_of_a_passing_check_is_masked_a_failing_check_is_not(folder):
    code = "from nnlib.report import verdict\nverdict('dW1', 3.1e-11)"
    passing = _notebook([(code, [_stream("stdout", "dW1  rel. error 7.4e-12  (pass: <= 1e-07)\n")])])
    failing_code = "print('dW1  rel. error 3.1e-03  (fail: > 1e-07)')"
    failing = _notebook([(failing_code, [_stream("stdout", "dW1  rel. error 2.9e-03  (fail: > 1e-07)\n")])])
    result = run_nbval(folder, {"passing.ipynb": passing, "failing.ipynb": failing})
    assert "passing::ipynb::Cell 0 PASSED" in result.stdout, result.stdout
    assert "failing::ipynb::Cell 0 FAILED" in result.stdout, result.stdout
