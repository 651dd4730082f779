"""One symbol, one meaning: the chapters' displayed equations use the notation page's symbols.

The symbols of every display equation in the chapters' markdown cells (``$$ ... $$``
blocks, ``{math}`` blocks and bare ``\\begin{...} ... \\end{...}`` environments) are
compared with the symbols listed in the first column of the tables on
``chapters/notation.md``:

* every symbol a chapter displays is on the notation page (a short allow-list below covers
  the one letter that is an operator, not a symbol);
* every symbol on the notation page is used somewhere in the chapters' math;
* a symbol the page marks "(Chapter N only)" appears in no other chapter;
* transposes are written ``^\\top`` (never ``^T``), the loss is never ``\\mathcal{L}``, and
  layer indices are subscripts (never ``z^l``, ``W^{l+1}``, ``\\delta^L``).

A *symbol* is a Latin letter, a Greek letter or an unknown macro, with its decoration
(``\\hat y``, ``\\tilde L``, ``\\mathbb R``, ``\\mathbf 1``); subscripts, superscripts
and primes are looked into but not kept (``z_l``, ``z_1`` and ``z'`` are all ``z``; the
``l`` is a symbol of its own). Text (``\\text{...}``, ``\\operatorname{...}``,
``\\mathrm{...}``, ``\\texttt{...}``) and operator macros (``\\sum``, ``\\frac``,
``\\partial``, ``\\odot``, ``\\log``, ``\\top``, ...) are not symbols. Each failure lists
the offending symbols with the chapter and the cell.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
NOTATION = ROOT / "chapters" / "notation.md"

GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
    "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "rho", "varrho", "sigma",
    "varsigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega", "ell",
    "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
}
# Macros that decorate the symbol they apply to: \hat{y} is the symbol "\hat y".
DECORATIONS = {
    "hat", "widehat", "tilde", "widetilde", "bar", "overline", "vec", "dot", "ddot",
    "mathcal", "mathbb", "mathbf", "boldsymbol", "bm", "mathsf", "mathit", "mathscr",
}
# Macros whose (first) braced argument is text or a name, not math: skipped whole.
TEXT_MACROS = {
    "text", "textrm", "textit", "textbf", "textsf", "texttt", "mathrm", "operatorname",
    "mbox", "label", "tag", "begin", "end", "hspace", "vspace", "color", "textcolor",
}
# Operators, relations, delimiters, spacing and layout: not symbols.
OPERATORS = {
    # operators and functions with a fixed meaning
    "frac", "tfrac", "dfrac", "sqrt", "sum", "prod", "int", "partial", "nabla", "odot",
    "otimes", "oplus", "cdot", "cdots", "times", "div", "top", "log", "ln", "exp", "tanh",
    "sinh", "cosh", "sin", "cos", "max", "min", "arg", "sup", "inf", "lim", "det", "Pr",
    "circ", "ast", "star", "prime", "bmod", "pmod", "mod",
    # constants whose glyph has one meaning everywhere
    "infty", "pi",
    # relations and arrows
    "approx", "le", "leq", "ge", "geq", "ne", "neq", "pm", "mp", "in", "notin", "to",
    "mapsto", "leftarrow", "rightarrow", "Leftarrow", "Rightarrow", "longrightarrow",
    "Longrightarrow", "longleftarrow", "iff", "implies", "gets", "ll", "gg", "sim", "simeq",
    "propto", "equiv", "coloneqq", "mid", "subset", "subseteq", "setminus", "forall",
    "exists", "emptyset", "cup", "cap", "lesssim", "gtrsim",
    # dots, delimiters, sizes and spacing
    "dots", "ldots", "vdots", "ddots", "lVert", "rVert", "lvert", "rvert", "Vert", "vert",
    "langle", "rangle", "lfloor", "rfloor", "lceil", "rceil", "left", "right", "middle",
    "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr",
    "Biggl", "Biggr", "quad", "qquad", "displaystyle", "textstyle", "scriptstyle",
    "limits", "nolimits", "colon", "cdotp", "hline", "phantom", "boxed", "substack",
    # layout of braces and stacked material (their arguments are math and are read)
    "underbrace", "overbrace", "underset", "overset", "stackrel", "underline",
}
# Letters that are not symbols of the book, with the reason. Keep this list short.
ALLOWED = {
    "d": "the differential operator of Leibniz's notation, dy/dx, and the d of code names "
         "such as dW written in a formula",
}

MACRO = re.compile(r"\\([A-Za-z]+)|\\(.)", re.S)
FENCE = re.compile(r"^(`{3,}|~{3,})(.*?)$(.*?)^\1\s*$", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")
DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
ENVIRONMENT = re.compile(r"\\begin\{([A-Za-z*]+)\}.*?\\end\{\1\}", re.S)
INLINE = re.compile(r"(?<![\\$])\$([^$\n]+?)\$")
TRANSPOSE_T = re.compile(
    r"\^\s*(?:T(?![A-Za-z])|\{\s*T\s*\}|\\(?:mathsf|mathrm|text)\s*\{\s*T\s*\}|\\intercal)"
)
MATHCAL_L = re.compile(r"\\mathcal\s*(?:\{\s*L\s*\}|L(?![A-Za-z]))")
SUPERSCRIPT_LAYER = re.compile(
    r"\^\s*(?:\{\s*\(?\s*[lL]\s*(?:[+-]\s*1\s*)?\)?\s*\}|[lL](?![A-Za-z]))"
)
SCOPED = re.compile(r"\(Chapters?\s+(\d+)\s+only\)")


def _argument(s: str, pos: int) -> tuple[str, int]:
    """The braced group (or single token) starting at ``s[pos]`` (spaces skipped), and the end."""
    while pos < len(s) and s[pos].isspace():
        pos += 1
    if pos >= len(s):
        return "", pos
    if s[pos] == "{":
        depth = 0
        for end in range(pos, len(s)):
            depth += {"{": 1, "}": -1}.get(s[end], 0)
            if depth == 0:
                return s[pos + 1:end], end + 1
        return s[pos + 1:], len(s)
    m = MACRO.match(s, pos)
    if m:
        return m.group(0), m.end()
    return s[pos], pos + 1


def symbols(math: str) -> list[str]:
    """The normalised symbols of a LaTeX math string, in order of appearance (repeats kept)."""
    found: list[str] = []
    pos = 0
    while pos < len(math):
        ch = math[pos]
        if ch == "\\":
            m = MACRO.match(math, pos)
            if m is None:  # a lone trailing backslash
                break
            name = m.group(1)
            pos = m.end()
            if name is None:  # \\, \,, \;, \{, \_ ...: spacing, line breaks, escaped punctuation
                continue
            if name in TEXT_MACROS:
                arg, pos = _argument(math, pos)
                if name == "operatorname" and arg == "*":  # \operatorname*{arg\,min}
                    _, pos = _argument(math, pos)
                if name == "begin" and arg == "array":  # column specification {cc}
                    _, pos = _argument(math, pos)
                if name == "textcolor":
                    _, pos = _argument(math, pos)
                continue
            if name in DECORATIONS:
                arg, pos = _argument(math, pos)
                inner = symbols(arg) or [t for t in arg if t.isdigit()]
                found.extend(f"\\{name} {s}" for s in inner)
                continue
            if name in GREEK:
                found.append(f"\\{name}")
            elif name not in OPERATORS:
                found.append(f"\\{name}")  # unknown: a symbol until it is classified above
            continue
        if ch.isascii() and ch.isalpha():
            found.append(ch)
        pos += 1
    return found


def _mask(text: str, pattern: re.Pattern) -> str:
    return pattern.sub(lambda m: " " * len(m.group(0)), text)


def display_math(markdown: str) -> list[str]:
    """Display equations of a markdown cell: ``{math}`` blocks, ``$$...$$``, bare environments."""
    blocks = [m.group(3) for m in FENCE.finditer(markdown) if m.group(2).strip() == "{math}"]
    text = _mask(_mask(markdown, FENCE), INLINE_CODE)
    blocks += [m.group(1) for m in DISPLAY.finditer(text)]
    blocks += [m.group(0) for m in ENVIRONMENT.finditer(_mask(text, DISPLAY))]
    return blocks


def inline_math(markdown: str) -> list[str]:
    text = _mask(_mask(_mask(markdown, FENCE), INLINE_CODE), DISPLAY)
    return [m.group(1) for m in INLINE.finditer(text)]


@cache
def chapter_cells() -> tuple[tuple[str, int, str], ...]:
    """``(notebook name, cell index, markdown source)`` for every markdown cell of the chapters."""
    cells = []
    for path in CHAPTERS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for index, cell in enumerate(nb["cells"]):
            if cell["cell_type"] == "markdown":
                source = cell["source"]
                cells.append((path.name, index, "".join(source) if isinstance(source, list) else source))
    return tuple(cells)


def _cells_of_table_row(line: str) -> list[str]:
    """Split a markdown table row at the ``|`` that are outside ``$...$`` and code spans."""
    cells, current, in_math, in_code = [], [], False, False
    for ch in line.strip().strip("|"):
        if ch == "$" and not in_code:
            in_math = not in_math
        elif ch == "`" and not in_math:
            in_code = not in_code
        if ch == "|" and not in_math and not in_code:
            cells.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    cells.append("".join(current).strip())
    return cells


@cache
def notation_rows() -> tuple[tuple[frozenset[str], str], ...]:
    """``(symbols of the Symbol column, whole row)`` for every row of the page's symbol tables."""
    rows, in_table = [], False
    for line in NOTATION.read_text(encoding="utf-8").splitlines():
        if not line.lstrip().startswith("|"):
            in_table = False
            continue
        cells = _cells_of_table_row(line)
        if cells[0] == "Symbol":
            in_table = True
        elif in_table and not set(cells[0]) <= set("-: "):
            rows.append((frozenset(s for m in INLINE.finditer(cells[0]) for s in symbols(m.group(1))), line))
    return tuple(rows)


