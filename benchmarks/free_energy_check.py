"""The Helmholtz energy of deepilst's CG LJ model: teqp's Thol EOS (full LJ) against our own MD,
and a correction fitted to our MD that the eps_KL maps use (``deepilst.freeenergy``).

    python benchmarks/free_energy_check.py fit      # fit on v1_train, validate on v1_test and
                                                    # v1_transfer; writes the shipped correction
    python benchmarks/free_energy_check.py ti       # MD chains (resumable; each run takes
                                                    # the shared MD lock, $TMPDIR/deepilst-md.lock)
    python benchmarks/free_energy_check.py report   # TI along an isochore and an isotherm
    python benchmarks/free_energy_check.py kl       # what F's error does to the eps_KL minimum

The correction is fitted to the residuals of the MD energies and pressures of the fluid states
of ``data/v1_train.h5`` (two-phase, solid and states inside the Thol binodal left out):
-d delta_a / d ln T* = beta U_TS,MD + b/T* - beta U_Thol and rho* d delta_a / d rho* =
Z_MD - Z_Thol, U_TS = U_MD - u(rc) n_c / 2 - U_tail the energy of the truncated-shifted
model the MD samples (n_c, neighbours inside rc, from each run's fine g(r)). Independent check:
thermodynamic integration of new MD along an isochore (d(beta A)/d ln T* = -beta U_TS) and an
isotherm (d(beta A)/d rho* = (Z - 1)/rho*), against the model's differences of beta A / N.
Results: benchmarks/results/free_energy_check.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "free_energy_check.json"
RUNS = ROOT / "runs" / "free_energy"
FLOOR_U, FLOOR_Z = 0.002, 0.01  # model floors added to the MD standard errors in the fit weights
SHAPE = (6, 8)                  # (powers of rho*, Chebyshev terms in ln T*), chosen on validation
SHAPES = [(3, 5), (4, 6), (5, 7), (6, 8), (6, 10), (8, 10)]
TAU_RANGE = (math.log(0.7), math.log(400.0))
T_BINS = [(0.7, 1.5), (1.5, 3), (3, 6), (6, 10), (10, 20), (20, 50), (50, 1e9)]
# TI chains: one isochore and one isotherm through the soft and the physical basins
ISOCHORE_RHO, ISOCHORE_T = 0.8, (1.5, 60.0)
ISOTHERM_T, ISOTHERM_RHO = 20.0, (0.5, 1.6)
N_NODES = 8
SEED = 4100


def _rel(p: Path) -> str:
    return str(Path(p).resolve().relative_to(ROOT))


def coordination(fine_g: np.ndarray, fine_dr: float, density: float, rc: float) -> float:
    """Neighbours inside rc [nm], rho int_0^rc g 4 pi r^2 dr, from a histogram from r = 0."""
    g = np.nan_to_num(np.asarray(fine_g, float))
    e = np.arange(len(g) + 1) * fine_dr
    k = min(int(rc // fine_dr), len(g) - 1)
    vol = 4.0 * math.pi / 3.0 * (e[1:] ** 3 - e[:-1] ** 3)
    return float(density * (np.sum(g[:k] * vol[:k]) + g[k] * 4.0 * math.pi / 3.0 * (rc**3 - e[k] ** 3)))


def md_residuals(T, rho, eps, rc, U, U_sem, P, P_sem, n_c, T_red, rho_red, n_particles) -> dict:
    """beta U_TS + b/T* and Z of MD runs, their residuals against Thol, and errors. Excess
    energies and pressures are scaled by N / (N - 1): a run's pair sums hold N (N - 1) / 2
    pairs, while (rho / 2) int u g 4 pi r^2 dr of its g(r) (normalised to those pairs), the
    way a target's energy is computed, counts N^2 / 2; the surface is fitted in the latter
    normalisation (the thermodynamic limit's, to O(S(0) / N))."""
    from deepilst.freeenergy import thol
    from deepilst.units import KB, KJ_MOL_NM3_TO_BAR

    beta = 1.0 / (KB * np.asarray(T, float))
    f = np.asarray(n_particles, float) / (np.asarray(n_particles, float) - 1.0)
    u_rc = 4.0 * (3.0**-12 - 3.0**-6) * np.asarray(eps, float)
    n_id = np.asarray(rho) * 4.0 * math.pi / 3.0 * np.asarray(rc) ** 3
    bu = f * beta * np.asarray(U) - beta * u_rc * (np.asarray(n_c) - n_id) / 2.0
    z = 1.0 + f * (np.asarray(P) / KJ_MOL_NM3_TO_BAR * beta / np.asarray(rho) - 1.0)
    _, u_th, z_th = thol(T_red, rho_red)
    return {"T_reduced": np.asarray(T_red, float), "rho_reduced": np.asarray(rho_red, float),
            "r_u": bu - u_th, "r_z": z - z_th, "u_sem": f * beta * np.asarray(U_sem),
            "z_sem": f * np.asarray(P_sem) / KJ_MOL_NM3_TO_BAR * beta / np.asarray(rho),
            "beta_U": bu, "Z": z}


def collect(path: Path, binodal: dict) -> dict:
    """Residuals of every fluid state of a dataset outside the Thol binodal."""
    from deepilst.dataset.read import open_dataset
    from deepilst.freeenergy import LJFreeEnergy

    with open_dataset(path) as h:
        s = h["sims"]
        fdr = float(h["fine_dr"][()])
        d = {k: s[k][:] for k in ("T", "rho", "T_reduced", "rho_reduced", "epsilon", "U", "U_sem",
                                  "P", "P_sem", "phase", "rc", "n_particles")}
        fine = s["fine_g"][:]
    n_c = np.array([coordination(fine[i], fdr, d["rho"][i], d["rc"][i]) for i in range(len(d["T"]))])
    res = md_residuals(d["T"], d["rho"], d["epsilon"], d["rc"], d["U"], d["U_sem"], d["P"], d["P_sem"],
                       n_c, d["T_reduced"], d["rho_reduced"], d["n_particles"])
    fluid = d["phase"] == b"fluid"
    inside = LJFreeEnergy({"binodal": binodal}).in_binodal(d["T_reduced"], d["rho_reduced"])
    keep = fluid & ~inside
    out = {k: v[keep] for k, v in res.items()}
    out["n_fluid"], out["n_in_binodal"] = int(fluid.sum()), int((fluid & inside).sum())
    return out


def table(d: dict, corr) -> list[dict]:
    """rms residuals of beta U [kB T] and Z by T* bin, before (Thol) and after the correction."""
    if corr is None:
        du = dz = np.zeros_like(d["r_u"])
    else:
        _, du, dz = corr(d["T_reduced"], d["rho_reduced"])
    rows = []
    for lo, hi in T_BINS:
        k = (d["T_reduced"] >= lo) & (d["T_reduced"] < hi)
        if k.any():
            rows.append({"T_reduced": [lo, hi], "n": int(k.sum()),
                         "beta_U_rms": float(np.sqrt(np.mean((d["r_u"][k] - du[k]) ** 2))),
                         "Z_rms": float(np.sqrt(np.mean((d["r_z"][k] - dz[k]) ** 2))),
                         "beta_U_sem_median": float(np.median(d["u_sem"][k])),
                         "Z_sem_median": float(np.median(d["z_sem"][k]))})
    return rows


def fit(args) -> dict:
    from scipy.spatial import ConvexHull

    from deepilst import __version__
    from deepilst.freeenergy import CORRECTION_PATH, binodal_table, fit_correction

    t0 = time.perf_counter()
    binodal = binodal_table()
    sets = {name: collect(ROOT / "data" / f"v1_{name}.h5", binodal) for name in ("train", "test", "transfer")}
    tr = sets["train"]

    def fitted(shape):
        return fit_correction(tr["T_reduced"], tr["rho_reduced"], tr["r_u"], np.hypot(tr["u_sem"], FLOOR_U),
                              tr["r_z"], np.hypot(tr["z_sem"], FLOOR_Z), n_rho=shape[0], n_tau=shape[1],
                              tau_range=TAU_RANGE)

    screen = {f"{a}x{b}": {n: table(d, fitted((a, b))) for n, d in sets.items()} for a, b in SHAPES}
    corr = fitted(SHAPE)
    pts = np.column_stack([np.log(tr["T_reduced"]), tr["rho_reduced"]])
    hull = ConvexHull(pts)
    meta = {"kind": "LJ Helmholtz energy, Thol 2016 (teqp) + correction fitted to deepilst MD",
            "rc_sigma": 3.0, "correction": corr.to_json(),
            "hull": {"space": "(ln T_reduced, rho_reduced)", "equations": hull.equations.tolist()},
            "binodal": binodal,
            "fit": {"data": "data/v1_train.h5 fluid states outside the binodal", "n_states": len(pts),
                    "shape": list(SHAPE), "floors": {"beta_U": FLOOR_U, "Z": FLOOR_Z}},
            "provenance": {"command": "python benchmarks/free_energy_check.py fit",
                           "deepilst": __version__, "python": platform.python_version()}}
    CORRECTION_PATH.parent.mkdir(parents=True, exist_ok=True)
    CORRECTION_PATH.write_text(json.dumps(meta, indent=1) + "\n")
    return {"fit": {"shape": list(SHAPE), "n_train_states": len(pts),
                    "states": {n: {"n_fluid": d["n_fluid"], "n_in_binodal_left_out": d["n_in_binodal"]}
                               for n, d in sets.items()},
                    "thol_only": {n: table(d, None) for n, d in sets.items()},
                    "corrected": {n: table(d, corr) for n, d in sets.items()},
                    "screen": screen, "wall_s": time.perf_counter() - t0,
                    "written": _rel(CORRECTION_PATH)}}


def chain_states() -> list[dict]:
    """The TI nodes: Gauss-Legendre in ln T* along the isochore and in rho* along the isotherm."""
    x, w = np.polynomial.legendre.leggauss(N_NODES)
    out = []
    lo, hi = np.log(ISOCHORE_T)
    for xi, wi in zip(x, w):
        out.append({"chain": "isochore", "T_reduced": float(np.exp(lo + (hi - lo) * (xi + 1) / 2)),
                    "rho_reduced": ISOCHORE_RHO, "weight": float(wi * (hi - lo) / 2)})
    lo, hi = ISOTHERM_RHO
    for xi, wi in zip(x, w):
        out.append({"chain": "isotherm", "T_reduced": ISOTHERM_T,
                    "rho_reduced": float(lo + (hi - lo) * (xi + 1) / 2), "weight": float(wi * (hi - lo) / 2)})
    return out


def _spec(node: dict, i: int):
    from deepilst.md.spec import Protocol, SimSpec
    from deepilst.units import KB

    T, sigma = 345.0, 0.35  # any physical state with the node's (T*, rho*)
    eps = KB * T / node["T_reduced"]
    return SimSpec(T, node["rho_reduced"] / sigma**3, 4 * eps * sigma**12, 4 * eps * sigma**6,
                   engine="gromacs", seed=SEED + i,
                   protocol=Protocol(equil_ps=50.0, prod_ps=350.0, n_particles=1000))


def run_chains() -> None:
    """Simulate every TI node not yet in runs/free_energy (one run per hold of the MD lock)."""
    from deepilst.fileio import held, write_json_atomic
    from deepilst.md.simulate import simulate

    RUNS.mkdir(parents=True, exist_ok=True)
    for i, node in enumerate(chain_states()):
        out = RUNS / f"{node['chain']}_{i:02d}.json"
        if out.exists():
            continue
        with held(os.path.join(tempfile.gettempdir(), "deepilst-md.lock")):
            t0 = time.perf_counter()
            rec = simulate(_spec(node, i), retries=1)
        rec["node"] = node
        write_json_atomic(out, rec)
        print(f"{out.name}: T* {node['T_reduced']:.3f} rho* {node['rho_reduced']:.3f} "
              f"{time.perf_counter() - t0:.0f} s", flush=True)


def report() -> dict:
    """TI along the chains against the model's beta A / N differences (Thol alone and corrected)."""
    from deepilst.freeenergy import LJFreeEnergy, convention_b
    from deepilst.rdf import centered_edges
    from deepilst.results import SimulationResult

    fe = LJFreeEnergy.load()
    thol_only = LJFreeEnergy({"rc_sigma": 3.0})
    out = {}
    nodes = chain_states()
    for chain in ("isochore", "isotherm"):
        rows = []
        for i, node in enumerate(nodes):
            p = RUNS / f"{chain}_{i:02d}.json"
            if node["chain"] != chain or not p.exists():
                continue
            res = SimulationResult.from_record(json.loads(p.read_text()))
            rec = res.record
            r, g = res.r, res.g
            edges = centered_edges(r)
            gg = np.nan_to_num(g)
            vol = 4 * math.pi / 3 * (edges[1:] ** 3 - edges[:-1] ** 3)
            k = int(np.searchsorted(edges, res.rc) - 1)
            n_c = res.rho * (np.sum(gg[:k] * vol[:k]) + gg[k] * 4 * math.pi / 3 * (res.rc**3 - edges[k] ** 3))
            m = md_residuals([res.T], [res.rho], [res.epsilon], [res.rc], [res.U.mean], [res.U.sem],
                             [res.P.mean], [res.P.sem], [n_c], [res.T_reduced], [res.rho_reduced],
                             [rec["spec"]["protocol"]["n_particles"]])
            b = float(convention_b(res.rho_reduced) / res.T_reduced)
            rows.append({**node, "beta_U_TS": float(m["beta_U"][0]) - b, "beta_U_sem": float(m["u_sem"][0]),
                         "Z_TS": float(m["Z"][0]) - b, "Z_sem": float(m["z_sem"][0]),
                         "phase": res.phase, "wall_s": rec.get("wall_s")})
        if len(rows) < N_NODES:
            out[chain] = {"done": len(rows), "of": N_NODES}
            continue
        w = np.array([x["weight"] for x in rows])
        if chain == "isochore":
            f = -np.array([x["beta_U_TS"] for x in rows])
            e = np.array([x["beta_U_sem"] for x in rows])
            ends = (np.array(ISOCHORE_T), np.full(2, ISOCHORE_RHO))
        else:
            rho = np.array([x["rho_reduced"] for x in rows])
            f = (np.array([x["Z_TS"] for x in rows]) - 1) / rho
            e = np.array([x["Z_sem"] for x in rows]) / rho
            ends = (np.full(2, ISOTHERM_T), np.array(ISOTHERM_RHO))
        ti, ti_err = float(w @ f), float(np.sqrt((w**2) @ (e**2)))
        models = {name: float(np.diff(m.helmholtz(*ends))[0]) for name, m in
                  (("corrected", fe), ("thol_only", thol_only))}
        out[chain] = {"ends": {"T_reduced": ends[0].tolist(), "rho_reduced": ends[1].tolist()},
                      "delta_beta_A_TI": ti, "delta_beta_A_TI_sem": ti_err,
                      "delta_beta_A_model": models,
                      "model_minus_TI": {k: v - ti for k, v in models.items()}, "nodes": rows}
    return {"ti": out}


def kl_recovery() -> dict:
    """The eps_KL minimum of every fluid v1_test state (an LJ fluid with known C12, C6; g from
    its own 350-ps run), found from its true parameters, with Thol alone and with the
    correction: the error of F moves the minimum, the target's noise spreads it."""
    from deepilst.dataset.read import open_dataset
    from deepilst.fit.target import Target
    from deepilst.freeenergy import LJFreeEnergy
    from deepilst.maps.grid import refine_minimum
    from deepilst.maps.kl import relative_entropy, target_integrals

    t0 = time.perf_counter()
    models = {"corrected": LJFreeEnergy.load(), "thol_only": LJFreeEnergy({"rc_sigma": 3.0})}
    with open_dataset(ROOT / "data" / "v1_test.h5") as h:
        s = h["sims"]
        d = {k: s[k][:] for k in ("T", "rho", "C12", "C6", "T_reduced", "rho_reduced", "phase", "g",
                                  "g_err")}
        r = h["r"][:]
    keep = np.flatnonzero((d["phase"] == b"fluid")
                          & models["corrected"].covers(d["T_reduced"], d["rho_reduced"]))

    def kl_min(t, integ, fe, start):
        return refine_minimum(lambda a, b: float(relative_entropy(t, a, b, fe, integ)[0]), *start)[:2]

    rows = []
    rng = np.random.default_rng(SEED)
    for n, i in enumerate(keep):
        t = Target(r, d["g"][i], d["g_err"][i], d["T"][i], d["rho"][i])
        true = np.array([d["C12"][i], d["C6"][i]])
        row = {"T_reduced": float(d["T_reduced"][i]), "rho_reduced": float(d["rho_reduced"][i])}
        for name, fe in models.items():
            row[name] = (np.array(kl_min(t, target_integrals(t), fe, true)) / true - 1).tolist()
        if n % 4 == 0:  # the target-noise spread on every fourth state (6 redraws)
            pts = []
            for _ in range(6):
                g = np.maximum(t.g + t.g_err * rng.standard_normal(len(r)), 0.0)
                ig = target_integrals(Target(r, g, t.g_err, t.temperature, t.density))
                pts.append(kl_min(t, ig, models["corrected"], true))
            row["noise_sd"] = (np.std(np.array(pts), axis=0, ddof=1) / true).tolist()
        rows.append(row)
    table = []
    for lo, hi in T_BINS:
        k = [x for x in rows if lo <= x["T_reduced"] < hi]
        if not k:
            continue
        entry = {"T_reduced": [lo, hi], "n": len(k)}
        for name in models:
            e = np.array([x[name] for x in k])
            entry[name] = {"mean_C12_C6": e.mean(0).tolist(), "rms_C12_C6": np.sqrt((e**2).mean(0)).tolist()}
        sd = np.array([x["noise_sd"] for x in k if "noise_sd" in x])
        entry["noise_sd_rms_C12_C6"] = np.sqrt((sd**2).mean(0)).tolist() if len(sd) else None
        table.append(entry)
    return {"kl_recovery": {"set": "data/v1_test.h5 fluid states inside the free energy's domain",
                            "n": len(rows), "by_T_reduced": table, "wall_s": time.perf_counter() - t0,
                            "note": "relative errors of the eps_KL minimum against the true (C12, C6)"}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=("fit", "ti", "report", "kl"))
    args = ap.parse_args(argv)
    old = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if args.what == "fit":
        old.update(fit(args))
    elif args.what == "ti":
        run_chains()
        return 0
    elif args.what == "kl":
        old.update(kl_recovery())
    else:
        old.update(report())
    RESULTS.write_text(json.dumps(old, indent=1) + "\n")
    print(json.dumps({k: v for k, v in old.items() if k != "screen"}, indent=1)[:4000])
    return 0


if __name__ == "__main__":
    sys.exit(main())
