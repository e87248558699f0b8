"""Iterative Boltzmann inversion with a tabulated pair potential run in OpenMM.

    u_{k+1}(r) = u_k(r) + alpha kB T ln(g_k(r) / g_target(r))

on the target's 0.005 nm shells up to the cutoff ``r_cut`` (default three times the size the
target's first rise implies, within the target's range and half the CG box). The update is
smoothed (Savitzky-Golay, ``smooth`` points, quadratic) and made only where both g's exceed
``g_min``; below that the core is continued repulsively from the first reliable point with an
r^-12 shape matched in value and slope, u = u_1 - (s_1 r_1 / 12) ((r_1/r)^12 - 1). After each
update the potential is shifted to zero at ``r_cut`` (truncated there, no tail). The start is
the potential of mean force -kB T ln g_target (``start=None``) or the LJ potential ``start``
truncated at ``r_cut``. It stops when eps_rdf falls below ``tol`` times its noise floor or at
``max_iter``; no pressure correction is made (the final CG pressure is reported).
"""

from __future__ import annotations

import math
import time

import numpy as np

from deepilst.errors import ParameterError
from deepilst.fit.cgmd import CGEvaluation, CGEvaluator
from deepilst.fit.result import FitResult
from deepilst.potentials import LJParams, TabulatedPotential
from deepilst.units import KB, RC_SIGMA

#: g below which ln g is not trusted (core region), dimensionless.
G_MIN = 0.05
#: r_1 / sigma of the first rise g = 1 in dense LJ fluids near T* 3 (a size estimate).
RISE_OVER_SIGMA = 0.96


def _first_rise(r: np.ndarray, g: np.ndarray) -> float:
    k = int(np.argmax(np.nan_to_num(g) >= 1.0))
    if k == 0:
        raise ParameterError("the target g(r) never reaches 1: no liquid structure to invert")
    return float(r[k - 1] + (1.0 - g[k - 1]) * (r[k] - r[k - 1]) / (g[k] - g[k - 1]))


def default_cutoff(ev: CGEvaluator) -> float:
    """RC_SIGMA times the bead size the target's first rise implies, at most the target's range
    and 0.05 nm below half the CG box, nm."""
    t = ev.target
    sigma = _first_rise(t.r, t.g) / RISE_OVER_SIGMA
    half_box = 0.5 * (ev.protocol.n_particles / t.density) ** (1.0 / 3.0)
    return float(min(RC_SIGMA * sigma, t.r_max, half_box - 0.05))


def core_extension(r: np.ndarray, u: np.ndarray, k1: int, kt: float) -> np.ndarray:
    """``u`` with the points below index ``k1`` replaced by the repulsive core
    u_1 - (s_1 r_1 / 12)((r_1/r)^12 - 1), s_1 the slope over the next two shells (at most
    -kB T per 0.02 nm, so that the core repels)."""
    out = np.array(u, dtype=float)
    r1, u1 = r[k1], u[k1]
    s1 = min((u[k1 + 2] - u[k1]) / (r[k1 + 2] - r[k1]), -kt / 0.02)
    x = r[:k1]
    out[:k1] = u1 - s1 * r1 / 12.0 * ((r1 / x) ** 12 - 1.0)
    return out


def _smooth(y: np.ndarray, window: int) -> np.ndarray:
    if window < 3 or len(y) <= window:
        return y
    from scipy.signal import savgol_filter

    return savgol_filter(y, window, 2, mode="interp")


