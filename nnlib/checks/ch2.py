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

The learner's engine, in five steps (one class ``Value`` with the attributes ``data``,
``grad``, ``children``, ``op`` and ``_backward``, the names :class:`nnlib.engine.Value`
exposes; each step attaches functions to it, and each check is passed the class):

``ch2.value_node``
    ``Value(2.5)`` is a leaf: ``data`` 2.5, ``grad`` 0.0, no children, op ``""``, and a
    ``_backward`` that does nothing; ``Value(d, children=(a, b), op="*")`` records them.

``ch2.add_mul``
    ``a + b`` and ``a * b``, whose rules add local derivative (1, 1; b, a) times
    ``out.grad`` to the inputs' grads (``+=``: tested on grads that already hold
    something, and on ``a * a``).

``ch2.tanh``
    ``x.tanh()`` with the local derivative :math:`1 - \tanh^2 x` at the input (which is
    ``1 - out.data**2``, not ``1 - tanh(out.data)**2``).

``ch2.topo``
    ``topological_order()``: every node once, each after its children, ``self`` last.

``ch2.backward``
    ``backward()``: clear every grad, seed ``self.grad = 1``, run the rules in reverse
    topological order. The contract is nnlib.engine's: a call recomputes, so two calls
    give the same numbers. Tested with the check's own rules (gradients left from an
    earlier pass, a second call), then the learner's whole engine against nnlib.engine.

Every catalogued mistake of these five is the reference engine :data:`EngineValue` with one
bug (:func:`_engine`); a check replays its scenario with each bug to predict the wrong
answer it produces, and names a bug only if its prediction matches and every earlier
comparison agreed with it.

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
from ._tester import Incorrect, Tester

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
                d.Mistake(
                    2.0,
                    "dy_dx(x) evaluates the outer derivative at x itself, f'(x) g'(x); evaluate f' at "
                    "the inner value u = g(x).",
                ),
                d.Mistake(
                    2.0 / (1.0 + x**2),
                    "dy_dx(x) takes the inner derivative of x^2 to be 2; it is 2x.",
                ),
                d.Mistake(
                    2.0 * x / (1.0 + x**2) ** 2,
                    "dy_dx(x) uses 1/u^2 as the derivative of ln u; d(ln u)/du = 1/u.",
                ),
                d.Mistake(
                    1.0,
                    "dy_dx(x) multiplies f'(g(x)) by the inner VALUE g(x) where the inner derivative "
                    "g'(x) belongs.",
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


@check_chain_rule.wrong_answer(expect="g'(x) alone")
def _cr_inner_only(x):
    """Only the inner derivative."""
    return 2.0 * x


@check_chain_rule.wrong_answer(expect="adds f'(g(x)) and g'(x)")
def _cr_sum(x):
    """Adds the two local derivatives."""
    return 1.0 / (1.0 + x**2) + 2.0 * x


@check_chain_rule.wrong_answer(expect="at x itself")
def _cr_outer_at_x(x):
    """f'(x) g'(x): the outer derivative at the wrong point."""
    return (1.0 / x) * (2.0 * x)


@check_chain_rule.wrong_answer(expect="it is 2x")
def _cr_inner_two(x):
    """d(x^2)/dx taken as 2."""
    return 2.0 / (1.0 + x**2)


@check_chain_rule.wrong_answer(expect="1/u^2")
def _cr_log_square(x):
    """d(ln u)/du taken as 1/u^2."""
    return 2.0 * x / (1.0 + x**2) ** 2


@check_chain_rule.wrong_answer(expect="inner VALUE g(x) where")
def _cr_times_inner_value(x):
    """f'(g(x)) g(x)."""
    return (1.0 / (1.0 + x**2)) * (1.0 + x**2)


@check_chain_rule.wrong_answer(expect="exactly half")
def _cr_half(x):
    """d(x^2)/dx taken as x: a factor 2 lost."""
    return x / (1.0 + x**2)


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
                d.Mistake(
                    u * 2.0 * x + v * (-v),
                    "dy_dx(x) takes dy/du = u and dy/dv = v; for a product y = u v the derivative "
                    "with respect to one factor is the OTHER factor.",
                ),
                d.Mistake(
                    v * x + u * (-v),
                    "dy_dx(x) takes du/dx = x on the path through u; the derivative of x^2 is 2x.",
                ),
                d.Mistake(u * v, "dy_dx(x) returns y = u v itself, not its derivative."),
                d.Mistake(
                    2.0 * x - v,
                    "dy_dx(x) adds du/dx and dv/dx alone; each path's local derivative must be "
                    "multiplied by dy/du or dy/dv first.",
                ),
            ],
            hint="dy/dx = (dy/du)(du/dx) + (dy/dv)(dv/dx) with dy/du = v and dy/dv = u.",
        )


@check_two_paths.wrong_answer(expect="through u = x^2); x also")
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


# =============================================================================================
# The learner's engine, built in five steps: ch2.value_node, ch2.add_mul, ch2.tanh, ch2.topo,
# ch2.backward. The learner writes one class Value with the attributes data, grad, children,
# op and _backward (the names nnlib.engine.Value exposes) and adds its methods step by step.
# The reference is the engine below; every catalogued mistake is the same engine with one bug,
# so each mistake's prediction is computed by running it on the check's own inputs.
# =============================================================================================


def _no_op():
    """A leaf's backward rule: nothing to pass on."""


