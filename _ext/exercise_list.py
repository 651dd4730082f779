"""Sphinx extension: the ``{course-exercises}`` directive, a table of every exercise.

The table is what ``python -m nnlib.grade --list`` prints (id, chapter, points, title),
read from nnlib's registry when the page is built, so it is never typed by hand::

    ```{course-exercises}
    ```
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

CHECKS = Path(__file__).resolve().parent.parent / "nnlib" / "checks"


def _row(cells, header=False):
    """A table row; the first cell of a body row (the exercise id) is set as code."""
    row = nodes.row()
    for k, text in enumerate(cells):
        paragraph = nodes.paragraph()
        paragraph += nodes.literal(text=text) if k == 0 and not header else nodes.Text(text)
        entry = nodes.entry()
        entry += paragraph
        row += entry
    return row


class CourseExercises(SphinxDirective):
    has_content = False

    def run(self):
        from nnlib.grade.catalog import HEADER, exercise_table

        for path in sorted(CHECKS.glob("ch*.py")):  # rebuild the page when a chapter's checks change
            self.env.note_dependency(str(path))
        rows = exercise_table()
        table = nodes.table(classes=["course-exercises"])
        group = nodes.tgroup(cols=len(HEADER))
        table += group
        for width in (30, 10, 10, 50):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        head += _row(HEADER, header=True)
        body = nodes.tbody()
        for r in rows:
            body += _row(r)
        total = sum(float(r[2]) for r in rows)
        body += _row(("total", "", f"{total:g}", f"{len(rows)} exercises"), header=True)
        group += head
        group += body
        return [table]


def setup(app: Sphinx) -> dict:
    app.add_directive("course-exercises", CourseExercises)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
