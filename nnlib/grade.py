"""Grade returned notebooks.

    python -m nnlib.grade SUBMISSIONS_DIR --out grades.csv [--jobs N]
        [--timeout-cell S] [--timeout-total S] [--exercises ch1 ...]

Every ``.ipynb`` under ``SUBMISSIONS_DIR`` is one submission. The student is the name
of the sub-folder it sits in (``SUBMISSIONS_DIR/alice/01_gradient_descent.ipynb``), or
the file name without ``.ipynb`` for a notebook at the top level.

Each submission is copied to a temporary folder and run there from top to bottom in its
own fresh kernel (nbclient), continuing after cell errors. Every ``check(...)`` it runs
appends its result to a log (``NNLIB_GRADE_LOG``); the grader reads that log. A cell
that runs longer than ``--timeout-cell`` is interrupted and execution continues; after
``--timeout-total`` the kernel is shut down. A kernel that dies (``os._exit``, a kill)
ends that submission. Whatever happens, every expected exercise gets a row; one that
could not be checked gets 0 points and the reason. The submission itself is never
modified.

The expected exercises are those recorded in the notebook's metadata by
``python -m nnlib.student``, or, with ``--exercises``, the given ids or chapters
(``--exercises ch1`` = every exercise of Chapter 1; recommended, see the trust model on
the instructors page).

Writes ``--out`` (CSV: student, exercise, points, max_points, message) and one markdown
feedback file per student in ``<out stem>_feedback/`` beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

import nbformat

from nnlib.checks._runner import DEFAULT_TIME_LIMIT, GRADE_LOG_ENV
from nnlib.student import CHECK_CALL, generated_info

FIELDS = ("student", "exercise", "points", "max_points", "message")
DEFAULT_TIMEOUT_CELL = 120.0
DEFAULT_TIMEOUT_TOTAL = 900.0
_REPO_ROOT = str(Path(__file__).resolve().parent.parent)  # the folder holding nnlib/


# --- finding submissions --------------------------------------------------------------------


def discover(submissions_dir: Path) -> list[tuple[str, Path]]:
    """``(student, notebook path)`` for every notebook under ``submissions_dir``, sorted."""
    found = []
    for path in sorted(submissions_dir.rglob("*.ipynb")):
        rel = path.relative_to(submissions_dir)
        if any(part.startswith(".") for part in rel.parts):  # .ipynb_checkpoints and the like
            continue
        student = rel.parts[0] if len(rel.parts) > 1 else path.stem
        found.append((student, path))
    return found


def expected_from_metadata(nb) -> dict[str, float] | None:
    """{exercise id: max points}, in notebook order, as recorded by nnlib.student; None if absent."""
    exercises = generated_info(nb).get("exercises")
    if not isinstance(exercises, list):
        return None
    out = {}
    for item in exercises:
        if not (isinstance(item, list) and len(item) == 2):
            continue
        key, value = item
        if isinstance(key, str) and isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            out[key] = float(value)
    return out or None


def resolve_exercises(specs: list[str]) -> dict[str, float]:
    """``["ch1", "ch2.x"]`` -> {id: max points} for whole chapters and single ids."""
    from nnlib.checks import exercise_ids
    from nnlib.checks._registry import get_exercise

    out: dict[str, float] = {}
    for spec in specs:
        ids = [spec] if "." in spec else exercise_ids(spec)
        if not ids:
            raise ValueError(f"--exercises {spec}: no exercises registered for {spec!r}")
        for exercise_id in ids:
            out[exercise_id] = get_exercise(exercise_id).points
    return out


# --- running one submission -----------------------------------------------------------------


def grade_notebook(
    student: str,
    path: str,
    *,
    timeout_cell: float = DEFAULT_TIMEOUT_CELL,
    timeout_total: float = DEFAULT_TIMEOUT_TOTAL,
    timeout_check: float = DEFAULT_TIME_LIMIT,
    expected: dict[str, float] | None = None,
) -> dict:
    """Run one submission and return a plain dict (picklable across processes).

    Keys: student, notebook, expected {id: max}, results {id: log entry}, reasons
    {id: why it has no result}, notes [notebook-level remarks], seconds.
    """
    started = time.monotonic()
    report = {
        "student": student,
        "notebook": Path(path).name,
        "expected": dict(expected or {}),
        "results": {},
        "reasons": {},
        "notes": [],
        "seconds": 0.0,
    }
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:
        reason = f"the notebook could not be read ({type(exc).__name__}); nothing was run"
        report["notes"].append(reason)
        report["reasons"] = {i: reason for i in report["expected"]}
        return report

    if not report["expected"]:
        from_meta = expected_from_metadata(nb)
        if from_meta is None:
            report["notes"].append(
                "the notebook has no record of its exercises (metadata removed?); grading the checks found in its cells"
            )
            from_meta = _points_for(_check_cells(nb))
        report["expected"] = from_meta

    with tempfile.TemporaryDirectory(prefix="nnlib-grade-") as tmp:
        work = Path(tmp)
        log = work / "checks.jsonl"
        copy_path = work / "submission.ipynb"
        nbformat.write(nb, copy_path)  # the kernel only ever sees this copy
        nb_copy = nbformat.read(copy_path, as_version=4)
        outcome = asyncio.run(_execute(nb_copy, work, _kernel_env(log, timeout_check), timeout_cell, timeout_total))
        entries = _read_log(log)

    report["results"] = _best_results(entries, report["expected"])
    report["reasons"] = _missing_reasons(nb_copy, report, outcome)
    report["notes"].extend(f"cell {i + 1} raised {error}" for i, error in sorted(outcome["cell_errors"].items()))
    if outcome["failure"]:
        report["notes"].append(outcome["failure"] + outcome["where"])
    report["seconds"] = round(time.monotonic() - started, 1)
    return report


def _kernel_env(log: Path, timeout_check: float) -> dict[str, str]:
    env = dict(os.environ)
    env["NNLIB_CHECK_TIME_LIMIT"] = f"{timeout_check:g}"
    env[GRADE_LOG_ENV] = str(log)
    # the kernel runs in a temporary folder: make every import path absolute
    paths = [_REPO_ROOT] + [os.path.abspath(p) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["MPLBACKEND"] = "Agg"
    return env


async def _execute(nb, work: Path, env: dict, timeout_cell: float, timeout_total: float) -> dict:
    """Run ``nb`` in a new kernel.

    Returns {"failure": why it stopped early or "", "where": which cell was running,
    "stopped_at": that cell's index or None, "cell_errors": {cell index: "Name: message"}}.
    """
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    quiet = logging.getLogger("nnlib.grade.nbclient")
    quiet.setLevel(logging.CRITICAL)
    current = {"cell": None}
    cell_errors: dict[int, str] = {}

    def on_cell_execute(cell, cell_index, **_):
        current["cell"] = cell_index

    def on_cell_error(cell, cell_index, execute_reply, **_):
        content = execute_reply.get("content", {})
        cell_errors[cell_index] = _one_line(f"{content.get('ename', 'Error')}: {content.get('evalue', '')}")

    km = AsyncKernelManager(kernel_name="python3")
    client = NotebookClient(
        nb,
        km=km,
        kernel_name="python3",
        timeout=max(1, round(timeout_cell)),
        interrupt_on_timeout=True,
        error_on_timeout={
            "ename": "CellTimeout",
            "evalue": f"the cell ran longer than {timeout_cell:g} s and was interrupted",
            "traceback": [],
        },
        allow_errors=True,
        record_timing=False,
        startup_timeout=120,
        iopub_timeout=4,
        resources={"metadata": {"path": str(work)}},
        on_cell_execute=on_cell_execute,
        on_cell_error=on_cell_error,
        log=quiet,
    )
    failure, stopped_at, where = "", None, ""
    run = asyncio.ensure_future(
        client.async_execute(env=env, cwd=str(work), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    )
    try:
        done, _ = await asyncio.wait({run}, timeout=timeout_total)
        if not done:  # nbclient turns the cancellation into DeadKernelError: decide here
            stopped_at = current["cell"]
            failure = f"grading stopped at the total time limit of {timeout_total:g} s"
            if stopped_at is not None:  # which cell depends on timing, so it stays out of the CSV
                where = f" (cell {stopped_at + 1} was running)"
            run.cancel()
            await asyncio.gather(run, return_exceptions=True)
        else:
            run.result()
    except DeadKernelError:
        stopped_at = current["cell"]
        failure = "the kernel died" + (
            f" while running cell {stopped_at + 1} (it ended Python, e.g. with os._exit, quit() or a crash)"
            if stopped_at is not None
            else " while starting"
        )
    except Exception as exc:
        stopped_at = current["cell"]
        failure = f"the notebook could not be run to the end ({type(exc).__name__}: {exc})"
    finally:
        await _shutdown(km, client)
    return {
        "failure": failure,
        "where": where,
        "stopped_at": stopped_at,
        "cell_errors": cell_errors,
    }


async def _shutdown(km, client) -> None:
    try:
        if client.kc is not None:
            client.kc.stop_channels()
    except Exception:
        pass
    try:
        if km.has_kernel:
            await km.shutdown_kernel(now=True)
    except Exception:
        pass
    try:
        await km.cleanup_resources()
    except Exception:
        pass


# --- reading what happened -------------------------------------------------------------------


def _read_log(log: Path) -> list[dict]:
    entries = []
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return entries
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("exercise"), str):
            entries.append(entry)
    return entries


def _best_results(entries: list[dict], expected: dict[str, float]) -> dict[str, dict]:
    """Per expected exercise: the first correct result, else the last one.

    Points are recomputed from the status and the expected maximum, never taken from
    the log.
    """
    best: dict[str, dict] = {}
    for entry in entries:
        exercise_id = entry.get("exercise")
        if exercise_id not in expected:
            continue
        status = entry.get("status") if isinstance(entry.get("status"), str) else "error"
        detail = _one_line(entry.get("detail", ""))
        result = {
            "status": status,
            "points": expected[exercise_id] if status == "correct" else 0.0,
            "message": f"{status}: {detail}" if detail else status,
        }
        if best.get(exercise_id, {}).get("status") != "correct":
            best[exercise_id] = result
    return best


def _check_cells(nb) -> dict[str, int]:
    """{exercise id: index of the last code cell calling check(id, ...)}."""
    cells = {}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            for m in CHECK_CALL.finditer(cell.source):
                cells[m.group(2)] = i
    return cells


def _points_for(cells: dict[str, int]) -> dict[str, float]:
    from nnlib.checks._registry import get_exercise

    out = {}
    for exercise_id in cells:
        try:
            out[exercise_id] = get_exercise(exercise_id).points
        except Exception:
            continue
    return out


def _missing_reasons(nb, report: dict, outcome: dict) -> dict[str, str]:
    """Why each expected exercise without a logged result has none.

    Deterministic on purpose: it depends on what the cells did, not on timing.
    """
    cells = _check_cells(nb)
    errors = outcome["cell_errors"]
    reasons = {}
    for exercise_id in report["expected"]:
        if exercise_id in report["results"]:
            continue
        index = cells.get(exercise_id)
        error = errors.get(index, "") if index is not None else ""
        if index is None:
            reasons[exercise_id] = (
                "not checked: the notebook has no check for this exercise (its check cell was deleted or changed)"
            )
        elif error and not error.startswith("CellTimeout"):
            reasons[exercise_id] = f"not checked: its check cell (cell {index + 1}) failed with {error}"
        elif outcome["failure"]:
            reasons[exercise_id] = f"not checked: {outcome['failure']}"
        elif error:
            reasons[exercise_id] = f"not checked: its check cell (cell {index + 1}) failed with {error}"
        else:
            reasons[exercise_id] = f"not checked: its check cell (cell {index + 1}) ran but reported no result"
    return reasons


def _one_line(text) -> str:
    return " ".join(str(text).split())


# --- rows, CSV and feedback ---------------------------------------------------------------------


def rows_for(reports: list[dict]) -> list[dict]:
    """CSV rows: one per (student, expected exercise), students sorted, exercises in order."""
    by_student: dict[str, dict[str, dict]] = {}
    for report in sorted(reports, key=lambda r: (r["student"], r["notebook"])):
        rows = by_student.setdefault(report["student"], {})
        for exercise_id, max_points in report["expected"].items():
            result = report["results"].get(exercise_id)
            if result is not None:
                row = {
                    "points": result["points"],
                    "message": result["message"],
                    "status": result["status"],
                }
            else:
                reason = report["reasons"].get(exercise_id, "not checked")
                row = {"points": 0.0, "message": reason, "status": "not checked"}
            row.update(student=report["student"], exercise=exercise_id, max_points=max_points)
            old = rows.get(exercise_id)
            if old is None or row["points"] > old["points"]:
                rows[exercise_id] = row
    return [row for student in sorted(by_student) for row in by_student[student].values()]


def write_csv(rows: list[dict], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(FIELDS)
        for r in rows:
            writer.writerow([r["student"], r["exercise"], f"{r['points']:g}", f"{r['max_points']:g}", r["message"]])


def feedback_dir_for(out: Path) -> Path:
    return out.with_name(out.stem + "_feedback")


def write_feedback(rows: list[dict], reports: list[dict], folder: Path) -> None:
    """One markdown file per student: total, each exercise's result, notebook notes."""
    folder.mkdir(parents=True, exist_ok=True)
    for student in sorted({r["student"] for r in rows} | {r["student"] for r in reports}):
        mine = [r for r in rows if r["student"] == student]
        total = sum(r["points"] for r in mine)
        possible = sum(r["max_points"] for r in mine)
        lines = [f"# Feedback for {student}", "", f"**Total: {total:g} / {possible:g} points**", ""]
        for r in mine:
            lines += [f"## {r['exercise']}: {r['points']:g} / {r['max_points']:g}", "", r["message"], ""]
        notes = [
            (report["notebook"], note)
            for report in sorted(reports, key=lambda x: x["notebook"])
            if report["student"] == student
            for note in report["notes"]
        ]
        if notes:
            lines += ["## Notes from running your notebook", ""]
            lines += [f"- {name}: {note}" for name, note in notes]
            lines.append("")
        (folder / f"{_safe_name(student)}.md").write_text("\n".join(lines), encoding="utf-8")


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "student"


# --- the command ------------------------------------------------------------------------------


def grade_all(
    submissions: list[tuple[str, Path]],
    *,
    jobs: int = 1,
    timeout_cell: float = DEFAULT_TIMEOUT_CELL,
    timeout_total: float = DEFAULT_TIMEOUT_TOTAL,
    timeout_check: float = DEFAULT_TIME_LIMIT,
    expected: dict[str, float] | None = None,
    progress=None,
) -> list[dict]:
    """Grade every submission, ``jobs`` at a time; a failure in one never stops the rest."""
    kwargs = {
        "timeout_cell": timeout_cell,
        "timeout_total": timeout_total,
        "timeout_check": timeout_check,
        "expected": expected,
    }
    reports = []
    progress = progress or (lambda done, total, report: None)
    # fork (Linux) starts workers at once with everything imported; spawn elsewhere
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    with ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=get_context(method)) as pool:
        futures = {
            pool.submit(grade_notebook, student, str(path), **kwargs): (student, path) for student, path in submissions
        }
        for done, future in enumerate(as_completed(futures), start=1):
            student, path = futures[future]
            try:
                report = future.result()
            except Exception as exc:  # the worker itself failed: record it, keep going
                note = f"grading failed ({type(exc).__name__}: {exc})"
                report = {
                    "student": student,
                    "notebook": path.name,
                    "expected": dict(expected or {}),
                    "results": {},
                    "reasons": {i: f"not checked: {note}" for i in (expected or {})},
                    "notes": [note],
                    "seconds": 0.0,
                }
            reports.append(report)
            progress(done, len(futures), report)
    return reports


