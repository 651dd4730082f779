"""How well do the exercise checks name a learner's mistake?

Runs ``nnlib.checks.check(id, answer)`` on every wrong answer of ``catalogue.py`` and
sorts each outcome into one of four classes:

ACCEPTED    the check passed a wrong answer;
NAMED       the diagnosis names this mistake (it contains one of the entry's keywords);
MISLEADING  the diagnosis names a specific mistake, but not this one (it uses one of the
            framework's specific phrases, or no generic one: those are marked for review);
            a diagnosis that "matches two known mistakes" is named if one of them is this
            one (keywords first), misleading otherwise, whatever generic words it has;
GENERIC     a generic message (wrong values, wrong shape, a number that is off, an
            exception from the learner's code).

Keywords are looked for in the diagnosis only: the test label ("Test 2 of 5 (X: (6, 3),
...)"), a "Hint:" line (the same for every mistake), the text of an exception raised by
the learner's code, and the generic "(rounding, or float32?)" are removed first.

Usage, from the project root::

    .venv/bin/python benchmarks/diagnoses/measure.py            # table, totals, lists
    .venv/bin/python benchmarks/diagnoses/measure.py --all      # also every entry's message
    .venv/bin/python benchmarks/diagnoses/measure.py --strict   # exit 1 if the goal is missed
    .venv/bin/python benchmarks/diagnoses/measure.py --only ch3 --json out.json

The goal: 0 accepted, 0 misleading, at least 75 % named. Without ``--strict`` the exit
status is 0 whatever the numbers: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

GOAL_NAMED = 0.75
CLASSES = ("ACCEPTED", "MISLEADING", "NAMED", "GENERIC")

#: Generic messages: they say that something is wrong, and where, but name no mistake.
GENERIC = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"has wrong values",
        r"is wrong: it is (close|within|more than)",
        r"off by a constant factor",
        r"has the wrong shape: expected",
        r"contains \d+ (NaN|inf)",
        r"your code raised",
        r"your code called sys\.exit",
        r"Stopped after [\d.]+ s",
        r"could not be read as an array",
        r"expected \d+ results",
        r"is (a string|a bool|bytes|a dict|a function)\b.*not a number",
        r"holds (bools|complex)",
        r"still raises NotImplementedError",
        r"still (returns )?the placeholder",
        r"The check itself failed",
        r"shapes do not fit",
        # an outer product with one wrong factor: says which factor (the error term), not why
        r"is an outer product whose .* factor is wrong",
    )
)

#: Phrases with which the framework names a specific mistake. A diagnosis that uses one
#: but none of the entry's keywords names another mistake than the one made.
SPECIFIC = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"wrong sign",
        r"times too (large|small)",
        r"1/B",
        r"transposed",
        r"sums over",
        r"instead of averaging",
        r"\bbias\b",
        r"wrong axis",
        r"itself where",
        r"derivative belongs",
        r"local derivative only",
        r"twice the correct",
        r"half the correct",
        r"factor of 2",
        r"in place",
        r"right numbers in the wrong shape",
        r"never called",
        r"stale",
        r"one factor too",
        r"is what you get when",
        r"zero where it should not be",
        r"all zeros",
        r"in the wrong order",
        r"off by the same",
        r"scaled by its own factor",
        r"times the correct value",
        r"of the correct value",
        r"in the wrong place",
        r"matches two known mistakes",
        r"not yours",
        r"not a function you wrote",
        r"changed its input",
    )
)

#: Removed before keywords are looked for (they appear whatever the mistake).
_NOISE = (
    re.compile(r"\(rounding, or float32\?\)", re.IGNORECASE),
    re.compile(r"your code raised .*$", re.IGNORECASE | re.MULTILINE),
)
_REFUSED = re.compile(r"not yours|not a function you wrote|nnlib's own|defined outside|"
                      r"run your cell", re.IGNORECASE)
#: A diagnosis that names two mistakes at once: named if one of them is this entry's (the
#: keywords are looked for first), misleading otherwise, whatever generic words it has.
_AMBIGUOUS = re.compile(r"matches two known mistakes", re.IGNORECASE)
_LABEL = re.compile(r"test \d+ of \d+ \(", re.IGNORECASE)


@dataclass
class Outcome:
    exercise: str
    description: str
    status: str
    klass: str
    review: bool
    message: str
    diagnosis: str
    shown: str | None = None  # what the entry's witness showed, for an accepted entry


def strip_labels(text: str) -> str:
    """``text`` without "Test 2 of 5 (X: (6, 3), lr=0.1)" labels (balanced parentheses)."""
    out, i = [], 0
    while True:
        m = _LABEL.search(text, i)
        if m is None:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i : m.start()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(text[j], 0)
            j += 1
        while j < len(text) and text[j] in ": ":  # the ": " after the label
            j += 1
        i = j


def diagnosis_of(detail: str) -> str:
    """The part of a check's detail that is about this answer."""
    text = detail.split("\nHint:", 1)[0]
    text = strip_labels(text)
    for noise in _NOISE:
        text = noise.sub("", text)
    return text.strip()


