"""Unit tests for nnlib.descent (Chapter 1): test functions, stopping rules, optimiser runs, regression."""

import numpy as np
import pytest

from nnlib import optim
from nnlib.data import load_diabetes
from nnlib.descent import (
    STOP_REASONS,
    Objective,
    double_well,
    gradient_descent,
    least_squares,
    linreg_descent,
    linreg_grad,
    linreg_loss,
    quadratic_1d,
    quadratic_bowl,
    rosenbrock,
    run_optimizer,
    stable_lr_threshold,
    valley,
)
from nnlib.gradcheck import THRESHOLD, numerical_gradient, rel_error
from nnlib.layers import Linear
from nnlib.losses import mse

OBJECTIVES = [
    quadratic_1d(),
    quadratic_1d(5.0, -1.0),
    double_well(),
    valley(20.0),
    rosenbrock(),
    quadratic_bowl([[3.0, 1.0], [1.0, 2.0]], [0.5, -1.0]),
]


@pytest.mark.parametrize("obj", OBJECTIVES, ids=lambda o: o.name)
def test_gradients_match_central_differences(obj):
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = rng.uniform(-1.5, 1.5, size=obj.dim)
        err = rel_error(obj.grad(x), numerical_gradient(obj.f, x.copy()))
        assert err <= THRESHOLD, (obj.name, x, err)


@pytest.mark.parametrize("obj", OBJECTIVES, ids=lambda o: o.name)
def test_minimiser_has_zero_gradient_and_is_lowest(obj):
    assert np.linalg.norm(obj.grad(obj.x_min)) < 1e-9
    rng = np.random.default_rng(1)
    for _ in range(20):
        x = obj.x_min + rng.normal(scale=0.3, size=obj.dim)
        assert obj.f(x) >= obj.f(obj.x_min)


@pytest.mark.parametrize("obj", [o for o in OBJECTIVES if o.dim == 2], ids=lambda o: o.name)
def test_functions_accept_a_grid(obj):
    X, Y, Z = obj.grid(7)
    assert Z.shape == (7, 7)
    i, j = 3, 5
    assert Z[i, j] == pytest.approx(float(obj.f(np.array([X[i, j], Y[i, j]]))))
    G = obj.grad(np.stack([X, Y]))
    np.testing.assert_allclose(G[:, i, j], obj.grad(np.array([X[i, j], Y[i, j]])))


def test_double_well_global_minimum_is_the_left_one():
    w = double_well()
    assert w.x_min[0] < 0
    right = gradient_descent(w, [2.0], 0.1)
    left = gradient_descent(w, [-0.5], 0.1)
    assert right.x[0] > 0 and w.f(right.x) > w.f(left.x)
    np.testing.assert_allclose(left.x, w.x_min, atol=1e-5)


def test_update_rule_one_step():
    obj = quadratic_1d(2.0, 3.0)
    res = gradient_descent(obj, [-1.0], 0.1, max_iter=1, grad_tol=0, step_tol=0)
    np.testing.assert_allclose(res.path, [[-1.0], [-1.0 - 0.1 * 2 * (-4.0)]])
    assert res.n_iter == 1 and res.reason == "max_iter"
    assert res.losses.shape == (2,) and res.grad_norms.shape == (2,)


def test_each_stopping_rule_fires():
    obj = quadratic_1d()
    g = gradient_descent(obj, [-1.0], 0.1, grad_tol=1e-6)
    assert g.reason == "grad_tol" and g.converged
    assert g.grad_norms[-1] <= 1e-6 < g.grad_norms[-2]
    s = gradient_descent(obj, [-1.0], 0.1, grad_tol=0, step_tol=1e-4)
    assert s.reason == "step_tol" and s.converged
    assert np.abs(np.diff(s.path[:, 0]))[-1] <= 1e-4 < np.abs(np.diff(s.path[:, 0]))[-2]
    m = gradient_descent(obj, [-1.0], 0.001, max_iter=50)
    assert m.reason == "max_iter" and m.n_iter == 50 and not m.converged
    d = gradient_descent(obj, [-1.0], 1.2)
    assert d.reason == "diverged" and not d.converged and "smaller learning rate" in d.message
    assert set(STOP_REASONS) == {"grad_tol", "step_tol", "max_iter", "diverged"}
    assert "gradient" in g.message and str(g.n_iter) in g.message


