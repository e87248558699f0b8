"""Relative entropy (eps_KL, the paper's eq. 8 / A.4) of single-bead LJ models against a target
g(r), per particle, without simulations.

S_rel(lambda) / N = beta <U_lambda>_target / N - beta A_lambda(T, rho) / N + const, for
lambda = (C12, C6). U_lambda is the energy whose Boltzmann distribution the CG model samples:
deepilst truncates LJ forces at r_c = 3 sigma without a shift, so MD follows the
truncated-and-shifted pair energy u(r) - u(r_c) inside r_c, and

    <U_lambda>_target / N = (rho / 2) int_0^rc (u(r) - u(r_c)) g_target(r) 4 pi r^2 dr,

evaluated exactly on the target's shells (g constant over each shell, as a histogram is; the
powers of r integrate analytically, so the map is smooth in lambda), g = 1 beyond the data.
beta A_lambda / N comes from :class:`deepilst.freeenergy.LJFreeEnergy` (the Thol EOS plus a
correction fitted to our MD, for the same truncated-shifted model). Both sides thus describe
the model MD actually runs; the constant (the target's own entropy and the mapping entropy)
does not depend on lambda and is removed by subtracting the map's minimum.

Its gradient is eq. A.6 for that energy: dS/dlambda = beta (<dU/dlambda>_target -
<dU/dlambda>_CG), with dU/dlambda = sum over pairs inside r_c of du/dlambda(r) -
du(r_c)/dlambda (:func:`re_gradient_ts`).
"""

from __future__ import annotations

import math

import numpy as np

from deepilst.rdf import centered_edges
from deepilst.units import KB, RC_SIGMA, sigma_epsilon

#: the powers p of r^p whose shell integrals int g r^p r^2 dr the energies need
POWERS = (-12, -6, 0)


