"""Running ``gmx`` for all-atom runs: the command, its log, an optional machine-wide lock, and the
.mdp files of every stage (minimisation, V-rescale equilibration, Nose-Hoover production)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from deepilst.errors import EngineUnavailable, SimulationError
from deepilst.md.gromacs_engine import gmx_binary


def gmx_or_raise() -> str:
    """Path of ``gmx``; raises :class:`EngineUnavailable` when GROMACS is not installed."""
    exe = gmx_binary()
    if exe is None:
        raise EngineUnavailable("GROMACS not found: all-atom runs need 'gmx' on PATH "
                                "(apt-get install gromacs, or set DEEPILST_GMX)")
    return exe


def run_gmx(args: list[str], cwd: Path, log: str, stdin: str | None = None, threads: int = 1,
            timeout: float | None = None) -> tuple[float, float]:
    """Run ``gmx -quiet ARGS`` in ``cwd``, stdout and stderr appended to ``cwd/log``.

    Returns (wall seconds, CPU seconds of the child). Raises :class:`SimulationError` with the
    GROMACS error message when it fails.
    """
    cmd = [gmx_or_raise(), "-quiet", *args]
    env = dict(os.environ, GMX_MAXBACKUP="-1", OMP_NUM_THREADS=str(threads))
    t0 = time.perf_counter()
    c0 = os.times()
    with open(cwd / log, "a") as out:
        out.write(f"\n$ gmx {' '.join(args)}\n")
        out.flush()
        try:
            p = subprocess.run(cmd, cwd=cwd, input=stdin, stdout=out, stderr=subprocess.STDOUT,
                               text=True, env=env, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise SimulationError(f"gmx {args[0]} in {cwd} timed out after {timeout:.0f} s") from None
    c1 = os.times()
    cpu = (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system)
    if p.returncode != 0:
        text = (cwd / log).read_text().rsplit("$ gmx", 1)[-1]
        if "ERROR 1 [" in text:  # grompp: the first input error says what is wrong
            msg = text.split("ERROR 1 [", 1)[1].split("]:", 1)[-1].strip().split("\n\n")[0]
        elif "Fatal error:" in text:
            msg = text.split("Fatal error:", 1)[1].strip().split("\n\n")[0]
        else:
            msg = text.strip().splitlines()[-1]
        raise SimulationError(f"gmx {args[0]} failed in {cwd} (exit {p.returncode}): "
                              f"{' '.join(msg.split())} (log: {cwd / log})")
    return time.perf_counter() - t0, cpu


def _common(temperature: float, cutoff: float, charged: bool, include: str = "") -> str:
    coul = "PME" if charged else "Cut-off"
    inc = f"include         = {include}\n" if include else ""
    return f"""{inc}cutoff-scheme   = Verlet
pbc             = xyz
vdwtype         = Cut-off
vdw-modifier    = Potential-shift
rvdw            = {cutoff:.4f}
coulombtype     = {coul}
rcoulomb        = {cutoff:.4f}
DispCorr        = EnerPres
constraints     = h-bonds
constraint-algorithm = lincs
comm-mode       = linear
"""


def mdp_em(temperature: float, cutoff: float, charged: bool, include: str = "") -> str:
    """Steepest-descent energy minimisation."""
    return _common(temperature, cutoff, charged, include) + """integrator      = steep
nsteps          = 5000
emtol           = 500.0
emstep          = 0.002
"""


def mdp_md(temperature: float, cutoff: float, charged: bool, dt: float, nsteps: int, seed: int,
           production: bool, xtc_every: int = 0, energy_every: int = 100, include: str = "",
           thermostat: str = "nose-hoover") -> str:
    """NVT MD: equilibration with V-rescale (tau_T 0.1 ps, new velocities) or production
    (continuing from the equilibration's checkpoint) with ``thermostat``: Nose-Hoover (tau_T
    0.2 ps, the paper's) or V-rescale (tau_T 0.1 ps); positions to a compressed .xtc of
    precision 1e-4 nm every ``xtc_every`` steps."""
    if production and thermostat == "v-rescale":
        thermo = "tcoupl          = v-rescale\ntau-t           = 0.1\n"
        start = "continuation    = yes\ngen-vel         = no\n"
    elif production:
        thermo = "tcoupl          = nose-hoover\ntau-t           = 0.2\nnsttcouple      = 5\n"
        start = "continuation    = yes\ngen-vel         = no\n"
    else:
        thermo = "tcoupl          = v-rescale\ntau-t           = 0.1\n"
        start = (f"continuation    = no\ngen-vel         = yes\ngen-temp        = {temperature:.4f}\n"
                 f"gen-seed        = {int(seed) % 2**31}\n")
    nce = min(energy_every, 100)
    while energy_every % nce:
        nce -= 1
    return _common(temperature, cutoff, charged, include) + f"""integrator      = md
dt              = {dt:.6f}
nsteps          = {nsteps}
ld-seed         = {int(seed) % 2**31}
tc-grps         = System
ref-t           = {temperature:.4f}
{thermo}pcoupl          = no
{start}nstcalcenergy   = {nce}
nstenergy       = {energy_every}
nstlog          = {max(energy_every, 1000)}
nstxout         = 0
nstvout         = 0
nstfout         = 0
nstxout-compressed = {xtc_every}
compressed-x-precision = 10000
"""
