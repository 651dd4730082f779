"""Drawing computational graphs of :class:`nnlib.engine.Value` with matplotlib (Chapter 2).

Boxes are variables (each shows its label, its value from the forward pass and its
gradient from the backward pass); circles are operators. Arrows point the way the
forward pass runs, from inputs to output. Pure matplotlib: no Graphviz needed.

- :func:`draw_graph` draws a graph once, e.g. after ``y.backward()``.
- :func:`backward_animation` steps through the backward pass node by node, for a
  page that must work without a running kernel (``anim.to_jshtml()``).

Figures are drawn in the course style (:mod:`nnlib.figures`) at the width of the content
column, :data:`nnlib.figures.COLUMN_WIDTH`: a small graph keeps a moderate scale and a
deep one is shrunk to fit, and the text in boxes and circles is sized to fit them (at
most 10 pt).
"""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
from matplotlib import animation
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from . import figures
from .engine import Value
from .widgets import static_animation

__all__ = ["graph_layout", "draw_graph", "backward_animation", "backward_animation_html"]

#: How operators are written inside their circles.
OP_SYMBOLS = {"+": "+", "-": "\u2212", "*": "\u00d7", "/": "\u00f7", "neg": "\u2212x",
              "exp": "exp", "log": "log", "tanh": "tanh", "sigmoid": "\u03c3", "relu": "ReLU"}

_BOX_W, _BOX_H, _R = 1.3, 0.78, 0.27  # box width/height and circle radius, in data units
_COL_DX, _ROW_DY = 1.05, 1.0  # spacing of columns and rows
_MAX_SCALE = 0.95  # inches per data unit: a small graph is not blown up to the full width
_MAX_FONT = 10.0  # points: the course's text size
_WIDEST_TEXT = "grad -0.000"  # the box text a layout must make room for, at least

_DONE, _ACTIVE, _WAIT, _LEAF = "#cfe8cf", "#ffd27f", "#f2f2f2", "#dbe8f6"


def _symbol(op: str) -> str:
    if op.startswith("**"):
        return "^" + op[2:]  # "^2"
    return OP_SYMBOLS.get(op, op)


def _check_root(root) -> None:
    if not isinstance(root, Value):
        raise TypeError(
            f"root must be an nnlib.engine.Value (the output of the graph), got {type(root).__name__}. "
            "Pass the Value your expression produced, e.g. y = x * x; draw_graph(y)."
        )


def graph_layout(root: Value) -> dict:
    """Positions for every node: ``{"nodes": [...], "box": {id: (x, y)}, "op": {id: (x, y)}}``.

    A node's column is its depth (longest path from a leaf); its operator circle sits
    half a column to its left. Within a column nodes are ordered by the mean height of
    their inputs, which keeps most arrows from crossing in small graphs.
    """
    _check_root(root)
    nodes = root.topological_order()
    depth: dict[int, int] = {}
    for n in nodes:  # inputs come first, so their depth is known
        depth[id(n)] = 1 + max((depth[id(c)] for c in n.children), default=-1)
    # Constants that feed a single operator are drawn next to it, one column to its left.
    users: dict[int, list[Value]] = {id(n): [] for n in nodes}
    for n in nodes:
        for c in n.children:
            users[id(c)].append(n)
    for n in nodes:
        if not n.children and users[id(n)]:
            depth[id(n)] = min(depth[id(u)] for u in users[id(n)]) - 1
    columns: dict[int, list[Value]] = {}
    for n in nodes:
        columns.setdefault(depth[id(n)], []).append(n)
    y: dict[int, float] = {}
    for d in sorted(columns):
        col = columns[d]
        if d > min(columns):
            col.sort(key=lambda n: sum(y.get(id(c), 0.0) for c in n.children) / max(len(n.children), 1))
        for i, n in enumerate(col):
            y[id(n)] = -(i - (len(col) - 1) / 2) * _ROW_DY
    # Pull each node to the mean height of its inputs where that does not collide.
    for d in sorted(columns)[1:]:
        col = columns[d]
        wanted = [sum(y[id(c)] for c in n.children) / len(n.children) if n.children else y[id(n)] for n in col]
        for i, n in enumerate(col):
            lo = y[id(col[i - 1])] - _ROW_DY if i > 0 else float("inf")
            y[id(n)] = min(wanted[i], lo)
    box = {id(n): (2 * depth[id(n)] * _COL_DX, y[id(n)]) for n in nodes}
    op = {id(n): ((2 * depth[id(n)] - 1) * _COL_DX, y[id(n)]) for n in nodes if n.children}
    return {"nodes": nodes, "box": box, "op": op}


