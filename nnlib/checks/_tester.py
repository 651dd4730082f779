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

    @property
    def square(self) -> bool | None:
        """True if every matrix among the inputs is square, False if one is not, None if
        the inputs hold no matrix (columns ``(n, 1)`` and rows ``(1, n)`` do not count)."""
        shapes = [a.shape for a in _arrays_in(self.args) if a.ndim == 2 and min(a.shape) > 1]
        if not shapes:
            return None
        return all(r == c for r, c in shapes)

    def sizes(self) -> dict:
        """Names of this case's sizes and numbers -> value: ``{"X.shape[0]": 5, "lr": 0.1}``."""
        out: dict = {}
        for name, value in zip(self.names, self.args, strict=True):
            if isinstance(value, np.ndarray):
                if value.ndim == 1:
                    out[f"len({name})"] = value.shape[0]
                else:
                    for axis, size in enumerate(value.shape):
                        out[f"{name}.shape[{axis}]"] = size
            elif isinstance(value, int | float | np.integer | np.floating) and not isinstance(
                value, bool | np.bool_
            ):
                out[name] = value
        return out


class Tester:
    """Helpers for one run of one checker on one learner answer."""

    def __init__(self, exercise, answer):
        self.exercise = exercise
        self.answer = answer
        self.case: Case | None = None
        self.cases_passed = 0
        #: positions of array arguments the last ``call`` changed in place
        self.modified: tuple[int, ...] = ()
        #: squareness (see :attr:`Case.square`) of every case completed so far
        self.completed_square: list = []
        #: an answer that matched several catalogued mistakes on one case, waiting for a
        #: later case to tell them apart: (message with its case, candidate messages)
        self.deferred: tuple[str, frozenset] | None = None
        #: the first call that changed an input array in place: (where, function, names)
        self.changed_inputs: tuple | None = None
        #: the names and parts of the last tuple ``unpack`` split (to spot results in the
        #: wrong order)
        self._unpacked: tuple | None = None

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
            self.completed_square.append(self.case.square)

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
            raise LearnerError(self._where() + summarize_exception(exc, fn) + self._square_note()) from None
        if getattr(clock, "fired", False):  # the code caught the time limit and carried on
            raise CheckTimeout()
        self.modified = tuple(
            i
            for i, (a, s) in enumerate(zip(passed, snapshot, strict=True))
            if _holds_arrays(s) and not _same_contents(a, s)
        )
        if self.modified and self.changed_inputs is None:
            self.changed_inputs = (self._where(), fn, tuple(self._arg_name(args, i) for i in self.modified))
        if out is Ellipsis or (isinstance(out, tuple) and out and all(o is Ellipsis for o in out)):
            raise NotAttempted(
                f"{_fn_name(fn)} still returns the placeholder `...` (Ellipsis): write your code in its "
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
        self._unpacked = (tuple(names), tuple(out))
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
        sizes: dict | None = None,
    ) -> None:
        """Raise :class:`Incorrect` with a diagnosis unless ``got`` matches ``expected``.

        See :func:`nnlib.checks.diagnose.diagnose` for the arguments. ``hint`` is added
        to every diagnosis except a named mistake's (which explains itself). ``sizes``
        (names of the inputs' sizes and numbers -> value) defaults to those of the current
        case, so that a constant factor equal to one of them is named.

        A catalogued mistake is named only when no other catalogued mistake predicts the
        same result. When several do, the check goes on to the next case to tell them
        apart; if none does, the message names every candidate.
        """
        if sizes is None:
            sizes = self.case.sizes() if self.case is not None else {}
        verdict = _d.judge(
            got,
            expected,
            name,
            mistakes=mistakes,
            batch_size=batch_size,
            rtol=rtol,
            shape_hint=shape_hint,
            sizes=sizes,
            inputs=self._input_arrays(),
        )
        if verdict is None:
            return
        if self.deferred is not None:
            first, candidates = self.deferred
            if verdict.kind == "named" and verdict.message in candidates:
                self.deferred = None
                self.fail(verdict.message)
            if verdict.ambiguous and {m.message for m in verdict.named} <= candidates:
                # still several candidates, perhaps fewer: wait for another case, or say so now
                self.deferred = (self._where() + verdict.message, frozenset(m.message for m in verdict.named))
                if self._more_cases():
                    return
                self.deferred = None
                self.fail(verdict.message)
            raise Incorrect(first)
        if verdict.ambiguous and self._more_cases():
            self.deferred = (self._where() + verdict.message, frozenset(m.message for m in verdict.named))
            return
        named = verdict.kind in ("named", "ambiguous")
        if not named:
            moved = self._misplaced(got, expected, name, rtol)
            if moved:
                self.fail(moved)
        note = "" if named else self._square_note()
        self.fail(verdict.message + note, hint="" if named else hint)

    def finish(self) -> None:
        """Called when the checker returns: a pending ambiguous diagnosis is the result; so is
        an input array the learner's code changed in place (unless the exercise allows it)."""
        self.finish_deferred()
        if self.changed_inputs is not None and not getattr(self.exercise, "in_place", False):
            where, fn, names = self.changed_inputs
            listed = " and ".join(f"`{n}`" for n in names)
            raise Incorrect(
                f"{where}{_fn_name(fn)} changed its input {listed} in place: the caller's array is "
                "not the same after the call, and code that uses it afterwards sees the change. "
                "Work on a copy, or build a new array instead of updating the input with an "
                "assignment such as +=, *= or a[...] = ."
            )

    def finish_deferred(self) -> None:
        """A pending ambiguous diagnosis (see :meth:`compare`) becomes the result."""
        if self.deferred is not None:
            first, _ = self.deferred
            self.deferred = None
            raise Incorrect(first)

    def _arg_name(self, args, i) -> str:
        case = self.case
        if case is not None:
            for name, value in zip(case.names, case.args, strict=True):
                if value is args[i]:
                    return name
        return f"argument {i + 1}"

    def fail(self, detail: str, hint: str = ""):
        """Stop the check: the answer is wrong because of ``detail``."""
        text = self._where() + detail
        if hint:
            text += f"\nHint: {hint}"
        raise Incorrect(text)

    def _input_arrays(self) -> dict:
        case = self.case
        if case is None:
            return {}
        return {n: v for n, v in zip(case.names, case.args, strict=True) if isinstance(v, np.ndarray)}

    def _misplaced(self, got, expected, name, rtol) -> str:
        """When ``got`` is one part of an unpacked tuple and another part is the right value."""
        if self._unpacked is None:
            return ""
        names, parts = self._unpacked
        here = [k for k, part in enumerate(parts) if part is got]
        if len(here) != 1:
            return ""
        for j, part in enumerate(parts):
            if j != here[0] and _d.close(part, expected, rtol):
                return (
                    f"{name} is in the wrong place: what you return as {names[j]} (result "
                    f"{j + 1}) is the correct {name}. Return the results in the order "
                    f"({', '.join(names)})."
                )
        return ""

    def _more_cases(self) -> bool:
        return self.case is not None and self.case.index + 1 < self.case.total

    def _square_note(self) -> str:
        """A note when earlier cases, all square, passed and this non-square one fails."""
        case = self.case
        done = self.completed_square
        if case is None or case.square is not False or not done or not all(done):
            return ""
        tests = "test 1" if len(done) == 1 else f"tests 1 to {len(done)}"
        return (
            f"\nYour code was right on {tests}, where every matrix was square, and goes wrong on "
            "the first one that is not: a square input can hide a transpose or a swapped dimension "
            "(rows where columns belong)."
        )

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


