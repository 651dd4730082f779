"""The helper object ``t`` that every checker receives.

A checker is written as if everything goes right::

    for case in t.cases(make_inputs, n=5):        # seeded inputs, labelled for messages
        expected = t.reference(*case.args)          # the model answer on copies
        got = t.call(answer, *case.args)            # the learner's code, on copies
        t.compare(got, expected, "dw", mistakes=[...], hint="...")

and ``t`` turns every problem into feedback by raising one of the internal
exceptions below, which :func:`nnlib.checks.check` converts into a result.
"""

from __future__ import annotations

import copy
import os
import sysconfig
import threading
import warnings
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from . import diagnose as _d


class Incorrect(Exception):
    """The answer is wrong; the argument is the learner-facing explanation."""


class NotAttempted(Exception):
    """The answer is still the untouched stub."""


class LearnerError(Exception):
    """The learner's code raised; the argument is a one-line summary."""


class CheckTimeout(BaseException):  # noqa: N818 - BaseException so `except Exception` cannot swallow it
    """Raised inside learner code when the time limit is reached."""


#: Per-thread state of the time limit: ``active`` while a limited check runs, ``fired``
#: once the limit was reached (set by the runner's alarm handler).
clock = threading.local()


@dataclass
class Case:
    """One seeded test input: ``args`` in call order, ``names`` for messages."""

    index: int
    total: int
    names: tuple[str, ...]
    args: tuple

    @property
    def label(self) -> str:
        parts = ", ".join(_describe_input(n, v) for n, v in zip(self.names, self.args, strict=True))
        return f"test {self.index + 1} of {self.total} ({parts})"

    def __getitem__(self, name):
        return self.args[self.names.index(name)]


class Tester:
    """Helpers for one run of one checker on one learner answer."""

    def __init__(self, exercise, answer):
        self.exercise = exercise
        self.answer = answer
        self.case: Case | None = None
        self.cases_passed = 0
        #: positions of array arguments the last ``call`` changed in place
        self.modified: tuple[int, ...] = ()

    # --- inputs ------------------------------------------------------------------------

    def cases(self, make_inputs: Callable, n: int, seed: int | None = None) -> Iterator[Case]:
        """Yield ``n`` :class:`Case` s from ``make_inputs(rng, i) -> dict(name=value)``.

        The generator for case ``i`` is ``default_rng([seed, i])`` with ``seed`` derived
        from the exercise id unless given, so every run sees the same inputs.
        """
        if seed is None:
            seed = zlib.crc32(self.exercise.id.encode())
        for i in range(n):
            inputs = make_inputs(np.random.default_rng([seed, i]), i)
            self.case = Case(i, n, tuple(inputs), tuple(inputs.values()))
            yield self.case
            self.cases_passed = i + 1

    # --- running code ------------------------------------------------------------------

    def reference(self, *args):
        """The exercise's reference answer on copies of ``args`` (a value is returned as a copy)."""
        ref = self.exercise.reference
        if not callable(ref):
            return copy.deepcopy(ref)
        with np.errstate(all="ignore"):
            return ref(*_copy_arrays(args))

    def require_callable(self, what: str = "function") -> Callable:
        """The answer, after making sure it can be called."""
        answer = self.answer
        if not callable(answer):
            name = _expected_name(self.exercise)
            raise Incorrect(
                f"Pass your {what} itself (e.g. check({self.exercise.id!r}, {name})), "
                f"not the result of calling it; got {_d.describe(answer)}."
            )
        return answer

    def call(self, fn: Callable, *args):
        """Run learner code ``fn(*args)`` and return its output.

        Arrays among ``args`` (also inside lists, tuples and dicts) are passed as copies,
        so learner code cannot change the check's inputs; other objects (a model, a
        Value, a function) are passed as they are, so a check can look at what the code
        did to them. Afterwards ``t.modified`` lists the positions of array arguments that
        ``fn`` changed in place. NotImplementedError, or returning ``...``, means not
        attempted; any other exception becomes a one-line error message.
        """
        passed = _copy_arrays(args)
        snapshot = _copy_arrays(args)
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                out = fn(*passed)
        except NotImplementedError as exc:
            raise NotAttempted(_stub_message(fn, exc)) from None
        except (CheckTimeout, KeyboardInterrupt):
            raise
        except BaseException as exc:  # SystemExit and home-made BaseExceptions too
            raise LearnerError(self._where() + summarize_exception(exc, fn)) from None
        if getattr(clock, "fired", False):  # the code caught the time limit and carried on
            raise CheckTimeout()
        self.modified = tuple(
            i
            for i, (a, s) in enumerate(zip(passed, snapshot, strict=True))
            if isinstance(s, np.ndarray) and not _same_array(a, s)
        )
        if out is Ellipsis or (isinstance(out, tuple) and out and all(o is Ellipsis for o in out)):
            raise NotAttempted(
                f"{_fn_name(fn)} still returns the placeholder `...`. Write your code in its "
                "cell, run that cell, then run this check again."
            )
        return out

    # --- judging -------------------------------------------------------------------------

    def unpack(self, out, names: tuple[str, ...]) -> tuple:
        """Split a returned tuple into ``len(names)`` parts, or explain what came back."""
        want = f"({', '.join(names)})"
        if not isinstance(out, tuple | list):
            raise Incorrect(
                self._where() + f"expected {len(names)} results {want}, got {_d.describe(out)}. "
                f"Return them together: return {', '.join(names)}"
            )
        if len(out) != len(names):
            raise Incorrect(self._where() + f"expected {len(names)} results {want}, got {_d.describe(out)}.")
        return tuple(out)

    def compare(
        self,
        got,
        expected,
        name: str,
        *,
        mistakes=(),
        batch_size: int | None = None,
        hint: str = "",
        rtol: float = _d.RTOL,
        shape_hint: str = "",
    ) -> None:
        """Raise :class:`Incorrect` with a diagnosis unless ``got`` matches ``expected``.

        See :func:`nnlib.checks.diagnose.diagnose` for the arguments. ``hint`` is added
        to every diagnosis except a named mistake's (which explains itself).
        """
        problem = _d.diagnose(
            got,
            expected,
            name,
            mistakes=mistakes,
            batch_size=batch_size,
            rtol=rtol,
            shape_hint=shape_hint,
        )
        if problem is None:
            return
        named = any(problem == m.message for m in mistakes)
        self.fail(problem, hint="" if named else hint)

    def fail(self, detail: str, hint: str = ""):
        """Stop the check: the answer is wrong because of ``detail``."""
        text = self._where() + detail
        if hint:
            text += f"\nHint: {hint}"
        raise Incorrect(text)

    def _where(self) -> str:
        return f"{_capital(self.case.label)}: " if self.case is not None else ""


