"""The print edition, ``_build/pdf/book.pdf`` (written by ``make pdf``), opened and read.

Checked: a plausible page count; every page of the table of contents present, by its
title, in order; the glossary's Chinese terms extractable as text (so they were printed
with a real CJK font, not as boxes); no word beyond the right margin or before the left
one (the character boxes of PDFium's text layer, through pypdfium2), so no code line, table
or equation is cut off; page numbers in the footer; the solutions left out.

``make test`` writes the PDF before running this file (target ``pdf-test``). Run on its
own without the PDF, the test is skipped, unless CI is set.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PDF = ROOT / "_build" / "pdf" / "book.pdf"
sys.path.insert(0, str(ROOT / "_ext"))

import pdf_edition  # noqa: E402

MM = 72 / 25.4  # PDF points per millimetre
LEFT = float(pdf_edition.MARGIN["left"].removesuffix("mm")) * MM
RIGHT = float(pdf_edition.MARGIN["right"].removesuffix("mm")) * MM
SLACK = 1.5  # points: rounding of glyph boxes
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
PRIVATE_USE = re.compile(r"[\ue000-\uf8ff]")


@pytest.fixture(scope="module")
def pdf():
    """Per page: its width, its text and the boxes of its visible characters."""
    if not PDF.exists():
        message = f"{PDF.relative_to(ROOT)} not found: run `make pdf`"
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(message + " (CI is set, so the print edition must be checked)")
        pytest.skip(message)
    import pypdfium2

    doc = pypdfium2.PdfDocument(PDF)
    pages = []
    try:
        for i in range(len(doc)):
            page = doc[i]
            text = page.get_textpage()
            chars = []
            for c in range(text.count_chars()):
                char = text.get_text_range(c, 1)
                if not char.strip():
                    continue
                left, _, right, _ = text.get_charbox(c)
                if PRIVATE_USE.match(char) and right - left > page.get_size()[0] / 2:
                    # MathJax draws a long brace or arrow from pieces in its private-use glyphs,
                    # stretched; PDFium gives such a piece a box far wider than the page
                    continue
                chars.append((char, left, right))
            pages.append({"width": page.get_size()[0], "text": text.get_text_range(), "chars": chars})
    finally:
        doc.close()
    return pages


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_page_count(pdf):
    assert 40 <= len(pdf) <= 600, f"{len(pdf)} pages"


def test_every_page_of_the_book_in_order(pdf):
    entries = pdf_edition.document()[1]
    body = [_flat(p["text"]) for p in pdf]
    at = 2  # after the title page and the first page of contents
    missing = []
    for _, page, title in entries:
        want = _flat(title)[:40]
        found = next((i for i in range(at, len(body)) if want in body[i]), None)
        if found is None:
            missing.append(f"{page}: {title!r}")
        else:
            at = found
    assert not missing, "not found in the PDF, in table-of-contents order:\n" + "\n".join(missing)
    contents = " ".join(body[1:4])
    unnumbered = [t for _, _, t in entries if not re.search(re.escape(_flat(t)[:30]) + r".*? (\d+)\b", contents)]
    assert not unnumbered, f"the contents give no page number for: {unnumbered}"


def test_glossary_chinese_is_text(pdf):
    glossary = (ROOT / "chapters" / "glossary.md").read_text(encoding="utf-8")
    terms = sorted(set(CJK.findall(glossary)))
    assert terms, "the glossary has Chinese terms"
    text = "".join("".join(p["text"].split()) for p in pdf)
    missing = [t for t in terms if t not in text]
    assert not missing, f"Chinese terms not extractable from the PDF (printed as boxes?): {missing[:10]}"


def test_no_text_beyond_the_margins(pdf):
    out = []
    for number, page in enumerate(pdf, start=1):
        right = page["width"] - RIGHT + SLACK
        beyond = [(c, x0, x1) for c, x0, x1 in page["chars"] if x1 > right or x0 < LEFT - SLACK]
        if beyond:
            context = "".join(c for c, _, _ in beyond)[:40]
            out.append(f"page {number}: {len(beyond)} characters outside, e.g. {context!r}")
    assert not out, f"text outside the column on {len(out)} pages:\n" + "\n".join(out[:20])


def test_page_numbers_in_the_footer(pdf):
    for number in (3, len(pdf) // 2, len(pdf)):
        last = pdf[number - 1]["text"].strip().splitlines()[-1].strip()
        assert last == str(number), f"page {number} ends with {last!r}, not its number"


def test_solutions_left_out(pdf):
    text = " ".join(p["text"] for p in pdf)
    assert "Click to hide" not in text and "Click to show" not in text
