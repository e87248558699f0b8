"""A user's g(r) as a histogram: recover its exact bin grid, bring it onto the model's shells.

Training g(r) are shell-volume averages over the model's bins [r_l - DR/2, r_l + DR/2]
(:func:`deepilst.rdf.rebin`). A user's file is treated the same way:

* ``gmx``: ``gmx rdf`` bins, centres at k w, edges (k -+ 1/2) w, the first bin [0, w/2]
  (checked against the pair distances of a real trajectory: GROMACS 2022);
* ``mda``: MDAnalysis ``InterRDF`` bins, edges at k w, centres (k + 1/2) w;
* ``centred``: uniform bins centred on the given r at any other offset;
* ``points``: point values (VOTCA tables, non-uniform grids), averaged over each shell of the
  piecewise-linear interpolant.

The grid is recovered from the row index, not from differences of printed r: ``gmx rdf``
prints r with three decimals, so at w = 0.0025 nm a printed r is up to 0.0005 nm off and at
w < 0.001 nm rows repeat. The width is the least-squares slope of r against the row index,
snapped to the shortest decimal that reproduces every printed r within its rounding.

Bins at most the model's width are rebinned exactly (pair counts conserved). Coarser bins are
reconstructed by a monotone (PCHIP) interpolation of the cumulative pair content at the bin
edges, which conserves every coarse bin's pair count and keeps g >= 0; benchmarks/binning.py
measures what this recovers and what it cannot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from deepilst.errors import InputError
from deepilst.rdf import DR, centered_edges, rebin, shell_volumes

__all__ = ["CONVENTIONS", "BinGrid", "infer_bins", "reconstructs", "to_shells", "tool_bins",
           "unit_scale"]

CONVENTIONS = ("gmx", "mda", "centred", "points")
_UNITS = {"nm": 1.0, "A": 0.1}


def unit_scale(r_unit: str) -> float:
    """nm per unit of r: 1 for "nm", 0.1 for "A" (Angstrom)."""
    try:
        return _UNITS[r_unit]
    except KeyError:
        raise InputError(f"r_unit must be 'nm' or 'A', got {r_unit!r}") from None


@dataclass(frozen=True)
class BinGrid:
    """The bins of an input g(r), in nm.

    Attributes
    ----------
    centres : r of each row, nm (exact, reconstructed from the row index)
    edges : bin edges, nm (len(centres) + 1); None for point values
    width : bin width, nm; None for a non-uniform grid
    convention : one of :data:`CONVENTIONS`
    r_unit : unit of the file's r column, "nm" or "A"
    """

    centres: np.ndarray
    edges: np.ndarray | None
    width: float | None
    convention: str
    r_unit: str

    def describe(self) -> dict:
        """JSON-ready summary: bin width [nm], convention, r unit, r range [nm]."""
        return {"bin_width_nm": self.width, "convention": self.convention, "r_unit": self.r_unit,
                "r_first_nm": float(self.centres[0]), "r_last_nm": float(self.centres[-1])}


def _snap(width: float, fits) -> float:
    """The shortest decimal (1-12 significant digits) near ``width`` for which ``fits`` holds,
    else ``width`` itself."""
    for s in range(1, 13):
        w = float(f"{width:.{s}g}")
        if w > 0 and fits(w):
            return w
    return width


def infer_bins(r: np.ndarray, tol: np.ndarray | float = 1e-9, source: str = "input",
               bin_width: float | None = None, r_unit: str = "nm",
               convention: str | None = None) -> BinGrid:
    """Recover the bin grid of rows with printed r (in ``r_unit``, sorted, repeats allowed).

    Parameters
    ----------
    r : r column as printed, in ``r_unit``
    tol : half the last printed digit of each r, in ``r_unit`` (rounding bound)
    source : file name for messages
    bin_width : bin width in nm (overrides the inferred one)
    r_unit : "nm" or "A"
    convention : force one of :data:`CONVENTIONS` (default: inferred)
    """
    scale = unit_scale(r_unit)
    r = np.asarray(r, dtype=float) * scale
    tol = np.broadcast_to(np.asarray(tol, dtype=float) * scale, r.shape) + 1e-12 + 1e-12 * r
    if convention is not None and convention not in CONVENTIONS:
        raise InputError(f"{source}: convention must be one of {', '.join(CONVENTIONS)}, "
                         f"got {convention!r}")
    if np.any(np.diff(r) < 0):
        raise InputError(f"{source}: r must be sorted in increasing order")
    n = len(r)
    if bin_width is not None and not (math.isfinite(bin_width) and bin_width > 0):
        raise InputError(f"{source}: bin_width must be a positive number of nm, got {bin_width}")
    def window(w: float) -> tuple[float, float]:
        """Offsets a with every |r - (a + k w)| within its rounding bound: [lo, hi]."""
        d = r - k * w
        return float(np.max(d - tol)), float(np.min(d + tol))

    def fits(w: float) -> bool:
        lo, hi = window(w)
        return lo <= hi

    # bin index of each row: the row number, or from the spacing when rows are missing
    k = np.arange(n, dtype=float)
    if bin_width is not None:
        w0 = float(bin_width)
        k = np.round((r - r[0]) / w0)
        uniform = True
    else:
        w0 = float(np.polyfit(k, r, 1)[0])
        uniform = w0 > 0 and fits(_snap(w0, fits))
        if not uniform:
            du = np.diff(r)
            du = du[du > 2 * tol[1:]]
            w0 = float(np.median(du)) if len(du) else 0.0
            if w0 > 0:
                k = np.round((r - r[0]) / w0)
                w0 = float(np.polyfit(k, r, 1)[0])
                uniform = bool(np.all(np.diff(k) > 0)) and fits(_snap(w0, fits))
    if not uniform or convention == "points":
        if convention not in (None, "points"):
            raise InputError(f"{source}: r is not on a uniform grid, so it cannot be read as "
                             f"{convention!r} bins; give bin_width or convention='points'")
        ru = np.unique(r)
        if len(ru) != n:
            raise InputError(f"{source}: repeated r values on a non-uniform grid; give bin_width")
        return BinGrid(r, None, None, "points", r_unit)
    w = float(bin_width) if bin_width is not None else _snap(w0, fits)
    lo, hi = window(w)
    a = 0.5 * (lo + hi) if lo <= hi else float(np.median(r - k * w))
    offsets = {"gmx": round(a / w) * w, "mda": (math.floor(a / w) + 0.5) * w}
    if convention is None:
        # gmx first: at w < 2 tol both fit, and only gmx prints r that coarsely
        convention = next((c for c in ("gmx", "mda")
                           if lo - 1e-12 <= offsets[c] <= hi + 1e-12), "centred")
    centres = offsets.get(convention, a) + k * w
    if np.any(np.diff(centres) <= 0):
        raise InputError(f"{source}: r does not rise by one bin per row; give bin_width")
    edges = np.concatenate([centres - w / 2, [centres[-1] + w / 2]])
    if np.any(np.diff(centres) > w * (1 + 1e-9)):
        # rows missing from the grid: keep each bin its own width around its centre
        edges = None
    elif edges[0] < 0:
        edges[0] = 0.0
    return BinGrid(centres, edges, w, convention, r_unit)


def tool_bins(tool: str, width: float, r_max: float = 1.6) -> BinGrid:
    """The bins ``tool`` writes at ``width`` [nm] up to ``r_max`` [nm]: "gmx" (``gmx rdf``:
    centres at k w, edges (k -+ 1/2) w, the first bin [0, w/2]) or "mda" (MDAnalysis
    ``InterRDF``: edges at k w, centres (k + 1/2) w)."""
    n = int(round(r_max / width))
    if tool == "gmx":
        centres = np.arange(n + 1) * width
        return BinGrid(centres, np.r_[0.0, (np.arange(n + 1) + 0.5) * width], width, "gmx", "nm")
    if tool == "mda":
        return BinGrid((np.arange(n) + 0.5) * width, np.arange(n + 1) * width, width, "mda", "nm")
    raise InputError(f"tool must be 'gmx' or 'mda', got {tool!r}")


def _covered(lo_data: float, hi_data: float, model_edges: np.ndarray) -> np.ndarray:
    return (model_edges[:-1] >= lo_data - 1e-12) & (model_edges[1:] <= hi_data + 1e-12)


def _points_to_shells(r: np.ndarray, g: np.ndarray, model_edges: np.ndarray,
                      n_sub: int = 32) -> np.ndarray:
    """Shell averages of the piecewise-linear interpolant of point values (midpoint rule in
    r^3 on ``n_sub`` sub-shells per shell)."""
    lo, hi = model_edges[:-1, None], model_edges[1:, None]
    t = (np.arange(n_sub) + 0.5) / n_sub
    v = lo**3 + (hi**3 - lo**3) * t[None, :]
    x = np.cbrt(v)
    out = np.interp(x, r, g).mean(axis=1)
    out[~_covered(r[0], r[-1], model_edges)] = np.nan
    return out


def _pchip_to_shells(edges: np.ndarray, g: np.ndarray, model_edges: np.ndarray) -> np.ndarray:
    """Shell averages from a monotone interpolation (PCHIP) of the cumulative pair content
    W(r) = int 4 pi r^2 g dr, known exactly at the coarse bin edges, as a function of r^3."""
    from scipy.interpolate import PchipInterpolator

    cum = np.concatenate([[0.0], np.cumsum(g * shell_volumes(edges))])
    # in the volume coordinate v = r^3 a constant g is a straight line, kept exactly
    f = PchipInterpolator(edges**3, cum, extrapolate=False)
    x = np.clip(model_edges, edges[0], edges[-1])
    out = np.diff(f(x**3)) / shell_volumes(model_edges)
    out[~_covered(edges[0], edges[-1], model_edges)] = np.nan
    return out


def _refines(edges: np.ndarray, shells: np.ndarray, tol: float = 1e-9) -> bool:
    """True when every shell edge inside the input's range is one of the input's bin edges
    [nm] (no input bin is split between two shells)."""
    inside = shells[(shells > edges[0] + tol) & (shells < edges[-1] - tol)]
    if len(inside) == 0:
        return True
    k = np.clip(np.searchsorted(edges, inside), 1, len(edges) - 1)
    near = np.minimum(np.abs(edges[k] - inside), np.abs(edges[k - 1] - inside))
    return bool(np.all(near < tol))


def reconstructs(grid: BinGrid, model_r: np.ndarray) -> bool:
    """True when :func:`to_shells` (``coarse="pchip"``) reconstructs g inside the input's bins:
    bins wider than the model's shells centred on ``model_r`` [nm], or whose edges split them
    (e.g. ``gmx rdf`` at 0.002 or 0.01 nm, MDAnalysis at 0.005 nm); False for point values and
    for bins that refine the shells (averaged exactly)."""
    if grid.width is None or grid.edges is None:
        return False
    model_r = np.asarray(model_r, dtype=float)
    dr = float(model_r[1] - model_r[0]) if len(model_r) > 1 else DR
    return bool(grid.width > dr * (1 + 1e-6) or not _refines(grid.edges, centered_edges(model_r)))


def to_shells(grid: BinGrid, g: np.ndarray, model_r: np.ndarray,
              g_err: np.ndarray | None = None, coarse: str = "pchip"
              ) -> tuple[np.ndarray, np.ndarray | None]:
    """g (and its standard error) averaged over the model's shells, centred on ``model_r``
    [nm] (each [r_l - dr/2, r_l + dr/2]); NaN for shells the input does not cover.

    ``coarse`` chooses the treatment of bins wider than the model's, or whose edges split
    the model's shells: "pchip" (smooth pair-count-conserving reconstruction) or "step" (g
    constant within each input bin). Input bins whose edges include every model edge (a
    refinement, e.g. gmx rdf at 0.001 or 0.005 nm) are averaged exactly either way. On ten
    fluid states (benchmarks/binning.py) splitting MDAnalysis' 0.005 nm bins (edges at k w,
    half a bin off the model's) with g constant inside moved C12 by 1.7 %, the smooth
    reconstruction by 0.14 %. Errors are rebinned as if g were constant in each input bin.
    """
    g = np.asarray(g, dtype=float)
    me = centered_edges(np.asarray(model_r, dtype=float))
    if grid.edges is None:
        out = _points_to_shells(grid.centres, g, me)
        err = None if g_err is None else _points_to_shells(grid.centres, np.asarray(g_err), me)
        return out, err
    out, err = rebin(grid.edges, g, me, g_err)
    # shells only partly inside the data: average over the covered part
    part = np.isnan(out) & (me[:-1] < grid.edges[-1]) & (me[1:] > grid.edges[-1])
    if np.any(part):
        lo = me[:-1][part]
        sub = np.stack([lo, np.full_like(lo, grid.edges[-1])], axis=1)
        out[part] = [rebin(grid.edges, g, e)[0][0] for e in sub]
    if coarse not in ("pchip", "step"):
        raise InputError(f"coarse must be 'pchip' or 'step', got {coarse!r}")
    if coarse == "pchip" and reconstructs(grid, model_r):
        smooth = _pchip_to_shells(grid.edges, g, me)
        ok = np.isfinite(smooth)
        out[ok] = smooth[ok]
    return out, err