def _engine(bug: str = ""):
    """The reference engine (``bug=""``) or the same engine with one catalogued bug."""

    class Value:
        def __init__(self, data, children=(), op=""):
            self.data = float(data)
            self.grad = 0.0
            self.children = tuple(children)
            self.op = op
            self._backward = _no_op
            if bug == "grad_one":
                self.grad = 1.0
            elif bug == "grad_none":
                self.grad = None
            elif bug == "grad_nan":
                self.grad = math.nan
            elif bug == "grad_data":
                self.grad = self.data
            elif bug == "data_array":
                self.data = np.array([float(data)])
            elif bug == "no_children":
                self.children = ()
            elif bug == "wrapped_children":
                self.children = (children,)
            elif bug == "no_op":
                self.op = ""
            elif bug == "backward_none":
                self._backward = None

        def __add__(self, other):
            out = Value(self.data + other.data, children=(self, other), op="+")

            def _backward():  # d(a+b)/da = d(a+b)/db = 1
                if bug == "add_assign":
                    self.grad = out.grad
                    other.grad = out.grad
                elif bug == "add_no_upstream":
                    self.grad += 1.0
                    other.grad += 1.0
                elif bug == "add_self_only":
                    self.grad += out.grad
                elif bug == "add_out_data":
                    self.grad += out.data * out.grad
                    other.grad += out.data * out.grad
                else:
                    self.grad += out.grad
                    other.grad += out.grad

            if bug != "add_no_attach":
                out._backward = _backward
            return out

        def __mul__(self, other):
            data = self.data + other.data if bug == "mul_forward_sum" else self.data * other.data
            kids = () if bug == "mul_no_children" else (self, other)
            out = Value(data, children=kids, op="*")

            def _backward():  # d(ab)/da = b, d(ab)/db = a
                if bug == "mul_assign":
                    self.grad = other.data * out.grad
                    other.grad = self.data * out.grad
                elif bug == "mul_own":
                    self.grad += self.data * out.grad
                    other.grad += other.data * out.grad
                elif bug == "mul_no_upstream":
                    self.grad += other.data
                    other.grad += self.data
                elif bug == "mul_out_data":
                    self.grad += other.data * out.data
                    other.grad += self.data * out.data
                else:
                    self.grad += other.data * out.grad
                    other.grad += self.data * out.grad

            out._backward = _backward
            return out

        def tanh(self):
            x = self.data
            kids = () if bug == "tanh_no_children" else (self,)
            out = Value(math.tanh(x), children=kids, op="tanh")
            if bug == "tanh_array":  # numpy's tanh of a one-element array
                out.data = np.tanh(np.array([x]))

            def _backward():  # d(tanh x)/dx = 1 - tanh(x)^2, with tanh(x) = out.data
                th = out.data
                local = {
                    "tanh_at_output": 1.0 - math.tanh(th) ** 2,
                    "tanh_itself": th,
                    "tanh_no_square": 1.0 - th,
                    "tanh_plus": 1.0 + th**2,
                    "tanh_input_sq": 1.0 - x**2,
                }.get(bug, 1.0 - th**2)
                if bug == "tanh_assign":
                    self.grad = local * out.grad
                elif bug == "tanh_no_upstream":
                    self.grad += local
                else:
                    self.grad += local * out.grad

            out._backward = _backward
            return out

        def topological_order(self):
            if bug == "topo_one_level":
                return [*dict.fromkeys(self.children), self]
            if bug == "topo_set":
                return set(_topo(self, ""))
            order = _topo(self, bug)
            if bug == "topo_reversed":
                order.reverse()
            elif bug == "topo_no_self":
                order.pop()
            return order

        def backward(self):
            order = self.topological_order()
            if bug == "bw_recursive":  # recursion from the output, no topological order
                for node in order:
                    node.grad = 0.0
                self.grad = 1.0

                def visit(node):
                    node._backward()
                    for child in node.children:
                        visit(child)

                visit(self)
                return
            if bug != "bw_no_reset":
                for node in order:
                    node.grad = 0.0
            self.grad = {"bw_no_seed": 0.0, "bw_seed_data": self.data}.get(bug, 1.0)
            if bug == "bw_no_reset":
                self.grad = 1.0
            if bug == "bw_forward_order":
                nodes = order
            elif bug == "bw_skip_self":
                nodes = list(reversed(order))[1:]
            else:
                nodes = reversed(order)
            for node in nodes:
                node._backward()

        def __repr__(self):
            return f"Value(data={self.data}, grad={self.grad})"

    Value.__qualname__ = Value.__name__ = "Value"
    return Value


def _topo(root, bug: str) -> list:
    """Depth-first topological order (inputs first), or one of the catalogued wrong versions."""
    order, seen = [], set()

    def visit(node):
        if bug != "topo_no_seen":
            if id(node) in seen:
                return
            seen.add(id(node))
        if bug == "topo_preorder":
            order.append(node)
        children = node.children[:1] if bug == "topo_first_child" else node.children
        for child in children:
            if bug == "topo_nested":
                if id(child) not in seen:
                    seen.add(id(child))
                    order.append(_topo(child, ""))
            else:
                visit(child)
        if bug != "topo_preorder":
            order.append(node)

    visit(root)
    return order