def notation_symbols() -> set[str]:
    return set().union(*(syms for syms, _ in notation_rows()))


def _snippet(math: str, width: int = 70) -> str:
    flat = " ".join(math.split())
    return flat if len(flat) <= width else flat[:width - 3] + "..."


def _report(offences: dict[tuple[str, int], dict[str, str]]) -> str:
    """One line per (chapter, cell): the offending symbols, then the first equation with one."""
    lines = []
    for (chapter, index), found in sorted(offences.items()):
        syms = ", ".join(sorted(found))
        lines.append(f"  {chapter} cell {index}: {syms}   in: {_snippet(next(iter(found.values())))}")
    return "\n".join(lines)


# --- the extractor itself ------------------------------------------------------------------


@pytest.mark.parametrize(("math", "expected"), [
    (r"z_l = W_l a_{l-1} + b_l", ["z", "l", "W", "l", "a", "l", "b", "l"]),
    (r"\hat{y} - \hat y + \tilde L", [r"\hat y", r"\hat y", r"\tilde L"]),
    (r"\frac{\partial L}{\partial W_2} = \delta_2\, a_1^\top", ["L", "W", r"\delta", "a"]),
    (r"\operatorname{softmax}(z) \text{ for each } \mathrm{row}", ["z"]),
    (r"\mathbf{1}\, b^\top \in \mathbb{R}^{B \times n}", [r"\mathbf 1", "b", r"\mathbb R", "B", "n"]),
    (r"\sigma'(z) \odot \phi''(z) \qquad \ell^{(i)}", [r"\sigma", "z", r"\phi", "z", r"\ell", "i"]),
    (r"\left(\tfrac{1}{4}\right)^{k} \cdot \lVert W \rVert_F^2", ["k", "W", "F"]),
    (r"\begin{aligned} x &\leftarrow x \\ \end{aligned}", ["x", "x"]),
    (r"\foo(x)", [r"\foo", "x"]),
])
def test_symbols_are_extracted_and_normalised(math, expected):
    assert symbols(math) == expected


