"""GROMACS backend (``gmx`` on PATH): NVT Nose-Hoover with leap-frog, plain cutoff at r_c
(``vdw-modifier = None``: forces and energies truncated, as in OpenMM), ``DispCorr = EnerPres``.

Frames go to a temporary compressed trajectory (0.1 pm precision) that is read, analysed
and deleted with its directory right after the run; nothing but the record is kept.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from deepilst.md.base import Engine, EngineRun, EngineUnavailable, FrameSink, SimulationError
from deepilst.md.spec import SimSpec
from deepilst.md.system import lattice_positions
from deepilst.xvg import read_xvg


def gmx_binary() -> str | None:
    """Path of the GROMACS driver (``$DEEPILST_GMX`` or ``gmx`` on PATH), or None."""
    exe = os.environ.get("DEEPILST_GMX", "gmx")
    return shutil.which(exe)


def write_gro(path: Path, pos: np.ndarray, box: float, name: str = "LJ") -> None:
    """Write a .gro file (nm) with one-atom molecules."""
    lines = ["deepilst LJ fluid", f"{len(pos):5d}"]
    for i, (x, y, z) in enumerate(pos):
        n = (i + 1) % 100000
        lines.append(f"{n:5d}{name:<5s}{name:>5s}{n:5d}{x:8.3f}{y:8.3f}{z:8.3f}")
    lines.append(f"{box:10.5f}{box:10.5f}{box:10.5f}")
    path.write_text("\n".join(lines) + "\n")


def topology(spec: SimSpec, name: str = "LJ") -> str:
    """GROMACS topology of N LJ particles with C6/C12 given directly (comb-rule 1)."""
    m = spec.protocol.mass
    return f"""[ defaults ]
; nbfunc comb-rule gen-pairs fudgeLJ fudgeQQ
  1      1         no        1.0     1.0

[ atomtypes ]
; name mass charge ptype C6 C12
  {name}  {m:.5f}  0.0  A  {spec.c6:.8e}  {spec.c12:.8e}

[ moleculetype ]
  {name}  1

[ atoms ]
  1  {name}  1  {name}  {name}  1  0.0  {m:.5f}

[ system ]
deepilst LJ fluid

[ molecules ]
  {name}  {spec.protocol.n_particles}
"""


def mdp(spec: SimSpec, output: bool = True) -> str:
    """The .mdp of a run: equilibration and production in one trajectory."""
    k = spec.protocol.sample_every
    nout = k if output else 0
    # Nose-Hoover is applied every step: with nsttcouple = 10 and dt = 5 fs (50 fs against
    # tau_t = 0.2 ps) argon blew up within 2 ps in our tests; nsttcouple = 1 is stable.
    # The pair-list buffer is 10x tighter than GROMACS' default (0.005 kJ/mol/ps): with the
    # default, dilute argon (290 K, 8 nm^-3) blew up at dt = 7.5 fs; it costs ~7 % speed.
    nce = math.gcd(100, k)
    return f"""integrator      = md
