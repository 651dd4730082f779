"""A catalogue of wrong answers a learner really writes, one list per exercise.

It is written from the exercises' prompts and model answers only, to measure how well
the checks name mistakes (``measure.py`` runs it). Each :class:`Entry` holds

* ``exercise``: the exercise id, e.g. ``"ch1.mse_gradient"``;
* ``answer``: what the learner passes to ``check`` (a function, a class or a value);
* ``description``: the mistake in a few words;
* ``keywords``: regular expressions (case-insensitive); a diagnosis that names this
  mistake contains at least one of them;
* ``witness`` (optional): a function of the answer that runs it on an input where the
  mistake shows and returns a sentence saying what went wrong (or None if it did not).
  ``measure.py`` runs it for every accepted entry, as evidence that the answer is wrong.

To add an exercise, add a section below that appends entries with :func:`wrong`
(a decorator for functions and classes) or :func:`wrong_value`. Entries of ids that are
not registered are skipped by ``measure.py``; registered ids without entries are listed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Entry:
    exercise: str
    answer: Any
    description: str
    keywords: tuple[str, ...]
    witness: Callable[[Any], str | None] | None = None


CATALOGUE: dict[str, list[Entry]] = {}

# Keyword groups used by many entries (regular expressions, matched case-insensitively).
TRANSPOSED = (r"transpos", r"rows and columns swapped", r"wrong way round")
SIGN = (r"sign", r"minus the correct")
TOO_LARGE_B = (r"B = \d+ times too large", r"B times too large", r"sums? over the batch",
               r"instead of averag", r"1/B (factor )?(of the mean )?is missing", r"missing 1/B",
               r"without the 1/B", r"forg\w* the 1/B", r"no 1/B")
TOO_SMALL_B = (r"times too small", r"divides by B once too often", r"extra 1/B", r"second 1/B",
               r"1/B twice", r"already carries the 1/B", r"divided by B", r"divides by B",
               r"averages over the batch")
IN_PLACE = (r"in place", r"in-place", r"changed (your|the|its)? ?input", r"modif", r"overwr",
            r"changed .* argument")
ORDER = (r"\border\b", r"swapped", r"other way round", r"wrong position", r"in the place of")
FLOAT32 = (r"float32", r"single precision", r"rounding", r"precision")
OVERFLOW = (r"overflow", r"nan", r"\binf\b", r"large (logits|inputs|values|numbers)", r"stabl")
NO_RETURN = (r"return",)


def wrong(exercise: str, description: str, *keywords: str):
    """Decorator: catalogue the decorated function or class as a wrong answer."""

    def register(answer):
        _add(exercise, answer, description, keywords)
        return answer

    return register


def wrong_value(exercise: str, value, description: str, *keywords: str) -> None:
    _add(exercise, value, description, keywords)


def _add(exercise, answer, description, keywords):
    if not keywords:
        raise ValueError(f"{exercise}: {description!r} needs at least one keyword")
    for k in keywords:
        re.compile(k)  # a broken pattern fails here, not in the middle of a measurement
    CATALOGUE.setdefault(exercise, []).append(Entry(exercise, answer, description, tuple(keywords)))


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# =====================================================================================
# Chapter 1
# =====================================================================================
E = "ch1.mse_gradient"


@wrong(E, "sums over the batch instead of averaging (no 1/B)", *TOO_LARGE_B)
def _(X, y, w, b):
    r = X @ w + b - y
    return X.T @ r, float(np.sum(r))


@wrong(E, "residual the wrong way round (y - prediction)", *SIGN)
def _(X, y, w, b):
    r = y - (X @ w + b)
    return X.T @ r / len(y), float(np.mean(r))


@wrong(E, "keeps the 2 of the square although the loss has 1/2", r"twice", r"factor (of )?2",
       r"1/2")
def _(X, y, w, b):
    r = X @ w + b - y
    return 2 * X.T @ r / len(y), float(2 * np.mean(r))


@wrong(E, "divides by the number of features n instead of B", r"features", r"shape\[1\]",
       r"\bn\b instead of B", r"number of (columns|weights)", r"columns of X")
def _(X, y, w, b):
    r = X @ w + b - y
    n = X.shape[1]
    return X.T @ r / n, float(np.sum(r) / n)


@wrong(E, "leaves the bias out of the residual", r"bias", r"\bb\b (is )?(left out|missing)",
       r"without b")
def _(X, y, w, b):
    r = X @ w - y
    return X.T @ r / len(y), float(np.mean(r))


@wrong(E, "averages dw over the wrong axis (one entry per sample)", r"axis",
       r"over the (samples|features)")
def _(X, y, w, b):
    r = X @ w + b - y
    return (X * r[:, None]).mean(axis=1), float(np.mean(r))


@wrong(E, "db is the residual vector, not its mean", r"single number", r"\bmean\b",
       r"average", r"reduce", r"not (summed|averaged)")
def _(X, y, w, b):
    r = X @ w + b - y
    return X.T @ r / len(y), r / len(y)


@wrong(E, "returns (db, dw) instead of (dw, db)", *ORDER)
def _(X, y, w, b):
    r = X @ w + b - y
    return float(np.mean(r)), X.T @ r / len(y)


@wrong(E, "forgets to subtract the target y", r"target", r"residual", r"\by\b (is )?missing",
       r"prediction instead")
def _(X, y, w, b):
    r = X @ w + b
    return X.T @ r / len(y), float(np.mean(r))


E = "ch1.gradient_descent"


@wrong(E, "off by one: n_steps - 1 steps", r"off by one", r"one (step|row|point) (too few|short)",
       r"n_steps \+ 1", r"too few", r"one step")
def _(grad_f, x0, alpha, n_steps):
    x = np.array(x0, dtype=float)
    path = [x]
    for _ in range(n_steps - 1):
        x = x - alpha * grad_f(x)
        path.append(x)
    return np.array(path)


@wrong(E, "leaves the starting point x0 out of the path", r"x0", r"start", r"first row",
       r"first point")
def _(grad_f, x0, alpha, n_steps):
    x = np.array(x0, dtype=float)
    path = []
    for _ in range(n_steps):
        x = x - alpha * grad_f(x)
        path.append(x)
    return np.array(path)


@wrong(E, "steps uphill (x + alpha grad)", *SIGN, r"uphill", r"ascent")
def _(grad_f, x0, alpha, n_steps):
    x = np.array(x0, dtype=float)
    path = [x]
    for _ in range(n_steps):
        x = x + alpha * grad_f(x)
        path.append(x)
    return np.array(path)


@wrong(E, "updates x in place, so every stored row is the same array",
       r"same array", r"in place", r"alias", r"cop(y|ies)", r"every row", r"all rows")
def _(grad_f, x0, alpha, n_steps):
    x = np.array(x0, dtype=float)
    path = [x]
    for _ in range(n_steps):
        x -= alpha * grad_f(x)
        path.append(x)
    return np.array(path)


@wrong(E, "changes the caller's x0 in place", *IN_PLACE, r"x0")
def _(grad_f, x0, alpha, n_steps):
    x = x0
    path = [x.copy()]
    for _ in range(n_steps):
        x -= alpha * grad_f(x)
        path.append(x.copy())
    return np.array(path)


@wrong(E, "returns only the final point", r"only the (last|final)", r"final point",
       r"every point", r"all (the )?points", r"whole path")
def _(grad_f, x0, alpha, n_steps):
    x = np.array(x0, dtype=float)
    for _ in range(n_steps):
        x = x - alpha * grad_f(x)
    return x


@wrong(E, "forgets the learning rate", r"alpha", r"learning rate", r"step size")
def _(grad_f, x0, alpha, n_steps):
    x = np.array(x0, dtype=float)
    path = [x]
    for _ in range(n_steps):
        x = x - grad_f(x)
        path.append(x)
    return np.array(path)


@wrong(E, "evaluates the gradient at x0 every step (stale point)", r"x0", r"current point",
       r"stale", r"same gradient", r"starting point", r"never moves")
def _(grad_f, x0, alpha, n_steps):
    x = np.array(x0, dtype=float)
    path = [x]
    for _ in range(n_steps):
        x = x - alpha * grad_f(np.array(x0, dtype=float))
        path.append(x)
    return np.array(path)


E = "ch1.stable_lr"
wrong_value(E, 0.5, "uses the 4 of 4x^2 as f'' (forgets the 2 of the derivative)",
            r"second derivative", r"f''", r"curvature", r"\b8\b", r"derivative of 4x")
wrong_value(E, 0.125, "gives 1/f'', the fastest rate, not the largest stable one",
            r"1/f''", r"fastest", r"optimal", r"one step", r"best", r"largest stable",
            r"half")
wrong_value(E, 4.0, "inverts the bound: f''/2", r"invert", r"reciprocal", r"upside",
            r"f''/2", r"2/f''")
wrong_value(E, -0.25, "a negative learning rate", *SIGN, r"positive", r"negative")
wrong_value(E, "0.25", "the answer as a string", r"string", r"not a number")
wrong_value(E, (0, 0.25), "the whole range as a tuple", r"tuple", r"upper end",
            r"(one|single) number", r"range")
wrong_value(E, True, "the comparison alpha < 0.25 instead of the number", r"bool",
            r"true/false")
wrong_value(E, 2 / 3, "2/|b| with the linear coefficient 3 in place of f''", r"-3x",
            r"linear (coefficient|term)", r"first derivative", r"f'\(0\)", r"coefficient of x\b")


E = "ch1.minibatch_indices"


@wrong(E, "never shuffles: batches in the order 0..N-1", r"random", r"shuffl", r"permut",
       r"in order", r"sorted", r"same order")
def _(N, batch_size, rng):
    order = np.arange(N)
    return [order[s : s + batch_size] for s in range(0, N, batch_size)]


@wrong(E, "samples with replacement (integers)", r"replacement", r"more than once",
       r"exactly once", r"duplicat", r"twice", r"repeat")
def _(N, batch_size, rng):
    order = rng.integers(0, N, size=N)
    return [order[s : s + batch_size] for s in range(0, N, batch_size)]


@wrong(E, "drops the last, partial batch", r"last", r"remainder", r"left ?over", r"drop",
       r"what is left")
def _(N, batch_size, rng):
    order = rng.permutation(N)
    return [order[s : s + batch_size] for s in range(0, N - batch_size + 1, batch_size)]


@wrong(E, "uses numpy's global generator instead of rng", r"\brng\b", r"generator",
       r"np\.random", r"global", r"seed")
def _(N, batch_size, rng):
    order = np.random.permutation(N)
    return [order[s : s + batch_size] for s in range(0, N, batch_size)]


@wrong(E, "a fresh default_rng(0) each call: the same order every epoch", r"\brng\b",
       r"generator", r"same order", r"fresh", r"seed", r"every epoch")
def _(N, batch_size, rng):
    order = np.random.default_rng(0).permutation(N)
    return [order[s : s + batch_size] for s in range(0, N, batch_size)]


@wrong(E, "splits into N // batch_size nearly equal parts", r"batch[ _]size",
       r"sizes?\b", r"equal")
def _(N, batch_size, rng):
    order = rng.permutation(N)
    return list(np.array_split(order, max(1, N // batch_size)))


@wrong(E, "off by one in the slice: batch_size - 1 indices per batch", r"off by one",
       r"one short", r"batch_size - 1", r"batch[ _]size", r"missing", r"exactly once",
       r"only \d+ of the \d+ samples")
def _(N, batch_size, rng):
    order = rng.permutation(N)
    return [order[s : s + batch_size - 1] for s in range(0, N, batch_size)]


@wrong(E, "returns the permutation itself, not a list of batches", r"\blist\b", r"batches",
       r"split")
def _(N, batch_size, rng):
    return rng.permutation(N)


E = "ch1.momentum_step"


@wrong(E, "updates v in place (changes the caller's array)", *IN_PLACE)
def _(x, v, g, lr, beta):
    v *= beta
    v += g
    return x - lr * v, v


@wrong(E, "moves x with the old velocity, then updates v", r"old v", r"v_new", r"before",
       r"previous velocity", r"stale", r"\border\b")
def _(x, v, g, lr, beta):
    x_new = x - lr * v
    return x_new, beta * v + g


@wrong(E, "returns (v_new, x_new)", *ORDER)
def _(x, v, g, lr, beta):
    v_new = beta * v + g
    return v_new, x - lr * v_new


@wrong(E, "puts beta on the gradient instead of the velocity", r"beta", r"decay",
       r"momentum (rate|coefficient)")
def _(x, v, g, lr, beta):
    v_new = v + beta * g
    return x - lr * v_new, v_new


@wrong(E, "exponential-average form beta v + (1 - beta) g", r"1 ?- ?beta", r"average",
       r"damp", r"exponential")
def _(x, v, g, lr, beta):
    v_new = beta * v + (1 - beta) * g
    return x - lr * v_new, v_new


@wrong(E, "adds the step: x + lr v_new", *SIGN, r"uphill", r"ascent")
def _(x, v, g, lr, beta):
    v_new = beta * v + g
    return x + lr * v_new, v_new


@wrong(E, "puts the learning rate into the velocity (another convention)",
       r"learning rate", r"\blr\b", r"velocity")
def _(x, v, g, lr, beta):
    v_new = beta * v + lr * g
    return x - v_new, v_new


@wrong(E, "returns only x_new", r"expected 2 results", r"return them together", r"both",
       r"two results")
def _(x, v, g, lr, beta):
    return x - lr * (beta * v + g)


# =====================================================================================
# Chapter 2
# =====================================================================================
E = "ch2.chain_rule"


@wrong(E, "f'(g'(x)): the outer derivative at the inner derivative", r"f'\(g'",
       r"g'\(x\)\)", r"at the inner derivative", r"wrong point", r"evaluated at")
def _(x):
    return 1 / (2 * x)


@wrong(E, "forgets the inner derivative g'(x) = 2x", r"inner derivative", r"g'\(x\)",
       r"\b2x\b", r"chain rule", r"missing factor")
def _(x):
    return 1 / (1 + x**2)


@wrong(E, "outer derivative at x instead of g(x)", r"f'\(x\)", r"instead of g\(x\)",
       r"at x\b", r"inner value", r"evaluated at")
def _(x):
    return (1 / x) * (2 * x)


@wrong(E, "adds the two derivatives instead of multiplying", r"add", r"multipl",
       r"product", r"\bsum\b")
def _(x):
    return 1 / (1 + x**2) + 2 * x


@wrong(E, "returns y itself, not its derivative", r"function value", r"y itself",
       r"not the derivative", r"value of y")
def _(x):
    return math.log(1 + x**2)


@wrong(E, "wrong sign", *SIGN)
def _(x):
    return -2 * x / (1 + x**2)


@wrong(E, "derivative of x^2 taken as x", r"half", r"factor (of )?2", r"\b2x\b",
       r"derivative of x\^?2")
def _(x):
    return x / (1 + x**2)


@wrong(E, "a one-sided finite difference instead of the chain rule", r"finite difference",
       r"numerical", r"approximat", r"one-sided")
def _(x):
    h = 1e-4
    return (math.log(1 + (x + h) ** 2) - math.log(1 + x**2)) / h


E = "ch2.two_paths"
_PATH_U = (r"one path", r"only (one|the)", r"path through v", r"via v", r"the v path",
           r"second path", r"both paths", r"two paths", r"missing path")


@wrong(E, "only the path through u", *_PATH_U)
def _(x):
    return math.exp(-x) * 2 * x


@wrong(E, "only the path through v", *_PATH_U, r"path through u", r"via u")
def _(x):
    return -(x**2) * math.exp(-x)


@wrong(E, "multiplies the two paths instead of adding", r"multipl", r"product", r"add",
       r"paths add")
def _(x):
    u, v = x**2, math.exp(-x)
    return (v * 2 * x) * (u * -v)


@wrong(E, "dv/dx = +exp(-x) (sign of the inner derivative)", *SIGN, r"dv/dx",
       r"derivative of v", r"exp\(-x\)", r"e\^\{?-x")
def _(x):
    u, v = x**2, math.exp(-x)
    return v * 2 * x + u * v


@wrong(E, "multiplies the local derivatives du/dx dv/dx (no product rule)",
       r"product rule", r"local derivatives", r"dy/du", r"partial")
def _(x):
    return 2 * x * -math.exp(-x)


@wrong(E, "swaps the partials: dy/du = u and dy/dv = v", r"swapped", r"dy/du", r"dy/dv",
       r"partial")
def _(x):
    u, v = x**2, math.exp(-x)
    return u * 2 * x + v * -v


@wrong(E, "returns y itself", r"function value", r"y itself", r"not the derivative",
       r"value of y", r"itself, not its derivative")
def _(x):
    return x**2 * math.exp(-x)


@wrong(E, "a one-sided finite difference", r"finite difference", r"numerical",
       r"approximat", r"one-sided")
def _(x):
    h = 1e-4
    return ((x + h) ** 2 * math.exp(-(x + h)) - x**2 * math.exp(-x)) / h


E = "ch2.sin_op"


def _sin_class(backward_factory, *, children=True, op="sin", set_backward=True, ret="value"):
    """A SinValue class whose sin() follows the learner's pattern with one slip."""
    from nnlib.engine import Value

    class SinValue(Value):
        def sin(self):
            kids = (self,) if children else ()
            out = SinValue(math.sin(self.data), children=kids, op=op)
            fn = backward_factory(self, out)
            if set_backward:
                out._backward = fn
            return out.data if ret == "data" else out

    return SinValue


