"""nnlib.diagnostics (Chapter 5): gradient norms, activation statistics, dead units, per-layer gradient checks."""

import numpy as np
import pytest

from nnlib import diagnostics as dg
from nnlib.gradcheck import THRESHOLD, numerical_gradient, rel_error
from nnlib.layers import Linear, ReLU, Sequential, Tanh
from nnlib.losses import softmax_cross_entropy


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    return rng.standard_normal((16, 8)), rng.integers(0, 3, 16)


def test_deep_mlp_has_depth_linear_layers_and_the_requested_init():
    model = dg.deep_mlp(5, "tanh", "xavier", width=200, n_in=300, n_out=10, rng=0)
    lins = dg.linear_layers(model)
    assert len(lins) == 5 and len(model) == 9
    assert [l.params["W"].shape for l in lins] == [(200, 300), (200, 200), (200, 200), (200, 200), (10, 200)]
    assert abs(lins[1].params["W"].std() / np.sqrt(2 / 400) - 1) < 0.02
    he = dg.deep_mlp(3, "relu", "he", width=400, n_in=400, rng=0)
    assert abs(dg.linear_layers(he)[1].params["W"].var() / (2 / 400) - 1) < 0.02
    wrong = dg.deep_mlp(3, "tanh", "xavier_6", width=400, n_in=400, rng=0)
    assert abs(dg.linear_layers(wrong)[1].params["W"].var() / (6 / 800) - 1) < 0.02


def test_deep_mlp_bias_and_bad_arguments():
    model = dg.deep_mlp(3, "relu", "he", bias=0.01, rng=0)
    assert all(np.all(l.params["b"] == 0.01) for l in dg.linear_layers(model))
    with pytest.raises(ValueError, match="init"):
        dg.deep_mlp(3, "relu", "glorot")
    with pytest.raises(ValueError, match="activation"):
        dg.deep_mlp(3, "swish")
    with pytest.raises(ValueError, match="depth"):
        dg.deep_mlp(0)


def test_gradient_norms_equal_the_norms_of_central_difference_gradients(batch):
    X, y = batch
    model = dg.deep_mlp(3, "tanh", "xavier", width=5, n_in=8, n_out=3, rng=1)
    norms = dg.gradient_norms(model, X, y)
    for l, layer in enumerate(dg.linear_layers(model)):
        W = layer.params["W"]
        numeric = numerical_gradient(lambda _: softmax_cross_entropy(model.forward(X), y)[0], W)
        assert rel_error(np.linalg.norm(numeric), norms[l]) <= THRESHOLD


def test_gradient_norms_vanish_for_deep_sigmoid_and_not_for_relu_he(batch):
    X, y = batch
    sig = dg.gradient_norms(dg.deep_mlp(12, "sigmoid", "xavier", width=32, n_in=8, n_out=3, rng=0), X, y)
    relu = dg.gradient_norms(dg.deep_mlp(12, "relu", "he", width=32, n_in=8, n_out=3, rng=0), X, y)
    assert sig[0] / sig[-1] < 1e-4
    assert 1e-2 < relu[0] / relu[-1] < 1e2


def test_gradient_norms_bad_input(batch):
    X, y = batch
    model = dg.deep_mlp(2, n_in=8, n_out=3)
    with pytest.raises(ValueError, match="X has 5 features"):
        dg.gradient_norms(model, X[:, :5], y)
    with pytest.raises(ValueError, match="X must be a batch"):
        dg.gradient_norms(model, X[0], y)
    with pytest.raises(TypeError, match="model must be an nnlib Sequential"):
        dg.gradient_norms(Linear(8, 3), X, y)


def test_activation_stats_match_numpy(batch):
    X, _ = batch
    model = dg.deep_mlp(3, "tanh", "xavier", width=6, n_in=8, rng=0)
    stats = dg.activation_stats(model, X, bins=10)
    outs = dg.layer_outputs(model, X)
    assert [s.index for s in stats] == [1, 3]
    for s in stats:
        a = outs[s.index]
        assert s.mean == pytest.approx(a.mean()) and s.std == pytest.approx(a.std())
        assert s.counts.sum() == a.size and s.edges[0] == -1.0 and s.edges[-1] == 1.0
    relu_stats = dg.activation_stats(dg.deep_mlp(3, "relu", "he", n_in=8, rng=0), X)
    assert all(0 < s.frac_zero < 1 for s in relu_stats)


def test_count_dead_and_dead_units():
    A = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]])
    assert dg.count_dead(A) == 1
    with pytest.raises(ValueError, match="A must be activations"):
        dg.count_dead(np.zeros(3))
    model = Sequential([Linear(2, 3, rng=0), ReLU(), Linear(3, 2, rng=1)])
    model[0].params["b"][:] = [-100.0, 0.0, 0.0]  # unit 0 can never fire on small inputs
    X = np.random.default_rng(0).uniform(-1, 1, (50, 2))
    assert dg.dead_units(model, X) == [(1, 1, 3)]


def test_buggy_tanh_is_wrong_and_tanh_is_right():
    from nnlib.gradcheck import check_layer

    x = np.random.default_rng(0).standard_normal((4, 3))
    assert check_layer(dg.BuggyTanh(), x)["x"] > 1e-3
    assert check_layer(Tanh(), x)["x"] <= THRESHOLD


def test_layerwise_gradcheck_points_at_exactly_the_buggy_layer(batch):
    X, _ = batch
    rng = np.random.default_rng(0)
    model = Sequential([Linear(8, 5, rng=rng), Tanh(), Linear(5, 5, rng=rng), dg.BuggyTanh(), Linear(5, 3, rng=rng)])
    report = dg.layerwise_gradcheck(model, X[:4])
    assert [row.index for row in report if not row.passed] == [3]
    assert set(report[0].errors) == {"x", "W", "b"}
    text = dg.format_gradcheck(report)
    assert "BuggyTanh()" in text and text.count("fails (> 1e-07)") == 1
    assert text.count("(pass: <= 1e-07)") == 4 and "True" not in text and "False" not in text
    model.layers[3] = Tanh()
    assert all(row.passed for row in dg.layerwise_gradcheck(model, X[:4]))


def test_format_errors_prints_a_number_per_check_and_marks_failures():
    text = dg.format_errors({"dX": 3.1e-11, "dW": 0.12, "db": float("nan")})
    lines = text.splitlines()
    assert lines[0] == "dX  rel. error 3.1e-11  (pass: <= 1e-07)"  # as nnlib.report.verdict prints it
    assert lines[1] == "dW  rel. error 1.2e-01  fails (> 1e-07)"
    assert lines[2].endswith("fails (> 1e-07)")  # NaN never passes
