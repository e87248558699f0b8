"""Units, constants and Lennard-Jones parameter conversions.

One unit system inside deepilst (GROMACS units): length nm, time ps, energy kJ/mol,
temperature K, mass amu (g/mol), number density nm^-3, pressure bar. Conversions to other
units happen only at file boundaries.
"""

from __future__ import annotations

import math

import numpy as np

from deepilst.errors import ParameterError

#: Boltzmann constant [kJ mol^-1 K^-1]
KB = 0.0083144626
#: 1 kJ mol^-1 nm^-3 expressed in bar
KJ_MOL_NM3_TO_BAR = 16.6054
#: kJ per kcal (thermochemical)
KJ_PER_KCAL = 4.184
#: kJ/mol per eV
KJ_MOL_PER_EV = 96.48533212

#: The cutoff convention of deepilst: forces and energies truncated at RC_SIGMA * sigma (no
#: shift), analytic tail corrections for energy and pressure. Scaling with sigma makes the law
#: of corresponding states exact. Every record, dataset and model stores its own value; code
#: that reads a model uses the model's (``DeepILST.rc_sigma``), this is the default of new runs.
RC_SIGMA = 3.0
#: The same convention in words, written into every record, dataset and model.
CUTOFF_CONVENTION = ("truncated at rc_sigma*sigma (forces and energies, no shift), analytic "
                     "tail corrections for energy and pressure (full LJ beyond rc)")


def cutoff_text(rc_sigma: float) -> str:
    """The cutoff convention in words, with the number filled in."""
    return (f"rc = {rc_sigma:g} sigma, plain truncation (no shift), analytic tail corrections "
            "for energy and pressure")
#: Argon, the paper's reference (C12 [kJ mol^-1 nm^12], C6 [kJ mol^-1 nm^6])
ARGON_C12 = 9.70e-6
ARGON_C6 = 6.22e-3
ARGON_MASS = 39.948


def check_positive(name: str, value: float) -> float:
    """Return ``value`` as float if it is finite and > 0, else raise :class:`ParameterError`."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a positive number, got {value!r}") from None
    if not math.isfinite(v) or v <= 0.0:
        raise ParameterError(f"{name} must be a finite positive number, got {value!r}")
    return v


def check_positive_array(name: str, value) -> np.ndarray:
    """``value`` as a float array if every entry is finite and > 0, else :class:`ParameterError`."""
    a = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(a) & (a > 0)):
        bad = a[~(np.isfinite(a) & (a > 0))].ravel()[0]
        raise ParameterError(f"{name} must be finite and positive, got {bad!r}")
    return a


def sigma_epsilon(c12, c6):
    """Convert (C12, C6) to (sigma [nm], epsilon [kJ/mol]); scalars give floats, arrays arrays.

    sigma = (C12/C6)^(1/6), epsilon = C6^2 / (4 C12). C12 in kJ mol^-1 nm^12, C6 in
    kJ mol^-1 nm^6.
    """
    if np.ndim(c12) == 0 and np.ndim(c6) == 0:
        c12 = check_positive("C12", c12)
        c6 = check_positive("C6", c6)
    else:
        c12 = check_positive_array("C12", c12)
        c6 = check_positive_array("C6", c6)
    return (c12 / c6) ** (1.0 / 6.0), c6 * c6 / (4.0 * c12)


def c12_c6(sigma: float, epsilon: float) -> tuple[float, float]:
    """Convert (sigma [nm], epsilon [kJ/mol]) to (C12 [kJ mol^-1 nm^12], C6 [kJ mol^-1 nm^6])."""
    sigma = check_positive("sigma", sigma)
    epsilon = check_positive("epsilon", epsilon)
    return 4.0 * epsilon * sigma**12, 4.0 * epsilon * sigma**6


def reduced_state(temperature, density, c12, c6):
    """Reduced temperature and density (T* = kB T / eps, rho* = rho sigma^3); scalars or arrays.

    Parameters
    ----------
    temperature : K
    density : number density, nm^-3
    c12, c6 : LJ coefficients, kJ mol^-1 nm^12 and kJ mol^-1 nm^6
    """
    scalar = all(np.ndim(v) == 0 for v in (temperature, density, c12, c6))
    check = check_positive if scalar else check_positive_array
    t = check("temperature", temperature)
    rho = check("density", density)
    sigma, eps = sigma_epsilon(c12, c6)
    return KB * t / eps, rho * sigma**3


def physical_state(
    t_reduced: float, rho_reduced: float, sigma: float, epsilon: float
) -> tuple[float, float]:
    """Inverse of :func:`reduced_state`: (T [K], rho [nm^-3]) for given sigma [nm], eps [kJ/mol]."""
    t_reduced = check_positive("T_reduced", t_reduced)
    rho_reduced = check_positive("rho_reduced", rho_reduced)
    sigma = check_positive("sigma", sigma)
    epsilon = check_positive("epsilon", epsilon)
    return t_reduced * epsilon / KB, rho_reduced / sigma**3