def _eq_instead_of_add(self, out):
    def _backward():
        self.grad = math.cos(self.data) * out.grad

    return _backward


def _no_upstream(self, out):
    def _backward():
        self.grad += math.cos(self.data)

    return _backward


def _at_output(self, out):
    def _backward():
        self.grad += math.cos(out.data) * out.grad

    return _backward


def _sin_not_cos(self, out):
    def _backward():
        self.grad += math.sin(self.data) * out.grad

    return _backward


def _minus_cos(self, out):
    def _backward():
        self.grad += -math.cos(self.data) * out.grad

    return _backward


def _stale_upstream(self, out):
    upstream = out.grad  # read when the node is made: still 0

    def _backward():
        self.grad += math.cos(self.data) * upstream

    return _backward


def _correct(self, out):
    def _backward():
        self.grad += math.cos(self.data) * out.grad

    return _backward


wrong_value(E, _sin_class(_eq_instead_of_add), "`=` instead of `+=` in _backward",
            r"\+=", r"overwrit", r"accumulat", r"instead of add", r"two places",
            r"replac")
wrong_value(E, _sin_class(_no_upstream), "forgets to multiply by out.grad",
            r"upstream", r"out\.grad", r"chain rule", r"local derivative only")
wrong_value(E, _sin_class(_at_output), "derivative at the output: cos(out.data)",
            r"output", r"out\.data", r"at the input", r"instead of the input")
wrong_value(E, _sin_class(_sin_not_cos), "sin where its derivative cos belongs",
            r"\bcos", r"derivative of sin", r"itself", r"derivative belongs")
wrong_value(E, _sin_class(_minus_cos), "local derivative -cos (the sign of cos')",
            *SIGN)
wrong_value(E, _sin_class(_correct, children=False), "does not record the input (children)",
            r"children", r"graph", r"record", r"never reached", r"topolog")
wrong_value(E, _sin_class(_correct, set_backward=False), "defines _backward but never sets it",
            r"_backward", r"never (set|assigned|called)", r"not (set|assigned)")
wrong_value(E, _sin_class(_correct, ret="data"), "returns out.data, a float, not the node",
            r"\bValue\b", r"float", r"a number", r"node")
wrong_value(E, _sin_class(_stale_upstream), "reads out.grad when the node is created",
            r"upstream", r"out\.grad", r"stale", r"too early", r"zero")


E = "ch2.grad_by_hand"


def _parts(a, b, c):
    z = a * b - c
    s = 1 / (1 + math.exp(-z))
    return z, s, s * (1 - s)


@wrong(E, "df_da misses the direct path sigma(ab - c)", r"direct", r"two paths", r"path",
       r"product rule")
def _(a, b, c):
    z, s, ds = _parts(a, b, c)
    return a * ds * b, a * ds * a, -a * ds


@wrong(E, "sigma where sigma' belongs", r"σ'", r"sigma ?'", r"σ′", r"derivative of the sigmoid",
       r"itself", r"derivative .{0,40}belongs")
def _(a, b, c):
    z, s, ds = _parts(a, b, c)
    return s + a * s * b, a * s * a, -a * s


@wrong(E, "df_dc with the wrong sign", *SIGN)
def _(a, b, c):
    z, s, ds = _parts(a, b, c)
    return s + a * ds * b, a * ds * a, a * ds


@wrong(E, "returns (df_db, df_da, df_dc)", *ORDER)
def _(a, b, c):
    z, s, ds = _parts(a, b, c)
    return a * ds * a, s + a * ds * b, -a * ds


@wrong(E, "dz/db taken as b instead of a", r"dz/db", r"∂z/∂b", r"with respect to b",
       r"b instead of a", r"wrong factor", r"inner derivative")
def _(a, b, c):
    z, s, ds = _parts(a, b, c)
    return s + a * ds * b, a * ds * b, -a * ds


@wrong(E, "sigma evaluated at ab, forgetting -c", r"- ?c\b", r"− ?c\b", r"forgot c",
       r"pre-activation", r"argument of the sigmoid", r"\bz\b")
def _(a, b, c):
    s = 1 / (1 + math.exp(-(a * b)))
    ds = s * (1 - s)
    s_true = 1 / (1 + math.exp(-(a * b - c)))
    return s_true + a * ds * b, a * ds * a, -a * ds


@wrong(E, "drops the outer factor a in df_db and df_dc", r"outer", r"factor a",
       r"missing a\b", r"multipl(y|ied) by a")
def _(a, b, c):
    z, s, ds = _parts(a, b, c)
    return s + a * ds * b, ds * a, -ds


@wrong(E, "returns only df_da", r"expected 3 results", r"three", r"return them together")
def _(a, b, c):
    z, s, ds = _parts(a, b, c)
    return s + a * ds * b


# =====================================================================================
# Chapter 3
# =====================================================================================
E = "ch3.sigmoid_prime"
_ACT_ITSELF = (r"itself", r"derivative .{0,40}belongs", r"(σ|sigma)\(z\) instead",
               r"sigmoid instead")


@wrong(E, "returns sigma(z) itself", *_ACT_ITSELF)
def _(z):
    return _sigmoid(z)


@wrong(E, "z (1 - z): the formula applied to z, as if z were the output",
       r"output", r"(σ|sigma)\(z\) first", r"sigmoid first", r"z itself",
       r"apply (σ|sigma|the sigmoid)", r"activation value", r"instead of the input",
       r"z ?\(1 ?- ?z\)")
def _(z):
    return z * (1 - z)


@wrong(E, "sigma (1 + sigma): sign slip", r"1 \+ σ", r"1 \+ sigma", *SIGN)
def _(z):
    s = _sigmoid(z)
    return s * (1 + s)


@wrong(E, "exp(-z) / (1 + exp(-z)): the square is missing (this is 1 - sigma)", r"squar",
       r"factor .{0,20}missing", r"1 - (σ|sigma)\(z\)")
def _(z):
    return np.exp(-z) / (1 + np.exp(-z))


@wrong(E, "exp(z) / (1 + exp(z))^2: right formula, overflows for large z", *OVERFLOW)
def _(z):
    e = np.exp(z)
    return e / (1 + e) ** 2


@wrong(E, "the tanh derivative 1 - tanh^2", r"tanh")
def _(z):
    return 1 - np.tanh(z) ** 2


@wrong(E, "changes z in place", *IN_PLACE)
def _(z):
    np.negative(z, out=z)
    s = 1 / (1 + np.exp(z))
    return s * (1 - s)


@wrong(E, "flattens the result (a 1-D loop)", r"right numbers in the wrong shape",
       r"flatten", r"ravel", r"1-d", r"reshape")
def _(z):
    return np.array([_sigmoid(v) * (1 - _sigmoid(v)) for v in np.ravel(z)])


E = "ch3.softmax_ce_grad"


def _softmax_col(f):
    e = np.exp(f - f.max())
    return e / e.sum()


@wrong(E, "y - y_hat (the sign)", *SIGN)
def _(f, y):
    return y - _softmax_col(f)


@wrong(E, "returns the softmax, forgetting to subtract y", r"target", r"subtract",
       r"softmax itself", r"minus (the )?y", r"\by\b")
def _(f, y):
    return _softmax_col(f)


@wrong(E, "no max subtraction (overflows for large logits)", *OVERFLOW, r"max")
def _(f, y):
    e = np.exp(f)
    return e / e.sum() - y


@wrong(E, "normalises along axis 1 of the column (every entry 1)", r"axis", r"normali",
       r"sum to 1", r"sums to")
