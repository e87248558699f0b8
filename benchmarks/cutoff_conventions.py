"""Does the user's cutoff convention bias the predicted C12/C6? (issue 13, item 7)

deepilst is trained on RDFs simulated with forces truncated at r_c = 3 sigma (no shift,
analytic tail corrections). Users run GROMACS with its defaults (rc = 1.0-1.2 nm,
``vdw-modifier = Potential-shift``) or with LJ-PME. This benchmark draws fluid Table-1 states
(random T, rho, C12, C6 with T* < 15), simulates every state with GROMACS in five runs

    ref    rc = 3 sigma, vdw-modifier = None, DispCorr = EnerPres (our training convention)
    ref2   the same with another seed (the run-to-run noise, paired at the same states)
    ps10   rvdw = 1.0 nm, vdw-modifier = Potential-shift (GROMACS' default), DispCorr EnerPres
    ps12   rvdw = 1.2 nm, Potential-shift, DispCorr EnerPres
    ljpme  vdwtype = PME, rvdw = 1.0 nm, lj-pme-comb-rule = geometric (Potential-shift,
           DispCorr EnerPres): full LJ, no cutoff in effect

with the training data's protocol (N = 1000, 50 + 350 ps, frames every 100 steps, g(r) on the
model grid from a 0.0005 nm fine histogram, :func:`deepilst.md.simulate.simulate`), predicts
every RDF with the shipped ensemble and reports, per convention, the mean signed relative
difference of C12, C6, sigma and epsilon against the mean of the two reference runs of the same
state, with its standard error from the paired differences, next to the same statistic for
ref2 - ref (the noise), and eps_rdf between the conventions' g(r).

    python benchmarks/cutoff_conventions.py simulate [--n-states 24] [--max-runs K]
    python benchmarks/cutoff_conventions.py analyse

``simulate`` is resumable (one JSON record per run in runs/cutoff/, git-ignored) and exits
with status 10 while runs are left, so it can be called in a loop holding the MD lock per
batch: ``while flock "$TMPDIR/deepilst-md.lock" python ... simulate --max-runs 10; [ $? = 10 ];
do :; done``. ``analyse`` writes benchmarks/results/cutoff_conventions.json.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "runs" / "cutoff"
RESULT = ROOT / "benchmarks" / "results" / "cutoff_conventions.json"
STATE_SEED = 1307  # the state draw
SIM_SEED = 130_700  # run seeds: SIM_SEED + 10 * state + index of the convention
T_STAR_MAX = 15.0
TABLE1 = {"T": (290.0, 400.0), "rho": (8.0, 19.4), "C12": (5e-6, 1e-4), "C6": (2e-3, 1.5e-2)}
# the protocol of data/v1_*.h5 (scripts/make_dataset_v1.sh)
EQUIL_PS, PROD_PS, N_PARTICLES, SAMPLE_EVERY = 50.0, 350.0, 1000, 100


@dataclass(frozen=True)
class Convention:
    """One cutoff convention: ``rvdw_nm`` None means r_c = 3 sigma (ours)."""

    name: str
    description: str
    vdwtype: str = "cut-off"
    modifier: str = "None"
    rvdw_nm: float | None = None


CONVENTIONS = (
    Convention("ref", "rc = 3 sigma, vdw-modifier None, DispCorr EnerPres (training convention)"),
    Convention("ref2", "rc = 3 sigma, vdw-modifier None, DispCorr EnerPres, second seed"),
    Convention("ps10", "rvdw 1.0 nm, vdw-modifier Potential-shift, DispCorr EnerPres",
               modifier="Potential-shift", rvdw_nm=1.0),
    Convention("ps12", "rvdw 1.2 nm, vdw-modifier Potential-shift, DispCorr EnerPres",
               modifier="Potential-shift", rvdw_nm=1.2),
    Convention("ljpme", "LJ-PME: vdwtype PME, rvdw 1.0 nm, lj-pme-comb-rule geometric, "
               "Potential-shift, DispCorr EnerPres", vdwtype="PME", modifier="Potential-shift",
               rvdw_nm=1.0),
)
BY_NAME = {c.name: c for c in CONVENTIONS}


def patched_mdp(text: str, conv: Convention) -> str:
    """The training .mdp ``text`` (:func:`deepilst.md.gromacs_engine.mdp`) with the cutoff
    lines of convention ``conv`` (lengths in nm)."""
    if conv.rvdw_nm is None:
        return text
    out = []
    for line in text.splitlines():
        key = line.split("=")[0].strip()
        if key == "vdwtype":
            line = f"vdwtype         = {conv.vdwtype}"
        elif key == "vdw-modifier":
            line = f"vdw-modifier    = {conv.modifier}"
        elif key in ("rvdw", "rcoulomb"):
            line = f"{key:<15s} = {conv.rvdw_nm:.6f}"
        out.append(line)
    if conv.vdwtype == "PME":
        # GROMACS 2022 defaults written out: geometric combination on the grid (exact for one
        # atom type), Ewald tolerance 1e-3, grid spacing 0.12 nm, order 4
        out += ["lj-pme-comb-rule = geometric", "ewald-rtol-lj   = 0.001",
                "fourierspacing  = 0.12", "pme-order       = 4"]
    return "\n".join(out) + "\n"


def make_engine(conv: Convention):
    """A GROMACS engine whose runs use convention ``conv``."""
    from deepilst.md import gromacs_engine as ge

    class ConventionEngine(ge.GromacsEngine):
        def _prepare(self, spec, d: Path, output: bool = True) -> None:
            ge.write_gro(d / "conf.gro", ge.lattice_positions(
                spec.protocol.n_particles, spec.box_length, spec.seed), spec.box_length)
            (d / "topol.top").write_text(ge.topology(spec))
            (d / "md.mdp").write_text(patched_mdp(ge.mdp(spec, output), conv))
            ge._run([self.gmx, "-quiet", "grompp", "-f", "md.mdp", "-c", "conf.gro", "-p",
                     "topol.top", "-o", "md.tpr", "-po", "mdout.mdp", "-maxwarn", "2"], d)

    return ConventionEngine()


def draw_states(n: int) -> list[dict]:
    """``n`` Table-1 states, uniform in T [K], rho [nm^-3], C12, C6, kept when T* < 15."""
    from deepilst.units import reduced_state

    rng = np.random.default_rng(STATE_SEED)
    states: list[dict] = []
    while len(states) < n:
        s = {k: float(rng.uniform(*TABLE1[k])) for k in ("T", "rho", "C12", "C6")}
        t_star, rho_star = reduced_state(s["T"], s["rho"], s["C12"], s["C6"])
        if float(t_star) < T_STAR_MAX:
            s.update(T_star=float(t_star), rho_star=float(rho_star))
            states.append(s)
    return states


def spec_of(state: dict, seed: int):
    from deepilst.md.spec import Protocol, SimSpec

    return SimSpec(state["T"], state["rho"], state["C12"], state["C6"], engine="gromacs",
                   seed=seed, protocol=Protocol(equil_ps=EQUIL_PS, prod_ps=PROD_PS,
                                                n_particles=N_PARTICLES,
                                                sample_every=SAMPLE_EVERY))


def run_path(i: int, conv: str) -> Path:
    return RUNS / f"s{i:02d}_{conv}.json"


def _one_run(i: int, j: int, state: dict) -> str:
    """Simulate state ``i`` in convention number ``j`` and write its record; a summary line."""
    from deepilst.fileio import write_json_atomic
    from deepilst.md.base import SimulationError
    from deepilst.md.simulate import simulate

    conv = CONVENTIONS[j]
    spec = spec_of(state, SIM_SEED + 10 * i + j)
    t0 = time.perf_counter()
    try:
        rec = simulate(spec, make_engine(conv))
    except SimulationError as exc:
        rec = {"failed": str(exc)}
    rec.pop("fine", None)  # the 0.0005 nm histogram is not needed here
    rec.update(state_index=i, state=state, convention=conv.name,
               convention_text=conv.description,
               rvdw_nm=spec.rc if conv.rvdw_nm is None else conv.rvdw_nm,
               run_wall_s=time.perf_counter() - t0)
    write_json_atomic(run_path(i, conv.name), rec)
    return (f"state {i:2d} {conv.name:5s} T*={state['T_star']:.2f} rho*={state['rho_star']:.3f} "
            f"rc={rec['rvdw_nm']:.3f} nm {rec.get('phase', {}).get('label', 'FAILED')} "
            f"{rec['run_wall_s']:.1f} s")


def cmd_simulate(args: argparse.Namespace) -> int:
    from concurrent.futures import ProcessPoolExecutor

    states = draw_states(args.n_states)
    RUNS.mkdir(parents=True, exist_ok=True)
    todo = [(i, j) for i in range(len(states)) for j, c in enumerate(CONVENTIONS)
            if not run_path(i, c.name).exists()]
    # LJ-PME runs cost ~6x the others on this CPU (SSE4.1 kernels): the cheap conventions of
    # every state first, then LJ-PME state by state
    todo.sort(key=lambda t: (CONVENTIONS[t[1]].vdwtype == "PME", t[0], t[1]))
    batch = todo[: args.max_runs]
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for line in pool.map(_one_run, [b[0] for b in batch], [b[1] for b in batch],
                             [states[b[0]] for b in batch]):
            print(line, flush=True)
    left = len(todo) - len(batch)
    if left:
        print(f"{left} runs left", flush=True)
    return 10 if left else 0


def paired(x: np.ndarray) -> dict:
    """Mean, standard error and SD [%] of paired relative differences ``x`` (fractions)."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    sd = float(np.std(x, ddof=1)) if n > 1 else math.nan
    return {"mean_pct": 100 * float(np.mean(x)), "se_pct": 100 * sd / math.sqrt(n),
            "sd_pct": 100 * sd, "n": n}


