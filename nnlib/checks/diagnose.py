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
from fractions import Fraction
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
        return None, f"{name} is still the placeholder `...` (Ellipsis)."
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
    sizes: dict | None = None,
    inputs: dict | None = None,
) -> str | None:
    """``None`` if ``got`` equals ``expected`` (to ``rtol``), else a sentence naming the problem.

    ``name`` is how the message refers to the value (e.g. ``"dw"``). ``mistakes`` are
    :class:`Mistake` s computed by the check on the same inputs; they are tried before
    the generic diagnoses, and one is named only when no other catalogued mistake gives
    the same result (otherwise the message names every candidate, see
    :func:`ambiguous_message`). ``batch_size`` lets a factor of B or 1/B be named as a
    missing or extra mean. ``shape_hint`` is appended to a wrong-shape message.
    ``sizes`` maps names of the inputs' sizes and numbers (``"X.shape[1]"``, ``"lr"``) to
    their values, so that a constant factor equal to one of them is named. ``inputs`` maps
    names of the input arrays to them, so that wrong entries that sit exactly where an input
    is positive (or negative) are said to.
    """
    verdict = judge(
        got, expected, name, mistakes=mistakes, batch_size=batch_size, rtol=rtol,
        shape_hint=shape_hint, sizes=sizes, inputs=inputs,
    )
    return None if verdict is None else verdict.message


@dataclass(frozen=True)
class Verdict:
    """What :func:`judge` found wrong: the ``message``, and which catalogued mistakes
    matched (``named``: none for a generic diagnosis, one when it is named, several
    when the answer fits more than one and the message names them all)."""

    message: str
    named: tuple = ()
    kind: str = "generic"  # "type", "nonfinite", "shape", "named", "ambiguous", "generic"

    @property
    def ambiguous(self) -> bool:
        return self.kind == "ambiguous"


def judge(
    got,
    expected,
    name: str,
    *,
    mistakes: tuple | list = (),
    batch_size: int | None = None,
    rtol: float = RTOL,
    shape_hint: str = "",
    sizes: dict | None = None,
    inputs: dict | None = None,
) -> Verdict | None:
    """Like :func:`diagnose`, but returns a :class:`Verdict` (or ``None`` when correct)."""
    exp, problem = as_numeric(expected, "expected")
    if problem:
        raise TypeError(f"the check's own expected value for {name} is not numeric: {problem}")
    g, problem = as_numeric(got, name)
    if problem:
        return Verdict(f"{problem} Expected {describe_shape(exp.shape)}.", kind="type")
    if not np.all(np.isfinite(g)):
        return Verdict(_nonfinite_problem(g, exp, name), kind="nonfinite")
    if g.shape == exp.shape and max_rel_error(g, exp) <= rtol:
        return None
    matched = []
    for mistake in mistakes:  # the check's named mistakes come before the generic ones
        if _matches(g, mistake.value, rtol) and all(m.message != mistake.message for m in matched):
            matched.append(mistake)
    if len(matched) == 1:
        return Verdict(matched[0].message, (matched[0],), "named")
    if matched:
        return Verdict(ambiguous_message(name, matched), tuple(matched), "ambiguous")
    if g.shape != exp.shape:
        return Verdict(_shape_problem(g, exp, name, rtol, shape_hint), kind="shape")
    return Verdict(_value_problem(g, exp, name, rtol, batch_size, sizes or {}, inputs or {}))


def ambiguous_message(name: str, mistakes) -> str:
    """The honest message when an answer matches several catalogued mistakes at once."""
    listing = "\n".join(f"- {m.message}" for m in mistakes)
    count = "two" if len(mistakes) == 2 else str(len(mistakes))
    return (
        f"{name} matches {count} known mistakes, which give the same result on these inputs, "
        f"so it cannot tell which one you made:\n{listing}"
    )


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
    why = _shape_pattern(g, exp, rtol)
    if why:  # a recognised pattern: say how it came about
        return f"{name} has the wrong shape, {got_s} instead of {exp_s}.{why}{hint}"
    return f"{name} has the wrong shape: expected {exp_s}, got {got_s}.{hint}"