def _arrays_in(value):
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _arrays_in(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _arrays_in(v)


def _holds_arrays(value) -> bool:
    """An array, or a list / tuple / dict with an array somewhere inside (a cache, params)."""
    return next(iter(_arrays_in(value)), None) is not None


def _same_contents(a, s) -> bool:
    """Is ``a`` still what the snapshot ``s`` was? Arrays by value, containers entry by entry
    (a learner who writes ``cache["y_hat"] -= y`` or rebinds a key changed the caller's dict)."""
    if isinstance(s, np.ndarray):
        return _same_array(a, s)
    if isinstance(s, dict):
        return isinstance(a, dict) and a.keys() == s.keys() and all(_same_contents(a[k], s[k]) for k in s)
    if isinstance(s, list | tuple):
        return (isinstance(a, list | tuple) and len(a) == len(s)
                and all(_same_contents(x, y) for x, y in zip(a, s, strict=True)))
    return True


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


# --- answers that are not the learner's own code ------------------------------------------------


def foreign_answer(answer) -> str | None:
    """Why ``answer`` cannot be graded as the learner's code, or None when it can.

    A function or class defined by nnlib outside :mod:`nnlib.checks` is the library's own
    (a notebook that imported it and then failed to run the learner's cell would pass it
    along silently); one defined by numpy, Python or another installed library is not code
    the learner wrote. The checks' references and catalogued wrong answers (defined in
    ``nnlib.checks``), and functions defined in notebooks, scripts or tests, are graded.
    """
    obj = _unwrap(answer)
    if obj is None:
        return None
    module = _defining_module(obj)
    if not module:
        return None
    name = getattr(obj, "__name__", None)
    if not isinstance(name, str) or not name.isidentifier():
        name = type(obj).__name__
    what = "class" if isinstance(obj, type) else "function"
    if module == "nnlib" or (module.startswith("nnlib.") and not module.startswith("nnlib.checks")):
        return (
            f"This is nnlib's own `{name}` (`{module}.{name}`), not yours: the name still refers "
            f"to the library's {what}, so your definition has not run (did its cell stop with an "
            f"error?) or a later import replaced it. Run the cell that defines `{name}`, fix any "
            "error it shows, then run this check again."
        )
    owner = _library_owner(module)
    if owner:
        where = "" if module == "builtins" else f" (`{module}.{name}`)"
        return (
            f"This is {owner} `{name}`{where}, not a {what} you wrote: the exercise "
            f"asks for your own code. Define your {what} in its cell (it may use numpy inside), run "
            "that cell, and pass your own one to the check."
        )
    return None


def _unwrap(answer):
    """The object whose definition counts: a partial's function, a method's function..."""
    import functools

    obj = answer
    for _ in range(5):
        if isinstance(obj, functools.partial):
            obj = obj.func
        elif hasattr(obj, "__func__") and callable(getattr(obj, "__func__", None)):
            obj = obj.__func__
        elif type(obj).__name__ == "vectorize" and callable(getattr(obj, "pyfunc", None)):
            obj = obj.pyfunc
        else:
            break
    return obj if callable(obj) else None


def _defining_module(obj) -> str:
    """The module that defined ``obj`` ('' when unknown: then it is graded as usual)."""
    try:
        module = getattr(obj, "__module__", None)
        if not isinstance(module, str) and not isinstance(obj, type) and not hasattr(obj, "__code__"):
            module = type(obj).__module__  # a callable instance: its class's module
    except Exception:
        return ""
    return module if isinstance(module, str) else ""


def _library_owner(module: str) -> str:
    """"numpy's", "Python's built-in"... when ``module`` belongs to Python or an installed
    library (not to the learner's notebook, a script or a test); else ''."""
    import sys

    root = module.split(".", 1)[0]
    if root in ("__main__", "__mp_main__") or root.startswith("_ipython"):
        return ""
    if root == "builtins":
        return "Python's built-in"
    if root in sys.stdlib_module_names:
        return f"Python's {root} module's"
    loaded = sys.modules.get(root)
    path = getattr(loaded, "__file__", None) if loaded is not None else None
    if isinstance(path, str) and os.path.abspath(path).startswith(_INSTALLED_DIRS):
        return f"{root}'s"
    return ""


_INSTALLED_DIRS = tuple(
    os.path.abspath(p) for p in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]} if p
)
