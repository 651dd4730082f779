r"""Checks for Chapter 1, gradient descent.

``ch1.mse_gradient``
    ``mse_gradient(X, y, w, b) -> (dw, db)`` for linear regression with the loss
    :math:`L = \frac{1}{2B}\sum_{i=1}^{B} (x_i \cdot w + b - y_i)^2`, ``X`` of shape
    ``(B, n)`` (one sample per row), ``y`` ``(B,)``, ``w`` ``(n,)``, ``b`` a number.
    With the residual :math:`r = Xw + b - y`: :math:`dw = X^\top r / B` (shape ``(n,)``)
    and :math:`db = \frac{1}{B}\sum_i r_i` (a number).

``ch1.gradient_descent``
    ``gradient_descent(grad_f, x0, alpha, n_steps) -> path``: repeat
    :math:`x_{t+1} = x_t - \alpha \nabla f(x_t)` ``n_steps`` times from ``x0`` (shape
    ``(d,)``) and return every point, ``x0`` first: shape ``(n_steps + 1, d)``.

``ch1.stable_lr``
    A number: the largest learning rate for which fixed-step gradient descent on
    :math:`f(x) = 4x^2 - 3x + 2` converges from every start, :math:`2/f'' = 1/4`.

``ch1.minibatch_indices``
    ``minibatch_indices(N, batch_size, rng) -> list of index arrays`` for one epoch: a
    fresh order ``rng.permutation(N)`` cut into consecutive batches of ``batch_size``
    (the last may be shorter); every sample exactly once.

``ch1.momentum_step``
    ``momentum_step(x, v, g, lr, beta) -> (x_new, v_new)``: with the velocity :math:`m` =
    ``v`` and the gradient :math:`\nabla` = ``g``, :math:`m' = \beta m + \nabla` (returned
    as ``v_new``), :math:`x' = x - \alpha m'` (as :class:`nnlib.optim.Momentum`), without
    changing the inputs.
"""

from __future__ import annotations

import numpy as np

from . import diagnose as d
from ._registry import exercise

# --- ch1.mse_gradient ---------------------------------------------------------------------


def mse_gradient(X, y, w, b):
    """Reference: gradient of L = 1/(2B) sum_i (x_i . w + b - y_i)^2 w.r.t. w and b."""
    B = X.shape[0]
    r = X @ w + b - y  # residuals, shape (B,)
    return X.T @ r / B, float(np.mean(r))


# (B, n) per test: distinct primes, never square (a transposed result cannot pass), B != 2n
# and n != 2B (dividing by n instead of B is not a factor of 2), n > 1 (dividing by n is
# not the sum); B = 1 last (there sum and mean coincide).
_REGRESSION_SIZES = [(7, 3), (11, 5), (5, 13), (13, 2), (1, 3)]


def _regression_inputs(rng, i):
    B, n = _REGRESSION_SIZES[i]
    return {
        "X": rng.normal(size=(B, n)),
        "y": rng.normal(size=B),
        "w": rng.normal(size=n),
        "b": float(rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 2.0)),  # clearly non-zero
    }


@exercise(
    "ch1.mse_gradient",
    points=2,
    title="Gradient of the mean squared error",
    reference=mse_gradient,
)
def check_mse_gradient(answer, t):
    fn = t.require_callable()
    for case in t.cases(_regression_inputs, n=len(_REGRESSION_SIZES)):
        X, y, w, b = case.args
        B = X.shape[0]
        dw_ref, db_ref = t.reference(X, y, w, b)
        dw, db = t.unpack(t.call(fn, X, y, w, b), ("dw", "db"))

        r = X @ w + b - y
        r_no_bias = X @ w - y
        plural = B > 1  # with one sample, sum and mean coincide
        t.compare(
            dw,
            dw_ref,
            "dw",
            batch_size=B,
            mistakes=[
                d.Mistake(
                    -dw_ref,
                    "dw has the wrong sign: the residual is prediction minus target, "
                    "r = X w + b - y (not y - X w - b).",
                ),
                *([d.sum_instead_of_mean(X.T @ r, "dw")] if plural else []),
                d.Mistake(
                    2 * dw_ref,
                    "dw is twice the correct value: with the 1/2 in L = 1/(2B) sum r^2, the 2 "
                    "from differentiating r^2 cancels it.",
                ),
                *(
                    [d.Mistake(2 * X.T @ r, "dw is 2B times too large: both the 1/B and the 1/2 are missing.")]
                    if plural
                    else []
                ),
                d.Mistake(
                    X.T @ r_no_bias / B,
                    "dw is computed without the bias: the prediction is X w + b, so the residual must include b.",
                ),
                d.Mistake(
                    X.T @ r / X.shape[1],
                    "dw is divided by the number of features n = X.shape[1]; the mean is over the B "
                    "samples, one per row: divide by X.shape[0].",
                ),
                d.wrong_axis(
                    np.mean(X * r[:, None], axis=1),
                    "dw",
                    "It has one entry per sample; average over the samples (axis=0) to get one entry per weight.",
                ),
            ],
            shape_hint="dw must have the shape of w: one entry per weight.",
            hint="dw = X^T r / B with the residual r = X w + b - y.",
        )
        t.compare(
            db,
            db_ref,
            "db",
            batch_size=B,
            mistakes=[
                d.Mistake(
                    -db_ref,
                    "db has the wrong sign: the residual is prediction minus target, r = X w + b - y.",
                ),
                *([d.sum_instead_of_mean(np.sum(r), "db")] if plural else []),
                d.Mistake(
                    2 * db_ref,
                    "db is twice the correct value: the 1/2 in L cancels the 2 from differentiating r^2.",
                ),
                d.Mistake(
                    float(np.mean(r_no_bias)),
                    "db is computed without the bias in the prediction: the residual must include b.",
                ),
                d.Mistake(
                    0.0,
                    "db is 0: the bias gradient was dropped. Every residual pushes on b, so db is the mean residual.",
                ),
                *(
                    [
                        d.Mistake(
                            r,
                            "db is the vector of residuals; the bias gradient is their mean, a single number.",
                        ),
                        d.Mistake(
                            r / B,
                            "db has one entry per sample; add them up: the bias gradient is "
                            "the mean residual, a single number.",
                        ),
                    ]
                    if plural
                    else []
                ),
            ],
            shape_hint="db is a single number, like b.",
            hint="db is the mean of the residuals r = X w + b - y.",
        )


