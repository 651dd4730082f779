"""One 1/B convention in the whole course: the loss is the batch mean, its gradient
Delta_D = (Y_hat - Y)/B carries the 1/B once, and each layer's backward only sums over
the batch (dW = Delta^T A_prev, db = sum of the rows, dX = Delta W).

Everything that computes the same quantity must agree on the same inputs, to 1e-7
(float64 round-off is far smaller): the references of the exercises that compute it
(Chapters 4 and 5), the per-sample code of Chapter 3 (``nnlib.backprop``) averaged over
the batch, the batched code of Chapter 4 (``nnlib.batch``) and nnlib's layers.
"""

from __future__ import annotations

import numpy as np
import pytest

from nnlib import Linear, Sequential, Sigmoid, backprop, batch
from nnlib.checks._registry import get_exercise
from nnlib.checks.ch4 import capstone_forward
from nnlib.gradcheck import numerical_gradient, rel_error
from nnlib.losses import softmax_cross_entropy

TOL = 1e-7
SHAPES = [(5, 3, 7), (7, 2, 3), (11, 5, 2), (1, 3, 2), (4, 4, 4)]  # (B, n_in, n_out)


def _ref(exercise_id):
    return get_exercise(exercise_id).reference


def _linear_inputs(B, n_in, n_out, seed):
    rng = np.random.default_rng(seed)
    dZ = rng.normal(size=(B, n_out)) / B  # dL/dZ of a batch-mean loss
    return dZ, rng.normal(size=(B, n_in)), rng.normal(size=(n_out, n_in)), rng.normal(size=n_out)


@pytest.mark.parametrize("shape", SHAPES)
def test_linear_backward_exercises_agree_with_each_other_and_with_nnlib(shape):
    dZ, X, W, b = _linear_inputs(*shape, seed=sum(shape))
    ch4 = _ref("ch4.linear_backward")(dZ, X, W)
    ch5 = _ref("ch5.linear_backward")(dZ, X, W)
    lib = batch.linear_backward(dZ, X, W)
    layer = Linear(X.shape[1], W.shape[0])
    layer.params["W"][...] = W
    layer.params["b"][...] = b
    layer.forward(X)
    dX_layer = layer.backward(dZ)
    layer_out = (dX_layer, layer.grads["W"], layer.grads["b"])
    for name, a, b_ in [("dX", 0, 0), ("dW", 1, 1), ("db", 2, 2)]:
        for other_name, other in [("ch5", ch5), ("nnlib.batch", lib), ("Linear", layer_out)]:
            assert rel_error(ch4[a], other[b_]) <= TOL, f"{name}: ch4 vs {other_name}"


@pytest.mark.parametrize("shape", SHAPES[:3])
def test_every_linear_backward_output_is_a_true_gradient(shape):
    """With dZ = dL/dZ, dW, db and dX are all gradients of L itself: no 1/B is left over."""
    B, n_in, n_out = shape
    dZ, X, W, b = _linear_inputs(*shape, seed=7 * B)
    G = dZ * B  # L = (1/B) sum_i G_i . z_i has dL/dZ = G / B = dZ

    def L(_):
        return float(np.sum((X @ W.T + b) * G)) / B

    dX, dW, db = _ref("ch4.linear_backward")(dZ, X, W)
    assert rel_error(dW, numerical_gradient(L, W)) <= TOL
    assert rel_error(db, numerical_gradient(L, b)) <= TOL
    assert rel_error(dX, numerical_gradient(L, X)) <= TOL


def test_loss_gradient_carries_the_one_over_b_once():
    rng = np.random.default_rng(3)
    Z, y = rng.normal(size=(7, 3)), rng.integers(0, 3, size=7)
    _, dZ_lib = softmax_cross_entropy(Z, y)
    _, E = batch.softmax_cross_entropy_per_sample(Z, y)  # per-sample errors Y_hat - Y
    assert rel_error(_ref("ch4.softmax_ce_grad")(Z, y), dZ_lib) <= TOL
    assert rel_error(E / len(Z), dZ_lib) <= TOL


