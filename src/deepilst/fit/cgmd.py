"""Single-bead CG runs scored against a :class:`~deepilst.fit.target.Target`.

Every fit spends its MD through one :class:`CGEvaluator`, which runs an LJ fluid of beads of
the target's mass at the target's (T, rho) with our cutoff convention, scores it (eps_rdf with
its error, relative-entropy gradient and Hessian) and counts MD runs and MD wall time, so that
all methods report the same fields measured the same way.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

from deepilst.errors import ParameterError
from deepilst.fit.objectives import (
    eps_rdf_estimate,
    eps_rdf_floor,
    gradient_cov_frames,
    re_gradient_cov,
    re_gradient_repulsive,
    re_hessian,
)
from deepilst.fit.target import Target
from deepilst.md.simulate import run_simulation
from deepilst.md.spec import PairTable, Protocol, SimSpec
from deepilst.potentials import LJParams, TabulatedPotential
from deepilst.results import Estimate, SimulationResult
from deepilst.units import KB, RC_SIGMA


@dataclass(frozen=True)
class CGProtocol:
    """How each CG run is made (times in ps; ``n_particles`` beads; ``engine`` as in
    :class:`deepilst.md.SimSpec`).

    ``max_particles``: a model whose cutoff reaches half the box of ``n_particles`` beads
    (a very soft or very wide bead, e.g. a network answer far outside the training domain)
    is run in the smallest box that holds it, :func:`beads_for_cutoff` beads, when that is at
    most ``max_particles``; None (the default) never grows the box, and such a model is
    refused with the number of beads it needs."""

    n_particles: int = 1000
    equil_ps: float = 50.0
    prod_ps: float = 250.0
    engine: str = "gromacs"
    n_blocks: int = 10
    max_particles: int | None = None

    def protocol(self, mass: float, n_particles: int | None = None) -> Protocol:
        return Protocol(equil_ps=self.equil_ps, prod_ps=self.prod_ps,
                        n_particles=n_particles or self.n_particles, mass=mass,
                        n_blocks=self.n_blocks)

    def beads(self, rc: float, density: float) -> int:
        """Beads of a run whose cutoff is ``rc`` [nm] at ``density`` [nm^-3]: ``n_particles``
        when its box holds the cutoff, else :func:`beads_for_cutoff` if ``max_particles``
        allows; a ParameterError naming the beads needed otherwise."""
        box = (self.n_particles / density) ** (1.0 / 3.0)
        if rc < 0.5 * box:
            return self.n_particles
        need = beads_for_cutoff(rc, density)
        if self.max_particles is not None and need <= self.max_particles:
            return need
        raise ParameterError(
            f"box too small: cutoff {rc:.3f} nm >= half box {0.5 * box:.3f} nm with "
            f"{self.n_particles} beads; this model needs {need} beads (allow them with "
            f"--max-beads {need}, CGProtocol.max_particles)")


#: box edge over the cutoff when a run's box is grown to hold its cutoff (GROMACS' pair list
#: reaches a little beyond rc, and the grown box must hold both)
GROWN_BOX_OVER_RC = 2.2


def beads_for_cutoff(rc: float, density: float) -> int:
    """Smallest multiple of 100 beads whose cubic box at ``density`` [nm^-3] has an edge of
    at least ``GROWN_BOX_OVER_RC`` times the cutoff ``rc`` [nm]."""
    return int(math.ceil(density * (GROWN_BOX_OVER_RC * rc) ** 3 / 100.0)) * 100


@dataclass(frozen=True)
class CGEvaluation:
    """One CG run and its scores.

    Attributes
    ----------
    params : the LJ parameters run
    result : the simulation (g on the model grid, P [bar], U [kJ/mol per bead], ...)
    eps_rdf : eq. 7 against the target (a fraction) with its standard error
    gradient, gradient_err : dS_rel/d(C12, C6) and its standard error, per unit of C12, C6
    hessian : beta^2 Cov_CG(dU/d(C12, C6)) (2 x 2)
    gradient_cov : the gradient's covariance: CG part from the run's frames, target part from
        its bin errors rescaled (:func:`deepilst.fit.objectives.re_gradient_cov`)
    table : the tabulated potential run (then ``params`` is a reference LJ), or None
    """

    params: LJParams
    result: SimulationResult
    eps_rdf: Estimate
    eps_rdf_floor: float
    gradient: np.ndarray
    gradient_err: np.ndarray
    hessian: np.ndarray
    gradient_cov: np.ndarray | None = None
    table: TabulatedPotential | None = None

    @property
    def T_reduced(self) -> float:
        return self.result.T_reduced

    def to_json(self) -> dict:
        return {"C12": self.params.c12, "C6": self.params.c6, "sigma": self.params.sigma,
                "epsilon": self.params.epsilon, "T_reduced": self.result.T_reduced,
                "rho_reduced": self.result.rho_reduced, "eps_rdf": self.eps_rdf.mean,
                "eps_rdf_sem": self.eps_rdf.sem, "eps_rdf_floor": self.eps_rdf_floor,
                "P": self.result.P.mean, "P_sem": self.result.P.sem, "U": self.result.U.mean,
                "U_sem": self.result.U.sem, "phase": self.result.phase,
                "gradient": self.gradient.tolist(), "gradient_err": self.gradient_err.tolist(),
                "wall_s": self.result.wall_s, "potential": "lj" if self.table is None else "table",
                "n_particles": self.n_particles}

    @property
    def n_particles(self) -> int:
        """Beads in this run (more than the protocol's when its box grew to hold the cutoff)."""
        return self.result.n_particles


def basin(T_reduced: float) -> str:
    """Which eps_rdf basin a CG model sits in: "soft" (T* > 8: nearly purely repulsive beads,
    the attraction barely shapes g) or "physical" (T* <= 8). Molecular COM RDFs often have a
    minimum in each (issue 12)."""
    return "soft" if T_reduced > 8.0 else "physical"


@dataclass
class CGEvaluator:
    """Runs CG models against ``target`` and keeps the bill.

    Attributes
    ----------
    md_runs : CG simulations run so far
    md_wall_s : their wall time, s
    history : every evaluation, in order
    """

    target: Target
    protocol: CGProtocol = field(default_factory=CGProtocol)
    seed: int = 1
    md_runs: int = 0
    md_wall_s: float = 0.0
    history: list[CGEvaluation] = field(default_factory=list)

    def spec(self, params: LJParams, seed: int | None = None, rc: float | None = None) -> SimSpec:
        """The run of ``params`` at the target's state; its box holds the cutoff (``rc`` [nm],
        default the LJ convention's) as :meth:`CGProtocol.beads` allows."""
        t = self.target
        rc = RC_SIGMA * params.sigma if rc is None else rc
        n = self.protocol.beads(rc, t.density)
        return SimSpec(t.temperature, t.density, params.c12, params.c6,
                       engine=self.protocol.engine,
                       seed=self.seed + self.md_runs if seed is None else seed,
                       protocol=self.protocol.protocol(t.mass, n))

    def run(self, c12: float, c6: float, prod_ps: float | None = None) -> CGEvaluation:
        """Simulate (C12, C6) at the target's state and score it (one MD run)."""
        params = LJParams(float(c12), float(c6))
        spec = self.spec(params)
        if prod_ps is not None:
            spec = replace(spec, protocol=replace(spec.protocol, prod_ps=float(prod_ps)))
        t0 = time.perf_counter()
        res = run_simulation(spec, retries=1)
        self.md_wall_s += time.perf_counter() - t0
        self.md_runs += 1
        ev = self.score(params, res)
        self.history.append(ev)
        return ev

    def run_table(self, table: TabulatedPotential, reference: LJParams | None = None,
                  prod_ps: float | None = None) -> CGEvaluation:
        """Simulate the tabulated pair potential ``table`` (cutoff at the table's end) at the
        target's state and score it by eps_rdf (one MD run): with OpenMM, or with the
        protocol's engine when the table is a pure C12 r^-12 (LJ with C6 = 0: one F2 run took
        GROMACS 6 s, OpenMM's CPU platform 375 s as a table). ``reference``
        (default: :func:`table_reference`) sets the time step and the reported reduced state."""
        ref = reference or table_reference(table, self.target.temperature)
        spec = self.spec(ref, rc=max(float(table.r[-1]), RC_SIGMA * ref.sigma))
        pair = PairTable.from_potential(table)
        engine = spec.engine if pair.repulsion_c12 is not None else "openmm"
        spec = replace(spec, engine=engine, table=pair)
        if prod_ps is not None:
            spec = replace(spec, protocol=replace(spec.protocol, prod_ps=float(prod_ps)))
        t0 = time.perf_counter()
        res = run_simulation(spec, retries=1)
        self.md_wall_s += time.perf_counter() - t0
        self.md_runs += 1
        t = self.target
        eps = eps_rdf_estimate(t.r, res.g, res.g_err, t.g, t.g_err)
        floor = eps_rdf_floor(t.r, res.g_err, t.g, t.g_err)
        nan2 = np.full(2, np.nan)
        ev = CGEvaluation(ref, res, eps, floor, nan2, nan2, np.full((2, 2), np.nan),
                          np.full((2, 2), np.nan), table)
        self.history.append(ev)
        return ev

    def run_repulsive(self, c12: float, prod_ps: float | None = None) -> CGEvaluation:
        """Simulate the boundary C6 = 0 of the LJ family, the pure repulsion C12 r^-12 cut at
        :func:`repulsive_cutoff` (a table run, :meth:`run_table`), and score it: eps_rdf and the
        relative-entropy gradient there (:func:`~deepilst.fit.objectives.re_gradient_repulsive`:
        d/dC12, and d/dC6 of switching attraction on). One MD run."""
        table = repulsive_table(c12, self.target.temperature)
        ev = self.run_table(table, prod_ps=prod_ps)
        t, res = self.target, ev.result
        n = ev.n_particles
        sem = n * res.U.sem / c12 if np.isfinite(res.U.sem) and res.U.sem > 0 else None
        grad, cov = re_gradient_repulsive(t.r, t.g, t.g_err, res.g, res.g_err, t.temperature,
                                          t.density, n, float(table.r[-1]), sem)
        ev = replace(ev, gradient=grad, gradient_err=np.sqrt(np.diag(cov)), gradient_cov=cov)
        self.history[-1] = ev
        return ev

    def score(self, params: LJParams, res: SimulationResult) -> CGEvaluation:
        """Scores of an existing CG simulation against the target (no MD)."""
        t = self.target
        if res.r.shape != t.r.shape or not np.allclose(res.r, t.r):
            raise ValueError("CG run and target are on different r grids")
        eps = eps_rdf_estimate(t.r, res.g, res.g_err, t.g, t.g_err)
        floor = eps_rdf_floor(t.r, res.g_err, t.g, t.g_err)
        n = res.n_particles
        ps = res.pair_sums
        hess = re_hessian(ps[1], t.temperature) if ps is not None else np.full((2, 2), np.nan)
        cg_cov = None
        if ps is not None:
            cg_cov = gradient_cov_frames(hess, int(res.record["pair_sums"]["n_frames"]))
        grad, cov = re_gradient_cov(t.r, t.g, t.g_err, res.g, res.g_err, t.temperature,
                                    t.density, n, params.c12, params.c6,
                                    float(res.record["rc_sigma"]), cg_cov)
        return CGEvaluation(params, res, eps, floor, grad, np.sqrt(np.diag(cov)), hess, cov)

    def bill(self) -> dict:
        """MD runs and MD wall time so far."""
        return {"md_runs": self.md_runs, "md_wall_s": self.md_wall_s}

    def best(self) -> CGEvaluation:
        """The evaluation with the lowest eps_rdf so far."""
        if not self.history:
            raise ValueError("no CG run yet")
        return min(self.history, key=lambda e: e.eps_rdf.mean)


def repulsive_cutoff(c12: float, temperature: float, rc_sigma: float = RC_SIGMA) -> float:
    """Cutoff [nm] of the pure repulsion C12 r^-12: ``rc_sigma`` times the r where it equals
    kB T, the length that stands for sigma when there is no well (u(rc) = 3^-12 kB T)."""
    return rc_sigma * (c12 / (KB * temperature)) ** (1.0 / 12.0)


def repulsive_table(c12: float, temperature: float, step: float = 0.002) -> TabulatedPotential:
    """C12 r^-12 [kJ/mol] tabulated every ``step`` nm from 0.75 of its kB T length (32 kB T;
    the table continues linearly below) to :func:`repulsive_cutoff`."""
    if not c12 > 0:
        raise ParameterError(f"C12 must be positive, got {c12}")
    rc = repulsive_cutoff(c12, temperature)
    r = np.arange(0.25 * rc, rc + 0.5 * step, step)
    r[-1] = rc
    return TabulatedPotential(r, c12 / r**12)


def table_reference(table: TabulatedPotential, temperature: float) -> LJParams:
    """The LJ that stands for a tabulated potential in a run's spec: sigma where u first
    falls through zero (where it falls through kB T when it stays repulsive), epsilon its well
    depth (at least 1e-3 kB T). It sets the time step (``SimSpec.dt``) and the reported reduced
    state; the table's first point must lie below sigma."""
    from deepilst.units import c12_c6

    r, u = table.r, table.u
    kt = KB * temperature
    level = 0.0 if np.any(u <= 0.0) else kt
    below = np.flatnonzero(u <= level)
    if len(below) == 0 or below[0] == 0 or u[0] <= kt:
        raise ParameterError("the tabulated potential must be repulsive (u > kB T) at its first "
                             "point and fall below kB T further out")
    k = int(below[0])
    sigma = float(r[k - 1] + (level - u[k - 1]) * (r[k] - r[k - 1]) / (u[k] - u[k - 1]))
    eps = max(float(-np.min(u)), 1e-3 * kt)
    return LJParams(*c12_c6(sigma, eps))


def reduced_state(target: Target, params: LJParams) -> tuple[float, float]:
    """(T*, rho*) of a CG model at the target's state."""
    return KB * target.temperature / params.epsilon, target.density * params.sigma**3
