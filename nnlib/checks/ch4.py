r"""Checks for Chapter 4, batch backpropagation.

One convention everywhere: the loss is the batch mean, so its gradient
:math:`\Delta_D = (\hat Y - Y)/B` carries the ``1/B`` once, and every layer's backward
only sums over the batch. A second ``1/B`` inside a layer is the "extra 1/B" mistake.

``ch4.linear_backward``
    ``linear_backward(dZ, X, W) -> (dX, dW, db)`` for :math:`Z = X W^\top + b` on a batch:
    ``X`` ``(B, n_in)``, ``W`` ``(n_out, n_in)``, ``dZ`` ``(B, n_out)`` the gradient
    :math:`\partial L/\partial Z` (already with the ``1/B``). :math:`dW = dZ^\top X`,
    :math:`db` = the sum of the rows of ``dZ``, :math:`dX = dZ\,W`.

``ch4.softmax_ce_grad``
    ``softmax_ce_grad(Z, y) -> dZ``: gradient of the batch-mean cross-entropy of
    ``softmax(Z)`` row by row, with integer labels ``y`` ``(B,)``:
    :math:`(\hat Y - Y)/B`, computed stably.

``ch4.train_step``
    ``train_step(model, X, y, lr) -> loss``: one step of mini-batch SGD with nnlib parts
    (forward, ``softmax_cross_entropy``, ``zero_grad``, backward, in-place update);
    returns the batch loss before the update. The check reads the parameters from the
    model's layers (what the next forward pass uses), not from the dict ``model.params``.

``ch4.cache_bytes``
    ``cache_bytes(sizes, B, itemsize=8) -> int``: the bytes ``model.cache_nbytes()``
    reports after one forward pass of a batch of ``B`` through ``mlp(sizes)``.

``ch4.batch_backward`` (capstone, stage 3)
    ``batch_backward(params, cache, y) -> grads``: BP1-BP4 for a batch and any depth ``D``.
    ``params`` = ``{"W1": (n_1, n_0), "b1": (n_1,), ..., "WD", "bD"}``; ``cache`` =
    ``{"A0": X, "Z1", "A1", ..., "Z<D>", "Y_hat"}`` as :func:`capstone_forward` builds it
    (rows are samples, sigmoid hidden layers, softmax output); ``y`` integer labels
    ``(B,)``; ``grads`` has the keys and shapes of ``params``.

``ch4.train`` (capstone, stage 4)
    ``train(params, X, y, lr, epochs, batch_size, rng) -> losses``: mini-batch SGD with
    the learner's own forward pass, ``batch_backward`` and in-place update, batches from
    ``nnlib.data.minibatches(X, y, batch_size, rng)``; returns the batch losses (before
    each update).
"""

from __future__ import annotations

from collections.abc import MutableMapping

import numpy as np

from ..activations import softmax
from ..layers import Sequential, mlp
from ..losses import softmax_cross_entropy
from . import diagnose as d
from ._registry import exercise
from ._tester import LearnerError

# --- ch4.linear_backward ------------------------------------------------------------------


def linear_backward(dZ, X, W):
    """Reference: backward of Z = X W^T + b; dZ = dL/dZ already carries the 1/B of the mean."""
    dW = dZ.T @ X
    db = dZ.sum(axis=0)
    dX = dZ @ W
    return dX, dW, db


# (B, n_in, n_out): distinct primes within a case, so that a transposed answer has the
# wrong shape and no two catalogued mistakes give the same numbers; B = 1 last (there a
# sum and a mean over the batch coincide).
_LINEAR_SIZES = [(5, 3, 7), (7, 2, 3), (3, 7, 5), (11, 5, 2), (1, 3, 2)]


def _linear_inputs(rng, i):
    B, n_in, n_out = _LINEAR_SIZES[i]
    # dZ is dL/dZ of a batch-mean loss, so it carries a 1/B
    return {"dZ": rng.normal(size=(B, n_out)) / B, "X": rng.normal(size=(B, n_in)), "W": rng.normal(size=(n_out, n_in))}


_SHAPES = "dZ is (B, n_out), X is (B, n_in) and W is (n_out, n_in)"


def _call_with_shape_diagnosis(t, fn, *args):
    """Run the learner's code; a matrix product whose shapes do not fit gets a named diagnosis."""
    try:
        return t.call(fn, *args)
    except LearnerError as err:
        text = str(err).split("your code raised", 1)[-1].strip()
        if "matmul" in text or "shapes" in text or "aligned" in text or "broadcast" in text:
            t.fail(
                "a matrix product failed because the shapes do not fit. "
                f"Write the shape next to each factor: {_SHAPES}. So dW = dZ^T X gives (n_out, n_in) "
                "and dX = dZ W gives (B, n_in); dZ W^T only multiplies when n_out = n_in. "
                f"(Python said: {text})"
            )
        raise


_EXTRA_1_OVER_B = (
    "dZ already carries the 1/B of the batch-mean loss (it entered once, in the loss gradient); "
    "a layer only sums over the batch."
)
_SECOND = f"a second 1/B inside the layer (extra 1/B). {_EXTRA_1_OVER_B}"


@exercise("ch4.linear_backward", points=2, title="Batched backward of a linear layer", reference=linear_backward)
def check_linear_backward(answer, t):
    fn = t.require_callable()
    for case in t.cases(_linear_inputs, n=len(_LINEAR_SIZES)):
        dZ, X, W = case.args
        B = X.shape[0]
        dX_ref, dW_ref, db_ref = t.reference(dZ, X, W)
        dX, dW, db = t.unpack(_call_with_shape_diagnosis(t, fn, dZ, X, W), ("dX", "dW", "db"))
        plural = B > 1
        t.compare(
            dW,
            dW_ref,
            "dW",
            batch_size=B,
            mistakes=[
                *([d.Mistake(dZ.T @ X / B, f"dW is B times too small: {_SECOND}")] if plural else []),
                d.Mistake(
                    X.T @ dZ,
                    "dW is transposed: X^T dZ has shape (n_in, n_out); a gradient has its parameter's "
                    "shape, so dW = dZ^T X, shape (n_out, n_in) like W.",
                ),
                d.Mistake(-(dZ.T @ X), "dW has the wrong sign: dZ is already dL/dZ, nothing is subtracted."),
            ],
            shape_hint="dW must have the shape of W, (n_out, n_in).",
            hint="dW is the sum over the samples of the outer products of dZ's row i and X's row i.",
        )
        t.compare(
            db,
            db_ref,
            "db",
            batch_size=B,
            mistakes=[
                *(
                    [
                        d.Mistake(
                            dZ.mean(axis=0),
                            "db is the mean of dZ's rows: that divides by B a second time (extra 1/B). The bias "
                            f"was copied to every row, so its gradient is the sum of the rows. {_EXTRA_1_OVER_B}",
                        ),
                        d.Mistake(
                            dZ[0],
                            "db is only the first row of dZ, the first sample's contribution: the bias was "
                            "copied to every row, so add up all B rows.",
                        ),
                    ]
                    if plural
                    else []
                ),
                d.wrong_axis(
                    dZ.sum(axis=1),
                    "db",
                    "It has one entry per sample; add up over the samples (axis=0) to get one entry per output.",
                ),
                d.Mistake(
                    float(dZ.sum()),
                    "db is a single number, the sum of all entries of dZ; it needs one entry per output "
                    "unit: add up over the samples only (axis=0).",
                ),
            ],
            shape_hint="db must have the shape of b, (n_out,).",
            hint="the bias was copied to every row in the forward pass, so backward adds up the rows of dZ.",
        )
        t.compare(
            dX,
            dX_ref,
            "dX",
            batch_size=B,
            mistakes=[
                *([d.Mistake(dZ @ W / B, f"dX is B times too small: {_SECOND}")] if plural else []),
                d.Mistake(
                    (dZ @ W).sum(axis=0),
                    "dX is summed over the batch; it needs one row per sample: x_i affects only "
                    "its own loss, so there is no sum over samples in dX.",
                ),
                d.Mistake(
                    W.T @ dZ.T,
                    "dX is transposed: it has one column per sample. Like X it needs one row per sample, (B, n_in).",
                ),
            ],
            shape_hint="dX must have the shape of X, (B, n_in): one row per sample.",
            hint="row i of dX is row i of dZ times W: sample i's error for the layer below.",
        )