def _arrow(ax, p, q, color="#555555", lw=1.0, rad=0.0):
    ax.add_patch(FancyArrowPatch(p, q, arrowstyle="-|>", mutation_scale=9, color=color, lw=lw,
                                 shrinkA=0, shrinkB=0, zorder=1, connectionstyle=f"arc3,rad={rad}"))


def _fmt(v: float) -> str:
    return f"{v:.3g}" if abs(v) >= 1e-4 or v == 0 else f"{v:.1e}"


def _em(text: str) -> float:
    """Width of the widest line of ``text`` in the course font, in units of the font size."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    prop = FontProperties(family=plt.rcParams["font.family"])
    return max(TextPath((0, 0), line, size=1, prop=prop).get_extents().width
               for line in text.splitlines() or [" "])


def _extent(layout):
    """(x0, x1, y0, y1) of the boxes of ``layout``, in data units, with a small margin."""
    xs = [p[0] for p in layout["box"].values()]
    ys = [p[1] for p in layout["box"].values()]
    return (min(xs) - _BOX_W / 2 - 0.1, max(xs) + _BOX_W / 2 + 0.1,
            min(ys) - _BOX_H / 2 - 0.1, max(ys) + _BOX_H / 2 + 0.1)


def _fontsizes(scale: float, texts=()):
    """Point sizes (box text, operator symbol) that fit a box and a circle at ``scale`` in/unit."""
    box_pt = _BOX_W * scale * 72
    widest = max([_em(_WIDEST_TEXT)] + [_em(t) for t in texts])
    box = min(_MAX_FONT, 0.9 * box_pt / widest)
    return box, min(_MAX_FONT, 0.85 * 2 * _R * scale * 72 / _em("tanh"))


def _box_text(node: Value, grad, show_grad: bool = True, name: str | None = None) -> str:
    """The text in a variable's box: its label, its value and (if shown) its gradient or '?'."""
    name = name or node.label
    lines = [name] if name else []
    lines.append(f"val {_fmt(node.data)}")
    if show_grad:
        lines.append("grad ?" if grad is None else f"grad {_fmt(grad)}")
    return "\n".join(lines)


