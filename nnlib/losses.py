r"""Loss functions and their gradients (Chapters 1, 3, 4).

Every loss takes the network's output and the targets and returns ``(L, dout)``: the
scalar loss and its gradient with respect to the output, with the output's shape.

Conventions kept everywhere in the course:

* A batch has one sample per row, shape ``(B, K)``; a single sample may also be a
  1-D vector ``(K,)`` or a column ``(K, 1)`` (Chapter 3), which counts as ``B = 1``.
* The loss of a batch is the **mean** over its ``B`` samples of the per-sample loss,
  so the gradient returned here already carries the factor ``1/B`` (for softmax
  cross-entropy :math:`\Delta_D = (\hat Y - Y)/B`); layers then only *sum* over the
  batch. This is the one place the ``1/B`` enters: a second ``1/B`` in a layer would
  make its gradients ``B`` times too small.
* Mean squared error carries a factor 1/2 so that its gradient has no 2 in it:
  :math:`L = \frac{1}{B}\sum_i \tfrac12 \lVert \hat y^{(i)} - y^{(i)} \rVert^2`.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, class_labels, non_negative_number, sequence
from .activations import softmax


def _as_rows(scores: np.ndarray, name: str):
    """View ``scores`` as a batch ``(B, K)``; return it with a function restoring the input form."""
    if scores.ndim == 1:
        return scores[None, :], lambda g: g[0]
    if scores.ndim == 2 and scores.shape[1] == 1 and scores.shape[0] > 1:
        # A column vector (K, 1) is one sample (Chapter 3's convention), not K samples.
        return scores.T, lambda g: g.T
    if scores.ndim == 2:
        return scores, lambda g: g
    raise ValueError(
        f"{name} must be a vector (K,), a column (K, 1) or a batch (B, K), got shape {scores.shape}. "
        "Reshape it, e.g. to (B, K) with one sample per row."
    )


def mse(y_hat, y):
    r"""Mean squared error with the 1/2 convention.

    .. math:: L = \frac{1}{B}\sum_{i=1}^{B} \tfrac12 \lVert \hat y_i - y_i \rVert^2,
              \qquad \frac{\partial L}{\partial \hat y} = \frac{\hat y - y}{B}

    ``y_hat`` and ``y`` have the same shape. A 2-D array is a batch ``(B, K)`` with one
    sample per row - so ``(B, 1)`` is a batch of B scalar predictions; a 1-D ``(K,)``
    array is one sample (B = 1). For one Chapter 3 column ``(K, 1)`` pass its
    transpose ``(1, K)`` (or ``.ravel()``): a column would be read as K samples.
    Returns ``(L, dy_hat)``.
    """
    y_hat = as_float_array(y_hat, "y_hat")
    y = as_float_array(y, "y", dtype=y_hat.dtype)
    if y.shape != y_hat.shape:
        raise ValueError(
            f"y has shape {y.shape} but y_hat has shape {y_hat.shape}; they must match. "
            "Reshape the targets, e.g. y.reshape(y_hat.shape)."
        )
    B = 1 if y_hat.ndim <= 1 else y_hat.shape[0]  # a number or a vector is one sample
    diff = y_hat - y
    loss = 0.5 * float(np.sum(diff * diff)) / B
    return loss, diff / B


def softmax_cross_entropy(logits, y):
    r"""Softmax followed by cross-entropy, computed from the logits (Chapter 3, batched in Chapter 4).

    .. math:: \hat y = \operatorname{softmax}(z),\quad
              L = -\frac{1}{B}\sum_i \sum_k y_{ik}\log \hat y_{ik},\quad
              \frac{\partial L}{\partial z} = \frac{\hat y - y}{B}

    The gradient is :math:`\hat y - y` (prediction minus target). Its opposite,
    :math:`y - \hat y`, is the *negative* gradient - the direction a step moves in.

    ``logits``: ``(B, K)``, or one sample ``(K,)`` / ``(K, 1)`` (with at least 2 classes a
    column cannot be a batch, so it is read as one sample). ``y``: integer labels
    ``(B,)`` in ``[0, K)`` or one-hot ``(B, K)``. Stable for logits of size 1000:
    :math:`\log \hat y_k = z_k - \max z - \log\sum_j e^{z_j - \max z}`.
    Returns ``(L, dlogits)`` with ``dlogits`` shaped like ``logits``.
    """
    logits = as_float_array(logits, "logits")
    z, restore = _as_rows(logits, "logits")
    B, K = z.shape
    if K < 2:
        raise ValueError(
            f"logits must have at least 2 classes per sample, got shape {logits.shape}. "
            "For a single output unit use binary_cross_entropy_with_logits."
        )
    loss, dz = _softmax_cross_entropy(z, class_labels(y, "y", B, K))
    return loss, restore(dz)


def _softmax_cross_entropy(z, labels):
    """:func:`softmax_cross_entropy` of a checked batch ``z`` (B, K) and checked labels (B,) in [0, K)."""
    B = z.shape[0]
    shifted = z - z.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_probs = shifted - log_norm
    rows = np.arange(B)
    # sum / B rather than .mean(): the same number (numpy's mean is this sum and this
    # division), without mean's Python-level overhead, which counts for small batches.
    loss = -float(log_probs[rows, labels].sum() / B)
    dz = np.exp(log_probs)  # = softmax(z)
    dz[rows, labels] -= 1.0
    dz /= B
    return loss, dz


def binary_cross_entropy_with_logits(z, y):
    r"""Sigmoid followed by binary cross-entropy, from the logits (binary or multi-label).

    .. math:: L = \frac{1}{B}\sum_i\sum_k \big[\log(1 + e^{z_{ik}}) - y_{ik} z_{ik}\big],\qquad
              \frac{\partial L}{\partial z} = \frac{\sigma(z) - y}{B}

    which equals :math:`-[y\log\sigma(z) + (1-y)\log(1-\sigma(z))]` per entry, written
    so that large ``|z|`` neither overflows nor takes ``log(0)``. ``y`` holds 0/1
    targets (or probabilities) with ``z``'s shape. As for :func:`mse`, a 2-D array is a
    batch ``(B, K)`` (so ``(B, 1)`` is B binary predictions) and 1-D is one sample.
    Returns ``(L, dz)``.
    """
    z = as_float_array(z, "z")
    y = as_float_array(y, "y", dtype=z.dtype)
    if y.shape != z.shape:
        raise ValueError(
            f"y has shape {y.shape} but z has shape {z.shape}; they must match. "
            "Reshape the targets, e.g. y.reshape(z.shape)."
        )
    if y.min() < 0 or y.max() > 1:
        raise ValueError(
            f"y must hold targets in [0, 1], got values from {y.min()} to {y.max()}. "
            "Use 0/1 labels or probabilities."
        )
    B = 1 if z.ndim <= 1 else z.shape[0]  # a number or a vector is one sample
    # log(1 + e^z) = max(z, 0) + log(1 + e^{-|z|}): no overflow for any z.
    softplus = np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))
    loss = float(np.sum(softplus - y * z)) / B
    s = np.exp(-softplus + z)  # sigma(z) = e^z / (1 + e^z), via the same stable softplus
    return loss, (s - y) / B


def l2_penalty(weights, lam):
    r"""L2 penalty :math:`s = \frac{\lambda}{2}\sum_l \lVert W_l\rVert_F^2` and its gradients :math:`\lambda W_l`.

    ``weights``: a dict name -> array (or a list of arrays). Returns ``(s, grads)`` with
    ``grads`` of the same kind. Chapter 3 adds ``s`` to the data loss, :math:`\tilde L = L + s`,
    so each weight gradient gains the term :math:`\lambda W`. Biases are usually left out.
    """
    lam = non_negative_number(lam, "lam", "Use 0 for no penalty or a small value such as 1e-3.")
    items = weights.items() if isinstance(weights, dict) else enumerate(sequence(weights, "weights", "model.params"))
    s = 0.0
    grads = {}
    for key, W in items:
        W = as_float_array(W, f"weights[{key!r}]")
        s += 0.5 * lam * float(np.sum(W * W))
        grads[key] = lam * W
    if not isinstance(weights, dict):
        grads = [grads[i] for i in range(len(grads))]
    return s, grads


def cross_entropy_probs(y_hat, y):
    r"""Cross-entropy :math:`-\frac1B\sum_i \log \hat y_{i, y_i}` of *probabilities* (no gradient).

    For reporting only (e.g. a loss computed from ``softmax`` outputs); train with
    :func:`softmax_cross_entropy`, which works from logits and is stable.
    """
    y_hat = as_float_array(y_hat, "y_hat")
    p, _ = _as_rows(y_hat, "y_hat")
    labels = class_labels(y, "y", p.shape[0], p.shape[1])
    return -float(np.mean(np.log(np.clip(p[np.arange(p.shape[0]), labels], 1e-300, None))))


__all__ = [
    "mse",
    "softmax_cross_entropy",
    "binary_cross_entropy_with_logits",
    "l2_penalty",
    "cross_entropy_probs",
    "softmax",
]