def _shape_pattern(g, exp, rtol) -> str:
    """A sentence on how a wrong shape probably came about, or ''."""
    k = max(exp.shape, default=0)
    if g.ndim == 2 and g.shape == (k, k) and k > 1 and exp.size == k and exp.ndim in (1, 2):
        return (
            f" A square ({k}, {k}) from a vector of {k} entries is numpy broadcasting: a column "
            f"({k}, 1) and a 1-D ({k},) array (or a row (1, {k})) were combined; give both the "
            "same shape first."
        )
    if g.ndim == exp.ndim + 1 and g.shape[1:] == exp.shape:
        if all(max_rel_error(part, exp) <= rtol for part in g):
            return (
                f" Each of its {g.shape[0]} parts along axis 0 is the whole right answer: it was "
                "repeated (stacked or broadcast); return it once."
            )
        if max_rel_error(g.sum(axis=0), exp) <= rtol:
            return (
                f" It has one entry per sample along axis 0 ({g.shape[0]} of them), and their sum "
                "over that axis is right: the sum over the batch is missing."
            )
        if max_rel_error(g.mean(axis=0), exp) <= rtol:
            return (
                f" It has one entry per sample along axis 0 ({g.shape[0]} of them), and their mean "
                "over that axis is right: the average over the batch is missing."
            )
        return f" It has an extra leading axis of size {g.shape[0]}: a sum or mean over axis 0 is missing?"
    if exp.ndim == g.ndim + 1 and g.ndim >= 1 and exp.shape[1:] == g.shape:
        return (
            f" Axis 0 of size {exp.shape[0]} is missing: one result per row is expected, but "
            "something reduced over the rows (a sum or mean over axis 0?)."
        )
    if exp.ndim == g.ndim + 1 and g.ndim >= 1 and exp.shape[:-1] == g.shape:
        return (
            f" The last axis, of size {exp.shape[-1]}, is missing: something reduced over it "
            "(a sum or mean over the last axis?)."
        )
    if exp.ndim == g.ndim == 2 and exp.shape[0] == g.shape[0] and g.shape[1] == 1 != exp.shape[1]:
        return " One column came back instead of several: a sum or mean with keepdims over axis 1?"
    if exp.ndim == g.ndim == 2 and exp.shape[1] == g.shape[1] and g.shape[0] == 1 != exp.shape[0]:
        return " One row came back instead of several: a sum or mean with keepdims over axis 0?"
    return ""


# --- patterns of a wrong answer that no check catalogued ------------------------------------------
# Each looks at the learner's array g and the expected array exp (same shape) and returns a
# sentence or None. None of them prints a value of the expected answer: they speak of factors
# that are simple fractions or sizes of the inputs, of orders, rows, columns and indices.


def _value_problem(g, exp, name, rtol, batch_size, sizes, inputs) -> str:
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
        named = _factor_message(name, factor, batch_size, sizes, scalar=g.size == 1)
        if named:
            return named
        if g.size > 1:  # the factor itself is not printed: answer = got / factor
            return (
                f"{name} is off by a constant factor: every entry is scaled by the same number "
                "(a factor that should not be there, or one that is missing)."
            )
    err = max_rel_error(g, exp)
    if g.size == 1:
        # For a single number, the error size would give the answer away; say only how close.
        if float(g.reshape(())) == 0.0:
            return f"{name} is 0, but the correct value is not zero."
        closeness = (
            "close, but not within the tolerance (rounding, or float32?)"
            if err < 1e-3
            else "within 10% but wrong"
            if err < 0.1
            else "more than 10% off"
        )
        return f"{name} is wrong: it is {closeness}."
    scale = max(float(np.max(np.abs(exp))), FLOOR)
    tol = rtol * scale
    with np.errstate(all="ignore"):
        wrong = np.abs(g - exp) > tol
    where = _where_wrong(wrong, batch_size)
    condition = _mask_condition(wrong, inputs)
    single = where.startswith("only one entry") or (where.startswith("only the") and "is wrong" in where)
    patterns = (_all_zero, _permuted) if single else (_all_zero, _permuted, _shifted, _scaled_per_line)
    for pattern in patterns:
        found = pattern(g, exp, name, tol)
        if found:
            return found
    if condition:
        where = condition
    zero = wrong & (np.abs(g) <= tol)
    if np.array_equal(zero, wrong):
        k = int(np.sum(wrong))
        return (
            f"{name} is zero where it should not be: {k} of {g.size} entries are 0 although their "
            f"correct value is not{'; ' + where if where else ''}. Was a term or a case left out "
            "for those entries (a branch of a condition, or a loop or slice that stopped short)?"
        )
    if where.startswith("only one entry"):
        return f"{name} has one wrong value: {where} (maximum relative error {err:.2g})."
    if where:
        return (
            f"{name} has wrong values: {int(np.sum(wrong))} of {g.size} entries differ, "
            f"maximum relative error {err:.2g}; {where}."
        )
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(np.abs(g - exp))), g.shape))
    at = worst[0] if len(worst) == 1 else worst
    return (
        f"{name} has wrong values: {int(np.sum(wrong))} of {g.size} entries differ, "
        f"maximum relative error {err:.2g}; the largest difference is at index {at}."
    )


