"""Setting up a VOTCA-CSG 2022.1 run as a user would: settings.xml, the mdp, the topology
template, a start configuration, the index, the target on VOTCA's grid and the user run script
(templates in ``votca_files/``, filled in here)."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from deepilst.errors import EngineUnavailable, ParameterError
from deepilst.fileio import write_text_atomic
from deepilst.fit.target import Target
from deepilst.md.gromacs_engine import gmx_binary, write_gro
from deepilst.md.system import lattice_positions
from deepilst.rdf import centered_edges, rebin
from deepilst.units import check_positive, sigma_epsilon

METHODS = ("simplex", "re")
#: Boltzmann constant VOTCA's run_gromacs.sh checks kBT against (``0.00831451 * ref_t``).
VOTCA_KB = 0.00831451
#: The fix printed when a program is missing.
APT_FIX = "apt-get install votca gnuplot-nox gromacs"
NAME = "CG-CG"


@dataclass(frozen=True)
class VotcaOptions:
    """How the VOTCA run is set up (times in ps, lengths in nm).

    Attributes
    ----------
    iterations : csg_inverse steps (``iterations_max``; each is one MD run)
    prod_ps, equil_ps : per step, production analysed and equilibration discarded (equi_time)
    dt_ps : time step
    rc : the users' fixed cutoff (potential-shift), also VOTCA's ``<max>``; clipped to the box
    step : VOTCA's grid (``<step>``) for the RDF and potentials
    frame_ps : trajectory frames (.xtc) for VOTCA's analysis
    n_particles : beads (default: the evaluator's)
    scale : relative entropy's step factor (VOTCA ``<scale>``; the recipe's 0.5)
    limit : relative entropy's convergence limit (default check, potential change, norm 2)
    simplex_delta : relative sizes of the initial simplex in (sigma, epsilon)
    seed : velocities of every step (gen-seed) and the lattice of conf.gro
    timeout_s : wall-clock limit of one csg_inverse call, s
    chunk : steps per csg_inverse call (``--do-iterations``; None: all in one call)
    lock_file : a file held with flock around each call and the validation run, so that jobs
        sharing a machine take turns (time spent waiting for it is not in ``wall_s``)
    resume : continue a VOTCA run already set up in ``work_dir`` (csg_inverse resumes itself)
    """

    iterations: int = 30
    prod_ps: float = 80.0
    equil_ps: float = 20.0
    dt_ps: float = 0.002
    rc: float = 1.5
    step: float = 0.01
    frame_ps: float = 0.5
    n_particles: int | None = None
    scale: float = 0.5
    limit: float = 1e-4
    simplex_delta: tuple[float, float] = (0.05, 0.2)
    seed: int = 1
    timeout_s: float = 24 * 3600.0
    chunk: int | None = None
    lock_file: str | None = None
    resume: bool = False

    def __post_init__(self) -> None:
        if int(self.iterations) != self.iterations or self.iterations < 1:
            raise ParameterError(f"iterations must be a positive integer, got {self.iterations}")
        for k in ("prod_ps", "dt_ps", "rc", "step", "frame_ps", "scale", "limit", "timeout_s"):
            check_positive(k, getattr(self, k))
        if not math.isfinite(self.equil_ps) or self.equil_ps < 0:
            raise ParameterError(f"equil_ps must be >= 0, got {self.equil_ps}")
        if self.chunk is not None and (int(self.chunk) != self.chunk or self.chunk < 1):
            raise ParameterError(f"chunk must be a positive integer or None, got {self.chunk}")


def check_programs() -> dict[str, str]:
    """Paths of csg_inverse, gnuplot and gmx; :class:`EngineUnavailable` naming the fix."""
    found = {"csg_inverse": shutil.which("csg_inverse"), "gnuplot": shutil.which("gnuplot"),
             "gmx": gmx_binary()}
    missing = [k for k, v in found.items() if v is None]
    if missing:
        raise EngineUnavailable(f"VOTCA baseline needs {', '.join(missing)} on PATH: {APT_FIX} "
                                "(Debian/Ubuntu; VOTCA-CSG 2022.1)")
    return found  # type: ignore[return-value]


def votca_grid(target: Target, box: float, o: VotcaOptions) -> tuple[float, float, float]:
    """VOTCA's (min, max, step) in nm: from a little below the first r where the target is
    non-zero, to the users' cutoff (at most the target's range and half the box less 0.1 nm)."""
    step = o.step
    hi = min(o.rc, target.r_max, 0.5 * box - 0.1)
    hi = math.floor(hi / step + 1e-9) * step
    ok = np.isfinite(target.g) & (target.g > 1e-3)
    first = float(target.r[np.flatnonzero(ok)[0]])
    lo = max(step, math.floor((first - 0.05) / step + 1e-9) * step)
    if hi - lo < 10 * step:
        raise ParameterError(f"{target.name}: VOTCA grid {lo:.3f}-{hi:.3f} nm is too short: use "
                             "more beads (a bigger box) or a target reaching further")
    return round(lo, 10), round(hi, 10), step


def target_on_grid(target: Target, lo: float, hi: float, step: float) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """The target on VOTCA's grid: each point the shell average over [r - step/2, r + step/2]
    (VOTCA's histogram bins are centred on its grid points), pair counts conserved."""
    n = int(round((hi - lo) / step)) + 1
    r = lo + step * np.arange(n)
    g0 = np.where(np.isfinite(target.g), target.g, 1.0)
    g, _ = rebin(centered_edges(target.r), g0, centered_edges(r))
    return r, np.maximum(np.nan_to_num(g, nan=1.0), 0.0)


def _template(name: str) -> str:
    return resources.files("deepilst.fit").joinpath("votca_files", name).read_text()


def _fill(text: str, values: dict[str, object]) -> str:
    for k, v in values.items():
        text = text.replace(f"@{k}@", str(v))
    return text


def write_inputs(work_dir: Path, target: Target, method: str, start: tuple[float, float],
                 n_particles: int, o: VotcaOptions, gmx: str = "gmx") -> dict:
    """Write the files of a VOTCA run into ``work_dir`` (created); returns the setup used."""
    work_dir.mkdir(parents=True, exist_ok=True)
    scripts = work_dir / "scripts"
    scripts.mkdir(exist_ok=True)
    box = (n_particles / target.density) ** (1.0 / 3.0)
    lo, hi, step = votca_grid(target, box, o)
    r, g = target_on_grid(target, lo, hi, step)
    lines = [f"# target g(r) of {target.name} on VOTCA's grid (shell averages), r in nm",
             f"# T = {target.temperature:g} K, rho = {target.density:g} nm^-3"]
    lines += [f"{x:.4f} {y:.6f} i" for x, y in zip(r, g)]
    write_text_atomic(work_dir / "target.xvg", "\n".join(lines) + "\n")
    kbt = VOTCA_KB * target.temperature
    nsteps = int(round((o.equil_ps + o.prod_ps) / o.dt_ps))
    nstxtc = max(1, int(round(o.frame_ps / o.dt_ps)))
    values = {"MIN": f"{lo:.4f}", "MAX": f"{hi:.4f}", "STEP": f"{step:g}", "KBT": f"{kbt:.8f}",
              "EQUI": f"{o.equil_ps:g}", "TABLE_END": f"{hi + 0.5 + 2 * step:.4f}",
              "GMX": gmx, "ITERATIONS": o.iterations, "SCALE": f"{o.scale:g}",
              "LIMIT": f"{o.limit:g}", "SCRIPTS": str(scripts.resolve()),
              "DT": f"{o.dt_ps:g}", "NSTEPS": nsteps, "NSTXTC": nstxtc, "RC": f"{hi:.4f}",
              "T": f"{target.temperature:.6f}", "SEED": int(o.seed) % 2**31}
    settings = "settings_re.xml" if method == "re" else "settings_simplex.xml"
    write_text_atomic(work_dir / "settings.xml", _fill(_template(settings), values))
    write_text_atomic(work_dir / "grompp.mdp", _fill(_template("grompp.mdp"), values))
    for f in ("run_gromacs_lj.sh", "csg_table"):
        (scripts / f).write_text(_template(f))
    (scripts / "run_gromacs_lj.sh").chmod(0o755)
    write_text_atomic(work_dir / "topol.top.tmpl", _topology(target.mass, n_particles))
    pos = lattice_positions(n_particles, box, seed=o.seed)
    write_gro(work_dir / "conf.gro", pos, box, name="CG")
    idx = ["[ System ]"] + [" ".join(str(i) for i in range(j + 1, min(j + 15, n_particles) + 1))
                            for j in range(0, n_particles, 15)]
    write_text_atomic(work_dir / "index.ndx", "\n".join(idx) + "\n")
    c12, c6 = start
    if method == "re":
        write_text_atomic(work_dir / f"{NAME}.param.init", f"0 {c12:.8e} i\n1 {c6:.8e} i\n")
    else:
        s, e = sigma_epsilon(c12, c6)
        ds, de = o.simplex_delta
        rows = [(s, e), (s * (1 + ds), e), (s, e * (1 + de))]
        write_text_atomic(work_dir / f"{NAME}.simplex.in",
                          "".join(f"{a:.6f} {b:.6f}\n" for a, b in rows))
        write_text_atomic(work_dir / "function_rdf_weight.in", _template("function_rdf_weight.in"))
    write_text_atomic(work_dir / "run.sh", "#!/bin/bash\n# what a user types (VOTCA-CSG 2022.1)\n"
                      "csg_inverse --options settings.xml\n")
    (work_dir / "run.sh").chmod(0o755)
    return {"min": lo, "max": hi, "step": step, "rc": hi, "kBT": kbt, "box": box,
            "n_particles": n_particles, "nsteps": nsteps, "dt_ps": o.dt_ps,
            "equil_ps": o.equil_ps, "prod_ps": o.prod_ps, "frame_ps": nstxtc * o.dt_ps,
            "thermostat": "V-rescale, tau_t 0.1 ps", "vdw": f"cut-off {hi:.3f} nm, "
            "potential-shift, DispCorr EnerPres"}


def _topology(mass: float, n: int) -> str:
    return f"""; one LJ bead per molecule; @C12@/@C6@ are filled in by scripts/run_gromacs_lj.sh
[ defaults ]
; nbfunc comb-rule gen-pairs fudgeLJ fudgeQQ
  1      1         no        1.0     1.0

[ atomtypes ]
; name mass charge ptype C6 C12
  CG  {mass:.5f}  0.0  A  @C6@  @C12@

[ moleculetype ]
  CG  1

[ atoms ]
  1  CG  1  CG  CG  1  0.0  {mass:.5f}

[ system ]
single-bead CG model (VOTCA baseline)

[ molecules ]
  CG  {n}
"""


def versions(progs: dict[str, str]) -> dict[str, str]:
    """Versions of csg_inverse and GROMACS (first line of their version output)."""
    out = {}
    for k, cmd, pat in (("votca", [progs["csg_inverse"], "--help"], r"version (\S+)"),
                        ("gromacs", [progs["gmx"], "-version"], r"GROMACS version:\s*(\S+)")):
        try:
            text = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
        except (OSError, subprocess.TimeoutExpired):
            text = ""
        m = re.search(pat, text)
        out[k] = m.group(1).strip(", ") if m else "unknown"
    return out
