"""Coarse-graining CO, F2, CH4, N2 and C2H6 (issue 12): every method on the same COM targets.

For each target in data/cg_targets (COM g(r) of an all-atom run at 345 K, 13.7 nm^-3, made by
``deepilst aa`` and ``deepilst com-rdf``) and each method, one FitResult with the same fields
(C12, C6, eps_rdf with its standard error from a validation CG run scored by one evaluator,
MD runs, wall time, iterations, converged, basin):

* network: the shipped ensemble in one shot (+ one validation run; in a box of up to MAX_BEADS
  beads when its cutoff needs one)
* cg: ``deepilst cg`` (the network's answer and the forward model's eps_rdf minimum of each
  basin ranked by the forward model, no MD; one CG run of the best, the others run only when
  that run is worse than the forward model predicted)
* network+re: ``deepilst cg --refine re --no-basin-check`` (the network's run, then relative
  entropy from the eps_KL map's minimum)
* re: our relative entropy from a poor start (argon's parameters), simplex: our Nelder-Mead
  from the same start; ibi: iterative Boltzmann inversion (a table, OpenMM) from the potential
  of mean force, at most IBI_MAX_ITER runs
* votca-simplex, votca-re: VOTCA-CSG 2022.1 as users run it, from the same start
* re-from-network: our relative entropy started from the network's one-shot answer (the
  ``network`` row's C12, C6; its MD runs are RE's own, the answer itself needs none; boxes
  grow as for ``network``)

    python benchmarks/cg_table.py [--molecules CO F2] [--methods ...] [--lock "$TMPDIR/deepilst-md.lock"]
    python benchmarks/cg_table.py --report-only
    python benchmarks/cg_table.py --restore-records   # on a new checkout, before rerunning some

Each (molecule, method) is kept in runs/cg_table/ (resumable, git-ignored) with the command that
made it; the report goes to benchmarks/results/cg_table.json (every record's command under
``provenance.records``; each record's final CG g(r), 5 decimals on the target's points, as
``g``), docs/cg_table.md and docs/cg_<molecule>.png. ``--restore-records`` writes the
committed results back as records where none exists (marked ``restored``; records committed
before the results kept g(r) have none, and the figures leave them out).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ROOT / "data" / "cg_targets"
RUNS = ROOT / "runs" / "cg_table"
#: the committed results, which the checks built on the table read back (committed_table)
RESULTS = ROOT / "benchmarks" / "results" / "cg_table.json"
MOLECULES = ("CO", "F2", "CH4", "N2", "C2H6")
METHODS = ("network", "cg", "network+re", "re", "simplex", "ibi", "votca-simplex", "votca-re",
           "re-from-network")
POOR_START = (9.70e-6, 6.22e-3)  # argon's LJ parameters: a generic, poor start for molecules
SEED = 2026
IBI_MAX_ITER = 8  # OpenMM tabulated runs cost 4-8 CG runs of GROMACS each on this machine
CG_BEADS = 1000
#: the network's raw answer, and RE started from it, may need a larger box than CG_BEADS
#: beads (C2H6: T* 3.5e5, a 2.4 nm cutoff); those two methods grow it up to this many beads
#: (``CGProtocol.max_particles``, ``--max-beads``), the others keep CG_BEADS
MAX_BEADS = 4000
GROWN_METHODS = ("network", "re-from-network")
#: methods drawn in docs/cg_<molecule>.png, where their record keeps its g(r)
CURVES = ("network", "cg", "network+re", "simplex", "votca-simplex")


def invocation(script: str, argv: list[str] | None, lock: str | None) -> str:
    """The command line of ``benchmarks/<script>`` as run, the lock file's path (this
    machine's) written as ``$TMPDIR/deepilst-md.lock``."""
    args = " ".join(argv or sys.argv[1:])
    if lock:
        args = args.replace(lock, "$TMPDIR/deepilst-md.lock")
    return f"python benchmarks/{script} " + args