def _draw(ax, layout, grads=None, status=None, show_grad=True, names=None, limits=None,
          fontsize=None):
    """Draw one frame; return the box texts in node order (so a caller can update just the numbers).

    ``grads``: {id: grad or None} (default: each node's ``grad``); ``status``:
    {id: 'done'|'active'|'wait'} colours the boxes of an animation frame. ``limits``:
    (x0, x1, y0, y1) to keep the same axes on every frame of an animation (default: the
    layout's own extent). ``fontsize``: (box text, operator) in points; by default they
    are fitted to the size the boxes have in the axes.
    """
    texts = []
    ax.clear()
    ax.set_axis_off()
    ax.set_aspect("equal")
    nodes, box, op = layout["nodes"], layout["box"], layout["op"]
    status = status or {}
    x0, x1, y0, y1 = limits or _extent(layout)
    if fontsize is None:
        pos = ax.get_position(original=True)
        fig_w, fig_h = ax.figure.get_size_inches()
        scale = min(pos.width * fig_w / (x1 - x0), pos.height * fig_h / (y1 - y0))
        g = {id(n): n.grad for n in nodes} if grads is None else grads
        fontsize = _fontsizes(scale, [_box_text(n, g.get(id(n)), show_grad) for n in nodes])
    box_fs, op_fs = fontsize
    for n in nodes:
        bx, by = box[id(n)]
        if n.children:
            ox, oy = op[id(n)]
            active = status.get(id(n)) == "active"
            for c in n.children:
                cx, cy = box[id(c)]
                # An arrow that skips a column would cross the boxes in between: bend it around them.
                rad = 0.0 if ox - cx < 2.5 * _COL_DX else (-0.35 if cy >= oy else 0.35)
                _arrow(ax, (cx + _BOX_W / 2, cy), (ox - _R, oy), color="#c0392b" if active else "#555555",
                       lw=1.8 if active else 1.0, rad=rad)
            _arrow(ax, (ox + _R, oy), (bx - _BOX_W / 2, by))
            ax.add_patch(Circle((ox, oy), _R, facecolor="white", edgecolor="#333333", lw=1.2,
                                zorder=2))
            sym = _symbol(n.op)
            ax.text(ox, oy, sym, ha="center", va="center", fontsize=op_fs, zorder=3)
        face = {"done": _DONE, "active": _ACTIVE, "wait": _WAIT}.get(status.get(id(n)), _LEAF)
        ax.add_patch(FancyBboxPatch((bx - _BOX_W / 2, by - _BOX_H / 2), _BOX_W, _BOX_H,
                                    boxstyle="round,pad=0.02", facecolor=face, edgecolor="#333333", lw=1.0, zorder=2))
        g = n.grad if grads is None else grads.get(id(n))
        text = _box_text(n, g, show_grad, (names or {}).get(id(n)))
        texts.append(ax.text(bx, by, text, ha="center", va="center", fontsize=box_fs,
                             linespacing=1.15, zorder=3))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    return texts


def _scale(limits, width=figures.COLUMN_WIDTH):
    """Inches per data unit that fit ``limits`` into ``width`` inches, at most :data:`_MAX_SCALE`."""
    x0, x1, _, _ = limits
    return min(_MAX_SCALE, 0.98 * width / (x1 - x0))


_TITLE_IN = 0.4  # inches above the graph for a title (10 pt, one line)


def _figsize(layout, title=False, limits=None, width=figures.COLUMN_WIDTH):
    """(width, height) in inches: the column width, and the height the graph needs at its scale."""
    limits = limits or _extent(layout)
    h = (limits[3] - limits[2]) * _scale(limits, width) / 0.98 + (_TITLE_IN if title else 0.0)
    return (width, max(h, 1.2))


def _keep_axes_in_place(fig) -> None:
    """Give ``fig`` a layout engine that does nothing, so its axes stay where they are put.

    A figure made with ``layout="none"`` under the course style gets the style's
    constrained layout back after its first ``savefig`` (matplotlib restores the engine
    from the rcParams), which would move the axes between the frames of an animation.
    """
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    fig.set_layout_engine(PlaceHolderLayoutEngine(adjust_compatible=True, colorbar_gridspec=True))


def _place_axes(fig, title=False):
    """Axes filling the figure (below a title line), kept there by :func:`_keep_axes_in_place`."""
    _keep_axes_in_place(fig)
    top = 1 - _TITLE_IN / fig.get_size_inches()[1] if title else 0.99
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=top)


