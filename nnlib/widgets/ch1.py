"""Chapter 1's interactive figures: a descent explorer, an optimiser explorer, and a learning-rate animation.

Each builder returns an ``ipywidgets`` container (no ``interact``). Its callback
re-runs a short descent - a few hundred steps of arithmetic - updates the data of
existing matplotlib artists (the contours are drawn once) and renders the figure
as a PNG into an explicit ``Output``. The container exposes ``.update()`` (the
callback), ``.figure``, ``.output`` and ``.result`` (the last run) for tests.

:func:`lr_animation_html` is the kernel-free version for the static site: a
pre-computed animation with a slider and play buttons (``to_jshtml``).
"""

from __future__ import annotations

import base64
import io

import ipywidgets as widgets
import matplotlib
import numpy as np
from matplotlib.backend_bases import FigureCanvasBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from .. import figures
from .._validate import one_of, positive_int, positive_number, real_number
from ..descent import (
    double_well,
    gradient_descent,
    quadratic_1d,
    rosenbrock,
    run_optimizer,
    stable_lr_threshold,
    valley,
)
from ..optim import OPTIMIZERS
from . import Panel, static_animation

# The chapter's note under each explorer (its cell is tagged remove-output, so the site
# shows the code but no dead control).
FROZEN_NOTE = ("In Jupyter (`make lab`) the cell above shows live controls; on this page, "
               "the animation below shows the same descent for precomputed settings.")

_SHORT_REASON = {
    "grad_tol": "gradient norm below tolerance",
    "step_tol": "step below tolerance",
    "max_iter": "iteration cap reached",
    "diverged": "diverged",
}


class _Blitter:
    """Fast redraws of a figure whose only changing parts are a few "animated" artists.

    Everything else (axes, ticks, contours) is drawn once into a background bitmap,
    kept per ``key`` (for example one per surface). A redraw pastes the background,
    draws the animated artists on top and encodes the pixels as a PNG: about 10 ms,
    against 100+ ms for a full ``savefig``. Axis limits must therefore stay fixed
    while a background is in use.
    """

    def __init__(self, fig, animated):
        self.fig = fig
        self.canvas = FigureCanvasAgg(fig)
        self.animated = list(animated)
        for artist in self.animated:
            artist.set_animated(True)
        self.backgrounds = {}

    def background(self, key):
        """Draw (or reuse) the static background for ``key``; call after setting limits and static data."""
        if key not in self.backgrounds:
            with figures.style():  # text drawn later (ticks, mathtext) in the course style too
                self.canvas.draw()
            self.fig.set_layout_engine("none")  # keep the first layout: later draws skip it
            self.backgrounds[key] = self.canvas.copy_from_bbox(self.fig.bbox)
        self.key = key

    def png(self) -> bytes:
        self.canvas.restore_region(self.backgrounds[self.key])
        with figures.style():
            for artist in self.animated:
                self.fig.draw_artist(artist)
        buf = io.BytesIO()
        Image.fromarray(np.asarray(self.canvas.buffer_rgba())).save(buf, format="png", compress_level=1)
        return buf.getvalue()


