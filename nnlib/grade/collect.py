"""Step 3: turn what a run logged into results, reasons and CSV rows.

Everything here is deterministic: it depends on what the cells did, never on timing, so
local and distributed grading give the same rows.
"""

from __future__ import annotations

import json
from pathlib import Path


def read_log(log: Path) -> list[dict]:
    """The check results a run appended to ``log`` (malformed lines are skipped)."""
    entries = []
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return entries
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("exercise"), str):
            entries.append(entry)
    return entries


def best_results(entries: list[dict], expected: dict[str, float]) -> dict[str, dict]:
    """Per expected exercise: the first correct result, else the last one.

    Points are recomputed from the status and the expected maximum, never taken from
    the log.
    """
    best: dict[str, dict] = {}
    for entry in entries:
        exercise_id = entry.get("exercise")
        if exercise_id not in expected:
            continue
        status = entry.get("status") if isinstance(entry.get("status"), str) else "error"
        detail = one_line(entry.get("detail", ""))
        result = {
            "status": status,
            "points": expected[exercise_id] if status == "correct" else 0.0,
            "message": f"{status}: {detail}" if detail else status,
        }
        if best.get(exercise_id, {}).get("status") != "correct":
            best[exercise_id] = result
    return best


def missing_reasons(cells: dict[str, int], report: dict, outcome: dict) -> dict[str, str]:
    """Why each expected exercise without a logged result has none.

    ``cells`` maps exercise ids to the index of their check cell (``find.check_cells``).
    """
    errors = outcome["cell_errors"]
    reasons = {}
    for exercise_id in report["expected"]:
        if exercise_id in report["results"]:
            continue
        index = cells.get(exercise_id)
        error = errors.get(index, "") if index is not None else ""
        if index is None:
            reasons[exercise_id] = (
                "not checked: the notebook has no check for this exercise (its check cell was deleted or changed)"
            )
        elif error and not error.startswith("CellTimeout"):
            reasons[exercise_id] = f"not checked: its check cell (cell {index + 1}) failed with {error}"
        elif outcome["failure"]:
            reasons[exercise_id] = f"not checked: {outcome['failure']}"
        elif error:
            reasons[exercise_id] = f"not checked: its check cell (cell {index + 1}) failed with {error}"
        else:
            reasons[exercise_id] = f"not checked: its check cell (cell {index + 1}) ran but reported no result"
    return reasons


def rows_for(reports: list[dict]) -> list[dict]:
    """CSV rows: one per (student, expected exercise), students sorted, exercises in order.

    A student with several notebooks gets each exercise once, with its best row.
    """
    by_student: dict[str, dict[str, dict]] = {}
    for report in sorted(reports, key=lambda r: (r["student"], r["notebook"])):
        rows = by_student.setdefault(report["student"], {})
        for exercise_id, max_points in report["expected"].items():
            result = report["results"].get(exercise_id)
            if result is not None:
                row = {"points": result["points"], "message": result["message"], "status": result["status"]}
            else:
                reason = report["reasons"].get(exercise_id, "not checked")
                row = {"points": 0.0, "message": reason, "status": "not checked"}
            row.update(student=report["student"], exercise=exercise_id, max_points=max_points)
            old = rows.get(exercise_id)
            if old is None or row["points"] > old["points"]:
                rows[exercise_id] = row
    return [row for student in sorted(by_student) for row in by_student[student].values()]


def one_line(text) -> str:
    return " ".join(str(text).split())
