"""The issue-19 ratios alone, in about two minutes: nnlib against plain numpy (and PyTorch).

    .venv/bin/python benchmarks/ratios.py            # PYTHONPATH=/tmp/torch-site adds PyTorch

Each pair is timed interleaved in one run, one BLAS thread, as in run.py: the MLP
784-256-10 float32 step at batch 1, 32 and 128 (7 repeats of 0.2 s blocks) and digits
``fit`` (30 epochs, 5 repeats). Prints the median per-repeat ratio and the spread.
"""

from __future__ import annotations

import digits
import mlp_step
import numpy as np
from threadpoolctl import threadpool_limits
from timing import Spread, interleaved, ratios


def main():
    with threadpool_limits(1):
        for B in (1, 32, 128):
            contenders, _ = mlp_step.make_contenders(B, np.float32)
            times = interleaved(contenders, 7, 0.2)
            pairs = [("nnlib", "numpy")] + ([("nnlib", "torch")] if "torch" in times else [])
            print(f"MLP float32 batch {B}: " + ", ".join(
                f"{a}/{b} {_fmt(ratios(times, a, b))}" for a, b in pairs))
        for dtype in (np.float64, np.float32):
            res = digits.run(30, 5, dtype=dtype)
            r = Spread.of(a / b for a, b in zip(res["nnlib"]["seconds_list"], res["numpy"]["seconds_list"],
                                                  strict=True))
            print(f"digits fit {dtype.__name__}: nnlib/numpy {_fmt(r)}")


def _fmt(s):
    return f"{s.median:.2f}x [{s.low:.2f}-{s.high:.2f}]"


if __name__ == "__main__":
    main()