def committed_table():
    """The committed results (RESULTS) and their CGProtocol (``provenance.cg_protocol``), for
    checks that must run exactly as the table's records were: (table dict, CGProtocol)."""
    from deepilst.fit import CGProtocol

    table = json.loads(RESULTS.read_text())
    pt = table["provenance"]["cg_protocol"]
    return table, CGProtocol(n_particles=pt["n_particles"], equil_ps=pt["equil_ps"],
                             prod_ps=pt["prod_ps"], engine=pt["engine"])


def load_target(name: str):
    from deepilst.fit import Target

    meta = json.loads((TARGETS / f"{name}.json").read_text())
    t = Target.from_file(TARGETS / f"{name}.xvg", meta["T"], meta["rho"], meta["mass"], name=name)
    return Target(t.r, t.g, t.g_err, t.temperature, t.density, t.mass, name,
                  meta.get("P", float("nan")), meta.get("P_sem", float("nan")), source=t.source)


def run_method(name: str, method: str, protocol) -> dict:
    """One method on one target; the FitResult as JSON plus the final CG g(r)."""
    from dataclasses import replace

    from deepilst.fit import CGEvaluator
    from deepilst.results import encode_array

    if method in GROWN_METHODS:
        protocol = replace(protocol, max_particles=MAX_BEADS)
    target = load_target(name)
    ev = CGEvaluator(target, protocol, seed=SEED)
    t0 = time.perf_counter()
    if method in ("network", "cg", "network+re"):
        from deepilst.cg import coarse_grain

        meta = json.loads((TARGETS / f"{name}.json").read_text())
        rep = coarse_grain(TARGETS / f"{name}.xvg", meta["T"], meta["rho"], meta["mass"],
                           refine="re" if method == "network+re" else None,
                           basin_check=method == "cg", protocol=protocol, seed=SEED)
        res = {"network": rep.network, "cg": rep.chosen, "network+re": rep.refined}[method]
        out = res.to_json()
        out["md_runs_total"] = rep.md_runs
        out["wall_s_total"] = rep.wall_s
        final = res.final
    else:
        if method in ("re", "re-from-network"):
            from deepilst.fit.relent import relative_entropy as fn
        elif method == "simplex":
            from deepilst.fit.simplex import simplex as fn
        elif method == "ibi":
            from deepilst.fit.ibi import ibi as fn
        else:
            from deepilst.fit.votca import votca_fit

            def fn(ev, start):
                return votca_fit(ev, method.split("-")[1], start=start,
                                 work_dir=RUNS / name / method, resume=True)
        if method == "ibi":  # IBI as users run it: from the potential of mean force
            res = fn(ev, start=None, max_iter=IBI_MAX_ITER)
        elif method == "re-from-network":
            res = fn(ev, start=network_start(name))
        else:
            res = fn(ev, start=POOR_START)
        out = res.to_json()
        # VOTCA's own runs do not pass through the evaluator; ours (the validation run) do
        out["md_runs_total"] = ev.md_runs + (res.md_runs if method.startswith("votca") else 0)
        out["wall_s_total"] = time.perf_counter() - t0
        final = res.final
    if final is not None:
        out["g"] = encode_array(final.result.g, 5)
    return out


def network_start(name: str) -> tuple[float, float]:
    """(C12, C6) of the network's one-shot answer for ``name`` (its ``network`` record, run
    first); a ParameterError when that answer could not be run."""
    from deepilst.errors import ParameterError

    f = RUNS / name / "network.json"
    if not f.exists():
        raise ParameterError(f"{name}: run the network method first (no {f.name})")
    r = json.loads(f.read_text())
    if r.get("C12") is None or r.get("eps_rdf") is None:
        raise ParameterError(f"{name}: the network's answer cannot be run, so RE cannot start "
                             "from it")
    return float(r["C12"]), float(r["C6"])


