r"""Checks for Chapter 5, making backprop work in practice.

A batch is ``(B, n)`` with one sample per row; ``W`` has shape ``(n_out, n_in)``.

``ch5.init_std``
    ``init_std(n_in, n_out, scheme)``: the *standard deviation* of the normal
    initialisation ``scheme`` ("xavier": :math:`\sqrt{2/(n_{in}+n_{out})}`, "he":
    :math:`\sqrt{2/n_{in}}`) for a weight of shape ``(n_out, n_in)``.

``ch5.sigmoid_chain_bound``
    ``sigmoid_chain_bound(k, w_max)``: the bound :math:`(w_{max}/4)^k` on
    :math:`|\partial a_k/\partial a_0|` for a chain of ``k`` sigmoid units whose weights
    satisfy :math:`|w_l| \le w_{max}` (for :math:`w_{max} > 4` the bound exceeds 1).

``ch5.linear_backward``
    ``linear_backward(dZ, X, W) -> (dX, dW, db)`` for :math:`Z = X W^\top + b^\top`, with
    ``dZ`` :math:`= \Delta` already carrying the 1/B of the mean loss (the book's one
    convention): :math:`dX = \Delta W`, :math:`dW = \Delta^\top X`,
    :math:`db = \sum_i \Delta^{(i)}` (the chapter's planted bug divides ``dW`` by ``B``
    again). The same as :class:`nnlib.layers.Linear`'s backward.

``ch5.leaky_relu_backward``
    ``leaky_relu_backward(dout, z, slope)``: :math:`dz = dout \odot \phi'(z)` with
    :math:`\phi'(z) = 1` for :math:`z > 0` and ``slope`` otherwise.

``ch5.count_dead``
    ``count_dead(A)``: the number of units (columns of the ReLU outputs ``A``, shape
    ``(B, n)``) that are 0 for every sample.

Every check names a catalogued mistake only when its prediction on the case at hand
is unique: different from the right answer and from every other catalogued mistake
(:func:`_unique`). The cases are chosen so that on the first case all predictions
differ (no ``k = 1``, no ``w_max = 1``, no square shapes first, distinct sizes).
"""

from __future__ import annotations

import numbers

import numpy as np

from . import diagnose as d
from ._registry import exercise


def _unique(mistakes, expected):
    """The mistakes whose prediction differs from ``expected`` and from every other one's.

    A prediction that coincides with the right answer cannot be told apart from it; one
    that coincides with another mistake's (with a different message) would be a guess
    between the two, so neither is named on this case.
    """

    def same(a, b):
        return d.close(a, b) or d.close(b, a)

    keep = []
    for m in mistakes:
        if same(m.value, expected):
            continue
        if any(o.message != m.message and same(m.value, o.value) for o in mistakes):
            continue
        keep.append(m)
    return keep


# --- ch5.init_std -------------------------------------------------------------------------


def init_std(n_in, n_out, scheme):
    """Reference: std of Xavier normal sqrt(2/(n_in+n_out)) or He normal sqrt(2/n_in)."""
    if scheme == "xavier":
        return float(np.sqrt(2.0 / (n_in + n_out)))
    return float(np.sqrt(2.0 / n_in))


# (n_in, n_out, scheme): fans chosen so that no two of the catalogued formulas coincide.
_INIT_CASES = [(300, 100, "xavier"), (64, 256, "he"), (784, 128, "xavier"), (50, 20, "he"),
               (10, 1000, "xavier"), (1000, 30, "he")]


def _init_inputs(rng, i):
    n_in, n_out, scheme = _INIT_CASES[i]
    return {"n_in": n_in, "n_out": n_out, "scheme": scheme}


_PRECEDENCE = ("the division happens before the addition: 2 / n_in + n_out divides only by n_in "
               "and then adds n_out. Put the whole fan in parentheses.")
_SQRT_OF_TWO = ("the square root is taken of the 2 alone: the standard deviation is the square "
                "root of the whole variance, fraction included.")


