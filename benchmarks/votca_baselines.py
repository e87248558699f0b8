"""VOTCA-CSG 2022.1 baselines (simplex 30 steps, relative entropy 15 steps) as users run them,
from the network's start and from argon's parameters, on one target (issue 12, part 4a).

Without ``--target`` the target is an LJ fluid of known parameters (GROMOS united-atom CH4 at
345 K, 13.7 nm^-3, 1000 beads, 50 + 250 ps of our protocol), so the answer is known. Each run
is resumable (VOTCA's own restart) and takes the machine's MD lock one chunk of steps at a time:

    python benchmarks/votca_baselines.py [--target FILE -T 345 -d 13.7 --mass 16.04] [--lock FILE]

Work directories go to runs/votca_baselines/ (git-ignored); results to
benchmarks/results/votca_baselines.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from deepilst.fileio import held

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "runs" / "votca_baselines"
OUT = ROOT / "benchmarks" / "results" / "votca_baselines.json"
TRUTH = (3.4363044e-5, 1.317904e-2)  # GROMOS 54A7 CH4 (united atom)
ARGON = (9.70e-6, 6.22e-3)
SEED = 2026


def make_target(path: Path, lock: str) -> None:
    from deepilst.md.simulate import run_simulation
    from deepilst.md.spec import Protocol, SimSpec

    spec = SimSpec(345.0, 13.7, *TRUTH, engine="gromacs", seed=SEED,
                   protocol=Protocol(equil_ps=50.0, prod_ps=250.0, n_particles=1000, mass=16.043))
    with held(lock):
        res = run_simulation(spec, retries=1)
    res.write_xvg(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--target", type=Path, default=None)
    ap.add_argument("-T", "--temperature", type=float, default=345.0)
    ap.add_argument("-d", "--density", type=float, default=13.7)
    ap.add_argument("--mass", type=float, default=16.043)
    ap.add_argument("--lock", default=os.path.join(tempfile.gettempdir(), "deepilst-md.lock"))
    ap.add_argument("--chunk", type=int, default=5)
    ap.add_argument("--only", nargs="*", default=None, help="run names to do (default all)")
    a = ap.parse_args(argv)
    from deepilst import __version__
    from deepilst.fileio import json_safe, write_json_atomic
    from deepilst.fit import CGEvaluator, CGProtocol, Target
    from deepilst.fit.votca import votca_fit
    from deepilst.predict import predict_file

    runs, out = RUNS, OUT
    if a.target is not None:  # a COM target: its own directory and results file
        runs = RUNS.parent / f"votca_baselines_{a.target.stem}"
        out = OUT.with_name(f"votca_baselines_{a.target.stem}.json")
        meta = a.target.with_suffix(".json")
        if meta.exists():  # deepilst aa's description: T, rho, mass
            m = json.loads(meta.read_text())
            a.temperature, a.density, a.mass = m["T"], m["rho"], m["mass"]
    runs.mkdir(parents=True, exist_ok=True)
    target_file = a.target or runs / "target_ch4_345K_13.7.xvg"
    if a.target is None and not target_file.exists():
        make_target(target_file, a.lock)
    target = Target.from_file(target_file, a.temperature, a.density, a.mass)
    pred = predict_file(target_file, a.temperature, a.density, thermo=False)
    starts = {"network": (pred["C12"], pred["C6"]), "argon": ARGON}
    protocol = CGProtocol(n_particles=1000, equil_ps=50.0, prod_ps=250.0, engine="gromacs")
    results = json.loads(out.read_text())["results"] if out.exists() else {}
    if a.target is None and "truth" not in results:  # eps_rdf of the true parameters: the floor
        ev = CGEvaluator(target, protocol, seed=SEED + 1)
        with held(a.lock):
            results["truth"] = ev.run(*TRUTH).to_json()
    order = [("re", "argon"), ("simplex", "argon"), ("re", "network"), ("simplex", "network")]
    if a.target is not None:
        print(f"{target_file.name}: network start C12 {starts['network'][0]:.4e} C6 "
              f"{starts['network'][1]:.4e}", flush=True)
    for method, sname in order:
        iters, start = {"simplex": 30, "re": 15}[method], starts[sname]
        key = f"votca-{method}_from_{sname}"
        if key in results or (a.only and key not in a.only):
            continue
        ev = CGEvaluator(target, protocol, seed=SEED)
        t0 = time.perf_counter()
        res = votca_fit(ev, method, start, runs / key, iterations=iters, chunk=a.chunk,
                        lock_file=a.lock, resume=True, n_particles=1000, seed=SEED)
        d = res.to_json()
        d["elapsed_s_with_lock_waits"] = time.perf_counter() - t0
        results[key] = d
        print(f"{key}: C12 {res.C12:.4e} C6 {res.C6:.4e} eps_rdf {d.get('eps_rdf')} runs "
              f"{res.md_runs} wall {res.wall_s:.0f} s; {res.notes}", flush=True)
        prov = {"command": "python benchmarks/votca_baselines.py " + " ".join(sys.argv[1:]),
                "versions": {"deepilst": __version__, "python": platform.python_version(),
                             **d.get("votca_versions", {})},
                "seed": SEED, "target": {"file": target_file.name, "T": a.temperature,
                                         "rho": a.density, "mass": a.mass,
                                         "truth": None if a.target else
                                         {"C12": TRUTH[0], "C6": TRUTH[1]}},
                "target_file": str(target_file.relative_to(ROOT)) if target_file.is_relative_to(ROOT)
                else target_file.name,
                "starts": {k: {"C12": v[0], "C6": v[1]} for k, v in starts.items()},
                "validation_protocol": {"n_particles": 1000, "equil_ps": 50, "prod_ps": 250,
                                        "engine": "gromacs"},
                "machine": f"{platform.machine()}, 2 cores shared; MD under a lock"}
        write_json_atomic(out, json_safe({"provenance": prov, "results": results}), indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
