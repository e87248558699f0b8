"""Error maps (deepilst.maps): shell integrals, the eps_KL gradient against eq. A.6 with a real
CG g(r), the KL minimum of an LJ fluid at its true parameters, a 10 x 10 map, the command."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deepilst.fit.objectives import re_gradient
from deepilst.fit.target import Target
from deepilst.freeenergy import LJFreeEnergy
from deepilst.maps.kl import ShellIntegrals, re_gradient_ts, relative_entropy, target_integrals
from deepilst.rdf import centered_edges, model_grid

ROOT = Path(__file__).resolve().parents[1]
CH4 = ROOT / "examples" / "ch4_gromos_345K_13.7nm3.xvg"
CH4_TRUE = (3.4363044e-5, 1.317904e-2)  # GROMOS CH4, the example's parameters
CG_FIXTURE = ROOT / "tests" / "data" / "maps_cg_lj_345K_13.7nm3.xvg"
CG_PARAMS = (3.4870691814e-05, 1.2711971215e-02)  # in the fixture's header
sys.path.insert(0, str(Path(__file__).parent))
from maps_doubles import DiluteForward  # noqa: E402


@pytest.fixture(scope="module")
def fe():
    return LJFreeEnergy.load()


@pytest.fixture(scope="module")
def ch4():
    return Target.from_file(CH4, 345.0, 13.7)


def test_shell_integrals_equal_brute_force():
    """Histogram integrals of g r^p r^2 dr (p = -12, -6, 0) up to x, inside a shell, on an edge
    and beyond the data (g = 1 there), against fine midpoint sums."""
    r = model_grid()
    g = np.where(r < 0.3, 0.0, 1.0 + 0.5 * np.sin(20 * r) * np.exp(-(r - 0.3)))
    g[r > 1.2] = np.nan
    s = ShellIntegrals(centered_edges(r), g, refine=1)
    e = centered_edges(r)
    pieces = [(lo, hi, gk) for lo, hi, gk in zip(e[:-1], e[1:], np.nan_to_num(g)) if hi <= s.r_end]
    pieces.append((s.r_end, 2.0, 1.0))  # g = 1 beyond the data
    for x in (0.5, float(e[150]), 1.1234, 1.4):
        brute = np.zeros(3)
        for lo, hi, gk in pieces:
            if lo >= x or gk == 0:
                continue
            f = np.linspace(lo, min(hi, x), 2001)
            mid, step = 0.5 * (f[1:] + f[:-1]), f[1] - f[0]
            brute += [gk * np.sum(mid ** (p + 2)) * step for p in (-12, -6, 0)]
        assert np.allclose(s(x), brute, rtol=1e-6)


def test_refined_shells_keep_every_shells_pair_count(ch4):
    """Sub-shells (PCHIP of the cumulative pair content) change where inside a shell the pairs
    sit, never how many: I_0 at every shell edge is unchanged; on the core, I_-12 drops (g
    rises across a shell, so its pairs sit at its far side)."""
    e = centered_edges(ch4.r)
    a, b = ShellIntegrals(e, ch4.g, refine=1), ShellIntegrals(e, ch4.g, refine=10)
    x = e[1:250]
    assert np.allclose(a(x)[2], b(x)[2], rtol=1e-12, atol=1e-15)
    assert 0.995 < b(1.1)[0] / a(1.1)[0] < 0.9995


def test_kl_gradient_equals_eq_a6_with_a_real_cg_run(ch4, fe):
    """Finite differences of eps_KL at lambda_1 (the fixture's LJ parameters) equal eq. A.6 with
    the MD g(r) of lambda_1, per particle, within 3 of its standard errors (fit.objectives'
    moving-cutoff form and the truncated-shifted form agree to 1e-3 of that)."""
    from deepilst.xvg import read_xvg

    data, _ = read_xvg(CG_FIXTURE)
    x, g_cg, e_cg = data.T
    c = np.array(CG_PARAMS)
    h = 1e-4 * c
    f = lambda a, b: float(relative_entropy(ch4, a, b, fe)[0])  # noqa: E731
    fd = np.array([(f(c[0] + h[0], c[1]) - f(c[0] - h[0], c[1])) / (2 * h[0]),
                   (f(c[0], c[1] + h[1]) - f(c[0], c[1] - h[1])) / (2 * h[1])])
    n = 1000
    a6, a6_err = re_gradient(ch4.r, ch4.g, ch4.g_err, g_cg, e_cg, 345.0, 13.7, n, *c)
    a6, a6_err = a6 / n, a6_err / n
    ts = re_gradient_ts(target_integrals(ch4), ShellIntegrals(centered_edges(x), g_cg), 345.0, 13.7, *c)
    assert np.all(np.abs(ts - a6) < 0.05 * a6_err)
    assert np.all(np.abs(fd - a6) < 3 * a6_err), (fd * c, a6 * c, a6_err * c)
    assert np.all(np.abs(fd * c) > 5 * a6_err * c)  # the gradient there is not zero


def test_kl_minimum_of_an_lj_fluid_is_its_true_potential(ch4, fe):
    """The example is an LJ fluid: relative entropy is minimal at its own C12, C6, within the
    spread the target's statistical noise gives (redraws of g within g_err)."""
    from deepilst.maps import ErrorMaps

    m = ErrorMaps(ch4, np.geomspace(2.4e-5, 4.8e-5, 15), np.geomspace(0.009, 0.018, 15), None, fe,
                  kl_draws=6).compute()
    k = m.kl_min
    assert k["value"] == 0.0 and np.nanmin(m.eps_kl) >= -1e-9
    for key, true in zip(("C12", "C6"), CH4_TRUE):
        assert abs(k[key] - true) < 3 * k[key + "_std"] + 0.003 * true, (key, k[key], k[key + "_std"])


def test_eps_rdf_scorer_equals_eq_7(ch4):
    from deepilst.maps.core import RDFScorer
    from deepilst.rdf import eps_rdf

    fw = DiluteForward()
    sc = RDFScorer(ch4, fw)
    c12, c6 = np.array([3e-5, 5e-5]), np.array([0.012, 0.009])
    got = sc(c12, c6)
    for i in range(2):
        g = fw.shell_average(sc.edges, 345.0, 13.7, c12[i], c6[i])[0]
        assert got[i] == pytest.approx(eps_rdf(sc.r, g, sc.g), rel=1e-10)


def test_ten_by_ten_map(tmp_path, fe):
    from deepilst.maps import error_maps, save

    m = error_maps(CH4, 345.0, 13.7, n=10, forward=DiluteForward(), free_energy=fe, kl_draws=3)
    assert m.eps_rdf.shape == m.eps_kl.shape == (10, 10)
    assert np.isnan(m.eps_rdf[m.T_reduced <= 1.0]).all()  # the double's domain
    assert np.isnan(m.eps_kl[~fe.covers(m.T_reduced, m.rho_reduced)]).all()
    doc = save(m, tmp_path / "out")
    for name in ("eps_rdf.png", "eps_kl.png", "maps.npz", "maps.json"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    text = (tmp_path / "out" / "maps.json").read_text()
    assert "NaN" not in text and json.loads(text) == doc
    for key in ("rdf_min", "kl_min"):
        assert {"C12", "C6", "value", "T_reduced", "basin"} <= set(doc[key])
        assert m.c12[0] <= doc[key]["C12"] <= m.c12[-1] and m.c6[0] <= doc[key]["C6"] <= m.c6[-1]
    assert doc["rdf_min"]["value"] <= np.nanmin(m.eps_rdf) + 1e-12
    assert {"C12", "C6", "eps_rdf", "eps_KL", "T_reduced"} <= set(doc["network"])
    assert doc["units"]["eps_KL"].startswith("kB T") and doc["units"]["eps_rdf"] == "fraction"
    assert 0 < doc["domain"]["eps_rdf_covered_fraction"] <= 1 and doc["timing"]["total_s"] > 0
    assert m.plot("kl").get_xscale() == "log"
    with np.load(tmp_path / "out" / "maps.npz") as z:
        assert np.array_equal(z["C12"], m.c12) and np.allclose(z["eps_KL"], m.eps_kl, equal_nan=True)


def run(args, tmp_path):
    """The command, with the shipped forward model replaced by the test double."""
    here = str(Path(__file__).parent)
    code = (f"import sys; sys.path.insert(0, {here!r}); from maps_doubles import DiluteForward; "
            "import deepilst.maps.run as r; r.load_forward = lambda: DiluteForward(); "
            "from deepilst.cli import main; sys.exit(main(sys.argv[1:]))")
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=300, env=dict(os.environ), cwd=tmp_path)


def test_command_text_and_json(tmp_path):
    r = run(["maps", str(CH4), "-T", "345", "-d", "13.7", "--n", "8", "--kl-draws", "0",
             "--scale", "linear", "--out", str(tmp_path / "t")], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "eps_KL minimum" in r.stdout and "network" in r.stdout and "maps.npz" in r.stdout
    r = run(["maps", str(CH4), "-T", "345", "-d", "13.7", "--n", "10", "--kl-draws", "2",
             "--out", str(tmp_path / "o"), "--format", "json"], tmp_path)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert {"rdf_min", "kl_min", "network", "units", "domain", "timing", "files"} <= set(d)
    assert all(k in d["rdf_min"] for k in ("C12", "C6", "value"))
    assert math.isfinite(d["network"]["C12"]) and (tmp_path / "o" / d["files"]["npz"]).exists()


@pytest.mark.parametrize("args,word", [
    (["--c12-range", "1e-5"], "C12 range"),
    (["--c12-range", "2e-5,1e-5"], "C12 range"),
    (["--c6-range", "a,b"], "C6 range"),
    (["--c6-range", "0,1e-2"], "C6 range"),
    (["--n", "2"], "n (points"),
    (["-T", "-3"], "temperature"),
])
def test_command_bad_input_is_one_line(tmp_path, args, word):
    base = {"-T": "345", "-d": "13.7"}
    for i in range(0, len(args) - 1, 2):
        base.pop(args[i], None)
    flat = [x for kv in base.items() for x in kv]
    out = tmp_path / "o"
    r = run(["maps", str(CH4), *flat, *args, "--out", str(out)], tmp_path)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith("error:"), r.stderr
    assert word in r.stderr and not out.exists() and r.stdout == ""


def test_command_missing_file(tmp_path):
    r = run(["maps", str(tmp_path / "none.xvg"), "-T", "345", "-d", "13.7", "--out",
             str(tmp_path / "o")], tmp_path)
    assert r.returncode == 2 and "none.xvg" in r.stderr and not (tmp_path / "o").exists()


def test_eps_rdf_minimum_of_an_lj_fluid_is_its_true_potential(ch4):
    """With the shipped forward model: the eps_rdf map of the LJ example is lowest at its own
    C12, C6 (within 2 % / 4 %; the forward model and the example's noise), and that minimum is
    a local one in the physical basin."""
    from deepilst.maps import ErrorMaps
    from deepilst.maps.run import load_forward

    m = ErrorMaps(ch4, np.geomspace(2.4e-5, 4.8e-5, 12), np.geomspace(0.009, 0.018, 12), load_forward(),
                  None).compute()
    best = m.rdf_minima["physical"]
    assert best["local"] and m.rdf_minima["soft"] is None and best["value"] < 0.005
    assert abs(best["C12"] / CH4_TRUE[0] - 1) < 0.02 and abs(best["C6"] / CH4_TRUE[1] - 1) < 0.04


def test_refine_minimum_survives_a_search_that_wanders_off():
    """A function that raises or is infinite where C6 underflows (the KL polish of the C2H6 COM
    target went there) only makes those points worse; the finite minimum is still found."""
    from deepilst.maps.grid import refine_minimum

    def f(c12, c6):
        if c6 < 1e-300:
            raise ZeroDivisionError
        return (np.log(c12 / 2e-5)) ** 2 + (np.log(c6 / 8e-3)) ** 2

    c12, c6, v = refine_minimum(f, 2.2e-5, 7e-3)
    assert c12 == pytest.approx(2e-5, rel=1e-3) and c6 == pytest.approx(8e-3, rel=1e-3)
    assert refine_minimum(lambda a, b: 1.0 / 0.0 if b < 1 else b, 1e-5, 5.0)[2] >= 1.0


def test_polish_stays_inside_the_map_its_domain_and_its_basin(ch4):
    """A basin's minimum on the basin's edge (the valley continues into the other basin) is
    polished along that edge, never evaluating the model outside the mesh's box, the model's
    domain or the basin; an unbounded polish walked into the physical basin and was thrown
    away, leaving the mesh point."""
    from deepilst.fit.cgmd import basin
    from deepilst.maps import ErrorMaps
    from deepilst.units import reduced_state

    fwd = DiluteForward(t_min=2.0)
    m = ErrorMaps(ch4, np.geomspace(1.5e-5, 6e-5, 15), np.geomspace(0.004, 0.02, 15), fwd,
                  None).compute()
    seen = []

    def spy(c12, c6):
        seen.append((c12, c6))
        return m.rdf_at(c12, c6)

    for want in ("soft", "physical"):
        seen.clear()
        p = m._polished(m._eps_rdf, m._rdf_covered, spy, fwd.covers, want)
        assert p["basin"] == want and p["value"] <= p["grid"]["value"] and seen
        for c12, c6 in seen:
            t_red, r_red = reduced_state(345.0, 13.7, c12, c6)
            assert m.c12[0] * (1 - 1e-9) <= c12 <= m.c12[-1] * (1 + 1e-9)
            assert m.c6[0] * (1 - 1e-9) <= c6 <= m.c6[-1] * (1 + 1e-9)
            assert fwd.covers(t_red, r_red) and basin(t_red) == want
    soft = m.rdf_minima["soft"]
    assert not soft["local"] and soft["value"] < soft["grid"]["value"]  # polished along T* = 8
