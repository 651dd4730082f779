"""A mini-batch training loop with per-epoch history (Chapter 4).

One step is: forward, loss, backward, optimiser step. The loop stops with
:class:`TrainingDiverged` as soon as the loss is NaN or infinite, instead of
silently producing NaN plots.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validate import (
    NonFiniteError,
    as_float_array,
    check_ndim,
    class_labels,
    describe,
    function,
    get_rng,
    instance,
    positive_int,
)
from .data import check_samples, minibatches
from .layers import Linear, Sequential
from .losses import softmax_cross_entropy


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite during training."""


@dataclass
class History:
    """Per-epoch records: ``loss`` and ``accuracy`` on the training set, and ``val_*`` if given."""

    loss: list = field(default_factory=list)
    accuracy: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)

    def __repr__(self):
        final = f"loss {self.loss[-1]:.4f}" if self.loss else "empty"
        return f"History({len(self.loss)} epochs, {final})"


def accuracy(scores, y):
    """Fraction of samples whose largest score is at the true label.

    ``scores``: ``(B, K)`` one row of class scores per sample; ``y``: labels ``(B,)`` or
    one-hot ``(B, K)``.
    """
    scores = as_float_array(scores, "scores")
    check_ndim(scores, "scores", (2,), "one row of class scores per sample, (B, K)")
    labels = class_labels(y, "y", scores.shape[0], scores.shape[1])
    return float(np.mean(scores.argmax(axis=1) == labels))


_MODEL_NEEDS = ("forward", "backward", "params", "grads", "zero_grad")
_MODEL_EXAMPLE = "nnlib.mlp([2, 16, 3])"


def evaluate(model, X, y, loss_fn=softmax_cross_entropy):
    """Return ``(loss, accuracy)`` of ``model`` on ``(X, y)`` (accuracy only for class labels).

    ``X``: ``(N, n)`` one sample per row. A model whose outputs are not finite gets
    ``(nan, nan)``.
    """
    instance(model, "model", _MODEL_NEEDS, _MODEL_EXAMPLE)
    function(loss_fn, "loss_fn", "nnlib.softmax_cross_entropy")
    return _evaluate(model, as_float_array(X, "X"), y, loss_fn)


def _evaluate(model, X, y, loss_fn):
    scores = model.forward(X)
    if not np.all(np.isfinite(scores)):
        return float("nan"), float("nan")
    loss, _ = loss_fn(scores, y)
    acc = accuracy(scores, y) if scores.ndim == 2 and scores.shape[1] > 1 else float("nan")
    return loss, acc


def _advice(optimizer):
    lr = getattr(optimizer, "lr", None)
    if lr is None:
        return "The learning rate is probably too large - try a smaller one; also check the inputs are scaled."
    return (
        f"The learning rate (lr={lr}) is probably too large - try a smaller one, "
        f"e.g. {lr / 10:g}; also check the inputs are scaled."
    )


def _diverged(where, err, optimizer):
    return TrainingDiverged(f"the {where} overflowed during training ({err}). {_advice(optimizer)}")


def _nnlib_layers_only(model):
    """True for a ``Linear``, or a ``Sequential`` built only from :mod:`nnlib.layers` classes.

    Those accept ``backward(dout, need_dx=False)`` and overwrite (never add to) their
    gradients; anything else gets the general ``zero_grad(); backward(dout)``.
    """
    if type(model) is Linear:
        return True
    if type(model) is not Sequential:
        return False
    for layer in model.layers:
        if type(layer).__module__ != Sequential.__module__:
            return False
        if type(layer) is Sequential and not _nnlib_layers_only(layer):
            return False
    return True


