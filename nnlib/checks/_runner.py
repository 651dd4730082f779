"""``check(exercise_id, answer)``: run one exercise's checker safely and report.

Guarantees, whatever the learner passes:

* ``check`` never raises; every exception from learner code (and from the check
  itself) becomes a result with a one-line message.
* Learner code that runs longer than the time limit is stopped. On the main thread
  (where Jupyter runs cells) a ``SIGALRM`` interval timer raises :class:`CheckTimeout`
  inside the running code and repeats every 0.25 s in case the code swallows it.
  Elsewhere (another thread, or Windows) the checker runs in a daemon thread that is
  abandoned after the limit: the result says "timeout" at once, but the loop keeps
  running in the background until the kernel is restarted.
* With ``NNLIB_GRADE_LOG`` set, each result is appended to that file as one JSON line
  (read by ``python -m nnlib.grade``).
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Callable

from ._registry import UnknownExercise, get_exercise
from ._result import CheckResult
from ._tester import CheckTimeout, Incorrect, LearnerError, NotAttempted, Tester, clock, foreign_answer

#: Seconds a check may run before learner code is stopped (env NNLIB_CHECK_TIME_LIMIT overrides).
DEFAULT_TIME_LIMIT = 5.0
#: Environment variable naming the JSON-lines file that grading collects.
GRADE_LOG_ENV = "NNLIB_GRADE_LOG"

_MISSING = object()
_state = clock  # per-thread: .active while a limited check runs, .fired once the limit hit


def check(exercise_id, answer=_MISSING, *, time_limit: float | None = None) -> CheckResult:
    """Check ``answer`` (your function or value) for exercise ``exercise_id``; show and return the result.

    >>> check("ch1.mse_gradient", mse_gradient)   # doctest: +SKIP

    The returned :class:`CheckResult` has ``status`` ("correct", "incorrect",
    "not attempted", "error" or "timeout"), ``passed``, ``points``, ``max_points`` and
    ``message``. ``time_limit`` (seconds) defaults to 5.
    """
    try:
        result = _check(exercise_id, answer, _time_limit(time_limit))
    except BaseException as exc:  # never let anything escape to the learner
        result = CheckResult(
            _id_text(exercise_id),
            "error",
            0.0,
            0.0,
            f"The check itself failed ({type(exc).__name__}). Please report this as a bug.",
        )
    _write_grade_log(result)
    try:
        result.show()
    except Exception:  # a broken display must not turn into an exception either
        pass
    return result


def _check(exercise_id, answer, limit: float) -> CheckResult:
    try:
        ex = get_exercise(exercise_id)
    except UnknownExercise as exc:
        return CheckResult(_id_text(exercise_id), "error", 0.0, 0.0, str(exc))
    except Exception as exc:
        return CheckResult(
            _id_text(exercise_id),
            "error",
            0.0,
            0.0,
            f"The checks for {str(exercise_id).split('.')[0]} could not be loaded "
            f"({type(exc).__name__}: {exc}). Please report this as a bug in the course.",
        )

    def result(status, detail, points=0.0):
        return CheckResult(ex.id, status, points, ex.points, detail, ex.title)

    if answer is _MISSING:
        return result("error", f"Pass your answer too: check({ex.id!r}, your_answer).")
    if answer is Ellipsis:
        return result(
            "not attempted",
            "The answer is still the placeholder `...` (Ellipsis): replace it, run its cell, "
            "then run this check again.",
        )
    foreign = foreign_answer(answer) if ex.kind in ("function", "class") else None
    if foreign:
        return result("incorrect", foreign)
    t = Tester(ex, answer)

    def run():
        try:
            ex.checker(answer, t)
        except (CheckTimeout, KeyboardInterrupt, NotAttempted):
            raise
        except BaseException:
            t.finish_deferred()  # a diagnosis waiting for a later case comes first
            raise
        t.finish()

    try:
        _run_limited(run, limit)
    except Incorrect as exc:
        return result("incorrect", str(exc))
    except NotAttempted as exc:
        return result("not attempted", str(exc))
    except LearnerError as exc:
        return result("error", str(exc))
    except CheckTimeout as exc:
        where = f" during {t.case.label}" if t.case is not None else ""
        background = (
            " It is still running in the background; restart the kernel if the notebook slows down."
            if exc.args and exc.args[0] == "background"
            else ""
        )
        return result(
            "timeout",
            f"Stopped after {limit:g} s{where}: the code did not finish. Look for a loop that "
            f"never ends (a `while` whose condition stays true, a counter that is never "
            f"updated).{background}",
        )
    except KeyboardInterrupt:
        return result("error", "The check was interrupted before it finished.")
    except Exception as exc:  # a bug in the checker itself, not in the learner's code
        return result(
            "error",
            f"The check itself failed ({type(exc).__name__}: {exc}). Your answer may be fine; "
            "please report this as a bug in the course.",
        )
    n = t.cases_passed
    detail = f"All {n} tests passed." if n else "Well done."
    return result("correct", detail, points=ex.points)


# --- time limit ------------------------------------------------------------------------------


def _time_limit(explicit: float | None) -> float:
    if explicit is not None:
        return float(explicit)
    try:
        return float(os.environ.get("NNLIB_CHECK_TIME_LIMIT", DEFAULT_TIME_LIMIT))
    except ValueError:
        return DEFAULT_TIME_LIMIT


def _run_limited(fn: Callable, limit: float):
    """Run ``fn()``; raise :class:`CheckTimeout` if it takes longer than ``limit`` seconds."""
    if limit <= 0 or getattr(_state, "active", False):
        return fn()  # no limit, or a check running inside a check: the outer limit applies
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        return _run_with_alarm(fn, limit)
    return _run_in_thread(fn, limit)


def _run_with_alarm(fn: Callable, limit: float):
    def on_alarm(signum, frame):
        if getattr(_state, "active", False):
            _state.fired = True
            raise CheckTimeout()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    _state.active, _state.fired = True, False
    signal.setitimer(signal.ITIMER_REAL, limit, 0.25)  # repeats in case the code swallows it
    try:
        value = fn()
    finally:
        try:
            _state.active = False  # from here on the handler does nothing
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)
    if _state.fired:  # the code caught CheckTimeout and returned anyway
        raise CheckTimeout()
    return value


def _run_in_thread(fn: Callable, limit: float):
    box: dict = {}

    def target():
        _state.active, _state.fired = True, False
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the calling thread
            box["error"] = exc

    worker = threading.Thread(target=target, name="nnlib-check", daemon=True)
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        raise CheckTimeout("background")
    if "error" in box:
        raise box["error"]
    return box["value"]


# --- grading log -------------------------------------------------------------------------------


def _write_grade_log(result: CheckResult) -> None:
    path = os.environ.get(GRADE_LOG_ENV)
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(result.as_dict(), ensure_ascii=False) + "\n")
    except Exception:  # grading notices the missing line; the learner sees the result anyway
        pass


def _id_text(exercise_id) -> str:
    return exercise_id if isinstance(exercise_id, str) else f"<{type(exercise_id).__name__}>"