def test_divergence_raises_no_warning_and_keeps_finite_records():
    with np.errstate(all="raise"):
        res = gradient_descent(rosenbrock(), [-1.5, 2.0], 0.1, max_iter=500)
    assert res.reason == "diverged"
    assert len(res.path) == len(res.losses) == len(res.grad_norms)


def test_threshold_two_over_curvature_is_exact():
    a = 5.0
    obj = quadratic_1d(a, 1.0)
    assert stable_lr_threshold(obj) == pytest.approx(2 / a)
    below = gradient_descent(obj, [3.0], 0.99 * 2 / a, max_iter=5000)
    above = gradient_descent(obj, [3.0], 1.01 * 2 / a, max_iter=5000)
    assert below.converged and above.reason == "diverged"
    H = np.array([[3.0, 1.0], [1.0, 2.0]])
    assert stable_lr_threshold(H) == pytest.approx(2 / np.linalg.eigvalsh(H).max())


def test_error_factor_per_step_on_a_quadratic():
    a, lr = 2.0, 0.9
    res = gradient_descent(quadratic_1d(a, 3.0), [-1.0], lr, max_iter=10, grad_tol=0, step_tol=0)
    np.testing.assert_allclose(res.path[:, 0] - 3, (1 - lr * a) ** np.arange(11) * (-4.0))


def test_plain_functions_are_accepted():
    res = gradient_descent(lambda x: float(x @ x), np.array([1.0, -2.0]), 0.25, grad=lambda x: 2 * x)
    assert res.converged and np.allclose(res.x, 0, atol=1e-6)


def test_bad_inputs_name_the_argument():
    obj = valley()
    with pytest.raises(ValueError, match="lr"):
        gradient_descent(obj, [1.0, 1.0], -0.1)
    with pytest.raises(ValueError, match="x0"):
        gradient_descent(obj, [1.0, 1.0, 1.0], 0.1)
    with pytest.raises(ValueError, match="max_iter"):
        gradient_descent(obj, [1.0, 1.0], 0.1, max_iter=0)
    with pytest.raises(ValueError, match="grad_tol"):
        gradient_descent(obj, [1.0, 1.0], 0.1, grad_tol=-1)
    with pytest.raises(TypeError, match="grad"):
        gradient_descent(lambda x: 0.0, [1.0], 0.1)
    with pytest.raises(ValueError, match="positive definite"):
        quadratic_bowl([[1.0, 0.0], [0.0, -1.0]])
    with pytest.raises(ValueError, match="curvature"):
        quadratic_1d(0.0)
    with pytest.raises(ValueError, match="hessian"):
        stable_lr_threshold(rosenbrock())
    with pytest.raises(TypeError, match="optimizer"):
        run_optimizer("adam", obj, [1.0, 1.0])
    with pytest.raises(TypeError, match="Objective"):
        run_optimizer(optim.Adam(), lambda x: 0.0, [1.0, 1.0])


def test_run_optimizer_sgd_equals_gradient_descent():
    obj = valley(10.0)
    a = run_optimizer(optim.SGD(lr=0.05), obj, [-5.0, 2.0], n_steps=30)
    b = gradient_descent(obj, [-5.0, 2.0], 0.05, max_iter=30, grad_tol=0, step_tol=0)
    np.testing.assert_allclose(a.path, b.path)
    np.testing.assert_allclose(a.losses, b.losses)
    assert a.path.shape == (31, 2) and a.grad_norms.shape == (31,)


def test_run_optimizer_resets_state_and_adaptive_methods_converge():
    obj = valley(100.0)
    opt = optim.Momentum(lr=0.01)
    first = run_optimizer(opt, obj, [-5.0, 1.5], 300)
    second = run_optimizer(opt, obj, [-5.0, 1.5], 300)
    np.testing.assert_array_equal(first.path, second.path)  # velocity forgotten between runs
    for o in [optim.Momentum(lr=0.01), optim.AdaGrad(lr=1.0), optim.Adam(lr=0.1)]:
        assert run_optimizer(o, obj, [-5.0, 1.5], 800).losses[-1] < 1e-8
    assert run_optimizer(optim.SGD(lr=0.05), obj, [-5.0, 1.5], 50).reason == "diverged"


# --- linear regression --------------------------------------------------------------------


@pytest.fixture(scope="module")
def diabetes():
    X, _, y, _ = load_diabetes()
    return X, y


