"""GROMACS backend (``gmx`` on PATH): NVT Nose-Hoover with leap-frog, plain cutoff at r_c
(``vdw-modifier = None``: forces and energies truncated, as in OpenMM), ``DispCorr = EnerPres``.
A spec with a table runs only when the table is a pure repulsion C12 r^-12 (LJ with C6 = 0, cut
at the table's end, ``DispCorr = no``); other tables need OpenMM.

Frames go to a temporary uncompressed .trr that is read and analysed *while mdrun runs* (each
frame as soon as all its bytes are on disk), so the analysis overlaps the MD on a second core.
Positions are rounded exactly as a compressed .xtc of precision 1e-4 nm stores them (bit for
bit: :func:`xtc_round`), which keeps records identical to those of the former .xtc reader.
The directory is deleted right after the run; nothing but the record is kept.
"""

from __future__ import annotations

import functools
import math
import os
import shutil
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from deepilst.errors import ParameterError
from deepilst.md.base import Engine, EngineRun, EngineUnavailable, FrameSink, SimulationError
from deepilst.md.spec import SimSpec
from deepilst.md.system import lattice_positions
from deepilst.snippets import GROMACS_NSTLIST, gromacs_repulsion_list
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
    """GROMACS topology of N LJ particles with C6/C12 given directly (comb-rule 1); for a spec
    whose table is a pure repulsion C12 r^-12, that C12 and C6 = 0."""
    m = spec.protocol.mass
    c12, c6 = spec.c12, spec.c6
    if spec.table is not None:
        c12, c6 = _repulsion_c12(spec), 0.0
    return f"""[ defaults ]
; nbfunc comb-rule gen-pairs fudgeLJ fudgeQQ
  1      1         no        1.0     1.0

[ atomtypes ]
; name mass charge ptype C6 C12
  {name}  {m:.5f}  0.0  A  {c6:.8e}  {c12:.8e}

[ moleculetype ]
  {name}  1

[ atoms ]
  1  {name}  1  {name}  {name}  1  0.0  {m:.5f}

[ system ]
deepilst LJ fluid

[ molecules ]
  {name}  {spec.protocol.n_particles}
"""


#: Precision of the positions the analysis sees: those of a GROMACS .xtc with
#: ``compressed-x-precision = 10000`` (1e-4 nm), the trajectory format deepilst used first.
XTC_PRECISION = 10000.0
_TRR_MAGIC = 1993
_POLL_S = 0.01  # seconds between looks at the growing trajectory


def xtc_round(x: np.ndarray, precision: float = XTC_PRECISION) -> np.ndarray:
    """Positions [nm] as a GROMACS .xtc of ``precision`` (1/nm) stores and returns them.

    Bit for bit what ``mdrun`` writes (``(int)(x * p +- 0.5)`` in float32) and what
    ``libxdrfile`` decodes (``int * (1/p)`` in float32); returned as float32.
    """
    xf = np.asarray(x, dtype=np.float32)
    p = np.float32(precision)
    lf = xf * p
    lf = np.where(xf >= 0, lf + np.float32(0.5), lf - np.float32(0.5))
    return np.trunc(lf).astype(np.int32).astype(np.float32) * (np.float32(1.0) / p)


def trr_layout(head: bytes) -> tuple[int, int, int, str]:
    """Layout of the frames of a .trr from its first >= 76 bytes.

    Returns (byte offset of the positions in a frame, frame size in bytes, N, numpy dtype of the
    reals: '>f4' or '>f8'). Every frame of one mdrun has the same layout (same contents).
    Raises :class:`SimulationError` for anything but a GROMACS .trr with positions.
    """
    magic, _slen, nchar = struct.unpack(">3i", head[:12])
    if magic != _TRR_MAGIC:
        raise SimulationError(f"not a .trr file (magic {magic})")
    o = 12 + (nchar + 3) // 4 * 4
    (ir, e, box, vir, pres, top, sym, x, v, f, natoms, _step, _nre) = struct.unpack(
        ">13i", head[o:o + 52])
    if natoms <= 0 or x <= 0 or x % (3 * natoms):
        raise SimulationError(f"trajectory without positions (natoms {natoms}, x_size {x})")
    real = x // (3 * natoms)
    hdr = o + 52 + 2 * real  # + time and lambda
    x_off = hdr + ir + e + box + vir + pres + top + sym
    return x_off, x_off + x + v + f, natoms, ">f4" if real == 4 else ">f8"


