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

import numbers

__all__ = ["APPROX", "approx"]

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
            f"got {type(value).__name__} {value!r}; pass one number, e.g. history.loss[-1]"
        )
    if not isinstance(spec, str):
        raise TypeError(f"approx: spec must be a format string such as '.3f', got {type(spec).__name__}")
    try:
        text = format(value, spec)
    except (ValueError, TypeError) as err:
        raise ValueError(
            f"approx: spec {spec!r} is not a format for {type(value).__name__} {value!r} ({err}); "
            "use e.g. '.3f', '.1%' or 'd' for an integer"
        ) from None
    return APPROX + text
