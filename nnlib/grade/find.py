"""Step 1: find the submissions and what each one is expected to contain."""

from __future__ import annotations

from pathlib import Path

from nnlib.student import CHECK_CALL, generated_info


def discover(submissions_dir: Path) -> list[tuple[str, Path]]:
    """``(student, notebook path)`` for every notebook under ``submissions_dir``, sorted.

    The student is the sub-folder a notebook sits in (``DIR/alice/ch1.ipynb``), or the
    file name without ``.ipynb`` for a notebook at the top level.
    """
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


def check_cells(nb) -> dict[str, int]:
    """{exercise id: index of the last code cell calling check(id, ...)}."""
    cells = {}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            for m in CHECK_CALL.finditer(cell.source):
                cells[m.group(2)] = i
    return cells


def points_for(ids) -> dict[str, float]:
    """{id: max points} for the registered ones among ``ids`` (the others are left out)."""
    from nnlib.checks._registry import get_exercise

    out = {}
    for exercise_id in ids:
        try:
            out[exercise_id] = get_exercise(exercise_id).points
        except Exception:
            continue
    return out
