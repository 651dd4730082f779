"""Chapter 3's stepper widget and figures: they build, the callback changes the picture, it is quick."""

import statistics
import time

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nnlib import backprop as bp  # noqa: E402
from nnlib.widgets import ch3  # noqa: E402


def _shown(box):
    (out,) = box.output.outputs
    return out["data"]["image/png"], out["data"]["text/plain"]


def test_stepper_builds_and_each_step_shows_a_different_picture():
    box = ch3.backprop_stepper(prerender=False)
    pictures = set()
    for step in range(len(ch3.STEPS)):
        box.slider.value = step
        png, alt = _shown(box)
        assert f"step {step} of" in alt
        pictures.add(png)
    assert len(pictures) == len(ch3.STEPS)


def test_changing_the_target_changes_the_backward_steps_only():
    box = ch3.backprop_stepper(prerender=False)
    box.slider.value = 3  # a forward step: the target plays no part yet
    before = _shown(box)[0]
    box.target.value = 1
    assert _shown(box)[0] == before
    box.slider.value = 7  # a backward step: gradients depend on the target
    with_1 = _shown(box)[0]
    box.target.value = 0
    assert _shown(box)[0] != with_1


def test_callback_is_quick_once_prerendered():
    box = ch3.backprop_stepper(prerender=True)
    times = []
    for step in [5, 2, 9, 0, 10, 4, 7]:
        start = time.perf_counter()
        box.slider.value = step
        times.append(time.perf_counter() - start)
    assert statistics.median(times) < 1.0  # generous sanity bound; real latency is far below


def test_frames_show_the_numbers_backprop_computes():
    params, x, y = ch3.default_network()
    frames = ch3.step_frames(params, x, y)
    grads = bp.backward(params, bp.forward(params, x), y)
    for k in grads:
        assert np.array_equal(frames["grads"][k], grads[k])


def test_draw_step_rejects_a_bad_step():
    from matplotlib.figure import Figure

    ax = Figure().add_subplot()
    frames = ch3.step_frames(*ch3.default_network())
    with pytest.raises(ValueError, match="step must be in"):
        ch3.draw_step(ax, frames, len(ch3.STEPS))


def test_animation_is_reproducible_and_offline():
    a = ch3.backprop_animation(dpi=20)
    assert a == ch3.backprop_animation(dpi=20)
    assert "https://" not in a and "http://" not in a
    assert a.count("data:image/png;base64") >= len(ch3.STEPS) - 1


def test_l2_graph_draws():
    from matplotlib.figure import Figure

    ax = ch3.draw_l2_graph(Figure().add_subplot())
    labels = {t.get_text() for t in ax.texts}
    assert {"$W_1$", "$W_2$", "$J$", "$s$", "$L$"} <= labels


def _png_width(png):
    import struct

    return struct.unpack(">I", png[16:20])[0]


def test_frames_fill_the_column_on_fixed_axes_and_stay_light():
    """Frames are 7 in at 100 dpi (>= 690 px), every step uses the same axes limits, and
    the animation's page weight stays small."""
    import base64
    import re

    from matplotlib.figure import Figure

    frames = ch3.step_frames(*ch3.default_network())
    assert _png_width(ch3.render_step(frames, 0)) >= 690
    html = ch3.backprop_animation()
    assert len(html) < 400_000  # 11 frames with a small palette, not ~75 kB each
    first = re.search(r'data:image/png;base64,([^"]*)"', html).group(1).replace("\\\n", "")
    assert _png_width(base64.b64decode(first)) >= 690
    ax = Figure().add_subplot()
    limits = set()
    for step in range(len(ch3.STEPS)):
        ch3.draw_step(ax, frames, step)
        limits.add((ax.get_xlim(), ax.get_ylim()))
    assert len(limits) == 1


def test_stepper_has_a_short_stable_text_form():
    box = ch3.backprop_stepper(prerender=False)
    assert repr(box) == "<backpropagation stepper: interactive figure>"
