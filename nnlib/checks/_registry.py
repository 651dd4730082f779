"""Registering exercises: the :func:`exercise` decorator and the registry.

Each chapter's checks live in ``nnlib/checks/chN.py`` and register themselves on
import. ``check("chN.name", ...)`` imports ``nnlib.checks.chN`` the first time an id
with that prefix is used, so a notebook never imports check modules by hand.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*\.[a-z_][a-z0-9_]*$")
_CHAPTER_MODULE = re.compile(r"^ch\d+$")

_REGISTRY: dict[str, Exercise] = {}


class UnknownExercise(LookupError):
    """No exercise is registered under this id (the message says which ones exist)."""


@dataclass(frozen=True)
class WrongAnswer:
    """A catalogued wrong answer and the word its diagnosis must contain (for the tests)."""

    answer: Any
    expect: str
    description: str


@dataclass
class Exercise:
    """One registered exercise.

    ``checker(answer, t)`` inspects the learner's ``answer`` with the helpers of the
    :class:`~nnlib.checks._tester.Tester` ``t`` and raises (through ``t``) when something
    is wrong; returning normally means correct. ``reference`` is the model answer (a
    function, a class or a value); ``wrong_answers`` are catalogued mistakes with the
    keyword their diagnosis must contain, used by the generic tests.
    """

    id: str
    points: float
    title: str
    checker: Callable
    reference: Any = None
    wrong_answers: list[WrongAnswer] = field(default_factory=list)
    #: True if the learner's code may change its input arrays in place (otherwise a check
    #: that passes in every other respect says so and fails)
    in_place: bool = False

    @property
    def chapter(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def kind(self) -> str:
        """'function', 'class' or 'value': what the learner passes to check()."""
        if isinstance(self.reference, type):
            return "class"
        return "function" if callable(self.reference) else "value"

    def wrong_answer(self, expect: str, description: str | None = None):
        """Decorator: catalogue a wrong implementation whose diagnosis must contain ``expect``.

        >>> @ex.wrong_answer(expect="wrong sign")
        ... def _(X, y, w, b): ...
        """

        def register(answer):
            self.add_wrong_answer(answer, expect, description or _doc_line(answer))
            return answer

        return register

    def add_wrong_answer(self, answer, expect: str, description: str = "") -> None:
        """Catalogue a wrong answer (any value) whose diagnosis must contain ``expect``."""
        if not expect.strip():
            raise ValueError("expect must name a word of the diagnosis, e.g. 'wrong sign'")
        self.wrong_answers.append(WrongAnswer(answer, expect, description))


def exercise(
    exercise_id: str, *, points: float = 1, title: str = "", reference: Any = None, in_place: bool = False
):
    """Decorator that registers a checker function as exercise ``exercise_id``.

    ``exercise_id`` looks like ``"ch1.mse_gradient"``: the chapter module, a dot, a name.
    ``reference`` is the model answer the checker compares with (use ``t.reference``).
    ``in_place=True`` lets the learner's code change the arrays it is given (by default an
    answer that does is told so and fails, once the checker found nothing else wrong).
    Returns the :class:`Exercise`, so ``@<name>.wrong_answer(...)`` can follow.
    """
    if not ID_PATTERN.match(exercise_id):
        raise ValueError(f"exercise id {exercise_id!r} must look like 'ch1.some_name' (lower case, one dot).")
    if not isinstance(points, int | float) or points <= 0:
        raise ValueError(f"points must be a positive number, got {points!r}")
    if reference is None:
        raise ValueError(f"exercise {exercise_id!r} needs reference= (the model answer).")

    def register(checker: Callable) -> Exercise:
        old = _REGISTRY.get(exercise_id)
        if old is not None and _origin(old.checker) != _origin(checker):
            raise ValueError(f"exercise id {exercise_id!r} is already registered by {_origin(old.checker)}.")
        ex = Exercise(exercise_id, float(points), title or exercise_id, checker, reference, in_place=bool(in_place))
        _REGISTRY[exercise_id] = ex  # re-registering the same function (a reload) replaces it
        return ex

    return register


def get_exercise(exercise_id) -> Exercise:
    """The registered exercise, importing its chapter module on first use.

    Raises :class:`UnknownExercise` with a helpful message; any other exception means
    the chapter's check module itself failed to import.
    """
    if not isinstance(exercise_id, str):
        raise UnknownExercise(f"The exercise id must be a string like 'ch1.mse_gradient', got {_short(exercise_id)}.")
    if exercise_id in _REGISTRY:
        return _REGISTRY[exercise_id]
    if not ID_PATTERN.match(exercise_id):
        raise UnknownExercise(f"{exercise_id!r} is not an exercise id; ids look like 'ch1.mse_gradient'.")
    prefix = exercise_id.split(".", 1)[0]
    module = f"{__package__}.{prefix}"
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name != module:
            raise
    if exercise_id in _REGISTRY:
        return _REGISTRY[exercise_id]
    known = sorted(i for i in _REGISTRY if i.startswith(prefix + "."))
    listing = f" Exercises of {prefix}: {', '.join(known)}." if known else ""
    raise UnknownExercise(f"There is no exercise {exercise_id!r}; check the spelling.{listing}")


def registry() -> dict[str, Exercise]:
    """The course's exercises: those of every ``nnlib/checks/chN.py``, chapter by chapter.

    Exercises registered from elsewhere (a test's own module) are not listed, but
    ``check`` finds them once their module is imported.
    """
    package = importlib.import_module(__package__)
    for info in pkgutil.iter_modules(package.__path__):
        if _CHAPTER_MODULE.match(info.name):
            importlib.import_module(f"{__package__}.{info.name}")
    order = {exercise_id: i for i, exercise_id in enumerate(_REGISTRY)}
    course = {k: v for k, v in _REGISTRY.items() if _in_course(v)}
    return dict(sorted(course.items(), key=lambda kv: (_chapter_key(kv[0]), order[kv[0]])))


def _in_course(ex: Exercise) -> bool:
    return str(getattr(ex.checker, "__module__", "")).startswith(__package__ + ".")


def exercise_ids(prefix: str | None = None) -> list[str]:
    """Registered ids, optionally only those of one chapter (``prefix="ch1"``)."""
    ids = list(registry())
    return ids if prefix is None else [i for i in ids if i.split(".", 1)[0] == prefix]


def _chapter_key(exercise_id: str):
    """Chapters in numeric order (ch2 before ch10), other prefixes after them."""
    prefix = exercise_id.split(".", 1)[0]
    m = re.match(r"^ch(\d+)$", prefix)
    return (0, int(m.group(1)), "") if m else (1, 0, prefix)


def _origin(fn) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', '?')}"


def _doc_line(obj) -> str:
    doc = (getattr(obj, "__doc__", None) or "").strip()
    return doc.splitlines()[0] if doc else ""


def _short(x) -> str:
    return type(x).__name__