@check_mse_gradient.wrong_answer(expect="wrong sign")
def _mse_flipped_sign(X, y, w, b):
    """Residual written as target minus prediction."""
    r = y - (X @ w + b)
    return X.T @ r / len(y), float(np.mean(r))


@check_mse_gradient.wrong_answer(expect="1/B")
def _mse_sum(X, y, w, b):
    """Sum over the batch instead of the mean."""
    r = X @ w + b - y
    return X.T @ r, float(np.sum(r))


@check_mse_gradient.wrong_answer(expect="twice")
def _mse_factor_two(X, y, w, b):
    """Forgot that the 1/2 cancels the 2 of the square."""
    r = X @ w + b - y
    return 2 * X.T @ r / len(y), float(2 * np.mean(r))


@check_mse_gradient.wrong_answer(expect="without the bias")
def _mse_no_bias(X, y, w, b):
    """Prediction without b."""
    r = X @ w - y
    return X.T @ r / len(y), float(np.mean(r))


@check_mse_gradient.wrong_answer(expect="wrong axis")
def _mse_wrong_axis(X, y, w, b):
    """Averaged over the features instead of the samples."""
    r = X @ w + b - y
    return np.mean(X * r[:, None], axis=1), float(np.mean(r))


@check_mse_gradient.wrong_answer(expect="number of features")
def _mse_over_features(X, y, w, b):
    """Divides by X.shape[1] (the features) instead of X.shape[0] (the samples)."""
    B = X.shape[1]
    r = X @ w + b - y
    return X.T @ r / B, float(np.sum(r) / B)


@check_mse_gradient.wrong_answer(expect="bias gradient was dropped")
def _mse_db_zero(X, y, w, b):
    """Returns 0 for db."""
    r = X @ w + b - y
    return X.T @ r / len(y), 0.0


@check_mse_gradient.wrong_answer(expect="2 results")
def _mse_only_dw(X, y, w, b):
    """Returns dw alone."""
    r = X @ w + b - y
    return X.T @ r / len(y)


@check_mse_gradient.wrong_answer(expect="right numbers in the wrong shape")
def _mse_column(X, y, w, b):
    """dw as an (n, 1) column."""
    r = (X @ w + b - y).reshape(-1, 1)
    return X.T @ r / len(y), float(np.mean(r))


# --- ch1.gradient_descent ------------------------------------------------------------------


def gradient_descent(grad_f, x0, alpha, n_steps):
    """Reference: n_steps of x <- x - alpha * grad_f(x); returns the (n_steps + 1, d) path."""
    x = np.array(x0, dtype=float)  # a copy: the caller's x0 stays as it was
    path = [x]
    for _ in range(n_steps):
        x = x - alpha * grad_f(x)  # a new array each step, so earlier rows stay put
        path.append(x)
    return np.array(path)


# (d, n_steps, alpha) per test; the path (n_steps + 1, d) is never square.
_DESCENT_SETUPS = [(2, 5, 0.1), (3, 3, 0.2), (1, 8, 0.3), (4, 6, 0.05), (2, 0, 0.1)]


def _quadratic_bowl(rng, d):
    """grad of f(x) = 1/2 (x - c)^T A (x - c), A symmetric with eigenvalues in [0.5, 3]."""
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    A = Q @ np.diag(rng.uniform(0.5, 3.0, size=d)) @ Q.T
    c = rng.normal(size=d)

    def grad_f(x):
        x = np.asarray(x, dtype=float)
        if x.shape != (d,):
            raise ValueError(f"grad_f expects x of shape ({d},) like x0, got shape {x.shape}")
        return A @ (x - c)

    return grad_f


def _descent_inputs(rng, i):
    d_, n_steps, alpha = _DESCENT_SETUPS[i]
    return {
        "grad_f": _quadratic_bowl(rng, d_),
        "x0": rng.normal(size=d_) * 2,
        "alpha": alpha,
        "n_steps": n_steps,
    }


def _path(x0, n_steps, step):
    """Points x0, step(x0), step(step(x0)), ... (n_steps steps) as an (n_steps + 1, d) array."""
    x = np.array(x0, dtype=float)
    path = [x]
    for _ in range(n_steps):
        x = step(x)
        path.append(x)
    return np.array(path)


