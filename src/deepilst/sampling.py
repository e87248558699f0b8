"""Designs of state points (T [K], rho [nm^-3], C12, C6) for dataset generation.

* ``paper``: uniform over the paper's Table 1 box (C6 range: ours, see NOTES/README).
* ``transfer``: the paper's transferability set, T in [200, 500] K and rho in [1.96, 20.49]
  nm^-3 with (T, rho) outside the Table 1 box; C12, C6 uniform over Table 1.
* ``reduced``: space-filling (scrambled Sobol) over the region of (log T*, rho*) that the
  Table 1 box maps onto; each point is simulated once at a physical state inside the box and
  expanded by corresponding states into ``expand`` physical samples (dataset layer).
* ``grid``: explicit states from a CSV file with columns T,rho,C12,C6.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepilst.errors import ParameterError
from deepilst.units import KB, check_positive

TABLE1 = {"T": (290.0, 400.0), "rho": (8.0, 19.4), "C12": (5.0e-6, 1.0e-4), "C6": (2.0e-3, 1.5e-2)}
TRANSFER = {"T": (200.0, 500.0), "rho": (1.96, 20.49)}
DESIGNS = ("paper", "transfer", "reduced", "grid")


@dataclass(frozen=True)
class StatePoint:
    temperature: float
    density: float
    c12: float
    c6: float
    tags: tuple[tuple[str, str], ...] = ()


def in_table1(t, rho, c12, c6) -> np.ndarray:
    """Boolean mask: inside the Table 1 box (all four ranges, inclusive)."""
    m = np.ones(np.broadcast(t, rho, c12, c6).shape, dtype=bool)
    for v, key in ((t, "T"), (rho, "rho"), (c12, "C12"), (c6, "C6")):
        lo, hi = TABLE1[key]
        m &= (np.asarray(v) >= lo) & (np.asarray(v) <= hi)
    return m


def paper_design(n: int, seed: int = 0) -> list[StatePoint]:
    """``n`` states uniform over Table 1."""
    rng = np.random.default_rng(seed)
    cols = [rng.uniform(*TABLE1[k], size=n) for k in ("T", "rho", "C12", "C6")]
    return [StatePoint(*map(float, v), (("design", "paper"), ("index", str(i))))
            for i, v in enumerate(zip(*cols))]


def transfer_design(n: int, seed: int = 0) -> list[StatePoint]:
    """``n`` states of the transferability set: (T, rho) outside the Table 1 box."""
    rng = np.random.default_rng(seed)
    out: list[StatePoint] = []
    while len(out) < n:
        t = rng.uniform(*TRANSFER["T"])
        rho = rng.uniform(*TRANSFER["rho"])
        inside = TABLE1["T"][0] <= t <= TABLE1["T"][1] and TABLE1["rho"][0] <= rho <= TABLE1["rho"][1]
        if inside:
            continue
        c12 = rng.uniform(*TABLE1["C12"])
        c6 = rng.uniform(*TABLE1["C6"])
        out.append(StatePoint(t, rho, c12, c6, (("design", "transfer"), ("index", str(len(out))))))
    return out


def physical_candidates(t_reduced: float, rho_reduced: float, k: int, rng: np.random.Generator,
                        tries: int = 4096) -> np.ndarray:
    """Up to ``k`` physical states (rows T, rho, C12, C6) inside Table 1 with the given reduced
    state, drawn uniformly in (T, rho) and kept when C12 and C6 fall inside their ranges."""
    t = rng.uniform(*TABLE1["T"], size=tries)
    rho = rng.uniform(*TABLE1["rho"], size=tries)
    eps = KB * t / t_reduced
    sigma = (rho_reduced / rho) ** (1.0 / 3.0)
    c12 = 4 * eps * sigma**12
    c6 = 4 * eps * sigma**6
    ok = in_table1(t, rho, c12, c6)
    return np.column_stack([t, rho, c12, c6])[ok][:k]


def reduced_bounds() -> tuple[tuple[float, float], tuple[float, float]]:
    """Bounding box of the Table 1 image: (T* range, rho* range)."""
    eps_lo = TABLE1["C6"][0] ** 2 / (4 * TABLE1["C12"][1])
    eps_hi = TABLE1["C6"][1] ** 2 / (4 * TABLE1["C12"][0])
    sig_lo = (TABLE1["C12"][0] / TABLE1["C6"][1]) ** (1 / 6)
    sig_hi = (TABLE1["C12"][1] / TABLE1["C6"][0]) ** (1 / 6)
    ts = (KB * TABLE1["T"][0] / eps_hi, KB * TABLE1["T"][1] / eps_lo)
    rs = (TABLE1["rho"][0] * sig_lo**3, TABLE1["rho"][1] * sig_hi**3)
    return ts, rs


def reduced_design(n: int, seed: int = 0, expand: int = 50, weighting: str = "log") -> list[StatePoint]:
    """``n`` reduced states, each simulated at one physical state inside Table 1 and tagged
    with ``expand``, the number of physical samples the dataset layer derives from it.

    ``weighting``: ``log`` (scrambled Sobol in (log T*, rho*) over the image of the Table 1 box,
    kept when the box holds a physical state with that (T*, rho*)): even coverage of the reduced
    domain; ``table1``: reduced states with the density the uniform Table 1 box induces (drawn
    as uniform physical states), which puts the samples where a uniform physical test set lies.
    """
    if weighting == "table1":
        rng = np.random.default_rng(seed)
        out = []
        for i in range(n):
            t, rho, c12, c6 = (float(rng.uniform(*TABLE1[k])) for k in ("T", "rho", "C12", "C6"))
            eps = c6**2 / (4 * c12)
            sig = (c12 / c6) ** (1 / 6)
            tags = (("design", "reduced"), ("expand", str(int(expand))), ("index", str(i)),
                    ("rho_star", f"{rho * sig**3:.9g}"), ("T_star", f"{KB * t / eps:.9g}"),
                    ("weighting", "table1"))
            out.append(StatePoint(t, rho, c12, c6, tags))
        return out
    if weighting != "log":
        raise ParameterError(f"unknown weighting {weighting!r}; expected 'log' or 'table1'")
    from scipy.stats import qmc

    (t0, t1), (r0, r1) = reduced_bounds()
    sob = qmc.Sobol(d=2, scramble=True, seed=seed)
    rng = np.random.default_rng(seed + 1)
    out: list[StatePoint] = []
    while len(out) < n:
        u = sob.random(256)
        for a, b in u:
            ts = math.exp(math.log(t0) + a * (math.log(t1) - math.log(t0)))
            rs = r0 + b * (r1 - r0)
            cand = physical_candidates(ts, rs, 1, rng)
            if len(cand) == 0:
                continue
            t, rho, c12, c6 = map(float, cand[0])
            tags = (("design", "reduced"), ("expand", str(int(expand))), ("index", str(len(out))),
                    ("rho_star", f"{rs:.9g}"), ("T_star", f"{ts:.9g}"))
            out.append(StatePoint(t, rho, c12, c6, tags))
            if len(out) == n:
                break
    return out


def grid_design(path: str | Path) -> list[StatePoint]:
    """States from a CSV file with a header naming columns T, rho, C12, C6."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise ParameterError(f"grid file {p}: cannot read ({exc.strerror or exc})") from None
    rows = list(csv.DictReader(text.splitlines()))
    need = {"T", "rho", "C12", "C6"}
    if not rows or not need <= set(rows[0].keys() or []):
        raise ParameterError(f"grid file {p}: expected a CSV header with columns T,rho,C12,C6")
    out = []
    for i, row in enumerate(rows, start=2):
        try:
            vals = [check_positive(k, row[k]) for k in ("T", "rho", "C12", "C6")]
        except ParameterError as exc:
            raise ParameterError(f"grid file {p}, line {i}: {exc}") from None
        out.append(StatePoint(*vals, (("design", "grid"), ("index", str(i - 2)))))
    return out


def make_design(name: str, n: int | None = None, seed: int = 0, grid: str | Path | None = None,
                expand: int = 50, weighting: str = "log") -> list[StatePoint]:
    """Dispatch to a design by name (see module docstring)."""
    if name not in DESIGNS:
        raise ParameterError(f"unknown design {name!r}; expected one of {', '.join(DESIGNS)}")
    if name == "grid":
        if grid is None:
            raise ParameterError("design grid needs a grid file (CSV with columns T,rho,C12,C6)")
        return grid_design(grid)
    if n is None or int(n) < 1:
        raise ParameterError(f"n (number of systems) must be a positive integer, got {n}")
    if name == "paper":
        return paper_design(int(n), seed)
    if name == "transfer":
        return transfer_design(int(n), seed)
    return reduced_design(int(n), seed, expand, weighting)
