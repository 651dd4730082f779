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
import numpy as np
from matplotlib.backend_bases import FigureCanvasBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

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

FROZEN_NOTE = "This control is frozen on the website; run `make lab` to make it live."

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
            self.canvas.draw()
            self.fig.set_layout_engine("none")  # keep the first layout: later draws skip it
            self.backgrounds[key] = self.canvas.copy_from_bbox(self.fig.bbox)
        self.key = key

    def png(self) -> bytes:
        self.canvas.restore_region(self.backgrounds[self.key])
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
_WINDOW_1D = (-2.3, 2.3)


def descent_explorer(lr=0.1, x0=-0.5, function="double well", max_iter=60):
    r"""Learning rate, starting point and function -> the descent path and its loss curve.

    Left: the function with the iterates :math:`x_0, x_1, \dots` joined in order
    (the square is the start). Right: :math:`f(x_k)` against :math:`k`. The titles
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

    fig = Figure(figsize=(8.4, 3.0), dpi=72, layout="constrained")
    ax_f, ax_l = fig.subplots(1, 2)
    (curve,) = ax_f.plot([], [], color="0.3", lw=1.5)
    (path_line,) = ax_f.plot([], [], "o-", color="tab:red", ms=3, lw=1)
    (start,) = ax_f.plot([], [], "s", color="tab:blue", ms=6)
    (loss_line,) = ax_l.plot([], [], ".-", color="tab:red", ms=3)
    ax_f.set_xlabel("x")
    ax_f.set_ylabel("f(x)")
    ax_f.set_xlim(lo, hi)
    ax_l.set_xlabel("iteration k")
    ax_l.set_ylabel("f(x_k)")
    ax_l.set_xlim(-0.5, max_iter + 0.5)
    ax_f.set_title("function", fontsize=10)
    ax_l.set_title("stopping reason", fontsize=10)
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
        ax_f.set_title(f"{choice.value}, lr = {res.lr:.3g}", fontsize=10)
        ax_l.set_title(f"{res.n_iter} steps: {_SHORT_REASON[res.reason]}", fontsize=10)
        panel.result = res
        _show_png(blit.png(), out, f"descent path: lr={res.lr:.3g}, x0={x0_slider.value:.2f}, {res.reason}")

    controls = widgets.HBox([lr_slider, x0_slider, choice])
    panel = Panel([controls, out], "Gradient descent explorer")
    panel.figure, panel.output = fig, out
    return panel.connect({"lr": lr_slider, "x0": x0_slider, "function": choice}, update)


# ---------------------------------------------------------------------------
# 2-D: optimiser selector on the valley or on Rosenbrock's function
# ---------------------------------------------------------------------------

_OPT_NAMES = {"SGD": "sgd", "Momentum": "momentum", "AdaGrad": "adagrad", "Adam": "adam"}
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

    fig = Figure(figsize=(8.4, 3.2), dpi=72, layout="constrained")
    ax_c, ax_l = fig.subplots(1, 2, width_ratios=[1.4, 1])
    (path_line,) = ax_c.plot([], [], ".-", color="tab:red", ms=2, lw=1, zorder=3)
    (goal,) = ax_c.plot([], [], "*", color="k", ms=10, zorder=4)
    (loss_line,) = ax_l.semilogy([], [], color="tab:red")
    ax_l.set_xlabel("step")
    ax_l.set_ylabel("f(x) - f(x*)")
    ax_l.set_ylim(1e-12, 1e6)
    ax_l.grid(True, which="major", alpha=0.3)
    ax_c.set_title("optimiser", fontsize=10)
    ax_l.set_title("result", fontsize=10)
    blit = _Blitter(fig, [path_line, loss_line, ax_c.title, ax_l.title])
    state = {"contour": None}

    def set_surface(name):
        make, x0, steps, levels = _SURFACES[name]
        obj = make()
        if state["contour"] is not None:
            state["contour"].remove()
        X, Y, Z = obj.grid(121)
        state["contour"] = ax_c.contour(X, Y, Z, levels=levels, cmap="viridis", linewidths=0.7)
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
        end = "diverged" if res.reason == "diverged" else f"f - f* = {gap[-1]:.1e} after {res.n_iter} steps"
        ax_c.set_title(f"{opt_choice.value} on the {surf_choice.value}, lr = {res.lr:.3g}", fontsize=10)
        ax_l.set_title(end, fontsize=10)
        panel.result = res
        _show_png(blit.png(), out, f"{opt_choice.value} on {surf_choice.value}: lr={res.lr:.3g}, {res.reason}")

    controls = widgets.VBox([opt_choice, widgets.HBox([lr_slider, surf_choice])])
    panel = Panel([controls, out], "Optimiser explorer")
    panel.figure, panel.output = fig, out
    return panel.connect({"optimizer": opt_choice, "lr": lr_slider, "surface": surf_choice}, update)


# ---------------------------------------------------------------------------
# Static-site version: an animation with a slider
# ---------------------------------------------------------------------------


def lr_animation_html(lrs=None, curvature=2.0, x0=-0.5, n_frames=25, dpi=70, name="ch1lr"):
    r"""Animated gradient descent on :math:`f(x) = \tfrac a2 (x - 3)^2` for several learning rates.

    One panel per learning rate (default: too small, good, oscillating and divergent
    relative to the threshold :math:`2/a`); frame ``k`` shows the first ``k`` steps.
    Returns the HTML of ``matplotlib``'s ``to_jshtml`` (slider and play buttons, no
    kernel needed) with its element ids made reproducible and without its link to a
    stylesheet on another host.
    """
    from matplotlib import animation

    obj = quadratic_1d(curvature, 3.0)
    a = curvature
    thr = stable_lr_threshold(obj)
    if lrs is None:
        lrs = [0.05 * thr, 0.4 * thr, 0.9 * thr, 1.05 * thr]
    runs = [gradient_descent(obj, [x0], lr, max_iter=n_frames, grad_tol=0, step_tol=0, diverge_at=1e6)
            for lr in lrs]
    lo, hi = obj.window
    xs = np.linspace(lo, hi, 200)
    fs = obj.f(xs[None, :])
    fig = Figure(figsize=(2.3 * len(lrs), 2.4), dpi=dpi, layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(lrs), sharey=True))
    lines = []
    for ax, res in zip(axes, runs, strict=True):
        ax.plot(xs, fs, color="0.4", lw=1)
        (ln,) = ax.plot([], [], "o-", color="tab:red", ms=3, lw=1)
        ax.set_xlim(lo, hi)
        ax.set_ylim(-1, fs.max() * 1.05)
        ax.set_title(f"lr = {res.lr:.3g} = {res.lr / thr:.2f} x 2/a", fontsize=8)
        ax.tick_params(labelsize=7)
        lines.append(ln)
    step_text = fig.suptitle("after 0 steps", fontsize=9)
    FigureCanvasAgg(fig).draw()
    fig.set_layout_engine("none")  # lay out once; every frame reuses it
    FigureCanvasBase(fig)  # no on-screen canvas: each frame is drawn once, by savefig, not twice

    def draw(k):
        for ln, res in zip(lines, runs, strict=True):
            path = res.path[: k + 1, 0]
            ln.set_data(_clipped(path, lo - 1, hi + 1), _clipped(res.losses[: k + 1], -1, 1e3))
        step_text.set_text(f"after {k} steps on f(x) = (a/2)(x - 3)^2 with a = {a:g}: threshold 2/a = {thr:g}")
        return lines

    anim = animation.FuncAnimation(fig, draw, frames=n_frames + 1, interval=400, blit=False)
    return static_animation(anim, name)