_ENGINE_BUGS = (
    # ch2.value_node
    "grad_one", "grad_none", "grad_nan", "grad_data", "data_array", "no_children",
    "wrapped_children", "no_op", "backward_none",
    # ch2.add_mul
    "add_assign", "add_no_upstream", "add_self_only", "add_out_data", "add_no_attach",
    "mul_assign", "mul_own", "mul_no_upstream", "mul_out_data", "mul_forward_sum", "mul_no_children",
    # ch2.tanh
    "tanh_at_output", "tanh_assign", "tanh_no_upstream", "tanh_itself", "tanh_no_square",
    "tanh_plus", "tanh_input_sq", "tanh_array", "tanh_no_children",
    # ch2.topo
    "topo_no_seen", "topo_preorder", "topo_reversed", "topo_one_level", "topo_no_self",
    "topo_first_child", "topo_set", "topo_nested",
    # ch2.backward
    "bw_recursive", "bw_no_seed", "bw_seed_data", "bw_no_reset", "bw_forward_order", "bw_skip_self",
)

#: The learner's engine, and the same engine with each catalogued bug (built once).
EngineValue = _engine()
_ENGINES = {bug: _engine(bug) for bug in _ENGINE_BUGS}

#: bug -> (the phrase its diagnosis must contain, the diagnosis)
_MESSAGES = {
    "grad_one": ("starts at 1.0", "a new Value's grad starts at 1.0; it must start at 0.0, since "
                 "nothing has been added to it yet. Only the output of a backward pass is seeded "
                 "with 1, and backward does that itself."),
    "grad_none": ("grad is None", "a new Value's grad is None; start it at 0.0, so that the "
                  "backward rules can add (+=) to it."),
    "grad_nan": ("grad is NaN", "a new Value's grad is NaN; start it at 0.0 (anything added to "
                 "NaN stays NaN)."),
    "grad_data": ("equal to its data", "a new Value's grad starts equal to its data; grad holds a "
                  "derivative, not the value, and starts at 0.0."),
    "data_array": ("shape", "data is an array of shape (1,); in the scalar engine it must be a "
                   "single number: store float(data)."),
    "no_children": ("does not record its inputs", "a Value made with children=(a, b) does not "
                    "record its inputs (children is empty); keep them, or the backward pass can "
                    "never reach them."),
    "wrapped_children": ("one tuple", "children holds one tuple instead of the input Values "
                         "themselves: store the tuple itself (tuple(children)), not a tuple "
                         "around it."),
    "no_op": ("does not store op", "a Value made with op='*' does not store op, the name of "
              "the operation that produced it (drawings and error messages need it)."),
    "backward_none": ("not a function", "_backward of a new Value is not a function: start it "
                      "as a function that does nothing (a leaf has nothing to pass on)."),
    "add_assign": ("+ rule assigns", "the + rule assigns (self.grad = ...) instead of adding "
                   "(+=): it overwrites what other uses of the same node contributed. A node "
                   "used twice must collect both contributions."),
    "add_no_upstream": ("+ rule adds its local derivative 1", "the + rule adds its local "
                        "derivative 1 but never multiplies it by the upstream gradient "
                        "out.grad (chain rule)."),
    "add_self_only": ("other input gets nothing", "the + rule passes the gradient to self only; "
                      "the other input gets nothing. A sum distributes the upstream gradient to "
                      "BOTH inputs."),
    "add_out_data": ("+ rule multiplies by out.data", "the + rule multiplies by out.data, the "
                     "sum's value; the local derivative of a + b with respect to each input "
                     "is 1."),
    "add_no_attach": ("did you set out._backward", "after the + node's rule ran, its inputs' "
                      "gradients had not changed: did you set out._backward = _backward?"),
    "mul_assign": ("* rule assigns", "the * rule assigns (... = ...) instead of adding (+=): in "
                   "a * a the second assignment overwrites the first factor's contribution. A "
                   "node used twice must collect both contributions."),
    "mul_own": ("OTHER factor", "the * rule uses each input's own value as its local derivative; "
                "the derivative of a * b with respect to a is the OTHER factor b (a product "
                "swaps its inputs)."),
    "mul_no_upstream": ("* rule adds the local derivative", "the * rule adds the local "
                        "derivative (the other factor) but never multiplies it by the upstream "
                        "gradient out.grad (chain rule)."),
    "mul_out_data": ("by out.data, the product's value", "the * rule multiplies the local "
                     "derivative by out.data, the product's value, where the upstream gradient "
                     "out.grad belongs."),
    "mul_forward_sum": ("value of a * b is a sum", "the value of a * b is a sum; the forward "
                        "value of * is the product."),
    "mul_no_children": ("a * b does not record", "the Value returned by a * b does not record "
                        "a and b as its children, so a backward pass could never reach them."),
    "tanh_at_output": ("at the output", "the tanh rule evaluates the derivative at the output "
                       "instead of the input: out.data is already tanh(x), so taking tanh of it "
                       "again computes the slope of tanh at the wrong point."),
    "tanh_assign": ("tanh rule assigns", "the tanh rule assigns (self.grad = ...) instead of "
                    "adding (+=); a node used elsewhere too would lose that contribution."),
    "tanh_no_upstream": ("tanh rule never multiplies", "the tanh rule never multiplies its local "
                         "derivative by the upstream gradient out.grad (chain rule)."),
    "tanh_itself": ("tanh itself", "the tanh rule uses tanh itself where its derivative belongs."),
    "tanh_no_square": ("SQUARE", "the tanh rule's local derivative is 1 minus tanh(x); the "
                       "derivative of tanh is 1 minus its SQUARE."),
    "tanh_plus": ("not plus", "the tanh rule's local derivative is 1 PLUS tanh(x) squared; it is "
                  "1 minus tanh(x) squared, not plus."),
    "tanh_input_sq": ("squares the input", "the tanh rule squares the input x where tanh(x) "
                      "belongs: the derivative is 1 minus the square of tanh(x)."),
    "tanh_array": ("shape", "out.data of x.tanh() is an array of shape (1,); keep the engine "
                   "scalar: take the tanh of the number self.data with math.tanh."),
    "tanh_no_children": ("x.tanh() does not record", "the Value returned by x.tanh() does not "
                         "record x as its child, so a backward pass could never reach x."),
    "topo_no_seen": ("more than once", "topological_order lists a node more than once: a node "
                     "used by two operations is reached along two paths. Remember the nodes "
                     "already visited and skip them."),
    "topo_preorder": ("before visiting its inputs", "topological_order puts a node before its "
                      "inputs: it appends a node before visiting its inputs. Append a node "
                      "only once all of its inputs are in the list."),
    "topo_reversed": ("reverse order", "topological_order is in reverse order (self first); it "
                      "lists every node after its inputs, so self comes last. backward is "
                      "the one that walks it backwards."),
    "topo_one_level": ("direct inputs", "topological_order stops at the direct inputs of self: "
                       "the inputs of the inputs are missing. Visit the inputs recursively."),
    "topo_no_self": ("misses self", "topological_order misses self: its last element must be "
                     "the node it was called on."),
    "topo_first_child": ("only the first input", "topological_order follows only the first "
                         "input of each node; visit every one of its children."),
    "topo_set": ("returns a set", "topological_order returns a set, and a set has no order. "
                 "Return a list."),
    "topo_nested": ("lists inside", "topological_order returns lists inside the list: add the "
                    "nodes themselves to one flat list."),
    "bw_recursive": ("before all the nodes that use it", "backward runs a node's rule before all "
                     "the nodes that use it have added their part: a recursion from the output "
                     "that does not follow the topological order. Run the rules in reverse "
                     "topological order."),
    "bw_no_seed": ("is missing or was overwritten", "after backward the output's grad is 0: "
                   "the seed, the derivative of "
                   "the output with respect to itself (1), is missing or was overwritten."),
    "bw_seed_data": ("seed must be 1", "the output's grad is set to its value; the seed is the "
                     "derivative of the output with respect to itself, so the seed must be 1."),
    "bw_no_reset": ("reset", "the gradients depend on what grad held before the call: backward "
                    "must first reset every node's grad to 0 (as in nnlib.engine, backward() "
                    "recomputes, so calling it twice gives the same numbers)."),
    "bw_forward_order": ("inputs first", "only the output's own rule passed anything on: either "
                         "backward runs the rules in topological order, inputs first (so every "
                         "other rule ran while its out.grad was still 0), or it runs self's rule "
                         "alone. Run every node's rule, in REVERSE topological order, from self "
                         "back to the inputs."),
    "bw_skip_self": ("own rule never ran", "the output's own rule never ran, so no gradient "
                     "left it: the loop over the nodes misses one (self)."),
}


