"""VOTCA-CSG 2022.1 baselines as users run them: relative entropy (``re``) and the simplex
optimizer, with GROMACS 2022 as the engine (issue 12).

:func:`votca_fit` writes a VOTCA work directory (``settings.xml``, ``grompp.mdp``,
``topol.top.tmpl``, ``conf.gro``, ``index.ndx``, ``target.xvg`` and the user run script in
``scripts/``), runs ``csg_inverse --options settings.xml`` there, reads back what VOTCA did in
each step and checks the final parameters with one fresh run of our own protocol
(``CGEvaluator.run``), so that every method is scored the same way.

Two MD protocols, on purpose:

* VOTCA's iterations run what a VOTCA user runs (the recipe in ``votca_files/``): a fixed cutoff
  (``rc``, default 1.5 nm or less where the box is small) with potential-shift and dispersion
  correction, V-rescale (tau 0.1 ps), 2 fs, ``equil_ps`` + ``prod_ps`` (20 + 80 ps) per step,
  each step starting from the last one's configuration with fresh velocities.
* The validation run is our evaluation protocol (rc = 3 sigma, no shift, tail corrections,
  Nose-Hoover); eps_rdf always comes from it.

GROMACS >= 2020 has no tabulated non-bonded potentials, and VOTCA's ``run_gromacs.sh`` adds
``cutoff-scheme = Group`` to an mdp that names none; so the mdp says Verlet, and the run script
``run_gromacs_lj.sh`` writes the current C12/C6 into ``topol.top`` (from ``CG-CG.param.cur`` for
re, from the active line of ``simplex.state.cur`` for the simplex) before calling VOTCA's own
``run_gromacs.sh``. It refuses C12 <= 0 or C6 <= 0 (VOTCA stops there and we report it).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from deepilst.errors import ParameterError, SimulationError
from deepilst.fileio import held, write_json_atomic
from deepilst.fit.cgmd import CGEvaluator
from deepilst.fit.result import FitResult
from deepilst.fit.votca_io import read_history, votca_failure
from deepilst.fit.votca_setup import METHODS, VotcaOptions, check_programs, versions, write_inputs
from deepilst.units import check_positive

__all__ = ["METHODS", "VotcaOptions", "run_csg_inverse", "votca_fit"]


def run_csg_inverse(work_dir: Path, timeout_s: float, n_steps: int | None = None) -> tuple[int, str]:
    """Run ``csg_inverse --options settings.xml`` in ``work_dir`` (``--do-iterations n_steps``
    if given; a later call resumes); returns (exit status, the output's end). It runs in a session
    of its own: VOTCA's ``die`` kills its whole process group."""
    env = dict(os.environ, GMX_MAXBACKUP="-1", OMP_NUM_THREADS="1", CSG_NUM_THREADS="1")
    cmd = ["csg_inverse", "--nocolor", "--options", "settings.xml"]
    if n_steps is not None:
        cmd += ["--do-iterations", str(int(n_steps))]
    try:
        p = subprocess.run(cmd, cwd=work_dir, capture_output=True, text=True, env=env,
                           timeout=timeout_s, stdin=subprocess.DEVNULL, start_new_session=True)
    except subprocess.TimeoutExpired:
        return 124, f"csg_inverse ran past {timeout_s:.0f} s and was stopped"
    out = p.stdout + p.stderr
    with open(work_dir / "csg_inverse.out", "a") as fh:
        fh.write(out)
    return p.returncode, out[-6000:]


def steps_done(work_dir: Path) -> int:
    """VOTCA steps completed in ``work_dir`` (``step_NNN/done``, the preparation step_000 not
    counted)."""
    return sum(1 for d in work_dir.glob("step_[0-9][0-9][0-9]/done") if d.parent.name != "step_000")


def _drive(work_dir: Path, o: VotcaOptions, spent) -> tuple[int, str]:
    """csg_inverse until ``o.iterations`` steps are done, it stops or it converges, in chunks of
    ``o.chunk`` steps (``--do-iterations`` ignores ``iterations_max``, so the count is kept
    here); ``spent(seconds)`` is told the time of every call. Returns (exit status, output end)."""
    while True:
        left = o.iterations - steps_done(work_dir)
        if left <= 0 or (work_dir / "done").is_file():
            return 0, ""
        with held(o.lock_file):
            t = time.perf_counter()
            rc, tail = run_csg_inverse(work_dir, o.timeout_s,
                                       None if o.chunk is None else min(o.chunk, left))
            spent(time.perf_counter() - t)
        if rc != 0 or o.chunk is None or "Iterations are converged" in tail:
            return rc, tail


def votca_fit(ev: CGEvaluator, method: str, start: tuple[float, float], work_dir: str | Path,
              iterations: int | None = None, **opts) -> FitResult:
    """Fit (C12, C6) to ``ev.target`` with VOTCA-CSG as a user runs it, and score the answer.

    Parameters
    ----------
    ev : the evaluator (target, our CG protocol); its ``run`` makes the validation run
    method : "simplex" (VOTCA's optimizer, Nelder-Mead on sigma, epsilon) or "re" (relative
        entropy, lj126)
    start : (C12 [kJ mol^-1 nm^12], C6 [kJ mol^-1 nm^6]) to start from
    work_dir : VOTCA's directory (created; must be empty or absent unless ``resume=True``)
    iterations : csg_inverse steps (default 30 for simplex, 15 for re: the recipe's)
    **opts : fields of :class:`VotcaOptions`

    Returns
    -------
    FitResult, method "votca-simplex" / "votca-re"; md_runs = VOTCA's MD runs; wall_s from
    setup to parameters (VOTCA's time, lock waits excluded); ``final`` = our validation run. A
    VOTCA run that stops (parameters going negative, a crashed step) is reported in ``notes``
    and ``extra["status"]`` with the last physical parameters it ran, not raised.
    """
    if method not in METHODS:
        raise ParameterError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    c12, c6 = (check_positive("start C12", start[0]), check_positive("start C6", start[1]))
    if iterations is None:
        iterations = 30 if method == "simplex" else 15
    o = VotcaOptions(iterations=iterations, **opts)
    progs = check_programs()
    work_dir = Path(work_dir)
    book = work_dir / "deepilst_votca.json"
    t0 = time.perf_counter()
    if o.resume and book.is_file():
        state = json.loads(book.read_text())
    else:
        if work_dir.exists() and any(work_dir.iterdir()):
            raise ParameterError(f"work_dir {work_dir} is not empty: remove it, choose another "
                                 "or resume the run in it")
        n = int(o.n_particles or ev.protocol.n_particles)
        setup = write_inputs(work_dir, ev.target, method, (c12, c6), n, o, gmx=progs["gmx"])
        state = {"method": method, "start": [c12, c6], "setup": setup, "wall_s": 0.0}
    if state["method"] != method:
        raise ParameterError(f"work_dir {work_dir} holds a VOTCA {state['method']} run, not {method}")
    def spent(seconds: float) -> None:  # kept after every chunk: a killed job loses one at most
        state["wall_s"] += seconds
        write_json_atomic(book, state, indent=1)

    spent(time.perf_counter() - t0)
    rc, tail = _drive(work_dir, o, spent)
    hist = read_history(work_dir, method)
    wall, notes, status = state["wall_s"], [], "finished"
    if rc != 0:
        status = "stopped"
        notes.append(votca_failure(work_dir, tail, hist))
    extra = {"status": status, "votca_exit": rc, "votca_setup": state["setup"],
             "votca_versions": versions(progs)}
    if hist.best is None:
        notes += hist.notes + ["VOTCA produced no physical parameters"]
        return FitResult(f"votca-{method}", float("nan"), float("nan"), None, hist.md_runs, wall,
                         iterations=len(hist.rows), converged=False, start=(c12, c6),
                         history=hist.rows, notes=notes, extra=extra)
    notes += hist.notes
    if method == "simplex":
        notes.append("VOTCA's simplex has no stopping test: it runs iterations_max steps; the "
                     "parameters are its best evaluated vertex (lowest objective)")
    try:
        with held(o.lock_file):
            final = ev.run(*hist.best)
    except SimulationError as exc:  # VOTCA's answer is still the answer; say why it is unscored
        final = None
        notes.append(f"the validation run of VOTCA's parameters failed: {exc}")
    return FitResult(f"votca-{method}", hist.best[0], hist.best[1], final, hist.md_runs, wall,
                     iterations=len(hist.rows), converged=hist.converged, start=(c12, c6),
                     history=hist.rows, notes=notes, extra=extra)
