"""Chapter 4: nnlib.batch - batched forward/backward in matrix form, per-sample equivalence, memory."""

import numpy as np
import pytest

from nnlib import backprop, batch, mlp
from nnlib.gradcheck import THRESHOLD, numerical_gradient, rel_error


def _random_params(rng, sizes):
    params = batch.init_params(sizes, rng=rng)
    for _, b in params:
        b[...] = 0.1 * rng.normal(size=b.shape)
    return params


# --- one affine layer ----------------------------------------------------------------------


def test_linear_forward_is_the_per_sample_formula_with_broadcast_bias():
    rng = np.random.default_rng(0)
    X, W, b = rng.normal(size=(5, 3)), rng.normal(size=(4, 3)), rng.normal(size=4)
    Z = batch.linear_forward(X, W, b)
    assert Z.shape == (5, 4)
    for i in range(5):
        np.testing.assert_allclose(Z[i], W @ X[i] + b, rtol=0, atol=1e-14)


def test_linear_backward_matches_central_differences():
    rng = np.random.default_rng(1)
    B, n, m = 7, 5, 3
    X, W, b, G = rng.normal(size=(B, n)), rng.normal(size=(m, n)), rng.normal(size=m), rng.normal(size=(B, m))

    def L(_):  # a batch-mean loss whose dL/dZ is G / B
        return float(np.sum(batch.linear_forward(X, W, b) * G)) / B

    dX, dW, db = batch.linear_backward(G / B, X, W)  # dZ = dL/dZ carries the 1/B
    assert dW.shape == W.shape and db.shape == b.shape and dX.shape == X.shape
    assert rel_error(dW, numerical_gradient(L, W)) <= THRESHOLD
    assert rel_error(db, numerical_gradient(L, b)) <= THRESHOLD
    # every output is a true gradient of L, dX included: no second 1/B anywhere
    assert rel_error(dX, numerical_gradient(L, X)) <= THRESHOLD


