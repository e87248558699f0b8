"""What the fits minimise, with statistical errors: eps_rdf (the paper's eq. 7) and the
relative entropy's gradient (eq. A.6) and Hessian for LJ parameters lambda = (C12, C6).

Conventions (``deepilst.units.CUTOFF_CONVENTION``): the CG pair potential is LJ truncated at
rc = RC_SIGMA * sigma(lambda) with no shift and an analytic tail correction. The tail term is the
same for every configuration at fixed N and V, so it cancels from relative-entropy gradients;
the moving cutoff contributes a boundary term u(rc) g(rc) 4 pi rc^2 drc/dlambda, kept.

Units: r nm, g dimensionless, T K, rho nm^-3, C12 kJ mol^-1 nm^12, C6 kJ mol^-1 nm^6; the
relative entropy is dimensionless (per CG run of N beads).
"""

from __future__ import annotations

import math

import numpy as np

from deepilst.rdf import eps_rdf
from deepilst.results import Estimate
from deepilst.units import KB, RC_SIGMA

#: Upper end of the eps_rdf integral, nm: the model grid's end (the paper's r range).
EPS_RDF_R_MAX = 1.5


def _trap_weights(r: np.ndarray) -> np.ndarray:
    """Trapezoid weights of the points ``r`` (so that sum(w f) = trapezoid(f, r))."""
    w = np.zeros_like(r)
    d = np.diff(r)
    w[:-1] += 0.5 * d
    w[1:] += 0.5 * d
    return w


def eps_rdf_estimate(r: np.ndarray, g_model: np.ndarray, err_model: np.ndarray | None,
                     g_ref: np.ndarray, err_ref: np.ndarray | None,
                     r_f: float = EPS_RDF_R_MAX, n_draws: int = 400, seed: int = 0) -> Estimate:
    """eps_rdf = int_0^rf |g_model - g_ref| r^2 dr / int_0^rf g_ref r^2 dr (a fraction), with
    its standard error from the two g's standard errors (normal draws, bins independent).

    NaN points are left out; ``r_f`` [nm] ends the integral (also at the shorter input).
    """
    r = np.asarray(r, dtype=float)
    a = np.asarray(g_model, dtype=float)
    b = np.asarray(g_ref, dtype=float)
    m = np.isfinite(a) & np.isfinite(b) & (r <= r_f + 1e-9)
    ea = np.zeros_like(a) if err_model is None else np.nan_to_num(np.asarray(err_model, float))
    eb = np.zeros_like(b) if err_ref is None else np.nan_to_num(np.asarray(err_ref, float))
    r, a, b, ea, eb = r[m], a[m], b[m], ea[m], eb[m]
    w = _trap_weights(r) * r**2
    value = eps_rdf(r, a, b)
    rng = np.random.default_rng(seed)
    da = a + ea * rng.standard_normal((n_draws, len(r)))
    db = b + eb * rng.standard_normal((n_draws, len(r)))
    draws = np.sum(np.abs(da - db) * w, axis=1) / np.sum(db * w, axis=1)
    return Estimate(value, float(np.std(draws, ddof=1)))


def eps_rdf_floor(r: np.ndarray, err_model: np.ndarray, g_ref: np.ndarray, err_ref: np.ndarray,
                  r_f: float = EPS_RDF_R_MAX) -> float:
    """The eps_rdf that statistical noise alone gives between two g's that are the same in
    expectation: int sqrt(2/pi) sqrt(err_m^2 + err_r^2) r^2 dr / int g_ref r^2 dr (a fraction)."""
    r = np.asarray(r, dtype=float)
    b = np.asarray(g_ref, dtype=float)
    s = np.hypot(np.nan_to_num(np.asarray(err_model, float)), np.nan_to_num(np.asarray(err_ref,
                                                                                    float)))
    m = np.isfinite(b) & (r <= r_f + 1e-9)
    w = _trap_weights(r[m]) * r[m] ** 2
    return float(math.sqrt(2.0 / math.pi) * np.sum(s[m] * w) / np.sum(b[m] * w))


def _du_inside(r: np.ndarray, rc: float) -> np.ndarray:
    """(r^-12, -r^-6) at r [nm] for 0 < r < rc, zero elsewhere; shape (2, len(r))."""
    r = np.asarray(r, dtype=float)
    inside = (r > 0) & (r < rc)
    with np.errstate(divide="ignore", over="ignore"):
        inv6 = np.where(inside, 1.0 / np.where(r > 0, r, 1.0) ** 6, 0.0)
    return np.vstack([inv6 * inv6, -inv6])


