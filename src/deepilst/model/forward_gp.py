"""Gaussian processes with known per-point noise: one per principal coefficient of g*(x).

Kernel: Matern 5/2 with one length scale per input (ARD), signal variance s2; noise: each
training point's own variance (from the simulation's block errors) times a fitted factor c,
plus a small fitted jitter j. Hyper-parameters maximise the marginal likelihood (analytic
gradient, L-BFGS-B) on a random subset of the training points (the cost goes as n^3), then
the GP is conditioned on all of them. numpy and scipy only.
"""

from __future__ import annotations

import math

import numpy as np

S5 = math.sqrt(5.0)


def matern52(A: np.ndarray, B: np.ndarray, ls: np.ndarray) -> np.ndarray:
    """Matern 5/2 correlation (n_A, n_B) between rows of ``A`` and ``B`` with length scales
    ``ls`` (one per column)."""
    d2 = np.zeros((len(A), len(B)))
    for q in range(A.shape[1]):
        d2 += ((A[:, q, None] - B[None, :, q]) / ls[q]) ** 2
    d = np.sqrt(d2)
    return (1.0 + S5 * d + (5.0 / 3.0) * d2) * np.exp(-S5 * d)


def _nll(theta: np.ndarray, X: np.ndarray, y: np.ndarray, nv: np.ndarray
         ) -> tuple[float, np.ndarray]:
    """Negative log marginal likelihood and its gradient in theta = (log s2, log ls..., log c,
    log j)."""
    from scipy.linalg import cho_factor, cho_solve

    nd = X.shape[1]
    s2, ls = math.exp(theta[0]), np.exp(theta[1:1 + nd])
    c, j = math.exp(theta[1 + nd]), math.exp(theta[2 + nd])
    comps = [((X[:, q, None] - X[None, :, q]) / ls[q]) ** 2 for q in range(nd)]
    d2 = sum(comps)
    d = np.sqrt(d2)
    e = np.exp(-S5 * d)
    k = (1.0 + S5 * d + (5.0 / 3.0) * d2) * e
    dk = (5.0 / 3.0) * (1.0 + S5 * d) * e  # d k / d log ls_q = dk * comps[q]
    K = s2 * k
    K[np.diag_indices_from(K)] += c * nv + j
    try:
        L = cho_factor(K, lower=True)
    except np.linalg.LinAlgError:
        return 1e25, np.zeros_like(theta)
    a = cho_solve(L, y)
    f = 0.5 * float(y @ a) + float(np.sum(np.log(np.diag(L[0]))))
    W = cho_solve(L, np.eye(len(y))) - np.outer(a, a)
    g = np.empty_like(theta)
    g[0] = 0.5 * np.sum(W * K) - 0.5 * float(np.sum(np.diag(W) * (c * nv + j)))
    for q in range(nd):
        g[1 + q] = 0.5 * s2 * np.sum(W * dk * comps[q])
    g[1 + nd] = 0.5 * float(np.sum(np.diag(W) * c * nv))
    g[2 + nd] = 0.5 * float(np.sum(np.diag(W))) * j
    return f, g


def fit_hyper(X: np.ndarray, y: np.ndarray, nv: np.ndarray, n_sub: int = 400, seed: int = 0,
              start: np.ndarray | None = None) -> np.ndarray:
    """Hyper-parameters theta = (log s2, log ls..., log c, log j) maximising the marginal
    likelihood of ``y`` at inputs ``X`` (n, d) with per-point noise variances ``nv``, on a
    seeded subset of ``n_sub`` points. ``start``: a second starting point (e.g. the previous
    coefficient's optimum, shifted to this one's variance)."""
    from scipy.optimize import minimize

    if n_sub and len(X) > n_sub:
        i = np.random.default_rng(seed).choice(len(X), n_sub, replace=False)
        X, y, nv = X[i], y[i], nv[i]
    nd = X.shape[1]
    v = float(np.var(y)) + 1e-30
    lv = math.log(v)
    starts = [np.r_[lv, np.zeros(nd), 0.0, lv - 9.0]]
    if start is not None:
        starts.append(np.asarray(start, dtype=float))
    bounds = ([(lv - 10.0, lv + 6.0)] + [(math.log(0.02), math.log(50.0))] * nd
              + [(-3.0, 3.0), (lv - 25.0, lv)])
    best = None
    for t0 in starts:
        t0 = np.clip(t0, [b[0] for b in bounds], [b[1] for b in bounds])
        r = minimize(_nll, t0, args=(X, y, nv), jac=True, method="L-BFGS-B", bounds=bounds,
                     options={"maxiter": 200})
        if best is None or r.fun < best.fun:
            best = r
    return np.asarray(best.x)


def unpack(theta: np.ndarray, nd: int) -> tuple[float, np.ndarray, float, float]:
    """(s2, length scales, noise factor c, jitter j) from theta."""
    return (math.exp(theta[0]), np.exp(theta[1:1 + nd]), math.exp(theta[1 + nd]),
            math.exp(theta[2 + nd]))


def gram(X: np.ndarray, nv: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """K + noise for the training inputs ``X`` with noise variances ``nv``."""
    s2, ls, c, j = unpack(theta, X.shape[1])
    K = s2 * matern52(X, X, ls)
    K[np.diag_indices_from(K)] += c * nv + j
    return K


def condition(X: np.ndarray, y: np.ndarray, nv: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """alpha = (K + N)^-1 y: the posterior mean at u is s2 k(u, X) @ alpha."""
    from scipy.linalg import cho_factor, cho_solve

    return cho_solve(cho_factor(gram(X, nv, theta), lower=True), y)


def posterior_var(U: np.ndarray, X: np.ndarray, nv: np.ndarray, theta: np.ndarray,
                  chol=None) -> np.ndarray:
    """Posterior variance of the latent function (no noise, no jitter) at inputs ``U``;
    ``chol``: a cached ``cho_factor`` of :func:`gram`."""
    from scipy.linalg import cho_factor, cho_solve

    s2, ls, _, _ = unpack(theta, X.shape[1])
    if chol is None:
        chol = cho_factor(gram(X, nv, theta), lower=True)
    ks = s2 * matern52(U, X, ls)
    v = s2 - np.einsum("ij,ji->i", ks, cho_solve(chol, ks.T))
    return np.maximum(v, 0.0)
