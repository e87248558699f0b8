"""Our CG fitting methods: relative entropy (trust-region Newton in log space), noise-aware
simplex and iterative Boltzmann inversion, on synthetic functions with known minima and on an
LJ target of known parameters."""

import math

import numpy as np
import pytest

from deepilst.fit import CGEvaluator, CGProtocol, Target
from deepilst.fit.ibi import core_extension, ibi
from deepilst.fit.relent import (
    CHI2_95_2DOF,
    Point,
    gradient_chi2,
    minimise,
    relative_entropy,
    to_log_space,
    trust_region_step,
)
from deepilst.fit.simplex import nelder_mead, simplex
from deepilst.rdf import model_grid
from tests.conftest import needs_gmx

TRUE = (3.16e-5, 1.231e-2)  # sigma 0.37 nm, eps 1.2 kJ/mol: T* 2.4 at 345 K
ARGON = (9.70e-6, 6.22e-3)  # the poor start of issue 12


# ---- chain rule and trust region -----------------------------------------------------------

def _s(lam):
    """A smooth non-quadratic test function of lambda > 0 with its gradient and Hessian."""
    a, b = lam
    s = a**2 * b + math.sin(a) + b**3
    g = np.array([2 * a * b + math.cos(a), a**2 + 3 * b**2])
    h = np.array([[2 * b - math.sin(a), 2 * a], [2 * a, 6 * b]])
    return s, g, h


def test_log_space_gradient_and_hessian_match_finite_differences():
    theta = np.log([0.7, 1.3])
    g, c, h = to_log_space(np.exp(theta), *_s(np.exp(theta))[1:2], np.eye(2), _s(np.exp(theta))[2])
    f = lambda t: _s(np.exp(t))[0]  # noqa: E731
    eps = 1e-5
    for i in range(2):
        e = np.zeros(2)
        e[i] = eps
        assert g[i] == pytest.approx((f(theta + e) - f(theta - e)) / (2 * eps), rel=1e-7)
        for j in range(2):
            d = np.zeros(2)
            d[j] = eps
            fd = (f(theta + e + d) - f(theta + e - d) - f(theta - e + d) + f(theta - e - d)) / (
                4 * eps**2)
            assert h[i, j] == pytest.approx(fd, rel=1e-4)
    assert np.allclose(c, np.diag(np.exp(2 * theta)))  # D I D


def test_trust_region_step_is_newton_inside_and_the_constrained_minimum_on_the_boundary():
    g = np.array([1.0, -2.0])
    h = np.array([[4.0, 1.0], [1.0, 3.0]])
    newton = -np.linalg.solve(h, g)
    p, pred = trust_region_step(g, h, 10.0)
    assert np.allclose(p, newton) and pred == pytest.approx(-(g @ newton + 0.5 * newton @ h @ newton))
    angles = np.linspace(0, 2 * np.pi, 20001)
    for hh, radius in ((h, 0.2), (np.array([[1.0, 0.0], [0.0, -2.0]]), 0.5)):
        p, pred = trust_region_step(g, hh, radius)
        assert np.linalg.norm(p) == pytest.approx(radius, rel=1e-9)
        circle = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
        m = circle @ g + 0.5 * np.einsum("ki,ij,kj->k", circle, hh, circle)
        assert -pred <= m.min() + 1e-6 * abs(m.min())
    # the hard case: no gradient along the negative-curvature direction
    p, _ = trust_region_step(np.array([1.0, 0.0]), np.diag([2.0, -1.0]), 1.0)
    assert np.linalg.norm(p) == pytest.approx(1.0) and abs(p[1]) > 0.5


def test_chi2_uses_the_full_covariance():
    cov = np.array([[1.0, -0.99], [-0.99, 1.0]])
    assert gradient_chi2(np.array([1.0, 1.0]), cov) > 50  # against the correlation
    assert gradient_chi2(np.array([1.0, -1.0]), cov) < 1.1  # along it
    assert gradient_chi2(np.array([1.0, 1.0]), np.zeros((2, 2))) == math.inf


