"""Prediction speed (issue 4): one `deepilst predict` call, start-up included, beside a bare
Python start in the same run; batch throughput of the library in RDFs per second.

    python benchmarks/predict_speed.py [--repeats 5]

Writes benchmarks/results/predict_speed.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict:
    """The environment of a user's shell: bytecode caches allowed (some sandboxes set
    PYTHONDONTWRITEBYTECODE, which makes every start recompile deepilst's sources)."""
    import os

    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def wall(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=_env())
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    t0 = time.perf_counter()
    ex = str(ROOT / "examples" / "argon_330K_16.5nm3.xvg")
    script = Path(sys.executable).parent / "deepilst"  # the console script a user runs
    entry = [str(script)] if script.exists() else [sys.executable, "-m", "deepilst.cli"]
    cli = [*entry, "predict", ex, "-T", "330", "-d", "16.5"]
    bare = [sys.executable, "-c", "import numpy"]
    res = {"predict_s": [], "python_numpy_s": []}
    wall(cli)  # warm-up: writes the bytecode caches a normal install has
    wall(bare)
    for _ in range(args.repeats):  # interleaved, so both see the same machine load
        res["predict_s"].append(wall(cli))
        res["python_numpy_s"].append(wall(bare))
    from deepilst.model.data import load_arrays
    from deepilst.predict import load_model, predict_arrays

    a = load_arrays(ROOT / "data" / "v1_argon.h5")
    g = np.repeat(a.g, 9, axis=0)[:1000]
    T, rho = np.repeat(a.T, 9)[:1000], np.repeat(a.rho, 9)[:1000]
    for name in ("ensemble", "paper"):
        m = load_model(name)
        t = time.perf_counter()
        m.predict(g, T, rho)
        res[f"batch_{name}_rdf_per_s"] = len(g) / (time.perf_counter() - t)
        t = time.perf_counter()
        predict_arrays(m, g[:100], T[:100], rho[:100], thermo=True)
        res[f"batch_{name}_with_thermo_rdf_per_s"] = 100 / (time.perf_counter() - t)
    res["predict_best_s"] = min(res["predict_s"])
    res["ratio_predict_to_bare_python"] = min(res["predict_s"]) / min(res["python_numpy_s"])
    import os
    import platform

    import deepilst

    res["provenance"] = {
        "command": "python benchmarks/predict_speed.py " + " ".join(sys.argv[1:]),
        "predict_command": "deepilst predict examples/argon_330K_16.5nm3.xvg -T 330 -d 16.5",
        "deepilst": deepilst.__version__, "python": platform.python_version(),
        "numpy": np.__version__, "cores": os.cpu_count(), "repeats": args.repeats,
        "note": "one warm-up call of each first; bytecode caches allowed (PYTHONDONTWRITEBYTECODE "
                "removed from the environment), as in a user's shell",
        "wall_s": time.perf_counter() - t0,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    from deepilst.fileio import write_json_atomic

    write_json_atomic(ROOT / "benchmarks" / "results" / "predict_speed.json", res, indent=1)
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
