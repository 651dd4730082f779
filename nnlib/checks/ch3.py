r"""Checks for Chapter 3, backpropagation for a single sample.

Single samples are column vectors ``(n, 1)``; ``W`` has shape ``(n_out, n_in)``.

``ch3.sigmoid_prime``
    ``sigmoid_prime(z)``: :math:`\sigma'(z) = \sigma(z)(1 - \sigma(z))`, element-wise, ``z``'s shape.

``ch3.softmax_ce_grad``
    ``softmax_ce_grad(f, y)``: :math:`\partial L/\partial f = \operatorname{softmax}(f) - y` for
    :math:`L = -\sum_k y_k \log \operatorname{softmax}(f)_k`; ``f`` and the one-hot ``y`` are ``(K, 1)``.

``ch3.linear_backward``
    ``linear_backward(W, b, x, delta) -> (dW, db, dx)`` for :math:`z = W x + b` with
    :math:`\delta = \partial L/\partial z`: :math:`dW = \delta x^T`, :math:`db = \delta`, :math:`dx = W^T\delta`.

``ch3.error_recursion``
    ``error_recursion(W_next, delta_next, z)``: BP2 for sigmoid units,
    :math:`\delta^l = (W^{l+1})^T \delta^{l+1} \odot \sigma'(z^l)`.

``ch3.l2_weight_grad``
    ``l2_weight_grad(delta, a_prev, W, lam)``: the weight gradient of
    :math:`J = L + \frac{\lambda}{2}\sum\lVert W\rVert_F^2`, :math:`\delta a_{prev}^T + \lambda W`.

``ch3.central_difference``
    ``central_difference(f, theta, h)``: the central-difference gradient of the scalar
    function ``f`` at the array ``theta``, :math:`(f(\theta + h e_i) - f(\theta - h e_i)) / 2h`
    for every entry, returned with ``theta``'s shape; ``theta`` must be left unchanged.
"""

from __future__ import annotations

import numpy as np

from . import diagnose as d
from ._registry import exercise


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # the same function, without overflow for any z


