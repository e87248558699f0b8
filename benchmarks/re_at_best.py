"""Is the best parametric baseline's bead a relative-entropy minimum? (issue 12, item 2)

Issue 12 asks that network -> RE reach the best parametric baseline's eps_rdf. Relative entropy
is convex in (C12, C6) at a fixed cutoff (README, "Relative entropy"), so it has one minimum and
every start ends there; it can reach the best baseline's eps_rdf only if the best baseline's
bead is that minimum. This measures it. For each molecule of benchmarks/results/cg_table.json,
one CG run (the table's protocol: 1000 beads, 50 + 250 ps, GROMACS) at the best parametric
baseline's (C12, C6), and from it the relative-entropy gradient (eq. A.6) with its covariance
(the same estimate our RE stops on):

* chi2 = g^T Cov^-1 g, 2 degrees of freedom: our RE stops only where chi2 < 5.99 at two
  successive points;
* dS_toward_re: the derivative of S_rel (dimensionless, per bead) along the straight line in
  (C12, C6) from the best baseline's bead to RE's answer (the table's ``network+re``
  record), d = lambda_re - lambda_best: g . d / N, with its standard error;
  negative beyond its error means S_rel falls from the best baseline's bead towards RE's
  answer, so relative entropy moves away from that bead;
* dS_trapezoid: S_rel(best) - S_rel(RE's answer) per bead, -(g_best + g_re) . d / (2 N), the
  trapezoid of the two gradients (exact for a quadratic S; g_re and its diagonal errors from
  the ``network+re`` record's validation run).

    python benchmarks/re_at_best.py [--molecules CO F2] [--lock "$TMPDIR/deepilst-md.lock"]

Results: benchmarks/results/re_at_best.json (resumable per molecule in runs/re_at_best/).
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
RUNS = ROOT / "runs" / "re_at_best"
OUT = ROOT / "benchmarks" / "results" / "re_at_best.json"
SEED = 2027  # not cg_table's 2026: a run independent of the baseline's own validation run
RE_RECORD = "network+re"


def check(name: str, table: dict, protocol) -> dict:
    """One run at ``name``'s best parametric baseline and the gradient statistics there."""
    from cg_table import load_target

    from deepilst.fit import CGEvaluator
    from deepilst.fit.relent import gradient_chi2

    acc = table["acceptance"][name]
    best_m = acc["best_baseline"]
    best = table["results"][name][best_m]
    re = table["results"][name][RE_RECORD]
    ev = CGEvaluator(load_target(name), protocol, seed=SEED)
    t0 = time.perf_counter()
    e = ev.run(best["C12"], best["C6"])
    n = e.n_particles
    g = np.asarray(e.gradient, dtype=float)
    cov = np.asarray(e.gradient_cov, dtype=float)
    chi2 = gradient_chi2(g, cov)
    d = np.array([re["C12"] - best["C12"], re["C6"] - best["C6"]])
    slope = float(g @ d) / n
    slope_sd = math.sqrt(max(float(d @ cov @ d), 0.0)) / n
    g_re = np.asarray(re["gradient"], dtype=float)
    n_re = int(re.get("n_particles") or n)
    var_re = float(np.sum((np.asarray(re["gradient_err"], dtype=float) * d) ** 2)) / n_re**2
    trap = -0.5 * (slope + float(g_re @ d) / n_re)
    trap_sd = 0.5 * math.sqrt(slope_sd**2 + var_re)
    return {"best_baseline": best_m, "C12": best["C12"], "C6": best["C6"],
            "T_reduced": e.T_reduced, "n_particles": n,
            "eps_rdf": e.eps_rdf.mean, "eps_rdf_sem": e.eps_rdf.sem,
            "eps_rdf_table": best["eps_rdf"], "gradient": g.tolist(),
            "gradient_cov": cov.tolist(), "chi2": chi2,
            "re_record": RE_RECORD, "re_C12": re["C12"], "re_C6": re["C6"],
            "re_eps_rdf": re["eps_rdf"], "re_converged": re.get("converged"),
            "dS_toward_re": slope, "dS_toward_re_sem": slope_sd,
            "dS_trapezoid": trap, "dS_trapezoid_sem": trap_sd,
            "wall_s": time.perf_counter() - t0}


def markdown(rows: dict) -> str:
    lines = ["| molecule | best baseline | eps_rdf / % (this run) | chi2 of dS_rel (RE stops "
             "< 5.99) | dS_rel / bead towards RE's answer | S_rel(best) - S_rel(RE) / bead "
             "(trapezoid) | RE's answer: eps_rdf / % |",
             "|---|---|---|---|---|---|---|"]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['best_baseline']} | {100 * r['eps_rdf']:.3f} ± "
                     f"{100 * r['eps_rdf_sem']:.3f} | {r['chi2']:.3g} | "
                     f"{r['dS_toward_re']:.3g} ± {r['dS_toward_re_sem']:.2g} | "
                     f"{r['dS_trapezoid']:.3g} ± {r['dS_trapezoid_sem']:.2g} | "
                     f"{100 * r['re_eps_rdf']:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--molecules", nargs="+", default=["CO", "F2", "CH4", "N2", "C2H6"])
    ap.add_argument("--lock", default=None, help="hold this file with flock during each run")
    a = ap.parse_args(argv)
    from cg_table import committed_table, invocation

    from deepilst.fileio import held, json_safe, write_json_atomic

    table, protocol = committed_table()
    command = invocation("re_at_best.py", argv, a.lock)
    rows = {}
    for name in a.molecules:
        f = RUNS / f"{name}.json"
        if not f.exists():
            with held(a.lock):
                out = check(name, table, protocol)
            out["command"] = command
            f.parent.mkdir(parents=True, exist_ok=True)
            write_json_atomic(f, json_safe(out), indent=1)
        rows[name] = json.loads(f.read_text())
        r = rows[name]
        print(f"{name}: {r['best_baseline']} chi2 {r['chi2']:.3g}, dS/bead towards RE "
              f"{r['dS_toward_re']:.3g} +- {r['dS_toward_re_sem']:.2g}", flush=True)
    from provenance import versions
    prov = {"command": command,
            "versions": versions("openmm", gromacs=True),
            "seed": SEED, "cg_protocol": table["provenance"]["cg_protocol"],
            "table_records": {n: table["provenance"]["records"][n][r["best_baseline"]]
                              for n, r in rows.items()},
            "machine": f"{platform.machine()}, 2 cores; one run at a time",
            "wall_s_total": sum(r["wall_s"] for r in rows.values())}
    write_json_atomic(OUT, json_safe({"provenance": prov, "results": rows,
                                      "markdown": markdown(rows)}), indent=1)
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