def classify(passed: bool, detail: str, keywords) -> tuple[str, bool, str]:
    """(class, needs review, diagnosis text)."""
    diag = diagnosis_of(detail)
    if passed:
        return "ACCEPTED", False, diag
    if any(re.search(k, diag, re.IGNORECASE) for k in keywords):
        return "NAMED", False, diag
    if _AMBIGUOUS.search(diag):  # names two mistakes, neither of them this one
        return "MISLEADING", False, diag
    said = strip_labels(detail.split("\nHint:", 1)[0])  # the generic markers, noise kept
    if any(p.search(said) for p in GENERIC):
        return "GENERIC", False, diag
    if any(p.search(diag) for p in SPECIFIC):
        return "MISLEADING", False, diag
    return "MISLEADING", True, diag  # specific-looking, but no known phrase: read it


def self_test() -> None:
    """The classifier on made-up messages (run with --self-test)."""
    label = "Test 2 of 5 (X: (6, 3), lr=0.1, sizes: a list of 3 items): "
    assert strip_labels(label + "dW is transposed.") == "dW is transposed."
    hint = "\nHint: dW = dZ^T X, transposed if you like."
    cases = [
        (True, "All 5 tests passed.", ("transpos",), "ACCEPTED"),
        (False, label + "dW is transposed (rows and columns swapped).", ("transpos",), "NAMED"),
        (False, label + "dW has wrong values: 3 of 6 entries differ." + hint, ("transpos",),
         "GENERIC"),
        (False, label + "dW has the wrong sign (it is minus the correct value).", ("transpos",),
         "MISLEADING"),
        (False, label + "your code raised ValueError: axis 1 is out of bounds", ("axis",),
         "GENERIC"),
        (False, "x is wrong: it is close, but not within the tolerance (rounding, or float32?).",
         ("float32",), "GENERIC"),
        (False, label + "lr=0.1 is not used", (r"\blr\b",), "NAMED"),
        (False, "sizes: a list of 3 items is something new entirely.", ("transpos",),
         "MISLEADING"),
        (False, label + "dW has wrong values; it matches two known mistakes: transposed, or "
         "the wrong sign.", ("transpos",), "NAMED"),
        (False, label + "dW has wrong values; it matches two known mistakes: transposed, or "
         "the wrong sign.", (r"1/B",), "MISLEADING"),
        (False, label + "db is zero where it should not be.", ("bias",), "MISLEADING"),
        (False, label + "this function is not yours: it is nnlib's own.", ("x",),
         "MISLEADING"),
    ]
    for passed, detail, keywords, want in cases:
        got = classify(passed, detail, keywords)[0]
        assert got == want, (detail, got, want)
    assert classify(False, "something new entirely", ("x",))[1]  # marked for review
    print(f"self-test: {len(cases) + 2} cases passed")


def run(only: str | None = None):
    os.environ.pop("NNLIB_GRADE_LOG", None)  # a measurement writes no grading log
    import catalogue

    from nnlib.checks import check, registry

    ids = list(registry())
    if only:
        ids = [i for i in ids if i == only or i.split(".", 1)[0] == only]
    outcomes: list[Outcome] = []
    for exercise_id in ids:
        for entry in catalogue.CATALOGUE.get(exercise_id, []):
            sink = io.StringIO()
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                result = check(exercise_id, entry.answer)
            klass, review, diag = classify(result.passed, result.detail, entry.keywords)
            shown = None
            if klass == "ACCEPTED":
                shown = _witness(entry)
            outcomes.append(
                Outcome(exercise_id, entry.description, result.status, klass, review,
                        result.detail, diag, shown)
            )
    registered = set(registry())
    uncatalogued = [i for i in ids if not catalogue.CATALOGUE.get(i)]
    skipped = sorted(i for i in catalogue.CATALOGUE if i not in registered)
    return outcomes, uncatalogued, skipped


def _witness(entry) -> str:
    if entry.witness is None:
        return "no witness: add one to show that this answer is wrong"
    try:
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            said = entry.witness(entry.answer)
    except Exception as exc:  # the wrong answer may well raise on the witness input
        return f"the witness raised {type(exc).__name__}: {exc}"
    return said or "the witness did NOT show a mistake: check this entry"


