"""Chapter 3's exercise checks: the reference passes, every catalogued mistake is named, stubs and junk are handled."""

import zlib

import numpy as np

from nnlib.checks import check
from nnlib.checks._registry import exercise_ids

IDS = exercise_ids("ch3")


def test_at_least_five_exercises():
    assert len(IDS) >= 5
    assert {"ch3.sigmoid_prime", "ch3.softmax_ce_grad", "ch3.linear_backward", "ch3.error_recursion",
            "ch3.l2_weight_grad"} <= set(IDS)


# The reference, the catalogued mistakes, the stub and junk answers of every exercise
# are tested for all chapters in tests/test_checks_exercises.py.


def test_message_never_prints_expected_values():
    """A wrong-values message must not leak the reference's numbers."""
    from nnlib.checks.ch3 import sigmoid_prime

    result = check("ch3.sigmoid_prime", lambda z: sigmoid_prime(z) + 0.01 * np.cos(z))
    assert result.status == "incorrect"
    # The first test input, exactly as the check draws it.
    z = np.random.default_rng([zlib.crc32(b"ch3.sigmoid_prime"), 0]).uniform(-6.0, 6.0, size=(7,))
    for v in sigmoid_prime(z):
        assert f"{v:.3f}" not in result.message
        assert f"{v:.3g}" not in result.message


def test_transposed_dW_is_diagnosed_even_for_square_layers():
    result = check("ch3.linear_backward", lambda W, b, x, d: (x @ d.T, d, W.T @ d))
    assert "wrong way round" in result.message


# --- every exercise: enough catalogued mistakes, and no two of them coincide ---------------


def test_every_exercise_has_at_least_eight_catalogued_mistakes():
    from nnlib.checks._registry import get_exercise

    for exercise_id in IDS:
        assert len(get_exercise(exercise_id).wrong_answers) >= 8, exercise_id


def test_no_two_catalogued_mistakes_get_the_same_diagnosis():
    """Each catalogued mistake is named by its own message, and no other mistake's keyword appears in it."""
    import copy

    from nnlib.checks._registry import get_exercise

    for exercise_id in IDS:
        wrong = get_exercise(exercise_id).wrong_answers
        messages = [check(exercise_id, copy.deepcopy(w.answer)).message for w in wrong]
        assert len(set(messages)) == len(messages), exercise_id
        for i, (w, message) in enumerate(zip(wrong, messages, strict=True)):
            assert w.expect.lower() in message.lower(), (exercise_id, w.expect, message)
            for j, other in enumerate(wrong):
                if j != i and other.expect.lower() not in w.expect.lower():
                    assert other.expect.lower() not in message.lower(), (exercise_id, w.expect, other.expect)


# --- issue 17, defect 4: the step h matters ------------------------------------------------


def test_central_difference_that_ignores_h_is_refused():
    from nnlib.checks.ch3 import central_difference

    result = check("ch3.central_difference", lambda f, theta, h: central_difference(f, theta, 1e-5))
    assert result.status == "incorrect"
    assert "does not depend on the step h" in result.message


# --- the capstone: signatures, cache format and the layer named in a diagnosis -------------


def test_two_layer_backward_reference_is_nnlib_backward_on_nnlib_forward_cache():
    from nnlib import backprop as bp
    from nnlib.checks.ch3 import two_layer_backward
    from nnlib.gradcheck import rel_error

    rng = np.random.default_rng(5)
    params = bp.init_params((4, 3, 5), rng=rng)
    x = rng.normal(size=(4, 1))
    cache = bp.forward(params, x)
    assert set(cache) == {"x", "z1", "a1", "z2", "y_hat"}
    y = bp.one_hot_column(2, 5)
    ours, nnlib_grads = two_layer_backward(params, cache, y), bp.backward(params, cache, 2)
    assert set(ours) == set(params)
    for k in params:
        assert ours[k].shape == params[k].shape
        assert rel_error(ours[k], nnlib_grads[k]) <= 1e-12


