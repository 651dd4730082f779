"""One SGD training step of the MLP 784-256-10 (ReLU, softmax cross-entropy), three ways.

* ``nnlib``: the public API, exactly as a chapter trains - ``nnlib.mlp`` and
  ``nnlib.train.train_step`` (forward, loss, backward, ``SGD.step``), with every
  input check it performs;
* ``numpy``: the same step written out by hand in plain numpy, the way one would
  write it without a library (no checks, no dX for the first layer);
* ``torch``: ``torch.nn`` and ``torch.optim.SGD`` on the CPU, when PyTorch is installed.

All three start from the same weights and see the same batch, and the first step's
losses are compared before anything is timed, so they provably do the same work.
"""

from __future__ import annotations

import numpy as np

import nnlib
from nnlib.losses import softmax_cross_entropy
from nnlib.train import train_step

SIZES = (784, 256, 10)
LR = 0.01


def step_flops(batch, sizes=SIZES):
    """Matrix-product flops of one step: forward ``Z = X W^T``, ``dW = dZ^T X``, and ``dX`` of all but layer 1.

    Each product of an ``(m x k)`` by a ``(k x n)`` matrix counts ``2 m k n`` flops;
    element-wise work (ReLU, softmax, the update) is left out, as is customary.
    """
    layers = list(zip(sizes[:-1], sizes[1:], strict=True))
    flops = 0
    for i, (n_in, n_out) in enumerate(layers):
        flops += 2 * batch * n_in * n_out * (2 if i == 0 else 3)
    return flops


class NumpyMLP:
    """The reference: a two-layer ReLU network and its SGD step in plain numpy.

    Weights ``W1 (256, 784)``, ``W2 (10, 256)`` as in nnlib; a batch is ``(B, 784)``.
    """

    def __init__(self, W1, b1, W2, b2):
        self.W1, self.b1, self.W2, self.b2 = (a.copy() for a in (W1, b1, W2, b2))

    def scores(self, X):
        """Logits ``(B, 10)`` of a batch."""
        return np.maximum(X @ self.W1.T + self.b1, 0) @ self.W2.T + self.b2

    def loss_and_accuracy(self, X, y):
        """Mean cross-entropy and accuracy on ``(X, y)``, as ``nnlib.fit`` records after each epoch."""
        Z = self.scores(X)
        Z -= Z.max(axis=1, keepdims=True)
        log_p = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
        return float(-log_p[np.arange(len(y)), y].mean()), float(np.mean(Z.argmax(axis=1) == y))

    def step(self, X, y, lr):
        B = X.shape[0]
        # forward
        Z1 = X @ self.W1.T + self.b1
        A1 = np.maximum(Z1, 0)
        Z2 = A1 @ self.W2.T + self.b2
        # softmax cross-entropy and its gradient (P - Y) / B
        Z2 -= Z2.max(axis=1, keepdims=True)
        P = np.exp(Z2)
        P /= P.sum(axis=1, keepdims=True)
        rows = np.arange(B)
        loss = -np.log(P[rows, y]).mean()
        dZ2 = P
        dZ2[rows, y] -= 1
        dZ2 /= B
        # backward
        dW2 = dZ2.T @ A1
        db2 = dZ2.sum(axis=0)
        dZ1 = (dZ2 @ self.W2) * (Z1 > 0)
        dW1 = dZ1.T @ X
        db1 = dZ1.sum(axis=0)
        # SGD
        self.W1 -= lr * dW1
        self.b1 -= lr * db1
        self.W2 -= lr * dW2
        self.b2 -= lr * db2
        return float(loss)


def torch_available():
    """PyTorch's version string, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch.__version__


def make_batch(batch, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((batch, SIZES[0])).astype(dtype), rng.integers(0, SIZES[-1], batch)


def make_contenders(batch, dtype, use_torch=True, threads=1, seed=0):
    """Return ``(contenders, first_losses)``: name -> one-step callable, and each one's first loss."""
    X, y = make_batch(batch, dtype, seed)
    model = nnlib.mlp(SIZES, dtype=dtype, rng=seed)
    W1, b1, W2, b2 = (model.params[k].copy() for k in ("0.W", "0.b", "2.W", "2.b"))
    opt = nnlib.SGD(LR)
    ref = NumpyMLP(W1, b1, W2, b2)
    contenders = {
        "nnlib": lambda: train_step(model, X, y, softmax_cross_entropy, opt),
        "numpy": lambda: ref.step(X, y, LR),
    }
    if use_torch and torch_available():
        contenders["torch"] = _torch_step(W1, b1, W2, b2, X, y, threads)
    first = {name: fn() for name, fn in contenders.items()}
    return contenders, first


