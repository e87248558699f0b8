from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from deepilst.rdfio import RDFInputError, load_rdf, read_rdf, to_model_grid

DATA = Path(__file__).parent / "data"


def test_real_gmx_rdf():
    r, g = load_rdf(DATA / "gmx_rdf_argon.xvg")
    assert len(r) == 301 and np.all(np.isfinite(g))
    k = np.argmax(g)
    assert 0.35 < r[k] < 0.40 and 1.3 < g[k] < 2.0
    assert abs(np.mean(g[r > 1.2]) - 1) < 0.02


def test_repeated_r_are_averaged():
    r, g = read_rdf(DATA / "gmx_rdf_argon_repeated_r.xvg")
    assert np.all(np.diff(r) > 0)
    raw = np.loadtxt(DATA / "gmx_rdf_argon_repeated_r.xvg", comments=["#", "@"])
    assert len(r) < len(raw)
    at = raw[np.isclose(raw[:, 0], 0.37)][:, 1]
    assert g[np.isclose(r, 0.37)][0] == pytest.approx(at.mean())
    # the same trajectory binned at 0.002 nm gives the same curve on the model grid
    _, g1 = load_rdf(DATA / "gmx_rdf_argon_repeated_r.xvg")
    _, g2 = load_rdf(DATA / "gmx_rdf_argon.xvg")
    m = np.arange(301) * 0.005 > 0.3
    assert np.mean(np.abs(g1[m] - g2[m])) < 0.05


def test_votca_csv_and_plain(tmp_path):
    r = np.linspace(0, 1.6, 161)
    g = 1 + 0.5 * np.exp(-((r - 0.4) / 0.05) ** 2)
    (tmp_path / "a.dist.tgt").write_text("".join(f"{a:.4f} {b:.6f} i\n" for a, b in zip(r, g)))
    (tmp_path / "a.csv").write_text("r,g\n" + "".join(f"{a},{b}\n" for a, b in zip(r, g)))
    (tmp_path / "a.dat").write_text("".join(f"{a}\t{b}\t{2 * b}\n" for a, b in zip(r, g)))
    for name in ("a.dist.tgt", "a.csv", "a.dat"):
        rr, gg = read_rdf(tmp_path / name)
        np.testing.assert_allclose(gg, g, atol=1e-6)
    _, g2 = read_rdf(tmp_path / "a.dat", column=2)
    np.testing.assert_allclose(g2, 2 * g, atol=1e-6)


@pytest.mark.parametrize("text,match", [
    ("0 1\n0.1 x\n0.2 1\n0.3 1\n", "line 2"),
    ("0 1\n0.1 -1\n0.2 1\n", "negative g"),
    ("0 1\n0.1 nan\n0.2 1\n", "non-finite"),
    ("0 1 2\n0.1 1\n0.2 1\n", "columns"),
    ("# nothing\n", "no RDF data"),
])
def test_malformed(tmp_path, text, match):
    p = tmp_path / "bad.xvg"
    p.write_text(text)
    with pytest.raises(RDFInputError, match=match):
        read_rdf(p)


def test_coverage_column_and_missing(tmp_path):
    p = tmp_path / "short.xvg"
    r = np.linspace(0.3, 1.0, 50)
    p.write_text("".join(f"{a} 1.0\n" for a in r))
    with pytest.raises(RDFInputError, match="needs 0.25-1.5"):
        load_rdf(p)
    with pytest.raises(RDFInputError, match="column 3"):
        read_rdf(p, column=3)
    with pytest.raises(RDFInputError, match="cannot read"):
        read_rdf(tmp_path / "missing.xvg")


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, st.integers(10, 80), elements=st.floats(0, 10, allow_nan=False)))
def test_csv_round_trip_and_grid(tmp_path_factory, g):
    p = tmp_path_factory.mktemp("h") / "g.csv"
    r = np.linspace(0.0, 1.6, len(g))
    p.write_text("r,g\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(r, g)))
    rr, gg = read_rdf(p)
    np.testing.assert_array_equal(rr, r)
    np.testing.assert_array_equal(gg, g)
    out = to_model_grid(rr, gg)
    assert np.all(np.isfinite(out)) and out.min() >= g.min() - 1e-12 and out.max() <= g.max() + 1e-12
