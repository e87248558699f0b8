"""All-atom runs (deepilst.molecular): shipped force fields, grompp without warnings, a tiny
resumable run, user topologies, bad input as one-line errors, targets."""

import json
import re

import numpy as np
import pytest

from deepilst.cli import main
from deepilst.errors import ParameterError
from deepilst.molecular import MOLECULES, AASpec, get_molecule, noise_floor, run_aa
from deepilst.molecular import aa as aa_mod
from deepilst.molecular.gmx import mdp_em, mdp_md, run_gmx
from deepilst.molecular.system import check_density, fill_box, molecule_files, shipped_files, write_topology
from tests.conftest import needs_gmx

gromacs = [needs_gmx, pytest.mark.gromacs]


def _itp_atoms(text: str) -> list[tuple[str, float, float]]:
    """(atom name, charge, mass) of the [ atoms ] section."""
    out, section = [], ""
    for line in text.splitlines():
        s = line.split(";", 1)[0].strip()
        if s.startswith("["):
            section = s.strip("[] ").lower()
        elif section == "atoms" and s:
            p = s.split()
            out.append((p[4], float(p[6]), float(p[7])))
    return out


@pytest.mark.parametrize("name", list(MOLECULES))
def test_registry_matches_force_field_files(name):
    m = get_molecule(name.lower())
    atoms = _itp_atoms(m.itp_path.read_text())
    assert tuple(a for a, _, _ in atoms) == m.atoms
    assert sum(q for _, q, _ in atoms) == pytest.approx(0.0, abs=1e-9)  # neutral
    assert sum(w for _, _, w in atoms) == pytest.approx(m.mass, rel=1e-6)
    assert m.positions().shape == (len(m.atoms), 3)
    assert m.description and m.sources


def test_reference_geometries():
    ch4 = get_molecule("CH4").positions()
    assert np.allclose(np.linalg.norm(ch4[1:] - ch4[0], axis=1), 0.109)
    e = get_molecule("C2H6").positions()
    assert np.linalg.norm(e[4] - e[0]) == pytest.approx(0.1529)
    v1, v2 = e[1] - e[0], e[4] - e[0]
    ang = np.degrees(np.arccos(v1 @ v2 / np.linalg.norm(v1) / np.linalg.norm(v2)))
    assert ang == pytest.approx(110.7)


@pytest.mark.parametrize("name", [pytest.param(n, marks=gromacs) for n in MOLECULES])
def test_every_force_field_passes_grompp(name, tmp_path):
    """Minimisation and MD .mdp of every shipped molecule pass grompp with no -maxwarn."""
    files = shipped_files(get_molecule(name))
    write_topology(tmp_path, files, 150)
    assert fill_box(tmp_path, files, 150, 13.7, seed=1) == "gmx insert-molecules"
    (tmp_path / "em.mdp").write_text(mdp_em(345.0, 0.9, files.charged))
    (tmp_path / "md.mdp").write_text(mdp_md(345.0, 0.9, files.charged, 0.002, 100, 1, True, 50, 50))
    for m in ("em", "md"):
        run_gmx(["grompp", "-f", f"{m}.mdp", "-c", "start.gro", "-p", "topol.top", "-o",
                 f"{m}.tpr", "-po", f"{m}.out.mdp"], tmp_path, "grompp.log")
    assert "WARNING" not in (tmp_path / "grompp.log").read_text()
    out = (tmp_path / "md.out.mdp").read_text()
    assert bool(re.search(r"^coulombtype\s*=\s*PME", out, flags=re.M)) == files.charged
    assert re.search(r"^tcoupl\s*=\s*Nose-Hoover", out, flags=re.M | re.I)


def test_density_checks():
    files = shipped_files(get_molecule("C2H6"))
    check_density(files, 13.7, 1000)
    with pytest.raises(ParameterError, match="too high to pack C2H6"):
        check_density(files, 40.0, 1000)
    with pytest.raises(ParameterError, match="positive"):
        check_density(files, -1.0, 1000)
    with pytest.raises(ParameterError, match="n_molecules"):
        check_density(files, 13.7, 1)


