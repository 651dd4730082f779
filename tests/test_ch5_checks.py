"""Chapter 5's exercise checks: the reference passes, every catalogued mistake is named, stubs and junk are handled."""

import numpy as np

from nnlib.checks import check
from nnlib.checks._registry import exercise_ids

IDS = exercise_ids("ch5")


def test_at_least_four_exercises():
    assert {"ch5.init_std", "ch5.sigmoid_chain_bound", "ch5.linear_backward", "ch5.leaky_relu_backward",
            "ch5.count_dead"} <= set(IDS)


# The reference, the catalogued mistakes, the stub and junk answers of every exercise
# are tested for all chapters in tests/test_checks_exercises.py.


def test_the_six_over_fans_mistake_is_named_as_the_uniform_limit_squared():
    result = check("ch5.init_std", lambda n_in, n_out, s: 6 / (n_in + n_out) if s == "xavier" else (2 / n_in) ** 0.5)
    assert "uniform" in result.message and "variance" in result.message


def test_init_std_messages_never_print_the_answer():
    result = check("ch5.init_std", lambda n_in, n_out, s: 1.01 * ((2 / (n_in + n_out)) ** 0.5 if s == "xavier"
                                                                  else (2 / n_in) ** 0.5))
    assert result.status == "incorrect"
    for v in [(2 / 400) ** 0.5, 2 / 400]:
        assert f"{v:.3g}" not in result.message and f"{v:.4f}" not in result.message


def test_the_chapter_planted_bug_is_recognised():
    def planted(dZ, X, W):
        dW = dZ.T @ X / X.shape[0]
        db = dZ.sum(axis=0)
        dX = dZ @ W
        return dX, dW, db

    result = check("ch5.linear_backward", planted)
    assert result.status == "incorrect" and "planted bug" in result.message


def test_leaky_relu_is_checked_on_both_sides():
    """A function right only for z > 0 (or only for z <= 0) must fail."""
    only_pos = check("ch5.leaky_relu_backward", lambda dout, z, slope: dout * 1.0)
    assert only_pos.status == "incorrect"
    only_neg = check("ch5.leaky_relu_backward", lambda dout, z, slope: dout * np.where(z > 0, 2.0, slope))
    assert only_neg.status == "incorrect"


def test_chain_bound_accepts_an_integer_power_as_float_or_int():
    assert check("ch5.sigmoid_chain_bound", lambda k, w: (w / 4) ** k).status == "correct"
    assert check("ch5.sigmoid_chain_bound", lambda k, w: np.float64(w * 0.25) ** k).status == "correct"


# --- every exercise: a catalogue of at least eight mistakes, each with its own diagnosis -------


def test_every_exercise_catalogues_at_least_eight_mistakes_with_distinct_diagnoses():
    from nnlib.checks._registry import get_exercise

    for exercise_id in IDS:
        ex = get_exercise(exercise_id)
        assert len(ex.wrong_answers) >= 8, exercise_id
        messages = {}
        for wrong in ex.wrong_answers:
            result = check(exercise_id, wrong.answer)
            assert result.status == "incorrect", (exercise_id, wrong.description)
            assert wrong.expect.lower() in result.message.lower(), result.message
            messages.setdefault(result.message, []).append(wrong.description)
        # two wrong answers share a message only when they are the same mistake (a threshold
        # on the mean output, with two different thresholds)
        shared = [descr for descr in messages.values() if len(descr) > 1]
        assert all(all("mean output" in x for x in descr) for descr in shared), shared


def test_first_cases_tell_every_catalogued_prediction_apart():
    """On each exercise's first case no two catalogued mistakes (or a mistake and the right
    answer) predict the same result, so each can be named there."""
    from nnlib.checks import ch5 as c
    from nnlib.checks.diagnose import close

    def distinct(mistakes, expected):
        groups = {}
        for m in mistakes:
            groups.setdefault(m.message, m.value)
        values = list(groups.values())
        for i, a in enumerate(values):
            assert not close(a, expected), i
            for b in values[i + 1:]:
                assert not (close(a, b) or close(b, a))

    rng = np.random.default_rng(0)
    n_in, n_out, scheme = c._INIT_CASES[0]
    distinct(c._init_mistakes(n_in, n_out, scheme), c.init_std(n_in, n_out, scheme))
    k, w = c._CHAIN_CASES[0]
    distinct([m for m in c._chain_mistakes(k, w) if "capped" not in m.message], c.sigmoid_chain_bound(k, w))
    dZ, X, W = c._lin_inputs(rng, 0).values()
    for mistakes, expected in zip(c._lin_mistakes(dZ, X, W), c.linear_backward(dZ, X, W), strict=True):
        distinct(mistakes, expected)
    dout, z, slope = c._leaky_inputs(rng, 0).values()
    distinct(c._leaky_mistakes(dout, z, slope), c.leaky_relu_backward(dout, z, slope))
    (A,) = c._dead_inputs(rng, 0).values()
    distinct(c._dead_mistakes(A, c.count_dead(A)), c.count_dead(A))