def report(molecules: list[str]) -> dict:
    from deepilst.fit import Target  # noqa: F401  (import check)
    from deepilst.plots import draw_overlay, save_figure

    rows, table = {}, ["| molecule | method | C12 / kJ mol^-1 nm^12 | C6 / kJ mol^-1 nm^6 | "
                       "T* | basin | eps_rdf / % | MD runs | wall / s | converged |",
                       "|---|---|---|---|---|---|---|---|---|---|"]
    for name in molecules:
        d = RUNS / name
        if not d.is_dir():
            continue
        target = load_target(name)
        rows[name] = {}
        curves = []
        for m in METHODS:
            f = d / f"{m}.json"
            if not f.exists():
                continue
            r = json.loads(f.read_text())
            rows[name][m] = {k: v for k, v in r.items() if k != "history"}
            eps = r.get("eps_rdf")
            eps_s = "-" if eps is None else f"{100 * eps:.3f} ± {100 * r['eps_rdf_sem']:.3f}"
            if "failed" in r:
                table.append(f"| {name} | {m} | failed: {r['failed']} | | | | - | - | "
                             f"{r['wall_s_total']:.0f} | False |")
                continue
            beads = max([int(h.get("n_particles") or 0) for h in r.get("history") or []
                         if isinstance(h, dict)] + [int(r.get("n_particles") or 0)])
            label = f"{m} [{beads} beads]" if beads > CG_BEADS else m  # a grown box (MAX_BEADS)
            c12 = "table" if r.get("C12") is None or r["C12"] != r["C12"] else f"{r['C12']:.4e}"
            c6 = "table" if c12 == "table" else f"{r['C6']:.4e}"
            t_red = r.get("T_reduced")
            table.append(f"| {name} | {label} | {c12} | {c6} | "
                         f"{'-' if t_red is None else f'{t_red:.3g}'} | {r.get('basin', '-')} | "
                         f"{eps_s} | {r.get('md_runs_total', r.get('md_runs'))} | "
                         f"{r.get('wall_s_total', r.get('wall_s')):.0f} | {r.get('converged')} |")
            if "g" in r and m in CURVES:
                curves.append((m, np.array([np.nan if v is None else v for v in r["g"]])))
        if curves:
            ax = draw_overlay(target.r, target.g, curves,
                              title=f"{name}: T = {target.temperature:g} K, rho = "
                                    f"{target.density:g} nm$^{{-3}}$")
            ax.figure.tight_layout()
            save_figure(ax.figure, ROOT / "docs" / f"cg_{name}.png")
    acc = acceptance(rows)
    lines = ["| molecule | best parametric baseline (eps_rdf / %) | network / best | cg / best | "
             "network+re vs re: eps_rdf / %, MD runs | RE from the network's answer: "
             "converged, MD runs | wall: votca-simplex / network, / cg |",
             "|---|---|---|---|---|---|---|"]
    f = _num
    for name, a in acc.items():
        lines.append(f"| {name} | {a['best_baseline']} ({f(a['best_eps_pct'], 3)}) | "
                     f"{f(a['network_ratio'])} | {f(a['cg_ratio'])} | "
                     f"{f(a['network_re_eps_pct'], 3)} vs {f(a['re_eps_pct'], 3)}, "
                     f"{a['network_re_runs']} vs {a['re_runs']} | "
                     f"{_conv(a['re_from_network_converged'])}, "
                     f"{_num(a['re_from_network_runs'], 0)} | "
                     f"{f(a['wall_ratio_network'], 0)}x, {f(a['wall_ratio_cg'], 0)}x"
                     + ("" if a["wall_ratios_one_invocation"] else " (records of different "
                        "invocations)") + " |")
    summ = summary(rows)
    return {"rows": rows, "acceptance": acc, "summary": summ,
            "markdown": "\n".join(table) + "\n\nSummary: eps_rdf (MD runs, wall time to "
                        "parameters and their validation run):\n\n" + summ
                        + "\n\nAcceptance (issue 12):\n\n" + "\n".join(lines)}