def _print_progress(done: int, total: int, report: dict) -> None:
    got = sum(r["points"] for r in report["results"].values())
    possible = sum(report["expected"].values())
    problem = f" - {report['notes'][0]}" if report["notes"] else ""
    print(
        f"[{done}/{total}] {report['student']}/{report['notebook']}: {got:g}/{possible:g} points "
        f"({report['seconds']:.0f} s){problem}",
        file=sys.stderr,
        flush=True,
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nnlib.grade", description="Grade returned notebooks into a CSV.")
    parser.add_argument("submissions", type=Path, help="folder of returned notebooks")
    parser.add_argument("--out", type=Path, default=Path("grades.csv"), help="CSV to write")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel kernels")
    parser.add_argument(
        "--timeout-cell",
        type=float,
        default=DEFAULT_TIMEOUT_CELL,
        help=f"seconds one cell may run before it is interrupted (default {DEFAULT_TIMEOUT_CELL:g})",
    )
    parser.add_argument(
        "--timeout-total",
        type=float,
        default=DEFAULT_TIMEOUT_TOTAL,
        help=f"seconds one notebook may run in all (default {DEFAULT_TIMEOUT_TOTAL:g})",
    )
    parser.add_argument(
        "--timeout-check",
        type=float,
        default=DEFAULT_TIME_LIMIT,
        help=f"seconds one check() may run learner code (default {DEFAULT_TIME_LIMIT:g})",
    )
    parser.add_argument(
        "--exercises",
        nargs="+",
        metavar="ID",
        default=None,
        help="expected exercises: ids or whole chapters (ch1); default: the notebook's record",
    )
    args = parser.parse_args(argv)
    if not args.submissions.is_dir():
        print(f"error: {args.submissions} is not a folder", file=sys.stderr)
        return 2
    try:
        expected = resolve_exercises(args.exercises) if args.exercises else None
    except Exception as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    submissions = discover(args.submissions)
    if not submissions:
        print(f"error: no .ipynb files under {args.submissions}", file=sys.stderr)
        return 2
    print(f"grading {len(submissions)} notebooks with {args.jobs} jobs", file=sys.stderr)
    reports = grade_all(
        submissions,
        jobs=args.jobs,
        timeout_cell=args.timeout_cell,
        timeout_total=args.timeout_total,
        timeout_check=args.timeout_check,
        expected=expected,
        progress=_print_progress,
    )
    rows = rows_for(reports)
    write_csv(rows, args.out)
    feedback = feedback_dir_for(args.out)
    write_feedback(rows, reports, feedback)
    print(f"wrote {args.out} ({len(rows)} rows) and {feedback}/", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
