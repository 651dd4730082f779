"""Chapter 2's interactive figure: a computational graph whose values and gradients follow two sliders.

:func:`graph_explorer` returns an ``ipywidgets`` container (no ``interact``): pick an
expression f(x, y) and the input values; the callback rebuilds the graph with
:class:`nnlib.engine.Value`, runs the forward and backward passes, draws the graph
with :func:`nnlib.engine_draw.draw_graph` and renders it as a PNG into an explicit
``Output``. It also compares the engine's gradient with central differences. The
container exposes ``.update()`` (the callback), ``.figure``, ``.output``, ``.readout``
and ``.result`` (the last run) for tests.

The kernel-free version for the static site is :func:`explorer_animation_html`: the
same figure, precomputed for a few settings (:data:`EXPLORER_SETTINGS`), with its own
slider and play buttons. The chapter hides the live control on the website (its cell is
tagged ``remove-output``) and shows that animation instead.
"""

from __future__ import annotations

import base64
import io
import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib import animation
from matplotlib.figure import Figure

from .. import figures
from .._validate import one_of, real_number
from ..engine import Value, ValueOverflowError
from ..engine_draw import (
    _MAX_FONT,
    _TITLE_IN,
    _box_text,
    _draw,
    _extent,
    _figsize,
    _fmt,
    _fontsizes,
    _keep_axes_in_place,
    _scale,
    graph_layout,
)
from . import Panel, static_animation

#: Inches: the live figure, shown in Jupyter at its natural size (530 px at 96 dpi); the
#: animation for the website is drawn at the column width instead. Narrower than the
#: column, so that a redraw stays well under 100 ms.
WIDGET_WIDTH = 5.5

FROZEN_NOTE = ("In Jupyter (`make lab`) the cell above shows live controls; on this page, the "
               "animation below shows the same figure for precomputed settings.")


def _two_paths(x, y):
    q = x + y
    q.label = "q"
    f = q * x
    return f


def _tanh_expr(x, y):
    u = x * y
    u.label = "u"
    z = u + y
    z.label = "z"
    return z.tanh()


def _sigmoid_log(x, y):
    s = x.sigmoid()
    s.label = "s"
    l = y.log()
    l.label = "l"
    return s * l


#: The expressions offered by the explorer: name -> builder(x, y) -> output Value.
EXPRESSIONS = {
    "f = (x + y) \u00b7 x": _two_paths,
    "f = tanh(x\u00b7y + y)": _tanh_expr,
    "f = \u03c3(x) \u00b7 log(y)": _sigmoid_log,
}


def evaluate(expression: str, x: float, y: float) -> dict:
    """Forward and backward pass of ``expression`` at (x, y).

    Returns ``{"f": root Value, "dx", "dy": engine gradients, "num_dx", "num_dy":
    central differences (h = 1e-5), "rel_error": relative error between the two}``.
    Raises ValueError for an unknown expression, or the engine's own error outside its domain.
    """
    one_of(expression, "expression", EXPRESSIONS)
    build = EXPRESSIONS[expression]
    xv, yv = Value(real_number(x, "x"), label="x"), Value(real_number(y, "y"), label="y")
    try:
        f = build(xv, yv)
    except ValueOverflowError as err:
        raise ValueOverflowError(
            f"x and y must be small enough for {expression!r} to stay finite, got x={x!r}, y={y!r} ({err}). "
            "Use values such as the sliders' range."
        ) from None
    f.label = "f"
    f.backward()
    h = 1e-5

    def fval(a, b):
        return build(Value(a), Value(b)).data

    num_dx = (fval(x + h, y) - fval(x - h, y)) / (2 * h)
    num_dy = (fval(x, y + h) - fval(x, y - h)) / (2 * h)
    diff = math.hypot(xv.grad - num_dx, yv.grad - num_dy)
    scale = max(math.hypot(xv.grad, yv.grad) + math.hypot(num_dx, num_dy), 1e-8)
    return {"f": f, "dx": xv.grad, "dy": yv.grad, "num_dx": num_dx, "num_dy": num_dy, "rel_error": diff / scale}


def _render(fig, out, alt):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi, pil_kwargs={"compress_level": 1})
    png = base64.b64encode(buf.getvalue()).decode("ascii")
    out.outputs = ({"output_type": "display_data", "data": {"image/png": png, "text/plain": alt}, "metadata": {}},)