def test_linreg_gradient_matches_central_differences_and_linear_layer(diabetes):
    X, y = diabetes
    rng = np.random.default_rng(2)
    w, b = rng.normal(size=X.shape[1]), 0.7
    dw, db = linreg_grad(w, b, X, y)
    assert rel_error(dw, numerical_gradient(lambda v: linreg_loss(v, b, X, y), w.copy())) <= THRESHOLD
    db_num = numerical_gradient(lambda v: linreg_loss(w, v[0], X, y), np.array([b]))
    assert rel_error([db], db_num) <= THRESHOLD
    layer = Linear(X.shape[1], 1)
    layer.params["W"][:] = w
    layer.params["b"][:] = b
    L, dout = mse(layer.forward(X), y[:, None])
    layer.zero_grad()
    layer.backward(dout)
    assert L == pytest.approx(linreg_loss(w, b, X, y))
    assert rel_error(dw, layer.grads["W"][0]) <= THRESHOLD
    assert rel_error([db], layer.grads["b"]) <= THRESHOLD


def test_least_squares_is_a_stationary_point(diabetes):
    X, y = diabetes
    w, b = least_squares(X, y)
    dw, db = linreg_grad(w, b, X, y)
    assert np.linalg.norm(dw) < 1e-12 and abs(db) < 1e-12
    rng = np.random.default_rng(3)
    assert linreg_loss(w + 0.01 * rng.normal(size=w.shape), b, X, y) > linreg_loss(w, b, X, y)


def test_linreg_descent_counts_and_converges(diabetes):
    X, y = diabetes
    N = len(y)
    w_s, b_s = least_squares(X, y)
    L_star = linreg_loss(w_s, b_s, X, y)
    batch = linreg_descent(X, y, 0.5, epochs=1000)
    assert batch.grad_evals[-1] == 1000 and batch.epochs[-1] == 1000
    assert np.all(np.diff(batch.losses) <= 0)  # 0.5 < 2 / largest curvature: the loss never rises
    assert batch.losses[-1] - L_star < 1e-3 * (batch.losses[0] - L_star)
    mini = linreg_descent(X, y, 0.05, epochs=3, batch_size=32, rng=0)
    assert mini.grad_evals[-1] == 3 * int(np.ceil(N / 32))
    np.testing.assert_allclose(mini.epochs[-1], 3.0)
    sgd = linreg_descent(X, y, 0.01, epochs=2, batch_size=1, rng=0)
    assert sgd.grad_evals[-1] == 2 * N and len(sgd.losses) == 2 * N + 1
    again = linreg_descent(X, y, 0.01, epochs=2, batch_size=1, rng=0)
    np.testing.assert_array_equal(sgd.losses, again.losses)  # seeded: reproducible
    assert sgd.losses[-1] < sgd.losses[0]


def test_linreg_descent_full_batch_is_plain_gradient_descent(diabetes):
    X, y = diabetes
    run = linreg_descent(X, y, 0.1, epochs=3)
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(3):
        dw, db = linreg_grad(w, b, X, y)
        w, b = w - 0.1 * dw, b - 0.1 * db
    np.testing.assert_allclose(run.w, w)
    assert run.b == pytest.approx(b)


def test_linreg_decay_shrinks_sgd_noise(diabetes):
    X, y = diabetes
    fixed = linreg_descent(X, y, 0.02, epochs=20, batch_size=1, rng=1)
    decayed = linreg_descent(X, y, 0.02, epochs=20, batch_size=1, rng=1, decay=0.5)
    last = fixed.epochs >= 19
    assert decayed.losses[last].std() < fixed.losses[last].std()


def test_linreg_bad_inputs(diabetes):
    X, y = diabetes
    with pytest.raises(ValueError, match="y must have shape"):
        linreg_loss(np.zeros(10), 0.0, X, y[:-1])
    with pytest.raises(ValueError, match="w must have shape"):
        linreg_grad(np.zeros(9), 0.0, X, y)
    with pytest.raises(ValueError, match="X must be 2-D"):
        least_squares(X[0], y[:1])
    with pytest.raises(ValueError, match="batch_size"):
        linreg_descent(X, y, 0.1, batch_size=0)
    with pytest.raises(ValueError, match="decay"):
        linreg_descent(X, y, 0.1, decay=-1)
    with pytest.raises(FloatingPointError, match="learning rate"):
        linreg_descent(X, y, 50.0, epochs=200)


