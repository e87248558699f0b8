"""Tabulated pair potentials through md/: spec, OpenMM force, analysis, and a table run that
equals an LJ run of the same potential."""

from dataclasses import replace

import numpy as np
import pytest

from deepilst.errors import ParameterError
from deepilst.md.base import Engine
from deepilst.md.simulate import run_simulation, simulate_once
from deepilst.md.spec import PairTable, Protocol, SimSpec
from deepilst.md.tabulated import TableAccumulator
from deepilst.potentials import LJParams
from deepilst.rdf import RDFAccumulator
from deepilst.thermo import energy_tail, pressure_tail
from tests.conftest import needs_gmx

C12, C6 = 9.70e-6, 6.22e-3
TINY = Protocol(equil_ps=10, prod_ps=40, n_particles=300)


def _lj_table(spec: SimSpec) -> PairTable:
    """The LJ potential of ``spec`` truncated at its cutoff, tabulated up to exactly rc."""
    r = np.linspace(0.6 * spec.sigma, spec.rc, 400)
    return PairTable(tuple(r), tuple(spec.lj.energy(r)))


def test_specs_without_a_table_keep_their_keys_and_tables_round_trip():
    spec = SimSpec(345.0, 13.7, C12, C6, engine="openmm", seed=3, protocol=TINY,
                   tags=(("a", "b"),))
    assert "table" not in spec.to_dict()
    assert spec.key() == "ef098a434f111d35"  # the key this spec had before tables existed
    tab = replace(spec, table=_lj_table(spec))
    assert tab.key() != spec.key()
    assert tab.rc == pytest.approx(spec.rc) and tab.table.r_max == tab.rc
    back = SimSpec.from_dict(tab.to_dict())
    assert back == tab and back.key() == tab.key()


def test_gromacs_refuses_a_table_with_the_fix_in_the_message():
    spec = SimSpec(345.0, 13.7, C12, C6, engine="openmm", protocol=TINY)
    with pytest.raises(ParameterError, match="engine 'openmm'"):
        replace(spec, engine="gromacs", table=_lj_table(spec))

    class FakeGromacs(Engine):
        name = "gromacs"

    with pytest.raises(ParameterError, match="tabulated"):
        simulate_once(replace(spec, table=_lj_table(spec)), FakeGromacs())


def test_table_accumulator_energy_and_virial_equal_the_lj_kernel():
    """Each pair is counted at its 0.0005 nm bin's centre: per pair an error of at most
    |u'| dr / 2, random in sign, so a frame's sum is off by ~sqrt(sum (u' dr)^2 / 12)."""
    spec = SimSpec(345.0, 13.7, C12, C6, protocol=TINY)
    rng = np.random.default_rng(5)
    L = spec.box_length
    lj = RDFAccumulator(300, L, rc=spec.rc, c12=C12, c6=C6)
    tab = TableAccumulator(300, L, _lj_table(spec))
    for _ in range(3):
        # a random configuration without overlaps closer than 0.9 sigma
        pos = np.empty((0, 3))
        while len(pos) < 300:
            x = rng.uniform(0, L, 3)
            d = pos - x
            d -= L * np.rint(d / L)
            if len(pos) == 0 or np.min(np.sum(d * d, axis=1)) > (0.9 * spec.sigma) ** 2:
                pos = np.vstack([pos, x])
        d = pos[:, None] - pos[None]
        d -= L * np.rint(d / L)
        r = np.sqrt(np.sum(d**2, axis=-1))[np.triu_indices(300, 1)]
        r = r[r < spec.rc]
        du = (-12 * C12 / r**13 + 6 * C6 / r**7) * lj.dr
        dw = (144 * C12 / r**13 - 36 * C6 / r**7) * lj.dr  # d(r u')/dr dr
        u1, w1 = lj.add_frame(pos)
        u2, w2 = tab.add_frame(pos)
        assert abs(u2 - u1) < 4 * np.sqrt(np.sum(du**2) / 12) + 1e-3
        assert abs(w2 - w1) < 4 * np.sqrt(np.sum(dw**2) / 12) + 1e-3
    assert np.array_equal(lj.counts, tab.counts)


