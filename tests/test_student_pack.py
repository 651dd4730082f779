"""The student pack (``make student``): installed into a new virtual environment by its
README's command, every student notebook runs there from top to bottom.

The new environment gets only the pack's requirements and wheel (from the pip index, or
pip's cache), nothing of the course's own environment: no book build tools, no repository
on the path. This takes a minute or two, most of it pip.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from nnlib import pack

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
BOOK_TOOLS = {"jupyter-book", "myst-nb", "sphinx", "pytest", "nbval", "playwright", "ruff", "dask", "distributed"}

RUN_ALL = """\
import sys
from pathlib import Path

import nbformat
import nnlib
from nbclient import NotebookClient

assert Path(nnlib.__file__).is_relative_to(sys.prefix), nnlib.__file__  # the installed wheel
path = Path(sys.argv[1])
nb = nbformat.read(path, as_version=4)
NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
print("ran", path.name)
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("pack") / "student"
    proc = subprocess.run(
        [sys.executable, "-m", "nnlib.pack", str(out)], cwd=str(ROOT), capture_output=True, text=True, timeout=600
    )
    return out, proc


@pytest.fixture(scope="module")
def installed(built, tmp_path_factory):
    """Run the README's setup command in a copy of the pack; the copy's folder and its python."""
    out, _ = built
    here = tmp_path_factory.mktemp("fresh") / "student"
    shutil.copytree(out, here)
    setup = _readme_commands(out)[0].replace("python3 ", f"{sys.executable} ", 1)  # the interpreter under test
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "NNLIB_GRADE_LOG")}
    proc = subprocess.run(setup, shell=True, cwd=str(here), env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lab = subprocess.run([str(here / ".venv/bin/jupyter"), "lab", "--version"], env=env, capture_output=True, text=True)
    assert lab.returncode == 0 and lab.stdout.strip() == pack.pinned(ROOT / "requirements.txt")["jupyterlab"]
    return here, env


def _readme_commands(out: Path) -> list[str]:
    block = re.search(r"```bash\n(.*?)```", (out / "README.md").read_text(), re.DOTALL)
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_pack_has_notebooks_wheel_requirements_and_readme(built):
    out, proc = built
    assert sorted(p.name for p in out.glob("*.ipynb")) == [p.name for p in CHAPTERS]
    (wheel,) = out.glob("nnlib-*-py3-none-any.whl")
    commands = _readme_commands(out)
    assert commands == [
        f"python3 -m venv .venv && .venv/bin/python -m pip install -r requirements.txt {wheel.name}",
        ".venv/bin/jupyter lab",
    ]
    assert proc.returncode == 0, proc.stderr


def test_requirements_are_only_what_notebooks_need_pinned_as_the_course(built):
    out, _ = built
    course = pack.pinned(ROOT / "requirements.txt")
    lines = (out / "requirements.txt").read_text().split()
    pins = dict(line.split("==") for line in lines)
    assert all(course.get(name) == version for name, version in pins.items()), pins
    names = set(pins)
    assert {"numpy", "matplotlib", "scikit-learn", "ipywidgets", "jupyterlab", "ipykernel"} <= names
    assert not names & BOOK_TOOLS
    assert not any(name.startswith("sphinx") for name in names)


@pytest.mark.parametrize("name", [p.name for p in CHAPTERS], ids=[p.stem for p in CHAPTERS])
def test_no_student_notebook_needs_the_book_tools(built, name):
    out, proc = built
    assert pack.needs_book_tools(out / name) == []
    text = "\n".join(c.source for c in nbformat.read(out / name, as_version=4).cells)
    assert "myst_nb" not in text and "{glue" not in text


def test_every_student_notebook_runs_in_a_fresh_environment(installed):
    """One test for all notebooks, so that the environment is installed once (pytest-xdist
    would install it once per worker for several tests). Every chapter must run there."""
    here, env = installed
    env = dict(env, MPLBACKEND="Agg")
    failed = {}
    for chapter in CHAPTERS:
        proc = subprocess.run(
            [str(here / ".venv" / "bin" / "python"), "-c", RUN_ALL, str(here / chapter.name)],
            cwd=str(here), env=env, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        if proc.returncode != 0 or f"ran {chapter.name}" not in proc.stdout:
            failed[chapter.name] = proc.stderr[-3000:]
    assert not failed, failed
