"""Drawing computational graphs of :class:`nnlib.engine.Value` with matplotlib (Chapter 2).

Boxes are variables (each shows its label, its value from the forward pass and its
gradient from the backward pass); circles are operators. Arrows point the way the
forward pass runs, from inputs to output. Pure matplotlib: no Graphviz needed.

- :func:`draw_graph` draws a graph once, e.g. after ``y.backward()``.
- :func:`backward_animation` steps through the backward pass node by node, for a
  page that must work without a running kernel (``anim.to_jshtml()``).
"""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
from matplotlib import animation
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from .engine import Value
from .widgets import static_animation

__all__ = ["graph_layout", "draw_graph", "backward_animation", "backward_animation_html"]

#: How operators are written inside their circles.
OP_SYMBOLS = {"+": "+", "-": "\u2212", "*": "\u00d7", "/": "\u00f7", "neg": "\u2212x",
              "exp": "exp", "log": "log", "tanh": "tanh", "sigmoid": "\u03c3", "relu": "ReLU"}

_BOX_W, _BOX_H, _R = 1.3, 0.78, 0.27 # box width/height and circle radius, in data units
_COL_DX, _ROW_DY = 1.05, 1.0  # spacing of columns and rows

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
    return f"{v:.4g}" if abs(v) >= 1e-4 or v == 0 else f"{v:.1e}"


def _box_text(node: Value, grad, show_grad: bool = True, name: str | None = None) -> str:
    """The text in a variable's box: its label, its value and (if shown) its gradient or '?'."""
    name = name or node.label
    lines = [name] if name else []
    lines.append(f"val {_fmt(node.data)}")
    if show_grad:
        lines.append("grad ?" if grad is None else f"grad {_fmt(grad)}")
    return "\n".join(lines)


def _draw(ax, layout, grads=None, status=None, show_grad=True, names=None):
    """Draw one frame; return the box texts in node order (so a caller can update just the numbers).

    ``grads``: {id: grad or None} (default: each node's ``grad``); ``status``:
    {id: 'done'|'active'|'wait'} colours the boxes of an animation frame.
    """
    texts = []
    ax.clear()
    ax.set_axis_off()
    ax.set_aspect("equal")
    nodes, box, op = layout["nodes"], layout["box"], layout["op"]
    status = status or {}
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
            ax.add_patch(Circle((ox, oy), _R, facecolor="white", edgecolor="#333333", lw=1.2, zorder=2))
            sym = _symbol(n.op)
            ax.text(ox, oy, sym, ha="center", va="center", fontsize=9 if len(sym) < 4 else 6.5, zorder=3)
        face = {"done": _DONE, "active": _ACTIVE, "wait": _WAIT}.get(status.get(id(n)), _LEAF)
        ax.add_patch(FancyBboxPatch((bx - _BOX_W / 2, by - _BOX_H / 2), _BOX_W, _BOX_H,
                                    boxstyle="round,pad=0.02", facecolor=face, edgecolor="#333333", lw=1.0, zorder=2))
        g = n.grad if grads is None else grads.get(id(n))
        text = _box_text(n, g, show_grad, (names or {}).get(id(n)))
        texts.append(ax.text(bx, by, text, ha="center", va="center", fontsize=8, family="monospace", zorder=3))
    xs = [p[0] for p in box.values()]
    ys = [p[1] for p in box.values()]
    ax.set_xlim(min(xs) - _BOX_W / 2 - 0.1, max(xs) + _BOX_W / 2 + 0.1)
    ax.set_ylim(min(ys) - _BOX_H / 2 - 0.1, max(ys) + _BOX_H / 2 + 0.1)
    return texts


def _figsize(layout, scale=0.75, title=False):
    """Inches for a figure that shows the layout at ``scale`` inches per data unit."""
    xs = [p[0] for p in layout["box"].values()]
    ys = [p[1] for p in layout["box"].values()]
    w = (max(xs) - min(xs) + _BOX_W + 0.2) * scale / 0.98
    h = (max(ys) - min(ys) + _BOX_H + 0.2) * scale / (0.87 if title else 0.98)
    return (max(w, 2.5), max(h, 1.2))


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
        fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.88 if title else 0.99)
    else:
        fig = ax.figure
    _draw(ax, layout, show_grad=show_grad)
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def backward_animation(root: Value, interval: int = 1000, dpi: int = 88):
    """A matplotlib animation of the backward pass of ``root``, one frame per node.

    Frame 0 shows the forward pass (values known, gradients "?"). Each later frame
    runs one node's backward rule (highlighted in orange, with the arrows it sends
    gradients along in red): the node's own gradient is final, and its inputs'
    gradients grow by ``+=``, so a node with two users is seen collecting two
    contributions. Leaves the graph with the final gradients, as ``root.backward()``
    would. Display with ``IPython.display.HTML(anim.to_jshtml())``.
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
    fig, ax = plt.subplots(figsize=_figsize(layout, title=True), dpi=dpi)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.88)

    def update(i):
        grads, status, caption = frames[i]
        _draw(ax, layout, grads=grads, status=status)
        ax.set_title(caption, fontsize=8)
        return ()

    anim = animation.FuncAnimation(fig, update, frames=len(frames), interval=interval, blit=False)
    plt.close(fig)  # show the animation, not an extra still
    return anim


def backward_animation_html(root: Value, name: str = "backward", interval: int = 1000, dpi: int = 88) -> str:
    """The HTML (slider and play buttons, no kernel needed) of :func:`backward_animation`.

    Made by :func:`nnlib.widgets.static_animation`: the random element ids of
    ``to_jshtml`` are replaced by ``name`` (the same graph always gives the same HTML,
    so notebooks are reproducible) and nothing is requested from other hosts.
    Display with ``IPython.display.HTML(...)``.
    """
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
        raise ValueError(f"name must be a short identifier such as 'backward', got {name!r}.")
    return static_animation(backward_animation(root, interval=interval, dpi=dpi), name)
