"""Nelder-Mead simplex on eps_rdf (the paper's eq. 7) with a noisy objective.

The simplex lives in theta = (log sigma, log epsilon): every point is a physical LJ potential,
and the starting simplex has a natural size (a few per cent in sigma, which moves the first
peak, a few tens of per cent in epsilon, which sets its height). Every eps_rdf is one CG run,
a draw with its standard error. Plain Nelder-Mead on such draws stalls on a lucky low draw; we
follow Barton and Ivey (1996, "Nelder-Mead simplex modifications for simulation
optimization"): before a shrink, the best vertex is run again and its value becomes the mean of
its draws, and a vertex keeps all its draws. It stops when the vertices' eps_rdf are equal
within their noise (max - min below twice their combined standard error) and the simplex is
small (every vertex within ``xtol`` of the initial step of the best one in both coordinates),
or when ``max_runs`` CG runs have been spent.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from deepilst.fit.cgmd import CGEvaluator
from deepilst.fit.result import FitResult
from deepilst.potentials import LJParams

#: Initial simplex step in (log sigma, log epsilon).
STEP = (0.03, 0.25)


@dataclass
class Vertex:
    """A point of the simplex with every eps_rdf draw made at it (fractions)."""

    theta: np.ndarray
    draws: list[float] = field(default_factory=list)
    sems: list[float] = field(default_factory=list)

    @property
    def value(self) -> float:
        return float(np.mean(self.draws))

    @property
    def sem(self) -> float:
        return float(math.sqrt(np.sum(np.square(self.sems))) / len(self.sems))


def params_of(theta: np.ndarray) -> LJParams:
    """LJ parameters of theta = (log sigma [nm], log epsilon [kJ/mol])."""
    return LJParams.from_sigma_epsilon(math.exp(theta[0]), math.exp(theta[1]))


class _Budget(Exception):
    pass


def nelder_mead(f, theta0: np.ndarray, step: tuple[float, float] = STEP, max_runs: int = 40,
                xtol: float = 0.25, shrink: float = 0.5) -> tuple[Vertex, list[Vertex], bool,
                                                                  list[dict], int]:
    """Noisy Nelder-Mead in two dimensions. ``f(theta)`` returns (value, standard error) and
    costs one run. Returns (best vertex, final simplex, converged, one row per iteration, runs)."""
    step_a = np.asarray(step, dtype=float)
    runs = 0
    rows: list[dict] = []

    def draw(v: Vertex) -> Vertex:
        nonlocal runs
        if runs >= max_runs:
            raise _Budget
        runs += 1
        m, s = f(v.theta)
        v.draws.append(float(m))
        v.sems.append(float(s))
        return v

    def new(theta: np.ndarray) -> Vertex:
        return draw(Vertex(np.asarray(theta, dtype=float)))

    def done(vs: list[Vertex]) -> bool:
        vals = [v.value for v in vs]
        lo, hi = int(np.argmin(vals)), int(np.argmax(vals))
        spread_ok = vals[hi] - vals[lo] <= 2.0 * math.hypot(vs[hi].sem, vs[lo].sem)
        size = max(float(np.max(np.abs(v.theta - vs[lo].theta) / step_a)) for v in vs)
        return spread_ok and size <= xtol

    theta0 = np.asarray(theta0, dtype=float)
    simplex: list[Vertex] = []
    converged = False
    try:
        simplex = [new(theta0), new(theta0 + [step_a[0], 0.0]), new(theta0 + [0.0, step_a[1]])]
        it = 0
        while True:
            simplex.sort(key=lambda v: v.value)
            if done(simplex):
                converged = True
                break
            it += 1
            b, s, w = simplex
            c = 0.5 * (b.theta + s.theta)
            r = new(c + (c - w.theta))
            move = "reflect"
            if r.value < b.value:
                e = new(c + 2.0 * (c - w.theta))
                simplex[2], move = (e, "expand") if e.value < r.value else (r, "reflect")
            elif r.value < s.value:
                simplex[2] = r
            else:
                outside = r.value < w.value
                k = new(c + 0.5 * (r.theta - c) if outside else c + 0.5 * (w.theta - c))
                if k.value <= (r.value if outside else w.value):
                    simplex[2], move = k, "contract"
                else:
                    # Barton-Ivey: a lucky best vertex is tested again before shrinking
                    draw(b)
                    move = "re-evaluate best"
                    if b.value <= min(s.value, w.value):
                        simplex = [b] + [new(b.theta + shrink * (v.theta - b.theta))
                                         for v in (s, w)]
                        move = "shrink"
            rows.append({"iteration": it, "move": move, "runs": runs,
                         "vertices": [{"theta": v.theta.tolist(), "eps_rdf": v.value,
                                       "eps_rdf_sem": v.sem, "n": len(v.draws)}
                                      for v in sorted(simplex, key=lambda v: v.value)]})
    except _Budget:
        pass
    simplex.sort(key=lambda v: v.value)
    return simplex[0], simplex, converged, rows, runs


def simplex(ev: CGEvaluator, start: tuple[float, float], max_runs: int = 40,
            step: tuple[float, float] = STEP, xtol: float = 0.25,
            validate: bool = True) -> FitResult:
    """Minimise eps_rdf over the LJ parameters by a noise-aware Nelder-Mead simplex.

    Parameters
    ----------
    ev : the evaluator (target, CG protocol; counts MD runs and wall time)
    start : (C12, C6), kJ mol^-1 nm^12 and kJ mol^-1 nm^6
    max_runs : CG runs at most (vertices and re-evaluations)
    step : initial simplex step in (log sigma, log epsilon)
    xtol : simplex size, in units of ``step``, below which it may stop
    validate : run the best vertex once more (the ``final`` evaluation; not in md_runs)

    Returns
    -------
    FitResult (method "simplex") at the best vertex (lowest mean eps_rdf of its draws).
    """
    p0 = LJParams(*start)
    t0 = time.perf_counter()
    runs0 = ev.md_runs

    def f(theta: np.ndarray) -> tuple[float, float]:
        p = params_of(theta)
        e = ev.run(p.c12, p.c6)
        return e.eps_rdf.mean, e.eps_rdf.sem

    best, vs, converged, rows, n = nelder_mead(f, np.log([p0.sigma, p0.epsilon]), step,
                                               max_runs, xtol)
    wall = time.perf_counter() - t0
    md_runs = ev.md_runs - runs0
    p = params_of(best.theta)
    for row in rows:
        for v in row["vertices"]:
            q = params_of(np.asarray(v["theta"]))
            v.update({"C12": q.c12, "C6": q.c6})
    notes = [] if converged else [f"stopped at {max_runs} CG runs before the vertices agreed "
                                  "within their noise on a small simplex"]
    final = ev.run(p.c12, p.c6) if validate else None
    return FitResult("simplex", p.c12, p.c6, final, md_runs=md_runs,
                     wall_s=wall, iterations=len(rows), converged=converged,
                     start=(p0.c12, p0.c6), history=rows, notes=notes,
                     extra={"best_eps_rdf_draws": best.draws, "best_eps_rdf_mean": best.value,
                            "best_eps_rdf_sem": best.sem})
