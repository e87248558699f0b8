"""Radial distribution functions of one-component periodic systems, accumulated on the fly.

Normalisation: the ``N(N-1)/2`` distinct pairs of each frame are histogrammed, and
g(r) = n_pairs(shell) / (n_frames * N(N-1)/2 * V_shell / V), so an ideal gas gives g = 1
exactly at every r (no self pairs). MDAnalysis ``InterRDF`` with ``exclusion_block=(1, 1)`` gives
the same numbers (tested); without it, it counts self pairs at r = 0 and normalises by N/V.

Grids: every histogram starts at r = 0 with bins ``[k dr, (k+1) dr)``. The model grid of
deepilst puts its points *at* r_l = l * 0.005 nm (l = 0..300), each standing for the bin
[r_l - dr/2, r_l + dr/2]; :func:`rebin` maps a fine histogram onto any such grid exactly.
"""

from __future__ import annotations

import functools
import math

import numpy as np

FOUR_PI_3 = 4.0 * math.pi / 3.0
#: The RDF grid of the model (the authors' sibling code): points r_l = l * DR, 0..R_MAX nm.
#: A model stores the grid it was trained on (``model.json`` ``r_grid_nm``) and code that reads
#: a model uses the model's grid; these are the defaults of new data.
R_MAX = 1.5
DR = 0.005
#: Width of the fine histogram every simulation keeps (divides DR/2 exactly), nm.
DR_FINE = 0.0005


def _pair_pass_py(pos, box, dr, nbins, rc, c12, c6, hist):  # pragma: no cover - compiled
    """Histogram all pair distances of one frame into ``hist`` (counts; ``hist[nbins]`` is the
    overflow bin) and return the potential energy and the sum of r du/dr of pairs inside
    ``rc`` (truncated, unshifted). The inner loop is split in passes that vectorise."""
    n = pos.shape[0]
    # structure of float32 arrays: contiguous x, y, z let the distance pass vectorise (2.3x
    # faster than float64 (N, 3)); r^2 in float32 is exact to ~1e-7 relative, far below a bin
    x = pos[:, 0].astype(np.float32)
    y = pos[:, 1].astype(np.float32)
    z = pos[:, 2].astype(np.float32)
    rmax = nbins * dr
    rmax2 = np.float32(rmax * rmax)
    rc2 = rc * rc
    inv_dr = np.float32(1.0 / dr)
    b32 = np.float32(box)
    ib32 = np.float32(1.0 / box)
    half = np.float32(0.5)
    r2b = np.empty(n, dtype=np.float32)
    kb = np.empty(n, dtype=np.int32)
    u_sum = 0.0
    w_sum = 0.0
    for i in range(n - 1):
        xi = x[i]
        yi = y[i]
        zi = z[i]
        m = n - i - 1
        for jj in range(m):
            j = i + 1 + jj
            dx = x[j] - xi
            dy = y[j] - yi
            dz = z[j] - zi
            dx -= b32 * np.floor(dx * ib32 + half)
            dy -= b32 * np.floor(dy * ib32 + half)
            dz -= b32 * np.floor(dz * ib32 + half)
            r2 = dx * dx + dy * dy + dz * dz
            r2b[jj] = r2
            kb[jj] = np.int32(math.sqrt(min(r2, rmax2)) * inv_dr)
        if rc2 > 0.0:
            for jj in range(m):
                r2 = np.float64(r2b[jj])
                if r2 < rc2:
                    inv6 = 1.0 / (r2 * r2 * r2)
                    a = c12 * inv6 * inv6
                    bb = c6 * inv6
                    u_sum += a - bb
                    w_sum += -12.0 * a + 6.0 * bb
        for jj in range(m):
            hist[min(kb[jj], nbins)] += 1
    return u_sum, w_sum


@functools.cache
def _kernel():
    """The numba-compiled pair pass (numba is imported on first use: ``predict`` never needs it)."""
    import numba

    return numba.njit(cache=True, fastmath=True, error_model="numpy")(_pair_pass_py)


def shell_volumes(edges: np.ndarray) -> np.ndarray:
    """Volumes [nm^3] of spherical shells between consecutive ``edges`` [nm]."""
    e = np.asarray(edges, dtype=float)
    return FOUR_PI_3 * (e[1:] ** 3 - e[:-1] ** 3)


def model_grid(r_max: float = R_MAX, dr: float = DR) -> np.ndarray:
    """The r grid of a model [nm]: points 0, dr, ..., r_max (default 301 points, 0..1.5 nm in
    0.005 nm steps), each standing for the bin [r - dr/2, r + dr/2]."""
    return np.round(np.arange(0, int(round(r_max / dr)) + 1) * dr, 10)


