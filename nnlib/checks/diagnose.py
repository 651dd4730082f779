"""Diagnosis helpers shared by every chapter's checks.

Given a learner's output and the reference output (both computed inside a check),
:func:`diagnose` returns ``None`` when they agree, otherwise one sentence that names
the mistake: a wrong type (None, a string, a list that is not numbers...), NaN/inf,
a wrong shape (expected vs got), a transposed result, a flipped sign, a missing or
extra ``1/B``, a constant factor, or one of the *named mistakes* the check supplies
(:class:`Mistake`: the wrong answer that a specific error produces on the same inputs,
e.g. the activation used where its derivative belongs). Otherwise it says how far off
the answer is (maximum relative error) and where.

A message may contain shapes, counts, indices and error sizes. It never contains a
value of the expected answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Default pass mark: maximum relative error, see :func:`max_rel_error`.
RTOL = 1e-6
#: Below this magnitude an expected entry counts as zero (keeps the ratio finite).
FLOOR = 1e-8


@dataclass(frozen=True)
class Mistake:
    """A named wrong answer: ``value`` is what the mistake produces on the current inputs.

    ``message`` names the mistake in words a learner can act on, and must not contain
    numbers from the expected answer. A learner output that matches ``value`` within
    tolerance gets ``message`` instead of a generic "wrong values".
    """

    value: Any
    message: str


# --- standard named mistakes -------------------------------------------------------------
# Each returns a Mistake with the course's wording; checks compute `value` from their inputs.


def flipped_sign(value, name: str) -> Mistake:
    return Mistake(value, f"{name} has the wrong sign (it is minus the correct value).")


def sum_instead_of_mean(value, name: str) -> Mistake:
    return Mistake(
        value,
        f"{name} is B times too large: it sums over the batch instead of averaging "
        "(the 1/B factor of the mean is missing).",
    )


def extra_mean(value, name: str) -> Mistake:
    return Mistake(value, f"{name} is B times too small: it divides by B once too often (extra 1/B).")


def missing_bias(value, name: str) -> Mistake:
    return Mistake(value, f"{name} is what you get when the bias b is left out of the computation.")


def wrong_axis(value, name: str, detail: str = "") -> Mistake:
    extra = f" {detail}" if detail else ""
    return Mistake(value, f"{name} reduces over the wrong axis.{extra}")


def activation_instead_of_derivative(value, name: str, activation: str = "the activation") -> Mistake:
    return Mistake(
        value,
        f"{name} uses {activation} itself where its derivative belongs "
        "(multiply by the derivative of the activation, not by the activation).",
    )


def upstream_not_multiplied(value, name: str, upstream: str = "the upstream gradient") -> Mistake:
    return Mistake(
        value,
        f"{name} is the local derivative only: {upstream} was not multiplied in (chain rule).",
    )


def transposed(value, name: str) -> Mistake:
    return Mistake(value, f"{name} is transposed (rows and columns swapped).")


# --- describing and converting values ----------------------------------------------------


def describe(x) -> str:
    """Short description of a value's type and shape, never its contents."""
    if x is None:
        return "None"
    if x is Ellipsis:
        return "the placeholder `...`"
    if isinstance(x, bool | np.bool_):
        return "a bool (True/False)"
    if isinstance(x, str):
        return "a string"
    if isinstance(x, bytes):
        return "bytes"
    if isinstance(x, int | float | np.number):
        return "a single number"
    if isinstance(x, np.ndarray):
        kind = "" if x.dtype.kind == "f" else f" of dtype {x.dtype}"
        return "a 0-d array" + kind if x.ndim == 0 else f"an array of shape {x.shape}{kind}"
    if isinstance(x, list | tuple):
        noun = "list" if isinstance(x, list) else "tuple"
        n = len(x)
        return f"a {noun} of {n} item{'s' if n != 1 else ''}"
    if isinstance(x, dict):
        return "a dict"
    if isinstance(x, type):
        return f"the class {x.__name__}"
    if callable(x):
        return "a function"
    return f"an object of type {type(x).__name__}"


def describe_shape(shape: tuple) -> str:
    """``()`` -> 'a single number (shape ())'; otherwise 'shape (3, 2)'."""
    return "a single number (shape ())" if shape == () else f"shape {shape}"


