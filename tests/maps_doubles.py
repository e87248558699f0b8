"""A test double of the forward model's contract (``deepilst.model.forward``): the dilute-limit
g(r) = exp(-u(r) / kB T), averaged over each shell with r^2 weights; ``covers`` is T* > 1."""

import numpy as np

KB = 0.0083144626


class DiluteForward:
    def __init__(self, t_min: float = 1.0, sub: int = 8) -> None:
        self.t_min, self.sub = t_min, sub

    def shell_average(self, edges, temperature, density, c12, c6, std=False):
        scalar = np.ndim(c12) == 0
        c12, c6 = np.atleast_1d(c12).astype(float), np.atleast_1d(c6).astype(float)
        e = np.asarray(edges, float)
        f = (np.arange(self.sub) + 0.5) / self.sub
        r = e[:-1, None] + (e[1:] - e[:-1])[:, None] * f[None, :]  # (n_bins, sub)
        w = r**2 / np.sum(r**2, axis=1, keepdims=True)
        inv6 = np.where(r > 0, r, np.inf) ** -6.0
        u = c12[:, None, None] * inv6**2 - c6[:, None, None] * inv6
        g = np.sum(np.exp(np.minimum(-u / (KB * temperature), 700.0)) * w, axis=2)
        out = g[0] if scalar else g
        return out, (np.zeros_like(out) if std else None)

    def covers(self, T_reduced, rho_reduced):
        return np.asarray(T_reduced, float) > self.t_min