def _quadratic(lam_star, h_theta, c_theta, seed):
    """Noisy gradients of a quadratic S(lambda) with minimum lam_star; Hessian in theta at the
    minimum h_theta, gradient noise covariance there c_theta."""
    lam_star = np.asarray(lam_star)
    dinv = np.diag(1 / lam_star)
    a, c_lam = dinv @ h_theta @ dinv, dinv @ c_theta @ dinv
    rng = np.random.default_rng(seed)

    def evaluate(theta):
        lam = np.exp(theta)
        g = a @ (lam - lam_star) + rng.multivariate_normal([0, 0], c_lam)
        return Point(theta, *to_log_space(lam, g, c_lam, a))

    return evaluate


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_noisy_newton_converges_to_the_known_minimum_from_a_poor_start(seed):
    h = np.array([[900.0, -700.0], [-700.0, 600.0]])
    c = np.array([[4.0, -3.5], [-3.5, 3.2]])
    best, converged, rows, n = minimise(_quadratic(TRUE, h, c, seed), np.log(ARGON), 30)
    assert converged and best.chi2 < CHI2_95_2DOF and n == len(rows)
    # within 4 standard errors of the minimum (parameter covariance H^-1 C H^-1)
    pc = np.linalg.inv(h) @ c @ np.linalg.inv(h)
    d = best.theta - np.log(TRUE)
    assert d @ np.linalg.inv(pc) @ d < 4**2 * 2
    assert all(r["radius"] <= 2.0 for r in rows)


@pytest.mark.parametrize("error", ["SimulationError", "ParameterError"])
def test_a_failed_run_is_a_rejected_step_with_a_smaller_radius(error):
    """A crashed run, or a step to a model that cannot be run at all (a bead so large that its
    cutoff exceeds half the box: ParameterError, seen on F2), is a rejected step."""
    from deepilst import errors

    h = np.array([[900.0, -700.0], [-700.0, 600.0]])
    inner = _quadratic(TRUE, h, np.eye(2) * 1e-6, 0)
    calls = []

    def evaluate(theta):
        calls.append(theta)
        if len(calls) == 2:
            raise getattr(errors, error)("blew up")
        return inner(theta)

    best, converged, rows, _ = minimise(evaluate, np.log(ARGON), 30)
    assert rows[1]["accepted"] is False and "failed" in rows[1]
    assert rows[2]["radius"] == pytest.approx(0.25 * rows[1]["step_norm"])
    assert converged and np.allclose(best.theta, np.log(TRUE), atol=1e-3)


def test_noisy_simplex_finds_the_minimum_of_a_noisy_bowl():
    rng = np.random.default_rng(1)
    opt = np.log([0.37, 2.0])

    def f(th):
        d = (th - opt) / np.array([0.02, 0.3])
        return 0.004 + 0.01 * (d @ d) + 0.0005 * rng.standard_normal(), 0.0005

    best, vs, converged, rows, runs = nelder_mead(f, np.log([0.34, 1.0]), max_runs=60)
    assert converged and runs <= 60
    assert abs(best.theta[0] - opt[0]) < 0.01 and abs(best.theta[1] - opt[1]) < 0.2
    assert best.value < 0.0065


def test_ibi_core_extension_matches_value_and_slope_and_repels():
    r = np.linspace(0.2, 0.6, 81)
    u = -np.cos(10 * r)
    out = core_extension(r, u, 20, 2.87)
    assert np.all(out[20:] == u[20:])
    assert np.all(np.diff(out[:21]) < 0)  # monotonically repulsive towards r = 0
    assert out[0] > u[20] + 50


# ---- with MD: an LJ target of known parameters ---------------------------------------------

TINY = CGProtocol(n_particles=300, equil_ps=10, prod_ps=40)


@pytest.fixture(scope="module")
def lj_target():
    r = model_grid()
    gen = CGEvaluator(Target(r, np.ones_like(r), None, 345.0, 13.7, 28.0), TINY, seed=99)
    ref = gen.run(*TRUE).result
    return Target(ref.r, ref.g, ref.g_err, 345.0, 13.7, 28.0, "lj")