@check_linear_backward.wrong_answer(expect="extra 1/B")
def _lb_extra_dw(dZ, X, W):
    """Divides dW by B again (the old two-convention mistake)."""
    B = X.shape[0]
    return dZ @ W, dZ.T @ X / B, dZ.sum(axis=0)


@check_linear_backward.wrong_answer(expect="dX is B times too small")
def _lb_extra_mean_dx(dZ, X, W):
    """Divides dX by B."""
    B = X.shape[0]
    return dZ @ W / B, dZ.T @ X, dZ.sum(axis=0)


@check_linear_backward.wrong_answer(expect="dW is transposed")
def _lb_transposed(dZ, X, W):
    """dW = X^T dZ, the transpose."""
    return dZ @ W, X.T @ dZ, dZ.sum(axis=0)


@check_linear_backward.wrong_answer(expect="mean of dZ's rows")
def _lb_db_mean(dZ, X, W):
    """db averaged over the batch instead of summed."""
    return dZ @ W, dZ.T @ X, dZ.mean(axis=0)


@check_linear_backward.wrong_answer(expect="first sample's contribution")
def _lb_db_first_row(dZ, X, W):
    """db from one row only."""
    return dZ @ W, dZ.T @ X, dZ[0]


@check_linear_backward.wrong_answer(expect="wrong axis")
def _lb_axis(dZ, X, W):
    """db summed over the outputs (axis=1) instead of the samples."""
    return dZ @ W, dZ.T @ X, dZ.sum(axis=1)


@check_linear_backward.wrong_answer(expect="is a single number")
def _lb_db_scalar(dZ, X, W):
    """db summed over everything."""
    return dZ @ W, dZ.T @ X, dZ.sum()


@check_linear_backward.wrong_answer(expect="shapes do not fit")
def _lb_dx_wt(dZ, X, W):
    """dX = dZ W^T, which does not multiply."""
    return dZ @ W.T, dZ.T @ X, dZ.sum(axis=0)


@check_linear_backward.wrong_answer(expect="no sum over samples in dX")
def _lb_dx_summed(dZ, X, W):
    """dX summed over the batch."""
    return (dZ @ W).sum(axis=0), dZ.T @ X, dZ.sum(axis=0)


@check_linear_backward.wrong_answer(expect="dX is transposed")
def _lb_dx_transposed(dZ, X, W):
    """dX with one column per sample."""
    return W.T @ dZ.T, dZ.T @ X, dZ.sum(axis=0)


@check_linear_backward.wrong_answer(expect="dW has the wrong sign")
def _lb_dw_sign(dZ, X, W):
    """dW with a minus sign."""
    return dZ @ W, -(dZ.T @ X), dZ.sum(axis=0)


# --- ch4.softmax_ce_grad -----------------------------------------------------------------


def softmax_ce_grad(Z, y):
    """Reference: gradient of the batch-mean cross-entropy of softmax(Z) w.r.t. the logits Z."""
    B = Z.shape[0]
    shifted = Z - Z.max(axis=1, keepdims=True)  # stability: exp never overflows
    Y_hat = np.exp(shifted)
    Y_hat /= Y_hat.sum(axis=1, keepdims=True)
    Y_hat[np.arange(B), y] -= 1.0
    return Y_hat / B


# (B, K, scale of the logits); B and K distinct primes (B = 1 apart); the last case has
# logits in the hundreds.
_SOFTMAX_SIZES = [(5, 3, 1.0), (7, 5, 2.0), (3, 2, 1.0), (1, 4, 1.0), (11, 3, 400.0)]


def _softmax_inputs(rng, i):
    B, K, scale = _SOFTMAX_SIZES[i]
    Z = scale * rng.normal(size=(B, K))
    if scale > 100:
        Z += 600.0  # every exp(z) would overflow without the shift
    return {"Z": Z, "y": rng.integers(0, K, size=B)}


def _column_targets(y, K):
    """What ``P[:, y] -= 1`` subtracts: 1 in every row of each column that is some label."""
    M = np.zeros((len(y), K))
    M[:, np.unique(y)] = 1.0
    return M


def _one_hot(y, K):
    Y = np.zeros((len(y), K))
    Y[np.arange(len(y)), y] = 1.0
    return Y