def _descent_mistakes(grad_f, x0, alpha, n, path_ref):
    """The named wrong paths for one test input."""
    g0 = grad_f(x0)
    return [
        d.Mistake(
            _path(x0, n, lambda x: x + alpha * grad_f(x)),
            "path goes uphill: the update must subtract the gradient, x_new = x - alpha * grad_f(x).",
        ),
        d.Mistake(
            np.tile(path_ref[-1], (n + 1, 1)),
            "every row of path is the same point: you appended x and then changed it "
            "in place. Append a copy (path.append(x.copy())) or use x = x - ... .",
        ),
        d.Mistake(
            path_ref[1:],
            "path is missing the starting point: its first row must be x0, so it has n_steps + 1 rows.",
        ),
        d.Mistake(
            path_ref[:-1],
            "path is one update short: it should contain n_steps updates after x0 (n_steps + 1 rows).",
        ),
        d.Mistake(
            _path(x0, n + 1, lambda x: x - alpha * grad_f(x)),
            "path has one update too many: n_steps updates after x0 give n_steps + 1 rows.",
        ),
        d.Mistake(
            path_ref[-1],
            "path is only the final point; return the whole path, one row per point, x0 first.",
        ),
        d.Mistake(
            _path(x0, n, lambda x: x - grad_f(x)),
            "the learning rate alpha is not used: each step is x - alpha * grad_f(x).",
        ),
        d.Mistake(
            _path(x0, n, lambda x: x - alpha * g0),
            "the gradient is computed only once, at x0; call grad_f at the current x in every step.",
        ),
    ]


@exercise(
    "ch1.gradient_descent",
    points=2,
    title="Gradient descent, step by step",
    reference=gradient_descent,
)
def check_gradient_descent(answer, t):
    fn = t.require_callable()
    for case in t.cases(_descent_inputs, n=len(_DESCENT_SETUPS)):
        grad_f, x0, alpha, n = case.args
        path_ref = t.reference(grad_f, x0, alpha, n)
        path = t.call(fn, grad_f, x0, alpha, n)
        if 1 in t.modified:
            t.fail(
                "your function changed the caller's x0 in place. `x = x0` does not copy, so "
                "`x -= ...` also changes x0; start from x = np.array(x0, dtype=float) instead."
            )
        t.compare(
            path,
            path_ref,
            "path",
            mistakes=_descent_mistakes(grad_f, x0, alpha, n, path_ref),
            shape_hint="It needs one row per point: x0 and then one row per step.",
            hint="repeat x = x - alpha * grad_f(x) n_steps times, keeping every point.",
        )


@check_gradient_descent.wrong_answer(expect="uphill")
def _gd_ascent(grad_f, x0, alpha, n_steps):
    """Adds the gradient."""
    x = np.array(x0, dtype=float)
    path = [x]
    for _ in range(n_steps):
        x = x + alpha * grad_f(x)
        path.append(x)
    return np.array(path)


@check_gradient_descent.wrong_answer(expect="in place")
def _gd_alias(grad_f, x0, alpha, n_steps):
    """Updates x0 itself in place and appends the same array every time."""
    x = x0
    path = [x]
    for _ in range(n_steps):
        x -= alpha * grad_f(x)
        path.append(x)
    return np.array(path)


@check_gradient_descent.wrong_answer(expect="same point")
def _gd_same_row(grad_f, x0, alpha, n_steps):
    """Copies x0 once, then appends the array it keeps changing."""
    x = x0.copy()
    path = [x]
    for _ in range(n_steps):
        x -= alpha * grad_f(x)
        path.append(x)
    return np.array(path)


@check_gradient_descent.wrong_answer(expect="starting point")
def _gd_no_start(grad_f, x0, alpha, n_steps):
    """Leaves x0 out of the path."""
    x = np.array(x0, dtype=float)
    path = []
    for _ in range(n_steps):
        x = x - alpha * grad_f(x)
        path.append(x)
    return np.array(path).reshape(n_steps, len(x0))


@check_gradient_descent.wrong_answer(expect="one update short")
def _gd_short(grad_f, x0, alpha, n_steps):
    """Loop runs n_steps - 1 times."""
    x = np.array(x0, dtype=float)
    path = [x]
    for _ in range(n_steps - 1):
        x = x - alpha * grad_f(x)
        path.append(x)
    return np.array(path)


@check_gradient_descent.wrong_answer(expect="only the final point")
def _gd_final_only(grad_f, x0, alpha, n_steps):
    """Returns the last point instead of the path."""
    x = np.array(x0, dtype=float)
    for _ in range(n_steps):
        x = x - alpha * grad_f(x)
    return x


@check_gradient_descent.wrong_answer(expect="learning rate")
def _gd_no_alpha(grad_f, x0, alpha, n_steps):
    """Forgets alpha."""
    x = np.array(x0, dtype=float)
    path = [x]
    for _ in range(n_steps):
        x = x - grad_f(x)
        path.append(x)
    return np.array(path)


@check_gradient_descent.wrong_answer(expect="only once")
def _gd_stale_gradient(grad_f, x0, alpha, n_steps):
    """Computes the gradient once, outside the loop."""
    x = np.array(x0, dtype=float)
    g = grad_f(x)
    path = [x]
    for _ in range(n_steps):
        x = x - alpha * g
        path.append(x)
    return np.array(path)


# --- ch1.stable_lr --------------------------------------------------------------------------
# For f(x) = 4 x^2 - 3 x + 2 the curvature is f'' = 8, so fixed-step gradient descent
# converges from every start exactly when 0 < alpha < 2 / f'' = 1/4.

_STABLE_LR_CURVATURE = 8.0  # f''(x) of 4 x^2 - 3 x + 2
STABLE_LR = 2.0 / _STABLE_LR_CURVATURE


