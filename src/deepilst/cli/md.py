"""``deepilst generate`` and ``deepilst simulate``: the MD data engine."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from deepilst.cli._common import add_json_flag, add_state, command_line


def _protocol_args(p: argparse.ArgumentParser, equil: float, prod: float, n: int) -> None:
    p.add_argument("--equil-ps", type=float, default=equil, help=f"equilibration, ps (default {equil:g})")
    p.add_argument("--prod-ps", type=float, default=prod, help=f"production, ps (default {prod:g})")
    p.add_argument("--n-particles", type=int, default=n, help=f"particles (default {n})")


def add_md_commands(sub) -> None:
    g = sub.add_parser("generate", help="simulate a design of LJ state points (resumable)",
                       description="Simulate a design of LJ state points; one record per system "
                       "in OUT/systems/. Rerun the same command to resume.")
    g.add_argument("--design", required=True, help="paper | transfer | reduced | grid")
    g.add_argument("-o", "--out", type=Path, required=True, help="output directory (resumable)")
    g.add_argument("--n", type=int, default=None, help="number of systems (not for grid)")
    g.add_argument("--grid", type=Path, default=None, help="CSV with columns T,rho,C12,C6 (design grid)")
    g.add_argument("--engine", default="auto", help="auto | gromacs | openmm")
    g.add_argument("--workers", type=int, default=None, help="local processes (default: all cores)")
    g.add_argument("--scheduler", default=None, help="dask.distributed scheduler address")
    g.add_argument("--cluster-config", type=Path, default=None, help="dask-jobqueue cluster JSON")
    _protocol_args(g, 100.0, 900.0, 1000)
    g.add_argument("--sample-every", type=int, default=100, help="MD steps between analysed frames")
    g.add_argument("--dt-ps", type=float, default=None, help="time step, ps (default: 0.008 time units)")
    g.add_argument("--expand", type=int, default=50, help="reduced design: physical samples per simulation")
    g.add_argument("--weighting", default="log", help="reduced design: log (even in log T*, rho*) | "
                   "table1 (the density a uniform Table 1 box induces)")
    g.add_argument("--seed", type=int, default=0, help="design and simulation seed")
    g.add_argument("--dry-run", action="store_true", help="print the plan, run nothing")
    g.set_defaults(handler=_generate)

    s = sub.add_parser("simulate", help="simulate one LJ fluid: g(r), energy, pressure, phase")
    add_state(s)
    s.add_argument("--c12", type=float, required=True, help="C12, kJ mol^-1 nm^12")
    s.add_argument("--c6", type=float, required=True, help="C6, kJ mol^-1 nm^6")
    s.add_argument("--engine", default="auto", help="auto | gromacs | openmm")
    _protocol_args(s, 20.0, 100.0, 500)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--xvg", type=Path, default=None, help="write g(r) as .xvg")
    s.add_argument("--plot", type=Path, default=None, help="write a PNG/PDF plot of g(r)")
    add_json_flag(s)
    s.set_defaults(handler=_simulate)


def _generate(a: argparse.Namespace) -> int:
    from deepilst.md.spec import Protocol
    from deepilst.runner import generate, plan_design

    protocol = Protocol(equil_ps=a.equil_ps, prod_ps=a.prod_ps, n_particles=a.n_particles,
                        dt_ps=a.dt_ps, sample_every=a.sample_every)
    specs, eng, steps = plan_design(a.design, protocol, a.n, a.seed, a.grid, a.expand, a.weighting,
                                    a.engine, distributed=bool(a.scheduler or a.cluster_config))
    print(f"{len(specs)} systems, engine {eng}, {steps:.3g} atom-steps in total", file=sys.stderr)
    if a.dry_run:
        return 0
    res = generate(specs, a.out, workers=a.workers, scheduler=a.scheduler,
                   cluster_config=a.cluster_config, command=command_line())
    print(json.dumps(res))
    if res["failed"]:
        print(f"{res['failed']} systems failed; reasons in {a.out}/failed/", file=sys.stderr)
    return 0


def _simulate(a: argparse.Namespace) -> int:
    from tqdm import tqdm

    from deepilst.md.simulate import run_simulation
    from deepilst.md.spec import Protocol, SimSpec

    spec = SimSpec(a.temperature, a.density, a.c12, a.c6, engine=a.engine, seed=a.seed,
                   protocol=Protocol(equil_ps=a.equil_ps, prod_ps=a.prod_ps,
                                     n_particles=a.n_particles))
    with tqdm(total=spec.n_prod_steps // spec.protocol.sample_every, unit="frame",
              desc="production", file=sys.stderr, disable=a.json_out) as bar:
        res = run_simulation(spec, progress=lambda i, n: bar.update(i - bar.n))
    if a.xvg:
        res.write_xvg(a.xvg)
    if a.plot:
        from deepilst.plots import save_figure

        ax = res.plot()
        ax.figure.tight_layout()
        save_figure(ax.figure, a.plot)
    print(json.dumps(res.summary(), indent=1) if a.json_out else res.format_text())
    return 0
