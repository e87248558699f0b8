"""``deepilst baseline``: argument errors (one line, exit 2, nothing written) and one real tiny
VOTCA run through the command line (skipped without csg_inverse, gnuplot or gmx)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from deepilst.cli import main
from deepilst.units import ARGON_C6, ARGON_C12
from deepilst.xvg import write_xvg
from tests.conftest import needs_gmx

HAS_VOTCA = all(shutil.which(p) for p in ("csg_inverse", "gnuplot"))
needs_votca = pytest.mark.skipif(not HAS_VOTCA, reason="VOTCA-CSG or gnuplot not on PATH: "
                                 "apt-get install votca gnuplot-nox")


@pytest.fixture
def rdf_file(tmp_path):
    """A g(r)-shaped file (no MD), enough for the argument checks."""
    r = np.round(np.arange(0, 301) * 0.005, 5)
    x = r / 0.34
    g = np.where(x < 0.95, 0.0, 1.0 + 1.5 * np.exp(-(x - 1.12) ** 2 / 0.02))
    p = tmp_path / "t.xvg"
    write_xvg(p, r, [g], ["g(r)"])
    return p


def _err(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    out = capsys.readouterr()
    assert out.out == ""
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:")
    return lines[0]


def _run_err(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err.strip().startswith("error:")
    return out.err


def test_argument_errors(capsys, rdf_file, tmp_path):
    base = ["baseline", "votca-re", str(rdf_file), "-T", "345", "-d", "13.7", "--mass", "40"]
    assert "invalid choice" in _run_err(capsys, ["baseline", "lammps", str(rdf_file), "-T", "345",
                                                 "-d", "13.7", "--mass", "40"])
    assert "C12,C6" in _run_err(capsys, base + ["--start", "1e-5"])
    assert "positive" in _run_err(capsys, base + ["--start", "1e-5,-6e-3"])
    assert "positive integer" in _run_err(capsys, base + ["--iterations", "0"])
    assert "--mass" in _run_err(capsys, base[:-2])
    assert "temperature" in _err(capsys, ["baseline", "votca-re", str(rdf_file), "-T", "-5", "-d",
                                          "13.7", "--mass", "40"])
    assert "mass" in _err(capsys, base[:-1] + ["0"])
    assert "nope.xvg" in _err(capsys, ["baseline", "votca-re", str(tmp_path / "nope.xvg"), "-T",
                                       "345", "-d", "13.7", "--mass", "40"])
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("x")
    assert "not empty" in _err(capsys, base + ["--start", "1e-5,6e-3", "--work-dir", str(busy)])
    assert "prod_ps" in _err(capsys, base + ["--start", "1e-5,6e-3", "--votca-prod-ps", "0",
                                            "--work-dir", str(tmp_path / "w")])
    assert not (tmp_path / "w").exists()


@needs_votca
@needs_gmx
@pytest.mark.gromacs
def test_votca_re_through_the_command_line(capsys, tmp_path, monkeypatch):
    from deepilst.md.simulate import run_simulation
    from deepilst.md.spec import Protocol, SimSpec

    res = run_simulation(SimSpec(345.0, 13.7, ARGON_C12, ARGON_C6, engine="gromacs", seed=4,
                                 protocol=Protocol(equil_ps=10.0, prod_ps=60.0, n_particles=300)))
    target = tmp_path / "argon.xvg"
    res.write_xvg(target)
    monkeypatch.chdir(tmp_path)
    argv = ["baseline", "votca-re", str(target), "-T", "345", "-d", "13.7", "--mass", "39.948",
            "--iterations", "1", "--n-particles", "300", "--equil-ps", "5", "--prod-ps", "15",
            "--votca-prod-ps", "6", "--votca-equil-ps", "2", "--format", "json",
            "--plot", "overlay.png", "--xvg", "final.xvg"]
    assert main(argv) == 0  # the start is the network's prediction
    d = json.loads(capsys.readouterr().out)
    for k in ("C12", "C6", "sigma", "epsilon", "T_reduced", "eps_rdf", "eps_rdf_sem", "md_runs",
              "wall_s", "iterations", "converged", "basin", "notes", "units", "start", "history"):
        assert k in d, k
    assert d["method"] == "votca-re" and d["md_runs"] == 1 and d["iterations"] == 1
    assert d["C12"] == d["history"][0]["C12_new"] and d["eps_rdf"] < 0.1
    assert d["start"]["C12"] == pytest.approx(ARGON_C12, rel=0.15)  # the network's answer
    work = tmp_path / "votca-re_argon"
    for f in ("settings.xml", "scripts/run_gromacs_lj.sh", "target.xvg", "run.sh", "CG-CG.param.init"):
        assert (work / f).is_file(), f
    assert (tmp_path / "overlay.png").stat().st_size > 1000
    assert "g(r)" in (tmp_path / "final.xvg").read_text()
