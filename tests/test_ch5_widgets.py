"""Chapter 5's depth explorer: builds, redraws on every control, stays fast; the static animation renders."""

import time

import numpy as np
import pytest

from nnlib.widgets import ch5


def _svg(box):
    (out,) = box.output.outputs
    return out["data"]["image/svg+xml"]


def test_depth_profile_shapes():
    norms, stats = ch5.depth_profile(7, "tanh", "xavier", width=16, batch=32)
    assert norms.shape == (7,) and len(stats) == 6
    assert np.all(norms > 0)


def test_builds_and_every_control_changes_the_figure():
    box = ch5.build_depth_explorer(depth=4, activation="relu", init="he")
    first = _svg(box)
    assert first.startswith("<svg") and "4 layers, relu" in first
    depth, activation, init = box.controls
    seen = {first}
    for control, value in [(depth, 12), (activation, "sigmoid"), (init, "large")]:
        control.value = value
        svg = _svg(box)
        assert svg not in seen
        seen.add(svg)
    assert "12 layers, sigmoid, large" in _svg(box)


def test_svg_draws_one_point_per_layer_and_four_histograms():
    norms, stats = ch5.depth_profile(9, "sigmoid", "xavier", width=16, batch=32)
    svg = ch5.profile_svg(norms, stats)
    assert svg.count("<polyline") == 2
    assert svg.count("<circle") == 9 + 8
    assert svg.count("layer ") >= 4


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="activation"):
        ch5.build_depth_explorer(activation="swish")
    with pytest.raises(ValueError, match="init"):
        ch5.build_depth_explorer(init="zeros")


def test_callback_is_fast():
    """Median redraw time; real latency is measured in benchmarks, this is only a sanity bound."""
    box = ch5.build_depth_explorer(depth=20)
    times = []
    for _ in range(7):
        start = time.perf_counter()
        box.redraw()
        times.append(time.perf_counter() - start)
    assert np.median(times) < 1.0


def test_static_animation_has_one_frame_per_setting():
    html = ch5.depth_explorer_animation([("sigmoid", "xavier"), ("relu", "he")], depth=4, width=16, dpi=30)
    assert "<script" in html and html.count("data:image/png;base64") == 2
    assert "_anim_imgch5_depth_explorer" in html
    assert "http://" not in html and "https://" not in html  # the site works offline


def test_static_animation_is_deterministic():
    args = ([("tanh", "large")],)
    kwargs = {"depth": 3, "width": 8, "dpi": 20}
    assert ch5.depth_explorer_animation(*args, **kwargs) == ch5.depth_explorer_animation(*args, **kwargs)


def test_static_animation_frames_fill_the_column_with_fixed_axes():
    import base64
    import re
    import struct

    html = ch5.depth_explorer_animation([("sigmoid", "small"), ("relu", "large")], depth=4, width=16)
    frames = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html.replace("\\\n", ""))
    widths = {struct.unpack(">I", base64.b64decode(f)[16:20])[0] for f in frames}
    assert widths == {700}  # 7 in at 100 dpi: the column width, shown at natural size


def test_fixed_histogram_range_counts_everything():
    norms, stats = ch5.depth_profile(4, "relu", "large", width=16, batch=32, value_range=(-1.0, 2.0))
    for s in stats:
        assert s.edges[0] == -1.0 and s.edges[-1] == 2.0 and s.counts.sum() == 32 * 16
    assert stats[-1].counts[-1] > 0  # large weights: activations beyond 2 land in the last bin
