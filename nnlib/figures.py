"""The course's figure style: one look for every figure of the book (Chapters 1-5).

Figures are drawn for the content column of the website, about 7 inches wide, and saved at
150 dpi, so a figure's image is about 1050 px wide and the page shows it at roughly 70 % of
that: 10 pt text then reads at about 14 px. Text is never set below 9 pt (legends, ticks).

* :data:`COLORS` is the Okabe-Ito palette, which readers with the common forms of colour
  blindness can tell apart; every line also gets its own line style and marker
  (:data:`LINESTYLES`, :data:`MARKERS`), so curves stay distinct in grey print too.
* Labels, legends and titles use matplotlib's mathtext (``r"$\\|\\partial L/\\partial W_l\\|$"``)
  for symbols, not plain-text math.
* Panels go in a grid (:func:`subplots` keeps the column width whatever the grid), never
  five across.

Call :func:`use` once at the top of a chapter. Widgets and animations use the same style
through :func:`style`, a context manager, so they do not change a notebook's global state.
"""

from __future__ import annotations

import base64
import contextlib
import io
import re
from html import escape

from cycler import cycler

__all__ = ["COLORS", "COLUMN_WIDTH", "DPI", "LINESTYLES", "MARKERS", "RC", "static_animation", "style",
           "subplots", "use"]

COLUMN_WIDTH = 7.0  # inches: the website's content column
DPI = 150  # so that 10 pt text is about 14 px when the page shows the figure at ~70 %

#: Okabe & Ito (2008): blue, orange, bluish green, vermillion, reddish purple, sky blue, yellow.
COLORS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
LINESTYLES = ["-", "--", "-.", ":", "-", "--", "-.", ":"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]

RC = {
    "figure.figsize": (COLUMN_WIDTH, 3.6),
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "figure.constrained_layout.use": True,
    "font.size": 10,
    "axes.titlesize": 10.5,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.framealpha": 0.9,
    "legend.loc": "best",
    "lines.linewidth": 1.6,
    "lines.markersize": 4.5,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": cycler(color=COLORS) + cycler(linestyle=LINESTYLES) + cycler(marker=MARKERS),
    "axes.formatter.use_mathtext": True,  # 10^{-3} tick labels, not 1e-3
    "mathtext.fontset": "dejavusans",
    "image.cmap": "viridis",
}


def use() -> None:
    """Apply the course style to every later figure of the running notebook."""
    import matplotlib.pyplot as plt

    plt.rcParams.update(RC)


@contextlib.contextmanager
def style():
    """The course style for the figures drawn inside a ``with`` block (widgets, animations)."""
    import matplotlib.pyplot as plt

    with plt.rc_context(RC):
        yield


def subplots(nrows: int = 1, ncols: int = 1, height: float | None = None, **kwargs):
    """``plt.subplots`` at the column width: ``height`` in inches (default 3.3 per row).

    Returns ``(fig, axes)`` exactly as ``plt.subplots`` does. More than three panels in a row
    do not fit the column at a legible size: pass ``nrows`` instead.
    """
    import matplotlib.pyplot as plt

    for name, value in (("nrows", nrows), ("ncols", ncols)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"subplots: {name} must be an integer >= 1, got {value!r:.40}; pass e.g. {name}=2")
    if height is not None and (isinstance(height, bool) or not isinstance(height, (int, float))
                               or not 0 < height < 30):
        raise ValueError(f"subplots: height must be a number of inches between 0 and 30, got {height!r:.40}; "
                         "pass e.g. height=3.5, or leave it out")
    if ncols > 3:
        raise ValueError(
            f"subplots: ncols={ncols} panels side by side are too small to read in a 7-inch column; "
            f"use a grid, e.g. nrows={-(-ncols // 3)}, ncols=3"
        )
    if height is None:
        height = 3.3 * nrows if ncols > 1 or nrows > 1 else 3.6
    return plt.subplots(nrows, ncols, figsize=(COLUMN_WIDTH, height), **kwargs)


def static_animation(anim, name: str, alt: str | None = None, colors: int | None = 128) -> str:
    """HTML of a matplotlib animation with its own slider and play buttons, for the website.

    ``anim.to_jshtml`` is the kernel-free version of a widget. A few things are fixed so
    the output can be stored in a notebook, served offline and read by everyone:

    * its element ids are random on every run; they are replaced by ``name`` plus a
      counter, so re-executing the notebook gives byte-identical output (nbval);
    * it links an icon stylesheet from a public CDN; the link is dropped, because the
      site must request nothing from other hosts (the site serves the icon font the
      buttons use);
    * the frame picture gets ``alt`` as its text alternative (by default the figure's
      axes titles), and the frame slider a name;
    * a caption for the print edition, which shows the animation as one still frame
      at its last frame (hidden on screen by the site's stylesheet);
    * every frame is stored with a palette of ``colors`` colours (``None``: full colour).
      A course figure has a few inks and their anti-aliased edges, so 128 colours look
      the same and make the page several times lighter; the result is deterministic.
    """
    html = anim.to_jshtml(default_mode="once")
    if colors is not None:
        html = _palette_frames(html, colors)
    for i, uid in enumerate(dict.fromkeys(re.findall(r"[0-9a-f]{32}", html))):
        html = html.replace(uid, f"{name}{i}")
    html = re.sub(r"<link[^>]*font-awesome[^>]*>", "", html)
    frames = len(re.findall(r"frames\[\d+\] = ", html))
    if alt is None:
        alt = _figure_description(anim)
    text = escape(f"Animation, {frames} frames: {alt}" if alt else f"Animation, {frames} frames")
    html = re.sub(r'<img id="(_anim_img[^"]*)">', rf'<img id="\1" alt="{text}">', html, count=1)
    html = html.replace(
        'class="anim-slider"', 'class="anim-slider" aria-label="animation frame"', 1
    )
    caption = (
        f'<p class="anim-print-caption">{text}. Shown at its last frame; '
        "the website plays it.</p>"
    )
    return html.replace('<div class="anim-controls">', caption + '\n  <div class="anim-controls">', 1)


def _figure_description(anim) -> str:
    """The titles of the animated figure's axes (and its suptitle), as one phrase."""
    fig = getattr(anim, "_fig", None)
    if fig is None:
        return ""
    titles = [fig._suptitle.get_text()] if getattr(fig, "_suptitle", None) else []
    titles += [ax.get_title() for ax in fig.axes]
    return "; ".join(t.strip() for t in titles if t and t.strip())


def _palette_png(png: bytes, colors: int) -> bytes:
    """``png`` re-encoded with a palette of ``colors`` colours (no dithering: deterministic)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    image.save(buf, format="png", optimize=True)
    return buf.getvalue()


def _palette_frames(html: str, colors: int) -> str:
    """Every PNG frame embedded in ``to_jshtml``'s HTML, stored with :func:`_palette_png`."""

    def shrink(match):
        png = _palette_png(base64.b64decode(match.group(2).replace("\\\n", "")), colors)
        data = base64.encodebytes(png).decode("ascii").replace("\n", "\\\n")
        return match.group(1) + data.rstrip("\\\n") + '"'

    return re.sub(r'(data:image/png;base64,)([A-Za-z0-9+/=\\\n]+)"', shrink, html)
