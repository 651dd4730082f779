r"""A scalar reverse-mode automatic differentiation engine (Chapter 2).

Every :class:`Value` is one node of a computational graph: it holds a number
(``data``), the gradient :math:`\partial\,\text{out}/\partial\,\text{node}` filled in by
the last backward pass (``grad``), and the nodes it was computed from. Each
operation below is a few lines that compute the result *and* state the operation's
local derivative in a small closure; the closure multiplies it by the gradient
arriving from above (the *upstream* gradient ``out.grad``) and **adds** the product to
each input's gradient. Adding (``+=``) rather than assigning is what makes a node that
feeds several others right: its gradient is the sum over all paths (Chapter 2, the
multivariable chain rule).

:meth:`Value.backward` visits the graph in reverse topological order - every node
after all the nodes that use it - with an explicit stack, so a chain of 10,000
operations works (no recursion limit).

>>> x = Value(2.0, label="x")
>>> y = x * x + x.exp()
>>> y.backward()
>>> round(x.grad, 6)  # 2x + e^x at x = 2
11.389056

Chapter 2 has the learner write the same engine in five checked steps (a node, ``+`` and
``*``, ``tanh``, the topological order, ``backward``; see :mod:`nnlib.checks.ch2`), with
the same attribute names and the same ``backward`` contract (recompute, do not
accumulate). This one stays the oracle: later chapters use it, and a gradient formula
derived by hand must agree with the engine's ``grad``.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["Value", "ValueOverflowError"]


class ValueOverflowError(OverflowError, ValueError):
    """An operation's result is too large for float64.

    An ``OverflowError`` (what arithmetic raises) and a ``ValueError`` (the inputs are
    out of the range the engine can represent), so either ``except`` catches it.
    """


def _number(x, name: str) -> float:
    """Return ``x`` as a finite Python float (float64), or raise a clear error naming ``name``."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        hint = ""
        if hasattr(x, "shape"):
            hint = " The engine is scalar: make one Value per entry, e.g. [Value(v) for v in x.ravel()]."
        elif isinstance(x, str):
            hint = f" Convert it to a number first, e.g. float({x!r:.20})."
        hint = hint or " Pass a number such as 2.0."
        raise TypeError(f"{name} must be a real number or a Value, got {type(x).__name__} {x!r:.40}.{hint}")
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {x}. NaN and inf have no useful derivative.")
    return x


