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
    with pytest.raises(ValueError, match=r"approx: spec must be a format for float 0.5, got 'd'"):
        approx(0.5, "d")
    with pytest.raises(TypeError, match="approx: spec must be a format string"):
        approx(0.5, 3)


def test_verdict_prints_the_number_and_the_bar(capsys):
    from nnlib.report import verdict, verdicts

    assert verdict("dW1", 3.14e-11) is None
    verdicts({"dW1": 3.14e-11, "db12": 0.0})
    assert capsys.readouterr().out.splitlines() == [
        "dW1  rel. error 3.1e-11  (pass: <= 1e-07)",
        "dW1   rel. error 3.1e-11  (pass: <= 1e-07)",
        "db12  rel. error 0.0e+00  (pass: <= 1e-07)",
    ]


@pytest.mark.parametrize("error", [2.5e-4, float("nan"), float("inf")])
def test_verdict_stops_the_notebook_when_the_check_fails(error, capsys):
    from nnlib.report import verdict

    with pytest.raises(AssertionError, match=r"dW2: relative error .* is above the threshold 1e-07"):
        verdict("dW2", error)
    assert capsys.readouterr().out == ""  # no passing-looking line before the error


def test_verdict_refuses_what_is_not_an_error():
    from nnlib.report import verdict

    with pytest.raises(TypeError, match="verdict: error must be a relative error"):
        verdict("dW1", True)
    with pytest.raises(TypeError, match="verdict: name must be a string"):
        verdict(3, 1e-9)
