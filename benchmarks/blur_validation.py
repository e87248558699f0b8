"""The blur correction of coarse input bins, on validation data only (how it was chosen).

For every fluid simulation of the shipped ensemble's validation split (``split.val`` in its
model.json; data/v1_train.h5), inputs are histogrammed exactly from the simulation's 0.0005 nm
histogram at ``gmx rdf`` and MDAnalysis bin placements (0.002, 0.005, 0.01, 0.02 nm), read onto
the model's shells as ``predict`` reads a file (:func:`deepilst.binning.to_shells`), and given
to the network uncorrected and with :func:`deepilst.model.blur.correct_blur`. Reported per
input: mean |change| [%] of C12 and C6 from the network's answer on the exact shells (signed
mean too) and MAPE against the truth, over all validation fluids and over those in the range of
``benchmarks/binning.py`` (1.3 < T* < 12, rho* < 0.85). No MD, no test data.

    python benchmarks/blur_validation.py       # ~2 min; writes benchmarks/results/blur_validation.json
"""

from __future__ import annotations

import json
import platform
import sys
import time
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SOURCES = (("gmx", 0.002), ("mda", 0.005), ("gmx", 0.01), ("mda", 0.01), ("gmx", 0.02),
           ("mda", 0.02))


def main() -> None:
    from deepilst import __version__
    from deepilst.binning import to_shells, tool_bins
    from deepilst.dataset.read import open_dataset
    from deepilst.fileio import write_json_atomic
    from deepilst.model.blur import correct_blur
    from deepilst.predict import load_model, resolve_model
    from deepilst.rdf import DR_FINE, rebin

    t0 = time.time()
    model = load_model("ensemble")
    meta = json.loads((resolve_model("ensemble") / "model.json").read_text())
    ids = sorted(int(s.split(":")[1]) for s in meta["split"]["val"])
    grid = np.asarray(model.r_grid, dtype=float)
    with open_dataset(ROOT / "data" / "v1_train.h5") as f:
        S = f["sims"]
        phase = np.asarray(S["phase"][:]).astype(str)
        rows = [i for i in ids if phase[i] == "fluid"]
        fine = np.asarray(S["fine_g"][:])[rows].astype(float)
        ferr = np.asarray(S["fine_g_err"][:])[rows].astype(float)
        g_sh = np.asarray(S["g"][:])[rows]
        T, R, C12, C6, TR, RR = (np.asarray(S[k][:])[rows] for k in
                                  ("T", "rho", "C12", "C6", "T_reduced", "rho_reduced"))
    fe = np.arange(fine.shape[1] + 1) * DR_FINE

    def pred(g, t, r) -> dict:
        res = model.predict(g[None], t, r)
        return {k: float(res[k][0]) for k in ("C12", "C6", "T_reduced", "rho_reduced")}

    out: dict[str, list] = {"exact shells": []}
    state_from: dict[str, int] = {}
    for j in range(len(rows)):
        t, r = float(T[j]), float(R[j])
        p = pred(g_sh[j], t, r)
        out["exact shells"].append((p["C12"], p["C6"]))
        for tool, w in SOURCES:
            b = tool_bins(tool, w)
            gc, ec = rebin(fe, fine[j], b.edges, ferr[j])
            g0 = to_shells(b, gc, grid)[0]
            p0 = pred(g0, t, r)
            out.setdefault(f"uncorrected/{tool}/{w:g}", []).append((p0["C12"], p0["C6"]))
            g1, info = correct_blur(types.SimpleNamespace(bins=b, g=gc, g_err=ec), grid, g0, t, r, p0)
            key = info.get("state_from", "none")
            state_from[key] = state_from.get(key, 0) + 1
            p1 = pred(g1, t, r)
            out.setdefault(f"corrected/{tool}/{w:g}", []).append((p1["C12"], p1["C6"]))
    truth = np.column_stack([C12, C6])
    ref = np.array(out["exact shells"])
    subsets = {"all validation fluids": np.ones(len(rows), bool),
               "1.3 < T* < 12, rho* < 0.85": (TR > 1.3) & (TR < 12) & (RR < 0.85)}
    summary = {}
    for name, m in subsets.items():
        rows_out = {}
        for k, v in out.items():
            v = np.array(v)[m]
            dv = 100 * (v / ref[m] - 1)
            rows_out[k] = {"mean_abs_change_pct": {"C12": float(np.mean(np.abs(dv[:, 0]))),
                                                   "C6": float(np.mean(np.abs(dv[:, 1])))},
                           "mean_change_pct": {"C12": float(dv[:, 0].mean()),
                                               "C6": float(dv[:, 1].mean())},
                           "mape_vs_truth_pct": {q: float(np.mean(100 * np.abs(v[:, i] / truth[m, i] - 1)))
                                                 for i, q in enumerate(("C12", "C6"))}}
        summary[name] = {"n": int(m.sum()), "inputs": rows_out}
    doc = {"summary": summary, "correction_state_from": state_from,
           "provenance": {"command": "python benchmarks/blur_validation.py", "deepilst": __version__,
                          "numpy": np.__version__, "python": platform.python_version(),
                          "data": "data/v1_train.h5, the shipped ensemble's validation split",
                          "wall_s": round(time.time() - t0, 1)}}
    write_json_atomic(ROOT / "benchmarks" / "results" / "blur_validation.json", doc, indent=1)
    for name, s in summary.items():
        print(f"== {name} ({s['n']})")
        for k, r in s["inputs"].items():
            a = r["mean_abs_change_pct"]
            print(f"{k:22s} |change| {a['C12']:.3f} / {a['C6']:.3f} %   MAPE "
                  f"{r['mape_vs_truth_pct']['C12']:.3f} / {r['mape_vs_truth_pct']['C6']:.3f} %")


if __name__ == "__main__":
    sys.exit(main())