@exercise(
    "ch1.stable_lr",
    points=1,
    title="The largest stable learning rate",
    reference=STABLE_LR,
)
def check_stable_lr(answer, t):
    a = _STABLE_LR_CURVATURE
    t.compare(
        answer,
        STABLE_LR,
        "alpha_max",
        mistakes=[
            d.Mistake(
                1.0 / a,
                "alpha_max is 1/f'': that is the learning rate that lands on the minimum in a single "
                "step. Steps up to twice as long still shrink the error (they overshoot, but by less each "
                "time); find where the factor |1 - alpha f''| reaches 1.",
            ),
            d.Mistake(
                2.0 / (a / 2),
                "alpha_max uses the coefficient of x^2 as the curvature; the second derivative of "
                "c x^2 is 2c, twice the coefficient.",
            ),
            d.Mistake(
                a,
                "alpha_max is the curvature f'' itself; the threshold is a learning rate built from it.",
            ),
            d.Mistake(
                2.0 * a,
                "alpha_max is 2 f''; the threshold divides by the curvature: the more curved the bowl, "
                "the shorter the stable steps.",
            ),
            d.Mistake(
                2.0 / 3.0,
                "alpha_max uses the coefficient of x (the slope at 0) as the curvature; the curvature "
                "is the second derivative, which the linear term does not change.",
            ),
            d.Mistake(
                2.0 / 2.0,
                "alpha_max treats the curvature as that of x^2 alone; the factor 4 in front of x^2 "
                "multiplies the second derivative too.",
            ),
            d.Mistake(
                -STABLE_LR,
                "alpha_max is negative; a learning rate is a positive step length. Find the positive "
                "end of the range 0 < alpha < alpha_max.",
            ),
            d.Mistake(
                1.0 / (2.0 * a),
                "alpha_max is 1/(2 f''), too small. Write one step as x_new - c = (1 - alpha f'')(x - c) "
                "and ask when |1 - alpha f''| < 1.",
            ),
        ],
        hint="one step multiplies the distance to the minimum by (1 - alpha f''); "
        "the error shrinks while |1 - alpha f''| < 1.",
    )


check_stable_lr.add_wrong_answer(
    1.0 / _STABLE_LR_CURVATURE, "lands on the minimum in a single step", "1/f'' instead of 2/f''"
)
check_stable_lr.add_wrong_answer(0.5, "coefficient of x^2", "the coefficient 4 taken as f''")
check_stable_lr.add_wrong_answer(8.0, "curvature f'' itself", "f'' instead of a learning rate")
check_stable_lr.add_wrong_answer(1.0 / 16.0, "1/(2 f'')", "1/(2 f'') instead of 2/f''")
check_stable_lr.add_wrong_answer(16.0, "divides by the curvature", "2 f'' instead of 2/f''")
check_stable_lr.add_wrong_answer(2.0 / 3.0, "coefficient of x ", "the linear coefficient taken as f''")
check_stable_lr.add_wrong_answer(1.0, "x^2 alone", "the factor 4 dropped from f''")
check_stable_lr.add_wrong_answer(-0.25, "negative", "a negative learning rate")


# --- ch1.minibatch_indices ------------------------------------------------------------------


def minibatch_indices(N, batch_size, rng):
    """Reference: one epoch of mini-batches - a fresh permutation cut into consecutive chunks."""
    order = rng.permutation(N)
    return [order[start : start + batch_size] for start in range(0, N, batch_size)]


# (N, batch_size) per test: a remainder, an exact split, batch_size 1 and batch_size >= N.
_BATCH_SETUPS = [(10, 3), (12, 4), (7, 1), (9, 5), (5, 8)]


def _batch_inputs(rng, i):
    N, batch_size = _BATCH_SETUPS[i]
    return {"N": N, "batch_size": batch_size, "rng": np.random.default_rng(int(rng.integers(2**31)))}


def _as_batches(out, N):
    """The learner's batches as a list of integer arrays, or a problem sentence."""
    if isinstance(out, np.ndarray) and out.ndim == 1:
        return None, (
            "got a single 1-D array; return a list with one index array per mini-batch (the last one may be shorter)."
        )
    if not isinstance(out, list | tuple) and not (isinstance(out, np.ndarray) and out.ndim == 2):
        return None, f"expected a list of index arrays, got {d.describe(out)}."
    batches = []
    for k, batch in enumerate(out):
        arr = np.asarray(batch)
        if arr.ndim != 1 or arr.size == 0:
            return None, f"batch {k} should be a non-empty 1-D array of indices, got {d.describe(batch)}."
        if not (np.issubdtype(arr.dtype, np.integer) or np.all(np.asarray(arr, dtype=float) % 1 == 0)):
            return None, f"batch {k} should hold integer row indices, got dtype {arr.dtype}."
        batches.append(arr.astype(np.int64))
    return batches, None


