"""Property-based fuzz of nnlib's public API: bad input always gets a clear error.

Every public function and class outside ``nnlib.checks`` (and the instructor CLIs) is
called with valid arguments except one, which hypothesis replaces with something
wrong: a wrong shape, a transpose, a mismatched batch, NaN or inf, an empty or 0-d
array, a string, None, a list, the class instead of an instance, labels that are
negative, fractional or out of range, a zero, negative or NaN rate or step size.

A call passes when it either

* raises ``ValueError`` or ``TypeError`` (or the documented ``TrainingDiverged``)
  whose message names the argument, says what was expected and what arrived, and
  suggests a fix - and is not one of numpy's own messages; or
* accepts the input (some are legitimately valid: a list that can be an array, a
  transposed square matrix) and returns only finite numbers.

Anything else - another exception type, a numpy-internal message, a silent NaN - is
a violation. The module counts calls and input classes; run it with ``-s`` to see
the tally (``pytest tests/test_nnlib_fuzz.py -s -p no:xdist``).
"""

from __future__ import annotations

import collections
import inspect
import re
import types
import warnings

import matplotlib
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nnlib
from nnlib import (
    activations,
    backprop,
    batch,
    data,
    descent,
    diagnostics,
    engine,
    figures,
    gradcheck,
    init,
    layers,
    losses,
    optim,
    report,
    train,
)

matplotlib.use("Agg")

CALLS = collections.Counter()  # input class -> number of calls
VIOLATIONS: list[str] = []

SETTINGS = settings(max_examples=60, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))

NUMPY_INTERNAL = (
    "operands could not be broadcast", "len() of unsized object", "is not iterable",
    "could not convert string to float", "object is not subscriptable", "has no attribute",
    "unsupported operand", "not callable", "index", "axis", "invalid literal", "too many indices",
    "ufunc", "matmul", "not supported between", "object of type", "cannot reshape", "argument must be",
    "takes no arguments", "positional argument", "must be real number, not",
)
RELATIONAL = ("mismatched batch", "transpose", "wrong shape")
EXPECTED = re.compile(r"must|expect|needs?\b|should|only|cannot|requires?|refuse", re.I)
RECEIVED = re.compile(r"got|has shape|has \d|is None|contains|\bbut\b|arrived|received|became|is empty", re.I)
FIX = re.compile(
    r"\b(use|pass|try|check|did you|does the|is the|is one|see|e\.g\.|lower|reshape|convert|create|make|call|"
    r"wrap|instead|such as|for example|run|rescale|scale|add|remove|keep|give|build|set|drop|smaller|choose|transposed)",
    re.I)


# ------------------------------------------------------------------ valid arguments
def rows(B=6, n=3, seed=0):
    return np.random.default_rng(seed).standard_normal((B, n))


def labels(B=6, K=3):
    return np.arange(B) % K


def spiral():
    return data.make_spiral(10, 3, rng=0)


class _Quad:
    """f(x) = sum(x^2) for numerical_gradient."""

    def __call__(self, x):
        return float(np.sum(np.asarray(x) ** 2))


# Each target: (name, function, valid kwargs factory, {arg: kind}).
# Kinds tell the fuzzer which bad values to try for that argument.
def _closing(make_figure):
    """Call a figure-making function and close the figure it made (the fuzz makes many)."""
    import matplotlib.pyplot as plt

    def call(**kwargs):
        result = make_figure(**kwargs)
        plt.close("all")
        return result
    return call


