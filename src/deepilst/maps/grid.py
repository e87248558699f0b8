"""The (C12, C6) mesh of an error map, its default extent, and minima on it.

Axes are logarithmic by default: molecular centre-of-mass RDFs often have two eps_rdf basins,
a physical one near T* = 3 and a soft one at T* 15-40 (:mod:`deepilst.cg.basins`), an order of
magnitude apart in epsilon (C6 ~ epsilon at fixed sigma); a linear axis would squeeze one of
them into a few cells. The default extent covers T* = kB T / epsilon from 0.8 to 60 and
sigma from r_rise / 1.02 to r_rise / 0.80 (r_rise: where the target's g first reaches 1;
r_rise / sigma is 0.96 in the physical basin and 0.86 in the soft one), and always the
network's answer.
"""

from __future__ import annotations

import math

import numpy as np

from deepilst.errors import ParameterError
from deepilst.units import KB

#: Default reduced-temperature span of a map (both basins).
T_REDUCED_SPAN = (0.8, 60.0)
#: Default span of r_rise / sigma.
RISE_OVER_SIGMA_SPAN = (0.80, 1.02)
SCALES = ("log", "linear")


def check_range(name: str, rng) -> tuple[float, float]:
    """A (lo, hi) range of a positive parameter: finite, 0 < lo < hi."""
    try:
        lo, hi = (float(v) for v in rng)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be two numbers lo, hi, got {rng!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
        raise ParameterError(f"{name} must satisfy 0 < lo < hi, got {lo!r}, {hi!r}")
    return lo, hi


def default_ranges(temperature: float, r_rise: float, network: tuple[float, float] | None = None
                   ) -> tuple[tuple[float, float], tuple[float, float]]:
    """(C12 range, C6 range) spanning T* in :data:`T_REDUCED_SPAN` and sigma in
    r_rise / :data:`RISE_OVER_SIGMA_SPAN` at ``temperature`` [K], widened to contain
    ``network`` = (C12, C6) with a 25 % margin. ``r_rise`` in nm."""
    kt = KB * temperature
    eps = (kt / T_REDUCED_SPAN[1], kt / T_REDUCED_SPAN[0])
    sig = (r_rise / RISE_OVER_SIGMA_SPAN[1], r_rise / RISE_OVER_SIGMA_SPAN[0])
    c12 = [4 * eps[0] * sig[0] ** 12, 4 * eps[1] * sig[1] ** 12]
    c6 = [4 * eps[0] * sig[0] ** 6, 4 * eps[1] * sig[1] ** 6]
    if network is not None:
        c12 = [min(c12[0], network[0] / 1.25), max(c12[1], network[0] * 1.25)]
        c6 = [min(c6[0], network[1] / 1.25), max(c6[1], network[1] * 1.25)]
    return (c12[0], c12[1]), (c6[0], c6[1])


def axes(c12_range, c6_range, n: int, scale: str = "log") -> tuple[np.ndarray, np.ndarray]:
    """The mesh's C12 and C6 values, ``n`` each, evenly spaced in log or linear scale."""
    if scale not in SCALES:
        raise ParameterError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")
    if int(n) != n or n < 3:
        raise ParameterError(f"n (points per axis) must be an integer >= 3, got {n!r}")
    a = check_range("C12 range", c12_range)
    b = check_range("C6 range", c6_range)
    space = np.geomspace if scale == "log" else np.linspace
    return space(a[0], a[1], int(n)), space(b[0], b[1], int(n))


def grid_minimum(values: np.ndarray, valid: np.ndarray) -> tuple[int, int] | None:
    """(row, column) of the smallest finite ``values`` where ``valid``; None if there is none."""
    v = np.where(valid & np.isfinite(values), values, np.inf)
    if not np.isfinite(v).any():
        return None
    return tuple(int(i) for i in np.unravel_index(int(np.argmin(v)), v.shape))


def refine_minimum(f, c12: float, c6: float, step: float = 0.02) -> tuple[float, float, float]:
    """Polish a grid minimum of f(C12, C6) by Nelder-Mead in (ln C12, ln C6), starting with
    simplex edges of ``step`` (relative); returns (C12, C6, f)."""
    from scipy.optimize import minimize

    def g(x) -> float:  # a search that wanders off (C6 underflowing to 0) is worse, not an error
        try:
            v = float(f(math.exp(x[0]), math.exp(x[1])))
        except (ZeroDivisionError, FloatingPointError, OverflowError, ValueError):
            return math.inf
        return v if math.isfinite(v) else math.inf

    x0 = np.log([c12, c6])
    simplex = np.array([x0, x0 + [step, 0.0], x0 + [0.0, step]])
    res = minimize(g, x0, method="Nelder-Mead",
                   options={"initial_simplex": simplex, "xatol": 1e-5, "fatol": 1e-12,
                            "maxiter": 400})
    return math.exp(res.x[0]), math.exp(res.x[1]), float(res.fun)
