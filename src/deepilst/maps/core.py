"""eps_rdf and eps_KL of single-bead LJ models over a (C12, C6) mesh, with no MD (Figure 5).

* eps_rdf (eq. 7) of the forward model's g(r) (averaged over the target's own shells, up to
  1.5 nm or the target's end) against the target; mesh points outside the forward model's
  domain (``covers``) are masked and never a minimum.
* eps_KL: the relative entropy per particle, S_rel/N - min S_rel/N [kB T]
  (:mod:`deepilst.maps.kl`); points outside the free energy's fitted domain are masked.

Each map's minimum is found on the mesh and polished off it (Nelder-Mead in log parameters);
eps_rdf also per basin (physical T* <= 8, soft T* > 8; :func:`deepilst.fit.basin`), since
molecular targets can have one in each. The KL minimum carries a standard deviation from the
target's own noise (its g_err, redrawn).
"""

from __future__ import annotations

import math
import time

import numpy as np

from deepilst.fit.cgmd import basin
from deepilst.fit.objectives import EPS_RDF_R_MAX
from deepilst.maps.grid import grid_minimum, refine_minimum
from deepilst.maps.kl import relative_entropy, target_integrals
from deepilst.rdf import centered_edges
from deepilst.results import UNITS
from deepilst.units import reduced_state

#: Units of the keys a map's JSON adds to deepilst's table.
MAP_UNITS = {**UNITS, "eps_KL": "kB T per particle, above the map's minimum"}


class RDFScorer:
    """eps_rdf of forward-model g(r)s against a target, vectorised over parameter sets."""

    def __init__(self, target, forward, r_f: float = EPS_RDF_R_MAX) -> None:
        r = target.r
        ok = np.isfinite(target.g) & (r <= r_f + 1e-9)
        n = int(np.argmin(ok)) if not ok.all() else len(r)  # contiguous from r = 0
        self.target, self.forward = target, forward
        self.r, self.g = r[:n], target.g[:n]
        self.edges = centered_edges(target.r)[: n + 1]
        w = np.zeros(n)
        d = np.diff(self.r)
        w[:-1] += 0.5 * d
        w[1:] += 0.5 * d
        self.w = w * self.r**2
        self.norm = float(np.sum(self.g * self.w))

    def g_model(self, c12, c6) -> np.ndarray:
        t = self.target
        g, _ = self.forward.shell_average(self.edges, t.temperature, t.density, np.atleast_1d(c12),
                                          np.atleast_1d(c6), std=False)
        return np.atleast_2d(g)

    def __call__(self, c12, c6, chunk: int = 1500) -> np.ndarray:
        c12, c6 = np.atleast_1d(np.asarray(c12, float)), np.atleast_1d(np.asarray(c6, float))
        out = np.empty(len(c12))
        for s in range(0, len(c12), chunk):
            g = self.g_model(c12[s:s + chunk], c6[s:s + chunk])
            out[s:s + chunk] = np.abs(g - self.g) @ self.w / self.norm
        return out

    def predict_run(self, c12: float, c6: float, g_err: np.ndarray, n_draws: int = 400,
                    seed: int = 1414) -> dict:
        """What eps_rdf a CG run of (C12, C6) should measure, by the forward model.

        The map's value is noise-free, while a run's g(r) carries noise, which raises eps_rdf
        (an L1 norm). The prediction is the mean of eps_rdf(g_fwd + n, g_target) over draws of
        n ~ N(0, g_err^2 + std_fwd^2), ``g_err`` being the run's standard errors on the
        target's grid and std_fwd the forward model's own spread.

        Returns
        -------
        dict: ``map`` (noise-free eps_rdf), ``predicted`` and ``predicted_sd`` (mean and spread
        of the draws), ``forward_std_mean`` (mean std_fwd); fractions
        """
        t = self.target
        g, s = self.forward.shell_average(self.edges, t.temperature, t.density, c12, c6, std=True)
        g, s = np.asarray(g, float).ravel(), np.nan_to_num(np.asarray(s, float).ravel())
        n = len(g)
        sd = np.hypot(s, np.nan_to_num(np.asarray(g_err, float)[:n]))
        rng = np.random.default_rng(seed)
        draws = g[None, :] + sd[None, :] * rng.standard_normal((int(n_draws), n))
        eps = np.abs(draws - self.g[None, :]) @ self.w / self.norm
        return {"map": float(np.abs(g - self.g) @ self.w / self.norm),
                "predicted": float(eps.mean()), "predicted_sd": float(eps.std(ddof=1)),
                "forward_std_mean": float(np.mean(s))}