dt              = {spec.dt:.8f}
nsteps          = {spec.n_equil_steps + spec.n_prod_steps}
comm-mode       = linear
nstcomm         = 100
cutoff-scheme   = Verlet
verlet-buffer-tolerance = 0.0005
pbc             = xyz
vdwtype         = cut-off
vdw-modifier    = None
rvdw            = {spec.rc:.6f}
coulombtype     = cut-off
rcoulomb        = {spec.rc:.6f}
DispCorr        = EnerPres
tcoupl          = nose-hoover
tc-grps         = System
tau-t           = {spec.protocol.tau_t}
ref-t           = {spec.temperature:.6f}
pcoupl          = no
gen-vel         = yes
gen-temp        = {spec.temperature:.6f}
gen-seed        = {int(spec.seed) % 2**31}
constraints     = none
nsttcouple      = 1
nstcalcenergy   = {nce}
nstenergy       = {nout}
nstlog          = 0
nstxout         = 0
nstvout         = 0
nstfout         = 0
nstxout-compressed = {nout}
compressed-x-precision = 10000
"""


def _run(cmd: list[str], cwd: Path, stdin: str | None = None, timeout: float = 600.0) -> str:
    env = dict(os.environ, GMX_MAXBACKUP="-1", OMP_NUM_THREADS="1")
    try:
        p = subprocess.run(cmd, cwd=cwd, input=stdin, capture_output=True, text=True, env=env,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        # a blown-up system can send mdrun's pair search into an endless loop
        raise SimulationError(f"gmx {cmd[2]} timed out after {timeout:.0f} s") from None
    if p.returncode != 0:
        tail = (p.stderr or p.stdout).strip().splitlines()
        msg = next((ln for ln in reversed(tail) if ln.strip() and not ln.startswith("-")), "")
        # GROMACS prints the reason in an error block; keep its first informative lines
        err = p.stderr
        if "Fatal error:" in err:
            msg = " ".join(err.split("Fatal error:")[1].strip().split("\n")[:3])
        raise SimulationError(f"gmx {cmd[2]} failed (exit {p.returncode}): {msg}")
    return p.stdout + p.stderr


class GromacsEngine(Engine):
    name = "gromacs"

    def __init__(self, gmx: str | None = None) -> None:
        self.gmx = gmx or gmx_binary()
        if self.gmx is None:
            raise EngineUnavailable(
                "GROMACS not found: no 'gmx' on PATH (apt-get install gromacs, or set DEEPILST_GMX)"
            )

    @staticmethod
    def available() -> bool:
        return gmx_binary() is not None

    def version(self) -> str:
        out = subprocess.run([self.gmx, "--version"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.strip().startswith("GROMACS version:"):
                return line.split(":", 1)[1].strip()
        return "unknown"

    def _prepare(self, spec: SimSpec, d: Path, output: bool = True) -> None:
        write_gro(d / "conf.gro", lattice_positions(spec.protocol.n_particles, spec.box_length,
                                                    spec.seed), spec.box_length)
        (d / "topol.top").write_text(topology(spec))
        (d / "md.mdp").write_text(mdp(spec, output))
        _run([self.gmx, "-quiet", "grompp", "-f", "md.mdp", "-c", "conf.gro", "-p", "topol.top",
              "-o", "md.tpr", "-po", "mdout.mdp", "-maxwarn", "2"], d)

    def _mdrun(self, d: Path, spec: SimSpec) -> None:
        # generous limit: 20x the time at 1e6 atom-steps/s (GROMACS does ~7e6 on one core)
        atom_steps = spec.protocol.n_particles * (spec.n_equil_steps + spec.n_prod_steps)
        _run([self.gmx, "-quiet", "mdrun", "-deffnm", "md", "-ntmpi", "1", "-ntomp", "1",
              "-pin", "off", "-nb", "cpu"], d, timeout=60.0 + 20.0 * atom_steps / 1e6)

    def run(self, spec: SimSpec, sink: FrameSink) -> EngineRun:
        from MDAnalysis.lib.formats.libmdaxdr import XTCFile

        k = spec.protocol.sample_every
        n_frames = spec.n_prod_steps // k
        first = spec.n_equil_steps // k + 1  # frame 0 is the start configuration
        with tempfile.TemporaryDirectory(prefix="deepilst-gmx-") as tmp:
            d = Path(tmp)
            self._prepare(spec, d)
            self._mdrun(d, spec)
            got = 0
            with XTCFile(str(d / "md.xtc")) as xtc:
                for idx, fr in enumerate(xtc):
                    if idx < first:
                        continue
                    pos = np.asarray(fr.x, dtype=np.float64)
                    if not np.all(np.isfinite(pos)):
                        raise SimulationError(f"non-finite positions at frame {idx}")
                    sink(pos, got)
                    got += 1
            if got != n_frames:
                raise SimulationError(f"expected {n_frames} production frames, read {got}")
            b = spec.n_equil_steps * spec.dt + 0.5 * k * spec.dt
            _run([self.gmx, "-quiet", "energy", "-f", "md.edr", "-o", "energy.xvg",
                  "-b", f"{b:.6f}"], d, stdin="Potential\nPressure\nTemperature\n\n")
            data, legends = read_xvg(d / "energy.xvg")
        col = {name: i + 1 for i, name in enumerate(legends)}
        try:
            pot = data[:, col["Potential"]]
            pres = data[:, col["Pressure"]]
            temp = data[:, col["Temperature"]]
        except KeyError as exc:
            raise SimulationError(f"gmx energy did not report {exc}") from exc
        if len(pot) != n_frames or not np.all(np.isfinite(pot)):
            raise SimulationError(f"energy file has {len(pot)} finite frames, expected {n_frames}")
        return EngineRun(pot, temp, pres, "CPU", self.version())

    def run_bare(self, spec: SimSpec) -> float:
        with tempfile.TemporaryDirectory(prefix="deepilst-gmx-") as tmp:
            d = Path(tmp)
            t0 = time.perf_counter()
            self._prepare(spec, d, output=False)
            self._mdrun(d, spec)
            return time.perf_counter() - t0