def _mask_condition(wrong: np.ndarray, inputs: dict) -> str:
    """'the wrong entries are exactly those where z > 0' when the mask is a sign of an input."""
    if wrong.all() or not wrong.any():
        return ""
    for label, value in inputs.items():
        if not isinstance(value, np.ndarray) or value.shape != wrong.shape or value.dtype.kind not in "iuf":
            continue
        for text, mask in (
            (f"{label} > 0", value > 0),
            (f"{label} < 0", value < 0),
            (f"{label} >= 0", value >= 0),
            (f"{label} <= 0", value <= 0),
        ):
            if np.array_equal(mask, wrong):
                return f"the wrong entries are exactly those where {text}, and the others are right"
    return ""


def _all_zero(g, exp, name, tol):
    if np.all(np.abs(g) <= tol):
        return (
            f"{name} is all zeros, but the correct value is not: is the result ever computed "
            "or accumulated (an update that was never written, or an array returned before "
            "it was filled)?"
        )
    return None


def _permuted(g, exp, name, tol):
    """The right rows (or columns, or entries) in another order."""
    if g.ndim == 1 and g.size > 1:
        if np.all(np.abs(np.sort(g) - np.sort(exp)) <= tol):
            return f"{name} has the right entries in the wrong order{_order(g, exp, tol)}."
        return None
    if g.ndim != 2:
        return None
    for axis, noun in ((0, "rows"), (1, "columns")):
        a, e = (g, exp) if axis == 0 else (g.T, exp.T)
        if a.shape[0] < 2 or a.shape[0] > _MAX_PERMUTED or _line_permutation(a, e, tol) is None:
            continue
        return f"{name} has the right {noun} in the wrong order{_order(a, e, tol)}."
    return None


#: Rows (or columns) beyond which a permutation is not searched for (it costs rows squared).
_MAX_PERMUTED = 200


def _line_permutation(a, e, tol):
    """perm with a[i] == e[perm[i]] for every row i (a bijection), or None."""
    free = list(range(e.shape[0]))
    perm = []
    for row in a:
        for j in free:
            if np.all(np.abs(row - e[j]) <= tol):
                perm.append(j)
                free.remove(j)
                break
        else:
            return None
    return perm


def _order(a, e, tol) -> str:
    n = a.shape[0]
    if np.all(np.abs(a - e[::-1]) <= tol):
        return " (reversed)"
    for k in range(1, n):
        if np.all(np.abs(a - np.roll(e, k, axis=0)) <= tol):
            return f" (shifted by {k} position{'s' if k > 1 else ''}, wrapping around)"
    return ""


def _shifted(g, exp, name, tol):
    """Off by the same amount everywhere, or by the same row/column in every row/column."""
    diff = g - exp
    if np.all(np.abs(diff - diff.flat[0]) <= tol):
        return (
            f"{name} is off by the same amount in every entry: a constant term is missing or "
            "extra (a bias, or a term that does not depend on the inputs?)."
        )
    if g.ndim != 2:
        return None
    rows, cols = g.shape
    if rows > 1 and np.all(np.abs(diff - diff[0]) <= tol):
        return (
            f"{name} is off by the same row in every row: a term shared by all rows (such as a "
            "bias added to every sample) is missing, extra or wrong."
        )
    if cols > 1 and np.all(np.abs(diff - diff[:, :1]) <= tol):
        return (
            f"{name} is off by the same column in every column: a term shared by all columns is "
            "missing, extra or wrong."
        )
    return None


