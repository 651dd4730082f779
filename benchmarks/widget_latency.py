"""Latency of each chapter widget's callback, measured inside a real Jupyter kernel.

Builders are discovered, not listed: every public function of
``nnlib/widgets/ch<N>.py`` whose source registers a callback with ``.observe(`` is
called (required arguments are supplied from ``FIXTURES`` by name). Then each
control of the widget it returns (sliders, menus, toggles, check boxes) is moved to
a few other values; assigning ``control.value`` runs the observers synchronously,
so the time of that assignment is the callback's latency as a reader feels it,
drawing into the ``Output`` included.

In a kernel, ``with output:``, ``display`` and matplotlib's inline backend behave
as in a notebook, so :func:`measure_in_kernel` runs :func:`run_all` there (through
nbclient) and reads back its JSON; the functions below also work in a plain process.
"""

from __future__ import annotations

import importlib
import inspect
import json
import statistics
import time
from pathlib import Path

CHAPTERS = (1, 2, 3, 4, 5)
MARK = "@@WIDGET-LATENCY@@"


def _digits():
    from nnlib.data import load_digits

    return load_digits()


#: Values for builder arguments that have no default, by argument name.
FIXTURES = {"data": _digits}


def discover(chapter):
    """Return ``(module name, builders, note)``; builders is a list of (name, function)."""
    name = f"nnlib.widgets.ch{chapter}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name == name:
            return name, [], "module does not exist yet"
        raise
    builders = []
    for fname, fn in inspect.getmembers(module, inspect.isfunction):
        if fname.startswith("_") or fn.__module__ != module.__name__:
            continue
        try:
            source = inspect.getsource(fn)
        except OSError:
            continue
        if ".observe(" in source or ".connect(" in source:  # Panel.connect wires observers too
            builders.append((fname, fn))
    return name, builders, "" if builders else "no builder registers a callback (observe or Panel.connect)"


def _arguments(fn):
    """Keyword arguments for the parameters of ``fn`` that have no default, or raise LookupError."""
    kwargs = {}
    for p in inspect.signature(fn).parameters.values():
        if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            if p.name not in FIXTURES:
                raise LookupError(f"no fixture for the required argument {p.name!r}")
            kwargs[p.name] = FIXTURES[p.name]()
    return kwargs


def _has_value_observer(w):
    notifiers = getattr(w, "_trait_notifiers", None)
    if notifiers is None:  # a traitlets without this attribute: assume it may be observed
        return True
    return bool(notifiers.get("value", {}).get("change"))


def controls_of(widget):
    """The value controls (sliders, menus, toggles, check boxes) inside ``widget``, depth first."""
    import ipywidgets as w

    kinds = (w.widget_selection._Selection, w.widget_float._Float, w.widget_int._Int, w.Checkbox, w.ToggleButton)
    found, stack = [], [widget]
    while stack:
        node = stack.pop(0)
        if isinstance(node, kinds) and not isinstance(node, w.Play) and _has_value_observer(node):
            found.append(node)
        stack.extend(getattr(node, "children", ()))
    return found


def new_values(control, k):
    """Up to ``k`` values to move ``control`` to (then back to where it was), all different from it."""
    import ipywidgets as w
    import numpy as np

    current = control.value
    if isinstance(control, w.widget_selection._Selection):
        candidates = list(control._options_values)
    elif isinstance(control, w.Checkbox | w.ToggleButton):
        candidates = [not current]
    elif isinstance(control, w.FloatLogSlider):
        candidates = [float(control.base**e) for e in np.linspace(control.min, control.max, k)]
    elif hasattr(control, "min") and hasattr(control, "max"):
        candidates = list(np.linspace(control.min, control.max, k))
        if isinstance(control, w.widget_int._Int):
            candidates = [int(round(c)) for c in candidates]
        else:
            candidates = [float(c) for c in candidates]
    else:
        return []
    picked = []
    for c in candidates:
        if c != current and c not in picked:
            picked.append(c)
    return picked[:k]


def measure_widget(widget, changes_per_control=4, budget_seconds=20.0):
    """Move every control of ``widget`` and time each assignment; return seconds per change and labels."""
    times, labels = [], []
    deadline = time.perf_counter() + budget_seconds
    for control in controls_of(widget):
        original = control.value
        label = control.description or type(control).__name__
        for value in [*new_values(control, changes_per_control), original]:
            if time.perf_counter() > deadline:
                break
            if value == control.value:
                continue
            start = time.perf_counter()
            control.value = value
            times.append(time.perf_counter() - start)
            labels.append(f"{label}={value:.3g}" if isinstance(value, float) else f"{label}={value!r:.24}")
    return times, labels


def run_all(quick=False):
    """Build and exercise every discovered widget; return a JSON-able report."""
    import matplotlib.pyplot as plt

    k, budget = (2, 5.0) if quick else (5, 40.0)
    report = []
    for chapter in CHAPTERS:
        module, builders, note = discover(chapter)
        if not builders:
            report.append({"chapter": chapter, "module": module, "builder": None, "note": note})
            continue
        for name, fn in builders:
            entry = {"chapter": chapter, "module": module, "builder": name, "note": ""}
            try:
                kwargs = _arguments(fn)
                start = time.perf_counter()
                widget = fn(**kwargs)
                entry["build_seconds"] = time.perf_counter() - start
                times, labels = measure_widget(widget, k, budget)
            except Exception as err:  # report, do not stop the other widgets
                entry["note"] = f"{type(err).__name__}: {err}"
                report.append(entry)
                continue
            finally:
                plt.close("all")
            entry.update(times=times, labels=labels)
            if times:
                entry.update(median=statistics.median(times), min=min(times), max=max(times))
            else:
                entry["note"] = "no observed control found"
            report.append(entry)
    return report


def measure_in_kernel(repo: Path, quick=False, timeout=900, threads=None):
    """Run :func:`run_all` in a fresh ``python3`` Jupyter kernel started in ``repo``; return its report.

    ``threads`` caps the kernel's BLAS threads (through ``OPENBLAS_NUM_THREADS`` and
    ``OMP_NUM_THREADS`` in its environment), like the rest of the run.
    """
    import os

    import nbformat
    from nbclient import NotebookClient

    here = Path(__file__).resolve().parent
    code = (f"import sys, json\nsys.path.insert(0, {str(here)!r})\nimport widget_latency\n"
            f"print({MARK!r} + json.dumps(widget_latency.run_all(quick={quick!r})))")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    saved = {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    try:
        if threads:
            os.environ.update({k: str(threads) for k in saved})
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(repo)}})
        client.execute()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    for out in nb.cells[0].outputs:
        if out.get("output_type") == "stream":
            for line in out.get("text", "").splitlines():
                if line.startswith(MARK):
                    return json.loads(line[len(MARK):])
    raise RuntimeError("the kernel printed no widget-latency report")
