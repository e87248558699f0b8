"""Typed results: an estimate with its uncertainty, and a decoded simulation record.

A simulation record (``md.simulate.simulate``) is the JSON document a run directory keeps: NaN
is stored as ``null`` there, averages as ``{"mean": .., "sem": ..}``. :func:`encode_array` and
:func:`decode_array` are the only places that convert between the two; everything that reads a
record goes through :class:`SimulationResult`.

Names (one spelling per quantity, in code, JSON and README): ``T`` [K], ``rho`` [nm^-3], ``C12``
[kJ mol^-1 nm^12], ``C6`` [kJ mol^-1 nm^6], ``sigma`` [nm], ``epsilon`` [kJ/mol], ``T_reduced``,
``rho_reduced``, ``U`` (potential energy per particle, kJ/mol), ``P`` (pressure, bar); a suffix
``_sem`` is the standard error of an MD mean, ``_std`` a predictive standard deviation, ``_95`` a
95 % interval [lo, hi].
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Units of every quantity a JSON output of deepilst carries (``"units"`` in each document).
UNITS = {"T": "K", "rho": "nm^-3", "C12": "kJ mol^-1 nm^12", "C6": "kJ mol^-1 nm^6",
         "sigma": "nm", "epsilon": "kJ/mol", "T_reduced": "1", "rho_reduced": "1",
         "U": "kJ/mol per particle", "P": "bar", "r": "nm", "eps_rdf": "fraction"}


def encode_array(a, digits: int = 6) -> list:
    """A float array as a JSON list with ``digits`` significant digits; NaN/inf -> None."""
    return [None if not np.isfinite(v) else float(f"{v:.{digits}g}") for v in np.asarray(a, float)]


def decode_array(values) -> np.ndarray:
    """A JSON list (None for NaN) as a float array: the inverse of :func:`encode_array`."""
    return np.array([np.nan if v is None else v for v in values], dtype=float)


@dataclass(frozen=True)
class Estimate:
    """A mean and its standard error (correlation-corrected), in the quantity's units."""

    mean: float
    sem: float

    @classmethod
    def from_json(cls, d: dict) -> Estimate:
        """From the record form ``{"mean": .., "sem": ..}`` (None -> NaN)."""
        return cls(*(math.nan if d.get(k) is None else float(d[k]) for k in ("mean", "sem")))

    def to_json(self) -> dict:
        return {"mean": self.mean, "sem": self.sem}

    def __format__(self, spec: str) -> str:
        return f"{format(self.mean, spec)} +- {format(self.sem, spec)}"