def graph_explorer(x: float = 1.5, y: float = -0.5, expression: str = "f = (x + y) \u00b7 x"):
    r"""Sliders for x and y and a choice of f(x, y) -> the graph with values and gradients.

    Each box shows a node's value (forward pass) and :math:`\partial f/\partial\,\text{node}`
    (backward pass). Below the graph: the engine's :math:`\partial f/\partial x`,
    :math:`\partial f/\partial y` and their relative error against central differences.
    Outside an expression's domain (``log`` of y <= 0) the error message is shown instead.
    """
    if expression not in EXPRESSIONS:
        raise ValueError(f"expression must be one of {list(EXPRESSIONS)}, got {expression!r}.")
    style = {"description_width": "initial"}
    choice = widgets.Dropdown(options=list(EXPRESSIONS), value=expression, description="expression", style=style)
    x_slider = widgets.FloatSlider(value=x, min=-2.0, max=2.0, step=0.1, description="x", style=style)
    y_slider = widgets.FloatSlider(value=y, min=-2.0, max=2.0, step=0.1, description="y", style=style)
    readout = widgets.HTML()
    out = widgets.Output()
    fig = Figure(figsize=(WIDGET_WIDTH, 2), dpi=96)
    _keep_axes_in_place(fig)
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.98))

    panel = Panel([widgets.HBox([choice]), widgets.HBox([x_slider, y_slider]), out, readout], "graph explorer")
    panel.figure, panel.output, panel.readout, panel.result = fig, out, readout, None
    drawn = {"expression": None, "texts": []}  # the graph's shape depends only on the expression

    def update(change=None):
        try:
            res = evaluate(choice.value, x_slider.value, y_slider.value)
        except (ValueError, ZeroDivisionError, OverflowError) as err:
            panel.result = None
            out.outputs = ()
            readout.value = f"<b>Not defined here:</b> {err}"
            return
        nodes = res["f"].topological_order()  # same order for the same expression
        if drawn["expression"] != choice.value or len(drawn["texts"]) != len(nodes):
            layout = graph_layout(res["f"])
            fig.set_size_inches(*_figsize(layout, width=WIDGET_WIDTH))
            with figures.style():
                drawn["texts"] = _draw(ax, layout)
            drawn["expression"] = choice.value
        else:  # only the numbers change: update the box texts, keep every shape
            for text, node in zip(drawn["texts"], nodes, strict=True):
                text.set_text(_box_text(node, node.grad))
        panel.result = res
        readout.value = (
            f"engine: \u2202f/\u2202x = {res['dx']:.6f}, \u2202f/\u2202y = {res['dy']:.6f} &nbsp; | &nbsp; "
            f"central differences: {res['num_dx']:.6f}, {res['num_dy']:.6f} &nbsp; | &nbsp; "
            f"rel. error {res['rel_error']:.1e} (pass mark 1e-7)"
        )
        _render(fig, out, f"graph of {choice.value} at x={x_slider.value:.1f}, y={y_slider.value:.1f}")

    return panel.connect({"expression": choice, "x": x_slider, "y": y_slider}, update)


#: The settings of :func:`explorer_animation_html`, one frame each: (expression, x, y).
#: They cover what the chapter asks the reader to try: the first expression with y = 0
#: (both paths of x contribute x) and the last one with y <= 0 (log y is not defined).
EXPLORER_SETTINGS = (
    ("f = (x + y) \u00b7 x", 1.5, -0.5),
    ("f = (x + y) \u00b7 x", 1.5, 0.0),
    ("f = tanh(x\u00b7y + y)", 1.5, -0.5),
    ("f = \u03c3(x) \u00b7 log(y)", 1.5, 0.5),
    ("f = \u03c3(x) \u00b7 log(y)", 1.5, -0.5),
)