def summary(rows: dict) -> str:
    """One line per molecule, one cell per method: eps_rdf in % (MD runs, wall s), "not conv."
    where the method says it did not converge, "not run" or "cannot be run" otherwise (the
    README's table)."""
    out = ["| molecule | " + " | ".join(METHODS) + " |", "|---" * (len(METHODS) + 1) + "|"]
    for name, r in rows.items():
        cells = []
        for m in METHODS:
            x = r.get(m)
            if x is None:
                cells.append("not run")
            elif x.get("eps_rdf") is None:
                cells.append("cannot be run")
            else:
                runs = x.get("md_runs_total", x.get("md_runs"))
                wall = x.get("wall_s_total", x.get("wall_s"))
                cells.append(f"{100 * x['eps_rdf']:.3f} % ({runs} run{'' if runs == 1 else 's'}, "
                             f"{wall:.0f} s)"
                             + ("" if x.get("converged", True) else " (not conv.)"))
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def _num(v, d: int = 2) -> str:
    return "-" if v is None else f"{v:.{d}f}"


def _conv(v) -> str:
    return "-" if v is None else ("yes" if v else "no")


def _ratio(a, b):
    return None if a is None or b is None else a / b


def _field(row: dict, m: str, *keys: str):
    """The first of ``keys`` present in method ``m``'s result (None if the method was not run)."""
    r = row.get(m)
    if r is None:
        return None
    return next((r[k] for k in keys if r.get(k) is not None), None)


def _same_invocation(row: dict, *methods: str) -> bool:
    """Whether ``methods``' records were all made by one (non-restored) invocation."""
    recs = [row.get(m) or {} for m in methods]
    cmds = {r.get("command") for r in recs}
    return len(cmds) == 1 and None not in cmds and not any(r.get("restored") for r in recs)


