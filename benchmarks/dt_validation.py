"""Validate the time step: NVE energy drift and g(r) against a small-step reference.

For states spanning the Table 1 image (cold dense liquid, supercritical argon, soft hot fluid),
and time steps given as fractions f of sigma*sqrt(m/max(eps, kB T)):
  * NVE drift (GROMACS, no thermostat, same cutoff convention): slope of the total energy
    per particle over 20 time units, in units of kB T per time unit;
  * eps_rdf between NVT g(r) at f and at f = 0.002, against the statistical error of g.

Usage: python benchmarks/dt_validation.py [--fractions 0.002,0.004,0.006,0.008]
Writes benchmarks/results/dt_validation.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from deepilst.md import Protocol, SimSpec
from deepilst.md.base import SimulationError
from deepilst.md.gromacs_engine import GromacsEngine, _run, mdp
from deepilst.md.simulate import simulate
from deepilst.rdf import eps_rdf
from deepilst.units import KB, c12_c6
from deepilst.xvg import read_xvg

HERE = Path(__file__).parent
# (label, T*, rho*, sigma, eps): physical states inside Table 1
STATES = [("cold liquid", 0.75, 0.85, 0.36, 3.5), ("argon 345 K", 2.88, 0.541, 0.34054, 0.99712),
          ("dilute argon", 2.42, 0.316, 0.34054, 0.99712), ("soft hot fluid", 60.0, 2.5, 0.55, 0.05)]


def nve_drift(spec: SimSpec, eng: GromacsEngine) -> float:
    """Drift of the total energy, kB T per particle per time unit."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        eng._prepare(spec, d)
        text = mdp(spec).replace("tcoupl          = nose-hoover", "tcoupl          = no")
        (d / "md.mdp").write_text(text)
        _run([eng.gmx, "-quiet", "grompp", "-f", "md.mdp", "-c", "conf.gro", "-p", "topol.top",
              "-o", "md.tpr", "-maxwarn", "3"], d)
        eng._mdrun(d, spec)
        _run([eng.gmx, "-quiet", "energy", "-f", "md.edr", "-o", "e.xvg"], d,
             stdin="Total-Energy\n\n")
        data, _ = read_xvg(d / "e.xvg")
    t, e = data[:, 0], data[:, 1]
    m = t > t[-1] * 0.2
    slope = np.polyfit(t[m], e[m], 1)[0]  # kJ/mol/ps, whole system
    return float(slope / spec.protocol.n_particles / (KB * spec.temperature) * spec.time_unit)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fractions", default="0.002,0.004,0.006,0.008")
    ap.add_argument("--out", default=str(HERE / "results" / "dt_validation.json"))
    a = ap.parse_args()
    fr = [float(x) for x in a.fractions.split(",")]
    eng = GromacsEngine()
    rows = []
    for label, ts, rs, sig, eps in STATES:
        c12, c6 = c12_c6(sig, eps)
        T, rho = ts * eps / KB, rs / sig**3
        ref = None
        for f in fr:
            probe = SimSpec(T, rho, c12, c6, engine="gromacs", protocol=Protocol(n_particles=1000))
            dt = f * probe.time_unit
            tu = probe.time_unit
            nve = SimSpec(T, rho, c12, c6, engine="gromacs", seed=3, protocol=Protocol(
                equil_ps=0, prod_ps=20 * tu, n_particles=1000, dt_ps=dt, sample_every=10))
            try:
                drift = nve_drift(nve, eng)
            except SimulationError as exc:
                drift = float("nan")
                print(f"{label:15s} f={f:.3f} NVE failed: {exc}", flush=True)
            try:
                rec = simulate(SimSpec(T, rho, c12, c6, engine="gromacs", seed=4, protocol=Protocol(
                    equil_ps=25 * tu, prod_ps=120 * tu, n_particles=1000, dt_ps=dt,
                    sample_every=max(10, int(round(0.4 * tu / dt / 10)) * 10))), retries=0)
            except SimulationError as exc:
                rows.append({"state": label, "T_star": ts, "rho_star": rs, "fraction": f,
                             "dt_ps": dt, "nve_drift_kT_per_tau": drift, "nvt_failed": str(exc)})
                print(f"{label:15s} f={f:.3f} NVT (Nose-Hoover) failed: {exc}", flush=True)
                continue
            r = np.array(rec["r"])
            g = np.array(rec["g"], float)
            ge = np.array(rec["g_err"], float)
            if ref is None:
                ref = (g, ge)
                e, z = 0.0, 0.0
            else:
                m = r > 0.2
                e = eps_rdf(r, g, ref[0])
                var = ge**2 + ref[1] ** 2
                m &= var > 0
                z = float(np.sqrt(np.mean((g - ref[0])[m] ** 2 / var[m])))
            row = {"state": label, "T_star": ts, "rho_star": rs, "fraction": f, "dt_ps": dt,
                   "nve_drift_kT_per_tau": drift, "eps_rdf_vs_ref": e, "rms_z_vs_ref": z,
                   "phase": rec["phase"]["label"]}
            rows.append(row)
            print(f"{label:15s} f={f:.3f} dt={dt * 1000:6.2f} fs  drift={drift:+.2e} kT/tau  "
                  f"eps_rdf={e:.4f}  rms z={z:.2f}  {row['phase']}", flush=True)
    Path(a.out).write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
