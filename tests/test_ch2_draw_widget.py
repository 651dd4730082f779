"""Tests for the Chapter 2 graph drawing, backward animation and graph explorer widget."""

from __future__ import annotations

import statistics
import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Circle, FancyBboxPatch  # noqa: E402

from nnlib.engine import Value  # noqa: E402
from nnlib.engine_draw import backward_animation, backward_animation_html, draw_graph, graph_layout  # noqa: E402
from nnlib.widgets.ch2 import (  # noqa: E402
    EXPLORER_SETTINGS,
    EXPRESSIONS,
    FROZEN_NOTE,
    evaluate,
    explorer_animation_html,
    explorer_frames,
    graph_explorer,
)


def running_example():
    x, y = Value(1.5, label="x"), Value(-0.5, label="y")
    q = x + y
    q.label = "q"
    f = q * x
    f.label = "f"
    return f, x, y


def texts(ax):
    return [t.get_text() for t in ax.texts]


def test_draw_graph_makes_boxes_for_variables_and_circles_for_operators():
    f, x, y = running_example()
    f.backward()
    fig = draw_graph(f)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    assert len(boxes) == 4  # x, y, q, f
    assert len(circles) == 2  # +, *
    labels = texts(ax)
    assert "x\nval 1.5\ngrad 2.5" in labels
    assert "y\nval -0.5\ngrad 1.5" in labels
    assert "f\nval 1.5\ngrad 1" in labels
    assert "+" in labels and "\u00d7" in labels
    plt.close(fig)


def test_draw_graph_into_given_axes_and_without_gradients():
    f, _, _ = running_example()
    fig, ax = plt.subplots()
    assert draw_graph(f, ax=ax, show_grad=False, title="t") is fig
    assert not any("grad" in t for t in texts(ax))
    plt.close(fig)


def test_draw_graph_rejects_non_values():
    with pytest.raises(TypeError, match="root must be an nnlib.engine.Value"):
        draw_graph(3.0)


def test_layout_puts_every_node_right_of_its_inputs():
    a, b = Value(0.3), Value(-0.7)
    out = ((a * b).tanh() + a.exp() / (b * b + 1)).sigmoid()
    layout = graph_layout(out)
    for n in layout["nodes"]:
        for c in n.children:
            assert layout["box"][id(c)][0] < layout["op"][id(n)][0] < layout["box"][id(n)][0]
    positions = list(layout["box"].values())
    assert len(set(positions)) == len(positions)  # no two boxes on top of each other


def test_backward_animation_has_one_frame_per_node_and_leaves_final_gradients():
    f, x, y = running_example()
    anim = backward_animation(f)
    html = anim.to_jshtml()
    assert html.count("frames[") >= 5  # the forward state + one frame per node (4 nodes)
    assert x.grad == 2.5 and y.grad == 1.5


def _frames(html):
    import base64
    import re
    import struct

    pngs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html.replace("\\\n", ""))
    return [struct.unpack(">II", base64.b64decode(p)[16:24]) for p in pngs]


def test_draw_graph_is_column_wide_at_most_with_text_of_at_most_10_pt():
    f, _, _ = running_example()
    f.backward()
    fig = draw_graph(f)
    assert fig.get_size_inches()[0] == pytest.approx(7.0)
    sizes = [t.get_fontsize() for t in fig.axes[0].texts]
    assert max(sizes) <= 10 and min(sizes) >= 9  # a small graph is drawn at the course size
    plt.close(fig)


def test_backward_animation_frames_fill_the_column_with_fixed_axes():
    f, _, _ = running_example()
    anim = backward_animation(f)
    ax = anim._fig.axes[0]
    limits, positions = set(), set()
    for i in range(5):
        anim._func(i)
        limits.add((ax.get_xlim(), ax.get_ylim()))
        positions.add(tuple(ax.get_position(original=True).bounds))
    assert len(limits) == 1 and len(positions) == 1
    anim._draw_was_started = True  # drawn by hand above; no "deleted without rendering" warning
    sizes = _frames(backward_animation_html(running_example()[0], name="ch2size"))
    assert len(sizes) == 5 and all(w >= 690 for w, _ in sizes)
    assert len(set(sizes)) == 1