def _scaled_per_line(g, exp, name, tol):
    """Every row (or column) a multiple of the right one, with different factors."""
    if g.ndim != 2:
        return None
    # An outer product u v^T (one sample's dW = delta a^T): every row is a multiple of v^T, so a
    # wrong u alone rescales each row by its own factor - say which factor is wrong instead.
    rank_one = min(exp.shape) >= 2 and np.linalg.matrix_rank(exp) == 1
    for axis, noun in ((0, "row"), (1, "column")):
        a, e = (g, exp) if axis == 0 else (g.T, exp.T)
        if a.shape[0] < 2 or a.shape[1] < 2:
            continue
        factors = []
        for ra, re in zip(a, e, strict=True):
            denom = float(re @ re)
            if denom == 0.0:
                if np.any(np.abs(ra) > tol):
                    break
                continue
            c = float(ra @ re) / denom
            if np.any(np.abs(ra - c * re) > tol):
                break
            factors.append(c)
        else:
            off = [c for c in factors if abs(c - 1.0) > 1e-6]
            if len(off) >= 2 and max(factors) - min(factors) > 1e-6 * max(abs(c) for c in factors):
                if rank_one and axis == 0:  # rows rescaled: the left factor u of u v^T is wrong
                    return (
                        f"{name} is an outer product whose column (left) factor is wrong while the "
                        "row factor is right: for a weight gradient delta a^T that means the error "
                        "term delta is wrong (the activation entering the layer is right) - check "
                        "how delta reaches this layer."
                    )
                if rank_one:  # columns rescaled: the right factor v of u v^T is wrong
                    return (
                        f"{name} is an outer product whose row (right) factor is wrong while the "
                        "column factor is right: for a weight gradient delta a^T that means the "
                        "error term delta is right but the activation it is paired with is not - "
                        "is it the input of this layer, from this forward pass?"
                    )
                return (
                    f"{name} has each {noun} pointing the right way but scaled by its own factor: "
                    f"a normalisation or division done per {noun} is wrong (a sum or maximum "
                    "over the wrong axis, or the wrong quantity divided by?)."
                )
    return None


def _where_wrong(wrong: np.ndarray, samples: int | None = None) -> str:
    """Where the wrong entries are, when they form a pattern a learner can act on; else ''."""
    n_wrong = int(np.sum(wrong))
    if n_wrong == 0:
        return ""
    if n_wrong == 1 and wrong.size > 2:
        index = tuple(int(i) for i in np.argwhere(wrong)[0])
        at = index[0] if len(index) == 1 else index
        return f"only one entry is wrong, at index {at}; the other {wrong.size - 1} entries are right"
    if wrong.ndim == 1:
        return _where_on_line(wrong, "entry", "entries")
    if wrong.ndim != 2:
        return ""
    rows = _where_on_line(wrong.any(axis=1), "row", "rows", samples)
    if rows and wrong.shape[0] > 1:
        return rows
    if wrong.shape[1] > 1:
        cols = _where_on_line(wrong.any(axis=0), "column", "columns")
        if cols:
            return cols
    return ""


def _where_on_line(bad: np.ndarray, one: str, many: str, samples: int | None = None) -> str:
    """A sentence for a 1-D mask of wrong rows/columns/entries with a simple pattern."""
    n = bad.size
    wrong = [int(i) for i in np.flatnonzero(bad)]
    right = [int(i) for i in np.flatnonzero(~bad)]
    if n < 2 or not right:
        return ""
    if len(wrong) == 1:
        i = wrong[0]
        which = f"the first {one}" if i == 0 else f"the last {one}" if i == n - 1 else f"{one} {i}"
        return f"only {which} is wrong ({one} {i} of 0 to {n - 1}); the other {many} are right"
    if right == [0]:
        why = (
            "as if only the first sample were handled"
            if one == "row" and samples == n
            else "a loop that stops after its first pass, or an index fixed at 0?"
        )
        return f"only the first {one} is right ({many} 1 to {n - 1} are wrong: {why})"
    if right == [n - 1]:
        return f"only the last {one} is right ({many} 0 to {n - 2} are wrong)"
    k = len(right)
    if right == list(range(k)):
        return f"the first {k} {many} are right and the rest are wrong (from {one} {k} on)"
    if right == list(range(n - k, n)):
        return f"the {many} from {one} {n - k} on are right and the first {n - k} are wrong"
    return ""