def _(f, y):
    e = np.exp(f - f.max())
    return e / e.sum(axis=1, keepdims=True) - y


@wrong(E, "shifts only the numerator by the max", r"numerator", r"denominator", r"shift",
       r"\bmax\b", r"sum to 1", r"normali")
def _(f, y):
    return np.exp(f - f.max()) / np.exp(f).sum() - y


@wrong(E, "sigmoid instead of softmax", r"sigmoid", r"sum to 1", r"normali")
def _(f, y):
    return 1 / (1 + np.exp(-f)) - y


@wrong(E, "returns a 1-D array instead of a column", r"column", r"right numbers in the wrong shape",
       r"1-d", r"ravel", r"\(K, 1\)")
def _(f, y):
    return (_softmax_col(f) - y).ravel()


@wrong(E, "divides by the number of classes K", r"number of classes", r"1/K", r"by K\b",
       r"divid")
def _(f, y):
    return (_softmax_col(f) - y) / len(f)


E = "ch3.linear_backward"


@wrong(E, "dW = x delta^T (transposed)", *TRANSPOSED)
def _(W, b, x, delta):
    return x @ delta.T, delta.copy(), W.T @ delta


@wrong(E, "dx = W delta (no transpose; shapes fit only for square W)", *TRANSPOSED,
       r"W\.T", r"W\^T", r"W\^⊤")
def _(W, b, x, delta):
    return delta @ x.T, delta.copy(), W @ delta


@wrong(E, "db = b (the bias itself)", r"the bias itself", r"b itself", r"value of b",
       r"parameter instead")
def _(W, b, x, delta):
    return delta @ x.T, b.copy(), W.T @ delta


@wrong(E, "db = sum of delta (a single number)", r"\bsum", r"single number")
def _(W, b, x, delta):
    return delta @ x.T, float(delta.sum()), W.T @ delta


@wrong(E, "returns (dW, dx, db)", *ORDER)
def _(W, b, x, delta):
    return delta @ x.T, W.T @ delta, delta.copy()


@wrong(E, "dx = delta^T W, a row instead of a column", *TRANSPOSED, r"\brow\b", r"column")
def _(W, b, x, delta):
    return delta @ x.T, delta.copy(), delta.T @ W


@wrong(E, "db = ones: the local derivative without delta", r"upstream", r"delta",
       r"chain rule", r"local derivative only")
def _(W, b, x, delta):
    return delta @ x.T, np.ones_like(b), W.T @ delta


@wrong(E, "forgets to return dx", r"expected 3 results", r"three", r"return them together")
def _(W, b, x, delta):
    return delta @ x.T, delta.copy()


E = "ch3.error_recursion"
_SP_MISSING = (r"σ'", r"sigma ?'", r"σ′", r"sigmoid_prime", r"derivative of the (activation|sigmoid)",
               r"activation'?s? derivative")


@wrong(E, "multiplies by sigma(z) where sigma'(z) belongs", *_ACT_ITSELF)
def _(W_next, delta_next, z):
    return (W_next.T @ delta_next) * _sigmoid(z)


@wrong(E, "forgets the factor sigma'(z)", *_SP_MISSING)
def _(W_next, delta_next, z):
    return W_next.T @ delta_next


@wrong(E, "W_next delta_next without the transpose (square layers only)", *TRANSPOSED,
       r"W\.T", r"W\^T", r"W\^⊤")
def _(W_next, delta_next, z):
    s = _sigmoid(z)
    return (W_next @ delta_next) * s * (1 - s)


@wrong(E, "sigma' formula applied to z, as if z were the activation", r"output",
       r"activation value", r"instead of the input", r"z itself", r"z ?\(1 ?- ?z\)")
def _(W_next, delta_next, z):
    return (W_next.T @ delta_next) * z * (1 - z)


@wrong(E, "a matrix product with sigma'(z)^T instead of the element-wise product",
       r"element-wise", r"elementwise", r"hadamard", r"⊙", r"entry by entry",
       r"matrix product")
def _(W_next, delta_next, z):
    s = _sigmoid(z)
    return (W_next.T @ delta_next) @ (s * (1 - s)).T


@wrong(E, "wrong sign", *SIGN)
def _(W_next, delta_next, z):
    s = _sigmoid(z)
    return -(W_next.T @ delta_next) * s * (1 - s)


@wrong(E, "adds sigma'(z) instead of multiplying by it", r"\badd", r"multipl", r"product")
def _(W_next, delta_next, z):
    s = _sigmoid(z)
    return W_next.T @ delta_next + s * (1 - s)


@wrong(E, "the tanh derivative instead of the sigmoid's", r"tanh")
def _(W_next, delta_next, z):
    return (W_next.T @ delta_next) * (1 - np.tanh(z) ** 2)




E = "ch3.l2_weight_grad"


@wrong(E, "forgets the penalty term lam W", r"penalty", r"regulari", r"weight decay",
       r"λ", r"\blam(bda)?\b")
def _(delta, a_prev, W, lam):
    return delta @ a_prev.T


@wrong(E, "2 lam W: the 1/2 of the penalty not cancelled", r"twice", r"factor (of )?2",
       r"1/2", r"2 ?(λ|lam)")
def _(delta, a_prev, W, lam):
    return delta @ a_prev.T + 2 * lam * W


@wrong(E, "lam/2 W", r"half", r"factor (of )?2", r"(λ|lam|lambda) ?/ ?2")
def _(delta, a_prev, W, lam):
    return delta @ a_prev.T + lam / 2 * W


@wrong(E, "a_prev delta^T + lam W^T (transposed)", *TRANSPOSED)
def _(delta, a_prev, W, lam):
    return a_prev @ delta.T + lam * W.T


@wrong(E, "subtracts the penalty gradient", *SIGN, r"subtracts")
def _(delta, a_prev, W, lam):
    return delta @ a_prev.T - lam * W


@wrong(E, "adds lam times the sum of W (a number) instead of lam W", r"sum of",
       r"single number", r"\bnorm\b", r"scalar", r"every entry")
def _(delta, a_prev, W, lam):
    return delta @ a_prev.T + lam * np.sum(W)


@wrong(E, "lam W^2: the penalty, not its derivative", r"squar", r"W\^2", r"W\*\*2",
       r"derivative of the penalty", r"penalty itself")
def _(delta, a_prev, W, lam):
    return delta @ a_prev.T + lam * W**2


@wrong(E, "scales W in place", *IN_PLACE)
def _(delta, a_prev, W, lam):
    W *= lam
    return delta @ a_prev.T + W


E = "ch3.central_difference"


@wrong(E, "a forward difference (f(theta + h) - f(theta)) / h", r"forward", r"one-sided",
       r"central")
def _(f, theta, h):
    grad = np.zeros_like(theta, dtype=float)
    f0 = f(theta)
    for i in np.ndindex(theta.shape):
        old = theta[i]
        theta[i] = old + h
        grad[i] = (f(theta) - f0) / h
        theta[i] = old
    return grad


@wrong(E, "divides by h instead of 2h", r"2h", r"2 ?\* ?h", r"twice", r"factor (of )?2")
def _(f, theta, h):
    grad = np.zeros_like(theta, dtype=float)
    for i in np.ndindex(theta.shape):
        old = theta[i]
        theta[i] = old + h
        fp = f(theta)
        theta[i] = old - h
        fm = f(theta)
        theta[i] = old
        grad[i] = (fp - fm) / h
    return grad


@wrong(E, "leaves theta perturbed (never restores it)", r"restor", r"original values",
       r"put (it )?back", r"changed", r"modif", r"in place")
def _(f, theta, h):
    grad = np.zeros_like(theta, dtype=float)
    for i in np.ndindex(theta.shape):
        old = theta[i]
        theta[i] = old + h
        fp = f(theta)
        theta[i] = old - h
        fm = f(theta)
        grad[i] = (fp - fm) / (2 * h)
    return grad


@wrong(E, "ignores h (hard-codes 1e-5)", r"ignor", r"step size", r"`h`", r"the step",
       r"\bh\b")
def _(f, theta, h):
    step = 1e-5
    grad = np.zeros_like(theta, dtype=float)
    for i in np.ndindex(theta.shape):
        old = theta[i]
        theta[i] = old + step
        fp = f(theta)
        theta[i] = old - step
        fm = f(theta)
        theta[i] = old
        grad[i] = (fp - fm) / (2 * step)
    return grad


@wrong(E, "perturbs every entry at once", r"at once", r"one entry at a time", r"each entry",
       r"every entry", r"directional", r"same value")
def _(f, theta, h):
    d = (f(theta + h) - f(theta - h)) / (2 * h)
    return np.full(theta.shape, d)


@wrong(E, "loops over range(len(theta)): rows, not entries, of a 2-D theta", r"\brows?\b",
       r"2-d", r"1-d", r"any shape", r"ndindex", r"every entry", r"each entry")
def _(f, theta, h):
    grad = np.zeros_like(theta, dtype=float)
    for i in range(len(theta)):
        old = theta[i].copy()
        theta[i] = old + h
        fp = f(theta)
        theta[i] = old - h
        fm = f(theta)
        theta[i] = old
        grad[i] = (fp - fm) / (2 * h)
    return grad


@wrong(E, "the minus side at theta, not theta - h (restores between the two)",
       r"θ ?[-−] ?h", r"theta ?- ?h", r"minus side", r"old ?- ?h", r"one-sided", r"half")
def _(f, theta, h):
    grad = np.zeros_like(theta, dtype=float)
    for i in np.ndindex(theta.shape):
        old = theta[i]
        theta[i] = old + h
        fp = f(theta)
        theta[i] = old
        fm = f(theta)
        grad[i] = (fp - fm) / (2 * h)
    return grad


@wrong(E, "works on a float32 copy of theta", *FLOAT32)
def _(f, theta, h):
    th = theta.astype(np.float32)
    grad = np.zeros_like(theta, dtype=float)
    for i in np.ndindex(theta.shape):
        old = th[i]
        th[i] = old + h
        fp = f(th)
        th[i] = old - h
        fm = f(th)
        th[i] = old
        grad[i] = (fp - fm) / (2 * h)
    return grad


# =====================================================================================
# Chapter 4
# =====================================================================================
E = "ch4.linear_backward"


def _ch4_scale() -> float | None:
    """How the registered reference scales dW: 1/B if dZ comes without the 1/B of the mean
    (per-sample errors), 1 if dZ already carries it. None if the exercise is missing."""
    try:
        from nnlib.checks import registry

        ref = registry()[E].reference
        rng = np.random.default_rng(0)
        dZ, X, W = rng.normal(size=(3, 2)), rng.normal(size=(3, 4)), rng.normal(size=(2, 4))
        dW = np.asarray(ref(dZ, X, W)[1])
    except Exception:
        return None
    return 1.0 if np.allclose(dW, dZ.T @ X) else 1.0 / 3


_PER_SAMPLE = _ch4_scale() not in (None, 1.0)  # True: dZ rows are per-sample, dW = dZ^T X / B


def _s(X):
    return 1.0 / X.shape[0] if _PER_SAMPLE else 1.0


@wrong(E, "dW = X^T dZ (transposed)", *TRANSPOSED)
def _(dZ, X, W):
    return dZ @ W, X.T @ dZ * _s(X), dZ.sum(axis=0) * _s(X)


@wrong(E, "db = dZ: the bias gradient not summed over the batch", r"\bsum", r"over the batch",
       r"over the samples", r"axis 0", r"per sample", r"every sample")
def _(dZ, X, W):
    return dZ @ W, dZ.T @ X * _s(X), dZ * _s(X)


@wrong(E, "db reduced over axis 1", r"axis", r"over the (outputs|units)")
def _(dZ, X, W):
    return dZ @ W, dZ.T @ X * _s(X), dZ.sum(axis=1) * _s(X)


@wrong(E, "dX = dZ W^T (no transpose needed; square layers only)", *TRANSPOSED, r"W\.T",
       r"W\^T", r"W\^⊤")
def _(dZ, X, W):
    return dZ @ W.T, dZ.T @ X * _s(X), dZ.sum(axis=0) * _s(X)


if _PER_SAMPLE:

    @wrong(E, "dW without the 1/B of the mean", *TOO_LARGE_B)
    def _(dZ, X, W):
        return dZ @ W, dZ.T @ X, dZ.mean(axis=0)

    @wrong(E, "db summed, not averaged", *TOO_LARGE_B)
    def _(dZ, X, W):
        return dZ @ W, dZ.T @ X / X.shape[0], dZ.sum(axis=0)

