"""Final numbers on the fresh held-out sets (issue 14, item 4), computed ONCE.

    bash scripts/make_fresh_sets.sh          # the MD (new seeds), after every model choice is frozen
    PYTHONPATH=src python benchmarks/fresh_sets.py

Scores the shipped ensemble, the paper network and the likelihood fit (``predict --method
fit``) on ``data/fresh_test.h5`` (500 states, paper design, seed 2027) and
``data/fresh_transfer.h5`` (200, seed 2028), as the paper reports: all states, its MAPE
(sum |err| / sum |true|); then fluid-only, in-domain and per-state-mean rows, labelled as
subsets. Writes ``benchmarks/results/fresh_sets.json``, ``docs/fresh_sets.md`` and the parity
plots ``docs/fresh_parity_<model>.png``. A held-out set is looked at once: the script refuses to
run when its result file exists (the fit's per-state rows are kept in runs/fresh_fit/ so an
interrupted run resumes without recomputing).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
OUT = ROOT / "benchmarks" / "results" / "fresh_sets.json"
MD = ROOT / "docs" / "fresh_sets.md"
RUNS = ROOT / "runs" / "fresh_fit"
SETS = {"fresh_test": ROOT / "data" / "fresh_test.h5",
        "fresh_transfer": ROOT / "data" / "fresh_transfer.h5"}
MODELS = ("ensemble", "paper")
CHUNK = 100


def _fit_rows(name: str, path: Path) -> list[dict]:
    """The likelihood fit (started from the ensemble, as ``predict --method fit``) on every
    simulation of a set, in resumable chunks of CHUNK simulations."""
    from fit_inverse import fit_one  # benchmarks/: the same per-state fit as its validation

    from deepilst.fileio import json_safe, write_json_atomic
    from deepilst.model.forward import load_forward_model
    from deepilst.model.forward_eval import load_sims
    from deepilst.predict import load_model
    from deepilst.rdf import centered_edges

    sims = load_sims(path)
    ens, fm = load_model("ensemble"), load_forward_model()
    ce = centered_edges(sims["r"])
    rows: list[dict] = []
    RUNS.mkdir(parents=True, exist_ok=True)
    n = len(sims["g"])
    for chunk in range((n + CHUNK - 1) // CHUNK):
        out = RUNS / f"{name}_{chunk}.json"
        if not out.exists():
            part = []
            for i in range(chunk * CHUNK, min((chunk + 1) * CHUNK, n)):
                _, f, fd, _ = fit_one(ens, fm, ce, sims, i)
                part.append({"row": i, "C12_true": float(sims["C12"][i]),
                             "C6_true": float(sims["C6"][i]),
                             "T_reduced_true": float(sims["T_reduced"][i]),
                             "rho_reduced_true": float(sims["rho_reduced"][i]),
                             "phase": str(sims["phase"][i]),
                             **{k: fd[k] for k in ("C12", "C6", "C12_std", "C6_std", "C12_95",
                                                   "C6_95")},
                             "in_domain": bool(fd["in_domain"]),
                             "chi2_per_point": f.chi2_per_point, "converged": f.converged})
            write_json_atomic(out, json_safe({"set": name, "chunk": chunk, "rows": part}))
            print(f"fit {name} chunk {chunk}: {len(part)} states", file=sys.stderr, flush=True)
        rows += json.loads(out.read_text())["rows"]
    return rows


class _Rows:
    """The states of fit rows, shaped like a dataset's arrays for :func:`set_metrics`."""

    def __init__(self, rows: list[dict]) -> None:
        self.C12 = np.array([r["C12_true"] for r in rows])
        self.C6 = np.array([r["C6_true"] for r in rows])
        self.T_reduced = np.array([r["T_reduced_true"] for r in rows])
        self.rho_reduced = np.array([r["rho_reduced_true"] for r in rows])
        self.phase = np.array([r["phase"] for r in rows])

    def __len__(self) -> int:
        return len(self.C12)


def _fit_metrics(rows: list[dict]) -> dict:
    from deepilst.model.evaluate import set_metrics

    pred = {k: np.array([r[k] for r in rows], float)
            for k in ("C12", "C6", "C12_std", "C6_std", "C12_95", "C6_95")}
    pred["in_domain"] = np.array([r["in_domain"] for r in rows], bool)
    pred["shape_ok"] = np.ones(len(rows), bool)  # the fit has no shape check: its chi2 is below
    m = set_metrics(pred, _Rows(rows))
    m.pop("shape_ok_fraction")
    chi = np.array([r["chi2_per_point"] for r in rows])
    ph = np.array([r["phase"] for r in rows])
    m["chi2_per_point_median"] = {p: float(np.median(chi[ph == p])) for p in np.unique(ph)}
    m["converged_fraction"] = float(np.mean([r["converged"] for r in rows]))
    return m


