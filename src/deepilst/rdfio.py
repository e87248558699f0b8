"""Read a user's g(r) from a file and put it on the model grid.

Formats (r in nm unless the file or the caller says Angstrom):

* GROMACS ``.xvg`` (any '#'/'@' header, several data columns; ``gmx rdf`` prints r with three
  decimals, so r values can repeat);
* VOTCA tables such as ``.dist.tgt`` (columns r, g, flag; the flag marks point values);
* CSV (comma separated, optional header line) or whitespace-separated columns, e.g. MDAnalysis
  ``InterRDF`` bins and rdf saved with ``np.savetxt`` (r in Angstrom).

:func:`load_rdf` treats g(r) as a histogram: it recovers the file's exact bin grid
(:mod:`deepilst.binning`) and averages over the model's shells as training data are made.
:func:`to_model_grid` is the old point-value interpolation, kept for reference.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from deepilst.binning import BinGrid, infer_bins, to_shells, unit_scale
from deepilst.errors import RDFInputError
from deepilst.rdf import model_grid
from deepilst.xvg import legend_of, scan

__all__ = ["RDFInput", "RDFInputError", "gmx_rdf_header", "inspect_rdf", "load_rdf", "read_rdf",
           "shells_of", "to_model_grid"]

#: ``gmx rdf`` (GROMACS >= 5) divides the pair counts by N_ref * N_sel / V, so a self-RDF tends
#: to (N - 1) / N, not 1; deepilst (training data, ``com-rdf``) and MDAnalysis ``InterRDF`` with
#: ``exclusion_block`` divide by N (N - 1) / V. Without ``-rmax`` it reads to this fraction of
#: half the shortest box vector (GROMACS ``Rdf::initAfterFirstFrame``), which gives the box and,
#: with the density, N.
GMX_RMAX_FRACTION = 0.99

#: First r [nm] where g reaches 0.5 is below this in every Table-1 fluid (sigma <= 0.61 nm);
#: a file whose g rises only beyond it in file units is read as Angstrom.


def _decimals(field: str) -> int | None:
    """Digits printed after the decimal point (None for exponent notation)."""
    if "e" in field.lower():
        return None
    return len(field.split(".")[1]) if "." in field else 0


def _text(path: Path) -> str:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise RDFInputError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None


def gmx_rdf_header(text: str) -> dict | None:
    """What the header of a ``gmx rdf`` .xvg says, or None when ``gmx rdf`` did not write it.

    Returns ``reference`` (the subtitle's reference selection), ``legends`` (one selection per
    data column), ``rmax`` (nm, None when not given: the default, half the box), ``norm``
    ("rdf" unless ``-norm`` says otherwise), ``xy`` and ``surf`` (bool) from the command line.
    """
    lines = text.splitlines()
    head = [ln for ln in lines[:200] if ln.startswith(("#", "@"))]
    comments = [ln for ln in head if ln.startswith("#")]
    if not (any("gmx rdf" in ln for ln in comments) and any("GROMACS" in ln for ln in comments)):
        return None
    cmd: list[str] = []
    for i, ln in enumerate(head):
        if ln.startswith("#") and ln[1:].strip().lower() == "command line:" and i + 1 < len(head):
            try:
                cmd = shlex.split(head[i + 1].lstrip("#"))
            except ValueError:
                cmd = head[i + 1].lstrip("#").split()
            break

    def opt(name: str) -> str | None:
        return cmd[cmd.index(name) + 1] if name in cmd[:-1] else None

    rmax = opt("-rmax")
    try:
        rmax_nm = float(rmax) if rmax is not None else None
    except ValueError:
        rmax_nm = None
    sub = next((ln.split('"')[1] for ln in head if ln.startswith("@") and "subtitle" in ln
                and ln.count('"') >= 2), "")
    legends = [leg for leg in (legend_of(ln.strip()) for ln in head if ln.startswith("@"))
               if leg is not None]
    return {"reference": sub[len("reference "):] if sub.startswith("reference ") else None,
            "legends": legends, "rmax": rmax_nm if rmax_nm and rmax_nm > 0 else None,
            "norm": opt("-norm") or "rdf", "xy": "-xy" in cmd, "surf": opt("-surf") is not None}


def _gmx_pairs(hdr: dict, column: int, r_last_nm: float, density: float | None,
               n_particles: int | None) -> tuple[float, dict]:
    """(factor, note): the factor N / (N - 1) that puts a ``gmx rdf`` self-RDF on the N(N - 1)
    normalisation of training data (1.0 when it does not apply), and what was done."""
    note: dict = {"tool": "gmx rdf", "pairs": "N_ref N_sel"}
    sel = hdr["legends"][column - 1] if column - 1 < len(hdr["legends"]) else None
    if hdr["norm"] != "rdf" or hdr["xy"] or hdr["surf"] or sel is None or sel != hdr["reference"]:
        note["corrected"] = "no: not a 3-d self-RDF with -norm rdf"
        return 1.0, note
    if density is not None and hdr["rmax"] is None:
        n = density * (2.0 * r_last_nm / GMX_RMAX_FRACTION) ** 3
        src = "density x box, the box from gmx rdf's default -rmax (0.99 x half box; cubic)"
    elif n_particles is not None:
        n, src = float(n_particles), "-rmax given: N as stated (n_particles)"
    else:
        why = "-rmax was given" if hdr["rmax"] is not None else "no density given"
        note["corrected"] = (f"no: N unknown ({why}); pass the number of particles "
                             "(--n-particles) to correct g by N/(N-1)")
        return 1.0, note
    if n < 2:
        note["corrected"] = f"no: N = {n:.3g} < 2"
        return 1.0, note
    factor = n / (n - 1.0)
    note.update(corrected=f"yes: g x N/(N-1), N = {n:.0f} ({src})", n_particles=round(n),
                factor=factor)
    return factor, note


def _rows(path: Path, text: str) -> tuple[np.ndarray, list[str], np.ndarray, str]:
    """Numeric rows, data-set legends, rounding bound of each printed r, x-axis label of the
    ``text`` of ``path`` (named in errors)."""
    rows, width, tol = [], None, []
    lines, legends = scan(text, comments=("#", "&", ";"))
    xlabel = next((ln.split('"')[1] for ln in text.splitlines()
                   if ln.startswith("@") and "xaxis" in ln and "label" in ln and ln.count('"') >= 2),
                  "")
    for ln, s in lines:
        fields = [f for f in s.replace(",", " ").split()]
        vals = []
        for f in fields:
            try:
                vals.append(float(f))
            except ValueError:
                vals.append(None)
        # VOTCA flags ('i', 'o', 'u') in the last column are not data
        while len(vals) > 2 and vals[-1] is None and vals[0] is not None:
            vals.pop()
        if not rows and any(v is None for v in vals):
            continue  # a header line (CSV column names)
        if any(v is None for v in vals):
            raise RDFInputError(f"{path}, line {ln}: expected numbers, got {s[:40]!r}")
        if len(vals) < 2:
            raise RDFInputError(f"{path}, line {ln}: expected at least two columns (r, g)")
        if width is None:
            width = len(vals)
        elif len(vals) != width:
            raise RDFInputError(f"{path}, line {ln}: {len(vals)} columns, expected {width}")
        rows.append(vals)
        d = _decimals(fields[0])
        tol.append(abs(vals[0]) * 1e-12 if d is None else 0.5 * 10.0**-d)
    if len(rows) < 3:
        raise RDFInputError(f"{path}: no RDF data (expected rows of r [nm] and g(r))")
    return np.array(rows, dtype=float), legends, np.array(tol), xlabel


def read_rdf(path: str | Path, column: int = 1, r_unit: str = "nm") -> tuple[np.ndarray, np.ndarray]:
    """r [nm] (strictly increasing) and g(r) from ``path``; ``column`` counts data columns
    after r from 1; ``r_unit`` is the unit of r in the file ("nm" or "A"). Rows with equal r are
    averaged; rows are sorted by r."""
    p = Path(path)
    scale = unit_scale(r_unit)
    data, _, _, _ = _rows(p, _text(p))
    r, g = _checked(p, data, column)
    r = r * scale
    order = np.argsort(r, kind="stable")
    r, g = r[order], g[order]
    ru, inv = np.unique(r, return_inverse=True)
    gu = np.bincount(inv, weights=g) / np.bincount(inv)
    return ru, gu


def _checked(p: Path, data: np.ndarray, column: int) -> tuple[np.ndarray, np.ndarray]:
    if not 1 <= column < data.shape[1]:
        raise RDFInputError(f"{p}: column {column} requested, the file has data columns "
                            f"1..{data.shape[1] - 1}")
    r, g = data[:, 0], data[:, column]
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(g))):
        raise RDFInputError(f"{p}: non-finite values in r or g(r)")
    if np.any(r < 0):
        raise RDFInputError(f"{p}: negative r")
    if np.any(g < 0):
        raise RDFInputError(f"{p}: negative g(r) at r = {r[np.argmax(g < 0)]:.4g} nm")
    return r, g


def to_model_grid(r: np.ndarray, g: np.ndarray, r_min: float = 0.25, r_max: float | None = None,
                  source: str = "input", grid: np.ndarray | None = None) -> np.ndarray:
    """Linear interpolation of g(r) onto a model grid [nm] (default :func:`deepilst.rdf.model_grid`).

    The input must cover [r_min, r_max] (``r_max`` defaults to the grid's end; within half a grid
    step); grid points below the input range get NaN (the model only reads r >= r_min).
    """
    grid = model_grid() if grid is None else np.asarray(grid, dtype=float)
    r_max = float(grid[-1]) if r_max is None else float(r_max)
    tol = 0.5 * (grid[1] - grid[0])
    if r[0] > r_min + tol or r[-1] < r_max - tol:
        raise RDFInputError(f"{source}: r covers {r[0]:.3f}-{r[-1]:.3f} nm; the model needs "
                            f"{r_min}-{r_max} nm")
    out = np.interp(grid, r, g, left=np.nan, right=g[-1])
    return out


@dataclass(frozen=True)
class RDFInput:
    """A g(r) file read as a histogram.

    Attributes
    ----------
    bins : the recovered bin grid (nm; width, convention, r unit)
    g : g of each row (rows with equal printed r kept apart: they are different bins)
    g_err : standard error of g from the file's error column, else None
    err_column : data column of the error (counting after r from 1), else None
    normalisation : for ``gmx rdf`` files, how its pair normalisation was put on deepilst's
        N(N - 1) (see :func:`gmx_rdf_header`), else None
    """

    bins: BinGrid
    g: np.ndarray
    g_err: np.ndarray | None
    err_column: int | None
    normalisation: dict | None = None

    def describe(self) -> dict:
        """JSON-ready summary of what was inferred."""
        out = dict(self.bins.describe(), err_column=self.err_column)
        if self.normalisation is not None:
            out["normalisation"] = self.normalisation
        return out

    def with_errors(self, g_err: np.ndarray | None, err_column: int | None) -> RDFInput:
        """The same input with other standard errors of g (None: none)."""
        return replace(self, g_err=g_err, err_column=err_column)


def _unit_from_label(xlabel: str) -> str:
    """The r unit an .xvg axis label names ("nm" or "A"); nm when it names none. The unit is
    never guessed from the data: an Angstrom file read as nm is refused by
    :func:`deepilst.checks.check_rdf` with the fix."""
    lab = xlabel.lower()
    if "\u00c5" in xlabel or "angstrom" in lab or "(a)" in lab or "\\ce\\c" in lab:
        return "A"
    return "nm"


def inspect_rdf(path: str | Path, column: int = 1, bin_width: float | None = None,
                r_unit: str | None = None, convention: str | None = None,
                density: float | None = None, n_particles: int | None = None) -> RDFInput:
    """Read ``path`` as a histogram g(r) and recover its bins.

    Parameters
    ----------
    path : .xvg, VOTCA table, CSV or whitespace columns
    column : data column of g, counting after r from 1
    bin_width : bin width in nm (default: inferred from the r column)
    r_unit : "nm" or "A" (default: the .xvg axis label, else nm unless g rises beyond 1.2)
    convention : "gmx", "mda", "centred" or "points" (default: inferred; VOTCA tables with a
        flag column are points)
    density : number density, nm^-3; with it a ``gmx rdf`` self-RDF (normalised by N^2) is
        multiplied by N/(N - 1), N from the box its default ``-rmax`` implies
    n_particles : N for that correction when the box cannot tell (``-rmax`` given); without
        it such a file is left as it is and ``normalisation`` says so
    """
    p = Path(path)
    text = _text(p)
    data, legends, tol, xlabel = _rows(p, text)
    r, g = _checked(p, data, column)
    if np.any(np.diff(r) < 0):
        order = np.argsort(r, kind="stable")
        data, tol, r, g = data[order], tol[order], r[order], g[order]
    unit = r_unit if r_unit is not None else _unit_from_label(xlabel)
    unit_scale(unit)
    if convention is None and _votca_flags(text):
        convention = "points"
    bins = infer_bins(r, tol, str(p), bin_width=bin_width, r_unit=unit, convention=convention)
    err_col = None
    if column < len(legends) and column + 1 < data.shape[1]:
        lab = legends[column].lower()
        if any(s in lab for s in ("err", "sem", "std")):
            err_col = column + 1
    g_err = data[:, err_col] if err_col is not None else None
    norm = None
    hdr = gmx_rdf_header(text) if p.suffix.lower() == ".xvg" else None
    if hdr is not None:
        factor, norm = _gmx_pairs(hdr, column, float(bins.centres[-1]), density, n_particles)
        g = g * factor
        g_err = None if g_err is None else g_err * factor
    return RDFInput(bins, g, g_err, err_col, norm)


def _votca_flags(text: str) -> bool:
    """True when data rows end in a VOTCA flag ('i', 'o', 'u')."""
    for line in text.splitlines():
        s = line.strip()
        if s and not s.startswith(("#", "@", "&", ";")):
            return s.split()[-1] in ("i", "o", "u")
    return False


def load_rdf(path: str | Path, column: int = 1, grid: np.ndarray | None = None,
             bin_width: float | None = None, r_unit: str | None = None,
             convention: str | None = None, r_min: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """(grid r [nm], g averaged over each grid shell) from a file.

    ``grid`` is a model's r grid (default :func:`deepilst.rdf.model_grid`), each point the
    shell [r - dr/2, r + dr/2]. The file's bins are recovered (see :func:`inspect_rdf` for
    ``bin_width`` [nm], ``r_unit`` and ``convention``) and averaged onto the shells conserving
    pair counts. Shells below the data are NaN (the model reads r >= ``r_min`` nm only).
    """
    grid = model_grid() if grid is None else np.asarray(grid, dtype=float)
    inp = inspect_rdf(path, column, bin_width, r_unit, convention)
    return grid, shells_of(inp, grid, str(path), r_min)[0]


def shells_of(inp: RDFInput, grid: np.ndarray, source: str = "input", r_min: float = 0.25,
              r_max: float | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """(g, g_err) of an :class:`RDFInput` on the shells of ``grid`` [nm]; checks that the data
    cover [r_min, r_max] (default the grid's end: the r a model reads; the last shell may be
    filled from the last input value). Shells beyond ``r_max``, which the model does not read,
    take the last input value."""
    g, err = to_shells(inp.bins, inp.g, grid, inp.g_err)
    dr = float(grid[1] - grid[0])
    r_max = float(grid[-1]) if r_max is None else float(r_max)
    need = (grid >= r_min - 0.5 * dr) & (grid <= r_max + 0.5 * dr)
    miss = need & ~np.isfinite(g)
    if np.any(miss):
        lo, hi = inp.bins.centres[0], inp.bins.centres[-1]
        if grid[need][0] < lo - dr or grid[need][-1] > hi + dr:
            raise RDFInputError(f"{source}: r covers {lo:.3f}-{hi:.3f} nm; the model needs "
                                f"{r_min}-{r_max:.4g} nm")
    finite = np.flatnonzero(np.isfinite(g))
    if len(finite):
        last = finite[-1]
        g[(grid >= r_min - 0.5 * dr) & (np.arange(len(g)) > last)] = g[last]
    return g, err
