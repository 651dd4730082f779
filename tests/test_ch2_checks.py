"""The Chapter 2 exercise references are right: each against central differences (<= 1e-7, float64).

The generic tests in test_checks_exercises.py cover the feedback (catalogued mistakes,
stubs, junk answers); these make sure the answers the checks compare with are correct.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnlib.checks import ch2, check
from nnlib.engine import Value
from nnlib.gradcheck import THRESHOLD, numerical_gradient, rel_error


def d_dx(f, x):
    return float(numerical_gradient(lambda v: f(float(v[0])), np.array([x]))[0])


@pytest.mark.parametrize("x", [-1.7, -0.3, 0.35, 0.8, 2.2])
def test_chain_rule_reference(x):
    assert rel_error(ch2.dy_dx_log(x), d_dx(lambda v: math.log(1 + v**2), x)) <= THRESHOLD


@pytest.mark.parametrize("x", [-1.3, 0.35, 0.8, 2.2])
def test_two_paths_reference(x):
    assert rel_error(ch2.dy_dx_two_paths(x), d_dx(lambda v: v**2 * math.exp(-v), x)) <= THRESHOLD


@pytest.mark.parametrize("x", [-1.3, 0.35, 0.8, 2.2])
def test_sin_reference_op(x):
    def y_of(v):
        a = ch2.SinValue(v)
        return (a.sin() * a).data

    a = ch2.SinValue(x)
    y = a.sin() * a
    y.backward()
    assert rel_error(a.grad, d_dx(y_of, x)) <= THRESHOLD


@pytest.mark.parametrize("abc", [(0.7, -1.2, 0.4), (-1.5, 0.6, -0.3), (1.1, 1.7, 2.5)])
def test_grad_by_hand_reference_matches_engine_and_central_differences(abc):
    def f(p):
        a, b, c = (Value(float(v)) for v in p)
        return (a * (a * b - c).sigmoid()).data

    numeric = numerical_gradient(f, np.array(abc))
    assert rel_error(np.array(ch2.grad_f(*abc)), numeric) <= THRESHOLD
    assert rel_error(np.array(ch2._engine_grad(*abc)), numeric) <= THRESHOLD


def test_the_known_chain_rule_mistake_is_named():
    result = check("ch2.chain_rule", lambda x: 1.0 / (2.0 * x))
    assert result.status == "incorrect"
    assert "f'(g'(x))" in result.message and "inner VALUE" in result.message


def test_sin_op_accepts_a_correct_learner_class_written_differently():
    class MySin(Value):
        def sin(self):
            out = MySin(math.sin(self.data), children=(self,), op="sin")

            def _backward():
                local = math.cos(self.data)
                self.grad = self.grad + local * out.grad  # same as +=

            out._backward = _backward
            return out

    assert check("ch2.sin_op", MySin).status == "correct"


def test_sin_op_missing_method_is_explained():
    class NoSin(Value):
        pass

    result = check("ch2.sin_op", NoSin)
    assert result.status == "incorrect" and "no method sin" in result.message
