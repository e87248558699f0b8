"""Where the likelihood fit's remaining bin-width spread comes from (issue 13, item 1).

Reuses the ten trajectories of ``benchmarks/binning.py`` (run that first). For each state the
exact 0.0005 nm block histograms (``exact.npz``: ten blocks of the production run) are
rebinned onto the bins ``gmx rdf`` and MDAnalysis would use (centres at k w and at
(k + 1/2) w) at the five widths, written as plain two-column files and fitted
(``predict_file(..., method="fit")``), for the first half of the run, the second half and the
whole run. Three questions:

* tools: does the spread of these inputs, made by deepilst's own histogram, match the spread
  of the real ``gmx rdf`` / MDAnalysis files? (then neither tool's processing causes it)
* noise: does halving the data raise the spread by sqrt(2)? (then it is statistical)
* model: how far is the forward model, at the answer of the fine-bin fits, from the exact
  histogram on 0.01 nm bins over the first peak, in units of its own stated error and of the
  data's standard error?

    python benchmarks/binning_diagnosis.py [--prod-ps 300]

Reads runs/binning and benchmarks/results/binning.json (runs/binning_<P>ps and
binning_<P>ps.json for another --prod-ps); writes benchmarks/results/binning_diagnosis.json
(binning_diagnosis_<P>ps.json).
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from binning import PROD_PS, WIDTHS, draw_states  # noqa: E402

PARTS = {"first_half": slice(0, 5), "second_half": slice(5, 10), "whole": slice(0, 10)}
TOOLS = ("gmx", "mda")


def tool_edges(width: float, tool: str, r_max: float = 1.6) -> tuple[np.ndarray, np.ndarray]:
    """(edges, centres) [nm] of bins of ``width`` up to ``r_max`` placed as ``tool`` places
    them: gmx rdf's centres at k w (the first bin [0, w/2]), MDAnalysis' at (k + 1/2) w."""
    from deepilst.binning import tool_bins

    b = tool_bins(tool, width, r_max)
    return b.edges, b.centres


def phase_bins(edges: np.ndarray, g: np.ndarray, width: float, tool: str,
               r_max: float = 1.6) -> tuple[np.ndarray, np.ndarray]:
    """(centres [nm], g) of the fine histogram (``edges`` [nm]) rebinned exactly
    (:func:`deepilst.rdf.rebin`) onto ``tool``'s bins of ``width`` (:func:`tool_edges`)."""
    from deepilst.rdf import rebin

    e, c = tool_edges(width, tool, r_max)
    return c, rebin(edges, g, e)[0]


def spreads(rows: list[dict], states: list[dict], part: str) -> dict:
    """Mean per-state (max - min) / truth over both tools and five widths [%], C12 and C6."""
    out = {}
    for j, q in enumerate(("C12", "C6")):
        v = [100 * np.ptp([r[f"{part}/{t}/{w:g}"][j] for t in TOOLS for w in WIDTHS]) / s[q]
             for r, s in zip(rows, states)]
        out[q] = float(np.mean(v))
    return out


