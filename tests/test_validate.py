import json
import subprocess
import sys
from pathlib import Path

import pytest

from deepilst.dataset import export_xvg
from deepilst.md import Protocol
from deepilst.rdfio import load_rdf
from deepilst.validate import validate_params

ARGON = Path(__file__).resolve().parents[1] / "data" / "v1_argon.h5"
PROTO = Protocol(equil_ps=10, prod_ps=60, n_particles=500)


@pytest.fixture(scope="module")
def argon_345(tmp_path_factory):
    if not ARGON.exists():
        pytest.skip("data/v1_argon.h5 not committed")
    p = tmp_path_factory.mktemp("v") / "argon_345K_13.7.xvg"
    export_xvg(ARGON, 60, p)  # T = 345 K, rho = 13.7 nm^-3 (the grid's centre)
    return p


def test_right_parameters_reproduce_the_rdf(argon_345):
    r, g = load_rdf(argon_345)
    good = validate_params(r, g, 345.0, 13.7, 9.70e-6, 6.22e-3, protocol=PROTO, seed=3)
    bad = validate_params(r, g, 345.0, 13.7, 2.0 * 9.70e-6, 6.22e-3, protocol=PROTO, seed=3)
    assert good["eps_rdf"] < 0.02
    assert bad["eps_rdf"] > 2 * good["eps_rdf"]
    # pressure implied by the input g(r) and by the run agree for the right parameters
    assert good["P_from_input_rdf"] == pytest.approx(good["P"], rel=0.03)


def test_cli_json(argon_345, tmp_path):
    png = tmp_path / "overlay.png"
    r = subprocess.run([sys.executable, "-m", "deepilst.cli", "validate", str(argon_345), "-T", "345",
                        "-d", "13.7", "--params", "9.70e-6,6.22e-3", "--n-particles", "500",
                        "--equil-ps", "10", "--prod-ps", "40", "--plot", str(png), "--json"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    js = json.loads(r.stdout)
    assert js["eps_rdf"] < 0.03 and png.stat().st_size > 1000
    bad = subprocess.run([sys.executable, "-m", "deepilst.cli", "validate", str(argon_345), "-T", "345",
                          "-d", "13.7", "--params", "9.7e-6"], capture_output=True, text=True)
    assert bad.returncode != 0 and bad.stderr.startswith("error:") and "C12,C6" in bad.stderr


def test_validate_file_predicts_when_no_parameters_are_given(argon_345):
    """Without parameters the model's prediction is validated (the step the CLI used to do)."""
    from deepilst.validate import format_text, validate_file

    res = validate_file(argon_345, 345.0, 13.7, protocol=PROTO, seed=4)
    assert res["parameters"] == "predicted" and isinstance(res["warnings"], list)
    assert abs(res["C12"] - 9.70e-6) / 9.70e-6 < 0.05 and res["eps_rdf"] < 0.03
    assert "eps_rdf" in format_text(res) and res["units"]["eps_rdf"] == "fraction"


@pytest.mark.parametrize("text", ["9.7e-6", "a,b", "9.7e-6,-1", "1,2,3"])
def test_parse_params_rejects(text):
    from deepilst.errors import ParameterError
    from deepilst.validate import parse_params

    with pytest.raises(ParameterError, match="C12|C6|params"):
        parse_params(text)
