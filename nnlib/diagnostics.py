r"""Tools for looking inside a network while it trains (Chapter 5).

Chapter 5 asks four questions of a :class:`~nnlib.layers.Sequential` model, and each
function here answers one of them on a batch ``X`` of shape ``(B, n_in)``:

* :func:`gradient_norms` - how large is :math:`\partial L/\partial W_l` in each
  layer? (vanishing and exploding gradients);
* :func:`activation_stats` - how are the activations of each layer distributed?
  (initialisation, saturation);
* :func:`dead_units` - how many ReLU units output 0 for every sample? (dead ReLUs);
* :func:`layerwise_gradcheck` - which layer's ``backward`` disagrees with central
  differences? (debugging).

:func:`deep_mlp` builds the deep, narrow networks the chapter experiments with, and
:class:`BuggyTanh` is a tanh layer with a deliberately wrong ``backward`` for the
debugging section.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import as_float_array, check_activation, function, get_rng, positive_int
from .gradcheck import THRESHOLD, check_layer
from .init import he_normal, normal, xavier_normal
from .layers import ACTIVATION_LAYERS, Layer, Linear, PReLU, ReLU, Sequential, Tanh
from .losses import softmax_cross_entropy


def _check_model(model):
    if not isinstance(model, Sequential):
        raise TypeError(
            f"model must be an nnlib Sequential (e.g. from nnlib.mlp), got {type(model).__name__}."
        )
    return model


def _check_batch(X, model):
    X = as_float_array(X, "X")
    if X.ndim != 2:
        raise ValueError(
            f"X must be a batch (B, n_in) with one sample per row, got shape {X.shape}. "
            "For one sample x pass x[None, :]."
        )
    first = next((l for l in model.layers if isinstance(l, Linear)), None)
    if first is not None and X.shape[1] != first.n_in:
        raise ValueError(
            f"X has {X.shape[1]} features per sample but the first Linear layer expects {first.n_in}; "
            f"pass a batch of shape (B, {first.n_in})."
        )
    return X


# --------------------------------------------------------------------------- networks

def _scaled_normal(std_fn):
    """An initialiser drawing N(0, std^2) with ``std = std_fn(n_in, n_out)``."""

    def init(shape, rng=None, dtype=None):
        n_out, n_in = shape
        return normal(shape, std_fn(n_in, n_out), rng=rng, dtype=dtype)

    return init


#: Weight initialisations compared in Chapter 5, by name. "small" and "large" are the
#: bad ones; "xavier_6" is the mistaken Xavier *normal* with variance 6/(n_in + n_out)
#: (the uniform limit squared, three times too large).
INITS = {
    "small": _scaled_normal(lambda n_in, n_out: 0.01),
    "xavier": xavier_normal,
    "he": he_normal,
    "large": _scaled_normal(lambda n_in, n_out: 1.0),
    "xavier_6": _scaled_normal(lambda n_in, n_out: float(np.sqrt(6.0 / (n_in + n_out)))),
}


def deep_mlp(depth, activation="relu", init="he", width=64, n_in=64, n_out=10, bias=0.0, rng=None):
    """A network of ``depth`` Linear layers: ``depth - 1`` hidden layers of ``width`` units.

    ``Linear(n_in, width) -> act -> ... -> Linear(width, n_out)`` (logits out). ``init``
    is a name in :data:`INITS` ("small", "xavier", "he", "large", "xavier_6") or any
    initialiser accepted by :class:`~nnlib.layers.Linear`; ``bias`` is the constant
    every bias starts at (0.01 is the usual small positive bias for ReLU).
    """
    depth = positive_int(depth, "depth")
    width = positive_int(width, "width")
    check_activation(activation, ACTIVATION_LAYERS)
    if isinstance(init, str):
        if init not in INITS:
            raise ValueError(
                f"init must be one of {sorted(INITS)} or an initialiser function, got {init!r}. Pass e.g. 'he'."
            )
        init = INITS[init]
    rng = get_rng(rng)
    sizes = [positive_int(n_in, "n_in")] + [width] * (depth - 1) + [positive_int(n_out, "n_out")]
    layers: list[Layer] = []
    for l, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(Linear(a, b, init=init, bias=bias, rng=rng))
        if l < depth - 1:
            act = ACTIVATION_LAYERS[activation]
            layers.append(act(b) if act is PReLU else act())
    return Sequential(layers)


# --------------------------------------------------------------------------- gradients

def linear_layers(model):
    """The :class:`~nnlib.layers.Linear` layers of ``model``, input side first."""
    return [l for l in _check_model(model).layers if isinstance(l, Linear)]


def gradient_norms(model, X, y, loss_fn=softmax_cross_entropy):
    r"""Frobenius norm :math:`\lVert \partial L/\partial W_l \rVert_F` of every Linear layer's weight gradient.

    Runs one forward and one backward pass on the batch ``X`` ``(B, n_in)`` with targets
    ``y``; nothing is updated. Returns an array of length (number of Linear layers),
    input side first, so entry 0 is the layer farthest from the loss - the one that
    suffers first when gradients vanish or explode.
    """
    model = _check_model(model)
    function(loss_fn, "loss_fn", "nnlib.softmax_cross_entropy")
    X = _check_batch(X, model)
    _, dscores = loss_fn(model.forward(X), y)
    model.zero_grad()
    model.backward(dscores)
    return np.array([np.linalg.norm(l.grads["W"]) for l in linear_layers(model)])


# --------------------------------------------------------------------------- activations

@dataclass
class LayerStats:
    """Statistics of one activation layer's output over a batch."""

    index: int
    name: str
    mean: float
    std: float
    frac_zero: float
    counts: np.ndarray
    edges: np.ndarray


