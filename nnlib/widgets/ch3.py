r"""Figures and the interactive stepper of Chapter 3 (backpropagation for one sample).

* :func:`backprop_stepper` - a control that steps through the forward and then the
  backward pass of the chapter's 2-3-2 classifier, drawn as a network (neurons as nodes,
  weights as edges), showing each value and gradient as it is computed.
* :func:`backprop_animation` - the same steps as a kernel-free animation for the website.
* :func:`draw_l2_graph` - the L2-regularised network as a computational graph.

All numbers come from :mod:`nnlib.backprop` (``forward``/``backward``), so the figure
shows exactly what the chapter's code computes. Everything is drawn in the course style
(:func:`nnlib.figures.style`) at the column width, 7 inches; the stepper's and the
animation's frames at 100 dpi (700 px, shown at their natural size on the website).
"""

from __future__ import annotations

import base64
import contextlib
import io

import numpy as np

from .. import backprop as bp
from .. import figures
from . import Panel, static_animation

__all__ = [
    "STEPS",
    "default_network",
    "step_frames",
    "draw_step",
    "render_step",
    "backprop_stepper",
    "backprop_animation",
    "draw_l2_graph",
]

#: (phase, caption) of every step; the caption's formula is the quantity revealed at that step.
STEPS = [
    ("start", r"Input $x$ and parameters $W_1, b_1, W_2, b_2$ (weights on the edges)"),
    ("forward", r"Forward 1: $z_1 = W_1 x + b_1$"),
    ("forward", r"Forward 2: $a_1 = \sigma(z_1)$"),
    ("forward", r"Forward 3: $z_2 = W_2 a_1 + b_2$"),
    ("forward", r"Forward 4: $\hat y = \mathrm{softmax}(z_2)$"),
    ("forward", r"Forward 5: $L = -\sum_k y_k \log \hat y_k$"),
    ("backward", r"Backward 1: $\delta_2 = \partial L/\partial z_2 = \hat y - y$"),
    ("backward", r"Backward 2: $\partial L/\partial W_2 = \delta_2 a_1^\top$,  $\partial L/\partial b_2 = \delta_2$"),
    ("backward", r"Backward 3: $\partial L/\partial a_1 = W_2^\top \delta_2$"),
    ("backward", r"Backward 4: $\delta_1 = \partial L/\partial a_1 \odot a_1 \odot (1 - a_1)$"),
    ("backward", r"Backward 5: $\partial L/\partial W_1 = \delta_1 x^\top$,  $\partial L/\partial b_1 = \delta_1$"),
]

_FWD = "#1f4e9c"  # forward values: dark blue
_BWD = "#b23a1c"  # gradients: red-brown (tells apart from blue with every common colour blindness)
_DIM = "#b0b0b0"

#: Size of a frame of the stepper and of the animation: the column width at 100 dpi.
FRAME_SIZE = (figures.COLUMN_WIDTH, 3.6)
FRAME_DPI = 100


def default_network():
    """The chapter's example: a 2-3-2 network (seeded), the input ``x`` and the class ``y = 0``."""
    params = bp.init_params((2, 3, 2), rng=np.random.default_rng(3))
    x = np.array([[1.0], [-0.5]])
    return params, x, 0


def step_frames(params, x, y):
    """Everything the figure shows, computed once: forward cache, gradients and deltas."""
    cache = bp.forward(params, x)
    grads, deltas = bp.backward(params, cache, y, return_deltas=True)
    return {
        "params": params,
        "cache": cache,
        "L": bp.loss(cache, y),
        "grads": grads,
        "deltas": deltas,
        "y": bp.one_hot_column(y, params["W2"].shape[0]),
    }


def _positions(sizes):
    """Node centres: layer l at x = 2 l, nodes spread vertically and centred."""
    pos = []
    for l, n in enumerate(sizes):
        ys = np.linspace(1.0, -1.0, n) * (0.5 * (n - 1))
        pos.append([(2.0 * l, float(v)) for v in ys])
    return pos


def _fmt(v):
    return f"{v:+.3f}"


