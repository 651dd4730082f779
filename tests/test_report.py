"""nnlib.report.approx: the mark for numbers whose last digits depend on the machine."""

import numpy as np
import pytest

from nnlib.report import APPROX, approx


@pytest.mark.parametrize(
    ("value", "spec", "text"),
    [(0.0112, ".3f", "≈0.011"), (np.float64(0.9777), ".1%", "≈97.8%"), (np.int64(85), "d", "≈85"),
     (3.7e-5, ".1e", "≈3.7e-05"), (-2.5, ".2f", "≈-2.50"), (12345, ",d", "≈12,345")],
)
def test_formats_with_the_mark(value, spec, text):
    assert approx(value, spec) == text
    assert text.startswith(APPROX)


@pytest.mark.parametrize("value", [None, "0.5", [0.5], np.array([0.5, 0.6]), True])
def test_refuses_what_is_not_one_number(value):
    with pytest.raises(TypeError, match="approx: value must be a real number"):
        approx(value)


def test_refuses_a_format_that_does_not_fit():
    with pytest.raises(ValueError, match=r"approx: spec 'd' is not a format for float"):
        approx(0.5, "d")
    with pytest.raises(TypeError, match="approx: spec must be a format string"):
        approx(0.5, 3)