def draw_graph(root: Value, ax=None, show_grad: bool = True, title: str | None = None):
    """Draw the graph that ends in ``root`` with every node's value and gradient; return the Figure.

    Call ``root.backward()`` first to see gradients (otherwise they show as 0).
    ``ax``: an existing matplotlib Axes to draw into (its figure is returned);
    by default a new figure sized to the graph is made.
    """
    _check_root(root)
    layout = graph_layout(root)
    if ax is None:
        fig, ax = plt.subplots(figsize=_figsize(layout, title=bool(title)))
        _place_axes(fig, title=bool(title))
    else:
        fig = ax.figure
    _draw(ax, layout, show_grad=show_grad)
    if title:
        ax.set_title(title, fontsize=_MAX_FONT)
    return fig


def backward_animation(root: Value, interval: int = 1000, dpi: int = 100):
    """A matplotlib animation of the backward pass of ``root``, one frame per node.

    Frame 0 shows the forward pass (values known, gradients "?"). Each later frame
    runs one node's backward rule (highlighted in orange, with the arrows it sends
    gradients along in red): the node's own gradient is final, and its inputs'
    gradients grow by ``+=``, so a node with two users is seen collecting two
    contributions. Leaves the graph with the final gradients, as ``root.backward()``
    would. Display with ``IPython.display.HTML(anim.to_jshtml())``.

    Frames are :data:`nnlib.figures.COLUMN_WIDTH` wide (700 px at the default 100 dpi),
    drawn in the course style with the same axes and text sizes on every frame.
    """
    _check_root(root)
    layout = graph_layout(root)
    nodes = layout["nodes"]
    frames = [({id(n): None for n in nodes}, {id(n): "wait" for n in nodes}, "forward pass: values stored")]
    touched: set[int] = set()
    for k, node in enumerate(root.backward_steps(), start=1):
        touched.add(id(node))
        touched.update(id(c) for c in node.children)
        grads = {id(n): (n.grad if id(n) in touched else None) for n in nodes}
        status = {}
        for n in nodes:
            status[id(n)] = "done" if id(n) in touched else "wait"
        status[id(node)] = "active"
        name = node.label or _symbol(node.op)
        what = "passes its gradient to its inputs" if node.children else "is a leaf: its gradient is final"
        frames.append((grads, status, f"step {k}/{len(nodes)}: {name} {what}"))
    limits = _extent(layout)
    texts = [_box_text(n, g[id(n)]) for g, _, _ in frames for n in nodes]
    fontsize = _fontsizes(_scale(limits), texts)
    with figures.style():
        fig, ax = plt.subplots(figsize=_figsize(layout, title=True), dpi=dpi)
    _place_axes(fig, title=True)

    def update(i):
        grads, status, caption = frames[i]
        with figures.style():
            _draw(ax, layout, grads=grads, status=status, limits=limits, fontsize=fontsize)
            ax.set_title(caption, fontsize=_MAX_FONT)
        return ()

    anim = animation.FuncAnimation(fig, update, frames=len(frames), interval=interval, blit=False)
    plt.close(fig)  # show the animation, not an extra still
    return anim


def _backward_alt(root: Value) -> str:
    size = f" of {len(root.topological_order())} nodes"
    return (f"the backward pass through a computational graph{size}, one step per frame: each frame "
            "highlights the node whose local rule runs and the arrows its gradient flows along, "
            "and a node used twice collects the gradient of both paths")


def backward_animation_html(root: Value, name: str = "backward", interval: int = 1000,
                            dpi: int = 100) -> str:
    """The HTML (slider and play buttons, no kernel needed) of :func:`backward_animation`.

    Made by :func:`nnlib.widgets.static_animation`: the random element ids of
    ``to_jshtml`` are replaced by ``name`` (the same graph always gives the same HTML,
    so notebooks are reproducible) and nothing is requested from other hosts.
    Display with ``IPython.display.HTML(...)``.
    """
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
        raise ValueError(f"name must be a short identifier such as 'backward', got {name!r}.")
    anim = backward_animation(root, interval=interval, dpi=dpi)
    with plt.rc_context({"savefig.dpi": "figure"}):  # frames at ``dpi``, whatever the style
        return static_animation(anim, name, alt=_backward_alt(root))