def _targets():
    T = []

    def add(name, fn, valid, kinds, aliases=None):
        T.append((name, fn, valid, kinds, aliases or {}))

    for act in ("sigmoid", "sigmoid_prime", "tanh", "tanh_prime", "relu", "relu_prime", "identity",
                "identity_prime"):
        add(f"activations.{act}", getattr(activations, act), lambda: {"z": rows()}, {"z": "array"})
    add("activations.leaky_relu", activations.leaky_relu, lambda: {"z": rows(), "slope": 0.01},
        {"z": "array", "slope": "number"})
    add("activations.leaky_relu_prime", activations.leaky_relu_prime, lambda: {"z": rows(), "slope": 0.01},
        {"z": "array", "slope": "number"})
    add("activations.softmax", activations.softmax, lambda: {"z": rows(), "axis": -1},
        {"z": "array", "axis": "axis"})
    add("activations.softmax_backward", activations.softmax_backward,
        lambda: {"y_hat": activations.softmax(rows()), "dout": rows(seed=1), "axis": -1},
        {"y_hat": "array", "dout": "array_same", "axis": "axis"})

    add("losses.mse", losses.mse, lambda: {"y_hat": rows(), "y": rows(seed=1)},
        {"y_hat": "array", "y": "array_same"})
    add("losses.softmax_cross_entropy", losses.softmax_cross_entropy,
        lambda: {"logits": rows(), "y": labels()}, {"logits": "array", "y": "labels"})
    add("losses.binary_cross_entropy_with_logits", losses.binary_cross_entropy_with_logits,
        lambda: {"z": rows(), "y": (rows(seed=1) > 0).astype(float)}, {"z": "array", "y": "array_same"})
    add("losses.cross_entropy_probs", losses.cross_entropy_probs,
        lambda: {"y_hat": activations.softmax(rows()), "y": labels()}, {"y_hat": "array", "y": "labels"})
    add("losses.l2_penalty", losses.l2_penalty, lambda: {"weights": {"W": rows()}, "lam": 0.1},
        {"weights": "weights", "lam": "number_nonneg"})

    add("report.approx", report.approx, lambda: {"value": 0.25, "spec": ".2f"},
        {"value": "number", "spec": "identifier"})
    add("report.verdict", report.verdict, lambda: {"name": "dW1", "error": 1e-11, "threshold": 1e-7, "width": 4},
        {"name": "identifier", "threshold": "number_pos", "width": "int"})
    add("report.verdicts", report.verdicts, lambda: {"errors": {"dW1": 1e-11}, "threshold": 1e-7},
        {"threshold": "number_pos"})
    add("figures.subplots", _closing(figures.subplots), lambda: {"nrows": 1, "ncols": 2, "height": 3.0},
        {"nrows": "int", "ncols": "int", "height": "number_pos"})

    add("Linear", layers.Linear, lambda: {"n_in": 3, "n_out": 2, "init": "he_normal", "bias": 0.0, "rng": 0},
        {"n_in": "int", "n_out": "int", "init": "choice", "bias": "number", "rng": "rng"})
    add("Linear.forward", lambda x: layers.Linear(3, 2, rng=0).forward(x), lambda: {"x": rows()},
        {"x": "array"})
    add("Linear.backward", _backward_of(lambda: layers.Linear(3, 2, rng=0)), lambda: {"dout": rows(n=2)},
        {"dout": "array"})
    for cls in (layers.Sigmoid, layers.Tanh, layers.ReLU, layers.Identity, layers.Softmax):
        add(f"{cls.__name__}.forward", (lambda c: lambda z: c().forward(z))(cls), lambda: {"z": rows()},
            {"z": "array"})
        add(f"{cls.__name__}.backward", _backward_of(cls, n_in=3), lambda: {"dout": rows()}, {"dout": "array"})
    add("LeakyReLU", layers.LeakyReLU, lambda: {"slope": 0.01}, {"slope": "number"})
    add("LeakyReLU.forward", lambda z: layers.LeakyReLU().forward(z), lambda: {"z": rows()}, {"z": "array"})
    add("PReLU", layers.PReLU, lambda: {"n_features": 3, "init_slope": 0.25},
        {"n_features": "int", "init_slope": "number"})
    add("PReLU.forward", lambda z: layers.PReLU(3).forward(z), lambda: {"z": rows()}, {"z": "array"})
    add("PReLU.backward", _backward_of(lambda: layers.PReLU(3), n_in=3), lambda: {"dout": rows()},
        {"dout": "array"})
    add("Sequential", layers.Sequential, lambda: {"layers": [layers.Linear(3, 2, rng=0), layers.ReLU()]},
        {"layers": "layer_list"})
    add("Sequential.predict", lambda X: nnlib.mlp([3, 4, 3], rng=0).predict(X), lambda: {"X": rows()},
        {"X": "array"}, {"X": ("x", "z")})
    add("mlp", layers.mlp, lambda: {"sizes": [3, 4, 2], "activation": "relu", "rng": 0, "bias": 0.0},
        {"sizes": "sizes", "activation": "choice", "rng": "rng", "bias": "number"})

    for name in ("zeros", "xavier_normal", "xavier_uniform", "he_normal", "he_uniform"):
        add(f"init.{name}", getattr(init, name), lambda: {"shape": (3, 2), "rng": 0}, {"shape": "shape", "rng": "rng"})
    add("init.constant", init.constant, lambda: {"shape": (3,), "value": 0.01}, {"shape": "shape", "value": "number"})
    add("init.normal", init.normal, lambda: {"shape": (3, 2), "std": 0.1, "rng": 0},
        {"shape": "shape", "std": "number_pos", "rng": "rng"})
    add("init.uniform", init.uniform, lambda: {"shape": (3, 2), "limit": 0.1, "rng": 0},
        {"shape": "shape", "limit": "number_pos", "rng": "rng"})
    add("init.get_initialiser", init.get_initialiser, lambda: {"init": "he_normal"}, {"init": "choice"})
    add("init.xavier_std", init.xavier_std, lambda: {"n_in": 3, "n_out": 2}, {"n_in": "int", "n_out": "int"})
    add("init.he_std", init.he_std, lambda: {"n_in": 3}, {"n_in": "int"})

    add("SGD", optim.SGD, lambda: {"lr": 0.1}, {"lr": "number_pos"})
    add("Momentum", optim.Momentum, lambda: {"lr": 0.1, "beta": 0.9}, {"lr": "number_pos", "beta": "unit"})
    add("AdaGrad", optim.AdaGrad, lambda: {"lr": 0.1, "eps": 1e-8}, {"lr": "number_pos", "eps": "number_pos"})
    add("Adam", optim.Adam, lambda: {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
        {"lr": "number_pos", "beta1": "unit", "beta2": "unit", "eps": "number_pos"})
    add("RMSProp", optim.RMSProp, lambda: {"lr": 0.1, "beta": 0.9, "eps": 1e-8},
        {"lr": "number_pos", "beta": "unit", "eps": "number_pos"})
    for cls in (optim.SGD, optim.Momentum, optim.AdaGrad, optim.RMSProp, optim.Adam):
        add(f"{cls.__name__}.step", (lambda c: lambda params, grads: c(0.1).step(params, grads))(cls),
            lambda: {"params": {"W": rows()}, "grads": {"W": rows(seed=1)}},
            {"params": "param_dict", "grads": "param_dict"})

    add("numerical_gradient", gradcheck.numerical_gradient,
        lambda: {"f": _Quad(), "x": rows(2, 2), "h": 1e-5}, {"f": "callable", "x": "array_inplace", "h": "number_pos"})
    add("one_sided_gradient", gradcheck.one_sided_gradient,
        lambda: {"f": _Quad(), "x": rows(2, 2), "h": 1e-5}, {"f": "callable", "x": "array_inplace", "h": "number_pos"})
    add("rel_error", gradcheck.rel_error, lambda: {"a": rows(), "b": rows(seed=1), "floor": 1e-8},
        {"a": "array", "b": "array_same", "floor": "number_pos"})
    add("check_layer", gradcheck.check_layer, lambda: {"layer": layers.Linear(3, 2, rng=0), "x": rows(2, 3),
                                                       "rng": 0, "h": 1e-5},
        {"layer": "model", "x": "array", "rng": "rng", "h": "number_pos"})
    add("check_model", gradcheck.check_model,
        lambda: {"model": nnlib.mlp([3, 3], rng=0), "X": rows(2, 3), "y": labels(2),
                 "loss_fn": losses.softmax_cross_entropy, "h": 1e-5},
        {"model": "model", "X": "array", "y": "labels", "loss_fn": "callable", "h": "number_pos"})

    add("make_spiral", data.make_spiral, lambda: {"n_per_class": 5, "n_classes": 3, "noise": 0.2, "rng": 0},
        {"n_per_class": "int", "n_classes": "int", "noise": "number_nonneg", "rng": "rng"})
    add("make_xor", data.make_xor, lambda: {"n": 8, "noise": 0.1, "rng": 0},
        {"n": "int", "noise": "number_nonneg", "rng": "rng"})
    add("make_moons", data.make_moons, lambda: {"n": 8, "noise": 0.1, "rng": 0},
        {"n": "int", "noise": "number_nonneg", "rng": "rng"})
    add("train_test_split", data.train_test_split,
        lambda: {"X": rows(), "y": labels(), "test_size": 0.25, "rng": 0},
        {"X": "array", "y": "targets", "test_size": "unit_open", "rng": "rng"})
    add("load_digits", data.load_digits, lambda: {"test_size": 0.25, "rng": 0}, {"test_size": "unit_open"})
    add("one_hot", data.one_hot, lambda: {"y": labels(), "n_classes": 3}, {"y": "labels", "n_classes": "int"})
    add("minibatches", lambda X, y, batch_size, rng: list(data.minibatches(X, y, batch_size, rng)),
        lambda: {"X": rows(), "y": labels(), "batch_size": 2, "rng": 0},
        {"X": "array", "y": "targets", "batch_size": "int", "rng": "rng"})

    add("train.accuracy", train.accuracy, lambda: {"scores": rows(), "y": labels()},
        {"scores": "array", "y": "labels"})
    add("train.evaluate", train.evaluate,
        lambda: {"model": nnlib.mlp([3, 3], rng=0), "X": rows(), "y": labels()},
        {"model": "model", "X": "array", "y": "labels"}, {"X": ("x", "z")})
    add("fit", _fit, lambda: {"model": nnlib.mlp([3, 4, 3], rng=0), "X": rows(), "y": labels(),
                              "optimizer": optim.SGD(0.1), "epochs": 1, "batch_size": 3,
                              "loss_fn": losses.softmax_cross_entropy, "rng": 0, "callback": None,
                              "validation_data": None},
        {"model": "model", "X": "array", "y": "labels", "optimizer": "optimizer", "epochs": "int",
         "batch_size": "int", "loss_fn": "callable", "rng": "rng", "callback": "callable",
         "validation_data": "pair"}, {"X": ("x", "z")})

    add("Value", engine.Value, lambda: {"data": 1.5}, {"data": "number"})
    add("Value.op", lambda other: engine.Value(1.5) * other + other, lambda: {"other": 2.0},
        {"other": "number"}, {"other": ("operand",)})

    add("backprop.as_column", backprop.as_column, lambda: {"x": np.ones(3)}, {"x": "array"})
    add("backprop.init_params", backprop.init_params, lambda: {"sizes": (2, 3, 2), "rng": 0, "scale": 1.0},
        {"sizes": "sizes", "rng": "rng", "scale": "number_pos"})
    add("backprop.forward", backprop.forward, lambda: {"params": backprop.init_params(rng=0), "x": np.ones(2)},
        {"params": "bp_params", "x": "array"})
    add("backprop.loss_and_grads", backprop.loss_and_grads,
        lambda: {"params": backprop.init_params(rng=0), "x": np.ones(2), "y": 1, "lam": 0.0},
        {"params": "bp_params", "x": "array", "y": "class_index", "lam": "number_nonneg"})
    add("backprop.deep_loss_and_grads", backprop.deep_loss_and_grads,
        lambda: {"params": backprop.init_params((2, 3, 3, 2), rng=0), "x": np.ones(2), "y": 1,
                 "activation": "sigmoid", "lam": 0.0},
        {"params": "bp_params", "x": "array", "y": "class_index", "activation": "choice", "lam": "number_nonneg"})
    add("backprop.one_hot_column", backprop.one_hot_column, lambda: {"y": 1, "K": 3},
        {"y": "class_index", "K": "int"})
    add("backprop.l2_penalty", backprop.l2_penalty, lambda: {"params": backprop.init_params(rng=0), "lam": 0.1},
        {"params": "bp_params", "lam": "number_nonneg"})
    add("backprop.to_sequential", backprop.to_sequential, lambda: {"params": backprop.init_params(rng=0)},
        {"params": "bp_params"})
    add("backprop.from_sequential", backprop.from_sequential, lambda: {"model": nnlib.mlp([2, 3, 2], rng=0)},
        {"model": "model"})

    add("batch.linear_forward", batch.linear_forward, lambda: {"X": rows(), "W": rows(2, 3), "b": np.zeros(2)},
        {"X": "array", "W": "array", "b": "array"})
    add("batch.linear_backward", batch.linear_backward,
        lambda: {"dZ": rows(6, 2), "X": rows(), "W": rows(2, 3)}, {"dZ": "array", "X": "array", "W": "array"})
    add("batch.outer_product_sum", batch.outer_product_sum, lambda: {"dZ": rows(6, 2), "X": rows()},
        {"dZ": "array", "X": "array"})
    add("batch.softmax_cross_entropy_per_sample", batch.softmax_cross_entropy_per_sample,
        lambda: {"Z": rows(), "y": labels()}, {"Z": "array", "y": "labels"})
    add("batch.init_params", batch.init_params, lambda: {"sizes": [3, 4, 3], "rng": 0},
        {"sizes": "sizes", "rng": "rng"})
    add("batch.mean_of_per_sample_gradients", batch.mean_of_per_sample_gradients,
        lambda: {"params": batch.init_params([3, 4, 3], rng=0), "X": rows(), "y": labels(), "activation": "sigmoid"},
        {"params": "b_params", "X": "array", "y": "labels", "activation": "choice"})
    for fn in (backprop.value_network, backprop.referees):
        add(f"backprop.{fn.__name__}", fn, lambda: {"params": backprop.init_params(rng=0), "x": np.ones(2), "y": 1},
            {"params": "bp_params", "x": "array", "y": "class_index"})
    add("diagnostics.format_error", diagnostics.format_error,
        lambda: {"name": "dW1", "error": 1e-11, "threshold": 1e-7, "width": 4},
        {"name": "identifier", "error": "number_nonneg", "threshold": "number_pos", "width": "int"})
    add("diagnostics.format_errors", diagnostics.format_errors, lambda: {"errors": {"dW1": 1e-11}, "threshold": 1e-7},
        {"threshold": "number_pos"})
    add("batch.loss_and_grads", batch.loss_and_grads,
        lambda: {"params": batch.init_params([3, 4, 3], rng=0), "X": rows(), "y": labels(), "activation": "sigmoid"},
        {"params": "b_params", "X": "array", "y": "labels", "activation": "choice"})
    add("batch.per_sample_loop", batch.per_sample_loop,
        lambda: {"params": batch.init_params([3, 4, 3], rng=0), "X": rows(), "y": labels()},
        {"params": "b_params", "X": "array", "y": "labels"})
    add("batch.two_layer_loss_and_grads", batch.two_layer_loss_and_grads,
        lambda: dict(zip(("W1", "b1", "W2", "b2"), [a for wb in batch.init_params([3, 4, 3], rng=0) for a in wb], strict=True),
                     X=rows(), y=labels()),
        {"X": "array", "y": "labels", "W1": "array", "b1": "array", "W2": "array", "b2": "array"})
    add("batch.nnlib_gradients", batch.nnlib_gradients,
        lambda: {"model": nnlib.mlp([3, 4, 3], rng=0), "X": rows(), "y": labels()},
        {"model": "model", "X": "array", "y": "labels"}, {"X": ("x", "z")})
    add("batch.cache_memory", batch.cache_memory, lambda: {"sizes": [3, 4, 3], "batch_size": 4},
        {"sizes": "sizes", "batch_size": "int"})
    add("batch.training_memory", batch.training_memory,
        lambda: {"model": nnlib.mlp([3, 4, 3], rng=0), "X": rows()}, {"model": "model", "X": "array"},
        {"X": ("x", "z")})
    add("batch.cache_nbytes_per_layer", batch.cache_nbytes_per_layer,
        lambda: {"model": nnlib.mlp([3, 4, 3], rng=0)}, {"model": "model"})

    add("descent.quadratic_bowl", descent.quadratic_bowl, lambda: {"H": np.diag([1.0, 4.0]), "c": np.zeros(2)},
        {"H": "array", "c": "array"})
    add("descent.quadratic_1d", descent.quadratic_1d, lambda: {"curvature": 2.0, "center": 3.0},
        {"curvature": "number_pos", "center": "number"})
    add("descent.valley", descent.valley, lambda: {"kappa": 10.0}, {"kappa": "number_pos"})
    add("descent.rosenbrock", descent.rosenbrock, lambda: {"a": 1.0, "b": 100.0}, {"a": "number", "b": "number_pos"})
    add("descent.double_well", descent.double_well, lambda: {"tilt": 0.25}, {"tilt": "number"})
    add("descent.stable_lr_threshold", descent.stable_lr_threshold, lambda: {"objective_or_H": np.eye(2)},
        {"objective_or_H": "array"}, {"objective_or_H": ("H",)})
    add("descent.gradient_descent", descent.gradient_descent,
        lambda: {"objective": descent.valley(), "x0": np.array([1.0, 1.0]), "lr": 0.1, "max_iter": 20,
                 "grad_tol": 1e-6, "step_tol": 1e-10},
        {"objective": "objective", "x0": "array", "lr": "number_pos", "max_iter": "int",
         "grad_tol": "number_nonneg", "step_tol": "number_nonneg"})
    add("descent.run_optimizer", descent.run_optimizer,
        lambda: {"optimizer": optim.Adam(0.1), "objective": descent.valley(), "x0": np.array([1.0, 1.0]),
                 "n_steps": 10},
        {"optimizer": "optimizer", "objective": "objective", "x0": "array", "n_steps": "int"})
    add("descent.linreg_loss", descent.linreg_loss,
        lambda: {"w": np.ones(3), "b": 0.5, "X": rows(), "y": rows(6, 1)[:, 0]},
        {"w": "array", "b": "number", "X": "array", "y": "array"})
    add("descent.linreg_grad", descent.linreg_grad,
        lambda: {"w": np.ones(3), "b": 0.5, "X": rows(), "y": rows(6, 1)[:, 0]},
        {"w": "array", "b": "number", "X": "array", "y": "array"})
    add("descent.least_squares", descent.least_squares, lambda: {"X": rows(), "y": rows(6, 1)[:, 0]},
        {"X": "array", "y": "array"})
    add("descent.linreg_descent", descent.linreg_descent,
        lambda: {"X": rows(), "y": rows(6, 1)[:, 0], "lr": 0.05, "epochs": 2, "batch_size": 2, "rng": 0,
                 "decay": 0.0, "w0": None, "b0": 0.0},
        {"X": "array", "y": "array", "lr": "number_pos", "epochs": "int", "batch_size": "int", "rng": "rng",
         "decay": "number_nonneg", "w0": "array", "b0": "number"})

    add("diagnostics.deep_mlp", diagnostics.deep_mlp,
        lambda: {"depth": 3, "activation": "relu", "init": "he", "width": 4, "n_in": 3, "n_out": 2, "bias": 0.0,
                 "rng": 0},
        {"depth": "int", "activation": "choice", "init": "choice", "width": "int", "n_in": "int", "n_out": "int",
         "bias": "number", "rng": "rng"})
    add("diagnostics.gradient_norms", diagnostics.gradient_norms,
        lambda: {"model": nnlib.mlp([3, 4, 3], rng=0), "X": rows(), "y": labels(),
                 "loss_fn": losses.softmax_cross_entropy},
        {"model": "model", "X": "array", "y": "labels", "loss_fn": "callable"})
    add("diagnostics.activation_stats", diagnostics.activation_stats,
        lambda: {"model": nnlib.mlp([3, 4, 3], rng=0), "X": rows(), "bins": 5},
        {"model": "model", "X": "array", "bins": "int"})
    add("diagnostics.dead_units", diagnostics.dead_units,
        lambda: {"model": nnlib.mlp([3, 4, 3], rng=0), "X": rows()}, {"model": "model", "X": "array"})
    add("diagnostics.count_dead", diagnostics.count_dead, lambda: {"A": np.abs(rows())}, {"A": "array"})
    add("diagnostics.layerwise_gradcheck", diagnostics.layerwise_gradcheck,
        lambda: {"model": nnlib.mlp([3, 3, 2], rng=0), "X": rows(2, 3), "rng": 0, "h": 1e-5},
        {"model": "model", "X": "array", "rng": "rng", "h": "number_pos"})

    from nnlib import engine_draw
    from nnlib.widgets import ch1, ch2, ch5

    add("engine_draw.graph_layout", engine_draw.graph_layout, lambda: {"root": engine.Value(1.0) * 2.0},
        {"root": "value_node"})
    add("engine_draw.backward_animation_html", engine_draw.backward_animation_html,
        lambda: {"root": engine.Value(1.0) * 2.0, "name": "bw"}, {"root": "value_node", "name": "identifier"})
    add("widgets.ch2.evaluate", ch2.evaluate, lambda: {"expression": "f = (x + y) \u00b7 x", "x": 1.0, "y": 2.0},
        {"expression": "choice", "x": "number", "y": "number"})
    add("widgets.ch1.descent_explorer", ch1.descent_explorer,
        lambda: {"lr": 0.1, "x0": -0.5, "function": "double well", "max_iter": 5},
        {"lr": "number_pos", "x0": "number", "function": "choice", "max_iter": "int"}, {"function": ("function",)})
    add("widgets.ch1.optimizer_explorer", ch1.optimizer_explorer,
        lambda: {"optimizer": "Momentum", "lr": 0.01, "surface": "valley"},
        {"optimizer": "choice", "lr": "number_pos", "surface": "choice"})
    add("widgets.ch5.depth_profile", ch5.depth_profile,
        lambda: {"depth": 3, "activation": "relu", "init": "he", "width": 4, "batch": 8, "n_classes": 3, "seed": 0},
        {"depth": "int", "activation": "choice", "init": "choice", "width": "int", "batch": "int",
         "n_classes": "int", "seed": "rng"})
    return T


def _backward_of(make, n_in=3):
    def call(dout):
        layer = make()
        layer.forward(rows(n=n_in))
        return layer.backward(dout)

    return call


def _fit(**kw):
    return train.fit(**kw)


# ------------------------------------------------------------------ bad values
class _Thing:
    """An object that is none of the things nnlib accepts."""


def _bad_array(draw, v, kind):
    v = np.asarray(v, dtype=float)
    labels_ = ["nan", "inf", "empty", "0-d", "list", "ragged list", "3-D", "string array", "complex",
               "transpose", "wrong shape", "mismatched batch", "scalar", "None", "string", "bool array"]
    label = draw(st.sampled_from(labels_))
    i = draw(st.integers(0, max(v.size - 1, 0)))
    if label in ("nan", "inf"):
        out = v.copy()
        out.flat[i] = np.nan if label == "nan" else draw(st.sampled_from([np.inf, -np.inf]))
        return label, out
    if label == "empty":
        return label, np.zeros((0,) + v.shape[1:])
    if label == "0-d":
        return label, np.array(float(v.flat[i]))
    if label == "list":
        return label, v.tolist()
    if label == "ragged list":
        return label, [[1.0, 2.0], [3.0]]
    if label == "3-D":
        return label, v[None, ...] if v.ndim < 3 else v[..., None]
    if label == "string array":
        return label, np.full(v.shape, "a")
    if label == "complex":
        return label, v + 1j
    if label == "transpose":
        return label, v.T.copy()
    if label == "wrong shape":
        extra = draw(st.integers(1, 3))
        shape = v.shape[:-1] + (v.shape[-1] + extra,) if v.ndim else (extra + 1,)
        return label, np.ones(shape)
    if label == "mismatched batch":
        return label, v[:-1].copy() if v.ndim and v.shape[0] > 1 else np.ones((2,) + v.shape)
    if label == "scalar":
        return label, float(draw(st.sampled_from([0.0, 1.5, -2.0])))
    if label == "bool array":
        return label, v > 0
    return (label, None) if label == "None" else (label, "abc")


def _bad_labels(draw, v):
    v = np.asarray(v)
    label = draw(st.sampled_from(["negative labels", "float labels", "out-of-range labels", "mismatched batch",
                                  "nan labels", "2-D labels", "0-d", "empty", "None", "string", "list",
                                  "string array", "bool array"]))
    i = draw(st.integers(0, v.size - 1))
    out = v.astype(float).copy()
    if label == "negative labels":
        out = v.copy()
        out[i] = -draw(st.integers(1, 5))
    elif label == "float labels":
        out[i] += draw(st.sampled_from([0.5, 0.25, 0.999]))
    elif label == "out-of-range labels":
        out = v.copy()
        out[i] = 3 + draw(st.integers(0, 5))
    elif label == "mismatched batch":
        out = v[:-1]
    elif label == "nan labels":
        out[i] = np.nan
    elif label == "2-D labels":
        out = np.ones((v.size, 2))
    elif label == "0-d":
        out = np.array(int(v[i]))
    elif label == "empty":
        out = np.array([], dtype=int)
    elif label == "None":
        out = None
    elif label == "string":
        out = "abc"
    elif label == "list":
        out = v.tolist()
    elif label == "string array":
        out = np.array(["a"] * v.size)
    elif label == "bool array":
        out = v > 0
    return label, out


def _bad_number(draw, kind):
    options = {"zero": 0.0, "negative": -0.5, "nan": float("nan"), "inf": float("inf"), "-inf": -float("inf"),
               "numeric string": "0.1", "None": None, "list": [0.1], "bool": True, "array": np.array([0.1, 0.2]),
               "complex": 1 + 1j, "huge": 1e300}
    if kind in ("int",):
        options.update({"float": 2.5, "integral float": 2.0, "zero": 0, "negative": -3, "numeric string": "3"})
    label = draw(st.sampled_from(sorted(options)))
    return label, options[label]


def _bad_value(draw, kind, v):
    if kind in ("array", "array_same", "array_inplace"):
        return _bad_array(draw, v, kind)
    if kind in ("labels", "targets"):
        return _bad_labels(draw, v)
    if kind in ("number", "number_pos", "number_nonneg", "int", "unit", "unit_open"):
        return _bad_number(draw, kind)
    if kind == "axis":
        return draw(st.sampled_from([("out-of-range axis", 5), ("float axis", 0.5), ("string", "abc"),
                                     ("None", None)]))
    if kind == "choice":
        return draw(st.sampled_from([("unknown name", "nope"), ("None", None), ("number", 3), ("list", ["relu"])]))
    if kind == "rng":
        return draw(st.sampled_from([("string", "seed"), ("float", 0.5), ("nan", float("nan")), ("list", [1]),
                                     ("class instead of instance", np.random.Generator)]))
    if kind == "model":
        return draw(st.sampled_from([("None", None), ("class instead of instance", nnlib.Sequential),
                                     ("class instead of instance", nnlib.Linear), ("string", "mlp"),
                                     ("function", nnlib.mlp), ("array", np.ones(3))]))
    if kind == "optimizer":
        return draw(st.sampled_from([("None", None), ("class instead of instance", nnlib.SGD),
                                     ("class instead of instance", nnlib.Adam), ("string", "sgd"),
                                     ("number", 0.1)]))
    if kind == "callable":
        return draw(st.sampled_from([("None", None), ("string", "mse"), ("number", 1.0), ("list", [])]))
    if kind == "pair":
        return draw(st.sampled_from([("string", "abc"), ("number", 1.0), ("list", [rows()]),
                                     ("mismatched batch", (rows(), labels(5))),
                                     ("nan", (np.full((6, 3), np.nan), labels())),
                                     ("class instead of instance", tuple)]))
    if kind == "layer_list":
        return draw(st.sampled_from([("None", None), ("string", "relu"), ("number", 3),
                                     ("class instead of instance", [layers.Linear]),
                                     ("list", [np.tanh]), ("class instead of instance", [layers.ReLU])]))
    if kind == "sizes":
        return draw(st.sampled_from([("None", None), ("string", "3,4"), ("number", 3), ("list", [3]),
                                     ("negative", [3, -1, 2]), ("zero", [3, 0, 2]), ("float", [3, 2.5, 2]),
                                     ("nan", [3, float("nan"), 2]), ("string", ["3", "4"])]))
    if kind == "shape":
        return draw(st.sampled_from([("None", None), ("string", "3x2"), ("negative", (3, -2)), ("zero", (0, 2)),
                                     ("float", (2.5, 2)), ("nan", (float("nan"), 2)), ("empty", ())]))
    if kind == "weights":
        return draw(st.sampled_from([("None", None), ("string", "W"), ("number", 1.0),
                                     ("nan", {"W": np.full((2, 2), np.nan)}), ("string array", {"W": "abc"}),
                                     ("empty", {"W": np.zeros((0, 2))})]))
    if kind == "param_dict":
        i = draw(st.integers(0, 17))
        nan = rows()
        nan.flat[i] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        return draw(st.sampled_from([("None", None), ("string", "W"), ("list", [rows()]),
                                     ("nan", {"W": nan}), ("wrong shape", {"W": np.ones((2, 2))}),
                                     ("transpose", {"W": rows().T.copy()}), ("missing key", {"V": rows()}),
                                     ("string", {"W": "abc"}), ("0-d", {"W": np.array(1.0)})]))
    if kind in ("bp_params", "b_params"):
        good = backprop.init_params((2, 3, 2), rng=0) if kind == "bp_params" else batch.init_params([3, 4, 3], rng=0)
        if kind == "bp_params":
            nan = {k: v.copy() for k, v in good.items()}
            nan["W1"][0, 0] = np.nan
            transposed = dict(good, W1=good["W1"].T.copy())
        else:
            nan = [(W.copy(), b) for W, b in good]
            nan[0][0][0, 0] = np.nan
            transposed = [(good[0][0].T.copy(), good[0][1]), good[1]]
        return draw(st.sampled_from([("None", None), ("string", "params"), ("list", []), ("nan", nan),
                                     ("transpose", transposed), ("dict", {"a": 1})]))
    if kind == "class_index":
        return draw(st.sampled_from([("negative labels", -1), ("out-of-range labels", 7), ("float labels", 1.5),
                                     ("None", None), ("string", "1"), ("nan", float("nan")), ("bool", True)]))
    if kind == "objective":
        return draw(st.sampled_from([("None", None), ("string", "valley"),
                                     ("class instead of instance", descent.Objective), ("function", descent.valley)]))
    if kind == "value_node":
        return draw(st.sampled_from([("None", None), ("number", 1.0), ("class instead of instance", engine.Value)]))
    if kind == "identifier":
        return draw(st.sampled_from([("string", "1 bad name"), ("None", None), ("number", 3)]))
    raise AssertionError(kind)


_bad = st.composite(_bad_value)


# ------------------------------------------------------------------ verdicts
def _finite(obj, seen=None) -> bool:
    if isinstance(obj, bool | str | type(None) | type | types.FunctionType):
        return True
    if isinstance(obj, float | int | np.number):
        return bool(np.isfinite(obj))
    if isinstance(obj, np.ndarray):
        return obj.dtype.kind not in "fc" or bool(np.isfinite(obj).all())
    if isinstance(obj, dict):
        return all(_finite(v) for v in obj.values())
    if isinstance(obj, list | tuple):
        return all(_finite(v) for v in obj)
    if isinstance(obj, train.History):
        return _finite(obj.loss)
    if isinstance(obj, layers.Layer):
        return _finite(obj.params)
    if isinstance(obj, optim.Optimizer):
        return all(_finite(getattr(obj, a)) for a in ("lr", "eps", "beta", "beta1", "beta2") if hasattr(obj, a))
    if isinstance(obj, engine.Value):
        return bool(np.isfinite(obj.data))
    if isinstance(obj, descent.Objective):
        return _finite(obj.x_min)
    if isinstance(obj, descent.DescentResult | descent.RegressionRun):
        return _finite(obj.path if hasattr(obj, "path") else obj.losses)
    return True  # widgets, figures, layer stats


def _names_argument(msg, arg, aliases):
    for name in (arg, *aliases):
        if re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", msg):
            return True
    return False


def _judge(target, arg, label, aliases, call):
    CALLS[label] += 1
    CALLS["(total)"] += 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = call()
    except (ValueError, TypeError, train.TrainingDiverged) as err:
        msg = str(err)
        problems = []
        if not _names_argument(msg, arg, aliases):
            problems.append(f"does not name {arg!r}")
        for phrase in NUMPY_INTERNAL:
            if phrase in msg and not _names_argument(msg, arg, aliases):
                problems.append(f"numpy-internal {phrase!r}")
        if not EXPECTED.search(msg):
            problems.append("says nothing expected")
        if not RECEIVED.search(msg):
            problems.append("says nothing received")
        if not FIX.search(msg):
            problems.append("suggests no fix")
        if problems:
            VIOLATIONS.append(f"{target}({arg}={label}): {type(err).__name__}: {msg} [{'; '.join(problems)}]")
        return
    except Exception as err:  # noqa: BLE001 - any other type is the violation we look for
        VIOLATIONS.append(f"{target}({arg}={label}): {type(err).__name__}: {err}")
        return
    if not _finite(result):
        VIOLATIONS.append(f"{target}({arg}={label}): accepted and returned a non-finite result")


TARGETS = _targets()


@pytest.mark.parametrize("target", TARGETS, ids=[t[0] for t in TARGETS])
def test_public_api_fuzz(target):
    name, fn, valid, kinds, aliases = target
    before = len(VIOLATIONS)

    @SETTINGS
    @given(st.data())
    def run(data_):
        arg = data_.draw(st.sampled_from(sorted(kinds)))
        kwargs = valid()
        label, bad = data_.draw(_bad(kinds[arg], kwargs[arg]))
        kwargs[arg] = bad
        names = (*aliases.get(arg, ()), *(("x",) if arg == "X" else ()))
        if kinds[arg] in ("bp_params", "b_params"):  # an entry of params named by its key, e.g. W1
            names = (*names, "W1", "b1", "W2", "b2", "params[0]")
        if label in RELATIONAL:  # a mismatch is between two arguments: naming either one is right
            names = (*names, *kinds, "x")
        _judge(name, arg, label, names, lambda: fn(**kwargs))

    run()
    new = VIOLATIONS[before:]
    assert not new, f"{len(new)} violations:\n" + "\n".join(dict.fromkeys(new))


def test_every_public_callable_is_fuzzed():
    """Guard against a new public function escaping the fuzz: each module's public names are covered."""
    covered = " ".join(t[0] for t in TARGETS)
    modules = [activations, losses, layers, init, optim, gradcheck, data, train, engine, backprop, batch, descent,
               diagnostics, report, figures]
    skip = {"Layer", "Optimizer", "History", "TrainingDiverged", "LayerStats", "LayerCheck", "BuggyTanh",
            "RecordingCache", "DescentResult", "RegressionRun", "Objective", "format_gradcheck", "linear_layers",
            "layer_outputs", "params_from_model", "unique_cache_nbytes", "inference_peak_nbytes", "train_step",
            "deep_forward", "deep_loss", "deep_backward", "loss", "backward", "n_layers", "load_diabetes",
            "check_samples", "softmax", "forward", "sigmoid",
            "use", "style",  # figures.use and figures.style take no arguments
            "static_animation"}  # takes a matplotlib animation; its output is tested in test_widgets_common.py
    missing = []
    for m in modules:
        for n, obj in vars(m).items():
            if n.startswith("_") or n in skip or not callable(obj) or getattr(obj, "__module__", "") != m.__name__:
                continue
            if inspect.isclass(obj) and issubclass(obj, Exception):
                continue
            if n not in covered:
                missing.append(f"{m.__name__}.{n}")
    assert not missing, f"public callables not fuzzed: {missing}"


@pytest.fixture(scope="module", autouse=True)
def _tally():
    yield
    classes = sorted(k for k in CALLS if k != "(total)")
    print(f"\nnnlib fuzz: {CALLS['(total)']} calls, {len(classes)} input classes, {len(VIOLATIONS)} violations")
    print("input classes: " + ", ".join(f"{k} ({CALLS[k]})" for k in classes))
