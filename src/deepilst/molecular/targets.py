"""Coarse-graining targets from all-atom runs: the centre-of-mass g(r) (.xvg with standard
errors) and a JSON of the state, the reference pressure and energy, and provenance, as
``deepilst.fit.Target`` and ``benchmarks/cg_table.py`` read them (``data/cg_targets``)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from deepilst.errors import InputError
from deepilst.fileio import json_safe, write_json_atomic
from deepilst.molecular.comrdf import COMRDF, com_rdf

#: Upper end of the eps_rdf integral, nm (the model grid's end, as in ``deepilst.fit``).
EPS_R_MAX = 1.5


def noise_floor(r: np.ndarray, g: np.ndarray, g_err: np.ndarray, r_f: float = EPS_R_MAX) -> float:
    """eps_rdf (a fraction) that the target's own noise gives against its exact expectation:
    sqrt(2/pi) int g_err r^2 dr / int g r^2 dr over r <= r_f (trapezoid rule). The same number
    as ``deepilst.fit.objectives.eps_rdf_floor`` with zero model error (tested)."""
    r, g, e = (np.asarray(a, dtype=float) for a in (r, g, g_err))
    m = np.isfinite(g) & (r <= r_f + 1e-9)
    rr = r[m]
    w = np.zeros_like(rr)
    w[:-1] += 0.5 * np.diff(rr)
    w[1:] += 0.5 * np.diff(rr)
    w *= rr**2
    return float(math.sqrt(2.0 / math.pi) * np.sum(np.nan_to_num(e[m]) * w) / np.sum(g[m] * w))


def target_summary(c: COMRDF) -> dict:
    """Noise measures of a COM g(r): eps_rdf floor (fraction), first peak and its relative
    standard error."""
    rp, gp, ep = c.first_peak()
    return {"eps_rdf_floor": noise_floor(c.r, c.g, c.g_err), "r_peak": rp, "g_peak": gp,
            "g_peak_sem": ep, "g_peak_rel_err": ep / gp}


def write_target(run_dir: str | Path, out_dir: str | Path, name: str | None = None,
                 n_blocks: int = 10, begin: float = 0.0, command: str = "",
                 progress: bool = False) -> dict:
    """Write ``out_dir/NAME.xvg`` (COM g(r), r in nm, with its standard error) and
    ``out_dir/NAME.json`` from the finished run in ``run_dir`` (``deepilst aa``).

    JSON keys: ``T`` [K], ``rho`` [molecules nm^-3], ``mass`` [amu], ``P``, ``P_sem`` [bar],
    ``U``, ``U_sem`` [kJ/mol per molecule, all-atom potential energy], ``n_molecules``,
    ``prod_ps``, ``force_field``, ``com_rdf``, ``noise``, ``provenance`` (relative paths only).
    Returns the JSON.
    """
    import MDAnalysis

    d = Path(run_dir)
    rp = d / "run.json"
    if not rp.exists():
        raise InputError(f"{rp}: no finished all-atom run there (run deepilst.molecular.run_aa first)")
    rec = json.loads(rp.read_text())
    spec = rec["spec"]
    name = name or rec["molecule"]
    c = com_rdf(d / "prod.xtc", d / "prod.tpr", n_blocks=n_blocks, begin=begin,
                temperature=spec["temperature"], progress=progress)
    out = Path(out_dir)
    c.write_xvg(out / f"{name}.xvg", command)
    versions = dict(rec["versions"], MDAnalysis=MDAnalysis.__version__)
    t0, t1 = c.to_json()["begin"], c.to_json()["end"]
    scaling = []  # the same analysis on the first 1/8, 1/4, 1/2 of the production
    for f in (0.125, 0.25, 0.5):
        if f * c.n_frames < 4 * n_blocks:
            continue
        part = com_rdf(d / "prod.xtc", d / "prod.tpr", n_blocks=n_blocks, begin=begin,
                       end=t0 + f * (t1 - t0))
        scaling.append({"prod_ps": round(f * (t1 - t0), 3), **target_summary(part)})
    scaling.append({"prod_ps": round(t1 - t0, 3), **target_summary(c)})
    meta = {
        "name": name, "T": spec["temperature"], "rho": spec["density"], "mass": round(c.mass, 4),
        "P": rec["P"], "P_sem": rec["P_sem"], "U": rec["U"], "U_sem": rec["U_sem"],
        "T_md": rec["T"], "T_md_sem": rec["T_sem"], "n_molecules": spec["n_molecules"],
        "prod_ps": spec["prod_ps"], "equil_ps": spec["equil_ps"],
        "protocol": {k: spec[k] for k in ("dt_ps", "cutoff", "xtc_ps", "energy_ps", "chunk_ps")}
        | {"ensemble": "NVT", "thermostat": "V-rescale 0.1 ps (equilibration), " + (
           "V-rescale 0.1 ps (production)" if spec.get("thermostat") == "v-rescale"
           else "Nose-Hoover 0.2 ps (production)"),
           "electrostatics": "PME" if rec["charged"] else "none (no charges)",
           "vdw": "cut-off, potential-shift, DispCorr EnerPres", "constraints": "h-bonds; rigid "
           "diatomics as [ constraints ]"},
        "force_field": rec["force_field"], "com_rdf": c.to_json(), "noise": target_summary(c),
        "noise_vs_length": scaling,
        "provenance": {"command": command, "aa_command": rec.get("command", ""),
                       "versions": versions, "seed": spec["seed"], "wall_s": rec["wall_s"],
                       "cpu_s": rec["cpu_s"], "ns_per_day": rec["ns_per_day"],
                       "run_dir": d.name},
        "units": {"T": "K", "rho": "molecules nm^-3", "mass": "amu", "P": "bar",
                  "U": "kJ/mol per molecule", "r": "nm", "eps_rdf_floor": "fraction"},
    }
    write_json_atomic(out / f"{name}.json", json_safe(meta), indent=1)
    return meta