@exercise("ch4.softmax_ce_grad", points=2, title="Batched softmax cross-entropy gradient", reference=softmax_ce_grad)
def check_softmax_ce_grad(answer, t):
    fn = t.require_callable()
    for case in t.cases(_softmax_inputs, n=len(_SOFTMAX_SIZES)):
        Z, y = case.args
        B, K = Z.shape
        ref = t.reference(Z, y)
        got = t.call(fn, Z, y)
        large = np.abs(Z).max() > 500
        g, _ = d.as_numeric(got, "dZ")
        if large and g is not None and g.shape == ref.shape and not np.all(np.isfinite(g)):
            t.fail(
                "dZ contains NaN or inf for large logits: exp of a number above about 709 overflows. "
                "Subtract each row's maximum before exp (softmax(z) = softmax(z - max z)); the result is unchanged."
            )
        Y = _one_hot(y, K)
        Y_hat = softmax(Z - Z.max(axis=1, keepdims=True), axis=1)
        with np.errstate(all="ignore"):
            col = np.exp(Z - Z.max(axis=0, keepdims=True))
            col_softmax = col / col.sum(axis=0, keepdims=True)
        plural = B > 1
        t.compare(
            got,
            ref,
            "dZ",
            batch_size=B,
            mistakes=[
                d.Mistake(
                    (Y - Y_hat) / B,
                    "dZ has the wrong sign: the gradient is prediction minus target, (y_hat - y)/B. "
                    "y - y_hat is the negative gradient, the direction a step moves in.",
                ),
                *([d.sum_instead_of_mean(Y_hat - Y, "dZ")] if plural else []),
                d.Mistake(
                    Y_hat / B,
                    "dZ is softmax(Z)/B only: the one-hot targets were not subtracted (y_hat - y).",
                ),
                *(
                    [
                        d.wrong_axis(
                            (col_softmax - Y) / B,
                            "dZ",
                            "The softmax must normalise each row (one sample, axis=1), not each column.",
                        )
                    ]
                    if plural
                    else []
                ),
                d.Mistake(
                    (Z - Y) / B,
                    "dZ uses the logits Z where the probabilities belong: apply softmax first, then subtract y.",
                ),
                *(
                    [
                        d.Mistake(
                            (Y_hat - Y) / B**2,
                            "dZ divides by B twice (1/B twice): the mean over the batch gives one 1/B.",
                        ),
                        d.Mistake(
                            (Y_hat - _column_targets(y, K)) / B,
                            "the 1 was subtracted in whole columns (Y_hat[:, y] -= 1): each row needs it "
                            "only at its own label, Y_hat[row, y[row]] for every row.",
                        ),
                    ]
                    if plural
                    else []
                ),
                d.Mistake(
                    (np.log(np.clip(Y_hat, 1e-300, None)) - Y) / B,
                    "dZ uses log-probabilities where the probabilities belong: subtract y from softmax(Z) "
                    "itself, not from its log.",
                ),
                d.Mistake(
                    (1.0 / (1.0 + np.exp(-np.clip(Z, -700, 700))) - Y) / B,
                    "dZ uses the sigmoid of each logit: a softmax normalises each row so that it sums to 1.",
                ),
            ],
            shape_hint="dZ has the shape of Z, (B, K).",
            hint="dZ = (softmax(Z) - Y) / B with Y the one-hot rows of y and softmax over each row.",
        )


@check_softmax_ce_grad.wrong_answer(expect="wrong sign")
def _sm_sign(Z, y):
    """Target minus prediction."""
    return -softmax_ce_grad(Z, y)


@check_softmax_ce_grad.wrong_answer(expect="1/B factor of the mean is missing")
def _sm_sum(Z, y):
    """No 1/B."""
    return softmax_ce_grad(Z, y) * Z.shape[0]


@check_softmax_ce_grad.wrong_answer(expect="not subtracted")
def _sm_no_target(Z, y):
    """softmax(Z)/B."""
    return softmax(Z, axis=1) / Z.shape[0]


@check_softmax_ce_grad.wrong_answer(expect="wrong axis")
def _sm_axis(Z, y):
    """Softmax over the columns."""
    e = np.exp(Z - Z.max(axis=0, keepdims=True))
    return (e / e.sum(axis=0, keepdims=True) - _one_hot(y, Z.shape[1])) / Z.shape[0]


@check_softmax_ce_grad.wrong_answer(expect="overflows")
def _sm_unstable(Z, y):
    """exp without subtracting the maximum."""
    with np.errstate(all="ignore"):
        e = np.exp(Z)
        return (e / e.sum(axis=1, keepdims=True) - _one_hot(y, Z.shape[1])) / Z.shape[0]


@check_softmax_ce_grad.wrong_answer(expect="1/B twice")
def _sm_double(Z, y):
    """Divides by B twice."""
    return softmax_ce_grad(Z, y) / Z.shape[0]


@check_softmax_ce_grad.wrong_answer(expect="whole columns")
def _sm_columns(Z, y):
    """P[:, y] -= 1 instead of P[rows, y] -= 1."""
    P = softmax(Z - Z.max(axis=1, keepdims=True), axis=1)
    P[:, y] -= 1.0
    return P / Z.shape[0]


@check_softmax_ce_grad.wrong_answer(expect="log-probabilities")
def _sm_log(Z, y):
    """log softmax minus the targets."""
    P = softmax(Z - Z.max(axis=1, keepdims=True), axis=1)
    return (np.log(P) - _one_hot(y, Z.shape[1])) / Z.shape[0]


@check_softmax_ce_grad.wrong_answer(expect="sigmoid of each logit")
def _sm_sigmoid(Z, y):
    """An element-wise sigmoid in place of the softmax."""
    return (1.0 / (1.0 + np.exp(-np.clip(Z, -700, 700))) - _one_hot(y, Z.shape[1])) / Z.shape[0]


# --- ch4.train_step ----------------------------------------------------------------------


def train_step(model, X, y, lr):
    """Reference: one mini-batch SGD step; returns the loss of the batch before the update."""
    scores = model.forward(X)
    loss, dscores = softmax_cross_entropy(scores, y)
    model.zero_grad()
    model.backward(dscores)
    for name, p in model.params.items():
        p -= lr * model.grads[name]  # in place: the model's own arrays change
    return loss


class _LoggedModel(Sequential):
    """A Sequential that records the calls made on it (``log``), so the check can see their order.

    ``t.call`` passes a model to learner code as it is; a deep copy of this model is the
    model itself as well, so whatever copying happens, the check inspects the very object
    the learner's code changed.
    """

    def __init__(self, layers):
        super().__init__(layers)
        self.log: list[str] = []

    def __deepcopy__(self, memo):
        return self

    def forward(self, x):
        self.log.append("forward")
        return super().forward(x)

    def backward(self, dout):
        self.log.append("backward")
        return super().backward(dout)

    def zero_grad(self):
        self.log.append("zero_grad")
        super().zero_grad()


_STEP_SETUPS = [([5, 7, 3], 6, 0.1), ([4, 6, 5, 2], 9, 0.5), ([3, 8, 4], 1, 0.2)]


def _step_inputs(rng, i):
    sizes, B, lr = _STEP_SETUPS[i]
    return {
        "sizes": sizes,
        "seed": int(rng.integers(1 << 30)),
        "X": rng.normal(size=(B, sizes[0])),
        "y": rng.integers(0, sizes[-1], size=B),
        "lr": lr,
    }


def _layer_arrays(model):
    """``{"<index>.<name>": array}`` read from the layers themselves (what forward uses)."""
    return {f"{i}.{k}": v for i, layer in enumerate(model.layers) for k, v in layer.params.items()}


def _fresh_model(sizes, seed, X_stale, y_stale, cls=Sequential):
    """mlp(sizes) whose grads already hold the gradients of another batch (a previous step)."""
    model = cls(mlp(sizes, activation="tanh", rng=seed).layers)
    for layer in model.layers:
        for p in layer.params.values():
            p += 0.1  # non-zero biases too
    _, dscores = softmax_cross_entropy(model.forward(X_stale), y_stale)
    model.backward(dscores)
    for layer in model.layers:
        layer.cache = None
    if cls is _LoggedModel:
        model.log.clear()
    return model


