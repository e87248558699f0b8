"""Pair potentials the MD engines accept: the 12-6 Lennard-Jones potential and tabulated ones.

Units: r in nm, energies in kJ/mol, forces in kJ mol^-1 nm^-1. A :class:`TabulatedPotential`
is what iterative Boltzmann inversion updates and what OpenMM runs through a
``CustomNonbondedForce`` with a ``Continuous1DFunction``; GROMACS (2022) runs tabulated
non-bonded potentials only with the group scheme it no longer has, so LJ runs go through C6/C12.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepilst.errors import ParameterError
from deepilst.units import RC_SIGMA, c12_c6, check_positive, sigma_epsilon


def lj_potential(r: np.ndarray, c12: float, c6: float) -> np.ndarray:
    """u(r) = C12/r^12 - C6/r^6 [kJ/mol] at distances r [nm]."""
    r = np.asarray(r, dtype=float)
    inv6 = r**-6
    return c12 * inv6 * inv6 - c6 * inv6


def lj_r_du_dr(r: np.ndarray, c12: float, c6: float) -> np.ndarray:
    """r du/dr = -12 C12/r^12 + 6 C6/r^6 [kJ/mol] at distances r [nm]."""
    r = np.asarray(r, dtype=float)
    inv6 = r**-6
    return -12.0 * c12 * inv6 * inv6 + 6.0 * c6 * inv6


@dataclass(frozen=True)
class LJParams:
    """A 12-6 Lennard-Jones pair potential, validated at construction.

    Attributes
    ----------
    c12 : kJ mol^-1 nm^12
    c6 : kJ mol^-1 nm^6
    """

    c12: float
    c6: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "c12", check_positive("C12", self.c12))
        object.__setattr__(self, "c6", check_positive("C6", self.c6))

    @classmethod
    def from_sigma_epsilon(cls, sigma: float, epsilon: float) -> LJParams:
        """From sigma [nm] and epsilon [kJ/mol]."""
        return cls(*c12_c6(sigma, epsilon))

    @property
    def sigma(self) -> float:
        """sigma [nm]."""
        return sigma_epsilon(self.c12, self.c6)[0]

    @property
    def epsilon(self) -> float:
        """epsilon [kJ/mol]."""
        return sigma_epsilon(self.c12, self.c6)[1]

    def energy(self, r: np.ndarray) -> np.ndarray:
        """u(r) [kJ/mol]."""
        return lj_potential(r, self.c12, self.c6)

    def force(self, r: np.ndarray) -> np.ndarray:
        """-du/dr [kJ mol^-1 nm^-1]."""
        r = np.asarray(r, dtype=float)
        return -lj_r_du_dr(r, self.c12, self.c6) / r

    def tabulate(self, r_max: float, dr: float = 0.002, r_min: float | None = None,
                 rc_sigma: float = RC_SIGMA) -> TabulatedPotential:
        """This potential truncated at ``rc_sigma`` sigma (zero beyond, no shift: the deepilst
        convention) as a table on [r_min, r_max] nm (default r_min: 0.6 sigma)."""
        r0 = 0.6 * self.sigma if r_min is None else float(r_min)
        r = np.arange(r0, r_max + 0.5 * dr, dr)
        u = np.where(r <= rc_sigma * self.sigma, self.energy(r), 0.0)
        return TabulatedPotential(r, u)


class TabulatedPotential:
    """u(r) given on an increasing grid r [nm] (kJ/mol), evaluated by a natural cubic spline.

    Below the grid the potential continues with the slope of its first interval (repulsive
    cores stay repulsive); beyond it u = 0.
    """

    def __init__(self, r: np.ndarray, u: np.ndarray) -> None:
        r = np.asarray(r, dtype=float)
        u = np.asarray(u, dtype=float)
        if r.ndim != 1 or r.shape != u.shape or len(r) < 4:
            raise ParameterError("a tabulated potential needs r and u of the same length >= 4")
        if not (np.all(np.isfinite(r)) and np.all(np.isfinite(u))):
            raise ParameterError("a tabulated potential must be finite everywhere on its grid")
        if np.any(np.diff(r) <= 0) or r[0] <= 0:
            raise ParameterError("the r grid of a tabulated potential must be positive and increasing")
        from scipy.interpolate import CubicSpline

        self.r, self.u = r, u
        self._spline = CubicSpline(r, u, bc_type="natural")

    def energy(self, r: np.ndarray) -> np.ndarray:
        """u(r) [kJ/mol]."""
        r = np.asarray(r, dtype=float)
        out = self._spline(np.clip(r, self.r[0], self.r[-1]))
        slope = (self.u[1] - self.u[0]) / (self.r[1] - self.r[0])
        out = np.where(r < self.r[0], self.u[0] + slope * (r - self.r[0]), out)
        return np.where(r > self.r[-1], 0.0, out)

    def force(self, r: np.ndarray) -> np.ndarray:
        """-du/dr [kJ mol^-1 nm^-1]."""
        r = np.asarray(r, dtype=float)
        out = -self._spline(np.clip(r, self.r[0], self.r[-1]), 1)
        slope = (self.u[1] - self.u[0]) / (self.r[1] - self.r[0])
        out = np.where(r < self.r[0], -slope, out)
        return np.where(r > self.r[-1], 0.0, out)

    def openmm_function(self, n: int = 2000) -> tuple[np.ndarray, float, float]:
        """(u values on a uniform grid, r_min, r_max) for ``openmm.Continuous1DFunction``."""
        x = np.linspace(self.r[0], self.r[-1], n)
        return self.energy(x), float(self.r[0]), float(self.r[-1])

    def write_table(self, path: str | Path, dr: float = 0.002, r_max: float | None = None) -> Path:
        """Write a GROMACS-style user table (columns r, f, -f', g, -g', h, -h' with f = 0,
        g = 0 and h = u; r from 0 in steps of ``dr`` nm to ``r_max``), atomically. Points below
        the grid use the linear continuation; r = 0 is written as the first grid value."""
        from deepilst.fileio import write_text_atomic

        r_max = float(self.r[-1]) if r_max is None else float(r_max)
        x = np.round(np.arange(0.0, r_max + 0.5 * dr, dr), 10)
        xs = np.maximum(x, self.r[0])
        h, dh = self.energy(xs), self.force(xs)
        lines = [f"# deepilst tabulated pair potential, {len(self.r)} knots, r in nm, kJ/mol"]
        lines += [f"{a:.6f} 0 0 0 0 {b:.8e} {c:.8e}" for a, b, c in zip(x, h, dh)]
        write_text_atomic(path, "\n".join(lines) + "\n")
        return Path(path)