def _init_mistakes(n_in, n_out, scheme):
    both = n_in + n_out
    fan = both if scheme == "xavier" else n_in
    mistakes = [
        d.Mistake(2.0 / fan, "that is the variance, not the standard deviation: the normal distribution "
                             "N(0, sigma^2) is written with the variance; take its square root."),
        d.Mistake(1.0 / np.sqrt(n_in),
                  "that is sqrt(1/n_in) (LeCun's variance 1/n_in): the factor 2 is missing - He's 2 makes up for "
                  "the half of the pre-activations that ReLU sets to 0, Xavier's 2 for averaging the two fans."),
        d.Mistake(1.0 / np.sqrt(both),
                  "that is sqrt(1/(n_in + n_out)): the factor 2 is missing."),
        d.Mistake(np.sqrt(2.0 / n_in + n_out), _PRECEDENCE),
        d.Mistake(np.sqrt(2.0) / fan, _SQRT_OF_TWO),
    ]
    if scheme == "xavier":
        mistakes[:0] = [
            d.Mistake(np.sqrt(6.0 / both),
                      "that is sqrt(6/(n_in + n_out)), the limit r of the *uniform* Xavier distribution U(-r, r), "
                      "not the standard deviation of the normal one. A uniform on [-r, r] has variance r^2/3."),
            d.Mistake(6.0 / both,
                      "that is 6/(n_in + n_out): the square of the uniform distribution's limit, used as if it were "
                      "a normal distribution's variance (a mistake found in some tutorials), and a variance rather "
                      "than a standard deviation on top."),
            d.Mistake(np.sqrt(2.0 / n_in), "that is He's standard deviation; the scheme asked for is Xavier."),
            d.Mistake(np.sqrt(2.0 / n_out),
                      "that uses only n_out: Xavier averages the forward (n_in) and backward (n_out) conditions."),
            d.Mistake(np.sqrt(4.0 / both),
                      "that divides 2 by the *mean* fan (n_in + n_out)/2, which doubles the variance: Xavier's "
                      "variance is one over the mean fan, and the 2 in its formula is that average's 2."),
        ]
    else:
        mistakes[:0] = [
            d.Mistake(np.sqrt(6.0 / n_in),
                      "that is sqrt(6/n_in), the limit r of the *uniform* He distribution U(-r, r), not the "
                      "standard deviation of the normal one. A uniform on [-r, r] has variance r^2/3."),
            d.Mistake(np.sqrt(2.0 / both), "that is Xavier's standard deviation; the scheme asked for is He."),
            d.Mistake(np.sqrt(2.0 / n_out),
                      "that uses the fan-out n_out; He's forward argument sums over the n_in inputs of a unit "
                      "(W has shape (n_out, n_in))."),
        ]
    return mistakes


@exercise("ch5.init_std", points=1, title="Xavier and He standard deviations", reference=init_std)
def check_init_std(answer, t):
    fn = t.require_callable()
    for case in t.cases(_init_inputs, n=len(_INIT_CASES)):
        n_in, n_out, scheme = case.args
        expected = t.reference(n_in, n_out, scheme)
        got = t.call(fn, n_in, n_out, scheme)
        t.compare(got, expected, f"init_std({n_in}, {n_out}, {scheme!r})",
                  mistakes=_unique(_init_mistakes(n_in, n_out, scheme), expected),
                  hint="write the variance that keeps the signal's size from layer to layer, then take its "
                       "square root.")


@check_init_std.wrong_answer(expect="variance, not the standard deviation")
def _is_variance(n_in, n_out, scheme):
    """Returns the variance instead of the standard deviation."""
    return 2.0 / (n_in + n_out) if scheme == "xavier" else 2.0 / n_in


@check_init_std.wrong_answer(expect="limit r of the *uniform*")
def _is_uniform_limit(n_in, n_out, scheme):
    """Uses the uniform distribution's limit sqrt(6/fan) as the normal's std."""
    return np.sqrt(6.0 / (n_in + n_out)) if scheme == "xavier" else np.sqrt(6.0 / n_in)


@check_init_std.wrong_answer(expect="square of the uniform")
def _is_six_variance(n_in, n_out, scheme):
    """The tutorial mistake: 'variance 6/(n_in + n_out)' returned as is."""
    return 6.0 / (n_in + n_out) if scheme == "xavier" else np.sqrt(2.0 / n_in)


