"""``deepilst cg``'s screen on LJ fluids of known parameters: one run, the truth, no false alarm?

The screen (:func:`deepilst.cg.workflow.screen`) ranks the network's answer and the forward
model's basin minima by the forward model's eps_rdf, runs the best once and runs the others
only when that run measures worse than predicted (z > SCREEN_Z_MAX, frozen at 3 from the 30
runs of benchmarks/maps_md_check.py before this benchmark was written). On an LJ fluid the
right answer is known, so this measures, with every choice frozen:

* how often the check fails (a false alarm: more runs, never a worse bead),
* how far the chosen bead is from the true (C12, C6), and its eps_rdf against the noise floor.

States: ``--n`` fluid, equilibrated states of data/fresh_test.h5 (held out from every model;
its final numbers are in benchmarks/results/fresh_sets.json), drawn with rng ``--state-seed``
from those not drawn by the seeds in ``--exclude-seeds``; the target is each state's stored
g(r) and its error (350 ps, 1000 particles). CG runs: the default protocol (1000 beads,
50 + 250 ps, GROMACS), one job at a time under the MD lock.

Sets, in the order they were run:

* seed 24, before the screen had a margin (the lowest forward-model eps_rdf was always run):
  benchmarks/results/cg_screen_lj_s24_before_margin.json. It picked a map minimum on 15 of 16
  LJ fluids, whose parameters were further from the truth than the network's (C6 by up to
  16 %), at the same eps_rdf. That led to :func:`deepilst.cg.workflow.screen_margin`, so this
  set is seen.
* seed 24 again with the margin (seen): cg_screen_lj_s24.json.
* seed 25, excluding seed 24's states, registered before its runs (fresh for the margin): 15
  of 16 ran the network's answer; state 415 (the network's answer outside the forward model's
  domain) ran the soft map minimum, C6 40 % off, at the noise floor. That led to running a
  network answer the forward model cannot judge beside the screened one (git history holds
  that first file); cg_screen_lj_s25.json is the rerun with it, a seen set.
* seed 26, excluding seeds 24 and 25's states, registered before its runs (fresh for both
  rules): cg_screen_lj_s26.json.

    python benchmarks/cg_screen_lj.py --n 16 --state-seed 26 --exclude-seeds 24 25

Results: benchmarks/results/cg_screen_lj_s<seed>.json (resumable per state in
runs/cg_screen_lj/s<seed>/).
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

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "runs" / "cg_screen_lj"
RESULTS = ROOT / "benchmarks" / "results"
LOCK = os.path.join(tempfile.gettempdir(), "deepilst-md.lock")
SEED = 4242


def states(n: int, seed: int, exclude_seeds: tuple[int, ...] = ()) -> list[int]:
    """Indices of ``n`` fluid, equilibrated simulations of the fresh test set, drawn with rng
    ``seed`` from those that the draws of ``exclude_seeds`` (each of ``n``) did not take."""
    from deepilst.dataset.read import open_dataset

    with open_dataset(ROOT / "data" / "fresh_test.h5") as f:
        s = f["sims"]
        phase = np.char.decode(s["phase"][()].astype("S"))
        ok = np.flatnonzero((phase == "fluid") & (s["equilibrated"][()] > 0.5))
    taken = {int(i) for x in exclude_seeds
             for i in np.random.default_rng(x).choice(ok, size=min(n, len(ok)), replace=False)}
    ok = np.array([i for i in ok if int(i) not in taken])
    rng = np.random.default_rng(seed)
    return sorted(int(i) for i in rng.choice(ok, size=min(n, len(ok)), replace=False))


def run_state(i: int) -> dict:
    from deepilst.cg import coarse_grain
    from deepilst.dataset.read import open_dataset
    from deepilst.fileio import held
    from deepilst.xvg import write_xvg

    with open_dataset(ROOT / "data" / "fresh_test.h5") as f:
        s, r = f["sims"], np.asarray(f["r"])
        T, rho = float(s["T"][i]), float(s["rho"][i])
        c12, c6 = float(s["C12"][i]), float(s["C6"][i])
        g, err = np.asarray(s["g"][i], float), np.asarray(s["g_err"][i], float)
        t_red = float(s["T_reduced"][i])
        rho_red = float(s["rho_reduced"][i])
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"lj_{i}.xvg"
        write_xvg(path, r, [g, err], ["g(r)", "standard error"],
                  comments=["LJ fluid of data/fresh_test.h5, g normalised by N(N-1)/2 distinct "
                            "pairs; error column: block standard error"])
        t0 = time.perf_counter()
        with held(LOCK):
            rep = coarse_grain(path, T, rho, seed=SEED + i)
        wall = time.perf_counter() - t0
    ch = rep.chosen
    check = ch.extra.get("screen_check") or {}
    return {"index": i, "T": T, "rho": rho, "T_reduced": t_red, "rho_reduced": rho_red,
            "true": {"C12": c12, "C6": c6}, "C12": ch.C12, "C6": ch.C6,
            "C12_err_pct": 100 * (ch.C12 / c12 - 1), "C6_err_pct": 100 * (ch.C6 / c6 - 1),
            "from": ch.extra.get("from"), "method": ch.method, "md_runs": rep.md_runs,
            "screen": ch.extra.get("screen"), "screen_pick": ch.extra.get("screen_pick"),
            "screen_margin": ch.extra.get("screen_margin"),
            "z": check.get("z"), "passed": check.get("passed"),
            "eps_rdf": ch.final.eps_rdf.mean, "eps_rdf_sem": ch.final.eps_rdf.sem,
            "eps_rdf_floor": ch.final.eps_rdf_floor,
            "candidates": [{"name": n, "C12": e.params.c12, "C6": e.params.c6,
                            "eps_rdf": e.eps_rdf.mean, "eps_rdf_sem": e.eps_rdf.sem}
                           for n, e in rep.candidates],
            "network": {"C12": rep.network.C12, "C6": rep.network.C6,
                        "C12_err_pct": 100 * (rep.network.C12 / c12 - 1),
                        "C6_err_pct": 100 * (rep.network.C6 / c6 - 1),
                        "in_domain": rep.prediction.get("in_domain")},
            "wall_s": wall}


def summarise(rows: list[dict]) -> dict:
    z = np.array([r["z"] for r in rows if r["z"] is not None], float)
    runs = np.array([r["md_runs"] for r in rows])
    c12 = np.abs([r["C12_err_pct"] for r in rows])
    c6 = np.abs([r["C6_err_pct"] for r in rows])
    ratio = np.array([r["eps_rdf"] / r["eps_rdf_floor"] for r in rows])
    return {"n_states": len(rows), "one_run": int(np.sum(runs == 1)),
            "network_run": int(sum(r.get("screen_pick") == "network" for r in rows)),
            "check_failed": int(sum(r["passed"] is False for r in rows)),
            "no_screen": int(sum(r["passed"] is None for r in rows)),
            "z_min": float(z.min()) if len(z) else None, "z_max": float(z.max()) if len(z) else None,
            "chosen_from": {k: sum(r["from"] == k for r in rows) for k in sorted({r["from"] for r in rows})},
            "C12_abs_err_pct": {"median": float(np.median(c12)), "max": float(c12.max())},
            "C6_abs_err_pct": {"median": float(np.median(c6)), "max": float(c6.max())},
            "eps_rdf_over_floor": {"median": float(np.median(ratio)), "max": float(ratio.max())},
            "mean_md_runs": float(runs.mean()),
            "mean_wall_s": float(np.mean([r["wall_s"] for r in rows]))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--state-seed", type=int, default=26)
    ap.add_argument("--exclude-seeds", type=int, nargs="*", default=[24, 25])
    a = ap.parse_args(argv)
    from deepilst.fileio import json_safe, write_json_atomic

    runs = RUNS / f"s{a.state_seed}"
    runs.mkdir(parents=True, exist_ok=True)
    rows = []
    t0 = time.perf_counter()
    for i in states(a.n, a.state_seed, tuple(a.exclude_seeds)):
        f = runs / f"{i}.json"
        if not f.exists():
            write_json_atomic(f, json_safe(run_state(i)), indent=1)
        r = json.loads(f.read_text())
        rows.append(r)
        print(f"state {i}: T* {r['T_reduced']:.3g} rho* {r['rho_reduced']:.3g} from {r['from']} "
              f"runs {r['md_runs']} z {r['z']} C12 {r['C12_err_pct']:+.2f} % C6 "
              f"{r['C6_err_pct']:+.2f} %", flush=True)

    from provenance import versions
    out = {"provenance": {"command": "python benchmarks/cg_screen_lj.py " + " ".join(argv or sys.argv[1:]),
                          "versions": versions("openmm", gromacs=True),
                          "state_seed": a.state_seed, "excluded_seeds": a.exclude_seeds,
                          "md_seed": f"{SEED} + state index",
                          "data": "data/fresh_test.h5",
                          "protocol": "CGProtocol(): 1000 beads, 50 + 250 ps, GROMACS",
                          "wall_s_this_invocation": time.perf_counter() - t0,
                          "machine": f"{platform.machine()}, 2 cores"},
           "summary": summarise(rows), "states": rows}
    write_json_atomic(RESULTS / f"cg_screen_lj_s{a.state_seed}.json", json_safe(out), indent=1)
    print(json.dumps(out["summary"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