@exercise("ch4.train_step", points=2, title="One training step from nnlib parts", reference=train_step)
def check_train_step(answer, t):
    fn = t.require_callable()
    for case in t.cases(_step_inputs, n=len(_STEP_SETUPS)):
        sizes, seed, X, y, lr = case.args
        stale_rng = np.random.default_rng(seed + 1)
        X_stale = stale_rng.normal(size=X.shape)
        y_stale = stale_rng.integers(0, sizes[-1], size=len(y))
        ref_model = _fresh_model(sizes, seed, X_stale, y_stale)
        before = {k: v.copy() for k, v in ref_model.params.items()}
        stale = {k: v.copy() for k, v in ref_model.grads.items()}
        loss_ref = t.exercise.reference(ref_model, X.copy(), y.copy(), lr)
        fresh = {k: v.copy() for k, v in ref_model.grads.items()}

        model = _fresh_model(sizes, seed, X_stale, y_stale, cls=_LoggedModel)
        loss = t.call(fn, model, X, y, lr)
        log = model.log
        # read the parameters from the layers, which forward uses, not from the dict model.params
        got = np.concatenate([v.ravel() for v in _layer_arrays(model).values()])
        ref = np.concatenate([v.ravel() for v in _layer_arrays(ref_model).values()])
        start = np.concatenate([v.ravel() for v in before.values()])
        g_stale = np.concatenate([v.ravel() for v in stale.values()])
        g_fresh = np.concatenate([v.ravel() for v in fresh.values()])

        if "backward" not in log:
            t.fail("model.backward was never called: without it the gradients are not computed for this batch.")
        if "forward" not in log or log.index("forward") > log.index("backward"):
            t.fail("model.backward ran before model.forward: backward reads what forward stored, so forward first.")
        if np.allclose(got, start, rtol=0, atol=1e-15) and "zero_grad" in log and log.index("zero_grad") > log.index(
            "backward"
        ):
            t.fail(
                "zero_grad() was called after backward, so it erased the gradients before the update; "
                "call it before backward."
            )
        layers_now = _layer_arrays(model)
        rebound = [k for k in layers_now if k in model.params and model.params[k] is not layers_now[k]]
        if rebound and np.allclose(got, start, rtol=0, atol=1e-15):
            t.fail(
                "model.params[name] = ... replaced the entries of the dict model.params with new arrays, "
                "but the layers still hold their old arrays, so the next forward pass is unchanged. "
                "Change the arrays themselves, in place (p -= lr * model.grads[name])."
            )
        t.compare(
            got,
            ref,
            "the updated parameters",
            mistakes=[
                d.Mistake(
                    start,
                    "the parameters did not change. Update the model's arrays in place "
                    "(p -= lr * model.grads[name], or an optimiser's step); "
                    "p = p - lr * model.grads[name] only rebinds a local name.",
                ),
                d.Mistake(
                    start - lr * g_stale,
                    "the update used the gradients left over from the previous batch: it ran before "
                    "backward. The order is forward, loss, zero_grad, backward, then update.",
                ),
                d.Mistake(start + lr * g_fresh, "the parameters moved uphill: subtract lr * gradient."),
                d.Mistake(
                    start - g_fresh, "the learning rate lr is not used: the step is p -= lr * model.grads[name]."
                ),
                d.Mistake(
                    start - 2 * lr * g_fresh,
                    "the update was applied twice (for example both by hand and with an optimiser).",
                ),
            ],
            hint="forward, softmax_cross_entropy, zero_grad, backward, then p -= lr * model.grads[name] "
            "for every parameter.",
        )
        with np.errstate(all="ignore"):
            next_got = Sequential(model.layers).forward(X)
            next_ref = Sequential(ref_model.layers).forward(X)
        t.compare(
            next_got,
            next_ref,
            "the scores of the next forward pass",
            hint="the next forward pass must use the updated weights: update the layers' arrays in place.",
        )
        if "zero_grad" not in log:
            t.fail(
                "the parameters are right, but model.zero_grad() was never called. In nnlib backward "
                "overwrites the gradients, so it makes no difference here; in libraries whose backward "
                "adds to the stored gradients (PyTorch) every step would also carry the previous "
                "batch's gradient. Call zero_grad() before backward."
            )
        t.compare(
            loss,
            loss_ref,
            "the returned loss",
            mistakes=[
                d.Mistake(
                    softmax_cross_entropy(ref_model.forward(X), y)[0],
                    "the returned loss was computed after the update; return the loss of the forward "
                    "pass that the gradients came from.",
                )
            ],
            hint="return the loss that softmax_cross_entropy gave for this batch.",
        )


@check_train_step.wrong_answer(expect="previous batch")
def _ts_update_first(model, X, y, lr):
    """Updates with the stored gradients, then runs backward."""
    for name, p in model.params.items():
        p -= lr * model.grads[name]
    loss, dscores = softmax_cross_entropy(model.forward(X), y)
    model.zero_grad()
    model.backward(dscores)
    return loss


@check_train_step.wrong_answer(expect="zero_grad() was never called")
def _ts_no_zero_grad(model, X, y, lr):
    """Forgets zero_grad."""
    loss, dscores = softmax_cross_entropy(model.forward(X), y)
    model.backward(dscores)
    for name, p in model.params.items():
        p -= lr * model.grads[name]
    return loss


@check_train_step.wrong_answer(expect="did not change")
def _ts_rebind(model, X, y, lr):
    """p = p - lr * g, which changes nothing."""
    loss, dscores = softmax_cross_entropy(model.forward(X), y)
    model.zero_grad()
    model.backward(dscores)
    for name, p in model.params.items():
        p = p - lr * model.grads[name]  # the mistake being catalogued: rebinds p, the model is unchanged
    return loss


@check_train_step.wrong_answer(expect="uphill")
def _ts_uphill(model, X, y, lr):
    """Adds the gradient."""
    loss, dscores = softmax_cross_entropy(model.forward(X), y)
    model.zero_grad()
    model.backward(dscores)
    for name, p in model.params.items():
        p += lr * model.grads[name]
    return loss


@check_train_step.wrong_answer(expect="erased the gradients")
def _ts_zero_after(model, X, y, lr):
    """zero_grad between backward and the update."""
    loss, dscores = softmax_cross_entropy(model.forward(X), y)
    model.backward(dscores)
    model.zero_grad()
    for name, p in model.params.items():
        p -= lr * model.grads[name]
    return loss


@check_train_step.wrong_answer(expect="after the update")
def _ts_loss_after(model, X, y, lr):
    """Returns the loss recomputed after the step."""
    _, dscores = softmax_cross_entropy(model.forward(X), y)
    model.zero_grad()
    model.backward(dscores)
    for name, p in model.params.items():
        p -= lr * model.grads[name]
    return softmax_cross_entropy(model.forward(X), y)[0]


@check_train_step.wrong_answer(expect="replaced the entries of the dict")
def _ts_dict_rebind(model, X, y, lr):
    """model.params[n] = model.params[n] - lr * g: the dict changes, the layers do not."""
    loss, dscores = softmax_cross_entropy(model.forward(X), y)
    model.zero_grad()
    model.backward(dscores)
    for name in model.params:
        model.params[name] = model.params[name] - lr * model.grads[name]
    return loss