@check_init_std.wrong_answer(expect="sqrt(1/(n_in + n_out)): the factor 2 is missing")
def _is_no_two(n_in, n_out, scheme):
    """Forgets the factor 2 (1/(n_in + n_out) for Xavier, LeCun's 1/n_in for He)."""
    return np.sqrt(1.0 / (n_in + n_out)) if scheme == "xavier" else np.sqrt(1.0 / n_in)


@check_init_std.wrong_answer(expect="LeCun")
def _is_lecun(n_in, n_out, scheme):
    """LeCun's sqrt(1/n_in) for both schemes."""
    return np.sqrt(1.0 / n_in)


@check_init_std.wrong_answer(expect="the scheme asked for is")
def _is_swapped(n_in, n_out, scheme):
    """Xavier and He swapped."""
    return np.sqrt(2.0 / n_in) if scheme == "xavier" else np.sqrt(2.0 / (n_in + n_out))


@check_init_std.wrong_answer(expect="fan-out")
def _is_fan_out(n_in, n_out, scheme):
    """He with the fan-out."""
    return np.sqrt(2.0 / (n_in + n_out)) if scheme == "xavier" else np.sqrt(2.0 / n_out)


@check_init_std.wrong_answer(expect="uses only n_out")
def _is_xavier_fan_out(n_in, n_out, scheme):
    """Xavier with the fan-out alone."""
    return np.sqrt(2.0 / n_out) if scheme == "xavier" else np.sqrt(2.0 / n_in)


@check_init_std.wrong_answer(expect="before the addition")
def _is_precedence(n_in, n_out, scheme):
    """np.sqrt(2 / n_in + n_out): the missing parentheses."""
    return np.sqrt(2 / n_in + n_out) if scheme == "xavier" else np.sqrt(2 / n_in)


@check_init_std.wrong_answer(expect="the 2 alone")
def _is_sqrt_of_two(n_in, n_out, scheme):
    """np.sqrt(2) / fan: the root of the numerator only."""
    return np.sqrt(2) / (n_in + n_out) if scheme == "xavier" else np.sqrt(2) / n_in


@check_init_std.wrong_answer(expect="*mean* fan")
def _is_mean_fan(n_in, n_out, scheme):
    """2 divided by the mean fan (n_in + n_out) / 2."""
    return np.sqrt(2 / ((n_in + n_out) / 2)) if scheme == "xavier" else np.sqrt(2 / n_in)


# --- ch5.sigmoid_chain_bound --------------------------------------------------------------


def sigmoid_chain_bound(k, w_max):
    """Reference: |d a_k / d a_0| <= (w_max / 4)^k for k sigmoid units with |w_l| <= w_max."""
    return float((w_max / 4.0) ** k)


# (k, w_max): k >= 2 and w_max != 1 first, so that no two catalogued formulas coincide
# there; w_max > 4 (a bound above 1) in the second and fifth cases; k = 0 last.
_CHAIN_CASES = [(3, 2.0), (3, 5.0), (5, 0.5), (2, 3.0), (4, 6.0), (6, 1.5), (0, 1.5)]


def _chain_inputs(rng, i):
    k, w_max = _CHAIN_CASES[i]
    return {"k": k, "w_max": w_max}


def _chain_mistakes(k, w_max):
    return [
        d.Mistake((w_max / 2.0) ** k,
                  "you used sigma(0) = 1/2 as the largest factor; the chain multiplies derivatives, and "
                  "sigma'(z) = sigma(z)(1 - sigma(z)) is largest at z = 0 with a smaller value."),
        d.Mistake(k * w_max / 4.0,
                  "the factors are added: the chain rule multiplies one local derivative per layer."),
        d.Mistake(w_max * 0.25**k,
                  "the weight bound appears once: every layer contributes a factor w_l sigma'(z_l)."),
        d.Mistake(0.25**k, "w_max is ignored: every layer's factor is w_l sigma'(z_l), not sigma'(z_l) alone."),
        d.Mistake(w_max**k / 4.0,
                  "the 1/4 appears once: each of the k layers has its own sigma'(z_l), bounded separately."),
        d.Mistake(float(w_max) ** k,
                  "that bounds each derivative sigma'(z_l) by 1 (tanh's largest slope); the sigmoid's largest "
                  "slope is smaller, and it enters once per layer."),
        d.Mistake((w_max / 4.0) ** (k - 1), "one factor too few: a chain of k units has k local derivatives."),
        d.Mistake((w_max / 4.0) ** (k + 1), "one factor too many: a chain of k units has k local derivatives."),
        d.Mistake(min(1.0, (w_max / 4.0) ** k),
                  "the bound is capped at 1, but nothing caps the product: with w_max > 4 each factor "
                  "w_l sigma'(z_l) may exceed 1, and the bound grows with k (exploding gradients)."),
    ]


