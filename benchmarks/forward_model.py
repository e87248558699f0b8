"""The forward model against MD: the choices compared on validation data, speed, and the
fresh acceptance set (issue 14, item 1).

    # choices (each: fit on data/v1_train.h5 fluids, calibrate on data/v1_test_2runs.h5,
    # score on data/v1_test.h5 single runs with their run-to-run eps_rdf); resumable per choice
    flock /tmp/deepilst-md.lock env PYTHONPATH=src python benchmarks/forward_model.py choices \
        --config dx=0.002,K=20 --config dx=0.001,K=20 ...
    PYTHONPATH=src python benchmarks/forward_model.py speed        # the shipped model
    # the fresh states: two seeds of the same states, built as two datasets
    PYTHONPATH=src python benchmarks/forward_model.py acceptance runs/fwd_accept/a.h5 \
        runs/fwd_accept/b.h5 --seeds 101,202

Results in benchmarks/results/forward_model.json (one key per part).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "forward_model.json"


def _load() -> dict:
    return json.loads(OUT.read_text()) if OUT.exists() else {}


def _save(res: dict) -> None:
    from deepilst.fileio import write_json_atomic

    write_json_atomic(OUT, res, indent=1)


def _parse(spec: str) -> dict:
    d = dict(kv.split("=") for kv in spec.split(","))
    return {"dx": float(d.get("dx", 0.002)), "K": int(d.get("K", 20)),
            "coords": d.get("coords", "logT_rho"), "n_sub": int(d.get("n_sub", 400))}


def choices(configs: list[str]) -> None:
    from deepilst.model.forward_data import reduced_curves
    from deepilst.model.forward_eval import load_sims, metrics, region_residuals, residual_parts, second_run
    from deepilst.model.forward_fit import calibrate, fit_forward

    res = _load()
    done = res.setdefault("choices", {})
    single = load_sims(ROOT / "data/v1_test.h5")
    pooled = load_sims(ROOT / "data/v1_test_2runs.h5")
    run2 = second_run(single, pooled)
    fl = np.flatnonzero(pooled["phase"] == "fluid")
    curves = {}
    for spec in configs:
        c = _parse(spec)
        key = f"dx={c['dx']:g},K={c['K']},coords={c['coords']},n_sub={c['n_sub']}"
        if key in done:
            print(f"{key}: done", file=sys.stderr)
            continue
        t0 = time.time()
        if c["dx"] not in curves:
            curves[c["dx"]] = reduced_curves(ROOT / "data/v1_train.h5", dx=c["dx"])
        m = fit_forward(curves[c["dx"]], c["K"], c["coords"], c["n_sub"], 0)
        t_fit = time.time() - t0
        cal = calibrate(m, residual_parts(m, pooled, fl))
        ms = metrics(m, single, fl, other=run2)
        ms.pop("per_sim")
        done[key] = {"fit_wall_s": round(t_fit, 1), "calibration": cal, "test_single_run": ms,
                     "test_2runs_regions": region_residuals(m, pooled, fl)}
        print(key, {k: v for k, v in ms.items() if k != "regions"}, file=sys.stderr)
        _save(res)


def speed(model_dir: str | None) -> None:
    from deepilst.model.forward import load_forward_model
    from deepilst.rdf import centered_edges, model_grid

    t0 = time.perf_counter()
    fm = load_forward_model(model_dir)
    t_load = time.perf_counter() - t0
    e = centered_edges(model_grid())

    def best(f, n=5):
        ts = []
        for _ in range(n):
            t = time.perf_counter()
            f()
            ts.append(time.perf_counter() - t)
        return min(ts)

    one = lambda: fm.shell_average(e, 345.0, 13.7, 9.7e-6, 6.22e-3, std=False)  # noqa: E731
    one_std = lambda: fm.shell_average(e, 345.0, 13.7, 9.7e-6, 6.22e-3)  # noqa: E731
    one()
    one_std()
    A, B = np.meshgrid(np.linspace(5e-6, 1e-4, 150), np.linspace(2e-3, 1.5e-2, 150))
    batch = lambda: fm.shell_average(e, 345.0, 13.7, A.ravel(), B.ravel(), std=False)  # noqa: E731
    batch_std = lambda: fm.shell_average(e, 345.0, 13.7, A.ravel(), B.ravel())  # noqa: E731
    import os

    res = _load()
    res["speed"] = {"load_s": t_load, "one_g_s": best(one), "one_g_with_std_s": best(one_std),
                    "batch_22500_s": best(batch, 2), "batch_22500_with_std_s": best(batch_std, 1),
                    "bins": len(e) - 1, "load_average": list(os.getloadavg())}
    print(res["speed"], file=sys.stderr)
    _save(res)


def acceptance(files: list[str], seeds: str, model_dir: str | None) -> None:
    """Score the model on the fresh states: the first file's runs against the model, the
    second file's runs (same states, another seed) for the run-to-run eps_rdf."""
    from deepilst.model.forward import load_forward_model
    from deepilst.model.forward_eval import load_sims, metrics, region_residuals

    fm = load_forward_model(model_dir)
    a, b = load_sims(files[0]), load_sims(files[1])
    order = {k: i for i, k in enumerate(zip(b["T"], b["rho"], b["C12"], b["C6"]))}
    jb = np.array([order[k] for k in zip(a["T"], a["rho"], a["C12"], a["C6"])])
    b = {k: (v[jb] if isinstance(v, np.ndarray) and len(v) == len(jb) else v)
         for k, v in b.items()}
    fluid = np.flatnonzero((a["phase"] == "fluid") & (b["phase"] == "fluid"))
    cov = fm.covers(a["T_reduced"], a["rho_reduced"])
    out = {"files": files, "seeds": seeds, "n_states": int(len(a["g"])),
           "phases_run1": {p: int(np.sum(a["phase"] == p)) for p in set(a["phase"])},
           "phases_run2": {p: int(np.sum(b["phase"] == p)) for p in set(b["phase"])},
           "covered": int(cov.sum())}
    for name, run, other in (("run1_vs_model", a, b), ("run2_vs_model", b, a)):
        ms = metrics(fm, run, fluid, other=other)
        out[name] = ms
        out[name + "_covered"] = {k: v for k, v in metrics(fm, run, fluid[cov[fluid]],
                                                         other=other).items() if k != "per_sim"}
    out["regions_run1"] = region_residuals(fm, a, fluid)
    out["states"] = [{"T": float(a["T"][i]), "rho": float(a["rho"][i]), "C12": float(a["C12"][i]),
                      "C6": float(a["C6"][i]), "T_reduced": float(a["T_reduced"][i]),
                      "rho_reduced": float(a["rho_reduced"][i]), "phase_run1": str(a["phase"][i]),
                      "phase_run2": str(b["phase"][i]), "covered": bool(cov[i])}
                     for i in range(len(a["g"]))]
    res = _load()
    res["acceptance"] = out
    print({k: v for k, v in out["run1_vs_model"].items() if k not in ("per_sim", "regions")},
          file=sys.stderr)
    _save(res)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("choices")
    c.add_argument("--config", action="append", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--model", default=None)
    a = sub.add_parser("acceptance")
    a.add_argument("files", nargs=2)
    a.add_argument("--seeds", required=True)
    a.add_argument("--model", default=None)
    ns = ap.parse_args()
    if ns.cmd == "choices":
        choices(ns.config)
    elif ns.cmd == "speed":
        speed(ns.model)
    else:
        acceptance(ns.files, ns.seeds, ns.model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
