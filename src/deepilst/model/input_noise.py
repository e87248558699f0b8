"""Intervals that know the input RDF's own statistical noise (issue 13).

The ensemble's calibrated covariance S_model of u = (log T*, log rho*) was fitted on validation
RDFs from 350-ps runs of 1000 particles, so it already holds the noise of such an input. For
another input we

1. take the standard error sigma_g(r) of each point of g: the input's error column
   (``"file"``), a reference noise model scaled to the run length the user states
   (``"prod_ps"``: sigma_ref * sqrt(350 ps / prod_ps * 1000 / N), or g's scatter level when that
   is higher), or g's own bin-to-bin scatter (``"scatter"``, for ``gmx rdf`` output, which has no
   errors); see :func:`input_sigma`;
2. predict on ``n_draws`` noisy copies g + sigma_g z (z standard normal, independent bins: the
   noise of g on 0.005 nm bins is close to independent) and take the covariance N_in of u over
   the draws;
3. compare the input's noise with that of a reference 350-ps input at the same state,
   s2 = median over the points the network reads of sigma_g^2 / sigma_ref^2, and add only the
   excess: S_total = S_model + K max(0, 1 - 1/s2) N_in (N_in / s2 is the reference input's noise
   covariance, already inside S_model; inputs less noisy than the reference keep S_model).

K = ``NOISE_SCALE`` = 0.6 (ours): independent draws overstate the effect of real MD noise on
the prediction (a run of fixed N constrains the pair count summed over r, so its noise has less
of the slowly varying part the network is sensitive to; neighbouring bins are uncorrelated).
Fitted on run-to-run differences, not on truth: over 200 fluid states of ``data/v1_test.h5``
(one 350-ps run) and ``data/v1_test_2runs.h5`` (that run pooled with a second one), the
prediction difference has <z^2> = 0.56 (C12) and 0.56 (C6) in units of the drawn noise variance
(0.6 at T* < 15); fresh 20-ps vs 350-ps runs (benchmarks/input_noise.py) give 0.6 and 0.74.

The reference noise model (ours, fitted on the block standard errors of the 500 single-run
states of ``data/v1_test.h5``, 350 ps, N = 1000, frames every 100 steps, argon mass):
sigma_ref^2(r) = Q_REF * tau * g(r) / (rho r^2), with tau = sigma sqrt(m / max(eps, kB T)) [ps]
the time unit of the run (the noise variance of a histogram goes as g / (rho r^2) per bin and as
the correlation time over the run length); scatter of the fit 11 % in variance.
"""

from __future__ import annotations

import numpy as np

from deepilst.errors import ParameterError
from deepilst.model.targets import LOG_LINEAR, Z95
from deepilst.units import ARGON_MASS, KB, sigma_epsilon

#: production length [ps] and particle number of the runs the model's intervals are calibrated on
REF_PROD_PS = 350.0
REF_N_PARTICLES = 1000
#: sigma_ref^2 = Q_REF * tau * g / (rho r^2) [nm^-1 ps^-1 * ps * nm] (module docstring)
Q_REF = 6.68e-5
#: factor on the drawn noise covariance: effect of real MD noise over independent draws
#: (module docstring)
NOISE_SCALE = 0.6
#: the points whose noise level is compared: r >= R_READ nm (the networks read r >= 0.25 nm)
#: and g >= G_MIN (inside the core the error is zero)
R_READ = 0.25
G_MIN = 0.3
SOURCES = ("file", "prod_ps", "scatter", "none")


