"""Chapter 4's checks: the capstone stages, the one 1/B convention in their diagnoses, and
the regression for a training step that rebinds dict entries (the layers never change)."""

from __future__ import annotations

import numpy as np
import pytest

from nnlib.checks import ch4 as c4
from nnlib.checks import check
from nnlib.checks._registry import get_exercise
from nnlib.data import load_digits
from nnlib.gradcheck import numerical_gradient, rel_error
from nnlib.losses import softmax_cross_entropy

CH4 = ["ch4.linear_backward", "ch4.softmax_ce_grad", "ch4.train_step", "ch4.cache_bytes",
       "ch4.batch_backward", "ch4.train"]  # fmt: skip


@pytest.mark.parametrize("exercise_id", CH4)
def test_every_ch4_exercise_has_at_least_eight_catalogued_mistakes_each_named(exercise_id):
    ex = get_exercise(exercise_id)
    assert len(ex.wrong_answers) >= 8
    messages = []
    for wrong in ex.wrong_answers:
        result = check(exercise_id, wrong.answer)
        assert result.status in {"incorrect", "error"} and wrong.expect in result.message, result.message
        messages.append(result.message)
    assert len(set(messages)) == len(messages)  # no two mistakes get the same feedback


def test_train_step_that_rebinds_the_dict_entries_fails_and_says_why():
    """Issue: ``model.params[n] = model.params[n] - lr * g`` passed, though the layers never changed."""

    def rebinding_step(model, X, y, lr):
        loss, dscores = softmax_cross_entropy(model.forward(X), y)
        model.zero_grad()
        model.backward(dscores)
        for n in model.params:
            model.params[n] = model.params[n] - lr * model.grads[n]
        return loss

    result = check("ch4.train_step", rebinding_step)
    assert result.status == "incorrect" and result.points == 0
    assert "the layers still hold their old arrays" in result.message


def test_a_step_that_replaces_the_layer_arrays_consistently_still_passes_by_its_effect():
    """Rebinding both the layer's array and the dict's entry does train: the next forward differs."""

    def replacing_step(model, X, y, lr):
        loss, dscores = softmax_cross_entropy(model.forward(X), y)
        model.zero_grad()
        model.backward(dscores)
        for i, layer in enumerate(model.layers):
            for k in layer.params:
                layer.params[k] = layer.params[k] - lr * layer.grads[k]
                model.params[f"{i}.{k}"] = layer.params[k]
        return loss

    assert check("ch4.train_step", replacing_step).passed


def test_capstone_backward_reference_is_the_gradient_of_the_batch_mean_loss():
    rng = np.random.default_rng(0)
    params = c4._capstone_params(rng, [3, 5, 7, 2])
    X, y = rng.normal(size=(11, 3)), rng.integers(0, 2, size=11)
    _, cache = c4.capstone_forward(params, X)
    grads = c4.batch_backward(params, cache, y)

    def L(_):
        return c4._capstone_loss(c4.capstone_forward(params, X)[0], y)

    for k in params:
        assert grads[k].shape == params[k].shape
        assert rel_error(grads[k], numerical_gradient(L, params[k])) <= 1e-7, k


def test_capstone_backward_diagnosis_names_the_layer():
    result = check("ch4.batch_backward", c4._bb("no_phi_prime"))
    assert "dW1 (layer 1's weights)" in result.message and "phi'" in result.message


def test_capstone_training_check_runs_quickly_and_sees_in_place_updates():
    import time

    start = time.process_time()
    assert check("ch4.train", c4.train).passed
    assert time.process_time() - start < 0.2
    result = check("ch4.train", c4._tr("not_updated"))
    assert "never changed" in result.message


def test_capstone_reference_reaches_95_percent_on_the_digits():
    X_train, X_test, y_train, y_test = load_digits()
    rng = np.random.default_rng(0)
    params = c4._capstone_params(rng, [64, 64, 10])
    for k in params:
        if k.startswith("b"):
            params[k][...] = 0.0
    c4.train(params, X_train, y_train, lr=0.5, epochs=30, batch_size=32, rng=np.random.default_rng(1))
    Y_hat, _ = c4.capstone_forward(params, X_test)
    assert np.mean(Y_hat.argmax(axis=1) == y_test) >= 0.95


def test_backprop_cost_benchmark_runs_and_its_gradients_agree():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import backprop_cost

    res = backprop_cost.measure((6, 5, 3), batch_size=4, repeats=2)
    assert res["parameters"] == 5 * 7 + 3 * 6
    assert res["max_rel_error"] <= 1e-7
    assert res["forward_passes"]["central_differences_counted"] == 2 * res["parameters"]
    assert res["seconds"]["backprop"] < res["seconds"]["central_differences"]