def _nonfinite_problem(g, exp, name) -> str:
    n_nan = int(np.sum(np.isnan(g)))
    n_inf = int(np.sum(np.isinf(g)))
    what = " and ".join(s for s in (f"{n_nan} NaN" if n_nan else "", f"{n_inf} inf" if n_inf else "") if s)
    bad = ~np.isfinite(g)
    where = ""
    if bad.all():
        where = "every entry is affected"
    elif g.ndim >= 1:
        where = _where_wrong(bad).replace("wrong", "affected").replace("right", "finite")
        if not where:
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            where = f"the first at index {index[0] if len(index) == 1 else index}"
    return (
        f"{name} contains {what} (out of {g.size} entries{'; ' + where if where else ''}). NaN "
        "comes from 0/0, inf - inf or an overflow (for example exp of a large number, or a step "
        "that diverges)."
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


def _factor_message(name: str, c: float, batch_size: int | None, sizes: dict, scalar: bool = False) -> str | None:
    """Name a factor that is a known mistake (B, 1/B, 2, 1/2, a size or number of the inputs,
    or, for an array, a simple fraction), else None."""
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
        if _near(c, 1 / B**2) or _near(c, B**2):
            big = "large" if c > 1 else "small"
            return f"{name} is B² = {B * B} times too {big}: a factor B (or 1/B) is applied twice."
    if _near(c, 2.0):
        return f"{name} is exactly twice the correct value: a factor of 2 is extra."
    if _near(c, 0.5):
        return f"{name} is exactly half the correct value: a factor of 2 is missing."
    named = _size_factor(name, c, sizes)
    if named:
        return named
    if scalar:
        return None
    frac = _simple_fraction(c)
    if frac is None:
        return None
    p, q = frac
    sign = "minus " if p < 0 else ""
    p = abs(p)
    if q == 1:
        return f"{name} is {sign}{p} times the correct value: every entry has the same extra factor {p}."
    if p == 1:
        return (
            f"{name} is {sign}1/{q} of the correct value ({q} times too small): every entry is "
            f"divided by the same {q}."
        )
    return f"{name} is {sign}{p}/{q} times the correct value: every entry is scaled by the same {p}/{q}."


def _size_factor(name: str, c: float, sizes: dict) -> str | None:
    """A factor equal to a size or a number of this test's inputs (e.g. X.shape[1], lr)."""
    by_value: dict = {}
    for label, value in sizes.items():
        if isinstance(value, bool | np.bool_):
            continue
        try:
            v = float(value)
        except (TypeError, ValueError):
            continue
        if not math.isfinite(v) or v == 0.0 or _near(abs(v), 1.0) or _near(abs(v), 2.0) or _near(abs(v), 0.5):
            continue
        by_value.setdefault(v, []).append(label)
    for v, labels in by_value.items():
        shown = f"{int(v)}" if float(v).is_integer() else None
        what = " = ".join(labels[:2]) + (" = ..." if len(labels) > 2 else "")
        named = f"{what} = {shown}" if shown else what
        also = " (on this test they are equal)" if len(labels) > 1 else ""
        if _near(c, v):
            return (
                f"{name} is {named} times the correct value{also}: a factor {labels[0]} is extra, "
                "or a division by it is missing."
            )
        if _near(c, 1 / v):
            if v > 1:
                return (
                    f"{name} is {named} times too small{also}: it divides by {labels[0]} once too "
                    "often, or a factor of it is missing."
                )
            return (
                f"{name} is the correct value divided by {named}{also}: it divides by {labels[0]} "
                "once too often, or a factor of it is missing."
            )
        if _near(c, -v) or _near(c, -1 / v):
            return (
                f"{name} has the wrong sign and is off by a factor {named}{also}: check both the "
                f"sign and where {labels[0]} belongs."
            )
    return None


def _simple_fraction(c: float, largest: int = 12) -> tuple[int, int] | None:
    frac = Fraction(c).limit_denominator(largest)
    if frac == 0 or abs(frac.numerator) > largest:
        return None
    if not math.isclose(float(frac), c, rel_tol=1e-5):
        return None
    return frac.numerator, frac.denominator
