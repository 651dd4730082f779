"""Turn the benchmark results into RESULTS.md (tables, targets, machine) and a plot."""

from __future__ import annotations

import re
from pathlib import Path

from timing import Spread

TARGETS_HEADER = "| target | measured | verdict |\n|---|---|---|"


def ms(s: Spread, scale=1e3, unit="ms"):
    """A time as ``median [min-max] unit``."""
    return f"{s.median * scale:.3g} [{s.low * scale:.3g}-{s.high * scale:.3g}] {unit}"


def ratio(s: Spread):
    return f"{s.median:.2f}x [{s.low:.2f}-{s.high:.2f}]"


def pct(x):
    return f"{100 * x:.0f} %"


def verdict(met, miss=""):
    if met is None:
        return "not measured"
    return "met" if met else f"**missed**{': ' + miss if miss else ''}"


# ----------------------------------------------------------------------------- targets


def evaluate_targets(res):
    """Return a list of (target, measured, verdict) rows for the issue's targets."""
    rows = []
    threads = res["settings"]["threads"][0]
    mlp = res.get("mlp", {}).get(threads, {})
    f32 = mlp.get("float32", {})
    b128 = f32.get(128)
    if b128:
        frac = b128["peak_fraction"]["nnlib"]
        rows.append(("nnlib step, float32 batch 128: >= 60 % of GEMM peak", pct(frac),
                     verdict(frac >= 0.60, f"{pct(0.60 - frac)} short of 60 %")))
        r = b128["ratios"]["nnlib/numpy"]
        rows.append(("... i.e. <= 1.15x the plain-numpy reference", ratio(r),
                     verdict(r.median <= 1.15, f"{(r.median / 1.15 - 1) * 100:.0f} % over")))
        r = b128["ratios"].get("nnlib/torch")
        rows.append(("... and faster than PyTorch CPU", ratio(r) if r else "PyTorch not installed",
                     verdict(None if r is None else r.median < 1.0,
                             f"{(r.median - 1) * 100:.0f} % slower" if r else "")))
    else:
        rows.append(("nnlib step, float32 batch 128: >= 60 % of GEMM peak (<= 1.15x numpy, faster than PyTorch)",
                     "batch 128 not in this run", verdict(None)))
    for dt in ("float32", "float64"):
        b1 = mlp.get(dt, {}).get(1)
        if b1:
            r = b1["ratios"].get("nnlib/torch")
            rows.append((f"nnlib step at batch 1 ({dt}): no slower than PyTorch CPU",
                         ratio(r) if r else "PyTorch not installed",
                         verdict(None if r is None else r.median <= 1.0,
                                 f"{(r.median - 1) * 100:.0f} % slower" if r else "")))
    dig = res.get("digits", {}).get("float64")
    if dig:
        acc = dig["nnlib"]["accuracy"]
        rows.append(("digits: >= 97 % test accuracy (nnlib, float64)", f"{acc:.1%}",
                     verdict(acc >= 0.97, f"{(0.97 - acc) * 100:.1f} points short")))
        r = dig["ratios"]["nnlib/numpy"]
        rows.append(("digits: within 1.5x the plain-numpy reference's time", ratio(r),
                     verdict(r.median <= 1.5, f"{(r.median / 1.5 - 1) * 100:.0f} % over")))
        r = dig["ratios"]["nnlib/sklearn"]
        sk_acc = dig["sklearn"]["accuracy"]
        rows.append(("digits: faster than MLPClassifier at equal accuracy",
                     f"{ratio(r)} the time; accuracy {acc:.1%} vs {sk_acc:.1%}",
                     verdict(r.median < 1.0 and acc >= sk_acc,
                             "slower" if r.median >= 1.0 else "lower accuracy")))
    suites = res.get("suites", {})
    for key, label, limit in (("nbval", "nbval suite", 120), ("clean", "clean site build", 180),
                              ("cached", "cached rebuild", 30)):
        run = suites.get(key)
        if run is None:
            rows.append((f"{label} <= {limit} s", "not run (see the flags in README.md)", verdict(None)))
            continue
        ok = run["returncode"] == 0
        met = ok and run["seconds"] <= limit
        note = f"{run['seconds'] - limit:.0f} s over" if run["seconds"] > limit else "within time"
        if not ok:
            note += f"; the command also failed (exit {run['returncode']}, see section 5)"
        rows.append((f"{label} <= {limit} s", f"{run['seconds']:.0f} s", verdict(met, note)))
    widgets = res.get("widgets")
    if isinstance(widgets, list):
        for w in widgets:
            if w.get("median") is None:
                continue
            med = w["median"] * 1e3
            rows.append((f"widget callback <= 100 ms median: ch{w['chapter']} {w['builder']}", f"{med:.0f} ms",
                         verdict(med <= 100, f"{med / 100:.1f}x the budget")))
    else:
        rows.append(("widget callbacks <= 100 ms median", "not run", verdict(None)))
    return rows


# ----------------------------------------------------------------------------- sections


