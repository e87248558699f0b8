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


def scatter_sem(g: np.ndarray, half_window: int = 20) -> np.ndarray:
    """Standard error of each point of a sampled curve such as g(r), from its own bin-to-bin
    scatter.

    Fourth differences d_i = g_{i-2} - 4 g_{i-1} + 6 g_i - 4 g_{i+1} + g_{i+2} remove the smooth
    curve (on the 0.005 nm grid a liquid's fourth differences are ~0.003, its noise ~0.01) and
    leave noise of variance 70 se^2; a running median of |d| over 2 ``half_window`` + 1 points
    (0.2 nm) divided by 0.6745 sqrt(70) is robust against the few points where the steep core
    still shows. NaN where g is NaN or no difference lies in the window.
    """
    import warnings

    g = np.asarray(g, dtype=float)
    d = np.full_like(g, np.nan)
    if len(g) >= 5:
        d[2:-2] = np.abs(g[:-4] - 4 * g[1:-3] + 6 * g[2:-2] - 4 * g[3:-1] + g[4:])
    pad = np.pad(d, half_window, constant_values=np.nan)
    win = np.lib.stride_tricks.sliding_window_view(pad, 2 * half_window + 1)
    with warnings.catch_warnings():  # all-NaN windows (too short a g) give NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(win, axis=1)
    return np.where(np.isfinite(g), med / (0.6745 * math.sqrt(70.0)), np.nan)
