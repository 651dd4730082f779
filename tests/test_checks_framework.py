"""The check machinery itself: results, diagnoses, time limits, the grading log, display."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest

from nnlib.checks import CheckResult, Mistake, check, exercise, exercise_ids, registry
from nnlib.checks import diagnose as d
from nnlib.checks._registry import UnknownExercise, get_exercise

# --- a scratch exercise for these tests (registered from this module, so not in registry()) ---


def _square(x):
    return x * x


@exercise("scratch.square", points=3, title="Square", reference=_square)
def _check_square(answer, t):
    fn = t.require_callable()
    for case in t.cases(lambda rng, i: {"x": rng.normal(size=(i + 2, 3))}, n=3):
        t.compare(t.call(fn, *case.args), t.reference(*case.args), "x squared", hint="multiply x by itself")


@exercise("scratch.buggy", points=1, reference=_square)
def _check_buggy(answer, t):
    raise RuntimeError("a bug in the checker")


# --- CheckResult ----------------------------------------------------------------------------------


def test_result_text_is_the_message():
    r = CheckResult("ch9.x", "incorrect", 0.0, 2.0, "Test 1 of 3: dw has the wrong sign.", "X")
    assert repr(r) == str(r) == r.message
    assert r.message == "✗ incorrect [ch9.x] (0/2 points)\nTest 1 of 3: dw has the wrong sign."
    assert not r.passed
    assert "0x" not in repr(r)  # no object address


def test_result_html_is_escaped_and_deterministic():
    r = CheckResult("ch9.x", "incorrect", 0.0, 1.0, "a < b & c", "X")
    html = r._repr_html_()
    assert "a &lt; b &amp; c" in html and "<script" not in html
    assert html == CheckResult("ch9.x", "incorrect", 0.0, 1.0, "a < b & c", "X")._repr_html_()


def test_result_rejects_unknown_status():
    with pytest.raises(ValueError, match="status"):
        CheckResult("ch9.x", "great", 0.0, 1.0, "")


def test_correct_result_fields():
    r = check("scratch.square", _square)
    assert (r.status, r.passed, r.points, r.max_points) == ("correct", True, 3.0, 3.0)
    assert r.message == "✓ correct [scratch.square] (3/3 points)\nAll 3 tests passed."


# --- registry ---------------------------------------------------------------------------------------


def test_registry_lists_course_exercises_only_in_chapter_order():
    ids = list(registry())
    assert "ch1.mse_gradient" in ids and "ch1.gradient_descent" in ids
    assert "scratch.square" not in ids  # registered by a test module, not by nnlib.checks.chN
    chapters = [int(i.split(".")[0][2:]) for i in ids]
    assert chapters == sorted(chapters)
    assert exercise_ids("ch1")[:2] == ["ch1.mse_gradient", "ch1.gradient_descent"]


def test_exercise_decorator_validates():
    with pytest.raises(ValueError, match="must look like"):
        exercise("Chapter1 gd", reference=1)
    with pytest.raises(ValueError, match="points"):
        exercise("scratch.bad_points", points=0, reference=1)
    with pytest.raises(ValueError, match="reference"):
        exercise("scratch.no_ref")
    with pytest.raises(ValueError, match="already registered"):
        exercise("ch1.mse_gradient", reference=_square)(lambda answer, t: None)


def test_unknown_exercise_ids_get_a_clear_message():
    r = check("ch1.mse_gradiant", _square)
    assert r.status == "error" and "no exercise 'ch1.mse_gradiant'" in r.message
    assert "ch1.mse_gradient" in r.message  # lists what exists
    assert "no exercise 'ch99.x'" in check("ch99.x", 1).message
    assert "not an exercise id" in check("mse gradient", 1).message
    assert "must be a string" in check(12, 1).message
    with pytest.raises(UnknownExercise):
        get_exercise("ch99.x")


def test_missing_answer_is_explained():
    r = check("scratch.square")
    assert r.status == "error" and "Pass your answer too" in r.message


def test_a_bug_in_a_checker_is_reported_not_raised():
    r = check("scratch.buggy", _square)
    assert r.status == "error"
    assert "The check itself failed (RuntimeError: a bug in the checker)" in r.message


# --- learner code that misbehaves ------------------------------------------------------------------


class _Weird:
    def __array__(self, *args, **kwargs):
        raise RuntimeError("no array for you")

    def __eq__(self, other):
        raise RuntimeError("no comparing either")

    __hash__ = None


class _HomeMadeError(BaseException):
    pass


def _raise(exc):
    def answer(x):
        raise exc

    return answer


@pytest.mark.parametrize(
    "answer, status, words",
    [
        (lambda x: _Weird(), "incorrect", ["could not be read as an array"]),
        (lambda x: [[1.0, 2.0], [3.0]], "incorrect", ["could not be read as an array"]),
        (lambda x: x > 0, "incorrect", ["bool"]),
        (lambda x: x.astype(complex), "incorrect", ["complex"]),
        (lambda x: {"a": 1}, "incorrect", ["a dict"]),
        (lambda x: _square, "incorrect", ["a function"]),
        (lambda x: (i for i in x), "incorrect", ["x squared"]),
        (lambda x: None, "incorrect", ["None", "return"]),
        (lambda x: np.full(x.shape, np.inf), "incorrect", ["inf"]),
        (lambda: 1, "error", ["TypeError"]),
        (_raise(SystemExit(3)), "error", ["sys.exit"]),
        (_raise(_HomeMadeError("odd")), "error", ["_HomeMadeError: odd"]),
        (_raise(RecursionError("too deep")), "error", ["RecursionError: too deep"]),
        (_raise(KeyboardInterrupt()), "error", ["interrupted"]),
        (_raise(ValueError("line one\nline two")), "error", ["ValueError: line one line two"]),
        (_raise(NotImplementedError), "not attempted", ["not attempted yet"]),
        (lambda x: ..., "not attempted", ["placeholder"]),
    ],
)
def test_check_never_raises(answer, status, words):
    r = check("scratch.square", answer)
    assert r.status == status, r.message
    for word in words:
        assert word in r.message, r.message
    assert "Traceback" not in r.message


def test_a_list_of_numbers_is_accepted():
    assert check("scratch.square", lambda x: (x * x).tolist()).passed


def test_error_names_the_learners_line():
    def answer(x):
        y = x * x
        return y @ y  # (B, 3) @ (B, 3) fails for B != 3

    r = check("scratch.square", answer)
    line = answer.__code__.co_firstlineno + 2
    assert r.status == "error"
    assert f"(raised in answer, line {line})" in r.message
    assert r.message.count("\n") == 1  # headline + one line


def test_learner_code_cannot_change_the_checks_inputs():
    def answer(x):
        x *= 0  # in place, on its own copy
        return x

    r = check("scratch.square", answer)
    assert r.status == "incorrect"
    assert check("scratch.square", _square).passed


def test_check_inside_learner_code_uses_the_outer_limit():
    def answer(x):
        inner = check("scratch.square", _square)
        assert inner.passed
        return x * x

    assert check("scratch.square", answer).passed


# --- time limit --------------------------------------------------------------------------------------


def _endless(x):
    while True:
        pass


def _swallows_exceptions(x):
    while True:
        try:
            while True:
                pass
        except Exception:  # does not catch the time limit (a BaseException)
            pass


def _catches_once_then_returns(x):
    try:
        while True:
            pass
    except BaseException:
        return x * x


def _sleeps(x):
    time.sleep(60)


@pytest.mark.parametrize("answer", [_endless, _swallows_exceptions, _catches_once_then_returns, _sleeps])
def test_slow_code_is_stopped_on_the_main_thread(answer):
    before = signal.getsignal(signal.SIGALRM)
    start = time.monotonic()
    r = check("scratch.square", answer, time_limit=0.5)
    elapsed = time.monotonic() - start
    assert r.status == "timeout", r.message
    assert "Stopped after 0.5 s during test 1 of 3 (x: (2, 3))" in r.message
    assert elapsed < 2.5
    # the alarm is switched off and the previous handler is back
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_time_limit_from_environment(monkeypatch):
    monkeypatch.setenv("NNLIB_CHECK_TIME_LIMIT", "0.3")
    start = time.monotonic()
    r = check("scratch.square", _endless)
    assert r.status == "timeout" and "Stopped after 0.3 s" in r.message
    assert time.monotonic() - start < 2.0


def test_slow_code_is_stopped_off_the_main_thread():
    stop = threading.Event()

    def loops_until_released(x):
        while not stop.is_set():
            pass

    box = {}
    worker = threading.Thread(
        target=lambda: box.update(r=check("scratch.square", loops_until_released, time_limit=0.5))
    )
    start = time.monotonic()
    worker.start()
    worker.join(5)
    elapsed = time.monotonic() - start
    stop.set()  # let the abandoned loop end so it does not slow the other tests
    r = box["r"]
    assert r.status == "timeout"
    assert "still running in the background" in r.message
    assert elapsed < 3
    assert check("scratch.square", _square).passed  # the main thread is unaffected


def test_results_from_a_thread_are_normal():
    box = {}
    worker = threading.Thread(target=lambda: box.update(r=check("scratch.square", _square)))
    worker.start()
    worker.join(10)
    assert box["r"].passed


# --- grading log ---------------------------------------------------------------------------------------


def test_grade_log_gets_one_json_line_per_check(tmp_path, monkeypatch):
    log = tmp_path / "log.jsonl"
    monkeypatch.setenv("NNLIB_GRADE_LOG", str(log))
    check("scratch.square", _square)
    check("scratch.square", lambda x: -x * x)
    check("ch99.nope", 1)
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [(e["exercise"], e["status"], e["points"], e["max_points"]) for e in entries] == [
        ("scratch.square", "correct", 3.0, 3.0),
        ("scratch.square", "incorrect", 0.0, 3.0),
        ("ch99.nope", "error", 0.0, 0.0),
    ]
    assert "wrong sign" in entries[1]["message"] and "wrong sign" in entries[1]["detail"]


def test_unwritable_grade_log_does_not_break_check(tmp_path, monkeypatch):
    monkeypatch.setenv("NNLIB_GRADE_LOG", str(tmp_path / "missing-folder" / "log.jsonl"))
    assert check("scratch.square", _square).passed


def test_no_log_without_the_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("NNLIB_GRADE_LOG", raising=False)
    monkeypatch.chdir(tmp_path)
    check("scratch.square", _square)
    assert list(tmp_path.iterdir()) == []


# --- diagnoses ----------------------------------------------------------------------------------------

E = np.arange(1.0, 7.0).reshape(2, 3) * 0.37  # expected value for the tests below


@pytest.mark.parametrize(
    "got, kwargs, words",
    [
        (E.T, {}, ["transposed", "shape (3, 2)", "shape (2, 3)"]),
        (-E, {}, ["wrong sign"]),
        (2 * E, {}, ["twice"]),
        (E / 2, {}, ["half"]),
        (5 * E, {"batch_size": 5}, ["B = 5 times too large", "1/B"]),
        (E / 5, {"batch_size": 5}, ["extra 1/B"]),
        (3.7 * E, {}, ["constant factor"]),
        (E.ravel(), {}, ["right numbers in the wrong shape", "shape (6,)"]),
        (np.ones(4), {}, ["wrong shape: expected shape (2, 3), got shape (4,)"]),
        (E + np.eye(2, 3), {}, ["2 of 6 entries differ", "maximum relative error", "only the last column is right"]),
        (E + [[0, 1, 0], [1, 0, 2]], {}, ["3 of 6 entries differ", "maximum relative error", "index (1, 2)"]),
        (np.where(E > 1, np.nan, E), {}, ["NaN"]),
        (None, {}, ["None", "return"]),
        ("text", {}, ["a string"]),
        (True, {}, ["bool"]),
        ([[1, 2], [3]], {}, ["could not be read"]),
    ],
)
def test_diagnose_names_the_problem(got, kwargs, words):
    message = d.diagnose(got, E, "dW", **kwargs)
    assert message is not None
    for word in words:
        assert word in message, message
    assert message.startswith("dW")


def test_diagnose_accepts_equal_values_in_any_numeric_form():
    assert d.diagnose(E.tolist(), E, "dW") is None
    assert d.diagnose(E.astype(np.float32), E, "dW") is None
    assert d.diagnose(E * (1 + 1e-9), E, "dW") is None
    assert d.diagnose(3, 3.0, "n") is None


def test_named_mistakes_come_first_but_never_hide_a_correct_answer():
    mistakes = [Mistake(-E, "the residual is y - y_hat"), Mistake(E, "this equals the answer on these inputs")]
    assert d.diagnose(-E, E, "dW", mistakes=mistakes) == "the residual is y - y_hat"
    assert d.diagnose(E, E, "dW", mistakes=mistakes) is None
    shaped = [Mistake(E.sum(axis=0), "summed over the wrong axis")]
    assert d.diagnose(E.sum(axis=0), E, "dW", mistakes=shaped) == "summed over the wrong axis"


def test_standard_mistake_wording():
    assert "wrong sign" in d.flipped_sign(E, "dW").message
    assert "1/B" in d.sum_instead_of_mean(E, "dW").message
    assert "extra 1/B" in d.extra_mean(E, "dW").message
    assert "bias" in d.missing_bias(E, "dW").message
    assert "wrong axis" in d.wrong_axis(E, "dW").message
    assert "derivative" in d.activation_instead_of_derivative(E, "dz", "sigmoid").message
    assert "upstream" in d.upstream_not_multiplied(E, "dz").message
    assert "transposed" in d.transposed(E, "dW").message


@pytest.mark.parametrize("got, closeness", [(43.0, "within 10%"), (100.0, "more than 10% off"), (42.0001, "close")])
def test_a_wrong_single_number_gets_no_error_size(got, closeness):
    message = d.diagnose(got, 42.0, "answer")
    assert closeness in message
    assert "relative error" not in message and "times" not in message


def test_arbitrary_factor_is_not_printed():
    message = d.diagnose(3.7 * E, E, "dW")
    assert "3.7" not in message


def test_max_rel_error_scales_by_the_largest_entry():
    assert d.max_rel_error(np.array([1.0, 0.0]), np.array([1.0, 1e-12])) == pytest.approx(1e-12)
    assert d.max_rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert d.max_rel_error(np.array([1e-9]), np.array([0.0])) == pytest.approx(0.1)


# --- display in a notebook ---------------------------------------------------------------------------


def test_each_check_cell_shows_its_message_once(tmp_path):
    """In a kernel: one output per check, whether it is the last line, assigned, or in a loop."""
    from nbclient import NotebookClient

    cells = [
        "from nnlib.checks import check\nimport numpy as np",
        'check("ch1.mse_gradient", lambda X, y, w, b: (X.T @ (X @ w + b - y) / len(y), float(np.mean(X @ w + b - y))))',
        'r = check("ch99.nope", 1)',
        "r",
        'for k in range(2):\n    check("ch99.nope", k)',
        'def f(*a):\n    raise NotImplementedError\ncheck("ch1.gradient_descent", f)',
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    env_path = os.pathsep.join([str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")])
    client = NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env={**os.environ, "PYTHONPATH": env_path})
    texts = [[o["data"]["text/plain"] for o in c.outputs if "data" in o] for c in nb.cells]
    assert texts[0] == []
    assert len(texts[1]) == 1 and texts[1][0].startswith("✓ correct [ch1.mse_gradient] (2/2 points)")
    assert len(texts[2]) == 1 and texts[2][0].startswith("✗ error [ch99.nope]")
    assert texts[3] == texts[2]  # shown again when asked for in a later cell
    assert len(texts[4]) == 2
    # the stored plain text is wrapped at the book's 88 columns (the HTML form wraps by itself)
    assert texts[5] == [
        "… not attempted yet [ch1.gradient_descent] (0/2 points)\n"
        "f still raises NotImplementedError. Replace that line with your code, run its cell, then\n"
        "run this check again."
    ]
    assert all("text/html" in o["data"] for c in nb.cells for o in c.outputs if "data" in o)
    # code is marked as code in the HTML form, and the plain form has no backticks
    html_out = [o["data"]["text/html"] for o in nb.cells[5].outputs if "data" in o]
    assert "<code>f</code> still raises NotImplementedError" in html_out[0]
    assert "`" not in "".join(t for cell in texts for t in cell)


def test_plain_python_prints_nothing():
    # A fresh interpreter: another test in this worker may have started an IPython shell.
    code = (
        "from nnlib.checks import check\n"
        "r = check('ch1.gradient_descent', lambda grad_f, x0, alpha, n_steps: 1 / 0)\n"
        "assert r.status == 'error', r.status\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""


def test_plain_text_display_fits_the_code_column_and_the_message_is_kept():
    from nnlib.checks._result import _fit_column

    message = "✗ incorrect [ch9.x] (0/1 points)\n" + " ".join(["word"] * 40) + "\n\nlast"
    shown = _fit_column(message)
    assert all(len(line) <= 88 for line in shown.splitlines())
    assert shown.split() == message.split()  # the same words, only the line breaks differ
    assert shown.splitlines()[0] == "✗ incorrect [ch9.x] (0/1 points)" and shown.endswith("\n\nlast")
    long_name = "x" * 100
    assert _fit_column(long_name) == long_name  # a word longer than the column is not cut

