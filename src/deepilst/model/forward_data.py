"""Training curves of the forward model: every simulation's fine histogram as g*(x) on one grid
of x = r rho^(1/3), and exact (pair-count conserving) shell averages between bin grids.

Under corresponding states g(r; T, rho, C12, C6) = g*(x; T*, rho*) with x = r rho^(1/3) (mean
interparticle spacings), so every 1000-particle simulation reaches the same x = 5 (half its
box) and one x grid holds them all. The fine histograms (0.0005 nm bins, 0.0010-0.0013 in x)
are rebinned onto bins of ``dx`` in x exactly (shell volumes x^2 dx, the same as r^2 dr up
to the constant rho).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deepilst.rdf import FOUR_PI_3

#: x grid of the forward model: bins of DX_DEFAULT from 0 to X_MAX_DEFAULT (the last fine bin
#: of a simulation, at half its box, x = 5, is partial and unreliable)
DX_DEFAULT = 0.002
X_MAX_DEFAULT = 4.95


def x_edges(dx: float = DX_DEFAULT, x_max: float = X_MAX_DEFAULT) -> np.ndarray:
    """Bin edges 0, dx, ..., x_max of the reduced grid (x = r rho^(1/3), dimensionless)."""
    return np.round(np.arange(int(round(x_max / dx)) + 1) * dx, 12)


def overlap(src_edges: np.ndarray, dst_edges: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sparse overlap of two bin grids (same length unit, both increasing).

    Returns ``(i_src, i_dst, w, covered)``: for each piece where a source bin meets a
    destination bin, its indices and its weight w = (piece shell volume) / (destination shell
    volume); ``covered`` (n_dst,) is the fraction of each destination bin the source reaches.
    The shell average over destination bins is ``bincount(i_dst, w * g[i_src])``.
    """
    se = np.asarray(src_edges, dtype=float)
    de = np.asarray(dst_edges, dtype=float)
    lo, hi = max(se[0], de[0]), min(se[-1], de[-1])
    cuts = np.unique(np.concatenate([se, de]))
    cuts = cuts[(cuts >= lo) & (cuts <= hi)]
    mid = 0.5 * (cuts[1:] + cuts[:-1])
    i_src = np.searchsorted(se, mid) - 1
    i_dst = np.searchsorted(de, mid) - 1
    vol = FOUR_PI_3 * (cuts[1:] ** 3 - cuts[:-1] ** 3)
    vdst = FOUR_PI_3 * (de[1:] ** 3 - de[:-1] ** 3)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = vol / vdst[i_dst]
        covered = np.bincount(i_dst, vol, minlength=len(de) - 1) / vdst
    return i_src, i_dst, w, np.nan_to_num(covered, nan=1.0)


