"""Property tests over random architectures, depths, batch sizes and activations.

* The model gradient passes the central-difference check (float64 relative error
  <= 1e-7) whenever no pre-activation sits within 1e-3 of a ReLU kink and every
  gradient is large enough to be measured: central differences carry an absolute
  error of about 1e-10 (rounding ~1e-16 |L| / h plus truncation ~h^2), so a relative
  error of 1e-7 is only meaningful for gradients with norm >= 1e-3. Smaller ones are
  the vanishing gradients of Chapter 5, not bugs.
* The batch gradient equals the mean of the per-sample gradients to <= 1e-12
  (relative), because the loss of a batch is the mean of per-sample losses.
"""

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import nnlib
from nnlib.gradcheck import check_model, rel_error
from nnlib.losses import softmax_cross_entropy

ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "prelu"]

architectures = st.tuples(
    st.lists(st.integers(1, 6), min_size=2, max_size=5),  # input and hidden sizes: depth 1..4 hidden
    st.integers(2, 4),  # classes
    st.sampled_from(ACTIVATIONS),
    st.integers(1, 8),  # batch size
    st.integers(0, 2**32 - 1),  # seed
)


def build(sizes, n_classes, activation, B, seed):
    rng = np.random.default_rng(seed)
    model = nnlib.mlp([*sizes, n_classes], activation=activation, rng=rng)
    X = rng.standard_normal((B, sizes[0]))
    y = rng.integers(0, n_classes, B)
    return model, X, y


def min_abs_preactivation(model, X):
    """Smallest |z| fed into an activation layer (the kink of ReLU-like units is at 0)."""
    smallest, h = np.inf, X
    for layer in model.layers:
        if not isinstance(layer, nnlib.Linear):
            smallest = min(smallest, float(np.abs(h).min()))
        h = layer.forward(h)
    return smallest


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(architectures)
def test_random_models_pass_the_gradient_check(arch):
    model, X, y = build(*arch)
    if arch[2] != "sigmoid" and arch[2] != "tanh":
        assume(min_abs_preactivation(model, X) > 1e-3)
    _, dscores = softmax_cross_entropy(model.forward(X), y)
    model.backward(dscores)
    assume(min(np.linalg.norm(g) for g in model.grads.values()) >= 1e-3)
    errors = check_model(model, X, y, softmax_cross_entropy)
    worst = max(errors.values())
    assert worst <= 1e-7, f"{arch}: worst relative error {worst:.2e}"


@settings(max_examples=40, deadline=None)
@given(architectures)
def test_batch_gradient_is_mean_of_per_sample_gradients(arch):
    model, X, y = build(*arch)
    _, dscores = softmax_cross_entropy(model.forward(X), y)
    model.backward(dscores)
    batch = {k: g.copy() for k, g in model.grads.items()}

    per_sample = {k: np.zeros_like(g) for k, g in batch.items()}
    for i in range(len(X)):
        x_col = X[i][:, None]  # Chapter 3's form: one sample as a column vector
        _, dz = softmax_cross_entropy(model.forward(x_col), y[i : i + 1])
        model.backward(dz)
        for k in per_sample:
            per_sample[k] += model.grads[k] / len(X)
    for k in batch:
        assert rel_error(batch[k], per_sample[k], floor=1e-30) <= 1e-12 or np.allclose(
            batch[k], per_sample[k], rtol=0, atol=1e-15
        ), k


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_linear_forms_agree(n_in, n_out, B, seed):
    """Vector, column and batch inputs give the same numbers in their own forms."""
    rng = np.random.default_rng(seed)
    lin = nnlib.Linear(n_in, n_out, rng=rng)
    X = rng.standard_normal((B, n_in))
    Z = lin.forward(X)
    for i in range(B):
        np.testing.assert_allclose(lin.forward(X[i]), Z[i], rtol=1e-13, atol=1e-14)
        if n_in > 1:  # a (1, 1) input is read as a batch of one sample, not as a column
            np.testing.assert_allclose(lin.forward(X[i][:, None])[:, 0], Z[i], rtol=1e-13, atol=1e-14)
