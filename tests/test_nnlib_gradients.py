"""Analytic backward passes of nnlib against central differences.

Threshold: float64 relative error <= 1e-7 (nnlib.gradcheck.THRESHOLD), the course's
bar for a correct gradient. Inputs to ReLU-family functions are kept at least 0.1
away from the kink at 0, where the derivative does not exist.
"""

import numpy as np
import pytest

import nnlib
from nnlib import activations as A
from nnlib.gradcheck import THRESHOLD, check_layer, check_model, numerical_gradient, rel_error
from nnlib.losses import binary_cross_entropy_with_logits, l2_penalty, mse, softmax_cross_entropy

assert THRESHOLD == 1e-7


def away_from_kink(rng, shape, margin=0.1):
    z = rng.standard_normal(shape)
    return np.where(np.abs(z) < margin, np.sign(z + 1e-12) * margin + z, z)


@pytest.mark.parametrize(
    "g, g_prime",
    [
        (A.sigmoid, A.sigmoid_prime),
        (A.tanh, A.tanh_prime),
        (A.relu, A.relu_prime),
        (A.leaky_relu, A.leaky_relu_prime),
        (A.identity, A.identity_prime),
    ],
)
def test_activation_derivative_matches_central_differences(g, g_prime):
    rng = np.random.default_rng(0)
    z = away_from_kink(rng, (4, 3))
    numeric = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        # each entry of g depends only on the same entry of z: d g(z)_i / d z_i
        numeric[idx] = numerical_gradient(lambda t, idx=idx: g(t)[idx], z)[idx]
    assert rel_error(g_prime(z), numeric) <= 1e-7


def test_sigmoid_prime_identity_and_bound():
    z = np.linspace(-8, 8, 101)
    s = A.sigmoid(z)
    np.testing.assert_allclose(A.sigmoid_prime(z), s * (1 - s))
    assert A.sigmoid_prime(z).max() == pytest.approx(0.25)


def test_sigmoid_and_softmax_are_stable_for_huge_inputs():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert A.sigmoid(np.array([-1000.0, 1000.0])).tolist() == [0.0, 1.0]
        p = A.softmax(np.array([[1000.0, -1000.0, 0.0]]))
    assert np.all(np.isfinite(p)) and p[0, 0] == pytest.approx(1.0)


def test_softmax_rows_sum_to_one_and_column_axis():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((5, 4))
    np.testing.assert_allclose(A.softmax(z).sum(axis=1), 1.0)
    np.testing.assert_allclose(A.softmax(z.T, axis=0), A.softmax(z).T)


LAYERS = [
    ("Linear batch", lambda r: nnlib.Linear(4, 3, rng=r), (5, 4)),
    ("Linear column", lambda r: nnlib.Linear(4, 3, rng=r), (4, 1)),
    ("Linear vector", lambda r: nnlib.Linear(4, 3, rng=r), (4,)),
    ("Linear B=1", lambda r: nnlib.Linear(4, 3, rng=r), (1, 4)),
    ("Sigmoid", lambda r: nnlib.Sigmoid(), (5, 3)),
    ("Tanh", lambda r: nnlib.Tanh(), (5, 3)),
    ("ReLU", lambda r: nnlib.ReLU(), (5, 3)),
    ("LeakyReLU", lambda r: nnlib.LeakyReLU(0.1), (5, 3)),
    ("PReLU per feature", lambda r: nnlib.PReLU(3), (5, 3)),
    ("PReLU shared", lambda r: nnlib.PReLU(), (5, 3)),
    ("PReLU column", lambda r: nnlib.PReLU(3), (3, 1)),
    ("Identity", lambda r: nnlib.Identity(), (5, 3)),
    ("Softmax batch", lambda r: nnlib.Softmax(), (5, 3)),
    ("Softmax column", lambda r: nnlib.Softmax(), (3, 1)),
]


@pytest.mark.parametrize("name, make, shape", LAYERS, ids=[n for n, _, _ in LAYERS])
def test_layer_backward_matches_central_differences(name, make, shape):
    rng = np.random.default_rng(2)
    layer = make(rng)
    x = away_from_kink(rng, shape)
    errors = check_layer(layer, x, rng=rng)
    assert set(errors) == {"x", *layer.params}
    for key, err in errors.items():
        assert err <= 1e-7, f"{name}: d{key} relative error {err:.2e} > 1e-7"


