"""The forward model against MD: the choices compared on validation data, speed, and the
fresh acceptance set (issue 14, item 1).

    # choices (each: fit on data/v1_train.h5 fluids, calibrate on data/v1_test_2runs.h5,
    # score on data/v1_test.h5 single runs with their run-to-run eps_rdf); resumable per choice
    flock "${TMPDIR:-/tmp}"/deepilst-md.lock env PYTHONPATH=src python benchmarks/forward_model.py choices \
        --config dx=0.002,K=20 --config dx=0.001,K=20 ...
    PYTHONPATH=src python benchmarks/forward_model.py speed        # the shipped model
    # the fresh states, drawn after the choices were frozen
    PYTHONPATH=src python benchmarks/forward_model.py draw --n 40 --seed 1414 \
        -o runs/fwd_accept/states.csv
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
        fc = fl[m.covers(pooled["T_reduced"][fl], pooled["rho_reduced"][fl])]
        cal = calibrate(m, residual_parts(m, pooled, fc))
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


def draw(n: int, seed: int, out: str, model_dir: str | None) -> None:
    """``n`` states uniform over the fluid training hull in (log T*, rho*) (rejection sampling
    in its bounding box), each mapped to one physical state inside Table 1 (a state with no
    Table 1 image is redrawn); written as a ``--design grid`` CSV."""
    from deepilst.fileio import write_text_atomic
    from deepilst.model.domain import in_polygon
    from deepilst.model.forward import load_forward_model
    from deepilst.sampling import physical_candidates

    hull = load_forward_model(model_dir).a["hull"]
    lo, hi = hull.min(axis=0), hull.max(axis=0)
    rng = np.random.default_rng(seed)
    rows = []
    while len(rows) < n:
        u = rng.uniform(lo, hi)
        if not in_polygon(u[None], hull)[0]:
            continue
        c = physical_candidates(float(np.exp(u[0])), float(u[1]), 1, rng)
        if len(c):
            rows.append(c[0])
    write_text_atomic(out, "T,rho,C12,C6\n" + "\n".join(",".join(repr(float(v)) for v in r)
                                                        for r in rows) + "\n")
    res = _load()
    res["acceptance_draw"] = {"n": n, "seed": seed, "csv": out,
                              "how": "uniform in (log T*, rho*) over the fluid training hull "
                                     "(forward model 'hull'), one Table 1 state each"}
    _save(res)
    print(f"wrote {n} states to {out}", file=sys.stderr)


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


def figure(model_dir: str | None, out: str) -> None:
    """docs/forward_validation.png: eps_rdf against MD beside the run-to-run eps_rdf of every
    fluid test state, and three states' g(r) with the model's band and the residuals."""
    from deepilst.model.forward import load_forward_model
    from deepilst.model.forward_eval import load_sims, metrics, predict_sims, second_run
    from deepilst.plots import _plt, save_figure

    fm = load_forward_model(model_dir)
    single = load_sims(ROOT / "data/v1_test.h5")
    run2 = second_run(single, load_sims(ROOT / "data/v1_test_2runs.h5"))
    fl = np.flatnonzero(single["phase"] == "fluid")
    ms = metrics(fm, single, fl, other=run2)["per_sim"]
    plt = _plt()
    fig = plt.figure(figsize=(12, 7.5))
    ax = fig.add_subplot(2, 2, 1)
    T = single["T_reduced"][fl]
    sc = ax.scatter(100 * np.array(ms["run_to_run_eps_rdf"]), 100 * np.array(ms["eps_rdf"]), s=6,
                    c=np.log10(T), cmap="viridis")
    lim = [0, 100 * max(max(ms["eps_rdf"]), max(ms["run_to_run_eps_rdf"])) * 1.05]
    ax.plot(lim, lim, "k-", lw=0.8, label="y = x")
    ax.plot(lim, [1.5 * v for v in lim], "k--", lw=0.8, label="y = 1.5 x")
    ax.set_xlim(lim)
    ax.set_ylim(lim)
    ax.set_xlabel("MD run 1 vs run 2: eps_rdf (%)")
    ax.set_ylabel("forward model vs MD run 1: eps_rdf (%)")
    ax.legend(frameon=False, loc="upper left")
    fig.colorbar(sc, ax=ax, label="log10 T*")
    ax.set_title(f"{len(fl)} fluid test states (validation)")
    picks = [fl[np.argmin(np.abs(np.log(T / t)) + np.abs(single['rho_reduced'][fl] - r))]
             for t, r in ((1.3, 0.62), (3.0, 0.85), (60.0, 2.2))]
    G, S = predict_sims(fm, single, picks)
    rr = single["r"]
    for j, i in enumerate(picks):
        a = fig.add_subplot(2, 3, 4 + j)
        m = rr > 0.2
        a.errorbar(rr[m], single["g"][i][m], yerr=2 * single["g_err"][i][m], fmt=".", ms=2,
                   color="k", lw=0.5, label="MD (+-2 se)")
        a.plot(rr[m], G[j][m], "C3-", lw=1, label="forward model")
        a.fill_between(rr[m], (G[j] - 2 * S[j])[m], (G[j] + 2 * S[j])[m], color="C3", alpha=0.3, lw=0)
        a.plot(rr[m], 1 + 10 * (single["g"][i] - G[j])[m] - 0.6, "C0-", lw=0.6,
               label="10 x residual (offset)")
        a.set_title(f"T* = {single['T_reduced'][i]:.3g}, rho* = {single['rho_reduced'][i]:.3g}")
        a.set_xlabel("r (nm)")
        if j == 0:
            a.set_ylabel("g(r)")
            a.legend(frameon=False, fontsize=7)
    ax2 = fig.add_subplot(2, 2, 2)
    ax2.scatter(np.log10(T), single["rho_reduced"][fl], c=np.array(ms["chi2_per_point"]), s=6,
                cmap="magma_r", vmin=0, vmax=3)
    ax2.set_xlabel("log10 T*")
    ax2.set_ylabel("rho*")
    ax2.set_title("chi2 per point of MD run 1 against the model (colour, 0-3)")
    fig.tight_layout()
    save_figure(fig, out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("choices")
    c.add_argument("--config", action="append", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--model", default=None)
    f = sub.add_parser("figure")
    f.add_argument("--model", default=None)
    f.add_argument("-o", "--out", default=str(ROOT / "docs" / "forward_validation.png"))
    d = sub.add_parser("draw")
    d.add_argument("--n", type=int, default=40)
    d.add_argument("--seed", type=int, required=True)
    d.add_argument("-o", "--out", required=True)
    d.add_argument("--model", default=None)
    a = sub.add_parser("acceptance")
    a.add_argument("files", nargs=2)
    a.add_argument("--seeds", required=True)
    a.add_argument("--model", default=None)
    ns = ap.parse_args()
    if ns.cmd == "choices":
        choices(ns.config)
    elif ns.cmd == "figure":
        figure(ns.model, ns.out)
    elif ns.cmd == "draw":
        draw(ns.n, ns.seed, ns.out, ns.model)
    elif ns.cmd == "speed":
        speed(ns.model)
    else:
        acceptance(ns.files, ns.seeds, ns.model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
