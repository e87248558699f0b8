"""Heavier physics checks: `pytest -m slow` (minutes)."""

import numpy as np
import pytest

from deepilst.dataset import expand_g
from deepilst.md.simulate import resolve_engine, simulate
from deepilst.rdf import eps_rdf
from deepilst.thermo import lj_eos
from deepilst.units import c12_c6

from .helpers import argon_spec

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("t_star,rho_star", [(1.0, 0.8), (1.5, 0.7), (2.0, 0.9), (4.0, 0.5)])
def test_eos_long_runs(engine, t_star, rho_star):
    """N = 1000, 300 ps: within 1.5 % or 3 standard errors of the Thol EOS."""
    spec = argon_spec(t_star, rho_star, engine, n=1000, equil_ps=50, prod_ps=300, seed=31)
    rec = simulate(spec)
    p_ref, u_ref = lj_eos(spec.temperature, spec.density, spec.c12, spec.c6)
    for q, ref in (("pressure", p_ref), ("energy", u_ref)):
        m, s = rec[q]["mean"], rec[q]["sem"]
        assert abs(m - ref) < max(0.015 * abs(ref), 3 * s), (q, m, s, ref)


@pytest.mark.parametrize("t_star,rho_star,sig_b,eps_b", [
    (0.9, 0.85, 0.30, 2.5), (3.0, 1.0, 0.45, 0.8), (20.0, 2.0, 0.55, 0.15)])
def test_corresponding_states_over_the_domain(t_star, rho_star, sig_b, eps_b):
    eng = resolve_engine("auto")
    a = argon_spec(t_star, rho_star, eng, n=1000, equil_ps=50, prod_ps=200, seed=41)
    c12b, c6b = c12_c6(sig_b, eps_b)
    b = argon_spec(t_star, rho_star, eng, n=1000, equil_ps=50, prod_ps=200, seed=42, c12=c12b, c6=c6b)
    ra, rb = simulate(a), simulate(b)
    g_exp, e_exp = expand_g(np.array(ra["fine"]["g"], float), ra["fine"]["dr"], ra["sigma"], sig_b,
                            fine_g_err=np.array(ra["fine"]["g_err"], float))
    r = np.array(rb["r"])
    gb, eb = np.array(rb["g"], float), np.array(rb["g_err"], float)
    m = np.isfinite(g_exp) & (r > 0.2) & (eb > 0)
    assert eps_rdf(r[m], g_exp[m], gb[m]) < 0.01
    z = np.abs(g_exp[m] - gb[m]) / np.sqrt(e_exp[m] ** 2 + eb[m] ** 2)
    assert np.mean(z < 3) > 0.95


def test_expansion_at_five_random_reduced_states():
    """Issue 3: a sample expanded by corresponding states equals a direct simulation of that
    physical state within statistical error, at 5 random states of the reduced design."""
    import hashlib

    from deepilst.dataset import expansion_states
    from deepilst.md import Protocol
    from deepilst.runner import build_specs
    from deepilst.sampling import make_design

    eng = resolve_engine("auto")
    proto = Protocol(equil_ps=50, prod_ps=200, n_particles=1000)
    pts = make_design("reduced", 40, seed=123, expand=10)
    rng = np.random.default_rng(5)
    for p in [pts[i] for i in rng.choice(len(pts), 5, replace=False)]:
        spec = build_specs([p], eng, proto, seed=77)[0]
        ra = simulate(spec)
        reach = len(ra["fine"]["g"]) * ra["fine"]["dr"] / ra["sigma"]
        seed = int(hashlib.sha256(ra["key"].encode()).hexdigest()[:8], 16)
        rows = expansion_states(ra["T_star"], ra["rho_star"], 2, seed,
                                (spec.temperature, spec.density, spec.c12, spec.c6), reach)
        t, rho, c12, c6 = rows[1]
        from deepilst.md import SimSpec

        rb = simulate(SimSpec(t, rho, c12, c6, engine=eng, seed=78, protocol=proto))
        sig_b = rb["sigma"]
        g_exp, e_exp = expand_g(np.array(ra["fine"]["g"], float), ra["fine"]["dr"], ra["sigma"],
                                sig_b, fine_g_err=np.array(ra["fine"]["g_err"], float))
        r = np.array(rb["r"])
        gb, eb = np.array(rb["g"], float), np.array(rb["g_err"], float)
        m = np.isfinite(g_exp) & (r >= 0.25) & (eb > 0)
        assert m.sum() > 150  # r >= 0.25 nm outside the core (g > 0)
        assert eps_rdf(r[m], g_exp[m], gb[m]) < 0.01, (ra["T_star"], ra["rho_star"])
        z = np.abs(g_exp[m] - gb[m]) / np.sqrt(e_exp[m] ** 2 + eb[m] ** 2)
        assert np.mean(z < 3) > 0.95, (ra["T_star"], ra["rho_star"], np.mean(z < 3))
