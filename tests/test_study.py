"""Issue 5: pressure and energy from g(r) with predicted parameters; the argon study."""

from pathlib import Path

import numpy as np
import pytest

from deepilst.predict import load_model, predict_arrays
from deepilst.study import argon_study, table2_markdown, write_study
from deepilst.thermo import energy_from_rdf, pressure_from_rdf
from deepilst.units import ARGON_C6, ARGON_C12

ROOT = Path(__file__).resolve().parents[1]
ARGON = ROOT / "data" / "v1_argon.h5"


@pytest.fixture(scope="module")
def study():
    return argon_study(ARGON, load_model("ensemble"), progress=False)


def test_predicted_thermo_is_the_virial_route_with_predicted_parameters():
    from deepilst.model.data import load_arrays
    from deepilst.rdf import model_grid

    a = load_arrays(ARGON)
    d = predict_arrays(load_model("ensemble"), a.g[40], a.T[40], a.rho[40])[0]
    rc = 3 * d["sigma"]
    p = pressure_from_rdf(model_grid(), a.g[40], a.T[40], a.rho[40], d["C12"], d["C6"], rc)
    u = energy_from_rdf(model_grid(), a.g[40], a.rho[40], d["C12"], d["C6"], rc)
    assert np.isclose(d["P"], p) and np.isclose(d["U"], u)
    assert d["P_std"] > 0 and d["U_std"] > 0


def test_argon_study_table2_and_pressure(study, tmp_path):
    s = study["summary"]
    assert s["n_states"] == 121
    # the shipped model recovers argon and its pressure (issue 5: mean error < 3 %)
    assert s["C12_rel_err_pct"] < 3.0 and s["C6_rel_err_pct"] < 3.0
    assert abs(s["C12_mean"] - ARGON_C12) < 3 * s["C12_std"] + 0.03 * ARGON_C12
    assert abs(s["C6_mean"] - ARGON_C6) < 3 * s["C6_std"] + 0.03 * ARGON_C6
    assert s["pressure_virial_mean_rel_err_pct"] < 3.0
    paths = write_study(tmp_path, {"ensemble": study})
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)
    md = table2_markdown({"ensemble": s})
    assert "paper (DeepILST 2019)" in md and "ensemble" in md
    # the paper's C6 spread and the per-state error beside the error of the mean
    assert "6.23 +- 0.0053" in md and "per-state error" in md
    row = next(ln for ln in md.splitlines() if ln.startswith("| ensemble"))
    assert f"{s['C6_mape_pct']:.2f} %" in row and s["C6_mape_pct"] >= s["C6_rel_err_pct"]
