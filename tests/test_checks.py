"""Input sanity checks: each real mistake, made from a committed RDF, is refused with its fix;
no committed RDF is refused."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from deepilst.checks import X1_MAX, X1_MIN, check_rdf, plausibility_warnings, required_r_max
from deepilst.errors import InputError

DATA = Path(__file__).resolve().parents[1] / "data"
FILES = ("v1_train", "v1_test", "v1_test_2runs", "v1_transfer", "v1_argon")
needs_data = pytest.mark.skipif(not all((DATA / f"{f}.h5").exists() for f in FILES),
                                reason="committed datasets missing")


def _sims(name: str):
    """(r [nm], g per simulation, T [K], rho [nm^-3], phase) of a committed dataset."""
    from deepilst.dataset import open_dataset

    with open_dataset(DATA / f"{name}.h5") as h:
        s = h["sims"]
        return (h["r"][:], s["g"][:], s["T"][:], s["rho"][:],
                np.array([x.decode() for x in s["phase"][:]]))


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """A real RDF as a user has it: exported to .xvg and read back (r [nm], g, T, rho)."""
    from deepilst.dataset import export_xvg, get_sample
    from deepilst.rdfio import read_rdf

    path = tmp_path_factory.mktemp("rdf") / "argon.xvg"
    export_xvg(DATA / "v1_argon.h5", 60, path)
    s = get_sample(DATA / "v1_argon.h5", 60)
    r, g = read_rdf(path)
    return r, g, s.temperature, s.density


def _refused(r, g, T, rho, *words, **kw) -> str:
    with pytest.raises(InputError) as exc:
        check_rdf(r, g, T, rho, "user.xvg", **kw)
    msg = str(exc.value)
    assert msg.startswith("user.xvg: ") and "\n" not in msg
    for w in words:
        assert w in msg, msg
    return msg


@needs_data
def test_no_committed_rdf_is_refused():
    """Every simulated state of every committed dataset passes, fluid or not (the calibration
    ran on all 58 000 expanded samples as well: none refused), and reaches what the ensemble
    reads wherever x = 3 lies inside 1.5 nm."""
    for name in FILES:
        r, g, T, rho, phase = _sims(name)
        for i in range(len(g)):
            need = 3.0 / rho[i] ** (1 / 3)
            c = check_rdf(r, g[i], T[i], rho[i], name, r_max_read=need if need <= 1.5 else None)
            assert X1_MIN < c.x_peak < X1_MAX
        assert len(phase) == len(g)


@needs_data
def test_self_pair_spike_is_refused(sample):
    """MDAnalysis InterRDF without exclusion_block: bins of 0.02 nm centred at 0.01, 0.03, ...;
    the N self pairs land in the first bin as g = 1 / (rho V_shell)."""
    r, g, T, rho = sample
    rc = np.arange(0.01, 1.5, 0.02)
    gc = np.interp(rc, r, g)
    gc[0] += 1.0 / (rho * 4 / 3 * math.pi * 0.02**3)
    assert gc[0] > 1000
    _refused(rc, gc, T, rho, "self-pair", "exclusion_block=(1, 1)", "0.01 nm")
    check_rdf(rc[1:], gc[1:], T, rho)  # dropping the bin is the other fix


@needs_data
def test_r_in_angstrom_is_refused(sample):
    r, g, T, rho = sample
    _refused(10 * r, g, T, rho, "Angstrom", "r_unit='A' (--r-unit A)")


@needs_data
def test_unnormalised_rdfs_are_refused(sample):
    r, g, T, rho = sample
    # gmx rdf -norm number_density: pairs per shell volume, the tail approaches rho
    _refused(r, g * rho, T, rho, "not normalised", "number_density", "divide by it")
    # gmx rdf -norm none: pairs per shell (bin 0.002 nm), growing like r^2
    fine = np.arange(0.001, 1.5, 0.002)
    counts = 4 * math.pi * fine**2 * 0.002 * rho * np.interp(fine, r, g)
    _refused(fine, counts, T, rho, "not normalised", "grows like r^", "-norm rdf")
    # the same counts with a bin width that puts their tail near 1: the growth still shows
    _refused(fine, counts * 1.0 / counts[-1], T, rho, "not normalised", "grows like r^")


@needs_data
def test_coordination_number_file_is_refused(sample):
    """gmx rdf -cn: the running coordination number 4 pi rho int g r^2 dr."""
    r, g, T, rho = sample
    f = 4 * math.pi * rho * g * r**2
    cn = np.concatenate([[0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(r))])
    _refused(r, cn, T, rho, "coordination number", "-cn")


@needs_data
@pytest.mark.parametrize("factor", [1e3, 1e-3])
def test_density_off_by_a_thousand_is_refused(sample, factor):
    r, g, T, rho = sample
    msg = _refused(r, g, T, rho * factor, "density", "per nm^3", "mean spacings")
    lo, hi = (float(v) for v in msg.split("i.e. ")[1].split(" nm^-3")[0].split("-"))
    assert lo < rho < hi  # the range it suggests holds the right density


@needs_data
def test_temperature_checks(sample):
    r, g, T, rho = sample
    _refused(r, g, 0.5, rho, "temperature = 0.5 K", "kelvin")
    # Celsius: argon-like structure at 345 K passed as 72 (C): epsilon/kB = 72 / T* is tiny
    t_red = 345 / 120.0
    assert any("Celsius" in w for w in plausibility_warnings(72.0, t_red))
    assert plausibility_warnings(345.0, t_red) == []
    assert plausibility_warnings(85.0, 85 / 120.0) == []  # real liquid argon stays quiet


@needs_data
def test_range_accepts_what_the_model_reads_and_refuses_less(sample):
    from deepilst.predict import load_model

    r, g, T, _ = sample
    ens, paper = load_model("ensemble"), load_model("paper")
    assert required_r_max(ens, 17.0) == pytest.approx(3.0 / 17 ** (1 / 3)) == pytest.approx(1.1667, abs=1e-4)
    assert required_r_max(ens, 2.0) == pytest.approx(2.381, abs=1e-3)
    assert required_r_max(paper, 17.0) == 1.5
    need = required_r_max(ens, 17.0)
    keep = r <= 1.17
    c = check_rdf(r[keep], g[keep], T, 17.0, r_max_read=need)  # ends at 1.17 nm: accepted
    assert c.r_max_read == need and c.r_max_input == pytest.approx(1.17)
    keep = r <= 0.9
    _refused(r[keep], g[keep], T, 17.0, "covers 0-0.9 nm", "up to r = 1.167", r_max_read=need)
    # starting inside the core is fine; starting where g > 0 is not
    check_rdf(r[r >= 0.27], g[r >= 0.27], T, 17.0, r_max_read=need)
    _refused(r[r >= 0.4], g[r >= 0.4], T, 17.0, "starts at 0.4", r_max_read=need)


def test_structureless_input_is_refused():
    r = np.arange(0, 1.6, 0.01)
    _refused(r, np.ones_like(r), 330.0, 16.5, "no excluded core", "not the g(r) of a fluid")
