"""Relative entropy on the boundary C6 = 0 of the LJ family (issue 12: F2 and C2H6 targets,
where S keeps falling as C6 -> 0): the gradient there, the one-dimensional search, the hand-over
from the two-dimensional search, and one tiny real run."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from deepilst.fit import CGEvaluator, CGProtocol, Target
from deepilst.fit.cgmd import repulsive_cutoff, repulsive_table
from deepilst.fit.objectives import re_gradient, re_gradient_repulsive
from deepilst.fit.relent import Point, minimise, relative_entropy, to_log_space
from deepilst.fit.relent_boundary import boundary_search
from deepilst.rdf import model_grid
from deepilst.results import Estimate
from deepilst.units import KB
from tests.conftest import needs_gmx

T, RHO = 345.0, 13.7


def _g(r, peak):
    g = 1 + 0.8 * np.exp(-((r - peak) / 0.05) ** 2) - 0.2 * np.exp(-((r - peak - 0.2) / 0.08) ** 2)
    return np.where(r < peak - 0.1, 0.0, g)


def test_repulsive_gradient_is_the_lj_gradient_in_the_limit_c6_to_0():
    """On C6 = 0 with the cutoff beyond the data, A.6 is LJ's with C6 -> 0 (whose 3-sigma cutoff
    runs off to infinity)."""
    r = model_grid()
    gt, gc = _g(r, 0.40), _g(r, 0.41)
    c12 = 2e-6
    a, _ = re_gradient_repulsive(r, gt, None, gc, None, T, RHO, 1000, rc=10.0)
    b, _ = re_gradient(r, gt, None, gc, None, T, RHO, 1000, c12, 1e-12)
    assert np.allclose(a, b, rtol=1e-6)
    # the target's core is smaller than the CG's: S falls as C12 shrinks
    assert a[0] > 0
    same, cov = re_gradient_repulsive(r, gt, 0.01 * np.ones_like(r), gt, 0.01 * np.ones_like(r),
                                      T, RHO, 1000, rc=1.0)
    assert np.allclose(same, 0) and np.all(np.linalg.eigvalsh(cov) >= 0)


def test_repulsive_table_is_c12_r12_to_three_kt_lengths():
    c12 = 2e-6
    tab = repulsive_table(c12, T)
    rc = repulsive_cutoff(c12, T)
    assert tab.r[-1] == pytest.approx(rc) and rc == pytest.approx(3 * (c12 / (KB * T)) ** (1 / 12))
    assert np.allclose(tab.u, c12 / tab.r**12)
    assert tab.u[0] == pytest.approx(KB * T * 0.75**-12)


def _fake_boundary(t_star, a, noise, d6, seed=0):
    """An evaluator whose run_repulsive gives f = dS/dlog C12 = a (log C12 - t_star) + noise."""
    rng = np.random.default_rng(seed)
    calls = []

    def run_repulsive(c12):
        calls.append(c12)
        f = a * (math.log(c12) - t_star) + noise * rng.standard_normal()
        return SimpleNamespace(gradient=np.array([f / c12, d6]),
                               gradient_err=np.array([noise / c12, 1.0]),
                               table=repulsive_table(c12, T), eps_rdf=Estimate(0.01, 0.001))

    return SimpleNamespace(run_repulsive=run_repulsive), calls


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_boundary_search_finds_the_root_from_a_wrong_slope(seed):
    t_star = math.log(2.4e-6)
    ev, calls = _fake_boundary(t_star, a=40.0, noise=1.0, d6=5.0, seed=seed)
    e, ok, rows = boundary_search(ev, 9e-6, slope=400.0)  # slope 10x too steep
    assert ok and len(rows) == len(calls) <= 10
    assert abs(math.log(rows[-1]["C12"]) - t_star) < 4 * 1.0 / 40.0
    assert all(abs(r["dS_dlogC12"]) < 1.96 * r["dS_dlogC12_err"] for r in rows[-2:])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_boundary_search_widens_its_steps_from_a_start_far_off(seed):
    """C2H6 from the network's answer started 27x below the root's C12 (log 3.3): with steps
    of at most 0.5 the first run near the root was the 8th; the limit doubles while f keeps
    its sign, so it is the 4th."""
    t_star = math.log(6.9e-5)
    ev, calls = _fake_boundary(t_star, a=40.0, noise=1.0, d6=5.0, seed=seed)
    e, ok, rows = boundary_search(ev, 6.9e-5 / 27.0, slope=40.0)
    assert ok and abs(math.log(calls[3]) - t_star) < 0.2  # near the root at the 4th run
    assert len(rows) <= 9  # confirming |f| < 1.96 errors twice takes 1-5 more (seeds 0-5)
    assert max(abs(math.log(c) - math.log(calls[i - 1])) for i, c in enumerate(calls)
               if i) <= 2.0 + 1e-9  # the limit grew 0.5 -> 1 -> 2, no further
    assert abs(math.log(rows[-1]["C12"]) - t_star) < 4 * 1.0 / 40.0


def test_boundary_search_gives_up_on_a_gradient_that_never_vanishes():
    ev, calls = _fake_boundary(math.log(1e-5), a=0.0, noise=1e-3, d6=5.0)
    ev.run_repulsive = lambda c12, _f=ev.run_repulsive: SimpleNamespace(
        **{**vars(_f(c12)), "gradient": np.array([5.0 / c12, 5.0])})
    e, ok, rows = boundary_search(ev, 1e-5, slope=10.0, max_iter=4)
    assert not ok and len(rows) == 4 and e is not None


def test_minimise_hands_over_when_told_to_stop():
    """A stop rule ends the search at the point it fires on (the start included), unconverged."""
    lam_star = np.array([2e-6, 1e-4])
    h = np.array([[900.0, -700.0], [-700.0, 600.0]])
    dinv = np.diag(1 / lam_star)
    a = dinv @ h @ dinv

    def evaluate(theta):
        lam = np.exp(theta)
        return Point(theta, *to_log_space(lam, a @ (lam - lam_star), 1e-6 * dinv @ dinv, a))

    def stop(pt):
        return "small C6" if np.exp(pt.theta[1]) < 3e-4 else None

    best, ok, rows, _ = minimise(evaluate, np.log([9.7e-6, 6.22e-3]), 30, stop=stop)
    assert not ok and rows[-1]["stopped"] == "small C6" and np.exp(best.theta[1]) < 3e-4
    best, ok, rows, n = minimise(evaluate, np.log([2e-6, 2e-4]), 30, stop=stop)
    assert not ok and len(rows) == 1 and n == 1 and rows[0]["stopped"]


@needs_gmx
@pytest.mark.gromacs
def test_relative_entropy_of_a_target_softer_than_lj_ends_on_the_boundary():
    """Target: beads with C12 r^-12 plus a repulsive r^-6 tail, outside the LJ family (C6 < 0
    would fit). From a nearly well-less LJ start (T* 200) the 2-d search hands over to the
    boundary C6 = 0, where dS/dC12 vanishes and dS/dC6 > 0: the constrained minimum."""
    from deepilst.potentials import TabulatedPotential

    proto = CGProtocol(n_particles=300, equil_ps=10, prod_ps=40)
    r = model_grid()
    gen = CGEvaluator(Target(r, np.ones_like(r), None, T, RHO, 28.0), proto, seed=11)
    rt = np.arange(0.22, 1.0, 0.002)
    ref = gen.run_table(TabulatedPotential(rt, 3e-6 / rt**12 + 6e-3 / rt**6)).result
    target = Target(ref.r, ref.g, ref.g_err, T, RHO, 28.0, "softer than LJ")
    ev = CGEvaluator(target, proto, seed=3)
    c12_0 = 6e-6  # T* 200: C6 from epsilon = C6^2 / (4 C12)
    res = relative_entropy(ev, start=(c12_0, math.sqrt(4.0 * c12_0 * KB * T / 200.0)),
                           max_iter=5)
    assert any(r.get("stopped") for r in res.history) and res.C6 == 0.0
    assert res.converged, res.notes
    b = res.extra["boundary"]
    assert b["rc"] == pytest.approx(repulsive_cutoff(res.C12, T))
    assert b["dS_dC6"] > 0  # switching attraction on raises S (2.4-3.3 standard errors seen)
    assert res.final.eps_rdf.mean < res.history[0]["eps_rdf"]
    d = res.to_json()
    assert d["C6"] == 0.0 and d["T_reduced"] is None and d["basin"] == "soft"
    assert res.final.table is not None and res.md_runs == len(res.history)


def test_boundary_result_reads_as_a_pure_repulsion():
    from deepilst.fit.result import FitResult

    res = FitResult("re", 2.4e-6, 0.0, None, 10, 5.0, converged=True,
                    extra={"boundary": {"C6": 0.0, "potential": "C12 r^-12", "rc": 0.936,
                                        "dS_dC6": 2415.0, "dS_dC6_err": 480.0}})
    assert "C12 r^-12, cut at 0.936 nm" in res.shape_text() and res.basin == "soft"
    assert FitResult("re", 2.4e-6, 1e-3, None, 1, 1.0).shape_text() == "not run"
