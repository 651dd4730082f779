"""Input checks shared by the public API.

Every public function of nnlib passes its array arguments through these helpers, so
that a learner who passes the wrong thing gets a message that names the argument,
says what was expected and what arrived, and suggests the usual fix - instead of a
bare numpy broadcasting error from deep inside a formula.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

DEFAULT_DTYPE = np.float64


class NonFiniteError(ValueError):
    """An array holds NaN or inf where finite numbers are needed.

    A ``ValueError``, so callers may catch either; :func:`nnlib.fit` catches this one to
    tell divergence (weights that grew without bound) apart from bad input data.
    """

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def resolve_dtype(dtype) -> np.dtype:
    """Return ``dtype`` as a numpy float dtype; only float32 and float64 are supported."""
    dt = np.dtype(DEFAULT_DTYPE if dtype is None else dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(
            f"dtype must be float32 or float64, got {dt}. "
            "Use float64 (the default) for gradient checks, float32 for speed."
        )
    return dt


def as_float_array(x, name: str, dtype=None, allow_nan: bool = False) -> np.ndarray:
    """Convert ``x`` to a floating numpy array, or raise a clear error.

    Rejects ``None``, strings, ragged lists, empty arrays and (unless ``allow_nan``)
    NaN or infinite values. Integer and boolean input is converted to ``dtype``;
    floating input keeps its own precision when ``dtype`` is None.
    """
    if type(x) is np.ndarray and x.dtype in _FLOAT_DTYPES and x.size and (dtype is None or x.dtype == dtype):
        # Fast path for what a training step passes several times per layer: an array
        # that already has the wanted float dtype needs none of the conversions below,
        # only the finiteness test (errors are still raised by the full path), done by
        # all_finite: one reduction that allocates nothing, where isfinite(x).all()
        # makes a boolean copy of x and reads it again.
        if allow_nan or all_finite(x):
            return x
    if x is None:
        raise TypeError(f"{name} is None; expected a numeric array. Pass the array itself.")
    if isinstance(x, str | bytes):
        raise TypeError(
            f"{name} must be a numeric array, got the string {x!r:.40}. Pass numbers, e.g. np.array([1.0, 2.0])."
        )
    try:
        arr = np.asarray(x)
    except ValueError:  # ragged nested lists
        raise ValueError(
            f"{name} could not be turned into an array: it must be rectangular, but got rows of "
            "different lengths; "
            "check that every row has the same length."
        ) from None
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise TypeError(
            f"{name} must be numeric, got an array of dtype {arr.dtype}. "
            "Did you pass a list of strings or of arrays with different shapes?"
        )
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real, got complex dtype {arr.dtype}. Use its real part, x.real.")
    if arr.size == 0:
        raise ValueError(
            f"{name} is empty (shape {arr.shape}); expected at least one value. Check how it was sliced or loaded."
        )
    if dtype is not None:
        arr = arr.astype(resolve_dtype(dtype), copy=False)
    elif not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(DEFAULT_DTYPE)
    if not allow_nan and not np.all(np.isfinite(arr)):
        bad = "NaN" if np.isnan(arr).any() else "inf"
        raise NonFiniteError(
            f"{name} contains {bad} values (shape {arr.shape}); expected finite numbers. "
            "Check the data loading, or lower the learning rate if it came from training."
        )
    return arr


def check_ndim(arr: np.ndarray, name: str, allowed: tuple[int, ...], meaning: str = "") -> None:
    """Raise if ``arr.ndim`` is not one of ``allowed``."""
    if arr.ndim not in allowed:
        dims = " or ".join(f"{d}-D" for d in allowed)
        extra = f" ({meaning})" if meaning else ""
        raise ValueError(f"{name} must be {dims}{extra}, got shape {arr.shape}. Reshape it, e.g. with reshape().")


def all_finite(arr: np.ndarray) -> bool:
    """True if every entry of the float array ``arr`` is finite.

    One sum (a fast reduction that allocates nothing) decides almost always: it is
    finite exactly when no entry is NaN or inf, unless finite entries overflow when
    added - only then is every entry tested.
    """
    return math.isfinite(arr.sum()) or bool(np.isfinite(arr).all())


def describe(value) -> str:
    """``value`` for an error message: its type and a short repr."""
    if isinstance(value, type):
        return f"the class {value.__name__}"
    return f"{type(value).__name__} {value!r:.40}"


def real_number(value, name: str, fix: str = "") -> float:
    """Return ``value`` as a finite float, or raise naming ``name`` (strings, None, NaN, inf refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        hint = f" Convert it first, e.g. float({value!r:.20})." if isinstance(value, str) else " Pass a number."
        raise TypeError(f"{name} must be a real number, got {describe(value)}.{hint}")
    if not math.isfinite(value):
        hint = f" {fix}" if fix else " Pass a finite number."
        raise ValueError(f"{name} must be a finite number, got {value!r}.{hint}")
    return float(value)


def non_negative_number(value, name: str, fix: str = "") -> float:
    """Return ``value`` as a float, raising unless it is a finite number >= 0."""
    value = real_number(value, name, fix)
    if value < 0:
        hint = f" {fix}" if fix else " Pass 0 or a positive number."
        raise ValueError(f"{name} must be >= 0, got {value!r}.{hint}")
    return value


def positive_number(value, name: str, fix: str = "") -> float:
    """Return ``value`` as a float, raising unless it is a finite number > 0."""
    hint = f" {fix}" if fix else " Pass a finite number such as 0.1 or 1."
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive number, got {describe(value)}.{hint}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}.{hint}")
    return float(value)


