r"""Gradient descent and the functions Chapter 1 minimises.

The update rule (Chapter 1): to go downhill, step *against* the slope,

.. math:: x_{t+1} = x_t - \alpha\, \nabla f(x_t), \qquad t = 0, 1, 2, \dots,

with learning rate :math:`\alpha > 0`. :func:`gradient_descent` repeats it until one of
three stopping rules fires - the gradient is small, the step is small, or the
iteration cap is hit - or until the iterates blow up, and it reports which.

Points are 1-D arrays of shape ``(d,)``. Every test function here (:func:`quadratic_1d`,
:func:`double_well`, :func:`valley`, :func:`quadratic_bowl`, :func:`rosenbrock`) also accepts a stack of
points of shape ``(d, ...)`` and then returns values of shape ``(...)``, so a whole
contour grid is evaluated in one call: ``f(np.stack([X, Y]))``.

The second half is linear regression (Chapter 1's "real" problem):
:func:`linreg_loss`, :func:`linreg_grad`, the closed-form :func:`least_squares` and
:func:`linreg_descent`, which runs batch, stochastic or mini-batch gradient descent
and counts gradient evaluations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import (
    NonFiniteError,
    as_float_array,
    check_ndim,
    describe,
    get_rng,
    instance,
    non_negative_number,
    positive_int,
    positive_number,
    real_number,
)
from .data import minibatches
from .train import TrainingDiverged

#: Why :func:`gradient_descent` stopped, in words.
STOP_REASONS = {
    "grad_tol": "the gradient norm fell below grad_tol",
    "step_tol": "the step length fell below step_tol",
    "max_iter": "the iteration cap max_iter was reached",
    "diverged": "the iterates blew up (non-finite, or beyond diverge_at); try a smaller learning rate",
}


# ---------------------------------------------------------------------------
# Test functions
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Objective:
    r"""A function to minimise, with its gradient and what is known about it.

    ``f(x)`` and ``grad(x)`` take ``x`` of shape ``(d,)`` (or a stack ``(d, ...)``);
    ``f`` returns a number (or ``(...)``), ``grad`` an array of ``x``'s shape.
    ``x_min`` is the minimiser, ``hessian`` the constant Hessian of a quadratic
    (``None`` otherwise), ``window`` the plotting box ``((x_lo, x_hi), (y_lo, y_hi))``
    (or ``(x_lo, x_hi)`` in 1-D).
    """

    name: str
    f: object
    grad: object
    x_min: np.ndarray
    hessian: np.ndarray | None = None
    window: tuple = ()

    @property
    def dim(self) -> int:
        """Number of variables ``d``."""
        return int(np.shape(self.x_min)[0])

    def __repr__(self):
        return f"Objective({self.name!r}, d={self.dim})"

    def grid(self, n=101):
        """Contour grid over ``window``: returns ``(X, Y, Z)`` each of shape ``(n, n)`` (2-D only)."""
        if self.dim != 2:
            raise ValueError(f"grid() needs a 2-D objective, {self.name} has d={self.dim}.")
        (x_lo, x_hi), (y_lo, y_hi) = self.window
        X, Y = np.meshgrid(np.linspace(x_lo, x_hi, n), np.linspace(y_lo, y_hi, n))
        return X, Y, self.f(np.stack([X, Y]))


def quadratic_bowl(H, c=None, name="quadratic bowl", window=None) -> Objective:
    r"""The quadratic :math:`f(x) = \tfrac12 (x - c)^\top H (x - c)` with gradient :math:`H (x - c)`.

    ``H``: symmetric positive definite ``(d, d)``; ``c``: the minimiser ``(d,)``
    (default 0). Its curvature is the same everywhere, so gradient descent with a
    fixed step is stable exactly when :math:`\alpha < 2/\lambda_{\max}(H)`
    (:func:`stable_lr_threshold`).
    """
    H = as_float_array(H, "H")
    check_ndim(H, "H", (2,), "a square Hessian (d, d)")
    d = H.shape[0]
    if H.shape != (d, d) or not np.allclose(H, H.T):
        raise ValueError(f"H must be a symmetric (d, d) matrix, got shape {H.shape}. Use (H + H.T) / 2 for a square H.")
    if np.linalg.eigvalsh(H).min() <= 0:
        raise ValueError("H must be positive definite (all eigenvalues > 0) so that the bowl has a minimum.")
    c = np.zeros(d) if c is None else as_float_array(c, "c").reshape(-1)
    if c.shape != (d,):
        raise ValueError(
            f"c must have shape ({d},) to match H {H.shape}, got {c.shape}. Pass one coordinate per row of H."
        )
    H = H.copy()
    H.setflags(write=False)

    def shifted(x):
        x = np.asarray(x, dtype=float)
        return x - c.reshape((d,) + (1,) * (x.ndim - 1))

    def H_times(u):
        # H u for one point (d,) or for every point of a stack (d, ...)
        return H @ u if u.ndim == 1 else np.tensordot(H, u, axes=1)

    def f(x):
        u = shifted(x)
        return 0.5 * np.sum(u * H_times(u), axis=0)

    def grad(x):
        return H_times(shifted(x))

    if window is None:
        window = tuple((ci - 3.0, ci + 3.0) for ci in c) if d == 2 else ((c[0] - 3.0, c[0] + 3.0),)
    return Objective(name, f, grad, c, H, window if d > 1 else window[0])


def quadratic_1d(curvature=2.0, center=3.0) -> Objective:
    r"""One-variable quadratic :math:`f(x) = \tfrac{\gamma}{2}(x - x^\ast)^2`.

    :math:`f'(x) = \gamma(x - x^\ast)`, :math:`f'' = \gamma`: ``curvature`` is
    :math:`\gamma = f''`, ``center`` the minimiser :math:`x^\ast`. Points have
    shape ``(1,)``. With the defaults, :math:`f(x) = (x-3)^2`.
    """
    a = positive_number(curvature, "curvature", "The curvature f'' of a bowl is positive, e.g. 2.0.")
    c = real_number(center, "center")
    obj = quadratic_bowl([[a]], [c], name=f"quadratic_1d(a={a:g}, c={c:g})")
    return Objective(obj.name, obj.f, obj.grad, obj.x_min, obj.hessian, (c - 4.0, c + 4.0))


def valley(kappa=10.0) -> Objective:
    r"""Ill-conditioned bowl :math:`f(x, y) = \tfrac12 (x^2 + \kappa\, y^2)`: a long, narrow valley.

    Curvature 1 along :math:`x`, :math:`\kappa` across it (condition number
    :math:`\kappa`). Gradient :math:`(x,\ \kappa y)`; minimum at the origin.
    """
    kappa = positive_number(kappa, "kappa")
    return quadratic_bowl(np.diag([1.0, kappa]), name=f"valley(kappa={kappa:g})", window=((-6, 6), (-3, 3)))


def rosenbrock(a=1.0, b=100.0) -> Objective:
    r"""Rosenbrock's banana :math:`f(x, y) = (a - x)^2 + b (y - x^2)^2`, minimum at :math:`(a, a^2)`.

    .. math:: \nabla f = \big(-2(a - x) - 4 b x (y - x^2),\ \ 2 b (y - x^2)\big)

    The floor of its curved valley is easy to reach and slow to follow.
    """
    a = real_number(a, "a")
    b = positive_number(b, "b")
    if not np.isfinite(a * a * b):
        raise ValueError(f"a and b must be moderate numbers (the minimum is at (a, a^2)), got a={a!r}, b={b!r}. "
                         "Use values such as a=1, b=100.")

    def f(x):
        x = np.asarray(x, dtype=float)
        return (a - x[0]) ** 2 + b * (x[1] - x[0] ** 2) ** 2

    def grad(x):
        x = np.asarray(x, dtype=float)
        r = x[1] - x[0] ** 2
        return np.array([-2.0 * (a - x[0]) - 4.0 * b * x[0] * r, 2.0 * b * r])

    return Objective(f"rosenbrock(a={a:g}, b={b:g})", f, grad, np.array([a, a * a]), None,
                     ((-2.0, 2.0), (-1.0, 3.0)))


def double_well(tilt=0.25) -> Objective:
    r"""A one-variable function with two valleys: :math:`f(x) = \tfrac14 x^4 - x^2 + \text{tilt}\cdot x`.

    :math:`f'(x) = x^3 - 2x + \text{tilt}`, :math:`f''(x) = 3x^2 - 2`. With the default
    tilt 1/4 the left valley (near :math:`x \approx -1.47`) is deeper than the
    right one (near :math:`x \approx 1.35`): where gradient descent ends up depends on
    where it starts. ``x_min`` is the deeper (global) minimiser.
    """
    t = real_number(tilt, "tilt")

    def f(x):
        x = np.asarray(x, dtype=float)[0]
        return 0.25 * x**4 - x**2 + t * x

    def grad(x):
        x = np.asarray(x, dtype=float)
        return x**3 - 2.0 * x + t

    roots = np.roots([1.0, 0.0, -2.0, t])
    real = np.sort(roots[np.abs(roots.imag) < 1e-12].real)
    minima = [r for r in real if 3 * r * r - 2 > 0]
    x_min = min(minima, key=lambda r: f(np.array([r])))
    return Objective(f"double_well(tilt={t:g})", f, grad, np.array([x_min]), None, (-2.3, 2.3))


def stable_lr_threshold(objective_or_H) -> float:
    r"""Largest stable fixed learning rate for a quadratic: :math:`2/\lambda_{\max}(H)` (:math:`2/f''` in 1-D).

    Above it the error along the steepest direction is multiplied by
    :math:`|1 - \alpha\lambda_{\max}| > 1` at every step and grows.
    """
    H = objective_or_H.hessian if isinstance(objective_or_H, Objective) else objective_or_H
    if H is None:
        raise ValueError(
            f"objective_or_H must be a quadratic (an Objective with a constant hessian) or its Hessian, "
            f"got {describe(objective_or_H)}. Pass e.g. valley() or a matrix H."
        )
    H = np.atleast_2d(as_float_array(H, "H"))
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise ValueError(f"H must be a square matrix (d, d), got shape {H.shape}. Pass the Hessian of a quadratic.")
    top = float(np.linalg.eigvalsh(H).max())
    if not top > 0:
        raise ValueError(
            f"H must have a positive eigenvalue (a bowl with a minimum), got largest eigenvalue {top}. "
            "Check the curvature."
        )
    return 2.0 / top


# ---------------------------------------------------------------------------
# Gradient descent with stopping rules
# ---------------------------------------------------------------------------


@dataclass
class DescentResult:
    """What a descent run did.

    ``path``: ``(k + 1, d)`` every iterate, starting point first; ``losses``: ``(k + 1,)``
    the function value at each; ``grad_norms``: ``(k + 1,)``; ``reason``: a key of
    :data:`STOP_REASONS`; ``n_iter``: the number of steps taken (``k``).
    """

    path: np.ndarray
    losses: np.ndarray
    grad_norms: np.ndarray
    reason: str
    lr: float
    name: str = ""

    @property
    def x(self) -> np.ndarray:
        """The last iterate."""
        return self.path[-1]

    @property
    def n_iter(self) -> int:
        return len(self.path) - 1

    @property
    def converged(self) -> bool:
        """True when a tolerance (gradient or step) stopped the run."""
        return self.reason in ("grad_tol", "step_tol")

    @property
    def message(self) -> str:
        return f"stopped after {self.n_iter} steps: {STOP_REASONS[self.reason]}"

    def __repr__(self):
        return f"DescentResult({self.name or 'run'}, lr={self.lr:g}, {self.n_iter} steps, reason={self.reason!r})"


def _start(x0, objective) -> np.ndarray:
    x = as_float_array(x0, "x0").astype(np.float64).reshape(-1)
    if objective is not None and x.shape != np.shape(objective.x_min):
        raise ValueError(
            f"x0 has {x.shape[0]} coordinates but {objective.name} takes {objective.dim}; "
            f"it must have shape ({objective.dim},) - pass one coordinate per variable."
        )
    return x.copy()


def _unpack(objective, grad):
    if isinstance(objective, Objective):
        if grad is not None:
            raise TypeError("pass either an Objective, or f and grad - not an Objective and grad.")
        return objective.f, objective.grad, objective
    if not callable(objective) or not callable(grad):
        raise TypeError(
            f"objective must be an nnlib.descent.Objective (e.g. valley()), or a function f "
            f"together with its gradient grad=..., got {describe(objective)}."
        )
    return objective, grad, None


def gradient_descent(objective, x0, lr, grad=None, max_iter=1000, grad_tol=1e-6, step_tol=1e-10,
                     diverge_at=1e8) -> DescentResult:
    r"""Minimise with :math:`x_{t+1} = x_t - \alpha\nabla f(x_t)` until a stopping rule fires.

    ``objective``: an :class:`Objective`, or a function ``f`` with ``grad=`` its
    gradient. ``x0``: starting point ``(d,)`` (a number for 1-D). ``lr``: the
    learning rate :math:`\alpha`. Stopping rules, checked in this order:

    * ``grad_tol``: :math:`\lVert\nabla f(x_t)\rVert \le` ``grad_tol`` (at a minimum the slope vanishes);
    * ``step_tol``: :math:`\lVert x_{t+1} - x_t\rVert \le` ``step_tol`` (no more progress);
    * ``max_iter``: ``max_iter`` steps were taken;
    * ``diverged``: an iterate or value is non-finite or :math:`\lVert x\rVert >` ``diverge_at``.

    Set a tolerance to 0 to switch that rule off. Returns a :class:`DescentResult`.
    """
    f, grad_f, obj = _unpack(objective, grad)
    lr = positive_number(lr, "lr", "A learning rate must be positive, e.g. 0.1.")
    max_iter = positive_int(max_iter, "max_iter")
    grad_tol = non_negative_number(grad_tol, "grad_tol", "Use e.g. 1e-6, or 0 to switch the rule off.")
    step_tol = non_negative_number(step_tol, "step_tol", "Use e.g. 1e-10, or 0 to switch the rule off.")
    x = _start(x0, obj)
    path, losses, norms = [x.copy()], [float(f(x))], []
    reason = "max_iter"
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(max_iter + 1):
            g = np.asarray(grad_f(x), dtype=np.float64).reshape(x.shape)
            norms.append(float(np.linalg.norm(g)))
            if not np.isfinite(norms[-1]) or not np.isfinite(losses[-1]) or np.linalg.norm(x) > diverge_at:
                reason = "diverged"
                break
            if norms[-1] <= grad_tol:
                reason = "grad_tol"
                break
            if len(path) > max_iter:
                break
            step = lr * g
            x = x - step
            path.append(x.copy())
            losses.append(float(f(x)))
            if float(np.linalg.norm(step)) <= step_tol:
                reason = "step_tol"
                norms.append(float(np.linalg.norm(grad_f(x))))
                break
    name = obj.name if obj is not None else getattr(f, "__name__", "f")
    return DescentResult(np.array(path), np.array(losses), np.array(norms), reason, lr, name)


def run_optimizer(optimizer, objective, x0, n_steps=200, diverge_at=1e8) -> DescentResult:
    r"""Run an :mod:`nnlib.optim` optimiser on a test function and record its path.

    Each step computes the gradient :math:`\nabla f(x)` (``g`` in the code) and calls
    ``optimizer.step({"x": x}, {"x": g})``, which updates ``x`` in place with the
    optimiser's rule (and its own memory: velocity, squared-gradient sums, moments).
    The optimiser is :meth:`~nnlib.optim.Optimizer.reset` first. Stops early only if
    the iterates blow up (reason ``"diverged"``); otherwise reason ``"max_iter"``.
    """
    if not isinstance(objective, Objective):
        raise TypeError(
            f"objective must be an nnlib.descent.Objective, got {describe(objective)}. "
            "Pass e.g. valley() or rosenbrock()."
        )
    instance(optimizer, "optimizer", ("step", "reset"), "nnlib.optim.Adam(lr=0.1)")
    n_steps = positive_int(n_steps, "n_steps")
    optimizer.reset()
    x = _start(x0, objective)
    path, losses, norms = [x.copy()], [float(objective.f(x))], []
    reason = "max_iter"
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(n_steps):
            g = np.asarray(objective.grad(x), dtype=np.float64).reshape(x.shape)
            norms.append(float(np.sqrt(g @ g)))
            optimizer.step({"x": x}, {"x": g})
            path.append(x.copy())
            losses.append(float(objective.f(x)))
            if not (np.isfinite(losses[-1]) and np.all(np.isfinite(x))) or np.sqrt(x @ x) > diverge_at:
                reason = "diverged"
                break
        norms.append(float(np.linalg.norm(objective.grad(x))))
    return DescentResult(np.array(path), np.array(losses), np.array(norms), reason, optimizer.lr,
                         type(optimizer).__name__)


# ---------------------------------------------------------------------------
# Linear regression: batch, stochastic and mini-batch gradient descent
# ---------------------------------------------------------------------------


def _regression_data(X, y):
    X = as_float_array(X, "X")
    check_ndim(X, "X", (2,), "a batch (N, n), one sample per row")
    y = as_float_array(y, "y")
    y = y.reshape(-1) if y.ndim == 2 and 1 in y.shape else y
    if y.shape != (X.shape[0],):
        raise ValueError(
            f"y must have shape ({X.shape[0]},), one target per row of X, got {y.shape}. "
            "Pass the targets that go with X."
        )
    return X, y


def _weights(w, b, n, names=("w", "b")):
    w = as_float_array(w, names[0])
    if w.shape != (n,):
        raise ValueError(
            f"{names[0]} must have shape ({n},), one weight per feature, got {w.shape}. "
            "Pass one weight per column of X."
        )
    return w, real_number(b, names[1])


def linreg_loss(w, b, X, y) -> float:
    r"""Mean squared error of the linear model :math:`\hat y = X w + b` (1/2 convention).

    .. math:: L(w, b) = \frac{1}{2N}\sum_{i=1}^N (x^{(i)} \cdot w + b - y^{(i)})^2

    ``X``: ``(N, n)`` one sample :math:`x^{(i)}` per row, ``y``: ``(N,)``, ``w``: ``(n,)``, ``b``: a number.
    Equals ``nnlib.losses.mse`` of the predictions as an ``(N, 1)`` batch.
    """
    X, y = _regression_data(X, y)
    w, b = _weights(w, b, X.shape[1])
    with np.errstate(over="ignore", invalid="ignore"):
        r = X @ w + b - y
        loss = 0.5 * float(r @ r) / X.shape[0]
    if not np.isfinite(loss):
        raise NonFiniteError(
            f"the loss overflowed (got {loss}): the predictions X w + b are too large for float64, so w, b "
            "or X must be smaller. Rescale the features or start from smaller weights."
        )
    return loss


def linreg_grad(w, b, X, y):
    r"""Gradient of :func:`linreg_loss` (derived in Chapter 1): returns ``(dw, db)``.

    With the residuals :math:`r = X w + b - y`,

    .. math:: \frac{\partial L}{\partial w} = \frac{1}{N} X^\top r,\qquad
              \frac{\partial L}{\partial b} = \frac{1}{N}\sum_i r^{(i)}

    ``dw`` has ``w``'s shape ``(n,)``; ``db`` is a float.
    """
    X, y = _regression_data(X, y)
    w, b = _weights(w, b, X.shape[1])
    return _linreg_grad(w, b, X, y)


def _linreg_grad(w, b, X, y):
    """:func:`linreg_grad` without the input checks (for the inner loop)."""
    r = X @ w + b - y
    return X.T @ r / X.shape[0], float(r.sum()) / X.shape[0]


def least_squares(X, y):
    r"""Closed-form minimiser of :func:`linreg_loss`: solve :math:`\tilde X^\top \tilde X\,\theta = \tilde X^\top y`.

    Here :math:`\tilde X = [X\ \ 1]` is ``X`` with a column of ones appended and
    :math:`\theta = (w, b)`. Uses ``numpy.linalg.lstsq`` on :math:`\tilde X`
    (numerically safer than inverting the normal equations). Returns
    ``(w, b)``: the finish line gradient descent is racing towards.
    """
    X, y = _regression_data(X, y)
    A = np.hstack([X, np.ones((X.shape[0], 1))])
    theta = np.linalg.lstsq(A, y, rcond=None)[0]
    return theta[:-1], float(theta[-1])


@dataclass
class RegressionRun:
    """Record of :func:`linreg_descent`: one entry per update (plus the start).

    ``losses``: full-data training loss after each update; ``grad_evals``: number of
    gradient evaluations (= updates) so far; ``epochs``: passes over the data so far
    (samples used / N, so ``epochs * N`` counts per-sample gradient evaluations); ``w``,
    ``b``: the final parameters; ``weights``: ``w`` after each update, shape
    ``(updates + 1, n)``, when run with ``record_weights=True`` (else ``None``).
    """

    batch_size: int
    lr: float
    losses: np.ndarray
    grad_evals: np.ndarray
    epochs: np.ndarray
    w: np.ndarray
    b: float
    weights: np.ndarray | None = None

    def __repr__(self):
        return f"RegressionRun(batch_size={self.batch_size}, lr={self.lr:g}, {self.grad_evals[-1]} updates)"


def linreg_descent(X, y, lr, epochs=10, batch_size=None, rng=None, decay=0.0, w0=None,
                   b0=0.0, record_weights=False) -> RegressionRun:
    r"""Fit :math:`\hat y = X w + b` by gradient descent on mini-batches.

    ``batch_size=None`` (or ``N``) is **batch** gradient descent (one update per
    epoch, on the exact gradient); ``1`` is **stochastic** gradient descent (``N``
    updates per epoch, each on one sample); anything between is **mini-batch**. Each
    epoch visits every sample once in a fresh order drawn from ``rng``
    (:func:`nnlib.data.minibatches`, sampling without replacement). Every update is
    :math:`w \leftarrow w - \alpha\,\partial L/\partial w`, :math:`b \leftarrow b -
    \alpha\,\partial L/\partial b` with :func:`linreg_grad` on the mini-batch, :math:`L`
    being that batch's mean loss. With ``decay > 0`` the learning rate of each epoch
    (counted from 0) is :math:`\alpha / (1 + \text{decay}\cdot\text{epoch})`: shrinking steps let the noisy
    stochastic updates settle on the minimum instead of hovering around it.
    ``record_weights=True`` also keeps ``w`` after every update (Chapter 1 measures
    how far constant-step SGD wanders from the minimum). Returns a :class:`RegressionRun`.
    """
    X, y = _regression_data(X, y)
    N, n = X.shape
    lr = positive_number(lr, "lr", "A learning rate must be positive, e.g. 0.05.")
    epochs = positive_int(epochs, "epochs")
    batch_size = N if batch_size is None else min(positive_int(batch_size, "batch_size"), N)
    decay = non_negative_number(decay, "decay", "Use 0 to keep the learning rate fixed.")
    rng = get_rng(rng)
    w = np.zeros(n) if w0 is None else _weights(w0, 0.0, n, ("w0", "b0"))[0].copy()
    b = real_number(b0, "b0")
    if not isinstance(record_weights, bool | np.bool_):
        raise TypeError(f"record_weights must be True or False, got {describe(record_weights)}.")
    losses, evals, seen = [linreg_loss(w, b, X, y)], [0], [0]
    weights = [w.copy()] if record_weights else None
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(epochs):
            lr_e = lr / (1.0 + decay * epoch)
            for Xb, yb in minibatches(X, y, batch_size, rng=rng, shuffle=batch_size < N):
                dw, db = _linreg_grad(w, b, Xb, yb)
                w = w - lr_e * dw
                b = b - lr_e * db
                r = X @ w + b - y
                losses.append(0.5 * float(r @ r) / N)
                evals.append(evals[-1] + 1)
                seen.append(seen[-1] + len(yb))
                if weights is not None:
                    weights.append(w.copy())
                if not np.isfinite(losses[-1]):
                    raise TrainingDiverged(
                        f"the loss became {losses[-1]} with lr={lr:g} and batch_size={batch_size}; "
                        f"the learning rate must be smaller - try {lr / 10:g}."
                    )
    return RegressionRun(batch_size, lr, np.array(losses), np.array(evals), np.array(seen) / N, w, b,
                         None if weights is None else np.array(weights))