class Value:
    r"""One scalar node of a computational graph.

    ``data`` holds the value computed by the forward pass and ``grad`` holds
    :math:`\partial y/\partial\,\text{node}` for the output ``y`` of the last
    ``y.backward()`` (0.0 before any backward pass).

    A new operation follows the same pattern as the built-in ones: compute the value,
    record the inputs, and leave a closure that adds local derivative times
    ``out.grad`` to each input's ``grad``::

        def sin(a):
            out = Value(math.sin(a.data), children=(a,), op="sin")
            def _backward():                # d(sin a)/da = cos a
                a.grad += math.cos(a.data) * out.grad
            out._backward = _backward
            return out

    Parameters
    ----------
    data : real number
        The node's value, stored as a float64 Python ``float``.
    label : str
        A name used by :func:`nnlib.engine_draw.draw_graph` (e.g. ``"x"``).
    children : tuple of Value
        The inputs of the operation that produced this node (empty for a leaf).
    op : str
        The name of that operation (empty for a leaf).
    """

    __slots__ = ("data", "grad", "label", "_prev", "_op", "_backward")

    # Make numpy scalars defer to our reflected operators (np.float64(2) * Value(3) is a Value).
    __array_ufunc__ = None

    def __init__(self, data, label: str = "", children: tuple = (), op: str = ""):
        self.data = _number(data, "data")
        self.grad = 0.0
        if not isinstance(label, str):
            raise TypeError(f"label must be a string, got {type(label).__name__}.")
        self.label = label
        if not all(isinstance(c, Value) for c in children):
            raise TypeError("children must be a tuple of Value objects (the inputs of the operation).")
        self._prev = tuple(children)
        self._op = op
        self._backward = _no_op

    @property
    def children(self) -> tuple:
        """The input nodes this node was computed from (empty for a leaf)."""
        return self._prev

    @property
    def op(self) -> str:
        """Name of the operation that produced this node ('' for a leaf)."""
        return self._op

    # ---- helpers ---------------------------------------------------------------
    @staticmethod
    def _lift(other, op: str) -> Value:
        """Turn a plain number into a constant leaf; reject anything else with a clear message."""
        if isinstance(other, Value):
            return other
        return Value(_number(other, f"the other operand of {op}"))

    def _result(self, data: float, children: tuple, op: str) -> Value:
        if not math.isfinite(data):
            raise ValueOverflowError(
                f"{op} produced {data} from inputs {[c.data for c in children]}; "
                "the numbers are too large for float64. Rescale the inputs."
            )
        return Value(data, children=children, op=op)

    # ---- arithmetic --------------------------------------------------------------
    def __add__(self, other) -> Value:
        other = Value._lift(other, "+")
        out = self._result(self.data + other.data, (self, other), "+")

        def _backward():  # d(a+b)/da = 1, d(a+b)/db = 1
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __sub__(self, other) -> Value:
        other = Value._lift(other, "-")
        out = self._result(self.data - other.data, (self, other), "-")

        def _backward():  # d(a-b)/da = 1, d(a-b)/db = -1
            self.grad += out.grad
            other.grad += -out.grad

        out._backward = _backward
        return out

    def __mul__(self, other) -> Value:
        other = Value._lift(other, "*")
        out = self._result(self.data * other.data, (self, other), "*")

        def _backward():  # d(ab)/da = b, d(ab)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __truediv__(self, other) -> Value:
        other = Value._lift(other, "/")
        if other.data == 0.0:
            raise ZeroDivisionError(
                f"division by a Value equal to 0 (numerator {self.data}); the quotient and its gradient are "
                "undefined. Check the denominator, or keep it away from 0 (e.g. b * b + eps)."
            )
        out = self._result(self.data / other.data, (self, other), "/")

        def _backward():  # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
            self.grad += out.grad / other.data
            other.grad += -self.data / other.data**2 * out.grad

        out._backward = _backward
        return out

    def __pow__(self, k) -> Value:
        if isinstance(k, Value):
            raise TypeError("the exponent must be a plain number; for x**y with y a Value use (y * x.log()).exp().")
        k = _number(k, "the exponent k of x**k")
        if self.data < 0 and not k.is_integer():
            raise ValueError(f"x**k with x = {self.data} < 0 needs an integer k, got k = {k} (the result is complex).")
        if self.data == 0 and k < 0:
            raise ZeroDivisionError(f"x**k with x = 0 and negative k = {k} is infinite.")
        out = self._result(self.data**k, (self,), f"**{k:g}")

        def _backward():  # d(x^k)/dx = k x^(k-1)
            if k == 0:  # x**0 is the constant 1 (also at x = 0)
                return
            if self.data == 0 and 0 < k < 1:
                raise ValueError(f"d(x**{k:g})/dx is infinite at x = 0; the derivative does not exist there.")
            self.grad += k * self.data ** (k - 1) * out.grad

        out._backward = _backward
        return out

    def __neg__(self) -> Value:
        out = self._result(-self.data, (self,), "neg")

        def _backward():  # d(-a)/da = -1
            self.grad += -out.grad

        out._backward = _backward
        return out

    # Reflected forms, so that 2 * x, 1 - x, 1 / x work with a plain number on the left.
    def __radd__(self, other) -> Value:
        return Value._lift(other, "+") + self

    def __rsub__(self, other) -> Value:
        return Value._lift(other, "-") - self

    def __rmul__(self, other) -> Value:
        return Value._lift(other, "*") * self

    def __rtruediv__(self, other) -> Value:
        return Value._lift(other, "/") / self

    # ---- elementary functions ---------------------------------------------------
    def exp(self) -> Value:
        try:
            e = math.exp(self.data)
        except OverflowError:
            raise ValueOverflowError(
                f"exp({self.data}) overflows float64: its input must be below about 709. Rescale the inputs."
            ) from None
        out = self._result(e, (self,), "exp")

        def _backward():  # d(e^a)/da = e^a
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self) -> Value:
        if self.data <= 0:
            raise ValueError(f"log needs a positive value, got {self.data}. Check the input, or add a small epsilon.")
        out = self._result(math.log(self.data), (self,), "log")

        def _backward():  # d(ln a)/da = 1/a
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        out = self._result(math.tanh(self.data), (self,), "tanh")

        def _backward():  # d(tanh a)/da = 1 - tanh^2 a
            self.grad += (1.0 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def sigmoid(self) -> Value:
        a = self.data
        s = 1.0 / (1.0 + math.exp(-a)) if a >= 0 else math.exp(a) / (1.0 + math.exp(a))
        out = self._result(s, (self,), "sigmoid")

        def _backward():  # d(sigma(a))/da = sigma(a) (1 - sigma(a))
            self.grad += out.data * (1.0 - out.data) * out.grad

        out._backward = _backward
        return out

    def relu(self) -> Value:
        out = self._result(max(self.data, 0.0), (self,), "relu")

        def _backward():  # d(max(0, a))/da = 1 if a > 0 else 0 (we choose 0 at the kink a = 0)
            self.grad += (1.0 if self.data > 0 else 0.0) * out.grad

        out._backward = _backward
        return out

    # ---- the backward pass --------------------------------------------------------
    def topological_order(self) -> list[Value]:
        """Every node of the graph that ends in ``self``, each after all of its inputs.

        Iterative depth-first search with an explicit stack (no recursion), so deep
        graphs work. ``self`` is the last element.
        """
        order: list[Value] = []
        seen: set[int] = set()
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:
            node, inputs_done = stack.pop()
            if inputs_done:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))  # emitted once everything pushed below has been emitted
            for child in node._prev:
                if id(child) not in seen:
                    stack.append((child, False))
        return order

    def zero_grad(self) -> None:
        """Set ``grad = 0.0`` on every node of the graph that ends in ``self``."""
        for node in self.topological_order():
            node.grad = 0.0

    def backward_steps(self):
        r"""Run the backward pass one node at a time, yielding each node after its rule ran.

        First every gradient in the graph is cleared and the seed
        :math:`\partial y/\partial y = 1` is set on ``self``; then, in reverse topological
        order, each node passes its gradient to its inputs. When a node is yielded, its
        own ``grad`` is final. Used by :meth:`backward` and by the step-by-step figures.
        """
        order = self.topological_order()
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            node._backward()
            yield node

    def backward(self) -> None:
        r"""Fill ``node.grad`` with :math:`\partial\,\text{self}/\partial\,\text{node}` for every node.

        Gradients are **recomputed**, not added to those of an earlier call: the whole
        graph is cleared first, so calling ``backward()`` twice gives the same numbers.
        (PyTorch instead accumulates across calls until you zero the gradients.)
        """
        for _ in self.backward_steps():
            pass

    # ---- printing -----------------------------------------------------------------
    def __repr__(self) -> str:
        name = f"{self.label}: " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"


def _no_op():
    """Backward rule of a leaf: nothing to pass on."""