class _Sims:
    """The catalogued bugs' predictions on the check's own inputs.

    ``run(cls)`` replays the check's scenario with one engine class and returns a dict of the
    quantities it compares. After each comparison the learner passed, :meth:`settle` drops
    the bugs that predicted a different value there, so a later diagnosis names a bug only
    if everything checked before is consistent with it.
    """

    def __init__(self, bugs, run):
        self.values = {}
        for bug in bugs:
            try:
                with np.errstate(all="ignore"):
                    self.values[bug] = run(_ENGINES[bug])
            except Exception:  # the bug breaks this scenario outright: nothing to predict
                continue
        self.live = [b for b in bugs if b in self.values]

    def mistakes(self, key, expected):
        out = []
        for bug in self.live:
            value = self.values[bug].get(key)
            if value is None or isinstance(value, np.ndarray) or d.close(value, expected):
                continue
            out.append(d.Mistake(value, _MESSAGES[bug][1]))
        return out

    def settle(self, key, expected):
        self.live = [b for b in self.live if _agrees(self.values[b].get(key), expected)]


def _agrees(value, expected) -> bool:
    return value is not None and not isinstance(value, np.ndarray) and d.close(value, expected)


def _plain(fn, *args):
    return fn(*args)


def _catalogue(exercise, bugs) -> None:
    for bug in bugs:
        expect, message = _MESSAGES[bug]
        exercise.add_wrong_answer(_ENGINES[bug], expect, message.split(":")[0].split(";")[0])


def _attribute(t, node, name, what):
    if not hasattr(node, name):
        t.fail(f"{what} has no attribute {name}; set self.{name} in __init__.")
    return getattr(node, name)