def refine_shells(edges: np.ndarray, g: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Split each shell into ``k`` sub-shells, conserving its pair count: a monotone cubic
    (PCHIP) through the cumulative pair content W(r) = int_0^r g 4 pi r'^2 dr' at the edges,
    differenced on the sub-edges. On the steep core a shell's g is not constant; on 100
    fluid test states the r^-12 integral of the 0.005 nm shells refined so equals that of the
    runs' own 0.0005 nm histograms to 2e-5 (constant shells: 1.8e-3 too high)."""
    from scipy.interpolate import PchipInterpolator

    vol = 4.0 * math.pi / 3.0 * (edges[1:] ** 3 - edges[:-1] ** 3)
    w = np.concatenate([[0.0], np.cumsum(g * vol)])
    f = PchipInterpolator(edges, w)
    frac = np.arange(k) / k
    sub = np.concatenate([(edges[:-1, None] + np.diff(edges)[:, None] * frac[None, :]).ravel(),
                          edges[-1:]])
    dv = 4.0 * math.pi / 3.0 * (sub[1:] ** 3 - sub[:-1] ** 3)
    return sub, np.maximum(np.diff(f(sub)), 0.0) / dv


class ShellIntegrals:
    """Cumulative integrals I_p(x) = int_0^x g(r) r^p r^2 dr, p = -12, -6, 0, of a histogram
    g(r) on shells with ``edges`` [nm] (NaN shells end the data, g = 1 beyond), each shell
    split into ``refine`` sub-shells that keep its pair count (:func:`refine_shells`; 1: g
    constant over each shell). Vectorised over x [nm]."""

    def __init__(self, edges: np.ndarray, g: np.ndarray, refine: int = 10) -> None:
        e = np.asarray(edges, dtype=float)
        g = np.asarray(g, dtype=float)
        finite = np.flatnonzero(np.isfinite(g))
        n = int(finite[-1]) + 1 if finite.size else 0
        self.edges, self.g = e[: n + 1], np.nan_to_num(g[:n])
        if refine > 1 and n > 1:
            self.edges, self.g = refine_shells(self.edges, self.g, int(refine))
        self.r_end = float(self.edges[-1])
        self._cum = []
        for p in POWERS:
            f = self._anti(p, self.edges[1:]) - self._anti(p, self.edges[:-1], self.g > 0)
            part = np.where(self.g > 0, self.g * f, 0.0)
            self._cum.append(np.concatenate([[0.0], np.cumsum(part)]))

    @staticmethod
    def _anti(p: int, x: np.ndarray, use: np.ndarray | None = None) -> np.ndarray:
        """Antiderivative of r^(p+2): r^(p+3) / (p+3) (0 where ``use`` is False)."""
        x = np.asarray(x, dtype=float)
        safe = np.where(x > 0, x, 1.0) if use is None else np.where(use & (x > 0), x, 1.0)
        out = safe ** (p + 3) / (p + 3)
        if use is not None:
            out = np.where(use, out, 0.0)
        return out

    def __call__(self, x) -> np.ndarray:
        """(3, ...) array: I_-12, I_-6, I_0 at x [nm]."""
        x = np.asarray(x, dtype=float)
        k = np.clip(np.searchsorted(self.edges, x, side="right") - 1, 0, len(self.g) - 1)
        beyond = x > self.r_end
        out = []
        for p, cum in zip(POWERS, self._cum):
            gk = self.g[k]
            lo = self.edges[k]
            inside = cum[k] + np.where(gk > 0, gk * (self._anti(p, np.maximum(x, lo)) -
                                                     self._anti(p, lo, gk > 0)), 0.0)
            tail = cum[-1] + self._anti(p, np.maximum(x, self.r_end)) - self._anti(p, np.full_like(x,
                                                                                      self.r_end))
            out.append(np.where(beyond, tail, inside))
        return np.array(out)


def target_integrals(target) -> ShellIntegrals:
    """Shell integrals of a :class:`deepilst.fit.Target` (its shells: the model grid's)."""
    return ShellIntegrals(centered_edges(target.r), target.g)


def target_energy(integrals: ShellIntegrals, density: float, c12, c6,
                  rc_sigma: float = RC_SIGMA) -> np.ndarray:
    """<U_TS>_target / N [kJ/mol]: (rho/2) int_0^rc (u - u(rc)) g 4 pi r^2 dr for arrays of
    (C12, C6), rc = rc_sigma sigma."""
    c12, c6 = np.asarray(c12, float), np.asarray(c6, float)
    rc = rc_sigma * (c12 / c6) ** (1.0 / 6.0)
    i12, i6, i0 = integrals(rc)
    u_rc = c12 * rc**-12 - c6 * rc**-6
    return 2.0 * math.pi * density * (c12 * i12 - c6 * i6 - u_rc * i0)


def relative_entropy(target, c12, c6, free_energy, integrals: ShellIntegrals | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """S_rel / N + const [kB T per particle] of LJ models (arrays C12, C6) against ``target``.

    Returns (S, T_reduced, rho_reduced, covered): ``covered`` says where the free energy was
    fitted (:meth:`deepilst.freeenergy.LJFreeEnergy.covers`); S is computed everywhere.
    """
    c12, c6 = np.broadcast_arrays(np.asarray(c12, float), np.asarray(c6, float))
    integrals = integrals or target_integrals(target)
    sigma, eps = sigma_epsilon(c12, c6)
    beta = 1.0 / (KB * target.temperature)
    t_red, rho_red = KB * target.temperature / eps, target.density * sigma**3
    u = target_energy(integrals, target.density, c12, c6, free_energy.rc_sigma)
    s = beta * u - free_energy.helmholtz(t_red, rho_red)
    return s, t_red, rho_red, free_energy.covers(t_red, rho_red)


def mean_pair_derivative_ts(integrals: ShellIntegrals, density: float, c12: float, c6: float,
                            rc_sigma: float = RC_SIGMA) -> np.ndarray:
    """<dU_TS/dlambda> / N [per unit of C12, C6] of pair structure ``integrals``:
    (rho/2) int_0^rc (du/dlambda - du(rc)/dlambda) g 4 pi r^2 dr, where u(rc) = 4 eps
    (k^-12 - k^-6) (k = rc_sigma) moves with eps = C6^2 / (4 C12)."""
    rc = rc_sigma * (c12 / c6) ** (1.0 / 6.0)
    i12, i6, i0 = integrals(rc)
    k = 4.0 * (rc_sigma**-12 - rc_sigma**-6)
    deps = np.array([-(c6**2) / (4.0 * c12**2), c6 / (2.0 * c12)])
    pref = 2.0 * math.pi * density
    return pref * (np.array([i12, -i6]) - k * deps * i0)


def re_gradient_ts(target_integrals_: ShellIntegrals, cg_integrals: ShellIntegrals, temperature: float,
                   density: float, c12: float, c6: float, rc_sigma: float = RC_SIGMA) -> np.ndarray:
    """dS_rel/dlambda per particle (eq. A.6 for the truncated-shifted energy MD samples),
    beta (<dU/dlambda>_target - <dU/dlambda>_CG) / N [per unit of C12, C6]."""
    beta = 1.0 / (KB * temperature)
    a = mean_pair_derivative_ts(target_integrals_, density, c12, c6, rc_sigma)
    b = mean_pair_derivative_ts(cg_integrals, density, c12, c6, rc_sigma)
    return beta * (a - b)
