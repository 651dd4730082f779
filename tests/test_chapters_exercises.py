"""Where the exercises sit in the chapters, and what a chapter may import.

* each exercise follows the section it practises: most of a chapter's exercises sit in the
  text, before its final "Exercises" section, and that section links to every exercise of
  the chapter;
* every exercise has its stub, its ``check`` call, a solution in a dropdown and the same
  ``check`` call after the solution (so the site shows a whole answer, and the student
  pack has something to strip);
* no chapter imports from ``nnlib`` a name that the learner is asked to define: a broken
  learner cell would otherwise leave nnlib's own function in place and the check would
  grade it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("0*.ipynb"))
START = re.compile(r"```\{exercise-start\}[^\n]*\n:label:\s*(\S+)")
SOLUTION = re.compile(r"```\{solution-start\}\s*(\S+)")
CHECK = re.compile(r"""check\(\s*["']([\w.]+)["']""")


def _cells(path):
    return nbformat.read(path, 4).cells


def _exercises_heading(cells) -> int:
    """Index of the chapter's final "## Exercises" heading."""
    found = [i for i, c in enumerate(cells)
             if c.cell_type == "markdown" and re.search(r"^## Exercises\b", c.source, re.M)]
    assert found, "the chapter has no '## Exercises' section"
    return found[-1]


def _exercise_blocks(cells):
    """(label, first cell, cells up to its solution-end) for every exercise."""
    blocks = []
    for i, cell in enumerate(cells):
        m = cell.cell_type == "markdown" and START.search(cell.source)
        if not m:
            continue
        end = next(j for j in range(i, len(cells))
                   if cells[j].cell_type == "markdown" and "{solution-end}" in cells[j].source)
        blocks.append((m.group(1), i, cells[i:end + 1]))
    return blocks


def _stub_names(block) -> set[str]:
    """Names the learner is asked to define: defs and classes of the first code cell."""
    stub = next(c for c in block if c.cell_type == "code")
    try:
        tree = ast.parse(stub.source)
    except SyntaxError:
        return set()
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_exercises_sit_where_their_idea_is(path):
    cells = _cells(path)
    end = _exercises_heading(cells)
    blocks = _exercise_blocks(cells)
    assert blocks, "the chapter has no exercise"
    in_text = [label for label, i, _ in blocks if i < end]
    assert len(in_text) * 2 > len(blocks), (
        f"only {len(in_text)} of {len(blocks)} exercises sit in the text; put each one "
        "after the section it practises")
    listing = "".join(c.source for c in cells[end:] if c.cell_type == "markdown")
    unlisted = [label for label, i, _ in blocks if i < end and label not in listing]
    assert not unlisted, f"the chapter's Exercises section does not link to {unlisted}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_exercise_has_stub_check_and_solution(path):
    for label, _, block in _exercise_blocks(_cells(path)):
        code = [c.source for c in block if c.cell_type == "code"]
        checks = [m.group(1) for src in code for m in CHECK.finditer(src)]
        solutions = [m.group(1) for c in block if c.cell_type == "markdown"
                     for m in SOLUTION.finditer(c.source)]
        assert solutions == [label], f"{label}: expected one solution dropdown for it"
        assert len(checks) >= 2 and len(set(checks)) == 1, (
            f"{label}: the check call must come after the stub and again after the solution,"
            f" with the same exercise id (found {checks})")
        before_check = code[:next(k for k, src in enumerate(code) if CHECK.search(src)) + 1]
        assert any(re.search(r"NotImplementedError|YOUR (CODE|ANSWER)|= \.\.\.", src)
                   for src in before_check), f"{label}: no stub for the learner before the check"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_import_of_a_name_the_learner_defines(path):
    cells = _cells(path)
    asked = set().union(*(_stub_names(b) for _, _, b in _exercise_blocks(cells)))
    clashes = []
    for i, cell in enumerate(cells):
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nnlib"):
                clashes += [f"cell {i}: from {node.module} import {a.name}"
                            for a in node.names if (a.asname or a.name) in asked]
    assert not clashes, (
        "the learner defines these names, so a broken learner cell would fall back to "
        f"nnlib's: {clashes}; import the module instead")
