"""Read a user's g(r) from a file and put it on the model grid.

Formats (r in nm in all of them):

* GROMACS ``.xvg`` (any '#'/'@' header, several data columns; ``gmx rdf`` prints r with three
  decimals, so r values can repeat: rows with the same r are averaged);
* VOTCA tables such as ``.dist.tgt`` (columns r, g, flag; the flag is ignored);
* CSV (comma separated, optional header line) or whitespace-separated columns.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deepilst.errors import RDFInputError
from deepilst.rdf import model_grid
from deepilst.xvg import scan

__all__ = ["RDFInputError", "load_rdf", "read_rdf", "to_model_grid"]


def _rows(path: Path) -> tuple[np.ndarray, list[str]]:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise RDFInputError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    rows, width = [], None
    lines, legends = scan(text, comments=("#", "&", ";"))
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
    if len(rows) < 3:
        raise RDFInputError(f"{path}: no RDF data (expected rows of r [nm] and g(r))")
    return np.array(rows, dtype=float), legends


#: length units of r in users' files, as factors to nm
R_UNITS = {"nm": 1.0, "A": 0.1}


def read_rdf(path: str | Path, column: int = 1, r_unit: str = "nm") -> tuple[np.ndarray, np.ndarray]:
    """r [nm] (strictly increasing) and g(r) from ``path``; ``column`` counts data columns
    after r from 1; ``r_unit`` is the unit of r in the file ("nm" or "A", Angstrom). Rows with
    equal r are averaged; rows are sorted by r."""
    p = Path(path)
    if r_unit not in R_UNITS:
        raise RDFInputError(f"r_unit must be one of {', '.join(R_UNITS)}, got {r_unit!r}")
    data, _ = _rows(p)
    if not 1 <= column < data.shape[1]:
        raise RDFInputError(f"{p}: column {column} requested, the file has data columns "
                            f"1..{data.shape[1] - 1}")
    r, g = data[:, 0] * R_UNITS[r_unit], data[:, column]
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(g))):
        raise RDFInputError(f"{p}: non-finite values in r or g(r)")
    if np.any(r < 0):
        raise RDFInputError(f"{p}: negative r")
    if np.any(g < 0):
        raise RDFInputError(f"{p}: negative g(r) at r = {r[np.argmax(g < 0)]:.4g} nm")
    order = np.argsort(r, kind="stable")
    r, g = r[order], g[order]
    ru, inv = np.unique(r, return_inverse=True)
    gu = np.bincount(inv, weights=g) / np.bincount(inv)
    return ru, gu


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


def load_rdf(path: str | Path, column: int = 1,
             grid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(grid r [nm], g on it) from a file; ``grid`` is a model's r grid (default
    :func:`deepilst.rdf.model_grid`). See :func:`read_rdf` and :func:`to_model_grid`."""
    grid = model_grid() if grid is None else np.asarray(grid, dtype=float)
    r, g = read_rdf(path, column)
    return grid, to_model_grid(r, g, source=str(path), grid=grid)