else:

    @wrong(E, "dW with a second 1/B", *TOO_SMALL_B)
    def _(dZ, X, W):
        return dZ @ W, dZ.T @ X / X.shape[0], dZ.sum(axis=0)

    @wrong(E, "db averaged, a second 1/B", *TOO_SMALL_B)
    def _(dZ, X, W):
        return dZ @ W, dZ.T @ X, dZ.mean(axis=0)


@wrong(E, "dX divided by B", *TOO_SMALL_B, r"per.sample")
def _(dZ, X, W):
    return dZ @ W / X.shape[0], dZ.T @ X * _s(X), dZ.sum(axis=0) * _s(X)


@wrong(E, "returns (dW, dX, db)", *ORDER)
def _(dZ, X, W):
    return dZ.T @ X * _s(X), dZ @ W, dZ.sum(axis=0) * _s(X)


@wrong(E, "dX summed over the samples (one row)", r"summed over", r"per.sample",
       r"one row per sample", r"every sample", r"over the batch")
def _(dZ, X, W):
    return (dZ @ W).sum(axis=0), dZ.T @ X * _s(X), dZ.sum(axis=0) * _s(X)


E = "ch4.softmax_ce_grad"


def _row_softmax(Z):
    E_ = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E_ / E_.sum(axis=1, keepdims=True)


def _onehot(y, K):
    Y = np.zeros((len(y), K))
    Y[np.arange(len(y)), y] = 1.0
    return Y


@wrong(E, "forgets the 1/B", *TOO_LARGE_B)
def _(Z, y):
    return _row_softmax(Z) - _onehot(y, Z.shape[1])


@wrong(E, "divides by B twice", *TOO_SMALL_B)
def _(Z, y):
    B = Z.shape[0]
    return (_row_softmax(Z) - _onehot(y, Z.shape[1])) / B / B


@wrong(E, "no max subtraction: overflows for logits in the hundreds", *OVERFLOW, r"\bmax\b")
def _(Z, y):
    E_ = np.exp(Z)
    return (E_ / E_.sum(axis=1, keepdims=True) - _onehot(y, Z.shape[1])) / Z.shape[0]


@wrong(E, "softmax down the columns (axis 0)", r"axis", r"column", r"each row", r"rows")
def _(Z, y):
    E_ = np.exp(Z - Z.max(axis=0, keepdims=True))
    return (E_ / E_.sum(axis=0, keepdims=True) - _onehot(y, Z.shape[1])) / Z.shape[0]


@wrong(E, "subtracts one global max (underflows when rows differ a lot)", *OVERFLOW,
       r"each row", r"per row", r"underflow", r"\bmax\b")
def _(Z, y):
    E_ = np.exp(Z - Z.max())
    return (E_ / E_.sum(axis=1, keepdims=True) - _onehot(y, Z.shape[1])) / Z.shape[0]


@wrong(E, "Y_hat[:, y] -= 1: subtracts from whole columns", r"one-hot", r"label",
       r"target", r"each row", r"every row", r"index")
def _(Z, y):
    P = _row_softmax(Z)
    P[:, y] -= 1.0
    return P / Z.shape[0]


@wrong(E, "(y - y_hat) / B", *SIGN)
def _(Z, y):
    return (_onehot(y, Z.shape[1]) - _row_softmax(Z)) / Z.shape[0]


@wrong(E, "shifts and exponentiates Z in place", *IN_PLACE)
def _(Z, y):
    Z -= Z.max(axis=1, keepdims=True)
    np.exp(Z, out=Z)
    Z /= Z.sum(axis=1, keepdims=True)
    Z[np.arange(len(y)), y] -= 1.0
    return Z / Z.shape[0]


@wrong(E, "subtracts 1 at the predicted class, not the label", r"label", r"target",
       r"argmax", r"predicted class", r"prediction")
def _(Z, y):
    P = _row_softmax(Z)
    P[np.arange(len(y)), P.argmax(axis=1)] -= 1.0
    return P / Z.shape[0]


E = "ch4.train_step"


def _sce(scores, y):
    from nnlib.losses import softmax_cross_entropy

    return softmax_cross_entropy(scores, y)


@wrong(E, "rebinds the dict entries (the layers' arrays do not change)", r"in place",
       r"rebind", r"layers?'? ?(own )?arrays", r"did not change", r"unchanged", r"\bdict",
       r"the layers")
def _(model, X, y, lr):
    loss, d = _sce(model.forward(X), y)
    model.zero_grad()
    model.backward(d)
    for n in model.params:
        model.params[n] = model.params[n] - lr * model.grads[n]
    return loss


@wrong(E, "p += lr * grad (uphill)", *SIGN, r"uphill", r"ascent", r"increase")
def _(model, X, y, lr):
    loss, d = _sce(model.forward(X), y)
    model.zero_grad()
    model.backward(d)
    for n, p in model.params.items():
        p += lr * model.grads[n]
    return loss


@wrong(E, "forgets the update loop", r"update", r"unchanged", r"did not change", r"never")
def _(model, X, y, lr):
    loss, d = _sce(model.forward(X), y)
    model.zero_grad()
    model.backward(d)
    return loss


@wrong(E, "updates before backward: the previous batch's gradients", r"stale",
       r"previous batch", r"before (calling )?(model\.)?backward", r"old gradients", r"\border\b")
def _(model, X, y, lr):
    loss, d = _sce(model.forward(X), y)
    for n, p in model.params.items():
        p -= lr * model.grads[n]
    model.zero_grad()
    model.backward(d)
    return loss


@wrong(E, "forgets to return the loss", *NO_RETURN)
def _(model, X, y, lr):
    loss, d = _sce(model.forward(X), y)
    model.zero_grad()
    model.backward(d)
    for n, p in model.params.items():
        p -= lr * model.grads[n]


@wrong(E, "returns the loss recomputed after the update", r"after the update",
       r"before the update", r"updated (model|parameters)", r"new parameters", r"this batch")
def _(model, X, y, lr):
    loss, d = _sce(model.forward(X), y)
    model.zero_grad()
    model.backward(d)
    for n, p in model.params.items():
        p -= lr * model.grads[n]
    return _sce(model.forward(X), y)[0]


@wrong(E, "forgets the learning rate", r"learning rate", r"\blr\b")
def _(model, X, y, lr):
    loss, d = _sce(model.forward(X), y)
    model.zero_grad()
    model.backward(d)
    for n, p in model.params.items():
        p -= model.grads[n]
    return loss


@wrong(E, "divides the gradients by B again", *TOO_SMALL_B)
def _(model, X, y, lr):
    loss, d = _sce(model.forward(X), y)
    model.zero_grad()
    model.backward(d)
    for n, p in model.params.items():
        p -= lr * model.grads[n] / len(X)
    return loss


@wrong(E, "backward of the scores instead of the loss gradient", r"scores",
       r"logits", r"gradient of the loss", r"dscores", r"softmax_cross_entropy")
def _(model, X, y, lr):
    scores = model.forward(X)
    loss, _d = _sce(scores, y)
    model.zero_grad()
    model.backward(scores)
    for n, p in model.params.items():
        p -= lr * model.grads[n]
    return loss


E = "ch4.cache_bytes"


@wrong(E, "hard-codes 8 bytes per number (ignores itemsize)", r"itemsize", r"float32",
       r"bytes per (number|entry|element)")
def _(sizes, B, itemsize=8):
    return 8 * B * (sum(sizes[:-1]) + 2 * sum(sizes[1:-1]))


@wrong(E, "counts an activation after the logits too", r"output", r"logits", r"last layer")
def _(sizes, B, itemsize=8):
    return itemsize * B * (sum(sizes[:-1]) + 2 * sum(sizes[1:]))


@wrong(E, "an activation layer keeps one array, not z and a", r"z and a", r"both z",
       r"two arrays", r"twice", r"only one")
def _(sizes, B, itemsize=8):
    return itemsize * B * (sum(sizes[:-1]) + sum(sizes[1:-1]))


@wrong(E, "forgets the batch size B", r"batch size", r"per sample", r"\bB rows",
       r"times B", r"one sample")
def _(sizes, B, itemsize=8):
    return itemsize * (sum(sizes[:-1]) + 2 * sum(sizes[1:-1]))


@wrong(E, "a Linear keeps its output instead of its input", r"\binputs?\b", r"n_in",
       r"outputs? instead")
def _(sizes, B, itemsize=8):
    return itemsize * B * (sum(sizes[1:]) + 2 * sum(sizes[1:-1]))


@wrong(E, "counts numbers, not bytes", r"\bbytes\b", r"itemsize", r"elements",
       r"numbers instead")
def _(sizes, B, itemsize=8):
    return B * (sum(sizes[:-1]) + 2 * sum(sizes[1:-1]))


@wrong(E, "returns kilobytes", r"1024", r"kilobyte", r"\bKiB\b", r"\bKB\b")
def _(sizes, B, itemsize=8):
    return itemsize * B * (sum(sizes[:-1]) + 2 * sum(sizes[1:-1])) / 1024


@wrong(E, "counts only the Linear layers' inputs, not the activations", r"activation")
def _(sizes, B, itemsize=8):
    return itemsize * B * sum(sizes[:-1])


# =====================================================================================
# Chapter 5
# =====================================================================================
E = "ch5.init_std"


@wrong(E, "returns the variance, not its square root", r"variance", r"square root",
       r"sqrt", r"√")
def _(n_in, n_out, scheme):
    return 2 / (n_in + n_out) if scheme == "xavier" else 2 / n_in


@wrong(E, "the tutorial's 6/(n_in + n_out) used as a normal variance", r"uniform", r"\b6\b",
       r"limit", r"three times", r"3 times")
def _(n_in, n_out, scheme):
    return np.sqrt(6 / (n_in + n_out)) if scheme == "xavier" else np.sqrt(2 / n_in)


@wrong(E, "He with n_out (fan-out) instead of n_in", r"n_out", r"fan.out", r"n_in",
       r"fan.in")
def _(n_in, n_out, scheme):
    return np.sqrt(2 / (n_in + n_out)) if scheme == "xavier" else np.sqrt(2 / n_out)


@wrong(E, "Xavier as 1/n_in (LeCun)", r"lecun", r"1/n_in", r"n_in \+ n_out", r"n_out",
       r"fan.in only", r"both")
def _(n_in, n_out, scheme):
    return np.sqrt(1 / n_in) if scheme == "xavier" else np.sqrt(2 / n_in)


@wrong(E, "Xavier without the 2: 1/(n_in + n_out)", r"√2", r"sqrt\(2\)", r"factor (of )?2",
       r"the 2\b", r"numerator")
def _(n_in, n_out, scheme):
    return np.sqrt(1 / (n_in + n_out)) if scheme == "xavier" else np.sqrt(2 / n_in)


@wrong(E, "the two schemes swapped", r"swapped", r"the other", r"he'?s? (formula|scheme)",
       r"xavier'?s? (formula|scheme)", r"mixed up")
def _(n_in, n_out, scheme):
    return np.sqrt(2 / n_in) if scheme == "xavier" else np.sqrt(2 / (n_in + n_out))


@wrong(E, "He without the 2 (the ReLU factor)", r"√2", r"sqrt\(2\)", r"factor (of )?2",
       r"relu", r"2/n_in", r"half")
def _(n_in, n_out, scheme):
    return np.sqrt(2 / (n_in + n_out)) if scheme == "xavier" else np.sqrt(1 / n_in)


@wrong(E, "compares with 'Xavier' (capital X): every call gets He", r"scheme", r"xavier",
       r"spelling", r"lower.case", r"swapped")
def _(n_in, n_out, scheme):
    return np.sqrt(2 / (n_in + n_out)) if scheme == "Xavier" else np.sqrt(2 / n_in)


E = "ch5.sigmoid_chain_bound"


@wrong(E, "(1/4)^k: ignores the weights", r"w_max", r"weights?")
def _(k, w_max):
    return 0.25**k


@wrong(E, "(w_max/4)^(k-1): one factor too few", r"one factor", r"k factors", r"off by one",
       r"k ?- ?1", r"too few")
def _(k, w_max):
    return (w_max / 4) ** (k - 1)


@wrong(E, "(w_max/4)^(k+1): one factor too many", r"one factor too many", r"k factors",
       r"off by one", r"k ?\+ ?1", r"too many")
def _(k, w_max):
    return (w_max / 4) ** (k + 1)


@wrong(E, "caps the bound at 1", r"w_max > 4", r"larger than 1", r"exceed", r"\bcap",
       r"clip", r"\bmin\b", r"above 1", r"greater than 1")
