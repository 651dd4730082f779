"""Grading on a Dask cluster gives exactly what local grading gives, and survives a dead worker.

A ``LocalCluster`` of two worker processes (one thread each) listens on loopback; the
command runs with ``--scheduler`` against it and, separately, with ``--jobs 2``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

distributed = pytest.importorskip("distributed")

from nnlib import grade  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "grading"
SUBMISSIONS = FIXTURES / "submissions"
LIMITS = ["--timeout-cell", "2", "--timeout-total", "15", "--timeout-check", "0.5"]


def _pythonpath() -> str:
    return os.pathsep.join(p for p in [str(ROOT), str(FIXTURES), os.environ.get("PYTHONPATH", "")] if p)


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes on 127.0.0.1; their kernels find the demo exercises on PYTHONPATH."""
    from distributed import LocalCluster

    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = _pythonpath()  # worker processes inherit it, and pass it to kernels
    try:
        with LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            scheduler_port=0,
            dashboard_address=None,
        ) as c:
            yield c
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


def _grade(out: Path, *extra: str, **env_extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=_pythonpath(), **env_extra)
    env.pop("NNLIB_GRADE_LOG", None)
    cmd = [sys.executable, "-m", "nnlib.grade", str(SUBMISSIONS), "--out", str(out), *LIMITS, *extra]
    return subprocess.run(cmd, env=env, cwd=str(ROOT), capture_output=True, text=True, timeout=300)


def test_dask_grading_matches_local_grading_byte_for_byte(cluster, tmp_path):
    on_dask, local = tmp_path / "dask" / "grades.csv", tmp_path / "local" / "grades.csv"
    proc = _grade(on_dask, "--scheduler", cluster.scheduler_address, "--export", "totals", "canvas", "moodle")
    assert proc.returncode == 0, proc.stderr
    assert "on the Dask cluster at tcp://127.0.0.1:" in proc.stderr
    proc = _grade(local, "--jobs", "2", "--export", "totals", "canvas", "moodle")
    assert proc.returncode == 0, proc.stderr
    for name in ["grades.csv", "grades_totals.csv", "grades_canvas.csv", "grades_moodle.csv"]:
        assert (on_dask.parent / name).read_bytes() == (local.parent / name).read_bytes(), name
    assert on_dask.read_bytes() == (FIXTURES / "expected_grades.csv").read_bytes()
    dask_feedback = sorted(p.name for p in (on_dask.parent / "grades_feedback").iterdir())
    assert dask_feedback == sorted(p.name for p in (local.parent / "grades_feedback").iterdir())


def test_a_task_whose_worker_dies_is_run_again_on_another(cluster, tmp_path):
    """The submission's first cell kills the worker process running its kernel, once."""
    marker = tmp_path / "worker-killed"
    nb = nbformat.read(SUBMISSIONS / "alice_correct.ipynb", as_version=4)
    killer = (
        "import os, pathlib\n"
        f"marker = pathlib.Path({str(marker)!r})\n"
        "if not marker.exists():\n"
        "    marker.write_text('once')\n"
        "    os.kill(os.getppid(), 9)  # the kernel's parent: the Dask worker grading this notebook"
    )
    nb.cells.insert(0, new_code_cell(killer))
    folder = tmp_path / "class"
    folder.mkdir()
    nbformat.write(nb, folder / "zoe.ipynb")
    reports = grade.grade_on_dask(
        grade.discover(folder), cluster.scheduler_address, timeout_cell=30, timeout_total=120, timeout_check=5
    )
    assert marker.exists(), "the first attempt should have killed its worker"
    rows = grade.rows_for(reports)
    assert [(r["exercise"], r["points"]) for r in rows] == [
        ("demo.double", 1.0),
        ("demo.row_sums", 2.0),
        ("demo.answer", 1.0),
    ]


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path):
    proc = _grade(
        tmp_path / "grades.csv", "--scheduler", "tcp://127.0.0.1:9", DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="2s"
    )
    assert proc.returncode == 2
    assert "cannot reach the Dask scheduler tcp://127.0.0.1:9" in proc.stderr