def shell_matrix(src_edges: np.ndarray, dst_edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense (n_dst, n_src) matrix M of shell-average weights (g_dst = M @ g_src for a g
    constant inside each source bin) and the covered fraction of each destination bin."""
    i_src, i_dst, w, covered = overlap(src_edges, dst_edges)
    M = np.zeros((len(dst_edges) - 1, len(src_edges) - 1))
    np.add.at(M, (i_dst, i_src), w)
    return M, covered


def _cumulative_rows(src: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Rows R (len(e), n_src) with W(e) = R @ g: the pair content up to each ``e`` (in units of
    v = x^3, without 4 pi / 3) of the cubic Hermite interpolant in v of W between the source
    edges, slopes dW/dv at an edge the mean g of its two bins. Exact at the source edges."""
    n = len(src) - 1
    v = src**3
    dv = np.diff(v)
    e = np.clip(e, src[0], src[-1])
    j = np.clip(np.searchsorted(src, e, side="right") - 1, 0, n - 1)
    t = (e**3 - v[j]) / dv[j]
    h10, h01, h11 = t**3 - 2 * t**2 + t, -2 * t**3 + 3 * t**2, t**3 - t**2
    R = np.where(np.arange(n)[None, :] < j[:, None], dv[None, :], 0.0)
    rows = np.arange(len(e))
    for col, w in ((j, h01 * dv[j] + 0.5 * dv[j] * (h10 + h11)),
                   (np.maximum(j - 1, 0), 0.5 * dv[j] * h10),
                   (np.minimum(j + 1, n - 1), 0.5 * dv[j] * h11)):
        np.add.at(R, (rows, col), w)
    return R


def smooth_shell_matrix(src_edges: np.ndarray, dst_edges: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Dense (n_dst, n_src) matrix M of shell averages over the destination bins of a g given
    as bin averages on the source bins, through a smooth (cubic in x^3) interpolation of the
    cumulative pair content: conservative (a destination bin made of whole source bins gets
    their exact pair-count average) and linear in g. Returns M and the fraction of each
    destination bin beyond the last source edge (M covers only the part inside)."""
    se = np.asarray(src_edges, dtype=float)
    de = np.asarray(dst_edges, dtype=float)
    R = _cumulative_rows(se, de)
    vol = np.diff(de**3)
    M = (R[1:] - R[:-1]) / vol[:, None]
    inside = np.diff(np.minimum(de, se[-1]) ** 3)
    return M, np.clip(1.0 - inside / vol, 0.0, 1.0)


def rebin_fast(src_edges: np.ndarray, g: np.ndarray, dst_edges: np.ndarray,
               g_err: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`deepilst.rdf.rebin` without the per-bin loop: shell averages of a histogram g
    (constant in each source bin) over the destination bins, errors propagated as
    independent; NaN for destination bins the source does not cover."""
    i_src, i_dst, w, covered = overlap(src_edges, dst_edges)
    n = len(dst_edges) - 1
    g = np.asarray(g, dtype=float)
    out = np.bincount(i_dst, w * g[i_src], minlength=n)
    bad = covered < 1 - 1e-9
    out[bad] = np.nan
    err = None
    if g_err is not None:
        e = np.nan_to_num(np.asarray(g_err, dtype=float))
        err = np.sqrt(np.bincount(i_dst, (w * e[i_src]) ** 2, minlength=n))
        err[bad] = np.nan
    return out, err


@dataclass
class ReducedCurves:
    """Simulations as g*(x) on one reduced grid.

    Attributes
    ----------
    edges : x bin edges (n_x + 1,)
    G, E : g* and its standard error per x bin (n_sims, n_x)
    T_reduced, rho_reduced : reduced state of each simulation
    phase : phase label of each simulation
    rows : row of each simulation in its dataset; ``source`` the dataset index in ``files``
    files, ids : dataset files (as given) and their ids
    """

    edges: np.ndarray
    G: np.ndarray
    E: np.ndarray
    T_reduced: np.ndarray
    rho_reduced: np.ndarray
    phase: np.ndarray
    rows: np.ndarray
    source: np.ndarray
    files: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)

    def take(self, idx: np.ndarray) -> ReducedCurves:
        """The simulations ``idx`` (indices or a boolean mask)."""
        return ReducedCurves(self.edges, self.G[idx], self.E[idx], self.T_reduced[idx],
                             self.rho_reduced[idx], self.phase[idx], self.rows[idx],
                             self.source[idx], self.files, self.ids)


def reduced_curves(*paths: str | Path, dx: float = DX_DEFAULT,
                   x_max: float = X_MAX_DEFAULT) -> ReducedCurves:
    """Every simulation of the datasets ``paths`` as g*(x) with its standard error on the bins
    :func:`x_edges` (``dx``, ``x_max``), rebinned exactly from the fine histograms.

    Raises
    ------
    DatasetError
        A file is not a dataset, or a simulation's fine histogram ends before ``x_max``.
    """
    from deepilst.dataset import open_dataset
    from deepilst.dataset.read import dataset_id
    from deepilst.errors import DatasetError

    xe = x_edges(dx, x_max)
    parts = []
    for k, p in enumerate(paths):
        with open_dataset(p) as h:
            s = h["sims"]
            fdr = float(h["fine_dr"][()])
            fg, fe, rho = s["fine_g"][:], s["fine_g_err"][:], s["rho"][:]
            n = len(rho)
            G, E = np.empty((n, len(xe) - 1)), np.empty((n, len(xe) - 1))
            for i in range(n):
                m = int(np.sum(np.isfinite(fg[i])))
                src = np.arange(m + 1) * fdr * rho[i] ** (1.0 / 3.0)
                if src[-1] < xe[-1]:
                    raise DatasetError(f"{p}: simulation {i} reaches x = {src[-1]:.3f}, less "
                                       f"than x_max = {x_max}; lower x_max")
                G[i], E[i] = rebin_fast(src, fg[i, :m], xe, fe[i, :m])
            parts.append((G, E, s["T_reduced"][:], s["rho_reduced"][:],
                          np.array([x.decode() for x in s["phase"][:]]), np.arange(n),
                          np.full(n, k)))
    cat = [np.concatenate([q[j] for q in parts]) for j in range(7)]
    return ReducedCurves(xe, *cat, files=[str(p) for p in paths],
                         ids=[dataset_id(p) for p in paths])
