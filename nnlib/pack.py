"""The student pack: everything a learner needs to run the course's notebooks.

    python -m nnlib.pack OUT_DIR [--chapters chapters]        (``make student``)

Run from the course repository. Writes into ``OUT_DIR``:

* the student notebooks (``python -m nnlib.student``: solutions removed, outputs cleared,
  a learner's edited notebook never overwritten);
* ``nnlib-<version>-py3-none-any.whl``, built by ``pip wheel`` from this repository;
* ``requirements.txt``: only what the notebooks need - nnlib's dependencies and
  JupyterLab, with everything they pull in - at the versions pinned in the
  repository's ``requirements.txt`` (the book's build and test tools are left out);
* ``README.md`` with the two commands that set up a fresh machine and open the notebooks.

Fails (exit 1) if a student notebook still needs the book's build tools: an import of
``myst_nb`` or a ``{glue}`` role, which only the website can render.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import nbformat
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from nnlib import student

REPO = Path(__file__).resolve().parent.parent
#: What the student notebooks need besides nnlib: a notebook interface (which brings the kernel).
INTERFACE = ["jupyterlab"]
BOOK_ONLY = re.compile(r"^\s*(from\s+myst_nb\b|import\s+myst_nb\b)|\{glue(:\w*)?\}", re.MULTILINE)

README = """\
# Backpropagation from Scratch: student notebooks

You need Python 3.11 or newer. In a terminal, in this folder, run

```bash
python3 -m venv .venv && .venv/bin/python -m pip install -r requirements.txt {wheel}
.venv/bin/jupyter lab
```

The first command creates a virtual environment in `.venv/` and installs `nnlib` (the
course's library, which also holds the exercise checks) with the pinned packages the
notebooks use; the second opens JupyterLab in your browser, with the chapter notebooks
in this folder. On Windows, write `py -m venv .venv` and `.venv\\Scripts\\` instead of
`python3 -m venv .venv` and `.venv/bin/`.

Each notebook ends with exercises: fill in a stub, run its check cell, read the feedback,
and try again as often as you like. Keep the check cells as they are; return the
notebook (`.ipynb`) itself.
"""


def pinned(requirements_txt: Path) -> dict[str, str]:
    """{canonical name: version} of every ``name==version`` line."""
    pins = {}
    for line in requirements_txt.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[canonicalize_name(name)] = version.strip()
    return pins


def closure(roots: list[str]) -> list[str]:
    """Canonical names of ``roots`` and of everything they need in this environment, sorted."""
    seen: set[str] = set()
    todo = [(r, frozenset()) for r in roots]
    while todo:
        name, extras = todo.pop()
        key = canonicalize_name(name)
        if (key, extras) in seen:
            continue
        seen.add((key, extras))
        for text in metadata.requires(key) or []:
            req = Requirement(text)
            envs = [{"extra": e} for e in extras] or [{"extra": ""}]
            if req.marker is None or any(req.marker.evaluate(env) for env in envs):
                todo.append((req.name, frozenset(req.extras)))
    return sorted({key for key, _ in seen})


def student_requirements(repo: Path = REPO) -> list[str]:
    """``name==version`` for everything the notebooks need, nnlib itself excepted."""
    roots = [str(Requirement(r).name) for r in metadata.requires("nnlib") or []] + INTERFACE
    pins = pinned(repo / "requirements.txt")
    missing = [name for name in closure(roots) if name not in pins]
    if missing:
        raise SystemExit(f"not pinned in requirements.txt: {', '.join(missing)}")
    return [f"{name}=={pins[name]}" for name in closure(roots)]


def build_wheel(out_dir: Path, repo: Path = REPO) -> Path:
    """Build nnlib's wheel with ``pip wheel`` from a clean copy of the package sources."""
    for old in out_dir.glob("nnlib-*.whl"):
        old.unlink()
    with tempfile.TemporaryDirectory(prefix="nnlib-wheel-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            shutil.copy2(repo / name, src / name)
        shutil.copytree(repo / "nnlib", src / "nnlib", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-q"]
        subprocess.run([*cmd, "--wheel-dir", str(out_dir), str(src)], check=True)
    (wheel,) = out_dir.glob("nnlib-*.whl")
    return wheel


def needs_book_tools(path: Path) -> list[str]:
    """Where a notebook uses what only the book's build provides (myst_nb, {glue})."""
    nb = nbformat.read(path, as_version=4)
    found = [(i, m.group(0).strip()) for i, c in enumerate(nb.cells) for m in BOOK_ONLY.finditer(c.source)]
    return [f"{path.name}, cell {i}: {what}" for i, what in found]


def build(out_dir: Path, chapters: Path) -> int:
    outcomes = student.build(chapters, out_dir)
    for o in outcomes:
        print(f"{o.action:>15}  {o.target or o.source.name}")
        if o.message:
            print(f"{'':>15}  {o.message}", file=sys.stderr)
    wheel = build_wheel(out_dir)
    (out_dir / "requirements.txt").write_text("\n".join(student_requirements()) + "\n", encoding="utf-8")
    (out_dir / "README.md").write_text(README.format(wheel=wheel.name), encoding="utf-8")
    print(f"{'written':>15}  {wheel}, {out_dir / 'requirements.txt'}, {out_dir / 'README.md'}")
    problems = [p for o in outcomes if o.target for p in needs_book_tools(o.target)]
    for problem in problems:
        print(f"error: needs the book's build tools, which students do not have: {problem}", file=sys.stderr)
    return 1 if problems or any(o.action in ("failed", "refused") for o in outcomes) else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nnlib.pack", description="Write the student pack.")
    parser.add_argument("out_dir", type=Path, help="output folder, e.g. build/student")
    parser.add_argument("--chapters", type=Path, default=REPO / "chapters", help="folder of chapter notebooks")
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    return build(args.out_dir, args.chapters)


if __name__ == "__main__":
    sys.exit(main())
