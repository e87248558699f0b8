"""VOTCA-CSG baselines (deepilst.fit.votca): setup, reading VOTCA's steps, and real tiny runs.

The real runs need csg_inverse (VOTCA-CSG 2022.1), gnuplot and gmx; they are skipped with the
apt-get fix when absent (CI installs them). Known answer: an LJ target made by a short CG run
of argon's parameters; the simplex started there must not leave the truth by more than noise,
relative entropy started 20 % off in C12 must move toward it or report its divergence.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from deepilst.errors import EngineUnavailable, ParameterError
from deepilst.fit import CGEvaluator, CGProtocol, Target
from deepilst.fit.votca import VotcaOptions, votca_fit
from deepilst.fit.votca_io import read_history, votca_failure
from deepilst.fit.votca_setup import VOTCA_KB, target_on_grid, votca_grid, write_inputs
from deepilst.rdf import model_grid
from deepilst.units import ARGON_C6, ARGON_C12, ARGON_MASS, sigma_epsilon
from tests.conftest import needs_gmx

HAS_VOTCA = all(shutil.which(p) for p in ("csg_inverse", "gnuplot"))
needs_votca = pytest.mark.skipif(not HAS_VOTCA, reason="VOTCA-CSG or gnuplot not on PATH: "
                                 "apt-get install votca gnuplot-nox")
T, RHO, N = 345.0, 13.7, 300
TINY = dict(prod_ps=8.0, equil_ps=2.0, n_particles=N, seed=5)


def _lj_target(r: np.ndarray | None = None) -> Target:
    """A smooth, LJ-like g(r) on the model grid (no MD): zero core, a peak, decaying wiggles."""
    r = model_grid() if r is None else r
    x = r / 0.34
    g = np.where(x < 0.9, 0.0, 1.0 + 1.6 * np.exp(-(x - 1.12) ** 2 / 0.02) * (x > 0.9)
                 + 0.3 * np.sin(6.0 * (x - 1.4)) * np.exp(-(x - 1.0)) * (x > 1.3))
    g = np.where((x >= 0.9) & (x < 1.0), g * (x - 0.9) / 0.1, g)
    return Target(r, g, np.full_like(g, 0.01), T, RHO, ARGON_MASS, "lj")


def test_grid_and_target_on_votca_grid():
    t = _lj_target()
    o = VotcaOptions()
    box = (N / RHO) ** (1 / 3)
    lo, hi, step = votca_grid(t, box, o)
    assert step == 0.01 and hi <= 0.5 * box - 0.1 + 1e-9 and hi <= 1.5
    assert lo < float(t.r[np.argmax(t.g > 1e-3)]) and lo >= 0.01
    r, g = target_on_grid(t, lo, hi, step)
    assert np.allclose(np.diff(r), step) and r[0] == pytest.approx(lo) and r[-1] == pytest.approx(hi)
    # VOTCA's bin i covers [r_i - step/2, r_i + step/2]: pair content conserved bin by bin
    fine = np.linspace(0.0, 1.5, 150001)
    gf = np.interp(fine, t.r, t.g)
    i = int(np.argmax(g))
    m = (fine >= r[i] - step / 2) & (fine < r[i] + step / 2)
    want = np.sum(gf[m] * fine[m] ** 2) / np.sum(fine[m] ** 2)
    assert g[i] == pytest.approx(want, rel=0.02)
    with pytest.raises(ParameterError, match="too short"):
        votca_grid(t, 0.8, o)


def test_write_inputs_fill_every_placeholder(tmp_path):
    t = _lj_target()
    o = VotcaOptions(iterations=4, **{k: v for k, v in TINY.items() if k != "n_particles"})
    for method in ("re", "simplex"):
        d = tmp_path / method
        setup = write_inputs(d, t, method, (ARGON_C12, ARGON_C6), N, o)
        for f in ("settings.xml", "grompp.mdp", "conf.gro", "index.ndx", "target.xvg", "run.sh",
                  "topol.top.tmpl", "scripts/run_gromacs_lj.sh", "scripts/csg_table"):
            assert (d / f).is_file(), f
        settings, mdp = (d / "settings.xml").read_text(), (d / "grompp.mdp").read_text()
        assert "@" not in settings and "@" not in mdp
        assert "cutoff-scheme            = Verlet" in mdp and "rlist" in mdp
        assert f"<kBT>{VOTCA_KB * T:.8f}</kBT>" in settings  # what run_gromacs.sh checks
        assert "<iterations_max>4</iterations_max>" in settings
        assert "<tasks>1</tasks>" in settings and "-nt 1" in settings
        top = (d / "topol.top.tmpl").read_text()
        assert "@C6@  @C12@" in top and f"CG  {N}" in top
        ndx = [int(x) for ln in (d / "index.ndx").read_text().splitlines()[1:] for x in ln.split()]
        assert ndx == list(range(1, N + 1))
        assert len((d / "conf.gro").read_text().splitlines()) == N + 3
        assert setup["n_particles"] == N and setup["rc"] == setup["max"]
    assert (tmp_path / "re" / "CG-CG.param.init").read_text().split()[1] == f"{ARGON_C12:.8e}"
    rows = [ln.split() for ln in (tmp_path / "simplex" / "CG-CG.simplex.in").read_text().splitlines()]
    s, e = sigma_epsilon(ARGON_C12, ARGON_C6)
    assert len(rows) == 3 and float(rows[0][0]) == pytest.approx(s, abs=1e-6)
    assert float(rows[2][1]) == pytest.approx(1.2 * e, abs=1e-6)


def _step(d: Path, k: int, files: dict[str, str]) -> None:
    s = d / f"step_{k:03d}"
    s.mkdir(parents=True)
    for name, text in files.items():
        (s / name).write_text(text)


def test_read_history_re_divergence(tmp_path):
    ok = {"done": "", "confout.gro": ""}
    _step(tmp_path, 0, {"CG-CG.param.new": "0 1e-5 i\n1 6e-3 i\n"})
    _step(tmp_path, 1, {**ok, "CG-CG.param.cur": "0 1e-5 i\n1 6e-3 i\n",
                        "CG-CG.param.new": "0 2e-5 i\n1 9e-3 i\n", "CG-CG.conv": "12.5\n"})
    _step(tmp_path, 2, {**ok, "CG-CG.param.cur": "0 2e-5 i\n1 9e-3 i\n",
                        "CG-CG.param.new": "0 3e-5 i\n1 -1e-3 i\n", "CG-CG.conv": "99\n"})
    _step(tmp_path, 3, {"CG-CG.param.cur": "0 3e-5 i\n1 -1e-3 i\n"})
    h = read_history(tmp_path, "re")
    assert h.md_runs == 2 and len(h.rows) == 2
    assert h.best == (2e-5, 9e-3)  # the last physical parameters VOTCA ran
    assert h.rows[0]["dC12"] == pytest.approx(1e-5) and h.rows[1]["pot_change"] == 99
    assert any("C6 went negative at step 2" in n for n in h.notes)
    assert not h.converged


def test_read_history_simplex_best_vertex(tmp_path):
    def state(lines, name="Reflection"):
        return f"#State = {name}\n#Format sig eps conv flag\n" + "\n".join(lines) + "\n"
    done = {"done": "", "confout.gro": ""}
    _step(tmp_path, 1, {**done, "simplex.state.cur": state(["0.34 1.0 0 active", "0.36 1.0 0 pending"]),
                        "CG-CG.conv": "2.0"})
    _step(tmp_path, 2, {**done, "simplex.state.cur": state(["0.34 1.0 2.0 complete", "0.36 1.0 0 active"]),
                        "CG-CG.conv": "1.5", "simplex.state.new": state([], "Expansion")})
    h = read_history(tmp_path, "simplex")
    assert [r["objective"] for r in h.rows] == [2.0, 1.5]
    assert h.rows[1]["simplex_state"] == "Expansion"
    assert h.best == pytest.approx((4 * 0.36**12, 4 * 0.36**6))


def test_failure_line_from_votca_banner(tmp_path):
    banner = ("#####\n#  #\n# ERROR: #\n# run_gromacs_lj.sh: unphysical LJ parameters C12=1e-5 "
              "C6=-6e-3 (both must be positive) #\n# For details see the logfile x #\n####\n")
    h = read_history(tmp_path, "re")
    msg = votca_failure(tmp_path, banner, h)
    assert "unphysical LJ parameters C12=1e-5 C6=-6e-3" in msg and "#" not in msg


def test_missing_csg_inverse_names_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    ev = CGEvaluator(_lj_target())
    with pytest.raises(EngineUnavailable, match="apt-get install votca"):
        votca_fit(ev, "re", (ARGON_C12, ARGON_C6), tmp_path / "w", iterations=1)
    with pytest.raises(ParameterError, match="method"):
        votca_fit(ev, "ibi", (ARGON_C12, ARGON_C6), tmp_path / "w")
    with pytest.raises(ParameterError, match="C6"):
        votca_fit(ev, "re", (ARGON_C12, -1.0), tmp_path / "w")


@pytest.fixture(scope="module")
def lj_evaluator():
    """A tiny argon target from a short CG run of known parameters, and its evaluator."""
    from deepilst.md.simulate import run_simulation
    from deepilst.md.spec import Protocol, SimSpec

    spec = SimSpec(T, RHO, ARGON_C12, ARGON_C6, engine="gromacs", seed=11,
                   protocol=Protocol(equil_ps=10.0, prod_ps=60.0, n_particles=N))
    res = run_simulation(spec)
    target = Target(res.r, res.g, res.g_err, T, RHO, ARGON_MASS, "argon-tiny")
    return CGEvaluator(target, CGProtocol(n_particles=N, equil_ps=5.0, prod_ps=20.0), seed=3)


def _sigma(c12: float, c6: float) -> float:
    return (c12 / c6) ** (1 / 6)


@needs_votca
@needs_gmx
@pytest.mark.gromacs
def test_votca_simplex_stays_at_the_truth(lj_evaluator, tmp_path):
    ev = lj_evaluator
    res = votca_fit(ev, "simplex", (ARGON_C12, ARGON_C6), tmp_path / "sx", iterations=3, **TINY)
    assert res.method == "votca-simplex" and res.extra["status"] == "finished", res.notes
    assert res.md_runs == 3 and res.iterations == 3 and not res.converged
    assert [r["step"] for r in res.history] == [1, 2, 3]
    assert all(math.isfinite(r["objective"]) for r in res.history)
    # the three vertices: truth, sigma + 5 %, epsilon + 20 %; sigma + 5 % is far worse than noise
    assert _sigma(res.C12, res.C6) == pytest.approx(_sigma(ARGON_C12, ARGON_C6), rel=0.01)
    assert res.final is not None and res.final.eps_rdf.mean < 0.05
    assert res.final.params.c12 == res.C12
    for f in ("settings.xml", "scripts/run_gromacs_lj.sh", "target.xvg", "grompp.mdp",
              "step_003/traj.xtc", "step_003/simplex.state.cur", "inverse.log"):
        assert (tmp_path / "sx" / f).exists(), f


@needs_votca
@needs_gmx
@pytest.mark.gromacs
def test_votca_re_moves_toward_the_truth_or_says_it_diverged(lj_evaluator, tmp_path):
    ev = lj_evaluator
    start = (1.2 * ARGON_C12, ARGON_C6)
    res = votca_fit(ev, "re", start, tmp_path / "re", iterations=3, **TINY)
    assert res.method == "votca-re" and res.md_runs >= 1
    assert all(k in res.history[0] for k in ("C12", "C6", "C12_new", "C6_new", "pot_change"))
    diverged = any("diverged" in n for n in res.notes)
    if not diverged:
        assert res.extra["status"] == "finished", res.notes
        s_true = _sigma(ARGON_C12, ARGON_C6)
        assert abs(_sigma(res.C12, res.C6) - s_true) < abs(_sigma(*start) - s_true)
        # the update VOTCA made last is what is reported
        assert (res.C12, res.C6) == (res.history[-1]["C12_new"], res.history[-1]["C6_new"])
    assert res.final is not None and math.isfinite(res.final.eps_rdf.mean)
    # work directory not empty: refused, unless resumed (then nothing is left to do)
    with pytest.raises(ParameterError, match="not empty"):
        votca_fit(ev, "re", start, tmp_path / "re", iterations=3, **TINY)
