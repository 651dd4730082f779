"""Step 4a: the long CSV (one row per student and exercise) and the feedback files."""

from __future__ import annotations

import csv
import re
from pathlib import Path

FIELDS = ("student", "exercise", "points", "max_points", "message")


def write_csv(rows: list[dict], out: Path) -> None:
    """``out``: student, exercise, points, max_points, message."""
    write_table(
        out, FIELDS, ([r["student"], r["exercise"], num(r["points"]), num(r["max_points"]), r["message"]] for r in rows)
    )


def write_table(out: Path, header, rows) -> None:
    """A CSV file: UTF-8, comma-separated, ``\\n`` line ends, quoted only where needed."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def num(x: float) -> str:
    return f"{x:g}"


def feedback_dir_for(out: Path) -> Path:
    return out.with_name(out.stem + "_feedback")


def write_feedback(rows: list[dict], reports: list[dict], folder: Path) -> None:
    """One markdown file per student: total, each exercise's result, notebook notes."""
    folder.mkdir(parents=True, exist_ok=True)
    for student in sorted({r["student"] for r in rows} | {r["student"] for r in reports}):
        mine = [r for r in rows if r["student"] == student]
        total = sum(r["points"] for r in mine)
        possible = sum(r["max_points"] for r in mine)
        lines = [f"# Feedback for {student}", "", f"**Total: {total:g} / {possible:g} points**", ""]
        for r in mine:
            lines += [f"## {r['exercise']}: {r['points']:g} / {r['max_points']:g}", "", r["message"], ""]
        notes = [
            (report["notebook"], note)
            for report in sorted(reports, key=lambda x: x["notebook"])
            if report["student"] == student
            for note in report["notes"]
        ]
        if notes:
            lines += ["## Notes from running your notebook", ""]
            lines += [f"- {name}: {note}" for name, note in notes]
            lines.append("")
        (folder / f"{safe_name(student)}.md").write_text("\n".join(lines), encoding="utf-8")


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "student"
