"""``deepilst baseline``: the CG baselines (VOTCA-CSG's simplex and relative entropy as users
run them; our relative entropy, simplex and IBI) on one target g(r), scored like every method."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from deepilst.cli._common import add_max_beads, add_state, positive_int

METHODS = ("votca-simplex", "votca-re", "re", "simplex", "ibi")


def _pair(text: str) -> tuple[float, float]:
    try:
        a, b = (float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected C12,C6 (two numbers), got {text!r}") from None
    if not (math.isfinite(a) and math.isfinite(b) and a > 0 and b > 0):
        raise argparse.ArgumentTypeError(f"C12 and C6 must be finite and positive, got {text!r}")
    return a, b


def add_baseline_commands(sub) -> None:
    p = sub.add_parser("baseline", help="CG baselines (VOTCA simplex / relative entropy, our RE, "
                       "simplex, IBI) on one g(r)",
                       description="Fit one LJ bead to a target g(r) with a baseline method and "
                       "score the answer with one validation run of our protocol (eps_rdf, P, U). "
                       "votca-simplex and votca-re run VOTCA-CSG 2022.1 (csg_inverse) with GROMACS "
                       "as a user would, in a work directory a user would recognise.")
    p.add_argument("method", choices=METHODS)
    p.add_argument("file", type=Path, help="target g(r) (.xvg, VOTCA table, columns; r in nm)")
    add_state(p)
    p.add_argument("--mass", type=float, required=True, help="bead mass, amu")
    p.add_argument("--start", type=_pair, default=None,
                   help="C12,C6 to start from (default: the network's prediction)")
    p.add_argument("--work-dir", type=Path, default=None,
                   help="VOTCA's directory (default ./METHOD_STEM; must be empty or absent)")
    p.add_argument("--iterations", type=positive_int, default=None,
                   help="iteration limit (default: votca-simplex 30, votca-re 15, ours their own)")
    p.add_argument("--model", default=None, help="model of the default start (default ensemble)")
    p.add_argument("--engine", default="gromacs", help="engine of our runs: auto | gromacs | openmm")
    p.add_argument("--n-particles", type=positive_int, default=1000, help="CG beads (default 1000)")
    add_max_beads(p)
    p.add_argument("--equil-ps", type=float, default=50.0, help="our runs' equilibration, ps")
    p.add_argument("--prod-ps", type=float, default=250.0, help="our runs' production, ps")
    p.add_argument("--votca-equil-ps", type=float, default=20.0,
                   help="VOTCA's runs: equilibration discarded per step, ps (default 20)")
    p.add_argument("--votca-prod-ps", type=float, default=80.0,
                   help="VOTCA's runs: production per step, ps (default 80)")
    p.add_argument("--rc", type=float, default=1.5,
                   help="VOTCA's runs: fixed cutoff, nm (potential-shift; default 1.5, or less "
                   "where the box is small)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--plot", type=Path, default=None, help="overlay of target and final CG g(r), PNG")
    p.add_argument("--xvg", type=Path, default=None, help="write the final CG g(r) as .xvg")
    p.add_argument("--format", dest="fmt", choices=("text", "json"), default="text")
    p.set_defaults(handler=_baseline)


def _text(res, target) -> str:
    d = res.to_json()
    lines = [f"{res.method} on {target.name}: T = {target.temperature:g} K, rho = "
             f"{target.density:g} nm^-3, bead mass {target.mass:g} amu"]
    if res.start is not None:
        lines.append(f"  start     C12 = {res.start[0]:.5e}  C6 = {res.start[1]:.5e}")
    if res.final is None:
        lines.append("  no parameters" if res.C12 != res.C12 else
                     f"  C12 = {res.C12:.5e} kJ mol^-1 nm^12, C6 = {res.C6:.5e} kJ mol^-1 nm^6 "
                     "(no validation run)")
    else:
        lines += [f"  C12 = {res.C12:.5e} kJ mol^-1 nm^12, C6 = {res.C6:.5e} kJ mol^-1 nm^6",
                  "  " + res.shape_text(),
                  f"  eps_rdf = {100 * d['eps_rdf']:.3f} +- {100 * d['eps_rdf_sem']:.3f} % "
                  f"(noise floor {100 * d['eps_rdf_floor']:.3f} %), P = {d['P']:.1f} bar, "
                  f"U = {d['U']:.3f} kJ/mol (validation run, our protocol)"]
    lines.append(f"  {res.md_runs} MD runs (validation not counted), {res.iterations} iterations, "
                 f"{res.wall_s:.1f} s, converged {res.converged}")
    lines += [f"  note: {n}" for n in res.notes]
    return "\n".join(lines)


def _baseline(a: argparse.Namespace) -> int:
    from deepilst.fileio import json_safe
    from deepilst.fit.baseline import baseline_function, run_baseline
    from deepilst.fit.cgmd import CGProtocol
    from deepilst.fit.target import Target
    from deepilst.md.spec import Protocol

    Protocol(equil_ps=a.equil_ps, prod_ps=a.prod_ps, n_particles=a.n_particles)  # validates
    if not a.file.is_file():
        raise FileNotFoundError(2, "no such file", str(a.file))
    target = Target.from_file(a.file, a.temperature, a.density, a.mass)
    baseline_function(a.method)  # a method this installation lacks fails before any work
    opts = {}
    work_dir = None
    if a.method.startswith("votca-"):
        from deepilst.fit.votca import VotcaOptions

        opts = {"prod_ps": a.votca_prod_ps, "equil_ps": a.votca_equil_ps, "rc": a.rc}
        VotcaOptions(**opts)  # validates before anything runs
        work_dir = a.work_dir or Path(f"{a.method}_{a.file.stem}")
        if work_dir.exists() and any(work_dir.iterdir()):
            from deepilst.errors import ParameterError

            raise ParameterError(f"work directory {work_dir} is not empty: remove it or choose another")
    start = a.start
    if start is None:
        from deepilst.predict import predict_file

        pred = predict_file(a.file, a.temperature, a.density, model=a.model, thermo=False,
                            n_particles=a.n_particles)
        start = (pred["C12"], pred["C6"])
    res = run_baseline(a.method, target, start, work_dir=work_dir, iterations=a.iterations,
                       protocol=CGProtocol(n_particles=a.n_particles, equil_ps=a.equil_ps,
                                           prod_ps=a.prod_ps, engine=a.engine,
                                           max_particles=a.max_beads),
                       seed=a.seed, **opts)
    if res.final is not None:
        if a.xvg:
            res.final.result.write_xvg(a.xvg)
        if a.plot:
            from deepilst.plots import draw_overlay, save_figure

            ax = draw_overlay(target.r, target.g, [(res.method, res.final.result.g)],
                              ref_label="target", title=f"{target.name}: {res.method}, T = "
                              f"{target.temperature:g} K, rho = {target.density:g} nm$^{{-3}}$")
            ax.figure.tight_layout()
            save_figure(ax.figure, a.plot)
    if a.fmt == "json":
        d = res.to_json()
        d["target"] = target.to_json()
        if work_dir is not None:
            d["work_dir"] = str(work_dir)
        print(json.dumps(json_safe(d), indent=1))
    else:
        print(_text(res, target))
    return 0 if res.C12 == res.C12 else 1  # NaN: the method gave no parameters