def _softmax_col(f):
    e = np.exp(f - f.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


# --- ch3.sigmoid_prime --------------------------------------------------------------------


def sigmoid_prime(z):
    """Reference: sigma'(z) = sigma(z) (1 - sigma(z)), element-wise."""
    s = 1.0 / (1.0 + np.exp(-z))
    return s * (1.0 - s)


_SIGMOID_SHAPES = [(7,), (4, 1), (3, 5), (6,)]


def _sigmoid_inputs(rng, i):
    return {"z": rng.uniform(-6.0, 6.0, size=_SIGMOID_SHAPES[i])}


@exercise("ch3.sigmoid_prime", points=1, title="The derivative of the sigmoid", reference=sigmoid_prime)
def check_sigmoid_prime(answer, t):
    fn = t.require_callable()
    for case in t.cases(_sigmoid_inputs, n=len(_SIGMOID_SHAPES)):
        (z,) = case.args
        expected = t.reference(z)
        got = t.call(fn, z)
        s = _sigmoid(z)
        t.compare(
            got,
            expected,
            "sigmoid_prime(z)",
            mistakes=[
                d.activation_instead_of_derivative(s, "sigmoid_prime(z)", "the sigmoid"),
                d.Mistake(
                    z * (1 - z),
                    "sigmoid_prime(z) computes z (1 - z): the formula needs sigma(z), i.e. s (1 - s) with "
                    "s = 1 / (1 + exp(-z)), not z itself.",
                ),
                d.Mistake(
                    1 - s,
                    "sigmoid_prime(z) is only 1 - sigma(z): the factor sigma(z) is missing.",
                ),
                d.Mistake(
                    np.exp(-z) / (1 + np.exp(-z)),
                    "sigmoid_prime(z) is e^-z / (1 + e^-z) = 1 - sigma(z): the derivative of (1 + e^-z)^-1 "
                    "squares the denominator.",
                ),
                d.flipped_sign(-s * (1 - s), "sigmoid_prime(z)"),
            ],
            shape_hint="sigma' acts entry by entry, so the result has z's shape.",
            hint="with s = sigma(z), the derivative is s * (1 - s).",
        )


@check_sigmoid_prime.wrong_answer(expect="sigmoid itself")
def _sp_activation(z):
    """Returns sigma(z) instead of its derivative."""
    return 1.0 / (1.0 + np.exp(-z))


@check_sigmoid_prime.wrong_answer(expect="not z itself")
def _sp_on_z(z):
    """Applies s (1 - s) to z instead of to sigma(z)."""
    return z * (1 - z)


@check_sigmoid_prime.wrong_answer(expect="factor sigma(z) is missing")
def _sp_missing_factor(z):
    """Forgets the factor sigma(z)."""
    return 1 - 1.0 / (1.0 + np.exp(-z))


@check_sigmoid_prime.wrong_answer(expect="wrong sign")
def _sp_sign(z):
    """Minus the derivative."""
    s = 1.0 / (1.0 + np.exp(-z))
    return s * (s - 1)


# --- ch3.softmax_ce_grad ------------------------------------------------------------------


def softmax_ce_grad(f, y):
    """Reference: dL/df = softmax(f) - y for a column of logits f and a one-hot column y."""
    e = np.exp(f - f.max())
    return e / e.sum() - y


_SOFTMAX_K = [3, 4, 2, 5, 3]


def _softmax_inputs(rng, i):
    K = _SOFTMAX_K[i]
    y = np.zeros((K, 1))
    y[rng.integers(K), 0] = 1.0
    return {"f": rng.normal(0.0, 2.0, size=(K, 1)), "y": y}


@exercise(
    "ch3.softmax_ce_grad",
    points=1,
    title="The gradient of softmax with cross-entropy",
    reference=softmax_ce_grad,
)
def check_softmax_ce_grad(answer, t):
    fn = t.require_callable()
    for case in t.cases(_softmax_inputs, n=len(_SOFTMAX_K)):
        f, y = case.args
        expected = t.reference(f, y)
        got = t.call(fn, f, y)
        y_hat = _softmax_col(f)
        t.compare(
            got,
            expected,
            "dL/df",
            mistakes=[
                d.Mistake(
                    y - y_hat,
                    "dL/df has the wrong sign: y - y_hat is the NEGATIVE gradient. The gradient is "
                    "prediction minus target, y_hat - y.",
                ),
                d.Mistake(f - y, "dL/df uses the logits f where the probabilities belong: apply softmax to f first."),
                d.Mistake(y_hat, "dL/df is just softmax(f): the target y is missing (subtract it)."),
                d.Mistake(
                    np.ones_like(f) - y,
                    "softmax was taken over the wrong axis: for a column (K, 1) the classes run down axis 0, "
                    "so every probability came out as 1.",
                ),
                d.Mistake(
                    -y / y_hat,
                    "that is dL/dy_hat, the gradient with respect to the probabilities; the question asks for "
                    "the gradient with respect to the logits f (through the softmax).",
                ),
            ],
            shape_hint="The gradient has the shape of f, a column (K, 1).",
            hint="work out dL/df_i from L = -f_c + log(sum_j exp(f_j)) for the true class c.",
        )


@check_softmax_ce_grad.wrong_answer(expect="NEGATIVE gradient")
def _sce_flipped(f, y):
    """y - y_hat: the sign found in some published derivations."""
    e = np.exp(f - f.max())
    return y - e / e.sum()


@check_softmax_ce_grad.wrong_answer(expect="apply softmax")
def _sce_no_softmax(f, y):
    """Forgets the softmax: f - y."""
    return f - y


@check_softmax_ce_grad.wrong_answer(expect="target y is missing")
def _sce_no_target(f, y):
    """Returns the probabilities only."""
    e = np.exp(f - f.max())
    return e / e.sum()


@check_softmax_ce_grad.wrong_answer(expect="wrong axis")
def _sce_axis(f, y):
    """Softmax along axis 1 of a column."""
    e = np.exp(f - f.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True) - y


# --- ch3.linear_backward ------------------------------------------------------------------


def linear_backward(W, b, x, delta):
    """Reference: for z = W x + b and delta = dL/dz: dW = delta x^T, db = delta, dx = W^T delta."""
    return delta @ x.T, delta.copy(), W.T @ delta


# (n_out, n_in): square first, so a transpose gives wrong numbers we can name; then non-square.
_LINEAR_SIZES = [(3, 3), (2, 4), (5, 3), (1, 2), (4, 1)]


def _linear_inputs(rng, i):
    n_out, n_in = _LINEAR_SIZES[i]
    return {
        "W": rng.normal(size=(n_out, n_in)),
        "b": rng.normal(size=(n_out, 1)),
        "x": rng.normal(size=(n_in, 1)),
        "delta": rng.normal(size=(n_out, 1)),
    }


@exercise("ch3.linear_backward", points=2, title="Backward through a linear layer", reference=linear_backward)
def check_linear_backward(answer, t):
    fn = t.require_callable()
    for case in t.cases(_linear_inputs, n=len(_LINEAR_SIZES)):
        W, b, x, delta = case.args
        dW_ref, db_ref, dx_ref = t.reference(W, b, x, delta)
        dW, db, dx = t.unpack(t.call(fn, W, b, x, delta), ("dW", "db", "dx"))
        t.compare(
            dW,
            dW_ref,
            "dW",
            mistakes=[
                d.Mistake(
                    x @ delta.T,
                    "dW is the outer product the wrong way round: x delta^T. Each entry is "
                    "dL/dW_ji = delta_j x_i, so dW = delta x^T (shape (n_out, n_in), like W).",
                ),
                d.Mistake(
                    W * delta, "dW multiplies W by delta; the weight gradient does not contain W: dW = delta x^T."
                ),
            ],
            shape_hint="dW must have W's shape (n_out, n_in).",
            hint="dL/dW_ji = delta_j x_i.",
        )
        t.compare(
            db,
            db_ref,
            "db",
            mistakes=[
                d.Mistake(
                    np.zeros_like(delta),
                    "db is zero: the bias gradient is missing. b enters z with coefficient 1, so db = delta.",
                ),
                d.Mistake(
                    np.sum(delta),
                    "db is summed over the outputs to one number; each bias b_j gets its "
                    "own gradient delta_j, so db is a column like b.",
                ),
            ],
            shape_hint="db must have b's shape, a column (n_out, 1).",
            hint="b enters z with coefficient 1.",
        )
        t.compare(
            dx,
            dx_ref,
            "dx",
            mistakes=[
                d.Mistake(
                    W @ delta if W.shape[0] == W.shape[1] else None,
                    "dx uses W where W^T belongs: x_i feeds every z_j with weight W_ji, and summing over j "
                    "runs down a column of W, so dx = W^T delta.",
                ),
                d.Mistake(
                    W.T @ delta * x,
                    "dx is multiplied by x; the local derivative of z with respect to x is W, so dx = W^T delta.",
                ),
            ],
            shape_hint="dx must have x's shape, a column (n_in, 1).",
            hint="x_i reaches every z_j, so its gradient sums delta_j W_ji over j.",
        )


@check_linear_backward.wrong_answer(expect="wrong way round")
def _lb_transposed_dW(W, b, x, delta):
    """dW = x delta^T."""
    return x @ delta.T, delta, W.T @ delta


@check_linear_backward.wrong_answer(expect="bias gradient is missing")
def _lb_no_db(W, b, x, delta):
    """Forgets the bias gradient."""
    return delta @ x.T, np.zeros_like(b), W.T @ delta


@check_linear_backward.wrong_answer(expect="W^T belongs")
def _lb_W_not_WT(W, b, x, delta):
    """dx = W delta (runs only when W is square)."""
    return delta @ x.T, delta, W @ delta


@check_linear_backward.wrong_answer(expect="one number")
def _lb_db_summed(W, b, x, delta):
    """db summed to a single number."""
    return delta @ x.T, float(np.sum(delta)), W.T @ delta


# --- ch3.error_recursion ------------------------------------------------------------------


def error_recursion(W_next, delta_next, z):
    """Reference BP2 for sigmoid units: delta = (W_next^T delta_next) * sigma'(z)."""
    s = 1.0 / (1.0 + np.exp(-z))
    return (W_next.T @ delta_next) * s * (1.0 - s)


# (n_l, n_{l+1}): a square layer first (W instead of W^T runs and can be named), then the two
# hidden layers of a 4 -> 5 -> 3 -> 2 network.
_RECURSION_SIZES = [(3, 3), (5, 3), (3, 2), (4, 4)]


def _recursion_inputs(rng, i):
    n_l, n_next = _RECURSION_SIZES[i]
    return {
        "W_next": rng.normal(size=(n_next, n_l)),
        "delta_next": rng.normal(size=(n_next, 1)),
        "z": rng.normal(size=(n_l, 1)),
    }


@exercise("ch3.error_recursion", points=2, title="The error recursion (BP2)", reference=error_recursion)
def check_error_recursion(answer, t):
    fn = t.require_callable()
    for case in t.cases(_recursion_inputs, n=len(_RECURSION_SIZES)):
        W_next, delta_next, z = case.args
        expected = t.reference(W_next, delta_next, z)
        got = t.call(fn, W_next, delta_next, z)
        s = _sigmoid(z)
        back = W_next.T @ delta_next
        square = W_next.shape[0] == W_next.shape[1]
        t.compare(
            got,
            expected,
            "delta",
            mistakes=[
                d.Mistake(
                    back,
                    "delta is missing the factor sigma'(z): after W^T delta_next, multiply entry by entry "
                    "(Hadamard product) by the derivative of the activation.",
                ),
                d.activation_instead_of_derivative(back * s, "delta", "the sigmoid"),
                d.Mistake(
                    (W_next @ delta_next) * s * (1 - s) if square else None,
                    "delta uses W_next where its transpose belongs: the sum over the next layer's units k "
                    "runs down a column of W_next, so it is W_next^T delta_next.",
                ),
                d.Mistake(
                    back * z * (1 - z),
                    "delta uses z (1 - z); the derivative of the sigmoid is sigma(z) (1 - sigma(z)).",
                ),
            ],
            shape_hint="delta has the shape of z, a column (n_l, 1).",
            hint="delta = (W_next^T delta_next) * s * (1 - s) with s = sigma(z).",
        )


@check_error_recursion.wrong_answer(expect="missing the factor")
def _er_no_prime(W_next, delta_next, z):
    """Forgets the Hadamard product with sigma'(z)."""
    return W_next.T @ delta_next


@check_error_recursion.wrong_answer(expect="transpose belongs")
def _er_no_transpose(W_next, delta_next, z):
    """W instead of W^T (runs only for square W)."""
    s = 1.0 / (1.0 + np.exp(-z))
    return (W_next @ delta_next) * s * (1 - s)


@check_error_recursion.wrong_answer(expect="sigmoid itself")
def _er_activation(W_next, delta_next, z):
    """Multiplies by sigma(z) instead of sigma'(z)."""
    return (W_next.T @ delta_next) / (1.0 + np.exp(-z))


# --- ch3.l2_weight_grad -------------------------------------------------------------------


def l2_weight_grad(delta, a_prev, W, lam):
    """Reference: dJ/dW = delta a_prev^T + lam W for J = L + lam/2 sum ||W||_F^2."""
    return delta @ a_prev.T + lam * W


_L2_SETUPS = [(3, 2, 0.1), (2, 4, 0.5), (4, 3, 0.03), (1, 3, 1.0)]


def _l2_inputs(rng, i):
    n_out, n_in, lam = _L2_SETUPS[i]
    return {
        "delta": rng.normal(size=(n_out, 1)),
        "a_prev": rng.normal(size=(n_in, 1)),
        "W": rng.normal(size=(n_out, n_in)),
        "lam": lam,
    }


@exercise("ch3.l2_weight_grad", points=1, title="The regularised weight gradient", reference=l2_weight_grad)
def check_l2_weight_grad(answer, t):
    fn = t.require_callable()
    for case in t.cases(_l2_inputs, n=len(_L2_SETUPS)):
        delta, a_prev, W, lam = case.args
        expected = t.reference(delta, a_prev, W, lam)
        got = t.call(fn, delta, a_prev, W, lam)
        data = delta @ a_prev.T
        t.compare(
            got,
            expected,
            "dJ/dW",
            mistakes=[
                d.Mistake(
                    data,
                    "dJ/dW is missing the penalty's term lambda W: W reaches J along two paths "
                    "(through L and through s), and the two contributions add.",
                ),
                d.Mistake(
                    data + 2 * lam * W,
                    "dJ/dW has 2 lambda W: the 1/2 in s = lambda/2 ||W||^2 cancels "
                    "the 2 from the square, leaving lambda W.",
                ),
                d.Mistake(
                    data + 0.5 * lam * W,
                    "dJ/dW has lambda/2 W: differentiating W^2 gives 2W, which cancels the 1/2, leaving lambda W.",
                ),
                d.Mistake(
                    data - lam * W,
                    "dJ/dW subtracts lambda W: the penalty increases with |W|, so its gradient is +lambda W.",
                ),
                d.Mistake(
                    lam * (data + W),
                    "dJ/dW multiplies the data gradient by lambda too; only the "
                    "penalty carries lambda: delta a_prev^T + lambda W.",
                ),
                d.Mistake(
                    a_prev @ delta.T + lam * W if W.shape[0] == W.shape[1] else None,
                    "dJ/dW has the outer product the wrong way round: it is delta a_prev^T.",
                ),
            ],
            shape_hint="dJ/dW has W's shape (n_out, n_in).",
            hint="the data term is delta a_prev^T; the penalty adds the derivative of lambda/2 * sum(W**2).",
        )


@check_l2_weight_grad.wrong_answer(expect="missing the penalty")
def _l2_missing(delta, a_prev, W, lam):
    """Forgets lambda W."""
    return delta @ a_prev.T


@check_l2_weight_grad.wrong_answer(expect="2 lambda W")
def _l2_doubled(delta, a_prev, W, lam):
    """Differentiates lambda ||W||^2 instead of lambda/2 ||W||^2."""
    return delta @ a_prev.T + 2 * lam * W


@check_l2_weight_grad.wrong_answer(expect="subtracts")
def _l2_sign(delta, a_prev, W, lam):
    """Minus lambda W."""
    return delta @ a_prev.T - lam * W


# --- ch3.central_difference ---------------------------------------------------------------


def central_difference(f, theta, h):
    """Reference: (f(theta + h e_i) - f(theta - h e_i)) / (2h) for every entry; theta restored."""
    grad = np.zeros_like(theta, dtype=float)
    for i in np.ndindex(theta.shape):
        old = theta[i]
        theta[i] = old + h
        f_plus = f(theta)
        theta[i] = old - h
        f_minus = f(theta)
        theta[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


_CD_SHAPES = [(3,), (2, 3), (4, 1), (5,)]


def _cd_inputs(rng, i):
    shape = _CD_SHAPES[i]
    A = rng.normal(size=shape)

    def f(theta):
        theta = np.asarray(theta, dtype=float)
        return float(np.sum(np.sin(A * theta)) + 0.5 * np.sum(theta**3))

    return {"f": f, "theta": rng.normal(size=shape), "h": 1e-3}


def _one_sided(f, theta, h):
    theta = theta.astype(float)
    f0 = f(theta)
    grad = np.zeros_like(theta)
    for i in np.ndindex(theta.shape):
        step = theta.copy()
        step[i] += h
        grad[i] = (f(step) - f0) / h
    return grad


@exercise("ch3.central_difference", points=1, title="A central-difference gradient", reference=central_difference)
def check_central_difference(answer, t):
    fn = t.require_callable()
    for case in t.cases(_cd_inputs, n=len(_CD_SHAPES)):
        f, theta, h = case.args
        expected = t.reference(f, theta.copy(), h)
        got = t.call(fn, f, theta, h)
        if 1 in t.modified:
            t.fail(
                "your function changed theta and did not put it back: after perturbing an entry, restore "
                "its old value (or perturb a copy)."
            )
        t.compare(
            got,
            expected,
            "the gradient",
            mistakes=[
                d.Mistake(
                    _one_sided(f, theta, h),
                    "the gradient is a one-sided difference (f(theta + h) - f(theta)) / h, whose error is of "
                    "order h; use the central difference (f(theta + h) - f(theta - h)) / (2h), error of order h^2.",
                ),
            ],
            shape_hint="The gradient has theta's shape: one entry per entry of theta.",
            hint="perturb one entry at a time by +h and -h and divide the difference by 2h.",
        )


@check_central_difference.wrong_answer(expect="one-sided")
def _cd_one_sided(f, theta, h):
    """The forward difference."""
    return _one_sided(f, theta, h)


@check_central_difference.wrong_answer(expect="twice")
def _cd_missing_two(f, theta, h):
    """Divides by h instead of 2h."""
    return 2 * central_difference(f, theta.copy(), h)


@check_central_difference.wrong_answer(expect="put it back")
def _cd_not_restored(f, theta, h):
    """Perturbs theta in place and leaves it shifted."""
    grad = np.zeros_like(theta, dtype=float)
    for i in np.ndindex(theta.shape):
        old = theta[i]
        theta[i] = old + h
        f_plus = f(theta)
        theta[i] = old - h
        f_minus = f(theta)
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad
