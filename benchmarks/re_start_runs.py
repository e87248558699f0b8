"""How many MD runs does relative entropy need from each start? Repeated, not one draw each.

Issue 12 asks that network -> RE need fewer MD runs than a cold RE. One fit from each start
(benchmarks/cg_table.py) is one draw of a random number: every run's gradient is noisy, and the
stopping test (gradient zero within its error at two successive points) passes sooner or later
by chance. Here our relative entropy (:func:`deepilst.fit.relent.relative_entropy`, no
validation run) is repeated with independent CG seeds from three starts on the same targets and
protocol as the table (1000 beads, 50 + 250 ps, GROMACS):

* ``kl``: the eps_KL map's minimum (the forward model, no MD), where ``deepilst cg --refine re``
  starts; read from the table's ``network+re`` record;
* ``network``: the network's raw one-shot answer (the table's ``network`` record), in a box
  grown up to the table's MAX_BEADS where its cutoff needs one (C2H6: 2100 beads);
* ``poor``: argon's parameters, the table's cold start.

Reported per molecule and start: RE's own MD runs (mean, its standard error, range), how many
fits converged, and the spread of the answers (C12, C6). The one-shot workflow adds its own
runs (``deepilst cg`` runs the chosen bead once before refining) and every fit a validation
run; neither is counted here.

    python benchmarks/re_start_runs.py --seeds 1 2 3 4 5 [--molecules CO CH4 N2 F2 C2H6] [--lock ...]

Results: benchmarks/results/re_start_runs.json (resumable per fit in runs/re_start_runs/).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
RUNS = ROOT / "runs" / "re_start_runs"
OUT = ROOT / "benchmarks" / "results" / "re_start_runs.json"
STARTS = ("kl", "network", "poor")
SEED_BASE = 7000  # CG seeds 7000 + 100 * seed + run: apart from cg_table's 2026


def start_of(name: str, start: str, table: dict) -> tuple[float, float]:
    """(C12, C6) of ``start`` for ``name`` from the committed table."""
    from cg_table import POOR_START

    r = table["results"][name]
    if start == "kl":
        s = r["network+re"]["start"]
        return float(s["C12"]), float(s["C6"])
    if start == "network":
        return float(r["network"]["C12"]), float(r["network"]["C6"])
    return POOR_START


def fit(name: str, start: str, seed: int, table: dict, protocol) -> dict:
    from dataclasses import replace

    from cg_table import MAX_BEADS, load_target

    from deepilst.fit import CGEvaluator
    from deepilst.fit.relent import relative_entropy

    if start == "network":  # as the table's re-from-network: C2H6's answer needs a grown box
        protocol = replace(protocol, max_particles=MAX_BEADS)
    ev = CGEvaluator(load_target(name), protocol, seed=SEED_BASE + 100 * seed)
    c12, c6 = start_of(name, start, table)
    t0 = time.perf_counter()
    res = relative_entropy(ev, start=(c12, c6), validate=False)
    return {"molecule": name, "start": start, "seed": seed, "start_C12": c12, "start_C6": c6,
            "md_runs": res.md_runs, "converged": res.converged, "iterations": res.iterations,
            "C12": res.C12, "C6": res.C6, "boundary": "boundary" in res.extra,
            "notes": res.notes, "wall_s": time.perf_counter() - t0}


def summarise(fits: list[dict]) -> dict:
    out: dict = {}
    for f in fits:
        out.setdefault(f["molecule"], {}).setdefault(f["start"], []).append(f)
    summ: dict = {}
    for name, by_start in out.items():
        summ[name] = {}
        for start, fs in by_start.items():
            runs = np.array([f["md_runs"] for f in fs], dtype=float)
            c12 = np.array([f["C12"] for f in fs])
            c6 = np.array([f["C6"] for f in fs])
            k = len(fs)
            summ[name][start] = {
                "fits": k, "converged": int(sum(bool(f["converged"]) for f in fs)),
                "md_runs_mean": float(runs.mean()),
                "md_runs_sem": float(runs.std(ddof=1) / math.sqrt(k)) if k > 1 else None,
                "md_runs_min": int(runs.min()), "md_runs_max": int(runs.max()),
                "C12_mean": float(c12.mean()),
                "C12_rsd": float(c12.std(ddof=1) / c12.mean()) if k > 1 else None,
                "C6_mean": float(c6.mean()),
                "C6_rsd": (float(c6.std(ddof=1) / c6.mean())
                           if k > 1 and c6.mean() > 0 else None),
                "boundary": int(sum(bool(f["boundary"]) for f in fs))}
    return summ


def markdown(summ: dict) -> str:
    lines = ["| molecule | start | fits (converged) | RE's MD runs: mean ± sem (range) | "
             "C12 mean (rel. sd) | C6 mean (rel. sd) |", "|---|---|---|---|---|---|"]
    for name, by in summ.items():
        for start in STARTS:
            s = by.get(start)
            if s is None:
                continue
            sem = "-" if s["md_runs_sem"] is None else f"{s['md_runs_sem']:.1f}"
            rsd = ("-" if s["C12_rsd"] is None else f"{100 * s['C12_rsd']:.1f} %")
            rsd6 = ("-" if s["C6_rsd"] is None else f"{100 * s['C6_rsd']:.1f} %")
            lines.append(f"| {name} | {start} | {s['fits']} ({s['converged']}) | "
                         f"{s['md_runs_mean']:.1f} ± {sem} ({s['md_runs_min']}-"
                         f"{s['md_runs_max']}) | {s['C12_mean']:.4e} ({rsd}) | "
                         f"{s['C6_mean']:.4e} ({rsd6}) |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--molecules", nargs="+", default=["CO", "CH4", "N2", "F2", "C2H6"])
    ap.add_argument("--starts", nargs="+", default=list(STARTS), choices=STARTS)
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3, 4, 5])
    ap.add_argument("--lock", default=None, help="hold this file with flock during each fit")
    a = ap.parse_args(argv)
    from cg_table import committed_table, invocation

    from deepilst.fileio import held, json_safe, write_json_atomic

    table, protocol = committed_table()
    command = invocation("re_start_runs.py", argv, a.lock)
    for seed in a.seeds:  # seed outermost: an interrupted job leaves balanced results
        for name in a.molecules:
            for start in a.starts:
                f = RUNS / name / f"{start}_s{seed}.json"
                if f.exists():
                    continue
                with held(a.lock):
                    out = fit(name, start, seed, table, protocol)
                out["command"] = command
                f.parent.mkdir(parents=True, exist_ok=True)
                write_json_atomic(f, json_safe(out), indent=1)
                print(f"{name} {start} seed {seed}: {out['md_runs']} runs, converged "
                      f"{out['converged']}, {out['wall_s']:.0f} s", flush=True)
    fits = [json.loads(f.read_text()) for f in sorted(RUNS.glob("*/*.json"))]
    summ = summarise(fits)
    from provenance import versions
    prov = {"command": command,
            "commands": sorted({f.get("command", "") for f in fits}),
            "versions": versions("openmm", gromacs=True),
            "seed_base": SEED_BASE, "cg_protocol": table["provenance"]["cg_protocol"],
            "machine": f"{platform.machine()}, 2 cores; one fit at a time",
            "wall_s_total": sum(f["wall_s"] for f in fits)}
    write_json_atomic(OUT, json_safe({"provenance": prov, "summary": summ, "fits": fits,
                                      "markdown": markdown(summ)}), indent=1)
    print(markdown(summ))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
