"""The value every check returns: :class:`CheckResult`.

Its plain-text form *is* the feedback message (no object repr, no address), so a
notebook that stores the output of a check cell compares equal on every run.

Messages mark code with backticks, as Markdown does (```sigmoid_prime` still raises```).
The notebook shows them as code (the HTML form has ``<code>``, the Markdown form keeps the
marks); the plain text, ``str(result)``, ``result.message`` and what grading writes (the
log, the CSV, the feedback files) have no marks.
"""

from __future__ import annotations

import html
import re
import sys
import textwrap
from dataclasses import dataclass, field

#: Every status a check can report.
STATUSES = ("correct", "incorrect", "not attempted", "error", "timeout")

_HEADLINE = {
    "correct": "✓ correct",
    "incorrect": "✗ incorrect",
    "not attempted": "… not attempted yet",
    "error": "✗ error",
    "timeout": "✗ timeout",
}

_COLOUR = {  # border colours of the HTML rendering (green, red, grey, red, orange)
    "correct": "#2e7d32",
    "incorrect": "#c62828",
    "not attempted": "#757575",
    "error": "#c62828",
    "timeout": "#ef6c00",
}


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one ``check(exercise_id, answer)`` call.

    Fields: ``exercise_id``; ``passed`` (bool); ``points`` earned and ``max_points``;
    ``status``, one of ``"correct"``, ``"incorrect"``, ``"not attempted"``, ``"error"``,
    ``"timeout"``; ``detail``, the explanation; ``message``, the full text shown to the
    learner (headline plus detail). ``str(result)`` and ``repr(result)`` are the message.
    """

    exercise_id: str
    status: str
    points: float
    max_points: float
    detail: str
    title: str = ""
    # Execution count of the notebook cell that already displayed this result (set by
    # check()), so the same cell does not show it a second time as its output value.
    _shown_in: list = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    @property
    def passed(self) -> bool:
        return self.status == "correct"

    @property
    def headline(self) -> str:
        return (
            f"{_HEADLINE[self.status]} [{self.exercise_id}] "
            f"({_fmt_points(self.points)}/{_fmt_points(self.max_points)} points)"
        )

    @property
    def plain_detail(self) -> str:
        """``detail`` without the backticks that mark code."""
        return plain(self.detail)

    @property
    def message(self) -> str:
        """The full text (headline and detail) as plain text, without code marks."""
        return f"{self.headline}\n{self.plain_detail}" if self.detail else self.headline

    @property
    def markdown(self) -> str:
        """The full text with code marked by backticks (Markdown)."""
        head = f"**{to_markdown(self.headline)}**"
        return f"{head}  \n{to_markdown(self.detail)}" if self.detail else head

    def as_dict(self) -> dict:
        """The fields written to the grading log (JSON-serialisable, plain text)."""
        return {
            "exercise": self.exercise_id,
            "status": self.status,
            "points": self.points,
            "max_points": self.max_points,
            "detail": self.plain_detail,
            "message": self.message,
        }

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return self.message

    def _repr_pretty_(self, p, cycle):  # IPython's plain-text printer
        p.text(self.message)

    def _repr_markdown_(self) -> str:
        return self.markdown

    def _repr_html_(self) -> str:
        colour = _COLOUR[self.status]
        detail = to_html(self.detail)
        return (
            f'<div class="nnlib-check nnlib-check-{self.status.replace(" ", "-")}" '
            f'style="border-left: 4px solid {colour}; padding: 0.3em 0.8em; margin: 0.3em 0;">'
            f'<strong style="color: {colour};">{html.escape(self.headline)}</strong>'
            + (f"<br>{detail}" if detail else "")
            + "</div>"
        )

    def _ipython_display_(self):
        shell = _shell()
        if shell is not None and self._shown_in and self._shown_in[-1] == shell.execution_count:
            return  # check() already displayed it in this cell
        from IPython.display import display

        display({"text/plain": _fit_column(self.message), "text/html": self._repr_html_()}, raw=True)

    def show(self) -> None:
        """Display the message once in a notebook cell (used by ``check``)."""
        shell = _shell()
        if shell is None:
            return
        self._ipython_display_()
        self._shown_in.append(shell.execution_count)


def _fmt_points(x: float) -> str:
    return f"{x:g}"


def _shell():
    """The running IPython shell, or None in plain Python (IPython is never imported here)."""
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


def _fit_column(message: str, width: int = 88) -> str:
    """``message`` with each line wrapped at ``width`` characters, for the plain-text form a
    notebook stores beside the HTML (the code column of the book is 88 characters wide).

    Only the display is wrapped: ``Result.message`` (and the grading CSV) keep the text as is.
    """
    return "\n".join(
        textwrap.fill(line, width, break_long_words=False, break_on_hyphens=False) if line else line
        for line in message.split("\n")
    )


#: A code span: text between two backticks on one line (as in Markdown).
_CODE = re.compile(r"`([^`\n]+)`")


def plain(text: str) -> str:
    """``text`` without the backticks that mark code: "`f` raises" -> "f raises"."""
    return _CODE.sub(r"\1", text)


def to_html(text: str) -> str:
    """``text`` escaped for HTML, code spans as ``<code>``, line breaks as ``<br>``."""
    parts = []
    last = 0
    for m in _CODE.finditer(text):
        parts.append(html.escape(text[last : m.start()]))
        parts.append(f"<code>{html.escape(m.group(1))}</code>")
        last = m.end()
    parts.append(html.escape(text[last:]))
    return "".join(parts).replace("\n", "<br>")


def to_markdown(text: str) -> str:
    """``text`` as Markdown: code spans kept, characters that Markdown would read as markup
    elsewhere (``_``, ``<``, ``[``, ``]``, ``\\``) escaped, line breaks kept."""
    parts = []
    last = 0
    for m in _CODE.finditer(text):
        parts.append(_MD_SPECIAL.sub(r"\\\1", text[last : m.start()]))
        parts.append(m.group(0))
        last = m.end()
    parts.append(_MD_SPECIAL.sub(r"\\\1", text[last:]))
    return "".join(parts).replace("\n", "  \n")


_MD_SPECIAL = re.compile(r"([\\_<\[\]])")
