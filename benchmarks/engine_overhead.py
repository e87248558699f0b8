"""Throughput of `deepilst generate` against the same engine run bare, in the same run.

For each engine, the same systems (argon-like fluid states) are run
  * bare: the engine alone in one fresh Python process (GROMACS: grompp + mdrun writing no
    trajectory or energies; OpenMM: System and Context creation + integrator.step for all
    steps), one system after the other;
  * generate: deepilst.runner.generate with one worker process (trajectory/frames, g(r),
    energies, pressure, phase label, record written), same systems, fresh output dir.
Ratio = (atom-steps/s of generate) / (atom-steps/s bare) = bare wall / generate wall, taken
per repeat from a bare and a generate run right after each other (the order alternates), so
both see the same machine load; reported as the median over repeats with min and max
(``ratio``, ``ratio_min``, ``ratio_max``) and, as before, best bare / best generate
(``ratio_best``). Goal: ratio >= 0.95 for both engines.

Usage: python benchmarks/engine_overhead.py [--engines gromacs,openmm] [--n-systems 4]
       [--repeats 3]   (~8 min with the defaults on an idle 2-core machine; stop other heavy
       jobs first: both timings share the machine)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from deepilst.md import Protocol, SimSpec
from deepilst.md.simulate import get_engine, resolve_engine
from deepilst.runner import generate
from deepilst.units import ARGON_C6, ARGON_C12

HERE = Path(__file__).parent


def specs_for(engine: str, n: int) -> list[SimSpec]:
    # GROMACS: the production protocol of dataset v1 (N = 1000, 400 ps at dt 0.008 units, ~4e7 atom-steps);
    # OpenMM is ~6x slower on one core, so it gets N = 500 and 180 ps.
    if engine == "gromacs":
        proto = Protocol(equil_ps=50, prod_ps=350, n_particles=1000, sample_every=100)
    else:
        proto = Protocol(equil_ps=20, prod_ps=160, n_particles=500, sample_every=100)
    return [SimSpec(320.0 + 20 * i, 12.0 + i, ARGON_C12, ARGON_C6, engine=engine, seed=100 + i,
                    protocol=proto) for i in range(n)]


BARE = """
import json, sys
from deepilst.md.spec import SimSpec
from deepilst.md.{mod} import {cls}
eng = {cls}()
for d in json.loads(sys.stdin.read()):
    eng.run_bare(SimSpec.from_dict(d))
"""


def run_bare_fresh_process(name: str, specs: list[SimSpec]) -> float:
    """Wall time of one fresh Python process that runs the engine bare on all specs (what a
    user's own script would do; generate also starts one worker process)."""
    mod, cls = {"gromacs": ("gromacs_engine", "GromacsEngine"),
                "openmm": ("openmm_engine", "OpenMMEngine")}[name]
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", BARE.format(mod=mod, cls=cls)], check=True, text=True,
                   input=json.dumps([s.to_dict() for s in specs]))
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--engines", default="gromacs,openmm")
    ap.add_argument("--n-systems", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(HERE / "results" / "engine_overhead.json"))
    a = ap.parse_args()
    t_start = time.perf_counter()
    load_start = os.getloadavg()
    results = []
    for name in a.engines.split(","):
        name = resolve_engine(name)
        eng = get_engine(name)
        specs = specs_for(name, a.n_systems)
        atom_steps = sum(s.protocol.n_particles * (s.n_equil_steps + s.n_prod_steps) for s in specs)
        eng.run_bare(specs[0])  # warm-up (file caches, first-call costs)
        bares, gens = [], []
        for rep in range(a.repeats):  # interleaved, order alternating: robust to machine noise
            for what in (("bare", "generate") if rep % 2 == 0 else ("generate", "bare")):
                if what == "bare":
                    bares.append(run_bare_fresh_process(name, specs))
                    continue
                with tempfile.TemporaryDirectory() as tmp:
                    t0 = time.perf_counter()
                    res = generate(specs, tmp, workers=1, progress=False, command="benchmark")
                    gens.append(time.perf_counter() - t0)
                assert res["done"] == len(specs), res
        ratios = [b / g for b, g in zip(bares, gens)]
        ratio = statistics.median(ratios)
        row = {"engine": name, "version": eng.version(), "n_systems": len(specs),
               "n_particles": specs[0].protocol.n_particles,
               "equil_ps": specs[0].protocol.equil_ps, "prod_ps": specs[0].protocol.prod_ps,
               "sample_every": specs[0].protocol.sample_every,
               "seeds": [s.seed for s in specs], "workers": 1,
               "atom_steps": atom_steps, "bare_s": statistics.median(bares),
               "generate_s": statistics.median(gens), "bare_s_all": bares,
               "generate_s_all": gens, "ratio_all": ratios,
               "bare_atom_steps_per_s": atom_steps / statistics.median(bares),
               "generate_atom_steps_per_s": atom_steps / statistics.median(gens),
               "ratio": ratio, "ratio_min": min(ratios), "ratio_max": max(ratios),
               "ratio_best": min(bares) / min(gens)}
        results.append(row)
        print(f"{name:8s} bare {atom_steps / row['bare_s']:.3g} atom-steps/s, generate "
              f"{atom_steps / row['generate_s']:.3g} atom-steps/s, ratio {ratio:.3f} "
              f"[{min(ratios):.3f}, {max(ratios):.3f}] over {a.repeats} repeats, "
              f"best/best {row['ratio_best']:.3f}", flush=True)
    import provenance
    versions = provenance.versions("numba", "scipy", "openmm")
    args = [f"--engines {a.engines}", f"--n-systems {a.n_systems}", f"--repeats {a.repeats}"]
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps({
        "command": "python benchmarks/engine_overhead.py " + " ".join(args),
        "versions": versions, "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
        "wall_s": time.perf_counter() - t_start,
        "load_average_1_5_15min": {"start": load_start, "end": os.getloadavg()},
        "results": results,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, indent=1) + "\n")


if __name__ == "__main__":
    main()
