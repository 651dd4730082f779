"""How the stored chapter notebooks read, checked without a browser.

* every printed line fits the 88-character code column;
* a check prints its number, not a bare ``True``/``False`` verdict;
* every figure is saved at the course resolution (>= 150 dpi, ``nnlib.figures``) and its
  cell gives it an alt text that says what it shows (cell metadata
  ``{"mystnb": {"image": {"alt": ...}}}``, which myst-nb puts on the page);
* frames of the kernel-free animations fill the column: 7 in at >= 100 dpi, so they are
  shown at about their natural size and 10 pt text is at least 13 px.

``tests/test_site_reading.py`` checks the same pages in a browser.
"""

from __future__ import annotations

import base64
import re
import struct
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
COLUMNS = 88
BARE_VERDICT = re.compile(r"(:|=|\s)\s*(True|False)\s*$|\b(True|False),\s*(True|False)\b")


def _cells(path):
    nb = nbformat.read(path, 4)
    return [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]


def _text_outputs(cell):
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            yield out.text
        elif out.output_type in ("execute_result", "display_data"):
            data = out.get("data", {})
            if "text/plain" in data and not {"image/png", "text/html"} & set(data):
                yield data["text/plain"]


def png_dpi(png: bytes) -> float | None:
    """Horizontal resolution from a PNG's pHYs chunk (matplotlib writes it), or None."""
    pos = 8
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        if kind == b"pHYs":
            per_metre, _, unit = struct.unpack(">IIB", png[pos + 8:pos + 17])
            return per_metre * 0.0254 if unit == 1 else None
        pos += 12 + length
    return None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_printed_lines_fit_the_code_column(path):
    long = [f"cell {i}: {line[:60]}... ({len(line)} chars)"
            for i, cell in _cells(path) for text in _text_outputs(cell)
            for line in text.splitlines() if len(line) > COLUMNS]
    assert not long, f"{path.name}: printed lines over {COLUMNS} characters:\n" + "\n".join(long)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_checks_print_numbers_not_bare_verdicts(path):
    bare = [f"cell {i}: {line.strip()[:80]}" for i, cell in _cells(path)
            for text in _text_outputs(cell) for line in text.splitlines() if BARE_VERDICT.search(line)]
    assert not bare, f"{path.name}: lines that say only True/False:\n" + "\n".join(bare)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_figures_are_legible_and_described(path):
    problems = []
    for i, cell in _cells(path):
        pngs = [out["data"]["image/png"] for out in cell.get("outputs", [])
                if "image/png" in out.get("data", {})]
        if not pngs:
            continue
        alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt", "")
        if len(alt.split()) < 6 or re.search(r"\.(png|svg|jpe?g)\b|/", alt):
            problems.append(f"cell {i}: alt text missing or too short to say what it shows: {alt!r}")
        for png in pngs:
            dpi = png_dpi(base64.b64decode(png))
            if dpi is None or dpi < 149.5:
                problems.append(f"cell {i}: figure saved at {dpi} dpi (the course style is 150)")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_animation_frames_are_drawn_large_enough(path):
    problems = []
    for i, cell in _cells(path):
        for out in cell.get("outputs", []):
            html = out.get("data", {}).get("text/html", "")
            frames = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)
            if frames:
                png = base64.b64decode(frames[0])
                width = struct.unpack(">I", png[16:20])[0]  # IHDR: frames carry no pHYs chunk
                if width < 690:
                    problems.append(f"cell {i}: animation frames {width} px wide (need >= 690: "
                                    "the column width, 7 in at >= 100 dpi)")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)
