"""The course's exercises as a table (``python -m nnlib.grade --list``, the instructors page)."""

from __future__ import annotations

HEADER = ("exercise", "chapter", "points", "title")


def exercise_table() -> list[tuple[str, str, str, str]]:
    """(id, chapter, points, title) of every exercise of the course, chapter by chapter."""
    from nnlib.checks import registry

    return [(ex.id, ex.chapter, f"{ex.points:g}", ex.title) for ex in registry().values()]


def format_table(rows=None) -> str:
    """The table as aligned plain text, with a total line per chapter count and points."""
    rows = exercise_table() if rows is None else rows
    widths = [max(len(str(r[i])) for r in [HEADER, *rows]) for i in range(len(HEADER))]
    lines = [
        "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in [HEADER, *rows]
    ]
    total = sum(float(r[2]) for r in rows)
    lines.append(f"{len(rows)} exercises, {total:g} points")
    return "\n".join(lines) + "\n"