def _(k, w_max):
    return min(1.0, (w_max / 4) ** k)


@wrong(E, "w_max^k / 4: the 1/4 once, not per layer", r"every layer", r"each layer",
       r"each factor", r"per layer", r"\(1/4\)\^k", r"1/4")
def _(k, w_max):
    return w_max**k / 4


@wrong(E, "(w_max/2)^k: sigma' at most 1/2", r"1/4", r"(σ|sigma)'?\(0\)",
       r"maximum of (σ'|sigma')", r"largest (slope|factor)")
def _(k, w_max):
    return (w_max / 2) ** k


@wrong(E, "k w_max / 4: adds the factors instead of multiplying", r"product", r"multipl",
       r"\bsum", r"add")
def _(k, w_max):
    return k * w_max / 4


@wrong(E, "w_max / 4 ** k: precedence slip", r"precedence", r"parenthes", r"w_max\^k",
       r"power", r"appears once", r"every layer")
def _(k, w_max):
    return w_max / 4**k


E = "ch5.linear_backward"


@wrong(E, "the planted bug left in: dW divided by B", *TOO_SMALL_B)
def _(dZ, X, W):
    return dZ @ W, dZ.T @ X / X.shape[0], dZ.sum(axis=0)


@wrong(E, "db averaged (a second 1/B)", *TOO_SMALL_B)
def _(dZ, X, W):
    return dZ @ W, dZ.T @ X, dZ.mean(axis=0)


@wrong(E, "dX divided by B", *TOO_SMALL_B)
def _(dZ, X, W):
    return dZ @ W / X.shape[0], dZ.T @ X, dZ.sum(axis=0)


@wrong(E, "dW = X^T dZ (transposed)", *TRANSPOSED)
def _(dZ, X, W):
    return dZ @ W, X.T @ dZ, dZ.sum(axis=0)


@wrong(E, "dX = dZ W^T (square layers only)", *TRANSPOSED, r"W\.T", r"W\^T", r"W\^⊤")
def _(dZ, X, W):
    return dZ @ W.T, dZ.T @ X, dZ.sum(axis=0)


@wrong(E, "db summed over axis 1", r"axis", r"over the (outputs|units)")
def _(dZ, X, W):
    return dZ @ W, dZ.T @ X, dZ.sum(axis=1)


@wrong(E, "returns (dW, dX, db)", *ORDER)
def _(dZ, X, W):
    return dZ.T @ X, dZ @ W, dZ.sum(axis=0)


@wrong(E, "db = dZ, not summed over the batch", r"\bsum", r"over the batch",
       r"over the samples", r"axis 0", r"per sample", r"every sample")
def _(dZ, X, W):
    return dZ @ W, dZ.T @ X, dZ.copy()


E = "ch5.leaky_relu_backward"


@wrong(E, "the slope on the positive side", r"positive side", r"swapped", r"slope on",
       r"the wrong side", r"other side")
def _(dout, z, slope):
    return dout * np.where(z > 0, slope, 1.0)


@wrong(E, "forgets to multiply by dout", r"upstream", r"dout", r"chain rule",
       r"local derivative only")
def _(dout, z, slope):
    return np.where(z > 0, 1.0, slope)


@wrong(E, "the ReLU backward: 0 on the negative side", r"slope", r"negative side", r"zero",
       r"\brelu\b")
def _(dout, z, slope):
    return dout * (z > 0)


@wrong(E, "multiplies by the activation instead of its derivative", *_ACT_ITSELF,
       r"activation")
def _(dout, z, slope):
    return dout * np.where(z > 0, z, slope * z)


@wrong(E, "0 on the positive side: only the slope branch", r"positive side", r"z > 0",
       r"unchanged", r"1 where")
def _(dout, z, slope):
    return dout * np.where(z > 0, 0.0, slope)


@wrong(E, "scales dout in place", *IN_PLACE)
def _(dout, z, slope):
    dout[z <= 0] *= slope
    return dout


@wrong(E, "the mask from dout instead of z", r"mask", r"sign of z", r"dout instead",
       r"wrong variable", r"pre-activation", r"\bz\b")
def _(dout, z, slope):
    return np.where(dout > 0, dout, slope * dout)


@wrong(E, "an element loop that works for 1-D only", r"any shape", r"1-d", r"2-d",
       r"truth value", r"element.wise")
def _(dout, z, slope):
    out = np.empty_like(dout)
    for i in range(len(z)):
        out[i] = dout[i] if z[i] > 0 else slope * dout[i]
    return out


E = "ch5.count_dead"


@wrong(E, "counts zero entries, not dead units", r"entries", r"pairs", r"every zero",
       r"zero entries", r"units?, not")
def _(A):
    return int((A == 0).sum())


@wrong(E, "tests the rows (samples) instead of the columns", r"axis", r"\brows?\b",
       r"samples", r"columns?")
def _(A):
    return int(np.all(A == 0, axis=1).sum())


@wrong(E, "counts the live units", r"\blive\b", r"alive", r"active", r"opposite",
       r"complement")
def _(A):
    return int(np.any(A > 0, axis=0).sum())


@wrong(E, "any instead of all: zero for some sample", r"\bany\b", r"every sample",
       r"some samples?", r"at least one", r"\ball\b")
def _(A):
    return int(np.any(A == 0, axis=0).sum())


@wrong(E, "a threshold: mean output below 1e-2 counts as dead", r"threshold", r"exactly 0",
       r"near zero", r"small", r"== ?0")
def _(A):
    return int((A.mean(axis=0) < 1e-2).sum())


@wrong(E, "returns the fraction of dead units", r"fraction", r"proportion", r"divid",
       r"a count", r"number of")
def _(A):
    return float(np.mean(np.all(A == 0, axis=0)))


@wrong(E, "returns the boolean mask, not the count", r"bool", r"mask", r"count")
def _(A):
    return np.all(A == 0, axis=0)


@wrong(E, "tests A < 0 (ReLU outputs are never negative)", r"negative", r"< ?0",
       r"below zero")
def _(A):
    return int(np.all(A < 0, axis=0).sum())


# =====================================================================================
# Witnesses: inputs on which a wrong answer that a check might accept shows its mistake
# =====================================================================================


def witness(exercise: str, description: str):
    """Decorator: attach ``fn(answer) -> sentence or None`` to the entry so described."""

    def attach(fn):
        entries = CATALOGUE[exercise]
        for i, entry in enumerate(entries):
            if entry.description == description:
                entries[i] = Entry(entry.exercise, entry.answer, entry.description,
                                   entry.keywords, fn)
                return fn
        raise KeyError(f"{exercise}: no entry {description!r}")

    return attach


def _changed(name, before, after):
    if not np.array_equal(before, after):
        return f"the caller's {name} changed in place"
    return None


@witness("ch3.sigmoid_prime", "exp(z) / (1 + exp(z))^2: right formula, overflows for large z")
def _(answer):
    with np.errstate(all="ignore"):
        got = answer(np.array([800.0]))
    return "sigmoid_prime(800) is NaN; the true value is 0 to double precision" if np.isnan(
        got).any() else None


@witness("ch3.sigmoid_prime", "changes z in place")
def _(answer):
    z = np.array([1.0, -2.0])
    answer(z)
    return _changed("z", np.array([1.0, -2.0]), z)


@witness("ch3.softmax_ce_grad", "no max subtraction (overflows for large logits)")
def _(answer):
    with np.errstate(all="ignore"):
        got = answer(np.array([[1000.0], [0.0], [0.0]]), np.array([[1.0], [0.0], [0.0]]))
    return "logits (1000, 0, 0) give NaN; the gradient there is 0 to double precision" if (
        np.isnan(got).any()) else None


@witness("ch3.l2_weight_grad", "scales W in place")
def _(answer):
    W = np.ones((2, 2))
    answer(np.ones((2, 1)), np.ones((2, 1)), W, 0.1)
    return _changed("W", np.ones((2, 2)), W)


@witness("ch3.central_difference", "ignores h (hard-codes 1e-5)")
def _(answer):
    got = float(answer(lambda t: float(np.sum(t**3)), np.array([1.0]), 0.1)[0])
    # the central difference of t^3 at 1 with step h is 3 + h^2 = 3.01
    return f"with h = 0.1 it returns {got:.6f} for d(t^3)/dt at 1, not 3 + h^2 = 3.01" if abs(
        got - 3.01) > 1e-9 else None


@witness("ch4.softmax_ce_grad", "shifts and exponentiates Z in place")
def _(answer):
    Z = np.array([[1.0, 2.0], [0.5, -1.0]])
    answer(Z, np.array([0, 1]))
    return _changed("Z", np.array([[1.0, 2.0], [0.5, -1.0]]), Z)


@witness("ch4.train_step", "rebinds the dict entries (the layers' arrays do not change)")
def _(answer):
    from nnlib.layers import mlp

    model = mlp([4, 5, 3], rng=0)
    X = np.random.default_rng(1).normal(size=(6, 4))
    y = np.array([0, 1, 2, 0, 1, 2])
    before = model.forward(X).copy()
    answer(model, X, y, 0.5)
    after = model.forward(X)
    return "the model's own forward pass is the same after the step" if np.array_equal(
        before, after) else None


@witness("ch5.sigmoid_chain_bound", "caps the bound at 1")
def _(answer):
    # k = 2 units with weights 8 and biases that put z = 0 at both: |da_2/da_0| = (8/4)^2 = 4
    got = answer(2, 8.0)
    return f"it returns {got:g} for k = 2, w_max = 8, but the chain reaches 4 at z = 0" if (
        got < 4) else None


@witness("ch5.leaky_relu_backward", "scales dout in place")
def _(answer):
    dout = np.array([1.0, 1.0])
    answer(dout, np.array([1.0, -1.0]), 0.1)
    return _changed("dout", np.array([1.0, 1.0]), dout)


@witness("ch5.count_dead", "a threshold: mean output below 1e-2 counts as dead")
def _(answer):
    A = np.array([[0.0, 1e-3], [0.0, 2e-3]])  # unit 1 is alive, with small outputs
    got = answer(A)
    return f"it counts {got} dead units where only 1 is dead (the other has small outputs)" if (
        got != 1) else None


# =====================================================================================
# Exercises added later: predictions (Chapter 1) and the capstones (Chapters 3 and 4)
# =====================================================================================
# Chapter 1, predictions: the learner answers with a value.
E = "ch1.diverging_lr"  # f(x) = (5/2)(x - 1)^2 from x0 = 3; rates 0.1, 0.3, 0.45, 0.6

wrong_value(E, [0.3, 0.45, 0.6], "takes the oscillating run (alpha > 1/f'') for a diverging one",
            r"oscillat", r"1/f''", r"still converges", r"zig-?zag", r"overshoot")
wrong_value(E, [], "uses the coefficient 5/2 as f'' (threshold 0.8): none diverges",
            r"second derivative", r"f''", r"curvature", r"5/2", r"coefficient", r"\bnone\b",
            r"empty")
wrong_value(E, [0.6], "only the largest rate: misses 0.45, just above 2/f''", r"0\.45",
            r"misses", r"missing", r"one of them", r"not all", r"also diverges")
wrong_value(E, [0.1, 0.3], "lists the converging runs instead of the diverging ones",
            r"converg", r"the other", r"opposite", r"complement", r"instead of")
wrong_value(E, [0.1, 0.3, 0.45, 0.6], "every rate (thinks any fixed rate diverges here)",
            r"all four", r"every", r"converg", r"too many", r"0\.1")
wrong_value(E, 0.4, "gives the threshold 2/f'' instead of the list", r"list",
            r"threshold", r"a number", r"rates themselves")
wrong_value(E, ["0.45", "0.6"], "the rates as strings", r"string", r"text", r"quot")
wrong_value(E, [0.45], "drops 0.6 (thinks only a rate just above the limit blows up)",
            r"0\.6", r"misses", r"missing", r"not all", r"also diverges")

E = "ch1.momentum_terminal_step"  # alpha = 0.01, beta = 0.95, gradient 3: 0.6

wrong_value(E, 0.01 * 3, "alpha * gradient: the step without momentum's build-up",
            r"1/\(1 ?[-−] ?β\)", r"1 ?[-−] ?beta", r"1 ?[-−] ?β", r"build", r"accumulat",
            r"effective", r"without momentum", r"first step", r"20 times")
wrong_value(E, 3 / (1 - 0.95), "the terminal velocity, not the step (forgets alpha)",
            r"velocity", r"\balpha\b", r"α", r"learning rate", r"lr\b", r"times the step")
