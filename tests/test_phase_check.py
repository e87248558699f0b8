"""The phase check from g(r): the shipped classifier flags the committed solids and two-phase
states and few fluids; it round-trips, fits deterministically and needs no torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deepilst.model.phase_check import PhaseCheck, default_dir, shipped

DATA = Path(__file__).resolve().parents[1] / "data"
needs_data = pytest.mark.skipif(not (DATA / "v1_test.h5").exists(), reason="datasets missing")


@pytest.fixture(scope="module")
def test_set():
    from deepilst.model.data import load_arrays

    return load_arrays(DATA / "v1_test.h5")


def test_shipped_classifier_loads():
    pc = shipped()
    assert pc is shipped()  # loaded once
    assert pc.classes == ("fluid", "two-phase", "solid") and pc.threshold == 0.5
    assert (default_dir() / "phase_check.json").is_file()
    m = pc.meta["metrics"]
    assert m["internal_test"]["recall"] == 1.0 and m["validation"]["false_alarm_rate"] < 0.02


@needs_data
def test_flags_the_committed_non_fluid_test_states(test_set):
    a = test_set
    pc = shipped()
    p = pc.predict_proba(a.g, a.T, a.rho)
    assert p.shape == (len(a), 3) and np.allclose(p.sum(axis=1), 1.0)
    flag = pc.flag(a.g, a.T, a.rho)
    fluid = a.phase == "fluid"
    assert flag[~fluid].all() and (~fluid).sum() == 22  # 10 solids, 12 two-phase
    assert flag[fluid].mean() < 0.02  # 1 of 478
    lab = pc.label(a.g, a.T, a.rho)
    assert np.sum(lab[a.phase == "two-phase"] == "two-phase") == 12
    assert np.sum(lab[a.phase == "solid"] == "solid") >= 9
    assert np.all(lab[~flag] == "fluid")


@needs_data
def test_reads_reduced_units(test_set):
    """g(x) with x = r rho^(1/3): the same structure at another density (r scaled by
    (rho / rho')^(1/3)) gets the same probabilities."""
    from deepilst.rdf import model_grid

    a = test_set
    i = np.flatnonzero(a.phase == "solid")[:3]
    r = model_grid()
    r2 = r * 1.2  # the same g(x) at density rho / 1.2^3 on a longer grid
    p1 = shipped().predict_proba(a.g[i], a.T[i], a.rho[i])
    p2 = shipped().predict_proba(a.g[i], a.T[i], a.rho[i] / 1.2**3, r=r2)
    assert np.allclose(p1, p2, atol=1e-6)


@needs_data
def test_fit_is_deterministic_and_round_trips(test_set, tmp_path):
    from deepilst.rdf import model_grid

    a = test_set
    fits = [PhaseCheck.fit(a.g, a.rho, a.phase, model_grid(), l2=1e-2).save(tmp_path / f"m{k}")
            for k in range(2)]
    for f in ("phase_check.json", "phase_check.safetensors"):
        assert (fits[0] / f).read_bytes() == (fits[1] / f).read_bytes()
    m = PhaseCheck.load(fits[0])
    assert np.allclose(m.predict_proba(a.g[:20], a.T[:20], a.rho[:20]),
                       PhaseCheck.load(fits[1]).predict_proba(a.g[:20], a.T[:20], a.rho[:20]))


def test_load_refuses_what_is_not_a_classifier(tmp_path):
    from deepilst.errors import ModelError

    with pytest.raises(ModelError, match="not a phase classifier"):
        PhaseCheck.load(tmp_path)


def test_inference_imports_no_torch():
    code = ("import sys, numpy as np; from deepilst.model.phase_check import shipped; "
            "shipped().flag(np.ones((1, 301)), 300.0, 14.0); assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
