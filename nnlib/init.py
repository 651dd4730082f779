r"""Weight initialisers (Chapter 5).

Every initialiser takes ``shape = (n_out, n_in)`` - the shape of a weight matrix
``W`` in this course - plus a ``numpy.random.Generator`` and a ``dtype``. The fan-in
is ``n_in = shape[1]`` and the fan-out ``n_out = shape[0]``.

==================  ====================================================
initialiser         distribution of each entry
==================  ====================================================
``xavier_normal``   :math:`\mathcal N(0,\ 2/(n_{in}+n_{out}))` (variance, not std)
``xavier_uniform``  :math:`U(-r, r)`, :math:`r = \sqrt{6/(n_{in}+n_{out})}` (same variance)
``he_normal``       :math:`\mathcal N(0,\ 2/n_{in})`
``he_uniform``      :math:`U(-r, r)`, :math:`r = \sqrt{6/n_{in}}` (same variance)
==================  ====================================================

A uniform distribution on :math:`[-r, r]` has variance :math:`r^2/3`, which is why the
6 belongs to the uniform version: :math:`6/(n_{in}+n_{out})/3 = 2/(n_{in}+n_{out})`.

Xavier's variance assumes units that are zero-mean with slope 1 at 0 (true of tanh,
not of the sigmoid, whose outputs have mean about 1/2 and whose slope is at most 1/4);
He's makes up for the half of the pre-activations that ReLU sets to 0.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._validate import get_rng, positive_int, positive_number, real_number, resolve_dtype


def _shape(shape) -> tuple[int, ...]:
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (int(shape),)
    if not isinstance(shape, tuple | list) or not all(
        isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in shape
    ):
        raise TypeError(f"shape must be a tuple of ints such as (n_out, n_in), got {shape!r}. Pass e.g. (3, 2).")
    shape = tuple(int(s) for s in shape)
    if not shape or any(s < 1 for s in shape):
        raise ValueError(f"shape must contain positive sizes, got {shape}. Pass e.g. (3, 2).")
    return shape


def _fans(shape) -> tuple[int, int]:
    """Return ``(n_in, n_out)`` for a weight of shape ``(n_out, n_in)``."""
    shape = _shape(shape)
    if len(shape) != 2:
        raise ValueError(
            f"shape must be (n_out, n_in) for a weight matrix, got {shape}; "
            "biases are initialised with zeros or constant. Pass e.g. (3, 2)."
        )
    return shape[1], shape[0]


def zeros(shape, rng=None, dtype=None):
    """All zeros. Fine for biases; for weights it keeps every hidden unit identical (Chapter 5)."""
    return np.zeros(_shape(shape), dtype=resolve_dtype(dtype))


def constant(shape, value=0.01, rng=None, dtype=None):
    """Every entry equal to ``value`` (e.g. a small positive bias 0.01 for ReLU units)."""
    return np.full(_shape(shape), real_number(value, "value"), dtype=resolve_dtype(dtype))


def normal(shape, std=0.01, rng=None, dtype=None):
    r"""Entries drawn from :math:`\mathcal N(0, \text{std}^2)`."""
    std = positive_number(std, "std", "Use a small standard deviation such as 0.01.")
    rng = get_rng(rng)
    return (std * rng.standard_normal(_shape(shape))).astype(resolve_dtype(dtype), copy=False)


def uniform(shape, limit, rng=None, dtype=None):
    r"""Entries drawn from :math:`U(-\text{limit}, \text{limit})` (variance :math:`\text{limit}^2/3`)."""
    limit = positive_number(limit, "limit", "Use a small limit such as 0.05.")
    rng = get_rng(rng)
    return rng.uniform(-limit, limit, _shape(shape)).astype(resolve_dtype(dtype), copy=False)


def xavier_std(n_in: int, n_out: int) -> float:
    r"""Standard deviation of Glorot/Xavier normal: :math:`\sqrt{2/(n_{in}+n_{out})}`."""
    return float(np.sqrt(2.0 / (positive_int(n_in, "n_in") + positive_int(n_out, "n_out"))))


def he_std(n_in: int) -> float:
    r"""Standard deviation of He normal: :math:`\sqrt{2/n_{in}}`."""
    return float(np.sqrt(2.0 / positive_int(n_in, "n_in")))


def xavier_normal(shape, rng=None, dtype=None):
    r"""Glorot & Bengio (2010): :math:`\mathcal N(0, 2/(n_{in}+n_{out}))` - variance, not std."""
    n_in, n_out = _fans(shape)
    return normal(shape, xavier_std(n_in, n_out), rng, dtype)


def xavier_uniform(shape, rng=None, dtype=None):
    r"""Glorot & Bengio (2010): :math:`U(\pm\sqrt{6/(n_{in}+n_{out})})`, variance :math:`2/(n_{in}+n_{out})`."""
    n_in, n_out = _fans(shape)
    return uniform(shape, np.sqrt(6.0 / (n_in + n_out)), rng, dtype)


def he_normal(shape, rng=None, dtype=None):
    r"""He et al. (2015), for ReLU layers: :math:`\mathcal N(0, 2/n_{in})`."""
    n_in, _ = _fans(shape)
    return normal(shape, he_std(n_in), rng, dtype)


def he_uniform(shape, rng=None, dtype=None):
    r"""He et al. (2015): :math:`U(\pm\sqrt{6/n_{in}})`, variance :math:`2/n_{in}`."""
    n_in, _ = _fans(shape)
    return uniform(shape, np.sqrt(6.0 / n_in), rng, dtype)


#: Name -> initialiser for weights, as accepted by ``Linear(init=...)``.
INITIALISERS = {
    "zeros": zeros,
    "normal": normal,
    "xavier_normal": xavier_normal,
    "xavier_uniform": xavier_uniform,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
}


def get_initialiser(init):
    """Return the initialiser named ``init`` (or ``init`` itself if it is callable)."""
    if callable(init):
        return init
    if not isinstance(init, str) or init not in INITIALISERS:
        raise ValueError(
            f"init must be one of {sorted(INITIALISERS)} or a function, got {init!r}. Pass e.g. 'he_normal'."
        )
    return INITIALISERS[init]
