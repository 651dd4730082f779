"""Bad input gets a clear error: the right type, and a message naming the argument."""

import numpy as np
import pytest

import nnlib
from nnlib import activations, init, losses, optim
from nnlib.data import minibatches
from nnlib.gradcheck import numerical_gradient, rel_error

rng = np.random.default_rng(0)


def test_linear_transposed_input_names_x_and_suggests_transpose():
    lin = nnlib.Linear(4, 3)
    with pytest.raises(ValueError, match=r"x has shape \(4, 5\).*transposed"):
        lin.forward(np.ones((4, 5)))


def test_linear_wrong_feature_count_names_shapes():
    lin = nnlib.Linear(4, 3)
    with pytest.raises(ValueError, match=r"x has shape \(2, 5\) but W has shape \(3, 4\).*expects 4 features"):
        lin.forward(np.ones((2, 5)))


@pytest.mark.parametrize(
    "bad, exc, pattern",
    [
        (None, TypeError, "x is None"),
        ("abc", TypeError, "x must be a numeric array"),
        ([[1, 2], [3]], ValueError, "x could not be turned into an array"),
        (np.array([["a", "b"]]), TypeError, "x must be numeric"),
        (np.zeros((0, 4)), ValueError, "x is empty"),
        (np.array([[np.nan, 0, 0, 0]]), ValueError, "x contains NaN"),
        (np.array([[np.inf, 0, 0, 0]]), ValueError, "x contains inf"),
    ],
)
def test_linear_rejects_non_numeric_empty_and_nan(bad, exc, pattern):
    with pytest.raises(exc, match=pattern):
        nnlib.Linear(4, 3).forward(bad)


def test_backward_before_forward_and_wrong_dout_shape():
    lin = nnlib.Linear(4, 3)
    with pytest.raises(RuntimeError, match="before forward"):
        lin.backward(np.ones((2, 3)))
    lin.forward(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"dout has shape \(3, 2\).*\(2, 3\)"):
        lin.backward(np.ones((3, 2)))


def test_softmax_cross_entropy_label_errors():
    z = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"y must be class labels in \[0, 3\].*got values from 0 to 4"):
        losses.softmax_cross_entropy(z, np.array([0, 1, 4]))
    with pytest.raises(ValueError, match="y has 2 labels but the scores have 3 samples"):
        losses.softmax_cross_entropy(z, np.array([0, 1]))
    with pytest.raises(TypeError, match="y must hold integer class labels"):
        losses.softmax_cross_entropy(z, np.array([0.5, 1, 2]))
    with pytest.raises(ValueError, match="logits must have at least 2 classes"):
        losses.softmax_cross_entropy(np.zeros((1, 1)), np.array([0]))


def test_mse_shape_mismatch_names_both():
    with pytest.raises(ValueError, match=r"y has shape \(3,\) but y_hat has shape \(3, 1\)"):
        losses.mse(np.zeros((3, 1)), np.zeros(3))


def test_bce_targets_out_of_range():
    with pytest.raises(ValueError, match=r"y must hold targets in \[0, 1\]"):
        losses.binary_cross_entropy_with_logits(np.zeros((2, 1)), np.array([[0.0], [2.0]]))


@pytest.mark.parametrize("lr", [0, -0.1, float("nan")])
def test_learning_rate_must_be_positive(lr):
    with pytest.raises(ValueError, match="lr must be > 0"):
        optim.SGD(lr)


def test_learning_rate_type():
    with pytest.raises(TypeError, match="lr must be a positive number"):
        optim.Adam("0.1")


def test_optimizer_step_mismatched_keys_and_shapes():
    opt = optim.SGD(0.1)
    with pytest.raises(ValueError, match="same keys"):
        opt.step({"W": np.zeros(2)}, {"V": np.zeros(2)})
    with pytest.raises(ValueError, match=r"grads\['W'\] has shape \(3,\) but params\['W'\] has shape \(2,\)"):
        opt.step({"W": np.zeros(2)}, {"W": np.zeros(3)})
    with pytest.raises(TypeError, match=r"params\['x'\] must be a float numpy array"):
        opt.step({"x": 1.0}, {"x": 0.5})


