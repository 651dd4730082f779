"""Chapter 3's exercise checks: the reference passes, every catalogued mistake is named, stubs and junk are handled."""

import zlib

import numpy as np
import pytest

from nnlib.checks import check
from nnlib.checks._registry import exercise_ids, get_exercise

IDS = exercise_ids("ch3")


def test_at_least_five_exercises():
    assert len(IDS) >= 5
    assert {"ch3.sigmoid_prime", "ch3.softmax_ce_grad", "ch3.linear_backward", "ch3.error_recursion",
            "ch3.l2_weight_grad"} <= set(IDS)


@pytest.mark.parametrize("exercise_id", IDS)
def test_reference_is_correct(exercise_id):
    ex = get_exercise(exercise_id)
    result = check(exercise_id, ex.reference)
    assert result.status == "correct", result.message


@pytest.mark.parametrize(
    "exercise_id, wrong",
    [(i, w) for i in IDS for w in get_exercise(i).wrong_answers],
    ids=lambda v: v if isinstance(v, str) else v.expect,
)
def test_wrong_answer_is_named(exercise_id, wrong):
    result = check(exercise_id, wrong.answer)
    assert result.status == "incorrect", result.message
    assert wrong.expect in result.message, result.message


@pytest.mark.parametrize("exercise_id", IDS)
def test_every_exercise_catalogues_mistakes(exercise_id):
    assert len(get_exercise(exercise_id).wrong_answers) >= 3


@pytest.mark.parametrize("exercise_id", IDS)
def test_stub_is_not_attempted(exercise_id):
    def stub(*args):
        raise NotImplementedError

    assert check(exercise_id, stub).status == "not attempted"


@pytest.mark.parametrize("exercise_id", IDS)
@pytest.mark.parametrize("junk", [None, 3, "text", lambda *a: None, lambda *a: "x", lambda *a: 1 / 0])
def test_junk_never_raises(exercise_id, junk):
    result = check(exercise_id, junk)
    assert result.status in ("incorrect", "error"), result.message


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
