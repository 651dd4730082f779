r"""Backpropagation for a whole batch in matrix form (Chapter 4).

A batch stacks ``B`` samples as the rows of ``X = A_0``, shape ``(B, n_0)``. The
single-sample affine map :math:`z_l = W_l a_{l-1} + b_l` of Chapter 3 becomes

.. math:: Z_l = A_{l-1} W_l^\top + \mathbf 1 b_l^\top \qquad (B, n_l),

with the bias broadcast to every row. The loss of the batch is the **mean** of the
per-sample losses, :math:`L = \frac1B\sum_i \ell^{(i)}`.

One convention for the ``1/B`` (nnlib's, PyTorch's): it enters once, in the loss
gradient. For softmax cross-entropy the output error term is
:math:`\Delta_D = \partial L/\partial Z_D = (\hat Y - Y)/B`, and every layer's backward
only *sums* over the batch:

.. math::
    \partial L/\partial W_l = \Delta_l^\top A_{l-1},\qquad
    \partial L/\partial b_l = \textstyle\sum_i \Delta_l^{(i)},\qquad
    \partial L/\partial A_{l-1} = \Delta_l W_l .

Writing ``1/B`` again inside a layer is the "extra 1/B" mistake: every gradient below
the loss would be ``B`` times too small. :mod:`nnlib.losses` and :class:`nnlib.layers.Linear`
follow the same convention, so :func:`nnlib_gradients` and :func:`loss_and_grads`
agree.

The module also measures what batching costs in memory: the arrays each layer's
forward pass keeps for backward (:meth:`nnlib.layers.Layer.cache_nbytes`) grow
linearly with the batch size and with the depth.
"""

from __future__ import annotations

import numpy as np

from ._validate import (
    as_float_array,
    check_activation,
    check_ndim,
    class_labels,
    describe,
    get_rng,
    instance,
    positive_int,
    resolve_dtype,
    sequence,
)
from .activations import ACTIVATIONS, sigmoid, softmax
from .init import xavier_normal


# --------------------------------------------------------------------------- checks
def _as_batch(X, n_in, name="X"):
    X = as_float_array(X, name)
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be a batch (B, {n_in}) with one sample per row, got shape {X.shape}. "
            f"For a single sample x of shape ({n_in},) pass x[None, :]."
        )
    if X.shape[1] != n_in:
        hint = " - did you pass it transposed?" if X.shape[0] == n_in else "; check the layer sizes."
        raise ValueError(f"{name} has shape {X.shape} but the first layer expects (B, {n_in}){hint}")
    return X


def _activation(name):
    check_activation(name, ACTIVATIONS)
    return ACTIVATIONS[name]


def _check_params(params):
    """``params`` is a list of ``(W, b)`` pairs with ``W`` (n_out, n_in) and ``b`` (n_out,)."""
    if not isinstance(params, list | tuple) or len(params) == 0:
        raise TypeError(
            f"params must be a non-empty list of (W, b) pairs, one per layer, got {describe(params)}. "
            "Make one with init_params(sizes)."
        )
    out = []
    n_prev = None
    for l, pair in enumerate(params, start=1):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise TypeError(f"params[{l - 1}] must be a pair (W, b), got {describe(pair)}. Pass a list of (W, b).")
        W = as_float_array(pair[0], f"W{l}")
        b = as_float_array(pair[1], f"b{l}")
        if W.ndim != 2:
            raise ValueError(f"W{l} must be a matrix (n_out, n_in), got shape {W.shape}. Check the layer sizes.")
        if b.shape != (W.shape[0],):
            raise ValueError(
                f"b{l} has shape {b.shape} but W{l} has shape {W.shape}; b{l} must be ({W.shape[0]},). "
                f"Is W{l} transposed?"
            )
        if n_prev is not None and W.shape[1] != n_prev:
            raise ValueError(
                f"W{l} has shape {W.shape} but layer {l - 1} has {n_prev} outputs; expected ({W.shape[0]}, {n_prev})."
            )
        n_prev = W.shape[0]
        out.append((W, b))
    return out


