"""Step 4b: per-student totals and gradebook import files (``--export``).

Each export is one row per student with one score per chapter (``ch3``; the fixture
class uses ``demo``), summed from the long CSV's rows, and is written beside ``--out``
as ``<stem>_<name>.csv``:

``totals``
    student, points, maximum, percent, then ``<chapter>_points`` and ``<chapter>_maximum``
    for every chapter graded.
``canvas``
    Canvas LMS gradebook import (Instructure's guide "How do I import grades in the
    Gradebook?", Canvas Instructor Guide): the columns ``Student, ID, SIS User ID,
    SIS Login ID, Section`` that identify a student, then one column per assignment; a
    second row ``Points Possible`` gives each assignment's maximum. The student's name
    here (the submission folder's name) goes into ``Student`` and ``SIS Login ID``, so
    name the folders by Canvas login. A column whose header matches no assignment
    creates a new one on import; to fill an existing assignment, rename its header to
    Canvas's ``Name (id)``, as in a gradebook export.
``moodle``
    Moodle gradebook CSV import (MoodleDocs "Grade import", section "CSV grade
    import"): a header row, one row per user, a column identifying the user and one
    column per grade item, mapped in the import form ("Identify user by": map from
    ``username`` to ``username``; each chapter column to its grade item).
"""

from __future__ import annotations

import re
from pathlib import Path

from nnlib.grade.reports import num, write_table

EXPORTS = ("totals", "canvas", "moodle")


def chapter_of(exercise_id: str) -> str:
    return exercise_id.split(".", 1)[0]


def chapters_in(rows: list[dict]) -> list[str]:
    """The chapters graded, ch1 < ch2 < ch10 < any other prefix."""

    def key(ch):
        m = re.fullmatch(r"ch(\d+)", ch)
        return (0, int(m.group(1)), "") if m else (1, 0, ch)

    return sorted({chapter_of(r["exercise"]) for r in rows}, key=key)


def totals(rows: list[dict]) -> list[dict]:
    """Per student: points, maximum and {chapter: [points, maximum]}, students sorted."""
    out: dict[str, dict] = {}
    for r in rows:
        t = out.setdefault(r["student"], {"student": r["student"], "points": 0.0, "maximum": 0.0, "chapters": {}})
        t["points"] += r["points"]
        t["maximum"] += r["max_points"]
        ch = t["chapters"].setdefault(chapter_of(r["exercise"]), [0.0, 0.0])
        ch[0] += r["points"]
        ch[1] += r["max_points"]
    return [out[s] for s in sorted(out)]


def percent(points: float, maximum: float) -> str:
    return f"{100 * points / maximum:.1f}" if maximum else ""


def write_totals(rows: list[dict], out: Path) -> None:
    chapters = chapters_in(rows)
    header = ["student", "points", "maximum", "percent"]
    header += [f"{ch}_{what}" for ch in chapters for what in ("points", "maximum")]
    table = []
    for t in totals(rows):
        line = [t["student"], num(t["points"]), num(t["maximum"]), percent(t["points"], t["maximum"])]
        for ch in chapters:
            got, possible = t["chapters"].get(ch, (0.0, 0.0))
            line += [num(got), num(possible)]
        table.append(line)
    write_table(out, header, table)


def _maximum_per_chapter(rows: list[dict]) -> dict[str, float]:
    """The largest maximum any student had for each chapter (all equal with --exercises)."""
    best: dict[str, float] = {}
    for t in totals(rows):
        for ch, (_, possible) in t["chapters"].items():
            best[ch] = max(best.get(ch, 0.0), possible)
    return best


def write_canvas(rows: list[dict], out: Path) -> None:
    chapters = chapters_in(rows)
    maximum = _maximum_per_chapter(rows)
    table = [["Points Possible", "", "", "", ""] + [num(maximum[ch]) for ch in chapters]]
    for t in totals(rows):
        scores = [num(t["chapters"][ch][0]) if ch in t["chapters"] else "" for ch in chapters]
        table.append([t["student"], "", "", t["student"], ""] + scores)
    write_table(out, ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"] + chapters, table)


def write_moodle(rows: list[dict], out: Path) -> None:
    chapters = chapters_in(rows)
    table = [
        [t["student"]] + [num(t["chapters"][ch][0]) if ch in t["chapters"] else "" for ch in chapters]
        for t in totals(rows)
    ]
    write_table(out, ["username"] + chapters, table)


WRITERS = {"totals": write_totals, "canvas": write_canvas, "moodle": write_moodle}


def export_path(out: Path, name: str) -> Path:
    return out.with_name(f"{out.stem}_{name}.csv")


def write_exports(rows: list[dict], out: Path, names) -> list[Path]:
    """Write each export in ``names`` beside ``out``; the paths written."""
    paths = []
    for name in names:
        path = export_path(out, name)
        WRITERS[name](rows, path)
        paths.append(path)
    return paths
