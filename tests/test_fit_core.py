"""The fits' shared core: eps_rdf with its error, relative-entropy gradient and Hessian, CG runs."""

import numpy as np
import pytest

from deepilst.fit import CGEvaluator, CGProtocol, Target, basin
from deepilst.fit.objectives import (
    eps_rdf_estimate,
    eps_rdf_floor,
    mean_pair_derivative,
    re_gradient,
    re_hessian,
)
from deepilst.rdf import model_grid
from deepilst.units import KB
from tests.conftest import needs_gmx

C12, C6 = 2.23e-5, 1.20e-2  # sigma 0.371 nm, eps 3.0 kJ/mol


def _g(r, peak=0.41):
    """A smooth liquid-like g(r): zero core, a first peak, damped oscillations to 1."""
    core = 1.0 / (1.0 + np.exp(-(r - 0.9 * peak) / 0.008))
    return core * (1.0 + 0.8 * np.exp(-(r - peak) / 0.12) * np.cos(2 * np.pi * (r - peak) / 0.36))


def test_eps_rdf_is_zero_for_equal_curves_and_its_noise_floor_matches_draws():
    r = model_grid()
    g = _g(r)
    assert eps_rdf_estimate(r, g, None, g, None).mean == 0.0
    err = np.full_like(g, 0.01)
    rng = np.random.default_rng(3)
    vals = [eps_rdf_estimate(r, g + err * rng.standard_normal(len(r)), err,
                             g + err * rng.standard_normal(len(r)), err).mean for _ in range(50)]
    floor = eps_rdf_floor(r, err, g, err)
    assert abs(np.mean(vals) - floor) < 0.05 * floor


def test_eps_rdf_error_grows_with_input_noise():
    r = model_grid()
    g = _g(r)
    e1 = eps_rdf_estimate(r, g * 1.01, np.full_like(g, 0.002), g, np.full_like(g, 0.002)).sem
    e2 = eps_rdf_estimate(r, g * 1.01, np.full_like(g, 0.02), g, np.full_like(g, 0.02)).sem
    assert 0 < e1 < e2


def test_re_gradient_vanishes_for_equal_structure_and_has_the_right_sign():
    r = model_grid()
    g = _g(r)
    grad, err = re_gradient(r, g, None, g, None, 345.0, 13.7, 1000, C12, C6)
    assert np.allclose(grad, 0.0)
    # a CG model with its first peak further out (too repulsive) has fewer close pairs than the
    # target: <r^-12>_target > <r^-12>_CG, so dS/dC12 > 0 (lower C12), dS/dC6 < 0 (raise C6)
    grad, _ = re_gradient(r, g, None, _g(r, 0.415), None, 345.0, 13.7, 1000, C12, C6)
    assert grad[0] > 0 and grad[1] < 0


def test_pair_derivative_of_an_ideal_gas_is_analytic():
    # g = 1 inside the cutoff: (N rho / 2) 4 pi int_a^rc r^-12 r^2 dr, here from r = 0.3 nm
    r = np.arange(0.0, 1.5, 0.0005)
    g = (r >= 0.3).astype(float)
    g[np.argmax(r >= 0.3)] = 0.5  # the trapezoid then integrates the step exactly
    m, _ = mean_pair_derivative(r, g, None, 10.0, 100, C12, C6)
    rc = 3 * (C12 / C6) ** (1 / 6)
    pref = 0.5 * 100 * 10.0 * 4 * np.pi
    s12 = pref * (0.3**-9 - rc**-9) / 9
    boundary = pref * (C12 / rc**12 - C6 / rc**6) * rc**2 * rc / (6 * C12)
    assert m[0] == pytest.approx(s12 + boundary, rel=2e-3)


def test_hessian_is_positive_semidefinite_with_the_c6_sign():
    cov = np.array([[4.0, 1.5], [1.5, 1.0]])
    h = re_hessian(cov, 300.0)
    assert np.all(np.linalg.eigvalsh(h) >= -1e-12)
    assert h[0, 1] < 0 and h[0, 0] == pytest.approx(4.0 / (KB * 300.0) ** 2)


def test_basin_labels():
    assert basin(17.0) == "soft" and basin(2.5) == "physical"


