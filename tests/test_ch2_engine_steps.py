"""The learner-built engine of Chapter 2 (ch2.value_node ... ch2.backward) and its checks.

The generic tests in test_checks_exercises.py run every catalogued mistake; these make sure
the reference the checks use is right (nnlib.engine and central differences agree with it),
that a correct engine written another way passes, that the catalogued mistakes are told
apart, and that the chapter keeps to its rules (no learner-defined name imported from nnlib,
no nnlib source printed, exercises placed after their sections).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from nnlib import engine
from nnlib.checks import ch2, check, registry
from nnlib.gradcheck import THRESHOLD, numerical_gradient, rel_error

CHAPTER = Path(__file__).resolve().parents[1] / "chapters" / "02_chain_rule.ipynb"
STEPS = ["ch2.value_node", "ch2.add_mul", "ch2.tanh", "ch2.topo", "ch2.backward"]


def _f(V, x0, y0):
    x, y = V(x0), V(y0)
    q = x * y
    f = (q + x).tanh() * q + x * x
    return x, y, f


@pytest.mark.parametrize("point", [(0.8, -1.3), (-1.1, 0.4), (2.0, 0.7), (0.0, 1.5)])
def test_reference_engine_matches_nnlib_engine_and_central_differences(point):
    x, y, f = _f(ch2.EngineValue, *point)
    f.backward()
    ex, ey, ef = _f(engine.Value, *point)
    ef.backward()
    assert f.data == ef.data
    assert rel_error(np.array([x.grad, y.grad]), np.array([ex.grad, ey.grad])) <= 1e-12
    numeric = numerical_gradient(lambda p: _f(engine.Value, float(p[0]), float(p[1]))[2].data,
                                 np.array(point))
    assert rel_error(np.array([x.grad, y.grad]), numeric) <= THRESHOLD


def test_backward_recomputes_like_nnlib_engine():
    """The contract the check grades: a second backward() gives the same numbers."""
    for V in (ch2.EngineValue, engine.Value):
        x, _, f = _f(V, 0.8, -1.3)
        f.backward()
        first = x.grad
        f.backward()
        assert x.grad == first


def test_assign_instead_of_add_loses_a_path():
    x = ch2._ENGINES["mul_assign"](3.0)
    (x * x).backward()
    assert x.grad == 3.0  # one factor's contribution; the right answer is 6
    assert check("ch2.add_mul", ch2._ENGINES["mul_assign"]).status == "incorrect"


class _Other:
    """A correct engine written differently: iterative order, grad = grad + ..., own names."""

    def __init__(self, data, children=(), op=""):
        self.data, self.grad = float(data), 0.0
        self.children, self.op = tuple(children), op
        self._backward = _nothing

    def __add__(self, other):
        out = _Other(self.data + other.data, (self, other), "+")

        def rule():
            self.grad = self.grad + out.grad
            other.grad = other.grad + out.grad

        out._backward = rule
        return out

    def __mul__(self, other):
        out = _Other(self.data * other.data, (self, other), "*")

        def rule():
            g = out.grad
            self.grad = self.grad + other.data * g
            other.grad = other.grad + self.data * g

        out._backward = rule
        return out

    def tanh(self):
        th = math.tanh(self.data)
        out = _Other(th, (self,), "tanh")

        def rule():
            self.grad += (1 - th * th) * out.grad

        out._backward = rule
        return out

    def topological_order(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((c, False) for c in node.children if id(c) not in seen)
        return order

    def backward(self):
        order = self.topological_order()
        for n in order:
            n.grad = 0.0
        self.grad = 1.0
        for n in order[::-1]:
            n._backward()


def _nothing():
    return None


@pytest.mark.parametrize("exercise_id", STEPS)
def test_a_correct_engine_written_differently_passes(exercise_id):
    result = check(exercise_id, _Other)
    assert result.status == "correct", result.message


@pytest.mark.parametrize("exercise_id", [i for i in registry() if i.startswith("ch2.")])
def test_catalogued_mistakes_are_told_apart(exercise_id):
    """No two catalogued mistakes of one exercise get the same diagnosis (issue 17, defect 5)."""
    ex = registry()[exercise_id]
    assert len(ex.wrong_answers) >= 8
    messages = [check(exercise_id, w.answer).message for w in ex.wrong_answers]
    assert len(set(messages)) == len(messages)


@pytest.mark.parametrize("exercise_id", ["ch2.add_mul", "ch2.tanh", "ch2.backward"])
def test_each_bug_predicts_its_own_value(exercise_id):
    """On the check's inputs, the bugs named for one quantity predict different numbers."""
    if exercise_id == "ch2.add_mul":
        runs = [(ch2._AM_BUGS, ch2._binary_quantities(op, case)) for case in ch2._AM_CASES
                for op in ch2._BINARY]
    elif exercise_id == "ch2.tanh":
        runs = [(ch2._TANH_BUGS, ch2._tanh_quantities(case)) for case in ch2._TANH_CASES]
    else:
        runs = [(ch2._BW_BUGS, lambda c: ch2._node_grads(ch2._backward_quantities(c)))]
    for bugs, run in runs:
        ref = run(ch2.EngineValue)
        sims = ch2._Sims(bugs, run)
        for key in ref:
            named = [m.value for m in sims.mistakes(key, ref[key])]
            for i, a in enumerate(named):
                assert all(abs(a - b) > 1e-6 * max(1.0, abs(a)) for b in named[i + 1:]), (key, named)
            sims.settle(key, ref[key])