@dataclass(frozen=True)
class SimulationResult:
    """One simulated LJ fluid, decoded from its record.

    Attributes are in GROMACS units: r [nm] (the model grid), g and g_err (dimensionless), U
    [kJ/mol per particle] and P [bar] as :class:`Estimate`, T_measured [K].
    """

    record: dict

    @classmethod
    def from_record(cls, rec: dict) -> SimulationResult:
        for k in ("spec", "r", "g", "g_err", "energy", "pressure", "phase"):
            if k not in rec:
                raise KeyError(f"simulation record lacks {k!r}")
        return cls(rec)

    # ---- state ---------------------------------------------------------------------------------
    @property
    def T(self) -> float:
        """Set temperature, K."""
        return float(self.record["spec"]["temperature"])

    @property
    def rho(self) -> float:
        """Number density, nm^-3."""
        return float(self.record["spec"]["density"])

    @property
    def C12(self) -> float:
        return float(self.record["spec"]["c12"])

    @property
    def C6(self) -> float:
        return float(self.record["spec"]["c6"])

    @property
    def sigma(self) -> float:
        return float(self.record["sigma"])

    @property
    def epsilon(self) -> float:
        return float(self.record["epsilon"])

    @property
    def T_reduced(self) -> float:
        return float(self.record["T_star"])

    @property
    def rho_reduced(self) -> float:
        return float(self.record["rho_star"])

    @property
    def n_particles(self) -> int:
        """Particles in the run."""
        return int(self.record["spec"]["protocol"]["n_particles"])

    @property
    def rc(self) -> float:
        """Cutoff used, nm."""
        return float(self.record["rc"])

    @property
    def engine(self) -> str:
        return str(self.record["engine"])

    @property
    def cutoff_convention(self) -> str:
        """The run's cutoff convention in words, with its rc_sigma filled in."""
        from deepilst.units import cutoff_text

        if "rc_sigma" in self.record:
            return cutoff_text(float(self.record["rc_sigma"]))
        return str(self.record["cutoff_convention"])

    # ---- observables ---------------------------------------------------------------------------
    @property
    def r(self) -> np.ndarray:
        return decode_array(self.record["r"])

    @property
    def g(self) -> np.ndarray:
        return decode_array(self.record["g"])

    @property
    def g_err(self) -> np.ndarray:
        return decode_array(self.record["g_err"])

    @property
    def U(self) -> Estimate:
        """Potential energy per particle incl. dispersion correction (engine), kJ/mol."""
        return Estimate.from_json(self.record["energy"])

    @property
    def P(self) -> Estimate:
        """Pressure incl. dispersion correction, bar."""
        return Estimate.from_json(self.record["pressure"])

    @property
    def pair_sums(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(mean, covariance) over frames of the sums over pairs inside rc of r^-12 and r^-6
        [nm^-12, nm^-6]; None for records written before they were kept."""
        d = self.record.get("pair_sums")
        if d is None:
            return None
        return np.asarray(d["mean"], dtype=float), np.asarray(d["cov"], dtype=float)

    @property
    def T_measured(self) -> Estimate:
        return Estimate.from_json(self.record["temperature_measured"])

    @property
    def phase(self) -> str:
        return str(self.record["phase"]["label"])

    @property
    def equilibrated(self) -> bool:
        return bool(self.record["equilibration"]["passed"])

    @property
    def wall_s(self) -> float:
        return float(self.record["wall_s"])

    def first_peak(self) -> tuple[float, float, float]:
        """(r [nm], g, its standard error) at the maximum of g."""
        g = self.g
        k = int(np.nanargmax(g))
        return float(self.r[k]), float(g[k]), float(self.g_err[k])

    def summary(self) -> dict:
        """JSON-ready summary: state, phase, first peak, U and P with their standard errors."""
        rp, gp, ep = self.first_peak()
        return {"engine": self.engine, "T": self.T, "rho": self.rho, "C12": self.C12, "C6": self.C6,
                "sigma": self.sigma, "epsilon": self.epsilon, "T_reduced": self.T_reduced,
                "rho_reduced": self.rho_reduced, "phase": self.phase, "first_peak_r": rp,
                "first_peak_g": gp, "first_peak_g_sem": ep, "U": self.U.mean, "U_sem": self.U.sem,
                "P": self.P.mean, "P_sem": self.P.sem, "equilibrated": self.equilibrated,
                "wall_s": self.wall_s, "cutoff_convention": self.cutoff_convention,
                "units": UNITS}

    def format_text(self, every: int = 10) -> str:
        """Human-readable report: state, phase, first peak, U, P and g(r) every ``every`` points."""
        rp, gp, ep = self.first_peak()
        lines = [f"engine {self.engine}  T* = {self.T_reduced:.3f}  rho* = {self.rho_reduced:.3f}"
                 f"  phase: {self.phase}",
                 f"first peak g({rp:.3f} nm) = {gp:.3f} +- {ep:.3f}",
                 f"U/N = {self.U:.4f} kJ/mol,  P = {self.P:.1f} bar",
                 "   r/nm    g(r)"]
        r, g = self.r, self.g
        lines += [f"  {r[i]:.3f}  {g[i]:.4f}" for i in range(50, len(r), every)]
        return "\n".join(lines)

    def write_xvg(self, path: str | Path) -> Path:
        """g(r) and its standard error as a GROMACS-style .xvg (r in nm), atomically."""
        from deepilst.xvg import write_xvg

        write_xvg(path, self.r, [self.g, self.g_err], ["g(r)", "std. error"],
                  title="deepilst simulate",
                  comments=[f"T = {self.T} K, rho = {self.rho} nm^-3, C12 = {self.C12:g}, "
                            f"C6 = {self.C6:g}", f"engine {self.engine}, {self.cutoff_convention}"])
        return Path(path)

    def plot(self, ax=None):
        """g(r) with a +-2 standard-error band on ``ax`` (a new figure if None); returns the Axes."""
        from deepilst.plots import draw_rdf

        return draw_rdf(self.r, self.g, self.g_err, ax=ax,
                        title=f"T = {self.T:g} K, rho = {self.rho:g} nm$^{{-3}}$ ({self.engine})")
