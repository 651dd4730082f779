"""Activation functions and their derivatives (Chapters 3 and 5).

Each activation comes as two plain functions - the value :math:`\\phi(z)` and the
derivative :math:`\\phi'(z)` - that work element-wise on arrays of any shape, and as a
layer class (see :mod:`nnlib.layers`) whose ``backward`` multiplies the upstream gradient
by :math:`\\phi'(z)` element-wise: :math:`\\partial L/\\partial z = \\partial L/\\partial a \\odot \\phi'(z)`
for :math:`a = \\phi(z)`.

Softmax is the exception: it couples the entries of a sample, so its backward is a
vector-Jacobian product rather than an element-wise product.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, real_number


def sigmoid(z):
    r"""Logistic sigmoid :math:`\sigma(z) = 1 / (1 + e^{-z})`, element-wise.

    Computed without overflow for large ``|z|``: for negative ``z`` it uses
    :math:`e^{z} / (1 + e^{z})`, the same number written so ``exp`` never overflows.
    """
    z = as_float_array(z, "z")
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def sigmoid_prime(z):
    r"""Derivative :math:`\sigma'(z) = \sigma(z)\,(1 - \sigma(z))`, at most 1/4 (at z = 0).

    Derived in Chapter 3; its bound drives the vanishing gradients of Chapter 5.
    """
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z):
    r"""Hyperbolic tangent :math:`\tanh z`, element-wise; outputs in (-1, 1)."""
    return np.tanh(as_float_array(z, "z"))


def tanh_prime(z):
    r"""Derivative :math:`\tanh'(z) = 1 - \tanh^2 z`, at most 1 (at z = 0)."""
    t = tanh(z)
    return 1.0 - t * t


def relu(z):
    r"""Rectified linear unit :math:`\max(0, z)`, element-wise."""
    z = as_float_array(z, "z")
    return np.maximum(z, 0.0)


def relu_prime(z):
    r"""Derivative of ReLU: 1 where :math:`z > 0`, else 0.

    At the kink ``z = 0`` the derivative does not exist; we use 0 (the usual choice),
    which is why gradient checks sample inputs away from 0.
    """
    z = as_float_array(z, "z")
    return (z > 0).astype(z.dtype)


def leaky_relu(z, slope=0.01):
    r"""Leaky ReLU: :math:`z` for :math:`z > 0`, :math:`\text{slope}\cdot z` otherwise."""
    z = as_float_array(z, "z")
    return np.where(z > 0, z, real_number(slope, "slope") * z)


def leaky_relu_prime(z, slope=0.01):
    r"""Derivative of leaky ReLU: 1 for :math:`z > 0`, ``slope`` otherwise (the negative side)."""
    z = as_float_array(z, "z")
    return np.where(z > 0, 1.0, real_number(slope, "slope")).astype(z.dtype)


def identity(z):
    """The identity :math:`\\phi(z) = z` (a linear output layer, e.g. for regression)."""
    return as_float_array(z, "z")


def identity_prime(z):
    """Derivative of the identity: all ones."""
    return np.ones_like(as_float_array(z, "z"))


def softmax(z, axis=-1):
    r"""Softmax :math:`\hat y_k = e^{z_k} / \sum_j e^{z_j}` along ``axis``.

    Numerically stable: subtracting :math:`\max_j z_j` first leaves the result
    unchanged (it cancels between numerator and denominator) and keeps every
    exponent :math:`\le 0`, so logits of size 1000 do not overflow.

    Use ``axis=-1`` for a batch ``(B, K)`` (one sample per row) and ``axis=0`` for a
    column vector ``(K, 1)`` as in Chapter 3.
    """
    z = as_float_array(z, "z")
    _check_axis(axis, z)
    shifted = z - z.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def softmax_backward(y_hat, dout, axis=-1):
    r"""Vector-Jacobian product of softmax: given :math:`\hat y` and :math:`\partial L/\partial \hat y`.

    The Jacobian is :math:`\partial \hat y_i / \partial z_j = \hat y_i([i = j] - \hat y_j)`,
    so :math:`\partial L/\partial z = \hat y \odot (\delta - \langle \delta, \hat y\rangle)` with the
    upstream gradient :math:`\delta = \partial L/\partial \hat y` (``dout``) - no K-by-K matrix is
    ever built.
    """
    y_hat = as_float_array(y_hat, "y_hat")
    dout = as_float_array(dout, "dout")
    if dout.shape != y_hat.shape:
        raise ValueError(
            f"dout has shape {dout.shape} but y_hat has shape {y_hat.shape}; they must match. "
            "Pass the gradient with respect to the softmax output."
        )
    _check_axis(axis, y_hat)
    inner = np.sum(dout * y_hat, axis=axis, keepdims=True)
    return y_hat * (dout - inner)


def _check_axis(axis, z):
    if z.ndim == 0:
        raise ValueError(
            "z must hold one score per class, got a single number (shape ()). "
            "Pass a vector (K,) or a batch (B, K)."
        )
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer) or not -z.ndim <= axis < max(z.ndim, 1):
        raise ValueError(
            f"axis must be an integer in [-{z.ndim}, {z.ndim - 1}] for an array of shape {z.shape}, got {axis!r}. "
            "Use axis=-1 for a batch (B, K), axis=0 for a column (K, 1)."
        )


#: Name -> (g, g') for every element-wise activation; used by layers and widgets.
ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (tanh, tanh_prime),
    "relu": (relu, relu_prime),
    "leaky_relu": (leaky_relu, leaky_relu_prime),
    "identity": (identity, identity_prime),
}
