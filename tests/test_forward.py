"""The forward model g(r; T, rho, C12, C6): against stored MD, its contract, its bins."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deepilst.errors import ModelError, ParameterError
from deepilst.model.forward import ForwardModel, load_forward_model
from deepilst.model.forward_data import rebin_fast, shell_matrix
from deepilst.rdf import centered_edges, eps_rdf, model_grid, rebin

ROOT = Path(__file__).resolve().parents[1]
ARGON = ROOT / "examples" / "argon_330K_16.5nm3.xvg"


@pytest.fixture(scope="module")
def fm() -> ForwardModel:
    return load_forward_model()


def _xvg(path):
    rows = [ln.split() for ln in path.read_text().splitlines() if ln and ln[0] not in "#@"]
    return np.array(rows, dtype=float).T


def test_forward_matches_a_stored_md_rdf_in_no_dataset(fm):
    """Argon at 330 K, 16.5 nm^-3 (examples/, simulated with the training protocol, in no
    dataset): eps_rdf against MD at the level of two MD runs (0.32 % median run-to-run), and
    95 % of the points within 2 combined sigma (binomial floor for ~260 points: 0.90)."""
    r, g_md, se = _xvg(ARGON)
    g, s = fm.shell_average(centered_edges(r), 330.0, 16.5, 9.70e-6, 6.22e-3)
    assert eps_rdf(r, g, g_md) < 0.005
    m = np.maximum(g, g_md) > 0.05
    z = (g_md - g)[m] / np.sqrt(s[m] ** 2 + se[m] ** 2)
    assert np.mean(np.abs(z) < 2) > 0.90
    # a 5 % larger sigma is a different structure: the model sees it
    g2, _ = fm.shell_average(centered_edges(r), 330.0, 16.5, 9.70e-6 * 1.05**12,
                             6.22e-3 * 1.05**6, std=False)
    assert eps_rdf(r, g2, g_md) > 5 * eps_rdf(r, g, g_md)


def test_contract_shapes_and_the_range_beyond_the_model(fm):
    e = centered_edges(model_grid())
    g, s = fm.shell_average(e, 345.0, 13.7, 9.7e-6, 6.22e-3, std=True)
    assert g.shape == s.shape == (len(e) - 1,)
    g0, s0 = fm.shell_average(e, 345.0, 13.7, 9.7e-6, 6.22e-3, std=False)
    assert s0 is None and np.allclose(g0, g)
    c12 = np.array([9.7e-6, 2e-5, 5e-5])
    c6 = np.array([6.22e-3, 8e-3, 1.2e-2])
    gb, sb = fm.shell_average(e, 345.0, 13.7, c12, c6)
    assert gb.shape == sb.shape == (3, len(e) - 1)
    assert np.allclose(gb[0], g) and np.allclose(sb[0], s)
    assert np.all(g >= 0) and np.all(g[:40] < 1e-3)  # the core (r < 0.2 nm)
    # bins past x_max: g = 1, std 0
    far = np.array([0.0, 0.3, 3.0, 3.5, 4.0])  # x_max / 13.7^(1/3) = 2.07 nm
    gf, sf = fm.shell_average(far, 345.0, 13.7, 9.7e-6, 6.22e-3)
    assert np.allclose(gf[-2:], 1.0) and np.allclose(sf[-2:], 0.0)
    with pytest.raises(ParameterError):
        fm.shell_average(e[::-1], 345.0, 13.7, 9.7e-6, 6.22e-3)
    with pytest.raises(ParameterError):
        fm.shell_average(e, -1.0, 13.7, 9.7e-6, 6.22e-3)


def test_shell_averages_conserve_pair_counts_across_bin_widths(fm):
    """Averaging the model over 0.001 nm bins and then (exactly) over 0.005 nm shells gives
    the model's 0.005 nm shells: the answer does not depend on the bins it is asked for."""
    fine = np.round(np.arange(0, 1501) * 0.001, 10)
    coarse = centered_edges(model_grid())[1:]  # [0.0025, ...]: aligned with the fine edges
    gf, _ = fm.shell_average(fine, 330.0, 16.5, 9.7e-6, 6.22e-3, std=False)
    gc, _ = fm.shell_average(coarse, 330.0, 16.5, 9.7e-6, 6.22e-3, std=False)
    back, _ = rebin(fine, gf, coarse)
    ok = np.isfinite(back) & (gc > 0.01)
    assert np.max(np.abs(back[ok] - gc[ok])) < 0.01


def test_g_reduced_is_corresponding_states(fm):
    """g*(s) at s = r/sigma equals the physical shell averages for any sigma at the same
    (T*, rho*) (up to the bin average)."""
    s = np.linspace(1.5, 2.5, 11)
    gs = fm.g_reduced(s, 1.2, 0.8)
    assert gs.shape == (11,) and fm.g_reduced(s, [1.2, 2.0], [0.8, 0.8]).shape == (2, 11)
    for sigma in (0.3, 0.4):
        eps = 0.0083144626 * 300.0 / 1.2
        c12, c6 = 4 * eps * sigma**12, 4 * eps * sigma**6
        rho = 0.8 / sigma**3
        r = s * sigma
        e = np.concatenate([[0.0], np.sort(np.r_[r - 5e-5, r + 5e-5])])
        g, _ = fm.shell_average(e, 300.0, rho, c12, c6, std=False)
        assert np.allclose(g[1::2], gs, atol=0.01)


def test_covers_the_fluid_hull_only(fm):
    assert fm.covers(2.0, 0.7).all()
    assert not fm.covers(0.5, 0.05).any()  # dilute and cold: outside the fluid hull
    assert not fm.covers(1e4, 1.0).any()
    assert fm.covers([2.0, 1e4], [0.7, 1.0]).tolist() == [True, False]


def test_rebin_fast_equals_rdf_rebin():
    rng = np.random.default_rng(0)
    src = np.cumsum(rng.uniform(0.5, 1.5, 60)) * 0.01
    src = np.r_[0.0, src]
    g = rng.uniform(0, 2, 60)
    err = rng.uniform(0, 0.1, 60)
    dst = np.linspace(0.05, src[-1] + 0.05, 23)
    a, ea = rebin_fast(src, g, dst, err)
    b, eb = rebin(src, g, dst, err)
    assert np.allclose(a, b, equal_nan=True) and np.allclose(ea, eb, equal_nan=True)
    M, cov = shell_matrix(src, dst)
    ok = cov > 1 - 1e-9
    assert np.allclose(M[ok] @ g, b[ok])


def test_save_load_round_trip_and_bad_directory(fm, tmp_path):
    d = fm.save(tmp_path / "fwd")
    fm2 = ForwardModel.load(d)
    e = centered_edges(model_grid())
    a = fm.shell_average(e, 330.0, 16.5, 9.7e-6, 6.22e-3)
    b = fm2.shell_average(e, 330.0, 16.5, 9.7e-6, 6.22e-3)
    assert np.array_equal(a[0], b[0]) and np.allclose(a[1], b[1])
    with pytest.raises(ModelError, match="forward model"):
        ForwardModel.load(tmp_path)