# ---------------------------------------------------------------- one affine layer
def linear_forward(X, W, b):
    r""":math:`Z = X W^\top + b`: ``X`` (B, n_in), ``W`` (n_out, n_in), ``b`` (n_out,) broadcast -> ``Z`` (B, n_out)."""
    W = as_float_array(W, "W")
    check_ndim(W, "W", (2,), "(n_out, n_in)")
    X = _as_batch(X, W.shape[1])
    b = as_float_array(b, "b")
    if b.shape != (W.shape[0],):
        raise ValueError(
            f"b has shape {b.shape} but W has shape {W.shape}; b must be ({W.shape[0]},). Is W transposed?"
        )
    return X @ W.T + b


def linear_backward(dZ, X, W):
    r"""Backward of :math:`Z = X W^\top + b` for the error term ``dZ`` :math:`= \partial L/\partial Z` (B, n_out).

    ``dZ`` already carries the ``1/B`` of the batch-mean loss (it came from the loss
    gradient, e.g. :math:`(\hat Y - Y)/B`). Returns ``(dX, dW, db)``, each the gradient
    of :math:`L` with respect to ``X``, ``W``, ``b`` and of that argument's shape:

    .. math::
        \begin{aligned}
        dW &= dZ^\top X & &(n_\text{out}, n_\text{in}),\\
        db &= \textstyle\sum_i dZ^{(i)} \ \text{(sum of the rows)} & &(n_\text{out},),\\
        dX &= dZ\,W & &(B, n_\text{in}).
        \end{aligned}

    No second ``1/B``: :class:`nnlib.layers.Linear` computes the same three arrays.
    """
    W = as_float_array(W, "W")
    check_ndim(W, "W", (2,), "(n_out, n_in)")
    X = _as_batch(X, W.shape[1])
    dZ = as_float_array(dZ, "dZ")
    if dZ.shape != (X.shape[0], W.shape[0]):
        raise ValueError(
            f"dZ has shape {dZ.shape} but Z = X W^T has shape {(X.shape[0], W.shape[0])}; "
            "the upstream gradient must have the output's shape. Check which batch it came from."
        )
    dW = dZ.T @ X
    db = dZ.sum(axis=0)
    dX = dZ @ W
    return dX, dW, db


def outer_product_sum(dZ, X):
    r""":math:`\sum_i \Delta^{(i)} x^{(i)\top}` written as a loop over the rows: equals ``dZ.T @ X``.

    Slow on purpose: it is the definition the matrix product replaces.
    """
    dZ = as_float_array(dZ, "dZ")
    X = as_float_array(X, "X")
    if dZ.ndim != 2 or X.ndim != 2 or dZ.shape[0] != X.shape[0]:
        raise ValueError(
            f"dZ (B, n_out) and X (B, n_in) need the same number of rows, got {dZ.shape} and {X.shape}. "
            "Pass one row per sample in both."
        )
    total = np.zeros((dZ.shape[1], X.shape[1]))
    for delta_i, x_i in zip(dZ, X, strict=True):
        total += np.outer(delta_i, x_i)
    return total


def softmax_cross_entropy_per_sample(Z, y):
    r"""Batch-mean cross-entropy of ``softmax(Z)`` and the per-sample errors :math:`\hat Y - Y`.

    ``Z`` (B, K) logits, ``y`` (B,) integer labels or (B, K) one-hot. Returns ``(L, E)``
    with :math:`L = -\frac1B\sum_i \log \hat y^{(i)}_{c^{(i)}}` (:math:`c^{(i)}` = ``y[i]``, the class of
    sample ``i``) and :math:`E = \hat Y - Y`, row ``i`` the gradient of sample ``i``'s own loss
    :math:`\ell^{(i)}`. ``E`` is *not* the gradient of :math:`L`: that is :math:`\Delta_D = E/B`, which
    :func:`nnlib.losses.softmax_cross_entropy` returns.
    """
    Z = as_float_array(Z, "Z")
    if Z.ndim != 2:
        raise ValueError(f"Z must be a batch of logits (B, K), got shape {Z.shape}. For one sample pass Z[None, :].")
    B, K = Z.shape
    return _softmax_ce(Z, class_labels(y, "y", B, K))


