"""Tests for nnlib.engine: every operation and random expression trees against central differences.

Pass mark: relative error <= 1e-7 in float64 (nnlib.gradcheck.THRESHOLD).
"""

from __future__ import annotations

import math
import operator
import sys

import numpy as np
import pytest

from nnlib.engine import Value
from nnlib.gradcheck import THRESHOLD, numerical_gradient, rel_error


def engine_grad(build, x):
    """Gradient of build(*leaves) w.r.t. the leaves, by the engine; also its value."""
    leaves = [Value(float(v)) for v in x]
    out = build(*leaves)
    out.backward()
    return out.data, np.array([leaf.grad for leaf in leaves])


def numeric_grad(build, x):
    x = np.array(x, dtype=np.float64)
    return numerical_gradient(lambda z: build(*[Value(float(v)) for v in z]).data, x)


# (name, build, point, exact value as a plain float function)
OPS = [
    ("add", lambda a, b: a + b, [0.3, -1.2], lambda a, b: a + b),
    ("radd", lambda a: 2.5 + a, [0.3], lambda a: 2.5 + a),
    ("sub", lambda a, b: a - b, [0.3, -1.2], lambda a, b: a - b),
    ("rsub", lambda a: 2.5 - a, [0.3], lambda a: 2.5 - a),
    ("mul", lambda a, b: a * b, [0.3, -1.2], lambda a, b: a * b),
    ("rmul", lambda a: 2.5 * a, [0.3], lambda a: 2.5 * a),
    ("div", lambda a, b: a / b, [0.3, -1.2], lambda a, b: a / b),
    ("rdiv", lambda a: 2.5 / a, [0.3], lambda a: 2.5 / a),
    ("neg", lambda a: -a, [0.3], lambda a: -a),
    ("pow2", lambda a: a**2, [-0.7], lambda a: a**2),
    ("pow3", lambda a: a**3, [-0.7], lambda a: a**3),
    ("pow_neg1", lambda a: a**-1, [-0.7], lambda a: 1 / a),
    ("pow_half", lambda a: a**0.5, [1.7], math.sqrt),
    ("pow_frac", lambda a: a**1.7, [0.9], lambda a: a**1.7),
    ("exp", lambda a: a.exp(), [0.4], math.exp),
    ("log", lambda a: a.log(), [0.4], math.log),
    ("tanh", lambda a: a.tanh(), [0.4], math.tanh),
    ("sigmoid_pos", lambda a: a.sigmoid(), [0.4], lambda a: 1 / (1 + math.exp(-a))),
    ("sigmoid_neg", lambda a: a.sigmoid(), [-3.1], lambda a: 1 / (1 + math.exp(-a))),
    ("relu_pos", lambda a: a.relu(), [0.4], lambda a: max(a, 0.0)),
    ("relu_neg", lambda a: a.relu(), [-0.4], lambda a: max(a, 0.0)),
]


@pytest.mark.parametrize("name,build,point,exact", OPS, ids=[o[0] for o in OPS])
def test_each_op_value_and_gradient(name, build, point, exact):
    value, grad = engine_grad(build, point)
    assert value == pytest.approx(exact(*point), rel=1e-15, abs=1e-15)
    num = numeric_grad(build, point)
    err = rel_error(grad, num)
    assert err <= THRESHOLD, f"{name}: rel. error {err:.1e} > 1e-7"


def test_relu_gradient_is_zero_at_the_kink():
    x = Value(0.0)
    y = x.relu()
    y.backward()
    assert x.grad == 0.0


def test_sigmoid_does_not_overflow_far_out():
    assert Value(-800.0).sigmoid().data == pytest.approx(0.0, abs=1e-300)
    assert Value(800.0).sigmoid().data == 1.0


# ---- random expression trees -------------------------------------------------------
def random_tree(rng, leaves, depth):
    """A random expression over the leaves, built only from operations defined at its inputs."""
    if depth == 0 or (depth < 4 and rng.random() < 0.25):
        if rng.random() < 0.85:
            return leaves[rng.integers(len(leaves))]
        return Value(float(rng.uniform(-2, 2)))
    kind = rng.integers(12)
    a = random_tree(rng, leaves, depth - 1)
    if kind < 4:
        b = random_tree(rng, leaves, depth - 1)
        if kind == 0:
            return a + b
        if kind == 1:
            return a - b
        if kind == 2:
            return a * b
        return a / (b * b + 0.5)  # denominator >= 0.5
    if kind == 4:
        return a.tanh().exp()  # argument of exp stays in (-1, 1)
    if kind == 5:
        return (a * a + 0.3).log()
    if kind == 6:
        return a.tanh()
    if kind == 7:
        return a.sigmoid()
    if kind == 8:
        return a.relu() + 0.1 * a  # keep some gradient on the negative side
    if kind == 9:
        return a.tanh() ** int(rng.integers(2, 4))
    if kind == 10:
        return (a * a + 0.5) ** 0.5
    return -a


@pytest.mark.parametrize("seed", range(60))
def test_random_expression_trees_match_central_differences(seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.5, 1.5, size=3)

    def build(*leaves):
        tree_rng = np.random.default_rng(1000 + seed)  # same tree for every evaluation
        return random_tree(tree_rng, leaves, depth=5) * 1.0

    _, grad = engine_grad(build, x)
    num = numeric_grad(build, x)
    # (a relu argument within h = 1e-5 of its kink would spoil this; the fixed seeds avoid it)
    err = rel_error(grad, num)
    assert err <= THRESHOLD, f"seed {seed}: rel. error {err:.1e} > 1e-7"