def test_table_run_equals_an_lj_run_of_the_same_potential():
    """OpenMM, 300 particles, 10 + 40 ps: g within its errors, U and P (plus the LJ run's tail
    corrections, which a table has not) within three combined standard errors."""
    spec = SimSpec(345.0, 13.7, C12, C6, engine="openmm", seed=3, protocol=TINY)
    a = run_simulation(spec)
    b = run_simulation(replace(spec, table=_lj_table(spec), seed=4))
    assert b.record["potential"] == "table" and "pair_sums" not in b.record
    assert b.record["tail"] == {"energy": 0.0, "pressure": 0.0}
    m = (a.g > 0.05) & np.isfinite(b.g)
    z = (a.g[m] - b.g[m]) / np.hypot(a.g_err[m], b.g_err[m])
    assert np.mean(z**2) < 1.6  # 1 % level for ~200 points with 9-dof block errors
    du = b.U.mean + energy_tail(13.7, C12, C6, spec.rc) - a.U.mean
    dp = b.P.mean + pressure_tail(13.7, C12, C6, spec.rc) - a.P.mean
    assert abs(du) < 3 * np.hypot(a.U.sem, b.U.sem)
    assert abs(dp) < 3 * np.hypot(a.P.sem, b.P.sem)
    # the engine's energy and ours from the frames agree (the table is what OpenMM ran)
    assert b.record["energy_frames"]["mean"] == pytest.approx(b.U.mean, abs=2e-3)


def test_lj_tabulate_refuses_nothing_physical_and_table_validates():
    with pytest.raises(ParameterError):
        PairTable((0.3, 0.2, 0.4, 0.5), (1.0, 0.0, 0.0, 0.0))
    t = PairTable.from_potential(LJParams(C12, C6).tabulate(1.0))
    assert t.potential().energy(np.array([2.0]))[0] == 0.0


def _repulsion_table(c12: float = 2.44e-6, rc: float = 0.936) -> PairTable:
    r = np.arange(0.25 * rc, rc + 0.001, 0.002)
    r[-1] = rc
    return PairTable(tuple(r), tuple(c12 / r**12))


def test_a_pure_repulsion_table_is_recognised_and_nothing_else():
    assert _repulsion_table().repulsion_c12 == pytest.approx(2.44e-6, rel=1e-12)
    spec = SimSpec(345.0, 13.7, C12, C6, protocol=TINY)
    assert _lj_table(spec).repulsion_c12 is None  # C6 != 0
    r = np.linspace(0.3, 0.9, 50)
    assert PairTable(tuple(r), tuple(2.44e-6 / r**12 * (1 + 1e-6 * r))).repulsion_c12 is None
    assert PairTable(tuple(r), tuple(2.44e-6 / r**11)).repulsion_c12 is None


def test_gromacs_runs_a_pure_repulsion_table_as_lj_with_c6_zero_and_no_tail():
    from deepilst.md.gromacs_engine import mdp, topology

    spec = SimSpec(345.0, 13.7, C12, C6, engine="gromacs", protocol=TINY,
                   table=_repulsion_table())  # accepted: no ParameterError
    top = topology(spec).splitlines()
    line = top[top.index("[ atomtypes ]") + 2].split()
    assert float(line[4]) == 0.0 and float(line[5]) == pytest.approx(2.44e-6, rel=1e-8)
    m = mdp(spec)
    assert "DispCorr        = no" in m and "vdw-modifier    = None" in m
    assert f"rvdw            = {0.936:.6f}" in m
    # a fixed list radius: GROMACS' automatic buffer let such a run blow up (seed 2035, F2)
    assert "verlet-buffer-tolerance = -1" in m and f"rlist           = {1.036:.6f}" in m
    assert "DispCorr        = EnerPres" in mdp(replace(spec, table=None))


