"""Our CG fitting methods (relative entropy, simplex, IBI) measured on a non-LJ target.

Our own target (``mie86``) is a Mie 8-6 fluid (softer repulsion than LJ,
so no LJ reproduces its g(r) exactly, as for molecular COM RDFs) at the paper's CG state,
345 K and 13.7 nm^-3, bead mass 28 amu, simulated with a tabulated potential in OpenMM
(1000 beads, 50 + 1000 ps); ``--target CO`` etc. fits a COM target of the all-atom runs
instead (``--targets``: their directory, default data/cg_targets). Steps (each resumable;
results in runs/fit_methods/[<target>/], git-ignored):

    flock "$TMPDIR/deepilst-md.lock" python benchmarks/fit_methods.py target
    python benchmarks/fit_methods.py gradcheck   # the error of A.6 against repeated runs
    python benchmarks/fit_methods.py re-poor network+re cg+re simplex ibi ibi-poor
    python benchmarks/fit_methods.py re-poor network+re --target CO [--targets DIR]
    python benchmarks/fit_methods.py report      # -> benchmarks/results/fit_methods.json

Each fit holds the machine-wide MD lock while it runs (a few minutes of MD); IBI, whose
OpenMM table runs take minutes each, takes it for each run (others interleave), and the time
it spent waiting is reported (``lock_wait_s``, included in its ``wall_s``).

Every CG run uses ``CGProtocol()`` defaults (1000 beads, 50 + 250 ps, GROMACS; IBI: OpenMM).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from deepilst.fileio import held

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


#: the COM targets (``deepilst com-rdf`` of the all-atom runs): <name>.xvg and <name>.json
TARGETS = {"dir": ROOT / "data" / "cg_targets"}


def runs_dir(name: str) -> Path:
    return RUNS if name == "mie86" else RUNS / name


def target_meta(name: str) -> dict:
    if name == "mie86":
        return {"T": T, "rho": RHO, "mass": MASS}
    return json.loads((TARGETS["dir"] / f"{name}.json").read_text())


def load_target(name: str = "mie86"):
    from deepilst.fit import Target
    from deepilst.results import SimulationResult

    if name == "mie86":
        res = SimulationResult.from_record(json.loads(target_path().read_text()))
        return Target(res.r, res.g, res.g_err, T, RHO, MASS, "mie86", res.P.mean, res.P.sem)
    meta = target_meta(name)
    t = Target.from_file(TARGETS["dir"] / f"{name}.xvg", meta["T"], meta["rho"], meta["mass"],
                         name=name)
    return Target(t.r, t.g, t.g_err, t.temperature, t.density, t.mass, name,
                  meta.get("P", float("nan")), meta.get("P_sem", float("nan")), source=t.source)


LOCK = Path(tempfile.gettempdir()) / "deepilst-md.lock"
LOCK_WAIT = {"s": 0.0}


@contextlib.contextmanager
def md_lock():
    """The machine-wide MD lock, held for one CG run (others interleave between runs)."""
    t0 = time.perf_counter()
    with held(LOCK):
        LOCK_WAIT["s"] += time.perf_counter() - t0
        yield


def evaluator(target, protocol, seed, per_run: bool = True):
    """A CGEvaluator that takes the MD lock for each run (``per_run``), or a plain one."""
    from deepilst.fit import CGEvaluator

    if not per_run:
        return CGEvaluator(target, protocol, seed=seed)

    class Locked(CGEvaluator):
        def run(self, *a, **k):
            with md_lock():
                return super().run(*a, **k)

        def run_table(self, *a, **k):
            with md_lock():
                return super().run_table(*a, **k)

    return Locked(target, protocol, seed=seed)


def target_xvg(name: str = "mie86") -> Path:
    from deepilst.results import SimulationResult

    if name != "mie86":
        return TARGETS["dir"] / f"{name}.xvg"
    f = RUNS / "target_mie86.xvg"
    if not f.exists():
        SimulationResult.from_record(json.loads(target_path().read_text())).write_xvg(f)
    return f


def gradcheck(n_rep: int = 10) -> dict:
    """Scatter of the A.6 gradient (CG part, in log C12, log C6) over repeated runs at one
    point against its two error estimates: bins independent, and the frames' pair-sum
    covariance / n_frames (what the library uses)."""
    from deepilst.fit import CGProtocol
    from deepilst.fit.objectives import gradient_cov_frames, re_gradient_cov
    from deepilst.potentials import LJParams

    target = load_target()
    sigma_soft = 0.33  # a soft bead (T* 20) of the target's size
    points = {"argon (T* 2.9)": POOR_START,
              "soft (T* 20)": (lambda p: (p.c12, p.c6))(LJParams.from_sigma_epsilon(
                  sigma_soft, 0.0083144626 * T / 20.0))}
    out = {}
    for name, (c12, c6) in points.items():
        ev = evaluator(target, CGProtocol(), seed=SEED + 17)
        lam = np.array([c12, c6])
        grads, covs, frame_covs = [], [], []
        for _ in range(n_rep):
            e = ev.run(c12, c6)
            res = e.result
            # CG part only (the target is the same in every run): bins against frames
            g, cov = re_gradient_cov(target.r, target.g, None, res.g, res.g_err, T, RHO,
                                     res.n_particles, c12, c6)
            d = np.diag(lam)
            grads.append(lam * g)
            covs.append(d @ cov @ d)
            frame_covs.append(d @ gradient_cov_frames(
                e.hessian, res.record["pair_sums"]["n_frames"]) @ d)
        gr = np.array(grads)
        sc = np.cov(gr.T)
        est = np.mean(covs, axis=0)
        fr = np.mean(frame_covs, axis=0)
        out[name] = {"C12": c12, "C6": c6, "n_runs": n_rep, "md_wall_s": ev.md_wall_s,
                     "scatter_sd": np.sqrt(np.diag(sc)).tolist(),
                     "bins_sd": np.sqrt(np.diag(est)).tolist(),
                     "frames_sd": np.sqrt(np.diag(fr)).tolist(),
                     "ratio_scatter_to_bins": np.sqrt(np.diag(sc) / np.diag(est)).tolist(),
                     "ratio_scatter_to_frames": np.sqrt(np.diag(sc) / np.diag(fr)).tolist(),
                     "corr_scatter": float(sc[0, 1] / np.sqrt(sc[0, 0] * sc[1, 1])),
                     "corr_bins": float(est[0, 1] / np.sqrt(est[0, 0] * est[1, 1])),
                     "corr_frames": float(fr[0, 1] / np.sqrt(fr[0, 0] * fr[1, 1])),
                     "grad_theta": gr.tolist()}
        print(name, {k: v for k, v in out[name].items() if k != "grad_theta"}, flush=True)
    return out


def fit(method: str, name: str = "mie86") -> dict:
    """One fit on target ``name``; the FitResult as JSON with the evaluator's bill."""
    # fits of a few minutes of MD hold the lock throughout; IBI (OpenMM tables, ~4 min a run)
    # takes it for each run
    per_run = method.startswith("ibi")
    with contextlib.nullcontext() if per_run else md_lock():
        return _fit(method, per_run, name)