# ---- structure of the graph ---------------------------------------------------------
def test_reused_node_gradients_add_over_paths():
    x = Value(1.5, label="x")
    y = Value(-0.5, label="y")
    q = x + y  # x reaches f along two paths: directly, and through q
    f = q * x
    f.backward()
    assert x.grad == pytest.approx(2 * 1.5 + -0.5, rel=1e-15)  # df/dx = 2x + y
    assert y.grad == pytest.approx(1.5, rel=1e-15)  # df/dy = x
    assert q.grad == pytest.approx(1.5, rel=1e-15)


def test_same_node_used_twice_in_one_operation():
    x = Value(3.0)
    (x * x).backward()
    assert x.grad == 6.0
    x2 = Value(3.0)
    (x2 + x2).backward()
    assert x2.grad == 2.0


def test_ten_thousand_deep_chain_without_recursion():
    n = 10_000
    limit = sys.getrecursionlimit()
    x = Value(0.3, label="x")
    y = x
    for _ in range(n):
        y = y * 1.0001 + 0.0  # two nodes per step: 20,000 operations
    y.backward()
    assert sys.getrecursionlimit() == limit
    assert len(y.topological_order()) == 1 + 4 * n  # x, and per step: constant, product, constant, sum
    assert x.grad == pytest.approx(1.0001**n, rel=1e-10)
    assert y.data == pytest.approx(0.3 * 1.0001**n, rel=1e-10)


def test_deep_chain_of_nonlinear_ops_matches_product_of_local_derivatives():
    x = Value(0.5)
    y = x
    expected = 1.0
    for _ in range(10_000):
        expected *= 1.0 - math.tanh(y.data) ** 2
        y = y.tanh()
    y.backward()
    assert x.grad == pytest.approx(expected, rel=1e-9)


def test_backward_twice_gives_the_same_gradients():
    a, b = Value(0.7), Value(-1.3)
    f = (a * b + a.exp()).tanh() * a
    f.backward()
    first = (a.grad, b.grad)
    f.backward()
    assert (a.grad, b.grad) == first


def test_backward_from_another_output_clears_the_shared_graph():
    x = Value(2.0)
    u = x * x
    g = u * 3.0
    g.backward()
    assert x.grad == 12.0
    u.backward()  # gradient of u alone: 2x, not 12 + 2x
    assert x.grad == 4.0


def test_backward_steps_yield_every_node_once_in_reverse_topological_order():
    x, y = Value(1.0), Value(2.0)
    f = (x * y + x).tanh()
    order = f.topological_order()
    stepped = list(f.backward_steps())
    assert stepped == list(reversed(order))
    assert len({id(n) for n in order}) == len(order) == 5
    # every node appears after its inputs
    pos = {id(n): i for i, n in enumerate(order)}
    assert all(pos[id(c)] < pos[id(n)] for n in order for c in n.children)


def test_zero_grad_clears_the_graph():
    x = Value(2.0)
    f = x * x
    f.backward()
    f.zero_grad()
    assert x.grad == 0.0 and f.grad == 0.0


def test_numpy_scalars_work_and_give_values():
    x = Value(2.0)
    y = np.float64(3.0) * x + np.float32(1.0)
    assert isinstance(y, Value)
    assert y.data == 7.0
    assert isinstance(Value(np.int64(4)).data, float)


# ---- bad input -------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["2", None, [1.0], np.array([1.0, 2.0]), True, 1 + 2j])
def test_non_numeric_data_is_rejected_with_the_argument_name(bad):
    with pytest.raises(TypeError, match="data must be a real number"):
        Value(bad)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_data_is_rejected(bad):
    with pytest.raises(ValueError, match="data must be finite"):
        Value(bad)


@pytest.mark.parametrize("symbol,fn", [("+", operator.add), ("-", operator.sub), ("*", operator.mul), ("/", operator.truediv)])
def test_non_numeric_operand_is_rejected(symbol, fn):
    x = Value(1.0)
    with pytest.raises(TypeError, match=rf"other operand of \{symbol}.*got str"):
        fn(x, "abc")
    with pytest.raises(TypeError, match=rf"other operand of \{symbol}.*got str"):
        fn("abc", x)
    with pytest.raises(TypeError, match="The engine is scalar"):
        fn(x, np.ones(3))


@pytest.mark.parametrize("v", [0.0, -1.0])
def test_log_of_non_positive_value(v):
    with pytest.raises(ValueError, match=f"log needs a positive value, got {v}"):
        Value(v).log()


def test_other_domain_errors():
    with pytest.raises(ZeroDivisionError, match="division by a Value equal to 0"):
        Value(1.0) / Value(0.0)
    with pytest.raises(ZeroDivisionError):
        Value(1.0) / 0
    with pytest.raises(TypeError, match="exponent must be a plain number"):
        Value(2.0) ** Value(2.0)
    with pytest.raises(ValueError, match="needs an integer k"):
        Value(-2.0) ** 0.5
    with pytest.raises(ZeroDivisionError):
        Value(0.0) ** -1
    with pytest.raises(OverflowError, match="exp"):
        Value(1000.0).exp()
    with pytest.raises(OverflowError, match="too large for float64"):
        Value(1e200) * Value(1e200)
    with pytest.raises(TypeError, match="label must be a string"):
        Value(1.0, label=3)
    y = Value(0.0) ** 0.5
    with pytest.raises(ValueError, match="infinite at x = 0"):
        y.backward()


def test_power_zero_is_a_constant_even_at_zero():
    x = Value(0.0)
    y = x**0 + x**2
    y.backward()
    assert y.data == 1.0 and x.grad == 0.0


def test_negative_base_with_integer_power_is_allowed():
    x = Value(-2.0)
    y = x**3
    y.backward()
    assert y.data == -8.0 and x.grad == 12.0