def acceptance(rows: dict) -> dict:
    """Per molecule: the network's and cg's eps_rdf over the best parametric baseline's (ours
    or VOTCA's simplex or RE), network+re against cold RE (eps_rdf, MD runs), and VOTCA's
    simplex wall time over the network's (prediction + one validation run) and cg's."""
    out = {}
    for name, r in rows.items():
        base = {m: r[m] for m in ("re", "simplex", "votca-simplex", "votca-re")
                if m in r and r[m].get("eps_rdf") is not None}
        best = min(base, key=lambda m: base[m]["eps_rdf"]) if base else None
        be = base[best]["eps_rdf"] if best else None

        def pct(m, r=r):
            v = _field(r, m, "eps_rdf")
            return None if v is None else 100 * v

        def wall(m, r=r):
            return _field(r, m, "wall_s_total", "wall_s")

        def runs(m, r=r):
            return _field(r, m, "md_runs_total", "md_runs")

        out[name] = {"best_baseline": best, "best_eps_pct": None if be is None else 100 * be,
                     "best_eps_sem_pct": None if best is None else 100 * base[best]["eps_rdf_sem"],
                     "network_ratio": _ratio(_field(r, "network", "eps_rdf"), be),
                     "cg_ratio": _ratio(_field(r, "cg", "eps_rdf"), be),
                     "network_re_eps_pct": pct("network+re"), "re_eps_pct": pct("re"),
                     "network_re_runs": runs("network+re"), "re_runs": runs("re"),
                     "re_from_network_converged": _field(r, "re-from-network", "converged"),
                     "re_from_network_runs": runs("re-from-network"),
                     "wall_ratio_network": (None if pct("network") is None  # not run
                                            else _ratio(wall("votca-simplex"), wall("network"))),
                     "wall_ratio_cg": _ratio(wall("votca-simplex"), wall("cg")),
                     "wall_ratios_one_invocation": _same_invocation(r, "votca-simplex", "network",
                                                                    "cg")}
    return out

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--molecules", nargs="+", default=list(MOLECULES))
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    ap.add_argument("--prod-ps", type=float, default=250.0)
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument("--restore-records", action="store_true",
                    help="write the committed results back to runs/cg_table/ where no record "
                    "exists (a new checkout), then run what was asked")
    ap.add_argument("--lock", default=None,
                    help="hold this file with flock during each (molecule, method), so that "
                    "other MD jobs interleave and no method's wall time includes theirs")
    a = ap.parse_args(argv)
    from deepilst.errors import DeepILSTError
    from deepilst.fileio import held, json_safe, write_json_atomic, write_text_atomic
    from deepilst.fit import CGProtocol

    protocol = CGProtocol(n_particles=CG_BEADS, equil_ps=50.0, prod_ps=a.prod_ps, engine="gromacs")
    res_file = RESULTS
    command = invocation("cg_table.py", argv, a.lock)
    if a.restore_records and res_file.exists():
        old = json.loads(res_file.read_text())
        made_by = old["provenance"].get("records", {})
        for name, methods in old["results"].items():
            for m, rec in methods.items():
                f = RUNS / name / f"{m}.json"
                if f.exists():
                    continue
                rec = dict(rec)
                rec.setdefault("command", made_by.get(name, {}).get(m, "an earlier invocation"))
                rec["restored"] = True
                f.parent.mkdir(parents=True, exist_ok=True)
                write_json_atomic(f, json_safe(rec), indent=1)
    if not a.report_only:
        for name in a.molecules:
            if not (TARGETS / f"{name}.xvg").exists():
                print(f"skip {name}: no target", file=sys.stderr)
                continue
            for m in a.methods:
                f = RUNS / name / f"{m}.json"
                if f.exists():
                    continue
                f.parent.mkdir(parents=True, exist_ok=True)
                with held(a.lock):
                    t0 = time.perf_counter()
                    try:
                        out = run_method(name, m, protocol)
                    except DeepILSTError as exc:  # e.g. a network answer that cannot be run
                        why = str(exc).splitlines()[0].replace(str(ROOT) + "/", "")
                        out = {"method": m, "failed": why[:300],
                               "eps_rdf": None, "md_runs_total": None,
                               "wall_s_total": time.perf_counter() - t0}
                out["command"] = command
                write_json_atomic(f, json_safe(out), indent=1)
                print(f"{name} {m}: eps_rdf {out.get('eps_rdf')} runs {out.get('md_runs_total')} "
                      f"{time.perf_counter() - t0:.0f} s", flush=True)
    rep = report(list(MOLECULES))  # every molecule with results, not only this invocation's

    if a.report_only and res_file.exists():  # keep the command that made the last records
        command = json.loads(res_file.read_text())["provenance"].get("command", command)
    from provenance import versions
    prov = {"command": command,
            "versions": versions("openmm", gromacs=True),
            "seed": SEED, "poor_start": {"C12": POOR_START[0], "C6": POOR_START[1]},
            "cg_protocol": {"n_particles": protocol.n_particles, "equil_ps": protocol.equil_ps,
                            "prod_ps": protocol.prod_ps, "engine": protocol.engine,
                            "max_particles": {m: MAX_BEADS for m in GROWN_METHODS}},
            "machine": f"{platform.machine()}, 2 cores; methods one at a time",
            "records": {name: {m: r.get("command", "an earlier invocation") for m, r in
                               rows.items()} for name, rows in rep["rows"].items()}}
    write_json_atomic(res_file, json_safe({"provenance": prov, "results": rep["rows"],
                                 "acceptance": rep["acceptance"]}), indent=1)
    write_text_atomic(ROOT / "docs" / "cg_table.md", "# Coarse-graining table (generated by "
                      "benchmarks/cg_table.py)\n\n" + rep["markdown"] + "\n")
    print(rep["markdown"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