def cmd_analyse(args: argparse.Namespace) -> int:
    import hashlib

    from deepilst import __version__
    from deepilst.predict import load_model, predict_arrays, resolve_model
    from deepilst.rdf import eps_rdf
    from deepilst.results import decode_array

    states = draw_states(args.n_states)
    recs: dict[tuple[int, str], dict] = {}
    for i in range(len(states)):
        for c in CONVENTIONS:
            p = run_path(i, c.name)
            if p.exists():
                recs[(i, c.name)] = json.loads(p.read_text())

    def ok(i: int, conv: str) -> bool:
        """The run exists, did not fail and is a homogeneous fluid."""
        rec = recs.get((i, conv), {"failed": "missing"})
        return "failed" not in rec and rec["phase"]["label"] == "fluid"

    # the noise and the biases are taken over the states whose two reference runs are fluid;
    # each convention over those of them where its own run is fluid too
    fluid = [i for i in range(len(states)) if ok(i, "ref") and ok(i, "ref2")]
    complete = [i for i in fluid if all(ok(i, c.name) for c in CONVENTIONS)]
    model = load_model(args.model)
    r = model.r_grid
    keys = ("C12", "C6", "sigma", "epsilon")
    pred: dict[tuple[int, str], dict] = {}
    for c in CONVENTIONS:
        idx = [i for i in fluid if ok(i, c.name)]
        if not idx:
            continue
        g = np.array([decode_array(recs[(i, c.name)]["g"]) for i in idx])
        r_rec = decode_array(recs[(idx[0], c.name)]["r"])
        if not np.allclose(r_rec, r):
            sys.exit("error: the records' grid is not the model grid")
        out = predict_arrays(model, g, [states[i]["T"] for i in idx],
                             [states[i]["rho"] for i in idx], thermo=False)
        for i, o in zip(idx, out):
            pred[(i, c.name)] = o

    def rel(i: int, k: str, conv: str) -> float:
        ref = 0.5 * (pred[(i, "ref")][k] + pred[(i, "ref2")][k])
        return pred[(i, conv)][k] / ref - 1.0

    def table(sel: list[int]) -> dict:
        res: dict = {"n": len(sel)}
        if len(sel) < 2:
            return res
        noise = {k: paired([pred[(i, "ref2")][k] / pred[(i, "ref")][k] - 1.0 for i in sel])
                 for k in keys}
        # ref2 - ref has twice the variance of one run; a convention run minus the mean of two
        # reference runs has 1.5 times it: the noise SD of that statistic is sd * sqrt(3) / 2
        res["ref2_vs_ref"] = {
            **noise, "eps_rdf": eps_stats([eps_rdf(r, g_of(i, "ref2"), g_of(i, "ref"))
                                           for i in sel]),
            "note": "ref2/ref - 1: the run-to-run noise at the same convention"}
        for c in CONVENTIONS[2:]:
            sel_c = [i for i in sel if ok(i, c.name)]
            if len(sel_c) < 2:
                res[c.name] = {"n": len(sel_c)}
                continue
            d = {k: paired([rel(i, k, c.name) for i in sel_c]) for k in keys}
            for k in keys:
                d[k]["z"] = d[k]["mean_pct"] / d[k]["se_pct"] if d[k]["se_pct"] > 0 else math.nan
                d[k]["noise_sd_pct_expected"] = noise[k]["sd_pct"] * math.sqrt(3) / 2
            d["slope_vs_x"] = {k: slope([x_of(i, c) for i in sel_c],
                                        [rel(i, k, c.name) for i in sel_c]) for k in keys}
            d["eps_rdf"] = eps_stats([eps_rdf(r, g_of(i, c.name), g_of(i, "ref"))
                                      for i in sel_c])
            d["convention"] = c.description
            res[c.name] = d
        return res

    def x_of(i: int, conv: Convention) -> float:
        """Perturbation variable x = ((sigma/rc)^3 - 1/27) / T*: the change of the attractive
        tail integral (sigma/rc)^3 against ours (rc = 3 sigma), in units of kB T; rc = infinity
        for LJ-PME."""
        sig = (states[i]["C12"] / states[i]["C6"]) ** (1 / 6)
        inv = 0.0 if conv.vdwtype == "PME" else (sig / float(conv.rvdw_nm)) ** 3
        return (inv - 1.0 / 27.0) / states[i]["T_star"]

    def slope(x: list[float], y: list[float]) -> dict:
        """Least-squares slope b of y = b x through the origin [% per unit x] and its SE."""
        xa, ya = np.asarray(x), np.asarray(y)
        b = float(np.sum(xa * ya) / np.sum(xa * xa))
        res_sd = float(np.sqrt(np.sum((ya - b * xa) ** 2) / (len(xa) - 1)))
        return {"b_pct": 100 * b, "se_pct": 100 * res_sd / float(np.sqrt(np.sum(xa * xa))),
                "x_range": [float(xa.min()), float(xa.max())]}

    def g_of(i: int, conv: str) -> np.ndarray:
        return decode_array(recs[(i, conv)]["g"])

    def eps_stats(v: list[float]) -> dict:
        a = np.asarray(v, dtype=float)
        return {"mean": float(np.mean(a)), "se": float(np.std(a, ddof=1) / math.sqrt(len(a))),
                "max": float(np.max(a)), "unit": "fraction"}

    hot = [i for i in fluid if states[i]["T_star"] > 5.0]
    per_state = []
    for i in fluid:
        have = [c for c in CONVENTIONS if ok(i, c.name)]
        row = {"index": i, **{k: states[i][k] for k in ("T", "rho", "C12", "C6", "T_star",
                                                        "rho_star")},
               "sigma": (states[i]["C12"] / states[i]["C6"]) ** (1 / 6),
               "phase": {c.name: recs[(i, c.name)].get("phase", {}).get("label", "failed")
                         for c in CONVENTIONS if (i, c.name) in recs},
               "seeds": {c.name: recs[(i, c.name)]["seed_used"] for c in have},
               "pred": {c.name: {k: pred[(i, c.name)][k] for k in keys} for c in have}}
        row["rc_3sigma_nm"] = 3 * row["sigma"]
        row["rc_3sigma_exceeds_1nm"] = bool(row["rc_3sigma_nm"] > 1.0)
        per_state.append(row)
    sig = np.array([row["sigma"] for row in per_state if row["index"] in fluid])
    wall = sum(recs[k].get("run_wall_s", 0.0) for k in recs)
    mdir = resolve_model(args.model)
    mhash = hashlib.sha256((mdir / "weights.safetensors").read_bytes()).hexdigest()[:16]
    any_rec = recs[(fluid[0], "ref")]
    res = {
        "description": __doc__.strip().split("\n")[0],
        "command": "python benchmarks/cutoff_conventions.py simulate --n-states "
                   f"{args.n_states}; python benchmarks/cutoff_conventions.py analyse "
                   f"--n-states {args.n_states} --model {args.model}",
        "protocol": {"N": N_PARTICLES, "equil_ps": EQUIL_PS, "prod_ps": PROD_PS,
                     "sample_every": SAMPLE_EVERY, "thermostat": "Nose-Hoover, tau_T 0.2 ps",
                     "dt": "0.008 sigma sqrt(m / max(eps, kB T)) (the training default)",
                     "g_grid": "model grid 0..1.5 nm, 0.005 nm, from a 0.0005 nm histogram"},
        "conventions": {c.name: c.description for c in CONVENTIONS},
        "statistic": ("per state, x/x_ref - 1 with x_ref the mean prediction of the two reference "
                      "runs; mean over states, SE = SD / sqrt(n) of the paired differences; "
                      "ref2_vs_ref: ref2/ref - 1 (the noise); z = mean / SE; slope_vs_x: "
                      "relative difference = b x through the origin, x = ((sigma/rc)^3 - 1/27)"
                      " / T* (rc = infinity for LJ-PME)"),
        "state_draw": {"seed": STATE_SEED, "table1": TABLE1, "T_star_max": T_STAR_MAX,
                       "run_seeds": f"{SIM_SEED} + 10 * state + convention index"},
        "model": {"name": str(args.model), "weights_sha256_16": mhash},
        "n_states": len(states), "n_ref_pairs_fluid": len(fluid),
        "n_all_conventions_fluid": len(complete),
        "sigma_range_nm": [float(sig.min()), float(sig.max())] if len(sig) else None,
        "n_states_3sigma_over_1nm": int(sum(row["rc_3sigma_exceeds_1nm"] for row in per_state
                                            if row["index"] in fluid)),
        "fluid": table(fluid),
        "fluid_T_star_le_5": table([i for i in fluid if i not in hot]),
        "fluid_T_star_gt_5": table(hot),
        "failed_runs": {f"s{i:02d}_{c}": recs[(i, c)]["failed"] for (i, c) in sorted(recs)
                        if "failed" in recs[(i, c)]},
        "notes": ("LJ-PME runs (GROMACS 2022.5, SSE4.1, our dt = 0.008 time units, Nose-Hoover, "
                  "nsttcouple 1) crashed (SIGSEGV) or blew up at the states listed in failed_runs, "
                  "also on the automatic retry at dt/2; their bias is over the survivors only. "
                  "Potential-shift at 1.0/1.2 nm has the forces of plain truncation at that rc."),
        "states": per_state,
        "md_wall_s_total": wall,
        "versions": {"deepilst": __version__, "numpy": np.__version__,
                     "gromacs": any_rec["versions"].get("gromacs"),
                     "python": platform.python_version()},
    }
    from deepilst.fileio import write_json_atomic

    write_json_atomic(RESULT, res, indent=1)
    for name in ("ref2_vs_ref",) + tuple(c.name for c in CONVENTIONS[2:]):
        d = res["fluid"].get(name)
        if d and "C12" in d:
            print(f"{name:12s} n={d['C12']['n']:2d} " + "  ".join(
                f"{k} {d[k]['mean_pct']:+.2f}+-{d[k]['se_pct']:.2f}%" for k in keys)
                + f"  eps_rdf {100 * d['eps_rdf']['mean']:.2f}%")
    print(f"n = {len(fluid)} reference pairs ({len(complete)} with every convention), "
          f"MD wall {wall:.0f} s")
    return 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=["simulate", "analyse"])
    ap.add_argument("--n-states", type=int, default=24)
    ap.add_argument("--max-runs", type=int, default=10**9, help="stop after this many runs")
    ap.add_argument("--model", default="ensemble")
    ap.add_argument("--workers", type=int, default=2, help="simultaneous MD runs (one core each)")
    args = ap.parse_args()
    sys.exit(cmd_simulate(args) if args.command == "simulate" else cmd_analyse(args))


if __name__ == "__main__":
    main()
