"""Inputs that are not LJ fluids of our convention, for benchmarks/fit_inverse.py ``nonlj``:
OpenMM runs of one-site Mie n-6 fluids and centre-of-mass RDFs of two-site (dumbbell) molecular
fluids, plus the shipped single-bead CH4 example (an LJ fluid) and a water-like g(r). Each is
predicted by the network and by the fit; chi^2 per point and the domain flags are recorded.

Runs: N = 1000 particles or molecules, Nose-Hoover (tau 0.2 ps), 2 fs, 50 + 250 ps, a frame
every 100 steps, g on the 0.005 nm model grid with 10-block errors, written to
runs/nonlj/<name>.xvg (resumable: an existing file is reused).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "runs" / "nonlj"
KB = 0.0083144626
T, RHO = 345.0, 13.7  # the paper's Table 1 midpoint, where it fed its molecules
#: name -> (kind, parameters): Mie n-6 one-site (sigma nm, eps/kB K, n), or dumbbells (site
#: sigma nm, site eps/kB K, bond nm, site mass amu; LJ 12-6 between sites of different molecules)
SYSTEMS = {
    "mie9-6": ("mie", {"sigma": 0.373, "eps_k": 148.0, "n": 9}),
    "mie20-6": ("mie", {"sigma": 0.373, "eps_k": 148.0, "n": 20}),
    "dumbbell_F2": ("dumbbell", {"sigma": 0.2825, "eps_k": 52.8, "bond": 0.1419, "mass": 19.0}),
    "dumbbell_long": ("dumbbell", {"sigma": 0.30, "eps_k": 60.0, "bond": 0.24, "mass": 19.0}),
}


def _simulate(kind: str, p: dict, n: int = 1000, equil_ps: float = 50.0, prod_ps: float = 250.0,
              seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import openmm as mm

    from deepilst.md.system import lattice_positions
    from deepilst.rdf import RDFAccumulator, model_grid

    L = (n / RHO) ** (1.0 / 3.0)
    sys_ = mm.System()
    sys_.setDefaultPeriodicBoxVectors(mm.Vec3(L, 0, 0), mm.Vec3(0, L, 0), mm.Vec3(0, 0, L))
    eps = KB * p["eps_k"]
    rc = 3.0 * p["sigma"]
    com = lattice_positions(n, L, seed)
    if kind == "mie":
        m = p["n"]
        c = (m / (m - 6.0)) * (m / 6.0) ** (6.0 / (m - 6.0))
        f = mm.CustomNonbondedForce(f"{c}*eps*((sig/r)^{m}-(sig/r)^6)")
        f.addGlobalParameter("eps", eps)
        f.addGlobalParameter("sig", p["sigma"])
        for _ in range(n):
            sys_.addParticle(39.948)
            f.addParticle([])
        pos = com
        per = 1
    else:
        f = mm.NonbondedForce()
        rng = np.random.default_rng(seed)
        axes = rng.normal(size=(n, 3))
        axes /= np.linalg.norm(axes, axis=1)[:, None]
        pos = np.empty((2 * n, 3))
        pos[0::2] = com - 0.5 * p["bond"] * axes
        pos[1::2] = com + 0.5 * p["bond"] * axes
        for _ in range(n):
            a = sys_.addParticle(p["mass"])
            b = sys_.addParticle(p["mass"])
            f.addParticle(0.0, p["sigma"], eps)
            f.addParticle(0.0, p["sigma"], eps)
            sys_.addConstraint(a, b, p["bond"])
            f.addException(a, b, 0.0, p["sigma"], 0.0)
        per = 2
        rc = 3.0 * p["sigma"] + p["bond"]
    f.setNonbondedMethod(f.CutoffPeriodic)
    f.setCutoffDistance(rc)
    if kind == "dumbbell":
        f.setUseDispersionCorrection(True)
    sys_.addForce(f)
    sys_.addForce(mm.CMMotionRemover())
    dt, every = 0.002, 100
    integ = mm.NoseHooverIntegrator(T, 1.0 / 0.2, dt)
    plat = mm.Platform.getPlatformByName("CPU")
    ctx = mm.Context(sys_, integ, plat, {"Threads": "1"})
    ctx.setPositions(pos)
    ctx.applyConstraints(1e-6)
    ctx.setVelocitiesToTemperature(T, seed)
    integ.step(int(equil_ps / dt))
    n_frames = int(prod_ps / dt) // every
    acc = RDFAccumulator(n, L, n_blocks=10)
    for k in range(n_frames):
        integ.step(every)
        x = ctx.getState(getPositions=True).getPositions(asNumpy=True)._value
        if per == 2:
            d = x[1::2] - x[0::2]
            d -= L * np.round(d / L)
            x = x[0::2] + 0.5 * d
        acc.add_frame(np.asarray(x) % L, block=k * 10 // n_frames)
    r = model_grid()
    g, se = acc.on_grid(r)
    return r, g, se


def _water_like(r: np.ndarray) -> np.ndarray:
    """The synthetic water-like O-O g(r) of tests/test_predict.py (33.4 nm^-3, 300 K)."""
    g = np.zeros_like(r)
    m = r > 0.24
    x = r[m]
    g[m] = (1 + 1.9 * np.exp(-((x - 0.28) / 0.018) ** 2) - 0.25 * np.exp(-((x - 0.335) / 0.03) ** 2)
            + 0.17 * np.exp(-((x - 0.45) / 0.04) ** 2) - 0.1 * np.exp(-((x - 0.55) / 0.05) ** 2)
            + 0.05 * np.exp(-((x - 0.68) / 0.06) ** 2))
    g[m] *= 1 - np.exp(-((x - 0.24) / 0.015) ** 2)
    return g


def nonlj(load, save, only: str | None = None) -> None:
    """Simulate the missing systems (``only``: just that one, and stop), then predict every
    input both ways and store the results."""
    from deepilst.predict import load_model, predict_file
    from deepilst.xvg import write_xvg

    RUNS.mkdir(parents=True, exist_ok=True)
    inputs = {"ch4_gromos (LJ)": (ROOT / "examples" / "ch4_gromos_345K_13.7nm3.xvg", T, RHO,
                                  "the shipped single-bead LJ example: an LJ fluid")}
    for name, (kind, p) in SYSTEMS.items():
        path = RUNS / f"{name}.xvg"
        if only is not None and name != only:
            continue
        if not path.exists():
            t0 = time.time()
            r, g, se = _simulate(kind, p)
            write_xvg(path, r, [g, se], ["g(r)", "std. error"], title=name,
                      comments=[f"{name}: {kind} {p}, T = {T} K, rho = {RHO} nm^-3 (molecules), "
                                f"N = 1000, 50 + 250 ps, OpenMM ({time.time() - t0:.0f} s)"])
        inputs[name] = (path, T, RHO, f"{kind} {p}")
    if only is not None:
        return
    for name, (kind, p) in SYSTEMS.items():
        inputs[name] = (RUNS / f"{name}.xvg", T, RHO, f"{kind} {p}")
    r = np.arange(0, 1.5001, 0.002)
    wpath = RUNS / "water_like.xvg"
    write_xvg(wpath, r, [_water_like(r)], ["g_OO"])
    inputs["water-like (synthetic)"] = (wpath, 300.0, 33.4, "tests/test_predict.py _water_like")
    ens = load_model("ensemble")
    out = {}
    for name, (path, t, rho, what) in inputs.items():
        row = {"what": what}
        for method in ("network", "fit"):
            try:
                d = predict_file(path, t, rho, ens, thermo=False, method=method)
            except Exception as exc:  # a refusal is an answer too
                row[method] = {"error": str(exc)}
                continue
            row[method] = {"C12": d["C12"], "C6": d["C6"], "C12_std": d["C12_std"],
                           "C6_std": d["C6_std"], "T_reduced": d["T_reduced"],
                           "rho_reduced": d["rho_reduced"], "in_domain": d["in_domain"],
                           "chi2_per_point": d.get("chi2_per_point"),
                           "warnings": d["warnings"]}
        out[name] = row
        print(name, {m: (row[m].get("chi2_per_point"), row[m].get("in_domain"))
                     for m in ("network", "fit") if m in row}, flush=True)
    res = load()
    res["non_lj"] = {"state": {"T": T, "rho": RHO}, "inputs": out,
                     "note": "Mie and dumbbell runs: benchmarks/fit_inverse_nonlj.py, OpenMM CPU"}
    save(res)
