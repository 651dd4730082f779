r"""Checks for Chapter 2, the chain rule and computational graphs.

``ch2.chain_rule``
    ``dy_dx(x)`` for :math:`y = \ln(1 + x^2)`: by the chain rule with
    :math:`g(x) = 1 + x^2` and :math:`f(u) = \ln u`,
    :math:`y' = f'(g(x))\,g'(x) = 2x/(1 + x^2)`.

``ch2.two_paths``
    ``dy_dx(x)`` for :math:`y = u\,v` with :math:`u = x^2` and :math:`v = e^{-x}`:
    x reaches y along two paths, so
    :math:`dy/dx = \frac{\partial y}{\partial u}\frac{du}{dx} + \frac{\partial y}{\partial v}\frac{dv}{dx}
    = 2x e^{-x} - x^2 e^{-x}`.

``ch2.sin_op``
    ``class SinValue(Value)`` with a method ``sin()``: a new engine operation whose
    backward rule adds :math:`\cos(a)\cdot` ``out.grad`` to ``a.grad``.

``ch2.grad_by_hand``
    ``grad_f(a, b, c) -> (df_da, df_db, df_dc)`` for :math:`f = a\,\sigma(ab - c)`,
    checked against the engine: with :math:`s = \sigma(ab - c)` and
    :math:`s' = s(1 - s)`, :math:`\partial f/\partial a = s + a b s'`,
    :math:`\partial f/\partial b = a^2 s'`, :math:`\partial f/\partial c = -a s'`.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..engine import Value
from . import diagnose as d
from ._registry import exercise

# Points where no two catalogued mistakes give the same number.
_XS = [0.8, -1.3, 2.2, 0.35]


def _x_inputs(rng, i):
    return {"x": _XS[i]}


# --- ch2.chain_rule ------------------------------------------------------------------------


def dy_dx_log(x):
    """Reference: derivative of y = ln(1 + x^2), i.e. f'(g(x)) g'(x) = 1/(1 + x^2) * 2x."""
    return 1.0 / (1.0 + x**2) * 2.0 * x


@exercise("ch2.chain_rule", points=1, title="A derivative by the chain rule", reference=dy_dx_log)
def check_chain_rule(answer, t):
    fn = t.require_callable()
    for case in t.cases(_x_inputs, n=len(_XS)):
        x = case["x"]
        got = t.call(fn, x)
        t.compare(
            got,
            t.reference(x),
            "dy_dx(x)",
            mistakes=[
                d.Mistake(
                    1.0 / (2.0 * x),
                    "dy_dx(x) is f'(g'(x)): the outer derivative was evaluated at the inner derivative. "
                    "Evaluate f' at the inner VALUE g(x) and then multiply by g'(x).",
                ),
                d.Mistake(
                    1.0 / (1.0 + x**2),
                    "dy_dx(x) is f'(g(x)) alone: the inner derivative g'(x) is missing (multiply by it).",
                ),
                d.Mistake(2.0 * x, "dy_dx(x) is g'(x) alone: the outer derivative f'(g(x)) is missing."),
                d.Mistake(math.log(1.0 + x**2), "dy_dx(x) returns y itself, not its derivative."),
                d.Mistake(
                    1.0 / (1.0 + x**2) + 2.0 * x,
                    "dy_dx(x) adds f'(g(x)) and g'(x); along one path the local derivatives multiply.",
                ),
            ],
            hint="with u = g(x) = 1 + x^2 and y = f(u) = ln u, dy/dx = f'(u) * g'(x).",
        )


@check_chain_rule.wrong_answer(expect="f'(g'(x))")
def _cr_outer_at_inner_derivative(x):
    """The known mistake y' = f'(g'(x))."""
    return 1.0 / (2.0 * x)


@check_chain_rule.wrong_answer(expect="inner derivative g'(x) is missing")
def _cr_missing_inner(x):
    """Forgets to multiply by g'(x)."""
    return 1.0 / (1.0 + x**2)


@check_chain_rule.wrong_answer(expect="returns y itself")
def _cr_value(x):
    """Returns the function instead of its derivative."""
    return math.log(1 + x**2)


# --- ch2.two_paths ------------------------------------------------------------------------


def dy_dx_two_paths(x):
    """Reference: y = u v, u = x^2, v = exp(-x); both paths: v * 2x + u * (-exp(-x))."""
    u, v = x**2, math.exp(-x)
    return v * 2.0 * x + u * (-v)


@exercise("ch2.two_paths", points=1, title="The total derivative: two paths", reference=dy_dx_two_paths)
def check_two_paths(answer, t):
    fn = t.require_callable()
    for case in t.cases(_x_inputs, n=len(_XS)):
        x = case["x"]
        u, v = x**2, math.exp(-x)
        path_u, path_v = v * 2.0 * x, u * (-v)
        got = t.call(fn, x)
        t.compare(
            got,
            t.reference(x),
            "dy_dx(x)",
            mistakes=[
                d.Mistake(
                    path_u,
                    "dy_dx(x) counts one path only (the one through u = x^2); x also reaches y through "
                    "v = exp(-x), and the contributions of the paths add.",
                ),
                d.Mistake(
                    path_v,
                    "dy_dx(x) counts one path only (the one through v = exp(-x)); x also reaches y through "
                    "u = x^2, and the contributions of the paths add.",
                ),
                d.Mistake(
                    path_u * path_v,
                    "dy_dx(x) multiplies the two paths; separate paths ADD (factors multiply only along one path).",
                ),
                d.Mistake(
                    v * 2.0 * x + u * v,
                    "dy_dx(x) has the wrong sign on the path through v: d/dx exp(-x) = -exp(-x).",
                ),
                d.Mistake(
                    2.0 * x * (-v),
                    "dy_dx(x) multiplies the local derivatives du/dx and dv/dx; "
                    "each path is (dy/du)(du/dx) or (dy/dv)(dv/dx), and the two paths add.",
                ),
            ],
            hint="dy/dx = (dy/du)(du/dx) + (dy/dv)(dv/dx) with dy/du = v and dy/dv = u.",
        )


@check_two_paths.wrong_answer(expect="one path only")
def _tp_one_path(x):
    """Only the path through u."""
    return math.exp(-x) * 2 * x


@check_two_paths.wrong_answer(expect="separate paths ADD")
def _tp_product(x):
    """Multiplies the path contributions."""
    return (math.exp(-x) * 2 * x) * (x**2 * -math.exp(-x))


@check_two_paths.wrong_answer(expect="wrong sign")
def _tp_sign(x):
    """d/dx exp(-x) taken as +exp(-x)."""
    return math.exp(-x) * 2 * x + x**2 * math.exp(-x)


# --- ch2.sin_op -----------------------------------------------------------------------------


class SinValue(Value):
    """Reference: the engine's Value with one more operation, sin, whose local derivative is cos."""

    def sin(self):
        out = SinValue(math.sin(self.data), children=(self,), op="sin")

        def _backward():
            self.grad += math.cos(self.data) * out.grad

        out._backward = _backward
        return out


@exercise("ch2.sin_op", points=2, title="A new operation for the engine: sin", reference=SinValue)
def check_sin_op(answer, t):
    cls = t.require_callable("class")
    if isinstance(cls, type) and not hasattr(cls, "sin"):
        t.fail("your class has no method sin; define `def sin(self):` inside it.")
    for case in t.cases(_x_inputs, n=len(_XS)):
        x0 = case["x"]
        a = t.call(cls, x0)
        if not isinstance(a, Value) or not callable(getattr(a, "sin", None)):
            t.fail(f"{d.describe(answer)} must be a class derived from Value with a method sin, "
                   "e.g. class SinValue(Value): ...")
        out = t.call(a.sin)
        if not isinstance(out, Value):
            t.fail(f"a.sin() must return a new Value (out), got {d.describe(out)}.")
        t.compare(
            out.data,
            math.sin(x0),
            "out.data",
            mistakes=[d.Mistake(math.cos(x0), "out.data is cos(a): the forward value of the operation is sin(a); "
                                "cos is its derivative, which belongs in the backward rule.")],
            hint="the forward value is math.sin(self.data).",
        )
        if not any(c is a for c in out.children):
            t.fail(
                "out does not record a as its input: create it with SinValue(..., children=(self,), op='sin'), "
                "otherwise the backward pass never reaches a."
            )
        # y = sin(a) * a: the product's rule runs first and puts sin(a) into a.grad; then the
        # sin rule must ADD cos(a) times its upstream gradient out.grad (which is a, not 1).
        y = out * a
        # Pass no arguments (t.call would copy the graph away from its closures); a partial has no
        # code of its own, so an error is reported at the line of the learner's rule that raised.
        t.call(functools.partial(Value.backward, y))
        s, c = math.sin(x0), math.cos(x0)
        if isinstance(a.grad, np.ndarray) and a.grad.size > 0:
            t.fail(f"a.grad became an array of shape {a.grad.shape}; in the scalar engine it must stay a "
                   "single number. Use math.cos(self.data), not np.cos of a list or array.")
        t.compare(
            a.grad,
            c * x0 + s,
            "a.grad in y = a.sin() * a",
            mistakes=[
                d.Mistake(c * x0, "a.grad lost the contribution of the product: the rule assigns "
                          "(self.grad = ...) instead of adding (self.grad += ...). A node used twice must collect "
                          "both contributions."),
                d.Mistake(c + s, "a.grad is missing the upstream factor: multiply the local derivative "
                          "cos(a) by out.grad (chain rule)."),
                d.Mistake(c, "a.grad is cos(a) alone: the rule assigns instead of adding (use +=) and "
                          "forgets the upstream factor out.grad."),
                d.Mistake(s, "a.grad only has the contribution of the product: the sin node passed nothing "
                          "back. Did you set out._backward = _backward, and does it update self.grad?"),
                d.Mistake(-c * x0 + s, "the local derivative has the wrong sign: d(sin a)/da = +cos a."),
                d.Mistake(s * x0 + s, "the local derivative is sin(a); it should be cos(a)."),
                d.Mistake(math.cos(s) * x0 + s, "the local derivative is evaluated at out.data; use "
                          "cos(self.data), the input's value."),
            ],
            hint="in _backward: self.grad += math.cos(self.data) * out.grad.",
        )


def _sin_variant(rule=None, children=True, attach=True, forward=math.sin):
    """A SinValue whose backward rule is rule(self, out) (None: the correct one)."""

    class Variant(Value):
        def sin(self):
            out = Variant(forward(self.data), children=(self,) if children else (), op="sin")

            def _backward():
                if rule is None:
                    self.grad += math.cos(self.data) * out.grad
                else:
                    rule(self, out)

            if attach:
                out._backward = _backward
            return out

    return Variant


def _assign(self, out):
    self.grad = math.cos(self.data) * out.grad


def _no_upstream(self, out):
    self.grad += math.cos(self.data)


def _array_grad(self, out):
    self.grad += np.cos(np.array([self.data])) * out.grad


def _zero_step_quotient(self, out):
    h = np.float64(0.0)
    self.grad += (np.sin(self.data + h) - np.sin(self.data)) / h * out.grad


def _minus_cos(self, out):
    self.grad += -math.cos(self.data) * out.grad


check_sin_op.add_wrong_answer(_sin_variant(_assign), "instead of adding", "self.grad = ... instead of +=.")
check_sin_op.add_wrong_answer(_sin_variant(_no_upstream), "upstream factor", "Forgets out.grad.")
check_sin_op.add_wrong_answer(_sin_variant(attach=False), "passed nothing back", "Never attaches the rule.")
check_sin_op.add_wrong_answer(_sin_variant(children=False), "does not record a", "Creates out without children.")
check_sin_op.add_wrong_answer(_sin_variant(_minus_cos), "wrong sign", "Uses -cos.")
check_sin_op.add_wrong_answer(_sin_variant(_array_grad), "shape", "np.cos of a one-element array.")
check_sin_op.add_wrong_answer(_sin_variant(_zero_step_quotient), "NaN", "A difference quotient with h = 0.")
check_sin_op.add_wrong_answer(_sin_variant(forward=math.cos), "forward value", "Forward value cos, not sin.")


# --- ch2.grad_by_hand ------------------------------------------------------------------------


def grad_f(a, b, c):
    """Reference: gradient of f = a * sigmoid(a b - c) by hand."""
    s = 1.0 / (1.0 + math.exp(-(a * b - c)))
    ds = s * (1.0 - s)
    return s + a * b * ds, a * a * ds, -a * ds


def _engine_grad(a, b, c):
    """The same gradient from the engine (the oracle the check compares with)."""
    av, bv, cv = Value(a), Value(b), Value(c)
    f = av * (av * bv - cv).sigmoid()
    f.backward()
    return av.grad, bv.grad, cv.grad


_ABC = [(0.7, -1.2, 0.4), (-1.5, 0.6, -0.3), (1.1, 1.7, 2.5), (2.0, -0.4, -1.0)]


def _abc_inputs(rng, i):
    a, b, c = _ABC[i]
    return {"a": a, "b": b, "c": c}


@exercise("ch2.grad_by_hand", points=2, title="A gradient by hand, checked by the engine", reference=grad_f)
def check_grad_by_hand(answer, t):
    fn = t.require_callable()
    for case in t.cases(_abc_inputs, n=len(_ABC)):
        a, b, c = case.args
        da_ref, db_ref, dc_ref = _engine_grad(a, b, c)
        da, db, dc = t.unpack(t.call(fn, a, b, c), ("df_da", "df_db", "df_dc"))
        s = 1.0 / (1.0 + math.exp(-(a * b - c)))
        ds = s * (1.0 - s)
        t.compare(
            da,
            da_ref,
            "df_da",
            mistakes=[
                d.Mistake(
                    s,
                    "df_da counts one path only: a enters f directly AND through z = a b - c; "
                    "add the path through sigma (a * b * sigma'(z)).",
                ),
                d.Mistake(
                    a * b * ds,
                    "df_da counts one path only: the path through sigma is there, but a also "
                    "multiplies sigma(z) directly; add sigma(z).",
                ),
                d.Mistake(s + a * b * s, "df_da uses sigma(z) where its derivative sigma(z)(1 - sigma(z)) belongs."),
                d.Mistake(
                    s + b * ds,
                    "df_da misses the factor a in the path through sigma: f = a * sigma(z), so "
                    "that path is a * sigma'(z) * dz/da.",
                ),
            ],
            hint="f = a * s with s = sigma(z), z = a b - c; a reaches f along two paths.",
        )
        t.compare(
            db,
            db_ref,
            "df_db",
            mistakes=[
                d.Mistake(a * ds, "df_db misses one factor a: df/db = a * sigma'(z) * dz/db and dz/db = a."),
                d.Mistake(a * a * s, "df_db uses sigma(z) where its derivative sigma(z)(1 - sigma(z)) belongs."),
            ],
            hint="df/db = (df/ds)(ds/dz)(dz/db).",
        )
        t.compare(
            dc,
            dc_ref,
            "df_dc",
            mistakes=[
                d.Mistake(a * ds, "df_dc has the wrong sign: z = a b - c, so dz/dc = -1."),
                d.Mistake(-a * s, "df_dc uses sigma(z) where its derivative sigma(z)(1 - sigma(z)) belongs."),
            ],
            hint="df/dc = (df/ds)(ds/dz)(dz/dc) with dz/dc = -1.",
        )


@check_grad_by_hand.wrong_answer(expect="one path only")
def _gh_one_path(a, b, c):
    """Forgets the direct path of a."""
    s = 1.0 / (1.0 + math.exp(-(a * b - c)))
    ds = s * (1.0 - s)
    return a * b * ds, a * a * ds, -a * ds


@check_grad_by_hand.wrong_answer(expect="wrong sign")
def _gh_sign_c(a, b, c):
    """dz/dc taken as +1."""
    s = 1.0 / (1.0 + math.exp(-(a * b - c)))
    ds = s * (1.0 - s)
    return s + a * b * ds, a * a * ds, a * ds


@check_grad_by_hand.wrong_answer(expect="where its derivative")
def _gh_sigma_not_derivative(a, b, c):
    """Uses sigma instead of sigma'."""
    s = 1.0 / (1.0 + math.exp(-(a * b - c)))
    return s + a * b * s, a * a * s, -a * s


@check_grad_by_hand.wrong_answer(expect="3 results")
def _gh_only_da(a, b, c):
    """Returns only df_da."""
    s = 1.0 / (1.0 + math.exp(-(a * b - c)))
    return s + a * b * s * (1 - s)
