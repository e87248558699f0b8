"""deepilst cg: network answer, CG check, the forward model's basin minima, the report and the
command."""

import json
from pathlib import Path

import numpy as np
import pytest

from deepilst.cg.basins import params_at, rise_position
from deepilst.cli import main
from deepilst.units import KB
from tests.conftest import needs_gmx

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "argon_330K_16.5nm3.xvg"
TINY = ["--n-particles", "300", "--equil-ps", "10", "--prod-ps", "40"]


def test_rise_position_interpolates_and_refuses_flat_curves():
    r = np.linspace(0.0, 1.0, 101)
    assert rise_position(r, 4.0 * r) == pytest.approx(0.25)
    with pytest.raises(ValueError):
        rise_position(r, np.zeros_like(r))


def test_params_at_gives_the_reduced_temperature_asked_for():
    p = params_at(0.37, 2.5, 345.0)
    assert p.sigma == pytest.approx(0.37) and KB * 345.0 / p.epsilon == pytest.approx(2.5)


@needs_gmx
@pytest.mark.gromacs
def test_cg_json_reports_every_candidate_with_its_basin(capsys, tmp_path):
    png, xvg = tmp_path / "fig4.png", tmp_path / "cg.xvg"
    rc = main(["cg", str(EXAMPLE), "-T", "330", "-d", "16.5", "--format", "json", "--plot",
               str(png), "--xvg", str(xvg), *TINY])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    for k in ("C12", "C6", "eps_rdf", "eps_rdf_sem", "md_runs", "wall_s", "basin", "network",
              "candidates"):
        assert k in d
    # the network's run, then the forward model's minimum of each basin not already run
    assert d["md_runs"] == len(d["candidates"]) and 2 <= d["md_runs"] <= 3
    assert any(c["name"].startswith("map minimum") for c in d["candidates"])
    assert "soft" in {c["basin"] for c in d["candidates"]}
    # argon is an LJ fluid: the network's physical answer must win, within a few per cent
    assert d["basin"] == "physical" and 0 < d["eps_rdf"] < 0.03
    assert d["C12"] == pytest.approx(9.70e-6, rel=0.05) and d["C6"] == pytest.approx(6.22e-3, rel=0.05)
    assert d["lj_chi2_per_point"] is not None and d["lj_chi2_per_point"] < 3  # an LJ fluid
    assert png.stat().st_size > 10_000 and xvg.read_text().count("\n") > 200
    assert "rc_sigma*sigma" not in xvg.read_text()


def test_cg_bad_inputs_are_one_line_errors(capsys, tmp_path):
    assert main(["cg", str(tmp_path / "missing.xvg"), "-T", "330", "-d", "16.5"]) == 2
    assert main(["cg", str(EXAMPLE), "-T", "330", "-d", "16.5", "--mass", "-3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(e.startswith("error:") for e in err)
    assert "missing.xvg" in err[0] and "mass" in err[1]
    with pytest.raises(SystemExit) as exc:
        main(["cg", str(EXAMPLE), "-T", "330", "-d", "16.5", "--refine", "simplex"])
    assert exc.value.code == 2
    for cmd in (["cg"], ["baseline", "re"]):
        with pytest.raises(SystemExit) as exc:
            main([*cmd, str(EXAMPLE), "-T", "330", "-d", "16.5", "--mass", "40", "--max-beads", "0"])
        assert exc.value.code == 2
    assert "--max-beads" in capsys.readouterr().err


def test_map_starts_find_the_true_parameters_of_an_lj_fluid_without_md():
    """The shipped argon example (an LJ fluid): the forward model's eps_rdf minimum in the
    physical basin lies at the true parameters within a few per cent, before any CG run."""
    from deepilst.cg.workflow import map_starts
    from deepilst.fit import Target
    from deepilst.predict import predict_file

    t = Target.from_file(EXAMPLE, 330.0, 16.5)
    starts = map_starts(t, predict_file(EXAMPLE, 330.0, 16.5, thermo=False), n=60, kl=True)
    c12, c6 = starts["physical"]
    assert c12 == pytest.approx(9.70e-6, rel=0.04) and c6 == pytest.approx(6.22e-3, rel=0.04)
    c12, c6 = starts["kl"]  # relative entropy's minimum: the same parameters for an LJ fluid
    assert c12 == pytest.approx(9.70e-6, rel=0.05) and c6 == pytest.approx(6.22e-3, rel=0.05)


def test_a_model_that_cannot_be_run_is_reported_not_raised():
    """The C2H6 COM target made the network answer T* = 3.5e5 with a bead whose cutoff exceeds
    half the box: that candidate is dropped with its reason, the others still run."""
    from deepilst.cg.workflow import _try_run
    from deepilst.errors import ParameterError

    class Ev:
        def run(self, c12, c6):
            if c12 > 1e-3:
                raise ParameterError("box too small: cutoff 2.4 nm >= half box 2.1 nm\nmore")
            return ("ran", c12, c6)

    assert _try_run(Ev(), 2.0e-3, 1e-5) == (None, "box too small: cutoff 2.4 nm >= half box 2.1 nm")
    assert _try_run(Ev(), 1e-5, 6e-3) == (("ran", 1e-5, 6e-3), "")