wrong_value(E, 0.01 / (1 - 0.95), "alpha / (1 - beta): forgets the gradient 3", r"gradient",
            r"slope", r"\b3\b", r"three")
wrong_value(E, 0.01 * 3 * 0.95 / (1 - 0.95), "beta / (1 - beta): the sum starts at beta",
            r"β/\(1 ?[-−] ?β\)", r"beta ?/ ?\(1", r"one term", r"starts (at|with)",
            r"newest gradient", r"β\^0|beta\^0", r"\bβ\^?1",
            r"geometric")
wrong_value(E, 0.01 * 3 / (1 - 0.95**2), "1 - beta^2 in the denominator", r"β\^?2",
            r"beta\^?2", r"beta\*\*2", r"squar")
wrong_value(E, 0.01 * 3 * (1 - 0.95), "multiplies by (1 - beta) instead of dividing",
            r"multipl", r"divid", r"1 ?[-−] ?beta", r"1 ?[-−] ?β", r"instead of")
wrong_value(E, -0.01 * 3 / (1 - 0.95), "a signed step (minus): the length is asked", *SIGN,
            r"negative", r"length", r"absolute", r"positive", r"\|")
wrong_value(E, 0.01 * 3 / 0.95, "divides by beta instead of 1 - beta", r"1 ?[-−] ?beta",
            r"1 ?[-−] ?β", r"divid")

E = "ch1.adam_first_step"  # alpha = 0.02, gradient -40: about alpha


def _adam_first(m_corr=True, v_corr=True, sqrt=True, square=True, swap=False,
                signed=False, alpha=0.02, grad=-40.0, eps=1e-8):
    b1, b2 = 0.9, 0.999
    m = (1 - (b2 if swap else b1)) * grad  # swap: each moment with the other's rate
    v = (1 - (b1 if swap else b2)) * (grad**2 if square else abs(grad))
    if m_corr:
        m /= 1 - b1
    if v_corr:
        v /= 1 - b2
    step = alpha * m / ((math.sqrt(v) if sqrt else v) + eps)  # theta_0 - theta_1
    return step if signed else abs(step)


wrong_value(E, _adam_first(m_corr=False, v_corr=False), "forgets both bias corrections",
            r"bias.?correct", r"m̂|m_hat|\\hat ?m", r"1 ?[-−] ?β", r"1 ?[-−] ?beta", r"correct")
wrong_value(E, _adam_first(v_corr=False), "corrects m but not v", r"bias.?correct",
            r"\bv\b", r"second moment", r"v̂|v_hat", r"β_?2|beta_?2")
wrong_value(E, _adam_first(m_corr=False), "corrects v but not m", r"bias.?correct",
            r"\bm\b", r"first moment", r"m̂|m_hat", r"β_?1|beta_?1")
wrong_value(E, _adam_first(sqrt=False), "divides by v, not by its square root",
            r"square root", r"sqrt", r"√")
wrong_value(E, 0.02 * 40, "alpha * |gradient|: plain gradient descent's step",
            r"normalis", r"normaliz", r"divid", r"plain", r"gradient descent", r"sqrt",
            r"√", r"\bv\b")
wrong_value(E, _adam_first(square=False), "v from |g| instead of g^2", r"squar", r"g\^2",
            r"\*\*2", r"\|g\|")
wrong_value(E, _adam_first(swap=True), "beta1 and beta2 swapped in the moments", r"swapped",
            r"β_?1 and β_?2", r"beta_?1 and beta_?2", r"\border\b", r"other way round")
wrong_value(E, _adam_first(signed=True), "theta_0 - theta_1 (signed) instead of the size",
            *SIGN, r"size", r"absolute", r"positive", r"\|")


# Chapter 3, the capstones: one sample, columns.
E = "ch3.two_layer_backward"


def _two_layer(params, cache, y, *, delta2=None, act="prime", dW=None, dW1_act="x",
               dW2_act="a1", b1=None, keys=None, w2t=True):
    x, a1, z1, y_hat = cache["x"], cache["a1"], cache["z1"], cache["y_hat"]
    d2 = y_hat - y if delta2 is None else delta2(y_hat, y)
    back = (params["W2"].T if w2t else params["W2"]) @ d2
    local = {"prime": a1 * (1 - a1), "none": 1.0, "sigma": a1, "z": z1 * (1 - z1),
             "twice": _sigmoid(a1) * (1 - _sigmoid(a1))}[act]
    d1 = back * local
    inp = {"x": x, "a1": a1}
    g = {
        "W1": d1 @ inp[dW1_act].T,
        "b1": d1 if b1 is None else b1(d1),
        "W2": d2 @ {"a1": a1, "x": x, "z1": z1}[dW2_act].T,
        "b2": d2,
    }
    if dW == "T":
        g["W1"], g["W2"] = g["W1"].T, g["W2"].T
    if keys:
        g = {keys + k: v for k, v in g.items()}
    return g


@wrong(E, "delta2 = y - y_hat (sign)", *SIGN)
def _(params, cache, y):
    return _two_layer(params, cache, y, delta2=lambda yh, yy: yy - yh)


@wrong(E, "no sigma' in delta1", r"σ'|σ′|sigma'|sigma_prime", r"derivative", r"missing",
       r"local")
def _(params, cache, y):
    return _two_layer(params, cache, y, act="none")


@wrong(E, "sigma(z1) where sigma'(z1) belongs", r"itself where", r"derivative belongs",
       r"σ'|σ′|sigma'", r"a1 \(1 ?[-−] ?a1\)")
def _(params, cache, y):
    return _two_layer(params, cache, y, act="sigma")


@wrong(E, "sigma' from z1: z1 (1 - z1) instead of a1 (1 - a1)", r"z_?1", r"\bz\b",
       r"pre-?activation", r"a1 \(1", r"σ\(z", r"σ'|σ′|sigma'")
def _(params, cache, y):
    return _two_layer(params, cache, y, act="z")


@wrong(E, "sigma applied twice: sigma'(a1) instead of sigma'(z1)", r"twice", r"a1 instead",
       r"at the output", r"of a1", r"σ'|σ′|sigma'", r"already")
def _(params, cache, y):
    return _two_layer(params, cache, y, act="twice")


@wrong(E, "every weight gradient transposed (x delta^T)", *TRANSPOSED)
def _(params, cache, y):
    return _two_layer(params, cache, y, dW="T")


@wrong(E, "dW2 from the input x instead of a1 (the wrong layer's activation)", r"wrong layer",
       r"\bx\b", r"a1", r"input", r"activation", r"layer below")
def _(params, cache, y):
    return _two_layer(params, cache, y, dW2_act="x")


@wrong(E, "dW1 from a1 instead of x", r"wrong layer", r"\bx\b", r"a1", r"input",
       r"activation")
def _(params, cache, y):
    return _two_layer(params, cache, y, dW1_act="a1")


@wrong(E, "db1 summed to a number", r"summed", r"sum of", r"a column per")
def _(params, cache, y):
    return _two_layer(params, cache, y, b1=lambda d: float(d.sum()))


@wrong(E, "delta2 = 2 (y_hat - y): the squared error's 2", r"twice", r"factor (of )?2",
       r"\b2\b", r"squared")
def _(params, cache, y):
    return _two_layer(params, cache, y, delta2=lambda yh, yy: 2 * (yh - yy))


@wrong(E, "keys 'dW1', ... instead of the keys of params", r"key", r"dW1", r"names",
       r"has no 'W1'", r"one entry per parameter")
def _(params, cache, y):
    return _two_layer(params, cache, y, keys="d")


@wrong(E, "delta2 computed in place: cache['y_hat'] -= y", *IN_PLACE, r"cache")
def _(params, cache, y):
    d2 = cache["y_hat"]
    d2 -= y
    return _two_layer(params, cache, y, delta2=lambda yh, yy: d2)


_first_cache: dict = {}


@wrong(E, "keeps the first cache it is given (stale activations)", r"stale", r"earlier",
       r"first (call|cache|input)", r"cache", r"different input", r"left over", r"previous")
def _(params, cache, y):
    kept = _first_cache.setdefault("two_layer", {k: v.copy() for k, v in cache.items()})
    if kept["x"].shape != cache["x"].shape or kept["a1"].shape != cache["a1"].shape:
        kept = _first_cache["two_layer"] = {k: v.copy() for k, v in cache.items()}
    return _two_layer(params, kept, y)


E = "ch3.backprop"


def _backprop(params, x, y, *, bp1="softmax", bp2_act="prev", bp4_act="prev", prime=True,
              sign=1.0, transpose=False, last=0, depth=None, w_layer=0, order_bug=False):
    D = depth or len(params) // 2
    zs, a = [None], [x]
    for l in range(1, D + 1):
        zs.append(params[f"W{l}"] @ a[l - 1] + params[f"b{l}"])
        if l < D or bp1 == "sigmoid":
            a.append(_sigmoid(zs[l]))
        else:
            e = np.exp(zs[l] - zs[l].max())
            a.append(e / e.sum())
    delta = sign * (a[D] - y)
    if bp1 == "sigmoid":
        delta = delta * a[D] * (1 - a[D])
    grads = {}
    for l in range(D, last, -1):
        A_in = a[l - 1] if bp4_act == "prev" else a[l]
        if order_bug and l > 1:
            new = (params[f"W{l}"].T @ delta) * a[l - 1] * (1 - a[l - 1])
            grads[f"W{l}"] = new @ a[l - 1].T if new.shape[0] == params[f"W{l}"].shape[0] else (
                delta @ a[l - 1].T)
            grads[f"b{l}"] = delta
            delta = new
            continue
        gW = delta @ A_in.T
        grads[f"W{l}"] = gW.T if transpose else gW
        grads[f"b{l}"] = delta
        if l > 1:
            act = a[l - 1] if bp2_act == "prev" else a[min(l, D - 1)]
            W = params[f"W{l - w_layer}"]
            delta = W.T @ delta
            if prime:
                delta = delta * act * (1 - act)
    return grads


@wrong(E, "the loop stops at layer 2: no gradients for layer 1 (off by one)", r"W1",
       r"layer 1", r"missing", r"key", r"off.by.one", r"range")
def _(params, x, y):
    return _backprop(params, x, y, last=1)


@wrong(E, "BP2's sigma' from a_l instead of a_{l-1} (the wrong layer)", r"wrong layer",
       r"layer above", r"own layer", r"off by one", r"a_?\{?l\b")
def _(params, x, y):
    return _backprop(params, x, y, bp2_act="this")


@wrong(E, "BP4 with a_l instead of a_{l-1}", r"wrong layer", r"off by one", r"a_?\{?l\b",
       r"input of (the|its|this) layer")
def _(params, x, y):
    return _backprop(params, x, y, bp4_act="this")


@wrong(E, "BP2 without sigma'", r"σ'|σ′|sigma'", r"derivative", r"missing", r"local")
def _(params, x, y):
    return _backprop(params, x, y, prime=False)


@wrong(E, "a sigmoid output with delta_D = (y_hat - y) sigma' (not the softmax)",
       r"softmax", r"BP1", r"sigmoid (at|on|in) the output", r"delta_D|δ_D")
def _(params, x, y):
    return _backprop(params, x, y, bp1="sigmoid")


@wrong(E, "delta_D = y - y_hat (sign)", *SIGN)
def _(params, x, y):
    return _backprop(params, x, y, sign=-1.0)


@wrong(E, "BP4 transposed: a_{l-1} delta^T", *TRANSPOSED)
def _(params, x, y):
    return _backprop(params, x, y, transpose=True)


@wrong(E, "depth fixed at 2 (written for the two-layer network)", r"depth", r"D = 2",
       r"layers?", r"missing", r"key", r"W3")
def _(params, x, y):
    return _backprop(params, x, y, depth=2)


@wrong(E, "BP2 with the weights of layer l-1 instead of layer l", r"wrong layer",
       r"W_?\{?l\b", r"weights of (the|layer)", r"layer below'?s weights")
def _(params, x, y):
    return _backprop(params, x, y, w_layer=1)  # the shapes fit only in square layers


@wrong(E, "BP2 before BP4: the weight gradient uses the next layer's delta", r"\border\b",
       r"before BP4", r"wrong layer'?s (error|delta)", r"next layer'?s (error|delta)",
       r"too early")
def _(params, x, y):
    return _backprop(params, x, y, order_bug=True)


# Chapter 4, the capstones: a batch, one sample per row, integer labels.
E = "ch4.batch_backward"


