r"""Checks for Chapter 3, backpropagation for a single sample.

Single samples are column vectors ``(n, 1)``; ``W`` has shape ``(n_out, n_in)``.

``ch3.sigmoid_prime``
    ``sigmoid_prime(z)``: :math:`\sigma'(z) = \sigma(z)(1 - \sigma(z))`, element-wise, ``z``'s shape.

``ch3.softmax_ce_grad``
    ``softmax_ce_grad(z, y)``: :math:`\partial L/\partial z = \operatorname{softmax}(z) - y` for
    :math:`L = -\sum_k y_k \log \operatorname{softmax}(z)_k`; ``z`` and the one-hot ``y`` are ``(K, 1)``.

``ch3.linear_backward``
    ``linear_backward(W, b, x, delta) -> (dW, db, dx)`` for :math:`z = W x + b` with
    :math:`\delta = \partial L/\partial z`: :math:`dW = \delta x^\top`, :math:`db = \delta`,
    :math:`dx = W^\top\delta`.

``ch3.error_recursion``
    ``error_recursion(W_next, delta_next, z)``: BP2 for sigmoid units,
    :math:`\delta_l = (W_{l+1}^\top \delta_{l+1}) \odot \sigma'(z_l)`.

``ch3.l2_weight_grad``
    ``l2_weight_grad(delta, a_prev, W, lam)``: the weight gradient of
    :math:`J = L + \frac{\lambda}{2}\sum\lVert W\rVert_F^2`, :math:`\delta a_{prev}^\top + \lambda W`.

``ch3.central_difference``
    ``central_difference(f, theta, h)``: the central-difference gradient of the scalar
    function ``f`` at the array ``theta``, :math:`(f(\theta + h e_i) - f(\theta - h e_i)) / 2h`
    for every entry, returned with ``theta``'s shape; ``theta`` must be left unchanged. Some
    tests use a large ``h``, where the step changes the result beyond the tolerance.

``ch3.two_layer_backward`` (capstone, stage a)
    ``two_layer_backward(params, cache, y) -> grads`` for Chapter 3's two-layer network
    :math:`z_1 = W_1 x + b_1`, :math:`a_1 = \sigma(z_1)`, :math:`z_2 = W_2 a_1 + b_2`,
    :math:`\hat y = \operatorname{softmax}(z_2)` with cross-entropy. ``params`` has the keys
    ``"W1", "b1", "W2", "b2"`` (``W_l`` is ``(n_l, n_{l-1})``, ``b_l`` a column ``(n_l, 1)``);
    ``cache`` is :func:`nnlib.backprop.forward`'s dict ``{"x", "z1", "a1", "z2", "y_hat"}`` (all
    columns); ``y`` is the one-hot target column ``(K, 1)``. ``grads`` has the keys and shapes of
    ``params``. A diagnosis names the layer and the gradient (compared from the output layer down).

``ch3.backprop`` (capstone, stage b)
    ``backprop(params, x, y) -> grads`` for any depth ``D = len(params) // 2``: sigmoid hidden
    layers, a softmax output with cross-entropy (so BP1 is :math:`\delta_D = \hat y - y`),
    ``x`` a column ``(n_0, 1)``, ``y`` a one-hot column ``(n_D, 1)``; BP2-BP4 for the rest.
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
    s = _sigmoid(z)
    return s * (1.0 - s)


_SIGMOID_SHAPES = [(7,), (4, 1), (3, 5), (6,), (5,)]
# The last case has large |z|: there e^z or e^-z overflows, and a formula written with
# e^z alone (e^z / (1 + e^z)^2) gives inf / inf = NaN where sigma'(z) is 0.
_LARGE_Z = np.array([-800.0, -40.0, 0.5, 40.0, 800.0])


def _sigmoid_inputs(rng, i):
    if i == len(_SIGMOID_SHAPES) - 1:
        return {"z": _LARGE_Z.copy()}
    return {"z": rng.uniform(-6.0, 6.0, size=_SIGMOID_SHAPES[i])}


@exercise("ch3.sigmoid_prime", points=1, title="The derivative of the sigmoid", reference=sigmoid_prime)
def check_sigmoid_prime(answer, t):
    fn = t.require_callable()
    for case in t.cases(_sigmoid_inputs, n=len(_SIGMOID_SHAPES)):
        (z,) = case.args
        expected = t.reference(z)
        got = t.call(fn, z)
        s = _sigmoid(z)
        numeric = isinstance(got, np.ndarray) and got.dtype.kind in "fc"
        if np.abs(z).max() > 100 and numeric and not np.all(np.isfinite(got)):
            t.fail(
                "sigmoid_prime(z) gives NaN or inf for large |z| (here up to 800), where "
                "sigma'(z) is 0: an exponential overflows. Compute s = sigma(z) first, "
                "which stays between 0 and 1, and build the derivative from s.",
            )
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
                    "sigmoid_prime(z) is only 1 - sigma(z) (which is also e^-z / (1 + e^-z)): the factor "
                    "sigma(z) is missing - differentiating (1 + e^-z)^-1 squares the denominator.",
                ),
                d.flipped_sign(-s * (1 - s), "sigmoid_prime(z)"),
                d.Mistake(
                    s * s,
                    "sigmoid_prime(z) is sigma(z)^2 = 1 / (1 + e^-z)^2: the numerator e^-z of the "
                    "derivative is missing.",
                ),
                d.Mistake(
                    1 - np.tanh(z) ** 2,
                    "sigmoid_prime(z) is 1 - tanh(z)^2, the derivative of tanh; the sigmoid's is "
                    "sigma(z) (1 - sigma(z)).",
                ),
                d.Mistake(
                    _sigmoid(s) * (1 - _sigmoid(s)),
                    "sigmoid_prime(z) evaluates the derivative at the output sigma(z) instead of at the "
                    "input z: s (1 - s) with s = sigma(z) is already the answer; do not apply sigma twice.",
                ),
                d.Mistake(
                    np.full_like(z, 0.25),
                    "sigmoid_prime(z) is the constant 1/4, the derivative's value at z = 0 only; it "
                    "depends on z.",
                ),
                d.Mistake(
                    1 - s * s,
                    "sigmoid_prime(z) is 1 - sigma(z)^2, the pattern of tanh's derivative; the sigmoid's "
                    "is sigma(z) (1 - sigma(z)).",
                ),
            ],
            shape_hint="sigma' acts entry by entry, so the result has z's shape.",
            hint="with s = sigma(z), the derivative is s * (1 - s).",
        )


@check_sigmoid_prime.wrong_answer(expect="for large |z|")
def _sp_overflows(z):
    """The right formula written with e^z alone: NaN where e^z overflows."""
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(z)
        return e / (1.0 + e) ** 2


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


@check_sigmoid_prime.wrong_answer(expect="numerator")
def _sp_squared(z):
    """sigma(z)^2: the derivative of (1 + e^-z)^-1 without the inner derivative."""
    return 1.0 / (1.0 + np.exp(-z)) ** 2


@check_sigmoid_prime.wrong_answer(expect="derivative of tanh")
def _sp_tanh(z):
    """The derivative of tanh."""
    return 1 - np.tanh(z) ** 2


@check_sigmoid_prime.wrong_answer(expect="at the output")
def _sp_at_output(z):
    """s (1 - s) with s = sigma(sigma(z))."""
    s = 1.0 / (1.0 + np.exp(-1.0 / (1.0 + np.exp(-z))))
    return s * (1 - s)


@check_sigmoid_prime.wrong_answer(expect="constant 1/4")
def _sp_quarter(z):
    """The maximum 1/4 everywhere."""
    return np.full_like(z, 0.25, dtype=float)


@check_sigmoid_prime.wrong_answer(expect="pattern of tanh")
def _sp_one_minus_square(z):
    """1 - sigma(z)^2."""
    return 1 - (1.0 / (1.0 + np.exp(-z))) ** 2


# --- ch3.softmax_ce_grad ------------------------------------------------------------------


def softmax_ce_grad(z, y):
    """Reference: dL/dz = softmax(z) - y for a column of logits z and a one-hot column y."""
    e = np.exp(z - z.max())
    return e / e.sum() - y


_SOFTMAX_K = [3, 4, 2, 5, 3, 4]
# The last case has one logit of 1000: e^1000 overflows unless the largest logit is
# subtracted first (softmax does not change when every logit moves by the same amount).
_LARGE_LOGITS = np.array([[1000.0], [0.0], [-3.0], [2.5]])


def _softmax_inputs(rng, i):
    K = _SOFTMAX_K[i]
    y = np.zeros((K, 1))
    y[rng.integers(K), 0] = 1.0
    if i == len(_SOFTMAX_K) - 1:
        return {"z": _LARGE_LOGITS.copy(), "y": y}
    return {"z": rng.normal(0.0, 2.0, size=(K, 1)), "y": y}


@exercise(
    "ch3.softmax_ce_grad",
    points=1,
    title="The gradient of softmax with cross-entropy",
    reference=softmax_ce_grad,
)
def check_softmax_ce_grad(answer, t):
    fn = t.require_callable()
    for case in t.cases(_softmax_inputs, n=len(_SOFTMAX_K)):
        z, y = case.args
        expected = t.reference(z, y)
        got = t.call(fn, z, y)
        y_hat = _softmax_col(z)
        numeric = isinstance(got, np.ndarray) and got.dtype.kind in "fc"
        if z.max() > 100 and numeric and not np.all(np.isfinite(got)):
            t.fail(
                "dL/dz gives NaN or inf for a large logit (here 1000): e^z overflows. Subtract "
                "the largest logit from z before exponentiating; the softmax stays the same.",
            )
        # Some mistakes divide by probabilities that underflow to 0 on the large case.
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            t.compare(
                got,
                expected,
                "dL/dz",
                mistakes=[
                    d.Mistake(
                        y - y_hat,
                        "dL/dz has the wrong sign: y - y_hat is the NEGATIVE gradient. The gradient is "
                        "prediction minus target, y_hat - y.",
                    ),
                    d.Mistake(
                        z - y,
                        "dL/dz uses the logits z where the probabilities belong: apply softmax to z first.",
                    ),
                    d.Mistake(y_hat, "dL/dz is just softmax(z): the target y is missing (subtract it)."),
                    d.Mistake(
                        np.ones_like(z) - y,
                        "softmax was taken over the wrong axis: for a column (K, 1) the classes run down axis 0, "
                        "so every probability came out as 1.",
                    ),
                    d.Mistake(
                        -y / y_hat,
                        "that is dL/dy_hat, the gradient with respect to the probabilities; the question asks for "
                        "the gradient with respect to the logits z (through the softmax).",
                    ),
                    d.Mistake(
                        np.exp(z) - y,
                        "dL/dz uses exp(z) without dividing by the sum of the exponentials: softmax normalises, "
                        "so its entries add up to 1.",
                    ),
                    d.Mistake(
                        np.exp(z - z.max()) - y,
                        "dL/dz uses exp(z - max z) without dividing by their sum: subtracting the largest logit "
                        "keeps exp from overflowing, but softmax still divides by the sum.",
                    ),
                    d.Mistake(
                        (y_hat - y) * y_hat * (1 - y_hat),
                        "dL/dz has an extra factor y_hat (1 - y_hat): softmax is not an element-wise sigmoid, "
                        "and with cross-entropy the whole Jacobian collapses to y_hat - y.",
                    ),
                    d.Mistake(
                        -y * np.log(y_hat),
                        "that is the loss itself, entry by entry (-y log y_hat), not its gradient with respect "
                        "to z.",
                    ),
                    d.Mistake(
                        y_hat - 1,
                        "dL/dz subtracts 1 from every entry: only the true class's entry loses 1, the others "
                        "keep their probability - subtract the one-hot y.",
                    ),
                ],
                shape_hint="The gradient has the shape of z, a column (K, 1).",
                hint="work out dL/dz_i from L = -z_c + log(sum_j exp(z_j)) for the true class c.",
            )


@check_softmax_ce_grad.wrong_answer(expect="for a large logit")
def _sce_no_shift(z, y):
    """Softmax without subtracting the largest logit: NaN once e^z overflows."""
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(z)
        return e / e.sum() - y


@check_softmax_ce_grad.wrong_answer(expect="NEGATIVE gradient")
def _sce_flipped(z, y):
    """y - y_hat: the sign found in some published derivations."""
    e = np.exp(z - z.max())
    return y - e / e.sum()


@check_softmax_ce_grad.wrong_answer(expect="apply softmax")
def _sce_no_softmax(z, y):
    """Forgets the softmax: z - y."""
    return z - y


@check_softmax_ce_grad.wrong_answer(expect="target y is missing")
def _sce_no_target(z, y):
    """Returns the probabilities only."""
    e = np.exp(z - z.max())
    return e / e.sum()


@check_softmax_ce_grad.wrong_answer(expect="wrong axis")
def _sce_axis(z, y):
    """Softmax along axis 1 of a column."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True) - y