def layer_outputs(model, X):
    """Forward ``X`` through ``model`` and return the output of every layer, in order."""
    model = _check_model(model)
    x = _check_batch(X, model)
    outs = []
    for layer in model.layers:
        x = layer.forward(x)
        outs.append(x)
    return outs


def activation_stats(model, X, bins=40, value_range=None):
    """Mean, std, fraction of exact zeros and a histogram of each hidden activation layer.

    Activation layers are all layers that are not Linear, except a last one. ``bins``
    equal-width bins over ``value_range`` (default: (0, 1) after sigmoid, (-1, 1)
    after tanh, the data's own range otherwise). Returns a list of :class:`LayerStats`.
    """
    bins = positive_int(bins, "bins")
    outs = layer_outputs(model, X)
    stats = []
    for i, (layer, a) in enumerate(zip(model.layers, outs, strict=True)):
        if isinstance(layer, Linear):
            continue
        name = type(layer).__name__
        rng_ = value_range or {"Sigmoid": (0.0, 1.0), "Tanh": (-1.0, 1.0)}.get(name)
        if rng_ is None:
            lo, hi = float(a.min()), float(a.max())
            rng_ = (lo, hi if hi > lo else lo + 1.0)
        counts, edges = np.histogram(a, bins=bins, range=rng_)
        stats.append(LayerStats(i, name, float(a.mean()), float(a.std()), float(np.mean(a == 0.0)),
                                counts, edges))
    return stats


def count_dead(A):
    """Number of units (columns of ``A``, shape ``(B, n)``) that are 0 for every sample."""
    A = as_float_array(A, "A")
    if A.ndim != 2:
        raise ValueError(
            f"A must be activations of shape (B, n), one sample per row, got {A.shape}. "
            "Pass one layer's output for a batch."
        )
    return int(np.sum(np.all(A == 0.0, axis=0)))


