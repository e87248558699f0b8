"""Noise-aware intervals (deepilst.model.input_noise): propagation, reference, combination."""

from pathlib import Path

import numpy as np
import pytest

from deepilst.dataset import open_dataset
from deepilst.errors import ParameterError
from deepilst.model import input_noise as inn
from deepilst.model.data import load_arrays
from deepilst.predict import load_model
from deepilst.validate import input_error_from_scatter

ROOT = Path(__file__).resolve().parents[1]
TEST_H5 = ROOT / "data" / "v1_test.h5"


class LinearModel:
    """Stand-in model: log T* = A[0] . g, log rho* = A[1] . g (exact linear noise response)."""

    def __init__(self, n: int = 50, seed: int = 1) -> None:
        self.r_grid = np.linspace(0.0, 1.0, n)
        self.A = np.random.default_rng(seed).normal(size=(2, n)) / np.sqrt(n)

    def predict(self, g, temperature, density, r=None):
        u = np.asarray(g) @ self.A.T
        return {"T_reduced": np.exp(u[:, 0]), "rho_reduced": np.exp(u[:, 1])}


@pytest.fixture(scope="module")
def ens():
    return load_model("ensemble")


@pytest.fixture(scope="module")
def test_states():
    a = load_arrays(TEST_H5)  # one sample per simulation: sample rows are simulation rows
    with open_dataset(TEST_H5) as h:
        ge = h["sims"]["g_err"][:]
    rows = np.flatnonzero(a.phase == "fluid")[:12]
    return a.take(rows), ge[rows]


def test_draws_recover_a_known_covariance():
    m = LinearModel()
    sig = np.linspace(0.01, 0.05, 50)
    want = m.A @ np.diag(sig**2) @ m.A.T
    got = inn.noise_covariance(m, np.ones((1, 50)), sig[None], 300.0, 10.0, n_draws=4000, seed=3)[0]
    np.testing.assert_allclose(got, want, rtol=0.1, atol=0.1 * np.abs(want).max())


def test_zero_noise_returns_the_models_own_intervals(ens, test_states):
    a, _ = test_states
    res = ens.predict(a.g[:1], a.T[:1], a.rho[:1])
    up, info = inn.noise_aware(ens, a.g[0], float(a.T[0]), float(a.rho[0]), res=res,
                               g_err=np.zeros_like(a.g[0]))
    assert info["source"] == "file" and info["excess_weight"] == 0.0
    for q in ("C12", "C6", "sigma", "epsilon", "T_reduced", "rho_reduced"):
        np.testing.assert_allclose(up[q + "_std"], res[q + "_std"], rtol=1e-10)
        np.testing.assert_allclose(up[q + "_95"], res[q + "_95"], rtol=1e-10)
    # a 350-ps run of 1000 particles is the reference: nothing added
    up, info = inn.noise_aware(ens, a.g[0], float(a.T[0]), float(a.rho[0]), res=res, prod_ps=350.0,
                               scatter=False)
    assert info["noise_ratio"] == pytest.approx(1.0) and info["C12_std_from_input"] == 0.0
    np.testing.assert_allclose(up["C12_95"], res["C12_95"], rtol=1e-10)


def test_intervals_shrink_as_the_input_noise_shrinks(ens, test_states):
    a, ge = test_states
    T, rho = float(a.T[0]), float(a.rho[0])
    widths = []
    for f in (6.0, 3.0, 1.5):
        up, info = inn.noise_aware(ens, a.g[0], T, rho, g_err=f * ge[0], n_draws=100)
        widths.append([np.diff(up[q + "_95"][0])[0] for q in ("C12", "C6")])
        assert info["noise_ratio"] == pytest.approx(f**2, rel=0.5)
    assert np.all(np.diff(np.array(widths), axis=0) < 0)
    wp = [np.diff(inn.noise_aware(ens, a.g[0], T, rho, prod_ps=L, n_draws=100)[0]["C12_95"][0])[0]
          for L in (20.0, 100.0, 350.0)]
    assert wp[0] > wp[1] > wp[2]


