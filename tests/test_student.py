"""Student notebooks: solutions removed, outputs cleared, learners' edits never overwritten,
and every student notebook runs from top to bottom (its checks say "not attempted yet")."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from nnlib import student
from nnlib.student import AuthoringError, make_student_notebook, solution_cells

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "grading"
sys.path.insert(0, str(FIXTURES))
import demo_checks  # noqa: E402,F401  (registers the demo exercises)

SOURCES = sorted((ROOT / "chapters").glob("*.ipynb")) + [
    ROOT / "templates" / "chapter_template.ipynb",
    FIXTURES / "demo_source.ipynb",
]
WITH_EXERCISES = [p for p in SOURCES if student.exercise_ids_in(nbformat.read(p, as_version=4))]


def _id(path: Path) -> str:
    return path.stem


def _lines(cells) -> set[str]:
    return {line.strip() for cell in cells for line in cell.source.splitlines() if line.strip()}


# --- solutions are gone ------------------------------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES, ids=_id)
def test_no_line_of_any_solution_survives(source):
    nb = nbformat.read(source, as_version=4)
    cells = student.split_directive_cells(nb.cells)
    spans = student.solution_spans(cells)
    inside = {i for first, last in spans for i in range(first, last + 1)}
    removed = [c for i, c in enumerate(cells) if i in inside]
    assert [c.source for c in removed] == [c.source for c in solution_cells(nb)]
    kept_in_source = _lines([c for i, c in enumerate(cells) if i not in inside])
    # lines that only a solution has (a solution repeats the stub's `def` line and the check call)
    solution_only = _lines(removed) - kept_in_source
    out = make_student_notebook(nb, source.name)
    left = _lines(out.cells)
    assert not solution_only & left, sorted(solution_only & left)
    text = "\n".join(c.source for c in out.cells)
    assert "{solution-start}" not in text and "{solution-end}" not in text
    if source in WITH_EXERCISES:
        assert solution_only, "a notebook with exercises should have solutions to remove"


@pytest.mark.parametrize("source", SOURCES, ids=_id)
def test_outputs_cleared_and_exercises_recorded(source):
    nb = nbformat.read(source, as_version=4)
    out = make_student_notebook(nb, source.name)
    for cell in out.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    info = student.generated_info(out)
    assert info["source"] == source.name
    assert [e for e, _ in info["exercises"]] == student.exercise_ids_in(nb)
    assert info["sha256"] == student.content_hash(out)
    assert nb == nbformat.read(source, as_version=4)  # the source is left as it was


def _notebook(*cells):
    nb = new_notebook(cells=list(cells))
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


START = "```{solution-start} demo-double\n:class: dropdown\n```"
END = "```{solution-end}\n```"


def test_text_around_directives_follows_the_rendered_book():
    nb = _notebook(
        new_markdown_cell("Before the solution.\n\n" + START + "\n\nThe solution explains."),
        new_code_cell("secret = 1"),
        new_markdown_cell("More of the solution.\n\n" + END + "\n\n## After the solution"),
    )
    out = make_student_notebook(nb)
    assert [c.source for c in out.cells] == ["Before the solution.", "## After the solution"]


@pytest.mark.parametrize(
    "cells, message",
    [
        ([new_markdown_cell(START), new_code_cell("x = 1")], "never closed"),
        ([new_markdown_cell(END)], "without a solution-start"),
        ([new_markdown_cell(START), new_markdown_cell(START), new_markdown_cell(END)], "inside the solution"),
        ([new_markdown_cell("```{solution-start} x\n:class: dropdown\n")], "not closed by its fence"),
        ([new_code_cell('check("ch1.no_such_exercise", f)')], "no exercise 'ch1.no_such_exercise'"),
    ],
)
def test_authoring_mistakes_are_reported(cells, message):
    with pytest.raises(AuthoringError, match=message):
        make_student_notebook(_notebook(*cells))


# --- never overwrite a learner's work ---------------------------------------------------------------


def _source_dir(tmp_path, body="def double(x):\n    raise NotImplementedError"):
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    nb = _notebook(
        new_code_cell("import demo_checks\nfrom nnlib.checks import check"),
        new_code_cell(body),
        new_code_cell('check("demo.double", double)'),
        new_markdown_cell(START),
        new_code_cell("def double(x):\n    return 2 * x"),
        new_markdown_cell(END),
    )
    nbformat.write(nb, src / "demo.ipynb")
    return src


def test_regenerating_never_overwrites_edits(tmp_path, capsys):
    src, out = _source_dir(tmp_path), tmp_path / "out"
    assert student.main([str(src), str(out)]) == 0
    target = out / "demo.ipynb"
    assert "written" in capsys.readouterr().out

    assert student.main([str(src), str(out)]) == 0  # untouched: nothing to do
    assert "unchanged" in capsys.readouterr().out

    _source_dir(tmp_path, body="def double(x):\n    # a new hint\n    raise NotImplementedError")
    assert student.main([str(src), str(out)]) == 0  # untouched but outdated: updated
    assert "updated" in capsys.readouterr().out and "a new hint" in target.read_text()

    work = nbformat.read(target, as_version=4)  # a learner writes an answer
    work.cells[1].source = "def double(x):\n    return x + x"
    nbformat.write(work, target)
    before = target.read_bytes()
    assert student.main([str(src), str(out)]) == 0
    captured = capsys.readouterr()
    assert target.read_bytes() == before
    assert (out / "demo.new.ipynb").exists()
    assert "was edited since it was generated" in captured.err

    beside = nbformat.read(out / "demo.new.ipynb", as_version=4)  # ... and edits the new copy too
    beside.cells[1].outputs = [nbformat.v4.new_output("stream", text="hello")]
    nbformat.write(beside, out / "demo.new.ipynb")
    beside_bytes = (out / "demo.new.ipynb").read_bytes()
    assert student.main([str(src), str(out)]) == 1
    assert "both contain edits" in capsys.readouterr().err
    assert target.read_bytes() == before and (out / "demo.new.ipynb").read_bytes() == beside_bytes


def test_a_file_that_is_not_a_generated_notebook_is_kept(tmp_path):
    src, out = _source_dir(tmp_path), tmp_path / "out"
    out.mkdir()
    (out / "demo.ipynb").write_text("my own notes, not JSON")
    assert student.main([str(src), str(out)]) == 0
    assert (out / "demo.ipynb").read_text() == "my own notes, not JSON"
    assert (out / "demo.new.ipynb").exists()


def test_authoring_error_fails_the_command(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    nbformat.write(_notebook(new_markdown_cell(START)), src / "broken.ipynb")
    assert student.main([str(src), str(tmp_path / "out")]) == 1
    assert "never closed" in capsys.readouterr().err
    assert not (tmp_path / "out" / "broken.ipynb").exists()


# --- every student notebook runs ------------------------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES, ids=_id)
def test_student_notebook_runs_top_to_bottom(source, tmp_path):
    from nbclient import NotebookClient

    out = make_student_notebook(nbformat.read(source, as_version=4), source.name)
    path = tmp_path / source.name
    nbformat.write(out, path)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(FIXTURES), env.get("PYTHONPATH", "")])
    env["MPLBACKEND"] = "Agg"
    client = NotebookClient(out, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=env)  # raises CellExecutionError on the first error
    checks = [c for c in out.cells if c.cell_type == "code" and student.CHECK_CALL.search(c.source)]
    assert len(checks) == len(student.exercise_ids_in(out))
    for cell in checks:
        text = "".join(o.get("data", {}).get("text/plain", "") for o in cell.outputs)
        assert "not attempted yet" in text, (cell.source, text)