@exercise(
    "ch1.minibatch_indices",
    points=2,
    title="Mini-batches for one epoch",
    reference=minibatch_indices,
)
def check_minibatch_indices(answer, t):
    fn = t.require_callable()
    for case in t.cases(_batch_inputs, n=len(_BATCH_SETUPS)):
        N, batch_size, rng = case.args
        batches, problem = _as_batches(t.call(fn, N, batch_size, rng), N)
        if problem:
            t.fail(problem)
        flat = np.concatenate(batches)
        if flat.min() < 0 or flat.max() >= N:
            t.fail(f"the indices must be row numbers 0 to N - 1; some are outside that range (N = {N}).")
        counts = np.bincount(flat, minlength=N)
        if counts.max() > 1:
            t.fail(
                "some indices appear more than once (and others never): the samples were drawn with "
                "replacement. One epoch uses every sample exactly once - shuffle with rng.permutation(N)."
            )
        if counts.min() == 0:
            full = all(len(bt) == batch_size for bt in batches)
            t.fail(
                "the last, smaller batch is missing: when batch_size does not divide N the remaining "
                "samples still form a batch."
                if full
                else f"only {int(np.count_nonzero(counts))} of the {N} samples are used; every sample belongs to "
                "exactly one batch per epoch."
            )
        sizes = [len(bt) for bt in batches]
        if len(batches) == 1 and N > batch_size:
            t.fail(
                "the whole epoch is one batch: batch_size is not used. Cut the shuffled order into "
                "consecutive pieces of batch_size indices."
            )
        if any(s != batch_size for s in sizes[:-1]) or sizes[-1] > batch_size:
            t.fail(
                f"the batches have different sizes ({', '.join(map(str, sizes))}); every batch must have "
                "batch_size samples except the last, which takes what is left."
            )
        if N > 2 and np.array_equal(flat, np.arange(N)):
            t.fail(
                "the samples come in their original order 0, 1, 2, ...: you forgot to shuffle. "
                "Draw a fresh order with rng.permutation(N) every epoch."
            )
        again, _ = _as_batches(t.call(fn, N, batch_size, np.random.default_rng(12345)), N)
        other, _ = _as_batches(t.call(fn, N, batch_size, np.random.default_rng(54321)), N)
        same_seed, _ = _as_batches(t.call(fn, N, batch_size, np.random.default_rng(12345)), N)
        if again is None or other is None or same_seed is None:
            t.fail("the result is not a list of index arrays for every generator passed as rng.")
        if N > 3 and np.array_equal(np.concatenate(again), np.concatenate(other)):
            t.fail(
                "two different generators give the same order: the shuffle does not use the rng "
                "argument (or reseeds it). Use rng.permutation(N)."
            )
        if not np.array_equal(np.concatenate(again), np.concatenate(same_seed)):
            t.fail(
                "the same seed gives different orders: the shuffle uses numpy's global random state "
                "instead of the rng argument, so runs cannot be reproduced. Use rng.permutation(N)."
            )


@check_minibatch_indices.wrong_answer(expect="with replacement")
def _batches_with_replacement(N, batch_size, rng):
    """Draws indices with replacement."""
    idx = rng.integers(0, N, size=N)
    return [idx[s : s + batch_size] for s in range(0, N, batch_size)]


@check_minibatch_indices.wrong_answer(expect="forgot to shuffle")
def _batches_unshuffled(N, batch_size, rng):
    """Consecutive indices in their original order."""
    idx = np.arange(N)
    return [idx[s : s + batch_size] for s in range(0, N, batch_size)]


@check_minibatch_indices.wrong_answer(expect="last, smaller batch is missing")
def _batches_drop_last(N, batch_size, rng):
    """Drops the incomplete last batch."""
    idx = rng.permutation(N)
    return [idx[s : s + batch_size] for s in range(0, N - batch_size + 1, batch_size)] or [idx]


@check_minibatch_indices.wrong_answer(expect="does not use the rng")
def _batches_fixed_seed(N, batch_size, rng):
    """Ignores rng and reseeds a new generator every epoch."""
    idx = np.random.default_rng(0).permutation(N)
    return [idx[s : s + batch_size] for s in range(0, N, batch_size)]


