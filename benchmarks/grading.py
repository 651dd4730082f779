"""Where grading one submission spends its time, and the wall time per submission.

    .venv/bin/python benchmarks/grading.py                        # Chapter 3, 8 submissions, --jobs 2
    .venv/bin/python benchmarks/grading.py --tag 6,30,32,44       # the same with those cells tagged grade-skip
    .venv/bin/python benchmarks/grading.py --copies 2 --jobs 1    # quick

Each submission is a full-mark copy of the chapter (its model answers run after the
stubs) with the exercise list ``make student`` records. ``--tag`` adds the ``grade-skip``
tag to the given code cells of these temporary copies only; the chapter is not changed.
Prints a markdown summary; ``--json FILE`` also writes the numbers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nnlib.grade import SKIP_TAG, discover, grade_all  # noqa: E402
from nnlib.student import make_student_notebook  # noqa: E402


def submission(chapter: Path, tag: list[int]):
    nb = nbformat.read(chapter, as_version=4)
    nb.metadata["nnlib"] = make_student_notebook(nb, chapter.name).metadata["nnlib"]
    for i in tag:
        cell = nb.cells[i]
        if cell.cell_type != "code":
            raise SystemExit(f"cell {i} of {chapter.name} is not a code cell")
        cell.metadata.setdefault("tags", []).append(SKIP_TAG)
    return nb


def measure(chapter: Path, copies: int, jobs: int, tag: list[int]) -> dict:
    nb = submission(chapter, tag)
    with tempfile.TemporaryDirectory(prefix="nnlib-grade-bench-") as tmp:
        for k in range(copies):
            nbformat.write(nb, Path(tmp) / f"student{k:03d}.ipynb")
        started = time.perf_counter()
        reports = grade_all(discover(Path(tmp)), jobs=jobs)
        wall = time.perf_counter() - started
    points = {sum(r["points"] for r in rep["results"].values()) for rep in reports}
    cells: dict[int, list[float]] = {}
    for rep in reports:
        for index, seconds in rep["timing"]["cells"]:
            cells.setdefault(index, []).append(seconds)
    median_cells = {i: statistics.median(v) for i, v in cells.items()}
    per_sub = [rep["seconds"] for rep in reports]
    kernel = statistics.median(rep["timing"]["kernel_start"] for rep in reports)
    return {
        "chapter": chapter.name,
        "copies": copies,
        "jobs": jobs,
        "tagged": tag,
        "points": sorted(points),
        "wall_s": round(wall, 2),
        "wall_per_submission_s": round(wall / copies, 2),
        "median_submission_s": round(statistics.median(per_sub), 2),
        "median_kernel_start_s": round(kernel, 3),
        "median_cells_s": round(sum(median_cells.values()), 3),
        "slowest_cells": [
            [i, round(s, 3), nb.cells[i].source.splitlines()[0][:70]]
            for i, s in sorted(median_cells.items(), key=lambda kv: -kv[1])[:5]
        ],
    }


def render(r: dict) -> str:
    lines = [
        f"### {r['chapter']}: {r['copies']} submissions, --jobs {r['jobs']}, tagged {r['tagged'] or 'none'}",
        "",
        f"- wall {r['wall_s']} s, **{r['wall_per_submission_s']} s per submission**; "
        f"points per submission {r['points']}",
        f"- one submission (median, under this load): {r['median_submission_s']} s = kernel start "
        f"{r['median_kernel_start_s']} s + cells {r['median_cells_s']} s + the rest (set-up, shutdown)",
        "- slowest cells (median s): "
        + "; ".join(f"[{i}] {s} s `{first}`" for i, s, first in r["slowest_cells"]),
    ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--chapter", type=Path, default=REPO / "chapters" / "03_backprop_single.ipynb")
    p.add_argument("--copies", type=int, default=8)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--tag", default="", help="comma-separated code-cell indices to tag grade-skip (in the copies)")
    p.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = p.parse_args(argv)
    tag = [int(i) for i in args.tag.split(",") if i.strip()]
    result = measure(args.chapter, args.copies, args.jobs, tag)
    print(render(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
