"""Typed results and the one record encode/decode; the CLI's error boundary."""

import math
import subprocess
import sys

import numpy as np
import pytest

from deepilst.errors import (
    DatasetError,
    DeepILSTError,
    EngineUnavailable,
    InputError,
    ModelError,
    ParameterError,
    SimulationError,
)
from deepilst.results import Estimate, SimulationResult, decode_array, encode_array


def test_encode_decode_round_trip_keeps_nan():
    a = np.array([0.0, 1.23456789, np.nan, np.inf, -2.5e-7])
    enc = encode_array(a, 6)
    assert enc[2] is None and enc[3] is None and enc[1] == 1.23457
    back = decode_array(enc)
    assert np.isnan(back[2]) and np.isnan(back[3]) and back[4] == -2.5e-7


def test_estimate_from_record_form():
    e = Estimate.from_json({"mean": 1.5, "sem": None})
    assert e.mean == 1.5 and math.isnan(e.sem)
    assert f"{Estimate(1.0, 0.25):.2f}" == "1.00 +- 0.25"
    assert Estimate.from_json(Estimate(2.0, 0.1).to_json()) == Estimate(2.0, 0.1)


def _record():
    r = np.round(np.arange(301) * 0.005, 10)
    g = np.where(r > 0.3, 1.0 + np.exp(-((r - 0.38) / 0.03) ** 2), 0.0)
    return {"spec": {"temperature": 300.0, "density": 14.0, "c12": 9.7e-6, "c6": 6.22e-3},
            "r": r.tolist(), "g": encode_array(g), "g_err": encode_array(np.full(301, 0.01)),
            "energy": {"mean": -3.0, "sem": 0.01}, "pressure": {"mean": 500.0, "sem": 5.0},
            "temperature_measured": {"mean": 300.1, "sem": 0.2},
            "phase": {"label": "fluid"}, "equilibration": {"passed": True}, "engine": "gromacs",
            "sigma": 0.3405, "epsilon": 0.997, "T_star": 2.5, "rho_star": 0.55, "rc": 1.02,
            "cutoff_convention": "x", "wall_s": 1.0}


def test_simulation_result_decodes_and_summarises():
    res = SimulationResult.from_record(_record())
    assert res.U == Estimate(-3.0, 0.01) and res.P.mean == 500.0 and res.T == 300.0
    rp, gp, _ = res.first_peak()
    assert rp == pytest.approx(0.38) and gp == pytest.approx(2.0)
    s = res.summary()
    for k in ("T", "rho", "C12", "C6", "T_reduced", "rho_reduced", "U", "U_sem", "P", "P_sem"):
        assert k in s
    assert s["units"]["P"] == "bar"
    with pytest.raises(KeyError):
        SimulationResult.from_record({"spec": {}})


@pytest.mark.parametrize("cls", [ParameterError, InputError, DatasetError, ModelError])
def test_input_errors_are_value_errors(cls):
    assert issubclass(cls, DeepILSTError) and issubclass(cls, ValueError)


@pytest.mark.parametrize("cls", [EngineUnavailable, SimulationError])
def test_run_errors_are_runtime_errors(cls):
    assert issubclass(cls, DeepILSTError) and issubclass(cls, RuntimeError)


def test_cli_keeps_tracebacks_of_bugs(monkeypatch, capsys):
    """Only deliberate errors become one line; a bug (a plain ValueError) propagates."""
    import argparse

    from deepilst.cli._common import run_handler

    def bug(a):
        raise ValueError("numpy said something")

    def user(a):
        raise ParameterError("temperature must be positive")

    with pytest.raises(ValueError, match="numpy"):
        run_handler(bug, argparse.Namespace())
    assert run_handler(user, argparse.Namespace()) == 2
    assert capsys.readouterr().err == "error: temperature must be positive\n"


def test_cli_missing_file_is_one_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "deepilst.cli", "predict", str(tmp_path / "no.xvg"),
                        "-T", "300", "-d", "14"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "no.xvg" in r.stderr
