"""Issue-2 acceptance numbers in one table: pressure and energy of the LJ fluid against the
Thol (2016) EOS on both engines, and the GROMACS vs OpenMM g(r) of argon at 345 K, 13.7 nm^-3.

Usage: python benchmarks/validate_engines.py [--n 500] [--prod-ps 200]
Writes benchmarks/results/validate_engines.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from deepilst.md import Protocol, SimSpec
from deepilst.md.gromacs_engine import GromacsEngine
from deepilst.md.simulate import simulate
from deepilst.rdf import eps_rdf
from deepilst.thermo import lj_eos
from deepilst.units import ARGON_C6, ARGON_C12, KB, sigma_epsilon

HERE = Path(__file__).parent
STATES = [(1.0, 0.8), (1.5, 0.7), (2.88, 0.541)]


def arr(x):
    return np.array([np.nan if v is None else v for v in x], dtype=float)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--prod-ps", type=float, default=200.0)
    a = ap.parse_args()
    engines = (["gromacs"] if GromacsEngine.available() else []) + ["openmm"]
    sig, eps = sigma_epsilon(ARGON_C12, ARGON_C6)
    proto = Protocol(equil_ps=30, prod_ps=a.prod_ps, n_particles=a.n)
    out = {"eos": [], "cross_engine": None}
    print(f"{'engine':8s} {'T*':>5s} {'rho*':>6s} {'P/bar':>10s} {'+-':>6s} {'P_EOS':>9s} {'dP%':>6s}"
          f" {'z':>5s} {'U/N':>8s} {'+-':>6s} {'U_EOS':>8s} {'dU%':>6s} {'z':>5s}")
    for eng in engines:
        for ts, rs in STATES:
            spec = SimSpec(ts * eps / KB, rs / sig**3, ARGON_C12, ARGON_C6, engine=eng, seed=21,
                           protocol=proto)
            rec = simulate(spec)
            p_ref, u_ref = lj_eos(spec.temperature, spec.density, spec.c12, spec.c6)
            p, ps = rec["pressure"]["mean"], rec["pressure"]["sem"]
            u, us = rec["energy"]["mean"], rec["energy"]["sem"]
            row = {"engine": eng, "T_star": ts, "rho_star": rs, "P": p, "P_sem": ps, "P_eos": p_ref,
                   "U": u, "U_sem": us, "U_eos": u_ref, "phase": rec["phase"]["label"]}
            out["eos"].append(row)
            print(f"{eng:8s} {ts:5.2f} {rs:6.3f} {p:10.1f} {ps:6.1f} {p_ref:9.1f} "
                  f"{100 * (p - p_ref) / p_ref:6.2f} {(p - p_ref) / ps:5.1f} {u:8.4f} {us:6.4f} "
                  f"{u_ref:8.4f} {100 * (u - u_ref) / abs(u_ref):6.2f} {(u - u_ref) / us:5.1f}",
                  flush=True)
    if len(engines) == 2:
        recs = [simulate(SimSpec(345.0, 13.7, ARGON_C12, ARGON_C6, engine=e, seed=5,
                                 protocol=proto)) for e in engines]
        r = arr(recs[0]["r"])
        g1, g2 = arr(recs[0]["g"]), arr(recs[1]["g"])
        e1, e2 = arr(recs[0]["g_err"]), arr(recs[1]["g_err"])
        m = r > 0.3
        z = np.abs(g1[m] - g2[m]) / np.sqrt(e1[m] ** 2 + e2[m] ** 2)
        out["cross_engine"] = {"eps_rdf": eps_rdf(r, g1, g2), "frac_within_3se": float(np.mean(z < 3)),
                               "mean_z2": float(np.mean(z**2))}
        print("argon 345 K, 13.7 nm^-3, GROMACS vs OpenMM:", out["cross_engine"])
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "validate_engines.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