def reference_sigma(r: np.ndarray, g: np.ndarray, temperature: float, density: float, c12: float,
                    c6: float, prod_ps: float = REF_PROD_PS,
                    n_particles: int = REF_N_PARTICLES) -> np.ndarray:
    """Standard error of each point of g(r) for a run of ``prod_ps`` ps of ``n_particles``
    particles sampled like the training runs (reference noise model, module docstring).

    Parameters
    ----------
    r : grid [nm]; g : g(r) on it (negative values count as 0)
    temperature : K; density : nm^-3; c12, c6 : the fluid's LJ parameters (the prediction)
    """
    if not prod_ps > 0 or not n_particles >= 2:
        raise ParameterError(f"prod_ps must be > 0 and n_particles >= 2, got {prod_ps}, "
                             f"{n_particles}")
    sigma, eps = sigma_epsilon(c12, c6)
    tau = sigma * np.sqrt(ARGON_MASS / max(float(eps), KB * temperature))
    r = np.asarray(r, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = Q_REF * tau * np.clip(g, 0.0, None) / (density * r**2)
    var = np.where(r > 0, var, 0.0)
    return np.sqrt(var * (REF_PROD_PS / prod_ps) * (REF_N_PARTICLES / n_particles))


def noise_ratio(r: np.ndarray, g: np.ndarray, g_err: np.ndarray, sigma_ref: np.ndarray) -> float:
    """s2: median of g_err^2 / sigma_ref^2 over the points the network reads (r >= ``R_READ``,
    g >= ``G_MIN``, finite positive errors); the input's noise variance relative to the
    reference 350-ps input. NaN when no point qualifies."""
    m = (np.asarray(r) >= R_READ - 1e-9) & (g >= G_MIN) & np.isfinite(g_err) & (sigma_ref > 0)
    if not m.any():
        return float("nan")
    return float(np.median(g_err[m] ** 2 / sigma_ref[m] ** 2))


def noise_covariance(model, g: np.ndarray, g_err: np.ndarray, temperature, density,
                     n_draws: int = 200, seed: int = 0, r: np.ndarray | None = None) -> np.ndarray:
    """Covariance (n, 2, 2) of u = (log T*, log rho*) predicted on noisy copies of each input.

    Parameters
    ----------
    model : a :class:`~deepilst.model.core.DeepILST` ensemble
    g, g_err : RDFs and their standard errors, (n, len(r)); NaN errors count as 0
    temperature : K; density : nm^-3 (arrays of n or scalars)
    n_draws : noisy copies per RDF (the covariance's relative error is ~ sqrt(2 / n_draws))
    seed : seed of the draws; r : grid [nm] (default the model's)
    """
    if int(n_draws) < 3:
        raise ParameterError(f"n_draws must be >= 3, got {n_draws}")
    g = np.array(g, dtype=float, ndmin=2)
    e = np.nan_to_num(np.array(g_err, dtype=float, ndmin=2), nan=0.0)
    if e.shape != g.shape:
        raise ParameterError(f"g_err has shape {e.shape} but g has {g.shape}")
    n, k = len(g), int(n_draws)
    T = np.broadcast_to(np.asarray(temperature, dtype=float), (n,))
    rho = np.broadcast_to(np.asarray(density, dtype=float), (n,))
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 2, 2))
    for i in range(n):
        draws = g[i] + e[i] * rng.standard_normal((k, g.shape[1]))
        res = model.predict(draws, np.full(k, T[i]), np.full(k, rho[i]), r=r)
        u = np.column_stack([np.log(res["T_reduced"]), np.log(res["rho_reduced"])])
        out[i] = np.cov(u, rowvar=False)
    return out


