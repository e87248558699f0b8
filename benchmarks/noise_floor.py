"""How much of a model's test error is the test RDFs' own statistical noise (issue 4).

Re-simulates a random sample of fluid test states with the test set's protocol and a new seed,
predicts both runs of each state, and splits the MAPE into the run-to-run part,
sum|p_test - p_replica| / sqrt(2) / sum|true| (what a second, equally long run changes), and
the MAPE of the two runs' mean prediction (the error left when the noise is halved in variance).

    python benchmarks/noise_floor.py [--n 60] [--runs DIR] [--model ensemble --model paper]

The simulations go to DIR (resumable; default runs/noise_floor below the repository root,
git-ignored); about 7 min on 2 cores for 60 states. Writes benchmarks/results/noise_floor.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# the protocol of data/v1_test.h5 (scripts/make_dataset_v1.sh)
PROTOCOL = ["--engine", "auto", "--n-particles", "1000", "--equil-ps", "50", "--prod-ps", "350",
            "--sample-every", "100"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=60, help="fluid test states to re-simulate")
    ap.add_argument("--runs", default=str(ROOT / "runs" / "noise_floor"))
    ap.add_argument("--model", action="append", help="model name or directory (repeatable)")
    ap.add_argument("--seed", type=int, default=103, help="simulation seed of the replicas")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    from deepilst.dataset import states_csv
    from deepilst.fileio import write_text_atomic
    from deepilst.model.data import load_arrays
    from deepilst.model.evaluate import mape
    from deepilst.predict import load_model

    test_h5 = ROOT / "data" / "v1_test.h5"
    test = load_arrays(test_h5)  # one sample per simulation: sample rows are simulation rows
    fluid = np.flatnonzero(test.phase == "fluid")
    sel = np.sort(np.random.default_rng(2).choice(fluid, args.n, replace=False))
    runs = Path(args.runs)
    runs.mkdir(parents=True, exist_ok=True)
    grid = runs / "grid.csv"
    states_csv(test_h5, grid, rows=sel)
    cli = [sys.executable, "-m", "deepilst.cli"]
    subprocess.run(cli + ["generate", "--design", "grid", "--grid", str(grid), "--out",
                          str(runs / "replica"), "--seed", str(args.seed), "--workers",
                          str(args.workers)] + PROTOCOL, check=True)
    h5 = runs / "replica.h5"
    subprocess.run(cli + ["dataset", "build", str(runs / "replica"), "-o", str(h5)], check=True)
    t, r = test.take(sel), load_arrays(h5)
    if not (np.allclose(r.T, t.T) and np.allclose(r.C6, t.C6)):
        sys.exit(f"error: {h5} does not hold the selected test states in order")
    both = (t.phase == "fluid") & (r.phase == "fluid")
    res: dict = {"n_states": int(len(sel)), "n_fluid_in_both": int(both.sum()),
                 "test_rows": sel.tolist(), "replica_seed": args.seed, "models": {}}
    for name in args.model or ["ensemble", "paper"]:
        m = load_model(name)
        p0, p1 = m.predict(t.g, t.T, t.rho), m.predict(r.g, r.T, r.rho)
        out = {}
        for k in ("C12", "C6"):
            a, b, true = p0[k][both], p1[k][both], getattr(t, k)[both]
            out[k] = {"mape_test_run": mape(a, true), "mape_replica_run": mape(b, true),
                      "run_to_run": float(100 * np.sum(np.abs(a - b)) / np.sqrt(2)
                                          / np.sum(np.abs(true))),
                      "mape_two_run_mean": mape(0.5 * (a + b), true)}
        res["models"][str(name)] = out
    path = ROOT / "benchmarks" / "results" / "noise_floor.json"
    write_text_atomic(path, json.dumps(res, indent=1))
    print(json.dumps(res["models"], indent=1))


if __name__ == "__main__":
    main()
