"""Chapter 5's interactive figure: depth, activation and initialisation of a deep network.

:func:`build_depth_explorer` returns a control with three inputs (number of Linear
layers, hidden activation, weight initialisation). Each change rebuilds the network,
runs one forward and one backward pass on a fixed random batch, and redraws

* the gradient norm :math:`\\lVert\\partial L/\\partial W_l\\rVert_F` of every layer (log scale),
* the standard deviation of every hidden layer's activations (log scale),
* histograms of the activations of four hidden layers, from the input side to the output side.

:func:`depth_explorer_animation` is the static-site version: the same figure for a
list of settings, as a JavaScript animation with a slider that needs no kernel. Its
frames are drawn in the course style (:mod:`nnlib.figures`) at the column width, with
the same axes on every frame (three histograms, so that no row has more than three
panels), so that what changes from one frame to the next is the network, not the scale.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter
from threadpoolctl import threadpool_limits

from .. import figures
from .._validate import positive_int
from ..diagnostics import activation_stats, deep_mlp, gradient_norms, layer_outputs
from . import Panel, static_animation

ACTIVATIONS = ("sigmoid", "tanh", "relu")
INIT_LABELS = {
    "small": "small: N(0, 0.01²)",
    "xavier": "Xavier: N(0, 2/(n_in+n_out))",
    "he": "He: N(0, 2/n_in)",
    "large": "large: N(0, 1)",
}
#: The same initialisations in mathtext, for the matplotlib frames of the animation.
INIT_MATH = {
    "small": r"small: $\mathcal{N}(0, 0.01^2)$",
    "xavier": r"Xavier: $\mathcal{N}(0, 2/(n_{in}+n_{out}))$",
    "he": r"He: $\mathcal{N}(0, 2/n_{in})$",
    "large": r"large: $\mathcal{N}(0, 1)$",
}
NOTE = ("In Jupyter (`make lab`) the cell above shows live controls; on this page, the "
        "animation below shows the same figure for precomputed settings.")
#: Value range of the animation's histograms, the same on every frame; activations outside
#: it are counted in the first or last bin.
HIST_RANGE = (-1.0, 2.0)


def depth_profile(depth, activation, init, width=64, batch=128, n_classes=10, seed=0,
                  value_range=None, bins=30):
    """Gradient norms and activation statistics of a freshly initialised deep network.

    The batch ``X`` ``(batch, width)`` has standard-normal entries and random labels,
    both from ``seed``; the network is :func:`nnlib.diagnostics.deep_mlp` with ``depth``
    Linear layers. Returns ``(norms, stats)`` as given by
    :func:`~nnlib.diagnostics.gradient_norms` and :func:`~nnlib.diagnostics.activation_stats`.
    With ``value_range=(lo, hi)`` every histogram has ``bins`` bins over that range, and
    activations outside it are counted in the first or last bin (mean and std are those
    of the activations themselves), so that histograms of different networks compare.
    """
    batch, width = positive_int(batch, "batch"), positive_int(width, "width")
    n_classes = positive_int(n_classes, "n_classes")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an int, got {type(seed).__name__} {seed!r:.30}. Pass e.g. seed=0.")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, width))
    y = rng.integers(0, n_classes, batch)
    # The matrices are small (width x width): one BLAS thread is faster than several,
    # which mostly wait for each other (and much faster on a busy machine).
    with threadpool_limits(limits=1, user_api="blas"):
        model = deep_mlp(depth, activation, init, width=width, n_in=width, n_out=n_classes, rng=rng)
        norms, stats = gradient_norms(model, X, y), activation_stats(model, X, bins=bins)
        if value_range is not None:
            lo, hi = value_range
            outs = [a for a, layer in zip(layer_outputs(model, X), model.layers, strict=True)
                    if type(layer).__name__ != "Linear"]
            stats = [dataclasses.replace(s, counts=c, edges=e) for s, (c, e) in zip(
                stats, (np.histogram(np.clip(a, lo, hi), bins=bins, range=(lo, hi)) for a in outs),
                strict=True)]
        return norms, stats


def _layer_picks(n_hidden, k=4):
    """Up to ``k`` hidden-layer positions spread from the first to the last."""
    return sorted(set(np.linspace(0, n_hidden - 1, min(k, n_hidden)).round().astype(int).tolist()))


def _decades(values):
    """Whole decades ``(10**lo, 10**hi)`` around ``values`` (at least one decade)."""
    y = np.log10(np.maximum(np.asarray(values, dtype=float), 1e-300))
    lo = np.floor(y.min())
    return 10.0**lo, 10.0 ** max(np.ceil(y.max()), lo + 1)


def draw_profile(fig, norms, stats, title="", limits=None):
    """Draw a :func:`depth_profile` result on ``fig`` (cleared first), in the course style.

    Top: the gradient norm of every layer and the std of every hidden layer's activations
    (log scales); below: histograms of three hidden layers (first, middle, last). ``limits``
    fixes the axes, so that frames of an animation compare: a dict with ``"norms"`` and
    ``"stds"`` (y limits of the top panels) and ``"hist"`` (x range of the histograms); the
    histograms' y axis is always the fraction of the activations, 0 to 1. Without ``limits``
    each axis fits its data.
    """
    limits = limits or {}
    fig.clear()
    grid = fig.add_gridspec(2, 6, height_ratios=[1.3, 1.0])
    ax_g = fig.add_subplot(grid[0, :3])
    ax_s = fig.add_subplot(grid[0, 3:])
    layers = np.arange(1, len(norms) + 1)
    ax_g.semilogy(layers, np.maximum(norms, 1e-300), color=figures.COLORS[0], ls="-", marker="o")
    ax_g.set_xlabel(r"layer $l$ (1 = next to the input)")
    ax_g.set_title(r"gradient norm $\|\partial L/\partial W_l\|$")
    stds = np.array([s.std for s in stats])
    hidden = np.arange(1, len(stats) + 1)
    ax_s.semilogy(hidden, np.maximum(stds, 1e-300), color=figures.COLORS[1], ls="--", marker="s")
    ax_s.set_xlabel("hidden layer")
    ax_s.set_title("std of the activations")
    for ax, values, key in ((ax_g, norms, "norms"), (ax_s, stds, "stds")):
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_ylim(limits.get(key) or _decades(values))
        n = len(values)
        ax.set_xlim(0.5, n + 0.5)
        ax.set_xticks(sorted({1, (n + 1) // 2, n}))
    for col, j in enumerate(_layer_picks(len(stats), k=3)):
        s = stats[j]
        ax = fig.add_subplot(grid[1, 2 * col:2 * col + 2])
        ax.stairs(s.counts / max(s.counts.sum(), 1), s.edges, fill=True, color=figures.COLORS[2])
        ax.set_title(f"layer {j + 1}: std {s.std:.2g}")
        if "hist" in limits:
            lo, hi = limits["hist"]
            ax.set_xlim(lo, hi)
            ax.set_ylim(0, 1)
            # the end bins also count what lies beyond them
            ticks = np.arange(np.ceil(lo), np.floor(hi) + 1)
            ax.set_xticks(ticks, [rf"$\leq{t:g}$" if t == lo else rf"$\geq{t:g}$" if t == hi
                                  else f"{t:g}" for t in ticks])
        if col == 0:
            ax.set_ylabel("fraction")
        else:
            ax.set_yticklabels([])
        if col == 1:
            ax.set_xlabel("activation value")
    if title:
        fig.suptitle(title)
    return fig


def _fmt_pow10(e):
    return f"1e{e}" if e != 0 else "1"


def _svg_line_panel(x0, y0, w, h, ys, title, colour):
    """SVG for one log-scale line plot of ``ys`` against 1..len(ys), in the box (x0, y0, w, h)."""
    ys = np.maximum(np.asarray(ys, dtype=float), 1e-300)
    logs = np.log10(ys)
    lo, hi = int(np.floor(logs.min())), int(np.ceil(logs.max()))
    if hi == lo:
        hi = lo + 1
    n = len(ys)
    xs = x0 + (np.arange(n) + 0.5) / n * w
    py = y0 + h - (logs - lo) / (hi - lo) * h
    parts = [f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#999"/>',
             f'<text x="{x0 + w / 2:.1f}" y="{y0 - 6}" text-anchor="middle" font-size="12">{title}</text>']
    step = max(1, (hi - lo) // 5 + ((hi - lo) % 5 > 0))
    for e in range(lo, hi + 1, step):
        ty = y0 + h - (e - lo) / (hi - lo) * h
        parts.append(f'<line x1="{x0}" x2="{x0 + w}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{x0 - 4}" y="{ty + 4:.1f}" text-anchor="end" font-size="10">{_fmt_pow10(e)}</text>')
    for k in sorted({0, n // 2, n - 1}):
        parts.append(f'<text x="{xs[k]:.1f}" y="{y0 + h + 13}" text-anchor="middle" font-size="10">{k + 1}</text>')
    pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs, py, strict=True))
    parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"/>')
    parts.extend(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2.5" fill="{colour}"/>' for a, b in zip(xs, py, strict=True))
    return parts


def _svg_hist_panel(x0, y0, w, h, stats_row, title):
    """SVG for one histogram (bars of relative frequency) in the box (x0, y0, w, h)."""
    frac = stats_row.counts / max(stats_row.counts.sum(), 1)
    top = max(frac.max(), 1e-12)
    bw = w / len(frac)
    parts = [f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#999"/>',
             f'<text x="{x0 + w / 2:.1f}" y="{y0 - 5}" text-anchor="middle" font-size="11">{title}</text>']
    for k, f in enumerate(frac):
        bh = f / top * h
        parts.append(f'<rect x="{x0 + k * bw:.1f}" y="{y0 + h - bh:.1f}" width="{bw:.1f}" '
                     f'height="{bh:.1f}" fill="{figures.COLORS[2]}"/>')
    lo, hi = stats_row.edges[0], stats_row.edges[-1]
    parts.append(f'<text x="{x0}" y="{y0 + h + 12}" font-size="10">{lo:.2g}</text>')
    parts.append(f'<text x="{x0 + w}" y="{y0 + h + 12}" text-anchor="end" font-size="10">{hi:.2g}</text>')
    return parts


def profile_svg(norms, stats, title=""):
    """The widget's figure as an SVG string: gradient norms, activation stds, four histograms.

    Drawn directly (no matplotlib), so a redraw takes a few milliseconds.
    """
    W, H = 640, 360
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
             f'viewBox="0 0 {W} {H}" font-family="sans-serif">',
             f'<text x="{W / 2}" y="16" text-anchor="middle" font-size="13">{title}</text>']
    norm = "‖∂L/∂W<tspan baseline-shift=\"sub\" font-size=\"9\">l</tspan>‖"
    parts += _svg_line_panel(60, 45, 230, 150, norms, f"gradient norm {norm} per layer", figures.COLORS[0])
    parts += _svg_line_panel(385, 45, 230, 150, [s.std for s in stats], "std of activations per hidden layer",
                             figures.COLORS[1])
    for col, j in enumerate(_layer_picks(len(stats))):
        s = stats[j]
        parts += _svg_hist_panel(20 + col * 155, 250, 135, 85, s, f"layer {j + 1}: std {s.std:.1e}")
    parts.append(f'<text x="{W / 2}" y="{H - 2}" text-anchor="middle" font-size="10">'
                 "x axis of the top panels: layer, 1 = next to the input</text>")
    parts.append("</svg>")
    return "\n".join(parts)


def build_depth_explorer(depth=10, activation="sigmoid", init="xavier", width=64, seed=0):
    """Build the control: a depth slider, activation and initialisation menus, and the figure.

    Returns an ``ipywidgets.VBox`` (a :class:`~nnlib.widgets.Panel`, whose text form is
    short and stable); its ``redraw()`` attribute is the callback (also
    called on every change), and ``output`` the ``ipywidgets.Output`` it draws into.
    """
    import ipywidgets as w
    from IPython.display import SVG

    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}.")
    if init not in INIT_LABELS:
        raise ValueError(f"init must be one of {tuple(INIT_LABELS)}, got {init!r}.")
    depth_in = w.IntSlider(value=depth, min=2, max=20, description="layers")
    act_in = w.Dropdown(options=list(ACTIVATIONS), value=activation, description="activation")
    init_in = w.Dropdown(options=[(v, k) for k, v in INIT_LABELS.items()], value=init,
                         description="init", layout=w.Layout(width="340px"))
    out = w.Output()

    def redraw(change=None):
        norms, stats = depth_profile(depth_in.value, act_in.value, init_in.value, width=width, seed=seed)
        title = f"{depth_in.value} layers, {act_in.value}, {INIT_LABELS[init_in.value]}"
        out.outputs = ()
        out.append_display_data(SVG(data=profile_svg(norms, stats, title)))

    for control in (depth_in, act_in, init_in):
        control.observe(redraw, names="value")
    box = Panel([w.HBox([depth_in, act_in]), init_in, out], "depth explorer")
    box.redraw = redraw
    box.output = out
    box.controls = (depth_in, act_in, init_in)
    redraw()
    return box


def depth_explorer_animation(settings, depth=10, width=64, seed=0, dpi=100, element_id="ch5_depth_explorer"):
    """The static-site version: one frame per ``(activation, init)`` in ``settings``.

    Returns the HTML of a matplotlib JavaScript animation (``to_jshtml``) with a slider.
    Frames are 7 in wide (the column; 700 px at the default ``dpi``), in the course style,
    and every frame has the same axes: the y limits of the two top panels cover all
    frames, and the histograms span :data:`HIST_RANGE`. matplotlib names the animation's
    HTML elements with a random id; it is replaced by ``element_id`` so that the same input
    always gives the same HTML. Its link to an icon stylesheet on another host is removed:
    the site must work offline.
    """

    import matplotlib as mpl
    from matplotlib import animation

    frames = [(a, i, depth_profile(depth, a, i, width=width, seed=seed, value_range=HIST_RANGE))
              for a, i in settings]
    limits = {
        "norms": _decades(np.concatenate([norms for _, _, (norms, _) in frames])),
        "stds": _decades([s.std for _, _, (_, stats) in frames for s in stats]),
        "hist": HIST_RANGE,
    }
    with figures.style():
        fig = Figure(figsize=(figures.COLUMN_WIDTH, 4.6), dpi=dpi, layout="constrained")

        def show(k):
            act, init, (norms, stats) = frames[k]
            title = f"frame {k + 1}/{len(frames)}: {depth} layers, {act}, {INIT_MATH[init]}"
            draw_profile(fig, norms, stats, title, limits=limits)
            return []

        anim = animation.FuncAnimation(fig, show, frames=len(frames), interval=1500, blit=False)
        with mpl.rc_context({"savefig.dpi": "figure"}):  # frames at ``dpi``, not the style's 150
            alt = (f"a {depth}-layer network at initialisation, one frame for each combination of "
                   "activation and weight initialisation shown; each frame shows the gradient norm of "
                   "every layer, the spread of every hidden layer's activations and histograms of "
                   "three hidden layers, all on the same axes")
            return static_animation(anim, element_id, alt=alt)
