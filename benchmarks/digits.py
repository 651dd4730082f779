"""Digits (8x8 images, 10 classes): a 64-64-10 ReLU network trained with plain SGD, three ways.

Same data split (``nnlib.data.load_digits(rng=0)``: 1347 training and 450 test
images), same architecture, same optimiser (SGD without momentum or weight decay,
constant learning rate), same batch size and number of epochs:

* ``nnlib``: ``nnlib.mlp`` + ``nnlib.fit`` (which also records the training loss and
  accuracy after every epoch - one extra forward pass over the training set);
* ``numpy``: the same loop written in plain numpy (shuffle, mini-batches, step, and
  the training loss and accuracy after each epoch, as ``fit`` records them);
* ``sklearn``: ``MLPClassifier(solver="sgd", momentum=0, alpha=0, ...)``, stopped
  only by ``max_iter`` (its initialisation is Glorot-uniform, nnlib's He-normal).
"""

from __future__ import annotations

import warnings

import numpy as np
from mlp_step import NumpyMLP
from timing import Spread, wall

import nnlib
from nnlib.data import load_digits

HIDDEN = 64
LR = 0.1
BATCH = 32


def _nnlib(data, epochs, dtype, seed):
    X_tr, X_te, y_tr, y_te = data
    model = nnlib.mlp([64, HIDDEN, 10], dtype=dtype, rng=seed)
    nnlib.fit(model, X_tr, y_tr, nnlib.SGD(LR), epochs=epochs, batch_size=BATCH, rng=seed + 1)
    return float(np.mean(model.predict(X_te) == y_te))


def _numpy(data, epochs, dtype, seed):
    X_tr, X_te, y_tr, y_te = data
    init = nnlib.mlp([64, HIDDEN, 10], dtype=dtype, rng=seed)
    net = NumpyMLP(*(init.params[k] for k in ("0.W", "0.b", "2.W", "2.b")))
    rng = np.random.default_rng(seed + 1)
    history = []
    for _ in range(epochs):
        order = rng.permutation(len(X_tr))
        for start in range(0, len(X_tr), BATCH):
            idx = order[start:start + BATCH]
            net.step(X_tr[idx], y_tr[idx], LR)
        history.append(net.loss_and_accuracy(X_tr, y_tr))  # the per-epoch record fit keeps
    return float(np.mean(net.scores(X_te).argmax(axis=1) == y_te))


def _sklearn(data, epochs, dtype, seed):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    X_tr, X_te, y_tr, y_te = data
    clf = MLPClassifier(hidden_layer_sizes=(HIDDEN,), activation="relu", solver="sgd", learning_rate="constant",
                        learning_rate_init=LR, momentum=0.0, nesterovs_momentum=False, alpha=0.0,
                        batch_size=BATCH, max_iter=epochs, shuffle=True, tol=0.0, n_iter_no_change=epochs + 1,
                        early_stopping=False, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_tr, y_tr)
    return float(clf.score(X_te, y_te))


TRAINERS = {"nnlib": _nnlib, "numpy": _numpy, "sklearn": _sklearn}


def run(epochs, repeats, dtype=np.float64, seed=0):
    """Train each contender ``repeats`` times (interleaved).

    Returns name -> ``{"time": Spread, "seconds_list": [...], "accuracy": [...]}``.

    Each repeat uses the same seed, so accuracies repeat exactly; only time varies.
    """
    data = load_digits(rng=0, dtype=dtype)
    results = {name: {"seconds": [], "accuracy": []} for name in TRAINERS}
    names = list(TRAINERS)
    for r in range(repeats):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            seconds, acc = wall(lambda name=name: TRAINERS[name](data, epochs, dtype, seed))
            results[name]["seconds"].append(seconds)
            results[name]["accuracy"].append(acc)
    for res in results.values():
        res["seconds_list"] = res.pop("seconds")
        res["time"] = Spread.of(res["seconds_list"])
    return results
