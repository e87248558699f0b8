import numpy as np
import pytest

from deepilst.md.simulate import simulate
from deepilst.md.system import lattice_positions
from deepilst.phase import PhaseDetector

from .helpers import argon_spec


def test_synthetic_phases():
    rng = np.random.default_rng(0)
    box = 4.0
    fcc = lattice_positions(500, box, seed=1) + rng.normal(0, 0.02, (500, 3))
    assert PhaseDetector().compute(fcc, box).label == "solid"
    gas = rng.uniform(0, box, (500, 3))
    assert PhaseDetector().compute(gas, box).label == "fluid"
    slab = rng.uniform(0, box, (500, 3))
    slab[:, 2] *= 0.35  # all particles in a third of the box
    det = PhaseDetector().compute(slab, box)
    assert det.label == "two-phase" and det.dispersion_index > 3


def test_results_raise_before_compute():
    with pytest.raises(AttributeError):
        PhaseDetector().label


@pytest.mark.parametrize("t_star,rho_star,label,equil", [
    (2.88, 0.541, "fluid", 20.0),      # supercritical argon, 345 K, 13.7 nm^-3
    (0.8, 1.1, "solid", 20.0),         # LJ solid
    (0.9, 0.3, "two-phase", 100.0),    # inside the liquid-vapour coexistence region
])
def test_known_states(t_star, rho_star, label, equil):
    from deepilst.md.simulate import resolve_engine

    rec = simulate(argon_spec(t_star, rho_star, resolve_engine("auto"), equil_ps=equil,
                              prod_ps=100.0, seed=3))
    assert rec["phase"]["label"] == label, rec["phase"]