@check_train_step.wrong_answer(expect="learning rate lr is not used")
def _ts_no_lr(model, X, y, lr):
    """p -= g, without the learning rate."""
    loss, dscores = softmax_cross_entropy(model.forward(X), y)
    model.zero_grad()
    model.backward(dscores)
    for name, p in model.params.items():
        p -= model.grads[name]
    return loss


@check_train_step.wrong_answer(expect="applied twice")
def _ts_twice(model, X, y, lr):
    """The update written twice."""
    loss, dscores = softmax_cross_entropy(model.forward(X), y)
    model.zero_grad()
    model.backward(dscores)
    for name, p in model.params.items():
        p -= lr * model.grads[name]
        p -= lr * model.grads[name]
    return loss


# --- ch4.cache_bytes ---------------------------------------------------------------------


def cache_bytes(sizes, B, itemsize=8):
    """Reference: bytes of mlp(sizes).cache_nbytes() after a forward pass on a batch of B."""
    linear_inputs = sum(sizes[:-1])  # each Linear keeps its input (B, n_in)
    activations = 2 * sum(sizes[1:-1])  # each hidden activation keeps z and a (B, n)
    return itemsize * B * (linear_inputs + activations)


_CACHE_SETUPS = [([64, 128, 64, 10], 64, 8), ([11, 23, 5], 3, 8), ([784, 256, 256, 256, 10], 128, 4), ([7, 3], 5, 8)]


def _cache_inputs(rng, i):
    sizes, B, itemsize = _CACHE_SETUPS[i]
    return {"sizes": list(sizes), "B": B, "itemsize": itemsize}


@exercise("ch4.cache_bytes", points=1, title="Predict the memory of the forward cache", reference=cache_bytes)
def check_cache_bytes(answer, t):
    fn = t.require_callable()
    for case in t.cases(_cache_inputs, n=len(_CACHE_SETUPS)):
        sizes, B, itemsize = case.args
        ref = t.reference(sizes, B, itemsize)
        got = t.call(fn, sizes, B, itemsize)
        n_params = sum(n_out * (n_in + 1) for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True))
        hidden = sum(sizes[1:-1])
        mistakes = [
            d.Mistake(ref / itemsize, "you counted numbers, not bytes: multiply by itemsize (8 for float64)."),
            d.Mistake(ref / B, "the batch size is missing: every cached array has one row per sample."),
            d.Mistake(
                ref + itemsize * B * sizes[-1],
                "a Linear layer keeps its input, not its output: the logits are not cached.",
            ),
            d.Mistake(ref + itemsize * n_params, "the cache holds activations only; the weights are not part of it."),
            d.Mistake(
                itemsize * B * (sum(sizes[1:]) + 2 * hidden),
                "each Linear was counted with its output width; a Linear keeps its input, (B, n_in).",
            ),
        ]
        if itemsize != 8:
            mistakes.append(
                d.Mistake(ref * 8 / itemsize, "itemsize is not used: 8 bytes per number holds only for float64.")
            )
        mistakes.append(
            d.Mistake(
                ref + 2 * itemsize * B * sizes[-1],
                "the output layer has no activation layer in mlp (softmax is part of the loss), "
                "so the logits are not kept twice as z and a.",
            )
        )
        if hidden:
            mistakes += [
                d.Mistake(
                    itemsize * B * sum(sizes[:-1]),
                    "only the Linear layers' inputs are counted; every hidden activation also keeps "
                    "its input z and its output a.",
                ),
                d.Mistake(
                    ref - itemsize * B * hidden,
                    "each hidden activation keeps two arrays, z and a (and the next Linear keeps a again); "
                    "you counted one.",
                ),
            ]
        t.compare(
            got,
            ref,
            "the number of bytes",
            mistakes=mistakes,
            hint="itemsize * B * (sum of every Linear's input width + 2 * sum of the hidden widths).",
        )


def _measured(sizes, B, itemsize):
    dtype = np.float64 if itemsize == 8 else np.float32
    model = mlp(sizes, activation="relu", rng=0, dtype=dtype)
    model.forward(np.zeros((B, sizes[0]), dtype=dtype))
    return model.cache_nbytes()


@check_cache_bytes.wrong_answer(expect="not bytes")
def _cb_numbers(sizes, B, itemsize=8):
    """Counts entries instead of bytes."""
    return B * (sum(sizes[:-1]) + 2 * sum(sizes[1:-1]))


@check_cache_bytes.wrong_answer(expect="batch size is missing")
def _cb_no_batch(sizes, B, itemsize=8):
    """Forgets B."""
    return itemsize * (sum(sizes[:-1]) + 2 * sum(sizes[1:-1]))


@check_cache_bytes.wrong_answer(expect="only the Linear")
def _cb_linear_only(sizes, B, itemsize=8):
    """Only the Linear inputs."""
    return itemsize * B * sum(sizes[:-1])


@check_cache_bytes.wrong_answer(expect="you counted one")
def _cb_activation_once(sizes, B, itemsize=8):
    """One array per activation."""
    return itemsize * B * (sum(sizes[:-1]) + sum(sizes[1:-1]))


@check_cache_bytes.wrong_answer(expect="weights are not part")
def _cb_params(sizes, B, itemsize=8):
    """Adds the parameters."""
    n_params = sum(n_out * (n_in + 1) for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True))
    return itemsize * (B * (sum(sizes[:-1]) + 2 * sum(sizes[1:-1])) + n_params)


@check_cache_bytes.wrong_answer(expect="output width")
def _cb_outputs(sizes, B, itemsize=8):
    """Counts each Linear's output instead of its input."""
    return itemsize * B * (sum(sizes[1:]) + 2 * sum(sizes[1:-1]))


@check_cache_bytes.wrong_answer(expect="itemsize is not used")
def _cb_fixed_itemsize(sizes, B, itemsize=8):
    """Always 8 bytes per number."""
    return 8 * B * (sum(sizes[:-1]) + 2 * sum(sizes[1:-1]))


@check_cache_bytes.wrong_answer(expect="not kept twice")
def _cb_output_activation(sizes, B, itemsize=8):
    """Counts z and a for the output layer too."""
    return itemsize * B * (sum(sizes[:-1]) + 2 * sum(sizes[1:]))


# --- ch4.batch_backward (capstone, stage 3) ----------------------------------------------
#
# params: {"W1": (n_1, n_0), "b1": (n_1,), ..., "WD": (n_D, n_{D-1}), "bD": (n_D,)}
# cache:  {"A0": X, "Z1": ..., "A1": ..., "Z<D>": logits, "Y_hat": softmax of each row}
# sigmoid hidden layers, softmax output, batch-mean cross-entropy, integer labels y (B,).


def _depth(params):
    return len([k for k in params if str(k).startswith("W")])


