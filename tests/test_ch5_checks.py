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
