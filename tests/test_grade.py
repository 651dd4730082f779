"""Batch grading: a folder of returned notebooks gives exactly the expected CSV.

The fixtures (tests/fixtures/grading) come from a small demo notebook, not from the
chapters, so editing a chapter never changes them. Seven students: correct, partial,
raising, hanging, kernel-killing, sys.exit with deleted cells, and one whose kernel
ignores interrupts (stopped by the total time limit). Rebuild them with
``tests/fixtures/grading/make_fixtures.py``; ``expected_grades.csv`` and the expected
exports (``expected_totals.csv``, ``expected_canvas.csv``, ``expected_moodle.csv``) are
written by hand.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from nnlib import grade

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "grading"
SUBMISSIONS = FIXTURES / "submissions"
sys.path.insert(0, str(FIXTURES))
import demo_checks  # noqa: E402,F401
import make_fixtures  # noqa: E402


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*"))}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Run the real command once: 2 jobs, short limits (cell 2 s, total 15 s, check 0.5 s)."""
    out = tmp_path_factory.mktemp("grading") / "grades.csv"
    before = _digest(SUBMISSIONS)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(FIXTURES), env.get("PYTHONPATH", "")])
    env.pop("NNLIB_GRADE_LOG", None)
    proc = subprocess.run(
        [sys.executable, "-m", "nnlib.grade", str(SUBMISSIONS), "--out", str(out), "--jobs", "2",
         "--timeout-cell", "2", "--timeout-total", "15", "--timeout-check", "0.5",
         "--export", "totals", "canvas", "moodle"],
        env=env, cwd=str(ROOT), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return {"proc": proc, "out": out, "before": before}


def test_grading_produces_exactly_the_expected_csv(graded):
    proc = graded["proc"]
    assert proc.returncode == 0, proc.stderr
    expected = (FIXTURES / "expected_grades.csv").read_text(encoding="utf-8")
    assert graded["out"].read_text(encoding="utf-8") == expected


@pytest.mark.parametrize("export", ["totals", "canvas", "moodle"])
def test_each_export_is_exactly_the_expected_file(graded, export):
    """Per-student totals, and the Canvas and Moodle gradebook imports (see nnlib/grade/exports.py)."""
    written = graded["out"].with_name(f"grades_{export}.csv")
    assert written.read_bytes() == (FIXTURES / f"expected_{export}.csv").read_bytes()


def test_submissions_are_never_modified(graded):
    assert _digest(SUBMISSIONS) == graded["before"]


def test_progress_goes_to_stderr(graded):
    lines = [line for line in graded["proc"].stderr.splitlines() if line.startswith("[")]
    assert len(lines) == 7
    assert any("alice_correct" in line and "4/4 points" in line for line in lines)
    assert graded["proc"].stdout == ""


def test_feedback_file_per_student(graded):
    folder = graded["out"].with_name("grades_feedback")
    files = sorted(p.name for p in folder.iterdir())
    assert files == sorted(p.stem + ".md" for p in SUBMISSIONS.glob("*.ipynb"))
    alice = (folder / "alice_correct.md").read_text(encoding="utf-8")
    assert "**Total: 4 / 4 points**" in alice and "## demo.row_sums: 2 / 2" in alice
    erin = (folder / "erin_kernel_killing.md").read_text(encoding="utf-8")
    assert "**Total: 1 / 4 points**" in erin and "the kernel died while running cell 8" in erin
    gina = (folder / "gina_ignores_interrupts.md").read_text(encoding="utf-8")
    assert "grading stopped at the total time limit of 15 s (cell" in gina  # the notes name the cell


def test_fixtures_are_up_to_date():
    """The committed fixtures are what make_fixtures.py builds from the demo notebook."""
    source = make_fixtures.source_notebook()
    assert source == nbformat.read(FIXTURES / "demo_source.ipynb", as_version=4)
    student_nb = nbformat.read(FIXTURES / "demo_source.ipynb", as_version=4)
    from nnlib.student import make_student_notebook

    built = make_fixtures.submissions(make_student_notebook(student_nb, "demo_source.ipynb"))
    assert sorted(built) == sorted(p.stem for p in SUBMISSIONS.glob("*.ipynb"))
    for name, nb in built.items():
        assert nb == nbformat.read(SUBMISSIONS / f"{name}.ipynb", as_version=4), name


# --- pieces, without kernels -------------------------------------------------------------------------


def test_discover_names_students_by_folder_or_file(tmp_path):
    for rel in ["bob.ipynb", "alice/ch1.ipynb", "alice/ch2.ipynb", "alice/.ipynb_checkpoints/ch1-checkpoint.ipynb"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")
    found = [(s, p.relative_to(tmp_path).as_posix()) for s, p in grade.discover(tmp_path)]
    assert found == [("alice", "alice/ch1.ipynb"), ("alice", "alice/ch2.ipynb"), ("bob", "bob.ipynb")]


def test_an_unreadable_notebook_gets_zero_with_the_reason(tmp_path):
    bad = tmp_path / "carl.ipynb"
    bad.write_text("not a notebook")
    report = grade.grade_notebook("carl", str(bad), expected={"demo.double": 1.0, "demo.answer": 1.0})
    rows = grade.rows_for([report])
    assert [(r["exercise"], r["points"]) for r in rows] == [("demo.double", 0.0), ("demo.answer", 0.0)]
    assert all("could not be read" in r["message"] for r in rows)


def test_log_points_are_not_trusted_and_best_result_counts():
    entries = [
        {"exercise": "demo.double", "status": "incorrect", "points": 99, "detail": "first try"},
        {"exercise": "demo.double", "status": "correct", "points": 99, "detail": "All 3 tests passed."},
        {"exercise": "demo.double", "status": "incorrect", "points": 0, "detail": "later experiment"},
        {"exercise": "demo.answer", "status": "incorrect", "points": 1000, "detail": "no"},
        {"exercise": "not.expected", "status": "correct", "points": 5},
        {"nonsense": True},
    ]
    best = grade.best_results(entries, {"demo.double": 1.0, "demo.answer": 1.0})
    assert best == {
        "demo.double": {"status": "correct", "points": 1.0, "message": "correct: All 3 tests passed."},
        "demo.answer": {"status": "incorrect", "points": 0.0, "message": "incorrect: no"},
    }


def test_malformed_log_lines_are_skipped(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text('{"exercise": "demo.double", "status": "correct"}\nnot json\n[1, 2]\n\n')
    assert grade.read_log(log) == [{"exercise": "demo.double", "status": "correct"}]
    assert grade.read_log(tmp_path / "missing.jsonl") == []


def test_expected_exercises_from_metadata_or_chapter():
    nb = nbformat.read(SUBMISSIONS / "alice_correct.ipynb", as_version=4)
    assert grade.expected_from_metadata(nb) == {"demo.double": 1.0, "demo.row_sums": 2.0, "demo.answer": 1.0}
    nb.metadata.pop("nnlib")
    assert grade.expected_from_metadata(nb) is None
    ch1 = grade.resolve_exercises(["ch1"])
    assert list(ch1)[:2] == ["ch1.mse_gradient", "ch1.gradient_descent"] and ch1["ch1.mse_gradient"] == 2.0
    assert grade.resolve_exercises(["demo.row_sums"]) == {"demo.row_sums": 2.0}
    with pytest.raises(ValueError, match="no exercises"):
        grade.resolve_exercises(["ch99"])


def test_rows_merge_notebooks_of_one_student():
    def report(notebook, results):
        return {
            "student": "ann",
            "notebook": notebook,
            "expected": {"demo.double": 1.0, "demo.answer": 1.0},
            "results": results,
            "reasons": {"demo.double": "not checked: x", "demo.answer": "not checked: y"},
            "notes": [],
            "seconds": 0.0,
        }

    correct = {"status": "correct", "points": 1.0, "message": "correct: ok"}
    rows = grade.rows_for([report("a.ipynb", {"demo.double": correct}), report("b.ipynb", {})])
    assert [(r["exercise"], r["points"], r["message"]) for r in rows] == [
        ("demo.double", 1.0, "correct: ok"),
        ("demo.answer", 0.0, "not checked: y"),
    ]


def _row(student, exercise, points, max_points):
    return {"student": student, "exercise": exercise, "points": points, "max_points": max_points, "message": ""}


def test_exports_total_each_chapter_in_order(tmp_path):
    """Chapters in numeric order; a chapter a student has no notebook for is blank in the LMS files."""
    rows = [
        _row("bo", "ch10.a", 1.0, 2.0),
        _row("bo", "ch2.a", 0.5, 1.0),
        _row("bo", "ch2.b", 1.0, 1.0),
        _row("al", "ch2.a", 1.0, 1.0),
    ]
    out = tmp_path / "g.csv"
    grade.write_exports(rows, out, ["totals", "canvas", "moodle"])
    assert (tmp_path / "g_totals.csv").read_text() == (
        "student,points,maximum,percent,ch2_points,ch2_maximum,ch10_points,ch10_maximum\n"
        "al,1,1,100.0,1,1,0,0\n"
        "bo,2.5,4,62.5,1.5,2,1,2\n"
    )
    assert (tmp_path / "g_canvas.csv").read_text() == (
        "Student,ID,SIS User ID,SIS Login ID,Section,ch2,ch10\n"
        "Points Possible,,,,,2,2\n"
        "al,,,al,,1,\n"
        "bo,,,bo,,1.5,1\n"
    )
    assert (tmp_path / "g_moodle.csv").read_text() == "username,ch2,ch10\nal,1,\nbo,1.5,1\n"


def test_list_prints_every_exercise_with_chapter_points_and_title(capsys):
    from nnlib.checks import registry

    assert grade.main(["--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["exercise", "chapter", "points", "title"]
    exercises = registry()
    assert len(lines) == len(exercises) + 2
    for line, ex in zip(lines[1:], exercises.values(), strict=False):
        assert line.split(None, 3) == [ex.id, ex.chapter, f"{ex.points:g}", ex.title]
    assert lines[-1] == f"{len(exercises)} exercises, {sum(e.points for e in exercises.values()):g} points"


def test_cli_rejects_a_missing_folder(tmp_path, capsys):
    assert grade.main([str(tmp_path / "nope")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert grade.main([str(tmp_path)]) == 2
    assert "no .ipynb files" in capsys.readouterr().err


def test_metadata_written_by_the_student_command_is_json_list():
    """Exercise order survives JSON writers that sort dict keys."""
    text = (SUBMISSIONS / "alice_correct.ipynb").read_text(encoding="utf-8")
    info = json.loads(text)["metadata"]["nnlib"]["student_notebook"]
    assert info["exercises"] == [["demo.double", 1.0], ["demo.row_sums", 2.0], ["demo.answer", 1.0]]


def test_cells_tagged_grade_skip_are_not_run_unless_they_check(tmp_path, monkeypatch):
    """A tagged drawing cell is left out (cell numbers unchanged); a tagged check cell still runs."""
    nb = nbformat.read(SUBMISSIONS / "alice_correct.ipynb", as_version=4)
    drawing = nbformat.v4.new_code_cell("raise RuntimeError('this cell only draws')")
    drawing.metadata["tags"] = [grade.SKIP_TAG]
    nb.cells.insert(2, drawing)
    check_cell = next(i for i, c in enumerate(nb.cells) if 'check("demo.double"' in c.source)
    nb.cells[check_cell].metadata["tags"] = [grade.SKIP_TAG]
    nb.cells.insert(len(nb.cells), nbformat.v4.new_code_cell("1 / 0"))  # untagged: runs and raises
    path = tmp_path / "ann.ipynb"
    nbformat.write(nb, path)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), str(FIXTURES)]))
    monkeypatch.delenv("NNLIB_GRADE_LOG", raising=False)
    report = grade.grade_notebook("ann", str(path), timeout_cell=30, timeout_total=120)
    assert sum(r["points"] for r in report["results"].values()) == 4.0
    assert report["notes"] == [f"cell {len(nb.cells)} raised ZeroDivisionError: division by zero"]
    assert nbformat.read(path, as_version=4) == nb  # the submission keeps its cells


def test_a_broken_cell_over_an_nnlib_import_earns_no_points(tmp_path, monkeypatch):
    """Regression: the notebook imports nnlib's sigmoid_prime and the learner's own cell has a
    syntax error, so the name is still nnlib's function; grading gives 0 and says why, in plain
    text (no code marks in the CSV message)."""
    cells = [
        "from nnlib.activations import sigmoid_prime\nfrom nnlib.checks import check",
        "def sigmoid_prime(z)\n    return z",
        'check("ch3.sigmoid_prime", sigmoid_prime)',
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "ivan.ipynb"
    nbformat.write(nb, path)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), str(FIXTURES)]))
    monkeypatch.delenv("NNLIB_GRADE_LOG", raising=False)
    report = grade.grade_notebook(
        "ivan", str(path), expected={"ch3.sigmoid_prime": 1.0}, timeout_cell=30, timeout_total=120
    )
    (row,) = grade.rows_for([report])
    assert row["points"] == 0.0
    assert row["message"].startswith("incorrect: This is nnlib's own sigmoid_prime")
    assert "not yours" in row["message"] and "`" not in row["message"]