def capstone_forward(params, X):
    """The forward pass whose cache ``batch_backward`` reads: ``(Y_hat, cache)``."""
    D = _depth(params)
    cache = {"A0": X}
    A = X
    for l in range(1, D + 1):
        Z = A @ params[f"W{l}"].T + params[f"b{l}"]
        cache[f"Z{l}"] = Z
        if l < D:
            A = 1.0 / (1.0 + np.exp(-Z))
            cache[f"A{l}"] = A
    Y_hat = softmax(cache[f"Z{D}"], axis=1)
    cache["Y_hat"] = Y_hat
    return Y_hat, cache


def _backward_variant(params, cache, y, mistake=None):
    """The batched BP1-BP4 loop; ``mistake`` plants one catalogued error."""
    D = _depth(params)
    Y_hat = cache["Y_hat"]
    B, K = Y_hat.shape
    Y = _one_hot(y, K)
    dZ = Y - Y_hat if mistake == "sign" else Y_hat - Y
    if mistake != "no_1_over_B":
        dZ = dZ / B
    grads = {}
    for l in range(D, 0, -1):
        A_prev = cache[f"A{l - 1}"]
        dW = A_prev.T @ dZ if mistake == "dW_T" else dZ.T @ A_prev
        if mistake == "extra_dW":
            dW = dW / B
        if mistake == "db_mean":
            db = dZ.mean(axis=0)
        elif mistake == "db_row":
            db = dZ[0].copy()
        elif mistake == "db_column":
            db = dZ.sum(axis=0)[:, None]
        else:
            db = dZ.sum(axis=0)
        grads[f"W{l}"], grads[f"b{l}"] = dW, db
        if l > 1:
            dA = dZ @ params[f"W{l}"]
            A = cache[f"A{l - 1}"]
            if mistake == "no_phi_prime":
                dZ = dA
            elif mistake == "phi_not_prime":
                dZ = dA * A
            elif mistake == "prime_at_output":
                s = 1.0 / (1.0 + np.exp(-A))
                dZ = dA * s * (1.0 - s)
            else:
                dZ = dA * A * (1.0 - A)
    return grads


def batch_backward(params, cache, y):
    """Reference: the batched backward pass of the capstone network, ``grads`` like ``params``."""
    return _backward_variant(params, cache, y)


def _grad_name(key):
    l = key[1:]
    return f"dW{l} (layer {l}'s weights)" if key[0] == "W" else f"db{l} (layer {l}'s bias)"


def _variant_message(mistake, key, D):
    l = int(key[1:])
    g = _grad_name(key)
    above = f"layer {D}" if l + 1 == D else f"layers {l + 1} to {D}"
    below = f"{g} is wrong although every gradient of {above} is right"
    k = l + 1  # the layer whose error is passed down to layer l
    return {
        "no_1_over_B": f"{g} is B times too large: the output error Delta_{D} = (Y_hat - Y)/B is missing "
        "the 1/B of the batch-mean loss (it enters once, at the output).",
        "extra_dW": f"{g} is B times too small (1/B twice): Delta_{l} already carries the 1/B from the "
        f"loss gradient, so dW{l} = Delta_{l}^T A_{l - 1} with no second 1/B.",
        "db_mean": f"{g} is the mean of the rows of Delta_{l}: the bias is not summed over the batch "
        "(that divides by B a second time). The bias was copied to every row, so add up the rows.",
        "db_row": f"{g} is only the first sample's row of Delta_{l}: the bias was copied to every row, "
        "so sum over all B rows.",
        "db_column": f"{g} has the right numbers as a column (n, 1): here biases are 1-D, shape (n,), "
        "like the b arrays in params.",
        "dW_T": f"{g} is transposed: A_{l - 1}^T Delta_{l} has the shape of W{l} transposed; a gradient "
        f"has its parameter's shape, so multiply Delta_{l}^T by A_{l - 1}.",
        "sign": f"{g} has the wrong sign: the output error is prediction minus target, (Y_hat - Y)/B.",
        "no_phi_prime": f"{below}: the error passed down from layer {k} is missing the factor "
        f"phi'(Z_{l}) = A_{l} (1 - A_{l}) of the sigmoid (BP2).",
        "phi_not_prime": f"{below}: passing the error down from layer {k}, BP2 multiplied by the sigmoid "
        f"A_{l} itself where its derivative A_{l} (1 - A_{l}) belongs.",
        "stale_cache": f"{g} is what an earlier test's cache gives (a stale cache): read A, Z and Y_hat "
        "from the cache passed in, not from one kept from an earlier forward pass.",
        "prime_at_output": f"{below}: the sigmoid's derivative was evaluated at the output A_{l} "
        f"(sigma(A_{l}) (1 - sigma(A_{l}))) instead of at its input: sigma'(Z_{l}) = A_{l} (1 - A_{l}).",
    }[mistake]


_BACKWARD_MISTAKES = (
    "no_1_over_B",
    "extra_dW",
    "db_mean",
    "db_row",
    "db_column",
    "dW_T",
    "sign",
    "no_phi_prime",
    "phi_not_prime",
    "prime_at_output",
)

# (layer sizes, B): B and every width distinct primes, depths 2, 3 and 1; the second case
# repeats the first one's sizes with new numbers, right after it, so that gradients computed
# from an earlier cache (a stale cache, kept from the call before) have the right shapes and
# can be recognised
_BACKWARD_SETUPS = [([5, 7, 3], 11), ([5, 7, 3], 11), ([3, 5, 7, 2], 13), ([2, 3, 5], 7), ([7, 3], 5)]


def _capstone_params(rng, sizes):
    params = {}
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
        params[f"W{l}"] = rng.normal(size=(n_out, n_in)) / np.sqrt(n_in)
        params[f"b{l}"] = 0.5 * rng.normal(size=n_out)  # non-zero biases: their gradients count
    return params


def _backward_inputs(rng, i):
    sizes, B = _BACKWARD_SETUPS[i]
    params = _capstone_params(rng, sizes)
    X = rng.normal(size=(B, sizes[0]))
    _, cache = capstone_forward(params, X)
    return {"params": params, "cache": cache, "y": rng.integers(0, sizes[-1], size=B)}


_CACHE_FORMAT = "the cache holds A0 (= X) up to A(D-1), Z1 up to ZD, and Y_hat"


def _call_capstone(t, fn, *args):
    try:
        return t.call(fn, *args)
    except LearnerError as err:
        text = str(err).split("your code raised", 1)[-1].strip()
        if text.startswith("KeyError"):
            t.fail(
                f"your code asked for a key that is not there ({text}). {_CACHE_FORMAT[0].upper()}"
                f"{_CACHE_FORMAT[1:]}: layer l's weights multiply its input A_(l-1), and the output "
                "layer's error comes from Y_hat."
            )
        if "matmul" in text or "shapes" in text or "broadcast" in text or "aligned" in text:
            t.fail(
                "a product failed because the shapes do not fit. Write the shape next to each factor: "
                "Delta_l is (B, n_l), A_(l-1) is (B, n_(l-1)), W_l is (n_l, n_(l-1)); so dW_l = Delta_l^T A_(l-1) "
                f"and the error passed down is Delta_l W_l, (B, n_(l-1)). (Python said: {text})"
            )
        raise


