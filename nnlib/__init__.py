"""nnlib: the small numpy library that every chapter of *Backpropagation from Scratch* imports.

Chapters derive formulas by hand; nnlib keeps them, and every chapter checks that
its hand-written version equals nnlib's (and both equal finite differences).

Core modules: :mod:`~nnlib.activations`, :mod:`~nnlib.losses`, :mod:`~nnlib.layers`,
:mod:`~nnlib.init`, :mod:`~nnlib.optim`, :mod:`~nnlib.gradcheck`, :mod:`~nnlib.data`,
:mod:`~nnlib.train`. One module per chapter keeps what that chapter derives:
:mod:`~nnlib.descent` (1), :mod:`~nnlib.engine` and :mod:`~nnlib.engine_draw` (2),
:mod:`~nnlib.backprop` (3), :mod:`~nnlib.batch` (4), :mod:`~nnlib.diagnostics` (5);
:mod:`~nnlib.widgets` holds the interactive figures and :mod:`~nnlib.checks` the
exercise checks (with :mod:`~nnlib.student` and :mod:`~nnlib.grade` for instructors).
"""

from . import activations, data, gradcheck, init, layers, losses, optim, train
from .gradcheck import check_layer, check_model, numerical_gradient, rel_error
from .layers import (
    Identity,
    LeakyReLU,
    Linear,
    PReLU,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
    mlp,
)
from .losses import binary_cross_entropy_with_logits, l2_penalty, mse, softmax_cross_entropy
from .optim import SGD, AdaGrad, Adam, Momentum
from .train import History, TrainingDiverged, fit

__version__ = "0.1.0"

__all__ = [
    "activations", "data", "gradcheck", "init", "layers", "losses", "optim", "train",
    "check_layer", "check_model", "numerical_gradient", "rel_error",
    "Identity", "LeakyReLU", "Linear", "PReLU", "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh",
    "mlp", "binary_cross_entropy_with_logits", "l2_penalty", "mse", "softmax_cross_entropy",
    "SGD", "AdaGrad", "Adam", "Momentum", "History", "TrainingDiverged", "fit",
]
