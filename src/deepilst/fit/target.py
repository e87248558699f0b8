"""The structure a coarse-grained model must reproduce: a g(r) at a state point.

A :class:`Target` is what every fit (network, simplex, relative entropy, IBI, VOTCA) is given:
g(r) on the model's shells (nm), its standard error, the temperature [K], the number density
[nm^-3] and, for the CG runs, the bead mass [amu]. Files are read as histograms and averaged
onto the shells exactly as training data are made (:func:`deepilst.rdfio.shells_of`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deepilst.errors import InputError
from deepilst.rdf import model_grid
from deepilst.units import ARGON_MASS, check_positive


@dataclass(frozen=True)
class Target:
    """A target g(r) at (T, rho).

    Attributes
    ----------
    r : shell centres, nm (the model grid, 0.005 nm shells)
    g : g(r) averaged over each shell; NaN where the input has no data
    g_err : standard error of g (zeros when unknown)
    temperature : K
    density : number density, nm^-3
    mass : bead mass of the CG model, amu
    name : label used in reports and plots
    P, P_sem : pressure of the reference system and its standard error, bar (NaN if unknown)
    U, U_sem : its potential energy per molecule, kJ/mol (NaN if unknown; not comparable with a
        CG model's for a molecular reference: intramolecular and electrostatic terms differ)
    """

    r: np.ndarray
    g: np.ndarray
    g_err: np.ndarray
    temperature: float
    density: float
    mass: float = ARGON_MASS
    name: str = "target"
    P: float = float("nan")
    P_sem: float = float("nan")
    U: float = float("nan")
    U_sem: float = float("nan")
    source: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_positive("temperature", self.temperature)
        check_positive("density", self.density)
        check_positive("mass", self.mass)
        r = np.asarray(self.r, dtype=float)
        g = np.asarray(self.g, dtype=float)
        e = np.zeros_like(g) if self.g_err is None else np.asarray(self.g_err, dtype=float)
        if r.shape != g.shape or e.shape != g.shape or r.ndim != 1:
            raise InputError(f"{self.name}: r, g and g_err must be 1-d arrays of one length")
        if np.count_nonzero(np.isfinite(g)) < 20:
            raise InputError(f"{self.name}: fewer than 20 finite g(r) values")
        object.__setattr__(self, "r", r)
        object.__setattr__(self, "g", g)
        object.__setattr__(self, "g_err", np.where(np.isfinite(e), e, 0.0))

    @property
    def r_max(self) -> float:
        """Largest r with data, nm."""
        return float(self.r[np.flatnonzero(np.isfinite(self.g))[-1]])

    @classmethod
    def from_file(cls, path: str | Path, temperature: float, density: float,
                  mass: float = ARGON_MASS, name: str | None = None,
                  bin_width: float | None = None, r_unit: str | None = None) -> Target:
        """Read a g(r) file (.xvg, VOTCA table, columns) as a histogram onto the model shells.

        Parameters
        ----------
        path : the file; an error column (legend "err"/"sem"/"std") is used when present
        temperature : K
        density : number density, nm^-3
        mass : bead mass, amu
        bin_width : the file's bin width, nm (default: inferred from the r column)
        r_unit : "nm" or "A" (default: from the .xvg axis label)
        """
        from deepilst.rdfio import inspect_rdf, shells_of

        grid = model_grid()
        inp = inspect_rdf(path, 1, bin_width, r_unit, density=density)
        end = min(float(grid[-1]), float(inp.bins.centres[-1]))
        g, err = shells_of(inp, grid, str(path), r_min=0.25, r_max=end)
        g = np.where(grid <= end + 1e-9, g, np.nan)
        # below the data (cores) g is zero in every fluid the fits handle
        lo = grid < inp.bins.centres[0]
        g[lo & ~np.isfinite(g)] = 0.0
        if err is None:
            err = np.zeros_like(g)
        return cls(grid, g, err, temperature, density, mass, name or Path(path).stem,
                   source={"file": Path(path).name, **inp.describe()})

    def to_json(self) -> dict:
        """JSON-ready description (no arrays)."""
        return {"name": self.name, "T": self.temperature, "rho": self.density, "mass": self.mass,
                "r_max": self.r_max, "P": self.P, "P_sem": self.P_sem, "U": self.U,
                "U_sem": self.U_sem, "source": self.source}
