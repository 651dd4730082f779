"""Chapter 3's exercise checks: the reference passes, every catalogued mistake is named, stubs and junk are handled."""

import zlib

import numpy as np

from nnlib.checks import check
from nnlib.checks._registry import exercise_ids

IDS = exercise_ids("ch3")


def test_at_least_five_exercises():
    assert len(IDS) >= 5
    assert {"ch3.sigmoid_prime", "ch3.softmax_ce_grad", "ch3.linear_backward", "ch3.error_recursion",
            "ch3.l2_weight_grad"} <= set(IDS)


# The reference, the catalogued mistakes, the stub and junk answers of every exercise
# are tested for all chapters in tests/test_checks_exercises.py.


def test_message_never_prints_expected_values():
    """A wrong-values message must not leak the reference's numbers."""
    from nnlib.checks.ch3 import sigmoid_prime

    result = check("ch3.sigmoid_prime", lambda z: sigmoid_prime(z) + 0.01 * np.cos(z))
    assert result.status == "incorrect"
    # The first test input, exactly as the check draws it.
    z = np.random.default_rng([zlib.crc32(b"ch3.sigmoid_prime"), 0]).uniform(-6.0, 6.0, size=(7,))
    for v in sigmoid_prime(z):
        assert f"{v:.3f}" not in result.message
        assert f"{v:.3g}" not in result.message


def test_transposed_dW_is_diagnosed_even_for_square_layers():
    result = check("ch3.linear_backward", lambda W, b, x, d: (x @ d.T, d, W.T @ d))
    assert "wrong way round" in result.message