def _torch_step(W1, b1, W2, b2, X, y, threads):
    import torch

    torch.set_num_threads(threads)
    net = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    net = net.to(torch.from_numpy(W1).dtype)  # before copying, so float64 weights stay exact
    with torch.no_grad():
        for layer, W, b in ((net[0], W1, b1), (net[2], W2, b2)):
            layer.weight.copy_(torch.from_numpy(W))
            layer.bias.copy_(torch.from_numpy(b))
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    tX, ty = torch.from_numpy(X), torch.from_numpy(y)

    def step():
        opt.zero_grad()
        loss = loss_fn(net(tX), ty)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def float32_audit(batch=4, seed=0):
    """Run one float32 step through nnlib and record the dtype of every array it produces.

    Returns a dict stage -> dtype name; every value is ``"float32"`` when nothing upcasts.
    """
    X, y = make_batch(batch, np.float32, seed)
    model = nnlib.mlp(SIZES, dtype=np.float32, rng=seed)
    seen = {}
    a = X
    for i, layer in enumerate(model.layers):
        a = layer.forward(a)
        seen[f"forward {i} {type(layer).__name__}"] = a.dtype.name
    loss, dscores = softmax_cross_entropy(a, y)
    seen["loss gradient"] = dscores.dtype.name
    d = dscores
    for i in reversed(range(len(model.layers))):
        d = model.layers[i].backward(d)
        seen[f"backward {i} {type(model.layers[i]).__name__} dX"] = d.dtype.name
    for name, g in model.grads.items():
        seen[f"grad {name}"] = g.dtype.name
    _audit_other_layers_and_losses(seen, seed)
    for opt in (nnlib.SGD(0.1), nnlib.Momentum(0.1), nnlib.AdaGrad(0.1), nnlib.Adam(0.01)):
        m = nnlib.mlp(SIZES, dtype=np.float32, rng=seed)
        train_step(m, X, y, softmax_cross_entropy, opt)
        train_step(m, X, y, softmax_cross_entropy, opt)
        dts = {p.dtype.name for p in m.params.values()}
        dts |= {s.dtype.name for slots in opt.state.values() for s in slots.values()}
        seen[f"{type(opt).__name__} params and state"] = "/".join(sorted(dts))
    return seen


def _audit_other_layers_and_losses(seen, seed):
    """Every activation layer, the Softmax layer and the other losses, on float32 input."""
    from nnlib.layers import ACTIVATION_LAYERS, Softmax
    from nnlib.losses import binary_cross_entropy_with_logits, l2_penalty, mse

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((6, 5)).astype(np.float32)
    y = rng.integers(0, 3, 6)
    for act in ACTIVATION_LAYERS:
        model = nnlib.mlp([5, 4, 3], activation=act, dtype=np.float32, rng=seed)
        scores = model.forward(X)
        _, d = softmax_cross_entropy(scores, y)
        dX = model.backward(d)
        grads = {g.dtype.name for g in model.grads.values()}
        seen[f"mlp with {act}: scores / dX / grads"] = "/".join(sorted({scores.dtype.name, dX.dtype.name} | grads))
    soft = Softmax()
    out = soft.forward(X)
    seen["Softmax layer forward / backward"] = "/".join(sorted({out.dtype.name, soft.backward(out).dtype.name}))
    _, d = mse(X, X[::-1])
    seen["mse gradient"] = d.dtype.name
    _, d = binary_cross_entropy_with_logits(X, (X > 0).astype(np.float32))
    seen["binary cross-entropy gradient"] = d.dtype.name
    _, g = l2_penalty({"W": X}, 0.1)
    seen["l2 penalty gradient"] = g["W"].dtype.name