def test_backprop_reference_is_nnlib_deep_backward_sigmoid_softmax():
    from nnlib import backprop as bp
    from nnlib.checks.ch3 import backprop
    from nnlib.gradcheck import numerical_gradient, rel_error

    rng = np.random.default_rng(6)
    for sizes in [(2, 3, 2), (4, 5, 3, 2), (3, 3, 3, 3, 3)]:
        params = bp.init_params(sizes, rng=rng)
        x = rng.normal(size=(sizes[0], 1))
        c = sizes[-1] - 1
        ours = backprop(params, x, bp.one_hot_column(c, sizes[-1]))
        ref = bp.deep_backward(params, bp.deep_forward(params, x, "sigmoid", "softmax"), c)
        for k in params:
            assert rel_error(ours[k], ref[k]) <= 1e-12
            def loss(_, params=params, x=x, c=c):
                return bp.deep_loss(bp.deep_forward(params, x, "sigmoid", "softmax"), c)

            numeric = numerical_gradient(loss, params[k])
            assert rel_error(ours[k], numeric) <= 1e-7


def _deep_with_layer_bug(bug_layer):
    """A learner's backprop with BP2's sigma' forgotten only at one layer."""
    from nnlib.checks.ch3 import _sig, _softmax_col

    def answer(params, x, y):
        D = len(params) // 2
        a, zs = [x], [None]
        for l in range(1, D + 1):
            zs.append(params[f"W{l}"] @ a[-1] + params[f"b{l}"])
            a.append(_softmax_col(zs[l]) if l == D else _sig(zs[l]))
        delta = {D: a[D] - y}
        for l in range(D - 1, 0, -1):
            prime = 1.0 if l == bug_layer else a[l] * (1 - a[l])
            delta[l] = (params[f"W{l + 1}"].T @ delta[l + 1]) * prime
        return {k: v for l in range(1, D + 1) for k, v in
                ((f"W{l}", delta[l] @ a[l - 1].T), (f"b{l}", delta[l]))}

    return answer


def test_backprop_diagnosis_names_the_layer():
    """A mistake only at layer 1 is reported at dW1, not at a deeper layer."""
    result = check("ch3.backprop", _deep_with_layer_bug(1))
    assert result.status == "incorrect"
    assert "dW1 (layer 1)" in result.message and "sigma'(z_1)" in result.message


def test_capstone_dicts_with_wrong_shapes_or_nan_get_feedback():
    """The generic junk answers, for answers that are dicts of gradients."""
    from nnlib.checks.ch3 import backprop, two_layer_backward

    for exercise_id, ref in [("ch3.two_layer_backward", two_layer_backward), ("ch3.backprop", backprop)]:
        stacked = check(exercise_id, lambda *a, ref=ref: {k: np.stack([v, v]) for k, v in ref(*a).items()})
        assert stacked.status == "incorrect" and "shape" in stacked.message
        nan = check(exercise_id, lambda *a, ref=ref: {k: np.full(v.shape, np.nan) for k, v in ref(*a).items()})
        assert nan.status == "incorrect" and "NaN" in nan.message
        listed = check(exercise_id, lambda *a, ref=ref: list(ref(*a).values()))
        assert listed.status == "incorrect" and "dict" in listed.message
        missing = check(exercise_id, lambda *a, ref=ref: {k: v for k, v in ref(*a).items() if k != "b2"})
        assert missing.status == "incorrect" and "'b2'" in missing.message


# --- issue 17, defect 2: the chapter imports no name the learner defines -------------------


def test_chapter_imports_no_name_the_learner_is_asked_to_define():
    import ast
    import json
    from pathlib import Path

    nb = json.loads((Path(__file__).parents[1] / "chapters" / "03_backprop_single.ipynb").read_text())
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    stubs = set()
    for src in code:
        if "raise NotImplementedError" in src:
            stubs |= {n.name for n in ast.parse(src).body if isinstance(n, ast.FunctionDef)}
    assert {"sigmoid_prime", "two_layer_backward", "backprop"} <= stubs
    for src in code:
        for node in ast.walk(ast.parse(src.replace("%", "#"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nnlib"):
                assert not {a.asname or a.name for a in node.names} & stubs, src


def test_two_layer_backward_that_reads_the_notebook_cache_is_named():
    """The realistic stale cache: x, a1, y_hat read from the notebook instead of from `cache`."""
    from nnlib.checks.ch3 import _make_notebook_reader

    result = check("ch3.two_layer_backward", _make_notebook_reader())
    assert result.status == "incorrect"
    assert "reads the notebook's variables a1, x, y_hat" in result.message
    assert "stale cache" in result.message