def test_objective_repr_and_dim():
    assert repr(valley()) == "Objective('valley(kappa=10)', d=2)"
    assert isinstance(quadratic_1d(), Objective) and quadratic_1d().dim == 1


def test_rmsprop_is_adagrad_with_a_fading_memory():
    """RMSProp: G = beta G + (1 - beta) g^2, step alpha g / (sqrt(G) + eps), by hand."""
    rng = np.random.default_rng(3)
    grads = rng.normal(size=(6, 3)) * np.array([0.01, 1.0, 100.0])  # three gradient scales
    opt = optim.RMSProp(lr=0.05, beta=0.8, eps=1e-8)
    params, theta, G = {"w": np.ones(3)}, np.ones(3), np.zeros(3)
    for g in grads:
        G = 0.8 * G + 0.2 * g**2
        theta = theta - 0.05 * g / (np.sqrt(G) + 1e-8)
        opt.step(params, {"w": g.copy()})
    np.testing.assert_allclose(params["w"], theta, rtol=1e-14, atol=0)
    np.testing.assert_allclose(opt.state["w"]["G"], G, rtol=1e-14)
    # the first step has size alpha / sqrt(1 - beta) in every coordinate, whatever the scale
    first = optim.RMSProp(lr=0.05, beta=0.8)
    p = {"w": np.zeros(3)}
    first.step(p, {"w": grads[0].copy()})
    g0 = np.abs(grads[0])
    np.testing.assert_allclose(np.abs(p["w"]), 0.05 * g0 / (np.sqrt(0.2) * g0 + 1e-8), rtol=1e-12)
    np.testing.assert_allclose(np.abs(p["w"]), 0.05 / np.sqrt(0.2), rtol=1e-5)
    # unlike AdaGrad's sum, the average forgets: a constant gradient gives constant steps
    opt, x = optim.RMSProp(lr=0.01), {"x": np.zeros(1)}
    steps = []
    for _ in range(200):
        before = x["x"][0]
        opt.step(x, {"x": np.array([2.0])})
        steps.append(before - x["x"][0])
    assert np.isclose(steps[-1], 0.01, rtol=1e-6)
    assert optim.OPTIMIZERS["rmsprop"] is optim.RMSProp
    assert run_optimizer(optim.RMSProp(lr=0.03, beta=0.99), valley(100.0), [-5.0, 1.5], 800).losses[-1] < 1e-8
    opt.reset()
    assert opt.state == {} and opt.t == 0


def test_rmsprop_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="lr"):
        optim.RMSProp(lr=-1.0)
    with pytest.raises(ValueError, match="beta"):
        optim.RMSProp(lr=0.1, beta=1.5)
    with pytest.raises(ValueError, match="eps"):
        optim.RMSProp(lr=0.1, eps=0.0)


def test_linreg_descent_records_weights_on_request(diabetes):
    X, y = diabetes
    plain = linreg_descent(X, y, 0.01, epochs=2, batch_size=50, rng=4)
    kept = linreg_descent(X, y, 0.01, epochs=2, batch_size=50, rng=4, record_weights=True)
    assert plain.weights is None
    assert kept.weights.shape == (len(kept.losses), X.shape[1])
    np.testing.assert_array_equal(kept.weights[0], np.zeros(X.shape[1]))
    np.testing.assert_array_equal(kept.weights[-1], kept.w)
    np.testing.assert_array_equal(kept.losses, plain.losses)  # recording changes nothing
    with pytest.raises(TypeError, match="record_weights"):
        linreg_descent(X, y, 0.01, record_weights="yes")


def test_constant_step_sgd_has_no_fixed_point(diabetes):
    """Started at the least-squares solution, SGD moves away; the cloud grows with alpha."""
    X, y = diabetes
    w_star, b_star = least_squares(X, y)
    L_star = linreg_loss(w_star, b_star, X, y)
    gaps = []
    for lr in [0.005, 0.02]:
        run = linreg_descent(X, y, lr, epochs=3, batch_size=1, rng=1, w0=w_star, b0=b_star)
        gaps.append(np.mean(run.losses[len(y):] - L_star))
    full = linreg_descent(X, y, 0.1, epochs=3, rng=1, w0=w_star, b0=b_star)
    assert 0 < gaps[0] < gaps[1]
    assert np.max(np.abs(full.losses - L_star)) < 1e-12  # batch GD stays put
