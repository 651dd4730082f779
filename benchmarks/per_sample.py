"""Chapter 4's claim in numbers: one batched backward pass against a loop over the samples.

Both compute the gradient of the mean loss of the same batch with nnlib's public
API; the loop runs forward and backward on one sample (a vector ``(784,)``) at a
time and sums the parameter gradients, each scaled by ``1/B``. Before timing, the
two gradients are checked to agree.
"""

from __future__ import annotations

import numpy as np
from mlp_step import SIZES, make_batch

import nnlib
from nnlib.losses import softmax_cross_entropy


def _batched(model, X, y):
    scores = model.forward(X)
    _, dscores = softmax_cross_entropy(scores, y)
    model.backward(dscores, need_dx=False)
    return model.grads


def _loop(model, X, y, total):
    for g in total.values():
        g.fill(0.0)
    B = X.shape[0]
    for x_i, y_i in zip(X, y, strict=True):
        scores = model.forward(x_i)
        _, dscores = softmax_cross_entropy(scores, y_i[None])
        model.backward(dscores / B, need_dx=False)
        for k, g in model.grads.items():
            total[k] += g
    return total


def make_contenders(batch, dtype, seed=0):
    """Return ``(contenders, max_rel_diff)``: 'loop' and 'batched' gradient callables and their disagreement."""
    X, y = make_batch(batch, dtype, seed)
    model = nnlib.mlp(SIZES, dtype=dtype, rng=seed)
    total = {k: np.zeros_like(g) for k, g in model.grads.items()}
    g_batch = {k: g.copy() for k, g in _batched(model, X, y).items()}
    g_loop = {k: v.copy() for k, v in _loop(model, X, y, total).items()}
    diff = max(float(np.abs(g_batch[k] - g_loop[k]).max() / (np.abs(g_batch[k]).max() + 1e-30)) for k in g_batch)
    contenders = {"loop": lambda: _loop(model, X, y, total), "batched": lambda: _batched(model, X, y)}
    return contenders, diff
