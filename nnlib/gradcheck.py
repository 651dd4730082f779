r"""Gradient checking with central differences (Chapter 3, used as a debugger in Chapter 5).

The central difference

.. math:: \frac{\partial f}{\partial x_i} \approx \frac{f(x + h e_i) - f(x - h e_i)}{2h}

has error :math:`O(h^2)`, against :math:`O(h)` for the one-sided difference. With
:math:`h = 10^{-5}` in float64 an analytic gradient that is right agrees to a
relative error of about :math:`10^{-9}` to :math:`10^{-11}`; this course calls a
check *passed* at ``rel_error <= 1e-7`` (``THRESHOLD``). float32 is too coarse for
this: its rounding error alone is about :math:`10^{-7}/h`.
"""

from __future__ import annotations

import numpy as np

from ._validate import (
    NonFiniteError,
    all_finite,
    as_float_array,
    describe,
    function,
    instance,
    non_negative_number,
    positive_number,
)

#: The course's pass mark for a float64 gradient check.
THRESHOLD = 1e-7


def _require_float_array(x):
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        dtype = f" of dtype {x.dtype}" if isinstance(x, np.ndarray) else ""
        raise TypeError(
            f"x must be a float numpy array (it is perturbed in place), got {type(x).__name__}{dtype}. "
            "Use np.asarray(x, dtype=float)."
        )
    if x.size == 0:
        raise ValueError(f"x is empty (shape {x.shape}); expected at least one entry. Pass the point to check.")
    if not all_finite(x):
        raise NonFiniteError("x contains NaN or inf; expected finite numbers. Check the point to differentiate at.")


def _check_args(f, x, h):
    function(f, "f", "lambda x: float(np.sum(x ** 2))")
    _require_float_array(x)
    return positive_number(h, "h", "Use a small step such as 1e-5.")


def _value(f, x) -> float:
    """``f(x)`` as a float, or a clear error saying what ``f`` returned."""
    out = f(x)
    try:
        return float(out)
    except (TypeError, ValueError):
        raise TypeError(
            f"f must return a number, got {describe(out)}. Return the scalar loss, e.g. float(np.sum(...))."
        ) from None


def _finite_gradient(grad, h):
    if not np.isfinite(grad).all():
        raise NonFiniteError(
            f"f(x + h) or f(x - h) was not finite with h={h!r} (got a gradient of {grad.ravel()[0]!r}, ...); "
            "f must be finite near x. "
            "Try a smaller h such as 1e-5, or check that f is defined around x."
        )
    return grad


def _entries(x):
    """Yield every index of ``x``, restoring the entry after the caller perturbed it."""
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i].copy()
        yield i, old
        x[i] = old


def numerical_gradient(f, x, h=1e-5):
    r"""Central-difference gradient of a scalar function ``f`` at the array ``x``.

    ``f(x)`` must return a number. ``x`` is perturbed **in place** one entry at a
    time (so ``f`` may also close over ``x`` and ignore its argument) and restored
    afterwards. Returns an array of ``x``'s shape: :math:`(f(x+h e_i) - f(x-h e_i))/2h`.
    """
    h = _check_args(f, x, h)
    grad = np.zeros_like(x, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        for i, old in _entries(x):
            x[i] = old + h
            f_plus = _value(f, x)
            x[i] = old - h
            grad[i] = (f_plus - _value(f, x)) / (2 * h)
    return _finite_gradient(grad, h)


def one_sided_gradient(f, x, h=1e-5):
    r"""Forward-difference gradient :math:`(f(x + h e_i) - f(x))/h`, error :math:`O(h)` (for comparison)."""
    h = _check_args(f, x, h)
    f0 = _value(f, x)
    grad = np.zeros_like(x, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        for i, old in _entries(x):
            x[i] = old + h
            grad[i] = (_value(f, x) - f0) / h
    return _finite_gradient(grad, h)


def rel_error(a, b, floor=1e-8):
    r"""Relative error :math:`\lVert a - b\rVert / \max(\lVert a\rVert + \lVert b\rVert,\ \text{floor})`.

    Norms are Euclidean over all entries. The floor keeps the ratio finite when both
    gradients are (nearly) zero; then the result is the absolute difference over the
    floor. How Chapter 3 reads it (float64, ``h = 1e-5``): ``<= 1e-7`` passes
    (``THRESHOLD``); up to ``1e-4`` is suspicious (a kink, float32, a very deep network);
    up to ``1e-2`` most likely a bug touching few entries or a small term; above ``1e-2``
    a bug - or a kink within ``h`` of an input, which a smaller ``h`` tells apart.
    """
    a = as_float_array(a, "a")
    b = as_float_array(b, "b")
    # floor=0 is allowed: Chapter 3 shows with it why the floor exists (0 vs 0 gives NaN).
    floor = non_negative_number(floor, "floor", "Use a small floor such as 1e-8.")
    if a.shape != b.shape:
        raise ValueError(
            f"a has shape {a.shape} but b has shape {b.shape}; a gradient must have its "
            "parameter's shape - is one of them transposed? Check the shapes."
        )
    diff = np.linalg.norm((a - b).ravel())
    scale = max(np.linalg.norm(a.ravel()) + np.linalg.norm(b.ravel()), floor)
    return float(diff / scale)


def check_layer(layer, x, rng=None, h=1e-5):
    r"""Compare a layer's analytic gradients with central differences.

    Uses the scalar :math:`L = \sum \text{out} \odot G` for a fixed random ``G``, so
    that :math:`\partial L/\partial\,\text{out} = G`. Returns a dict ``{"x": err,
    name: err, ...}`` with the relative error for the input and each parameter.
    """
    from ._validate import get_rng

    instance(layer, "layer", ("forward", "backward", "params", "grads"), "nnlib.Linear(3, 2)")
    h = positive_number(h, "h", "Use a small step such as 1e-5.")
    rng = get_rng(rng)
    x = as_float_array(x, "x").astype(np.float64, copy=True)
    G = rng.standard_normal(np.shape(layer.forward(x)))

    def loss(_):
        return float(np.sum(layer.forward(x) * G))

    layer.forward(x)
    layer.zero_grad()
    dx = layer.backward(G)
    analytic = {name: g.copy() for name, g in layer.grads.items()}
    errors = {"x": rel_error(dx, numerical_gradient(loss, x, h))}
    for name, p in layer.params.items():
        errors[name] = rel_error(analytic[name], numerical_gradient(loss, p, h))
    return errors


def check_model(model, X, y, loss_fn, h=1e-5):
    """Gradient-check a whole model with a loss: the max relative error per parameter.

    ``loss_fn(scores, y) -> (L, dscores)`` as in :mod:`nnlib.losses`. Returns a dict
    ``{name: rel_error}`` over ``model.params``; every value should be ``<= 1e-7``.
    """
    instance(model, "model", ("forward", "backward", "params", "grads", "zero_grad"), "nnlib.mlp([2, 4, 3])")
    function(loss_fn, "loss_fn", "nnlib.softmax_cross_entropy")
    h = positive_number(h, "h", "Use a small step such as 1e-5.")
    X = as_float_array(X, "X")

    def L(_):
        return loss_fn(model.forward(X), y)[0]

    _, dscores = loss_fn(model.forward(X), y)
    model.zero_grad()
    model.backward(dscores)
    analytic = {name: g.copy() for name, g in model.grads.items()}
    return {
        name: rel_error(analytic[name], numerical_gradient(L, p, h)) for name, p in model.params.items()
    }