def ibi(ev: CGEvaluator, start: tuple[float, float] | None = None, max_iter: int = 20,
        alpha: float = 1.0, r_cut: float | None = None, smooth: int = 7, g_min: float = G_MIN,
        tol: float = 1.5, validate: bool = True) -> FitResult:
    """Fit a tabulated pair potential to ``ev.target`` by iterative Boltzmann inversion.

    Parameters
    ----------
    ev : the evaluator (target, CG protocol; the runs use OpenMM whatever its engine)
    start : (C12, C6) of an LJ start, or None for the potential of mean force
    max_iter : CG runs at most
    alpha : update factor (1 = plain IBI)
    r_cut : cutoff = table end, nm (default :func:`default_cutoff`)
    smooth : Savitzky-Golay window of the update, points (odd; < 3: none)
    g_min : g below which the update is not made (core), dimensionless
    tol : stop when eps_rdf < tol * its noise floor
    validate : run the final table once more (the ``final`` evaluation; not in md_runs)

    Returns
    -------
    FitResult (method "ibi"; C12 and C6 NaN); ``extra["table"]`` holds the final table (r nm,
    u kJ/mol), ``extra["r_cut"]`` its end.
    """
    t = ev.target
    kt = KB * t.temperature
    rc = default_cutoff(ev) if r_cut is None else float(r_cut)
    if not 0 < rc <= t.r_max + 1e-9:
        raise ParameterError(f"r_cut = {rc} nm must lie within the target's range (0, {t.r_max}]")
    smooth = smooth + 1 - smooth % 2 if smooth >= 3 else 0
    t0 = time.perf_counter()
    runs0 = ev.md_runs
    k1 = int(np.argmax(np.nan_to_num(t.g) > g_min))  # first reliable point of the target
    m = (t.r >= 0.6 * t.r[k1]) & (t.r <= rc + 1e-9)  # the table's points
    r, gt = t.r[m], t.g[m]
    k1 = int(np.argmax(np.nan_to_num(gt) > g_min))
    if start is not None:
        p = LJParams(*start)
        u = np.where(r < rc, p.energy(r), 0.0)
    else:
        with np.errstate(divide="ignore"):
            u = -kt * np.log(np.where(gt > 0, gt, np.nan))
        u = core_extension(r, np.nan_to_num(u - u[-1]), k1, kt)
    table = TabulatedPotential(r, u)
    rows: list[dict] = []
    evals: list[CGEvaluation] = []
    converged = False
    for it in range(max_iter):
        e = ev.run_table(table)
        evals.append(e)
        rows.append({"iteration": it, "eps_rdf": e.eps_rdf.mean, "eps_rdf_sem": e.eps_rdf.sem,
                     "eps_rdf_floor": e.eps_rdf_floor, "P": e.result.P.mean,
                     "P_sem": e.result.P.sem, "u_min": float(np.min(table.u)),
                     "r_min": float(table.r[int(np.argmin(table.u))])})
        if e.eps_rdf.mean < tol * e.eps_rdf_floor:
            converged = True
            break
        if it == max_iter - 1:
            break
        gk = e.result.g[m]
        ok = (np.nan_to_num(gk) > g_min) & (np.nan_to_num(gt) > g_min)
        k_ok = int(np.argmax(ok))
        d = np.zeros_like(r)
        with np.errstate(divide="ignore", invalid="ignore"):
            d[k_ok:] = np.where(ok[k_ok:], kt * np.log(gk[k_ok:] / gt[k_ok:]), 0.0)
        d[k_ok:] = _smooth(d[k_ok:], smooth)
        u_new = table.energy(r) + alpha * d
        u_new = core_extension(r, u_new - u_new[-1], k_ok, kt)
        table = TabulatedPotential(r, u_new)
    wall = time.perf_counter() - t0
    md_runs = ev.md_runs - runs0
    pick = evals[-1] if converged else min(evals, key=lambda x: x.eps_rdf.mean)
    k = evals.index(pick)
    tab = pick.table
    notes = ["no pressure correction: the CG pressure is reported, not matched"]
    if not converged:
        notes.append(f"eps_rdf did not fall below {tol:g} x its noise floor in {max_iter} "
                     f"runs; the table of the lowest eps_rdf (iteration {k}) is returned")
    final = ev.run_table(tab) if validate else None
    return FitResult("ibi", math.nan, math.nan, final, md_runs=md_runs, wall_s=wall,
                     iterations=len(rows), converged=converged, start=start, history=rows,
                     notes=notes, extra={"table": {"r": tab.r.tolist(), "u": tab.u.tolist()},
                                         "r_cut": rc, "alpha": alpha, "picked_iteration": k})
