"""Pair potentials: LJ against closed forms, tabulated potentials against the LJ they tabulate."""

import numpy as np
import pytest

from deepilst.errors import ParameterError
from deepilst.potentials import LJParams, TabulatedPotential, lj_potential, lj_r_du_dr
from deepilst.units import ARGON_C6, ARGON_C12


def test_lj_minimum_and_zero():
    lj = LJParams(ARGON_C12, ARGON_C6)
    rmin = 2 ** (1 / 6) * lj.sigma
    assert lj.energy(lj.sigma) == pytest.approx(0.0, abs=1e-12)
    assert lj.energy(rmin) == pytest.approx(-lj.epsilon, rel=1e-12)
    assert lj.force(rmin) == pytest.approx(0.0, abs=1e-9)
    r = np.linspace(0.3, 1.0, 50)
    h = 1e-7
    num = -(lj_potential(r + h, ARGON_C12, ARGON_C6) - lj_potential(r - h, ARGON_C12, ARGON_C6)) / (2 * h)
    assert np.allclose(lj.force(r), num, rtol=1e-5, atol=1e-6)
    assert np.allclose(-lj_r_du_dr(r, ARGON_C12, ARGON_C6) / r, lj.force(r))


def test_table_reproduces_lj_inside_the_cutoff_and_zero_beyond():
    lj = LJParams(ARGON_C12, ARGON_C6)
    tab = lj.tabulate(r_max=1.4, dr=0.001)
    r = np.linspace(0.3, 0.95 * 3 * lj.sigma, 200)
    assert np.allclose(tab.energy(r), lj.energy(r), rtol=1e-4, atol=1e-5)
    assert np.allclose(tab.force(r[20:]), lj.force(r[20:]), rtol=2e-3, atol=2e-3)
    assert np.allclose(tab.energy(np.array([1.2, 1.39])), 0.0, atol=1e-8) and tab.energy(2.0) == 0.0
    # below the grid the potential keeps rising
    assert tab.energy(0.1) > tab.energy(tab.r[0]) > 0


def test_table_file_and_openmm_function(tmp_path):
    tab = LJParams(ARGON_C12, ARGON_C6).tabulate(r_max=1.2)
    p = tab.write_table(tmp_path / "table.xvg")
    data = np.loadtxt(p)
    assert data.shape[1] == 7 and data[0, 0] == 0.0
    assert np.allclose(data[:, 0], np.arange(len(data)) * 0.002, atol=1e-9)
    vals, lo, hi = tab.openmm_function(500)
    assert len(vals) == 500 and lo == tab.r[0] and hi == tab.r[-1]


@pytest.mark.parametrize("r,u", [([0.3, 0.2, 0.4, 0.5], [1, 2, 3, 4]), ([0.1, 0.2], [1, 2]),
                                 ([0.1, 0.2, 0.3, 0.4], [1, np.nan, 0, 0]),
                                 ([0.0, 0.2, 0.3, 0.4], [1, 1, 0, 0])])
def test_table_rejects_bad_grids(r, u):
    with pytest.raises(ParameterError):
        TabulatedPotential(np.array(r, float), np.array(u, float))