def positive_int(value, name: str) -> int:
    """Return ``value`` as an int, raising unless it is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(
            f"{name} must be an integer >= 1, got {describe(value)}. Pass a whole number such as 1 or 10."
        )
    return int(value)


def unit_interval(value, name: str, closed_left: bool = True) -> float:
    """Return ``value`` as a float in [0, 1) (or (0, 1)), e.g. a momentum coefficient."""
    left = "[" if closed_left else "("
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in {left}0, 1), got {describe(value)}. Use e.g. 0.9.")
    low_ok = value >= 0 if closed_left else value > 0
    if not (low_ok and value < 1):
        raise ValueError(f"{name} must be in {left}0, 1), got {value!r}. Use e.g. 0.9 or 0.999.")
    return float(value)


def get_rng(rng) -> np.random.Generator:
    """Return a ``numpy.random.Generator``: ``rng`` itself, or one seeded with ``rng`` if an int.

    ``None`` gives a generator seeded with 0, so results are reproducible by default.
    """
    if rng is None:
        return np.random.default_rng(0)
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"rng must be a numpy.random.Generator or an int seed, got {describe(rng)}. "
        "Create one with numpy.random.default_rng(seed)."
    )


def check_activation(name, known):
    """Raise unless ``name`` is a key of ``known`` (the activation names a builder accepts)."""
    if not isinstance(name, str) or name not in known:
        raise ValueError(
            f"activation must be one of {sorted(known)}, got {name!r}. Pass the name as a string, e.g. 'relu'."
        )


def one_of(value, name: str, options) -> None:
    """Raise unless ``value`` is one of the string keys ``options`` (a menu of names)."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {sorted(options)}, got {value!r}. Pass one of these names.")


def function(f, name: str, example: str) -> None:
    """Raise unless ``f`` is callable; ``example`` shows a right value, e.g. ``"nnlib.mse"``."""
    if not callable(f):
        raise TypeError(f"{name} must be a function, got {describe(f)}. Pass e.g. {example}.")


def instance(obj, name: str, needs: tuple[str, ...], example: str) -> None:
    """Raise unless ``obj`` is an object (not a class, not None) with the attributes ``needs``.

    Catches the classic slip of passing the class itself, ``nnlib.SGD`` for ``nnlib.SGD(0.1)``.
    """
    if isinstance(obj, type):
        raise TypeError(
            f"{name} must be an object, got {describe(obj)} itself. "
            f"Create one first, e.g. {example}."
        )
    missing = [a for a in needs if not hasattr(obj, a)]
    if obj is None or missing:
        what = "None" if obj is None else f"{describe(obj)} (it has no {', '.join(missing)})"
        raise TypeError(f"{name} must be an object with {', '.join(needs)}, got {what}. Pass e.g. {example}.")


def sequence(x, name: str, example: str) -> list:
    """Return ``x`` as a list, raising unless it is a list, tuple or other non-string sequence."""
    if x is None or isinstance(x, str | bytes | dict | numbers.Number) or not hasattr(x, "__iter__"):
        raise TypeError(f"{name} must be a list, got {describe(x)}. Pass e.g. {example}.")
    return list(x)


