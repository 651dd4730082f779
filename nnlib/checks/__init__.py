"""Exercise checks: immediate, specific feedback on a learner's answer.

In a notebook::

    from nnlib.checks import check
    check("ch1.mse_gradient", mse_gradient)

``check`` runs the learner's function on several seeded inputs, compares with the
reference answer, names the mistake when it recognises it, and returns a
:class:`CheckResult` whose text is the message. It never raises, never prints the
expected values, and stops code that runs too long. A function or class that is
nnlib's own (or numpy's, or Python's) is refused: it is not the learner's code. Code in a
message is shown as code in the notebook and as plain text everywhere else.

For authors (see CONTRIBUTING.md): a chapter's checks live in ``nnlib/checks/chN.py``
and are registered with :func:`exercise`; the shared diagnoses are in
:mod:`nnlib.checks.diagnose`.
"""

from ._registry import Exercise, UnknownExercise, WrongAnswer, exercise, exercise_ids, registry
from ._result import STATUSES, CheckResult
from ._runner import DEFAULT_TIME_LIMIT, GRADE_LOG_ENV, check
from .diagnose import Mistake

__all__ = [
    "DEFAULT_TIME_LIMIT",
    "GRADE_LOG_ENV",
    "STATUSES",
    "CheckResult",
    "Exercise",
    "Mistake",
    "UnknownExercise",
    "WrongAnswer",
    "check",
    "exercise",
    "exercise_ids",
    "registry",
]
