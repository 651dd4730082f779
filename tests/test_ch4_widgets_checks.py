"""Chapter 4: the training-curve widget, its static animation, and the exercise checks."""

import statistics
import time

import matplotlib
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

matplotlib.use("Agg")

from nnlib.checks import check, registry  # noqa: E402
from nnlib.data import load_digits  # noqa: E402
from nnlib.widgets import ch4 as ch4w  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def test_widget_builds_with_its_controls(digits):
    import ipywidgets as w

    box = ch4w.training_curve_widget(digits, epochs=2)
    assert isinstance(box, w.VBox) and isinstance(box.output, w.Output)
    assert box.batch_size.value == 32 and box.lr.value == pytest.approx(0.1)
    labels = [label for label, _ in box.batch_size.options]
    assert labels[-1] == f"full batch ({len(digits[0])})" and "4" in labels


def _shown(box):
    """(text form, PNG) of what the widget's Output shows now."""
    (out,) = box.output.outputs
    return out["data"]["text/plain"], out["data"]["image/png"]


def test_widget_callback_changes_the_output(digits):
    box = ch4w.training_curve_widget(digits, epochs=2)
    text, png = _shown(box)
    assert text.startswith("Training curves for batch size 32 and learning rate 0.1:")
    box.batch_size.value = 128
    text2, png2 = _shown(box)
    assert text2.startswith("Training curves for batch size 128 and learning rate 0.1:") and png2 != png
    box.lr.value = 1.0
    assert _shown(box)[0].startswith("Training curves for batch size 128 and learning rate 1:")
    full = len(digits[0])
    box.batch_size.value = full
    assert _shown(box)[0].startswith(f"Training curves for batch size full batch ({full}) and learning rate 1:")


def test_widget_reports_divergence_instead_of_plotting_nan(digits, monkeypatch):
    import nnlib.widgets.ch4 as mod
    from nnlib.train import TrainingDiverged

    def diverge(*args, **kwargs):
        raise TrainingDiverged("the loss became nan")

    monkeypatch.setattr(mod, "train_curve", diverge)
    box = ch4w.training_curve_widget(digits, epochs=1)
    assert box.lr.value == pytest.approx(0.1)
    assert _shown(box)[0] == "Training diverged: the loss became nan"


def test_widget_trains_each_setting_once(digits, monkeypatch):
    import nnlib.widgets.ch4 as mod

    calls = []
    real = mod.train_curve
    monkeypatch.setattr(mod, "train_curve", lambda *a, **k: calls.append(a[1:3]) or real(*a, **k))
    box = ch4w.training_curve_widget(digits, epochs=1)
    first = _shown(box)
    box.batch_size.value = 64
    box.batch_size.value = 32  # seen before: redrawn from the cache, identical picture
    assert calls == [(32, 0.1), (64, 0.1)]
    assert _shown(box) == first and len(box.cache) == 2


def test_widget_callback_is_fast_enough(digits):
    box = ch4w.training_curve_widget(digits)  # 5 epochs, the chapter's setting
    times = []
    with threadpool_limits(1):
        for value in [64, 32, 128, 32, 64]:
            start = time.process_time()  # CPU time of this process: not inflated by other jobs on the machine
            box.batch_size.value = value
            times.append(time.process_time() - start)
    # a generous sanity bound; real latency numbers belong in benchmarks
    assert statistics.median(times) < 1.0


def test_train_curve_is_reproducible_and_learns(digits):
    h1 = ch4w.train_curve(digits, 32, 0.1, epochs=3)
    h2 = ch4w.train_curve(digits, 32, 0.1, epochs=3)
    assert h1.loss == h2.loss
    assert h1.loss[-1] < h1.loss[0]
    assert h1.val_accuracy[-1] > 0.5


def test_train_curve_rejects_bad_arguments(digits):
    with pytest.raises(ValueError, match="lr"):
        ch4w.train_curve(digits, 32, -0.1)
    with pytest.raises(ValueError, match="batch_size"):
        ch4w.train_curve(digits, 0, 0.1)


def test_animation_is_html_with_a_fixed_id(digits):
    html = ch4w.batch_size_animation(digits, batch_sizes=(64, None), epochs=1)
    assert "<img" in html and "_ch4_batch_sizes" in html
    assert html == ch4w.batch_size_animation(digits, batch_sizes=(64, None), epochs=1)