@pytest.mark.parametrize("beta", [1.0, -0.1, 1.5])
def test_momentum_beta_range(beta):
    with pytest.raises(ValueError, match=r"beta must be in \[0, 1\)"):
        optim.Momentum(0.1, beta=beta)


def test_initialiser_errors():
    with pytest.raises(ValueError, match=r"shape must be \(n_out, n_in\)"):
        init.xavier_normal((3,))
    with pytest.raises(ValueError, match="init must be one of"):
        nnlib.Linear(2, 2, init="glorot")
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        init.he_normal((2, 2), rng="seed")
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        init.zeros((2, 2), dtype=np.int32)


def test_layer_size_errors():
    with pytest.raises(ValueError, match="n_in must be an integer >= 1"):
        nnlib.Linear(0, 3)
    with pytest.raises(ValueError, match="activation must be one of"):
        nnlib.mlp([2, 3], activation="swish")
    with pytest.raises(TypeError, match=r"layers\[1\] must be an nnlib Layer"):
        nnlib.Sequential([nnlib.Linear(2, 2), np.tanh])


def test_minibatch_and_fit_mismatched_batch_sizes():
    with pytest.raises(ValueError, match="X has 4 samples but y has 3"):
        list(minibatches(np.zeros((4, 2)), np.zeros(3), 2))
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        list(minibatches(np.zeros((4, 2)), np.zeros(4), 0))
    with pytest.raises(ValueError, match="X has 4 samples but y has 3"):
        nnlib.fit(nnlib.mlp([2, 2]), np.zeros((4, 2)), np.zeros(3, int), nnlib.SGD(0.1))


def test_gradcheck_errors():
    with pytest.raises(TypeError, match="x must be a float numpy array"):
        numerical_gradient(lambda x: 0.0, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"a has shape \(2, 3\) but b has shape \(3, 2\).*transposed"):
        rel_error(np.zeros((2, 3)), np.zeros((3, 2)))


def test_activation_input_errors():
    with pytest.raises(TypeError, match="z is None"):
        activations.sigmoid(None)
    with pytest.raises(ValueError, match="z contains NaN"):
        activations.relu(np.array([np.nan]))


def test_divergence_in_end_of_epoch_evaluation_is_training_diverged():
    # The overflow first shows in the evaluation after the epoch, not in a training step.
    X, y = nnlib.data.make_spiral(40, 3, rng=1)
    model = nnlib.mlp([2, 32, 32, 32, 3], rng=0)
    with pytest.raises(nnlib.TrainingDiverged, match=r"learning rate \(lr=1000.0\) is probably too large"):
        nnlib.fit(model, X * 1e2, y, nnlib.SGD(1e3), epochs=30, batch_size=120, rng=0)


