"""Chapter 5's interactive figure: depth, activation and initialisation of a deep network.

:func:`build_depth_explorer` returns a control with three inputs (number of Linear
layers, hidden activation, weight initialisation). Each change rebuilds the network,
runs one forward and one backward pass on a fixed random batch, and redraws

* the gradient norm :math:`\\lVert\\partial L/\\partial W_l\\rVert_F` of every layer (log scale),
* the standard deviation of every hidden layer's activations (log scale),
* histograms of the activations of four hidden layers, from the input side to the output side.

:func:`depth_explorer_animation` is the static-site version: the same figure for a
list of settings, as a JavaScript animation with a slider that needs no kernel.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter
from threadpoolctl import threadpool_limits

from .._validate import positive_int
from ..diagnostics import activation_stats, deep_mlp, gradient_norms
from . import static_animation

ACTIVATIONS = ("sigmoid", "tanh", "relu")
INIT_LABELS = {
    "small": "small: N(0, 0.01²)",
    "xavier": "Xavier: N(0, 2/(n_in+n_out))",
    "he": "He: N(0, 2/n_in)",
    "large": "large: N(0, 1)",
}
NOTE = "This control is frozen on the website; run `make lab` to make it live."


def depth_profile(depth, activation, init, width=64, batch=128, n_classes=10, seed=0):
    """Gradient norms and activation statistics of a freshly initialised deep network.

    The batch ``X`` ``(batch, width)`` has standard-normal entries and random labels,
    both from ``seed``; the network is :func:`nnlib.diagnostics.deep_mlp` with ``depth``
    Linear layers. Returns ``(norms, stats)`` as given by
    :func:`~nnlib.diagnostics.gradient_norms` and :func:`~nnlib.diagnostics.activation_stats`.
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
        return gradient_norms(model, X, y), activation_stats(model, X, bins=30)


def _layer_picks(n_hidden, k=4):
    """Up to ``k`` hidden-layer positions spread from the first to the last."""
    return sorted(set(np.linspace(0, n_hidden - 1, min(k, n_hidden)).round().astype(int).tolist()))


def draw_profile(fig, norms, stats, title=""):
    """Draw a :func:`depth_profile` result on ``fig`` (cleared first)."""
    fig.clear()
    grid = fig.add_gridspec(2, 4, height_ratios=[1.25, 1.0], hspace=0.6, wspace=0.45)
    ax_g = fig.add_subplot(grid[0, :2])
    ax_s = fig.add_subplot(grid[0, 2:])
    layers = np.arange(1, len(norms) + 1)
    ax_g.semilogy(layers, np.maximum(norms, 1e-300), "o-", ms=3)
    ax_g.set_xlabel("layer l (1 = next to the input)")
    ax_g.set_title("gradient norm ||dL/dW_l||", fontsize=9)
    stds = np.array([s.std for s in stats])
    ax_s.semilogy(np.arange(1, len(stats) + 1), np.maximum(stds, 1e-300), "s-", ms=3, color="C1")
    ax_s.set_xlabel("hidden layer")
    ax_s.set_title("std of the activations", fontsize=9)
    for ax in (ax_g, ax_s):
        ax.grid(True, which="major", alpha=0.3)
        ax.tick_params(labelsize=7)
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.xaxis.label.set_size(8)
        # Whole decades, at least one, so that the log axis always shows labelled ticks.
        y = np.log10(np.maximum(ax.get_lines()[0].get_ydata(), 1e-300))
        lo = np.floor(y.min())
        ax.set_ylim(10.0**lo, 10.0 ** max(np.ceil(y.max()), lo + 1))
    for col, j in enumerate(_layer_picks(len(stats))):
        s = stats[j]
        ax = fig.add_subplot(grid[1, col])
        ax.stairs(s.counts / s.counts.sum(), s.edges, fill=True, color="C2")
        ax.set_title(f"layer {j + 1}: std {s.std:.1e}", fontsize=8)
        ax.tick_params(labelsize=6)
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
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
                     f'height="{bh:.1f}" fill="#2ca02c"/>')
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
    parts += _svg_line_panel(60, 45, 230, 150, norms, "gradient norm ||dL/dW_l|| per layer", "#1f77b4")
    parts += _svg_line_panel(385, 45, 230, 150, [s.std for s in stats], "std of activations per hidden layer",
                             "#ff7f0e")
    for col, j in enumerate(_layer_picks(len(stats))):
        s = stats[j]
        parts += _svg_hist_panel(20 + col * 155, 250, 135, 85, s, f"layer {j + 1}: std {s.std:.1e}")
    parts.append(f'<text x="{W / 2}" y="{H - 2}" text-anchor="middle" font-size="10">'
                 "x axis of the top panels: layer, 1 = next to the input</text>")
    parts.append("</svg>")
    return "\n".join(parts)


def build_depth_explorer(depth=10, activation="sigmoid", init="xavier", width=64, seed=0):
    """Build the control: a depth slider, activation and initialisation menus, and the figure.

    Returns an ``ipywidgets.VBox``; its ``redraw()`` attribute is the callback (also
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
    box = w.VBox([w.HBox([depth_in, act_in]), init_in, out])
    box.redraw = redraw
    box.output = out
    box.controls = (depth_in, act_in, init_in)
    redraw()
    return box


def depth_explorer_animation(settings, depth=10, width=64, seed=0, dpi=80, element_id="ch5_depth_explorer"):
    """The static-site version: one frame per ``(activation, init)`` in ``settings``.

    Returns the HTML of a matplotlib JavaScript animation (``to_jshtml``) with a slider.
    matplotlib names the animation's HTML elements with a random id; it is replaced by
    ``element_id`` so that the same input always gives the same HTML. Its link to an icon
    stylesheet on another host is removed: the site must work offline.
    """

    from matplotlib import animation

    fig = Figure(figsize=(7.5, 4.2), dpi=dpi)
    frames = [(a, i, depth_profile(depth, a, i, width=width, seed=seed)) for a, i in settings]

    def show(k):
        act, init, (norms, stats) = frames[k]
        draw_profile(fig, norms, stats, f"frame {k + 1}/{len(frames)}: {depth} layers, {act}, {INIT_LABELS[init]}")
        return []

    anim = animation.FuncAnimation(fig, show, frames=len(frames), interval=1500, blit=False)
    return static_animation(anim, element_id)
