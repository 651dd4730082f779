"""Every registered exercise, whatever its chapter: the checks themselves are tested.

For each exercise of ``nnlib.checks.registry()`` (plus the demo exercises of the grading
fixtures, which cover a value-type answer):

* the reference answer passes, in under 0.2 s of CPU time;
* at least eight catalogued wrong answers exist (three for the grading demos), and each
  gets its specific diagnosis;
* an untouched stub is "not attempted";
* None, a string, a wrong shape, NaN, an exception and an endless loop each get
  feedback within the time limit, and ``check`` never raises;
* no message contains a number of the expected answer.

New chapters are covered automatically: register the exercise and catalogue its
mistakes with ``@<exercise>.wrong_answer(expect=...)`` (see CONTRIBUTING.md).
"""

from __future__ import annotations

import copy
import re
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from nnlib.checks import check, registry
from nnlib.checks._registry import get_exercise

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "grading"))
import demo_checks  # noqa: E402,F401  (registers demo.double, demo.row_sums, demo.answer)

EXERCISES = list(registry()) + ["demo.double", "demo.row_sums", "demo.answer"]
FUNCTIONS = [i for i in EXERCISES if get_exercise(i).kind == "function"]
WRONG = [(i, k) for i in EXERCISES for k in range(len(get_exercise(i).wrong_answers))]
LOOP_LIMIT = 1.0  # seconds given to check() for the endless-loop answers


def _wrong_id(param):
    exercise_id, k = param
    return f"{exercise_id}-{get_exercise(exercise_id).wrong_answers[k].expect}"


# --- helpers -----------------------------------------------------------------------------------


def _map_numbers(value, f):
    """Apply f to every array / number inside tuples and lists (structure kept)."""
    if isinstance(value, tuple | list):
        return type(value)(_map_numbers(v, f) for v in value)
    if isinstance(value, dict):
        return {k: _map_numbers(v, f) for k, v in value.items()}
    if isinstance(value, np.ndarray) or isinstance(value, int | float | np.number):
        return f(np.asarray(value, dtype=float))
    return value


def _numbers_in(value) -> list[float]:
    out: list[float] = []
    _map_numbers(value, lambda a: out.extend(np.ravel(a).tolist()) or a)
    return [v for v in out if np.isfinite(v)]


def _integer_valued(value) -> bool:
    """True if every number in the (nested) output is an integer array or int."""
    kinds = [np.asarray(v).dtype.kind for v in _raw_numbers(value)]
    return bool(kinds) and all(k in "iu" for k in kinds)


def _raw_numbers(value):
    if isinstance(value, tuple | list):
        return [x for v in value for x in _raw_numbers(v)]
    if isinstance(value, np.ndarray | int | np.number) and not isinstance(value, bool):
        return [value]
    return [value] if isinstance(value, float) else []


class _Spy:
    """Wraps an answer and records the inputs the check gives it, to compute the expected
    outputs afterwards (running the reference in between could disturb stateful checks)."""

    def __init__(self, ex, answer):
        self.ex, self.answer, self.inputs = ex, answer, []

    def __call__(self, *args):
        try:
            self.inputs.append(copy.deepcopy(args))
        except Exception:  # an input that cannot be copied: skip it
            pass
        return self.answer(*args)

    def expected(self):
        outputs = []
        for args in self.inputs:
            try:
                outputs.append(self.ex.reference(*copy.deepcopy(args)))
            except Exception:
                continue
        return outputs


def _spy(ex, answer):
    """(wrapped answer, callable giving the reference outputs for every input the check used)."""
    spy = _Spy(ex, answer)
    return spy, spy.expected


def _significant(v: float) -> bool:
    """Numbers worth searching for: at least 3 significant digits (not 0, 1, 2, 0.5...)."""
    digits = re.sub(r"[^0-9]", "", f"{abs(v):.4g}".split("e")[0]).lstrip("0")
    return len(digits) >= 3


def assert_no_expected_numbers(message: str, expected_outputs):
    for output in expected_outputs:
        assert str(output) not in message
        for v in _numbers_in(output):
            if not _significant(v):
                continue
            for text in {f"{v:.4g}", f"{v:.5g}", f"{v:.6g}", repr(v), f"{v:.3f}", f"{v:.4f}"}:
                if len(text.lstrip("-").replace(".", "").lstrip("0")) >= 3:
                    assert text not in message, f"expected value {text} leaked into: {message}"


def _expected_outputs(ex, answer):
    """Run the check with a spy (functions) to learn every expected output, and the result."""
    if ex.kind == "function":
        wrapped, expected = _spy(ex, answer)
        return check(ex.id, wrapped), expected()
    return check(ex.id, answer), [ex.reference]


