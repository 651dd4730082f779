"""Timing helpers: interleaved repeats, medians with spread, ratios within one repeat.

The machine these benchmarks run on may be shared and noisy. So every comparison
runs its contenders *interleaved*: one repeat times a block of calls of each
contender in turn (the order rotates from repeat to repeat), and a ratio is taken
between blocks of the same repeat, which saw the same machine load. Results are
reported as the median over repeats with the smallest and largest value beside it.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass


@dataclass
class Spread:
    """Median of a list of measurements, with its minimum and maximum."""

    median: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, values):
        values = list(values)
        return cls(statistics.median(values), min(values), max(values), len(values))

    def as_dict(self):
        return {"median": self.median, "min": self.low, "max": self.high, "n": self.n}


def calibrate(fn, block_seconds, max_calls=100_000):
    """Number of calls of ``fn`` that take about ``block_seconds`` (at least 1)."""
    fn()  # warm-up: first-call allocations, lazy imports, BLAS thread start-up
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= block_seconds / 4 or n >= max_calls:
            break
        n *= 4
    per_call = elapsed / n
    return max(1, min(max_calls, round(block_seconds / per_call)))


def time_block(fn, calls):
    """Seconds per call, averaged over ``calls`` back-to-back calls."""
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def interleaved(contenders, repeats, block_seconds):
    """Time every contender in each of ``repeats`` rounds; return name -> list of seconds per call.

    ``contenders``: dict name -> zero-argument callable doing one unit of work (one
    training step, one matrix product). The list for each name has one entry per
    repeat, so ``times[a][r] / times[b][r]`` is a ratio measured under the same load.
    """
    names = list(contenders)
    calls = {name: calibrate(contenders[name], block_seconds) for name in names}
    times = {name: [] for name in names}
    for r in range(repeats):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(time_block(contenders[name], calls[name]))
    return times


def ratios(times, num, den):
    """Per-repeat ratios ``times[num][r] / times[den][r]`` as a :class:`Spread`."""
    return Spread.of(a / b for a, b in zip(times[num], times[den], strict=True))


def wall(fn):
    """Run ``fn()`` once; return ``(seconds, result)``."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result