def _batch_backward(params, cache, y, *, scale="once", transpose=False, bias="sum", sign=1.0,
                    local="prime", in_place=False, depth=None):
    D = depth or len(params) // 2
    Y_hat = cache["Y_hat"]
    B = len(y)
    dZ = Y_hat if in_place else Y_hat.copy()
    dZ[np.arange(B), y] -= 1.0
    dZ = sign * dZ
    if scale in ("once", "twice"):
        dZ = dZ / B
    grads = {}
    for l in range(D, 0, -1):
        if scale == "twice":
            extra = B
        else:
            extra = 1
        A = cache[f"A{l - 1}"]
        gW = dZ.T @ A / extra
        grads[f"W{l}"] = gW.T if transpose else gW
        grads[f"b{l}"] = {"sum": lambda d: d.sum(axis=0), "none": lambda d: d,
                          "mean": lambda d: d.mean(axis=0), "axis1": lambda d: d.sum(axis=1),
                          "zero": lambda d: np.zeros(d.shape[1])}[bias](dZ) / extra
        if l > 1:
            dA = dZ @ params[f"W{l}"]
            s = {"prime": A * (1 - A), "none": 1.0, "sigma": A,
                 "twice": _sigmoid(A) * (1 - _sigmoid(A))}[local]
            dZ = dA * s
    return grads


@wrong(E, "no 1/B in BP1 (sums over the batch)", *TOO_LARGE_B)
def _(params, cache, y):
    return _batch_backward(params, cache, y, scale="none")


@wrong(E, "a second 1/B in every layer", *TOO_SMALL_B)
def _(params, cache, y):
    return _batch_backward(params, cache, y, scale="twice")


@wrong(E, "dW = A^T dZ (transposed)", *TRANSPOSED)
def _(params, cache, y):
    return _batch_backward(params, cache, y, transpose=True)


@wrong(E, "bias gradient not summed over the batch", r"bias", r"sum", r"summed", r"rows",
       r"per sample")
def _(params, cache, y):
    return _batch_backward(params, cache, y, bias="none")


@wrong(E, "bias gradient averaged over the batch (a second 1/B for b)", r"bias", r"mean",
       r"averag", *TOO_SMALL_B)
def _(params, cache, y):
    return _batch_backward(params, cache, y, bias="mean")


@wrong(E, "bias summed over the wrong axis (axis=1)", r"axis", r"columns", r"per sample",
       r"summed over the (features|classes|units)")
def _(params, cache, y):
    return _batch_backward(params, cache, y, bias="axis1")


@wrong(E, "forgets the bias: zeros", r"bias", r"zero", r"all zeros")
def _(params, cache, y):
    return _batch_backward(params, cache, y, bias="zero")


@wrong(E, "Delta_D = (Y - Y_hat)/B (sign)", *SIGN)
def _(params, cache, y):
    return _batch_backward(params, cache, y, sign=-1.0)


@wrong(E, "BP2 without sigma'", r"σ'|σ′|sigma'", r"derivative", r"missing", r"local")
def _(params, cache, y):
    return _batch_backward(params, cache, y, local="none")


@wrong(E, "the sigmoid A where its derivative A(1 - A) belongs", r"itself where",
       r"derivative belongs", r"σ'|σ′|sigma'", r"A ?\(1 ?[-−] ?A\)")
def _(params, cache, y):
    return _batch_backward(params, cache, y, local="sigma")


@wrong(E, "sigma'(A) instead of sigma'(Z): the sigmoid applied twice", r"twice",
       r"A instead", r"of A\b", r"σ'|σ′|sigma'", r"already")
def _(params, cache, y):
    return _batch_backward(params, cache, y, local="twice")


@wrong(E, "BP1 computed in place in cache['Y_hat']", *IN_PLACE, r"cache", r"Y_hat")
def _(params, cache, y):
    return _batch_backward(params, cache, y, in_place=True)


@wrong(E, "written for depth 2 only", r"depth", r"layers?", r"missing", r"key")
def _(params, cache, y):
    return _batch_backward(params, cache, y, depth=2)


@wrong(E, "keeps the first cache it is given (stale)", r"stale", r"earlier", r"left over",
       r"cache", r"previous")
def _(params, cache, y):
    kept = _first_cache.get("batch_backward")
    if kept is None or set(kept) - {"_y"} != set(cache) or any(
            kept[k].shape != cache[k].shape for k in cache) or len(kept["_y"]) != len(y):
        kept = _first_cache["batch_backward"] = {**{k: v.copy() for k, v in cache.items()},
                                                 "_y": np.array(y)}
    return _batch_backward(params, {k: v for k, v in kept.items() if k != "_y"}, y)


E = "ch4.train"


def _forward4(params, X, out="softmax"):
    D = len(params) // 2
    cache = {"A0": X}
    A = X
    for l in range(1, D + 1):
        Z = A @ params[f"W{l}"].T + params[f"b{l}"]
        cache[f"Z{l}"] = Z
        if l < D:
            A = _sigmoid(Z)
            cache[f"A{l}"] = A
    if out == "softmax":
        E_ = np.exp(Z - Z.max(axis=1, keepdims=True))
        cache["Y_hat"] = E_ / E_.sum(axis=1, keepdims=True)
    else:
        cache["Y_hat"] = _sigmoid(Z)
    return cache["Y_hat"], cache


def _train(params, X, y, lr, epochs, batch_size, rng, *, loss="mean", when="before",
           update="in_place", sign=1.0, batches="per_epoch", record="batch", scale="once",
           out="softmax", use_lr=True, ret=True):
    from nnlib.data import minibatches

    losses, epoch_losses = [], []
    once = list(minibatches(X, y, batch_size, rng)) if batches == "once" else None
    for epoch in range(epochs):
        if batches == "once":
            source = once if epoch == 0 else []
        elif batches == "no_rng":
            source = minibatches(X, y, batch_size, np.random.default_rng(0))
        else:
            source = minibatches(X, y, batch_size, rng)
        for Xb, yb in source:
            Y_hat, cache = _forward4(params, Xb, out)
            picked = Y_hat[np.arange(len(yb)), yb]
            value = {"mean": -np.mean(np.log(picked)), "sum": -np.sum(np.log(picked)),
                     "all": -np.mean(np.log(Y_hat))}[loss]
            grads = _batch_backward(params, cache, yb, scale=scale)
            step = lr if use_lr else 1.0
            for k in params:
                if update == "in_place":
                    params[k] -= sign * step * grads[k]
                elif update == "rebind":
                    params[k] = params[k] - sign * step * grads[k]
            if when == "after":
                Y_hat, _ = _forward4(params, Xb, out)
                value = -np.mean(np.log(Y_hat[np.arange(len(yb)), yb]))
            losses.append(float(value))
            epoch_losses.append(float(value))
        if record == "epoch" and epoch_losses:
            losses = losses[: len(losses) - len(epoch_losses)] + [float(np.mean(epoch_losses))]
        epoch_losses = []
    return losses if ret else None


@wrong(E, "records the loss after the update", r"after the update", r"before the update",
       r"after", r"before")
def _(params, X, y, lr, epochs, batch_size, rng):
    return _train(params, X, y, lr, epochs, batch_size, rng, when="after")


@wrong(E, "records the summed loss, not the batch mean", r"sum", r"mean", r"B times",
       r"times too large", r"averag")
def _(params, X, y, lr, epochs, batch_size, rng):
    return _train(params, X, y, lr, epochs, batch_size, rng, loss="sum")


@wrong(E, "rebinds params[k] instead of updating the arrays in place", r"in place",
       r"rebind", r"arrays?", r"did not change", r"unchanged", r"\bdict")
def _(params, X, y, lr, epochs, batch_size, rng):
    return _train(params, X, y, lr, epochs, batch_size, rng, update="rebind")


@wrong(E, "params += lr * grads (uphill)", *SIGN, r"uphill", r"ascent", r"increase")
def _(params, X, y, lr, epochs, batch_size, rng):
    return _train(params, X, y, lr, epochs, batch_size, rng, sign=-1.0)


@wrong(E, "never updates the parameters", r"update", r"unchanged", r"did not change",
       r"never")
def _(params, X, y, lr, epochs, batch_size, rng):
    return _train(params, X, y, lr, epochs, batch_size, rng, update="none")


@wrong(E, "builds the batches once, before the epoch loop (one epoch of batches only)",
       r"epoch", r"once", r"number of (losses|steps|batches)", r"expected \d+ losses",
       r"too few", r"length")
def _(params, X, y, lr, epochs, batch_size, rng):
    return _train(params, X, y, lr, epochs, batch_size, rng, batches="once")


@wrong(E, "minibatches with a fresh generator instead of rng", r"\brng\b", r"shuffl",
       r"random", r"batches", r"order")
def _(params, X, y, lr, epochs, batch_size, rng):
    return _train(params, X, y, lr, epochs, batch_size, rng, batches="no_rng")


@wrong(E, "one loss per epoch instead of one per batch", r"per batch", r"per epoch",
       r"epoch", r"number of losses", r"too few", r"length")
def _(params, X, y, lr, epochs, batch_size, rng):
    return _train(params, X, y, lr, epochs, batch_size, rng, record="epoch")


@wrong(E, "forgets to return the losses", *NO_RETURN)
def _(params, X, y, lr, epochs, batch_size, rng):
    return _train(params, X, y, lr, epochs, batch_size, rng, ret=False)


@wrong(E, "its batch_backward has no 1/B", r"gradient", r"backward", *TOO_LARGE_B)
def _(params, X, y, lr, epochs, batch_size, rng):
    return _train(params, X, y, lr, epochs, batch_size, rng, scale="none")


@wrong(E, "the loss averages log Y_hat over every class, not only the true one",
       r"first loss", r"forward", r"cross-entropy", r"true class", r"label", r"every class")
def _(params, X, y, lr, epochs, batch_size, rng):
    return _train(params, X, y, lr, epochs, batch_size, rng, loss="all")


@wrong(E, "ignores lr (a step of 1)", r"\blr\b", r"learning rate", r"step size", r"update")
def _(params, X, y, lr, epochs, batch_size, rng):
    return _train(params, X, y, lr, epochs, batch_size, rng, use_lr=False)


# Witnesses of the later exercises: inputs on which an accepted answer goes wrong.
def _two_layer_case(seed=0, n0=4, n1=5, K=3):
    rng = np.random.default_rng(seed)
    params = {"W1": rng.normal(size=(n1, n0)), "b1": rng.normal(size=(n1, 1)),
              "W2": rng.normal(size=(K, n1)), "b2": rng.normal(size=(K, 1))}
    x = rng.normal(size=(n0, 1))
    z1 = params["W1"] @ x + params["b1"]
    a1 = _sigmoid(z1)
    z2 = params["W2"] @ a1 + params["b2"]
    e = np.exp(z2 - z2.max())
    y = np.zeros((K, 1))
    y[1] = 1.0
    return params, {"x": x, "z1": z1, "a1": a1, "z2": z2, "y_hat": e / e.sum()}, y


@witness("ch3.two_layer_backward", "delta2 computed in place: cache['y_hat'] -= y")
def _(answer):
    params, cache, y = _two_layer_case()
    before = cache["y_hat"].copy()
    answer(params, cache, y)
    said = _changed("cache['y_hat']", before, cache["y_hat"])
    return said and said + " (it now holds y_hat - y, not the prediction)"


def _batch_case(seed=0, sizes=(4, 5, 3), B=6):
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(sizes)):
        params[f"W{l}"] = rng.normal(size=(sizes[l], sizes[l - 1]))
        params[f"b{l}"] = rng.normal(size=sizes[l])
    X = rng.normal(size=(B, sizes[0]))
    y = rng.integers(0, sizes[-1], size=B)
    _, cache = _forward4(params, X)
    return params, cache, y


@witness("ch4.batch_backward", "BP1 computed in place in cache['Y_hat']")
def _(answer):
    params, cache, y = _batch_case()
    before = cache["Y_hat"].copy()
    answer(params, cache, y)
    return _changed("cache['Y_hat']", before, cache["Y_hat"])


@witness("ch4.batch_backward", "keeps the first cache it is given (stale)")
def _(answer):
    for seed in (1, 2):  # two batches of the same shapes
        params, cache, y = _batch_case(seed)
        got = answer(params, cache, y)
    want = _batch_backward(params, cache, y)
    err = max(float(np.max(np.abs(got[k] - want[k]))) for k in want)
    return (f"on a second batch of the same shapes its gradients are off by up to {err:.2g}: "
            "they are the first batch's") if err > 1e-9 else None