@exercise("ch5.sigmoid_chain_bound", points=1, title="How fast can a sigmoid chain shrink a gradient?",
          reference=sigmoid_chain_bound)
def check_sigmoid_chain_bound(answer, t):
    fn = t.require_callable()
    for case in t.cases(_chain_inputs, n=len(_CHAIN_CASES)):
        k, w_max = case.args
        expected = t.reference(k, w_max)
        got = t.call(fn, k, w_max)
        t.compare(got, expected, f"sigmoid_chain_bound({k}, {w_max:g})",
                  mistakes=_unique(_chain_mistakes(k, w_max), expected),
                  hint="bound each factor |w_l sigma'(z_l)| separately, then multiply the k bounds.")


@check_sigmoid_chain_bound.wrong_answer(expect="sigma(0) = 1/2")
def _chain_half(k, w_max):
    """Uses sigma(0) = 1/2 instead of sigma'(0)."""
    return (w_max / 2.0) ** k


@check_sigmoid_chain_bound.wrong_answer(expect="added")
def _chain_sum(k, w_max):
    """Adds the factors."""
    return k * w_max / 4.0


@check_sigmoid_chain_bound.wrong_answer(expect="weight bound appears once")
def _chain_w_once(k, w_max):
    """w_max / 4**k: the weight bound once."""
    return w_max / 4.0**k


@check_sigmoid_chain_bound.wrong_answer(expect="w_max is ignored")
def _chain_no_w(k, w_max):
    """Forgets the weights."""
    return 0.25**k


@check_sigmoid_chain_bound.wrong_answer(expect="the 1/4 appears once")
def _chain_quarter_once(k, w_max):
    """w_max**k / 4: the derivative bound once."""
    return w_max**k / 4


@check_sigmoid_chain_bound.wrong_answer(expect="tanh's largest slope")
def _chain_slope_one(k, w_max):
    """w_max**k: sigma' bounded by 1."""
    return w_max**k


@check_sigmoid_chain_bound.wrong_answer(expect="one factor too few")
def _chain_off_by_one(k, w_max):
    """k - 1 factors."""
    return (w_max / 4.0) ** (k - 1)


@check_sigmoid_chain_bound.wrong_answer(expect="one factor too many")
def _chain_off_by_one_up(k, w_max):
    """k + 1 factors (a loop over range(k + 1))."""
    return (w_max / 4.0) ** (k + 1)


@check_sigmoid_chain_bound.wrong_answer(expect="capped at 1")
def _chain_capped(k, w_max):
    """min(1, (w_max / 4)**k): a 'bound' that cannot exceed 1."""
    return min(1.0, (w_max / 4) ** k)


# --- ch5.linear_backward ------------------------------------------------------------------


def linear_backward(dZ, X, W):
    """Reference: dX = dZ W, dW = dZ^T X, db = sum over the batch of dZ (dZ already carries 1/B)."""
    return dZ @ W, dZ.T @ X, dZ.sum(axis=0)


# (B, n_in, n_out): distinct sizes (no two equal, so a transpose or a sum over the wrong
# axis changes the shape), and a square layer last.
_LIN_SHAPES = [(7, 3, 5), (5, 2, 3), (11, 7, 2), (3, 5, 5)]


def _lin_inputs(rng, i):
    B, n_in, n_out = _LIN_SHAPES[i]
    return {"dZ": rng.standard_normal((B, n_out)) / B, "X": rng.standard_normal((B, n_in)),
            "W": rng.standard_normal((n_out, n_in))}