@exercise(
    "ch4.batch_backward", points=3, title="Capstone: the batched backward pass, any depth", reference=batch_backward
)
def check_batch_backward(answer, t):
    fn = t.require_callable()
    earlier_cases = {}  # sizes -> (cache, y) of an earlier case
    for case in t.cases(_backward_inputs, n=len(_BACKWARD_SETUPS)):
        params, cache, y = case.args
        D = _depth(params)
        B = len(y)
        ref = t.reference(params, cache, y)
        shapes = tuple(np.shape(v) for v in params.values())
        old = earlier_cases.setdefault(shapes, (cache, y))
        got = _call_capstone(t, fn, params, cache, y)
        if not isinstance(got, dict):
            t.fail(f"batch_backward must return a dict of gradients with the keys of params, got {d.describe(got)}.")
        missing = [k for k in ref if k not in got]
        if missing:
            t.fail(f"the returned dict has no {', '.join(missing)}: it needs one gradient per parameter, same keys.")
        variants = {m: _backward_variant(params, cache, y, m) for m in _BACKWARD_MISTAKES}
        if old[0] is not cache:
            variants["stale_cache"] = _backward_variant(params, *old)
        earlier = []  # keys already found right
        for l in range(D, 0, -1):
            for key in (f"W{l}", f"b{l}"):
                mistakes = [
                    d.Mistake(v[key], _variant_message(m, key, D))
                    for m, v in variants.items()
                    if all(d.close(v[k], ref[k]) for k in earlier) and not d.close(v[key], ref[key])
                ]
                t.compare(
                    got[key],
                    ref[key],
                    _grad_name(key),
                    batch_size=B,
                    mistakes=mistakes,
                    shape_hint=f"It must have the shape of params['{key}'].",
                    hint=(
                        f"the layers above layer {l} are right, so look at layer {l}: "
                        + ("dW_l = Delta_l^T A_(l-1)." if key[0] == "W" else "db_l adds up the rows of Delta_l.")
                        if earlier
                        else "the output layer's error is Delta_D = (Y_hat - Y)/B, the 1/B only here."
                    ),
                )
                earlier.append(key)


def _bb(mistake):
    def wrong(params, cache, y):
        return _backward_variant(params, cache, y, mistake)

    wrong.__doc__ = f"The batched backward pass with the mistake {mistake!r}."
    return wrong


for _m, _expect in [
    ("no_1_over_B", "missing the 1/B of the batch-mean loss"),
    ("extra_dW", "1/B twice"),
    ("db_mean", "bias is not summed over the batch"),
    ("db_row", "only the first sample's row"),
    ("db_column", "as a column"),
    ("dW_T", "is transposed"),
    ("sign", "wrong sign"),
    ("no_phi_prime", "missing the factor phi'"),
    ("phi_not_prime", "sigmoid A_1 itself"),
    ("prime_at_output", "evaluated at the output"),
]:
    check_batch_backward.add_wrong_answer(_bb(_m), _expect, f"The batched backward pass with {_m}.")


_STALE_CACHES = {}


@check_batch_backward.wrong_answer(expect="stale cache")
def _bb_stale(params, cache, y):
    """Reads the cache of an earlier forward pass of the same network (kept in a variable)."""
    shapes = tuple(np.shape(v) for v in params.values())
    old_cache, old_y = _STALE_CACHES.setdefault(shapes, ({k: v.copy() for k, v in cache.items()}, y.copy()))
    return _backward_variant(params, old_cache, old_y)


@check_batch_backward.wrong_answer(expect="a key that is not there")
def _bb_wrong_layer_activation(params, cache, y):
    """dW_l from A_l, the layer's own output, instead of its input A_(l-1)."""
    D = _depth(params)
    dZ = (cache["Y_hat"] - _one_hot(y, cache["Y_hat"].shape[1])) / len(y)
    grads = {}
    for l in range(D, 0, -1):
        A = cache[f"A{l}"]  # KeyError at the output layer: there is no A_D
        grads[f"W{l}"], grads[f"b{l}"] = dZ.T @ A, dZ.sum(axis=0)
        dZ = (dZ @ params[f"W{l}"]) * A * (1 - A)
    return grads


@check_batch_backward.wrong_answer(expect="shapes do not fit")
def _bb_w_transposed(params, cache, y):
    """The error passed down with W_l^T: Delta_l W_l^T does not multiply."""
    D = _depth(params)
    dZ = (cache["Y_hat"] - _one_hot(y, cache["Y_hat"].shape[1])) / len(y)
    grads = {}
    for l in range(D, 0, -1):
        grads[f"W{l}"], grads[f"b{l}"] = dZ.T @ cache[f"A{l - 1}"], dZ.sum(axis=0)
        if l > 1:
            A = cache[f"A{l - 1}"]
            dZ = (dZ @ params[f"W{l}"].T) * A * (1 - A)
    return grads


# --- ch4.train (capstone, stage 4) -------------------------------------------------------


def _capstone_loss(Y_hat, y):
    return -float(np.mean(np.log(Y_hat[np.arange(len(y)), y])))


def _batches(X, y, batch_size, rng, shuffle=True):
    from ..data import minibatches

    return minibatches(X, y, batch_size, rng, shuffle=shuffle)


def _train_variant(params, X, y, lr, epochs, batch_size, rng, mistake=None):
    """The capstone's training loop; ``mistake`` plants one catalogued error."""
    losses = []
    first_cache = None
    for _ in range(1 if mistake == "one_epoch" else epochs):
        last = None
        for Xb, yb in _batches(X, y, batch_size, rng, shuffle=mistake != "no_shuffle"):
            if mistake == "output_sigmoid":
                Y_hat, cache = capstone_forward(params, Xb)
                Z = cache[f"Z{_depth(params)}"]
                Y_hat = softmax(1.0 / (1.0 + np.exp(-Z)), axis=1)
                cache["Y_hat"] = Y_hat
            else:
                Y_hat, cache = capstone_forward(params, Xb)
            if first_cache is None:
                first_cache = cache
            loss = _capstone_loss(Y_hat, yb)
            if mistake == "loss_sum":
                loss *= len(yb)
            grads = _backward_variant(params, first_cache if mistake == "stale_cache" else cache, yb)
            last = grads
            if mistake == "once_per_epoch":
                losses.append(loss)
                continue
            step = {"uphill": -lr, "no_lr": 1.0}.get(mistake, lr)
            if mistake != "not_updated":
                for k in params:
                    params[k] -= step * grads[k]
            if mistake == "loss_after":
                loss = _capstone_loss(capstone_forward(params, Xb)[0], yb)
            losses.append(loss)
        if mistake == "once_per_epoch":
            for k in params:
                params[k] -= lr * last[k]
    return losses


def train(params, X, y, lr, epochs, batch_size, rng):
    """Reference: mini-batch SGD with the capstone's forward and backward; the batch losses."""
    return _train_variant(params, X, y, lr, epochs, batch_size, rng)


