"""Force-field snippets: they pass the engines' own parsers and carry the parameters exactly."""

import shutil
import subprocess

import numpy as np
import pytest

from deepilst.errors import ParameterError
from deepilst.snippets import snippets
from deepilst.units import KJ_MOL_PER_EV, KJ_PER_KCAL, sigma_epsilon

C12, C6 = 9.70e-6, 6.22e-3
SIG, EPS = sigma_epsilon(C12, C6)


def _line(text: str, start: str) -> list[str]:
    return next(ln for ln in text.splitlines() if ln.strip().startswith(start)).split()


def _mdp_value(text: str, key: str) -> str:
    return next(ln.split("=")[1].strip() for ln in text.splitlines()
                if ln.split("=")[0].strip() == key)


@pytest.mark.skipif(shutil.which("gmx") is None, reason="GROMACS not installed")
def test_gromacs_snippet_passes_grompp_without_warnings(tmp_path):
    from deepilst.md.gromacs_engine import write_gro
    from deepilst.md.system import lattice_positions

    s = snippets(C12, C6, name="Ar")
    box = (200 / 13.7) ** (1 / 3)  # 2.44 nm > 2 rc
    write_gro(tmp_path / "conf.gro", lattice_positions(200, box, 1), box, name="Ar")
    (tmp_path / "topol.top").write_text(s["gromacs"] + "\n[ system ]\nargon\n\n[ molecules ]\nAr 200\n")
    (tmp_path / "md.mdp").write_text(
        "integrator = md\ndt = 0.005\nnsteps = 10\ntcoupl = v-rescale\ntc-grps = System\n"
        "tau-t = 0.2\nref-t = 345\ngen-vel = yes\ngen-temp = 345\n" + s["gromacs_mdp"])
    p = subprocess.run(["gmx", "-quiet", "grompp", "-f", "md.mdp", "-c", "conf.gro", "-p",
                        "topol.top", "-o", "md.tpr"], cwd=tmp_path, capture_output=True, text=True)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out  # no -maxwarn: any warning fails grompp
    assert "WARNING" not in out and "rcoulomb" not in out and "NOTE" not in out, out
    dump = subprocess.run(["gmx", "-quiet", "dump", "-s", "md.tpr"], cwd=tmp_path,
                          capture_output=True, text=True).stdout
    rc = 3 * SIG
    for key, want in (("rvdw", rc), ("rcoulomb", rc)):
        got = float(next(ln.split("=")[1] for ln in dump.splitlines() if ln.strip().startswith(key + " ")))
        assert got == pytest.approx(want, rel=1e-5)
    flat = " ".join(dump.split())
    assert "vdw-modifier = None" in flat and "DispCorr = EnerPres" in flat
    c6 = float(next(ln.split("c6=")[1].split(",")[0] for ln in dump.splitlines() if "c6=" in ln))
    assert c6 == pytest.approx(C6, rel=1e-6)


@pytest.mark.parametrize("element", [None, "Ar"])
def test_openmm_snippet_creates_the_system(tmp_path, element):
    app = pytest.importorskip("openmm.app")
    import openmm
    from openmm import unit

    mass = 16.04
    s = snippets(C12, C6, name="CH4", mass=mass, element=element)
    xml = tmp_path / "lj.xml"
    xml.write_text(s["openmm"])
    ff = app.ForceField(str(xml))
    top = app.Topology()
    chain = top.addChain()
    el = None if element is None else app.Element.getBySymbol(element)
    for _ in range(50):
        top.addAtom("CH4", el, top.addResidue("CH4", chain))
    top.setPeriodicBoxVectors(np.eye(3) * 3.0 * unit.nanometer)
    rc = 3 * SIG
    system = ff.createSystem(top, nonbondedMethod=app.CutoffPeriodic,
                             nonbondedCutoff=rc * unit.nanometer, useDispersionCorrection=True)
    nb = next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))
    assert nb.getNumParticles() == 50
    q, sig, eps = nb.getParticleParameters(7)
    assert q.value_in_unit(unit.elementary_charge) == 0.0
    assert sig.value_in_unit(unit.nanometer) == pytest.approx(SIG, rel=1e-7)
    assert eps.value_in_unit(unit.kilojoule_per_mole) == pytest.approx(EPS, rel=1e-7)
    assert nb.getCutoffDistance().value_in_unit(unit.nanometer) == pytest.approx(rc, rel=1e-6)
    assert nb.getNonbondedMethod() == openmm.NonbondedForce.CutoffPeriodic
    assert nb.getUseDispersionCorrection() and not nb.getUseSwitchingFunction()
    assert system.getParticleMass(3).value_in_unit(unit.dalton) == pytest.approx(mass)
    assert s["openmm"].count("element=") == (element is not None)
    # the cutoff of the createSystem call in the comment is the convention's
    assert f"nonbondedCutoff={rc:.6f}" in s["openmm"]