def test_layer_gradients_have_parameter_shapes_and_dx_has_x_shape():
    rng = np.random.default_rng(3)
    lin = nnlib.Linear(4, 3, rng=rng)
    for shape in [(6, 4), (4, 1), (4,)]:
        x = rng.standard_normal(shape)
        out = lin.forward(x)
        dx = lin.backward(np.ones_like(out))
        assert dx.shape == x.shape
        assert {k: v.shape for k, v in lin.grads.items()} == {k: v.shape for k, v in lin.params.items()}


def test_backward_writes_gradients_and_zero_grad_clears_them():
    rng = np.random.default_rng(4)
    lin = nnlib.Linear(3, 2, rng=rng)
    x = rng.standard_normal((5, 3))
    dout = rng.standard_normal((5, 2))
    lin.forward(x)
    lin.backward(dout)
    first = lin.grads["W"].copy()
    lin.backward(dout)  # a second call writes the same values; it does not add
    np.testing.assert_array_equal(lin.grads["W"], first)
    lin.zero_grad()
    assert not lin.grads["W"].any() and not lin.grads["b"].any()


LOSSES = [
    ("mse", lambda r: (r.standard_normal((5, 3)), r.standard_normal((5, 3))), mse),
    ("softmax CE int labels", lambda r: (r.standard_normal((6, 4)), r.integers(0, 4, 6)), softmax_cross_entropy),
    ("softmax CE one-hot", lambda r: (r.standard_normal((6, 4)), nnlib.data.one_hot(r.integers(0, 4, 6), 4)),
     softmax_cross_entropy),
    ("softmax CE column", lambda r: (r.standard_normal((4, 1)), np.array([2])), softmax_cross_entropy),
    ("BCE logits", lambda r: (r.standard_normal((6, 2)), r.integers(0, 2, (6, 2)).astype(float)),
     binary_cross_entropy_with_logits),
]


@pytest.mark.parametrize("name, make, loss_fn", LOSSES, ids=[n for n, _, _ in LOSSES])
def test_loss_gradient_matches_central_differences(name, make, loss_fn):
    rng = np.random.default_rng(5)
    scores, y = make(rng)
    _, dscores = loss_fn(scores, y)
    numeric = numerical_gradient(lambda s: loss_fn(s, y)[0], scores)
    assert dscores.shape == scores.shape
    assert rel_error(dscores, numeric) <= 1e-7


def test_softmax_cross_entropy_gradient_is_prediction_minus_target():
    rng = np.random.default_rng(6)
    z = rng.standard_normal((4, 3))
    y = np.array([0, 2, 1, 2])
    _, dz = softmax_cross_entropy(z, y)
    np.testing.assert_allclose(dz, (A.softmax(z) - nnlib.data.one_hot(y, 3)) / 4)


def test_softmax_cross_entropy_is_stable_for_logits_of_1000():
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, dz = softmax_cross_entropy(z, np.array([0, 2]))
    assert np.isfinite(loss) and np.all(np.isfinite(dz))
    assert loss == pytest.approx((0.0 + (1.0 + np.log1p(np.exp(-1.0)))) / 2)


def test_mse_uses_the_half_convention_and_batch_mean():
    loss, grad = mse(np.array([[3.0], [1.0]]), np.array([[1.0], [1.0]]))
    assert loss == pytest.approx(0.5 * 4 / 2)
    np.testing.assert_allclose(grad, [[1.0], [0.0]])


def test_bce_with_logits_equals_the_textbook_formula():
    rng = np.random.default_rng(7)
    z = rng.standard_normal((5, 1))
    y = rng.integers(0, 2, (5, 1)).astype(float)
    s = A.sigmoid(z)
    textbook = -np.mean(y * np.log(s) + (1 - y) * np.log(1 - s))
    assert binary_cross_entropy_with_logits(z, y)[0] == pytest.approx(textbook, rel=1e-12)


def test_l2_penalty_value_and_gradient():
    rng = np.random.default_rng(8)
    weights = {"W1": rng.standard_normal((3, 4)), "W2": rng.standard_normal((2, 3))}
    s, grads = l2_penalty(weights, 0.1)
    assert s == pytest.approx(0.05 * sum(np.sum(W**2) for W in weights.values()))
    for k, W in weights.items():
        numeric = numerical_gradient(lambda _: l2_penalty(weights, 0.1)[0], W)
        assert rel_error(grads[k], numeric) <= 1e-7


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu", "prelu"])
def test_model_gradient_check(activation):
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((6, 2)), rng.integers(0, 3, 6)  # generic inputs: no pre-activation at a kink
    model = nnlib.mlp([2, 7, 5, 3], activation=activation, rng=9)
    errors = check_model(model, X, y, softmax_cross_entropy)
    assert errors and max(errors.values()) <= 1e-7, errors