def _lin_mistakes(dZ, X, W):
    """The catalogued mistakes of (dX, dW, db) on these inputs."""
    B = len(X)
    dX = [
        d.Mistake(dZ @ W / B, "dX is divided by B: dZ already carries the 1/B of the mean loss, so "
                              "every layer's backward uses it as it is."),
        d.Mistake((dZ @ W).T, "dX is transposed: it has the shape of X.T. One row per sample, like X."),
        d.Mistake(-(dZ @ W), "dX has the wrong sign: the backward pass multiplies by W, nothing is "
                             "subtracted."),
    ]
    dW = [
        d.Mistake(dZ.T @ X / B,
                  "dW still has the planted bug: it divides by B, but dZ already carries the 1/B "
                  "of the mean loss, so dW is B times too small (an extra 1/B)."),
        d.Mistake(X.T @ dZ, "dW is transposed (X.T dZ has the shape of W.T): W is (n_out, n_in), "
                            "one row per output unit."),
        d.Mistake(np.outer(dZ[0], X[0]),
                  "dW uses the first sample only: the same W acts on every sample, so dW adds the "
                  "outer products of all B samples."),
    ]
    db = [
        d.Mistake(dZ.mean(axis=0), "db averages over the batch: dZ already carries the 1/B, so "
                                   "db is B times too small (an extra 1/B); sum instead."),
        d.Mistake(dZ.sum(axis=1), "db sums over the wrong axis: it adds up each sample's row (one "
                                  "number per sample) instead of each unit's column."),
        d.Mistake(dZ, "db is dZ itself, one row per sample: the bias is shared by every sample of "
                      "the batch, so its gradient adds their contributions."),
        d.Mistake(dZ.sum(), "db is a single number: it sums over every entry, samples and units "
                            "alike; b has one entry per output unit."),
    ]
    return dX, dW, db


@exercise("ch5.linear_backward", points=1, title="Find and fix the planted bug in a Linear backward",
          reference=linear_backward)
def check_linear_backward(answer, t):
    fn = t.require_callable()
    for case in t.cases(_lin_inputs, n=len(_LIN_SHAPES)):
        dZ, X, W = case.args
        B = len(X)
        dX_ref, dW_ref, db_ref = t.reference(dZ, X, W)
        dX, dW, db = t.unpack(t.call(fn, dZ, X, W), ("dX", "dW", "db"))
        m_dX, m_dW, m_db = _lin_mistakes(dZ, X, W)
        t.compare(dX, dX_ref, "dX", mistakes=_unique(m_dX, dX_ref), batch_size=B,
                  shape_hint="dX has the shape of X, (B, n_in).")
        t.compare(dW, dW_ref, "dW", mistakes=_unique(m_dW, dW_ref), batch_size=B,
                  shape_hint="dW has the shape of W, (n_out, n_in).")
        t.compare(db, db_ref, "db", mistakes=_unique(m_db, db_ref), batch_size=B,
                  shape_hint="db has the shape of b, (n_out,): one entry per output unit.")
        if t.modified:
            t.fail("your function changed one of its inputs in place (dZ, X or W). In a network the "
                   "same arrays are still needed elsewhere (the cache, the optimiser); compute new "
                   "arrays instead of writing into the inputs.")


@check_linear_backward.wrong_answer(expect="planted bug")
def _lin_planted(dZ, X, W):
    """The buggy function as given: dW divided by B again."""
    return dZ @ W, dZ.T @ X / X.shape[0], dZ.sum(axis=0)


@check_linear_backward.wrong_answer(expect="dW is transposed")
def _lin_transposed(dZ, X, W):
    """dW = X^T dZ, the transpose."""
    return dZ @ W, X.T @ dZ, dZ.sum(axis=0)


@check_linear_backward.wrong_answer(expect="first sample only")
def _lin_one_sample(dZ, X, W):
    """dW from the first sample: the per-sample formula of Chapter 3 applied to row 0."""
    return dZ @ W, np.outer(dZ[0], X[0]), dZ.sum(axis=0)


@check_linear_backward.wrong_answer(expect="db averages")
def _lin_db_mean(dZ, X, W):
    """Fixes dW but averages db."""
    return dZ @ W, dZ.T @ X, dZ.mean(axis=0)