@pytest.mark.parametrize("opt", [optim.SGD(0.1), optim.Momentum(0.1), optim.AdaGrad(0.1), optim.Adam(0.1)])
@pytest.mark.parametrize("which", ["grads", "params"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_optimisers_refuse_non_finite_values_naming_the_key(opt, which, bad):
    params, grads = {"0.W": np.ones((2, 2))}, {"0.W": np.ones((2, 2))}
    {"grads": grads, "params": params}[which]["0.W"][1, 0] = bad
    before = params["0.W"].copy()
    with pytest.raises(ValueError, match=rf"{which}\['0.W'\] contains NaN or inf"):
        opt.step(params, grads)
    np.testing.assert_array_equal(params["0.W"], before)  # nothing written


def test_fit_refuses_a_class_none_or_non_callable_naming_the_argument():
    X, y = np.zeros((4, 2)), np.zeros(4, int)
    with pytest.raises(TypeError, match=r"optimizer must be an object, got the class SGD.*SGD\(0.1\)"):
        nnlib.fit(nnlib.mlp([2, 2]), X, y, nnlib.SGD)
    with pytest.raises(TypeError, match="optimizer must be an object with step, got None"):
        nnlib.fit(nnlib.mlp([2, 2]), X, y, None)
    with pytest.raises(TypeError, match="model must be an object"):
        nnlib.fit(None, X, y, nnlib.SGD(0.1))
    with pytest.raises(TypeError, match="loss_fn must be a function"):
        nnlib.fit(nnlib.mlp([2, 2]), X, y, nnlib.SGD(0.1), loss_fn="mse")
    with pytest.raises(TypeError, match="y must be an array of 4 labels"):
        nnlib.fit(nnlib.mlp([2, 2]), X, None, nnlib.SGD(0.1))


@pytest.mark.parametrize(
    "call, exc, pattern",
    [
        (lambda: losses.mse(1.0, 0.0), None, None),
        (lambda: nnlib.PReLU(4).forward(5.0), ValueError, "z must be an array of features"),
        (lambda: nnlib.data.one_hot(None, 3), TypeError, "y must be integer labels"),
        (lambda: numerical_gradient(lambda x: 0.0, np.ones(2), h=0), ValueError, "h must be > 0"),
        (lambda: numerical_gradient(lambda x: 0.0, np.ones(2), h=np.nan), ValueError, "h must be > 0"),
        (lambda: init.uniform((2, 2), np.nan), ValueError, "limit must be > 0"),
        (lambda: nnlib.Linear(2, 2, bias=np.nan), ValueError, "bias must be a finite number"),
        (lambda: nnlib.Linear(2, 2, bias="0.1"), TypeError, r"bias must be a real number.*float\('0.1'\)"),
        (lambda: nnlib.mlp([2, 2], bias=np.nan), ValueError, "bias must be a finite number"),
        (lambda: nnlib.PReLU(init_slope=np.nan), ValueError, "init_slope must be a finite number"),
        (lambda: nnlib.LeakyReLU(slope=np.nan), ValueError, "slope must be a finite number"),
        (lambda: nnlib.LeakyReLU(slope="a"), TypeError, "slope must be a real number"),
        (lambda: init.constant((2,), np.nan), ValueError, "value must be a finite number"),
        (lambda: nnlib.data.make_spiral(noise=np.nan), ValueError, "noise must be a finite number"),
        (lambda: rel_error(0.0, 0.0, floor=-1e-8), ValueError, "floor must be >= 0"),
        (lambda: rel_error(0.0, 0.0, floor=np.nan), ValueError, "floor must be a finite number"),
        (lambda: nnlib.train.accuracy(np.zeros((3, 2)), None), TypeError, "y must be 3 integer class labels"),
        (lambda: nnlib.train.accuracy(np.zeros((3, 2)), np.zeros(4, int)), ValueError, "y has 4 labels"),
        (lambda: activations.softmax_backward(np.ones((2, 3)) / 3, np.ones((3, 2))), ValueError,
         r"dout has shape \(3, 2\) but y_hat has shape \(2, 3\)"),
        (lambda: list(minibatches(np.zeros((4, 2)), None, 2)), TypeError, "y must be an array of 4 labels"),
        (lambda: nnlib.data.train_test_split(np.zeros((4, 2)), None), TypeError, "y must be an array"),
        (lambda: nnlib.Sequential(None), TypeError, "layers must be a list, got NoneType"),
        (lambda: nnlib.mlp(None), TypeError, "sizes must be a list, got NoneType"),
        (lambda: losses.l2_penalty(None, 0.1), TypeError, "weights must be a list, got NoneType"),
        (lambda: numerical_gradient(None, np.ones(2)), TypeError, "f must be a function, got NoneType"),
    ],
)
def test_known_obscure_failures_now_name_the_argument(call, exc, pattern):
    if exc is None:  # mse of two numbers is valid: one sample with one output
        loss, grad = call()
        assert np.isfinite(loss) and np.all(np.isfinite(grad))
        return
    with pytest.raises(exc, match=pattern):
        call()


def test_binary_cross_entropy_on_a_0d_input_is_one_prediction():
    loss, dz = losses.binary_cross_entropy_with_logits(0.0, 1.0)
    assert np.isclose(loss, np.log(2)) and np.isclose(dz, -0.5)
