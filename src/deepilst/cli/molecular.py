"""``deepilst aa`` (all-atom NVT runs of molecular liquids) and ``deepilst com-rdf``
(centre-of-mass g(r) of a trajectory)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from deepilst.cli._common import command_line


def add_molecular_commands(sub) -> None:
    a = sub.add_parser(
        "aa", help="all-atom NVT run of a molecular liquid (GROMACS, resumable)",
        description="Build a cubic box of N molecules at a number density, minimise, equilibrate "
        "(V-rescale) and run NVT production (Nose-Hoover) in chunks, resumable: rerun the same "
        "command to continue (a longer --prod-ps extends the run). The record goes to OUT/run.json.")
    a.add_argument("--molecule", default=None, help="a shipped molecule: CO, F2, CH4, N2, C2H6")
    a.add_argument("--top", type=Path, default=None, help="your molecule's .top (one molecule type)")
    a.add_argument("--gro", type=Path, default=None, help="one molecule of it as .gro")
    a.add_argument("-T", "--temperature", type=float, required=True, help="temperature, K")
    a.add_argument("-d", "--density", type=float, required=True, help="molecules per nm^3")
    a.add_argument("--n-molecules", type=int, default=1000, help="molecules (default 1000)")
    a.add_argument("--equil-ps", type=float, default=100.0, help="equilibration, ps (default 100)")
    a.add_argument("--prod-ps", type=float, default=1000.0, help="production, ps (default 1000)")
    a.add_argument("--chunk-ps", type=float, default=100.0,
                   help="production between checkpoints and lock releases, ps (default 100)")
    a.add_argument("--dt-ps", type=float, default=0.002, help="time step, ps (default 0.002)")
    a.add_argument("--cutoff", type=float, default=1.2, help="LJ and Coulomb cutoff, nm (default 1.2)")
    a.add_argument("--xtc-ps", type=float, default=1.0, help="ps between saved frames (default 1)")
    a.add_argument("--seed", type=int, default=0, help="box and velocity seed")
    a.add_argument("--thermostat", choices=("nose-hoover", "v-rescale"), default="nose-hoover",
                   help="production thermostat (default nose-hoover, tau_T 0.2 ps; v-rescale: "
                   "tau_T 0.1 ps, for flexible all-atom molecules)")
    a.add_argument("--threads", type=int, default=1, help="OpenMP threads of mdrun (default 1)")
    a.add_argument("--lock", type=Path, default=None,
                   help="lock file held (flock) around each MD stage and chunk "
                   "(default: $DEEPILST_LOCK if set)")
    a.add_argument("--target", type=Path, default=None,
                   help="also write the COM g(r) target NAME.xvg and NAME.json into this directory")
    a.add_argument("--blocks", type=int, default=10, help="blocks for the target's errors (default 10)")
    a.add_argument("-o", "--out", type=Path, required=True, help="run directory (resumable)")
    a.add_argument("--json", dest="json_out", action="store_true", help="print the record as JSON")
    a.set_defaults(handler=_aa)

    c = sub.add_parser(
        "com-rdf", help="centre-of-mass g(r) of a trajectory (MDAnalysis), with errors",
        description="Centre-of-mass g(r) of the molecules of TRAJ (whole molecules across the "
        "periodic boundary) on the model's 0.005 nm shells, with block standard errors, as .xvg.")
    c.add_argument("trajectory", type=Path, help="trajectory (.xtc, .trr, ...), cubic NVT box")
    c.add_argument("topology", type=Path, help="topology: the run's .tpr (masses, molecules) or .gro/.pdb")
    c.add_argument("--select", default="all", help="MDAnalysis selection of whole molecules")
    c.add_argument("--blocks", type=int, default=10, help="blocks for standard errors (default 10)")
    c.add_argument("--begin", type=float, default=0.0, help="first time used, ps (default 0)")
    c.add_argument("--end", type=float, default=None, help="last time used, ps (default: the end)")
    c.add_argument("-T", "--temperature", type=float, default=None, help="temperature for the header, K")
    c.add_argument("--r-max", type=float, default=1.5, help="range, nm (default 1.5)")
    c.add_argument("-o", "--out", type=Path, required=True, help="output .xvg")
    c.add_argument("--plot", type=Path, default=None, help="also a PNG/PDF plot")
    c.add_argument("--json", dest="json_out", action="store_true", help="print the summary as JSON")
    c.set_defaults(handler=_com_rdf)


def _aa(a: argparse.Namespace) -> int:
    from deepilst.molecular.aa import AASpec, run_aa

    spec = AASpec(a.temperature, a.density, molecule=a.molecule,
                  top=str(a.top) if a.top else None, gro=str(a.gro) if a.gro else None,
                  n_molecules=a.n_molecules, equil_ps=a.equil_ps, prod_ps=a.prod_ps,
                  chunk_ps=a.chunk_ps, dt_ps=a.dt_ps, cutoff=a.cutoff, xtc_ps=a.xtc_ps, seed=a.seed,
                  thermostat=a.thermostat)
    rec = run_aa(spec, a.out, lock=a.lock, threads=a.threads, progress=not a.json_out,
                 command=command_line(), target=a.target, n_blocks=a.blocks)
    if a.json_out:
        print(json.dumps(rec, indent=1))
    else:
        print(f"{rec['molecule']}: {spec.n_molecules} molecules, T {rec['T']:.1f} +- {rec['T_sem']:.1f} K, "
              f"P {rec['P']:.0f} +- {rec['P_sem']:.0f} bar, U {rec['U']:.3f} +- {rec['U_sem']:.3f} "
              f"kJ/mol per molecule, {rec['ns_per_day']:.1f} ns/day; record {a.out / 'run.json'}")
        if "target" in rec:
            n = rec["target"]["noise"]
            print(f"target {a.target}/{rec['target']['name']}.xvg: first peak {n['g_peak']:.3f} +- "
                  f"{n['g_peak_sem']:.3f} at {n['r_peak']:.3f} nm, eps_rdf noise floor "
                  f"{100 * n['eps_rdf_floor']:.3f} %", file=sys.stderr)
    return 0


def _com_rdf(a: argparse.Namespace) -> int:
    from deepilst.molecular.comrdf import com_rdf

    res = com_rdf(a.trajectory, a.topology, a.select, a.blocks, a.begin, a.end, a.temperature,
                  a.r_max, progress=not a.json_out)
    res.write_xvg(a.out, command_line())
    if a.plot:
        from deepilst.plots import save_figure

        ax = res.plot()
        ax.figure.tight_layout()
        save_figure(ax.figure, a.plot)
    j = res.to_json()
    if a.json_out:
        print(json.dumps(j, indent=1))
    else:
        print(f"{j['n_molecules']} molecules ({j['molecules_from']}), {j['density']:.5g} nm^-3, "
              f"{j['n_frames']} frames ({j['begin']:g}-{j['end']:g} ps) in {a.blocks} blocks; first peak "
              f"g = {j['g_peak']:.3f} +- {j['g_peak_sem']:.3f} at {j['r_peak']:.3f} nm -> {a.out}")
    return 0