@witness("ch4.train", "rebinds params[k] instead of updating the arrays in place")
def _(answer):
    params, cache, y = _batch_case()
    arrays = {k: v for k, v in params.items()}
    before = {k: v.copy() for k, v in params.items()}
    answer(params, cache["A0"], y, 0.5, 1, 3, np.random.default_rng(0))
    if all(np.array_equal(arrays[k], before[k]) for k in params):
        return ("the arrays the caller passed in are unchanged (the dict holds new ones): a "
                "caller that kept them, as a model's layers do, trains nothing")
    return None


# =====================================================================================
# Chapter 2, the engine built in steps (ch2.value_node, add_mul, tanh, topo, backward).
# Each answer is a whole Value class, correct but for one slip in the step it answers.
# Ids not registered (the chapter is being rewritten) are skipped by measure.py.
# =====================================================================================
def _engine(**bug):
    """A learner's Value class, the model answer with the slips named in ``bug``."""
    b = bug.get

    class Value:
        def __init__(self, data, children=(), op=""):
            if b("init") == "arg_order":  # children and op written the other way round
                children, op = op, children
            self.data = float(data)
            self.grad = {"none": None, "one": 1.0}.get(b("init"), 0.0)
            if b("init") == "no_children":
                self.children = ()
            elif b("init") == "reversed_children":
                self.children = tuple(children)[::-1]
            elif b("init") == "prev_name":
                self._prev = tuple(children)
            else:
                self.children = tuple(children)
            self.op = None if b("init") == "op_none" else op
            self._backward = None if b("init") == "backward_none" else (lambda: None)
            if b("init") == "no_grad":
                del self.grad

        def __repr__(self):
            return f"Value(data={self.data:.4g}, grad={self.grad:.4g})"

        def __add__(self, other):
            kids = (other, self) if b("add") == "children_order" else (self, other)
            out = Value(self.data + other.data, children=kids,
                        op="*" if b("add") == "op" else "+")

            def _backward():
                up = 1.0 if b("add") == "no_upstream" else out.grad
                if b("add") == "assign":
                    self.grad = up
                    other.grad = up
                    return
                self.grad += up
                if b("add") != "only_self":
                    other.grad += up

            if b("add") != "unset":
                out._backward = _backward
            return None if b("add") == "no_return" else out

        def __mul__(self, other):
            fwd = self.data + other.data if b("mul") == "sum_forward" else self.data * other.data
            out = Value(fwd, children=(self, other), op="*")

            def _backward():
                up = 1.0 if b("mul") == "no_upstream" else out.grad
                da, db = other.data, self.data
                if b("mul") == "own":
                    da, db = self.data, other.data
                elif b("mul") == "ones":
                    da, db = 1.0, 1.0
                if b("mul") == "assign":
                    self.grad = da * up
                    other.grad = db * up
                    return
                self.grad += da * up
                other.grad += db * up

            if b("mul") != "unset":
                out._backward = _backward
            return None if b("mul") == "no_return" else out

        def tanh(self):
            t = self.data if b("tanh") == "no_forward" else math.tanh(self.data)
            out = Value(t, children=() if b("tanh") == "no_children" else (self,),
                        op="tanh")

            def _backward():
                y = out.data
                local = {"input": 1.0 - self.data**2, "twice": 1.0 - math.tanh(y) ** 2,
                         "itself": y, "sign": y**2 - 1.0, "no_square": 1.0 - y}.get(
                    b("tanh"), 1.0 - y**2)
                up = 1.0 if b("tanh") == "no_upstream" else out.grad
                if b("tanh") == "assign":
                    self.grad = local * up
                else:
                    self.grad += local * up

            if b("tanh") != "unset":
                out._backward = _backward
            return out

        def topological_order(self):
            how = b("topo")
            if how == "bfs":  # by levels from the output, then reversed
                seen, level, queue = [], [], [self]
                while queue:
                    node = queue.pop(0)
                    if not any(node is s for s in seen):
                        seen.append(node)
                        level.append(node)
                        queue.extend(node.children)
                return level[::-1]
            order, visited = [], set()

            def visit(node):
                key = node.data if how == "by_data" else id(node)
                if how != "no_visited":
                    if key in visited:
                        return
                    visited.add(key)
                if how == "preorder":
                    order.append(node)
                for child in node.children:
                    if how == "one_level":
                        if child not in order:
                            order.append(child)
                    else:
                        visit(child)
                if how not in ("preorder",):
                    if how == "no_leaves" and not node.children:
                        return
                    order.append(node)

            visit(self)
            if how == "reversed":
                order.reverse()
            if how == "no_self":
                order.pop()
            if how == "set":
                return set(order)
            return order

        def backward(self):
            how = b("backward")
            if how == "recursive":  # no topological order: a rule runs before all uses
                def run(node):
                    node._backward()
                    for child in node.children:
                        run(child)

                for node in self.topological_order():
                    node.grad = 0.0
                self.grad = 1.0
                run(self)
                return
            order = self.topological_order()
            if how == "seed_then_clear":
                self.grad = 1.0
            if how not in ("no_clear", "clear_self"):
                for node in order:
                    if how == "clear_data":
                        node.data = 0.0
                    else:
                        node.grad = 0.0
            if how == "clear_self":
                self.grad = 0.0
            if how not in ("no_seed", "seed_then_clear"):
                self.grad = 1.0
            if how == "only_self":
                self._backward()
                return
            for node in (order if how == "forward_order" else reversed(order)):
                node._backward()

    Value.__name__ = Value.__qualname__ = "Value"
    return Value


ACCUMULATE = (r"\+=", r"overwr", r"already", r"accumulat", r"replac", r"instead of add",
              r"adds? to")
UPSTREAM = (r"local derivative only", r"out\.grad", r"upstream", r"times out")
NEVER_SET = (r"never called", r"_backward", r"never (set|run)")

E = "ch2.value_node"
for _bug, _desc, _kw in [
    ("none", "grad = None instead of 0", (r"grad", r"\b0\b", r"zero", r"None")),
    ("one", "grad = 1 at creation (the seed in the wrong place)", (r"grad", r"\b0\b",
                                                                     r"zero", r"seed")),
    ("no_children", "forgets to store the children", (r"children", r"record", r"inputs")),
    ("reversed_children", "children stored as (b, a)", (*ORDER, r"children")),
    ("arg_order", "op and children parameters the other way round",
     (*ORDER, r"\bop\b", r"children", r"argument")),
    ("backward_none", "_backward = None (not a function that does nothing)",
     (r"_backward", r"callable", r"does nothing", r"function")),
    ("op_none", "stores op = None, whatever op it is given",
     (r"\bop\b", r'""', r"empty", r"None")),
    ("no_grad", "forgets the grad attribute", (r"grad", r"attribute")),
    ("prev_name", "stores the children as _prev (another tutorial's name)",
     (r"children", r"attribute", r"_prev")),
]:
    wrong_value(E, _engine(init=_bug), _desc, *_kw)

E = "ch2.add_mul"
for _op, _bug, _desc, _kw in [
    ("add", "assign", "add's rule: = instead of +=", ACCUMULATE),
    ("mul", "assign", "mul's rule: = instead of +=", ACCUMULATE),
    ("add", "no_upstream", "add's rule forgets out.grad", UPSTREAM),
    ("mul", "no_upstream", "mul's rule forgets out.grad", UPSTREAM),
    ("mul", "own", "mul: each input times its own value, not the other's",
     (r"other", r"swapped", r"own", r"its own")),
    ("mul", "ones", "mul's local derivatives 1 (copied from add)",
     (r"other", r"local derivative", r"\b1\b", r"copied", r"sum's")),
    ("add", "only_self", "add's rule updates only the first input",
     (r"other", r"both", r"second input", r"only one", r"\bb\b")),
    ("add", "children_order", "add records children=(other, self)", (*ORDER, r"children")),
    ("add", "op", 'add records op "*"', (r"\bop\b", r'"\+"')),
    ("mul", "unset", "mul never sets out._backward", NEVER_SET),
    ("add", "no_return", "add forgets to return out", NO_RETURN),
    ("mul", "sum_forward", "mul's data is self.data + other.data (copied from add)",
     (r"data", r"forward", r"product", r"value")),
]:
    wrong_value(E, _engine(**{_op: _bug}), _desc, *_kw)

E = "ch2.tanh"
for _bug, _desc, _kw in [
    ("input", "1 - x^2 at the input instead of 1 - tanh(x)^2",
     (r"tanh\(x\)", r"out\.data", r"1 ?[-−] ?x", r"self\.data", r"input")),
    ("twice", "1 - tanh(out.data)^2: tanh applied twice", (r"twice", r"at the output",
                                                             r"out\.data", r"already")),
    ("itself", "tanh(x) itself where its derivative belongs",
     (r"itself where", r"derivative belongs", r"1 ?[-−] ?tanh")),
    ("sign", "tanh(x)^2 - 1 (sign)", SIGN),
    ("assign", "= instead of +=", ACCUMULATE),
    ("no_upstream", "forgets out.grad", UPSTREAM),
    ("no_square", "1 - tanh(x), the square forgotten", (r"squar", r"\^2", r"1 ?[-−] ?tanh")),
    ("no_children", "children=() (the node forgets its input)", (r"\bchild", r"input")),
    ("no_forward", "data = self.data (tanh forgotten in the forward value)",
     (r"forward value", r"not applied", r"math\.tanh", r"never takes tanh")),
    ("unset", "never sets out._backward", NEVER_SET),
]:
    wrong_value(E, _engine(tanh=_bug), _desc, *_kw)

E = "ch2.topo"
for _bug, _desc, _kw in [
    ("no_visited", "no visited set: a shared node is listed more than once",
     (r"once", r"twice", r"duplicate", r"more than once", r"visited")),
    ("preorder", "appends a node before its children (self first)",
     (*ORDER, r"before", r"children first", r"after (all )?(of )?its children")),
    ("reversed", "returns the order reversed (self first)", (r"revers", r"last", *ORDER)),
    ("one_level", "lists only the direct children of self",
     (r"missing", r"every node", r"not all", r"leaves", r"deeper")),
    ("by_data", "visited by value: nodes with equal data are dropped",
     (r"equal data", r"same (value|data)", r"identity", r"miss", r"data")),
    ("no_self", "leaves self out", (r"self", r"last", r"missing", r"root", r"output")),
    ("bfs", "levels from the output, reversed: not topological when paths differ in length",
     (r"before", r"child", r"\border\b", r"after")),
    ("set", "returns a set", (r"list", r"set", r"\border\b")),
    ("no_leaves", "leaves the leaves out", (r"lea(f|ves)", r"miss", r"inputs")),
]:
    wrong_value(E, _engine(topo=_bug), _desc, *_kw)

E = "ch2.backward"
for _bug, _desc, _kw in [
    ("no_clear", "does not clear the gradients first",
     (r"clear", r"left over", r"earlier pass", r"accumulat", r"second call", r"reset",
      r"zero")),
    ("no_seed", "never seeds self.grad = 1", (r"seed", r"\b1\b", r"self\.grad")),
    ("forward_order", "runs the rules in topological order, not reversed",
     (*ORDER, r"revers")),
    ("seed_then_clear", "seeds, then clears every gradient (the seed among them)",
     (r"seed", r"\border\b", r"after", r"clear")),
    ("clear_self", "clears only self's gradient", (r"clear", r"left over", r"earlier pass",
                                                    r"every gradient", r"reset")),
    ("only_self", "runs only self's rule", (r"only", r"whole graph", r"every node",
                                            r"one node", r"children", r"deeper")),
    ("recursive", "recursive, no topological order: a rule runs before all its uses",
     (r"topolog", r"twice", r"\border\b", r"before", r"revers")),
    ("clear_data", "clears data instead of grad", (r"data", r"clear", r"forward")),
]:
    wrong_value(E, _engine(backward=_bug), _desc, *_kw)


@witness("ch2.add_mul", "add records children=(other, self)")
def _(answer):
    a, b = answer(1.0), answer(2.0)
    kids = tuple(getattr(a + b, "children", ()))
    return ("(a + b).children is (b, a): the prompt asks for (self, other), and a graph "
            "drawn from it swaps the inputs") if kids and kids[0] is b else None


@witness("ch2.add_mul", 'add records op "*"')
def _(answer):
    op = getattr(answer(1.0) + answer(2.0), "op", None)
    return f"(a + b).op is {op!r}: a drawn graph labels the sum as a product" if op != "+" else None