def _check_node(t, cls) -> None:
    """A new Value holds data, grad 0.0, its children, op and a do-nothing _backward."""
    t.case = None
    leaf = t.call(cls, 2.5)
    data = _attribute(t, leaf, "data", "Value(2.5)")
    if isinstance(data, np.ndarray):
        t.fail(_MESSAGES["data_array"][1])
    t.compare(data, 2.5, "Value(2.5).data", hint="store the number as self.data.")
    grad = _attribute(t, leaf, "grad", "Value(2.5)")
    if grad is None:
        t.fail(_MESSAGES["grad_none"][1])
    if isinstance(grad, float) and math.isnan(grad):
        t.fail(_MESSAGES["grad_nan"][1])
    mistakes = [d.Mistake(1.0, _MESSAGES["grad_one"][1]), d.Mistake(2.5, _MESSAGES["grad_data"][1])]
    t.compare(grad, 0.0, "Value(2.5).grad", mistakes=mistakes, hint="a new Value's grad is 0.0.")
    backward = _attribute(t, leaf, "_backward", "Value(2.5)")
    if not callable(backward):
        t.fail(_MESSAGES["backward_none"][1])
    t.call(backward)
    other = t.call(cls, -1.5)
    node = t.call(cls, 0.5, (leaf, other), "*")
    children = _attribute(t, node, "children", "a Value made with children=(a, b)")
    if not isinstance(children, tuple | list):
        t.fail(f"children is {d.describe(children)}; store the inputs as a tuple.")
    if len(children) == 1 and isinstance(children[0], tuple | list):
        t.fail(_MESSAGES["wrapped_children"][1])
    if len(children) == 0:
        t.fail(_MESSAGES["no_children"][1])
    if len(children) != 2 or children[0] is not leaf or children[1] is not other:
        t.fail("a Value made with children=(a, b) must keep exactly a and b, in that order, "
               f"as its children; it holds {d.describe(children)}.")
    if _attribute(t, node, "op", "a Value made with op='*'") != "*":
        t.fail(_MESSAGES["no_op"][1])
    if not isinstance(_attribute(t, leaf, "children", "Value(2.5)"), tuple | list) or leaf.children:
        t.fail("a Value made without children must have an empty children tuple.")


# --- ch2.value_node ----------------------------------------------------------------------------


@exercise("ch2.value_node", points=1, title="A node of the graph: Value", reference=EngineValue)
def check_value_node(answer, t):
    cls = t.require_callable("class")
    _check_node(t, cls)


_NODE_BUGS = ("grad_one", "grad_none", "grad_nan", "grad_data", "data_array", "no_children",
              "wrapped_children", "no_op", "backward_none")
_catalogue(check_value_node, _NODE_BUGS)


# --- ch2.add_mul -------------------------------------------------------------------------------

_BINARY = {
    "a + b": lambda a, b: a + b,
    "a * b": lambda a, b: a * b,
    "a * a": lambda a, b: a * a,
}
_AM_CASES = [(1.3, -0.7, 1.9, 0.4, -0.25), (-2.1, 0.6, -0.8, 1.1, 0.3), (0.45, 1.6, 2.7, -0.9, 0.75)]


def _am_inputs(rng, i):
    return dict(zip(("a", "b", "upstream", "a_grad_before", "b_grad_before"), _AM_CASES[i], strict=True))


def _binary_forward(cls, call, op, a_val, b_val):
    a, b = call(cls, a_val), call(cls, b_val)
    method = getattr(cls, "__add__" if op == "a + b" else "__mul__")  # named in messages
    return a, b, call(method, a, a if op == "a * a" else b)


def _run_rule(call, a, b, out, up, pa, pb):
    a.grad, b.grad, out.grad = pa, pb, up
    call(out._backward)


def _binary_quantities(op, case):
    a_val, b_val, up, pa, pb = case

    def run(cls):
        a, b, out = _binary_forward(cls, _plain, op, a_val, b_val)
        data = out.data
        _run_rule(_plain, a, b, out, up, pa, pb)
        return {"out.data": data, "a.grad": a.grad, "b.grad": b.grad}

    return run


def _has_method(t, cls, name, how):
    if not callable(getattr(cls, name, None)):
        t.fail(f"your Value has no method {name}; define it and attach it: {how}.")


def _returns_node(t, cls, out, expr, inputs):
    if not isinstance(out, cls):
        t.fail(f"{expr} must return a new Value of your class, got {d.describe(out)}.")
    kids = getattr(out, "children", ())
    if not isinstance(kids, tuple | list) or not all(any(k is i for k in kids) for i in inputs):
        bug = "mul_no_children" if "*" in expr else "tanh_no_children" if "tanh" in expr else ""
        t.fail(_MESSAGES[bug][1] if bug else f"the Value returned by {expr} does not record its "
               "inputs as children, so a backward pass could never reach them.")
    if isinstance(out.data, np.ndarray):
        t.fail(_MESSAGES["tanh_array"][1] if "tanh" in expr else
               f"out.data of {expr} is an array of shape {out.data.shape}; keep it a single number.")
    # compared by identity: a learner's Value may define == (and the order is what matters)
    swapped = len(inputs) == 2 and len(kids) >= 2 and (kids[0] is not inputs[0] or kids[1] is not inputs[1])
    if swapped:
        t.fail(f"the Value returned by {expr} records its children as (other, self): keep the "
               "order (self, other), so that a drawn graph shows the inputs where they are.")
    symbol = "+" if " + " in expr else "*" if " * " in expr else None
    op = getattr(out, "op", None)
    if symbol and not (isinstance(op, str) and op == symbol):
        shown = repr(op) if isinstance(op, str) else d.describe(op)
        t.fail(f"the Value returned by {expr} has op {shown}; label it "
               f"{symbol!r}, the operation that made it (a drawn graph shows this label).")


