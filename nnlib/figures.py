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

import contextlib

from cycler import cycler

__all__ = ["COLORS", "COLUMN_WIDTH", "DPI", "LINESTYLES", "MARKERS", "RC", "style", "subplots", "use"]

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
