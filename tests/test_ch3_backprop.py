"""nnlib.backprop (Chapter 3): every gradient against central differences, the nnlib layers and the engine."""

import numpy as np
import pytest

from nnlib import backprop as bp
from nnlib import softmax_cross_entropy
from nnlib.engine import Value
from nnlib.gradcheck import THRESHOLD, numerical_gradient, rel_error


def _setup(sizes=(3, 4, 2), seed=0):
    rng = np.random.default_rng(seed)
    return bp.init_params(sizes, rng=rng), rng.normal(size=(sizes[0], 1))


@pytest.mark.parametrize("lam", [0.0, 0.3])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_layer_gradients_match_central_differences(lam, seed):
    params, x = _setup(seed=seed)
    y = seed % 2
    J, grads = bp.loss_and_grads(params, x, y, lam=lam)
    assert set(grads) == {"W1", "b1", "W2", "b2"}
    for name, p in params.items():
        assert grads[name].shape == p.shape
        numeric = numerical_gradient(lambda _: bp.loss_and_grads(params, x, y, lam=lam)[0], p)
        assert rel_error(grads[name], numeric) <= THRESHOLD, name  # float64 pass mark 1e-7


def test_deltas_are_the_gradients_of_the_intermediates():
    params, x = _setup()
    cache = bp.forward(params, x)
    _, deltas = bp.backward(params, cache, 1, return_deltas=True)
    W2, b2 = params["W2"], params["b2"]
    y = np.array([[0.0], [1.0]])

    def from_z2(z2):
        return bp.loss({"z2": z2}, y)

    def from_a1(a1):
        return from_z2(W2 @ a1 + b2)

    def from_z1(z1):
        return from_a1(1 / (1 + np.exp(-z1)))

    assert rel_error(deltas["delta2"], numerical_gradient(from_z2, cache["z2"].copy())) <= THRESHOLD
    assert rel_error(deltas["da1"], numerical_gradient(from_a1, cache["a1"].copy())) <= THRESHOLD
    assert rel_error(deltas["delta1"], numerical_gradient(from_z1, cache["z1"].copy())) <= THRESHOLD
    # the sign: prediction minus target
    assert np.allclose(deltas["delta2"], cache["y_hat"] - y)


def test_one_hot_and_index_targets_agree():
    params, x = _setup()
    cache = bp.forward(params, x)
    g_idx = bp.backward(params, cache, 1)
    g_hot = bp.backward(params, cache, np.array([[0.0], [1.0]]))
    for k in g_idx:
        assert np.array_equal(g_idx[k], g_hot[k])


def test_matches_nnlib_layers_and_conversion_round_trips():
    params, x = _setup(seed=4)
    model = bp.to_sequential(params)
    L, dlogits = softmax_cross_entropy(model.forward(x), [0])
    model.zero_grad()
    model.backward(dlogits)
    back, grads_model = bp.from_sequential(model)
    J, grads = bp.loss_and_grads(params, x, 0)
    assert np.isclose(L, J, rtol=1e-12)
    for k in params:
        assert np.array_equal(back[k], params[k])
        assert rel_error(grads[k], grads_model[k]) <= THRESHOLD


def test_matches_the_scalar_engine():
    params, x = _setup(sizes=(2, 3, 3), seed=5)
    V = {k: [[Value(float(v)) for v in row] for row in P] for k, P in params.items()}
    z1 = [sum((V["W1"][j][i] * float(x[i, 0]) for i in range(2)), V["b1"][j][0]) for j in range(3)]
    a1 = [f.sigmoid() for f in z1]
    z2 = [sum((V["W2"][k][j] * a1[j] for j in range(3)), V["b2"][k][0]) for k in range(3)]
    exps = [f.exp() for f in z2]
    L = -(z2[2] - sum(exps[1:], exps[0]).log())
    L.backward()
    _, grads = bp.loss_and_grads(params, x, 2)
    for k in params:
        engine = np.array([[v.grad for v in row] for row in V[k]])
        assert rel_error(grads[k], engine) <= THRESHOLD


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "leaky_relu", "identity"])
@pytest.mark.parametrize("output", ["softmax", "activation"])
@pytest.mark.parametrize("lam", [0.0, 0.1])
def test_deep_recursion_matches_central_differences(activation, output, lam):
    params, x = _setup(sizes=(4, 5, 3, 2), seed=6)
    y = 1 if output == "softmax" else np.array([[0.3], [-0.2]])
    J, grads = bp.deep_loss_and_grads(params, x, y, activation, output, lam)
    for name, p in params.items():
        numeric = numerical_gradient(lambda _: bp.deep_loss_and_grads(params, x, y, activation, output, lam)[0], p)
        assert rel_error(grads[name], numeric) <= THRESHOLD, name


def test_deep_equals_two_layer_for_two_layers():
    params, x = _setup()
    cache = bp.deep_forward(params, x, "sigmoid", "softmax")
    deep = bp.deep_backward(params, cache, 0, lam=0.2)
    two = bp.backward(params, bp.forward(params, x), 0, lam=0.2)
    assert np.isclose(bp.deep_loss(cache, 0), bp.loss(bp.forward(params, x), 0), rtol=1e-12)
    for k in two:
        assert np.allclose(deep[k], two[k], rtol=1e-12, atol=0)


