"""Phase label of a simulated LJ system: homogeneous fluid, two-phase, or solid.

Two order parameters, both cheap and both computed on frames of the production run:

* crystallinity: the fraction of solid-like particles of ten Wolde, Ruiz-Montero & Frenkel
  (normalised local q6 vectors; a bond is "crystalline" when q6(i).q6(j) > 0.7 and a particle
  is solid-like with >= 7 such bonds). Neighbours are particles closer than 1.45 rho^(-1/3),
  which holds the first shell of fcc/hcp and both first shells of bcc.
* inhomogeneity: the index of dispersion (variance / mean) of particle counts in cubic
  sub-cells holding ~8 particles on average. A homogeneous fluid gives <= ~1 (an ideal gas
  exactly 1, a dense liquid much less); a liquid slab in coexistence with its vapour gives
  several times more.

Rules (ours, documented in the README): solid if the mean solid-like fraction > 0.5; else
two-phase if the dispersion index > 3; else fluid.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

SOLID_FRACTION_THRESHOLD = 0.5
DISPERSION_THRESHOLD = 3.0
LABELS = ("fluid", "two-phase", "solid")


@functools.cache
def _scipy():
    """(cKDTree, sph_harm_y), imported on first use: scipy.special alone costs ~0.3 s of a fresh
    worker, which :class:`PhaseDetector` pays on its first frame, i.e. while the MD engine runs."""
    from scipy.spatial import cKDTree
    from scipy.special import sph_harm_y

    return cKDTree, sph_harm_y


def _neighbour_pairs(pos: np.ndarray, box: float, rcut: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    kdtree = _scipy()[0]
    p = np.mod(pos, box)
    tree = kdtree(p, boxsize=box)
    pairs = tree.query_pairs(rcut, output_type="ndarray")
    d = p[pairs[:, 1]] - p[pairs[:, 0]]
    d -= box * np.rint(d / box)
    return pairs[:, 0], pairs[:, 1], d


def solid_fraction(pos: np.ndarray, box: float, rcut: float | None = None) -> float:
    """Fraction of solid-like particles (ten Wolde q6 criterion) in one frame (positions nm)."""
    n = len(pos)
    if rcut is None:
        rcut = 1.45 * (box**3 / n) ** (1.0 / 3.0)
    i, j, d = _neighbour_pairs(pos, box, rcut)
    if len(i) == 0:
        return 0.0
    r = np.linalg.norm(d, axis=1)
    theta = np.arccos(np.clip(d[:, 2] / r, -1, 1))
    phi = np.arctan2(d[:, 1], d[:, 0])
    m = np.arange(-6, 7)
    y = _scipy()[1](6, m[:, None], theta[None, :], phi[None, :])  # (13, n_bonds)
    q = np.zeros((13, n), dtype=complex)
    nb = np.bincount(i, minlength=n) + np.bincount(j, minlength=n)
    np.add.at(q.T, i, y.T)
    # Y_lm(-r) = (-1)^l Y_lm(r) = Y_lm(r) for l = 6
    np.add.at(q.T, j, y.T)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = q / np.maximum(nb, 1)
        norm = np.sqrt(np.sum(np.abs(q) ** 2, axis=0))
        qh = q / np.where(norm > 0, norm, 1)
    dots = np.real(np.sum(qh[:, i] * np.conj(qh[:, j]), axis=0))
    bonds = dots > 0.7
    nconn = np.bincount(i[bonds], minlength=n) + np.bincount(j[bonds], minlength=n)
    return float(np.mean(nconn >= 7))


def dispersion_index(pos: np.ndarray, box: float, per_cell: float = 8.0) -> float:
    """Variance/mean of counts in cubic sub-cells of ~``per_cell`` particles (positions nm)."""
    n = len(pos)
    m = max(2, int(round((n / per_cell) ** (1.0 / 3.0))))
    idx = np.floor(np.mod(pos, box) / box * m).astype(int) % m
    counts = np.bincount((idx[:, 0] * m + idx[:, 1]) * m + idx[:, 2], minlength=m**3)
    mean = counts.mean()
    return float(counts.var() / mean) if mean > 0 else math.nan


@dataclass
class PhaseResult:
    label: str
    solid_fraction: float
    dispersion_index: float

    def to_dict(self) -> dict:
        return {"label": self.label, "solid_fraction": self.solid_fraction,
                "dispersion_index": self.dispersion_index}


class PhaseDetector:
    """Accumulate order parameters over frames and label the phase.

    ``PhaseDetector().compute(frames, box)`` returns self; read ``label``, ``solid_fraction``
    and ``dispersion_index`` afterwards.
    """

    def __init__(self, max_q6_frames: int = 2) -> None:
        self.max_q6_frames = max_q6_frames
        self._solid: list[float] = []
        self._disp: list[float] = []

    def add_frame(self, pos: np.ndarray, box: float, q6: bool = True) -> None:
        """Add one frame (positions nm, box edge nm); ``q6`` also computes its solid fraction."""
        _scipy()  # load scipy now (during the MD run), not at the last frames' q6
        self._disp.append(dispersion_index(pos, box))
        if q6:
            self._solid.append(solid_fraction(pos, box))

    def compute(self, frames: np.ndarray, box: float) -> PhaseDetector:
        frames = np.asarray(frames, dtype=float)
        if frames.ndim == 2:
            frames = frames[None]
        q6_from = max(0, len(frames) - self.max_q6_frames)
        for k, f in enumerate(frames):
            self.add_frame(f, box, q6=k >= q6_from)
        return self

    def _need(self) -> None:
        if not self._disp:
            raise AttributeError("call compute() or add_frame() before reading results")

    @property
    def solid_fraction(self) -> float:
        self._need()
        return float(np.mean(self._solid)) if self._solid else math.nan

    @property
    def dispersion_index(self) -> float:
        self._need()
        return float(np.mean(self._disp))

    @property
    def label(self) -> str:
        s = self.solid_fraction
        if math.isfinite(s) and s > SOLID_FRACTION_THRESHOLD:
            return "solid"
        if self.dispersion_index > DISPERSION_THRESHOLD:
            return "two-phase"
        return "fluid"

    def result(self) -> PhaseResult:
        return PhaseResult(self.label, self.solid_fraction, self.dispersion_index)