def test_target_refuses_mismatched_arrays():
    r = model_grid()
    with pytest.raises(ValueError, match="one length"):
        Target(r, _g(r)[:-1], None, 300.0, 10.0)


@needs_gmx
@pytest.mark.gromacs
def test_cg_run_scores_itself_near_zero_and_pair_sums_match_g():
    """A CG run against an independent run of the same model: eps_rdf near the noise floor,
    the RE gradient zero within ~4 errors, the frame pair sums equal to the g(r) integral."""
    proto = CGProtocol(n_particles=300, equil_ps=10, prod_ps=60)
    r = model_grid()
    first = CGEvaluator(Target(r, _g(r), None, 345.0, 13.7, 28.0), proto, seed=11)
    ref = first.run(C12, C6).result
    target = Target(ref.r, ref.g, ref.g_err, 345.0, 13.7, 28.0, "self")
    ev = CGEvaluator(target, proto, seed=12).run(C12, C6)
    assert ev.eps_rdf.mean < 2.5 * ev.eps_rdf_floor
    assert np.all(np.abs(ev.gradient) < 4 * ev.gradient_err + 1e-9)
    mean, cov = ev.result.pair_sums
    m, _ = mean_pair_derivative(ev.result.r, ev.result.g, None, 13.7, 300, C12, C6)
    rc = 3 * (C12 / C6) ** (1 / 6)
    pref = 0.5 * 300 * 13.7 * 4 * np.pi * (C12 / rc**12 - C6 / rc**6) * rc**3
    assert m[0] - pref / (6 * C12) == pytest.approx(mean[0], rel=0.01)
    assert np.all(np.linalg.eigvalsh(ev.hessian) > 0)


def test_a_cutoff_beyond_half_the_box_is_refused_with_the_beads_it_needs_or_grows_the_box():
    """sigma 0.5 nm at 4 nm^-3: rc 1.5 nm; 100 beads give a 2.92 nm box, 200 beads hold it."""
    from deepilst.errors import ParameterError
    from deepilst.fit.cgmd import beads_for_cutoff
    from deepilst.potentials import LJParams

    wide = LJParams.from_sigma_epsilon(0.5, 1.0)
    assert beads_for_cutoff(1.5, 4.0) == 200  # 4 * (2.2 * 1.5)^3 = 143.7 -> 200
    r = model_grid()
    target = Target(r, _g(r, 0.55), None, 345.0, 4.0, 28.0)
    with pytest.raises(ParameterError, match="needs 200 beads.*--max-beads 200"):
        CGEvaluator(target, CGProtocol(n_particles=100)).spec(wide)
    with pytest.raises(ParameterError, match="needs 200 beads"):
        CGEvaluator(target, CGProtocol(n_particles=100, max_particles=150)).spec(wide)
    spec = CGEvaluator(target, CGProtocol(n_particles=100, max_particles=1000)).spec(wide)
    assert spec.protocol.n_particles == 200 and spec.rc < 0.5 * spec.box_length / 1.09
    narrow = LJParams(C12, C6)  # rc 1.11 nm fits the 100-bead box: not grown
    assert CGEvaluator(target, CGProtocol(n_particles=100, max_particles=1000)).spec(
        narrow).protocol.n_particles == 100


@needs_gmx
@pytest.mark.gromacs
def test_a_grown_box_run_reports_its_beads_and_scores_against_the_target():
    from deepilst.potentials import LJParams

    wide = LJParams.from_sigma_epsilon(0.5, 1.0)
    r = model_grid()
    target = Target(r, _g(r, 0.55), None, 345.0, 4.0, 28.0)
    ev = CGEvaluator(target, CGProtocol(n_particles=100, equil_ps=5, prod_ps=20,
                                        max_particles=1000), seed=3)
    e = ev.run(wide.c12, wide.c6)
    assert e.n_particles == 200 and e.to_json()["n_particles"] == 200
    assert ev.md_runs == 1 and np.isfinite(e.eps_rdf.mean) and np.all(np.isfinite(e.gradient))
    # the run's g(r) is that of a fluid at rho* = 0.5: a first peak near sigma
    k = np.argmax(e.result.g)
    assert 0.45 < e.result.r[k] < 0.65 and e.result.g[k] > 1.2