def test_linear_backward_is_nnlib_linear_backward():
    from nnlib import Linear

    rng = np.random.default_rng(2)
    B, n, m = 7, 3, 5
    X, W, b, dZ = rng.normal(size=(B, n)), rng.normal(size=(m, n)), rng.normal(size=m), rng.normal(size=(B, m)) / B
    dX, dW, db = batch.linear_backward(dZ, X, W)
    layer = Linear(n, m)
    layer.params["W"][...] = W
    layer.params["b"][...] = b
    layer.forward(X)
    dX_lib = layer.backward(dZ)
    np.testing.assert_allclose(layer.grads["W"], dW, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(layer.grads["b"], db, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(dX_lib, dX, rtol=1e-13, atol=1e-15)


def test_a_second_one_over_b_in_the_layer_is_wrong_by_exactly_b():
    rng = np.random.default_rng(5)
    B, n, m = 11, 3, 2
    X, W, b, G = rng.normal(size=(B, n)), rng.normal(size=(m, n)), rng.normal(size=m), rng.normal(size=(B, m))

    def L(_):
        return float(np.sum(batch.linear_forward(X, W, b) * G)) / B

    _, dW, _ = batch.linear_backward(G / B, X, W)
    extra = (G / B).T @ X / B  # the "extra 1/B" mistake
    assert rel_error(extra * B, numerical_gradient(L, W)) <= THRESHOLD
    assert rel_error(extra, dW) > 0.5


def test_outer_product_sum_equals_the_matrix_product():
    rng = np.random.default_rng(3)
    dZ, X = rng.normal(size=(9, 4)), rng.normal(size=(9, 6))
    np.testing.assert_allclose(batch.outer_product_sum(dZ, X), dZ.T @ X, rtol=1e-12)


def test_softmax_cross_entropy_per_sample_has_no_one_over_b():
    from nnlib.losses import softmax_cross_entropy

    rng = np.random.default_rng(4)
    Z, y = rng.normal(size=(5, 3)), rng.integers(0, 3, size=5)
    L, dZ = batch.softmax_cross_entropy_per_sample(Z, y)
    L_lib, dZ_lib = softmax_cross_entropy(Z, y)
    assert L == pytest.approx(L_lib, rel=1e-12)
    np.testing.assert_allclose(dZ / 5, dZ_lib, rtol=1e-12, atol=1e-15)


# --- networks --------------------------------------------------------------------------------


def test_two_layer_gradients_match_central_differences_and_nnlib():
    rng = np.random.default_rng(5)
    model = mlp([4, 6, 3], activation="sigmoid", rng=5)
    (W1, b1), (W2, b2) = batch.params_from_model(model)
    b1[...] = rng.normal(size=6) * 0.1
    b2[...] = rng.normal(size=3) * 0.1
    X, y = rng.normal(size=(8, 4)), rng.integers(0, 3, size=8)
    loss, grads = batch.two_layer_loss_and_grads(X, y, W1, b1, W2, b2)
    loss_lib, lib = batch.nnlib_gradients(model, X, y)
    assert loss == pytest.approx(loss_lib, rel=1e-12)

    def L(_):
        return batch.two_layer_loss_and_grads(X, y, W1, b1, W2, b2)[0]

    for name, p, g_lib in [("W1", W1, lib[0][0]), ("b1", b1, lib[0][1]), ("W2", W2, lib[1][0]), ("b2", b2, lib[1][1])]:
        assert grads[name].shape == p.shape
        assert rel_error(grads[name], numerical_gradient(L, p)) <= THRESHOLD, name
        assert rel_error(grads[name], g_lib) <= THRESHOLD, name


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_depth_l_gradients_match_central_differences_and_nnlib(activation):
    rng = np.random.default_rng(6)
    sizes = [3, 5, 4, 2]
    model = mlp(sizes, activation=activation, rng=6)
    params = batch.params_from_model(model)
    for _, b in params:
        b[...] = 0.1 + 0.1 * rng.random(b.shape)  # positive: keeps ReLU inputs away from the kink
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 2, size=6)
    _, grads = batch.loss_and_grads(params, X, y, activation)
    _, lib = batch.nnlib_gradients(model, X, y)

    def L(_):
        return batch.loss_and_grads(params, X, y, activation)[0]

    for (W, b), (dW, db), (dW_lib, db_lib) in zip(params, grads, lib, strict=True):
        assert rel_error(dW, numerical_gradient(L, W)) <= THRESHOLD
        assert rel_error(db, numerical_gradient(L, b)) <= THRESHOLD
        assert rel_error(dW, dW_lib) <= THRESHOLD
        assert rel_error(db, db_lib) <= THRESHOLD


@pytest.mark.parametrize("B", [1, 3, 16])
@pytest.mark.parametrize("depth", [1, 2, 4])
def test_batch_gradient_is_the_mean_of_chapter3_per_sample_gradients(B, depth):
    rng = np.random.default_rng(10 * B + depth)
    sizes = list(rng.integers(2, 7, size=depth + 1))
    params = _random_params(rng, sizes)
    X, y = rng.normal(size=(B, sizes[0])), rng.integers(0, sizes[-1], size=B)
    _, batched = batch.loss_and_grads(params, X, y, "sigmoid")
    p3 = {}
    for l, (W, b) in enumerate(params, start=1):
        p3[f"W{l}"], p3[f"b{l}"] = W, b[:, None]
    per_sample = [backprop.deep_loss_and_grads(p3, X[i][:, None], int(y[i]))[1] for i in range(B)]
    for l, (dW, db) in enumerate(batched, start=1):
        assert rel_error(dW, np.mean([g[f"W{l}"] for g in per_sample], axis=0)) <= 1e-12
        assert rel_error(db, np.mean([g[f"b{l}"][:, 0] for g in per_sample], axis=0)) <= 1e-12


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_mean_of_per_sample_gradients_is_chapter3_column_by_column(activation):
    rng = np.random.default_rng(21)
    params = _random_params(rng, [4, 5, 3, 3])
    X, y = rng.normal(size=(9, 4)), rng.integers(0, 3, size=9)
    p3 = {}
    for l, (W, b) in enumerate(params, start=1):
        p3[f"W{l}"], p3[f"b{l}"] = W, b[:, None]
    per_sample = [backprop.deep_loss_and_grads(p3, X[i][:, None], int(y[i]), activation)[1] for i in range(9)]
    means = batch.mean_of_per_sample_gradients(params, X, y, activation)
    _, batched = batch.loss_and_grads(params, X, y, activation)
    for l, ((dW, db), (bW, bb)) in enumerate(zip(means, batched, strict=True), start=1):
        assert dW.shape == params[l - 1][0].shape and db.shape == params[l - 1][1].shape
        assert rel_error(dW, np.mean([g[f"W{l}"] for g in per_sample], axis=0)) <= 1e-14
        assert rel_error(db, np.mean([g[f"b{l}"][:, 0] for g in per_sample], axis=0)) <= 1e-14
        assert rel_error(dW, bW) <= 1e-12 and rel_error(db, bb) <= 1e-12


def test_mean_of_per_sample_gradients_names_a_transposed_batch():
    params = _random_params(np.random.default_rng(0), [4, 3])
    with pytest.raises(ValueError, match="transposed"):
        batch.mean_of_per_sample_gradients(params, np.zeros((4, 6)), np.zeros(6, dtype=int))


def test_per_sample_loop_equals_batched():
    rng = np.random.default_rng(7)
    params = _random_params(rng, [5, 6, 4])
    X, y = rng.normal(size=(11, 5)), rng.integers(0, 4, size=11)
    loss_b, g_b = batch.loss_and_grads(params, X, y)
    loss_l, g_l = batch.per_sample_loop(params, X, y)
    assert loss_l == pytest.approx(loss_b, rel=1e-12)
    for (a, b), (c, d) in zip(g_b, g_l, strict=True):
        assert rel_error(a, c) <= 1e-12 and rel_error(b, d) <= 1e-12


def test_forward_cache_holds_the_inputs_and_pre_activations():
    params = batch.init_params([4, 3, 2], rng=0)
    X = np.ones((5, 4))
    logits, cache = batch.forward(params, X)
    assert logits.shape == (5, 2)
    assert [(A.shape, Z.shape) for A, Z in cache] == [((5, 4), (5, 3)), ((5, 3), (5, 2))]


# --- memory ------------------------------------------------------------------------------


def test_cache_bytes_per_layer_read_from_the_layers():
    per_layer = batch.cache_memory([64, 128, 10], 32)
    assert per_layer == [("0 Linear(64, 128)", 32 * 64 * 8), ("1 ReLU()", 2 * 32 * 128 * 8), ("2 Linear(128, 10)", 32 * 128 * 8)]


@pytest.mark.parametrize("sizes", [[8, 16, 4], [8, 16, 16, 16, 4]])
def test_cache_grows_linearly_with_batch_size(sizes):
    totals = [sum(n for _, n in batch.cache_memory(sizes, B)) for B in (1, 2, 4, 64)]
    assert totals[1] == 2 * totals[0] and totals[2] == 4 * totals[0] and totals[3] == 64 * totals[0]


def test_cache_grows_linearly_with_depth():
    totals = [sum(n for _, n in batch.cache_memory([10] + [20] * d + [5], 8)) for d in (1, 2, 3, 4)]
    steps = np.diff(totals)
    assert np.all(steps == steps[0]) and steps[0] == 8 * 8 * (20 + 2 * 20)


def test_float32_halves_the_cache():
    f64 = sum(n for _, n in batch.cache_memory([8, 16, 4], 10))
    f32 = sum(n for _, n in batch.cache_memory([8, 16, 4], 10, dtype=np.float32))
    assert f32 * 2 == f64


def test_unique_cache_counts_shared_arrays_once():
    model = mlp([6, 5, 3], rng=0)
    model.forward(np.zeros((4, 6)))
    # X (4x6) + z, a (4x5 each): the second Linear's input is the ReLU's a
    assert batch.unique_cache_nbytes(model) == 8 * 4 * (6 + 5 + 5)
    assert model.cache_nbytes() == 8 * 4 * (6 + 5 + 5 + 5)


def test_training_memory_exceeds_inference_and_scales_with_batch():
    model = mlp([20, 30, 30, 5], rng=0)
    small = batch.training_memory(model, np.zeros((4, 20)))
    large = batch.training_memory(model, np.zeros((400, 20)))
    assert small["params"] == large["params"] == small["grads"]
    assert large["caches"] == 100 * small["caches"]
    assert large["inference_peak"] == 8 * 400 * (30 + 30)
    assert large["params"] + large["grads"] + large["caches"] > large["params"] + large["inference_peak"]
    assert all(layer.cache is None for layer in model.layers)  # inference dropped every cache


# --- bad input -----------------------------------------------------------------------------


def test_transposed_batch_is_reported():
    params = batch.init_params([3, 4, 2], rng=0)
    with pytest.raises(ValueError, match="X has shape .*transposed"):
        batch.loss_and_grads(params, np.zeros((3, 5)), np.zeros(5, dtype=int))


def test_single_vector_is_rejected_with_a_hint():
    with pytest.raises(ValueError, match=r"X must be a batch.*x\[None, :\]"):
        batch.linear_forward(np.zeros(3), np.zeros((2, 3)), np.zeros(2))


def test_bias_of_wrong_shape_is_named():
    with pytest.raises(ValueError, match="b has shape"):
        batch.linear_forward(np.zeros((4, 3)), np.zeros((2, 3)), np.zeros((2, 1)))


def test_dz_of_wrong_shape_is_named():
    with pytest.raises(ValueError, match="dZ has shape"):
        batch.linear_backward(np.zeros((4, 3)), np.zeros((4, 3)), np.zeros((2, 3)))


def test_mismatched_layers_are_named():
    with pytest.raises(ValueError, match="W2 has shape"):
        batch.forward([(np.zeros((4, 3)), np.zeros(4)), (np.zeros((2, 5)), np.zeros(2))], np.zeros((1, 3)))


def test_unknown_activation_is_named():
    with pytest.raises(ValueError, match="activation must be one of"):
        batch.loss_and_grads(batch.init_params([2, 2], rng=0), np.zeros((1, 2)), [0], activation="swish")


def test_bad_labels_are_named():
    with pytest.raises(ValueError, match="y"):
        batch.loss_and_grads(batch.init_params([2, 3], rng=0), np.zeros((2, 2)), [0, 7])


def test_params_must_be_pairs():
    with pytest.raises(TypeError, match="params"):
        batch.forward(np.zeros((2, 2)), np.zeros((1, 2)))