def _fmt(v: float | None, nd: int = 2, unit: str = "") -> str:
    return "n/a" if v is None else f"{v:.{nd}f}{unit}"


def table(res: dict) -> str:
    """The markdown of docs/fresh_sets.md: headline rows (all states, the paper's MAPE) first,
    then the labelled subsets."""
    lines = ["| set | model | n | **MAPE C12 (all)** | **MAPE C6 (all)** | fluid C12 | fluid C6 "
             "| in-domain C12 | in-domain C6 | per-state mean C12 | per-state mean C6 "
             "| 95 % coverage C12 / C6 | in domain |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for s, per in res.items():
        for model, m in per.items():
            pct = [_fmt(m[k][q], unit=" %") for q in ("mape", "mape_fluid", "mape_in_domain",
                                                        "mean_abs_pct") for k in ("C12", "C6")]
            cover = f"{_fmt(m['C12']['coverage95'])} / {_fmt(m['C6']['coverage95'])}"
            lines.append(f"| {s} | {model} | {m['n']} | **{pct[0]}** | **{pct[1]}** | "
                         + " | ".join(pct[2:]) + f" | {cover} | {_fmt(m['in_domain_fraction'])} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    global OUT, MD, RUNS, SETS, CHUNK
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dev", nargs="+", metavar="NAME=PATH", default=None,
                    help="check this script on development sets instead (outputs under "
                         "runs/fresh_dev/, nothing in docs/ or benchmarks/results/)")
    ap.add_argument("--chunk", type=int, default=CHUNK, help="fit states per resumable chunk")
    a = ap.parse_args(argv)
    CHUNK = a.chunk
    plots = ROOT / "docs"
    if a.dev:
        dev = ROOT / "runs" / "fresh_dev"
        SETS = {kv.split("=", 1)[0]: ROOT / kv.split("=", 1)[1] for kv in a.dev}
        OUT, MD, RUNS, plots = dev / "fresh_sets.json", dev / "fresh_sets.md", dev / "fit", dev
    if OUT.exists():
        print(f"error: {OUT.relative_to(ROOT)} exists: the fresh sets were already evaluated "
              "once; a second look makes them development sets (draw new ones instead)",
              file=sys.stderr)
        return 2
    missing = [str(p.relative_to(ROOT)) for p in SETS.values() if not p.exists()]
    if missing:
        print(f"error: {', '.join(missing)} missing: run `bash scripts/make_fresh_sets.sh` first",
              file=sys.stderr)
        return 2
    from deepilst.dataset.schema import file_sha256 as _sha256
    from deepilst.fileio import json_safe, write_json_atomic, write_text_atomic
    from deepilst.model.evaluate import evaluate_files, parity_plot
    from deepilst.predict import load_model

    t0 = time.time()
    res: dict = {s: {} for s in SETS}
    for name in MODELS:
        model = load_model(name)
        metrics, sets, preds = evaluate_files(model, list(SETS.values()))
        for s in SETS:
            res[s][name] = metrics[s]
        parity_plot(plots / f"fresh_parity_{name}.png", sets, preds,
                    title=f"{name}: fresh held-out sets (evaluated once)")
    for s, path in SETS.items():
        res[s]["fit"] = _fit_metrics(_fit_rows(s, path))
    models_dir = ROOT / "src" / "deepilst" / "shipped_models"
    from provenance import versions
    prov = {"command": "python benchmarks/fresh_sets.py",
            "versions": versions(),
            "datasets": {s: {"file": str(p.relative_to(ROOT)), "sha256": _sha256(p),
                             "info": json.loads(p.with_suffix(".info.json").read_text())
                             if p.with_suffix(".info.json").exists() else None}
                         for s, p in SETS.items()},
            "models": {m: {"weights_sha256": _sha256(models_dir / m / "weights.safetensors")}
                       for m in MODELS},
            "fit": "predict --method fit: forward-model likelihood fit started at the ensemble",
            "wall_s": time.time() - t0}
    for d in prov["datasets"].values():  # keep the info small: no per-file paths of this machine
        if d["info"]:
            d["info"] = {k: d["info"][k] for k in ("design", "n_simulations", "phase_fractions",
                                                   "wall_hours", "cpu_hours") if k in d["info"]}
    md = table(res)
    write_text_atomic(MD, "# Final numbers on the fresh held-out sets (generated once by "
                      "benchmarks/fresh_sets.py)\n\n" + md + "\n\nBold: the headline, as the "
                      "paper computes it (all states, sum|err| / sum|true|). The other columns "
                      "are subsets: fluid states only, states the domain check accepts, and the "
                      "mean of per-state relative errors.\n")
    write_json_atomic(OUT, json_safe({"provenance": prov, "results": res}), indent=1)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