@check_linear_backward.wrong_answer(expect="db sums over the wrong axis")
def _lin_db_axis(dZ, X, W):
    """Sums db over the wrong axis."""
    return dZ @ W, dZ.T @ X, dZ.sum(axis=1)


@check_linear_backward.wrong_answer(expect="bias is shared")
def _lin_db_not_summed(dZ, X, W):
    """db = dZ, not summed over the batch."""
    return dZ @ W, dZ.T @ X, dZ


@check_linear_backward.wrong_answer(expect="every entry")
def _lin_db_total(dZ, X, W):
    """db = dZ.sum(), every entry."""
    return dZ @ W, dZ.T @ X, dZ.sum()


@check_linear_backward.wrong_answer(expect="dX is divided by B")
def _lin_dx_extra_mean(dZ, X, W):
    """The 1/B written into dX as well."""
    B = X.shape[0]
    return dZ @ W / B, dZ.T @ X, dZ.sum(axis=0)


@check_linear_backward.wrong_answer(expect="dX is transposed")
def _lin_dx_transposed(dZ, X, W):
    """dX = W^T dZ^T, the column convention of Chapter 3."""
    return W.T @ dZ.T, dZ.T @ X, dZ.sum(axis=0)


@check_linear_backward.wrong_answer(expect="dX has the wrong sign")
def _lin_dx_sign(dZ, X, W):
    """A minus sign in dX."""
    return -dZ @ W, dZ.T @ X, dZ.sum(axis=0)


@check_linear_backward.wrong_answer(expect="in place")
def _lin_in_place(dZ, X, W):
    """Right values, but the 1/B is undone in dZ itself (in place) and applied again."""
    B = X.shape[0]
    dZ *= B
    return dZ @ W / B, dZ.T @ X / B, dZ.sum(axis=0) / B


# --- ch5.leaky_relu_backward --------------------------------------------------------------


def leaky_relu_backward(dout, z, slope):
    """Reference: dz = dout * (1 where z > 0, slope elsewhere)."""
    return dout * np.where(z > 0, 1.0, slope)


_LEAKY_CASES = [((6,), 0.01), ((4, 3), 0.1), ((5, 2), 0.2), ((3, 4), 0.3)]


