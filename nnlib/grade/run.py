"""Step 5: grade every submission, on this machine or on a Dask cluster.

Both ways call :func:`nnlib.grade.execute.grade_source` once per submission, each in a
fresh kernel, so they give the same reports. A failure in one never stops the rest.
"""

from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

from nnlib.grade.execute import grade_notebook, grade_source, new_report

#: How often Dask re-runs a task that raised; a task whose worker died is rescheduled by
#: the scheduler itself (``distributed.scheduler.allowed-failures``, default 3).
DASK_RETRIES = 2


def _failed(student: str, path: Path, expected: dict | None, exc: BaseException) -> dict:
    """The report of a submission whose grading itself failed (not the learner's code)."""
    note = f"grading failed ({type(exc).__name__}: {exc})"
    report = new_report(student, path.name, expected)
    report["reasons"] = {i: f"not checked: {note}" for i in report["expected"]}
    report["notes"] = [note]
    return report


def grade_all(submissions: list[tuple[str, Path]], *, jobs: int = 1, progress=None, **options) -> list[dict]:
    """Grade every submission on this machine, ``jobs`` kernels at a time.

    ``options``: timeout_cell, timeout_total, timeout_check, expected (see grade_source).
    """
    progress = progress or (lambda done, total, report: None)
    reports = []
    # fork (Linux) starts workers at once with everything imported; spawn elsewhere
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    with ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=get_context(method)) as pool:
        futures = {
            pool.submit(grade_notebook, student, str(path), **options): (student, path) for student, path in submissions
        }
        for done, future in enumerate(as_completed(futures), start=1):
            student, path = futures[future]
            try:
                report = future.result()
            except Exception as exc:  # the worker process itself failed: record it, keep going
                report = _failed(student, path, options.get("expected"), exc)
            reports.append(report)
            progress(done, len(futures), report)
    return reports


def grade_on_dask(
    submissions: list[tuple[str, Path]], scheduler: str, *, progress=None, retries: int = DASK_RETRIES, **options
) -> list[dict]:
    """Grade every submission as one task on the Dask cluster at ``scheduler`` (``tcp://HOST:8786``).

    The notebook's text travels with its task, so workers need no shared disk; they
    need the same Python environment (nnlib and Jupyter installed).
    """
    from dask.distributed import Client
    from dask.distributed import as_completed as dask_completed

    progress = progress or (lambda done, total, report: None)
    reports = []
    with Client(scheduler) as client:  # connect timeout: distributed.comm.timeouts.connect (30 s)
        futures = {}
        for student, path in submissions:
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                text = f"<unreadable: {type(exc).__name__}>"
            future = client.submit(
                grade_source, student, path.name, text, pure=False, retries=retries, key=_key(student, path), **options
            )
            futures[future] = (student, path)
        for done, future in enumerate(dask_completed(futures), start=1):
            student, path = futures[future]
            try:
                report = future.result()
            except Exception as exc:  # e.g. KilledWorker: its workers died too often
                report = _failed(student, path, options.get("expected"), exc)
            reports.append(report)
            progress(done, len(futures), report)
    return reports


def _key(student: str, path: Path) -> str:
    """A readable task name on the dashboard, unique per submission and run."""
    import uuid

    return f"nnlib-grade-{student}-{path.stem}-{uuid.uuid4().hex[:8]}"