def draw_step(ax, frames, step):
    """Draw step ``step`` (0..len(STEPS)-1) of the forward/backward pass on the axes ``ax``."""
    if not 0 <= step < len(STEPS):
        raise ValueError(f"step must be in [0, {len(STEPS) - 1}], got {step}.")
    p, c, g, d = frames["params"], frames["cache"], frames["grads"], frames["deltas"]
    sizes = [p["W1"].shape[1], p["W1"].shape[0], p["W2"].shape[0]]
    pos = _positions(sizes)
    ax.clear()
    ax.set_axis_off()
    ax.set_xlim(-0.75, 6.25)
    ax.set_ylim(-1.75, 1.62)

    # Edges: weights in the forward steps, their gradients once backward reaches them.
    for layer, W in ((1, "W1"), (2, "W2")):
        show_grad = (layer == 2 and step >= 7) or (layer == 1 and step >= 10)
        active = (step in (1,) and layer == 1) or (step == 3 and layer == 2) or (step == 7 and layer == 2) or (
            step == 10 and layer == 1
        )
        M = g[W] if show_grad else p[W]
        n_out = M.shape[0]
        for j in range(n_out):
            for i in range(M.shape[1]):
                (x0, y0), (x1, y1) = pos[layer - 1][i], pos[layer][j]
                colour = _BWD if show_grad else _FWD
                ax.plot([x0, x1], [y0, y1], color=colour if active else _DIM, lw=2.2 if active else 1.0,
                        ls="-", marker="", zorder=1)
                t = 0.33 + 0.34 * (j / max(n_out - 1, 1))  # stagger labels so they do not collide
                label = f"{M[j, i]:+.3f}" if show_grad else f"{M[j, i]:+.2f}"
                ax.text(x0 + t * (x1 - x0), y0 + t * (y1 - y0), label, fontsize=8,
                        color=colour, ha="center", va="center", zorder=6,
                        bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.85))

    # Nodes with every quantity revealed so far (values above the line, gradients below).
    def node(xy, lines, active):
        ax.add_patch(_circle(xy, active))
        for k, (text, colour) in enumerate(lines):
            ax.text(xy[0], xy[1] + 0.09 - 0.19 * k, text, fontsize=8.5, ha="center", va="center", color=colour,
                    zorder=5)

    for i, xy in enumerate(pos[0]):
        node(xy, [(f"x={_fmt(c['x'][i, 0])}", _FWD)], step == 0)
    for j, xy in enumerate(pos[1]):
        lines = [(f"b={_fmt(g['b1'][j, 0] if step >= 10 else p['b1'][j, 0])}", _BWD if step >= 10 else _FWD)]
        if step >= 1:
            lines = [(f"z={_fmt(c['z1'][j, 0])}", _FWD)]
        if step >= 2:
            lines.append((f"a={_fmt(c['a1'][j, 0])}", _FWD))
        if step >= 8:
            lines = [(f"da={_fmt(d['da1'][j, 0])}", _BWD)]
        if step >= 9:
            lines.append((f"δ={_fmt(d['delta1'][j, 0])}", _BWD))
        node(xy, lines, step in (1, 2, 8, 9, 10))
    for k, xy in enumerate(pos[2]):
        lines = [(f"b={_fmt(p['b2'][k, 0])}", _FWD)]
        if step >= 3:
            lines = [(f"z={_fmt(c['z2'][k, 0])}", _FWD)]
        if step >= 4:
            lines.append((f"ŷ={c['y_hat'][k, 0]:.3f}", _FWD))
        if step >= 6:
            lines = [(f"ŷ={c['y_hat'][k, 0]:.3f}", _FWD), (f"δ={_fmt(d['delta2'][k, 0])}", _BWD)]
        node(xy, lines, step in (3, 4, 6, 7))
    # The loss node.
    loss_xy = (5.6, 0.0)
    if step >= 5:
        for xy in pos[2]:
            ax.plot([xy[0] + 0.4, loss_xy[0] - 0.4], [xy[1], 0.0], color=_DIM, lw=0.8, ls="-", marker="",
                    zorder=1)
        target = int(np.argmax(frames["y"]))
        node(loss_xy, [(f"L={frames['L']:.3f}", _FWD), (f"y = class {target}", "black")], step == 5)
    ax.text(-0.7, 1.5, STEPS[step][1], fontsize=10.5, ha="left", va="center")
    ax.text(-0.7, -1.66, f"step {step} of {len(STEPS) - 1} ({STEPS[step][0]})   "
            "blue: values (forward)   red: gradients (backward)", fontsize=9, ha="left", color="#444444")


def _circle(xy, active):
    from matplotlib.patches import Circle

    return Circle(xy, 0.4, fc="#fff6d5" if active else "white", ec="black" if active else "#777777",
                  lw=1.6 if active else 0.8, zorder=4)


@contextlib.contextmanager
def _frame_style():
    """The course style (:func:`nnlib.figures.style`) for frames: saved at the figure's own
    dpi, with the axes placed by hand rather than by the style's constrained layout."""
    import matplotlib

    with figures.style(), matplotlib.rc_context({"savefig.dpi": "figure",
                                                 "figure.constrained_layout.use": False}):
        yield


