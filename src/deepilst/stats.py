"""Time-series statistics: statistical inefficiency and automatic equilibration detection.

Same estimators as pymbar.timeseries (Chodera et al., JCTC 2007; Chodera, JCTC 2016), written
out here so that worker processes need not import pymbar/scipy.stats (about 1 s per process);
a test checks them against pymbar.
"""

from __future__ import annotations

import math

import numpy as np


def statistical_inefficiency(x: np.ndarray, mintime: int = 3, fast: bool = False) -> float:
    """g = 1 + 2 sum_t (1 - t/N) C(t), summed until C(t) <= 0 after ``mintime`` lags; with
    ``fast`` the lag step grows by one each time (pymbar's two estimators). Returns g >= 1."""
    a = np.asarray(x, dtype=float)
    n = a.size
    if n < 2:
        return 1.0
    d = a - a.mean()
    var = float(np.dot(d, d) / n)
    if var == 0.0:
        return 1.0
    g = 1.0
    t = 1
    inc = 1
    while t < n - 1:
        c = float(np.dot(d[: n - t], d[t:]) / ((n - t) * var))
        if c <= 0.0 and t > mintime:
            break
        g += 2.0 * c * (1.0 - t / n) * inc
        t += inc
        if fast:
            inc += 1
    return max(1.0, g)


def detect_equilibration(x: np.ndarray, nskip: int = 1) -> tuple[int, float, float]:
    """Start t0 of the equilibrated region maximising the number of uncorrelated samples
    (N - t0)/g(t0). Returns (t0, g, N_eff)."""
    a = np.asarray(x, dtype=float)
    n = a.size
    best = (0, 1.0, 0.0)
    for t0 in range(0, n - 1, nskip):
        g = statistical_inefficiency(a[t0:], fast=True)
        neff = (n - t0) / g
        if neff > best[2]:
            best = (t0, g, neff)
    return best


def mean_sem(x: np.ndarray) -> tuple[float, float]:
    """Mean and its standard error corrected for correlation (statistical inefficiency)."""
    a = np.asarray(x, dtype=float)
    if a.size < 2:
        return float(a.mean()) if a.size else math.nan, math.nan
    g = statistical_inefficiency(a)
    return float(a.mean()), float(a.std(ddof=1) * math.sqrt(g / a.size))