@check_softmax_ce_grad.wrong_answer(expect="dL/dy_hat")
def _sce_wrt_probs(z, y):
    """The gradient with respect to the probabilities."""
    e = np.exp(z - z.max())
    return -y / (e / e.sum())


@check_softmax_ce_grad.wrong_answer(expect="without dividing by their sum")
def _sce_unnormalised(z, y):
    """exp(z - max z) - y: the sum of the exponentials is forgotten."""
    return np.exp(z - z.max()) - y


@check_softmax_ce_grad.wrong_answer(expect="extra factor")
def _sce_sigmoid_like(z, y):
    """Multiplies by y_hat (1 - y_hat) as if softmax were element-wise."""
    e = np.exp(z - z.max())
    p = e / e.sum()
    return (p - y) * p * (1 - p)


@check_softmax_ce_grad.wrong_answer(expect="loss itself")
def _sce_loss(z, y):
    """Returns -y log(y_hat)."""
    e = np.exp(z - z.max())
    return -y * np.log(e / e.sum())


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
                d.Mistake(
                    W.T @ delta,
                    "dW has the values of dx: return the three gradients in the order (dW, db, dx).",
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
                d.Mistake(b, "db is b itself: return the gradient of L with respect to b, not the bias."),
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
                d.Mistake(
                    delta.T @ W,
                    "dx is a row (1, n_in): delta^T W has the right numbers, but a sample is a column here, "
                    "so dx must have x's shape (n_in, 1) - write it as W^T delta.",
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


@check_linear_backward.wrong_answer(expect="order (dW, db, dx)")
def _lb_order(W, b, x, delta):
    """Returns (dx, db, dW)."""
    return W.T @ delta, delta, delta @ x.T


@check_linear_backward.wrong_answer(expect="db is b itself")
def _lb_db_is_b(W, b, x, delta):
    """Returns b for db."""
    return delta @ x.T, b, W.T @ delta


@check_linear_backward.wrong_answer(expect="dx is a row")
def _lb_dx_row(W, b, x, delta):
    """dx = delta^T W, a row."""
    return delta @ x.T, delta, delta.T @ W


@check_linear_backward.wrong_answer(expect="multiplied by x")
def _lb_dx_times_x(W, b, x, delta):
    """Multiplies dx by x (only runs when n_out = n_in... or broadcasts)."""
    return delta @ x.T, delta, (W.T @ delta) * x


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
                d.Mistake(
                    back * _sigmoid(s) * (1 - _sigmoid(s)),
                    "delta evaluates sigma' at the output a = sigma(z) instead of at the input z: "
                    "s (1 - s) with s = sigma(z) already is sigma'(z).",
                ),
                d.Mistake(
                    W_next.T @ (delta_next * s * (1 - s)) if square else None,
                    "delta multiplies delta_next by sigma'(z) before passing it back: sigma'(z) belongs to "
                    "this layer, so apply it after W_next^T delta_next.",
                ),
                d.Mistake(
                    back @ (s * (1 - s)).T,
                    "delta is a matrix (n_l, n_l): the product with sigma'(z) is element-wise (Hadamard, "
                    "`*` in numpy), not a matrix product.",
                ),
                d.flipped_sign(-back * s * (1 - s), "delta"),
                d.Mistake(
                    s * (1 - s),
                    "delta is only sigma'(z): the error passed back from the next layer, W_next^T "
                    "delta_next, is missing.",
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


@check_error_recursion.wrong_answer(expect="z (1 - z)")
def _er_z_form(W_next, delta_next, z):
    """z (1 - z) for sigma'(z)."""
    return (W_next.T @ delta_next) * z * (1 - z)


@check_error_recursion.wrong_answer(expect="at the output")
def _er_at_output(W_next, delta_next, z):
    """sigma' evaluated at sigma(z)."""
    a = 1.0 / (1.0 + np.exp(-z))
    s = 1.0 / (1.0 + np.exp(-a))
    return (W_next.T @ delta_next) * s * (1 - s)


@check_error_recursion.wrong_answer(expect="before passing it back")
def _er_prime_first(W_next, delta_next, z):
    """W^T (delta_next * sigma'(z)) (runs only for square W)."""
    s = 1.0 / (1.0 + np.exp(-z))
    return W_next.T @ (delta_next * s * (1 - s))


@check_error_recursion.wrong_answer(expect="not a matrix product")
def _er_matmul(W_next, delta_next, z):
    """A matrix product with sigma'(z)^T instead of the element-wise product."""
    s = 1.0 / (1.0 + np.exp(-z))
    return (W_next.T @ delta_next) @ (s * (1 - s)).T


@check_error_recursion.wrong_answer(expect="only sigma'(z)")
def _er_only_prime(W_next, delta_next, z):
    """Forgets the error passed back."""
    s = 1.0 / (1.0 + np.exp(-z))
    return s * (1 - s)


# --- ch3.l2_weight_grad -------------------------------------------------------------------


def l2_weight_grad(delta, a_prev, W, lam):
    """Reference: dJ/dW = delta a_prev^T + lam W for J = L + lam/2 sum ||W||_F^2."""
    return delta @ a_prev.T + lam * W


# A square layer first (a transposed outer product runs); no lambda = 1, where lambda (data + W)
# would coincide with the right answer.
_L2_SETUPS = [(3, 3, 0.3), (3, 2, 0.1), (2, 4, 0.5), (4, 3, 0.03), (1, 3, 0.7)]


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
                    "dJ/dW multiplies the data gradient by lambda too; lambda belongs to the "
                    "penalty's term alone: delta a_prev^T + lambda W.",
                ),
                d.Mistake(
                    a_prev @ delta.T + lam * W if W.shape[0] == W.shape[1] else None,
                    "dJ/dW has the outer product the wrong way round: it is delta a_prev^T.",
                ),
                d.Mistake(
                    lam * W,
                    "dJ/dW is only the penalty's term: the data path, the gradient of L, is missing.",
                ),
                d.Mistake(
                    data + lam * W**2,
                    "dJ/dW adds lambda W^2: that is (twice) the penalty itself; its derivative with "
                    "respect to W is lambda W.",
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


@check_l2_weight_grad.wrong_answer(expect="lambda/2 W")
def _l2_half(delta, a_prev, W, lam):
    """Keeps the 1/2 of the penalty."""
    return delta @ a_prev.T + 0.5 * lam * W


@check_l2_weight_grad.wrong_answer(expect="multiplies the data gradient by lambda")
def _l2_lam_everywhere(delta, a_prev, W, lam):
    """lambda (delta a^T + W)."""
    return lam * (delta @ a_prev.T + W)


@check_l2_weight_grad.wrong_answer(expect="wrong way round")
def _l2_transposed(delta, a_prev, W, lam):
    """a_prev delta^T + lambda W (runs only for square W)."""
    return a_prev @ delta.T + lam * W


@check_l2_weight_grad.wrong_answer(expect="only the penalty")
def _l2_only_penalty(delta, a_prev, W, lam):
    """Forgets the data term."""
    return lam * W


@check_l2_weight_grad.wrong_answer(expect="lambda W^2")
def _l2_squared(delta, a_prev, W, lam):
    """Adds lambda W**2."""
    return delta @ a_prev.T + lam * W**2


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


# (shape, h): small steps first; then large steps, where the truncation error (h^2 / 6 times
# the third derivative) is far above the tolerance, so an answer that ignores h (or
# hard-codes 1e-5) gives other numbers.
_CD_CASES = [((3,), 1e-3), ((2, 3), 1e-3), ((4, 1), 1e-4), ((5,), 0.3), ((2, 2), 0.5)]


def _cd_inputs(rng, i):
    shape, h = _CD_CASES[i]
    A = rng.normal(size=shape)

    def f(theta):
        theta = np.asarray(theta, dtype=float)
        return float(np.sum(np.sin(A * theta)) + 0.5 * np.sum(theta**3) + np.sum(theta) ** 2)

    return {"f": f, "theta": rng.normal(size=shape), "h": h}


def _one_sided(f, theta, h):
    theta = theta.astype(float)
    f0 = f(theta)
    grad = np.zeros_like(theta)
    for i in np.ndindex(theta.shape):
        step = theta.copy()
        step[i] += h
        grad[i] = (f(step) - f0) / h
    return grad


def _all_at_once(f, theta, h):
    """Every entry moved together: the derivative along the all-ones direction, in every entry."""
    theta = theta.astype(float)
    return np.full_like(theta, (f(theta + h) - f(theta - h)) / (2 * h))


def _whole_rows(f, theta, h):
    """A 2-D theta perturbed one row at a time (``for i in range(len(theta))``)."""
    theta = theta.astype(float)
    grad = np.zeros_like(theta)
    for i in range(len(theta)):
        plus, minus = theta.copy(), theta.copy()
        plus[i] += h
        minus[i] -= h
        grad[i] = (f(plus) - f(minus)) / (2 * h)
    return grad


@exercise("ch3.central_difference", points=1, title="A central-difference gradient", reference=central_difference)
def check_central_difference(answer, t):
    fn = t.require_callable()
    for case in t.cases(_cd_inputs, n=len(_CD_CASES)):
        f, theta, h = case.args
        expected = t.reference(f, theta.copy(), h)
        got = t.call(fn, f, theta, h)
        if 1 in t.modified:
            t.fail(
                "your function changed theta and did not put it back: after perturbing an entry, restore "
                "its old value (or perturb a copy)."
            )
        ref = central_difference(f, theta.copy(), h)
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
                d.Mistake(
                    2 * ref,
                    "the gradient is exactly twice the central difference: the two evaluations are 2h apart, "
                    "so divide their difference by 2h, not by h.",
                ),
                d.Mistake(
                    central_difference(f, theta.copy(), 1e-5) if abs(h - 1e-5) > 1e-9 else None,
                    "the result does not depend on the step h you were given: it matches a fixed step of "
                    "1e-5. Use the argument h (this test passes a large h on purpose).",
                ),
                d.Mistake(
                    _all_at_once(f, theta, h),
                    "the gradient moves every entry of theta at once: perturb one entry at a time (the unit "
                    "vector e_i), so that each entry gets its own partial derivative.",
                ),
                d.Mistake(
                    _whole_rows(f, theta, h) if theta.ndim == 2 and theta.shape[1] > 1 else None,
                    "the gradient perturbs a whole row at a time: for a 2-D theta, theta[i] is a row. Loop "
                    "over every entry, e.g. with np.ndindex(theta.shape).",
                ),
                d.Mistake(
                    0.5 * _one_sided(f, theta, h),
                    "the second evaluation is at theta, not at theta - h: after adding h, subtract 2h (or "
                    "restore the entry first, then subtract h).",
                ),
                d.Mistake(
                    ref * h * h,
                    "the gradient is h^2 times too small: (f_plus - f_minus) / 2 * h divides by 2 and then "
                    "multiplies by h - put 2 * h in parentheses.",
                ),
            ],
            shape_hint="The gradient has theta's shape: one entry per entry of theta.",
            hint="perturb one entry at a time by +h and -h and divide the difference by 2h.",
        )


@check_central_difference.wrong_answer(expect="one-sided")
def _cd_one_sided(f, theta, h):
    """The forward difference."""
    return _one_sided(f, theta, h)


@check_central_difference.wrong_answer(expect="twice the central difference")
def _cd_missing_two(f, theta, h):
    """Divides by h instead of 2h."""
    return 2 * central_difference(f, theta.copy(), h)


@check_central_difference.wrong_answer(expect="does not depend on the step h")
def _cd_ignores_h(f, theta, h):
    """Hard-codes the step 1e-5 and ignores h."""
    return central_difference(f, theta, 1e-5)


@check_central_difference.wrong_answer(expect="every entry of theta at once")
def _cd_all_at_once(f, theta, h):
    """theta + h moves all entries together."""
    return _all_at_once(f, theta, h)


@check_central_difference.wrong_answer(expect="whole row")
def _cd_rows(f, theta, h):
    """for i in range(len(theta)): a row at a time for 2-D theta."""
    return _whole_rows(f, theta, h)


@check_central_difference.wrong_answer(expect="not at theta - h")
def _cd_second_at_theta(f, theta, h):
    """theta[i] += h, then theta[i] -= h: the second evaluation is at theta."""
    grad = np.zeros_like(theta, dtype=float)
    for i in np.ndindex(theta.shape):
        theta[i] += h
        f_plus = f(theta)
        theta[i] -= h
        f_minus = f(theta)
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


@check_central_difference.wrong_answer(expect="parentheses")
def _cd_precedence(f, theta, h):
    """(f_plus - f_minus) / 2 * h."""
    grad = np.zeros_like(theta, dtype=float)
    for i in np.ndindex(theta.shape):
        old = theta[i]
        theta[i] = old + h
        f_plus = f(theta)
        theta[i] = old - h
        f_minus = f(theta)
        theta[i] = old
        grad[i] = (f_plus - f_minus) / 2 * h
    return grad


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


# --- the capstone, per sample: shared helpers ----------------------------------------------
# Stage (a) ``ch3.two_layer_backward`` and stage (b) ``ch3.backprop``. Gradients come in a
# dict with the keys and shapes of ``params``; they are compared from the output layer down
# (dW_D, db_D, dW_{D-1}, ...), so the first wrong entry names the layer where the mistake
# is. Each catalogued mistake is a *variant* of the reference; its prediction for a key is
# that variant's value for the key, so a message names the layer, the gradient and how.


def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def _one_hot(K, c):
    y = np.zeros((K, 1))
    y[c, 0] = 1.0
    return y


def _random_params(rng, sizes):
    params = {}
    for l in range(1, len(sizes)):
        params[f"W{l}"] = rng.normal(0.0, 1.0 / np.sqrt(sizes[l - 1]), (sizes[l], sizes[l - 1]))
        params[f"b{l}"] = rng.normal(0.0, 0.5, (sizes[l], 1))
    return params


def _key_order(D):
    """Keys from the output layer down: W_D, b_D, W_{D-1}, ..., W1, b1."""
    return [k for l in range(D, 0, -1) for k in (f"W{l}", f"b{l}")]


def _variant_grads(variant, args):
    """The gradients a mistake predicts (an empty dict when it cannot run on these shapes)."""
    try:
        with np.errstate(all="ignore"):
            out = variant(*_copy_args(args))
        return out if isinstance(out, dict) else {}
    except Exception:
        return {}


def _still_possible(grads_v, expected, key, D):
    """True if a mistake predicts ``key`` and agrees with the reference on every key checked before it.

    The learner's earlier keys passed, so a mistake that changes one of them cannot be the
    one they made (two mistakes may predict the same value for a later key).
    """
    if grads_v.get(key) is None:
        return False
    order = _key_order(D)
    return all(k in grads_v and d.close(grads_v[k], expected[k]) for k in order[: order.index(key)])


def _copy_args(args):
    out = []
    for a in args:
        if isinstance(a, dict):
            out.append({k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in a.items()})
        elif isinstance(a, np.ndarray):
            out.append(a.copy())
        else:
            out.append(a)
    return tuple(out)


def _grads_dict(t, out, params, missing_layer1_message=None):
    """Check the container: a dict with params' keys; returns it."""
    keys = ", ".join(repr(k) for k in params)
    if not isinstance(out, dict):
        t.fail(
            f"return a dict of gradients with the keys of params ({keys}), got {d.describe(out)}. "
            'For example: return {"W1": dW1, "b1": db1, ...}'
        )
    missing = [k for k in params if k not in out]
    if missing:
        present_deeper = any(k in out for k in params if k not in ("W1", "b1"))
        if missing_layer1_message and set(missing) <= {"W1", "b1"} and present_deeper:
            t.fail(missing_layer1_message)
        t.fail(f"the gradient dict has no {', '.join(repr(k) for k in missing)}: return one entry per parameter.")
    return out


# --- ch3.two_layer_backward (capstone, stage a) ---------------------------------------------


def two_layer_backward(params, cache, y):
    """Reference: the whole backward pass of Chapter 3's two-layer network for one sample."""
    x, a1, y_hat = cache["x"], cache["a1"], cache["y_hat"]
    delta2 = y_hat - y
    delta1 = (params["W2"].T @ delta2) * a1 * (1.0 - a1)
    return {"W1": delta1 @ x.T, "b1": delta1.copy(), "W2": delta2 @ a1.T, "b2": delta2.copy()}


def _two_layer_forward(params, x):
    z1 = params["W1"] @ x + params["b1"]
    a1 = _sig(z1)
    z2 = params["W2"] @ a1 + params["b2"]
    return {"x": x, "z1": z1, "a1": a1, "z2": z2, "y_hat": _softmax_col(z2)}


# (n0, n1, K): the first two cases share one square network and differ in the input (so a
# gradient from the first case's cache can be recognised in the second); then non-square.
_TWO_LAYER_SIZES = [(3, 3, 3), (3, 3, 3), (2, 4, 3), (4, 3, 2), (5, 2, 3)]


def _two_layer_inputs(rng, i):
    n0, n1, K = _TWO_LAYER_SIZES[i]
    prng = np.random.default_rng([31, 0]) if i < 2 else rng
    params = _random_params(prng, (n0, n1, K))
    x = rng.normal(0.0, 1.5, (n0, 1))
    y = _one_hot(K, int(rng.integers(K)))
    return {"params": params, "cache": _two_layer_forward(params, x), "y": y}


def _tl_parts(params, cache, y):
    x, z1, a1, y_hat = cache["x"], cache["z1"], cache["a1"], cache["y_hat"]
    return params["W2"], x, z1, a1, y_hat - y


def _tl(W1g, b1g, W2g, b2g):
    return {"W1": W1g, "b1": b1g, "W2": W2g, "b2": b2g}


def _tl_sign(params, cache, y):
    """Output error y - y_hat (the negative gradient) everywhere."""
    g = two_layer_backward(params, cache, y)
    return {k: -v for k, v in g.items()}


def _tl_dW2_transposed(params, cache, y):
    """dW2 = a1 delta2^T: the outer product the wrong way round (runs when K = n1)."""
    W2, x, z1, a1, d2 = _tl_parts(params, cache, y)
    d1 = (W2.T @ d2) * a1 * (1 - a1)
    return _tl(d1 @ x.T, d1, a1 @ d2.T, d2)


def _tl_dW2_wrong_activation(params, cache, y):
    """dW2 = delta2 x^T: layer 2's weight gradient with the input of layer 1 (runs when n0 = n1)."""
    W2, x, z1, a1, d2 = _tl_parts(params, cache, y)
    d1 = (W2.T @ d2) * a1 * (1 - a1)
    return _tl(d1 @ x.T, d1, d2 @ x.T, d2)


def _tl_no_prime(params, cache, y):
    """delta1 = W2^T delta2: the factor sigma'(z1) is missing."""
    W2, x, z1, a1, d2 = _tl_parts(params, cache, y)
    d1 = W2.T @ d2
    return _tl(d1 @ x.T, d1, d2 @ a1.T, d2)


def _tl_sigma_not_prime(params, cache, y):
    """delta1 = W2^T delta2 * a1: sigma(z1) where sigma'(z1) belongs."""
    W2, x, z1, a1, d2 = _tl_parts(params, cache, y)
    d1 = (W2.T @ d2) * a1
    return _tl(d1 @ x.T, d1, d2 @ a1.T, d2)


def _tl_prime_at_output(params, cache, y):
    """sigma' evaluated at a1 = sigma(z1) instead of at z1."""
    W2, x, z1, a1, d2 = _tl_parts(params, cache, y)
    d1 = (W2.T @ d2) * _sig(a1) * (1 - _sig(a1))
    return _tl(d1 @ x.T, d1, d2 @ a1.T, d2)


def _tl_z_one_minus_z(params, cache, y):
    """sigma'(z1) written as z1 (1 - z1)."""
    W2, x, z1, a1, d2 = _tl_parts(params, cache, y)
    d1 = (W2.T @ d2) * z1 * (1 - z1)
    return _tl(d1 @ x.T, d1, d2 @ a1.T, d2)


def _tl_W2_not_transposed(params, cache, y):
    """dL/da1 = W2 delta2 instead of W2^T delta2 (runs when K = n1)."""
    W2, x, z1, a1, d2 = _tl_parts(params, cache, y)
    d1 = (W2 @ d2) * a1 * (1 - a1)
    return _tl(d1 @ x.T, d1, d2 @ a1.T, d2)


def _tl_dW1_wrong_activation(params, cache, y):
    """dW1 = delta1 a1^T: layer 1's weight gradient with its own output (runs when n0 = n1)."""
    W2, x, z1, a1, d2 = _tl_parts(params, cache, y)
    d1 = (W2.T @ d2) * a1 * (1 - a1)
    return _tl(d1 @ a1.T, d1, d2 @ a1.T, d2)


def _tl_dW1_transposed(params, cache, y):
    """dW1 = x delta1^T (runs when n0 = n1)."""
    W2, x, z1, a1, d2 = _tl_parts(params, cache, y)
    d1 = (W2.T @ d2) * a1 * (1 - a1)
    return _tl(x @ d1.T, d1, d2 @ a1.T, d2)


def _tl_no_bias(params, cache, y):
    """Bias gradients left at zero."""
    g = two_layer_backward(params, cache, y)
    return _tl(g["W1"], np.zeros_like(g["b1"]), g["W2"], np.zeros_like(g["b2"]))


def _tl_db1_before_prime(params, cache, y):
    """db1 = W2^T delta2 (= dL/da1) while dW1 uses delta1: the bias skips sigma'."""
    g = two_layer_backward(params, cache, y)
    W2, x, z1, a1, d2 = _tl_parts(params, cache, y)
    return _tl(g["W1"], W2.T @ d2, g["W2"], g["b2"])


_TWO_LAYER_MISTAKES = [
    (_tl_sign, "has the wrong sign: the output error is delta_2 = y_hat - y, prediction minus target "
     "(y - y_hat is the negative gradient, and every gradient below inherits its sign)."),
    (_tl_dW2_transposed, "is the outer product the wrong way round (a_1 delta_2^T); each entry is "
     "dL/d(W_2)_kj = (delta_2)_k (a_1)_j, so the rows follow delta_2."),
    (_tl_dW2_wrong_activation, "uses the wrong layer's activation: layer 2's weights multiply a_1, "
     "so its weight gradient pairs delta_2 with a_1, not with x."),
    (_tl_no_prime, "is missing sigma'(z_1): after passing W_2^T delta_2 back, multiply entry by entry "
     "by the sigmoid's derivative to get delta_1."),
    (_tl_sigma_not_prime, "multiplies by sigma(z_1) = a_1 where the derivative sigma'(z_1) = "
     "a_1 (1 - a_1) belongs."),
    (_tl_prime_at_output, "evaluates the sigmoid's derivative at the output a_1 instead of at the "
     "input z_1: a_1 (1 - a_1) already is sigma'(z_1), so do not apply sigma to a_1 again."),
    (_tl_z_one_minus_z, "uses z_1 (1 - z_1); the sigmoid's derivative is sigma(z_1) (1 - sigma(z_1)) "
     "= a_1 (1 - a_1)."),
    (_tl_W2_not_transposed, "passes the error back with W_2 instead of its transpose: (a_1)_j feeds every "
     "(z_2)_k with weight (W_2)_kj, and summing over k runs down a column of W_2."),
    (_tl_dW1_wrong_activation, "uses the wrong layer's activation: layer 1's weights multiply its input x, "
     "so its weight gradient pairs delta_1 with x, not with a_1."),
    (_tl_dW1_transposed, "is the outer product the wrong way round (x delta_1^T); the rows of a weight "
     "gradient follow the layer's outputs, like the rows of W_1."),
    (_tl_no_bias, "is zero: the bias gradient is missing. A bias enters its layer's z with "
     "coefficient 1, so its gradient is that layer's error delta."),
    (_tl_db1_before_prime, "is dL/da_1, taken before the sigmoid: the bias b_1 sits inside sigma, "
     "so its gradient is delta_1, after the factor sigma'(z_1)."),
]

_STALE_MESSAGE = (
    "these are the gradients of the previous test's input, not of this one: your function reads "
    "x, a1 or y_hat from a cache other than the `cache` argument (one made earlier, or a "
    "variable of the notebook). Read every activation from `cache`."
)


def _key_label(key, D):
    l = int(key[1:])
    where = "the output layer" if l == D else f"layer {l}"
    return f"d{key} ({where})"


#: Names the chapter's notebook defines for its own two-layer network; a function that reads
#: them as globals computes with that network's cache, not with the one it is given.
_NOTEBOOK_CACHE_NAMES = ("x", "z1", "a1", "z2", "y_hat", "cache", "W1", "b1", "W2", "b2")


def _global_reads(fn, names):
    """Which of ``names`` the function (or a function nested in it) reads as globals that exist."""
    code = getattr(fn, "__code__", None)
    namespace = getattr(fn, "__globals__", None)
    if code is None or not isinstance(namespace, dict):
        return []
    found, stack = set(), [code]
    while stack:
        c = stack.pop()
        found |= {n for n in c.co_names if n in names and n in namespace}
        stack.extend(k for k in c.co_consts if hasattr(k, "co_names"))
    return sorted(found)


@exercise(
    "ch3.two_layer_backward",
    points=3,
    title="The whole backward pass of the two-layer network",
    reference=two_layer_backward,
)
def check_two_layer_backward(answer, t):
    fn = t.require_callable()
    leaks = _global_reads(fn, _NOTEBOOK_CACHE_NAMES)
    if leaks:
        t.fail(
            f"your function reads the notebook's variable{'s' if len(leaks) > 1 else ''} "
            f"{', '.join(leaks)} instead of its arguments: those belong to the chapter's own network "
            "and input, so every gradient would come from a stale cache. Read the activations from "
            "`cache` and the weights from `params`."
        )
    previous = None
    for case in t.cases(_two_layer_inputs, n=len(_TWO_LAYER_SIZES)):
        params, cache, y = case.args
        expected = t.reference(params, cache, y)
        grads = _grads_dict(t, t.call(fn, params, cache, y), params)
        stale = None
        if previous is not None and previous[0]["W1"].shape == params["W1"].shape:
            stale = two_layer_backward(params, previous[1], y)
        predicted = [(_variant_grads(v, (params, cache, y)), text) for v, text in _TWO_LAYER_MISTAKES]
        for key in _key_order(2):
            label = _key_label(key, 2)
            mistakes = []
            if stale is not None:
                mistakes.append(d.Mistake(stale[key], f"{label}: {_STALE_MESSAGE}"))
            for grads_v, text in predicted:
                value = grads_v.get(key)
                if _still_possible(grads_v, expected, key, 2) and not d.close(value, expected[key]):
                    mistakes.append(d.Mistake(value, f"{label} {text}"))
            t.compare(
                grads[key],
                expected[key],
                label,
                mistakes=mistakes,
                shape_hint=f"d{key} must have the shape of params[{key!r}].",
                hint=_TWO_LAYER_HINTS[key],
            )
        previous = (params, cache)


_TWO_LAYER_HINTS = {
    "W2": "start from delta_2 = dL/dz_2 and pair it with the activation that enters layer 2.",
    "b2": "b_2 enters z_2 with coefficient 1.",
    "W1": "pass the error back through W_2 (transposed) and through the sigmoid, then pair "
          "delta_1 with layer 1's input.",
    "b1": "b_1 enters z_1 with coefficient 1, so its gradient is delta_1.",
}


for _variant, _ in _TWO_LAYER_MISTAKES:
    check_two_layer_backward.add_wrong_answer(
        _variant,
        {
            "_tl_sign": "wrong sign",
            "_tl_dW2_transposed": "dW2 (the output layer) is the outer product the wrong way round",
            "_tl_dW2_wrong_activation": "dW2 (the output layer) uses the wrong layer's activation",
            "_tl_no_prime": "dW1 (layer 1) is missing sigma'(z_1)",
            "_tl_sigma_not_prime": "dW1 (layer 1) multiplies by sigma(z_1)",
            "_tl_prime_at_output": "at the output a_1 instead of at the input",
            "_tl_z_one_minus_z": "dW1 (layer 1) uses z_1 (1 - z_1)",
            "_tl_W2_not_transposed": "instead of its transpose",
            "_tl_dW1_wrong_activation": "dW1 (layer 1) uses the wrong layer's activation",
            "_tl_dW1_transposed": "dW1 (layer 1) is the outer product the wrong way round",
            "_tl_no_bias": "db2 (the output layer) is zero",
            "_tl_db1_before_prime": "db1 (layer 1) is dL/da_1",
        }[_variant.__name__],
        (_variant.__doc__ or "").strip().splitlines()[0],
    )


def _make_stale_answer():
    saved = {}

    def two_layer_backward_stale(params, cache, y):
        """Keeps the first cache it sees and computes every later gradient from it."""
        old = saved.setdefault("cache", cache)
        return two_layer_backward(params, old, y)

    return two_layer_backward_stale


check_two_layer_backward.add_wrong_answer(
    _make_stale_answer(), "previous test's input", "Computes the gradients from a stale cache (an earlier input)."
)


def _make_notebook_reader():
    """A two-layer backward that reads x, a1 and y_hat from the notebook instead of from `cache`."""
    rng = np.random.default_rng(3)
    params = _random_params(rng, (2, 3, 2))
    namespace = {"np": np, **_two_layer_forward(params, rng.normal(size=(2, 1)))}
    source = (
        "def two_layer_backward(params, cache, y):\n"
        "    delta2 = y_hat - y\n"
        "    delta1 = (params['W2'].T @ delta2) * a1 * (1 - a1)\n"
        "    return {'W1': delta1 @ x.T, 'b1': delta1, 'W2': delta2 @ a1.T, 'b2': delta2}\n"
    )
    exec(compile(source, "<notebook cell>", "exec"), namespace)  # noqa: S102 - a fixed, local source
    return namespace["two_layer_backward"]



# Not in the catalogue: the generic tests wrap every catalogued answer in a spy object, which
# hides the function's globals; tests/test_ch3_checks.py checks this diagnosis directly.


# --- ch3.backprop (capstone, stage b) -------------------------------------------------------


def backprop(params, x, y):
    """Reference: forward pass keeping z_l and a_l, then BP1-BP4, for any depth D.

    Hidden layers are sigmoid, the output layer is softmax with cross-entropy, so BP1 is
    delta_D = y_hat - y.
    """
    return _backprop_variant(params, x, y)


def _backprop_variant(params, x, y, mistake=None, at=None):
    """The reference with one catalogued ``mistake``, made at layer ``at`` only (None: at every layer)."""
    D = len(params) // 2
    full = mistake

    def made(l):
        return full if at is None or l == at else None

    a, zs = [x], [None]
    for l in range(1, D + 1):
        zs.append(params[f"W{l}"] @ a[l - 1] + params[f"b{l}"])
        a.append(_softmax_col(zs[l]) if l == D else _sig(zs[l]))
    delta = {D: y - a[D] if mistake == "sign" else a[D] - y}
    if mistake == "output_prime":
        delta[D] = delta[D] * a[D] * (1 - a[D])
    for l in range(D - 1, 0, -1):
        W, s = params[f"W{l + 1}"], a[l]
        mistake = made(l)
        back = W @ delta[l + 1] if mistake == "no_transpose" else W.T @ delta[l + 1]
        prime = {
            "no_prime": 1.0,
            "act_not_prime": s,
            "prime_at_output": _sig(s) * (1 - _sig(s)),
            "prime_next_layer": _sig(zs[l + 1]) * (1 - _sig(zs[l + 1])),
        }.get(mistake, s * (1 - s))
        delta[l] = back * prime
    grads = {}
    last = 2 if full == "stops_early" else 1
    for l in range(D, last - 1, -1):
        mistake = made(l)
        if mistake == "bp4_transposed":
            grads[f"W{l}"] = a[l - 1] @ delta[l].T
        elif mistake == "bp4_wrong_layer":
            grads[f"W{l}"] = delta[l] @ a[l].T
        else:
            grads[f"W{l}"] = delta[l] @ a[l - 1].T
        grads[f"b{l}"] = np.zeros_like(delta[l]) if mistake == "no_bias" else delta[l].copy()
    return grads


# (n_0, ..., n_D): square networks first, so transposes and wrong-layer mistakes run and can
# be named; then depths 4, 3 and 2 with all widths different.
_BACKPROP_SIZES = [(3, 3, 3, 3), (4, 4, 4, 4, 4), (4, 5, 3, 2), (2, 3, 2), (3, 6, 5, 4, 2)]


def _backprop_inputs(rng, i):
    sizes = _BACKPROP_SIZES[i]
    params = _random_params(rng, sizes)
    x = rng.normal(0.0, 1.5, (sizes[0], 1))
    return {"params": params, "x": x, "y": _one_hot(sizes[-1], int(rng.integers(sizes[-1])))}


def _bp_msg_sign(key, l, D):
    return (f"has the wrong sign: BP1 for softmax with cross-entropy is delta_{D} = y_hat - y, prediction "
            "minus target; y - y_hat is the negative gradient.")


_BACKPROP_MISTAKES = {
    "sign": _bp_msg_sign,
    "output_prime": lambda key, l, D: (
        f"has an extra factor in BP1: for softmax with cross-entropy the output error is delta_{D} = "
        "y_hat - y directly; multiplying by y_hat (1 - y_hat) treats softmax like an element-wise sigmoid."),
    "no_prime": lambda key, l, D: (
        f"is wrong because delta_{l} lacks the factor sigma'(z_{l}): BP2 multiplies W_{l + 1}^T "
        f"delta_{l + 1} entry by entry by the derivative of the activation."),
    "act_not_prime": lambda key, l, D: (
        f"is wrong because BP2 multiplies by sigma(z_{l}) = a_{l} where the derivative "
        f"sigma'(z_{l}) = a_{l} (1 - a_{l}) belongs."),
    "prime_at_output": lambda key, l, D: (
        f"is wrong because sigma' is evaluated at the output a_{l} instead of at the input z_{l}: "
        f"a_{l} (1 - a_{l}) already is sigma'(z_{l})."),
    "prime_next_layer": lambda key, l, D: (
        f"is wrong because BP2 uses the derivative at the layer above, z_{l + 1}; delta_{l} needs "
        f"sigma'(z_{l}), the derivative of its own layer (an index off by one)."),
    "no_transpose": lambda key, l, D: (
        f"is wrong because BP2 uses W_{l + 1} where its transpose belongs: the sum over the units of "
        f"layer {l + 1} runs down a column of W_{l + 1}, so it is W_{l + 1}^T delta_{l + 1}."),
    "bp4_transposed": lambda key, l, D: (
        f"is the outer product the wrong way round (a_{l - 1} delta_{l}^T): BP4 is delta_{l} "
        f"a_{l - 1}^T, whose rows follow the layer's outputs like the rows of W_{l}."),
    "bp4_wrong_layer": lambda key, l, D: (
        f"uses the wrong layer's activation: W_{l} multiplies a_{l - 1}, the input of layer {l}, "
        f"so BP4 pairs delta_{l} with a_{l - 1}, not with a_{l}."),
    "no_bias": lambda key, l, D: (
        f"is zero: the bias gradient is missing. b_{l} enters z_{l} with coefficient 1, so "
        f"BP3 gives delta_{l}."),
}

_STOPS_EARLY = (
    "the gradient dict has no 'W1' and 'b1' although the deeper layers are there: the loop over "
    "layers stops before layer 1 (an off-by-one in its range?)."
)


@exercise("ch3.backprop", points=3, title="Backpropagation for any depth (BP1-BP4)", reference=backprop)
def check_backprop(answer, t):
    fn = t.require_callable()
    for case in t.cases(_backprop_inputs, n=len(_BACKPROP_SIZES)):
        params, x, y = case.args
        D = len(params) // 2
        expected = t.reference(params, x, y)
        grads = _grads_dict(t, t.call(fn, params, x, y), params, missing_layer1_message=_STOPS_EARLY)
        # predicted[name, l]: the gradients when the mistake is made at layer l only (BP1's
        # mistakes can only be made at the output layer D).
        predicted = {
            (name, l): _variant_grads(
                lambda p, xx, yy, name=name, l=l: _backprop_variant(p, xx, yy, name, at=l), (params, x, y)
            )
            for name in _BACKPROP_MISTAKES
            for l in range(1, D + 1)
        }
        for key in _key_order(D):
            l = int(key[1:])
            label = _key_label(key, D)
            mistakes = []
            for name, message in _BACKPROP_MISTAKES.items():
                value = predicted[name, l].get(key)
                if _still_possible(predicted[name, l], expected, key, D) and not d.close(value, expected[key]):
                    mistakes.append(d.Mistake(value, f"{label} {message(key, l, D)}"))
            t.compare(
                grads[key],
                expected[key],
                label,
                mistakes=mistakes,
                shape_hint=f"d{key} must have the shape of params[{key!r}].",
                hint=(f"BP4 for layer {l}: the outer product of delta_{l} with the activation entering layer {l}."
                      if key[0] == "W" else f"BP3: b_{l} enters z_{l} with coefficient 1."),
            )


def _bp_wrong(mistake, expect, doc):
    def backprop_wrong(params, x, y):
        return _backprop_variant(params, x, y, mistake)

    backprop_wrong.__doc__ = doc
    check_backprop.add_wrong_answer(backprop_wrong, expect, doc)


_bp_wrong("sign", "wrong sign", "BP1 with y - y_hat.")
_bp_wrong("output_prime", "extra factor in BP1", "BP1 multiplied by y_hat (1 - y_hat).")
_bp_wrong("no_prime", "dW2 (layer 2) is wrong because delta_2 lacks the factor sigma'(z_2)", "BP2 without sigma'.")
_bp_wrong("act_not_prime", "multiplies by sigma(z_2)", "BP2 with sigma(z) for sigma'(z).")
_bp_wrong("prime_at_output", "evaluated at the output a_2", "BP2 with sigma'(a_l).")
_bp_wrong("prime_next_layer", "derivative at the layer above", "BP2 with sigma'(z_{l+1}).")
_bp_wrong("no_transpose", "BP2 uses W_3 where its transpose belongs", "BP2 with W for W^T.")
_bp_wrong("bp4_transposed", "dW3 (the output layer) is the outer product the wrong way round", "BP4 as a delta^T.")
_bp_wrong("bp4_wrong_layer", "dW3 (the output layer) uses the wrong layer's activation", "BP4 with a_l for a_{l-1}.")
_bp_wrong("no_bias", "db3 (the output layer) is zero", "BP3 left out.")
_bp_wrong("stops_early", "stops before layer 1", "The loop over layers ends at layer 2.")