# ------------------------------------------------- Chapter 3's two-layer network
def two_layer_loss_and_grads(X, y, W1, b1, W2, b2):
    r"""Chapter 3's classifier, batched: loss and gradients for a whole batch at once.

    Forward (rows are samples): :math:`Z_1 = X W_1^\top + b_1`, :math:`A_1 = \sigma(Z_1)`,
    :math:`Z_2 = A_1 W_2^\top + b_2`, :math:`\hat Y = \operatorname{softmax}(Z_2)` row-wise,
    :math:`L = -\frac1B\sum_i \log \hat y^{(i)}_{c^{(i)}}` with :math:`c^{(i)}` = ``y[i]`` the class of sample ``i``.

    Backward, the ``1/B`` once in :math:`\Delta_2 = (\hat Y - Y)/B`:
    :math:`\partial L/\partial W_2 = \Delta_2^\top A_1`, :math:`\partial L/\partial b_2` the
    sum of the rows of :math:`\Delta_2`,
    :math:`\Delta_1 = (\Delta_2 W_2) \odot A_1 \odot (1 - A_1)`,
    :math:`\partial L/\partial W_1 = \Delta_1^\top X`, :math:`\partial L/\partial b_1` the
    sum of the rows of :math:`\Delta_1`.

    Returns ``(L, {"W1", "b1", "W2", "b2"})``, each gradient of its parameter's shape.
    """
    (W1, b1), (W2, b2) = _check_params([(W1, b1), (W2, b2)])
    X = _as_batch(X, W1.shape[1])
    B = X.shape[0]
    Z1 = X @ W1.T + b1
    A1 = sigmoid(Z1)
    Z2 = A1 @ W2.T + b2
    loss, E = softmax_cross_entropy_per_sample(Z2, y)
    dZ2 = E / B  # the only 1/B: the loss is the batch mean
    dW2 = dZ2.T @ A1
    db2 = dZ2.sum(axis=0)
    dA1 = dZ2 @ W2
    dZ1 = dA1 * A1 * (1.0 - A1)
    dW1 = dZ1.T @ X
    db1 = dZ1.sum(axis=0)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


# ---------------------------------------------------------------- depth D
def init_params(sizes, rng=None, dtype=None):
    """Random ``[(W1, b1), ..., (WD, bD)]`` for ``sizes = [n_0, ..., n_D]`` (Xavier normal W, zero b)."""
    sizes = [positive_int(n, f"sizes[{i}]") for i, n in enumerate(sequence(sizes, "sizes", "[3, 4, 2]"))]
    if len(sizes) < 2:
        raise ValueError(f"sizes must list an input and an output size, got {sizes}. Pass e.g. [3, 4, 2].")
    rng = get_rng(rng)
    dt = resolve_dtype(dtype)
    return [
        (xavier_normal((n_out, n_in), rng=rng, dtype=dt), np.zeros(n_out, dtype=dt))
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)
    ]


def forward(params, X, activation="sigmoid"):
    r"""Batched forward pass of a depth-D network; returns the logits and the cache for backward.

    :math:`A_0 = X`, :math:`Z_l = A_{l-1} W_l^\top + b_l`, :math:`A_l = \phi(Z_l)` for the
    hidden layers; the last layer's :math:`Z_D` are the logits (softmax is in the loss).
    The cache is the list ``[(A_{l-1}, Z_l)]``, one pair per layer: exactly what
    backward needs, and what costs memory.
    """
    params = _check_params(params)
    g, _ = _activation(activation)
    return _forward(params, _as_batch(X, params[0][0].shape[1]), g)


def _forward(params, A, g):
    cache = []
    for l, (W, b) in enumerate(params, start=1):
        Z = A @ W.T + b
        cache.append((A, Z))
        A = g(Z) if l < len(params) else Z
    return A, cache


def backward(params, cache, dZ_D, activation="sigmoid"):
    r"""Batched backward pass (BP1-BP4 with rows as samples); returns ``[(dW_l, db_l)]``.

    ``dZ_D`` (B, n_D) is :math:`\Delta_D = \partial L/\partial Z_D`, which already carries
    the ``1/B`` of the batch-mean loss (for softmax cross-entropy :math:`(\hat Y - Y)/B`).
    For :math:`l = D, \dots, 1`: :math:`\partial L/\partial W_l = \Delta_l^\top A_{l-1}`,
    :math:`\partial L/\partial b_l` the sum of the rows of :math:`\Delta_l`, and
    :math:`\Delta_{l-1} = (\Delta_l W_l) \odot \phi'(Z_{l-1})`; no second ``1/B``.
    """
    params = _check_params(params)
    _, g_prime = _activation(activation)
    if len(cache) != len(params):
        raise ValueError(f"cache has {len(cache)} layers but params has {len(params)}; run forward first.")
    dZ = as_float_array(dZ_D, "dZ_D")
    if dZ.shape != cache[-1][1].shape:
        raise ValueError(f"dZ_D has shape {dZ.shape} but the logits have shape {cache[-1][1].shape}.")
    return _backward(params, cache, dZ, g_prime)