@pytest.mark.parametrize("args,msg", [
    (["--molecule", "XY", "-T", "345", "-d", "13.7"], "unknown molecule 'XY'"),
    (["--molecule", "CO", "-T", "345", "-d", "-2"], "density must be a positive"),
    (["--molecule", "CH4", "-T", "345", "-d", "80"], "too high to pack CH4"),
    (["--molecule", "CO", "-T", "-5", "-d", "13.7"], "temperature must be"),
    (["-T", "345", "-d", "13.7"], "either a shipped molecule name"),
])
def test_cli_bad_input_is_one_line(args, msg, tmp_path, capsys):
    assert main(["aa", *args, "-o", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err and msg in err
    assert not (tmp_path / "run").exists()


def _tiny(molecule="N2", **kw) -> AASpec:
    args = dict(molecule=molecule, n_molecules=100, equil_ps=1.0, prod_ps=2.0, chunk_ps=1.0,
                cutoff=0.8, xtc_ps=0.2, seed=3)
    args.update(kw)
    return AASpec(345.0, 13.7, **args)


@pytest.mark.gromacs
@needs_gmx
def test_tiny_run_resumes_and_extends(tmp_path, monkeypatch):
    import MDAnalysis as mda

    d = tmp_path / "n2"
    rec = run_aa(_tiny(), d, progress=False, command="test")
    assert rec["molecule"] == "N2" and rec["charged"] and rec["schema"] == aa_mod.SCHEMA
    assert abs(rec["T"] - 345.0) < 40 and np.isfinite(rec["P"]) and rec["P_sem"] > 0
    assert rec["n_energy_frames"] == 21 and rec["ns_per_day"] > 0
    st = json.loads((d / "state.json").read_text())
    assert [c["to_ps"] for c in st["chunks"]] == [1.0, 2.0]
    assert len(mda.Universe(str(d / "prod.tpr"), str(d / "prod.xtc")).trajectory) == 11

    def boom(*a, **k):
        raise AssertionError("gmx ran again")

    monkeypatch.setattr(aa_mod, "run_gmx", boom)
    assert run_aa(_tiny(), d, progress=False) == rec  # finished: nothing runs
    monkeypatch.undo()
    rec2 = run_aa(_tiny(prod_ps=3.0), d, progress=False)  # longer: one more chunk
    times = [ts.time for ts in mda.Universe(str(d / "prod.tpr"), str(d / "prod.xtc")).trajectory]
    assert np.allclose(times, np.arange(16) * 0.2, atol=1e-4)
    assert rec2["spec"]["prod_ps"] == 3.0 and rec2["n_energy_frames"] == 31
    with pytest.raises(ParameterError, match="another system"):
        run_aa(_tiny(seed=4), d, progress=False)


@pytest.mark.gromacs
@needs_gmx
def test_lost_chunk_is_redone_from_checkpoint(tmp_path):
    """A run killed during a chunk (state not advanced) continues from prod.cpt."""
    d = tmp_path / "co"
    run_aa(_tiny("CO", prod_ps=1.0), d, progress=False)
    st = json.loads((d / "state.json").read_text())
    st["prod_steps"] = 0  # as if killed before the chunk's state was written
    (d / "state.json").write_text(json.dumps(st))
    (d / "run.json").unlink()
    rec = run_aa(_tiny("CO", prod_ps=2.0), d, progress=False)
    assert rec["n_energy_frames"] == 21  # the checkpoint already held chunk 1: no frame twice


@pytest.mark.gromacs
@needs_gmx
def test_user_topology_and_target(tmp_path):
    """A user's .top (with its own [ system ]) and one-molecule .gro; the target files."""
    from deepilst.molecular.system import write_molecule_gro
    from deepilst.rdfio import inspect_rdf

    m = get_molecule("CO")
    (tmp_path / "my.itp").write_text(m.itp_path.read_text())
    (tmp_path / "my.top").write_text('#include "my.itp"\n\n[ system ]\nmine\n\n[ molecules ]\nCO 1\n')
    write_molecule_gro(tmp_path / "one.gro", shipped_files(m))
    files = molecule_files(top=tmp_path / "my.top", gro=tmp_path / "one.gro")
    assert files.name == "CO" and not files.charged
    spec = AASpec(345.0, 13.7, top=str(tmp_path / "my.top"), gro=str(tmp_path / "one.gro"),
                  n_molecules=100, equil_ps=1.0, prod_ps=2.0, chunk_ps=2.0, cutoff=0.8, xtc_ps=0.1)
    rec = run_aa(spec, tmp_path / "run", progress=False, target=tmp_path / "tg", n_blocks=5)
    t = rec["target"]
    assert t["T"] == 345.0 and t["rho"] == 13.7 and t["mass"] == pytest.approx(28.0104)
    assert t["P"] == rec["P"] and t["com_rdf"]["n_frames"] == 21
    inp = inspect_rdf(tmp_path / "tg" / "CO.xvg")
    assert inp.err_column == 2 and inp.g_err is not None
    assert re.search(r"number density 13\.70\d* nm\^-3, T 345 K", (tmp_path / "tg" / "CO.xvg").read_text())
    assert 0 < t["noise"]["eps_rdf_floor"] < 0.5
    assert 0.3 < t["noise"]["r_peak"] < 0.5


def test_noise_floor_equals_fit_objective():
    from deepilst.fit.objectives import eps_rdf_floor

    r = np.arange(301) * 0.005
    g = np.where(r > 0.3, 1 + 0.5 * np.exp(-((r - 0.4) / 0.05) ** 2), 0.0)
    e = 0.01 * g + 0.001
    g[-3:] = np.nan
    assert noise_floor(r, g, e) == pytest.approx(eps_rdf_floor(r, np.zeros_like(e), g, e), rel=1e-12)


@pytest.mark.slow
@pytest.mark.gromacs
@needs_gmx
def test_co_end_to_end_first_peak(tmp_path):
    """500 CO molecules, 345 K, 13.7 nm^-3, 20 + 60 ps -> com-rdf: the dense-fluid first peak
    where the 1000-molecule, 2-ns target has it (0.39 nm, g 1.65; contact of CO pairs whose
    C has sigma 0.358 nm), g -> 1 far out."""
    assert main(["aa", "--molecule", "CO", "-T", "345", "-d", "13.7", "--n-molecules", "500",
                 "--equil-ps", "20", "--prod-ps", "60", "--chunk-ps", "30", "--xtc-ps", "0.5",
                 "--threads", "2", "-o", str(tmp_path / "co")]) == 0
    assert main(["com-rdf", str(tmp_path / "co" / "prod.xtc"), str(tmp_path / "co" / "prod.tpr"),
                 "-T", "345", "-o", str(tmp_path / "co.xvg")]) == 0
    from deepilst.rdfio import inspect_rdf

    inp = inspect_rdf(tmp_path / "co.xvg")
    r, g = inp.bins.centres, inp.g
    k = int(np.argmax(g))
    assert 0.38 <= r[k] <= 0.40 and 1.55 < g[k] < 1.75
    assert abs(np.mean(g[(r > 1.1) & (r < 1.3)]) - 1.0) < 0.03


@pytest.mark.gromacs
@needs_gmx
def test_cli_aa_and_com_rdf(tmp_path, capsys):
    run = tmp_path / "ch4"
    argv = ["aa", "--molecule", "ch4", "-T", "345", "-d", "13.7", "--n-molecules", "100",
            "--equil-ps", "1", "--prod-ps", "2", "--chunk-ps", "1", "--cutoff", "0.8",
            "--xtc-ps", "0.1", "-o", str(run), "--json"]
    assert main(argv) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["molecule"] == "CH4" and rec["command"].startswith("deepilst ")
    assert main(["com-rdf", str(run / "prod.xtc"), str(run / "prod.tpr"), "--blocks", "4",
                 "--begin", "1", "-o", str(tmp_path / "g.xvg"), "--json"]) == 0
    j = json.loads(capsys.readouterr().out)
    assert j["n_frames"] == 11 and j["begin"] == pytest.approx(1.0) and j["n_molecules"] == 100
    assert j["molecules_from"] == "molecule numbers (tpr)"


def test_production_thermostat_choice():
    """Nose-Hoover (the default, the paper's) or V-rescale for the production; the default
    leaves the directory key of earlier runs as it was; anything else is refused."""
    nh = mdp_md(345.0, 1.2, False, 0.002, 100, 1, True)
    vr = mdp_md(345.0, 1.2, False, 0.002, 100, 1, True, thermostat="v-rescale")
    assert re.search(r"tcoupl\s*=\s*nose-hoover", nh) and "nsttcouple" in nh
    assert re.search(r"tcoupl\s*=\s*v-rescale", vr) and re.search(r"tau-t\s*=\s*0.1", vr)
    assert re.search(r"continuation\s*=\s*yes", vr) and "gen-vel         = no" in vr
    assert "thermostat" not in AASpec(345.0, 13.7, molecule="CO").key()
    assert AASpec(345.0, 13.7, molecule="CH4", thermostat="v-rescale").key()["thermostat"] == "v-rescale"
    with pytest.raises(ParameterError, match="thermostat"):
        AASpec(345.0, 13.7, molecule="CH4", thermostat="berendsen").check()
