"""Step 2: run one submission in a fresh kernel and report what its checks logged.

:func:`grade_source` takes the notebook's text, not a path, so the same function grades
a local file (:func:`grade_notebook`) and a submission sent to a Dask worker.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import tempfile
import time
from pathlib import Path

import nbformat

from nnlib.checks._runner import DEFAULT_TIME_LIMIT, GRADE_LOG_ENV
from nnlib.grade.collect import best_results, missing_reasons, one_line, read_log
from nnlib.grade.find import check_cells, expected_from_metadata, points_for

DEFAULT_TIMEOUT_CELL = 120.0
DEFAULT_TIMEOUT_TOTAL = 900.0
#: Cell tag: grading does not run this code cell (one that only draws). Cells calling check() always run.
SKIP_TAG = "grade-skip"
_REPO_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding nnlib/


def grade_notebook(student: str, path: str, **options) -> dict:
    """Grade the notebook file at ``path`` (see :func:`grade_source` for ``options``)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        text = f"<unreadable: {type(exc).__name__}>"
    return grade_source(student, Path(path).name, text, **options)


def grade_source(
    student: str,
    notebook: str,
    text: str,
    *,
    timeout_cell: float = DEFAULT_TIMEOUT_CELL,
    timeout_total: float = DEFAULT_TIMEOUT_TOTAL,
    timeout_check: float = DEFAULT_TIME_LIMIT,
    expected: dict[str, float] | None = None,
) -> dict:
    """Run one submission (its JSON ``text``) and return a plain, picklable dict.

    Keys: student, notebook, expected {id: max}, results {id: result}, reasons {id: why it
    has no result}, notes [notebook-level remarks], seconds, timing {kernel_start,
    cells: [seconds per code cell run]}.
    """
    started = time.monotonic()
    report = new_report(student, notebook, expected)
    try:
        nb = nbformat.reads(text, as_version=4)
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
            from_meta = points_for(check_cells(nb))
        report["expected"] = from_meta

    skip_tagged_cells(nb)
    with tempfile.TemporaryDirectory(prefix="nnlib-grade-") as tmp:
        work = Path(tmp)
        log = work / "checks.jsonl"
        env = kernel_env(log, timeout_check)
        outcome = asyncio.run(execute(nb, work, env, timeout_cell, timeout_total))
        entries = read_log(log)

    report["results"] = best_results(entries, report["expected"])
    report["reasons"] = missing_reasons(check_cells(nb), report, outcome)
    report["notes"].extend(f"cell {i + 1} raised {error}" for i, error in sorted(outcome["cell_errors"].items()))
    if outcome["failure"]:
        report["notes"].append(outcome["failure"] + outcome["where"])
    report["timing"] = outcome["timing"]
    report["seconds"] = round(time.monotonic() - started, 1)
    return report


def new_report(student: str, notebook: str, expected: dict[str, float] | None) -> dict:
    return {
        "student": student,
        "notebook": notebook,
        "expected": dict(expected or {}),
        "results": {},
        "reasons": {},
        "notes": [],
        "seconds": 0.0,
        "timing": {},
    }


def skip_tagged_cells(nb) -> list[int]:
    """Empty (in place) every code cell tagged ``grade-skip`` that calls no check; their indices.

    The cell stays where it is, so cell numbers in messages match the submission.
    """
    calling = set(check_cells(nb).values())
    skipped = []
    for i, cell in enumerate(nb.cells):
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.cell_type == "code" and SKIP_TAG in tags and i not in calling:
            cell.source = ""
            skipped.append(i)
    return skipped


def kernel_env(log: Path, timeout_check: float) -> dict[str, str]:
    env = dict(os.environ)
    env["NNLIB_CHECK_TIME_LIMIT"] = f"{timeout_check:g}"
    env[GRADE_LOG_ENV] = str(log)
    # the kernel runs in a temporary folder: make every import path absolute
    paths = [_REPO_ROOT] + [os.path.abspath(p) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["MPLBACKEND"] = "Agg"
    return env


async def execute(nb, work: Path, env: dict, timeout_cell: float, timeout_total: float) -> dict:
    """Run ``nb`` in a new kernel, continuing after cell errors.

    Returns {"failure": why it stopped early or "", "where": which cell was running,
    "stopped_at": that cell's index or None, "cell_errors": {cell index: "Name: message"},
    "timing": {"kernel_start": s, "cells": [s, ...]}}.
    """
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    quiet = logging.getLogger("nnlib.grade.nbclient")
    quiet.setLevel(logging.CRITICAL)
    current = {"cell": None, "since": time.monotonic()}
    cell_errors: dict[int, str] = {}
    timing = {"kernel_start": None, "cells": []}
    t0 = time.monotonic()

    def on_cell_execute(cell, cell_index, **_):
        if timing["kernel_start"] is None:
            timing["kernel_start"] = round(time.monotonic() - t0, 3)
        current.update(cell=cell_index, since=time.monotonic())

    def on_cell_executed(cell, cell_index, **_):
        timing["cells"].append([cell_index, round(time.monotonic() - current["since"], 3)])

    def on_cell_error(cell, cell_index, execute_reply, **_):
        content = execute_reply.get("content", {})
        cell_errors[cell_index] = one_line(f"{content.get('ename', 'Error')}: {content.get('evalue', '')}")

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
        on_cell_executed=on_cell_executed,
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
    return {"failure": failure, "where": where, "stopped_at": stopped_at, "cell_errors": cell_errors, "timing": timing}


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
