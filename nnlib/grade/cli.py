"""The command: ``python -m nnlib.grade`` (see the package docstring)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from nnlib.checks._runner import DEFAULT_TIME_LIMIT
from nnlib.grade.catalog import format_table
from nnlib.grade.collect import rows_for
from nnlib.grade.execute import DEFAULT_TIMEOUT_CELL, DEFAULT_TIMEOUT_TOTAL
from nnlib.grade.exports import EXPORTS, write_exports
from nnlib.grade.find import discover, resolve_exercises
from nnlib.grade.reports import feedback_dir_for, write_csv, write_feedback
from nnlib.grade.run import grade_all, grade_on_dask


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m nnlib.grade", description="Grade returned notebooks into a CSV.")
    p.add_argument("submissions", type=Path, nargs="?", help="folder of returned notebooks")
    p.add_argument("--list", action="store_true", help="print every exercise (id, chapter, points, title) and stop")
    p.add_argument("--out", type=Path, default=Path("grades.csv"), help="CSV to write (default grades.csv)")
    p.add_argument(
        "--export",
        nargs="*",
        choices=EXPORTS,
        default=["totals"],
        metavar="NAME",
        help="also write <out stem>_NAME.csv for each NAME: totals, canvas, moodle (default: totals)",
    )
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel kernels on this machine")
    p.add_argument(
        "--scheduler", metavar="tcp://HOST:8786", help="grade on this Dask scheduler's workers instead of locally"
    )
    p.add_argument(
        "--timeout-cell",
        type=float,
        default=DEFAULT_TIMEOUT_CELL,
        help=f"seconds one cell may run before it is interrupted (default {DEFAULT_TIMEOUT_CELL:g})",
    )
    p.add_argument(
        "--timeout-total",
        type=float,
        default=DEFAULT_TIMEOUT_TOTAL,
        help=f"seconds one notebook may run in all (default {DEFAULT_TIMEOUT_TOTAL:g})",
    )
    p.add_argument(
        "--timeout-check",
        type=float,
        default=DEFAULT_TIME_LIMIT,
        help=f"seconds one check() may run learner code (default {DEFAULT_TIME_LIMIT:g})",
    )
    p.add_argument(
        "--exercises",
        nargs="+",
        metavar="ID",
        default=None,
        help="expected exercises: ids or whole chapters (ch1); default: the notebook's record",
    )
    return p


def print_progress(done: int, total: int, report: dict) -> None:
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
    args = parser().parse_args(argv)
    if args.list:
        sys.stdout.write(format_table())
        return 0
    if args.submissions is None:
        print("error: name the folder of returned notebooks (or use --list)", file=sys.stderr)
        return 2
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
    options = {
        "timeout_cell": args.timeout_cell,
        "timeout_total": args.timeout_total,
        "timeout_check": args.timeout_check,
        "expected": expected,
    }
    if args.scheduler:
        print(f"grading {len(submissions)} notebooks on the Dask cluster at {args.scheduler}", file=sys.stderr)
        try:
            reports = grade_on_dask(submissions, args.scheduler, progress=print_progress, **options)
        except OSError as exc:  # no scheduler there (Dask raises OSError on a connection timeout)
            print(f"error: cannot reach the Dask scheduler {args.scheduler}: {exc}", file=sys.stderr)
            return 2
    else:
        print(f"grading {len(submissions)} notebooks with {args.jobs} jobs", file=sys.stderr)
        reports = grade_all(submissions, jobs=args.jobs, progress=print_progress, **options)
    rows = rows_for(reports)
    write_csv(rows, args.out)
    feedback = feedback_dir_for(args.out)
    write_feedback(rows, reports, feedback)
    extra = write_exports(rows, args.out, args.export or [])
    also = "".join(f", {p}" for p in extra)
    print(f"wrote {args.out} ({len(rows)} rows){also} and {feedback}/", file=sys.stderr)
    return 0
