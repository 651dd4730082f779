"""The trusted internal path (issue 19): same numbers, same errors, fewer checks.

``Sequential`` hands what one nnlib layer made to the next one unchecked, and ``fit``
checks its data once. These tests assert behaviour, not speed: results are bit-identical
to the layer-by-layer checked path, and every error is the one a checked call raises.
"""

import numpy as np
import pytest

import nnlib
from nnlib import optim, train
from nnlib._validate import class_labels
from nnlib.layers import Linear, ReLU, Sequential, Softmax, Tanh
from nnlib.losses import softmax_cross_entropy


def _batch(B=16, n=5, K=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((B, n)), rng.integers(0, K, B)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu", "prelu", "identity"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_trusted_forward_and_backward_are_bit_identical_to_the_checked_chain(activation, dtype):
    X, y = _batch()
    model = nnlib.mlp([5, 7, 6, 3], activation=activation, rng=1, dtype=dtype)
    scores = model.forward(X)
    assert np.array_equal(scores, model._checked_forward(X))
    assert np.array_equal(scores, model._forward(X.astype(dtype)))
    _, d = softmax_cross_entropy(scores, y)
    dX = model.backward(d)
    grads = {k: g.copy() for k, g in model.grads.items()}
    assert np.array_equal(dX, model._checked_backward(d))
    assert all(np.array_equal(grads[k], g) for k, g in model.grads.items())


def test_fit_gives_the_same_history_and_weights_as_checked_steps():
    X, y = _batch(B=50)
    a = nnlib.mlp([5, 8, 3], rng=2)
    b = nnlib.mlp([5, 8, 3], rng=2)
    hist = nnlib.fit(a, X, y, optim.Momentum(0.1), epochs=3, batch_size=8, rng=3)
    # The same training written with the public, fully checked calls.
    opt, rng, losses = optim.Momentum(0.1), np.random.default_rng(3), []
    for _ in range(3):
        for Xb, yb in nnlib.data.minibatches(X, y, 8, rng):
            scores = b._checked_forward(Xb)
            _, d = softmax_cross_entropy(scores, yb)
            b._checked_backward(d)
            opt.step(b.params, b.grads)
        losses.append(softmax_cross_entropy(b._checked_forward(X), y)[0])
    assert hist.loss == losses
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)


def test_fit_with_one_hot_labels_equals_fit_with_integer_labels():
    X, y = _batch(B=40)
    runs = []
    for labels in (y, nnlib.data.one_hot(y, 3)):
        model = nnlib.mlp([5, 8, 3], rng=0)
        runs.append(nnlib.fit(model, X, labels, optim.SGD(0.2), epochs=2, batch_size=8, rng=0).loss)
    assert runs[0] == runs[1]


def test_an_overflow_inside_the_chain_raises_the_checked_error():
    X, _ = _batch()
    model = Sequential([Linear(5, 4, rng=0), ReLU(), Linear(4, 3, rng=0), Tanh()])
    model.params["0.W"][:] = 1e308
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(ValueError) as trusted:
        model.forward(X)
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(ValueError) as checked:
        model._checked_forward(X)
    assert str(trusted.value) == str(checked.value)
    assert "z contains inf values (shape (16, 4))" in str(trusted.value)


def test_an_overflowing_gradient_inside_the_chain_raises_the_checked_error():
    X, y = _batch()
    model = Sequential([Linear(5, 4, rng=0), ReLU(), Linear(4, 3, rng=0)])
    model.forward(X)
    model.params["2.W"][:] = 1e308  # dX of the second Linear overflows
    d = np.full((16, 3), 1e10)
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(ValueError, match=r"dout contains inf"):
        model.backward(d)


def test_public_entry_points_still_check_their_input():
    model = nnlib.mlp([5, 4, 3], rng=0)
    X, y = _batch()
    with pytest.raises(ValueError, match="x contains NaN"):
        model.forward(np.full((2, 5), np.nan))
    with pytest.raises(TypeError, match="x is None"):
        model.forward(None)
    with pytest.raises(ValueError, match="W has shape"):
        model.forward(np.ones((2, 6)))
    model.forward(X)
    with pytest.raises(ValueError, match="dout has shape"):
        model.backward(np.ones((16, 4)))
    with pytest.raises(ValueError, match="dout contains NaN"):
        model.backward(np.full((16, 3), np.nan))
    with pytest.raises(ValueError, match=r"class labels in \[0, 2\]"):
        train.train_step(model, X, np.full(16, 3), softmax_cross_entropy, optim.SGD(0.1))
    with pytest.raises(ValueError, match="x contains NaN"):
        train.train_step(model, np.full((16, 5), np.nan), y, softmax_cross_entropy, optim.SGD(0.1))


def test_fit_reports_bad_labels_with_the_loss_message():
    X, y = _batch(B=20)
    y[13] = 7  # out of range, in a later batch
    with pytest.raises(ValueError, match=r"class labels in \[0, 2\] for 3 classes"):
        nnlib.fit(nnlib.mlp([5, 4, 3], rng=0), X, y, optim.SGD(0.1), epochs=1, batch_size=4, rng=0)


def test_fit_still_raises_training_diverged_on_overflow():
    X, y = nnlib.data.make_spiral(n_per_class=30, rng=0)
    with pytest.raises(nnlib.TrainingDiverged, match="learning rate.*too large"):
        nnlib.fit(nnlib.mlp([2, 32, 3], rng=0), X * 1e3, y, optim.SGD(1e6), epochs=5, batch_size=8, rng=0)
    model = nnlib.mlp([2, 32, 32, 3], rng=0)
    model.params["0.W"][:] = 1e308
    with pytest.raises(nnlib.TrainingDiverged, match=r"activations overflowed during training \(z contains (NaN|inf)"):
        nnlib.fit(model, X, y, optim.SGD(0.1), epochs=1)


def test_gradient_overflow_is_refused_before_the_weights_change():
    X, y = _batch()
    model = nnlib.mlp([5, 4, 3], rng=0)
    model.forward(X)
    before = {k: p.copy() for k, p in model.params.items()}
    model.grads["0.W"][0, 0] = np.inf
    with pytest.raises(ValueError, match=r"grads\['0.W'\] contains NaN or inf"):
        optim.SGD(0.1)._step_trusted(model.params, model.grads)
    assert all(np.array_equal(before[k], p) for k, p in model.params.items())


def test_subclassed_and_foreign_layers_are_called_through_their_public_methods():
    calls = []

    class LoudReLU(ReLU):
        def forward(self, z):
            calls.append("forward")
            return super().forward(z)

    model = Sequential([Linear(5, 4, rng=0), LoudReLU(), Linear(4, 3, rng=0), Softmax()])
    X, _ = _batch()
    model.forward(X)
    model._forward(X)
    assert calls == ["forward", "forward"]


def test_integer_label_fast_path_agrees_with_the_full_check():
    y = np.array([0, 2, 1, 2])
    assert class_labels(y, "y", 4, 3) is y
    for bad in (np.array([0, 3, 1, 2]), np.array([0, -1, 1, 2]), np.array([0, 1, 2], dtype=np.int8)):
        with pytest.raises(ValueError):
            class_labels(bad, "y", 4, 3)
    assert np.array_equal(class_labels(np.array([0, 2], dtype=np.uint8), "y", 2, 3), [0, 2])