def test_deep_deltas_obey_bp2():
    params, x = _setup(sizes=(4, 5, 3, 2), seed=8)
    cache = bp.deep_forward(params, x, "tanh", "activation")
    grads, deltas = bp.deep_backward(params, cache, np.zeros((2, 1)), return_deltas=True)
    for l in (1, 2):
        z = cache["z"][l]
        expected = (params[f"W{l + 1}"].T @ deltas[l + 1]) * (1 - np.tanh(z) ** 2)
        assert np.allclose(deltas[l], expected, rtol=1e-12, atol=0)
        assert np.array_equal(grads[f"b{l}"], deltas[l])


def test_backward_reads_only_what_it_declares():
    params, x = _setup()
    cache = bp.RecordingCache(bp.forward(params, x))
    bp.backward(params, cache, 0)
    assert sorted(cache.reads) == sorted(bp.BACKWARD_READS)
    # and does not need the rest
    slim = {k: cache[k] for k in bp.BACKWARD_READS}
    full = bp.backward(params, bp.forward(params, x), 0)
    for k, g in bp.backward(params, slim, 0).items():
        assert np.array_equal(g, full[k])


def test_l2_penalty_value():
    params, _ = _setup()
    expected = 0.5 * 0.4 * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    assert np.isclose(bp.l2_penalty(params, 0.4), expected, rtol=1e-12)


# --- bad input ---------------------------------------------------------------------


def test_row_vector_input_is_rejected_with_a_clear_message():
    params, x = _setup()
    with pytest.raises(ValueError, match="x must be one sample as a column"):
        bp.forward(params, x.T.repeat(2, axis=0))


def test_wrong_input_length_names_x():
    params, _ = _setup()
    with pytest.raises(ValueError, match="x has 5 entries but the network expects 3"):
        bp.forward(params, np.ones((5, 1)))


def test_vector_bias_is_rejected_with_the_fix():
    params, x = _setup()
    params["b1"] = params["b1"][:, 0]
    with pytest.raises(ValueError, match=r"b\[:, None\]"):
        bp.forward(params, x)


def test_mismatched_layers_are_named():
    params, x = _setup()
    params["W2"] = np.ones((2, 7))
    with pytest.raises(ValueError, match="W2"):
        bp.forward(params, x)


@pytest.mark.parametrize("y, match", [(5, r"class index in \[0, 1\]"), (np.array([[0.5], [0.5]]), "one-hot"),
                                      (np.ones((3, 1)), "3 entries but the network has 2 outputs")])
def test_bad_targets(y, match):
    params, x = _setup()
    with pytest.raises(ValueError, match=match):
        bp.backward(params, bp.forward(params, x), y)


def test_penalty_needs_params():
    params, x = _setup()
    with pytest.raises(ValueError, match="lam > 0 needs params"):
        bp.loss(bp.forward(params, x), 0, lam=0.1)


def test_unknown_activation_lists_the_choices():
    params, x = _setup()
    with pytest.raises(ValueError, match="activation must be one of"):
        bp.deep_forward(params, x, activation="swish")


def test_forward_rejects_other_depths():
    params, x = _setup(sizes=(3, 4, 4, 2))
    with pytest.raises(ValueError, match="deep_forward"):
        bp.forward(params, x)


def test_params_must_be_a_dict():
    with pytest.raises(TypeError, match="params must be a dict"):
        bp.forward([np.ones((2, 2))], np.ones((2, 1)))


# --- the referees of the chapter's derivation ---------------------------------------


def test_referees_agree_with_backward_for_every_quantity():
    params, x = _setup(sizes=(2, 3, 2), seed=3)
    cache = bp.forward(params, x)
    grads, deltas = bp.backward(params, cache, 1, return_deltas=True)
    ours = {"z2": deltas["delta2"], "a1": deltas["da1"], "z1": deltas["delta1"], **grads}
    refs = bp.referees(params, x, 1)
    assert set(refs) == {"L", "z2", "W2", "b2", "a1", "z1", "W1", "b1"}
    for name, by_referee in refs.items():
        if name == "L":
            continue
        assert len(by_referee) == 3 and "central differences" in by_referee and "Value engine" in by_referee
        for who, ref in by_referee.items():
            assert ref.shape == ours[name].shape, (name, who)
            assert rel_error(ours[name], ref) <= THRESHOLD, (name, who)
    for who, L in refs["L"].items():
        assert np.isclose(L, bp.loss(cache, 1), rtol=1e-12), who


def test_referees_leave_params_untouched_and_take_one_hot_targets():
    params, x = _setup(sizes=(2, 3, 2), seed=3)
    before = {k: v.copy() for k, v in params.items()}
    a = bp.referees(params, x, 0)
    b = bp.referees(params, x, np.array([[1.0], [0.0]]))
    for k in params:
        assert np.array_equal(params[k], before[k])
    assert np.array_equal(a["W1"]["Value engine"], b["W1"]["Value engine"])


def test_value_network_is_the_two_layer_loss():
    params, x = _setup(sizes=(3, 4, 3), seed=9)
    L, V, nodes = bp.value_network(params, x, 2)
    assert np.isclose(L.data, bp.loss(bp.forward(params, x), 2), rtol=1e-12)
    assert len(nodes["z1"]) == 4 and len(nodes["z2"]) == 3 and len(V["W1"]) == 4