def du_dlambda(r: np.ndarray, c12: float, c6: float, rc_sigma: float = RC_SIGMA) -> np.ndarray:
    """Derivatives of the truncated LJ pair energy with respect to (C12, C6) at r [nm], shape
    (2, len(r)): (r^-12, -r^-6) inside rc = rc_sigma * sigma, zero outside."""
    return _du_inside(r, rc_sigma * (c12 / c6) ** (1.0 / 6.0))


def _pair_prefactor(density: float, n_particles: int) -> float:
    """(N rho / 2) 4 pi [nm^-3]: pairs per unit of g r^2 dr."""
    return 0.5 * n_particles * density * 4.0 * math.pi


def _shell_weights(r: np.ndarray, du: np.ndarray, density: float, n_particles: int) -> np.ndarray:
    """Weights w (2, len(r)) with <dU/dlambda> = w @ g: (N rho / 2) du/dlambda 4 pi r^2 times
    the trapezoid weights of ``r`` [nm]."""
    return du * (_trap_weights(r) * r**2)[None, :] * _pair_prefactor(density, n_particles)


def _bin_cov(wd: np.ndarray, g_err: np.ndarray | None) -> np.ndarray:
    """Covariance of wd @ g from the standard errors of g, bins independent (zero without)."""
    if g_err is None:
        return np.zeros((len(wd), len(wd)))
    e2 = np.nan_to_num(np.asarray(g_err, dtype=float)) ** 2
    return (wd * e2[None, :]) @ wd.T


def _boundary(c12: float, c6: float, rc_sigma: float) -> tuple[float, np.ndarray]:
    """(rc [nm], d rc / d lambda [nm per unit of C12, C6]) of the moving cutoff."""
    rc = rc_sigma * (c12 / c6) ** (1.0 / 6.0)
    return rc, np.array([rc / (6.0 * c12), -rc / (6.0 * c6)])


def mean_pair_derivative(r: np.ndarray, g: np.ndarray, g_err: np.ndarray | None, density: float,
                         n_particles: int, c12: float, c6: float,
                         rc_sigma: float = RC_SIGMA) -> tuple[np.ndarray, np.ndarray]:
    """<dU/dlambda> [kJ/mol per unit of C12, C6] of N particles with pair structure g(r):
    (N rho / 2) int du/dlambda g 4 pi r^2 dr plus the moving-cutoff term; and its standard
    error from ``g_err`` (bins independent). NaN g is treated as 1 (beyond the data)."""
    r = np.asarray(r, dtype=float)
    g = np.where(np.isfinite(g), g, 1.0)
    wd = _shell_weights(r, du_dlambda(r, c12, c6, rc_sigma), density, n_particles)
    mean = wd @ g
    err = np.sqrt(np.diag(_bin_cov(wd, g_err)))
    rc, drc = _boundary(c12, c6, rc_sigma)
    u_rc = c12 / rc**12 - c6 / rc**6
    g_rc = float(np.interp(rc, r, g))
    mean = mean + _pair_prefactor(density, n_particles) * u_rc * g_rc * rc**2 * drc
    return mean, err


def re_gradient(target_r: np.ndarray, target_g: np.ndarray, target_err: np.ndarray | None,
                cg_g: np.ndarray, cg_err: np.ndarray | None, temperature: float,
                density: float, n_particles: int, c12: float, c6: float,
                rc_sigma: float = RC_SIGMA) -> tuple[np.ndarray, np.ndarray]:
    """Gradient of the relative entropy (eq. A.6), dS/dlambda = beta (<dU/dlambda>_target -
    <dU/dlambda>_CG) [per unit of C12, C6], for N CG beads, and its standard error. Both g's on
    the same points ``target_r`` [nm]."""
    beta = 1.0 / (KB * temperature)
    a, ea = mean_pair_derivative(target_r, target_g, target_err, density, n_particles, c12, c6,
                                 rc_sigma)
    b, eb = mean_pair_derivative(target_r, cg_g, cg_err, density, n_particles, c12, c6,
                                 rc_sigma)
    return beta * (a - b), beta * np.hypot(ea, eb)


def re_hessian(pair_cov: np.ndarray, temperature: float) -> np.ndarray:
    """Hessian of the relative entropy in (C12, C6), beta^2 Cov_CG(dU/dlambda), from the
    covariance over CG frames of the pair sums (sum r^-12, sum r^-6) [nm^-12, nm^-6]."""
    beta = 1.0 / (KB * temperature)
    sign = np.array([[1.0, -1.0], [-1.0, 1.0]])  # dU/dC6 = -sum r^-6
    return beta**2 * np.asarray(pair_cov, dtype=float) * sign