def _is_local(values: np.ndarray, valid: np.ndarray, i: int, j: int) -> bool:
    """Whether mesh point (i, j) is a minimum of its own: not on the mesh's edge, and no
    neighbour (of 8) inside the domain lower. A basin's lowest point that is not (it lies on
    T* = 8 or on the mesh's edge, on the slope of a valley that continues) is no basin minimum."""
    n, m = values.shape
    if not (0 < i < n - 1 and 0 < j < m - 1):
        return False
    block = np.where(valid[i - 1:i + 2, j - 1:j + 2], values[i - 1:i + 2, j - 1:j + 2], np.inf)
    return bool(values[i, j] <= np.min(block))


def _point(c12: float, c6: float, value: float, temperature: float, density: float) -> dict:
    t, r = reduced_state(temperature, density, c12, c6)
    return {"C12": float(c12), "C6": float(c6), "value": float(value), "T_reduced": float(t),
            "rho_reduced": float(r), "basin": basin(float(t))}


class ErrorMaps:
    """eps_rdf and eps_KL over a mesh; :meth:`compute` fills the maps, results are properties.

    Parameters
    ----------
    target : :class:`deepilst.fit.Target` (g on the model shells, T [K], rho [nm^-3])
    c12, c6 : the mesh axes, kJ mol^-1 nm^12 and kJ mol^-1 nm^6 (maps are (len(c6), len(c12)))
    forward : forward model (``shell_average``, ``covers``) or None for eps_KL alone
    free_energy : :class:`deepilst.freeenergy.LJFreeEnergy` or None for eps_rdf alone
    network : the network's answer, a ``predict`` dict (C12, C6, C12_std, C6_std), or None
    kl_draws : redraws of the target within its g_err for the KL minimum's spread
    """

    def __init__(self, target, c12, c6, forward=None, free_energy=None, network: dict | None = None,
                 kl_draws: int = 8, scale: str = "log", seed: int = 0) -> None:
        self.target, self.forward, self.free_energy = target, forward, free_energy
        self.c12, self.c6 = np.asarray(c12, float), np.asarray(c6, float)
        self.network, self.kl_draws, self.scale, self.seed = network, int(kl_draws), scale, seed
        self._done = False
        self.timing: dict[str, float] = {}

    def _need(self) -> None:
        if not self._done:
            raise ValueError("call compute() first")

    def compute(self) -> ErrorMaps:
        t = self.target
        C12, C6 = np.meshgrid(self.c12, self.c6)
        self.T_reduced, self.rho_reduced = reduced_state(t.temperature, t.density, C12, C6)
        t0 = time.perf_counter()
        self._eps_rdf = self._rdf_covered = None
        if self.forward is not None:
            self._scorer = RDFScorer(t, self.forward)
            self._rdf_covered = np.asarray(self.forward.covers(self.T_reduced.ravel(),
                                                               self.rho_reduced.ravel()), bool
                                           ).reshape(C12.shape)
            eps = np.full(C12.shape, np.nan)  # the forward model is run where it is defined only
            eps[self._rdf_covered] = self._scorer(C12[self._rdf_covered], C6[self._rdf_covered])
            self._eps_rdf = eps
        t1 = time.perf_counter()
        self._kl_covered = None
        if self.free_energy is not None:
            self._integrals = target_integrals(t)
            s, _, _, cov = relative_entropy(t, C12, C6, self.free_energy, self._integrals)
            self._kl_raw, self._kl_covered = s, cov
        t2 = time.perf_counter()
        self.timing.update({"eps_rdf_s": t1 - t0, "eps_KL_s": t2 - t1})
        self._minima()
        self.timing["minima_s"] = time.perf_counter() - t2
        self._done = True
        return self

    # --- minima ---------------------------------------------------------------------------
    def rdf_at(self, c12: float, c6: float) -> float:
        """eps_rdf of the forward model at one (C12, C6) (a fraction)."""
        return float(self._scorer([c12], [c6])[0])

    def kl_at(self, c12: float, c6: float, integrals=None) -> float:
        """S_rel/N + const at one (C12, C6) [kB T] (the map's offset not subtracted)."""
        return float(relative_entropy(self.target, c12, c6, self.free_energy,
                                      integrals or self._integrals)[0])

    def _polished(self, values, valid, f, covers, want: str | None = None) -> dict | None:
        """The mesh minimum of ``values`` where ``valid`` (and in basin ``want``), polished off
        the mesh inside the map: the polish sees +inf outside the mesh's box, the model's
        domain (``covers``) and the basin, so it never evaluates a model where it is not
        defined (an unbounded polish of eps_KL for C2H6 went to T* 6e232, where the free
        energy's extrapolation has no minimum); the mesh point itself if the polish finds
        nothing lower."""
        ok = valid if want is None else valid & (np.vectorize(basin)(self.T_reduced) == want)
        ij = grid_minimum(values, ok)
        if ij is None:
            return None
        i, j = ij
        c12, c6, v = refine_minimum(self._bounded(f, covers, want), self.c12[j], self.c6[i])
        if not v < values[i, j]:
            c12, c6, v = self.c12[j], self.c6[i], float(values[i, j])
        d = _point(c12, c6, v, self.target.temperature, self.target.density)
        d["grid"] = {"C12": float(self.c12[j]), "C6": float(self.c6[i]), "value": float(values[i, j])}
        d["local"] = _is_local(values, valid, i, j)
        return d

    def _bounded(self, f, covers, want: str | None):
        """f(C12, C6) inside the mesh's box, ``covers`` and basin ``want``; +inf outside."""
        tol = 1e-9  # the polish works in log parameters: exp(log(edge)) may miss the edge
        lo12, hi12 = self.c12[0] * (1 - tol), self.c12[-1] * (1 + tol)
        lo6, hi6 = self.c6[0] * (1 - tol), self.c6[-1] * (1 + tol)
        temperature, density = self.target.temperature, self.target.density

        def g(c12: float, c6: float) -> float:
            if not (lo12 <= c12 <= hi12 and lo6 <= c6 <= hi6):
                return math.inf
            t_red, r_red = reduced_state(temperature, density, c12, c6)
            if not bool(np.all(covers(t_red, r_red))) or (want is not None
                                                          and basin(t_red) != want):
                return math.inf
            return f(c12, c6)

        return g

    def _minima(self) -> None:
        self.rdf_minima = {}
        self.rdf_min = None
        if self._eps_rdf is not None:
            for b in ("physical", "soft"):
                self.rdf_minima[b] = self._polished(self._eps_rdf, self._rdf_covered, self.rdf_at,
                                                    self.forward.covers, b)
            found = [m for m in self.rdf_minima.values() if m is not None]
            self.rdf_min = min(found, key=lambda m: m["value"]) if found else None
        self.kl_min = None
        self.kl_offset = 0.0
        if self.free_energy is not None:
            m = self._polished(self._kl_raw, self._kl_covered, self.kl_at, self.free_energy.covers)
            if m is not None:
                self.kl_offset = m["value"]
                m["grid"]["value"] -= self.kl_offset
                m["value"] = 0.0
                m.update(self._kl_spread(m["C12"], m["C6"]))
            self.kl_min = m

    def _kl_spread(self, c12: float, c6: float) -> dict:
        """Standard deviation of the KL minimum over redraws of the target within its errors
        (its g_err, else the bin-to-bin scatter estimate :func:`deepilst.stats.scatter_sem`)."""
        from deepilst.fit.target import Target
        from deepilst.maps.kl import target_integrals as ti
        from deepilst.stats import scatter_sem

        t = self.target
        err, source = t.g_err, "g_err"
        if not np.any(err > 0):
            err, source = np.nan_to_num(scatter_sem(t.g)), "scatter"
        if self.kl_draws < 2:
            return {"C12_std": None, "C6_std": None, "draws": 0}
        rng = np.random.default_rng(self.seed)
        pts = []
        for _ in range(self.kl_draws):
            g = np.where(np.isfinite(t.g), t.g + err * rng.standard_normal(len(t.g)), np.nan)
            integ = ti(Target(t.r, np.maximum(g, 0.0), t.g_err, t.temperature, t.density))
            pts.append(refine_minimum(lambda a, b, integ=integ: self.kl_at(a, b, integ), c12, c6)[:2])
        p = np.array(pts)
        return {"C12_std": float(p[:, 0].std(ddof=1)), "C6_std": float(p[:, 1].std(ddof=1)),
                "draws": self.kl_draws, "errors_from": source}

    # --- results --------------------------------------------------------------------------
    @property
    def eps_rdf(self) -> np.ndarray | None:
        """eps_rdf over the mesh (fraction), NaN outside the forward model's domain."""
        self._need()
        if self._eps_rdf is None:
            return None
        return np.where(self._rdf_covered, self._eps_rdf, np.nan)

    @property
    def eps_kl(self) -> np.ndarray | None:
        """S_rel/N - its minimum [kB T per particle] over the mesh, NaN outside the free
        energy's fitted domain."""
        self._need()
        if self._kl_covered is None:
            return None
        return np.where(self._kl_covered, self._kl_raw - self.kl_offset, np.nan)

    def plot(self, which: str = "rdf", ax=None):
        """Figure 5's panel of one map ("rdf" or "kl") on ``ax`` (a new figure if None): white
        crosses at the minima, the network's answer as a red dot; returns the Axes."""
        from deepilst.maps.figure import draw_map

        self._need()
        return draw_map(self, which, ax)

    def network_json(self) -> dict | None:
        if self.network is None:
            return None
        n, t = self.network, self.target
        d = _point(n["C12"], n["C6"], math.nan, t.temperature, t.density)
        d.pop("value")
        d.update({"C12_std": n.get("C12_std"), "C6_std": n.get("C6_std"),
                  "in_domain": n.get("in_domain"),
                  "eps_rdf": self.rdf_at(n["C12"], n["C6"]) if self.forward is not None else None,
                  "eps_KL": (self.kl_at(n["C12"], n["C6"]) - self.kl_offset
                             if self.free_energy is not None else None)})
        return d

    def _cross(self) -> None:
        """Each map's value at the other map's minima (eps_KL at the eps_rdf minima and
        eps_rdf at the KL minimum)."""
        if self.free_energy is not None:
            for m in self.rdf_minima.values():
                if m is not None:
                    m["eps_KL"] = self.kl_at(m["C12"], m["C6"]) - self.kl_offset
        if self.forward is not None and self.kl_min is not None:
            self.kl_min["eps_rdf"] = self.rdf_at(self.kl_min["C12"], self.kl_min["C6"])

    def to_json(self) -> dict:
        """JSON-ready summary (no arrays): minima, network, domain fractions, timing, units."""
        self._need()
        self._cross()
        rdf_cov = None if self._rdf_covered is None else float(self._rdf_covered.mean())
        kl_cov = None if self._kl_covered is None else float(self._kl_covered.mean())
        return {"T": self.target.temperature, "rho": self.target.density, "target": self.target.name,
                "grid": {"n_C12": len(self.c12), "n_C6": len(self.c6), "scale": self.scale,
                         "C12_range": [float(self.c12[0]), float(self.c12[-1])],
                         "C6_range": [float(self.c6[0]), float(self.c6[-1])]},
                "rdf_min": self.rdf_min, "rdf_minima": self.rdf_minima, "kl_min": self.kl_min,
                "network": self.network_json(),
                "domain": {"eps_rdf_covered_fraction": rdf_cov, "eps_KL_covered_fraction": kl_cov},
                "timing": self.timing, "units": MAP_UNITS}