def explorer_frames(settings=EXPLORER_SETTINGS) -> list[dict]:
    """What each frame of :func:`explorer_animation_html` shows.

    One dict per ``(expression, x, y)``: ``{"expression", "x", "y", "result"}`` with the
    result of :func:`evaluate`, or ``{..., "error": message}`` where the expression is
    not defined at (x, y).
    """
    frames = []
    for expression, x, y in settings:
        frame = {"expression": expression, "x": x, "y": y}
        try:
            frame["result"] = evaluate(expression, x, y)
        except (ValueError, ZeroDivisionError, OverflowError) as err:
            frame["error"] = str(err)
        frames.append(frame)
    return frames


def _caption(frame) -> str:
    head = f"{frame['expression']} at x = {_fmt(frame['x'])}, y = {_fmt(frame['y'])}"
    if "error" in frame:
        return f"{head}: not defined here"
    res = frame["result"]
    agree = "agree" if res["rel_error"] <= 1e-7 else "DISAGREE"
    return (f"{head}\nengine: \u2202f/\u2202x = {_fmt(res['dx'])}, "
            f"\u2202f/\u2202y = {_fmt(res['dy'])}; central differences {agree} "
            f"(rel. error \u2264 1e-7)")


def _shifted(layout, dy):
    """``layout`` moved up by ``dy`` data units."""
    move = {k: {i: (x, y + dy) for i, (x, y) in layout[k].items()} for k in ("box", "op")}
    return {"nodes": layout["nodes"], **move}


EXPLORER_ALT = (
    "computational graphs of three expressions in x and y at several settings, each box showing "
    "its value and gradient, with the engine's gradient checked against central differences; the "
    "last frame shows that sigma(x) log(y) is not defined for y <= 0")


def explorer_animation_html(settings=EXPLORER_SETTINGS, name: str = "ch2explorer",
                            interval: int = 2500, dpi: int = 100) -> str:
    """The kernel-free version of :func:`graph_explorer`: one frame per setting.

    Each frame shows the graph of the expression at (x, y) with every node's value and
    gradient, and in its title the engine's gradient and whether central differences
    agree; a setting outside the expression's domain shows the engine's error message.
    Frames are :data:`nnlib.figures.COLUMN_WIDTH` wide with the same axes and text sizes
    throughout. Made by :func:`nnlib.widgets.static_animation` (reproducible, offline).
    """
    frames = explorer_frames(settings)
    layouts = [graph_layout(f["result"]["f"]) if "result" in f else None for f in frames]
    extents = [_extent(layout) for layout in layouts if layout is not None]
    if not extents:
        raise ValueError("explorer_animation_html: no setting gives a graph; pass at least one "
                         "(expression, x, y) inside its domain")
    limits = (min(e[0] for e in extents), max(e[1] for e in extents),
              min(e[2] for e in extents), max(e[3] for e in extents))
    mid = (limits[2] + limits[3]) / 2
    layouts = [None if layout is None else _shifted(layout, mid - sum(_extent(layout)[2:]) / 2)
               for layout in layouts]  # each graph centred in the common axes
    texts = [_box_text(n, n.grad) for f in frames if "result" in f
             for n in f["result"]["f"].topological_order()]
    fontsize = _fontsizes(_scale(limits), texts)
    width, height = _figsize(None, limits=limits)
    height += 2 * _TITLE_IN  # a two-line title
    with figures.style():
        fig, ax = plt.subplots(figsize=(width, height), dpi=dpi)
    _keep_axes_in_place(fig)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - 2 * _TITLE_IN / height)

    def update(i):
        frame, layout = frames[i], layouts[i]
        with figures.style():
            if layout is None:
                ax.clear()
                ax.set_axis_off()
                ax.set_xlim(limits[0], limits[1])
                ax.set_ylim(limits[2], limits[3])
                ax.text((limits[0] + limits[1]) / 2, (limits[2] + limits[3]) / 2,
                        "The forward pass stops with the engine's message:\n" + frame["error"],
                        ha="center", va="center", fontsize=_MAX_FONT, wrap=True)
            else:
                _draw(ax, layout, limits=limits, fontsize=fontsize)
            ax.set_title(_caption(frame), fontsize=_MAX_FONT)
        return ()

    anim = animation.FuncAnimation(fig, update, frames=len(frames), interval=interval, blit=False)
    plt.close(fig)  # show the animation, not an extra still
    with plt.rc_context({"savefig.dpi": "figure"}):  # frames at ``dpi``, whatever the style
        return static_animation(anim, name, alt=EXPLORER_ALT)
