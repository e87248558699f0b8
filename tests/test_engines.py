"""Physics of the MD engines against known answers."""

import numpy as np
import pytest

from deepilst.md.base import SimulationError
from deepilst.md.simulate import simulate
from deepilst.rdf import eps_rdf
from deepilst.thermo import lj_eos
from deepilst.units import KB

from .conftest import needs_gmx
from .helpers import argon_spec


def _arr(x):
    return np.array([np.nan if v is None else v for v in x], dtype=float)


@pytest.mark.parametrize("t_star,rho_star", [(1.0, 0.8), (1.5, 0.7), (2.88, 0.541)])
def test_pressure_energy_match_thol_eos(engine, t_star, rho_star):
    """Acceptance 1: P and U/N within 2 % or 3 standard errors of the Thol EOS (full LJ)."""
    spec = argon_spec(t_star, rho_star, engine)
    rec = simulate(spec)
    p_ref, u_ref = lj_eos(spec.temperature, spec.density, spec.c12, spec.c6)
    for q, ref in (("pressure", p_ref), ("energy", u_ref)):
        m, s = rec[q]["mean"], rec[q]["sem"]
        assert abs(m - ref) < max(0.02 * abs(ref), 3 * s), (q, m, s, ref)
    # the engine's own numbers and ours from the same frames agree
    assert rec["energy_frames"]["mean"] == pytest.approx(rec["energy"]["mean"], rel=2e-3)
    assert rec["pressure_frames"]["mean"] == pytest.approx(
        rec["pressure"]["mean"], abs=0.01 * abs(p_ref) + rec["pressure"]["sem"])
    assert rec["phase"]["label"] == "fluid"
    assert abs(rec["temperature_measured"]["mean"] - spec.temperature) < 0.02 * spec.temperature


@needs_gmx
@pytest.mark.gromacs
def test_gromacs_and_openmm_rdfs_agree():
    """Acceptance 2: argon at 345 K, 13.7 nm^-3: eps_rdf < 1 % and within statistical error."""
    from deepilst.md import Protocol, SimSpec
    from deepilst.units import ARGON_C6, ARGON_C12

    recs = [simulate(SimSpec(345.0, 13.7, ARGON_C12, ARGON_C6, engine=e, seed=5,
                             protocol=Protocol(equil_ps=20, prod_ps=150, n_particles=500)))
            for e in ("gromacs", "openmm")]
    r = _arr(recs[0]["r"])
    g1, g2 = _arr(recs[0]["g"]), _arr(recs[1]["g"])
    e1, e2 = _arr(recs[0]["g_err"]), _arr(recs[1]["g_err"])
    assert eps_rdf(r, g1, g2) < 0.01
    m = r > 0.3
    z = np.abs(g1[m] - g2[m]) / np.sqrt(e1[m] ** 2 + e2[m] ** 2)
    assert np.mean(z < 3) > 0.95
    assert abs(np.mean(z**2) - 1) < 0.5  # errors are neither under- nor grossly over-estimated


def test_dilute_limit_is_boltzmann_factor():
    """At low density g(r) -> exp(-u(r)/kT)."""
    from deepilst.potentials import lj_potential

    spec = argon_spec(2.88, 0.02, "openmm", n=400, equil_ps=10, prod_ps=400)
    rec = simulate(spec)
    r = _arr(rec["r"])
    g = _arr(rec["g"])
    with np.errstate(over="ignore"):
        boltz = np.exp(-lj_potential(np.maximum(r, 1e-3), spec.c12, spec.c6)
                       / (KB * spec.temperature))
    # windows of 0.05 nm around the contact peak, weighted by r^2
    for lo in np.arange(0.32, 0.62, 0.05):
        m = (r >= lo) & (r < lo + 0.05)
        ratio = np.sum(g[m] * r[m] ** 2) / np.sum(boltz[m] * r[m] ** 2)
        assert ratio == pytest.approx(1.0, abs=0.06), (lo, ratio)


def test_blow_up_is_caught_retried_and_reported():
    from deepilst.md import Protocol, SimSpec

    spec = SimSpec(345.0, 13.7, 9.7e-6, 6.22e-3, engine="openmm", seed=1,
                   protocol=Protocol(equil_ps=5, prod_ps=10, n_particles=256, dt_ps=0.2))
    with pytest.raises(SimulationError) as ei:
        simulate(spec, retries=1)
    assert str(ei.value).count("seed") == 2  # tried twice, with two seeds


def test_retry_uses_a_new_seed_and_half_the_time_step(monkeypatch):
    from deepilst.md import Protocol, SimSpec
    from deepilst.md import simulate as sim_mod

    seen = []

    def fake_once(spec, engine=None, progress=None):
        seen.append((spec.seed, spec.dt))
        if len(seen) == 1:
            raise SimulationError("thermostat failed")
        return {"dt": spec.dt}

    monkeypatch.setattr(sim_mod, "simulate_once", fake_once)
    spec = SimSpec(345.0, 13.7, 9.7e-6, 6.22e-3, engine="openmm", seed=3,
                   protocol=Protocol(equil_ps=5, prod_ps=10, n_particles=256))
    rec = sim_mod.simulate(spec, retries=1)
    assert seen[1][0] != seen[0][0] and seen[1][1] == pytest.approx(seen[0][1] / 2)
    assert rec["attempts"] == 2 and rec["key"] == spec.key() and rec["dt"] == seen[1][1]


