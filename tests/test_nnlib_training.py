"""Training end to end with fixed seeds, and the NaN guard."""

import numpy as np
import pytest

import nnlib
from nnlib import data, init, optim


def test_digits_mlp_reaches_97_percent_test_accuracy():
    X_tr, X_te, y_tr, y_te = data.load_digits(rng=0)
    assert X_tr.shape[1] == 64 and 0.0 <= X_tr.min() and X_tr.max() <= 1.0
    model = nnlib.mlp([64, 64, 10], activation="relu", rng=0)
    history = nnlib.fit(model, X_tr, y_tr, optim.Momentum(0.05), epochs=40, batch_size=32, rng=0,
                        validation_data=(X_te, y_te))
    assert len(history.loss) == 40 and history.loss[-1] < history.loss[0]
    assert history.val_accuracy[-1] >= 0.97, history.val_accuracy[-1]


def test_spiral_reaches_95_percent_training_accuracy():
    X, y = data.make_spiral(n_per_class=100, n_classes=3, rng=0)
    model = nnlib.mlp([2, 64, 64, 3], activation="relu", rng=0)
    history = nnlib.fit(model, X, y, optim.Adam(0.01), epochs=200, batch_size=32, rng=0)
    assert history.accuracy[-1] >= 0.95, history.accuracy[-1]


def test_training_is_reproducible_with_a_seed():
    X, y = data.make_xor(n=64, rng=1)
    runs = []
    for _ in range(2):
        model = nnlib.mlp([2, 8, 2], activation="tanh", rng=3)
        runs.append(nnlib.fit(model, X, y, optim.SGD(0.5), epochs=5, batch_size=16, rng=4).loss)
    assert runs[0] == runs[1]


def test_divergent_learning_rate_stops_with_a_clear_message():
    X, y = data.make_spiral(n_per_class=30, rng=0)
    model = nnlib.mlp([2, 32, 3], activation="relu", rng=0)
    with pytest.raises(nnlib.TrainingDiverged, match="learning rate.*too large"):
        nnlib.fit(model, X * 1e3, y, optim.SGD(1e6), epochs=5, batch_size=8, rng=0)


def test_overflowing_activations_are_reported_as_divergence():
    X, y = data.make_spiral(n_per_class=30, rng=0)
    model = nnlib.mlp([2, 32, 32, 3], activation="relu", rng=0)
    model.params["0.W"][:] = 1e308  # weights that have blown up: the next forward overflows
    with pytest.raises(nnlib.TrainingDiverged, match="overflowed.*learning rate"):
        with np.errstate(over="ignore", invalid="ignore"):
            nnlib.train.train_step(model, X, y, nnlib.softmax_cross_entropy, optim.SGD(0.1))


@pytest.mark.parametrize("opt", [optim.SGD(0.1), optim.Momentum(0.05), optim.AdaGrad(0.5), optim.Adam(0.1)])
def test_every_optimizer_minimises_a_quadratic(opt):
    A = np.diag([1.0, 10.0])
    params = {"x": np.array([3.0, -2.0])}
    for _ in range(300):
        opt.step(params, {"x": A @ params["x"]})
    assert np.linalg.norm(params["x"]) < 1e-2


def test_adam_first_step_has_size_lr_in_each_coordinate():
    # bias correction makes the first step exactly lr * sign(g) (up to eps)
    params = {"x": np.array([1.0, -1.0])}
    optim.Adam(lr=0.1).step(params, {"x": np.array([5.0, -0.01])})
    np.testing.assert_allclose(params["x"], [0.9, -0.9], atol=1e-6)


def test_momentum_keeps_a_velocity():
    opt = optim.Momentum(lr=1.0, beta=0.5)
    params = {"x": np.array([0.0])}
    opt.step(params, {"x": np.array([1.0])})
    opt.step(params, {"x": np.array([1.0])})
    # v1 = 1, v2 = 0.5 * 1 + 1 = 1.5; x = -(1 + 1.5)
    np.testing.assert_allclose(params["x"], [-2.5])


@pytest.mark.parametrize(
    "fn, var",
    [(init.xavier_normal, 2 / (300 + 200)), (init.xavier_uniform, 2 / (300 + 200)),
     (init.he_normal, 2 / 300), (init.he_uniform, 2 / 300)],
)
def test_initialiser_variances(fn, var):
    W = fn((200, 300), rng=0)  # (n_out, n_in)
    assert W.shape == (200, 300)
    assert W.var() == pytest.approx(var, rel=0.02)


def test_float32_models_stay_float32():
    X_tr, _, y_tr, _ = data.load_digits(rng=0, dtype=np.float32)
    model = nnlib.mlp([64, 16, 10], rng=0, dtype=np.float32)
    nnlib.fit(model, X_tr[:64], y_tr[:64], optim.Adam(0.01), epochs=1, batch_size=32, rng=0)
    assert all(p.dtype == np.float32 for p in model.params.values())
    assert model.forward(X_tr[:4]).dtype == np.float32


def test_cache_nbytes_grows_linearly_with_batch():
    model = nnlib.mlp([10, 20, 5], rng=0)
    sizes = []
    for B in (8, 16):
        model.forward(np.ones((B, 10)))
        sizes.append(model.cache_nbytes())
    assert sizes[1] == 2 * sizes[0] > 0


def test_data_generators_are_seeded():
    for make in (data.make_spiral, data.make_xor, data.make_moons):
        a, b = make(rng=5), make(rng=5)
        np.testing.assert_array_equal(a[0], b[0])
    X_tr, X_te, y_tr, y_te = data.load_diabetes(rng=0)
    assert abs(X_tr.mean()) < 1e-12 and X_tr.shape[1] == 10 and len(y_te) == len(X_te)
