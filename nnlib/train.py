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
    all_finite,
    as_float_array,
    check_ndim,
    class_labels,
    describe,
    function,
    get_rng,
    instance,
    positive_int,
)
from .data import check_samples
from .layers import Linear, Sequential
from .losses import _softmax_cross_entropy, softmax_cross_entropy
from .optim import Optimizer


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


def _trusted_optimizer(model, optimizer):
    """True when ``optimizer.step`` is nnlib's own and every parameter of ``model`` is a Linear layer's.

    Then :meth:`Optimizer._step_trusted` does the same update with only the checks that
    can fail for a model's own ``params``/``grads`` (see there).
    """
    if not isinstance(optimizer, Optimizer) or type(optimizer).step is not Optimizer.step:
        return False
    if type(model) is Linear:
        return True
    return all(type(layer) is Linear or (type(layer) is Sequential and _trusted_optimizer(layer, optimizer))
               or not layer.params for layer in model.layers)


def _step_plan(model, optimizer):
    """``(own, trusted_update)``: whether the model is built from nnlib's layers only, and
    whether the optimiser may use its trusted update (see :func:`_trusted_optimizer`)."""
    own = _nnlib_layers_only(model)
    return own, own and _trusted_optimizer(model, optimizer)


def train_step(model, X, y, loss_fn, optimizer):
    """One forward/backward/update on a batch; returns the batch loss.

    ``X`` must be finite (``fit`` checks the data once): any NaN or inf met on the way -
    in the activations, the loss, the gradients or the weights - is then divergence,
    and is raised as :class:`TrainingDiverged` with advice on the learning rate.

    Everything passed in is checked, by the model (``X``), the loss (``y``) and the
    optimiser; inside the step, arrays that nnlib made go from one part to the next
    without being checked again.
    """
    return _train_step(model, X, y, loss_fn, optimizer, None)


def _train_step(model, X, y, loss_fn, optimizer, labels, trusted_input=False, plan=None):
    """:func:`train_step`; ``labels``: ``y`` already checked as class labels for the scores, or None.

    With ``trusted_input`` (``fit``, which checked its data), ``X`` goes into the model
    unchecked; with ``labels`` and nnlib's ``softmax_cross_entropy`` the loss does not
    check the labels again. ``plan``: :func:`_step_plan` of ``model`` and ``optimizer``,
    worked out once by ``fit`` instead of at every step.
    """
    own, trusted_update = _step_plan(model, optimizer) if plan is None else plan
    try:
        scores = model._forward(X) if own and trusted_input else model.forward(X)
    except NonFiniteError as err:
        # A layer refuses NaN/inf input. With finite data that can only come from weights
        # that grew without bound during training: report it as divergence, not as bad input.
        if not trusted_input and not np.isfinite(X).all():
            raise
        raise _diverged("activations", err, optimizer) from None
    loss = float("nan") if not all_finite(scores) else None
    if loss is None:
        if labels is not None and loss_fn is softmax_cross_entropy:
            loss, dscores = _softmax_cross_entropy(scores, labels)
        else:
            loss, dscores = loss_fn(scores, y)
    if not np.isfinite(loss):
        raise TrainingDiverged(f"the loss became {loss} during training. {_advice(optimizer)}")
    try:
        if own:
            # nnlib's layers *write* their gradients in backward (never add to them), so no
            # zero_grad() first. And training reads only the parameter gradients: dX of the
            # first layer, the gradient with respect to the data, would cost as much as that
            # layer's forward pass. The gradient of nnlib's softmax cross-entropy is finite
            # for finite scores and has their shape, so it goes in unchecked.
            if loss_fn is softmax_cross_entropy:
                model._backward(dscores, need_dx=False)
            else:
                model.backward(dscores, need_dx=False)
        else:
            model.zero_grad()
            model.backward(dscores)
        if trusted_update:
            optimizer._step_trusted(model.params, model.grads)
        else:
            optimizer.step(model.params, model.grads)
    except NonFiniteError as err:
        raise _diverged("gradients", err, optimizer) from None
    return loss


def _class_labels_once(model, y, loss_fn):
    """``y`` checked once as class labels for the whole of ``fit``, or None to check every batch.

    Only for nnlib's ``softmax_cross_entropy`` on a model of nnlib layers whose output
    width is known (its last ``Linear``). If the labels do not fit, None: the loss then
    raises its usual error on the batch where it meets them.
    """
    if loss_fn is not softmax_cross_entropy or not _nnlib_layers_only(model):
        return None
    n_classes = _output_width(model)
    if n_classes is None or n_classes < 2:
        return None
    try:
        return class_labels(y, "y", len(y), n_classes)
    except (TypeError, ValueError):
        return None


def _output_width(model):
    """Number of outputs of an nnlib model: that of its last ``Linear`` (activations keep the width)."""
    if type(model) is Linear:
        return model.n_out
    for layer in reversed(model.layers):
        if type(layer) is Linear or type(layer) is Sequential:
            return _output_width(layer)
        if layer.params:  # PReLU: keeps the width too, but keep this simple
            return None
    return None


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
    # Checked once here, not again in every step: X and the validation data (above), and y
    # as class labels when the loss is nnlib's softmax cross-entropy.
    labels = _class_labels_once(model, y, loss_fn)
    val_labels = None
    if validation_data is not None and labels is not None:
        val_labels = _class_labels_once(model, validation_data[1], loss_fn)
    history = History()
    for epoch in range(epochs):
        # Overflow is detected below and reported as TrainingDiverged with advice, so numpy's
        # own overflow warnings would only be noise in front of that message.
        plan = _step_plan(model, optimizer)  # per epoch: a callback may change the model
        with np.errstate(over="ignore", invalid="ignore"):
            for idx in _batch_indices(len(X), batch_size, rng):
                _train_step(model, X[idx], y[idx], loss_fn, optimizer,
                            None if labels is None else labels[idx], trusted_input=True, plan=plan)
            loss, acc = _evaluate_trained(model, X, y, loss_fn, optimizer, labels)
            if validation_data is not None:
                val_loss, val_acc = _evaluate_trained(model, *validation_data, loss_fn, optimizer, val_labels)
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


def _batch_indices(n, batch_size, rng):
    """The rows of each mini-batch of one epoch, in the order :func:`nnlib.data.minibatches` uses."""
    order = rng.permutation(n)
    return [order[start:start + batch_size] for start in range(0, n, batch_size)]


def _evaluate_trained(model, X, y, loss_fn, optimizer, labels=None):
    """:func:`evaluate` on finite data during training: an overflow there is divergence too.

    ``labels``: ``y`` already checked as class labels (see :func:`_class_labels_once`).
    """
    try:
        if labels is None:
            return _evaluate(model, X, y, loss_fn)
        scores = model._forward(X)
        if not all_finite(scores):
            return float("nan"), float("nan")
        loss, _ = _softmax_cross_entropy(scores, labels)
        return loss, float(np.mean(scores.argmax(axis=1) == labels))
    except NonFiniteError as err:
        raise _diverged("activations", err, optimizer) from None