@needs_gmx
@pytest.mark.gromacs
def test_gromacs_streamed_frames_equal_the_xtc_bit_for_bit(tmp_path):
    """The frames read from the growing .trr, rounded by xtc_round, are exactly the positions
    a compressed .xtc of the same run holds (what records were made from before streaming)."""
    from MDAnalysis.lib.formats.libmdaxdr import XTCFile

    from deepilst.md.gromacs_engine import GromacsEngine, _run

    spec = argon_spec(1.0, 0.8, "gromacs", n=256, equil_ps=1.0, prod_ps=20.0)
    eng = GromacsEngine()
    eng._prepare(spec, tmp_path)
    mdp = tmp_path / "md.mdp"  # the same run also writes the former .xtc
    mdp.write_text(mdp.read_text().replace(
        "nstxout-compressed = 0", f"nstxout-compressed = {spec.protocol.sample_every}\n"
        "compressed-x-precision = 10000"))
    _run([eng.gmx, "-quiet", "grompp", "-f", "md.mdp", "-c", "conf.gro", "-p", "topol.top",
          "-o", "md.tpr", "-maxwarn", "2"], tmp_path)
    got: list[np.ndarray] = []
    eng._stream(tmp_path, spec, lambda pos, f: got.append(pos.copy()))
    first = spec.n_equil_steps // spec.protocol.sample_every + 1
    with XTCFile(str(tmp_path / "md.xtc")) as xtc:
        ref = [np.asarray(fr.x, dtype=np.float64) for fr in xtc][first:]
    assert len(got) == len(ref) == spec.n_prod_steps // spec.protocol.sample_every
    assert all(np.array_equal(a, b) for a, b in zip(got, ref))


def test_xtc_round_and_trr_layout():
    from deepilst.md.gromacs_engine import trr_layout, xtc_round

    x = np.array([0.12346, -0.12346, 1.00006, 2.5e-5, -2.5e-5], dtype=np.float32)
    assert xtc_round(x).tolist() == pytest.approx([0.1235, -0.1235, 1.0001, 0.0, -0.0], abs=1e-7)
    with pytest.raises(SimulationError):
        trr_layout(b"\0" * 128)


@needs_gmx
@pytest.mark.gromacs
def test_gromacs_blow_up_is_caught():
    from deepilst.md import Protocol, SimSpec

    spec = SimSpec(345.0, 13.7, 9.7e-6, 6.22e-3, engine="gromacs", seed=1,
                   protocol=Protocol(equil_ps=5, prod_ps=10, n_particles=256, dt_ps=0.2))
    with pytest.raises(SimulationError):
        simulate(spec, retries=0)


@needs_gmx
@pytest.mark.gromacs
def test_gromacs_stream_reports_mdrun_failure_and_stops_mdrun_on_sink_error(tmp_path):
    from deepilst.md.gromacs_engine import GromacsEngine

    spec = argon_spec(1.0, 0.8, "gromacs", n=256, equil_ps=1.0, prod_ps=200.0)
    eng = GromacsEngine()
    bad = tmp_path / "bad"
    bad.mkdir()
    eng._prepare(spec, bad)
    (bad / "md.tpr").write_bytes(b"")  # no valid input
    with pytest.raises(SimulationError, match="gmx mdrun failed"):
        eng._stream(bad, spec, lambda pos, f: None)

    def sink(pos, f):
        if f == 2:
            raise RuntimeError("analysis failed")

    eng._prepare(spec, tmp_path)
    with pytest.raises(RuntimeError, match="analysis failed"):
        eng._stream(tmp_path, spec, sink)
    assert "Finished mdrun" not in (tmp_path / "md.log").read_text()  # killed at ~2 % of the run


@needs_gmx
@pytest.mark.gromacs
def test_gromacs_keeps_the_pair_list_short_for_soft_beads(tmp_path):
    """A soft LJ fluid (T* 1000, rho* 0.8, 1000 beads at 345 K): GROMACS 2022.5, left to
    itself, lengthened the list's life to 100 steps with no buffer and this run blew up at step
    100; the engine's mdrun keeps nstlist at GROMACS_NSTLIST and the run stays at 345 K."""
    import re
    import subprocess

    from deepilst.md import Protocol, SimSpec
    from deepilst.md.gromacs_engine import GromacsEngine
    from deepilst.snippets import GROMACS_NSTLIST
    from deepilst.units import KB

    t_star, rho_star, temperature = 1000.0, 0.8, 345.0
    eps = KB * temperature / t_star
    sigma = (rho_star / 13.7) ** (1 / 3)
    spec = SimSpec(temperature, 13.7, 4 * eps * sigma**12, 4 * eps * sigma**6, engine="gromacs",
                   seed=0, protocol=Protocol(equil_ps=1.0, prod_ps=3.0, n_particles=1000))
    eng = GromacsEngine()
    eng._prepare(spec, tmp_path)
    p = subprocess.run(eng._mdrun_cmd(spec), cwd=tmp_path, capture_output=True, text=True)
    assert p.returncode == 0, (p.stdout + p.stderr)[-2000:]
    log = (tmp_path / "md.log").read_text()
    changed = re.findall(r"Changing nstlist from \d+ to (\d+)", log)
    assert changed == [str(GROMACS_NSTLIST)], changed  # GROMACS 2022.5 alone: to 100
    e = subprocess.run([eng.gmx, "-quiet", "energy", "-f", "md.edr", "-o", "e.xvg"],
                       cwd=tmp_path, input="Temperature\n\n", capture_output=True, text=True)
    assert e.returncode == 0, e.stderr[-1000:]
    t = np.loadtxt([ln for ln in (tmp_path / "e.xvg").read_text().splitlines()
                    if not ln.startswith(("#", "@"))])[:, 1]
    assert spec.n_equil_steps + spec.n_prod_steps > 200 and np.all(np.abs(t - temperature) < 80), t