@needs_gmx
@pytest.mark.gromacs
def test_relative_entropy_steps_towards_a_known_lj_target(lj_target):
    ev = CGEvaluator(lj_target, TINY, seed=5)
    res = relative_entropy(ev, start=ARGON, max_iter=3)
    assert res.method == "re" and res.md_runs == len(res.history) == 4
    acc = [r for r in res.history if r["accepted"]]
    assert acc[-1]["chi2"] < 0.2 * acc[0]["chi2"]  # the gradient shrank
    assert sum(r["actual"] for r in acc[1:]) > 0  # S_rel fell along the accepted steps
    assert res.final is not None and res.final.eps_rdf.mean < res.history[0]["eps_rdf"]
    assert all(r["step_norm"] <= r["radius"] * (1 + 1e-9) for r in res.history[1:])
    d = res.to_json()
    for k in ("C12", "C6", "eps_rdf", "eps_rdf_sem", "md_runs", "wall_s", "iterations",
              "converged", "basin", "history"):
        assert k in d


@needs_gmx
@pytest.mark.gromacs
def test_relative_entropy_reuses_a_run_at_its_start(lj_target):
    ev = CGEvaluator(lj_target, TINY, seed=5)
    ev.run(*ARGON)
    res = relative_entropy(ev, start=ARGON, max_iter=1, validate=False)
    assert res.md_runs == 1 and res.history[0]["reused"] and ev.md_runs == 2


@needs_gmx
@pytest.mark.gromacs
def test_simplex_lowers_eps_rdf_on_a_known_lj_target(lj_target):
    ev = CGEvaluator(lj_target, TINY, seed=7)
    res = simplex(ev, start=ARGON, max_runs=8)
    assert res.method == "simplex" and res.md_runs == 8 and not res.converged
    first = ev.history[0].eps_rdf.mean
    assert res.extra["best_eps_rdf_mean"] < 0.8 * first


def test_ibi_lowers_eps_rdf_on_a_known_lj_target(lj_target):
    ev = CGEvaluator(lj_target, CGProtocol(n_particles=300, equil_ps=10, prod_ps=30,
                                           engine="openmm"), seed=3)
    res = ibi(ev, max_iter=2, validate=False, tol=0.5)  # from the potential of mean force
    assert math.isnan(res.C12) and res.md_runs == 2 and len(res.history) == 2
    assert res.history[1]["eps_rdf"] < 0.7 * res.history[0]["eps_rdf"]
    tab = res.extra["table"]
    assert tab["u"][-1] == 0.0 and len(tab["r"]) == len(tab["u"])


# ---- slow: full convergence --------------------------------------------------------------

SMALL = CGProtocol(n_particles=500, equil_ps=20, prod_ps=100)


@pytest.fixture(scope="module")
def lj_target_small():
    r = model_grid()
    gen = CGEvaluator(Target(r, np.ones_like(r), None, 345.0, 13.7, 28.0), SMALL, seed=98)
    ref = gen.run(*TRUE, prod_ps=400).result
    return Target(ref.r, ref.g, ref.g_err, 345.0, 13.7, 28.0, "lj")


@pytest.mark.slow
@needs_gmx
@pytest.mark.gromacs
def test_relative_entropy_recovers_a_known_lj_target_from_argon(lj_target_small):
    ev = CGEvaluator(lj_target_small, SMALL, seed=11)
    res = relative_entropy(ev, start=ARGON)
    assert res.converged
    for got, true, sem in ((res.C12, TRUE[0], res.extra["C12_sem"]),
                           (res.C6, TRUE[1], res.extra["C6_sem"])):
        assert abs(got - true) < 4 * sem and sem < 0.1 * true
    assert res.final.eps_rdf.mean < 2.0 * res.final.eps_rdf_floor


@pytest.mark.slow
@needs_gmx
@pytest.mark.gromacs
def test_simplex_reaches_the_noise_floor_on_a_known_lj_target(lj_target_small):
    ev = CGEvaluator(lj_target_small, SMALL, seed=12)
    res = simplex(ev, start=ARGON, max_runs=40)
    assert res.final.eps_rdf.mean < 2.0 * res.final.eps_rdf_floor


@pytest.mark.slow
def test_ibi_reaches_the_noise_floor_on_a_known_lj_target(lj_target_small):
    ev = CGEvaluator(lj_target_small, CGProtocol(n_particles=500, equil_ps=20, prod_ps=100,
                                                 engine="openmm"), seed=13)
    res = ibi(ev, max_iter=10)
    assert res.final.eps_rdf.mean < 2.0 * res.final.eps_rdf_floor
    assert res.history[-1]["eps_rdf"] < 0.5 * res.history[0]["eps_rdf"]
