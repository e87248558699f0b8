"""Thermodynamics of LJ fluids: analytic tail corrections and the reference equation of state.

Tail corrections assume g(r) = 1 beyond the cutoff r_c and the full (untruncated) 12-6 potential:

* energy per particle  U_tail/N = 2 pi rho (C12 / (9 r_c^9) - C6 / (3 r_c^3))
* pressure             P_tail   = (2 pi / 3) rho^2 (4 C12 / (3 r_c^9) - 2 C6 / r_c^3)

(rho in nm^-3, C12 / C6 in kJ mol^-1 nm^12 / nm^6, r_c in nm, energies kJ/mol, pressure
kJ mol^-1 nm^-3; multiply by :data:`deepilst.units.KJ_MOL_NM3_TO_BAR` for bar.)
"""

from __future__ import annotations

import math

import numpy as np

from deepilst.units import KB, KJ_MOL_NM3_TO_BAR, sigma_epsilon


def energy_tail(density: float, c12: float, c6: float, rc: float) -> float:
    """Tail correction to the potential energy per particle beyond ``rc`` [kJ/mol]."""
    return 2.0 * math.pi * density * (c12 / (9.0 * rc**9) - c6 / (3.0 * rc**3))


def pressure_tail(density: float, c12: float, c6: float, rc: float) -> float:
    """Tail correction to the pressure beyond ``rc`` [bar]."""
    p = (2.0 * math.pi / 3.0) * density**2 * (4.0 * c12 / (3.0 * rc**9) - 2.0 * c6 / rc**3)
    return p * KJ_MOL_NM3_TO_BAR


def lj_eos(temperature: float, density: float, c12: float, c6: float,
           model: str = "thol2016") -> tuple[float, float]:
    """Pressure [bar] and potential energy per particle [kJ/mol] of the full LJ fluid from the
    Thol et al. (2016) equation of state (via teqp; the model is only defined for fluid states).
    """
    if model != "thol2016":
        raise ValueError(f"unknown EOS model {model!r}; available: thol2016")
    import teqp

    sigma, eps = sigma_epsilon(c12, c6)
    ts = KB * temperature / eps
    rs = density * sigma**3
    m = teqp.build_LJ126_TholJPCRD2016()
    z = np.array([1.0])
    p_star = rs * ts * (1.0 + m.get_Ar01(ts, rs, z))
    u_star = ts * m.get_Ar10(ts, rs, z)
    return p_star * eps / sigma**3 * KJ_MOL_NM3_TO_BAR, u_star * eps


def _integrand_window(r: np.ndarray, g: np.ndarray, r_end: float) -> tuple[np.ndarray, np.ndarray]:
    r = np.asarray(r, dtype=float)
    g = np.asarray(g, dtype=float)
    m = np.isfinite(g) & (r > 0) & (r <= r_end + 1e-12)
    return r[m], g[m]


def energy_from_rdf(r: np.ndarray, g: np.ndarray, density: float, c12: float, c6: float,
                    rc: float | None = None) -> float:
    """Potential energy per particle [kJ/mol] from g(r): 2 pi rho int u g r^2 dr up to ``rc``
    (default: the end of the data) plus the analytic tail beyond it (g = 1, full LJ).

    r in nm on a uniform grid, g dimensionless (NaN entries are skipped), rho in nm^-3. With
    ``rc`` = the MD cutoff this is the quantity GROMACS and OpenMM report with their
    dispersion correction.
    """
    from deepilst.potentials import lj_potential

    r_end = float(r[np.isfinite(g)][-1]) if rc is None else float(rc)
    rr, gg = _integrand_window(r, g, r_end)
    f = lj_potential(rr, c12, c6) * gg * rr**2
    return float(2.0 * math.pi * density * np.trapezoid(f, rr)) + energy_tail(density, c12, c6, r_end)


def pressure_from_rdf(r: np.ndarray, g: np.ndarray, temperature: float, density: float,
                      c12: float, c6: float, rc: float | None = None) -> float:
    """Pressure [bar] from g(r) by the virial route: rho kB T - (2 pi/3) rho^2 int r u'(r) g r^2
    dr up to ``rc`` (default: the end of the data) plus the analytic tail beyond it."""
    from deepilst.potentials import lj_r_du_dr

    r_end = float(r[np.isfinite(g)][-1]) if rc is None else float(rc)
    rr, gg = _integrand_window(r, g, r_end)
    f = lj_r_du_dr(rr, c12, c6) * gg * rr**2
    p = density * KB * temperature - (2.0 * math.pi / 3.0) * density**2 * np.trapezoid(f, rr)
    return float(p * KJ_MOL_NM3_TO_BAR) + pressure_tail(density, c12, c6, r_end)


def pressure_energy_batch(r: np.ndarray, g: np.ndarray, temperature: float, density: float,
                          c12: np.ndarray, c6: np.ndarray, rc: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`pressure_from_rdf` [bar] and :func:`energy_from_rdf` [kJ/mol] of one g(r) for
    many parameter sets (arrays C12, C6 and cutoffs rc [nm]) at once; the same quadrature
    (trapezoid over the grid points up to each rc) and tails, summed in another order."""
    r = np.asarray(r, dtype=float)
    g = np.asarray(g, dtype=float)
    m = np.isfinite(g) & (r > 0)
    rr, gg = r[m], g[m]
    inv6 = rr**-6
    w = gg * rr**2

    def cumtrap(f: np.ndarray) -> np.ndarray:
        return np.concatenate([[0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(rr))])

    e12, e6 = cumtrap(inv6 * inv6 * w), cumtrap(-inv6 * w)
    p12, p6 = cumtrap(-12.0 * inv6 * inv6 * w), cumtrap(6.0 * inv6 * w)
    c12, c6, rc = (np.asarray(x, dtype=float) for x in (c12, c6, rc))
    k = np.searchsorted(rr, rc + 1e-12, side="right") - 1
    u = 2.0 * math.pi * density * (c12 * e12[k] + c6 * e6[k])
    u = u + 2.0 * math.pi * density * (c12 / (9.0 * rc**9) - c6 / (3.0 * rc**3))
    p = density * KB * temperature - (2.0 * math.pi / 3.0) * density**2 * (c12 * p12[k] + c6 * p6[k])
    p = p * KJ_MOL_NM3_TO_BAR
    p = p + (2.0 * math.pi / 3.0) * density**2 * (4.0 * c12 / (3.0 * rc**9) - 2.0 * c6 / rc**3) \
        * KJ_MOL_NM3_TO_BAR
    return p, u
