"""How chapters print numbers that another machine would print differently.

A trained network's loss or accuracy after many steps depends on the last bits of every
``exp``, ``tanh`` and sum on the way. numpy picks its SIMD kernels by CPU (SSE, AVX2,
AVX-512, NEON) and BLAS libraries pick their own, so those last bits differ between
machines, and many training steps amplify them into printed digits (Chapter 5's 8-layer
ReLU network ends at a loss between 0.009 and 0.017 depending on the machine).

Such a number is printed through :func:`approx`, which marks it with ``≈``. The notebook
tests (nbval, ``tests/nbval_sanitize.cfg``) compare everything in a cell's output except
the marked numbers, and the cell asserts the claim the text makes about them (the loss is
below a bound, one method beats another), so the test still fails when the claim breaks.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["APPROX", "approx", "verdict", "verdicts"]

APPROX = "≈"  # the mark nbval's sanitiser looks for


def approx(value, spec: str = ".3g") -> str:
    """Format a machine-dependent number, marked with ``≈``: ``approx(0.0112, ".3f")`` is ``"≈0.011"``.

    Parameters
    ----------
    value : real number (Python or numpy scalar)
        A result whose last digits depend on the CPU and BLAS (a trained model's loss,
        accuracy, weight norm, count of dead units).
    spec : str
        A format specification as in ``format(value, spec)``, e.g. ``".3f"``, ``".1%"``, ``"d"``.

    Returns
    -------
    str
        ``"≈"`` followed by the formatted number, with no space in between.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"approx: value must be a real number (a loss, an accuracy, a count), "
            f"got {type(value).__name__} {value!r:.40}; pass one number, e.g. history.loss[-1]"
        )
    if not math.isfinite(value):
        raise ValueError(
            f"approx: value must be finite, got {value!r}; a NaN or infinite result is a failure "
            "to report, not a number to print (check the learning rate, or the cell's computation)"
        )
    if not isinstance(spec, str):
        raise TypeError(f"approx: spec must be a format string such as '.3f', got {type(spec).__name__}")
    try:
        text = format(value, spec)
    except (ValueError, TypeError) as err:
        raise ValueError(
            f"approx: spec must be a format for {type(value).__name__} {value!r}, got {spec!r} ({err}); "
            "use e.g. '.3f', '.1%' or 'd' for an integer"
        ) from None
    return APPROX + text


def _threshold_default():
    from .gradcheck import THRESHOLD

    return THRESHOLD


def _check_line(name, error, threshold, width, who):
    """Validate the arguments of a one-line check report; returns the threshold to use.

    Shared by :func:`verdict` and :func:`nnlib.diagnostics.format_error`; ``who`` names the
    caller in the messages.
    """
    if not isinstance(name, str):
        raise TypeError(f"{who}: name must be a string such as 'dW1', got {type(name).__name__}; "
                        "pass the quantity's name, e.g. 'dW1'")
    if isinstance(error, bool) or not isinstance(error, numbers.Real):
        raise TypeError(
            f"{who}: error must be a relative error (a real number), got {type(error).__name__} "
            f"{error!r:.40}; pass rel_error(analytic, numeric)"
        )
    if threshold is None:
        threshold = _threshold_default()
    elif isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or not 0 < threshold < math.inf:
        raise ValueError(f"{who}: threshold must be a positive number such as 1e-7, got {threshold!r:.40}; "
                         "leave it out to use nnlib.gradcheck.THRESHOLD")
    if isinstance(width, bool) or not isinstance(width, int) or not 0 <= width <= 200:
        raise ValueError(f"{who}: width must be a whole number from 0 to 200, got {width!r:.40}; "
                         "pass e.g. width=6")
    return threshold


def verdict(name: str, error, threshold: float | None = None, *, width: int = 0) -> None:
    """Print one line for a gradient check, and stop the notebook if it fails.

    ``verdict("dW1", 3.1e-11)`` prints ``dW1  rel. error 3.1e-11  (pass: <= 1e-07)``.

    The relative error of a correct gradient is round-off (about 1e-11 for central
    differences in float64), so its digits differ between machines; the notebook tests
    compare the line without them (``tests/nbval_sanitize.cfg``) and rely on the assertion
    made here instead: an error above ``threshold`` (or NaN) raises ``AssertionError``
    with the quantity's name, so a wrong formula still stops the notebook.

    Parameters
    ----------
    name : str
        The quantity checked, in the book's notation (``"dW1"``, ``"dL/db2"``).
    error : real number
        Its relative error, e.g. from :func:`nnlib.gradcheck.rel_error`.
    threshold : float, optional
        The bar; :data:`nnlib.gradcheck.THRESHOLD` (1e-7, float64) by default.
    width : int
        Pad ``name`` to this many characters, to align a column of verdicts.
    """
    threshold = _check_line(name, error, threshold, width, who="verdict")
    line = f"{name:<{width}}  rel. error {float(error):.1e}  (pass: <= {threshold:.0e})"
    if not error <= threshold:  # also catches NaN
        raise AssertionError(
            f"{name}: relative error {float(error):.1e} is above the threshold {threshold:.0e}; "
            "the formula and the reference disagree"
        )
    print(line)  # printed, not returned: a cell ending in verdict(...) shows the line once


def verdicts(errors: dict, threshold: float | None = None) -> None:
    """:func:`verdict` for each ``name -> error`` of ``errors``, names aligned in a column."""
    width = max((len(str(name)) for name in errors), default=0)
    for name, error in errors.items():
        verdict(str(name), error, threshold, width=width)
