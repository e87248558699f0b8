"""Prediction with the shipped models: CLI, JSON keys, round trip through MD, domain checks."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deepilst.predict import load_model, predict_arrays, predict_file
from deepilst.rdf import model_grid
from deepilst.units import KB, c12_c6
from deepilst.xvg import write_xvg

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "argon_330K_16.5nm3.xvg"
KEYS = {"schema", "T", "rho", "C12", "C6", "sigma", "epsilon", "C12_std", "C6_std", "C12_95",
        "C6_95", "T_reduced", "rho_reduced", "T_reduced_std", "in_domain", "warnings", "P", "U",
        "P_std", "U_std", "rc_sigma", "cutoff_convention", "units"}


def cli(*args):
    return subprocess.run([sys.executable, "-m", "deepilst.cli", *args], capture_output=True,
                          text=True, timeout=300, env=dict(os.environ))


@pytest.fixture(scope="module")
def ens():
    return load_model("ensemble")


def test_predict_cli_json_on_shipped_example():
    r = cli("predict", str(EXAMPLE), "--temperature", "330", "--density", "16.5", "--format", "json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert KEYS <= set(d)
    assert isinstance(d["in_domain"], bool) and isinstance(d["warnings"], list)
    assert "[ atomtypes ]" in d["snippets"]["gromacs"]
    # argon: C12 9.70e-6, C6 6.22e-3 within 3 predicted standard deviations
    assert abs(d["C12"] - 9.70e-6) < 3 * d["C12_std"]
    assert abs(d["C6"] - 6.22e-3) < 3 * d["C6_std"]


def test_predict_does_not_import_torch():
    code = ("import sys; from deepilst.cli import main; from deepilst.predict import predict_file;"
            f"predict_file({str(EXAMPLE)!r}, 330, 16.5); print('torch' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


def test_round_trip_through_md(ens, tmp_path):
    """Simulate an LJ fluid that is in no dataset, predict, recover (C12, C6) within the
    stated uncertainty (3 standard deviations; the 95 % interval is 1.96)."""
    from deepilst.md import Protocol, SimSpec
    from deepilst.md.simulate import simulate

    c12, c6 = c12_c6(0.372, 1.25)  # sigma 0.372 nm, eps 1.25 kJ/mol
    T, rho = 352.0, 11.3
    rec = simulate(SimSpec(T, rho, c12, c6, seed=5,
                           protocol=Protocol(equil_ps=30, prod_ps=250, n_particles=1000)))
    g = np.array([np.nan if v is None else v for v in rec["g"]])
    write_xvg(tmp_path / "rt.xvg", model_grid(), [g], ["g(r)"])
    d = predict_file(tmp_path / "rt.xvg", T, rho, ens)
    assert d["in_domain"], d["warnings"]
    assert abs(d["C12"] - c12) < 3 * d["C12_std"], (d["C12"], c12, d["C12_std"])
    assert abs(d["C6"] - c6) < 3 * d["C6_std"], (d["C6"], c6, d["C6_std"])
    assert abs(d["T_reduced"] - KB * T / 1.25) < 3 * d["epsilon_std"] / 1.25 * d["T_reduced"] + 1e-9
    # the pressure implied by g and the predicted potential is close to the run's own
    assert abs(d["P"] - rec["pressure"]["mean"]) < 3 * d["P_std"] + 50


def _water_like(r):
    g = np.zeros_like(r)
    m = r > 0.24
    x = r[m]
    g[m] = (1 + 1.9 * np.exp(-((x - 0.28) / 0.018) ** 2) - 0.25 * np.exp(-((x - 0.335) / 0.03) ** 2)
            + 0.17 * np.exp(-((x - 0.45) / 0.04) ** 2) - 0.1 * np.exp(-((x - 0.55) / 0.05) ** 2)
            + 0.05 * np.exp(-((x - 0.68) / 0.06) ** 2))
    g[m] *= 1 - np.exp(-((x - 0.24) / 0.015) ** 2)
    return g


@pytest.mark.parametrize("name", ["ensemble", "paper"])
def test_water_like_rdf_is_flagged_out_of_domain(name, tmp_path):
    r = np.arange(0, 1.5001, 0.002)
    write_xvg(tmp_path / "water.xvg", r, [_water_like(r)], ["g_OO"])
    d = predict_file(tmp_path / "water.xvg", 300.0, 33.4, load_model(name))
    assert not d["in_domain"]
    assert d["warnings"]
    assert not d["domain"]["state_in_training_box"]


def test_batch_equals_single(ens):
    from deepilst.model.data import load_arrays

    a = load_arrays(ROOT / "data" / "v1_argon.h5")
    idx = [0, 17, 60, 120]
    batch = predict_arrays(ens, a.g[idx], a.T[idx], a.rho[idx], thermo=False)
    for j, i in enumerate(idx):
        one = predict_arrays(ens, a.g[i], a.T[i], a.rho[i], thermo=False)[0]
        for k in ("C12", "C6", "C12_std", "C6_std", "in_domain"):
            assert np.isclose(one[k], batch[j][k], rtol=1e-9), k


@pytest.mark.parametrize("args,needle", [
    (["--temperature", "-3", "--density", "16.5"], "temperature"),
    (["--temperature", "330", "--density", "0"], "density"),
    (["--temperature", "330", "--density", "16.5", "--model", "nonexistent"], "nonexistent"),
    (["--temperature", "330", "--density", "16.5", "--column", "5"], "column"),
])
def test_predict_bad_input_one_line(args, needle):
    r = cli("predict", str(EXAMPLE), *args)
    assert r.returncode != 0
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0], r.stderr


def test_predict_rejects_short_and_bad_files(tmp_path):
    short = tmp_path / "short.xvg"
    r = np.arange(0, 1.0, 0.01)
    write_xvg(short, r, [np.ones_like(r)], ["g"])
    bad = tmp_path / "bad.xvg"
    bad.write_text("".join(f"{x:.3f} {'nan' if i == 50 else 1.0}\n"
                           for i, x in enumerate(np.arange(0, 1.6, 0.01))))
    for f, needle in ((short, "covers"), (bad, "non-finite")):
        res = cli("predict", str(f), "-T", "330", "-d", "16.5")
        assert res.returncode != 0 and needle in res.stderr and "Traceback" not in res.stderr


def test_validate_with_predicted_parameters(tmp_path):
    r = cli("validate", str(EXAMPLE), "-T", "330", "-d", "16.5", "--n-particles", "500",
            "--equil-ps", "10", "--prod-ps", "40", "--json", "--plot", str(tmp_path / "o.png"))
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["parameters"] == "predicted"
    assert d["eps_rdf"] < 0.03  # the predicted argon reproduces the input g(r)
    assert (tmp_path / "o.png").stat().st_size > 0


@pytest.mark.parametrize("T,rho", [(290.0, 8.0), (400.0, 19.4), (345.0, 13.7)])
def test_table1_edges_are_inside_the_training_box(ens, T, rho):
    """Table 1's own edge states are not reported outside the training box (regression: the
    box was the sampled min/max, 290.0005-399.997 K)."""
    g = load_arrays_argon_g()
    d = predict_arrays(ens, g, T, rho, thermo=False)[0]
    assert d["domain"]["state_in_training_box"], d["warnings"]
    assert not any("training box" in w for w in d["warnings"])


def load_arrays_argon_g():
    from deepilst.model.data import load_arrays

    return load_arrays(ROOT / "data" / "v1_argon.h5").g[60]


def test_intervals_include_the_input_noise(ens, tmp_path):
    """A short run's g gets wider intervals than a 350-ps one; the error column is read."""
    g = np.loadtxt(EXAMPLE, comments=("#", "@"))
    d350 = predict_file(EXAMPLE, 330.0, 16.5, ens, thermo=False)
    assert d350["input_noise"]["source"] == "file"
    d20 = predict_file(EXAMPLE, 330.0, 16.5, ens, thermo=False, err_column=None, prod_ps=20.0)
    assert d20["input_noise"]["source"] == "prod_ps" and d20["input_noise"]["excess_weight"] > 0.5
    assert d20["C12_std"] > 1.5 * d350["C12_std"] and d20["C6_std"] > 1.5 * d350["C6_std"]
    assert d20["C12"] == d350["C12"]  # the estimate itself is unchanged
    off = predict_file(EXAMPLE, 330.0, 16.5, ens, thermo=False, input_noise=False)
    assert "input_noise" not in off
    noisy = g[:, 1] + 4.0 * g[:, 2] * np.random.default_rng(0).standard_normal(len(g))
    write_xvg(tmp_path / "noisy.xvg", g[:, 0], [noisy], legends=["g(r)"])
    dn = predict_file(tmp_path / "noisy.xvg", 330.0, 16.5, ens, thermo=False)
    assert dn["input_noise"]["source"] == "scatter" and dn["input_noise"]["noise_ratio"] > 5
    assert dn["C12_std"] > d350["C12_std"]