def _backward(params, cache, dZ, g_prime):
    grads = [None] * len(params)
    for l in range(len(params) - 1, -1, -1):
        W, _ = params[l]
        A_prev, _ = cache[l]
        grads[l] = (dZ.T @ A_prev, dZ.sum(axis=0))
        if l > 0:
            dZ = (dZ @ W) * g_prime(cache[l - 1][1])
    return grads


def _softmax_ce(Z, labels):
    """Unchecked core of :func:`softmax_cross_entropy_per_sample` (``labels`` already integers)."""
    rows = np.arange(Z.shape[0])
    dZ = softmax(Z, axis=1)
    loss = -float(np.mean(np.log(np.clip(dZ[rows, labels], 1e-300, None))))
    dZ[rows, labels] -= 1.0
    return loss, dZ


def loss_and_grads(params, X, y, activation="sigmoid"):
    """Batch-mean softmax cross-entropy of a depth-D network and its gradients ``[(dW, db)]``."""
    logits, cache = forward(params, X, activation)
    loss, E = softmax_cross_entropy_per_sample(logits, y)
    return loss, backward(params, cache, E / len(E), activation)  # Delta_D = (Y_hat - Y)/B


def per_sample_loop(params, X, y, activation="sigmoid"):
    """The same gradients one sample at a time: a Python loop over the rows, then the mean.

    Each iteration runs the forward and backward pass on a batch of one, ``X[i:i+1]``
    (the arguments are checked once, before the loop, so the loop times the arithmetic
    and not the checks). It equals :func:`loss_and_grads`; it exists to time the difference.
    """
    params = _check_params(params)
    g, g_prime = _activation(activation)
    X = _as_batch(X, params[0][0].shape[1])
    labels = class_labels(y, "y", X.shape[0], params[-1][0].shape[0])
    B = X.shape[0]
    total_loss = 0.0
    total = [(np.zeros_like(W), np.zeros_like(b)) for W, b in params]
    for i in range(B):
        logits, cache = _forward(params, X[i : i + 1], g)
        loss_i, dZ = _softmax_ce(logits, labels[i : i + 1])
        total_loss += loss_i
        for (sW, sb), (gW, gb) in zip(total, _backward(params, cache, dZ, g_prime), strict=True):
            sW += gW
            sb += gb
    return total_loss / B, [(sW / B, sb / B) for sW, sb in total]


def mean_of_per_sample_gradients(params, X, y, activation="sigmoid"):
    """Chapter 3's way, one column at a time: the mean of the per-sample gradients ``[(dW, db)]``.

    Each row of ``X`` goes through :func:`nnlib.backprop.deep_loss_and_grads` as a column
    vector (biases as columns), and the gradients are averaged. It equals
    :func:`loss_and_grads` up to round-off; Chapter 4 uses it to check exactly that.
    """
    from .backprop import deep_loss_and_grads

    params = _check_params(params)
    X = _as_batch(X, params[0][0].shape[1])
    labels = class_labels(y, "y", X.shape[0], params[-1][0].shape[0])
    p3 = {}
    for l, (W_l, b_l) in enumerate(params, start=1):
        p3[f"W{l}"], p3[f"b{l}"] = W_l, b_l[:, None]
    total = None
    for x_i, c_i in zip(X, labels, strict=True):
        _, g = deep_loss_and_grads(p3, x_i[:, None], int(c_i), activation=activation)
        total = g if total is None else {k: total[k] + g[k] for k in g}
    B = len(X)
    return [(total[f"W{l}"] / B, total[f"b{l}"][:, 0] / B) for l in range(1, len(params) + 1)]