def _machine(meta):
    lines = ["## Machine", ""]
    for key, value in meta.items():
        lines.append(f"- **{key}**: {value}")
    return lines


def _gemm(res):
    lines = ["## 1. numpy matrix multiply (the ceiling)", "",
             "`A @ B` for square `n x n` operands, `2 n^3` flops each; GFLOP/s as median [min-max].", ""]
    for threads, per_dtype in res["gemm"].items():
        sizes = next(iter(per_dtype.values()))["sizes"]
        lines.append(f"BLAS threads: {threads}")
        lines.append("")
        lines.append("| dtype | " + " | ".join(f"n = {n}" for n in sizes) + " | peak |")
        lines.append("|---|" + "---|" * (len(sizes) + 1))
        for dt, g in per_dtype.items():
            cells = [f"{g['sizes'][n].median:.1f} [{g['sizes'][n].low:.1f}-{g['sizes'][n].high:.1f}]" for n in sizes]
            lines.append(f"| {dt} | " + " | ".join(cells) + f" | **{g['peak'].median:.1f}** (n = {g['peak_size']}) |")
        lines.append("")
    return lines


def _mlp(res):
    lines = ["## 2. Training step, MLP 784-256-10 (ReLU, softmax cross-entropy, SGD)", "",
             "Time per step as median [min-max] over the repeats; ratios are taken within each repeat "
             "(same machine load) and summarised the same way. *% of peak* is the step's matrix-product "
             "flops (forward, dW, and dX of the second layer) per second, over the GEMM rate of a square "
             "product of the peak size of section 1, timed in the same rounds as the steps (its GFLOP/s "
             "are in the last column); the median over repeats.", ""]
    for threads, per_dtype in res["mlp"].items():
        for dt, per_batch in per_dtype.items():
            names = list(next(iter(per_batch.values()))["times"])
            ratio_names = list(next(iter(per_batch.values()))["ratios"])
            lines.append(f"**{dt}, BLAS threads: {threads}**")
            lines.append("")
            head = (["batch"] + [f"{n} time" for n in names] + ratio_names + [f"{n} % of peak" for n in names]
                    + ["GEMM GFLOP/s"])
            lines.append("| " + " | ".join(head) + " |")
            lines.append("|" + "---|" * len(head))
            for B, m in per_batch.items():
                cells = [str(B)] + [ms(m["times"][n]) for n in names]
                cells += [ratio(m["ratios"][r]) for r in ratio_names]
                cells += [pct(m["peak_fraction"][n]) for n in names]
                g = m["gemm_gflops"]
                cells += [f"{g.median:.1f} [{g.low:.1f}-{g.high:.1f}]"]
                lines.append("| " + " | ".join(cells) + " |")
            lines.append("")
    return lines


def _per_sample(res):
    ps = res["per_sample"]
    lines = ["## 3. Per-sample loop vs one batched pass (gradient of one batch, nnlib)", "",
             "| dtype | batch | loop | batched | speed-up | max relative difference of the gradients |",
             "|---|---|---|---|---|---|"]
    for dt, p in ps.items():
        lines.append(f"| {dt} | {p['batch']} | {ms(p['loop'])} | {ms(p['batched'])} | {ratio(p['speedup'])} "
                     f"| {p['max_rel_diff']:.1e} |")
    return lines + [""]


def _digits(res):
    d = res["digits"]
    s = d["settings"]
    lines = ["## 4. Digits: 64-64-10, SGD, fixed seed and epochs", "",
             f"{s['epochs']} epochs, batch {s['batch']}, learning rate {s['lr']}, no momentum, no weight decay; "
             f"{s['n_train']} training and {s['n_test']} test images; wall time of the whole training as "
             f"median [min-max] over {s['repeats']} interleaved repeats.", "",
             "| dtype | contender | training time | vs numpy | test accuracy |", "|---|---|---|---|---|"]
    for dt in ("float64", "float32"):
        if dt not in d:
            continue
        for name in ("nnlib", "numpy", "sklearn"):
            c = d[dt][name]
            rel = ratio(d[dt]["ratios"][f"{name}/numpy"]) if name != "numpy" else "1"
            lines.append(f"| {dt} | {name} | {ms(c['time'], 1, 's')} | {rel} | {c['accuracy']:.1%} |")
    return lines + [""]


def _suites(res):
    suites = res.get("suites", {})
    lines = ["## 5. Notebook suite and site builds", ""]
    if not suites:
        return lines + ["Not run in this report (they take minutes: `benchmarks/run.py --nbval --site`).", ""]
    sep = suites.get("separate_run")
    when = (f" These were measured in a separate run (`--suites-only`) from {sep['started (UTC)']} to "
            f"{sep['finished (UTC)']} UTC, load average {sep['load at start']} at its start and "
            f"{sep['load at end']} at its end." if sep else "")
    lines += ["One run each (wall time of the subprocess, on a temporary copy of the working tree)." + when, "",
              "| what | command | time | exit status | last line of its output |", "|---|---|---|---|---|"]
    for key, label in (("nbval", "nbval suite"), ("clean", "clean site build"), ("cached", "cached rebuild")):
        run = suites.get(key)
        if run:
            command = re.sub(r"\S*/\.venv/bin/", ".venv/bin/", run["command"])
            plain = [re.sub(r"\x1b\[[0-9;]*m", "", t).strip("= ").replace("|", "/") for t in run["tail"]]
            last = next((t for t in reversed(plain) if t), "")
            lines.append(f"| {label} | `{command}` | {run['seconds']:.0f} s | {run['returncode']} | {last} |")
        else:
            lines.append(f"| {label} | - | not run | - | - |")
    return lines + [""]


