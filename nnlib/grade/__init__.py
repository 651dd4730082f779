"""Grade returned notebooks.

    python -m nnlib.grade SUBMISSIONS_DIR --out grades.csv [--jobs N | --scheduler tcp://HOST:8786]
        [--export totals canvas moodle] [--timeout-cell S] [--timeout-total S]
        [--timeout-check S] [--exercises ch1 ...]

    python -m nnlib.grade --list

Every ``.ipynb`` under ``SUBMISSIONS_DIR`` is one submission. The student is the name
of the sub-folder it sits in (``SUBMISSIONS_DIR/alice/01_gradient_descent.ipynb``), or
the file name without ``.ipynb`` for a notebook at the top level.

Each submission runs in a temporary folder from top to bottom in its own fresh kernel
(nbclient), continuing after cell errors; code cells tagged ``grade-skip`` that call no
check are not run. Every ``check(...)`` it runs appends its result to a log
(``NNLIB_GRADE_LOG``); the grader reads that log. A cell that runs longer than
``--timeout-cell`` is interrupted and execution continues; after ``--timeout-total``
the kernel is shut down. A kernel that dies (``os._exit``, a kill) ends that submission.
Whatever happens, every expected exercise gets a row; one that could not be checked
gets 0 points and the reason. The submission itself is never modified.

The expected exercises are those recorded in the notebook's metadata by
``python -m nnlib.student``, or, with ``--exercises``, the given ids or chapters
(``--exercises ch1`` = every exercise of Chapter 1; recommended, see the trust model on
the instructors page).

Writes ``--out`` (CSV: student, exercise, points, max_points, message), one markdown
feedback file per student in ``<out stem>_feedback/`` and each ``--export`` as
``<out stem>_<name>.csv`` beside it. With ``--scheduler`` every submission is a task
on a Dask cluster instead of a local process; the results are the same.

The steps are modules of their own: :mod:`~nnlib.grade.find` (submissions and expected
exercises), :mod:`~nnlib.grade.execute` (one submission in one kernel),
:mod:`~nnlib.grade.collect` (results and rows), :mod:`~nnlib.grade.reports` and
:mod:`~nnlib.grade.exports` (files), :mod:`~nnlib.grade.run` (locally or on Dask) and
:mod:`~nnlib.grade.cli` (the command).
"""

from nnlib.grade.catalog import exercise_table, format_table
from nnlib.grade.cli import main
from nnlib.grade.collect import best_results, read_log, rows_for
from nnlib.grade.execute import SKIP_TAG, grade_notebook, grade_source
from nnlib.grade.exports import EXPORTS, write_exports
from nnlib.grade.find import discover, expected_from_metadata, resolve_exercises
from nnlib.grade.reports import FIELDS, feedback_dir_for, write_csv, write_feedback
from nnlib.grade.run import grade_all, grade_on_dask

__all__ = [
    "EXPORTS",
    "FIELDS",
    "SKIP_TAG",
    "best_results",
    "discover",
    "exercise_table",
    "expected_from_metadata",
    "feedback_dir_for",
    "format_table",
    "grade_all",
    "grade_notebook",
    "grade_on_dask",
    "grade_source",
    "main",
    "read_log",
    "resolve_exercises",
    "rows_for",
    "write_csv",
    "write_exports",
    "write_feedback",
]
