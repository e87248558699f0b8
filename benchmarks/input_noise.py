"""Coverage of the 95 % intervals against the input RDF's own noise (issue 13, item 2).

Simulates fresh fluid Table-1 states (random T, rho, C12, C6 with T* < 15) at three
production lengths (20, 100, 350 ps; N = 1000, 50 ps equilibration, frames every 100 steps,
seeds 9001 + ...) and reports, per length, how often the truth lies in the 95 % interval of
C12 and C6, with a binomial 95 % band, and the median relative interval width, for

* ``current``: the model's own intervals (calibrated on 350-ps RDFs),
* ``file``: noise-aware intervals with the run's error column (block standard errors),
* ``scatter``: noise-aware, sigma_g estimated from g's bin-to-bin scatter (``gmx rdf`` input),
* ``prod_ps``: noise-aware, the stated run length (reference noise model), raised to the
  scatter level when that is higher (what ``deepilst predict --prod-ps`` does),
* ``prod_ps_only``: the stated run length alone.

    flock "$TMPDIR/deepilst-md.lock" python benchmarks/input_noise.py --simulate-only
    python benchmarks/input_noise.py --evaluate-only    # scores the finished runs

Simulations go to runs/input_noise (resumable, git-ignored). Writes
benchmarks/results/input_noise.json.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from deepilst.dataset.schema import portable_path

ROOT = Path(__file__).resolve().parents[1]
LENGTHS = (20.0, 100.0, 350.0)
# set: (planned states, rng seed of the states, first MD seed, results file, runs directory)
SETS = {"a": (80, 13, 9001, "input_noise.json", "input_noise"),
        "b": (240, 29, 31001, "input_noise_b.json", "input_noise_b")}
N_PARTICLES = 1000
EQUIL_PS = 50.0
T_STAR_MAX = 15.0
REF = 350.0


def plan_states(n: int, rng_seed: int = 13) -> list[tuple[float, float, float, float]]:
    """``n`` random Table-1 states (T [K], rho [nm^-3], C12, C6) with T* < ``T_STAR_MAX``."""
    from deepilst.sampling import TABLE1
    from deepilst.units import KB

    rng = np.random.default_rng(rng_seed)
    out = []
    while len(out) < n:
        t = rng.uniform(*TABLE1["T"])
        rho = rng.uniform(*TABLE1["rho"])
        c12 = rng.uniform(*TABLE1["C12"])
        c6 = rng.uniform(*TABLE1["C6"])
        eps = c6**2 / (4 * c12)
        if KB * t / eps < T_STAR_MAX:
            out.append((float(t), float(rho), float(c12), float(c6)))
    return out


def plan_specs(n: int, rng_seed: int = 13, seed0: int = 9001):
    """One spec per (state, length); MD seed ``seed0`` + 3 * state + length index."""
    from deepilst.md.simulate import resolve_engine
    from deepilst.md.spec import Protocol, SimSpec

    eng = resolve_engine("auto")
    specs = []
    for i, (t, rho, c12, c6) in enumerate(plan_states(n, rng_seed)):
        for j, prod in enumerate(LENGTHS):
            proto = Protocol(equil_ps=EQUIL_PS, prod_ps=prod, n_particles=N_PARTICLES,
                             sample_every=100)
            specs.append(SimSpec(t, rho, c12, c6, engine=eng, seed=seed0 + 3 * i + j,
                                 protocol=proto, tags=(("state", str(i)), ("prod_ps", str(prod)))))
    return specs


MODES = ("current", "file", "scatter", "prod_ps", "prod_ps_only")


def binomial_band(n: int, p: float = 0.95) -> list[float]:
    """Central 95 % range of the coverage fraction of ``n`` runs when the true rate is ``p``."""
    pmf = np.array([math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)])
    cdf = np.cumsum(pmf)
    lo = int(np.searchsorted(cdf, 0.025))
    hi = int(np.searchsorted(cdf, 0.975))
    return [lo / n, hi / n]


def wilson(k: int, n: int, z: float = 1.959964) -> list[float]:
    """Wilson 95 % interval of a proportion k / n."""
    if n == 0:
        return [math.nan, math.nan]
    ph = k / n
    c = (ph + z * z / (2 * n)) / (1 + z * z / n)
    h = z * math.sqrt(ph * (1 - ph) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [c - h, c + h]


def score(model, g: np.ndarray, g_err: np.ndarray, T: np.ndarray, rho: np.ndarray,
          truth: dict[str, np.ndarray], prod_ps: float, draws: int, seed: int) -> dict:
    """Coverage and median relative 95 % width of C12 and C6 for each interval mode."""
    from deepilst.model.input_noise import noise_aware

    res = model.predict(g, T, rho)
    n = len(g)
    out = {}
    for mode in MODES:
        inside = {"C12": [], "C6": []}
        width = {"C12": [], "C6": []}
        s2 = []
        for i in range(n):
            one = {k: v[i:i + 1] for k, v in res.items() if isinstance(v, np.ndarray) and len(v) == n}
            if mode == "current":
                up = one
            else:
                up, info = noise_aware(model, g[i], float(T[i]), float(rho[i]), res=one,
                                       g_err=g_err[i] if mode == "file" else None,
                                       prod_ps=prod_ps if mode.startswith("prod_ps") else None,
                                       scatter=mode != "prod_ps_only", n_draws=draws,
                                       seed=seed + i)
                s2.append(np.nan if info["noise_ratio"] is None else info["noise_ratio"])
            for q in ("C12", "C6"):
                lo, hi = up[q + "_95"][0]
                inside[q].append(bool(lo <= truth[q][i] <= hi))
                width[q].append(float((hi - lo) / one[q][0]))
        row: dict = {}
        for q in ("C12", "C6"):
            k = int(np.sum(inside[q]))
            row[q] = {"coverage": k / n, "inside": k, "n": n, "wilson_95": wilson(k, n),
                      "median_rel_width_95": float(np.median(width[q])),
                      "ok": bool(0.90 <= k / n <= 0.98)}
        if s2:
            row["noise_ratio_median"] = float(np.nanmedian(s2))
        out[mode] = row
    return out


def synthetic(model, n: int, draws: int) -> dict:
    """No MD: fluid states of data/v1_test.h5 (350 ps) made as noisy as shorter runs by adding
    independent Gaussian noise of sqrt(350 / L - 1) times their block errors (their error
    column scaled by sqrt(350 / L)). Independent noise moves predictions more than real MD
    noise (NOISE_SCALE), so this check is expected to cover a little below 95 %."""
    from deepilst.dataset import open_dataset
    from deepilst.model.data import load_arrays

    a = load_arrays(ROOT / "data" / "v1_test.h5")  # one sample per simulation
    with open_dataset(ROOT / "data" / "v1_test.h5") as h:
        ge = h["sims"]["g_err"][:]
    rng = np.random.default_rng(0)
    sel = np.sort(rng.choice(np.flatnonzero(a.phase == "fluid"), n, replace=False))
    out = {}
    for L in LENGTHS:
        s2 = REF / L
        g = a.g[sel] + np.sqrt(s2 - 1) * ge[sel] * rng.standard_normal((n, a.g.shape[1]))
        out[f"{L:g}"] = score(model, g, ge[sel] * np.sqrt(s2), a.T[sel], a.rho[sel],
                              {"C12": a.C12[sel], "C6": a.C6[sel]}, L, draws, 0)
    return {"n_states": int(n), "rows_of_v1_test": sel.tolist(), "lengths": out}


def load_runs(specs, runs: Path) -> list[dict]:
    """The finished records of ``specs`` (decoded g, g_err, state, truth, phase, wall)."""
    from deepilst.results import decode_array
    from deepilst.runner import record_path

    out = []
    for s in specs:
        p = record_path(runs, s.key())
        if not p.exists():
            continue
        rec = json.loads(p.read_text())
        tags = dict(s.tags)
        out.append({"state": int(tags["state"]), "prod_ps": s.protocol.prod_ps, "seed": s.seed,
                    "T": s.temperature, "rho": s.density, "C12": s.c12, "C6": s.c6,
                    "T_star": s.T_reduced, "rho_star": s.rho_reduced,
                    "g": decode_array(rec["g"]), "g_err": decode_array(rec["g_err"]),
                    "phase": rec["phase"]["label"], "wall_s": float(rec["wall_s"])})
    return out


def md_part(model, specs, runs: Path, draws: int) -> dict:
    """Coverage on the fresh simulations: states whose 350-ps run is a fluid (all lengths)."""
    recs = load_runs(specs, runs)
    fluid = {r["state"] for r in recs if r["prod_ps"] == REF and r["phase"] == "fluid"}
    out: dict = {"n_runs_done": len(recs), "n_states_planned": len(specs) // len(LENGTHS),
                 "fluid_states": sorted(fluid), "md_wall_s_sum": float(sum(r["wall_s"] for r in recs)),
                 "lengths": {}}
    for L in LENGTHS:
        sub = [r for r in recs if r["prod_ps"] == L and r["state"] in fluid]
        if not sub:
            continue
        arr = {k: np.array([r[k] for r in sub]) for k in ("T", "rho", "C12", "C6", "T_star")}
        g = np.array([r["g"] for r in sub])
        ge = np.array([r["g_err"] for r in sub])
        row = score(model, g, ge, arr["T"], arr["rho"], {"C12": arr["C12"], "C6": arr["C6"]}, L,
                    draws, 0)
        band = binomial_band(len(sub))
        row["binomial_band_at_95"] = band
        for m in MODES:
            for q in ("C12", "C6"):
                row[m][q]["in_binomial_band"] = bool(band[0] <= row[m][q]["coverage"] <= band[1])
        row["seeds"] = [r["seed"] for r in sub]
        row["T_star_max"] = float(arr["T_star"].max())
        out["lengths"][f"{L:g}"] = row
    w = {m: [out["lengths"][k][m][q]["median_rel_width_95"] for k in out["lengths"]]
         for m in MODES for q in ("C12",)}
    out["widths_shrink_with_length_C12"] = {m: bool(np.all(np.diff(v) < 0)) for m, v in w.items()}
    w6 = {m: [out["lengths"][k][m]["C6"]["median_rel_width_95"] for k in out["lengths"]]
          for m in MODES}
    out["widths_shrink_with_length_C6"] = {m: bool(np.all(np.diff(v) < 0)) for m, v in w6.items()}
    out["acceptance"] = {m: all(out["lengths"][k][m][q]["ok"] for k in out["lengths"]
                                for q in ("C12", "C6")) for m in MODES}
    out["consistent_with_95_binomial"] = {
        m: all(out["lengths"][k][m][q]["in_binomial_band"] for k in out["lengths"]
               for q in ("C12", "C6")) for m in MODES}
    log = runs / "runs.jsonl"
    if log.exists():
        out["generate_wall_s"] = float(sum(json.loads(x)["wall_s"] for x in log.read_text().split("\n")
                                           if x.strip()))
    return out


def evaluate(specs, runs: Path, model_name: str | None, draws: int, md_wall: float,
             n_synthetic: int, set_name: str = "a") -> None:
    """Score everything and write ``benchmarks/results/<the set's file>``."""
    from deepilst.fileio import write_json_atomic
    from deepilst.model import input_noise
    from deepilst.predict import load_model

    t0 = time.time()
    _, rng_seed, seed0, results_file, _ = SETS[set_name]
    model = load_model(model_name)
    from provenance import versions
    doc = {
        "issue": "13 item 2: intervals that know the input's noise",
        "command": "python benchmarks/input_noise.py " + " ".join(
            portable_path(a) if a.startswith("/") else a for a in sys.argv[1:]),
        "model": model_name or "ensemble (shipped)",
        "method": {"reference_prod_ps": input_noise.REF_PROD_PS,
                   "reference_n_particles": input_noise.REF_N_PARTICLES,
                   "Q_REF": input_noise.Q_REF, "NOISE_SCALE": input_noise.NOISE_SCALE,
                   "n_draws": draws,
                   "rule": "S_total = S_model + NOISE_SCALE max(0, 1 - 1/s2) N_in (see "
                           "deepilst.model.input_noise); NOISE_SCALE fitted on run-to-run "
                           "differences of data/v1_test.h5 vs data/v1_test_2runs.h5, not on "
                           "these runs"},
        "protocol": {"n_particles": N_PARTICLES, "equil_ps": EQUIL_PS, "sample_every": 100,
                     "lengths_ps": list(LENGTHS), "set": set_name,
                     "planned_states": len(specs) // len(LENGTHS),
                     "seeds": f"{seed0} + 3 * state + length index",
                     "states": f"uniform Table 1 (T, rho, C12, C6), T* < 15, rng seed {rng_seed}; "
                               "states whose 350-ps run is not a fluid are left out"},
        "acceptance_rule": "coverage of the 95 % intervals in [0.90, 0.98] for C12 and C6 at "
                           "every length; widths shrink with run length. Also reported: whether "
                           "each coverage lies in the central 95 % binomial range of n runs at a "
                           "true rate of 0.95 (binomial_band_at_95)",
        "synthetic": synthetic(model, n_synthetic, draws) if n_synthetic > 0 else None,
        "md": md_part(model, specs, runs, draws),
        "versions": versions(),
    }
    doc["md"]["md_wall_s_this_invocation"] = md_wall
    doc["eval_wall_s"] = time.time() - t0
    write_json_atomic(ROOT / "benchmarks" / "results" / results_file, doc, indent=1)
    for part in ("synthetic", "md"):
        if doc[part] is None:
            continue
        for L, row in doc[part]["lengths"].items():
            for m in MODES:
                print(f"{part:9} {L:>4} ps {m:8} " + "  ".join(
                    f"{q} {row[m][q]['coverage']:.3f} ({row[m][q]['inside']}/{row[m][q]['n']}) "
                    f"w {row[m][q]['median_rel_width_95']:.3f}" for q in ("C12", "C6")))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", choices=sorted(SETS), default="a",
                    help="which pre-registered set of states (see the module docstring)")
    ap.add_argument("--n", type=int, default=None, help="states (each at 3 lengths; default: the set's)")
    ap.add_argument("--runs", default=None, help="run directory (default: runs/<the set's>)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--simulate-only", action="store_true")
    ap.add_argument("--evaluate-only", action="store_true", help="score the runs already done")
    ap.add_argument("--model", default=None, help="model name or directory (default: shipped)")
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--n-synthetic", type=int, default=120, help="v1_test states, no MD")
    args = ap.parse_args()
    from deepilst.runner import generate

    n_set, rng_seed, seed0, _, runs_name = SETS[args.set]
    runs = Path(args.runs) if args.runs else ROOT / "runs" / runs_name
    specs = plan_specs(args.n or n_set, rng_seed, seed0)
    t0 = time.time()
    if not args.evaluate_only:
        counts = generate(specs, runs, workers=args.workers,
                          command=f"python benchmarks/input_noise.py --set {args.set} --simulate-only")
        print(json.dumps(counts), file=sys.stderr)
    if args.simulate_only:
        return
    evaluate(specs, runs, args.model, args.draws, time.time() - t0, args.n_synthetic, args.set)


if __name__ == "__main__":
    main()