def _fit(method: str, per_run: bool, name: str) -> dict:
    from deepilst.fit import CGProtocol

    target = load_target(name)
    protocol = CGProtocol()
    ev = evaluator(target, protocol, SEED, per_run)
    t0 = time.perf_counter()
    LOCK_WAIT["s"] = 0.0
    if method in ("network+re", "cg+re"):
        from deepilst.cg import coarse_grain

        rep = coarse_grain(target_xvg(name), target.temperature, target.density, target.mass,
                           refine="re",
                           basin_check=method == "cg+re", protocol=protocol, seed=SEED)
        res = rep.refined
        out = res.to_json()
        out["md_runs_total"] = rep.md_runs
        out["network"] = {k: rep.network.to_json()[k] for k in ("C12", "C6", "eps_rdf",
                                                                 "eps_rdf_sem", "T_reduced")}
    else:
        if method == "re-poor":
            from deepilst.fit.relent import relative_entropy

            res = relative_entropy(ev, start=POOR_START)
        elif method == "simplex":
            from deepilst.fit.simplex import simplex

            res = simplex(ev, start=POOR_START)
        elif method == "ibi":
            from deepilst.fit.ibi import ibi

            res = ibi(ev)
        elif method == "ibi-poor":
            from deepilst.fit.ibi import ibi

            res = ibi(ev, start=POOR_START)
        else:
            raise SystemExit(f"unknown method {method}")
        out = res.to_json()
        out["md_runs_total"] = ev.md_runs
        out["md_wall_s"] = ev.md_wall_s  # all CG runs, the validation run included
    out["wall_s_total"] = time.perf_counter() - t0
    out["lock_wait_s"] = LOCK_WAIT["s"]  # waiting for other jobs' MD, inside wall_s
    print(name, method, {k: out.get(k) for k in ("C12", "C6", "eps_rdf", "eps_rdf_sem", "eps_rdf_floor",
                                           "md_runs", "md_runs_total", "iterations",
                                           "converged", "wall_s")}, flush=True)
    return out