def _network(sizes, seed):
    rng = np.random.default_rng(seed)
    layers = []
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
        lin = Linear(n_in, n_out)
        lin.params["W"][...] = rng.normal(size=(n_out, n_in)) / np.sqrt(n_in)
        lin.params["b"][...] = 0.3 * rng.normal(size=n_out)
        layers += [lin] + ([Sigmoid()] if l < len(sizes) - 1 else [])
    model = Sequential(layers)
    params = {}
    for l, lin in enumerate([x for x in layers if isinstance(x, Linear)], start=1):
        params[f"W{l}"], params[f"b{l}"] = lin.params["W"], lin.params["b"]
    return model, params


@pytest.mark.parametrize("sizes,B", [([3, 5, 2], 7), ([2, 5, 7, 3], 11), ([5, 3], 13)])
def test_per_sample_batched_capstone_and_nnlib_layers_agree(sizes, B):
    model, params = _network(sizes, seed=B)
    rng = np.random.default_rng(100 + B)
    X, y = rng.normal(size=(B, sizes[0])), rng.integers(0, sizes[-1], size=B)
    D = len(sizes) - 1

    # nnlib's layers: the loss gradient carries the 1/B, the layers sum
    _, dscores = softmax_cross_entropy(model.forward(X), y)
    model.zero_grad()
    model.backward(dscores)
    lins = [x for x in model.layers if isinstance(x, Linear)]
    lib = {}
    for l, lin in enumerate(lins, start=1):
        lib[f"W{l}"], lib[f"b{l}"] = lin.grads["W"].copy(), lin.grads["b"].copy()

    # Chapter 4, batched (nnlib.batch)
    _, pairs = batch.loss_and_grads([(params[f"W{l}"], params[f"b{l}"]) for l in range(1, D + 1)], X, y)
    batched = {}
    for l, (dW, db) in enumerate(pairs, start=1):
        batched[f"W{l}"], batched[f"b{l}"] = dW, db

    # Chapter 4's capstone reference (the learner's batched backward pass)
    _, cache = capstone_forward(params, X)  # the forward pass whose cache the exercise reads
    capstone = _ref("ch4.batch_backward")(params, cache, y)

    # Chapter 3, one sample (a column) at a time, then the mean
    p3 = {k: (v[:, None] if k.startswith("b") else v) for k, v in params.items()}
    per = [backprop.deep_loss_and_grads(p3, X[i][:, None], int(y[i]))[1] for i in range(B)]
    mean3 = {k: np.mean([g[k] for g in per], axis=0).reshape(params[k].shape) for k in params}

    for k in params:
        for name, other in [("nnlib.batch", batched), ("capstone", capstone), ("Chapter 3 mean", mean3)]:
            assert rel_error(other[k], lib[k]) <= TOL, f"d{k}: {name} vs nnlib's layers"


def test_two_layer_network_of_chapter_3_batched_and_per_sample_agree_with_nnlib():
    model, params = _network([4, 5, 3], seed=1)
    rng = np.random.default_rng(2)
    B = 11
    X, y = rng.normal(size=(B, 4)), rng.integers(0, 3, size=B)
    _, two = batch.two_layer_loss_and_grads(X, y, params["W1"], params["b1"], params["W2"], params["b2"])
    p3 = {k: (v[:, None] if k.startswith("b") else v) for k, v in params.items()}
    per = [backprop.loss_and_grads(p3, X[i][:, None], int(y[i]))[1] for i in range(B)]
    _, pairs = batch.nnlib_gradients(model, X, y)
    lib = {"W1": pairs[0][0], "b1": pairs[0][1], "W2": pairs[1][0], "b2": pairs[1][1]}
    for k in params:
        mean3 = np.mean([g[k] for g in per], axis=0).reshape(params[k].shape)
        assert rel_error(two[k], lib[k]) <= TOL, k
        assert rel_error(mean3, lib[k]) <= TOL, k


def test_a_second_one_over_b_in_a_layer_is_the_extra_one_over_b_mistake():
    """The catalogued 'extra 1/B' answers of both chapters are B times too small."""
    dZ, X, W, _ = _linear_inputs(7, 3, 5, seed=0)
    _, dW, _ = _ref("ch4.linear_backward")(dZ, X, W)
    extra = dZ.T @ X / 7
    assert rel_error(extra * 7, dW) <= TOL
    assert rel_error(extra, dW) > 0.5