# --- the reference passes ------------------------------------------------------------------------


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_reference_passes_quickly(exercise_id):
    ex = get_exercise(exercise_id)
    cpu = []
    for _ in range(3):
        start = time.process_time()
        result = check(exercise_id, copy.deepcopy(ex.reference))
        cpu.append(time.process_time() - start)
        assert result.status == "correct", result.message
        assert result.passed and result.points == result.max_points == ex.points
    assert min(cpu) < 0.2, f"the check takes {min(cpu):.3f} s of CPU time; keep it under 0.2 s"


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_result_is_deterministic(exercise_id):
    ex = get_exercise(exercise_id)
    answer = ex.wrong_answers[0].answer
    assert check(exercise_id, answer).message == check(exercise_id, answer).message


# --- catalogued mistakes are named ----------------------------------------------------------------


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_enough_mistakes_catalogued(exercise_id):
    """Every chapter exercise names at least eight mistakes (the grading demos three)."""
    least = 3 if exercise_id.startswith("demo.") else 8
    assert len(get_exercise(exercise_id).wrong_answers) >= least


@pytest.mark.parametrize("param", WRONG, ids=_wrong_id)
def test_catalogued_mistake_gets_its_diagnosis(param):
    exercise_id, k = param
    ex = get_exercise(exercise_id)
    wrong = ex.wrong_answers[k]
    result, expected = _expected_outputs(ex, copy.deepcopy(wrong.answer))
    assert result.status == "incorrect", result.message
    assert result.points == 0 and not result.passed
    assert wrong.expect.lower() in result.message.lower(), result.message
    assert_no_expected_numbers(result.message, expected)


# --- stubs and junk -------------------------------------------------------------------------------


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_untouched_stub_is_not_attempted(exercise_id):
    ex = get_exercise(exercise_id)
    assert check(exercise_id, ...).status == "not attempted"
    if ex.kind == "value":
        return

    def stub(*args):
        raise NotImplementedError

    def placeholder(*args):
        return ...

    for answer in (stub, placeholder):
        result = check(exercise_id, answer)
        assert result.status == "not attempted", result.message
        assert "not attempted yet" in result.message


def _bad_answers(ex):
    """(name, answer, allowed statuses, words the message must contain)."""

    def raising(*args):
        raise ValueError("deliberate failure 9731")

    def endless(*args):
        while True:
            pass

    bad = [
        ("None", None, {"incorrect"}, ["None"]),
        ("string", "a string", {"incorrect"}, ["string"]),
    ]
    if ex.kind == "value":
        ref = ex.reference
        bad += [
            ("wrong shape", _map_numbers(ref, lambda a: np.stack([a, a])), {"incorrect"}, ["shape"]),
            ("NaN", _map_numbers(ref, lambda a: np.full(a.shape, np.nan)), {"incorrect"}, ["NaN"]),
        ]
        return bad

    def mangled(f):
        def answer(*args):
            return _map_numbers(ex.reference(*args), f)

        return answer

    bad += [
        ("raises", raising, {"error"}, ["ValueError", "deliberate failure 9731"]),
        ("endless loop", endless, {"timeout"}, ["Stopped after"]),
    ]
    if ex.kind == "function":
        bad += [
            ("wrong shape", mangled(lambda a: np.stack([a, a])), {"incorrect"}, ["shape"]),
            ("NaN", mangled(lambda a: np.full(a.shape, np.nan)), {"incorrect"}, ["NaN"]),
        ]
    return bad


BAD = [(i, k) for i in EXERCISES for k in range(len(_bad_answers(get_exercise(i))))]


@pytest.mark.parametrize(
    "param", BAD, ids=lambda p: f"{p[0]}-{_bad_answers(get_exercise(p[0]))[p[1]][0].replace(' ', '_')}"
)
def test_bad_answer_gets_feedback_in_time(param):
    exercise_id, k = param
    ex = get_exercise(exercise_id)
    name, answer, statuses, words = _bad_answers(ex)[k]
    start = time.monotonic()
    if ex.kind == "function" and callable(answer):
        wrapped, expected_outputs = _spy(ex, answer)
        result = check(exercise_id, wrapped, time_limit=LOOP_LIMIT)
        expected = expected_outputs()
    else:
        result = check(exercise_id, answer, time_limit=LOOP_LIMIT)
        expected = [ex.reference]
    elapsed = time.monotonic() - start
    assert result.status in statuses, f"{name}: {result.message}"
    assert result.points == 0
    if name == "NaN" and all(_integer_valued(out) for out in expected):
        words = []  # integer outputs (indices, counts) cannot hold NaN; any diagnosis will do
    for word in words:
        assert word.lower() in result.message.lower(), f"{name}: {result.message}"
    assert "Traceback" not in result.message
    assert elapsed < LOOP_LIMIT + 2.0, f"{name} took {elapsed:.1f} s"
    assert_no_expected_numbers(result.message, expected)


@pytest.mark.parametrize("exercise_id", [i for i in EXERCISES if get_exercise(i).kind == "class"])
def test_class_exercises_catalogue_shape_and_nan(exercise_id):
    """Answers that are classes cannot be mangled generically: their catalogue must cover it."""
    expects = " ".join(w.expect.lower() for w in get_exercise(exercise_id).wrong_answers)
    assert "shape" in expects and "nan" in expects
