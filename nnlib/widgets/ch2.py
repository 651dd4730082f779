"""Chapter 2's interactive figure: a computational graph whose values and gradients follow two sliders.

:func:`graph_explorer` returns an ``ipywidgets`` container (no ``interact``): pick an
expression f(x, y) and the input values; the callback rebuilds the graph with
:class:`nnlib.engine.Value`, runs the forward and backward passes, draws the graph
with :func:`nnlib.engine_draw.draw_graph` and renders it as a PNG into an explicit
``Output``. It also compares the engine's gradient with central differences. The
container exposes ``.update()`` (the callback), ``.figure``, ``.output``, ``.readout``
and ``.result`` (the last run) for tests.

The kernel-free version for the static site is
:func:`nnlib.engine_draw.backward_animation`.
"""

from __future__ import annotations

import base64
import io
import math

import ipywidgets as widgets
from matplotlib.figure import Figure

from .._validate import one_of, real_number
from ..engine import Value, ValueOverflowError
from ..engine_draw import _box_text, _draw, _figsize, graph_layout
from . import Panel

FROZEN_NOTE = "This control is frozen on the website; run `make lab` to make it live."


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
    fig = Figure(figsize=(6, 2), dpi=96)
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
            fig.set_size_inches(*_figsize(layout))
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