def gradient_cov_bins(r: np.ndarray, g_err: np.ndarray | None, temperature: float,
                      density: float, n_particles: int, c12: float, c6: float,
                      rc_sigma: float = RC_SIGMA) -> np.ndarray:
    """Covariance [per unit of C12, C6, squared] that the standard errors ``g_err`` of one g(r)
    give beta <dU/dlambda> (eq. A.6), with the bins taken as independent. Both components are
    integrals over the same bins, hence strongly anticorrelated. Histogram bins of MD are not
    independent (a pair crossing a shell boundary leaves one bin for the next): on our CG runs
    this overstates the standard errors by a factor 1.0-2.7, the most in dense structured
    fluids (benchmarks/fit_methods.py gradcheck)."""
    beta = 1.0 / (KB * temperature)
    r = np.asarray(r, dtype=float)
    wd = _shell_weights(r, du_dlambda(r, c12, c6, rc_sigma), density, n_particles)
    return beta**2 * _bin_cov(wd, g_err)


def gradient_cov_frames(hessian: np.ndarray, n_frames: int) -> np.ndarray:
    """Covariance of the CG part of the A.6 gradient from the run's own frames: beta^2
    Cov_frames(dU/dlambda) / n_frames = H / n_frames (frames taken as independent; they are
    100 MD steps apart, and the scatter of repeated runs agrees within its own uncertainty)."""
    return np.asarray(hessian, dtype=float) / float(n_frames)


def re_gradient_repulsive(target_r: np.ndarray, target_g: np.ndarray,
                          target_err: np.ndarray | None, cg_g: np.ndarray,
                          cg_err: np.ndarray | None, temperature: float, density: float,
                          n_particles: int, rc: float, cg_sem_c12: float | None = None
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Relative-entropy gradient (eq. A.6) on the boundary C6 = 0 of the LJ family, where the
    CG pair potential is the pure repulsion C12 r^-12 cut at a fixed ``rc`` [nm]: dS/dlambda =
    beta (<dU/dlambda>_target - <dU/dlambda>_CG) with dU/dC12 = sum r^-12 and dU/dC6 = -sum
    r^-6 over pairs inside rc (the attraction that would be switched on). Returns the gradient
    [per unit of C12, C6] and its 2 x 2 covariance: from the bin errors of both g's (bins taken
    as independent, which overstates it, :func:`gradient_cov_bins`), except that the CG part of
    the C12 component is ``cg_sem_c12`` [kJ/mol per unit of C12] when given (from the run's
    energy, which is C12 sum r^-12), the target's part rescaled alike."""
    beta = 1.0 / (KB * temperature)
    r = np.asarray(target_r, dtype=float)
    wd = _shell_weights(r, _du_inside(r, rc), density, n_particles)

    def mean(g):
        g = np.asarray(g, dtype=float)
        return wd @ np.where(np.isfinite(g), g, 1.0)

    a, cov_t = mean(target_g), _bin_cov(wd, target_err)
    b, cov_cg = mean(cg_g), _bin_cov(wd, cg_err)
    if cg_sem_c12 is not None and cov_cg[0, 0] > 0:
        k = np.array([cg_sem_c12 / math.sqrt(cov_cg[0, 0]), 1.0])
        cov_cg = cov_cg * np.outer(k, k)
        cov_t = cov_t * np.outer(k, k)
    return beta * (a - b), beta**2 * (cov_t + cov_cg)


def re_gradient_cov(target_r: np.ndarray, target_g: np.ndarray, target_err: np.ndarray | None,
                    cg_g: np.ndarray, cg_err: np.ndarray | None, temperature: float,
                    density: float, n_particles: int, c12: float, c6: float,
                    rc_sigma: float = RC_SIGMA,
                    cg_cov: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`re_gradient` with the full 2 x 2 covariance of its two components [per unit of
    C12, C6, squared] instead of their standard errors.

    Without ``cg_cov`` both parts come from the bin errors (:func:`gradient_cov_bins`). With
    ``cg_cov`` (the CG part from the run's frames, :func:`gradient_cov_frames`), the target's
    bin covariance is rescaled, component by component, by the ratio of the CG run's frame and
    bin standard errors: both g's are histograms of similar structure on the same shells."""
    args = (temperature, density, n_particles, c12, c6, rc_sigma)
    r = np.asarray(target_r, dtype=float)
    cov_t = gradient_cov_bins(r, target_err, *args)
    cov_cg = gradient_cov_bins(r, cg_err, *args)
    if cg_cov is not None and np.all(np.isfinite(cg_cov)):
        d_bins = np.diag(cov_cg)
        scale = np.sqrt(np.diag(cg_cov) / np.where(d_bins > 0, d_bins, np.inf))
        cov_t = cov_t * np.outer(scale, scale)
        cov_cg = np.asarray(cg_cov, dtype=float)
    grad, _ = re_gradient(r, target_g, None, cg_g, None, temperature, density, n_particles, c12,
                          c6, rc_sigma)
    return grad, cov_t + cov_cg
