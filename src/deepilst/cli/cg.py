"""``deepilst cg``: one LJ bead per molecule from a centre-of-mass g(r)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from deepilst.cli._common import add_max_beads, add_state, positive_int


def add_cg_commands(sub) -> None:
    p = sub.add_parser("cg", help="single-bead LJ model of a molecular liquid from its COM g(r)",
                       description="Coarse-grain a molecular liquid into one LJ bead per molecule: "
                       "the network's C12, C6 from the centre-of-mass g(r) and the forward "
                       "model's lowest eps_rdf point in each basin, ranked by the forward model's "
                       "eps_rdf (no MD); one CG run checks the best (eps_rdf, pressure, energy), "
                       "and only if it is worse than predicted are the others run; optionally a "
                       "relative-entropy refinement.")
    p.add_argument("file", type=Path, help="COM g(r) file (deepilst com-rdf, gmx rdf -selrpos "
                   "mol_com, VOTCA .dist.tgt)")
    add_state(p)
    p.add_argument("--mass", type=float, default=39.948,
                   help="bead mass = the molecule's mass, amu (structure does not depend on it)")
    p.add_argument("--refine", choices=("re",), default=None,
                   help="then relative entropy, started at the eps_KL map minimum (no MD to find it)")
    p.add_argument("--basin-check", action=argparse.BooleanOptionalAction, default=True,
                   help="also consider the forward model's eps_rdf minimum of each basin (2 runs "
                   "of a search in the other basin where the forward model has none); off: the "
                   "network's answer alone (default on)")
    p.add_argument("--screen", action=argparse.BooleanOptionalAction, default=True,
                   help="rank the candidates by the forward model's eps_rdf and run only the best, "
                   "the others only if its run is worse than predicted (default on); off: run "
                   "every candidate (up to 3 CG runs)")
    p.add_argument("--model", default=None, help="model directory or shipped name (default ensemble)")
    p.add_argument("--engine", default="gromacs", help="auto | gromacs | openmm")
    p.add_argument("--n-particles", type=positive_int, default=1000, help="CG beads (default 1000)")
    add_max_beads(p)
    p.add_argument("--equil-ps", type=float, default=50.0)
    p.add_argument("--prod-ps", type=float, default=250.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--target-pressure", type=float, default=None,
                   help="the all-atom pressure, bar, shown beside the CG model's")
    p.add_argument("--name", default="CG", help="bead name for the topology snippet")
    p.add_argument("--plot", type=Path, default=None, help="overlay of g(r) (the paper's Fig. 4), PNG")
    p.add_argument("--xvg", type=Path, default=None, help="write the final CG g(r) as .xvg")
    p.add_argument("--format", dest="fmt", choices=("text", "json"), default="text")
    p.set_defaults(handler=_cg)


def _cg(a: argparse.Namespace) -> int:
    from deepilst.cg import coarse_grain
    from deepilst.fileio import json_safe
    from deepilst.fit.cgmd import CGProtocol
    from deepilst.md.spec import Protocol
    from deepilst.snippets import gromacs_mdp_repulsion, gromacs_topology
    from deepilst.units import check_positive

    check_positive("temperature", a.temperature)
    check_positive("density", a.density)
    check_positive("mass", a.mass)
    Protocol(equil_ps=a.equil_ps, prod_ps=a.prod_ps, n_particles=a.n_particles)  # validates
    if not a.file.is_file():
        raise FileNotFoundError(2, "no such file", str(a.file))
    rep = coarse_grain(a.file, a.temperature, a.density, a.mass, refine=a.refine,
                       basin_check=a.basin_check, screen_first=a.screen, model=a.model, seed=a.seed,
                       protocol=CGProtocol(n_particles=a.n_particles, equil_ps=a.equil_ps,
                                           prod_ps=a.prod_ps, engine=a.engine,
                                           max_particles=a.max_beads),
                       target_P=a.target_pressure)
    if a.plot:
        rep.save_plot(a.plot)
    if a.xvg:
        rep.final.final.result.write_xvg(a.xvg)
    if a.fmt == "json":
        print(json.dumps(json_safe(rep.to_json()), indent=1))
    else:
        print(rep.format_text())
        print("--- GROMACS topology\n" + gromacs_topology(rep.final.C12, rep.final.C6, a.name, a.mass))
        boundary = rep.final.extra.get("boundary")
        if boundary:  # C6 = 0: the mdp lines of the repulsion's own cutoff, as it was run
            print("--- GROMACS mdp (non-bonded)\n" + gromacs_mdp_repulsion(boundary["rc"]))
    return 0
