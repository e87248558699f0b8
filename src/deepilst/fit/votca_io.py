"""Reading back what csg_inverse did: one row per VOTCA step, from the files it leaves.

Relative entropy (``re``): each ``step_NNN/`` holds ``CG-CG.param.cur`` (the C12, C6 its MD
ran), ``CG-CG.param.new`` (csg_reupdate's Newton update) and ``CG-CG.conv`` (the change of the
potential table, VOTCA's convergence measure). The simplex optimizer: the ``active`` line of
``step_NNN/simplex.state.cur`` (sig, eps its MD ran), ``CG-CG.conv`` (the objective: the sum over
VOTCA's grid of r^2 |g_CG - g_target|) and the state the simplex moved to
(``simplex.state.new``, ``#State = ...``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

NAME = "CG-CG"


@dataclass
class VotcaHistory:
    """Steps of one csg_inverse run.

    Attributes
    ----------
    rows : one JSON-ready dict per completed (or started) step
    best : the (C12, C6) a user takes from the run, or None
    md_runs : MD runs VOTCA completed (steps with ``confout.gro``)
    converged : VOTCA's own convergence test passed (re only)
    notes : what a user should know
    """

    rows: list[dict] = field(default_factory=list)
    best: tuple[float, float] | None = None
    md_runs: int = 0
    converged: bool = False
    notes: list[str] = field(default_factory=list)


def _num(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")


def read_params(path: Path) -> tuple[float, float] | None:
    """(C12, C6) from a VOTCA lj126 parameter file (lines ``0 C12 i``, ``1 C6 i``)."""
    if not path.is_file():
        return None
    vals = {}
    for ln in path.read_text().splitlines():
        p = ln.split()
        if len(p) >= 2 and not ln.startswith(("#", "@")):
            vals[int(_num(p[0]))] = _num(p[1])
    if 0 not in vals or 1 not in vals:
        return None
    return vals[0], vals[1]


def _conv(step: Path) -> float:
    f = step / f"{NAME}.conv"
    return _num(f.read_text().strip()) if f.is_file() else float("nan")


def _physical(p: tuple[float, float] | None) -> bool:
    return p is not None and all(math.isfinite(v) and v > 0 for v in p)


def _steps(work_dir: Path) -> list[Path]:
    return sorted(p for p in work_dir.glob("step_[0-9][0-9][0-9]") if p.name != "step_000")


def _lj(sig: float, eps: float) -> tuple[float, float]:
    return 4.0 * eps * sig**12, 4.0 * eps * sig**6


def _active(state: Path) -> tuple[float, float] | None:
    if not state.is_file():
        return None
    for ln in state.read_text().splitlines():
        if ln.rstrip().endswith("active") and not ln.startswith("#"):
            p = ln.split()
            return _num(p[0]), _num(p[1])
    return None


def _state_name(state: Path) -> str:
    if not state.is_file():
        return ""
    m = re.search(r"^#State = (.*)$", state.read_text(), re.M)
    return m.group(1).strip() if m else ""


def read_history(work_dir: str | Path, method: str) -> VotcaHistory:
    """Rows of every VOTCA step in ``work_dir`` and the parameters a user takes from them:
    the simplex's best evaluated vertex; relative entropy's last update (its last physical
    parameters if the update left C12, C6 > 0)."""
    work_dir = Path(work_dir)
    h = VotcaHistory()
    steps = _steps(work_dir)
    h.md_runs = sum((s / "confout.gro").is_file() for s in steps)
    if method == "re":
        return _read_re(steps, h)
    return _read_simplex(steps, h)


def _read_re(steps: list[Path], h: VotcaHistory) -> VotcaHistory:
    last_physical = None
    for s in steps:
        cur, new = read_params(s / f"{NAME}.param.cur"), read_params(s / f"{NAME}.param.new")
        row = {"step": int(s.name[5:]), "done": (s / "done").is_file(),
               "C12": None if cur is None else cur[0], "C6": None if cur is None else cur[1],
               "C12_new": None if new is None else new[0],
               "C6_new": None if new is None else new[1], "pot_change": _conv(s)}
        if cur is not None and new is not None:
            row["dC12"], row["dC6"] = new[0] - cur[0], new[1] - cur[1]
        h.rows.append(row)
        if _physical(cur) and (s / "confout.gro").is_file():
            last_physical = cur
        if _physical(new):
            last_physical = new
        elif new is not None:
            bad = " and ".join(k for k, v in zip(("C12", "C6"), new) if not v > 0)
            h.notes.append(f"relative entropy diverged: {bad} went negative at step {row['step']} "
                           f"(C12 = {new[0]:.4g}, C6 = {new[1]:.4g}); VOTCA stopped; the "
                           "parameters reported are the last physical ones")
            break
        if (s / "stop").is_file():
            h.converged = True
    h.best = last_physical
    return h


def _read_simplex(steps: list[Path], h: VotcaHistory) -> VotcaHistory:
    best, best_conv = None, math.inf
    for s in steps:
        act = _active(s / "simplex.state.cur")
        conv = _conv(s)
        row = {"step": int(s.name[5:]), "done": (s / "done").is_file(), "sigma": None,
               "epsilon": None, "C12": None, "C6": None, "objective": conv,
               "simplex_state": _state_name(s / "simplex.state.new")}
        if act is not None:
            c12, c6 = _lj(*act)
            row.update(sigma=act[0], epsilon=act[1], C12=c12, C6=c6)
            if math.isfinite(conv) and conv < best_conv and _physical((c12, c6)):
                best, best_conv = (c12, c6), conv
        h.rows.append(row)
    h.best = best
    return h


def votca_failure(work_dir: str | Path, output: str, hist: VotcaHistory) -> str:
    """One line saying why csg_inverse stopped (its ERROR banner, else the output's end)."""
    text = output
    log = Path(work_dir) / "inverse.log"
    m = re.findall(r"ERROR:\s*(.*?)(?:For details see the logfile|Details can be found above|$)",
                   text, re.S)
    if not m and log.is_file():
        m = re.findall(r"ERROR:\s*(.*?)(?:For details see the logfile|$)", log.read_text()[-20000:],
                       re.S)
    why = " ".join(" ".join(m[-1].split("#")).split()) if m else " ".join(output.split()[-40:])
    done = sum(r.get("done", False) for r in hist.rows)
    return f"csg_inverse stopped after {done} complete step(s): {why[:400]}"
