"""numpy's matrix-multiply throughput: the ceiling a numpy training step can reach."""

from __future__ import annotations

import numpy as np
from timing import Spread, interleaved


def gemm_throughput(dtype, sizes, repeats, block_seconds, seed=0):
    """GFLOP/s of ``A @ B`` for square ``n x n`` operands (``2 n^3`` flops per product).

    Returns ``{"sizes": {n: Spread of GFLOP/s}, "peak": Spread at the best size}``;
    the peak is the size with the highest median.
    """
    rng = np.random.default_rng(seed)
    mats = {n: (rng.standard_normal((n, n)).astype(dtype), rng.standard_normal((n, n)).astype(dtype))
            for n in sizes}
    outs = {n: np.empty((n, n), dtype=dtype) for n in sizes}
    contenders = {n: (lambda n=n: np.matmul(*mats[n], out=outs[n])) for n in sizes}
    times = interleaved(contenders, repeats, block_seconds)
    per_size = {n: Spread.of(2 * n**3 / t / 1e9 for t in times[n]) for n in sizes}
    best = max(per_size, key=lambda n: per_size[n].median)
    return {"sizes": per_size, "peak_size": best, "peak": per_size[best]}
