"""Bin width must not change the answer (issue 13, item 1): one trajectory, many histograms.

For >= 10 fluid Table-1 states, one GROMACS run each (N = 1000, 50 ps equilibration + 300 ps
production, a frame every ~1 ps; every mdrun under ``flock`` on ``$TMPDIR/deepilst-md.lock``
or ``$DEEPILST_MD_LOCK``), then
``gmx rdf`` and MDAnalysis ``InterRDF`` (exclusion_block=(1, 1)) at 0.001, 0.002, 0.005, 0.01
and 0.02 nm, and the exact reference: the trajectory histogrammed at 0.0005 nm by deepilst and
rebinned onto the model shells (how training data are made). Every file is predicted with the
shipped ensemble through the input path of ``deepilst predict`` (NEW: bin grid recovered,
shell-volume rebinning, ``gmx rdf``'s N^2 pair normalisation put on N(N-1), and the blur of bins
the model's shells do not refine added back from the forward model,
:func:`deepilst.predict.unblur`), the same without that correction (SHELLS, the NEW path
before it), the OLD one (linear interpolation of the printed (r, g) points, kept here as a
reference implementation) and the likelihood inverse (``predict --method fit``: the forward
model averaged over the file's own bins, issue 14).

    python benchmarks/binning.py [--runs DIR] [--n 12] [--prod-ps 300] [--state-seed 13]

States and MD seeds come from ``--state-seed`` S (states drawn with rng seed S, MD seeds S + i);
S = 13 is the set every earlier result used, S = 71 a fresh set drawn after the blur correction
was chosen (on validation data) and frozen.

Resumable: simulations and RDF files go to DIR (default runs/binning below the repository
root, git-ignored) and are reused. Writes benchmarks/results/binning.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
LOCK = os.environ.get("DEEPILST_MD_LOCK", str(Path(tempfile.gettempdir()) / "deepilst-md.lock"))
THREADS = int(os.environ.get("DEEPILST_MD_THREADS", "2"))  # 1 with DEEPILST_MD_LOCK="" to use
# a core that single-threaded jobs holding the lock leave idle
WIDTHS = (0.001, 0.002, 0.005, 0.01, 0.02)
EQUIL_PS, PROD_PS, FRAME_PS = 50.0, 300.0, 1.0
SEED = 13


def draw_states(n: int, seed: int = SEED) -> list[dict]:
    """``n`` Table-1 states (T, rho, C12, C6) drawn uniformly, kept if 1.3 < T* < 12 and
    rho* < 0.85 (supercritical fluid, below freezing); the phase is checked after the run."""
    from deepilst.units import KB, sigma_epsilon

    rng = np.random.default_rng(seed)
    out: list[dict] = []
    while len(out) < n:
        t, rho = rng.uniform(290, 400), rng.uniform(8.0, 19.4)
        c12, c6 = rng.uniform(5e-6, 1e-4), rng.uniform(2e-3, 1.5e-2)
        sig, eps = sigma_epsilon(c12, c6)
        ts, rs = KB * t / eps, rho * sig**3
        if 1.3 < ts < 12 and rs < 0.85:
            out.append({"T": t, "rho": rho, "C12": c12, "C6": c6, "T_reduced": ts,
                        "rho_reduced": rs})
    return out


def _sh(cmd: list[str], cwd: Path, stdin: str | None = None, threads: int = 1) -> str:
    env = {"GMX_MAXBACKUP": "-1", "OMP_NUM_THREADS": str(threads),
           "PATH": "/usr/bin:/bin:/usr/local/bin"}
    p = subprocess.run(cmd, cwd=cwd, input=stdin, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed: {p.stderr[-800:]}")
    return p.stdout + p.stderr


def simulate(state: dict, d: Path, seed: int, prod_ps: float = PROD_PS) -> None:
    """GROMACS run of one state in ``d`` (md.tpr, md.xtc kept); skipped when done."""
    from deepilst.md.gromacs_engine import mdp, topology, write_gro
    from deepilst.md.spec import Protocol, SimSpec
    from deepilst.md.system import lattice_positions

    if (d / "done").exists():
        return
    d.mkdir(parents=True, exist_ok=True)
    probe = SimSpec(state["T"], state["rho"], state["C12"], state["C6"], engine="gromacs")
    k = max(1, round(FRAME_PS / probe.dt))
    spec = SimSpec(state["T"], state["rho"], state["C12"], state["C6"], engine="gromacs",
                   seed=seed, protocol=Protocol(equil_ps=EQUIL_PS, prod_ps=prod_ps,
                                                sample_every=k))
    write_gro(d / "conf.gro", lattice_positions(1000, spec.box_length, seed), spec.box_length)
    (d / "topol.top").write_text(topology(spec))
    (d / "md.mdp").write_text(mdp(spec, output=True))
    _sh(["gmx", "-quiet", "grompp", "-f", "md.mdp", "-c", "conf.gro", "-p", "topol.top",
         "-o", "md.tpr", "-po", "mdout.mdp", "-maxwarn", "2"], d)
    lock = ["flock", LOCK] if LOCK else []
    _sh([*lock, "gmx", "-quiet", "mdrun", "-deffnm", "md", "-ntmpi", "1", "-ntomp", str(THREADS),
         "-pin", "off", "-nb", "cpu"], d, threads=THREADS)
    t_begin = spec.n_equil_steps * spec.dt + 0.5 * k * spec.dt
    (d / "spec.json").write_text(json.dumps({"spec": spec.to_dict(), "dt_ps": spec.dt,
                                             "frame_ps": k * spec.dt, "begin_ps": t_begin,
                                             "box_nm": spec.box_length}))
    (d / "done").write_text("")


def histograms(d: Path) -> None:
    """gmx rdf and MDAnalysis InterRDF files at every width, and the exact reference (the
    production frames histogrammed at 0.0005 nm, blocks for its error); skipped when present."""
    import MDAnalysis as mda
    from MDAnalysis.lib.formats.libmdaxdr import XTCFile

    from deepilst.rdf import RDFAccumulator

    sp = json.loads((d / "spec.json").read_text())
    b = EQUIL_PS
    if not (d / "md.xtc").exists():  # the engine's mdp writes a .trr: the users' .xtc from it
        _sh(["gmx", "-quiet", "trjconv", "-f", "md.trr", "-s", "md.tpr", "-o", "md.xtc"], d,
            stdin="0\n")
    for w in WIDTHS:
        out = d / f"gmx_{w:g}.xvg"
        if not out.exists():
            _sh(["gmx", "-quiet", "rdf", "-f", "md.xtc", "-s", "md.tpr", "-ref", "name LJ", "-sel",
                 "name LJ", "-bin", f"{w:g}", "-b", f"{b:g}", "-o", out.name + ".part.xvg"], d)
            (d / (out.name + ".part.xvg")).rename(out)
    todo = [w for w in WIDTHS if not (d / f"mda_{w:g}.dat").exists()]
    if todo:
        u = mda.Universe(str(d / "md.tpr"), str(d / "md.xtc"))
        start = next(i for i, ts in enumerate(u.trajectory) if ts.time >= b - 1e-6)
        for w, (r, g) in zip(todo, mda_rdfs(u, start, todo)):
            np.savetxt(d / f"mda_{w:g}.dat", np.column_stack([r, g]),
                       header="r (Angstrom), g(r): MDAnalysis InterRDF, exclusion_block=(1, 1)")
    if not (d / "exact.npz").exists():
        acc = RDFAccumulator(1000, sp["box_nm"], dr=0.0005, n_blocks=10)
        frames = []
        with XTCFile(str(d / "md.xtc")) as xtc:
            for fr in xtc:
                if fr.time >= b - 1e-6:
                    frames.append(np.asarray(fr.x, dtype=np.float64))
        for i, f in enumerate(frames):
            acc.add_frame(f, block=min(i * 10 // len(frames), 9))
        np.savez(d / "exact.npz", edges=acc.edges, g_blocks=acc.g_blocks(), n_frames=len(frames))


def mda_rdfs(u, start: int, widths: list[float]) -> list[tuple[np.ndarray, np.ndarray]]:
    """MDAnalysis ``InterRDF(g, g, nbins, range=(0, 15), exclusion_block=(1, 1))`` at several
    bin widths [nm] in one pass: its own steps (``capped_distance``, the exclusion mask,
    ``np.histogram`` with the same range and bins, its normalisation N^2 - N and mean box
    volume) with the distances computed once per frame instead of once per width (the machine
    is shared; on state 0 the result equals InterRDF at 0.001 and 0.02 nm to 1e-15)."""
    from MDAnalysis.lib.distances import capped_distance

    nb = [round(15.0 / (10 * w)) for w in widths]
    counts = [np.zeros(n) for n in nb]
    vol, nf = 0.0, 0
    n_at = len(u.atoms)
    for ts in u.trajectory[start:]:
        pairs, dist = capped_distance(u.atoms.positions, u.atoms.positions, 15.0,
                                      box=ts.dimensions)
        dist = dist[pairs[:, 0] != pairs[:, 1]]
        for c, n in zip(counts, nb):
            c += np.histogram(dist, bins=n, range=(0.0, 15.0))[0]
        vol += ts.volume
        nf += 1
    out = []
    for c, n in zip(counts, nb):
        edges = np.histogram([-1], bins=n, range=(0.0, 15.0))[1]
        norm = nf * 4 / 3 * np.pi * np.diff(edges**3) * (n_at * n_at - n_at) / (vol / nf)
        out.append((0.5 * (edges[:-1] + edges[1:]), c / norm))
    return out


def old_path(path: Path, grid: np.ndarray, r_unit: str) -> np.ndarray:
    """The input path before issue 13: rows with equal printed r averaged, (r, g) read as point
    values and linearly interpolated onto the grid (rdfio.to_model_grid as it was)."""
    from deepilst.rdfio import read_rdf

    r, g = read_rdf(path)
    r = r * (0.1 if r_unit == "A" else 1.0)
    return np.interp(grid, r, g, left=np.nan, right=g[-1])


def analyse(runs: Path, states: list[dict], coarse: str, with_fit: bool = True,
            prod_ps: float = PROD_PS) -> dict:
    """Predictions for every state, file and path; per-width and acceptance summaries."""
    from deepilst.binning import to_shells
    from deepilst.predict import load_model, predict_file, unblur
    from deepilst.rdf import centered_edges, rebin
    from deepilst.rdfio import inspect_rdf, shells_of

    model = load_model("ensemble")
    grid = np.asarray(model.r_grid, dtype=float)
    sources = [("gmx", w) for w in WIDTHS] + [("mda", w) for w in WIDTHS]
    per_state = []
    blur_from: dict[str, int] = {}
    for i, s in enumerate(states):
        d = runs / f"state{i:02d}"
        ex = np.load(d / "exact.npz")
        gb = np.array([rebin(ex["edges"], b, centered_edges(grid))[0] for b in ex["g_blocks"]])
        g_exact = gb.mean(axis=0)
        noise = gb.std(axis=0, ddof=1) / math.sqrt(len(gb))
        gs = {"exact": g_exact}
        for tool, w in sources:
            f = d / (f"gmx_{w:g}.xvg" if tool == "gmx" else f"mda_{w:g}.dat")
            unit = "nm" if tool == "gmx" else "A"
            inp = inspect_rdf(f, r_unit=unit, density=s["rho"])  # the unit a user states
            assert inp.bins.r_unit == unit and abs(inp.bins.width - w) < 1e-12, inp.describe()
            g_new = shells_of(inp, grid, str(f))[0]
            if coarse != "pchip":
                g_new = to_shells(inp.bins, inp.g, grid, coarse=coarse)[0]
            gs[f"shells/{tool}/{w:g}"] = g_new
            gs[f"new/{tool}/{w:g}"], info = unblur(model, inp, grid, g_new, s["T"], s["rho"],
                                                   prod_ps=prod_ps)
            if info is not None and info.get("applied"):
                blur_from[info["state_from"]] = blur_from.get(info["state_from"], 0) + 1
            gs[f"old/{tool}/{w:g}"] = old_path(f, grid, unit)
        fits = {}
        if with_fit:  # the likelihood inverse: the forward model averaged over the file's own bins
            for tool, w in sources:
                f = d / (f"gmx_{w:g}.xvg" if tool == "gmx" else f"mda_{w:g}.dat")
                r = predict_file(f, s["T"], s["rho"], model, thermo=False, method="fit",
                                 r_unit="nm" if tool == "gmx" else "A", prod_ps=prod_ps)
                fits[f"fit/{tool}/{w:g}"] = {"C12": float(r["C12"]), "C6": float(r["C6"]),
                                             "C12_std": float(r["C12_std"]),
                                             "C6_std": float(r["C6_std"])}
        names = list(gs)
        m = grid >= 0.25
        batch = np.array([gs[k] for k in names])
        res = model.predict(batch, np.full(len(names), s["T"]),
                            np.full(len(names), s["rho"]))
        row = {"state": {k: float(v) for k, v in s.items()}, "pred": {},
               "rdf_dev": {}}
        for j, k in enumerate(names):
            row["pred"][k] = {"C12": float(res["C12"][j]), "C6": float(res["C6"][j])}
            sel = m & (grid < 1.0)
            row["rdf_dev"][k] = float(np.sqrt(np.nanmean(((gs[k] - g_exact)[sel]) ** 2)))
        row["pred"].update(fits)
        row["rdf_noise_rms"] = float(np.sqrt(np.mean(noise[m & (grid < 1.0)] ** 2)))
        per_state.append(row)
        print(f"state {i}: predicted", flush=True)
    return {"per_state": per_state, "summary": summarise(per_state),
            "blur_correction_state_from": blur_from}


def summarise(rows: list[dict]) -> dict:
    """Mean per-state |error| vs truth [%] per input, and the spread across widths [%]:
    per state (max - min) / truth over the five widths of one tool and path, then the mean."""
    out: dict = {"error_vs_truth_pct": {}, "spread_across_widths_pct": {},
                 "deviation_from_exact_input_pct": {}}
    keys = list(rows[0]["pred"])
    paths = sorted({k.split("/")[0] for k in keys if "/" in k})
    for k in keys:
        out["error_vs_truth_pct"][k] = {
            p: float(np.mean([100 * abs(r["pred"][k][p] / r["state"][p] - 1) for r in rows]))
            for p in ("C12", "C6")}
        out["deviation_from_exact_input_pct"][k] = {
            p: float(np.mean([100 * abs(r["pred"][k][p] / r["pred"]["exact"][p] - 1)
                              for r in rows])) for p in ("C12", "C6")}
    for path in paths:
        for tool in ("gmx", "mda", "both"):
            for label, ws in (("all", WIDTHS), ("fine", WIDTHS[:3])):
                tools = ("gmx", "mda") if tool == "both" else (tool,)
                ks = [f"{path}/{t}/{w:g}" for t in tools for w in ws]
                out["spread_across_widths_pct"][f"{path}/{tool}/{label}"] = {
                    p: float(np.mean([100 * (max(r["pred"][k][p] for k in ks)
                                             - min(r["pred"][k][p] for k in ks)) / r["state"][p]
                                      for r in rows])) for p in ("C12", "C6")}
    for path in paths:
        sp = out["spread_across_widths_pct"][f"{path}/both/all"]
        out[f"acceptance_{path}"] = {"C12_spread_pct": sp["C12"], "C6_spread_pct": sp["C6"],
                                     "pass": bool(sp["C12"] <= 0.3 and sp["C6"] <= 1.0)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", default=None,
                    help="simulations (default runs/binning, runs/binning_<P>ps for another "
                         "--prod-ps)")
    ap.add_argument("--n", type=int, default=12, help="number of states")
    ap.add_argument("--md-only", action="store_true", help="run the simulations and stop")
    ap.add_argument("--no-fit", action="store_true", help="skip the likelihood inverse (fit) path")
    ap.add_argument("--coarse", default="pchip", choices=("pchip", "step"),
                    help="treatment of bins wider than the model's")
    ap.add_argument("--prod-ps", type=float, default=PROD_PS,
                    help="production length per state, ps (statistical noise ~ its -1/2 power)")
    ap.add_argument("--state-seed", type=int, default=SEED,
                    help="rng seed of the states; MD seeds are this + i (13: the first set; 71: "
                         "the fresh set drawn after the blur correction was frozen)")
    ap.add_argument("--out", default=None,
                    help="results (default benchmarks/results/binning.json; binning_<P>ps.json "
                         "for another --prod-ps)")
    args = ap.parse_args()
    tag = ("" if args.state_seed == SEED else f"_s{args.state_seed}") \
        + ("" if args.prod_ps == PROD_PS else f"_{args.prod_ps:g}ps")
    runs = Path(args.runs or ROOT / "runs" / f"binning{tag}")
    out = args.out or str(ROOT / "benchmarks" / "results" / f"binning{tag}.json")
    states = draw_states(args.n, args.state_seed)
    t0 = time.time()
    n_sim = sum(not (runs / f"state{i:02d}" / "done").exists() for i in range(len(states)))
    for i, s in enumerate(states):
        simulate(s, runs / f"state{i:02d}", args.state_seed + i, args.prod_ps)
        print(f"state {i}: simulated ({time.time() - t0:.0f} s)", flush=True)
    if args.md_only:
        return
    from deepilst.fileio import held

    with held(LOCK or None):  # histograms and fits: minutes of CPU
        for i in range(len(states)):
            histograms(runs / f"state{i:02d}")
            print(f"state {i}: histograms ({time.time() - t0:.0f} s)", flush=True)
        res = analyse(runs, states, args.coarse, with_fit=not args.no_fit,
                      prod_ps=args.prod_ps)
    import MDAnalysis

    from deepilst import __version__
    from deepilst.fileio import write_json_atomic

    gmx_v = next((ln.split(":", 1)[1].strip() for ln in _sh(["gmx", "--version"], runs).splitlines()
                  if ln.strip().startswith("GROMACS version")), "unknown")
    res["provenance"] = {
        "command": "python benchmarks/binning.py " + " ".join(sys.argv[1:]).replace(str(ROOT), "."),
        "deepilst": __version__, "gromacs": gmx_v, "mdanalysis": MDAnalysis.__version__,
        "numpy": np.__version__, "python": platform.python_version(), "model": "ensemble",
        "state_seed": args.state_seed,
        "md_seeds": [args.state_seed + i for i in range(len(states))],
        "protocol": {"n_particles": 1000, "equil_ps": EQUIL_PS, "prod_ps": args.prod_ps,
                     "frame_ps": FRAME_PS, "thermostat": "nose-hoover", "rc_sigma": 3.0},
        "widths_nm": list(WIDTHS), "coarse": args.coarse,
        "wall_time_s": round(time.time() - t0, 1),
        "states_simulated_this_invocation": n_sim}  # 0: a re-analysis of existing runs
    res["phase"] = phases(runs, len(states))
    write_json_atomic(out, res, indent=1)
    print(json.dumps(res["summary"], indent=1))


def phases(runs: Path, n: int) -> list[str]:
    """Phase label (deepilst.phase rules) of each run's last frame."""
    from MDAnalysis.lib.formats.libmdaxdr import XTCFile

    from deepilst.phase import dispersion_index, solid_fraction

    out = []
    for i in range(n):
        d = runs / f"state{i:02d}"
        box = json.loads((d / "spec.json").read_text())["box_nm"]
        with XTCFile(str(d / "md.xtc")) as xtc:
            for fr in xtc:
                pos = np.asarray(fr.x, dtype=np.float64)
        sf, di = solid_fraction(pos, box), dispersion_index(pos, box)
        out.append("solid" if sf > 0.5 else "two-phase" if di > 3.0 else "fluid")
    return out


if __name__ == "__main__":
    sys.exit(main())
