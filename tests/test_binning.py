"""Bin-grid recovery from printed r columns, and histogram treatment (deepilst.binning)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepilst.binning import infer_bins, to_shells, tool_bins
from deepilst.errors import InputError
from deepilst.rdf import centered_edges, model_grid, rebin
from deepilst.rdfio import inspect_rdf, load_rdf

WIDTHS = [0.0005, 0.001, 0.002, 0.0025, 0.004, 0.005, 0.01, 0.02, 0.025]


def _printed(x: np.ndarray, decimals: int | None) -> tuple[np.ndarray, float]:
    """x as a file prints it ('%.{d}f', or repr) and the rounding bound."""
    if decimals is None:
        return x.copy(), 0.0
    return np.array([float(f"{v:.{decimals}f}") for v in x]), 0.5 * 10.0**-decimals


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(WIDTHS), st.sampled_from([3, 4, 5, None]), st.integers(0, 40),
       st.integers(150, 800))
def test_gmx_grid_recovered_despite_rounding(w, decimals, k0, n):
    centres = (k0 + np.arange(n)) * w
    r, tol = _printed(centres, decimals)
    b = infer_bins(r, tol)
    assert b.width == pytest.approx(w, abs=1e-15) and b.convention == "gmx"
    np.testing.assert_allclose(b.centres, centres, atol=1e-12)
    assert b.edges[0] == (0.0 if k0 == 0 else pytest.approx(centres[0] - w / 2))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([0.01, 0.02, 0.05, 0.1, 0.2]), st.sampled_from([4, 6, None]),
       st.integers(0, 20), st.integers(100, 600))
def test_mda_grid_in_angstrom(w_a, decimals, k0, n):
    centres = (k0 + 0.5 + np.arange(n)) * w_a
    r, tol = _printed(centres, decimals)
    b = infer_bins(r, tol, r_unit="A")
    assert b.width == pytest.approx(w_a / 10, abs=1e-15) and b.convention == "mda"
    np.testing.assert_allclose(b.edges, (k0 + np.arange(n + 1)) * w_a / 10, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.floats(0.001, 0.02), st.floats(0.1, 0.4), st.integers(100, 500))
def test_arbitrary_offset_is_centred(w, frac, n):
    centres = (frac + 7 + np.arange(n)) * w
    b = infer_bins(centres)
    assert b.convention == "centred" and b.width == pytest.approx(w, rel=1e-6)
    np.testing.assert_allclose(b.centres, centres, atol=1e-8)


def test_overrides_and_points():
    r = np.round(np.arange(300) * 0.0025, 3)
    assert infer_bins(r, 0.0005, bin_width=0.0025).width == 0.0025
    b = infer_bins(np.arange(100) * 0.05 + 0.025, r_unit="A", convention="mda")
    assert b.r_unit == "A" and b.width == pytest.approx(0.005)
    irregular = np.sort(np.random.default_rng(1).uniform(0, 1.6, 200))
    p = infer_bins(irregular)
    assert p.convention == "points" and p.edges is None and p.width is None
    with pytest.raises(InputError, match="r_unit"):
        infer_bins(r, r_unit="pm")
    with pytest.raises(InputError, match="not on a uniform grid"):
        infer_bins(irregular, convention="gmx")
    with pytest.raises(InputError, match="bin_width"):
        infer_bins(r, bin_width=-1.0)


def _histogram(edges: np.ndarray, f) -> np.ndarray:
    """Exact shell averages of g = f(r) over ``edges`` (fine quadrature)."""
    fine = np.linspace(0, edges[-1], 200001)
    gf = f(0.5 * (fine[1:] + fine[:-1]))
    return rebin(fine, gf, edges)[0]


def _g(r):
    r = np.maximum(r, 1e-3)
    return np.exp(-((0.33 / r) ** 12)) * (1 + 1.5 * np.exp(-((r - 0.38) / 0.03) ** 2)
                                         - 0.3 * np.exp(-((r - 0.5) / 0.05) ** 2))


@pytest.mark.parametrize("w", [0.001, 0.002, 0.0025, 0.005])
def test_fine_bins_rebinned_exactly(w):
    grid = model_grid()
    n = int(round(1.7 / w))
    b = infer_bins(np.round(np.arange(n) * w, 3), 0.0005)
    g = _histogram(b.edges, _g)
    out, _ = to_shells(b, g, grid)
    # what training data hold: shell averages over the model's bins
    # edges of 0.001 and 0.005 nm bins fall on the model's: exact; otherwise g is taken as
    # constant within each input bin, an error of order w g'
    aligned = w in (0.001, 0.005)
    np.testing.assert_allclose(out, _histogram(centered_edges(grid), _g),
                               atol=1e-6 if aligned else 5e-3)


@pytest.mark.parametrize("w", [0.01, 0.02])
def test_coarse_bins_conserve_pair_counts(w):
    grid = model_grid()
    b = infer_bins(np.arange(int(round(1.7 / w))) * w)
    g = _histogram(b.edges, _g)
    out, _ = to_shells(b, g, grid)
    step, _ = to_shells(b, g, grid, coarse="step")
    exact = _histogram(centered_edges(grid), _g)
    m = grid >= 0.25
    assert np.all(out[m] >= 0)
    # the smooth reconstruction is closer to the shell averages than the step function
    assert np.abs(out - exact)[m].mean() < np.abs(step - exact)[m].mean()
    # pair content over a stretch of whole coarse bins is conserved
    lo, hi = 0.25, 1.25  # both are coarse edges for w = 0.01 (mda-free gmx: 0.25 = 12.5 w)
    sel = (grid >= lo + 0.0025) & (grid <= hi - 0.0025)
    ce = centered_edges(grid)
    v = 4 / 3 * np.pi * np.diff(ce**3)
    fine_content = np.sum((out * v)[sel])
    ref_content = np.sum((exact * v)[sel])
    assert fine_content == pytest.approx(ref_content, rel=2e-3)


def test_error_column_carried(tmp_path):
    grid = model_grid()
    r = np.arange(0, 1.7, 0.0025)
    g = _histogram(centered_edges(r), _g)
    err = np.full_like(g, 0.01)
    p = tmp_path / "own.xvg"
    p.write_text('@ xaxis label "r (nm)"\n@ s0 legend "g(r)"\n@ s1 legend "std. error"\n'
                 + "".join(f"{a:.5f} {b:.6g} {c:.6g}\n" for a, b, c in zip(r, g, err)))
    inp = inspect_rdf(p)
    assert inp.err_column == 2 and inp.bins.width == 0.0025 and inp.bins.convention == "gmx"
    out, e = to_shells(inp.bins, inp.g, grid, inp.g_err)
    # a shell holds one 0.0025 nm bin and two halves (volume weights ~1/4, 1/2, 1/4)
    assert np.nanmedian(e[grid > 0.5]) == pytest.approx(0.01 * np.sqrt(0.375), rel=0.02)


def test_angstrom_is_never_guessed_from_the_data(tmp_path):
    """An MDAnalysis file in Angstrom without an axis label is read as nm unless r_unit says
    otherwise (the checks then refuse it with the fix); with r_unit="A" it is read right, and an
    .xvg axis label naming Angstrom is honoured."""
    from deepilst.checks import check_rdf

    r_a = (np.arange(150) + 0.5) * 0.1
    g = _histogram(np.arange(151) * 0.01, _g)
    p = tmp_path / "mda.dat"
    np.savetxt(p, np.column_stack([r_a, g]))
    inp = inspect_rdf(p)
    assert inp.bins.r_unit == "nm"
    with pytest.raises(InputError, match="Angstrom"):
        check_rdf(inp.bins.centres, inp.g, 300.0, 14.0, str(p))
    inp = inspect_rdf(p, r_unit="A")
    assert inp.bins.r_unit == "A" and inp.bins.convention == "mda"
    grid, out = load_rdf(p, r_unit="A")
    assert np.isfinite(out[-1]) and np.all(np.isfinite(out[grid >= 0.25]))
    lab = tmp_path / "mda.xvg"
    lab.write_text('@    xaxis  label "r (\u00c5)"\n' + "".join(f"{a} {b}\n" for a, b in zip(r_a, g)))
    assert inspect_rdf(lab).bins.r_unit == "A"


@pytest.mark.parametrize(("tool", "w"), [("gmx", 0.002), ("gmx", 0.02), ("mda", 0.005),
                                         ("mda", 0.01)])
def test_tool_bins_are_what_the_r_column_gives_back(tool, w):
    """tool_bins writes each tool's placement; infer_bins recovers it from r printed with
    three decimals (gmx rdf) or in Angstrom with six (MDAnalysis)."""
    b = tool_bins(tool, w)
    assert b.convention == tool and b.width == w and len(b.edges) == len(b.centres) + 1
    np.testing.assert_allclose(0.5 * (b.edges[1:] + b.edges[:-1])[1:], b.centres[1:], atol=1e-12)
    printed = np.round(b.centres, 3) if tool == "gmx" else np.round(10 * b.centres, 6)
    got = infer_bins(printed, tol=0.0005 if tool == "gmx" else 5e-7,
                     r_unit="nm" if tool == "gmx" else "A")
    assert got.convention == tool and got.width == pytest.approx(w)
    np.testing.assert_allclose(got.edges, b.edges, atol=1e-9)


def test_tool_bins_refuses_an_unknown_tool():
    with pytest.raises(InputError, match="tool must be"):
        tool_bins("vmd", 0.01)
