from pathlib import Path

import numpy as np
import pytest

from deepilst.rdf import model_grid
from deepilst.thermo import energy_from_rdf, energy_tail, lj_eos, pressure_from_rdf, pressure_tail
from deepilst.units import KB, KJ_MOL_NM3_TO_BAR

ARGON = Path(__file__).resolve().parents[1] / "data" / "v1_argon.h5"


def test_thol_reference_values():
    # NOTES: (rho*, T*) = (0.8, 1.0): P* 1.0233, U* -5.5344, in argon units
    sig, eps = 1.0, 1.0
    c12, c6 = 4 * eps * sig**12, 4 * eps * sig**6
    p, u = lj_eos(1.0 / KB, 0.8, c12, c6)
    assert p / KJ_MOL_NM3_TO_BAR == pytest.approx(1.0233, abs=2e-4)
    assert u == pytest.approx(-5.5344, abs=2e-4)


def test_ideal_gas_and_tails():
    r = model_grid()
    g = np.ones_like(r)
    g[r < 0.3] = 0.0
    # g = 1 everywhere beyond a hard core of 0.3 nm and no interactions -> P = rho kB T
    c12, c6 = 1e-30, 1e-30
    assert pressure_from_rdf(r, g, 300.0, 10.0, c12, c6) == pytest.approx(
        10.0 * KB * 300.0 * KJ_MOL_NM3_TO_BAR, rel=1e-9)
    # with g = 1 beyond rc, integrating further changes nothing: the tail is the integral
    c12, c6 = 9.7e-6, 6.22e-3
    u1 = energy_from_rdf(r, g, 10.0, c12, c6, rc=1.0)
    u2 = energy_from_rdf(r, g, 10.0, c12, c6, rc=1.5)
    assert u1 == pytest.approx(u2, rel=2e-3)
    assert energy_tail(10.0, c12, c6, 1.0) < 0 and pressure_tail(10.0, c12, c6, 1.0) < 0


def test_against_md_averages_of_the_argon_grid():
    """Energy within 1 % and pressure within 3 % of the engine's own averages, from g(r) on
    the model grid (121 GROMACS systems of data/v1_argon.h5)."""
    h5py = pytest.importorskip("h5py")
    if not ARGON.exists():
        pytest.skip("data/v1_argon.h5 not committed")
    with h5py.File(ARGON) as h:
        s, r = h["sims"], h["r"][:]
        for i in range(len(s["T"])):
            rho, c12, c6, rc = (float(s[k][i]) for k in ("rho", "C12", "C6", "rc"))
            g = s["g"][i]
            u = energy_from_rdf(r, g, rho, c12, c6, rc)
            p = pressure_from_rdf(r, g, float(s["T_measured"][i]), rho, c12, c6, rc)
            assert u == pytest.approx(s["U"][i], rel=0.01)
            assert p == pytest.approx(s["P"][i], rel=0.03, abs=20.0)


def test_batch_pressure_energy_equals_one_at_a_time():
    """The vectorised route used for the uncertainty draws equals the scalar functions."""
    import numpy as np

    from deepilst.rdf import model_grid
    from deepilst.thermo import energy_from_rdf, pressure_energy_batch, pressure_from_rdf

    r = model_grid()
    g = np.where(r > 0.3, 1 + 0.8 * np.exp(-((r - 0.38) / 0.04) ** 2), 0.0)
    rng = np.random.default_rng(1)
    c12 = 9.7e-6 * np.exp(0.1 * rng.standard_normal(50))
    c6 = 6.22e-3 * np.exp(0.1 * rng.standard_normal(50))
    rc = 3 * (c12 / c6) ** (1 / 6)
    p, u = pressure_energy_batch(r, g, 345.0, 13.7, c12, c6, rc)
    for i in range(50):
        assert p[i] == pytest.approx(pressure_from_rdf(r, g, 345.0, 13.7, c12[i], c6[i], rc[i]),
                                     rel=1e-11)
        assert u[i] == pytest.approx(energy_from_rdf(r, g, 13.7, c12[i], c6[i], rc[i]), rel=1e-11)