def params_from_model(model):
    """The ``[(W, b)]`` list of an ``nnlib`` :class:`~nnlib.layers.Sequential` (the same arrays, not copies)."""
    from .layers import Linear

    return [(l.params["W"], l.params["b"]) for l in model.layers if isinstance(l, Linear)]


def nnlib_gradients(model, X, y):
    """Loss and ``[(dW, db)]`` of an nnlib model the library's way (1/B inside the loss gradient)."""
    from .layers import Linear
    from .losses import softmax_cross_entropy

    instance(model, "model", ("forward", "backward", "zero_grad", "layers"), "nnlib.mlp([3, 4, 3])")
    loss, dlogits = softmax_cross_entropy(model.forward(X), y)
    model.zero_grad()
    model.backward(dlogits)
    return loss, [(l.grads["W"].copy(), l.grads["b"].copy()) for l in model.layers if isinstance(l, Linear)]


# ---------------------------------------------------------------- memory
def cache_nbytes_per_layer(model):
    """``[(label, bytes)]``: what each layer of ``model`` holds for backward after its last forward pass.

    Read from the layers themselves (:meth:`~nnlib.layers.Layer.cache_nbytes`); the
    label is the layer's index and name, e.g. ``"0 Linear(64, 32)"``.
    """
    instance(model, "model", ("layers",), "nnlib.mlp([3, 4, 3])")
    return [(f"{i} {layer!r}", int(layer.cache_nbytes())) for i, layer in enumerate(model.layers)]


def unique_cache_nbytes(model):
    """Bytes of the distinct arrays in all caches of ``model``, each buffer counted once.

    A Linear layer caches its input, which is the very array the activation before it
    cached as its output; :meth:`Sequential.cache_nbytes` counts that array twice.
    """
    seen = {}
    for layer in model.layers:
        for arr in layer.cache or ():
            if isinstance(arr, np.ndarray):
                base = arr if arr.base is None else arr.base
                seen[id(base)] = base.nbytes
    return int(sum(seen.values()))


def cache_memory(sizes, batch_size, activation="relu", dtype=None):
    """Build ``mlp(sizes)``, run one forward pass on a batch of zeros, return ``cache_nbytes_per_layer``."""
    from .layers import mlp

    batch_size = positive_int(batch_size, "batch_size")
    model = mlp(sizes, activation=activation, rng=0, dtype=dtype)
    model.forward(np.zeros((batch_size, sizes[0]), dtype=resolve_dtype(dtype)))
    return cache_nbytes_per_layer(model)


def inference_peak_nbytes(model, X):
    """Largest ``input + output`` bytes alive at once when ``model`` only predicts.

    Runs the layers one by one and drops each cache as soon as the layer is done, as an
    inference engine would: only the current input and output must exist.
    """
    X = as_float_array(X, "X")
    peak = 0
    A = X
    for layer in model.layers:
        out = layer.forward(A)
        layer.cache = None
        peak = max(peak, A.nbytes + out.nbytes)
        A = out
    return int(peak)


def training_memory(model, X):
    """Bytes for training vs inference on the batch ``X``.

    Returns a dict with ``params`` (the weights), ``grads`` (one array per weight),
    ``caches`` (distinct arrays kept by the forward pass, measured) and
    ``inference_peak`` (see :func:`inference_peak_nbytes`).
    """
    instance(model, "model", ("forward", "params", "grads", "layers"), "nnlib.mlp([3, 4, 3])")
    X = as_float_array(X, "X")
    params = int(sum(p.nbytes for p in model.params.values()))
    grads = int(sum(g.nbytes for g in model.grads.values()))
    model.forward(X)
    caches = unique_cache_nbytes(model)
    return {"params": params, "grads": grads, "caches": caches, "inference_peak": inference_peak_nbytes(model, X)}


__all__ = [
    "linear_forward",
    "linear_backward",
    "outer_product_sum",
    "softmax_cross_entropy_per_sample",
    "two_layer_loss_and_grads",
    "init_params",
    "forward",
    "backward",
    "loss_and_grads",
    "per_sample_loop",
    "mean_of_per_sample_gradients",
    "params_from_model",
    "nnlib_gradients",
    "cache_nbytes_per_layer",
    "unique_cache_nbytes",
    "cache_memory",
    "inference_peak_nbytes",
    "training_memory",
]
