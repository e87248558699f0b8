"""The likelihood fit (``predict --method fit``) against the network ensemble (issue 14, item 3):
validation sets, bin widths, and inputs that are not LJ fluids.

    # each set in resumable chunks (one lock per chunk), then the summary
    flock "${TMPDIR:-/tmp}"/deepilst-md.lock env PYTHONPATH=src python benchmarks/fit_inverse.py validation \
        --set test --chunk 0
    PYTHONPATH=src python benchmarks/fit_inverse.py summary
    PYTHONPATH=src python benchmarks/fit_inverse.py binning
    L="${TMPDIR:-/tmp}"/deepilst-md.lock
    for s in mie9-6 mie20-6 dumbbell_F2 dumbbell_long; do   # the OpenMM runs, one lock each
        flock "$L" env PYTHONPATH=src python benchmarks/fit_inverse.py nonlj --system $s
    done
    flock "${TMPDIR:-/tmp}"/deepilst-md.lock env PYTHONPATH=src python benchmarks/fit_inverse.py nonlj

Per-simulation rows go to runs/fit_inverse/<set>_<chunk>.json (git-ignored); the summary,
bin widths and non-LJ results to benchmarks/results/fit_inverse.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "fit_inverse.json"
RUNS = ROOT / "runs" / "fit_inverse"
SETS = {"test": "data/v1_test.h5", "test_2runs": "data/v1_test_2runs.h5",
        "transfer": "data/v1_transfer.h5"}
CHUNK = 100
KEYS = ("C12", "C6", "T_reduced", "rho_reduced")


def _load() -> dict:
    return json.loads(OUT.read_text()) if OUT.exists() else {}


def _save(res: dict) -> None:
    from deepilst.fileio import json_safe, write_json_atomic

    write_json_atomic(OUT, json_safe(res), indent=1)


def _pick(d: dict) -> dict:
    out = {k: d[k] for k in KEYS}
    out.update({k + s: d[k + s] for k in ("C12", "C6") for s in ("_std", "_95")})
    out["in_domain"] = bool(d["in_domain"])
    return out


def fit_one(ens, fm, edges: np.ndarray, sims: dict, i: int) -> tuple[dict, object, dict, float]:
    """What ``predict --method fit`` does for simulation ``i`` of ``sims``
    (:func:`deepilst.model.forward_eval.load_sims`) on the bin ``edges`` [nm]: the ensemble's
    prediction with the input's errors, the fit started there, and the fit's result dict.
    Returns (network dict, :class:`~deepilst.model.inverse.InverseFit`, fit dict, the fit's
    wall time in s, network prediction excluded)."""
    from deepilst.model.inverse import fit_state
    from deepilst.model.inverse_io import refine
    from deepilst.predict import predict_arrays

    T, rho = float(sims["T"][i]), float(sims["rho"][i])
    d = predict_arrays(ens, sims["g"][i][None], T, rho, thermo=False,
                       g_err=sims["g_err"][i][None])[0]
    t0 = time.perf_counter()
    f = fit_state(fm, edges, sims["g"][i], sims["g_err"][i], rho,
                  (d["T_reduced"], d["rho_reduced"]))
    fd = refine(d, f, T, rho, fm, "file")
    return d, f, fd, time.perf_counter() - t0


def validation(name: str, chunk: int) -> None:
    """Network and fit on the simulations [chunk * CHUNK, (chunk + 1) * CHUNK) of a set."""
    from deepilst.model.forward import load_forward_model
    from deepilst.model.forward_eval import load_sims
    from deepilst.predict import load_model
    from deepilst.rdf import centered_edges

    out = RUNS / f"{name}_{chunk}.json"
    if out.exists():
        print(f"{out.name}: done", file=sys.stderr)
        return
    sims = load_sims(ROOT / SETS[name])
    ens, fm = load_model("ensemble"), load_forward_model()
    ce = centered_edges(sims["r"])
    rows = []
    t0 = time.time()
    for i in range(chunk * CHUNK, min((chunk + 1) * CHUNK, len(sims["g"]))):
        d, f, fd, fit_wall = fit_one(ens, fm, ce, sims, i)
        rows.append({"row": i, "T": float(sims["T"][i]), "rho": float(sims["rho"][i]),
                     "true": {k: float(sims[k][i]) for k in KEYS},
                     "phase": str(sims["phase"][i]), "network": _pick(d),
                     "fit": {**_pick(fd), "chi2_per_point": f.chi2_per_point,
                             "covered": f.covered, "converged": f.converged,
                             "n_points": f.n_points, "wall_s": fit_wall}})
    from deepilst.fileio import json_safe, write_json_atomic

    write_json_atomic(out, json_safe({"set": name, "chunk": chunk, "rows": rows,
                                      "wall_s": time.time() - t0}), indent=None)
    print(f"{out.name}: {len(rows)} rows in {time.time() - t0:.0f} s", file=sys.stderr)


def _metrics(rows: list[dict], who: str) -> dict:
    out: dict = {"n": len(rows)}
    if not rows:
        return out
    for k in ("C12", "C6"):
        p = np.array([r[who][k] for r in rows])
        t = np.array([r["true"][k] for r in rows])
        lo = np.array([r[who][k + "_95"][0] for r in rows])
        hi = np.array([r[who][k + "_95"][1] for r in rows])
        out[f"MAPE_{k}"] = float(100 * np.sum(np.abs(p - t)) / np.sum(np.abs(t)))
        out[f"coverage95_{k}"] = float(np.mean((lo <= t) & (t <= hi)))
        out[f"median_rel_std_{k}"] = float(np.median([r[who][k + "_std"] / r[who][k] for r in rows]))
    out["in_domain"] = float(np.mean([r[who]["in_domain"] for r in rows]))
    return out


def summary() -> None:
    from deepilst.model.forward_eval import T_REGIONS

    res = _load()
    summ = {}
    for name in SETS:
        rows = [r for p in sorted(RUNS.glob(f"{name}_*.json"))
                if p.stem[len(name) + 1:].isdigit()  # test_3, not test_2runs_3
                for r in json.loads(p.read_text())["rows"]]
        if not rows:
            continue
        fluid = [r for r in rows if r["phase"] == "fluid"]
        s = {"n": len(rows)}
        for who in ("network", "fit"):
            s[who] = {"all": _metrics(rows, who), "fluid": _metrics(fluid, who),
                      "fluid_in_domain_both": _metrics(
                          [r for r in fluid if r["network"]["in_domain"] and r["fit"]["in_domain"]],
                          who),
                      "regions_fluid": {f"T* {lo:g}-{hi:g}": _metrics(
                          [r for r in fluid if lo <= r["true"]["T_reduced"] < hi], who)
                          for lo, hi in T_REGIONS}}
        chi = {ph: [r["fit"]["chi2_per_point"] for r in rows if r["phase"] == ph]
               for ph in ("fluid", "two-phase", "solid")}
        s["chi2_per_point"] = {ph: {"median": float(np.median(v)), "p95": float(np.quantile(v, 0.95)),
                                    "max": float(np.max(v)), "n": len(v)}
                               for ph, v in chi.items() if v}
        s["fit_wall_s_median"] = float(np.median([r["fit"]["wall_s"] for r in rows]))
        summ[name] = s
    res["validation"] = summ
    _save(res)
    for name, s in summ.items():
        for who in ("network", "fit"):
            print(name, who, "fluid", s[who]["fluid"], file=sys.stderr)


def binning() -> None:
    """One argon trajectory (345 K, 13.7 nm^-3) histogrammed at several widths: both methods."""
    from deepilst.predict import load_model, predict_file

    ens = load_model("ensemble")
    files = {"exact 0.005 (model grid)": "argon_exact_model_grid.xvg",
             "gmx 0.002": "argon_gmx_rdf_bin0.002.xvg", "gmx 0.005": "argon_gmx_rdf_bin0.005.xvg",
             "mda 0.01": "argon_mda_rdf_bin0.01.dat", "gmx 0.02": "argon_gmx_rdf_bin0.02.xvg"}
    out = {}
    for label, f in files.items():
        kw = {"r_unit": "A"} if f.endswith(".dat") else {}
        for method in ("network", "fit"):
            d = predict_file(ROOT / "tests" / "data" / f, 345.0, 13.7, ens, thermo=False,
                             method=method, **kw)
            out.setdefault(label, {})[method] = {
                "C12_err_pct": 100 * (d["C12"] / 9.70e-6 - 1), "C6_err_pct": 100 * (d["C6"] / 6.22e-3 - 1),
                "C12_std_pct": 100 * d["C12_std"] / d["C12"], "C6_std_pct": 100 * d["C6_std"] / d["C6"],
                "chi2_per_point": d.get("chi2_per_point"), "in_domain": d["in_domain"],
                "input_error": d.get("fit", {}).get("input_error")}
    for method in ("network", "fit"):
        for k in ("C12", "C6"):
            v = [out[lab][method][f"{k}_err_pct"] for lab in files]
            out.setdefault("spread_pct", {}).setdefault(method, {})[k] = float(max(v) - min(v))
            fine = [out[lab][method][f"{k}_err_pct"] for lab in list(files)[:4]]
            out["spread_pct"][method][k + "_up_to_0.01"] = float(max(fine) - min(fine))
    res = _load()
    res["binning"] = out
    _save(res)
    print(json.dumps(out, indent=1), file=sys.stderr)


def figure(out: str) -> None:
    """docs/forward_fit_residuals.png: the fit's residual plot for an LJ fluid (the shipped
    argon example) and for the centre-of-mass RDF of a two-site molecular fluid."""
    from deepilst.model.inverse_io import fit_input
    from deepilst.plots import _plt, save_figure
    from deepilst.predict import load_model, predict_file
    from deepilst.rdfio import inspect_rdf

    ens = load_model("ensemble")
    cases = [(ROOT / "examples" / "argon_330K_16.5nm3.xvg", 330.0, 16.5, "argon (LJ), 350 ps"),
             (ROOT / "runs" / "nonlj" / "dumbbell_F2.xvg", 345.0, 13.7,
              "F2-like dumbbells: centre-of-mass RDF")]
    plt = _plt()
    fig, ax = plt.subplots(2, 2, figsize=(12, 6), sharex="col",
                           gridspec_kw={"height_ratios": [2, 1]})
    for j, (path, T, rho, label) in enumerate(cases):
        d = predict_file(path, T, rho, ens, thermo=False)
        _, fit = fit_input(d, inspect_rdf(path), T, rho)
        fit.plot(ax[:, j], label=label)
    fig.tight_layout()
    save_figure(fig, out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("validation")
    v.add_argument("--set", choices=tuple(SETS), required=True)
    v.add_argument("--chunk", type=int, required=True)
    sub.add_parser("summary")
    fg = sub.add_parser("figure")
    fg.add_argument("-o", "--out", default=str(ROOT / "docs" / "forward_fit_residuals.png"))
    sub.add_parser("binning")
    n = sub.add_parser("nonlj")
    n.add_argument("--system", default=None, help="only simulate this system (one lock each)")
    a = ap.parse_args()
    if a.cmd == "validation":
        validation(a.set, a.chunk)
    elif a.cmd == "figure":
        figure(a.out)
    elif a.cmd == "summary":
        summary()
    elif a.cmd == "binning":
        binning()
    else:
        from fit_inverse_nonlj import nonlj  # benchmarks/: the simulations of non-LJ inputs

        nonlj(_load, _save, a.system)
    return 0


if __name__ == "__main__":
    sys.exit(main())