def _repulsion_c12(spec: SimSpec) -> float:
    c12 = spec.table.repulsion_c12
    if c12 is None:
        raise ParameterError("GROMACS runs a tabulated pair potential only when it is a pure "
                             "C12 r^-12 repulsion: use engine 'openmm'")
    return c12


def mdp(spec: SimSpec, output: bool = True) -> str:
    """The .mdp of a run: equilibration and production in one trajectory (positions every
    ``sample_every`` steps to an uncompressed .trr, energies to the .edr). A table run (pure
    C12 r^-12, cut at the table's end) has no dispersion correction, as tables have none."""
    k = spec.protocol.sample_every
    disp = "EnerPres" if spec.table is None else "no"
    if spec.table is None:
        buffer = "verlet-buffer-tolerance = 0.0005"
    else:
        # With C6 = 0 GROMACS 2022's automatic buffer is zero (the force at the cutoff is
        # nearly zero) and mdrun lengthens nstlist to 100; pairs outside the list then walk
        # into each other and an F2 run (1000 beads, seed 2035) blew up at step 100
        # (snippets.gromacs_mdp_repulsion). A fixed list every 10 steps, as the printed snippet
        # sets it, avoids that
        buffer = gromacs_repulsion_list(spec.rc, 0.4999 * spec.box_length).rstrip("\n")
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
{buffer}
pbc             = xyz
vdwtype         = cut-off
vdw-modifier    = None
rvdw            = {spec.rc:.6f}
coulombtype     = cut-off
rcoulomb        = {spec.rc:.6f}
DispCorr        = {disp}
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
nstxout         = {nout}
nstvout         = 0
nstfout         = 0
nstxout-compressed = 0
"""


@functools.cache
def _gmx_version(gmx: str) -> str:
    out = subprocess.run([gmx, "--version"], capture_output=True, text=True).stdout
    return next((ln.split(":", 1)[1].strip() for ln in out.splitlines()
                 if ln.strip().startswith("GROMACS version:")), "unknown")


def _env() -> dict[str, str]:
    return dict(os.environ, GMX_MAXBACKUP="-1", OMP_NUM_THREADS="1")


def _failure(cmd: list[str], returncode: int, stdout: str, stderr: str) -> SimulationError:
    tail = (stderr or stdout).strip().splitlines()
    msg = next((ln for ln in reversed(tail) if ln.strip() and not ln.startswith("-")), "")
    # GROMACS prints the reason in an error block; keep its first informative lines
    if "Fatal error:" in stderr:
        msg = " ".join(stderr.split("Fatal error:")[1].strip().split("\n")[:3])
    return SimulationError(f"gmx {cmd[2]} failed (exit {returncode}): {msg}")


def _run(cmd: list[str], cwd: Path, stdin: str | None = None, timeout: float = 600.0) -> str:
    try:
        p = subprocess.run(cmd, cwd=cwd, input=stdin, capture_output=True, text=True, env=_env(),
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        # a blown-up system can send mdrun's pair search into an endless loop
        raise SimulationError(f"gmx {cmd[2]} timed out after {timeout:.0f} s") from None
    if p.returncode != 0:
        raise _failure(cmd, p.returncode, p.stdout, p.stderr)
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
        """GROMACS version string (``gmx --version`` runs once per process and binary)."""
        return _gmx_version(self.gmx)

    def _prepare(self, spec: SimSpec, d: Path, output: bool = True) -> None:
        write_gro(d / "conf.gro", lattice_positions(spec.protocol.n_particles, spec.box_length,
                                                    spec.seed), spec.box_length)
        (d / "topol.top").write_text(topology(spec))
        (d / "md.mdp").write_text(mdp(spec, output))
        _run([self.gmx, "-quiet", "grompp", "-f", "md.mdp", "-c", "conf.gro", "-p", "topol.top",
              "-o", "md.tpr", "-po", "mdout.mdp", "-maxwarn", "2"], d)

    def _mdrun_cmd(self, spec: SimSpec) -> list[str]:
        cmd = [self.gmx, "-quiet", "mdrun", "-deffnm", "md", "-ntmpi", "1", "-ntomp", "1",
               "-pin", "off", "-nb", "cpu"]
        # GROMACS would lengthen the list's life for soft beads (snippets.GROMACS_NSTLIST); a
        # fixed list (a pure repulsion's) has its own nstlist, and mdrun refuses -nstlist there
        return cmd if spec.table is not None else cmd + ["-nstlist", str(GROMACS_NSTLIST)]

    @staticmethod
    def _mdrun_timeout(spec: SimSpec) -> float:
        # generous limit: 20x the time at 1e6 atom-steps/s (GROMACS does ~7e6 on one core)
        atom_steps = spec.protocol.n_particles * (spec.n_equil_steps + spec.n_prod_steps)
        return 60.0 + 20.0 * atom_steps / 1e6

    def _mdrun(self, d: Path, spec: SimSpec) -> None:
        _run(self._mdrun_cmd(spec), d, timeout=self._mdrun_timeout(spec))

    def _stream(self, d: Path, spec: SimSpec, sink: FrameSink) -> None:
        """Run mdrun in the background and feed every production frame of its growing
        ``md.trr`` to ``sink`` as soon as the frame is complete on disk (positions rounded
        by :func:`xtc_round`, float64 nm). Raises :class:`SimulationError`."""
        k = spec.protocol.sample_every
        n_frames = spec.n_prod_steps // k
        first = spec.n_equil_steps // k + 1  # frame 0 is the start configuration
        n_total = first + n_frames
        cmd = self._mdrun_cmd(spec)
        timeout = self._mdrun_timeout(spec)
        trr = d / "md.trr"
        with open(d / "mdrun.out", "w+") as out, open(d / "mdrun.err", "w+") as err:
            t0 = time.monotonic()
            proc = subprocess.Popen(cmd, cwd=d, env=_env(), stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=err)
            fh = None
            layout: tuple[int, int, int, str] | None = None
            idx = 0
            try:
                while True:
                    finished = proc.poll() is not None  # look at the file *after* this
                    if fh is None and trr.exists():
                        fh = open(trr, "rb")
                    if fh is not None:
                        size = os.fstat(fh.fileno()).st_size
                        if layout is None and size >= 128:
                            layout = trr_layout(os.pread(fh.fileno(), 128, 0))
                            if layout[2] != spec.protocol.n_particles:
                                raise SimulationError(f"trajectory has {layout[2]} atoms")
                        if layout is not None:
                            x_off, fsize, natoms, real = layout
                            while (idx + 1) * fsize <= size and idx < n_total:
                                buf = fh.read(fsize)
                                if idx >= first:
                                    x = np.frombuffer(buf, dtype=real, count=3 * natoms,
                                                      offset=x_off).reshape(natoms, 3)
                                    if not np.all(np.abs(x) < 2e9 / XTC_PRECISION):
                                        raise SimulationError(
                                            f"non-finite or runaway positions at frame {idx}")
                                    sink(xtc_round(x).astype(np.float64), idx - first)
                                idx += 1
                    if finished:
                        break
                    if time.monotonic() - t0 > timeout:
                        # a blown-up system can send mdrun's pair search into an endless loop
                        raise SimulationError(f"gmx mdrun timed out after {timeout:.0f} s")
                    time.sleep(_POLL_S)
            finally:
                if fh is not None:
                    fh.close()
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
            if proc.returncode != 0:
                out.seek(0)
                err.seek(0)
                raise _failure(cmd, proc.returncode, out.read(), err.read())
        if layout is None or idx != n_total or trr.stat().st_size != n_total * layout[1]:
            raise SimulationError(f"expected {n_frames} production frames, read {idx - first}")

    def run(self, spec: SimSpec, sink: FrameSink) -> EngineRun:
        k = spec.protocol.sample_every
        n_frames = spec.n_prod_steps // k
        with tempfile.TemporaryDirectory(prefix="deepilst-gmx-") as tmp:
            d = Path(tmp)
            self._prepare(spec, d)
            self._stream(d, spec, sink)
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