def _counts(rows):
    return {k: sum(r.klass == k for r in rows) for k in CLASSES}


def _pct(n, total):
    return f"{100 * n / total:5.1f} %" if total else "    - "


def report(outcomes, uncatalogued, skipped, show_all=False, out=sys.stdout) -> dict:
    w = out.write
    ids = list(dict.fromkeys(o.exercise for o in outcomes))
    w(f"{'exercise':26} {'entries':>7} {'accepted':>8} {'misleading':>10} "
      f"{'named':>5} {'generic':>7}  named %\n")
    for exercise_id in ids:
        rows = [o for o in outcomes if o.exercise == exercise_id]
        c = _counts(rows)
        w(f"{exercise_id:26} {len(rows):7d} {c['ACCEPTED']:8d} {c['MISLEADING']:10d} "
          f"{c['NAMED']:5d} {c['GENERIC']:7d}  {_pct(c['NAMED'], len(rows))}\n")
    total = len(outcomes)
    c = _counts(outcomes)
    w("-" * 80 + "\n")
    w(f"{'total':26} {total:7d} {c['ACCEPTED']:8d} {c['MISLEADING']:10d} {c['NAMED']:5d} "
      f"{c['GENERIC']:7d}  {_pct(c['NAMED'], total)}\n")
    w(f"\n{len(ids)} exercises, {total} wrong answers: "
      + ", ".join(f"{k.lower()} {c[k]} ({_pct(c[k], total).strip()})" for k in CLASSES)
      + "\n")
    refused = [o for o in outcomes if _REFUSED.search(o.diagnosis)]
    if refused:
        w(f"Note: {len(refused)} answers were refused as not the learner's own (defined outside "
          "a notebook?); their classes say nothing about the diagnoses.\n")
    review = [o for o in outcomes if o.review]
    if review:
        w(f"({len(review)} of the misleading ones use no known phrase: read them, below.)\n")
    goal = c["ACCEPTED"] == 0 and c["MISLEADING"] == 0 and total and c["NAMED"] / total >= GOAL_NAMED
    w(f"Goal (0 accepted, 0 misleading, >= {GOAL_NAMED:.0%} named): "
      f"{'met' if goal else 'not met'}\n")
    if uncatalogued:
        w(f"\nRegistered but not catalogued ({len(uncatalogued)}): {', '.join(uncatalogued)}\n")
    if skipped:
        w(f"Catalogued but not registered, skipped ({len(skipped)}): {', '.join(skipped)}\n")
    for klass in ("ACCEPTED", "MISLEADING"):
        rows = [o for o in outcomes if o.klass == klass]
        if rows:
            w(f"\n{klass} ({len(rows)}):\n")
            for o in rows:
                _entry(w, o)
    if show_all:
        for klass in ("NAMED", "GENERIC"):
            rows = [o for o in outcomes if o.klass == klass]
            w(f"\n{klass} ({len(rows)}):\n")
            for o in rows:
                _entry(w, o)
    return {
        "entries": total,
        "exercises": len(ids),
        **{k.lower(): c[k] for k in CLASSES},
        "named_fraction": c["NAMED"] / total if total else 0.0,
        "goal_met": bool(goal),
        "uncatalogued": uncatalogued,
        "skipped": skipped,
    }


def _entry(w, o: Outcome):
    flag = "  [review]" if o.review else ""
    w(f"- {o.exercise}: {o.description}{flag}\n")
    for line in (o.message or f"({o.status})").splitlines():
        w(f"      {line}\n")
    if o.shown:
        w(f"      -> wrong all the same: {o.shown}\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 unless 0 accepted, 0 misleading and >= 75%% named")
    parser.add_argument("--all", action="store_true", help="also print every named and generic entry")
    parser.add_argument("--only", help="one exercise id or chapter prefix (e.g. ch3)")
    parser.add_argument("--json", help="write the totals and every outcome to this file")
    parser.add_argument("--self-test", action="store_true", help="test the classifier and stop")
    args = parser.parse_args(argv)
    if args.self_test:
        self_test()
        return 0
    outcomes, uncatalogued, skipped = run(args.only)
    summary = report(outcomes, uncatalogued, skipped, show_all=args.all)
    if args.json:
        data = {"summary": summary, "outcomes": [o.__dict__ for o in outcomes]}
        Path(args.json).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    return 0 if (summary["goal_met"] or not args.strict) else 1


if __name__ == "__main__":
    sys.exit(main())
