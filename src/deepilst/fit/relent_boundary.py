"""Relative entropy on the boundary C6 = 0 of the LJ family (see :mod:`deepilst.fit.relent`).

Some targets (F2 and C2H6 centre-of-mass g(r), issue 12) have no relative-entropy minimum
inside the 12-6 family: S keeps falling as C6 -> 0. The search then continues on C6 = 0, the
pure repulsion C12 r^-12 cut at 3 (C12/kB T)^(1/12)
(:meth:`deepilst.fit.cgmd.CGEvaluator.run_repulsive`), in log C12 alone. The point where dS/dC12
is zero within its error is the constrained minimum when dS/dC6 there is not negative beyond
its error (Karush-Kuhn-Tucker: switching attraction on would not lower S).
"""

from __future__ import annotations

import math
import time

import numpy as np

from deepilst.errors import ParameterError, SimulationError
from deepilst.fit.cgmd import CGEvaluation, CGEvaluator
from deepilst.fit.result import FitResult
from deepilst.potentials import LJParams

#: A search whose accepted point has T* above this (well depth under 2 % of kB T) while the
#: gradient still pushes C6 down beyond two standard errors is heading for the boundary C6 = 0
#: of the LJ family: it continues there.
BOUNDARY_T_REDUCED = 50.0
#: 97.5 % normal quantile: one gradient component zero within its error.
Z_95 = 1.959963984540054


def boundary_search(ev: CGEvaluator, c12: float, slope: float, max_iter: int = 15,
                    radius: float = 0.5, n_pass: int = 2, max_radius: float = 4.0
                    ) -> tuple[CGEvaluation | None, bool, list[dict]]:
    """Minimise the relative entropy over C12 on the boundary C6 = 0 (pure repulsion, see the
    module notes), from ``c12`` with ``slope`` the second derivative of S in log C12 there (any
    positive guess). Each step is one run; the root of f = dS/dlog C12 is bracketed as soon as
    f changes sign and the slope re-estimated by secant when two f differ beyond their noise.
    Steps in log C12 are at most ``radius``; the limit doubles (up to ``max_radius``) after a
    step it cut short when f keeps its sign, so a start far from the root (C2H6 from the
    network's answer: C12 27x too small) gets there in a few runs. Returns (last run,
    converged: |f| < 1.96 standard errors at ``n_pass`` successive runs, one row per run)."""
    t = math.log(c12)
    clipped = False
    slope = slope if slope > 0 and np.isfinite(slope) else math.nan
    lo, hi = -math.inf, math.inf
    rows: list[dict] = []
    prev = None
    last = None
    passes = 0
    for it in range(1, max_iter + 1):
        try:
            e = ev.run_repulsive(math.exp(t))
        except (SimulationError, ParameterError) as exc:
            rows.append({"phase": "boundary", "iteration": it, "C12": math.exp(t),
                         "failed": str(exc)[:200]})
            t = 0.5 * (t + prev[0]) if prev is not None else t - 0.25 * radius
            continue
        f = math.exp(t) * float(e.gradient[0])
        sf = math.exp(t) * float(e.gradient_err[0])
        z = f / sf if sf > 0 else math.inf
        passes = passes + 1 if abs(z) < Z_95 else 0
        last = e
        rows.append({"phase": "boundary", "iteration": it, "C12": math.exp(t), "C6": 0.0,
                     "rc": float(e.table.r[-1]), "dS_dlogC12": f, "dS_dlogC12_err": sf,
                     "dS_dC6": float(e.gradient[1]), "dS_dC6_err": float(e.gradient_err[1]),
                     "eps_rdf": e.eps_rdf.mean, "eps_rdf_sem": e.eps_rdf.sem})
        if passes >= n_pass:
            return last, True, rows
        if passes:  # zero within its error: confirm it with one more run at the same point
            continue
        if clipped and prev is not None and math.copysign(1.0, f) == math.copysign(1.0, prev[1]):
            radius = min(2.0 * radius, max_radius)  # the last full step fell short: go further
        if f > 0:
            hi = min(hi, t)
        else:
            lo = max(lo, t)
        if prev is not None and abs(f - prev[1]) > 2.0 * math.hypot(sf, prev[2]) \
                and (f - prev[1]) / (t - prev[0]) > 0:
            slope = (f - prev[1]) / (t - prev[0])
        prev = (t, f, sf)
        step = -f / slope if np.isfinite(slope) else -math.copysign(radius, f)
        clipped = abs(step) >= radius
        step = max(-radius, min(radius, step))
        t_new = t + step
        if np.isfinite(lo) and np.isfinite(hi) and not lo < t_new < hi:
            t_new = 0.5 * (lo + hi)
        t = t_new
    return last, False, rows


def on_boundary(ev: CGEvaluator, best, rows: list[dict], p0: LJParams, t0: float,
                runs0: int, n_pass: int, validate: bool) -> FitResult:
    """The boundary phase of :func:`deepilst.fit.relent.relative_entropy` after its 2-d search
    stopped at ``best`` (a :class:`~deepilst.fit.relent.Point`: its C12 and its Hessian in
    log C12 start the search), and the :class:`FitResult` ("re", C6 = 0, ``extra["boundary"]``;
    ``t0`` and ``runs0`` the start's clock and run count)."""
    c12 = float(best.payload.params.c12)
    notes = [rows[-1]["stopped"]]
    e, ok, brows = boundary_search(ev, c12, float(best.hess[0, 0]), n_pass=n_pass)
    rows = rows + brows
    wall = time.perf_counter() - t0
    md_runs = ev.md_runs - runs0
    if e is None:
        notes.append("no run on the boundary C6 = 0 succeeded")
        return FitResult("re", c12, float(best.payload.params.c6), best.payload, md_runs=md_runs,
                         wall_s=wall, iterations=len(rows) - 1, converged=False,
                         start=(p0.c12, p0.c6), history=rows, notes=notes)
    c12 = float(e.table.u[0] * e.table.r[0] ** 12)  # the C12 of the last run
    rc = float(e.table.r[-1])
    d6, s6 = float(e.gradient[1]), float(e.gradient_err[1])
    kkt = d6 > -Z_95 * s6
    if not ok:
        notes.append(f"dS/dC12 on the boundary C6 = 0 not zero within its error after "
                     f"{len(brows)} runs")
    elif not kkt:
        notes.append(f"on C6 = 0, dS/dC6 = {d6:.3g} +- {s6:.2g} < 0: switching attraction on "
                     "lowers S, so the minimum is not on the boundary")
    else:
        notes.append(f"converged on the boundary C6 = 0: dS/dC12 zero within its error, dS/dC6 "
                     f"= {d6:.3g} +- {s6:.2g} (not negative: the constrained minimum); the CG "
                     f"model is the pure repulsion C12 r^-12 cut at {rc:.4g} nm")
    extra: dict = {"boundary": {"C6": 0.0, "potential": "C12 r^-12", "rc": rc, "dS_dC6": d6,
                                "dS_dC6_err": s6}}
    h = float(best.hess[0, 0])  # d2S/d(log C12)^2, nearly the same on the boundary
    if h > 0 and np.isfinite(h):
        extra["C12_sem"] = float(c12 * c12 * float(e.gradient_err[0]) / h)
    final = ev.run_repulsive(c12) if validate else e
    return FitResult("re", c12, 0.0, final, md_runs=md_runs, wall_s=wall,
                     iterations=len(rows) - 1, converged=bool(ok and kkt),
                     start=(p0.c12, p0.c6), history=rows, notes=notes, extra=extra)