def _frame_figure(figsize=FRAME_SIZE, dpi=FRAME_DPI):
    """A ``Figure`` (not pyplot, so nothing is shown twice) with one axes filling it.

    Call it inside :func:`_frame_style`. The axes limits are fixed by :func:`draw_step`,
    the same on every frame.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi)
    fig.add_axes((0.01, 0.01, 0.98, 0.98))
    return fig


def _small_png(png, colors=64):
    """``png`` stored with a palette of ``colors`` colours: about 4x smaller, same look.

    A frame holds three inks (blue, red-brown, grey), black, a pale fill and their
    anti-aliased edges, so 64 colours look the same as full colour (deterministic).
    """
    return figures._palette_png(png, colors)


def _png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    return _small_png(buf.getvalue())


def render_step(frames, step, figsize=FRAME_SIZE, dpi=FRAME_DPI, fig=None):
    """PNG bytes of one step, drawn on ``fig`` (from a previous call's figure; a new one if None)."""
    with _frame_style():
        if fig is None:
            fig = _frame_figure(figsize, dpi)
        draw_step(fig.axes[0], frames, step)
        return _png(fig)


def backprop_stepper(params=None, x=None, y=None, prerender=True):
    """Build the stepper: a step slider, back/next buttons and a target-class menu above an ``Output``.

    The callback redraws the figure into the explicit ``Output`` (by setting its ``outputs``). Frames are PNGs cached
    per (target, step); with ``prerender`` every frame is drawn while building, so each
    callback only swaps a cached image. Returns a :class:`nnlib.widgets.Panel` (a ``VBox``) with attributes
    ``slider``, ``target``, ``output`` and ``redraw`` (the callback).
    """
    import ipywidgets as widgets

    d_params, d_x, d_y = default_network()
    params = d_params if params is None else params
    x = d_x if x is None else x
    y = d_y if y is None else y
    K = params["W2"].shape[0]
    slider = widgets.IntSlider(value=0, min=0, max=len(STEPS) - 1, description="step")
    back = widgets.Button(description="◀ back", layout=widgets.Layout(width="80px"))
    nxt = widgets.Button(description="next ▶", layout=widgets.Layout(width="80px"))
    target = widgets.Dropdown(options=[(f"class {k}", k) for k in range(K)], value=int(y), description="target y")
    output = widgets.Output()
    with _frame_style():
        fig = _frame_figure()
    frames_by_target: dict = {}
    pngs: dict = {}

    def png(t, s):
        if (t, s) not in pngs:
            if t not in frames_by_target:
                frames_by_target[t] = step_frames(params, x, t)
            pngs[(t, s)] = render_step(frames_by_target[t], s, fig=fig)
        return pngs[(t, s)]

    def redraw(change=None):
        image = png(target.value, slider.value)
        alt = f"step {slider.value} of {len(STEPS) - 1}, target class {target.value}"
        data = {"image/png": base64.b64encode(image).decode("ascii"), "text/plain": alt}
        # Replace the Output's content directly: works with and without a live front end.
        output.outputs = ({"output_type": "display_data", "data": data, "metadata": {}},)

    if prerender:
        for t in range(K):
            for s in range(len(STEPS)):
                png(t, s)
    back.on_click(lambda _: setattr(slider, "value", max(slider.value - 1, 0)))
    nxt.on_click(lambda _: setattr(slider, "value", min(slider.value + 1, slider.max)))
    slider.observe(redraw, names="value")
    target.observe(redraw, names="value")
    redraw()
    # A Panel stores a short, stable text form in the notebook, not the widget tree's repr.
    box = Panel([widgets.HBox([back, slider, nxt, target]), output], "backpropagation stepper")
    box.slider, box.target, box.output, box.redraw = slider, target, output, redraw
    return box


ANIMATION_ALT = ("the 2-3-2 network drawn as nodes and weighted edges, one step per frame: five "
                 "forward steps fill in f, g, y-hat and the loss in blue, then five backward steps "
                 "fill in each delta and every weight's gradient in red, for target class 0")


def backprop_animation(params=None, x=None, y=None, dpi=FRAME_DPI, interval=1400, name="ch3steps"):
    """The stepper as a kernel-free animation: HTML with its own slider and buttons (``to_jshtml``).

    Frames are drawn in the course style at the column width (7 in at ``dpi``) on fixed
    axes, and stored with a small palette to keep the page light. The random element
    ids of ``to_jshtml`` are replaced by ``name`` so the output is reproducible, and its
    link to a font stylesheet on a CDN is removed so the page requests nothing from
    other hosts (the site's theme provides the icon font).
    """
    from matplotlib import animation

    d_params, d_x, d_y = default_network()
    frames = step_frames(d_params if params is None else params, d_x if x is None else x,
                         d_y if y is None else y)
    with _frame_style():
        fig = _frame_figure(dpi=dpi)
        ax = fig.axes[0]
        anim = animation.FuncAnimation(fig, lambda s: draw_step(ax, frames, s), frames=len(STEPS),
                                       interval=interval)
        return static_animation(anim, name, alt=ANIMATION_ALT, colors=64)


def draw_l2_graph(ax=None):
    r"""Draw :math:`J = L + s`, :math:`s = \frac{\lambda}{2}(\lVert W_1\rVert_F^2 + \lVert W_2\rVert_F^2)` as a graph.

    Boxes are variables, circles are operations (Chapter 2's convention). ``W1`` and
    ``W2`` each feed two operations, so their gradients are sums over two paths; their
    arrows are drawn in the course palette's vermillion and dashed. Drawn for the column
    width (:data:`nnlib.figures.COLUMN_WIDTH`); returns the axes.
    """
    from matplotlib.patches import Circle, FancyBboxPatch

    if ax is None:
        _, ax = figures.subplots(height=3.4)
    weight = figures.COLORS[3]  # vermillion: the two weight matrices and their two paths
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.set_xlim(-0.5, 12.4)
    ax.set_ylim(-3.55, 2.35)
    boxes = {
        "x": (0, 1.5), "W1": (0, 0.0), "b1": (1.6, 2.0), "z1": (3.2, 0.7), "a1": (5.2, 0.7), "W2": (5.2, -0.6),
        "b2": (6.6, 2.0), "z2": (8.0, 0.7), "y": (8.0, 2.0), "L": (10.3, 0.7), "s": (9.0, -2.3), "J": (11.9, -0.65),
    }
    labels = {"W1": "$W_1$", "W2": "$W_2$", "b1": "$b_1$", "b2": "$b_2$", "z1": "$z_1$", "a1": "$a_1$",
              "z2": "$z_2$", "x": "$x$", "y": "$y$", "L": "$L$", "s": "$s$", "J": "$J$"}
    ops = {
        "aff1": ((1.6, 0.7), r"$Wx{+}b$"), "sig": ((4.2, 0.7), r"$\sigma$"), "aff2": ((6.6, 0.7), r"$Wx{+}b$"),
        "ce": ((9.15, 0.7), "softmax\n+ CE"), "sq1": ((1.6, -1.4), r"$\|\cdot\|_F^2$"),
        "sq2": ((6.2, -1.3), r"$\|\cdot\|_F^2$"), "reg": ((7.7, -2.3), r"$\frac{\lambda}{2}\Sigma$"),
        "add": ((10.9, -0.65), "+"),
    }
    edges = [("x", "aff1"), ("W1", "aff1"), ("b1", "aff1"), ("aff1", "z1"), ("z1", "sig"), ("sig", "a1"),
             ("a1", "aff2"), ("W2", "aff2"), ("b2", "aff2"), ("aff2", "z2"), ("z2", "ce"), ("y", "ce"), ("ce", "L"),
             ("W1", "sq1"), ("W2", "sq2"), ("sq1", "reg"), ("sq2", "reg"), ("reg", "s"), ("L", "add"),
             ("s", "add"), ("add", "J")]
    patches = {}
    for k, (bx, by) in boxes.items():
        patches[k] = FancyBboxPatch((bx - 0.33, by - 0.26), 0.66, 0.52, boxstyle="round,pad=0.02",
                                    fc="#fbe3d4" if k in ("W1", "W2") else "#e3eef8", ec="black", lw=0.8,
                                    zorder=2)
        ax.text(bx, by, labels[k], ha="center", va="center", fontsize=11, zorder=3)
    for k, ((ox, oy), text) in ops.items():
        patches[k] = Circle((ox, oy), 0.52, fc="white", ec="black", lw=0.8, zorder=2)
        ax.text(ox, oy, text, ha="center", va="center", fontsize=8 if "\n" in text else 9.5, zorder=3,
                linespacing=1.0)
    for patch in patches.values():
        ax.add_patch(patch)
    for a, b in edges:
        from_weight = a in ("W1", "W2")
        # Clipped at the outlines of both patches, so every arrowhead shows.
        ax.annotate("", xy=patches[b].get_center() if b in ops else boxes[b],
                    xytext=patches[a].get_center() if a in ops else boxes[a], zorder=1,
                    arrowprops=dict(arrowstyle="-|>", color=weight if from_weight else "#555555",
                                    lw=1.4 if from_weight else 1.0, ls="--" if from_weight else "-",
                                    patchA=patches[a], patchB=patches[b], shrinkA=1, shrinkB=1))
    ax.text(-0.4, -3.05, "Boxes: variables.  Circles: operations.", fontsize=9.5, va="center")
    ax.text(-0.4, -3.45, r"$W_1$ and $W_2$ (dashed arrows) each reach $J$ along two paths, so "
            r"$\partial J/\partial W_l = \partial L/\partial W_l + \lambda W_l$.", fontsize=9.5, va="center")
    return ax