def offsets(rows: list[dict], part: str) -> dict:
    """Per input: mean and standard error over states of its deviation [%] from the median of
    the fine widths (0.001-0.005 nm, both tools)."""
    out = {}
    for t in TOOLS:
        for w in WIDTHS:
            key = f"{t}/{w:g}"
            out[key] = {}
            for j, q in enumerate(("C12", "C6")):
                dev = np.array([100 * (r[f"{part}/{key}"][j] / np.median(
                    [r[f"{part}/{tt}/{ww:g}"][j] for tt in TOOLS for ww in WIDTHS[:3]]) - 1)
                    for r in rows])
                out[key][q] = [float(dev.mean()), float(dev.std(ddof=1) / np.sqrt(len(dev)))]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--prod-ps", type=float, default=PROD_PS,
                    help="the production length binning.py ran with (its runs and results)")
    a = ap.parse_args()
    tag = "" if a.prod_ps == PROD_PS else f"_{a.prod_ps:g}ps"
    import json

    from deepilst import __version__
    from deepilst.fileio import write_json_atomic
    from deepilst.model.forward import load_forward_model
    from deepilst.predict import load_model, predict_file
    from deepilst.rdf import rebin

    t0 = time.time()
    runs = ROOT / "runs" / f"binning{tag}"
    model, fm = load_model("ensemble"), load_forward_model()
    states = draw_states(a.n)
    real = json.loads((ROOT / "benchmarks" / "results" / f"binning{tag}.json").read_text())
    rows, resid = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i, s in enumerate(states):
            ex = np.load(runs / f"state{i:02d}" / "exact.npz")
            e, gb = ex["edges"], ex["g_blocks"]
            row = {}
            for part, sel in PARTS.items():
                g = gb[sel].mean(axis=0)
                ps = a.prod_ps * (sel.stop - sel.start) / len(gb)
                for t in TOOLS:
                    for w in WIDTHS:
                        c, gc = phase_bins(e, g, w, t)
                        f = Path(tmp) / f"{t}_{w:g}.dat"
                        np.savetxt(f, np.column_stack([c, gc]), fmt="%.6f %.8f")
                        r = predict_file(f, s["T"], s["rho"], model, thermo=False, method="fit",
                                         r_unit="nm", prod_ps=ps, bin_width=w)
                        row[f"{part}/{t}/{w:g}"] = [float(r["C12"]), float(r["C6"])]
            rows.append(row)
            # the forward model at the fine-bin fits' answer against the exact histogram
            p = real["per_state"][i]["pred"]
            fine = [f"fit/{t}/{w:g}" for t in TOOLS for w in WIDTHS[:3]]
            c12 = float(np.median([p[k]["C12"] for k in fine]))
            c6 = float(np.median([p[k]["C6"] for k in fine]))
            for t in TOOLS:
                edges, _ = tool_edges(0.01, t)
                gx = np.array([rebin(e, b, edges)[0] for b in gb])
                g_ex, se = gx.mean(axis=0), gx.std(axis=0, ddof=1) / np.sqrt(len(gx))
                gm, gs = fm.shell_average(edges, s["T"], s["rho"], c12, c6)
                peak = int(np.argmax(g_ex))
                m = (g_ex > 0.5) & (np.arange(len(g_ex)) <= peak + round(0.05 / 0.01))
                d = (g_ex - gm)[m]
                resid.append({"state": i, "tool": t, "n_bins": int(m.sum()),
                              "rms_model_minus_exact": float(np.sqrt(np.mean(d**2))),
                              "max_abs": float(np.max(np.abs(d))),
                              "rms_over_model_std": float(np.sqrt(np.mean((d / gs[m]) ** 2))),
                              "rms_over_data_se": float(np.sqrt(np.mean((d / se[m]) ** 2)))})
            print(f"state {i}: done ({time.time() - t0:.0f} s)", flush=True)
    real_sp = real["summary"]["spread_across_widths_pct"]["fit/both/all"]
    res = {
        "spread_pct": {"real_files": real_sp,
                       **{part: spreads(rows, states, part) for part in PARTS}},
        "offset_from_fine_pct": {part: offsets(rows, part) for part in PARTS},
        "first_peak_residual": {
            "per_state": resid,
            "mean_rms": float(np.mean([x["rms_model_minus_exact"] for x in resid])),
            "mean_rms_over_model_std": float(np.mean([x["rms_over_model_std"] for x in resid])),
            "mean_rms_over_data_se": float(np.mean([x["rms_over_data_se"] for x in resid]))},
        "per_state": rows,
        "provenance": {"command": "python benchmarks/binning_diagnosis.py "
                                  + " ".join(sys.argv[1:]).replace(str(ROOT), "."),
                       "deepilst": __version__, "numpy": np.__version__,
                       "python": platform.python_version(), "state_seed": 13,
                       "prod_ps": a.prod_ps,
                       "wall_time_s": round(time.time() - t0, 1)}}
    write_json_atomic(ROOT / "benchmarks" / "results" / f"binning_diagnosis{tag}.json", res,
                      indent=1)
    print(json.dumps({k: res[k] for k in ("spread_pct",)}, indent=1))
    fp = res["first_peak_residual"]
    print({k: v for k, v in fp.items() if k != "per_state"})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