def centered_edges(r: np.ndarray) -> np.ndarray:
    """Bin edges for points ``r`` on a uniform grid, each bin centred on its point (the first
    bin starts at max(0, r0 - dr/2))."""
    r = np.asarray(r, dtype=float)
    d = r[1] - r[0]
    e = np.concatenate([r - d / 2.0, [r[-1] + d / 2.0]])
    e[0] = max(e[0], 0.0)
    return e


def rebin(fine_edges: np.ndarray, g_fine: np.ndarray, new_edges: np.ndarray,
          g_err: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Rebin a histogram-type g(r) onto new bins, conserving the pair count in every shell.

    Each new bin gets (sum over overlapped fine bins of g * overlap shell volume) / its volume.
    Bins reaching beyond the fine range get NaN. Errors are propagated assuming independent
    fine bins (an approximation). All radii in nm.
    """
    fe = np.asarray(fine_edges, dtype=float)
    g = np.asarray(g_fine, dtype=float)
    ne = np.asarray(new_edges, dtype=float)
    # cumulative "pair content" W(r) = int_0^r g 4 pi r'^2 dr' is piecewise cubic in r
    cum = np.concatenate([[0.0], np.cumsum(g * shell_volumes(fe))])

    def content(x: np.ndarray) -> np.ndarray:
        k = np.clip(np.searchsorted(fe, x, side="right") - 1, 0, len(g) - 1)
        return cum[k] + g[k] * FOUR_PI_3 * (x**3 - fe[k] ** 3)

    inside = ne <= fe[-1] * (1 + 1e-12)
    x = np.clip(ne, fe[0], fe[-1])
    vol = shell_volumes(ne)
    out = (content(x[1:]) - content(x[:-1])) / vol
    bad = ~(inside[1:] & inside[:-1])
    out[bad] = np.nan
    err_out = None
    if g_err is not None:
        ge = np.asarray(g_err, dtype=float)
        # overlap weights w_ik = overlap volume / new volume; var = sum w^2 err^2
        err_out = np.empty(len(ne) - 1)
        for i in range(len(ne) - 1):
            lo, hi = ne[i], ne[i + 1]
            k0 = max(np.searchsorted(fe, lo, side="right") - 1, 0)
            k1 = min(np.searchsorted(fe, hi, side="left"), len(ge))
            a = np.clip(fe[k0:k1], lo, hi)
            b = np.clip(fe[k0 + 1:k1 + 1], lo, hi)
            w = FOUR_PI_3 * (b**3 - a**3) / vol[i]
            err_out[i] = math.sqrt(float(np.sum((w * ge[k0:k1]) ** 2)))
        err_out[bad] = np.nan
    return out, err_out


class RDFAccumulator:
    """Streaming g(r), potential energy and virial of a cubic periodic one-component system.

    Parameters
    ----------
    n_particles : number of particles N
    box_length : cubic box edge, nm
    r_max : histogram range, nm (at most half the box edge)
    dr : histogram bin width, nm
    n_blocks : number of blocks for statistical errors; frames are assigned to blocks in order
    rc, c12, c6 : cutoff [nm] and LJ coefficients used for the per-frame energy and virial
        (optional; zeros give pure histogramming)
    """

    def __init__(self, n_particles: int, box_length: float, r_max: float | None = None,
                 dr: float = DR_FINE, n_blocks: int = 10, rc: float = 0.0,
                 c12: float = 0.0, c6: float = 0.0) -> None:
        self.n = int(n_particles)
        self.box = float(box_length)
        half = 0.5 * self.box
        r_max = half if r_max is None else min(float(r_max), half)
        self.dr = float(dr)
        self.nbins = int(math.floor(r_max / self.dr + 1e-9))
        self.n_blocks = int(n_blocks)
        self.rc, self.c12, self.c6 = float(rc), float(c12), float(c6)
        self.counts = np.zeros((self.n_blocks, self.nbins), dtype=np.int64)
        self.frames = np.zeros(self.n_blocks, dtype=np.int64)
        self._buf = np.zeros(self.nbins + 1, dtype=np.int64)
        self.energies: list[float] = []
        self.virials: list[float] = []

    @property
    def edges(self) -> np.ndarray:
        """Histogram bin edges, nm."""
        return np.arange(self.nbins + 1) * self.dr

    def add_frame(self, positions: np.ndarray, block: int = 0) -> tuple[float, float]:
        """Histogram one frame (positions in nm, shape (N, 3)) into ``block``.

        Returns the frame's truncated pair energy [kJ/mol] and sum of r du/dr [kJ/mol] within rc.
        """
        pos = np.ascontiguousarray(positions, dtype=np.float64)
        if pos.shape != (self.n, 3):
            raise ValueError(f"positions must have shape ({self.n}, 3), got {pos.shape}")
        self._buf[:] = 0
        u, w = _kernel()(pos, self.box, self.dr, self.nbins, self.rc, self.c12, self.c6,
                          self._buf)
        self.counts[block] += self._buf[: self.nbins]
        self.frames[block] += 1
        self.energies.append(u)
        self.virials.append(w)
        return u, w

    def _norm(self, counts: np.ndarray, frames: int) -> np.ndarray:
        ideal = frames * 0.5 * self.n * (self.n - 1) * shell_volumes(self.edges) / self.box**3
        return counts / ideal

    def g_blocks(self) -> np.ndarray:
        """g(r) of each non-empty block on the fine grid, shape (n_blocks, nbins)."""
        ok = self.frames > 0
        return np.array([self._norm(c, f) for c, f in zip(self.counts[ok], self.frames[ok])])

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """(g, sem) on the fine grid: mean over all frames and block standard error."""
        if self.frames.sum() == 0:
            raise RuntimeError("no frames were added")
        g = self._norm(self.counts.sum(axis=0), int(self.frames.sum()))
        gb = self.g_blocks()
        sem = gb.std(axis=0, ddof=1) / math.sqrt(len(gb)) if len(gb) > 1 else np.full_like(g, np.nan)
        return g, sem

    def on_grid(self, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(g, sem) rebinned onto points ``r`` [nm] (bins centred on the points); errors from
        the blocks rebinned individually. NaN where the grid exceeds the histogram."""
        edges = centered_edges(r)
        g, _ = rebin(self.edges, self.result()[0], edges)
        gb = np.array([rebin(self.edges, b, edges)[0] for b in self.g_blocks()])
        sem = gb.std(axis=0, ddof=1) / math.sqrt(len(gb))
        return g, sem


class RDF:
    """g(r) of a set of frames, freud style: ``RDF(r_max, dr).compute(frames, box)``.

    Parameters
    ----------
    r_max : range, nm (clipped to half the box)
    dr : bin width, nm
    """

    def __init__(self, r_max: float, dr: float = DR) -> None:
        self.r_max = float(r_max)
        self.dr = float(dr)
        self._acc: RDFAccumulator | None = None

    def compute(self, frames: np.ndarray, box_length: float) -> RDF:
        """Accumulate ``frames`` (shape (n_frames, N, 3) or (N, 3), nm) in a cubic box [nm]."""
        frames = np.asarray(frames, dtype=float)
        if frames.ndim == 2:
            frames = frames[None]
        acc = RDFAccumulator(frames.shape[1], box_length, self.r_max, self.dr,
                             n_blocks=max(2, min(10, len(frames))))
        nb = acc.n_blocks
        for i, f in enumerate(frames):
            acc.add_frame(f, block=min(i * nb // len(frames), nb - 1))
        self._acc = acc
        return self

    def _need(self) -> RDFAccumulator:
        if self._acc is None:
            raise AttributeError("call compute() before reading results")
        return self._acc

    @property
    def bin_centers(self) -> np.ndarray:
        e = self._need().edges
        return 0.5 * (e[1:] + e[:-1])

    @property
    def rdf(self) -> np.ndarray:
        return self._need().result()[0]

    @property
    def rdf_error(self) -> np.ndarray:
        return self._need().result()[1]

    def plot(self, ax=None):
        """Plot g(r) with its error band; returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            ax = plt.gca()
        r, g, e = self.bin_centers, self.rdf, self.rdf_error
        ax.plot(r, g, lw=1.2)
        ax.fill_between(r, g - 2 * e, g + 2 * e, alpha=0.3, lw=0)
        ax.set_xlabel("r / nm")
        ax.set_ylabel("g(r)")
        return ax


def rise_position(r: np.ndarray, g: np.ndarray, level: float = 1.0) -> float:
    """Where g(r) first rises through ``level`` (linear interpolation), nm."""
    r = np.asarray(r, dtype=float)
    g = np.nan_to_num(np.asarray(g, dtype=float))
    k = int(np.argmax(g >= level))
    if g[k] < level or k == 0:
        raise ValueError(f"g(r) never rises through {level}")
    return float(r[k - 1] + (level - g[k - 1]) * (r[k] - r[k - 1]) / (g[k] - g[k - 1]))


def eps_rdf(r: np.ndarray, g_model: np.ndarray, g_ref: np.ndarray, r_f: float | None = None) -> float:
    """Total-variation RDF error of the paper (eq. 7):
    int_0^rf |g_model - g_ref| r^2 dr / int_0^rf g_ref r^2 dr (r in nm; NaNs ignored)."""
    r = np.asarray(r, dtype=float)
    a = np.asarray(g_model, dtype=float)
    b = np.asarray(g_ref, dtype=float)
    m = np.isfinite(a) & np.isfinite(b)
    if r_f is not None:
        m &= r <= r_f
    w = r[m] ** 2
    return float(np.trapezoid(np.abs(a[m] - b[m]) * w, r[m]) / np.trapezoid(b[m] * w, r[m]))