def test_animation_frames_fill_the_column_and_keep_their_axes(digits, monkeypatch):
    import base64
    import re
    import struct

    import nnlib.widgets.ch4 as mod

    settings = [(64, 0.1), (None, 0.1), (None, 1.0)]
    limits, real = [], mod.static_animation

    def record(anim, name, **kwargs):
        fig = anim._fig
        for k in range(len(settings)):
            anim._func(k)
            limits.append([(ax.get_xlim(), ax.get_ylim(), tuple(ax.get_position().bounds)) for ax in fig.axes])
        return real(anim, name, **kwargs)

    monkeypatch.setattr(mod, "static_animation", record)
    html = mod.batch_size_animation(digits, settings=settings, epochs=2)
    assert len(limits) == len(settings) and all(lim == limits[0] for lim in limits)  # fixed axes
    frames = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=\\\n]+)", html)
    assert len(frames) == len(settings)
    png = base64.b64decode(frames[0].replace("\\", "").replace("\n", ""))
    assert struct.unpack(">I", png[16:20])[0] >= 690  # 7 in at 100 dpi


def test_animation_frame_says_when_training_diverges(digits, monkeypatch):
    import nnlib.widgets.ch4 as mod
    from nnlib.train import TrainingDiverged

    real = mod.train_curve

    def diverge_at_lr_10(data, batch_size, lr, *args):
        if lr == 10:
            raise TrainingDiverged("the loss became nan")
        return real(data, batch_size, lr, *args)

    monkeypatch.setattr(mod, "train_curve", diverge_at_lr_10)
    html = mod.batch_size_animation(digits, settings=[(64, 0.1), (64, 10)], epochs=1)
    assert html.count("data:image/png;base64,") == 2


# --- exercise checks -------------------------------------------------------------------------

CH4 = {k: v for k, v in registry().items() if k.startswith("ch4.")}


def test_chapter_has_at_least_four_exercises():
    assert set(CH4) >= {"ch4.linear_backward", "ch4.softmax_ce_grad", "ch4.train_step", "ch4.cache_bytes"}


@pytest.mark.parametrize("exercise_id", sorted(CH4))
def test_reference_passes(exercise_id):
    result = check(exercise_id, CH4[exercise_id].reference)
    assert result.status == "correct", result.message


@pytest.mark.parametrize(
    "exercise_id, k",
    [(eid, k) for eid in sorted(CH4) for k in range(len(CH4[eid].wrong_answers))],
)
def test_wrong_answers_are_named(exercise_id, k):
    wrong = CH4[exercise_id].wrong_answers[k]
    result = check(exercise_id, wrong.answer)
    assert result.status == "incorrect", (wrong.description, result.message)
    assert wrong.expect in result.message, (wrong.description, result.message)


@pytest.mark.parametrize("exercise_id", sorted(CH4))
def test_stub_is_not_attempted(exercise_id):
    def stub(*args):
        raise NotImplementedError

    assert check(exercise_id, stub).status == "not attempted"


@pytest.mark.parametrize("exercise_id", sorted(CH4))
@pytest.mark.parametrize("junk", [None, 3, "text", lambda *a: None, lambda *a: "x", lambda *a: (1, 2)])
def test_junk_never_raises(exercise_id, junk):
    result = check(exercise_id, junk)
    assert result.status in ("incorrect", "error")


def test_cache_bytes_reference_equals_nnlib_measurement():
    from nnlib import mlp
    from nnlib.checks.ch4 import cache_bytes

    for sizes, B, dtype in [([64, 128, 64, 10], 64, np.float64), ([10, 3], 5, np.float64), ([9, 7, 7, 2], 3, np.float32)]:
        model = mlp(sizes, rng=0, dtype=dtype)
        model.forward(np.zeros((B, sizes[0]), dtype=dtype))
        assert cache_bytes(sizes, B, np.dtype(dtype).itemsize) == model.cache_nbytes()


def test_train_step_check_does_not_let_learner_code_touch_the_reference_model():
    # the learner's model is its own object: a function that wrecks its argument cannot pass
    def wreck(model, X, y, lr):
        for p in model.params.values():
            p[...] = 0.0
        return 0.0

    result = check("ch4.train_step", wreck)
    assert result.status == "incorrect"
