"""Chapter 4's "why backpropagation is fast" in numbers: the cost of one gradient.

For a multilayer perceptron on a batch, time one forward pass, one forward + backward
pass (backpropagation, every gradient at once) and central differences (two forward
passes per parameter), and report each as a multiple of one forward pass. The claim
measured: backpropagation costs a small multiple of one forward pass, whatever the
number of parameters, while central differences cost about twice the number of
parameters in forward passes. Before timing, the two gradients are checked to agree.

    .venv/bin/python benchmarks/backprop_cost.py [--sizes 64,64,10] [--batch 32] [--repeats 50]

Prints a JSON object; nothing is written. Run on one BLAS thread, so that the
ratios compare arithmetic, not parallelism.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from threadpoolctl import threadpool_limits

from nnlib import batch
from nnlib.gradcheck import numerical_gradient, rel_error


def _best(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def measure(sizes=(64, 64, 10), batch_size=32, repeats=50, seed=0):
    """Seconds and forward-pass multiples of backprop and of central differences."""
    rng = np.random.default_rng(seed)
    params = batch.init_params(list(sizes), rng=seed)
    X = rng.normal(size=(batch_size, sizes[0]))
    y = rng.integers(0, sizes[-1], size=batch_size)

    def loss(_):
        logits, _ = batch.forward(params, X)
        return batch.softmax_cross_entropy_per_sample(logits, y)[0]

    n_params = sum(W.size + b.size for W, b in params)
    with threadpool_limits(1):
        t_forward = _best(lambda: batch.forward(params, X), repeats)
        t_backprop = _best(lambda: batch.loss_and_grads(params, X, y), repeats)
        start = time.perf_counter()
        numeric = [numerical_gradient(loss, p) for pair in params for p in pair]
        t_numerical = time.perf_counter() - start
    grads = [g for pair in batch.loss_and_grads(params, X, y)[1] for g in pair]
    agreement = max(rel_error(g, n) for g, n in zip(grads, numeric, strict=True))
    return {
        "sizes": list(sizes),
        "batch": batch_size,
        "parameters": int(n_params),
        "max_rel_error": agreement,
        "seconds": {"forward": t_forward, "backprop": t_backprop, "central_differences": t_numerical},
        "forward_passes": {
            "backprop": t_backprop / t_forward,
            "central_differences": t_numerical / t_forward,
            "central_differences_counted": 2 * n_params,
        },
        "backprop_speedup": t_numerical / t_backprop,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="64,64,10", help="layer sizes, comma-separated")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args(argv)
    sizes = tuple(int(s) for s in args.sizes.split(","))
    result = measure(sizes, args.batch, args.repeats)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