def _widgets(res):
    w = res.get("widgets")
    lines = ["## 6. Widget callbacks", ""]
    if not isinstance(w, list):
        return lines + [f"Not measured: {w or 'skipped'}.", ""]
    lines += ["Each control was moved to a few values and back inside a Jupyter kernel; latency = time of "
              "the `value` assignment (the callback, drawing included).", "",
              "| chapter | builder | changes | median | min | max | slowest change | note |",
              "|---|---|---|---|---|---|---|---|"]
    for e in w:
        if e.get("median") is None:
            lines.append(f"| {e['chapter']} | {e.get('builder') or '-'} | - | - | - | - | - | {e['note']} |")
            continue
        slowest = e["labels"][max(range(len(e["times"])), key=e["times"].__getitem__)]
        lines.append(f"| {e['chapter']} | `{e['builder']}` | {len(e['times'])} | {e['median'] * 1e3:.0f} ms "
                     f"| {e['min'] * 1e3:.0f} ms | {e['max'] * 1e3:.0f} ms | `{slowest}` | {e['note']} |")
    return lines + [""]


def _audit(res):
    a = res["float32_audit"]
    bad = {k: v for k, v in a.items() if v != "float32"}
    lines = ["## 7. float32 end to end", "",
             "One float32 step through every layer, the loss and each optimiser; dtype of every array produced:", ""]
    if bad:
        lines += ["**Upcasts found:** " + ", ".join(f"{k}: {v}" for k, v in bad.items()), ""]
    else:
        lines += [f"all {len(a)} checks found float32 only: forward outputs, loss gradient, every dX and "
                  "gradient of the MLP; the same network with each activation (sigmoid, tanh, ReLU, leaky ReLU, "
                  "PReLU, identity); the Softmax layer; the mse, binary cross-entropy and L2-penalty gradients; "
                  "parameters and optimiser state after two steps of SGD, Momentum, AdaGrad and Adam.", ""]
    return lines


def write_markdown(res, path: Path, notes: list[str], plot_name: str | None):
    mode = "quick mode: tiny sizes, not a measurement" if res["settings"]["quick"] else "full run"
    lines = ["# Benchmark results", "",
             f"Written by `benchmarks/run.py` ({mode}) "
             f"on {res['meta']['finished (UTC)']}. How to run and read these: `benchmarks/README.md`.", ""]
    lines += ["## Targets", "", TARGETS_HEADER]
    lines += [f"| {t} | {m} | {v} |" for t, m, v in evaluate_targets(res)]
    lines += [""]
    if notes:
        lines += ["### Notes on these numbers", ""] + [f"- {n}" for n in notes] + [""]
    lines += _machine(res["meta"]) + [""]
    lines += _gemm(res) + _mlp(res)
    if plot_name:
        lines += [f"![share of the GEMM peak reached by one training step]({plot_name})", ""]
    lines += _per_sample(res) + _digits(res) + _suites(res) + _widgets(res) + _audit(res)
    path.write_text("\n".join(lines).rstrip() + "\n")


def plot_peak_fraction(res, path: Path):
    """Bar chart: share of the GEMM peak reached by each contender's step, per dtype and batch size."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    threads = res["settings"]["threads"][0]
    per_dtype = res["mlp"][threads]
    fig = Figure(figsize=(9, 3.4), dpi=100, layout="constrained")
    axes = fig.subplots(1, len(per_dtype), sharey=True, squeeze=False)[0]
    for ax, (dt, per_batch) in zip(axes, per_dtype.items(), strict=True):
        batches = list(per_batch)
        names = list(per_batch[batches[0]]["times"])
        width = 0.8 / len(names)
        for j, name in enumerate(names):
            xs = [i + (j - (len(names) - 1) / 2) * width for i in range(len(batches))]
            ax.bar(xs, [100 * per_batch[B]["peak_fraction"][name] for B in batches], width, label=name)
        ax.axhline(60, color="k", ls="--", lw=1)
        ax.set_xticks(range(len(batches)), [str(B) for B in batches])
        ax.set_xlabel("batch size")
        ax.set_title(f"{dt}, {threads} BLAS thread(s)", fontsize=10)
    axes[0].set_ylabel("% of numpy GEMM peak")
    axes[0].legend(fontsize=8)
    axes[0].annotate("target for nnlib, float32 batch 128", (0, 61), fontsize=8)
    fig.savefig(path)
