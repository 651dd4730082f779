"""Chapter 1's exercise checks name each catalogued mistake, and no two mistakes coincide.

The generic tests (tests/test_checks_exercises.py) run every exercise; these add what
Chapter 1 promises: at least eight catalogued mistakes per exercise, each with a
diagnosis of its own (no two give the same message), and regressions for the cases
whose sizes once made different mistakes give the same numbers.
"""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest

from nnlib.checks import ch1 as ch1_checks
from nnlib.checks import check, exercise_ids
from nnlib.checks._registry import get_exercise

CH1 = exercise_ids("ch1")


def _diagnosis(message: str) -> str:
    """The message without its verdict line and 'Test k of n (...)' prefix."""
    body = message.split("\n", 1)[-1]
    return re.sub(r"^Test \d+ of \d+ \([^)]*\): ", "", body.strip())


def test_chapter_one_has_its_eight_exercises():
    assert set(CH1) == {
        "ch1.mse_gradient", "ch1.gradient_descent", "ch1.stable_lr", "ch1.diverging_lr",
        "ch1.minibatch_indices", "ch1.momentum_step", "ch1.momentum_terminal_step",
        "ch1.adam_first_step",
    }


@pytest.mark.parametrize("exercise_id", CH1)
def test_eight_mistakes_each_with_its_own_diagnosis(exercise_id):
    ex = get_exercise(exercise_id)
    assert len(ex.wrong_answers) >= 8
    seen = {}
    for wrong in ex.wrong_answers:
        result = check(exercise_id, copy.deepcopy(wrong.answer))
        assert result.status == "incorrect", (wrong.description, result.message)
        assert wrong.expect.lower() in result.message.lower(), (wrong.description, result.message)
        text = _diagnosis(result.message)
        assert text not in seen, f"{wrong.description!r} and {seen.get(text)!r} get the same diagnosis"
        seen[text] = wrong.description


def test_dividing_by_the_features_is_not_a_factor_of_two():
    """Defect: with B = 2n, dividing by X.shape[1] was told 'the 1/2 cancels the 2'."""
    for B, n in ch1_checks._REGRESSION_SIZES:
        assert B != 2 * n and n != 2 * B and B != n and n > 1
    result = check("ch1.mse_gradient", ch1_checks._mse_over_features)
    assert "number of features" in result.message
    assert "twice" not in result.message


def test_momentum_setups_keep_the_velocity_mistakes_apart():
    for _, lr, beta in ch1_checks._MOMENTUM_SETUPS:
        assert not np.isclose(lr, 1 - beta) and not np.isclose(beta, 0.5) and lr != beta


def test_prediction_answers_accept_any_container_and_order():
    assert check("ch1.diverging_lr", [0.6, 0.45]).passed
    assert check("ch1.diverging_lr", {0.45, 0.6}).passed
    assert check("ch1.diverging_lr", np.array([0.45, 0.6])).passed
    assert check("ch1.adam_first_step", 0.02).passed  # alpha, whatever the gradient's scale
    assert check("ch1.momentum_terminal_step", 0.01 * 3 / (1 - 0.95)).passed


def test_prediction_references_follow_from_the_optimisers():
    """The value answers are what nnlib's optimisers and gradient descent really do."""
    from nnlib import descent, optim

    a = ch1_checks._ADAM
    theta = {"x": np.array([1.0])}
    optim.Adam(lr=a["alpha"], beta1=a["beta1"], beta2=a["beta2"], eps=a["eps"]).step(
        theta, {"x": np.array([a["grad"]])})
    assert np.isclose(abs(theta["x"][0] - 1.0), ch1_checks.ADAM_FIRST_STEP, rtol=1e-12)

    m = ch1_checks._TERMINAL
    opt, x = optim.Momentum(lr=m["alpha"], beta=m["beta"]), {"x": np.array([0.0])}
    for _ in range(2000):
        before = x["x"].copy()
        opt.step(x, {"x": np.array([m["grad"]])})
    assert np.isclose(abs(x["x"][0] - before[0]), ch1_checks.TERMINAL_STEP, rtol=1e-9)

    bowl = descent.quadratic_1d(curvature=ch1_checks._DIVERGING_CURVATURE, center=1.0)
    diverged = [lr for lr in ch1_checks.DIVERGING_RATES
                if descent.gradient_descent(bowl, [3.0], lr, max_iter=2000).reason == "diverged"]
    assert diverged == ch1_checks.DIVERGING
