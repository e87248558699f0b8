"""gmx rdf divides pair counts by N^2, deepilst and MDAnalysis (exclusion_block) by N(N-1): a
gmx self-RDF is put on N(N-1) before the model reads it (tests/data/README.md: the gmx and
MDAnalysis files of one 300-ps GROMACS run, N = 1000)."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepilst.rdfio import gmx_rdf_header, inspect_rdf, shells_of

DATA = Path(__file__).parent / "data"
GMX = DATA / "gmx_rdf_default_rmax_bin0.005.xvg"
MDA = DATA / "mda_rdf_same_run_bin0.005.dat"
RMAX = DATA / "argon_gmx_rdf_bin0.002.xvg"  # made with -rmax 1.6
T, RHO, C12, C6 = 396.4024805570745, 9.337636941813813, 2.619464202442243e-05, 9.152969056783847e-03


@pytest.fixture(scope="module")
def grid():
    from deepilst.rdf import model_grid

    return model_grid()


def _tail_ratio(grid, a, b):
    sel = (grid >= 0.45) & (grid < 1.5)
    return float(np.mean(shells_of(a, grid)[0][sel] / shells_of(b, grid)[0][sel]))


def test_header_read():
    h = gmx_rdf_header(GMX.read_text())
    assert h["reference"] == "name LJ" and h["legends"] == ["name LJ"]
    assert h["rmax"] is None and h["norm"] == "rdf" and not h["xy"] and not h["surf"]
    assert gmx_rdf_header(RMAX.read_text())["rmax"] == pytest.approx(1.6)
    assert gmx_rdf_header(MDA.read_text()) is None


def test_gmx_file_put_on_n_n_minus_1(grid):
    """Uncorrected, gmx's g is (N-1)/N of MDAnalysis' on the same frames; corrected, equal."""
    mda = inspect_rdf(MDA, r_unit="A")
    raw = inspect_rdf(GMX)
    assert raw.describe()["normalisation"]["corrected"].startswith("no: N unknown (no density")
    assert _tail_ratio(grid, raw, mda) == pytest.approx(0.999, abs=1e-4)
    fixed = inspect_rdf(GMX, density=RHO)
    note = fixed.describe()["normalisation"]
    assert note["corrected"].startswith("yes") and abs(note["n_particles"] - 1000) <= 10
    assert _tail_ratio(grid, fixed, mda) == pytest.approx(1.0, abs=1e-4)  # g has 3 decimals
    assert mda.normalisation is None


def test_rmax_file_needs_n(grid):
    """With -rmax the box is unknown: N as stated, else left as it is and said so."""
    note = inspect_rdf(RMAX, density=13.7).normalisation
    assert note["corrected"].startswith("no: N unknown (-rmax") and "--n-particles" in note["corrected"]
    a = inspect_rdf(RMAX, density=13.7, n_particles=1000)
    assert a.normalisation["factor"] == pytest.approx(1000 / 999)
    b = inspect_rdf(RMAX)
    assert np.allclose(a.g, b.g * 1000 / 999)


def test_cross_rdf_not_corrected(tmp_path):
    """Different reference and selection: N_ref N_sel is the right count; nothing to do."""
    text = GMX.read_text().replace('@ s0 legend "name LJ"', '@ s0 legend "name OW"')
    f = tmp_path / "cross.xvg"
    f.write_text(text)
    a = inspect_rdf(f, density=RHO)
    assert a.normalisation["corrected"].startswith("no: not a 3-d self-RDF")
    assert np.array_equal(a.g, inspect_rdf(GMX).g)


def test_predictions_agree_across_tools(grid):
    """The same frames through gmx rdf and MDAnalysis give nearer answers once gmx's g is put
    on N(N-1) (benchmarks/binning.py, ten states: the fine-width spread over both tools fell
    from 0.52 / 0.85 % to 0.24 / 0.27 %, C12 / C6)."""
    from deepilst.predict import load_model, predict_file

    model = load_model("ensemble")
    gs = [shells_of(x, grid)[0] for x in (inspect_rdf(MDA, r_unit="A"), inspect_rdf(GMX),
                                          inspect_rdf(GMX, density=RHO))]
    res = model.predict(np.array(gs), T, RHO)
    for k in ("C12", "C6"):
        before, after = (abs(res[k][i] / res[k][0] - 1) for i in (1, 2))
        assert after < 0.7 * before, (k, before, after)
    assert abs(res["C12"][2] / res["C12"][0] - 1) < 0.003
    assert abs(res["C6"][2] / res["C6"][0] - 1) < 0.005
    d = predict_file(GMX, T, RHO, thermo=False)
    assert d["input_bins"]["normalisation"]["corrected"].startswith("yes")
    assert d["C12"] == pytest.approx(res["C12"][2], rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60),
                max_size=12))
def test_header_parser_never_raises(lines):
    """Any '#'/'@' header: a dict or None, never an exception (quotes unbalanced, options
    without values)."""
    text = "\n".join(["# :-) GROMACS - gmx rdf, 2022 (-:", "# Command line:"]
                     + ["#" + s for s in lines] + ['@ subtitle "reference ' + "".join(lines)[:9]])
    h = gmx_rdf_header(text)
    assert h is not None and h["norm"] and isinstance(h["legends"], list)