def _leaky_inputs(rng, i):
    shape, slope = _LEAKY_CASES[i]
    z = rng.uniform(0.1, 3.0, shape) * rng.choice([-1.0, 1.0], shape)  # never exactly at the kink
    z.flat[0], z.flat[1] = 1.5, -1.5  # both sides present in every case
    dout = rng.uniform(0.2, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    # every combination of the signs of z and dout appears, so that testing dout's sign
    # instead of z's changes the result
    # (z > 0, dout < 0), (z < 0, dout > 0), (z > 0, dout > 0), (z < 0, dout < 0)
    dout.flat[:4] = [-0.7, 0.9, 1.1, -1.3]
    z.flat[2], z.flat[3] = abs(z.flat[2]), -abs(z.flat[3])
    return {"dout": dout, "z": z, "slope": slope}


def _leaky_mistakes(dout, z, slope):
    pos = z > 0
    return [
        d.Mistake(dout * np.where(pos, slope, 1.0),
                  "the slope is on the wrong side: leaky ReLU passes the gradient unchanged where z > 0 "
                  "and scales it by slope where z <= 0."),
        d.Mistake(dout * pos, "the negative side gets 0: that is ReLU's backward. Leaky ReLU keeps the small "
                              "slope there, which is the point of it."),
        d.upstream_not_multiplied(np.where(pos, 1.0, slope), "dz", "dout"),
        d.activation_instead_of_derivative(dout * np.where(pos, z, slope * z), "dz", "leaky ReLU"),
        d.Mistake(dout * slope, "dz uses slope everywhere: the positive side has derivative 1."),
        d.Mistake(np.where(pos, dout, slope),
                  "the negative side is the slope alone: there too the local derivative (slope) "
                  "multiplies dout."),
        d.Mistake(dout * np.where(dout > 0, 1.0, slope),
                  "the sides are chosen by the sign of dout: the derivative depends on the stored "
                  "pre-activation z, not on the gradient arriving from above."),
        d.Mistake(dout + np.where(pos, 1.0, slope),
                  "the local derivative is added to dout: the chain rule multiplies them, entry by entry."),
    ]


@exercise("ch5.leaky_relu_backward", points=1, title="The backward pass of leaky ReLU",
          reference=leaky_relu_backward)
def check_leaky_relu_backward(answer, t):
    fn = t.require_callable()
    for case in t.cases(_leaky_inputs, n=len(_LEAKY_CASES)):
        dout, z, slope = case.args
        slope = float(slope) if isinstance(slope, numbers.Real) else slope
        expected = t.reference(dout, z, slope)
        got = t.call(fn, dout, z, slope)
        t.compare(
            got, expected, "dz",
            mistakes=_unique(_leaky_mistakes(dout, z, slope), expected),
            shape_hint="dz has the shape of z.",
            hint="the local derivative is 1 where z > 0 and slope elsewhere; multiply it by dout entry by entry.",
        )
        if t.modified:
            t.fail("the values are right, but your function changed dout (or z) in place. The same "
                   "upstream array may still be needed elsewhere (a unit used twice adds several "
                   "paths); return a new array instead of writing into an input.")


@check_leaky_relu_backward.wrong_answer(expect="wrong side")
def _leaky_wrong_side(dout, z, slope):
    """Slope on the positive side."""
    return dout * np.where(z > 0, slope, 1.0)


@check_leaky_relu_backward.wrong_answer(expect="ReLU's backward")
def _leaky_as_relu(dout, z, slope):
    """Zero on the negative side."""
    return dout * (z > 0)


@check_leaky_relu_backward.wrong_answer(expect="local derivative only")
def _leaky_no_dout(dout, z, slope):
    """Forgets to multiply by dout."""
    return np.where(z > 0, 1.0, slope)


@check_leaky_relu_backward.wrong_answer(expect="itself")
def _leaky_forward(dout, z, slope):
    """Multiplies by the activation instead of its derivative."""
    return dout * np.where(z > 0, z, slope * z)


@check_leaky_relu_backward.wrong_answer(expect="slope everywhere")
def _leaky_slope_everywhere(dout, z, slope):
    """Scales every entry by the slope."""
    return dout * slope


@check_leaky_relu_backward.wrong_answer(expect="slope alone")
def _leaky_slope_alone(dout, z, slope):
    """np.where(z > 0, dout, slope): the slope not multiplied by dout."""
    return np.where(z > 0, dout, slope)


@check_leaky_relu_backward.wrong_answer(expect="sign of dout")
def _leaky_dout_sign(dout, z, slope):
    """Tests the sign of the upstream gradient instead of z."""
    return np.where(dout > 0, dout, slope * dout)


@check_leaky_relu_backward.wrong_answer(expect="added to dout")
def _leaky_added(dout, z, slope):
    """Adds the local derivative instead of multiplying."""
    return dout + np.where(z > 0, 1.0, slope)


@check_leaky_relu_backward.wrong_answer(expect="in place")
def _leaky_in_place(dout, z, slope):
    """Right values, written into dout."""
    dout[z <= 0] *= slope
    return dout


# --- ch5.count_dead -----------------------------------------------------------------------


def count_dead(A):
    """Reference: the number of units (columns of A, shape (B, n)) that are 0 for every sample."""
    return int(np.sum(np.all(A == 0, axis=0)))


# (B, n, number of dead units, number of all-zero samples); the counts have two digits so
# that no message can contain them by accident (a message never shows the answer).
_DEAD_CASES = [(8, 40, 13, 1), (10, 64, 27, 2), (5, 30, 11, 1), (12, 50, 19, 3)]


def _dead_inputs(rng, i):
    B, n, k, empty = _DEAD_CASES[i]
    A = np.maximum(rng.standard_normal((B, n)), 0.0)  # ReLU outputs: about half the entries are 0
    dead = rng.choice(n, size=k, replace=False)
    alive = np.setdiff1d(np.arange(n), dead)
    A[:, dead] = 0.0
    A[0, alive] = np.abs(A[0, alive]) + 0.5  # sample 0 activates every live unit
    A[1:, alive[:4]] = 0.0  # weak live units: active on one sample only, with a small value
    A[0, alive[:4]] = [0.013, 0.029, 0.047, 0.061]
    A[-empty:, :] = 0.0  # samples on which no unit fires
    return {"A": A}


_DEAD_THRESHOLD = ("that counts units with a small *average* output as dead; a unit is dead only "
                   "when it outputs exactly 0 for every sample - a weak unit still passes gradient.")


def _dead_mistakes(A, expected):
    n = A.shape[1]
    zero = A == 0
    dead = np.all(zero, axis=0)
    return [
        d.Mistake(int(zero.sum()), "that counts the zero *entries*; a unit is dead only when its whole column "
                                   "(every sample) is 0."),
        d.Mistake(int(np.sum(np.all(zero, axis=1))), "that counts samples (rows) with all units 0; the units "
                                                      "are the columns of A."),
        d.Mistake(int(np.sum(np.any(zero, axis=0))), "that counts units that are 0 for *some* sample; a dead "
                                                      "unit is 0 for every sample."),
        d.Mistake(expected / n, "that is the fraction of dead units; the question asks for their number."),
        d.Mistake(100.0 * expected / n, "that is the percentage of dead units; the question asks for their "
                                        "number."),
        d.Mistake(n - expected, "that counts the live units, not the dead ones."),
        d.Mistake(0, "that tests for negative outputs: a ReLU never outputs a negative number, a dead "
                     "unit outputs exactly 0."),
        d.Mistake(np.flatnonzero(dead), "that is the list of the dead units' indices; the question asks "
                                        "how many there are."),
        *(d.Mistake(int(np.sum(A.mean(axis=0) < c)), _DEAD_THRESHOLD) for c in (0.5, 0.1, 0.05, 0.01)),
    ]


@exercise("ch5.count_dead", points=1, title="Count the dead ReLUs", reference=count_dead)
def check_count_dead(answer, t):
    fn = t.require_callable()
    for case in t.cases(_dead_inputs, n=len(_DEAD_CASES)):
        (A,) = case.args
        expected = t.reference(A)
        got = t.call(fn, A)
        t.compare(got, expected, "count_dead(A)", mistakes=_unique(_dead_mistakes(A, expected), expected),
                  hint="a unit is a column of A; it is dead when that column is 0 for every sample (row).")


@check_count_dead.wrong_answer(expect="zero *entries*")
def _dead_entries(A):
    """Counts zero entries."""
    return int(np.sum(A == 0))


@check_count_dead.wrong_answer(expect="for *some* sample")
def _dead_any(A):
    """A unit counted dead as soon as one sample gives 0."""
    return int(np.sum(np.any(A == 0, axis=0)))


@check_count_dead.wrong_answer(expect="fraction")
def _dead_fraction(A):
    """The fraction instead of the number."""
    return float(np.mean(np.all(A == 0, axis=0)))


@check_count_dead.wrong_answer(expect="percentage")
def _dead_percentage(A):
    """The percentage instead of the number."""
    return 100 * float(np.mean(np.all(A == 0, axis=0)))


@check_count_dead.wrong_answer(expect="samples (rows)")
def _dead_rows(A):
    """Works along the wrong axis."""
    return int(np.sum(np.all(A == 0, axis=1)))


@check_count_dead.wrong_answer(expect="live units")
def _dead_live(A):
    """Counts the units that are not dead."""
    return int(np.sum(np.any(A != 0, axis=0)))


@check_count_dead.wrong_answer(expect="negative outputs")
def _dead_negative(A):
    """Tests A < 0, which a ReLU output never is."""
    return int(np.sum(np.all(A < 0, axis=0)))


@check_count_dead.wrong_answer(expect="indices")
def _dead_indices(A):
    """Returns which units are dead, not how many."""
    return np.flatnonzero(np.all(A == 0, axis=0))


@check_count_dead.wrong_answer(expect="*average* output")
def _dead_mean_threshold(A):
    """A unit whose mean output is below 0.5 counted as dead."""
    return int(np.sum(A.mean(axis=0) < 0.5))


@check_count_dead.wrong_answer(expect="*average* output")
def _dead_small_mean(A):
    """A unit whose mean output is below 0.01 counted as dead."""
    return int(np.sum(A.mean(axis=0) < 0.01))