_AM_BUGS = ("add_assign", "add_no_upstream", "add_self_only", "add_out_data", "add_no_attach",
            "mul_assign", "mul_own", "mul_no_upstream", "mul_out_data", "mul_forward_sum")


@exercise("ch2.add_mul", points=2, title="Sum and product with their local derivatives",
          reference=EngineValue)
def check_add_mul(answer, t):
    cls = t.require_callable("class")
    _check_node(t, cls)
    _has_method(t, cls, "__add__", "Value.__add__ = add")
    _has_method(t, cls, "__mul__", "Value.__mul__ = mul")
    for case in t.cases(_am_inputs, n=len(_AM_CASES)):
        a_val, b_val, up, pa, pb = case.args
        for op in _BINARY:
            sims = _Sims(_AM_BUGS, _binary_quantities(op, case.args))
            ref = _binary_quantities(op, case.args)(EngineValue)
            a, b, out = _binary_forward(cls, t.call, op, a_val, b_val)
            _returns_node(t, cls, out, op, (a,) if op == "a * a" else (a, b))
            hint = f"the rule of {op[2]} adds local derivative times out.grad to each input's grad."
            for key in ("out.data", "a.grad", "b.grad"):
                if key == "a.grad":
                    _run_rule(t.call, a, b, out, up, pa, pb)
                got = out.data if key == "out.data" else (a if key == "a.grad" else b).grad
                name = f"{key} for {op}" if key == "out.data" else f"{key} after the rule of {op}"
                t.compare(got, ref[key], name, mistakes=sims.mistakes(key, ref[key]), hint=hint)
                sims.settle(key, ref[key])


_catalogue(check_add_mul, _AM_BUGS + ("mul_no_children", "grad_nan", "data_array"))


# --- ch2.tanh ----------------------------------------------------------------------------------

_TANH_CASES = [(0.63, -1.7, 0.35), (-1.21, 0.45, -0.6), (1.87, 2.3, 0.8)]


def _tanh_inputs(rng, i):
    return dict(zip(("x", "upstream", "x_grad_before"), _TANH_CASES[i], strict=True))


def _tanh_quantities(case):
    x_val, up, pa = case

    def run(cls):
        x = cls(x_val)
        out = x.tanh()
        data = out.data
        x.grad, out.grad = pa, up
        out._backward()
        return {"out.data": data, "x.grad": x.grad}

    return run


_TANH_BUGS = ("tanh_at_output", "tanh_assign", "tanh_no_upstream", "tanh_itself", "tanh_no_square",
              "tanh_plus", "tanh_input_sq")


@exercise("ch2.tanh", points=1, title="A non-linearity: tanh", reference=EngineValue)
def check_tanh(answer, t):
    cls = t.require_callable("class")
    _check_node(t, cls)
    _has_method(t, cls, "tanh", "Value.tanh = tanh")
    for case in t.cases(_tanh_inputs, n=len(_TANH_CASES)):
        x_val, up, pa = case.args
        sims = _Sims(_TANH_BUGS, _tanh_quantities(case.args))
        ref = _tanh_quantities(case.args)(EngineValue)
        x = t.call(cls, x_val)
        out = t.call(x.tanh)
        _returns_node(t, cls, out, "x.tanh()", (x,))
        hint = "the rule adds the derivative of tanh at the input, times out.grad, to x.grad."
        t.compare(out.data, ref["out.data"], "out.data of x.tanh()", hint="use math.tanh.")
        x.grad, out.grad = pa, up
        t.call(out._backward)
        t.compare(x.grad, ref["x.grad"], "x.grad after the tanh rule",
                  mistakes=sims.mistakes("x.grad", ref["x.grad"]), hint=hint)


_catalogue(check_tanh, _TANH_BUGS + ("tanh_array", "tanh_no_children", "grad_nan"))


# --- ch2.topo ----------------------------------------------------------------------------------


def _graph(cls, call):
    """x, y -> q = x y -> r = q + x -> s = tanh r -> f = q s: q and x are each used twice."""
    x, y = call(cls, 0.9), call(cls, -1.4)
    q = call(cls, x.data * y.data, (x, y), "*")
    r = call(cls, q.data + x.data, (q, x), "+")
    s = call(cls, math.tanh(r.data), (r,), "tanh")
    f = call(cls, q.data * s.data, (q, s), "*")
    return {"x": x, "y": y, "q": q, "r": r, "s": s, "f": f}


def _square_graph(cls, call):
    """a -> b = a + a (the same input twice) -> c = b a -> e = tanh c."""
    a = call(cls, 0.7)
    b = call(cls, 2 * a.data, (a, a), "+")
    c = call(cls, b.data * a.data, (b, a), "*")
    e = call(cls, math.tanh(c.data), (c,), "tanh")
    return {"a": a, "b": b, "c": c, "e": e}


def _chain_graph(cls, call):
    """A chain of 200 operations, each also using the first node (deep, with fan-out)."""
    nodes = {"n0": call(cls, 0.5)}
    prev = nodes["n0"]
    for i in range(1, 200):
        prev = nodes[f"n{i}"] = call(cls, prev.data, (prev, nodes["n0"]), "*")
    return nodes


_GRAPHS = [(_graph, 6), (_square_graph, 4), (_chain_graph, 200)]


