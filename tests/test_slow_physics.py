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