def as_numeric(x, name: str) -> tuple[np.ndarray | None, str | None]:
    """Convert a learner value to a float64 array, or explain why it cannot be one.

    Returns ``(array, None)`` or ``(None, problem)``.
    """
    if x is None:
        return None, f"{name} is None - did you forget a `return` statement?"
    if x is Ellipsis:
        return None, f"{name} is still the placeholder `...`."
    if isinstance(x, bool | np.bool_):
        return None, f"{name} is a bool (True/False), not a number."
    if isinstance(x, str | bytes | dict | set) or callable(x):
        return None, f"{name} is {describe(x)}, not a number or an array of numbers."
    try:
        with np.errstate(all="ignore"):
            arr = np.asarray(x)
    except Exception:  # ragged lists, objects whose __array__ fails, ...
        return None, (
            f"{name} ({describe(x)}) could not be read as an array of numbers "
            "(a ragged list, or one holding something other than numbers?)."
        )
    if arr.dtype.kind == "b":
        return None, f"{name} holds bools (True/False), not numbers."
    if arr.dtype.kind == "c":
        return None, f"{name} holds complex numbers; expected real numbers."
    if arr.dtype.kind not in "iuf":
        return None, (
            f"{name} ({describe(x)}) could not be read as an array of numbers "
            "(a ragged list, or one holding something other than numbers?)."
        )
    return arr.astype(np.float64, copy=False), None


# --- comparing ---------------------------------------------------------------------------


def max_rel_error(got: np.ndarray, expected: np.ndarray) -> float:
    r""":math:`\max_i |g_i - e_i| / \max(\max_i |e_i|, 10^{-8})` for same-shape arrays.

    Scaling by the largest expected entry (not entry by entry) keeps tiny expected
    entries from inflating the error; the floor keeps it finite when all are zero.
    """
    if got.size == 0:
        return 0.0
    with np.errstate(all="ignore"):
        scale = max(float(np.max(np.abs(expected))), FLOOR)
        return float(np.max(np.abs(got - expected))) / scale


def close(got, expected, rtol: float = RTOL) -> bool:
    """True when both are numeric, have the same shape and agree to ``rtol``."""
    g, problem = as_numeric(got, "value")
    e, _ = as_numeric(expected, "value")
    if problem or e is None or g.shape != e.shape:
        return False
    if not np.all(np.isfinite(g)):
        return False
    return max_rel_error(g, e) <= rtol


def diagnose(
    got,
    expected,
    name: str,
    *,
    mistakes: tuple | list = (),
    batch_size: int | None = None,
    rtol: float = RTOL,
    shape_hint: str = "",
) -> str | None:
    """``None`` if ``got`` equals ``expected`` (to ``rtol``), else a sentence naming the problem.

    ``name`` is how the message refers to the value (e.g. ``"dw"``). ``mistakes`` are
    :class:`Mistake` s computed by the check on the same inputs; they are tried before
    the generic diagnoses. ``batch_size`` lets a factor of B or 1/B be named as a
    missing or extra mean. ``shape_hint`` is appended to a wrong-shape message.
    """
    exp, problem = as_numeric(expected, "expected")
    if problem:
        raise TypeError(f"the check's own expected value for {name} is not numeric: {problem}")
    g, problem = as_numeric(got, name)
    if problem:
        return f"{problem} Expected {describe_shape(exp.shape)}."
    if not np.all(np.isfinite(g)):
        n_nan = int(np.sum(np.isnan(g)))
        n_inf = int(np.sum(np.isinf(g)))
        what = " and ".join(s for s in (f"{n_nan} NaN" if n_nan else "", f"{n_inf} inf" if n_inf else "") if s)
        return (
            f"{name} contains {what} (out of {g.size} entries). NaN comes from 0/0, inf - inf or "
            "an overflow (for example exp of a large number, or a step that diverges)."
        )
    if g.shape == exp.shape and max_rel_error(g, exp) <= rtol:
        return None
    for mistake in mistakes:  # the check's named mistakes come before the generic ones
        if _matches(g, mistake.value, rtol):
            return mistake.message
    if g.shape != exp.shape:
        return _shape_problem(g, exp, name, rtol, shape_hint)
    return _value_problem(g, exp, name, rtol, batch_size)