def targets(y, name: str, n_samples: int, x_name: str = "X") -> np.ndarray:
    """Return ``y`` as an array with one finite entry (a label or a target row) per sample.

    For the data-handling functions (``fit``, ``minibatches``, ``train_test_split``);
    the loss then checks the kind of target.
    """
    if y is None or isinstance(y, str | bytes):
        raise TypeError(
            f"{name} must be an array of {n_samples} labels or targets, got {describe(y)}. "
            f"Pass the labels that go with {x_name}."
        )
    arr = np.asarray(y)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(
            f"{name} must be numeric labels or targets, got an array of dtype {arr.dtype}. Use e.g. y.astype(int)."
        )
    if arr.ndim == 0 or arr.shape[0] != n_samples:
        got = "a single number" if arr.ndim == 0 else f"{arr.shape[0]}"
        raise ValueError(
            f"{x_name} has {n_samples} samples but {name} has {got}; they must match (one label or target "
            f"per row of {x_name}). Pass the labels that go with {x_name}."
        )
    if np.issubdtype(arr.dtype, np.inexact) and not np.isfinite(arr).all():
        raise NonFiniteError(f"{name} contains NaN or inf values; expected finite labels or targets. Check the data.")
    return arr


def class_labels(y, name: str, n_samples: int, n_classes: int) -> np.ndarray:
    """Return integer class labels of shape (n_samples,), accepting int labels or one-hot rows.

    Raises if the batch size does not match, if labels are not integers in
    ``[0, n_classes)``, or if one-hot rows do not each contain a single 1.
    """
    if y is None or isinstance(y, str | bytes):
        raise TypeError(
            f"{name} must be {n_samples} integer class labels or one-hot rows, got {describe(y)}. "
            "Pass the labels of the batch."
        )
    arr = np.asarray(y)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"{name} must hold integer class labels, got an array of dtype {arr.dtype}. Use y.astype(int).")
    if (arr.ndim == 1 and arr.dtype.kind in "iu" and arr.shape[0] == n_samples and arr.size
            and _unsigned(arr).max() < n_classes):
        # Fast path for the usual case, integer labels of the right length: seen as unsigned
        # integers, negative labels become huge, so one max() tests 0 <= label < n_classes.
        # Anything else (and every error message) goes through the checks below.
        return arr
    if arr.size == 0:
        raise ValueError(f"{name} is empty; expected {n_samples} labels. Pass the labels of the batch.")
    if arr.ndim == 2 and arr.shape[1] == n_classes and n_classes > 1:
        onehot = as_float_array(arr, name)
        if arr.shape[0] != n_samples:
            raise ValueError(
                f"{name} has {arr.shape[0]} one-hot rows but the scores have {n_samples} samples; "
                "pass one label per sample."
            )
        if not (np.all((onehot == 0) | (onehot == 1)) and np.all(onehot.sum(axis=1) == 1)):
            raise ValueError(
            f"{name} looks one-hot (shape {arr.shape}) but a row is not a single 1; "
            "pass integer labels or one-hot rows."
        )
        return onehot.argmax(axis=1)
    arr = arr.reshape(-1) if arr.ndim == 2 and 1 in arr.shape else arr
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be integer labels of shape ({n_samples},) or one-hot of shape "
            f"({n_samples}, {n_classes}), got shape {arr.shape}. Did you pass scores instead of labels?"
        )
    if arr.shape[0] != n_samples:
        raise ValueError(
            f"{name} has {arr.shape[0]} labels but the scores have {n_samples} samples; expected one label "
            "per sample - did you pass the labels of a different batch?"
        )
    if not np.issubdtype(arr.dtype, np.integer):
        if np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) and np.all(
            arr == np.round(arr)
        ):
            arr = arr.astype(np.int64)
        else:
            raise TypeError(
                f"{name} must hold integer class labels, got dtype {arr.dtype}. "
                "Use y.astype(int), or pass one-hot rows."
            )
    if arr.min() < 0 or arr.max() >= n_classes:
        raise ValueError(
            f"{name} must be class labels in [0, {n_classes - 1}] for {n_classes} classes, "
            f"got values from {arr.min()} to {arr.max()}. Does the output layer have one unit per class?"
        )
    return arr


def _unsigned(arr: np.ndarray) -> np.ndarray:
    """The integer array ``arr`` viewed (not copied) as unsigned integers of the same width."""
    return arr if arr.dtype.kind == "u" else arr.view(arr.dtype.str.replace("i", "u"))