def _graph_inputs(rng, i):
    return {"nodes": _GRAPHS[i][1]}


def _is_topological(order) -> bool:
    position = {id(n): i for i, n in enumerate(order)}
    return all(position[id(c)] < position[id(n)] for n in order for c in n.children)


def _topo_problem(order, nodes, root) -> str | None:
    """None if ``order`` is a topological order of the graph of ``root``, else a diagnosis."""
    if isinstance(order, set | frozenset):
        return _MESSAGES["topo_set"][1]
    if not isinstance(order, list | tuple):
        return f"topological_order must return a list of nodes, got {d.describe(order)}."
    if any(isinstance(n, list | tuple) for n in order):
        return _MESSAGES["topo_nested"][1]
    known = {id(n) for n in nodes.values()}
    if not all(id(n) in known for n in order):
        return "topological_order returns something that is not a node of the graph."
    ids = [id(n) for n in order]
    if len(set(ids)) != len(ids):
        return _MESSAGES["topo_no_seen"][1]
    missing = known - set(ids)
    if id(root) in missing:
        return _MESSAGES["topo_no_self"][1]
    if missing:
        direct = {id(root)} | {id(c) for c in root.children}
        first, node = set(), root
        while True:
            first.add(id(node))
            if not node.children:
                break
            node = node.children[0]
        if missing == known - direct:
            return _MESSAGES["topo_one_level"][1]
        if missing == known - first:
            return _MESSAGES["topo_first_child"][1]
        return f"topological_order misses {len(missing)} of the {len(known)} nodes of the graph."
    if _is_topological(order):
        return None if order[-1] is root else "topological_order must end with self."
    if _is_topological(order[::-1]):
        return _MESSAGES["topo_reversed"][1]
    if order[0] is root:
        return _MESSAGES["topo_preorder"][1]
    return "topological_order puts a node before one of its inputs."


_TOPO_BUGS = ("topo_no_seen", "topo_preorder", "topo_reversed", "topo_one_level", "topo_no_self",
              "topo_first_child", "topo_set", "topo_nested")


@exercise("ch2.topo", points=1, title="Topological order", reference=EngineValue)
def check_topo(answer, t):
    cls = t.require_callable("class")
    _check_node(t, cls)
    _has_method(t, cls, "topological_order", "Value.topological_order = topological_order")
    for case in t.cases(_graph_inputs, n=len(_GRAPHS)):
        nodes = _GRAPHS[case.index][0](cls, t.call)
        root = list(nodes.values())[-1]
        order = t.call(root.topological_order)
        problem = _topo_problem(order, nodes, root)
        if problem:
            t.fail(problem, hint="visit a node's inputs first (depth first), then append the node; "
                   "skip nodes already visited.")


_catalogue(check_topo, _TOPO_BUGS + ("grad_nan", "data_array"))


# --- ch2.backward ------------------------------------------------------------------------------


def _wire(nodes) -> None:
    """Give the nodes of :func:`_graph` correct rules written here, so only backward is tested."""
    x, y, q, r, s, f = (nodes[k] for k in "xyqrsf")

    def rule_q():
        x.grad += y.data * q.grad
        y.grad += x.data * q.grad

    def rule_r():
        q.grad += r.grad
        x.grad += r.grad

    def rule_s():
        r.grad += (1.0 - s.data**2) * s.grad

    def rule_f():
        q.grad += s.data * f.grad
        s.grad += q.data * f.grad

    q._backward, r._backward, s._backward, f._backward = rule_q, rule_r, rule_s, rule_f


_STALE = 0.3  # what grad holds before the call, as if left over from an earlier pass
_BW_ORDER = ("f", "s", "q", "r", "x", "y")


def _backward_quantities(cls, call=_plain, passes=1):
    nodes = _graph(cls, call)
    _wire(nodes)
    for node in nodes.values():
        node.grad = _STALE
    for _ in range(passes):
        call(nodes["f"].backward)
    return nodes


def _oracle_grads(xv=0.9, yv=-1.4):
    """nnlib.engine's gradients of the same f = (x y) tanh(x y + x)."""
    x, y = Value(xv), Value(yv)
    q = x * y
    f = q * (q + x).tanh()
    f.backward()
    return x.grad, y.grad


_BW_BUGS = ("bw_no_seed", "bw_seed_data", "bw_skip_self", "bw_no_reset", "bw_forward_order",
            "bw_recursive")


def _node_grads(nodes):
    return {k: nodes[k].grad for k in _BW_ORDER}


