"""Student notebooks: the chapters with their solutions removed.

    python -m nnlib.student SRC_DIR OUT_DIR        (``make student``)

For every ``SRC_DIR/*.ipynb``: removes each solution span - from the
``{solution-start}`` directive (and whatever follows it in its markdown cell), every
cell after it, through the ``{solution-end}`` directive (and whatever precedes it in
its cell) - clears all outputs, and writes the result to ``OUT_DIR``. The
exercise prompts, stubs and check cells stay, so every check in a fresh student
notebook reports "not attempted yet".

Nothing a learner wrote is overwritten: each generated notebook records a hash of its
content in its metadata. If the file already in ``OUT_DIR`` no longer matches its own
hash (someone edited or ran it), the new version is written beside it as
``NAME.new.ipynb`` and a message says so.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from nnlib.checks._registry import UnknownExercise, get_exercise

#: Notebook metadata key holding what generation recorded.
METADATA_KEY = "nnlib"

_DIRECTIVE_BLOCK = re.compile(
    r"^[ \t]*(?P<fence>`{3,}|:{3,})[ \t]*\{solution-(?P<kind>start|end)\}.*?^[ \t]*(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
_DIRECTIVE_OPEN = re.compile(r"^[ \t]*(`{3,}|:{3,})[ \t]*\{solution-(start|end)\}", re.MULTILINE)
CHECK_CALL = re.compile(r"""\bcheck\(\s*(['"])([a-z][a-z0-9_]*\.[a-z_][a-z0-9_]*)\1""")


class AuthoringError(ValueError):
    """A chapter notebook does not follow the exercise format (the message says where)."""


@dataclass
class Outcome:
    source: Path
    target: Path | None = None
    action: str = ""  # "written", "updated", "unchanged", "written beside", "refused", "failed"
    message: str = ""
    exercises: list = field(default_factory=list)


# --- transforming one notebook --------------------------------------------------------------


def split_directive_cells(cells) -> list:
    """Copies of ``cells`` in which every solution directive sits in a markdown cell of its own.

    Text before a ``{solution-start}`` in the same cell stays outside the solution, text
    after it is part of the solution (and likewise around ``{solution-end}``), exactly
    as the rendered book reads. Raises :class:`AuthoringError` for an unclosed fence.
    """
    out = []
    for i, cell in enumerate(cells):
        cell = copy.deepcopy(cell)
        if cell.cell_type != "markdown" or not _DIRECTIVE_OPEN.search(cell.source):
            out.append(cell)
            continue
        blocks = list(_DIRECTIVE_BLOCK.finditer(cell.source))
        if len(blocks) != len(_DIRECTIVE_OPEN.findall(cell.source)):
            raise AuthoringError(f"cell {i}: a solution directive is not closed by its fence.")
        pieces, pos = [], 0
        for m in blocks:
            pieces += [cell.source[pos : m.start()], m.group(0)]
            pos = m.end()
        pieces.append(cell.source[pos:])
        pieces = [p.strip("\n") for p in pieces if p.strip()]
        for k, piece in enumerate(pieces):
            part = copy.deepcopy(cell)
            part.source = piece
            if "id" in part and len(pieces) > 1:
                part.id = f"{cell.id}-{k}"[:64]
            out.append(part)
    return out


def solution_spans(cells) -> list[tuple[int, int]]:
    """``(first, last)`` indices (inclusive) of every solution span in split ``cells``.

    ``cells`` come from :func:`split_directive_cells`. Raises :class:`AuthoringError`
    for an unclosed, unopened or nested span.
    """
    spans, start = [], None
    for i, cell in enumerate(cells):
        if cell.cell_type != "markdown":
            continue
        kind = _DIRECTIVE_BLOCK.fullmatch(cell.source.strip())
        if kind is None:
            continue
        if kind.group("kind") == "start":
            if start is not None:
                raise AuthoringError(f"{_where(cells, i)}: solution-start inside the solution opened before it.")
            start = i
        else:
            if start is None:
                raise AuthoringError(f"{_where(cells, i)}: solution-end without a solution-start.")
            spans.append((start, i))
            start = None
    if start is not None:
        raise AuthoringError(f"{_where(cells, start)}: solution-start is never closed by solution-end.")
    return spans


def solution_cells(nb) -> list:
    """The cells (pieces of cells) that a student notebook leaves out."""
    cells = split_directive_cells(nb.cells)
    return [cells[i] for first, last in solution_spans(cells) for i in range(first, last + 1)]


def _where(cells, i) -> str:
    text = " ".join(cells[i].source.split())[:60]
    return f"the markdown cell starting {text!r}"


def exercise_ids_in(nb) -> list[str]:
    """Exercise ids of the ``check("id", ...)`` calls in the code cells, in order, once each."""
    ids: list[str] = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            for m in CHECK_CALL.finditer(cell.source):
                if m.group(2) not in ids:
                    ids.append(m.group(2))
    return ids


def make_student_notebook(nb, source_name: str = ""):
    """A copy of ``nb`` without solution spans and outputs, with generation metadata."""
    cells = split_directive_cells(nb.cells)
    drop = {i for first, last in solution_spans(cells) for i in range(first, last + 1)}
    out = copy.deepcopy(nb)
    out.cells = [c for i, c in enumerate(cells) if i not in drop]
    for cell in out.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in ("execution", "scrolled", "collapsed"):
            cell.metadata.pop(key, None)
    exercises = []  # a list of [id, points], not a dict: JSON writers sort dict keys
    for exercise_id in exercise_ids_in(out):
        try:
            exercises.append([exercise_id, get_exercise(exercise_id).points])
        except UnknownExercise as exc:
            raise AuthoringError(f"{exc}") from None
    out.metadata[METADATA_KEY] = {"student_notebook": {"source": source_name, "exercises": exercises}}
    out.metadata[METADATA_KEY]["student_notebook"]["sha256"] = content_hash(out)
    return out


def content_hash(nb) -> str:
    """SHA-256 of what a learner can change: each cell's type, source and outputs."""
    cells = [
        {
            "type": c.cell_type,
            "source": c.source,
            "outputs": c.get("outputs", []),
            "count": c.get("execution_count"),
        }
        for c in nb.cells
    ]
    blob = json.dumps(cells, sort_keys=True, ensure_ascii=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def generated_info(nb) -> dict:
    """The metadata ``make_student_notebook`` recorded ({} if none)."""
    info = nb.metadata.get(METADATA_KEY, {}).get("student_notebook", {})
    return info if isinstance(info, dict) else {}


def is_unedited(path: Path) -> bool:
    """True if ``path`` is a generated student notebook nobody has changed since."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:
        return False
    stored = generated_info(nb).get("sha256")
    return isinstance(stored, str) and stored == content_hash(nb)


# --- writing -----------------------------------------------------------------------------


def write_safely(nb, target: Path) -> tuple[str, Path | None, str]:
    """Write ``nb`` to ``target`` unless that would overwrite a learner's edits.

    Returns ``(action, path written or None, message)``.
    """
    if not target.exists() or is_unedited(target):
        action = "written" if not target.exists() else "updated"
        if target.exists() and _same_content(target, nb):
            return "unchanged", target, ""
        nbformat.write(nb, target)
        return action, target, ""
    beside = target.with_name(target.stem + ".new.ipynb")
    if beside.exists() and not is_unedited(beside):
        return (
            "refused",
            None,
            (
                f"{target.name} and {beside.name} both contain edits; nothing written. "
                f"Move one of them away and run again."
            ),
        )
    nbformat.write(nb, beside)
    return (
        "written beside",
        beside,
        (
            f"{target.name} was edited since it was generated, so it was left as it is; "
            f"the new version is {beside.name}."
        ),
    )


def _same_content(path: Path, nb) -> bool:
    try:
        old = nbformat.read(path, as_version=4)
    except Exception:
        return False
    return generated_info(old).get("sha256") == generated_info(nb).get("sha256")


def build(src_dir: Path, out_dir: Path) -> list[Outcome]:
    """Generate a student notebook for every ``src_dir/*.ipynb`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    outcomes = []
    for src in sorted(Path(src_dir).glob("*.ipynb")):
        outcome = Outcome(src)
        try:
            nb = nbformat.read(src, as_version=4)
            student = make_student_notebook(nb, src.name)
        except AuthoringError as exc:
            outcome.action, outcome.message = "failed", f"{src.name}: {exc}"
        except Exception as exc:
            outcome.action, outcome.message = "failed", f"{src.name}: {type(exc).__name__}: {exc}"
        else:
            outcome.exercises = generated_info(student)["exercises"]
            outcome.action, outcome.target, outcome.message = write_safely(student, out_dir / src.name)
        outcomes.append(outcome)
    return outcomes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nnlib.student",
        description="Write student notebooks (solutions removed, outputs cleared).",
    )
    parser.add_argument("src_dir", type=Path, help="folder of chapter notebooks, e.g. chapters")
    parser.add_argument("out_dir", type=Path, help="output folder, e.g. build/student")
    args = parser.parse_args(argv)
    if not args.src_dir.is_dir():
        print(f"error: {args.src_dir} is not a folder", file=sys.stderr)
        return 2
    outcomes = build(args.src_dir, args.out_dir)
    for o in outcomes:
        n = len(o.exercises)
        what = f"{o.target}" if o.target else o.source.name
        print(f"{o.action:>15}  {what}  ({n} exercise{'s' if n != 1 else ''})")
        if o.message:
            print(f"{'':>15}  {o.message}", file=sys.stderr)
    if not outcomes:
        print(f"no notebooks in {args.src_dir}", file=sys.stderr)
    return 1 if any(o.action in ("failed", "refused") for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