def test_display_math_is_found_in_every_form():
    cell = "\n".join([
        "Text with $inline$ math and `$$code$$`.", "$$", "a = b", "$$",
        r"\begin{equation} c \end{equation}", "```{math}", "d = e", "```",
        "```python", "$$ f $$", "```",
    ])
    assert [" ".join(b.split()) for b in display_math(cell)] == [
        "d = e", "a = b", r"\begin{equation} c \end{equation}"]
    assert inline_math(cell) == ["inline"]


def test_notation_page_has_symbol_tables():
    rows = notation_rows()
    assert len(rows) >= 40, f"{NOTATION.name}: found only {len(rows)} rows in tables headed 'Symbol'"
    missing = {"\\theta", "N", "\\kappa", "\\beta", "m", "v", "G", "\\epsilon", "h", "D",
               "\\phi", "\\sigma", "\\Delta", "\\delta", "\\ell", "\\lambda", "K", "B", "s",
               "L", "J", "i"} - notation_symbols()
    assert not missing, f"{NOTATION.name} lacks {sorted(missing)}"


# --- the chapters against the page ---------------------------------------------------------


def test_every_displayed_symbol_is_on_the_notation_page():
    known = notation_symbols() | set(ALLOWED)
    offences: dict[tuple[str, int], dict[str, str]] = defaultdict(dict)
    for chapter, index, source in chapter_cells():
        for block in display_math(source):
            for sym in set(symbols(block)) - known:
                offences[chapter, index].setdefault(sym, block)
    if offences:
        pytest.fail(f"symbols in the chapters' display math that {NOTATION.name} does not list "
                    "(add them to its tables, or use the book's symbol):\n" + _report(offences),
                    pytrace=False)