def train_step(model, X, y, loss_fn, optimizer):
    """One forward/backward/update on a batch; returns the batch loss.

    ``X`` must be finite (``fit`` checks the data once): any NaN or inf met on the way -
    in the activations, the loss, the gradients or the weights - is then divergence,
    and is raised as :class:`TrainingDiverged` with advice on the learning rate.
    """
    try:
        scores = model.forward(X)
    except NonFiniteError as err:
        # A layer refuses NaN/inf input. With finite data that can only come from weights
        # that grew without bound during training: report it as divergence, not as bad input.
        if not np.isfinite(X).all():
            raise
        raise _diverged("activations", err, optimizer) from None
    loss = float("nan") if not np.isfinite(scores).all() else None
    if loss is None:
        loss, dscores = loss_fn(scores, y)
    if not np.isfinite(loss):
        raise TrainingDiverged(f"the loss became {loss} during training. {_advice(optimizer)}")
    try:
        if _nnlib_layers_only(model):
            # nnlib's layers *write* their gradients in backward (never add to them), so no
            # zero_grad() first. And training reads only the parameter gradients: dX of the
            # first layer, the gradient with respect to the data, would cost as much as that
            # layer's forward pass.
            model.backward(dscores, need_dx=False)
        else:
            model.zero_grad()
            model.backward(dscores)
        optimizer.step(model.params, model.grads)
    except NonFiniteError as err:
        raise _diverged("gradients", err, optimizer) from None
    return loss


def fit(model, X, y, optimizer, epochs=10, batch_size=32, loss_fn=softmax_cross_entropy,
        rng=None, validation_data=None, callback=None):
    """Train ``model`` with mini-batch gradient descent and return a :class:`History`.

    ``X``: ``(N, n)`` one sample per row; ``y``: labels ``(N,)`` or targets. Each
    epoch visits the data once in a fresh order drawn from ``rng``. After each epoch
    the full training (and validation) loss and accuracy are recorded and
    ``callback(epoch, history)`` is called if given.
    """
    instance(model, "model", _MODEL_NEEDS, _MODEL_EXAMPLE)
    instance(optimizer, "optimizer", ("step",), "nnlib.SGD(0.1)")
    function(loss_fn, "loss_fn", "nnlib.softmax_cross_entropy")
    if callback is not None:
        function(callback, "callback", "lambda epoch, history: print(epoch, history.loss[-1])")
    X, y = check_samples(as_float_array(X, "X"), y)
    if validation_data is not None:
        validation_data = _validation(validation_data)
    epochs = positive_int(epochs, "epochs")
    batch_size = positive_int(batch_size, "batch_size")
    rng = get_rng(rng)
    history = History()
    for epoch in range(epochs):
        # Overflow is detected below and reported as TrainingDiverged with advice, so numpy's
        # own overflow warnings would only be noise in front of that message.
        with np.errstate(over="ignore", invalid="ignore"):
            for Xb, yb in minibatches(X, y, batch_size, rng):
                train_step(model, Xb, yb, loss_fn, optimizer)
            loss, acc = _evaluate_trained(model, X, y, loss_fn, optimizer)
            if validation_data is not None:
                val_loss, val_acc = _evaluate_trained(model, *validation_data, loss_fn, optimizer)
        if not np.isfinite(loss):
            raise TrainingDiverged(
                f"the training loss is {loss} after epoch {epoch + 1}. {_advice(optimizer)}"
            )
        history.loss.append(loss)
        history.accuracy.append(acc)
        if validation_data is not None:
            history.val_loss.append(val_loss)
            history.val_accuracy.append(val_acc)
        if callback is not None:
            callback(epoch, history)
    return history


def _validation(validation_data):
    """``validation_data`` as checked arrays ``(X_val, y_val)``."""
    if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
        raise TypeError(
            f"validation_data must be a pair (X_val, y_val), got {describe(validation_data)}. "
            "Pass e.g. validation_data=(X_test, y_test)."
        )
    X_val, y_val = validation_data
    names = ("validation_data[0]", "validation_data[1]")
    return check_samples(as_float_array(X_val, names[0]), y_val, *names)


def _evaluate_trained(model, X, y, loss_fn, optimizer):
    """:func:`evaluate` on finite data during training: an overflow there is divergence too."""
    try:
        return _evaluate(model, X, y, loss_fn)
    except NonFiniteError as err:
        raise _diverged("activations", err, optimizer) from None