STEPS = ("target", "gradcheck", "re-poor", "network+re", "cg+re", "simplex", "ibi", "ibi-poor")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("steps", nargs="+", choices=STEPS + ("report",))
    ap.add_argument("--target", default="mie86", help="mie86 (ours) or a COM target's name")
    ap.add_argument("--targets", default=str(TARGETS["dir"]),
                    help="directory of the COM targets (<name>.xvg, <name>.json)")
    a = ap.parse_args(argv)
    from deepilst.fileio import json_safe, write_json_atomic

    TARGETS["dir"] = Path(a.targets)
    d = runs_dir(a.target)
    d.mkdir(parents=True, exist_ok=True)
    for step in a.steps:
        if step == "target":
            make_target()
            continue
        if step == "report":
            report()
            continue
        f = d / f"{step}.json"
        if f.exists():
            continue
        if step == "gradcheck" and a.target != "mie86":
            raise SystemExit("gradcheck runs on the mie86 target")
        out = gradcheck() if step == "gradcheck" else fit(step, a.target)
        write_json_atomic(f, json_safe(out), indent=1)
    return 0


def report() -> None:
    from deepilst.fileio import json_safe, write_json_atomic

    results, com = {}, {}
    for name in ["mie86"] + sorted(p.name for p in RUNS.iterdir() if p.is_dir()):
        d = runs_dir(name)
        results[name] = {s: json.loads((d / f"{s}.json").read_text()) for s in STEPS[1:]
                         if (d / f"{s}.json").exists()}
        if name != "mie86" and results[name]:
            meta = target_meta(name)
            com[name] = {k: meta.get(k) for k in ("T", "rho", "mass", "P", "P_sem", "prod_ps",
                                                  "n_molecules")}
            com[name]["force_field"] = meta.get("force_field", {}).get("description")
    tgt = json.loads(target_path().read_text())
    from provenance import versions
    prov = {"command": "python benchmarks/fit_methods.py report (after the steps in the "
                       "module docstring; COM targets from data/cg_targets)",
            "versions": {**versions(), **tgt.get("versions", {})},
            "seed": SEED, "target": {"potential": f"Mie {MIE['n']}-{MIE['m']}", **MIE, "T": T,
                                     "rho": RHO, "mass": MASS, "n_particles": 1000,
                                     "equil_ps": 50, "prod_ps": 1000, "engine": "openmm",
                                     "P": tgt["pressure"]["mean"],
                                     "P_sem": tgt["pressure"]["sem"]},
            "com_targets": com,
            "poor_start": {"C12": POOR_START[0], "C6": POOR_START[1]},
            "cg_protocol": "CGProtocol() defaults: 1000 beads, 50 + 250 ps, GROMACS (IBI: OpenMM)",
            "machine": f"{platform.machine()}, 2 cores shared with other jobs"}
    write_json_atomic(ROOT / "benchmarks" / "results" / "fit_methods.json",
                      json_safe({"provenance": prov, "results": results}), indent=1)


if __name__ == "__main__":
    raise SystemExit(main())