def test_values_round_trip_through_every_unit():
    s = snippets(C12, C6)
    line = _line(s["gromacs"], "LJ")
    assert float(line[5]) == pytest.approx(C6, rel=1e-8) and float(line[6]) == pytest.approx(C12, rel=1e-8)
    real = _line(s["lammps_real"], "pair_coeff")
    metal = _line(s["lammps_metal"], "pair_coeff")
    assert float(real[3]) * KJ_PER_KCAL == pytest.approx(EPS, rel=1e-7)
    assert float(metal[3]) * KJ_MOL_PER_EV == pytest.approx(EPS, rel=1e-7)
    for lmp in (real, metal):
        sig_nm = float(lmp[4]) / 10
        assert sig_nm == pytest.approx(SIG, rel=1e-6)
    # back from (sigma, epsilon) of the LAMMPS lines to C12, C6
    sig_nm, eps = float(real[4]) / 10, float(real[3]) * KJ_PER_KCAL
    assert 4 * eps * sig_nm**12 == pytest.approx(C12, rel=2e-5)
    assert 4 * eps * sig_nm**6 == pytest.approx(C6, rel=1e-5)
    for lmp in ("lammps_real", "lammps_metal"):
        assert float(_line(s[lmp], "pair_style")[2]) == pytest.approx(30 * SIG, rel=1e-6)
        assert "pair_modify shift no tail yes" in s[lmp]
    mdp = s["gromacs_mdp"]
    assert float(_mdp_value(mdp, "rvdw")) == float(_mdp_value(mdp, "rcoulomb"))
    assert float(_mdp_value(mdp, "rvdw")) == pytest.approx(3 * SIG, rel=1e-6)
    assert _mdp_value(mdp, "vdw-modifier") == "None" and _mdp_value(mdp, "DispCorr") == "EnerPres"
    assert _mdp_value(mdp, "cutoff-scheme") == "Verlet" and _mdp_value(mdp, "coulombtype") == "cut-off"
    assert float(_mdp_value(snippets(C12, C6, rc_sigma=2.5)["gromacs_mdp"], "rvdw")) == \
        pytest.approx(2.5 * SIG, rel=1e-6)


def test_name_element_and_mass_are_honoured():
    s = snippets(C12, C6, name="CH4", mass=16.043, element="C")
    assert _line(s["gromacs"], "CH4")[2] == "16.04300"
    atom = s["gromacs"].split("[ atoms ]")[1].splitlines()[2].split()
    assert [atom[i] for i in (1, 3, 4)] == ["CH4"] * 3 and float(atom[7]) == 16.043
    for lmp in ("lammps_real", "lammps_metal"):
        assert _line(s[lmp], "mass") == ["mass", "1", "16.04300"]
    assert '<Type name="CH4" class="CH4" element="C" mass="16.04300"/>' in s["openmm"]
    assert '<Residue name="CH4">' in s["openmm"] and "Ar" not in s["openmm"]
    assert "element" not in snippets(C12, C6)["openmm"].split("<AtomTypes>")[1]


@pytest.mark.parametrize("kw", [{"name": "my bead"}, {"name": ""}, {"name": "1A"}, {"name": 'a"b'},
                                {"element": "argon"}, {"mass": 0.0}, {"mass": float("nan")},
                                {"rc_sigma": -1.0}])
def test_bad_options_raise_parameter_error(kw):
    with pytest.raises(ParameterError, match=next(iter(kw))):
        snippets(C12, C6, **kw)


def test_bad_parameters_raise_parameter_error():
    with pytest.raises(ParameterError, match="C12"):
        snippets(-1.0, C6)
    with pytest.raises(ParameterError, match="C6"):
        snippets(C12, float("inf"))


@pytest.mark.skipif(shutil.which("gmx") is None, reason="GROMACS not installed")
def test_pure_repulsion_snippets_run_where_the_automatic_buffer_blew_up(tmp_path):
    """F2's relative-entropy answer on C6 = 0 (C12 2.4517e-6, rc 0.9364 nm), 1000 beads at
    13.7 nm^-3 from the start that blew up with GROMACS' automatic pair-list buffer (seed
    2035): the printed topology and mdp lines run 300 steps at 345 K."""
    from deepilst.md.gromacs_engine import write_gro
    from deepilst.md.system import lattice_positions
    from deepilst.snippets import gromacs_mdp_repulsion, gromacs_topology

    c12, rc, n = 2.4517056433020727e-06, 0.9363520709132369, 1000
    box = (n / 13.7) ** (1 / 3)
    write_gro(tmp_path / "conf.gro", lattice_positions(n, box, 2035), box, name="F2")
    (tmp_path / "topol.top").write_text(gromacs_topology(c12, 0.0, "F2", 38.0)
                                        + f"\n[ system ]\nF2\n\n[ molecules ]\nF2 {n}\n")
    mdp = gromacs_mdp_repulsion(rc)
    assert _mdp_value(mdp, "DispCorr") == "no" and _mdp_value(mdp, "verlet-buffer-tolerance") == "-1"
    (tmp_path / "md.mdp").write_text(
        "integrator = md\ndt = 0.00908775\nnsteps = 300\ntcoupl = nose-hoover\ntc-grps = System\n"
        "tau-t = 0.2\nref-t = 345\nnsttcouple = 1\ngen-vel = yes\ngen-temp = 345\ngen-seed = 2035\n"
        "nstcalcenergy = 100\nnstenergy = 100\n" + mdp)
    for cmd in (["grompp", "-f", "md.mdp", "-c", "conf.gro", "-p", "topol.top", "-o", "md.tpr"],
                ["mdrun", "-deffnm", "md", "-ntmpi", "1", "-ntomp", "1", "-nb", "cpu"]):
        p = subprocess.run(["gmx", "-quiet", *cmd], cwd=tmp_path, capture_output=True, text=True)
        assert p.returncode == 0, (p.stdout + p.stderr)[-2000:]
    p = subprocess.run(["gmx", "-quiet", "energy", "-f", "md.edr", "-o", "e.xvg"], cwd=tmp_path,
                       input="Temperature\n\n", capture_output=True, text=True)
    t = np.loadtxt([ln for ln in (tmp_path / "e.xvg").read_text().splitlines()
                    if not ln.startswith(("#", "@"))])[:, 1]
    assert np.all(np.abs(t - 345.0) < 60.0), t