@check_minibatch_indices.wrong_answer(expect="different sizes")
def _batches_array_split(N, batch_size, rng):
    """Splits into ceil(N / batch_size) nearly equal parts instead of batch_size chunks."""
    return np.array_split(rng.permutation(N), -(-N // batch_size))


@check_minibatch_indices.wrong_answer(expect="outside that range")
def _batches_one_based(N, batch_size, rng):
    """Counts the rows from 1 to N."""
    idx = rng.permutation(N) + 1
    return [idx[s : s + batch_size] for s in range(0, N, batch_size)]


@check_minibatch_indices.wrong_answer(expect="global random state")
def _batches_global_state(N, batch_size, rng):
    """Shuffles with numpy's global generator instead of rng."""
    idx = np.random.permutation(N)
    return [idx[s : s + batch_size] for s in range(0, N, batch_size)]


@check_minibatch_indices.wrong_answer(expect="one batch")
def _batches_single(N, batch_size, rng):
    """Ignores batch_size: one shuffled batch per epoch."""
    return [rng.permutation(N)]


@check_minibatch_indices.wrong_answer(expect="single 1-D array")
def _batches_flat(N, batch_size, rng):
    """Returns the permutation without cutting it into batches."""
    return rng.permutation(N)


# --- ch1.momentum_step ----------------------------------------------------------------------


def momentum_step(x, v, g, lr, beta):
    """Reference: heavy-ball momentum, v <- beta v + g, then x <- x - lr v (nnlib.optim.Momentum)."""
    v_new = beta * v + g
    return x - lr * v_new, v_new


# (n, lr, beta) per test: lr differs from beta and from 1 - beta, and beta != 1/2, so that
# the catalogued mistakes (beta v + lr g, beta v + (1 - beta) g, (1 - beta) v + g) differ.
_MOMENTUM_SETUPS = [(3, 0.07, 0.9), (2, 0.05, 0.6), (4, 0.3, 0.8), (1, 0.2, 0.95)]


def _momentum_inputs(rng, i):
    n, lr, beta = _MOMENTUM_SETUPS[i]
    return {"x": rng.normal(size=n), "v": rng.normal(size=n), "g": rng.normal(size=n), "lr": lr, "beta": beta}


@exercise(
    "ch1.momentum_step",
    points=2,
    title="One momentum step",
    reference=momentum_step,
)
def check_momentum_step(answer, t):
    fn = t.require_callable()
    for case in t.cases(_momentum_inputs, n=len(_MOMENTUM_SETUPS)):
        x, v, g, lr, beta = case.args
        x_ref, v_ref = t.reference(x, v, g, lr, beta)
        x_new, v_new = t.unpack(t.call(fn, x, v, g, lr, beta), ("x_new", "v_new"))
        if t.modified:
            t.fail(
                "your function changed its input arrays in place; return new arrays "
                "(v_new = beta * v + g, not v *= beta)."
            )
        t.compare(
            v_new,
            v_ref,
            "v_new",
            mistakes=[
                d.Mistake(v + g, "v_new ignores beta: the old velocity must decay, v_new = beta * v + g."),
                d.Mistake(
                    beta * v + (1 - beta) * g,
                    "v_new = beta v + (1 - beta) g is the exponential-average form (Adam's first moment); "
                    "nnlib's Momentum adds the whole gradient: v_new = beta * v + g.",
                ),
                d.Mistake((1 - beta) * v + g, "v_new weights the old velocity by 1 - beta; it keeps beta of it."),
                d.Mistake(
                    beta * v + lr * g,
                    "v_new contains the learning rate; here the velocity adds raw gradients, "
                    "v_new = beta * v + g, and lr scales only the step x - lr * v_new.",
                ),
                d.Mistake(
                    beta * v - g,
                    "v_new subtracts the gradient; the velocity accumulates +g, "
                    "and the step then subtracts lr * v_new.",
                ),
            ],
            hint="v_new = beta * v + g.",
        )
        t.compare(
            x_new,
            x_ref,
            "x_new",
            mistakes=[
                d.Mistake(x + lr * v_ref, "x_new moves uphill: the step is x - lr * v_new (minus)."),
                d.Mistake(x - lr * v, "x_new uses the old velocity v; update v first, then step with v_new."),
                d.Mistake(x - lr * g, "x_new is a plain gradient step; the momentum step uses the velocity v_new."),
                d.Mistake(x - v_ref, "x_new ignores the learning rate: x_new = x - lr * v_new."),
            ],
            hint="x_new = x - lr * v_new, with the new velocity.",
        )


@check_momentum_step.wrong_answer(expect="uphill")
def _momentum_plus(x, v, g, lr, beta):
    """Adds the velocity."""
    v_new = beta * v + g
    return x + lr * v_new, v_new


@check_momentum_step.wrong_answer(expect="ignores beta")
def _momentum_no_decay(x, v, g, lr, beta):
    """Velocity never decays."""
    v_new = v + g
    return x - lr * v_new, v_new


@check_momentum_step.wrong_answer(expect="old velocity")
def _momentum_stale(x, v, g, lr, beta):
    """Steps with the velocity from before the update."""
    return x - lr * v, beta * v + g


@check_momentum_step.wrong_answer(expect="exponential-average form")
def _momentum_ema(x, v, g, lr, beta):
    """Uses v = beta v + (1 - beta) g."""
    v_new = beta * v + (1 - beta) * g
    return x - lr * v_new, v_new


@check_momentum_step.wrong_answer(expect="in place")
def _momentum_in_place(x, v, g, lr, beta):
    """Updates v and x in place."""
    v *= beta
    v += g
    x -= lr * v
    return x, v


@check_momentum_step.wrong_answer(expect="ignores the learning rate")
def _momentum_no_lr(x, v, g, lr, beta):
    """Steps by the whole velocity."""
    v_new = beta * v + g
    return x - v_new, v_new


@check_momentum_step.wrong_answer(expect="plain gradient step")
def _momentum_plain_step(x, v, g, lr, beta):
    """Updates the velocity but steps along the gradient."""
    return x - lr * g, beta * v + g


@check_momentum_step.wrong_answer(expect="contains the learning rate")
def _momentum_lr_in_velocity(x, v, g, lr, beta):
    """Folds lr into the velocity (v = beta v + lr g, x = x - v)."""
    v_new = beta * v + lr * g
    return x - v_new, v_new


@check_momentum_step.wrong_answer(expect="subtracts the gradient")
def _momentum_minus_gradient(x, v, g, lr, beta):
    """Velocity accumulates -g, and the step adds it."""
    v_new = beta * v - g
    return x + lr * v_new, v_new


@check_momentum_step.wrong_answer(expect="weights the old velocity by 1 - beta")
def _momentum_one_minus_beta(x, v, g, lr, beta):
    """Keeps (1 - beta) of the old velocity."""
    v_new = (1 - beta) * v + g
    return x - lr * v_new, v_new


# --- ch1.diverging_lr -----------------------------------------------------------------------
# f(x) = (5/2)(x - 1)^2 has f'' = 5: 1/f'' = 0.2 lands in one step, 2/f'' = 0.4 is the
# threshold. Of the four rates, 0.1 crawls, 0.3 oscillates and converges, 0.45 and 0.6 diverge.

DIVERGING_RATES = (0.1, 0.3, 0.45, 0.6)
_DIVERGING_CURVATURE = 5.0
DIVERGING = [r for r in DIVERGING_RATES if r > 2.0 / _DIVERGING_CURVATURE]


def _as_rates(answer):
    """The answer as a sorted 1-D float array, or (None, problem sentence)."""
    if isinstance(answer, set | frozenset):
        answer = sorted(answer, key=lambda v: float(v) if isinstance(v, int | float) else 0.0)
    arr, problem = d.as_numeric(answer, "diverging")
    if problem:
        return None, problem + " Give a list of learning rates, e.g. [0.1]."
    return arr, None


@exercise(
    "ch1.diverging_lr",
    points=1,
    title="Which learning rates diverge?",
    reference=DIVERGING,
)
def check_diverging_lr(answer, t):
    arr, problem = _as_rates(answer)
    if problem:
        t.fail(problem)
    if arr.ndim == 0:
        if d.close(arr, 2.0 / _DIVERGING_CURVATURE):
            t.fail(
                "diverging is the threshold itself, a single number. Compare each of the four "
                "learning rates with it and list those that diverge."
            )
        t.fail("diverging is a single number; give a list of the learning rates that diverge, e.g. [0.1].")
    if arr.ndim != 1:
        t.fail(f"diverging has the wrong shape {arr.shape}; give a flat list of learning rates, e.g. [0.1].")
    if not np.all(np.isfinite(arr)):
        t.fail("diverging contains NaN or inf; give a list of the learning rates that diverge.")
    if arr.size and np.all(arr == np.round(arr)) and np.all((arr >= 0) & (arr <= len(DIVERGING_RATES))):
        t.fail(
            "diverging holds whole numbers, which look like positions in the list; give the "
            "learning rates themselves (e.g. [0.1] if only 0.1 diverged)."
        )
    rates = np.array(DIVERGING_RATES)
    picked = set()
    for v in arr:
        hit = np.nonzero(np.isclose(rates, v, rtol=1e-9, atol=0))[0]
        if len(hit) == 0:
            t.fail(
                "diverging contains a number that is not one of the four learning rates; "
                "list only rates taken from the four given."
            )
        picked.add(int(hit[0]))
    if len(picked) != arr.size:
        t.fail("diverging lists a learning rate more than once; name each at most once.")
    right = {i for i, r in enumerate(DIVERGING_RATES) if r in DIVERGING}
    if picked == right:
        return
    hint = "one step multiplies x - 1 by (1 - alpha f''); a run diverges when |1 - alpha f''| > 1."
    if picked == set(range(len(DIVERGING_RATES))) - right:
        t.fail("you listed the ones that converge; the question asks for those that diverge.")
    if picked > right:
        if picked == set(range(len(DIVERGING_RATES))):
            t.fail(
                "you listed all four, but the smallest rates shrink the error at every step. "
                "Compute the threshold 2/f'' from the curvature f'' of this f.",
                hint=hint,
            )
        t.fail(
            "you counted a learning rate that oscillates as diverging: between 1/f'' and 2/f'' "
            "every overshoot is smaller than the last, so the run still converges.",
            hint=hint,
        )
    if not picked:
        t.fail(
            "you listed none, but some of the four diverge. The curvature is f'' (the second "
            "derivative), twice the coefficient of (x - 1)^2.",
            hint=hint,
        )
    if picked < right:
        t.fail("one of the four that you left out also diverges.", hint=hint)
    t.fail("some of the four learning rates are classified wrongly.", hint=hint)


check_diverging_lr.add_wrong_answer([0.3, 0.45, 0.6], "oscillates", "threshold 1/f'' instead of 2/f''")
check_diverging_lr.add_wrong_answer([0.1, 0.3, 0.45, 0.6], "all four", "every rate taken as diverging")
check_diverging_lr.add_wrong_answer([], "listed none", "the coefficient 5/2 taken as f''")
check_diverging_lr.add_wrong_answer([0.6], "also diverges", "only the largest rate")
check_diverging_lr.add_wrong_answer([0.1, 0.3], "ones that converge", "the converging rates")
check_diverging_lr.add_wrong_answer([2, 3], "positions", "positions instead of rates")
check_diverging_lr.add_wrong_answer(0.4, "threshold itself", "the threshold instead of a list")
check_diverging_lr.add_wrong_answer([0.4, 0.45, 0.6], "not one of the four", "a number not offered")
check_diverging_lr.add_wrong_answer({0.45, 0.6, 0.6000000000001}, "more than once", "a rate twice")


# --- ch1.adam_first_step --------------------------------------------------------------------
# Adam's first step: m_1 = (1 - b1) g and v_1 = (1 - b2) g^2, so after the bias correction
# m_hat = g and v_hat = g^2, and |theta_1 - theta_0| = alpha |g| / (|g| + eps), about alpha.

_ADAM = {"alpha": 0.02, "grad": -40.0, "eps": 1e-8, "beta1": 0.9, "beta2": 0.999}


def _adam_step(m_factor, v_factor, power=0.5):
    a, g, eps = _ADAM["alpha"], abs(_ADAM["grad"]), _ADAM["eps"]
    return a * m_factor * g / ((v_factor * g * g) ** power + eps)


ADAM_FIRST_STEP = _adam_step(1.0, 1.0)


@exercise(
    "ch1.adam_first_step",
    points=1,
    title="The size of Adam's first step",
    reference=ADAM_FIRST_STEP,
)
def check_adam_first_step(answer, t):
    b1, b2, g = _ADAM["beta1"], _ADAM["beta2"], abs(_ADAM["grad"])
    a = _ADAM["alpha"]
    t.compare(
        answer,
        ADAM_FIRST_STEP,
        "first_step",
        mistakes=[
            d.Mistake(
                _adam_step(1 - b1, 1 - b2),
                "first_step leaves out the bias correction: divide m by 1 - beta1^t and v by "
                "1 - beta2^t (t = 1 for the first step) before using them.",
            ),
            d.Mistake(
                _adam_step(1.0, 1 - b2),
                "first_step corrects m but not v: v also starts at zero and needs its division "
                "by 1 - beta2^t.",
            ),
            d.Mistake(
                _adam_step(1 - b1, 1.0),
                "first_step corrects v but not m: m also starts at zero and needs its division "
                "by 1 - beta1^t.",
            ),
            d.Mistake(
                a * g,
                "first_step is a plain gradient step, alpha times the gradient; Adam divides by "
                "the root of the (corrected) second moment.",
            ),
            d.Mistake(
                -ADAM_FIRST_STEP,
                "first_step is negative; it asks for the size of the step, which is never negative.",
            ),
            d.Mistake(
                _adam_step(1.0, 1.0, power=1.0),
                "first_step divides by v_hat itself; Adam divides by its square root.",
            ),
            d.Mistake(
                _adam_step(b1 / (1 - b1), 1.0),
                "first_step swaps beta1 and 1 - beta1 in the first moment: the new gradient gets "
                "the weight 1 - beta1, the old average the weight beta1.",
            ),
            d.Mistake(
                a * g / (np.sqrt(g) + _ADAM["eps"]),
                "first_step averages the gradient's size in v instead of its square: v collects "
                "squared gradients.",
            ),
        ],
        hint="after the bias correction, the first m_hat and v_hat follow from the gradient alone.",
    )


for _value, _expect, _what in [
    (_adam_step(0.1, 0.001), "bias correction", "no bias correction"),
    (_adam_step(1.0, 0.001), "corrects m but not v", "only m corrected"),
    (_adam_step(0.1, 1.0), "corrects v but not m", "only v corrected"),
    (0.8, "plain gradient step", "alpha times the gradient"),
    (-0.02, "never negative", "the signed step"),
    (0.0005, "square root", "no square root"),
    (0.18, "swaps beta1", "beta1 and 1 - beta1 swapped"),
    (_ADAM["alpha"] * 40 / np.sqrt(40), "instead of its square", "|g| averaged instead of g^2"),
]:
    check_adam_first_step.add_wrong_answer(_value, _expect, _what)


# --- ch1.momentum_terminal_step -------------------------------------------------------------
# Under a constant gradient grad, m_t = grad (1 + beta + ... + beta^(t-1)) -> grad / (1 - beta),
# so each step approaches alpha grad / (1 - beta): the effective learning rate alpha / (1 - beta).

_TERMINAL = {"alpha": 0.01, "beta": 0.95, "grad": 3.0}
TERMINAL_STEP = _TERMINAL["alpha"] * _TERMINAL["grad"] / (1 - _TERMINAL["beta"])


@exercise(
    "ch1.momentum_terminal_step",
    points=1,
    title="Momentum's step on a constant slope",
    reference=TERMINAL_STEP,
)
def check_momentum_terminal_step(answer, t):
    a, beta, g = _TERMINAL["alpha"], _TERMINAL["beta"], _TERMINAL["grad"]
    t.compare(
        answer,
        TERMINAL_STEP,
        "terminal_step",
        mistakes=[
            d.Mistake(
                a * g,
                "terminal_step is a single gradient step alpha g: that is the first step (or the "
                "averaging form of momentum). With m = beta m + grad the velocity keeps growing.",
            ),
            d.Mistake(a / (1 - beta), "terminal_step leaves out the gradient: the step is the learning "
                      "rate times the velocity, and the velocity is built from gradients."),
            d.Mistake(
                a * g / beta,
                "terminal_step divides by beta; the velocity is a geometric sum 1 + beta + beta^2 + ... "
                "of the gradient.",
            ),
            d.Mistake(
                a * g * (1 - beta),
                "terminal_step multiplies by 1 - beta; the geometric sum 1 + beta + beta^2 + ... "
                "divides by it.",
            ),
            d.Mistake(
                a * g / (1 + beta),
                "terminal_step uses 1/(1 + beta), the sum of alternating signs; on a constant slope "
                "every term of the velocity has the same sign.",
            ),
            d.Mistake(
                a * g * beta / (1 - beta),
                "terminal_step leaves out the newest gradient: the velocity's sum starts with "
                "beta^0 = 1.",
            ),
            d.Mistake(
                a * g / (1 - beta) ** 2,
                "terminal_step divides by (1 - beta) twice; the velocity's geometric sum divides once.",
            ),
            d.Mistake(
                g / (1 - beta),
                "terminal_step is the velocity m, not the step; the step is the learning rate times m.",
            ),
            d.Mistake(-TERMINAL_STEP, "terminal_step is negative; a step size is never negative."),
        ],
        hint="write the velocity m after 1, 2, 3 steps from m = 0 and sum the series.",
    )


for _value, _expect, _what in [
    (0.03, "single gradient step", "no momentum"),
    (0.2, "leaves out the gradient", "alpha / (1 - beta) alone"),
    (0.01 * 3 / 0.95, "divides by beta", "1/beta"),
    (0.01 * 3 * 0.05, "multiplies by 1 - beta", "times (1 - beta)"),
    (0.01 * 3 / 1.95, "alternating", "1/(1 + beta)"),
    (0.01 * 3 * 0.95 / 0.05, "newest gradient", "the series without its first term"),
    (0.01 * 3 / 0.05**2, "twice", "(1 - beta) squared"),
    (3 / 0.05, "not the step", "the velocity"),
    (-0.6, "never negative", "the signed step"),
]:
    check_momentum_terminal_step.add_wrong_answer(_value, _expect, _what)
