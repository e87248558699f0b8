"""The likelihood inverse (predict --method fit) and ``deepilst forward``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from deepilst.errors import ParameterError
from deepilst.model.forward import load_forward_model
from deepilst.model.inverse import fit_state
from deepilst.units import reduced_state

ROOT = Path(__file__).resolve().parents[1]
ARGON = ROOT / "examples" / "argon_330K_16.5nm3.xvg"


@pytest.fixture(scope="module")
def fm():
    return load_forward_model()


def _noisy(fm, edges, T, rho, c12, c6, seed, scale=1.0):
    """A forward-model g on ``edges`` with MD-like noise (variance ~ g / r^2 / width)."""
    g, _ = fm.shell_average(edges, T, rho, c12, c6, std=False)
    r = 0.5 * (edges[1:] + edges[:-1])
    se = scale * 0.012 * np.sqrt(np.clip(g, 0, None) / (rho * r**2) * 0.005 / np.diff(edges))
    rng = np.random.default_rng(seed)
    return g + se * rng.standard_normal(len(g)), se


@pytest.mark.parametrize("state", [(330.0, 16.5, 9.7e-6, 6.22e-3), (300.0, 10.0, 3e-5, 1.1e-2),
                                   (390.0, 18.0, 6e-6, 3e-3)])
def test_fit_recovers_a_known_state_from_a_noisy_forward_model_rdf(fm, state):
    """Noise at the level of a 350-ps run; the start 10 % off in T* and 5 % in rho*: C12 and
    C6 within 3 standard deviations (of the noise alone: the model is exact here, so the
    calibrated intervals are wider still), chi2 per point near 1."""
    T, rho, c12, c6 = state
    edges = np.round(np.arange(0, 301) * 0.005, 10)
    g, se = _noisy(fm, edges, T, rho, c12, c6, seed=1)
    t, r = reduced_state(T, rho, c12, c6)
    f = fit_state(fm, edges, g, se, rho, (1.1 * t, 0.95 * r))
    q = f.quantities(T, rho)
    assert f.converged and 0.6 < f.chi2_per_point < 1.5
    assert abs(q["C12"] - c12) < 3 * q["C12_std"] and abs(q["C6"] - c6) < 3 * q["C6_std"]
    assert q["C12_95"][0] < q["C12"] < q["C12_95"][1]


def test_fit_does_not_depend_on_the_bin_width(fm):
    """The same (noise-free) structure histogrammed at 0.001, 0.005 and 0.02 nm: the fits agree
    to 0.1 % in C12 and C6 (the model is averaged over each input's own bins)."""
    T, rho, c12, c6 = 330.0, 16.5, 9.7e-6, 6.22e-3
    t, r = reduced_state(T, rho, c12, c6)
    out = []
    for w in (0.001, 0.005, 0.02):
        edges = np.round(np.arange(0, int(1.5 / w) + 1) * w, 10)
        g, _ = fm.shell_average(edges, T, rho, c12, c6, std=False)
        se = np.full(len(g), 0.01 * np.sqrt(0.005 / w))
        q = fit_state(fm, edges, g, se, rho, (1.05 * t, r)).quantities(T, rho)
        out.append((q["C12"], q["C6"]))
    out = np.array(out)
    assert np.all(np.abs(out / [c12, c6] - 1) < 1e-3)


def test_predict_method_fit_on_md_argon_keeps_the_schema(tmp_path):
    from deepilst.predict import load_model, predict_file

    ens = load_model("ensemble")
    net = predict_file(ARGON, 330.0, 16.5, ens)
    fit = predict_file(ARGON, 330.0, 16.5, ens, method="fit", fit_plot=tmp_path / "fit.png")
    assert set(net) <= set(fit) and {"chi2_per_point", "fit"} <= set(fit)
    assert net["method"] == "network" and fit["method"] == "fit"
    for k in ("C12", "C6"):  # the truth (argon) within 3 standard deviations
        truth = {"C12": 9.70e-6, "C6": 6.22e-3}[k]
        assert abs(fit[k] - truth) < 3 * fit[k + "_std"]
    assert fit["in_domain"] and fit["chi2_per_point"] < fit["fit"]["chi2_threshold"]
    assert fit["fit"]["input_error"] == "file" and fit["fit"]["network"]["C12"] == net["C12"]
    assert (tmp_path / "fit.png").stat().st_size > 1000
    json.dumps({k: v for k, v in fit.items()})  # JSON-ready
    with pytest.raises(ParameterError):
        predict_file(ARGON, 330.0, 16.5, ens, method="simplex")


def test_water_like_rdf_fails_the_chi2_check(tmp_path):
    """The synthetic water-like g(r) of the domain tests: no LJ g(r) comes near it."""
    from deepilst.predict import predict_file
    from deepilst.xvg import write_xvg
    from tests.test_predict import _water_like

    r = np.arange(0, 1.5001, 0.002)
    write_xvg(tmp_path / "water.xvg", r, [_water_like(r)], ["g_OO"])
    d = predict_file(tmp_path / "water.xvg", 300.0, 33.4, method="fit", thermo=False)
    assert not d["in_domain"] and not d["domain"]["chi2_ok"]
    assert d["chi2_per_point"] > 10 * d["fit"]["chi2_threshold"]
    assert any("not an LJ fluid" in w for w in d["warnings"])


def test_cli_forward_and_predict_method_fit(tmp_path, capsys):
    from deepilst.cli import main

    assert main(["forward", "-T", "330", "-d", "16.5", "--c12", "9.7e-6", "--c6", "6.22e-3",
                 "--xvg", str(tmp_path / "f.xvg"), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["covered"] and len(res["g"]) == 301 and res["T_reduced"] == pytest.approx(2.7517, abs=1e-3)
    rows = [ln for ln in (tmp_path / "f.xvg").read_text().splitlines() if ln[0] not in "#@"]
    assert len(rows) == 301 and len(rows[100].split()) == 3
    assert main(["forward", "-T", "330", "-d", "16.5", "--c12", "-1", "--c6", "6.22e-3"]) == 2
    assert "error: c12" in capsys.readouterr().err
    assert main(["predict", str(ARGON), "-T", "330", "-d", "16.5", "--method", "fit",
                 "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["method"] == "fit" and "chi2_per_point" in d and d["snippets"]
    assert main(["predict", str(ARGON), str(ARGON), "-T", "330", "-d", "16.5",
                 "--fit-plot", str(tmp_path / "p.png")]) == 2
    assert "fit_plot" in capsys.readouterr().err