def test_openmm_runs_a_pure_repulsion_table_as_the_same_potential():
    """The analytic force (C12 / r^12) and the spline of the same table give one energy."""
    import openmm as mm

    from deepilst.md.openmm_engine import _spline_force, table_force
    from deepilst.md.system import lattice_positions

    spec = SimSpec(345.0, 13.7, C12, C6, engine="openmm", protocol=TINY,
                   table=_repulsion_table())
    energies = []
    for force in (table_force(spec), _spline_force(spec)):
        force.setNonbondedMethod(mm.CustomNonbondedForce.CutoffPeriodic)
        for _ in range(force.getNumParticles(), 300):
            force.addParticle([])
        s = mm.System()
        for _ in range(300):
            s.addParticle(28.0)
        L = spec.box_length
        s.setDefaultPeriodicBoxVectors(mm.Vec3(L, 0, 0), mm.Vec3(0, L, 0), mm.Vec3(0, 0, L))
        s.addForce(force)
        ctx = mm.Context(s, mm.VerletIntegrator(0.001), mm.Platform.getPlatformByName("Reference"))
        ctx.setPositions(lattice_positions(300, L, 1))
        energies.append(ctx.getState(getEnergy=True).getPotentialEnergy()._value)
    assert "c12" in table_force(spec).getEnergyFunction()
    assert energies[0] == pytest.approx(energies[1], rel=1e-5)


@needs_gmx
@pytest.mark.gromacs
def test_a_pure_repulsion_runs_alike_in_gromacs_and_openmm():
    """The same C12 r^-12 table (F2's relative-entropy answer, cut at 3 kB T lengths), 300
    beads, 10 + 40 ps in each engine: g within its errors, U and P within 3 standard errors."""
    spec = SimSpec(345.0, 13.7, C12, C6, protocol=TINY, table=_repulsion_table())
    a = run_simulation(replace(spec, engine="gromacs", seed=3))
    b = run_simulation(replace(spec, engine="openmm", seed=4))
    assert a.record["engine"] == "gromacs" and b.record["engine"] == "openmm"
    assert a.record["tail"] == {"energy": 0.0, "pressure": 0.0}
    m = (a.g > 0.05) & np.isfinite(b.g)
    z = (a.g[m] - b.g[m]) / np.hypot(a.g_err[m], b.g_err[m])
    assert np.mean(z**2) < 1.6
    assert abs(a.U.mean - b.U.mean) < 3 * np.hypot(a.U.sem, b.U.sem)
    assert abs(a.P.mean - b.P.mean) < 3 * np.hypot(a.P.sem, b.P.sem)
    # GROMACS ran what the analysis assumed: its energy equals ours from the frames
    assert a.record["energy_frames"]["mean"] == pytest.approx(a.U.mean, abs=2e-3)


@needs_gmx
@pytest.mark.gromacs
def test_a_pure_repulsion_keeps_its_fixed_list_under_the_engines_mdrun(tmp_path):
    """The engine's ``mdrun -nstlist`` (snippets.GROMACS_NSTLIST) is left out of a fixed-list
    run (mdrun refuses it there: "Can not set nstlist without verlet-buffer-tolerance"), which
    keeps nstlist 10 and rlist rc + 0.1 nm."""
    import subprocess

    from deepilst.md.gromacs_engine import GromacsEngine

    spec = SimSpec(345.0, 13.7, C12, C6, engine="gromacs", table=_repulsion_table(),
                   protocol=Protocol(equil_ps=0.5, prod_ps=0.5, n_particles=300))
    eng = GromacsEngine()
    eng._prepare(spec, tmp_path)
    p = subprocess.run(eng._mdrun_cmd(spec), cwd=tmp_path, capture_output=True, text=True)
    assert p.returncode == 0, (p.stdout + p.stderr)[-2000:]  # with -nstlist: "Can not set"
    log = (tmp_path / "md.log").read_text()
    assert "-nstlist" in " ".join(eng._mdrun_cmd(replace(spec, table=None)))
    assert "Changing nstlist" not in log
    assert "updated every 10 steps" in log and "rlist 1.036 nm" in log