# --- regressions of reported defects ----------------------------------------------------------


def test_a_bound_capped_at_one_is_rejected_and_named():
    result = check("ch5.sigmoid_chain_bound", lambda k, w: min(1.0, (w / 4) ** k))
    assert result.status == "incorrect" and "capped at 1" in result.message


def test_w_to_the_k_is_not_called_one_factor_too_few():
    result = check("ch5.sigmoid_chain_bound", lambda k, w: w**k)
    assert result.status == "incorrect"
    assert "too few" not in result.message and "tanh's largest slope" in result.message


def test_a_mean_threshold_is_not_called_counting_the_live_units():
    for threshold in (0.5, 0.1, 0.01):
        result = check("ch5.count_dead", lambda A, c=threshold: int(np.sum(A.mean(axis=0) < c)))
        assert result.status == "incorrect"
        assert "live units" not in result.message and "average" in result.message


def test_a_mistake_is_named_only_when_its_prediction_is_unique():
    from nnlib.checks import ch5 as c
    from nnlib.checks.diagnose import Mistake

    kept = c._unique([Mistake(2.0, "a"), Mistake(2.0, "b"), Mistake(3.0, "c"), Mistake(1.0, "d"),
                      Mistake(3.0, "c")], expected=1.0)
    assert [m.message for m in kept] == ["c", "c"]


# --- one 1/B convention: the exercise's reference is nnlib's Linear backward --------------------


def test_linear_backward_reference_agrees_with_nnlib_linear():
    from nnlib.checks import ch5 as c
    from nnlib.layers import Linear
    from nnlib.losses import softmax_cross_entropy

    rng = np.random.default_rng(4)
    for i in range(len(c._LIN_SHAPES)):
        dZ, X, W = c._lin_inputs(rng, i).values()
        layer = Linear(W.shape[1], W.shape[0], rng=0)
        layer.params["W"][:] = W
        layer.forward(X)
        dX = layer.backward(dZ)
        ref = c.linear_backward(dZ, X, W)
        for ours, theirs in zip(ref, (dX, layer.grads["W"], layer.grads["b"]), strict=True):
            np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    # and with dZ from a batch-mean loss (it carries the 1/B), dW is the true gradient
    X, y = rng.standard_normal((6, 4)), np.array([0, 2, 1, 2, 0, 1])
    W, b = rng.standard_normal((3, 4)), rng.standard_normal(3)
    _, dZ = softmax_cross_entropy(X @ W.T + b, y)
    _, dW, db = c.linear_backward(dZ, X, W)
    h = 1e-6
    numeric = np.zeros_like(W)
    for j in np.ndindex(W.shape):
        Wp, Wm = W.copy(), W.copy()
        Wp[j] += h
        Wm[j] -= h
        numeric[j] = (softmax_cross_entropy(X @ Wp.T + b, y)[0] - softmax_cross_entropy(X @ Wm.T + b, y)[0]) / (2 * h)
    np.testing.assert_allclose(dW, numeric, rtol=1e-6, atol=1e-9)


# --- the chapter: exercises where the idea is, listed at the end ------------------------------


def test_chapter_5_exercises_follow_their_sections_and_are_listed_at_the_end():
    import json
    import re
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "chapters" / "05_in_practice.ipynb"
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    text = ["".join(c["source"]) for c in cells]
    summary = next(i for i, s in enumerate(text) if s.startswith("## Summary"))
    labels = {}
    for i, s in enumerate(text):
        found = re.search(r"```\{exercise-start\}[^\n]*\n:label: (ch5-[\w-]+)", s)
        if found:
            labels[found.group(1)] = i
    assert len(labels) >= 5
    assert all(i < summary for i in labels.values())  # mid-text, none gathered at the end
    exercises_section = text[summary][text[summary].index("## Exercises"):]
    for label in labels:
        assert f"[]({label})" in exercises_section, label
    # each check call names a registered chapter-5 exercise
    called = {m for s in text for m in re.findall(r'check\("(ch5\.\w+)"', s)}
    assert called == set(IDS)