def test_reference_noise_model_matches_the_test_runs(ens, test_states):
    """The reference model reproduces the block errors of 350-ps runs (s2 ~ 1)."""
    a, ge = test_states
    r = ens.r_grid
    s2 = [inn.noise_ratio(r, a.g[i], ge[i], inn.reference_sigma(
        r, a.g[i], a.T[i], a.rho[i], a.C12[i], a.C6[i])) for i in range(len(a.g))]
    assert 0.7 < np.median(s2) < 1.4
    ref20 = inn.reference_sigma(r, a.g[0], a.T[0], a.rho[0], a.C12[0], a.C6[0], prod_ps=20.0,
                                n_particles=500)
    ref = inn.reference_sigma(r, a.g[0], a.T[0], a.rho[0], a.C12[0], a.C6[0])
    np.testing.assert_allclose(ref20, ref * np.sqrt(350 / 20 * 2))
    with pytest.raises(ParameterError):
        inn.reference_sigma(r, a.g[0], a.T[0], a.rho[0], a.C12[0], a.C6[0], prod_ps=0.0)


def test_scatter_estimate_is_the_validate_estimator(test_states):
    a, _ = test_states
    np.testing.assert_allclose(inn.scatter_sigma(a.g[0]), input_error_from_scatter(a.g[0]),
                               rtol=1e-12, atol=1e-15)


def test_combine_adds_only_the_excess_over_the_reference():
    base = np.tile(np.eye(2), (3, 1, 1))
    noise = np.tile(np.array([[2.0, 1.0], [1.0, 2.0]]), (3, 1, 1))
    out = inn.combine(base, noise, [0.5, np.nan, 4.0], scale=1.0)
    np.testing.assert_allclose(out[0], base[0])
    np.testing.assert_allclose(out[1], base[1])
    np.testing.assert_allclose(out[2], base[2] + 0.75 * noise[2])
    out = inn.combine(base, noise, [4.0, 4.0, 4.0])
    np.testing.assert_allclose(out[2], base[2] + inn.NOISE_SCALE * 0.75 * noise[2])


def test_intervals_reproduce_the_models_own(ens, test_states):
    a, _ = test_states
    res = ens.predict(a.g[:3], a.T[:3], a.rho[:3])
    up = inn.intervals(res, res["log_cov"])
    for q in ("C12", "C6", "epsilon"):
        np.testing.assert_allclose(up[q + "_std"], res[q + "_std"], rtol=1e-9)
        np.testing.assert_allclose(up[q + "_95"], res[q + "_95"], rtol=1e-9)


def test_input_sigma_order_of_preference(test_states):
    a, ge = test_states
    r = np.arange(301) * 0.005
    args = (r, a.g[0], float(a.T[0]), float(a.rho[0]), float(a.C12[0]), float(a.C6[0]))
    assert inn.input_sigma(*args, g_err=ge[0], prod_ps=20.0)[2] == "file"
    e, s2, src, extra = inn.input_sigma(*args, prod_ps=20.0)
    assert src == "prod_ps" and s2 == pytest.approx(17.5) and "noise_ratio_scatter" in extra
    np.testing.assert_allclose(e, inn.reference_sigma(*args, prod_ps=20.0))
    # a stated run length below the scatter level is raised to it
    e, s2, src, extra = inn.input_sigma(*args, prod_ps=35000.0)
    assert src == "scatter" and s2 == pytest.approx(extra["noise_ratio_scatter"])
    assert inn.input_sigma(*args)[2] == "scatter"
    e, s2, src, extra = inn.input_sigma(*args, scatter=False)
    assert e is None and np.isnan(s2) and src == "none" and extra == {}
    with pytest.raises(ParameterError):
        inn.noise_covariance(LinearModel(), np.ones((1, 50)), np.ones((1, 50)), 300.0, 10.0,
                             n_draws=2)
