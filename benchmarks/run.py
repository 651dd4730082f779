"""Run the benchmarks and write RESULTS.md, results.json and a plot (``make bench``).

    .venv/bin/python benchmarks/run.py            # full run, about 5 minutes, writes benchmarks/RESULTS.md
    .venv/bin/python benchmarks/run.py --all      # also the nbval suite and the site builds (+10 minutes)
    .venv/bin/python benchmarks/run.py --quick    # seconds; tiny sizes, written to a temporary folder

See benchmarks/README.md for what is measured and how to read it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import digits  # noqa: E402
import gemm  # noqa: E402
import mlp_step  # noqa: E402
import numpy as np  # noqa: E402
import per_sample  # noqa: E402
import report  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402
from timing import Spread, interleaved, ratios  # noqa: E402

FULL = {"batches": (1, 32, 128, 512), "gemm_sizes": (256, 512, 1024, 2048), "repeats": 7, "block": 0.2,
        "per_sample_batch": 128, "digits_epochs": 30, "digits_repeats": 5}
QUICK = {"batches": (1, 32), "gemm_sizes": (64, 128), "repeats": 2, "block": 0.005,
         "per_sample_batch": 8, "digits_epochs": 2, "digits_repeats": 1}
DTYPES = {"float32": np.float32, "float64": np.float64}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="tiny sizes and few repeats: checks that everything runs")
    p.add_argument("--out", type=Path, help="output folder (default: benchmarks/, or a temporary one with --quick)")
    p.add_argument("--threads", default="1",
                   help="BLAS/PyTorch threads, comma-separated to compare several, e.g. 1,2 (default 1)")
    p.add_argument("--repeats", type=int, help="repeats of every timed comparison (default 7, quick 2)")
    p.add_argument("--nbval", action="store_true", help="also time the nbval suite (minutes)")
    p.add_argument("--site", action="store_true", help="also time a clean site build and a cached rebuild (minutes)")
    p.add_argument("--all", action="store_true", help="--nbval and --site")
    p.add_argument("--widgets", action=argparse.BooleanOptionalAction, default=None,
                   help="measure widget callbacks in a Jupyter kernel (default: on, off with --quick)")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out even when it is installed")
    p.add_argument("--suites-only", action="store_true",
                   help="time only the nbval suite and site builds, into results-suites.json in --out")
    p.add_argument("--suites-from", type=Path, metavar="JSON",
                   help="take the nbval/site timings from an earlier --suites-only run (reported as such)")
    p.add_argument("--render-only", action="store_true",
                   help="measure nothing: rewrite RESULTS.md from results.json and NOTES.md in --out")
    return p.parse_args(argv)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ----------------------------------------------------------------------------- machine


def machine(threads):
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))
        memory = f"{mem_kb / 2**20:.1f} GiB"
    except (OSError, StopIteration):
        memory = "unknown"
    blas = "; ".join(f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, "
                     f"{i.get('threading_layer')})" for i in threadpool_info() if i.get("user_api") == "blas")
    import sklearn

    torch_version = mlp_step.torch_available()
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True, check=True).stdout.strip()
        commit += " (with uncommitted changes)" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "CPU": f"{cpu}, {os.cpu_count()} logical cores",
        "memory": memory,
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "numpy": f"{np.__version__}, BLAS: {blas or 'unknown'}",
        "scikit-learn": sklearn.__version__,
        "PyTorch": torch_version or "not installed (its columns are left out)",
        "threads used": ", ".join(str(t) for t in threads) + " (BLAS via threadpoolctl, torch.set_num_threads)",
        "repository commit": commit,
        "load average at start (1/5/15 min)": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
        "started (UTC)": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
    }


# ----------------------------------------------------------------------------- sections


def run_gemm(cfg, repeats):
    return {name: gemm.gemm_throughput(dtype, cfg["gemm_sizes"], repeats, cfg["block"])
            for name, dtype in DTYPES.items()}


def run_mlp(cfg, repeats, threads, use_torch, peak_sizes):
    """Time the three training steps, each batch size and dtype, interleaved with a GEMM.

    The GEMM (square, of the size that gave the peak in section 1) runs in the same
    rounds as the steps, so each step's share of the peak is measured under the same
    load: per repeat, (step flops / step time) / (GEMM flops / GEMM time).
    """
    out = {}
    for name, dtype in DTYPES.items():
        out[name] = {}
        n = peak_sizes[name]
        A = np.random.default_rng(1).standard_normal((n, n)).astype(dtype)
        C = np.empty_like(A)
        for B in cfg["batches"]:
            contenders, first = mlp_step.make_contenders(B, dtype, use_torch=use_torch, threads=threads)
            _check_same_loss(first, dtype, B)
            contenders["gemm"] = lambda A=A, C=C: np.matmul(A, A, out=C)
            times = interleaved(contenders, repeats, cfg["block"])
            gemm_rate = [2 * n**3 / t for t in times.pop("gemm")]
            pairs = [("nnlib", "numpy")] + ([("nnlib", "torch"), ("torch", "numpy")] if "torch" in times else [])
            flops = mlp_step.step_flops(B)
            out[name][B] = {
                "times": {k: Spread.of(t) for k, t in times.items()},
                "ratios": {f"{a}/{b}": ratios(times, a, b) for a, b in pairs},
                "peak_fraction": {k: Spread.of(flops / tk / g for tk, g in zip(t, gemm_rate, strict=True)).median
                                  for k, t in times.items()},
                "gemm_gflops": Spread.of(g / 1e9 for g in gemm_rate),
                "first_loss": first,
            }
            log(f"  {name} batch {B}: " + ", ".join(f"{k} {Spread.of(t).median * 1e3:.3g} ms"
                                                   for k, t in times.items()))
    return out


def _check_same_loss(first, dtype, B):
    """The contenders start from the same weights and batch: their first losses must agree."""
    ref = first["numpy"]
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for name, loss in first.items():
        if abs(loss - ref) > tol * max(1.0, abs(ref)):
            raise RuntimeError(f"batch {B}: {name}'s first loss {loss} differs from numpy's {ref}")


def run_per_sample(cfg, repeats):
    out = {}
    for name, dtype in DTYPES.items():
        contenders, diff = per_sample.make_contenders(cfg["per_sample_batch"], dtype)
        times = interleaved(contenders, repeats, cfg["block"])
        out[name] = {"batch": cfg["per_sample_batch"], "loop": Spread.of(times["loop"]),
                     "batched": Spread.of(times["batched"]), "speedup": ratios(times, "loop", "batched"),
                     "max_rel_diff": diff}
    return out


def run_digits(cfg):
    out = {}
    for name, dtype in DTYPES.items():
        res = digits.run(cfg["digits_epochs"], cfg["digits_repeats"], dtype=dtype)
        secs = {n: [] for n in res}
        for n, r in res.items():
            secs[n] = r.pop("seconds_list")
            r["accuracy"] = r["accuracy"][0]
        res["ratios"] = {f"{n}/numpy": Spread.of(a / b for a, b in zip(secs[n], secs["numpy"], strict=True))
                         for n in ("nnlib", "sklearn")}
        res["ratios"]["nnlib/sklearn"] = Spread.of(a / b for a, b in zip(secs["nnlib"], secs["sklearn"],
                                                                           strict=True))
        out[name] = res
        log(f"  digits {name}: " + ", ".join(f"{n} {res[n]['time'].median:.2f} s {res[n]['accuracy']:.1%}"
                                             for n in ("nnlib", "numpy", "sklearn")))
    data = digits.load_digits(rng=0)
    out["settings"] = {"epochs": cfg["digits_epochs"], "batch": digits.BATCH, "lr": digits.LR,
                       "repeats": cfg["digits_repeats"], "n_train": len(data[0]), "n_test": len(data[1])}
    return out


# ----------------------------------------------------------------------------- main


def to_json(obj):
    if isinstance(obj, Spread):
        return obj.as_dict()
    if isinstance(obj, dict):
        return {str(k): to_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_json(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def from_json(obj):
    """Inverse of :func:`to_json`: Spread objects back, and integer keys (batch sizes, threads) as ints."""
    if isinstance(obj, dict):
        if set(obj) == {"median", "min", "max", "n"}:
            return Spread(obj["median"], obj["min"], obj["max"], obj["n"])
        return {(int(k) if k.isdigit() else k): from_json(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [from_json(v) for v in obj]
    return obj


def render(out: Path, res=None, plot="step_peak_fraction.png"):
    """Write RESULTS.md (and the plot) from ``res``, or from ``out/results.json`` when ``res`` is None."""
    if res is None:
        res = from_json(json.loads((out / "results.json").read_text()))
    report.plot_peak_fraction(res, out / plot)
    notes = [] if res["settings"]["quick"] else load_notes(out)
    report.write_markdown(res, out / "RESULTS.md", notes, plot)
    log(f"wrote {out / 'RESULTS.md'}")


def main(argv=None):
    args = parse_args(argv)
    if args.render_only:
        render(args.out or HERE)
        return None
    if args.suites_only:
        return suites_only(args.out or HERE)
    cfg = dict(QUICK if args.quick else FULL)
    repeats = args.repeats or cfg["repeats"]
    threads = [int(t) for t in str(args.threads).split(",")]
    out = args.out or (Path(tempfile.mkdtemp(prefix="nnlib-bench-quick-")) if args.quick else HERE)
    out.mkdir(parents=True, exist_ok=True)
    widgets_on = (not args.quick) if args.widgets is None else args.widgets
    use_torch = not args.no_torch

    res = {"meta": machine(threads), "settings": {"quick": args.quick, "repeats": repeats, "threads": threads,
                                                  **{k: v for k, v in cfg.items() if k != "repeats"}}}
    res["gemm"], res["mlp"] = {}, {}
    for t in threads:
        with threadpool_limits(limits=t):
            log(f"GEMM peak, {t} thread(s)")
            res["gemm"][t] = run_gemm(cfg, repeats)
            sizes = {name: g["peak_size"] for name, g in res["gemm"][t].items()}
            log(f"MLP training step, {t} thread(s), interleaved with GEMMs of size {sizes}")
            res["mlp"][t] = run_mlp(cfg, repeats, t, use_torch, sizes)
    with threadpool_limits(limits=threads[0]):
        log("per-sample loop vs batched")
        res["per_sample"] = run_per_sample(cfg, repeats)
        log("digits")
        res["digits"] = run_digits(cfg)
        res["float32_audit"] = mlp_step.float32_audit()

    if widgets_on:
        log("widget callbacks (in a Jupyter kernel)")
        import widget_latency

        try:
            res["widgets"] = widget_latency.measure_in_kernel(REPO, quick=args.quick, threads=threads[0])
        except Exception as err:  # a broken chapter module must not cost the other results
            res["widgets"] = f"the kernel run failed: {type(err).__name__}: {err}"
    else:
        res["widgets"] = "skipped (--quick; pass --widgets to include)"

    res["suites"] = {}
    if args.suites_from:
        earlier = json.loads(args.suites_from.read_text())
        res["suites"] = earlier["suites"]
        res["suites"]["separate_run"] = earlier["meta"]
    if args.nbval or args.all:
        import suites

        log("nbval suite (subprocess)")
        res["suites"]["nbval"] = suites.nbval_suite(REPO)
    if args.site or args.all:
        import suites

        log("site builds (subprocess)")
        res["suites"].update(suites.site_builds(REPO))

    res["meta"]["load average at end (1/5/15 min)"] = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    res["meta"]["finished (UTC)"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
    (out / "results.json").write_text(json.dumps(to_json(res), indent=1) + "\n")
    render(out, res)
    return res


def suites_only(out: Path):
    """Time the nbval suite and the site builds alone (they take minutes) and save them for ``--suites-from``."""
    import suites

    out.mkdir(parents=True, exist_ok=True)
    load = lambda: " / ".join(f"{x:.2f}" for x in os.getloadavg())  # noqa: E731
    meta = {"started (UTC)": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"), "load at start": load()}
    log("nbval suite (subprocess)")
    res = {"nbval": suites.nbval_suite(REPO)}
    log("site builds (subprocess)")
    res.update(suites.site_builds(REPO))
    meta.update({"finished (UTC)": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"), "load at end": load()})
    path = out / "results-suites.json"
    path.write_text(json.dumps({"meta": meta, "suites": res}, indent=1) + "\n")
    log(f"wrote {path}")
    return res


def load_notes(out: Path):
    """Hand-written remarks kept in NOTES.md beside the results (one per '- ' line), copied into RESULTS.md."""
    path = out / "NOTES.md"
    if not path.exists():
        return []
    return [line[2:].strip() for line in path.read_text().splitlines() if line.startswith("- ")]


if __name__ == "__main__":
    main()