# --- messages ------------------------------------------------------------------------------

_FRAMEWORK_DIR = os.path.dirname(os.path.abspath(__file__))
_FRAMEWORK_FILES = {
    os.path.join(_FRAMEWORK_DIR, f)
    for f in ("_tester.py", "_runner.py", "_registry.py", "_result.py", "diagnose.py", "__init__.py")
}
_LIBRARY_DIRS = tuple(
    os.path.abspath(p) for p in {sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"]} if p
)


def summarize_exception(exc: BaseException, fn=None) -> str:
    """One line: 'ValueError: message (raised in f, line 3)' - no traceback."""
    if isinstance(exc, SystemExit):
        return "your code called sys.exit() or exit(); a function must return its result instead."
    text = f"{type(exc).__name__}: {_safe_str(exc)}" if _safe_str(exc) else type(exc).__name__
    location = _learner_location(exc, fn)
    return f"your code raised {text}{location}"


def _learner_location(exc: BaseException, fn) -> str:
    """' (raised in name, line n)' for the innermost frame of learner code, if any."""
    code = getattr(fn, "__code__", None)
    learner_file = code.co_filename if code is not None else None
    best = None
    tb = exc.__traceback__
    while tb is not None:
        filename = os.path.abspath(tb.tb_frame.f_code.co_filename)
        if learner_file is not None:
            if tb.tb_frame.f_code.co_filename == learner_file:
                best = tb
        elif filename not in _FRAMEWORK_FILES and not filename.startswith(_LIBRARY_DIRS):
            best = tb
        tb = tb.tb_next
    if best is None:
        return ""
    return f" (raised in {best.tb_frame.f_code.co_name}, line {best.tb_lineno})"


def _safe_str(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:
        return "(the exception's message could not be shown)"
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:297] + "..."


def _stub_message(fn, exc: NotImplementedError) -> str:
    return (
        f"{_fn_name(fn)} still raises NotImplementedError. Replace that line with your code, "
        "run its cell, then run this check again."
    )


def _fn_name(fn) -> str:
    name = getattr(fn, "__name__", None)
    return f"`{name}`" if isinstance(name, str) and name.isidentifier() else "your function"


def _expected_name(exercise) -> str:
    ref = exercise.reference
    name = getattr(ref, "__name__", "")
    return name.lstrip("_").removesuffix("_reference") or "your_function"


def _copy_arrays(value):
    """Copy numpy arrays, also inside lists, tuples and dicts; leave other objects alone."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list | tuple):
        return type(value)(_copy_arrays(v) for v in value)
    if isinstance(value, dict):
        return {k: _copy_arrays(v) for k, v in value.items()}
    return value


def _same_array(a, s: np.ndarray) -> bool:
    if not isinstance(a, np.ndarray) or a.shape != s.shape:
        return False
    return bool(np.array_equal(a, s, equal_nan=s.dtype.kind in "fc"))


def _describe_input(name: str, value) -> str:
    if isinstance(value, np.ndarray):
        return f"{name}: {value.shape}"
    if isinstance(value, bool | np.bool_):
        return f"{name}={value}"
    if isinstance(value, int | np.integer):
        return f"{name}={int(value)}"
    if isinstance(value, float | np.floating):
        return f"{name}={float(value):.3g}"
    if callable(value):
        return f"{name}: a function"
    return f"{name}: {_d.describe(value)}"


def _capital(s: str) -> str:
    return s[:1].upper() + s[1:]
