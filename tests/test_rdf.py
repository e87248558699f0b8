import math

import numpy as np
import pytest

from deepilst.rdf import (
    RDF,
    RDFAccumulator,
    centered_edges,
    eps_rdf,
    model_grid,
    rebin,
    shell_volumes,
)


def test_ideal_gas_is_one():
    rng = np.random.default_rng(0)
    n, box = 400, 3.0
    frames = rng.uniform(0, box, size=(200, n, 3))
    rdf = RDF(1.4, 0.05).compute(frames, box)
    g, e = rdf.rdf, rdf.rdf_error
    m = rdf.bin_centers > 0.3  # enough counts per bin
    z = (g[m] - 1.0) / e[m]
    assert abs(np.mean(g[m]) - 1.0) < 0.005
    assert np.mean(np.abs(z) < 3) > 0.95


def test_hand_counted_tiny_configuration():
    # 3 particles on a line in a 10 nm box: distances 1.0, 1.5, 2.5 nm
    box = 10.0
    pos = np.array([[1.0, 1.0, 1.0], [2.0, 1.0, 1.0], [3.5, 1.0, 1.0]])
    acc = RDFAccumulator(3, box, r_max=3.0, dr=0.5, n_blocks=2)
    acc.add_frame(pos, 0)
    acc.add_frame(pos, 1)
    # bins [0,.5) [.5,1) [1,1.5) [1.5,2) [2,2.5) [2.5,3): 1.0->bin 2, 1.5->bin 3, 2.5->bin 5
    assert acc.counts.sum(axis=0).tolist() == [0, 0, 2, 2, 0, 2]
    g, _ = acc.result()
    # g = count / (frames * N(N-1)/2 * V_shell / V)
    v = 4 / 3 * math.pi * (1.5**3 - 1.0**3)
    assert g[2] == pytest.approx(2 / (2 * 3 * v / box**3))


def test_energy_and_virial_of_a_pair():
    c12, c6 = 1e-5, 5e-3
    pos = np.array([[0.0, 0.0, 0.0], [0.4, 0.0, 0.0]])
    acc = RDFAccumulator(2, 5.0, r_max=2.0, dr=0.01, rc=1.0, c12=c12, c6=c6)
    u, w = acc.add_frame(pos)
    # distances are float32 inside the kernel: 1e-4 relative is ample (statistical errors of
    # energies are ~1e-3)
    assert u == pytest.approx(c12 / 0.4**12 - c6 / 0.4**6, rel=1e-4)
    assert w == pytest.approx(-12 * c12 / 0.4**12 + 6 * c6 / 0.4**6, rel=1e-4)
    # beyond the cutoff: nothing
    u, w = acc.add_frame(np.array([[0.0, 0, 0], [1.2, 0, 0]]))
    assert u == 0 and w == 0


def test_minimum_image():
    box = 2.0
    pos = np.array([[0.05, 0.0, 0.0], [1.93, 0.0, 0.0]])  # 0.12 nm apart through the boundary
    acc = RDFAccumulator(2, box, r_max=1.0, dr=0.05)
    acc.add_frame(pos)
    assert acc.counts.sum(axis=0)[2] == 1


def test_against_mdanalysis():
    """Our histogram against MDAnalysis InterRDF (Angstrom; self-pairs excluded with
    exclusion_block)."""
    mda = pytest.importorskip("MDAnalysis")
    from MDAnalysis.analysis.rdf import InterRDF

    rng = np.random.default_rng(1)
    n, box, nf = 300, 2.5, 20
    # a structured configuration: jittered simple cubic lattice
    k = int(round(n ** (1 / 3))) + 1
    grid = np.stack(np.meshgrid(*[np.arange(k)] * 3, indexing="ij"), -1).reshape(-1, 3)[:n]
    frames = np.array([(grid * box / k + rng.normal(0, 0.03, (n, 3))) % box for _ in range(nf)])
    u = mda.Universe.empty(n, trajectory=True)
    u.load_new(frames * 10.0, order="fac", dimensions=[box * 10] * 3 + [90] * 3)
    dr, rmax = 0.01, 1.2
    ref = InterRDF(u.atoms, u.atoms, nbins=int(rmax / dr), range=(0, rmax * 10),
                   exclusion_block=(1, 1)).run()
    ours = RDF(rmax, dr).compute(frames, box)
    # with exclusion_block=(1, 1) MDAnalysis 2.x also removes the self pairs from the
    # normalisation, so both count N(N-1) ordered pairs
    # (MDAnalysis computes in float32: a few pairs on bin edges land in the neighbour bin)
    np.testing.assert_allclose(ours.rdf, ref.results.rdf, rtol=2e-3, atol=1e-9)
    assert np.sum(ours.rdf * shell_volumes(np.arange(121) * dr)) == pytest.approx(
        np.sum(ref.results.rdf * shell_volumes(np.arange(121) * dr)), rel=1e-6)
    np.testing.assert_allclose(ours.bin_centers, ref.results.bins / 10, atol=1e-9)


def test_rebin_conserves_pairs_and_maps_model_grid():
    rng = np.random.default_rng(2)
    fine = np.arange(0, 1601) * 0.0005
    g = 1 + 0.3 * rng.standard_normal(1600)
    r = model_grid()[:150]
    e = centered_edges(r)
    out, _ = rebin(fine, g, e)
    # content conservation over the whole covered range
    tot_fine = np.sum(g[: int(round(e[-1] / 0.0005))] * shell_volumes(fine[: int(round(e[-1] / 0.0005)) + 1]))
    assert np.sum(out * shell_volumes(e)) == pytest.approx(tot_fine, rel=1e-10)
    # beyond the fine range -> NaN
    out2, _ = rebin(fine, g, np.array([0.7, 0.79, 0.81]))
    assert np.isfinite(out2[0]) and np.isnan(out2[1])


def test_eps_rdf():
    r = np.linspace(0, 1.5, 301)
    g = 1 + np.exp(-((r - 0.4) / 0.05) ** 2)
    assert eps_rdf(r, g, g) == 0.0
    assert eps_rdf(r, 1.01 * g, g) == pytest.approx(0.01, rel=1e-9)


def test_results_raise_before_compute():
    with pytest.raises(AttributeError):
        RDF(1.0).rdf
