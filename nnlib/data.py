"""Small data sets and a mini-batch iterator (every chapter).

Nothing is downloaded: toy sets are generated from a seeded ``numpy.random.Generator``
and the real sets (scikit-learn's ``load_digits`` and ``load_diabetes``) ship inside
scikit-learn. Every function returns float64 features ``X`` of shape ``(N, n)`` - one
sample per row - and, for classification, integer labels ``y`` of shape ``(N,)``.
"""

from __future__ import annotations

import numpy as np

from ._validate import (
    as_float_array,
    class_labels,
    describe,
    get_rng,
    non_negative_number,
    positive_int,
    real_number,
    resolve_dtype,
    targets,
)


def check_samples(X, y, x_name="X", y_name="y"):
    """Return ``(X, y)`` as arrays after checking ``X`` is ``(N, n)`` and ``y`` has N finite entries."""
    if X.ndim != 2:
        raise ValueError(
            f"{x_name} must be a batch (N, n) with one sample per row, got shape {X.shape}. "
            f"For one feature per sample use {x_name}.reshape(-1, 1)."
        )
    return X, targets(y, y_name, len(X), x_name)


def make_spiral(n_per_class=100, n_classes=3, noise=0.2, rng=None):
    """Interleaved spiral arms in 2-D, one class per arm: not linearly separable.

    Returns ``X`` ``(n_per_class * n_classes, 2)`` and ``y`` ``(N,)``.
    """
    n_per_class = positive_int(n_per_class, "n_per_class")
    n_classes = positive_int(n_classes, "n_classes")
    noise = non_negative_number(noise, "noise", "Use a small noise level such as 0.2 (0 for none).")
    rng = get_rng(rng)
    X = np.zeros((n_per_class * n_classes, 2))
    y = np.repeat(np.arange(n_classes), n_per_class)
    for k in range(n_classes):
        r = np.linspace(0.0, 1.0, n_per_class)
        theta = np.linspace(k * 4.0, (k + 1) * 4.0, n_per_class) + noise * rng.standard_normal(n_per_class)
        X[k * n_per_class : (k + 1) * n_per_class] = np.c_[r * np.sin(theta), r * np.cos(theta)]
    return X, y


def make_xor(n=200, noise=0.1, rng=None):
    """Four Gaussian blobs at (±1, ±1); the label is 1 when the signs differ (XOR).

    Returns ``X`` ``(n, 2)`` and ``y`` ``(n,)`` with values 0/1.
    """
    n = positive_int(n, "n")
    noise = non_negative_number(noise, "noise", "Use a small noise level such as 0.1 (0 for none).")
    rng = get_rng(rng)
    signs = rng.choice([-1.0, 1.0], size=(n, 2))
    X = signs + noise * rng.standard_normal((n, 2))
    y = (signs[:, 0] != signs[:, 1]).astype(np.int64)
    return X, y


def make_moons(n=200, noise=0.1, rng=None):
    """Two interleaving half circles (scikit-learn's ``make_moons``), seeded from ``rng``."""
    from sklearn.datasets import make_moons as sk_make_moons

    n = positive_int(n, "n")
    noise = non_negative_number(noise, "noise", "Use a small noise level such as 0.1 (0 for none).")
    seed = int(get_rng(rng).integers(2**31 - 1))
    X, y = sk_make_moons(n_samples=n, noise=noise, random_state=seed)
    return X.astype(np.float64), y.astype(np.int64)


def train_test_split(X, y, test_size=0.25, rng=None):
    """Shuffle with ``rng`` and split into ``(X_train, X_test, y_train, y_test)``."""
    X, y = check_samples(as_float_array(X, "X"), y)
    if not 0 < real_number(test_size, "test_size") < 1:
        raise ValueError(f"test_size must be a fraction in (0, 1), got {test_size!r}. Use e.g. 0.25.")
    order = get_rng(rng).permutation(len(X))
    n_test = int(round(test_size * len(X)))
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


def load_digits(test_size=0.25, rng=0, dtype=None):
    """scikit-learn's bundled 8x8 handwritten digits (1797 images, 10 classes).

    Pixels (0..16) are scaled to [0, 1]. Returns ``(X_train, X_test, y_train, y_test)``
    with ``X`` of shape ``(N, 64)``, split with a seeded shuffle.
    """
    from sklearn.datasets import load_digits as sk_load_digits

    digits = sk_load_digits()
    X = (digits.data / 16.0).astype(resolve_dtype(dtype))
    return train_test_split(X, digits.target.astype(np.int64), test_size, rng)


def load_diabetes(test_size=0.25, rng=0):
    """scikit-learn's bundled diabetes regression set (442 patients, 10 features).

    Features and target are standardised with the *training* split's mean and std.
    Returns ``(X_train, X_test, y_train, y_test)`` with ``y`` of shape ``(N,)``.
    """
    from sklearn.datasets import load_diabetes as sk_load_diabetes

    data = sk_load_diabetes()
    X_tr, X_te, y_tr, y_te = train_test_split(data.data, data.target.astype(np.float64), test_size, rng)
    mu, sd = X_tr.mean(axis=0), X_tr.std(axis=0)
    y_mu, y_sd = y_tr.mean(), y_tr.std()
    return (X_tr - mu) / sd, (X_te - mu) / sd, (y_tr - y_mu) / y_sd, (y_te - y_mu) / y_sd


def one_hot(y, n_classes):
    """Integer labels ``(N,)`` -> one-hot rows ``(N, n_classes)``."""
    n_classes = positive_int(n_classes, "n_classes")
    if y is None or isinstance(y, str | bytes):
        raise TypeError(f"y must be integer labels (N,), got {describe(y)}. Pass e.g. np.array([0, 2, 1]).")
    y = np.asarray(y)
    labels = class_labels(y, "y", y.shape[0] if y.ndim else 1, n_classes)
    out = np.zeros((labels.shape[0], n_classes))
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out


def minibatches(X, y, batch_size, rng=None, shuffle=True):
    """Yield ``(X_batch, y_batch)`` pairs covering the data once (one epoch).

    With ``shuffle`` the order is a fresh permutation from ``rng`` (so pass the same
    generator every epoch to get a different but reproducible order). The last batch
    may be smaller than ``batch_size``.
    """
    X, y = check_samples(as_float_array(X, "X"), y)
    batch_size = positive_int(batch_size, "batch_size")
    N = len(X)
    order = get_rng(rng).permutation(N) if shuffle else np.arange(N)
    for start in range(0, N, batch_size):
        idx = order[start : start + batch_size]
        yield X[idx], y[idx]