def test_every_notation_symbol_is_used_in_the_chapters():
    used = {sym for _, _, source in chapter_cells()
            for block in display_math(source) + inline_math(source) for sym in symbols(block)}
    unused: dict[str, str] = {}
    for syms, line in notation_rows():
        for sym in syms - used:
            unused.setdefault(sym, line.strip())
    if unused:
        pytest.fail(f"symbols on {NOTATION.name} that no chapter's math uses:\n"
                    + "\n".join(f"  {sym}   (row: {_snippet(row)})"
                                 for sym, row in sorted(unused.items())), pytrace=False)


def test_chapter_only_symbols_stay_in_their_chapter():
    scoped = {sym: m.group(1).zfill(2) for syms, line in notation_rows()
              if (m := SCOPED.search(line)) for sym in syms}
    assert scoped, f"{NOTATION.name} marks no symbol '(Chapter N only)' (g belongs to Chapter 2)"
    offences: dict[tuple[str, int], dict[str, str]] = defaultdict(dict)
    for chapter, index, source in chapter_cells():
        for block in display_math(source):
            for sym in set(symbols(block)):
                if sym in scoped and not chapter.startswith(scoped[sym] + "_"):
                    offences[chapter, index].setdefault(sym, block)
    if offences:
        pytest.fail("symbols used outside the one chapter the notation page gives them "
                    f"({', '.join(f'{s}: {c}' for s, c in sorted(scoped.items()))}):\n"
                    + _report(offences), pytrace=False)


@pytest.mark.parametrize(("rule", "pattern"), [
    ("a transpose written ^T (write ^\\top)", TRANSPOSE_T),
    ("\\mathcal{L} (the loss is L)", MATHCAL_L),
    ("a layer index as a superscript (write z_l, W_{l+1}, delta_D)", SUPERSCRIPT_LAYER),
], ids=["transpose", "mathcal-L", "layer-superscript"])
def test_display_math_follows_the_book_conventions(rule, pattern):
    offences: dict[tuple[str, int], dict[str, str]] = defaultdict(dict)
    for chapter, index, source in chapter_cells():
        for block in display_math(source):
            for m in pattern.finditer(block):
                offences[chapter, index].setdefault(" ".join(m.group(0).split()), block)
    if offences:
        pytest.fail(f"display math with {rule}:\n" + _report(offences), pytrace=False)


@pytest.mark.parametrize("page", ["notation.md", "glossary.md"])
def test_back_matter_math_follows_the_book_conventions(page):
    text = (ROOT / "chapters" / page).read_text(encoding="utf-8")
    math = display_math(text) + inline_math(text)
    assert math, f"{page}: no math found"
    bad = sorted({" ".join(m.group(0).split()) for block in math
                  for pattern in (TRANSPOSE_T, MATHCAL_L, SUPERSCRIPT_LAYER)
                  for m in pattern.finditer(block)})
    assert not bad, f"{page}: math written against the book's conventions: {bad}"