def test_backward_animation_html_is_reproducible():
    first = backward_animation_html(running_example()[0], name="ch2test")
    second = backward_animation_html(running_example()[0], name="ch2test")
    assert first == second
    assert "ch2test0" in first
    assert "://" not in first  # the site must not request anything from other hosts
    with pytest.raises(ValueError, match="name must be a short identifier"):
        backward_animation_html(running_example()[0], name="bad name")


# ---- widget ------------------------------------------------------------------------------
def test_evaluate_matches_central_differences_for_every_expression():
    for name in EXPRESSIONS:
        res = evaluate(name, 0.7, 1.3)
        assert res["rel_error"] <= 1e-7, name


def test_evaluate_rejects_unknown_expression():
    with pytest.raises(ValueError, match="expression must be one of"):
        evaluate("x + 1", 0.0, 0.0)
    with pytest.raises(ValueError, match="expression must be one of"):
        graph_explorer(expression="x + 1")


def test_explorer_builds_and_callback_redraws():
    panel = graph_explorer()
    assert repr(panel) == "<graph explorer: interactive figure>"
    assert len(panel.output.outputs) == 1
    before = panel.output.outputs[0]["data"]["image/png"]
    assert panel.result["dx"] == pytest.approx(2.5)  # 2x + y at (1.5, -0.5)
    x_slider = panel.children[1].children[0]
    x_slider.value = 0.5
    after = panel.output.outputs[0]["data"]["image/png"]
    assert after != before
    assert panel.result["dx"] == pytest.approx(0.5)  # 2 * 0.5 - 0.5
    assert "rel. error" in panel.readout.value
    assert "make lab" in FROZEN_NOTE and "frozen" not in FROZEN_NOTE


def test_explorer_reports_domain_errors_instead_of_raising():
    panel = graph_explorer(expression=list(EXPRESSIONS)[2])  # sigma(x) * log(y)
    panel.children[1].children[1].value = -1.0
    assert panel.result is None
    assert panel.output.outputs == ()
    assert "log needs a positive value" in panel.readout.value
    panel.children[1].children[1].value = 1.5
    assert panel.result is not None and len(panel.output.outputs) == 1


def test_explorer_callback_is_fast_enough():
    panel = graph_explorer()
    x_slider = panel.children[1].children[0]
    times = []
    for v in [0.1, 0.2, 0.3, 0.4, 0.5]:
        t0 = time.perf_counter()
        x_slider.value = v
        times.append(time.perf_counter() - t0)
    assert statistics.median(times) < 1.0  # generous sanity bound; real latency is benchmarked


# ---- the kernel-free version of the explorer ----------------------------------------------
def test_explorer_frames_cover_what_the_chapter_asks_to_try():
    frames = explorer_frames()
    assert len(frames) == len(EXPLORER_SETTINGS)
    first = [f for f in frames if f["expression"] == list(EXPRESSIONS)[0] and f["y"] == 0.0]
    assert first and first[0]["result"]["dx"] == pytest.approx(2 * first[0]["x"])
    last = [f for f in frames if f["expression"] == list(EXPRESSIONS)[2] and f["y"] <= 0]
    assert last and "log needs a positive value" in last[0]["error"]
    assert {f["expression"] for f in frames} == set(EXPRESSIONS)


def test_explorer_animation_is_reproducible_column_wide_and_offline():
    html = explorer_animation_html(name="ch2exptest")
    assert html == explorer_animation_html(name="ch2exptest")
    assert "ch2exptest0" in html and "://" not in html
    sizes = _frames(html)
    assert len(sizes) == len(EXPLORER_SETTINGS)
    assert len(set(sizes)) == 1 and sizes[0][0] >= 690  # the same frame size throughout
    with pytest.raises(ValueError, match="no setting gives a graph"):
        explorer_animation_html(settings=[(list(EXPRESSIONS)[2], 1.0, -1.0)])
