"""Diagnoses for mistakes that no check catalogued, the ambiguity rule, answers that are
nnlib's own objects, and how a message is rendered (code in HTML, plain text elsewhere).

The wrong answers here are written for these tests and are in no exercise's catalogue:
the messages come from the generic patterns of ``nnlib.checks.diagnose``.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

import nnlib.activations as act
from nnlib.checks import CheckResult, Mistake, check, exercise
from nnlib.checks import diagnose as d
from nnlib.grade import collect

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "grading"))
import demo_checks  # noqa: E402,F401  (registers demo.row_sums)

# --- demo exercises of this module (not in registry(): registered from a test module) ---------

# Distinct primes for B, n and m, so that no two sizes coincide on a non-square case.
_AFFINE_SIZES = [(5, 3, 2), (7, 2, 3), (3, 5, 7)]


def affine(X, W, b):
    """Z = X W^T + b^T: one sample per row of X (B, n); W (m, n); b (m,)."""
    return X @ W.T + b


def _affine_inputs(rng, i):
    B, n, m = _AFFINE_SIZES[i]
    return {"X": rng.normal(size=(B, n)), "W": rng.normal(size=(m, n)), "b": rng.normal(size=m) + 2.0}


@exercise("patterns.affine", points=1, title="An affine layer", reference=affine)
def _check_affine(answer, t):
    fn = t.require_callable()
    for case in t.cases(_affine_inputs, n=len(_AFFINE_SIZES)):
        X, W, b = case.args
        t.compare(t.call(fn, X, W, b), t.reference(X, W, b), "Z", hint="one row of Z per sample.")


def row_means(A):
    return A.sum(axis=1) / A.shape[1]


_MEAN_SHAPES = [(3, 3), (4, 4), (3, 5), (6, 2)]  # square first: a square case hides a swap


@exercise("patterns.row_means", points=1, title="Row means", reference=row_means)
def _check_row_means(answer, t):
    fn = t.require_callable()
    for case in t.cases(lambda rng, i: {"A": rng.normal(size=_MEAN_SHAPES[i]) + 1.0}, n=len(_MEAN_SHAPES)):
        (A,) = case.args
        t.compare(t.call(fn, A), t.reference(A), "the means")


# Two catalogued mistakes that give the same result when c = 1 (the first case) and differ
# when c = 2; a third that always gives the same result as the first.
def _scaled(x, c):
    return 3.0 * x


@exercise("patterns.ambiguous", points=1, title="Ambiguity", reference=_scaled)
def _check_ambiguous(answer, t):
    fn = t.require_callable()
    for case in t.cases(lambda rng, i: {"x": rng.normal(size=4), "c": [1.0, 2.0][i]}, n=2):
        x, c = case.args
        t.compare(
            t.call(fn, x, c),
            t.reference(x, c),
            "y",
            mistakes=[
                Mistake(c * x, "MISTAKE-P: c where 3 belongs."),
                Mistake(c * c * x, "MISTAKE-Q: c squared where 3 belongs."),
                Mistake(-3.0 * x if c == 1.0 else 99 * x, "MISTAKE-R: only seen on the first case."),
            ],
        )


@exercise("patterns.twins", points=1, title="Twins", reference=_scaled)
def _check_twins(answer, t):
    fn = t.require_callable()
    for case in t.cases(lambda rng, i: {"x": rng.normal(size=4), "c": [1.0, 2.0][i]}, n=2):
        x, c = case.args
        t.compare(
            t.call(fn, x, c),
            t.reference(x, c),
            "y",
            mistakes=[
                Mistake(x, "MISTAKE-A: the factor 3 is missing."),
                Mistake(x.copy(), "MISTAKE-B: 3 was divided by itself."),
            ],
        )


def _message(exercise_id, answer):
    result = check(exercise_id, answer)
    assert result.status == "incorrect", result.message
    return result.message


# --- pattern diagnoses on uncatalogued mistakes ---------------------------------------------------


def _last_column_zero(X, W, b):
    Z = affine(X, W, b)
    Z[:, -1] = 0.0
    return Z


def _last_column_off(X, W, b):
    Z = affine(X, W, b)
    Z[:, -1] += 1.0
    return Z


def _first_sample_only(X, W, b):
    Z = affine(X, W, b)
    Z[1:] += 1.0 + np.arange(Z.shape[1])
    return Z


def _one_entry(X, W, b):
    Z = affine(X, W, b)
    Z[1, 0] += 5.0
    return Z


def _per_row_scale(X, W, b):
    Z = affine(X, W, b)
    return Z * (1.0 + np.arange(Z.shape[0]))[:, None]


def _nan_last_row(X, W, b):
    Z = affine(X, W, b)
    Z[-1] = np.nan
    return Z


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda X, W, b: 4 * affine(X, W, b), ["Z is 4 times the correct value"]),
        (lambda X, W, b: affine(X, W, b) / 4, ["Z is 1/4 of the correct value", "4 times too small"]),
        (lambda X, W, b: 3 * affine(X, W, b), ["Z is X.shape[1] = W.shape[1] = 3 times the correct value"]),
        (lambda X, W, b: -affine(X, W, b) / 6, ["Z is minus 1/6 of the correct value"]),
        (lambda X, W, b: 1.5 * affine(X, W, b), ["Z is 3/2 times the correct value"]),
        (lambda X, W, b: affine(X, W, b) / X.shape[0], ["Z is X.shape[0] = 5 times too small"]),
        (lambda X, W, b: affine(X, W, b) * X.shape[0], ["Z is X.shape[0] = 5 times the correct value"]),
        (lambda X, W, b: -affine(X, W, b), ["wrong sign"]),
        (lambda X, W, b: X @ W.T, ["off by the same row in every row", "bias"]),
        (lambda X, W, b: affine(X, W, b) + 0.25, ["off by the same amount in every entry"]),
        (lambda X, W, b: affine(X, W, b)[::-1], ["right rows in the wrong order (reversed)"]),
        (lambda X, W, b: np.roll(affine(X, W, b), 1, axis=0), ["right rows in the wrong order (shifted by 1"]),
        (lambda X, W, b: affine(X, W, b)[:, ::-1], ["right columns in the wrong order (reversed)"]),
        (lambda X, W, b: np.zeros((X.shape[0], W.shape[0])), ["Z is all zeros"]),
        (_last_column_zero, ["Z is zero where it should not be", "only the last column is wrong"]),
        (_last_column_off, ["only the last column is wrong (column 1 of 0 to 1)"]),
        (_first_sample_only, ["only the first row is right", "rows 1 to 4 are wrong", "an index fixed at 0"]),
        (_one_entry, ["Z has one wrong value: only one entry is wrong, at index (1, 0)"]),
        (_per_row_scale, ["each row pointing the right way but scaled by its own factor"]),
        (_nan_last_row, ["2 NaN", "only the last row is affected"]),
    ],
)
def test_uncatalogued_mistakes_get_a_pattern_diagnosis(answer, words):
    message = _message("patterns.affine", answer)
    for word in words:
        assert word in message, message
    assert "Test 1 of 3 (X: (5, 3), W: (2, 3), b: (2,))" in message  # which test, which output
    if "NaN" not in message and "sign" not in message and "times" not in message:
        assert "Hint: one row of Z per sample." in message  # the exercise's hint comes along


def test_first_row_only_speaks_of_samples_when_rows_are_the_batch():
    expected = np.arange(1.0, 13.0).reshape(4, 3)
    got = expected.copy()
    got[1:] *= 2.0 + np.arange(3.0)[None, :]
    message = d.diagnose(got, expected, "dZ", batch_size=4)
    assert "only the first row is right (rows 1 to 3 are wrong: as if only the first sample" in message
    assert "sample" not in d.diagnose(got, expected, "dW")


def test_a_factor_shared_by_many_sizes_lists_two_of_them():
    expected = np.arange(1.0, 10.0).reshape(3, 3)
    sizes = {"W.shape[0]": 3, "W.shape[1]": 3, "x.shape[0]": 3, "lr": 0.1}
    message = d.diagnose(3 * expected, expected, "dW", sizes=sizes)
    assert message.startswith("dW is W.shape[0] = W.shape[1] = ... = 3 times the correct value")
    assert d.diagnose(expected / 10, expected, "dW", sizes={"lr": 0.1}).startswith(
        "dW is lr times the correct value: a factor lr is extra"
    )
    assert d.diagnose(expected * 10, expected, "dW", sizes={"lr": 0.1}).startswith(
        "dW is the correct value divided by lr: it divides by lr once too often"
    )


def test_an_arbitrary_factor_is_not_printed():
    message = _message("patterns.affine", lambda X, W, b: 3.7 * affine(X, W, b))
    assert "constant factor" in message and "3.7" not in message


def test_right_only_on_square_inputs_says_so():
    message = _message("patterns.row_means", lambda A: A.sum(axis=1) / A.shape[0])
    assert message.startswith("✗ incorrect [patterns.row_means]")
    assert "Test 3 of 4 (A: (3, 5))" in message and "5/3 times the correct value" in message
    assert "right on tests 1 to 2, where every matrix was square" in message
    # and when the code raises on the first non-square input
    crashing = check("patterns.row_means", lambda A: A @ np.ones(A.shape[0]) / A.shape[0])
    assert crashing.status == "error"
    assert "ValueError" in crashing.message and "every matrix was square" in crashing.message


def test_no_square_note_when_a_non_square_case_passed_before():
    def wrong_on_the_last(A):
        return row_means(A) * (2.0 if A.shape == (6, 2) else 1.0)

    message = _message("patterns.row_means", wrong_on_the_last)
    assert "Test 4 of 4" in message and "twice" in message and "square" not in message


def test_patterns_on_real_exercises_with_hand_made_mistakes():
    s = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
    three = _message("ch3.sigmoid_prime", lambda z: 3 * s(z) * (1 - s(z)))
    assert "sigmoid_prime(z) is 3 times the correct value" in three
    reversed_ = _message("ch3.sigmoid_prime", lambda z: (s(z) * (1 - s(z)))[::-1])
    assert "Test 1 of 5 (z: (7,))" in reversed_ and "right entries in the wrong order (reversed)" in reversed_

    def last_entry_zero(z):
        out = s(z) * (1 - s(z))
        out.reshape(-1)[-1] = 0.0
        return out

    zero = _message("ch3.sigmoid_prime", last_entry_zero)
    assert "zero where it should not be" in zero and "only one entry is wrong, at index 6" in zero
    rows = _message("demo.row_sums", lambda A: 3 * A.sum(axis=1))
    assert "the result is A.shape[0] = 3 times the correct value" in rows
    cols = _message("demo.row_sums", lambda A: A.sum(axis=1) / A.shape[1])
    assert "A.shape[1] = 5 times too small" in cols


def test_catalogued_mistakes_still_come_first():
    message = _message("demo.row_sums", lambda A: A.sum(axis=0))
    assert "wrong axis" in message


# --- ambiguity: name a mistake only when no other catalogued one predicts the same ------------


def test_an_ambiguous_match_waits_for_a_case_that_tells_the_mistakes_apart():
    p = _message("patterns.ambiguous", lambda x, c: c * x)
    assert "Test 2 of 2" in p and "MISTAKE-P" in p and "MISTAKE-Q" not in p
    q = _message("patterns.ambiguous", lambda x, c: c * c * x)
    assert "Test 2 of 2" in q and "MISTAKE-Q" in q and "MISTAKE-P" not in q


def test_a_match_no_case_resolves_names_every_candidate_honestly():
    # matches P and Q on test 1, then neither: the answer is none of them exactly
    message = _message("patterns.ambiguous", lambda x, c: c**3 * x)
    assert "Test 1 of 2" in message
    assert "matches two known mistakes" in message and "MISTAKE-P" in message and "MISTAKE-Q" in message
    # two mistakes that always predict the same: both are named, on the last case
    twins = _message("patterns.twins", lambda x, c: x)
    assert "Test 2 of 2" in twins and "MISTAKE-A" in twins and "MISTAKE-B" in twins
    assert "cannot tell which one you made" in twins


def test_a_unique_match_is_named_at_once():
    message = _message("patterns.ambiguous", lambda x, c: -3.0 * x)
    assert "Test 1 of 2" in message and "MISTAKE-R" in message and "matches" not in message


def test_a_correct_answer_is_never_held_back_by_the_ambiguity_rule():
    assert check("patterns.ambiguous", _scaled).passed
    assert check("patterns.twins", _scaled).passed


def test_judge_reports_which_mistakes_matched():
    x = np.arange(1.0, 4.0)
    a, b = Mistake(x, "A"), Mistake(x, "B")
    verdict = d.judge(x, 2 * x, "y", mistakes=[a, b])
    assert verdict.ambiguous and verdict.named == (a, b)
    assert d.judge(x, 2 * x, "y", mistakes=[a, Mistake(x, "A")]).kind == "named"  # same message: one
    assert d.judge(2 * x, 2 * x, "y", mistakes=[a, b]) is None


# --- answers that are not the learner's own code (defect 2) ---------------------------------------


def test_nnlibs_own_function_is_refused_by_name():
    result = check("ch3.sigmoid_prime", act.sigmoid_prime)
    assert result.status == "incorrect" and result.points == 0
    assert "This is nnlib's own sigmoid_prime (nnlib.activations.sigmoid_prime), not yours" in result.message
    assert "Run the cell that defines sigmoid_prime" in result.message
    assert check("ch3.sigmoid_prime", functools.partial(act.sigmoid_prime)).status == "incorrect"


def test_library_functions_are_not_graded_as_the_learners():
    message = _message("patterns.affine", np.add)
    assert "This is numpy's add (numpy.add), not a function you wrote" in message
    assert "Python's built-in max" in _message("patterns.affine", max)


def test_references_wrapped_calls_and_test_functions_are_graded():
    import nnlib.checks.ch3 as ch3

    assert check("ch3.sigmoid_prime", ch3.sigmoid_prime).passed  # defined in nnlib.checks
    assert check("ch3.sigmoid_prime", lambda z: act.sigmoid_prime(z)).passed  # the learner's own lambda
    assert check("patterns.affine", affine).passed  # defined in a test module
    namespace: dict = {}
    exec("def affine(X, W, b):\n    return X @ W.T + b", namespace)  # no module name at all
    assert check("patterns.affine", namespace["affine"]).passed

    class Layer:
        def __call__(self, X, W, b):
            return affine(X, W, b)

    assert check("patterns.affine", Layer()).passed  # a callable object of the learner's class


def test_a_broken_cell_does_not_earn_nnlibs_points(tmp_path):
    """Regression: the chapter imports nnlib's function, the learner's cell fails to run."""
    from nbclient import NotebookClient

    cells = [
        "from nnlib.activations import sigmoid_prime\nfrom nnlib.checks import check",
        "def sigmoid_prime(z)\n    return z",  # a syntax error: the name keeps nnlib's function
        'r = check("ch3.sigmoid_prime", sigmoid_prime)',
        "print(r.status, r.points)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    env_path = os.pathsep.join([str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")])
    client = NotebookClient(
        nb, timeout=60, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute(env={**os.environ, "PYTHONPATH": env_path})
    shown = nb.cells[2].outputs[0]["data"]
    assert "nnlib's own" in shown["text/plain"] and "not yours" in shown["text/plain"]
    assert "<code>sigmoid_prime</code>" in shown["text/html"]
    assert nb.cells[3].outputs[0]["text"] == "incorrect 0.0\n"


# --- rendering: code in the notebook, plain text elsewhere (defect 6) ----------------------------


def _stub_result():
    def sigmoid_prime(z):
        raise NotImplementedError

    return check("ch3.sigmoid_prime", sigmoid_prime)


def test_code_marks_render_as_code_in_html_and_markdown():
    result = _stub_result()
    assert result.detail.startswith("`sigmoid_prime` still raises NotImplementedError")
    html = result._repr_html_()
    assert "<code>sigmoid_prime</code> still raises" in html and "`" not in html
    markdown = result._repr_markdown_()
    assert "`sigmoid_prime` still raises" in markdown and markdown.startswith("**… not attempted yet")


def test_plain_text_has_no_code_marks_and_stays_readable():
    result = _stub_result()
    assert "`" not in result.message and "`" not in str(result) and "`" not in repr(result)
    assert "sigmoid_prime still raises NotImplementedError" in result.message
    assert "`" not in result.plain_detail


def test_html_escapes_inside_and_outside_code():
    r = CheckResult("ch9.x", "incorrect", 0.0, 1.0, "`a<b` & `<script>` and a lone ` tick", "X")
    html = r._repr_html_()
    assert "<code>a&lt;b</code> &amp; <code>&lt;script&gt;</code>" in html and "<script>" not in html
    assert "a lone ` tick" in html
    assert r.message.endswith("a<b & <script> and a lone ` tick")


def test_markdown_escapes_what_it_would_read_as_markup():
    r = CheckResult("ch9.x", "incorrect", 0.0, 1.0, "dW_1 has [rows] <here>, `d_W` is code", "X")
    assert r.markdown == "**✗ incorrect \\[ch9.x\\] (0/1 points)**  \ndW\\_1 has \\[rows\\] \\<here>, `d_W` is code"


def test_grading_log_and_csv_rows_are_plain(tmp_path, monkeypatch):
    log = tmp_path / "log.jsonl"
    monkeypatch.setenv("NNLIB_GRADE_LOG", str(log))
    _stub_result()
    entry = json.loads(log.read_text(encoding="utf-8").splitlines()[-1])
    assert "`" not in entry["detail"] and "`" not in entry["message"]
    best = collect.best_results(collect.read_log(log), {"ch3.sigmoid_prime": 1.0})
    assert best["ch3.sigmoid_prime"]["message"].startswith("not attempted: sigmoid_prime still raises")


def test_every_line_of_every_diagnosis_here_fits_the_code_column():
    from nnlib.checks._result import _fit_column

    answers = [lambda X, W, b: 3 * affine(X, W, b), _last_column_zero, _first_sample_only, _nan_last_row, np.add]
    for answer in answers:
        shown = _fit_column(check("patterns.affine", answer).message)
        assert all(len(line) <= 88 for line in shown.splitlines()), shown
        assert "True" not in shown and "False" not in shown


# --- wrong entries where an input has a given sign ---------------------------------------------


@exercise("patterns.relu_backward", points=1, title="ReLU backward", reference=lambda dout, z: dout * (z > 0))
def _check_relu_backward(answer, t):
    fn = t.require_callable()
    for case in t.cases(lambda rng, i: {"dout": rng.normal(size=(4, 3)), "z": rng.normal(size=(4, 3))}, n=2):
        dout, z = case.args
        t.compare(t.call(fn, dout, z), t.reference(dout, z), "dz")


def test_wrong_entries_exactly_where_an_input_is_positive_are_named_so():
    message = _message("patterns.relu_backward", lambda dout, z: np.where(z > 0, dout * z, 0.0))
    assert "the wrong entries are exactly those where z > 0, and the others are right" in message
    zero = _message("patterns.relu_backward", lambda dout, z: np.where(z > 0, 0.0, 0.0) + 0.0 * dout)
    assert "all zeros" in zero
    negative = _message("patterns.relu_backward", lambda dout, z: np.where(z > 0, dout, 0.5 * dout))
    assert "exactly those where z < 0" in negative


# --- results in the wrong order ------------------------------------------------------------------


@exercise("patterns.pair", points=1, title="Two results", reference=lambda A: (A.sum(axis=0), A.sum(axis=1)))
def _check_pair(answer, t):
    fn = t.require_callable()
    for case in t.cases(lambda rng, i: {"A": rng.normal(size=(3, 5))}, n=2):
        (A,) = case.args
        cols, rows = t.unpack(t.call(fn, A), ("col_sums", "row_sums"))
        want_cols, want_rows = t.reference(A)
        t.compare(cols, want_cols, "col_sums")
        t.compare(rows, want_rows, "row_sums")


def test_results_returned_in_the_wrong_order_are_told_so():
    message = _message("patterns.pair", lambda A: (A.sum(axis=1), A.sum(axis=0)))
    assert "col_sums is in the wrong place: what you return as row_sums (result 2) is the correct col_sums" in message
    assert "Return the results in the order (col_sums, row_sums)." in message
    assert "reduced" not in message


def test_a_single_number_for_a_vector_is_not_called_a_reduction():
    message = d.diagnose(1.5, np.ones(3), "dw")
    assert message == "dw has the wrong shape: expected shape (3,), got a single number (shape ())."


# --- inputs changed in place ----------------------------------------------------------------------


@exercise("patterns.scale_in_place", points=1, title="Scale in place", reference=lambda x: x.__imul__(2.0), in_place=True)
def _check_in_place(answer, t):
    fn = t.require_callable()
    for case in t.cases(lambda rng, i: {"x": rng.normal(size=3)}, n=2):
        (x,) = case.args
        t.compare(t.call(fn, x), 2 * x, "x")


def test_an_answer_that_changes_its_input_in_place_fails_and_says_which():
    def clobbers(X, W, b):
        Z = affine(X, W, b)
        X[:] = 0.0
        return Z

    message = _message("patterns.affine", clobbers)
    assert "Test 1 of 3" in message and "clobbers changed its input X in place" in message
    # a wrong value found by the checker comes first
    assert "wrong sign" in _message("patterns.affine", lambda X, W, b: -clobbers(X, W, b))


def test_an_exercise_may_allow_changes_in_place():
    def double_in_place(x):
        x *= 2.0
        return x

    assert check("patterns.scale_in_place", double_in_place).passed


# --- wrong shapes: how they came about ----------------------------------------------------------

_D = np.random.default_rng(3).normal(size=(5, 3))


@pytest.mark.parametrize(
    "got, expected, words",
    [
        (_D, _D.sum(axis=0), ["wrong shape", "their sum over that axis is right", "sum over the batch"]),
        (_D, _D.mean(axis=0), ["their mean over that axis is right", "average over the batch"]),
        (np.stack([_D[0], _D[0]]), _D[0], ["Each of its 2 parts along axis 0 is the whole right answer"]),
        (_D, _D[0] + 1.0, ["extra leading axis of size 5"]),
        (_D.sum(axis=0), _D, ["Axis 0 of size 5 is missing"]),
        (_D.sum(axis=1), _D, ["The last axis, of size 3, is missing"]),
        (np.ones((3, 3)), np.ones((3, 1)), ["A square (3, 3) from a vector of 3 entries is numpy broadcasting"]),
        (_D.sum(axis=1, keepdims=True), _D, ["One column came back instead of several"]),
        (_D.sum(axis=0, keepdims=True), _D, ["One row came back instead of several"]),
    ],
)
def test_a_wrong_shape_says_how_it_probably_came_about(got, expected, words):
    message = d.diagnose(got, expected, "db")
    for word in words:
        assert word in message, message


def test_an_outer_product_says_which_factor_is_wrong():
    """One sample's dW = delta a^T: a wrong delta rescales each row, a wrong a each column;
    the message says which (rescaled rows alone would suggest a per-row normalisation)."""
    from nnlib.checks import diagnose as dg

    delta, a = np.array([0.5, -1.2, 2.0]), np.array([1.5, 0.3, -0.7, 2.2])
    expected = np.outer(delta, a)
    wrong_delta = dg.diagnose(np.outer(delta * [1.0, 2.0, -3.0], a), expected, "dW2")
    wrong_a = dg.diagnose(np.outer(delta, a * [1.0, 0.5, 4.0, -1.0]), expected, "dW2")
    assert "error term delta is wrong" in wrong_delta
    assert "activation it is paired with is not" in wrong_a
    assert "per row" not in wrong_delta and "per column" not in wrong_a