def combine(log_cov: np.ndarray, noise_cov: np.ndarray, s2,
            scale: float = NOISE_SCALE) -> np.ndarray:
    """Total covariance (n, 2, 2): ``log_cov`` + ``scale`` max(0, 1 - 1/s2) ``noise_cov``. The
    model's ``log_cov`` already holds the noise of a reference input (``noise_cov`` / s2); NaN
    s2 adds nothing; ``scale`` is the effect of real MD noise over independent draws."""
    s2 = np.atleast_1d(np.asarray(s2, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(np.isfinite(s2) & (s2 > 1.0), 1.0 - 1.0 / s2, 0.0)
    return np.asarray(log_cov) + float(scale) * w[:, None, None] * np.asarray(noise_cov)


def intervals(res: dict, log_cov: np.ndarray) -> dict[str, np.ndarray]:
    """``_std`` and ``_95`` of every log-linear quantity (C12, C6, sigma, epsilon, T_reduced,
    rho_reduced) of a prediction ``res`` (:meth:`DeepILST.predict`, ensemble) recomputed from
    the covariance ``log_cov`` (n, 2, 2) of u; the estimates themselves are unchanged.
    ``log_cov`` is returned too."""
    out: dict[str, np.ndarray] = {"log_cov": np.asarray(log_cov)}
    for q, a in LOG_LINEAR.items():
        a = np.array(a)
        v = np.asarray(res[q], dtype=float)
        lm = np.log(v)
        ls = np.sqrt(np.einsum("i,nij,j->n", a, log_cov, a))
        out[q + "_std"] = v * ls
        out[q + "_95"] = np.column_stack([np.exp(lm - Z95 * ls), np.exp(lm + Z95 * ls)])
    return out


def input_sigma(r: np.ndarray, g: np.ndarray, temperature: float, density: float, c12: float,
                c6: float, g_err: np.ndarray | None = None, prod_ps: float | None = None,
                n_particles: int = REF_N_PARTICLES, scatter: bool = True
                ) -> tuple[np.ndarray | None, float, str, dict]:
    """The standard errors of one input g(r) [on ``r``, nm], their variance relative to the
    reference 350-ps input (s2) and where they come from.

    In order of preference: the error column ``g_err`` (``"file"``); the stated run length
    ``prod_ps`` [ps] of ``n_particles`` particles (``"prod_ps"``: s2 = 350/prod_ps * 1000/N),
    raised to g's bin-to-bin scatter level when ``scatter`` and that is larger (``"scatter"``:
    frames sparser than ~1 ps, or a thinner sample than stated, make more noise than the run
    length implies); g's scatter alone (``"scatter"``); nothing (``(None, nan, "none", {})``).
    Without an error column the errors are the reference model's shape scaled to s2 (a running
    median flattens the first peak, where the noise is largest). The dict holds the s2 of each
    estimate made (``noise_ratio_prod_ps``, ``noise_ratio_scatter``).
    """
    ref = reference_sigma(r, g, temperature, density, c12, c6)
    if g_err is not None:
        e = np.nan_to_num(np.asarray(g_err, dtype=float), nan=0.0)
        return e, noise_ratio(r, g, e, ref), "file", {}
    est: dict[str, float] = {}
    if prod_ps is not None:
        reference_sigma(r, g, temperature, density, c12, c6, prod_ps, n_particles)  # checks
        est["prod_ps"] = (REF_PROD_PS / float(prod_ps)) * (REF_N_PARTICLES / float(n_particles))
    if scatter:
        s2 = noise_ratio(r, g, scatter_sigma(g), ref)
        if np.isfinite(s2):
            est["scatter"] = s2
    extra = {f"noise_ratio_{k}": v for k, v in est.items()}
    if not est:
        return None, float("nan"), "none", extra
    source = max(est, key=lambda k: (est[k], k == "prod_ps"))
    return ref * np.sqrt(est[source]), est[source], source, extra


def scatter_sigma(g: np.ndarray, half_window: int = 20) -> np.ndarray:
    """Standard error of each point of g from its bin-to-bin scatter
    (:func:`deepilst.stats.scatter_sem`, the estimator ``validate`` uses too); 0 where it is
    undefined (NaN in g or in the window)."""
    from deepilst.stats import scatter_sem

    return np.nan_to_num(scatter_sem(g, half_window), nan=0.0)


def noise_aware(model, g: np.ndarray, temperature: float, density: float, res: dict | None = None,
                g_err: np.ndarray | None = None, prod_ps: float | None = None,
                n_particles: int = REF_N_PARTICLES, scatter: bool = True, n_draws: int = 200,
                seed: int = 0, r: np.ndarray | None = None) -> tuple[dict, dict]:
    """Noise-aware intervals for one RDF ``g`` (on ``r`` [nm], default the model's grid) at
    ``temperature`` [K], ``density`` [nm^-3].

    Returns ``(update, info)``: ``update`` holds ``log_cov`` (1, 2, 2) and the ``_std``/``_95``
    of every quantity including the input's noise (apply to the model's result ``res``, which
    is computed when not given); ``info`` = {"source" (:func:`input_sigma`), "noise_ratio" (s2,
    the input's noise variance over a 350-ps, 1000-particle input's; None when unknown),
    "noise_ratio_prod_ps", "noise_ratio_scatter" (the estimates made), "excess_weight"
    (``NOISE_SCALE`` max(0, 1 - 1/s2), the weight of the drawn covariance),
    "n_draws", "C12_std_from_input", "C6_std_from_input" (standard deviations of the excess
    noise part alone, kJ mol^-1 nm^12 and ^6)}.
    """
    g = np.asarray(g, dtype=float).reshape(-1)
    rr = np.asarray(model.r_grid if r is None else r, dtype=float)
    if res is None:
        res = model.predict(g[None], temperature, density, r=r)
    one = {k: (v[:1] if isinstance(v, np.ndarray) else v) for k, v in res.items()}
    c12, c6 = float(np.ravel(one["C12"])[0]), float(np.ravel(one["C6"])[0])
    sig_g, s2, source, extra = input_sigma(rr, g, temperature, density, c12, c6, g_err,
                                           prod_ps, n_particles, scatter)
    info: dict = {"source": source, "noise_ratio": s2 if np.isfinite(s2) else None,
                  "excess_weight": 0.0, "n_draws": 0, "C12_std_from_input": 0.0,
                  "C6_std_from_input": 0.0, **extra}
    cov = np.asarray(one["log_cov"], dtype=float).reshape(1, 2, 2)
    if sig_g is not None and np.isfinite(s2) and s2 > 1.0:
        n_cov = noise_covariance(model, g[None], sig_g[None], temperature, density, n_draws, seed,
                                 r=r)
        w = NOISE_SCALE * (1.0 - 1.0 / s2)
        cov = combine(cov, n_cov, s2)
        info.update(excess_weight=w, n_draws=int(n_draws))
        for q, val in (("C12", c12), ("C6", c6)):
            a = np.array(LOG_LINEAR[q])
            # a @ C @ a >= 0 for a covariance; rounding can leave -1e-20 when C is near-singular
            info[q + "_std_from_input"] = float(val * np.sqrt(max(0.0, w * a @ n_cov[0] @ a)))
    return intervals(one, cov), info
