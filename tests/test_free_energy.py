"""The CG LJ model's Helmholtz energy (deepilst.freeenergy): Thol reference numbers, the
derivative identities of the surface, the correction against our MD, its domain."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from deepilst.errors import ModelError
from deepilst.freeenergy import Correction, LJFreeEnergy, convention_b, fit_correction, thol

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def fe():
    return LJFreeEnergy.load()


def test_thol_reference_numbers():
    """NOTES: (rho*, T*) = (0.8, 1.0): P* 1.0233, U* -5.5344; (0.7, 1.5): P* 1.5925, U* -4.5804."""
    _, u, z = thol(np.array([1.0, 1.5]), np.array([0.8, 0.7]))
    assert np.allclose(z * np.array([0.8 * 1.0, 0.7 * 1.5]), [1.0233, 1.5925], atol=2e-4)
    assert np.allclose(u * np.array([1.0, 1.5]), [-5.5344, -4.5804], atol=2e-4)


def test_convention_b_is_the_pressure_tail():
    """b / T* = beta P_tail / rho for rc = 3 sigma (thermo.pressure_tail with sigma = eps = 1)."""
    from deepilst.thermo import pressure_tail
    from deepilst.units import KJ_MOL_NM3_TO_BAR

    rho = 0.7
    p_tail = pressure_tail(rho, 4.0, 4.0, 3.0) / KJ_MOL_NM3_TO_BAR  # eps = sigma = 1
    assert convention_b(rho) == pytest.approx(p_tail / rho, rel=1e-12)


@pytest.mark.parametrize("t,r", [(2.3, 0.7), (25.0, 1.4), (1.4, 0.75), (120.0, 2.5)])
def test_derivatives_of_the_surface_are_what_md_reports(fe, t, r):
    """-d(beta A/N)/d ln T* = beta U - b/T* and rho d(beta A/N)/d rho = Z - 1 - b/T*, where
    beta U and Z are the model's MD-reported energy and compressibility factor."""
    h = 1e-5
    a = fe.helmholtz
    da_dtau = (a(t * math.exp(h), r) - a(t * math.exp(-h), r)) / (2 * h)
    da_drho = (a(t, r * (1 + h)) - a(t, r * (1 - h))) / (2 * h)
    b = convention_b(r) / t
    assert -da_dtau == pytest.approx(float(fe.energy(t, r)) - b, abs=1e-6)
    assert da_drho == pytest.approx(float(fe.compressibility(t, r)) - 1 - b, abs=1e-6)


def test_fit_correction_recovers_a_known_surface():
    rng = np.random.default_rng(3)
    truth = Correction(rng.normal(0, 0.1, (3, 4)), math.log(0.7), math.log(400), 2.0)
    t = np.exp(rng.uniform(math.log(0.8), math.log(300), 300))
    r = rng.uniform(0.1, 2.5, 300)
    _, du, dz = truth(t, r)
    fit = fit_correction(t, r, du, np.full(300, 0.01), dz, np.full(300, 0.01), n_rho=3, n_tau=4,
                         tau_range=(math.log(0.7), math.log(400)))
    assert np.allclose(fit.coef, truth.coef, atol=1e-8)
    assert np.allclose(fit(t, r)[0], truth(t, r)[0], atol=1e-8)


def test_domain(fe):
    """Inside the binodal and far outside the fitted states: not covered."""
    assert fe.covers(2.27, 0.70)
    assert fe.in_binodal(1.0, 0.3) and not fe.covers(1.0, 0.3)
    assert not fe.in_binodal(1.0, 0.75) and not fe.in_binodal(1.5, 0.3)
    assert not fe.covers(2000.0, 1.0) and not fe.covers(2.0, 3.0)
    assert fe.covers(np.array([2.27, 1.0]), np.array([0.7, 0.3])).tolist() == [True, False]


def test_states_far_outside_the_hull_are_flagged_without_warnings(fe):
    """Polishing the eps_KL map's minimum for C2H6 (the network's answer at T* 3.5e5 on the
    map) wandered to T* 6e232, rho* 4e55, where the correction's powers of rho* overflow: that
    gives inf or nan, silently, which the polish counts as worse, and covers() says False."""
    import warnings

    t, r = np.array([5.9e232, 2.0]), np.array([3.6e55, 0.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fe.correction(t, r)
        fe.helmholtz(t, r)
        assert list(fe.covers(t, r)) == [False, True]


def test_missing_correction_file(tmp_path):
    with pytest.raises(ModelError, match="free_energy_check"):
        LJFreeEnergy.load(tmp_path / "none.json")


def test_shipped_surface_records_its_fit(fe):
    from deepilst.freeenergy import CORRECTION_PATH

    text = CORRECTION_PATH.read_text()
    meta = json.loads(text)
    assert meta["rc_sigma"] == 3.0 and meta["fit"]["data"].startswith("data/v1_train.h5")
    assert meta["provenance"]["command"] == "python benchmarks/free_energy_check.py fit"
    assert '"/' not in text  # no absolute path of the machine that fitted it
    assert fe.correction.shape == tuple(meta["fit"]["shape"])


@pytest.mark.skipif(not (DATA / "v1_test.h5").exists(), reason="committed datasets absent")
def test_correction_matches_md_of_states_it_was_not_fitted_to(fe):
    """Hot fluids of v1_test (not in the fit): the corrected surface gives the MD energy and
    pressure within the MD noise; the Thol EOS alone is off by 20x more (its range ends at
    T* ~ 9)."""
    from deepilst.dataset.read import open_dataset
    from deepilst.units import KB, KJ_MOL_NM3_TO_BAR

    with open_dataset(DATA / "v1_test.h5") as h:
        s = h["sims"]
        d = {k: s[k][:] for k in ("T", "rho", "T_reduced", "rho_reduced", "U", "P", "phase")}
    k = (d["phase"] == b"fluid") & (d["T_reduced"] > 10) & (d["T_reduced"] < 200)
    beta = 1 / (KB * d["T"][k])
    bu = beta * d["U"][k]
    z = d["P"][k] / KJ_MOL_NM3_TO_BAR * beta / d["rho"][k]
    t, r = d["T_reduced"][k], d["rho_reduced"][k]
    _, u_th, z_th = thol(t, r)
    rms = lambda x: float(np.sqrt(np.mean(x**2)))  # noqa: E731
    assert k.sum() > 100
    assert rms(bu - fe.energy(t, r)) < 0.005 and rms(z - fe.compressibility(t, r)) < 0.02
    assert rms(bu - u_th) > 0.05 and rms(z - z_th) > 0.5