@exercise("ch2.backward", points=2, title="The backward pass", reference=EngineValue)
def check_backward(answer, t):
    cls = t.require_callable("class")
    _check_node(t, cls)
    _has_method(t, cls, "topological_order", "Value.topological_order = topological_order")
    _has_method(t, cls, "backward", "Value.backward = backward")
    nodes = _graph(cls, t.call)
    if _topo_problem(t.call(nodes["f"].topological_order), nodes, nodes["f"]):
        t.fail("backward relies on your topological_order, which is not right yet; run "
               "check('ch2.topo', Value) and fix it first.")
    ref = _node_grads(_backward_quantities(EngineValue))
    for passes in (1, 2):
        sims = _Sims(_BW_BUGS, lambda c, p=passes: _node_grads(_backward_quantities(c, passes=p)))
        got = _node_grads(_backward_quantities(cls, t.call, passes))
        when = "after backward()" if passes == 1 else "after calling backward() twice"
        for k in _BW_ORDER:
            t.compare(got[k], ref[k], f"{k}.grad {when}", mistakes=sims.mistakes(k, ref[k]),
                      hint="reset every grad, seed the output with 1, then run each node's rule "
                      "from the output back to the inputs.")
            sims.settle(k, ref[k])
    # The whole engine, with the learner's own +, * and tanh, against nnlib.engine.
    if all(callable(getattr(cls, m, None)) for m in ("__add__", "__mul__", "tanh")):
        x, y = t.call(cls, 0.9), t.call(cls, -1.4)
        q = t.call(_BINARY["a * b"], x, y)
        f = t.call(lambda: q * (q + x).tanh())
        t.call(f.backward)
        dx, dy = _oracle_grads()
        if not (d.close(x.grad, dx) and d.close(y.grad, dy)):
            lead = ("your backward is right, but with your own +, * and tanh the gradients of "
                    "f = (x y) tanh(x y + x) disagree with nnlib.engine")
            for step in (check_add_mul, check_tanh):  # find the operation at fault
                try:
                    step.checker(cls, Tester(step, cls))
                except Incorrect as err:
                    t.fail(f"{lead}. The check {step.id} finds: {err}")
            t.fail(f"{lead}: run check('ch2.add_mul', Value) and check('ch2.tanh', Value) again.")


_catalogue(check_backward, _BW_BUGS + ("mul_assign", "tanh_at_output", "grad_nan", "data_array"))


@check_two_paths.wrong_answer(expect="through v = exp(-x)); x also")
def _tp_path_v_only(x):
    """Only the path through v."""
    return x**2 * -math.exp(-x)


@check_two_paths.wrong_answer(expect="du/dx and dv/dx;")
def _tp_local_product(x):
    """Multiplies du/dx by dv/dx."""
    return 2 * x * -math.exp(-x)


@check_two_paths.wrong_answer(expect="OTHER factor")
def _tp_swapped_factors(x):
    """dy/du = u, dy/dv = v."""
    return x**2 * 2 * x + math.exp(-x) * -math.exp(-x)


@check_two_paths.wrong_answer(expect="du/dx = x")
def _tp_lost_two(x):
    """d(x^2)/dx taken as x."""
    return math.exp(-x) * x - x**2 * math.exp(-x)


@check_two_paths.wrong_answer(expect="returns y = u v itself")
def _tp_value(x):
    """Returns y."""
    return x**2 * math.exp(-x)


@check_two_paths.wrong_answer(expect="adds du/dx and dv/dx alone")
def _tp_sum_of_locals(x):
    """du/dx + dv/dx."""
    return 2 * x - math.exp(-x)


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
                          "back. Did you set out._backward = _backward, does it update self.grad, and "
                          "does it read out.grad when it runs (it is still 0 when the node is made)?"),
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
                    s + a * b * (1.0 - s * s),
                    "df_da uses 1 - sigma(z)^2 (the derivative of tanh) for sigma'(z); the sigmoid's is "
                    "sigma(z)(1 - sigma(z)).",
                ),
                d.Mistake(
                    s + a * ds,
                    "df_da misses dz/da = b in the path through sigma: z = a b - c, so dz/da = b.",
                ),
                d.Mistake(
                    a * a * ds,
                    "df_da has the value df_db should have: are the three results returned in the "
                    "order (df_da, df_db, df_dc)?",
                ),
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
                d.Mistake(
                    a * a * (1.0 - s * s),
                    "df_db uses 1 - sigma(z)^2 (the derivative of tanh) for sigma'(z).",
                ),
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


@check_grad_by_hand.wrong_answer(expect="multiplies sigma(z) directly")
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


@check_grad_by_hand.wrong_answer(expect="derivative of tanh")
def _gh_tanh_derivative(a, b, c):
    """Uses 1 - s^2 for the sigmoid's derivative."""
    s = 1.0 / (1.0 + math.exp(-(a * b - c)))
    ds = 1.0 - s * s
    return s + a * b * ds, a * a * ds, -a * ds


@check_grad_by_hand.wrong_answer(expect="dz/da = b")
def _gh_missing_b(a, b, c):
    """Forgets dz/da = b on the path through sigma."""
    s = 1.0 / (1.0 + math.exp(-(a * b - c)))
    ds = s * (1.0 - s)
    return s + a * ds, a * a * ds, -a * ds


@check_grad_by_hand.wrong_answer(expect="in the order")
def _gh_swapped(a, b, c):
    """Returns (df_db, df_da, df_dc)."""
    s = 1.0 / (1.0 + math.exp(-(a * b - c)))
    ds = s * (1.0 - s)
    return a * a * ds, s + a * b * ds, -a * ds


@check_grad_by_hand.wrong_answer(expect="misses one factor a")
def _gh_db_missing_a(a, b, c):
    """df_db with one factor a."""
    s = 1.0 / (1.0 + math.exp(-(a * b - c)))
    ds = s * (1.0 - s)
    return s + a * b * ds, a * ds, -a * ds


@check_grad_by_hand.wrong_answer(expect="add the path through sigma")
def _gh_direct_only(a, b, c):
    """Only the direct path of a."""
    s = 1.0 / (1.0 + math.exp(-(a * b - c)))
    ds = s * (1.0 - s)
    return s, a * a * ds, -a * ds
