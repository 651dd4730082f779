"""Wall time of the notebook test suite and of the site builds, each run as a subprocess.

They run on a temporary copy of the working tree (without ``.git``, ``.venv`` and
``_build``; ``node_modules`` is linked, not copied), so the main checkout's
``_build`` is never touched and the clean build really starts from nothing. The
copy's own ``nnlib`` comes first on ``PYTHONPATH``, so it is the code that runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

SANITIZE = "tests/nbval_sanitize.cfg"
IGNORE = shutil.ignore_patterns(".git", ".venv", "_build", "node_modules", "__pycache__", ".pytest_cache",
                                ".ipynb_checkpoints", "*.egg-info", ".jupyter_cache")


@contextmanager
def repo_copy(repo: Path):
    """Yield a temporary copy of ``repo``'s working tree; removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="bench-book-") as tmp:
        dst = Path(tmp) / "book"
        shutil.copytree(repo, dst, ignore=IGNORE, symlinks=True)
        if (repo / "node_modules").exists():
            (dst / "node_modules").symlink_to(repo / "node_modules")
        yield dst


def _run(cmd, cwd: Path, timeout: float):
    env = dict(os.environ, PYTHONPATH=str(cwd) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               MPLCONFIGDIR=str(cwd / "_build" / ".mplconfig"))
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
        lines = [ln for ln in (proc.stdout + proc.stderr).strip().splitlines() if "WARNING | Kernel" not in ln]
        code, tail = proc.returncode, lines[-3:]
    except subprocess.TimeoutExpired:
        code, tail = "timeout", [f"stopped after {timeout:.0f} s"]
    return {"seconds": time.perf_counter() - start, "returncode": code, "tail": tail, "command": " ".join(cmd)}


def venv_bin(repo: Path, name: str) -> str:
    """``<repo>/.venv/bin/<name>``, or the one beside the running interpreter."""
    candidate = repo / ".venv" / "bin" / name
    return str(candidate if candidate.exists() else Path(sys.executable).parent / name)


def nbval_suite(repo: Path, timeout=1800):
    """Time ``pytest --nbval chapters/`` once on a fresh copy."""
    repo = Path(repo).resolve()
    with repo_copy(repo) as book:
        cmd = [venv_bin(repo, "pytest"), "--nbval", "chapters/", "-p", "no:cacheprovider", "-q"]
        if (book / SANITIZE).exists():  # the project's own output sanitiser, as `make test` uses it
            cmd += ["--nbval-sanitize-with", SANITIZE]
        return _run(cmd, book, timeout)


def site_builds(repo: Path, timeout=1800):
    """Time a clean ``jupyter-book build .`` on a fresh copy, then the same command again (cached)."""
    repo = Path(repo).resolve()
    with repo_copy(repo) as book:
        cmd = [venv_bin(repo, "jupyter-book"), "build", "."]
        clean = _run(cmd, book, timeout)
        cached = _run(cmd, book, timeout)
    return {"clean": clean, "cached": cached}