def _show_png(png, out, alt):
    """Make the PNG bytes the only thing the Output ``out`` shows."""
    data = {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": alt}
    out.outputs = ({"output_type": "display_data", "data": data, "metadata": {}},)


def _clipped(values, lo, hi):
    """Values clipped into the visible window (so a divergent run stays drawable)."""
    with np.errstate(invalid="ignore"):
        return np.clip(np.nan_to_num(values, nan=hi, posinf=hi, neginf=lo), lo, hi)


# ---------------------------------------------------------------------------
# 1-D: learning rate and starting point
# ---------------------------------------------------------------------------

_FUNCTIONS_1D = {"quadratic (x-1)^2": lambda: quadratic_1d(2.0, 1.0), "double well": double_well}
_TITLES_1D = {"quadratic (x-1)^2": "$(x-1)^2$", "double well": "double well"}
_WINDOW_1D = (-2.3, 2.3)
_WIDGET_DPI = 100  # 700 px wide: sharp in the notebook, and fast to encode


def descent_explorer(lr=0.1, x0=-0.5, function="double well", max_iter=60):
    r"""Learning rate, starting point and function -> the descent path and its loss curve.

    Left: the function with the iterates :math:`x_0, x_1, \dots` joined in order
    (the square is the start). Right: :math:`f(x_t)` against :math:`t`. The titles
    give the stopping reason of :func:`nnlib.descent.gradient_descent` (gradient
    tolerance ``1e-6``, at most ``max_iter`` steps). Iterates that leave the window
    are drawn on its edge.
    """
    one_of(function, "function", _FUNCTIONS_1D)
    lr = positive_number(lr, "lr", "A learning rate must be positive, e.g. 0.1.")
    x0 = real_number(x0, "x0")
    max_iter = positive_int(max_iter, "max_iter")
    lo, hi = _WINDOW_1D
    lr_slider = widgets.FloatLogSlider(value=lr, base=10, min=-3, max=0.3, step=0.05,
                                       description="learning rate", readout_format=".3f",
                                       style={"description_width": "initial"})
    x0_slider = widgets.FloatSlider(value=x0, min=lo + 0.1, max=hi - 0.1, step=0.05, description="start x0",
                                    style={"description_width": "initial"})
    choice = widgets.Dropdown(options=list(_FUNCTIONS_1D), value=function, description="f",
                              layout=widgets.Layout(width="220px"))
    out = widgets.Output()

    with figures.style():  # the course style, without touching the notebook's rcParams
        fig = Figure(figsize=(figures.COLUMN_WIDTH, 3.0), dpi=_WIDGET_DPI, layout="constrained")
        ax_f, ax_l = fig.subplots(1, 2)
        (curve,) = ax_f.plot([], [], color="0.55", ls="-", marker="", lw=1.5)
        (path_line,) = ax_f.plot([], [], ls="-", marker="o", color=figures.COLORS[0], ms=3, lw=1)
        (start,) = ax_f.plot([], [], ls="", marker="s", color=figures.COLORS[3], ms=6)
        (loss_line,) = ax_l.plot([], [], ls="-", marker=".", color=figures.COLORS[0], ms=3)
        ax_f.set_xlabel("$x$")
        ax_f.set_ylabel("$f(x)$")
        ax_f.set_xlim(lo, hi)
        ax_l.set_xlabel("iteration $t$")
        ax_l.set_ylabel("$f(x_t)$")
        ax_l.set_xlim(-0.5, max_iter + 0.5)
        ax_f.set_title(r"function $(x-1)^2$, $\alpha$")  # as tall as the titles to come: the
        ax_l.set_title("stopping reason")  # layout is computed once, for the first draw
    blit = _Blitter(fig, [path_line, start, loss_line, ax_f.title, ax_l.title])
    state = {}

    def set_function(name):
        obj = _FUNCTIONS_1D[name]()
        xs = np.linspace(lo, hi, 300)
        ys = obj.f(xs[None, :])
        margin = 0.1 * (ys.max() - ys.min())
        state.update(obj=obj, ylo=ys.min() - margin, yhi=ys.max() + margin)
        curve.set_data(xs, ys)
        ax_f.set_ylim(state["ylo"], state["yhi"])
        ax_l.set_ylim(state["ylo"], state["yhi"])
        blit.background(name)

    def update(change=None):
        if state.get("name") != choice.value:
            set_function(choice.value)
            state["name"] = choice.value
        obj = state["obj"]
        res = gradient_descent(obj, [x0_slider.value], lr_slider.value, max_iter=max_iter, grad_tol=1e-6)
        xs = _clipped(res.path[:, 0], lo, hi)
        fs = _clipped(res.losses, state["ylo"], state["yhi"])
        path_line.set_data(xs, fs)
        start.set_data(xs[:1], fs[:1])
        loss_line.set_data(np.arange(len(fs)), fs)
        ax_f.set_title(rf"{_TITLES_1D[choice.value]}, $\alpha = {res.lr:.3g}$")
        ax_l.set_title(f"{res.n_iter} steps: {_SHORT_REASON[res.reason]}")
        panel.result = res
        _show_png(blit.png(), out, f"descent path: lr={res.lr:.3g}, x0={x0_slider.value:.2f}, {res.reason}")

    controls = widgets.HBox([lr_slider, x0_slider, choice])
    panel = Panel([controls, out], "Gradient descent explorer")
    panel.figure, panel.output = fig, out
    return panel.connect({"lr": lr_slider, "x0": x0_slider, "function": choice}, update)


# ---------------------------------------------------------------------------
# 2-D: optimiser selector on the valley or on Rosenbrock's function
# ---------------------------------------------------------------------------

# "GD": nnlib's SGD given the exact gradient of the surface, i.e. plain gradient descent
_OPT_NAMES = {"GD": "sgd", "Momentum": "momentum", "AdaGrad": "adagrad", "RMSProp": "rmsprop", "Adam": "adam"}
_SURFACES = {
    "valley": (lambda: valley(100.0), (-5.0, 1.5), 200, np.logspace(-1.5, 2.5, 14)),
    "Rosenbrock": (rosenbrock, (-1.5, 2.0), 500, np.logspace(-1, 3.5, 16)),
}


def optimizer_explorer(optimizer="Momentum", lr=0.01, surface="valley"):
    r"""Optimiser, learning rate and surface -> the path on the contours and the loss curve.

    The optimisers are :mod:`nnlib.optim`'s with their default settings, run by
    :func:`nnlib.descent.run_optimizer` from a fixed start (200 steps on the valley
    :math:`\tfrac12(x^2 + 100 y^2)`, 500 on Rosenbrock).
    The contours of each surface are drawn once and kept.
    """
    one_of(optimizer, "optimizer", _OPT_NAMES)
    one_of(surface, "surface", _SURFACES)
    lr = positive_number(lr, "lr", "A learning rate must be positive, e.g. 0.01.")
    opt_choice = widgets.ToggleButtons(options=list(_OPT_NAMES), value=optimizer, description="optimiser")
    lr_slider = widgets.FloatLogSlider(value=lr, base=10, min=-3, max=0, step=0.05, description="learning rate",
                                       readout_format=".3f", style={"description_width": "initial"})
    surf_choice = widgets.Dropdown(options=list(_SURFACES), value=surface, description="surface")
    out = widgets.Output()

    with figures.style():
        fig = Figure(figsize=(figures.COLUMN_WIDTH, 3.4), dpi=_WIDGET_DPI, layout="constrained")
        ax_c, ax_l = fig.subplots(1, 2, width_ratios=[1.3, 1])
        (path_line,) = ax_c.plot([], [], ls="-", marker=".", color=figures.COLORS[3], ms=2, lw=1, zorder=3)
        (goal,) = ax_c.plot([], [], ls="", marker="*", color="k", ms=10, zorder=4)
        (loss_line,) = ax_l.semilogy([], [], ls="-", marker="", color=figures.COLORS[3])
        ax_c.set_xlabel("$x$")
        ax_c.set_ylabel("$y$")
        ax_l.set_xlabel("step")
        ax_l.set_ylabel(r"$f(x) - f(x^\ast)$")
        ax_l.set_ylim(1e-12, 1e6)
        ax_l.grid(True, which="major", alpha=0.3)
        ax_c.set_title(r"optimiser, $\alpha$")  # as tall as the titles to come (layout is kept)
        ax_l.set_title(r"result: $f - f^\ast$")
    blit = _Blitter(fig, [path_line, loss_line, ax_c.title, ax_l.title])
    state = {"contour": None}

    def set_surface(name):
        make, x0, steps, levels = _SURFACES[name]
        obj = make()
        if state["contour"] is not None:
            state["contour"].remove()
        X, Y, Z = obj.grid(121)
        with figures.style():
            state["contour"] = ax_c.contour(X, Y, Z, levels=levels, colors="0.6", linewidths=0.7)
        (xlo, xhi), (ylo, yhi) = obj.window
        ax_c.set_xlim(xlo, xhi)
        ax_c.set_ylim(ylo, yhi)
        ax_l.set_xlim(0, steps)
        goal.set_data([obj.x_min[0]], [obj.x_min[1]])
        state.update(obj=obj, x0=np.array(x0), steps=steps, name=name)
        blit.background(name)

    def update(change=None):
        if state.get("name") != surf_choice.value:
            set_surface(surf_choice.value)
        obj = state["obj"]
        opt = OPTIMIZERS[_OPT_NAMES[opt_choice.value]](lr=lr_slider.value)
        res = run_optimizer(opt, obj, state["x0"], n_steps=state["steps"])
        (xlo, xhi), (ylo, yhi) = obj.window
        path_line.set_data(_clipped(res.path[:, 0], xlo - 1, xhi + 1), _clipped(res.path[:, 1], ylo - 1, yhi + 1))
        gap = np.maximum(_clipped(res.losses - float(obj.f(obj.x_min)), 1e-12, 1e6), 1e-12)
        loss_line.set_data(np.arange(len(gap)), gap)
        end = "diverged" if res.reason == "diverged" else rf"{res.n_iter} steps: $f - f^\ast$ = {gap[-1]:.0e}"
        ax_c.set_title(rf"{opt_choice.value} on the {surf_choice.value}, $\alpha = {res.lr:.3g}$")
        ax_l.set_title(end)
        panel.result = res
        _show_png(blit.png(), out, f"{opt_choice.value} on {surf_choice.value}: lr={res.lr:.3g}, {res.reason}")

    controls = widgets.VBox([opt_choice, widgets.HBox([lr_slider, surf_choice])])
    panel = Panel([controls, out], "Optimiser explorer")
    panel.figure, panel.output = fig, out
    return panel.connect({"optimizer": opt_choice, "lr": lr_slider, "surface": surf_choice}, update)


# ---------------------------------------------------------------------------
# Static-site versions: animations with a slider
# ---------------------------------------------------------------------------

_ANIMATION_WIDTH = 7.0  # inches: the content column (nnlib.figures.COLUMN_WIDTH)


def _descent_animation(obj, runs, titles, caption, n_frames, dpi, name, alt):
    """Frames ``0..n_frames`` of 1-D descent runs, one panel per run, as kernel-free HTML.

    Panels go in a grid of at most two columns. Each panel's x and y limits are fixed
    for the whole animation (so a change between frames is the run's, not the axes'):
    they cover the function's window and every iterate of the run, so a divergent run
    stays in view. ``caption(k)`` is the figure's title on frame ``k``.
    """
    from matplotlib import animation

    ncols = 1 if len(runs) == 1 else 2
    nrows = -(-len(runs) // ncols)
    with figures.style():
        fig = Figure(figsize=(_ANIMATION_WIDTH, 1.6 * nrows + 0.45), dpi=dpi, layout="constrained")
        axes = np.atleast_1d(fig.subplots(nrows, ncols)).ravel()
        lines, heads = [], []
        for ax, res, title in zip(axes, runs, titles, strict=False):
            path = res.path[: n_frames + 1, 0]
            lo, hi = min(obj.window[0], path.min()), max(obj.window[1], path.max())
            lo, hi = lo - 0.03 * (hi - lo), hi + 0.03 * (hi - lo)
            xs = np.linspace(lo, hi, 300)
            fs = obj.f(xs[None, :])
            margin = 0.06 * (fs.max() - fs.min())
            ax.plot(xs, fs, color="0.55", lw=1.2, ls="-", marker="", zorder=1)
            (ln,) = ax.plot([], [], ls="-", marker="o", color=figures.COLORS[0], ms=3.5, lw=1, zorder=2)
            (head,) = ax.plot([], [], ls="", marker="o", color=figures.COLORS[3], ms=6, zorder=3)
            ax.set_xlim(lo, hi)
            ax.set_ylim(fs.min() - margin, fs.max() + margin)
            ax.set_title(title)
            lines.append(ln)
            heads.append(head)
        for ax in axes[len(runs):]:
            ax.set_visible(False)
        for ax in axes[-ncols:]:
            ax.set_xlabel("$x$")
        for ax in axes[::ncols]:
            ax.set_ylabel("$f(x)$")
        step_text = fig.suptitle(caption(0))
        FigureCanvasAgg(fig).draw()
        fig.set_layout_engine("none")  # lay out once; every frame reuses it
        FigureCanvasBase(fig)  # no on-screen canvas: each frame is drawn once, by savefig, not twice

        def draw(k):
            for ln, head, res in zip(lines, heads, runs, strict=True):
                x, y = res.path[: k + 1, 0], res.losses[: k + 1]
                ln.set_data(x, y)
                head.set_data(x[-1:], y[-1:])
            step_text.set_text(caption(k))
            return lines + heads

        anim = animation.FuncAnimation(fig, draw, frames=n_frames + 1, interval=500, blit=False)
        with matplotlib.rc_context({"savefig.dpi": "figure"}):  # frames at ``dpi``, not 150
            return static_animation(anim, name, alt=alt)


LR_ANIMATION_ALT = (
    "gradient descent on a quadratic bowl with four learning rates, one panel each: too small "
    "crawls down the slope, good lands near the minimum in a few steps, oscillating bounces from "
    "side to side while closing in, and divergent bounces further out at every step")
WELL_ANIMATION_ALT = (
    "gradient descent on the double well with four settings: a small learning rate from "
    "x0 = -0.5 ends in the deeper left valley and from x0 = 0.5 in the right one; just below the "
    "left valley's local threshold the iterates settle at its minimum, just above it they keep "
    "bouncing around it")


def lr_animation_html(lrs=None, curvature=2.0, x0=-0.5, n_frames=12, dpi=100, name="ch1lr"):
    r"""Animated gradient descent on :math:`f(x) = \tfrac\gamma2 (x - 3)^2` for several learning rates.

    One panel per learning rate (default: too small, good, oscillating and divergent
    relative to the threshold :math:`2/\gamma`), in a two-column grid; frame ``k`` shows the
    first ``k`` steps (the latest iterate is the large dot). Returns the HTML of
    ``matplotlib``'s ``to_jshtml`` (slider and play buttons, no kernel needed) with its
    element ids made reproducible and without its link to a stylesheet on another host.
    Frames are 7 in wide (the content column) at ``dpi``.
    """
    obj = quadratic_1d(curvature, 3.0)
    gamma = curvature
    thr = stable_lr_threshold(obj)
    if lrs is None:
        lrs = [0.05 * thr, 0.4 * thr, 0.9 * thr, 1.05 * thr]
    runs = [gradient_descent(obj, [x0], lr, max_iter=n_frames, grad_tol=0, step_tol=0, diverge_at=1e6)
            for lr in lrs]
    titles = [rf"$\alpha = {res.lr:.3g} = {res.lr / thr:.2f} \times 2/\gamma$" for res in runs]
    def caption(k):
        return (rf"after {k} steps on $f(x) = \frac{{\gamma}}{{2}}(x - 3)^2$, $\gamma = {gamma:g}$: "
                rf"threshold $2/\gamma = {thr:g}$")

    return _descent_animation(obj, runs, titles, caption, n_frames, dpi, name, LR_ANIMATION_ALT)


def double_well_animation_html(settings=None, n_frames=12, dpi=100, name="ch1well"):
    r"""Animated gradient descent on the double well :math:`\tfrac14 x^4 - x^2 + \tfrac14 x`.

    ``settings`` is a list of ``(lr, x0)`` pairs, one panel each, in a two-column grid
    (default: a small learning rate from a start in either valley, and learning rates
    just below and just above the local threshold :math:`2/f''(x^\ast)` of the deeper
    valley). It is the kernel-free counterpart of :func:`descent_explorer`: frame ``k``
    shows the first ``k`` steps, with the same axes on every frame.
    """
    obj = double_well()
    x_star = float(obj.x_min[0])
    local = 2.0 / (3.0 * x_star**2 - 2.0)
    if settings is None:
        settings = [(0.1, -0.5), (0.1, 0.5), (0.95 * local, -0.5), (1.05 * local, -0.5)]
    runs = [gradient_descent(obj, [x0], lr, max_iter=n_frames, grad_tol=0, step_tol=0, diverge_at=1e6)
            for lr, x0 in settings]
    titles = [rf"$\alpha = {res.lr:.3g}$ from $x_0 = {res.path[0, 0]:g}$" for res in runs]
    def caption(k):
        return rf"after {k} steps on the double well; deeper valley's threshold $2/f''(x^\ast) = {local:.3f}$"

    return _descent_animation(obj, runs, titles, caption, n_frames, dpi, name, WELL_ANIMATION_ALT)