def _matches(g: np.ndarray, value, rtol: float) -> bool:
    v, problem = as_numeric(value, "mistake")
    if problem or v.shape != g.shape:
        return False
    return max_rel_error(g, v) <= rtol


def _shape_problem(g, exp, name, rtol, shape_hint) -> str:
    hint = f" {shape_hint}" if shape_hint else ""
    got_s, exp_s = describe_shape(g.shape), describe_shape(exp.shape)
    if g.ndim == 2 and g.shape == exp.shape[::-1] and max_rel_error(g.T, exp) <= rtol:
        return f"{name} is transposed: it has {got_s} but should have {exp_s}.{hint}"
    if g.size == exp.size and max_rel_error(g.reshape(exp.shape), exp) <= rtol:
        if exp.ndim == 0:
            tip = " Return a plain number, e.g. float(...), not an array."
        elif exp.ndim == 1 and g.ndim == 2:
            tip = " You have a 2-D row or column; keep it 1-D (e.g. with .ravel())."
        else:
            tip = ""
        return f"{name} has the right numbers in the wrong shape: {got_s}, expected {exp_s}.{tip}{hint}"
    return f"{name} has the wrong shape: expected {exp_s}, got {got_s}.{hint}"


def _value_problem(g, exp, name, rtol, batch_size) -> str:
    if max_rel_error(-g, exp) <= rtol:
        return f"{name} has the wrong sign (it is minus the correct value)."
    if (
        g.ndim == 2
        and g.shape[0] == g.shape[1]
        and max_rel_error(g.T, exp) <= rtol
        and max_rel_error(exp.T, exp) > rtol
    ):
        return f"{name} is transposed (rows and columns swapped)."
    factor = _constant_factor(g, exp, rtol)
    if factor is not None:
        named = _factor_message(name, factor, batch_size)
        if named:
            return named
        if g.size > 1:  # the factor itself is not printed: answer = got / factor
            return f"{name} is off by a constant factor: every entry is scaled by the same number."
    err = max_rel_error(g, exp)
    if g.size == 1:
        # For a single number, the error size would give the answer away; say only how close.
        closeness = (
            "close, but not within the tolerance (rounding, or float32?)"
            if err < 1e-3
            else "within 10% but wrong"
            if err < 0.1
            else "more than 10% off"
        )
        return f"{name} is wrong: it is {closeness}."
    with np.errstate(all="ignore"):
        scale = max(float(np.max(np.abs(exp))), FLOOR)
        wrong = np.abs(g - exp) > rtol * scale
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(np.abs(g - exp))), g.shape))
    where = worst[0] if len(worst) == 1 else worst
    return (
        f"{name} has wrong values: {int(np.sum(wrong))} of {g.size} entries differ, "
        f"maximum relative error {err:.2g}; the largest difference is at index {where}."
    )


def _constant_factor(g, exp, rtol) -> float | None:
    """c such that g = c * exp (c != 1), or None."""
    denom = float(np.sum(exp * exp))
    if denom == 0.0:
        return None
    c = float(np.sum(g * exp)) / denom
    if c == 0.0 or abs(c - 1.0) < 1e-3:
        return None
    return c if max_rel_error(g, c * exp) <= 10 * rtol else None


def _near(x: float, target: float) -> bool:
    return math.isclose(x, target, rel_tol=1e-4)


def _factor_message(name: str, c: float, batch_size: int | None) -> str | None:
    """Name a factor that is a known mistake (B, 1/B, 2, 1/2), else None."""
    if batch_size is not None and batch_size > 2:
        B = batch_size
        if _near(c, B):
            return (
                f"{name} is B = {B} times too large: it sums over the batch instead of "
                "averaging (the 1/B factor of the mean is missing)."
            )
        if _near(c, 1 / B):
            return f"{name} is B = {B} times too small: it divides by B once too often (extra 1/B)."
        if _near(c, -B):
            return f"{name} has the wrong sign and is B = {B} times too large (missing 1/B)."
    if _near(c, 2.0):
        return f"{name} is exactly twice the correct value: a factor of 2 is extra."
    if _near(c, 0.5):
        return f"{name} is exactly half the correct value: a factor of 2 is missing."
    return None