def test_the_wrong_local_derivative_is_named_with_its_operation():
    assert "the * rule" in check("ch2.add_mul", ch2._ENGINES["mul_own"]).message
    assert "the + rule" in check("ch2.add_mul", ch2._ENGINES["add_no_upstream"]).message
    assert "at the output" in check("ch2.tanh", ch2._ENGINES["tanh_at_output"]).message
    message = check("ch2.backward", ch2._ENGINES["tanh_at_output"]).message
    assert "nnlib.engine" in message and "tanh" in message


def _cells():
    return json.loads(CHAPTER.read_text())["cells"]


def test_chapter_imports_no_name_the_learner_defines_and_prints_no_source():
    code = "\n".join("".join(c["source"]) for c in _cells() if c["cell_type"] == "code")
    assert not re.search(r"from nnlib\.engine import[^\n]*\bValue\b", code)
    assert "inspect" not in code and "getsource" not in code
    defined = set(re.findall(r"^(?:def|class) (\w+)", code, re.MULTILINE))
    for names in re.findall(r"^from nnlib[\w.]* import ([^\n]+)", code, re.MULTILINE):
        assert not {n.strip() for n in names.split(",")} & defined, names


def test_engine_exercises_sit_in_the_text_and_are_listed_at_the_end():
    text = ["".join(c["source"]) for c in _cells()]
    summary = next(i for i, s in enumerate(text) if s.startswith("## Summary"))
    labels = re.findall(r":label: (ch2-[\w-]+)", "\n".join(text))
    assert len(labels) == 9
    for label in labels:
        start = next(i for i, s in enumerate(text) if f":label: {label}" in s)
        assert start < summary, label  # mid-text, right after its section
        assert f"[]({label})" in text[summary], label  # and listed at the end
    first_value = next(i for i, s in enumerate(text) if re.search(r"\bValue\b", s))
    assert "### Step 1: a node" in text[first_value] or first_value > next(
        i for i, s in enumerate(text) if "### Step 1: a node" in s)


@pytest.mark.parametrize("exercise_id", [i for i in registry() if i.startswith("ch2.")])
def test_named_mistakes_predict_distinct_values(exercise_id, monkeypatch):
    """In every comparison a check makes, its named mistakes and the answer are pairwise apart."""
    from nnlib.checks import _tester

    seen = []
    original = _tester.Tester.compare

    def spy(self, got, expected, name, *, mistakes=(), **kw):
        seen.append((name, float(np.asarray(expected, dtype=float)),
                     [float(np.asarray(m.value, dtype=float)) for m in mistakes]))
        return original(self, got, expected, name, mistakes=mistakes, **kw)

    monkeypatch.setattr(_tester.Tester, "compare", spy)
    ex = registry()[exercise_id]
    assert check(exercise_id, ex.reference).status == "correct"
    assert seen
    for name, expected, values in seen:
        points = [expected, *values]
        for i, a in enumerate(points):
            for b in points[i + 1:]:
                assert abs(a - b) > 1e-6 * max(1.0, abs(a), abs(b)), (name, points)


def test_exercise_titles_are_plain_text():
    """sphinx-exercise's gated-directive parser loses an exercise-start whose title has markup."""
    titles = re.findall(r"\{exercise-start\} ([^\n]*)", "\n".join("".join(c["source"]) for c in _cells()))
    assert len(titles) == 9
    assert not [t for t in titles if re.search(r"[`*$]", t)], titles


@pytest.mark.parametrize("slip", ["children (other, self)", "op of a sum labelled '*'"])
def test_a_node_that_records_its_inputs_wrongly_is_refused(slip):
    """The gradients can be right while the node misdescribes its graph: a drawn graph would
    swap the inputs, or call the sum a product. The prompt asks for both, so the check does."""
    class Slipped(_Other):
        def __add__(self, other):
            if slip.startswith("children"):
                out = Slipped(self.data + other.data, (other, self), "+")
            else:
                out = Slipped(self.data + other.data, (self, other), "*")

            def rule():
                self.grad += out.grad
                other.grad += out.grad

            out._backward = rule
            return out

        def __mul__(self, other):
            out = Slipped(self.data * other.data, (self, other), "*")

            def rule():
                self.grad += other.data * out.grad
                other.grad += self.data * out.grad

            out._backward = rule
            return out

    result = check("ch2.add_mul", Slipped)
    assert result.status == "incorrect"
    assert ("(other, self)" if slip.startswith("children") else "label it '+'") in result.message


def test_node_bookkeeping_is_judged_without_calling_the_learners_operators():
    """A learner's Value may overload == (engines that build comparison nodes do) or store
    an odd op; the check compares children by identity and still gives a message."""

    def engine(add_op="+", **extra):
        """A correct sum and product whose nodes are of the new class, the sum labelled add_op."""
        def add(self, other):
            out = type(self)(self.data + other.data, (self, other), add_op)

            def rule():
                self.grad += out.grad
                other.grad += out.grad

            out._backward = rule
            return out

        def mul(self, other):
            out = type(self)(self.data * other.data, (self, other), "*")

            def rule():
                self.grad += other.data * out.grad
                other.grad += self.data * out.grad

            out._backward = rule
            return out

        return type("Engine", (_Other,), {"__add__": add, "__mul__": mul, **extra})

    def raising_eq(self, other):
        raise RuntimeError("== is an operation of this engine")

    compares = engine(__eq__=raising_eq, __hash__=object.__hash__)
    assert check("ch2.add_mul", compares).status == "correct"

    result = check("ch2.add_mul", engine(add_op=np.array([1, 2])))
    assert result.status == "incorrect" and "label it '+'" in result.message
