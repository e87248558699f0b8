"""The blur of coarse input bins, measured on the forward model and added back
(deepilst.model.blur): known answers on the forward model's own g(r)."""

import types

import numpy as np
import pytest

from deepilst.binning import BinGrid, reconstructs, to_shells, tool_bins
from deepilst.rdf import model_grid

T, RHO, C12, C6 = 345.0, 13.7, 9.70e-6, 6.22e-3  # argon-like, T* 2.9, rho* 0.54


@pytest.fixture(scope="module")
def fm():
    from deepilst.model.forward import load_forward_model

    return load_forward_model()


@pytest.mark.parametrize(("conv", "w", "expected"), [
    ("gmx", 0.001, False), ("gmx", 0.005, False), ("mda", 0.001, True),
    ("gmx", 0.002, True), ("mda", 0.005, True), ("gmx", 0.01, True), ("mda", 0.02, True)])
def test_reconstructs_exactly_when_shells_do_not_refine(conv, w, expected):
    assert reconstructs(tool_bins(conv, w), model_grid()) is expected
    pts = BinGrid(np.linspace(0.2, 1.5, 50), None, None, "points", "nm")
    assert reconstructs(pts, model_grid()) is False


@pytest.mark.parametrize(("conv", "w"), [("gmx", 0.02), ("mda", 0.02), ("gmx", 0.01)])
def test_forward_g_restored_from_coarse_bins(fm, conv, w):
    """An LJ g(r) (the forward model's) histogrammed on coarse bins and reconstructed loses
    its first peak (0.02 nm: ~0.1 in g); the correction, anchored on the fit of the coarse
    bins, restores the 0.005 nm shells to 1e-3 of the peak height."""
    from deepilst.model.blur import correct_blur

    grid = model_grid()
    b = tool_bins(conv, w)
    fine, _ = fm.shell_average(np.r_[0.0, grid[:-1] + 0.0025, grid[-1] + 0.0025], T, RHO, C12, C6,
                               std=False)
    coarse, _ = fm.shell_average(b.edges, T, RHO, C12, C6, std=False)
    g_sh, _ = to_shells(b, coarse, grid)
    inp = types.SimpleNamespace(bins=b, g=coarse, g_err=np.full(len(coarse), 0.002))
    start = {"C12": C12 * 1.05, "C6": C6 * 0.9, "T_reduced": 3.1, "rho_reduced": 0.55}
    g2, info = correct_blur(inp, grid, g_sh, T, RHO, start, fm)
    sel = (grid > 0.25) & (grid < 1.45)
    before = np.max(np.abs(g_sh - fine)[sel])
    after = np.max(np.abs(g2 - fine)[sel])
    assert info["applied"] and info["state_from"] == "fit"
    assert info["T_reduced"] == pytest.approx(2.85, rel=0.02)
    assert before > (0.05 if w == 0.02 else 0.01)
    assert after < 2e-3 * fine.max()
    # the core (bins without pairs) stays exactly empty
    empty = grid < b.edges[np.argmax(coarse > 0)]
    assert np.all(g2[empty] == 0.0)


def test_refining_bins_and_uncovered_states_left_alone(fm, monkeypatch):
    import deepilst.model.inverse as inverse
    from deepilst.errors import InputError
    from deepilst.model.blur import correct_blur

    grid = model_grid()
    g = np.ones(len(grid))
    b = tool_bins("gmx", 0.005)
    inp = types.SimpleNamespace(bins=b, g=np.ones(len(b.centres)), g_err=None)
    net = {"C12": C12, "C6": C6, "T_reduced": 2.9, "rho_reduced": 0.54}
    out, info = correct_blur(inp, grid, g, T, RHO, net, fm)
    assert out is g and not info["applied"]

    def no_fit(*a, **k):
        raise InputError("no fit")

    monkeypatch.setattr(inverse, "fit_state", no_fit)
    b = tool_bins("gmx", 0.02)
    inp = types.SimpleNamespace(bins=b, g=np.ones(len(b.centres)), g_err=None)
    g = np.ones(len(grid))
    # the fit fails: the network's state, when the forward model covers it
    out, info = correct_blur(inp, grid, g, T, RHO, net, fm)
    assert info["applied"] and info["state_from"] == "network"
    # ... and no correction when it does not (T* 1e4, rho* 50)
    far = {"C12": C12, "C6": C6, "T_reduced": 1e4, "rho_reduced": 50.0}
    out, info = correct_blur(inp, grid, g, T, RHO, far, fm)
    assert out is g and not info["applied"] and "does not cover" in info["reason"]
