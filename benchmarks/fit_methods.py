"""Our CG fitting methods (relative entropy, simplex, IBI) measured on a non-LJ target.

Until the all-atom COM targets exist, the target is a Mie 8-6 fluid (softer repulsion than LJ,
so no LJ reproduces its g(r) exactly, as for molecular COM RDFs) at the paper's CG state,
345 K and 13.7 nm^-3, bead mass 28 amu, simulated with a tabulated potential in OpenMM
(1000 beads, 50 + 1000 ps). Steps (each resumable; results in runs/fit_methods/, git-ignored):

    flock /tmp/deepilst-md.lock python benchmarks/fit_methods.py target
    flock /tmp/deepilst-md.lock python benchmarks/fit_methods.py gradcheck   # error of A.6
    flock /tmp/deepilst-md.lock python benchmarks/fit_methods.py re-poor re-good simplex ibi
    python benchmarks/fit_methods.py report     # -> benchmarks/results/fit_methods.json

Every CG run uses ``CGProtocol()`` defaults (1000 beads, 50 + 250 ps, GROMACS; IBI: OpenMM).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "runs" / "fit_methods"
T, RHO, MASS = 345.0, 13.7, 28.0
MIE = {"n": 8, "m": 6, "sigma": 0.37, "epsilon": 1.0}  # nm, kJ/mol
POOR_START = (9.70e-6, 6.22e-3)  # argon's parameters
SEED = 2026


def mie_table(rc_sigma: float = 3.0, dr: float = 0.001):
    from deepilst.potentials import TabulatedPotential

    n, m, s, e = MIE["n"], MIE["m"], MIE["sigma"], MIE["epsilon"]
    c = n / (n - m) * (n / m) ** (m / (n - m)) * e
    r = np.arange(0.6 * s, rc_sigma * s + 0.5 * dr, dr)
    return TabulatedPotential(r, c * ((s / r) ** n - (s / r) ** m))


def target_path() -> Path:
    return RUNS / "target_mie86.json"


def make_target() -> dict:
    from dataclasses import replace

    from deepilst.fileio import json_safe, write_json_atomic
    from deepilst.fit.cgmd import table_reference
    from deepilst.md.simulate import simulate
    from deepilst.md.spec import PairTable, Protocol, SimSpec

    f = target_path()
    if f.exists():
        return json.loads(f.read_text())
    tab = mie_table()
    ref = table_reference(tab, T)
    spec = SimSpec(T, RHO, ref.c12, ref.c6, engine="openmm", seed=SEED,
                   protocol=Protocol(equil_ps=50, prod_ps=1000, n_particles=1000, mass=MASS))
    spec = replace(spec, table=PairTable.from_potential(tab))
    t0 = time.perf_counter()
    rec = simulate(spec)
    print(f"target: {time.perf_counter() - t0:.0f} s, U {rec['energy']}, P {rec['pressure']}")
    write_json_atomic(f, json_safe(rec))
    return rec


def load_target():
    from deepilst.fit import Target
    from deepilst.results import SimulationResult

    res = SimulationResult.from_record(json.loads(target_path().read_text()))
    return Target(res.r, res.g, res.g_err, T, RHO, MASS, "mie86", res.P.mean, res.P.sem)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("steps", nargs="+")
    a = ap.parse_args(argv)
    RUNS.mkdir(parents=True, exist_ok=True)
    for step in a.steps:
        if step == "target":
            make_target()
        else:
            print(f"unknown step {step}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
