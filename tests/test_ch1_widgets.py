"""Chapter 1 widgets: they build, their callbacks redraw the Output, and they are fast."""

import base64
import re
import statistics
import struct
import time

import pytest

from nnlib.widgets import ch1


def _png(panel):
    (out,) = panel.output.outputs
    data = out["data"]
    assert out["output_type"] == "display_data"
    raw = base64.b64decode(data["image/png"])
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    return raw


def _median_callback_seconds(panel, control, values):
    times = []
    for v in values:
        start = time.perf_counter()
        panel.controls[control].value = v
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def test_descent_explorer_redraws_on_every_control():
    panel = ch1.descent_explorer(lr=0.1, x0=-0.5)
    assert repr(panel) == "<Gradient descent explorer: interactive figure>"
    first = _png(panel)
    assert panel.result.reason == "grad_tol"
    panel.controls["lr"].value = 0.9
    assert panel.result.lr == pytest.approx(0.9) and _png(panel) != first
    assert panel.result.reason == "diverged"
    before = _png(panel)
    panel.controls["x0"].value = 1.5
    assert panel.result.path[0, 0] == pytest.approx(1.5) and _png(panel) != before
    before = _png(panel)
    panel.controls["function"].value = "quadratic (x-1)^2"
    assert panel.result.name.startswith("quadratic_1d") and _png(panel) != before


def test_descent_explorer_callback_is_fast():
    panel = ch1.descent_explorer()
    median = _median_callback_seconds(panel, "lr", [0.01, 0.03, 0.1, 0.3, 0.6, 0.9, 1.5])
    assert median < 1.0  # a generous sanity bound; benchmarks measure the real latency


def test_optimizer_explorer_switches_optimiser_and_surface():
    panel = ch1.optimizer_explorer()
    assert repr(panel) == "<Optimiser explorer: interactive figure>"
    first = _png(panel)
    assert panel.result.name == "Momentum"
    panel.controls["optimizer"].value = "Adam"
    assert panel.result.name == "Adam" and _png(panel) != first
    panel.controls["surface"].value = "Rosenbrock"
    assert panel.result.path.shape[1] == 2 and panel.result.n_iter == 500
    panel.controls["optimizer"].value = "GD"
    panel.controls["lr"].value = 0.5
    assert panel.result.reason == "diverged"
    _png(panel)  # a divergent run still draws


def test_optimizer_explorer_callback_is_fast():
    panel = ch1.optimizer_explorer()
    median = _median_callback_seconds(panel, "optimizer", ["GD", "AdaGrad", "RMSProp", "Adam", "Momentum", "GD"])
    assert median < 1.0


def test_builders_reject_unknown_choices():
    with pytest.raises(ValueError, match="function"):
        ch1.descent_explorer(function="cubic")
    with pytest.raises(ValueError, match="optimizer"):
        ch1.optimizer_explorer(optimizer="Nesterov")
    with pytest.raises(ValueError, match="surface"):
        ch1.optimizer_explorer(surface="saddle")


def test_animation_html_is_reproducible_and_has_controls():
    html = ch1.lr_animation_html(n_frames=3, dpi=30)
    assert html == ch1.lr_animation_html(n_frames=3, dpi=30)
    assert html.count("data:image/png;base64") == 4  # frames 0..3
    assert 'id="_anim_sliderch1lr0"' in html and "new Animation" in html  # slider + play controls
    assert "http://" not in html and "https://" not in html  # nothing fetched from other hosts


def _frames(html):
    return [base64.b64decode(f.replace("\\\n", "").replace("\n", ""))
            for f in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=\\\n]+)", html)]


def test_double_well_animation_is_reproducible_and_has_controls():
    html = ch1.double_well_animation_html(n_frames=3, dpi=30)
    assert html == ch1.double_well_animation_html(n_frames=3, dpi=30)
    assert html.count("data:image/png;base64") == 4  # frames 0..3
    assert 'id="_anim_sliderch1well0"' in html and "new Animation" in html
    assert "http://" not in html and "https://" not in html


@pytest.mark.parametrize("build", [ch1.lr_animation_html, ch1.double_well_animation_html])
def test_animation_frames_fill_the_column(build):
    (first, last) = _frames(build(n_frames=1))
    width, height = struct.unpack(">II", first[16:24])
    assert width >= 690  # 7 in at 100 dpi: shown at about its natural size
    assert struct.unpack(">II", last[16:24]) == (width, height)  # every frame the same size