class _Params(MutableMapping):
    """A dict-like holder of the parameters that the check can inspect after the learner's code.

    (``t.call`` copies real dicts so that learner code cannot change the check's inputs;
    this one is passed as it is, so the check sees the learner's updates.)
    """

    def __init__(self, arrays):
        self._d = {k: np.array(v, dtype=float) for k, v in arrays.items()}

    def __getitem__(self, key):
        return self._d[key]

    def __setitem__(self, key, value):
        self._d[key] = value

    def __delitem__(self, key):
        del self._d[key]

    def __iter__(self):
        return iter(self._d)

    def __len__(self):
        return len(self._d)

    def __repr__(self):
        return f"params({', '.join(self._d)})"

    def copy(self):
        return dict(self._d)

    def flat(self):
        return np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in self._d.values()])


# (sizes, N, batch_size, epochs, lr): every batch full, so a stale cache still multiplies
_TRAIN_SETUPS = [([3, 7, 2], 15, 5, 2, 0.5), ([2, 5, 7, 3], 22, 11, 3, 1.0)]

_TRAIN_MESSAGES = {
    "uphill": "the parameters moved uphill: the update subtracts lr times the gradient.",
    "no_lr": "the learning rate lr is not used: each step moves by lr times the gradient.",
    "not_updated": "the parameters never changed, so every loss is that of the starting weights. "
    "Write the new values into params itself (params[k] -= lr * grads[k]); a new dict or a "
    "rebound local name is lost.",
    "no_shuffle": "the batches came in the data's own order: take them from "
    "minibatches(X, y, batch_size, rng), which shuffles with rng every epoch.",
    "loss_after": "each recorded loss was computed after the update; record the loss of the forward "
    "pass that the gradients came from.",
    "one_epoch": "only one epoch was run: loop over the epochs, taking a fresh minibatches(...) each time.",
    "loss_sum": "the losses are sums over the batch, B times the batch mean: the loss of a batch is "
    "the mean of its samples' cross-entropies.",
    "stale_cache": "every step's gradients came from the same old forward cache (a stale cache): run "
    "the forward pass on each batch with the current weights, then backward on that cache.",
    "output_sigmoid": "already the first loss differs: the forward pass applied the sigmoid to the "
    "output layer too. The last layer's Z are the logits; softmax them directly.",
    "once_per_epoch": "the parameters were updated once per epoch: update after every batch.",
}


def _train_inputs(rng, i):
    sizes, N, batch_size, epochs, lr = _TRAIN_SETUPS[i]
    return {
        "params": _capstone_params(rng, sizes),
        "X": rng.normal(size=(N, sizes[0])),
        "y": rng.integers(0, sizes[-1], size=N),
        "lr": lr,
        "epochs": epochs,
        "batch_size": batch_size,
        "seed": int(rng.integers(1 << 30)),
    }


@exercise("ch4.train", points=3, title="Capstone: train with your own forward, backward and update", reference=train)
def check_train(answer, t):
    fn = t.require_callable()
    for case in t.cases(_train_inputs, n=len(_TRAIN_SETUPS)):
        params, X, y, lr, epochs, batch_size, seed = case.args
        ref_params = _Params(params)
        ref = t.reference(ref_params, X, y, lr, epochs, batch_size, np.random.default_rng(seed))
        mine = _Params(params)
        arrays_given = {k: mine[k] for k in mine}
        got = t.call(fn, mine, X, y, lr, epochs, batch_size, np.random.default_rng(seed))
        variants = {}
        for m in _TRAIN_MESSAGES:
            p = _Params(params)
            with np.errstate(all="ignore"):
                losses = _train_variant(p, X.copy(), y.copy(), lr, epochs, batch_size, np.random.default_rng(seed), m)
            variants[m] = (losses, p.flat())
        t.compare(
            got,
            ref,
            "the list of batch losses",
            mistakes=[d.Mistake(v[0], _TRAIN_MESSAGES[m]) for m, v in variants.items() if not d.close(v[0], ref)],
            shape_hint=f"One loss per batch: {len(ref) // epochs} batches per epoch, {epochs} epochs.",
            hint=_localise(got, ref),
        )
        try:
            now = mine.flat()
        except (TypeError, ValueError):
            t.fail("params holds something that is not an array now: update each array, params[k] -= lr * grads[k].")
        rebound = [k for k, a in arrays_given.items() if k in mine and mine[k] is not a]
        if rebound and d.close(now, ref_params.flat()):
            t.fail(
                f"params[{rebound[0]!r}] now holds a new array: the update assigned a new value to the "
                "dict's entry, so the arrays passed in (which a model's layers would keep using) never "
                "changed. Update each array in place: params[k] -= lr * grads[k].",
            )
        t.compare(
            now,
            ref_params.flat(),
            "the trained parameters",
            mistakes=[
                d.Mistake(v[1], _TRAIN_MESSAGES[m]) for m, v in variants.items() if not d.close(v[1], ref_params.flat())
            ],
            hint="the losses were right, but params after the last step are not: apply the last update too.",
        )


def _localise(got, ref):
    """Which step first differs: the forward pass (first loss) or an update / a gradient (later)."""
    g, problem = d.as_numeric(got, "losses")
    e = np.asarray(ref, dtype=float)
    if problem or g.shape != e.shape:
        return "return a list with one loss per batch, in the order the batches were used."
    wrong = np.flatnonzero(np.abs(g - e) > 1e-6 * max(np.max(np.abs(e)), 1e-8))
    if wrong.size and wrong[0] == 0:
        return "already the first loss differs, before any update: check the forward pass and the loss."
    if wrong.size:
        return (
            f"the first {int(wrong[0])} losses are right and step {int(wrong[0]) + 1} differs: the forward "
            "pass is right, so look at the gradients (does batch_backward pass its check?) and the update."
        )
    return ""


def _tr(mistake):
    def wrong(params, X, y, lr, epochs, batch_size, rng):
        return _train_variant(params, X, y, lr, epochs, batch_size, rng, mistake)

    wrong.__doc__ = f"The capstone's training loop with the mistake {mistake!r}."
    return wrong


for _m, _expect in [
    ("uphill", "uphill"),
    ("no_lr", "learning rate lr is not used"),
    ("not_updated", "never changed"),
    ("no_shuffle", "data's own order"),
    ("loss_after", "after the update"),
    ("one_epoch", "only one epoch"),
    ("loss_sum", "B times the batch mean"),
    ("stale_cache", "stale cache"),
    ("output_sigmoid", "sigmoid to the output layer"),
    ("once_per_epoch", "once per epoch"),
]:
    check_train.add_wrong_answer(_tr(_m), _expect, f"The training loop with {_m}.")


@check_train.wrong_answer(expect="now holds a new array")
def _tr_rebinds(params, X, y, lr, epochs, batch_size, rng):
    """The right loop whose update rebinds the dict's entries instead of changing the arrays."""
    copies = {k: np.array(v) for k, v in params.items()}
    losses = _train_variant(copies, X, y, lr, epochs, batch_size, rng, None)
    for k in params:
        params[k] = copies[k]
    return losses