def dead_units(model, X):
    """For every ReLU layer: ``(layer index, dead units, units)`` on the batch ``X``.

    A unit is *dead* on ``X`` when its ReLU outputs 0 for every sample: its
    derivative is then 0 too, so no gradient reaches the weights feeding it and
    gradient descent cannot bring it back.
    """
    outs = layer_outputs(model, X)
    return [(i, count_dead(a), a.shape[1]) for i, (layer, a) in enumerate(zip(model.layers, outs, strict=True))
            if type(layer) is ReLU]


# --------------------------------------------------------------------------- debugging

class BuggyTanh(Tanh):
    r"""A tanh layer with a planted bug in ``backward`` (for Chapter 5's debugging section).

    The right local derivative is :math:`1 - a^2 = 1 - \tanh^2 z`; this layer uses
    :math:`1 - z^2`, the *pre*-activation squared. For small :math:`z` the two are
    close (:math:`\tanh z \approx z`), so a network with this layer still trains - a
    gradient check is what finds it.
    """

    def _g_prime(self, z, a):
        return 1.0 - z * z


@dataclass
class LayerCheck:
    """Result of gradient-checking one layer: relative error for its input and each parameter."""

    index: int
    name: str
    errors: dict

    @property
    def worst(self) -> float:
        return max(self.errors.values())

    @property
    def passed(self) -> bool:
        return self.worst <= THRESHOLD


def layerwise_gradcheck(model, X, rng=None, h=1e-5):
    r"""Gradient-check every layer of ``model`` on the inputs it really receives from ``X``.

    The batch is forwarded once; then each layer is checked on its own input with
    :func:`nnlib.gradcheck.check_layer` (its ``backward`` against central differences,
    for :math:`\partial L/\partial x` and every parameter). A wrong ``backward`` shows up
    in exactly one row, whereas a whole-model check smears it over every layer below.
    Use float64 and a small batch (each entry of every input is perturbed twice).
    Returns a list of :class:`LayerCheck`, input side first.
    """
    model = _check_model(model)
    X = _check_batch(X, model).astype(np.float64)
    rng = get_rng(rng)
    inputs = [X] + layer_outputs(model, X)[:-1]
    return [LayerCheck(i, repr(layer), check_layer(layer, x.copy(), rng=rng, h=h))
            for i, (layer, x) in enumerate(zip(model.layers, inputs, strict=True))]


def format_error(name, error, threshold=THRESHOLD, width=0):
    """One line for one checked quantity, with its relative error.

    A pass reads exactly as :func:`nnlib.report.verdict` prints it,
    ``dW1  rel. error 3.1e-11  (pass: <= 1e-07)`` (the notebook tests mask its round-off
    digits); a failure reads ``dW1  rel. error 1.2e-01  fails (> 1e-07)`` and is returned,
    not raised, so that a planted bug can be shown. The caller asserts what it expects.
    """
    from .report import _check_line

    threshold = _check_line(name, error, threshold, width, who="format_error")
    label = f"{name:<{width}}  rel. error {float(error):.1e}"
    if error <= threshold:
        return f"{label}  (pass: <= {threshold:.0e})"
    return f"{label}  fails (> {threshold:.0e})"


def format_errors(errors, threshold=THRESHOLD):
    """:func:`format_error` for each ``name -> error`` of ``errors``, one line each, names aligned."""
    width = max((len(str(name)) for name in errors), default=0)
    return "\n".join(format_error(str(name), err, threshold, width) for name, err in errors.items())


def format_gradcheck(report):
    """Render a :func:`layerwise_gradcheck` report: one :func:`format_error` line per layer (its worst error)."""
    return format_errors({f"{row.index}  {row.name}": row.worst for row in report})


__all__ = [
    "INITS", "deep_mlp", "linear_layers", "gradient_norms", "LayerStats", "layer_outputs",
    "activation_stats", "count_dead", "dead_units", "BuggyTanh", "LayerCheck",
    "layerwise_gradcheck", "format_error", "format_errors", "format_gradcheck",
]
