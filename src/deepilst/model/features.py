"""Network inputs from g(r) on the model grid (numpy only: prediction never imports torch).

Two featurisations, each with ``fit`` (statistics from training data, trailing ``_``) and
``transform``; their state round-trips through ``to_state`` / ``from_state`` (JSON scalars and
arrays), so a saved model carries its scalers.

* :class:`PaperFeatures`: the paper's eq. 3: g(r) for r >= 0.25 nm divided by its dataset
  maximum, then rho, rho^2, rho^3, T, T^2, T^3 (p = 3), each min-max scaled over the training set.
* :class:`ReducedFeatures` (ours): g on a grid of x = r rho^(1/3) (r in units of the mean
  interparticle spacing). By corresponding states g(x) depends only on (T*, rho*), so a network
  mapping g(x) to (log T*, log rho*) is exact under any change of (T, rho, sigma, eps) that
  keeps the reduced state; sigma = (rho*/rho)^(1/3) and eps = kB T / T* follow. g below
  ``r_min`` nm is set to 0 (the core) and beyond the input range to 1 (flagged by coverage).
  With ``pca`` = k the network reads the features through their k leading principal
  directions (:meth:`ReducedFeatures.network_input`); domain checks use all of them.

Both read g on an r grid ``r`` [nm]: a model passes its own (``DeepILST.r_grid``, from
``model.json`` ``r_grid_nm``); the default is :func:`deepilst.rdf.model_grid`. The grid is not
part of ``to_state``: the model stores it once and hands it to :func:`features_from_state`.
"""

from __future__ import annotations

import numpy as np

from deepilst.rdf import model_grid

R_MIN = 0.25  # nm, the lowest r the networks read (the paper's choice)
LEVELS = np.geomspace(0.02, 90.0, 120)  # neighbour counts of the quantile features


def rise_levels(n: int) -> np.ndarray:
    """Values of g whose first crossing on the repulsive wall are the ``rise`` features."""
    return np.geomspace(1e-3, 0.8, n) if n else np.zeros(0)


def _clean(g: np.ndarray, r: np.ndarray, r_min: float = R_MIN) -> np.ndarray:
    g = np.array(g, dtype=float, ndmin=2)
    g[:, r < r_min - 1e-9] = 0.0
    return np.nan_to_num(g, nan=0.0)


def orient_components(vt: np.ndarray) -> np.ndarray:
    """Principal directions (rows) with a sign fixed by the data, not by LAPACK: each row's
    entry of largest magnitude made positive. An SVD's signs depend on the LAPACK build and
    thread count; without this, the same training data on another machine flipped one of the
    32 input directions and the retrained network differed."""
    vt = np.array(vt, dtype=float)
    k = np.argmax(np.abs(vt), axis=1)
    return vt * np.sign(vt[np.arange(len(vt)), k])[:, None]


class PaperFeatures:
    """Eq. 3 of the paper with p = 3. Inputs: g (n, len(r)) on the grid ``r`` [nm] (default
    the model grid, 301 points), T [K], rho [nm^-3]."""

    kind = "paper"

    def __init__(self, p: int = 3, r_min: float = R_MIN, r: np.ndarray | None = None) -> None:
        self.p = int(p)
        self.r_min = float(r_min)
        self.r = model_grid() if r is None else np.asarray(r, dtype=float)
        self.mask = self.r >= self.r_min - 1e-9

    def fit(self, g: np.ndarray, temperature: np.ndarray, density: np.ndarray) -> PaperFeatures:
        g = _clean(g, self.r)[:, self.mask]
        self.gmax_ = float(np.max(g))
        s = self._state(np.asarray(temperature, float), np.asarray(density, float))
        self.smin_, self.smax_ = s.min(axis=0), s.max(axis=0)
        return self

    def _state(self, t: np.ndarray, rho: np.ndarray) -> np.ndarray:
        cols = [rho**k for k in range(1, self.p + 1)] + [t**k for k in range(1, self.p + 1)]
        return np.column_stack(cols)

    def transform(self, g: np.ndarray, temperature, density) -> np.ndarray:
        g = _clean(g, self.r)[:, self.mask] / self.gmax_
        t = np.atleast_1d(np.asarray(temperature, float))
        rho = np.atleast_1d(np.asarray(density, float))
        s = (self._state(t, rho) - self.smin_) / (self.smax_ - self.smin_)
        return np.hstack([g, s]).astype(np.float32)

    def network_input(self, X: np.ndarray) -> np.ndarray:
        return X

    def coverage(self, density) -> np.ndarray:
        """1 for every density: the paper's features read g on the r grid as it is."""
        return np.ones(len(np.atleast_1d(density)))

    def to_state(self) -> dict:
        return {"kind": self.kind, "p": self.p, "r_min": self.r_min, "gmax": self.gmax_,
                "smin": self.smin_.tolist(), "smax": self.smax_.tolist()}

    @classmethod
    def from_state(cls, d: dict, r: np.ndarray | None = None) -> PaperFeatures:
        f = cls(d["p"], d["r_min"], r)
        f.gmax_ = float(d["gmax"])
        f.smin_, f.smax_ = np.array(d["smin"]), np.array(d["smax"])
        return f


class ReducedFeatures:
    """g on x = r rho^(1/3) in [x_min, x_max] (``n_x`` points), z-scored per point; g read on
    the grid ``r`` [nm] (default the model grid)."""

    kind = "reduced"

    def __init__(self, x_min: float = 0.4, x_max: float = 3.0, n_x: int = 261,
                 r_min: float = R_MIN, std_floor: float = 0.05, quantile: bool = True,
                 use_g: bool = True, rise: int = 0, pca: int = 0,
                 r: np.ndarray | None = None) -> None:
        self.quantile = bool(quantile)
        self.pca = int(pca)
        self.rise = int(rise)
        self.use_g = bool(use_g)
        self.x_min, self.x_max, self.n_x = float(x_min), float(x_max), int(n_x)
        self.r_min = float(r_min)
        self.std_floor = float(std_floor)
        self.r = model_grid() if r is None else np.asarray(r, dtype=float)
        self.x = np.linspace(self.x_min, self.x_max, self.n_x)

    def coverage(self, density) -> np.ndarray:
        """Fraction of the x grid that the r grid (up to r[-1] nm) reaches at each density."""
        rho = np.atleast_1d(np.asarray(density, float))
        return np.mean(self.x[None, :] / rho[:, None] ** (1.0 / 3.0) <= self.r[-1] + 1e-9, axis=1)

    def raw(self, g: np.ndarray, density) -> tuple[np.ndarray, np.ndarray]:
        """(g on the x grid, fraction of the x grid that the input r range covers)."""
        g = _clean(g, self.r, self.r_min)
        rho = np.atleast_1d(np.asarray(density, float))
        out = np.empty((len(g), self.n_x))
        for i in range(len(g)):
            out[i] = np.interp(self.x / rho[i] ** (1.0 / 3.0), self.r, g[i], right=1.0)
        return out, self.coverage(rho)

    def quantiles(self, g: np.ndarray, density) -> np.ndarray:
        """x at which the running coordination number N(x) = 4 pi int_0^x g x'^2 dx' (density
        unit 1 in x units) reaches ``LEVELS`` neighbours: shifts of structure become additive."""
        g = _clean(g, self.r, self.r_min)
        rho = np.atleast_1d(np.asarray(density, float))
        xf = np.arange(0.0, self.x_max + 1e-9, 0.0025)
        out = np.empty((len(g), len(LEVELS)))
        for i in range(len(g)):
            gx = np.interp(xf / rho[i] ** (1.0 / 3.0), self.r, g[i], right=1.0)
            f = 4 * np.pi * gx * xf**2
            n = np.concatenate([[0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(xf))])
            n = n + 1e-9 * np.arange(len(n))  # strictly increasing through the empty core
            out[i] = np.interp(LEVELS, n, xf)
        return out

    def wall(self, g: np.ndarray, density) -> np.ndarray:
        """x at which g first reaches each of ``rise_levels(rise)`` on the repulsive wall,
        interpolating log g between grid points. There -ln g = u/kB T - ln y with the cavity
        function y smooth, so these points trace the potential's repulsive wall in x units."""
        g = _clean(g, self.r, self.r_min)
        rho = np.atleast_1d(np.asarray(density, float))
        lv = rise_levels(self.rise)
        above = g[:, None, :] >= lv[None, :, None]  # (n, levels, r)
        i = np.argmax(above, axis=2)  # first index at or above the level (0 if never)
        i = np.clip(i, 1, len(self.r) - 1)
        g1 = np.take_along_axis(g, i, axis=1)
        g0 = np.take_along_axis(g, i - 1, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            f_log = (np.log(lv)[None] - np.log(g0)) / (np.log(g1) - np.log(g0))
            f_lin = (lv[None] - g0) / (g1 - g0)
        f = np.where(g0 > 0, f_log, f_lin)
        f = np.clip(np.nan_to_num(f, nan=1.0), 0.0, 1.0)
        r = self.r[i - 1] + f * (self.r[i] - self.r[i - 1])
        return r * rho[:, None] ** (1.0 / 3.0)

    def _all(self, g: np.ndarray, density) -> np.ndarray:
        parts = [self.raw(g, density)[0]] if self.use_g else []
        if self.quantile:
            parts.append(self.quantiles(g, density))
        if self.rise:
            parts.append(self.wall(g, density))
        return np.hstack(parts)

    def fit(self, g: np.ndarray, temperature, density) -> ReducedFeatures:
        z = self._all(g, density)
        self.mean_ = z.mean(axis=0)
        self.std_ = np.maximum(z.std(axis=0), self.std_floor)
        if self.quantile or self.rise:
            k = self.n_x if self.use_g else 0
            self.std_[k:] = np.maximum(z[:, k:].std(axis=0), 1e-3)
        if self.pca:
            Z = (z - self.mean_) / self.std_
            _, _, vt = np.linalg.svd(Z - Z.mean(axis=0), full_matrices=False)
            self.comp_ = orient_components(vt[: self.pca])
            self.comp_scale_ = float(np.std(Z @ self.comp_[0]))
        return self

    def network_input(self, X: np.ndarray) -> np.ndarray:
        """What the network reads from features ``X`` (n, d; dimensionless, z-scored): ``X``
        itself, or with ``pca`` = k its projections (n, k) on the k leading principal directions
        of the training features, divided by the spread of the first. The directions beyond
        about 40 carry less structure than the statistical noise of g does; projecting drops
        the noise there (the noise inside the kept directions stays)."""
        if not self.pca:
            return X
        return (X @ self.comp_.T / self.comp_scale_).astype(np.float32)

    def transform(self, g: np.ndarray, temperature, density) -> np.ndarray:
        z = self._all(g, density)
        return ((z - self.mean_) / self.std_).astype(np.float32)

    def to_state(self) -> dict:
        return {"kind": self.kind, "x_min": self.x_min, "x_max": self.x_max, "n_x": self.n_x,
                "r_min": self.r_min, "std_floor": self.std_floor, "quantile": self.quantile,
                "use_g": self.use_g, "rise": self.rise, "pca": self.pca,
                "levels": LEVELS.tolist(), "mean": self.mean_.tolist(),
                "std": self.std_.tolist(),
                **({"pca_components": self.comp_.tolist(), "pca_scale": self.comp_scale_}
                   if self.pca else {})}

    @classmethod
    def from_state(cls, d: dict, r: np.ndarray | None = None) -> ReducedFeatures:
        f = cls(d["x_min"], d["x_max"], d["n_x"], d["r_min"], d["std_floor"],
                d.get("quantile", False), d.get("use_g", True), d.get("rise", 0), d.get("pca", 0),
                r)
        f.mean_, f.std_ = np.array(d["mean"]), np.array(d["std"])
        if f.pca:
            f.comp_, f.comp_scale_ = np.array(d["pca_components"]), float(d["pca_scale"])
        return f


def features_from_state(d: dict, r: np.ndarray | None = None) -> PaperFeatures | ReducedFeatures:
    """Features from their ``to_state`` dict, reading g on the grid ``r`` [nm] (the model's)."""
    return {"paper": PaperFeatures, "reduced": ReducedFeatures}[d["kind"]].from_state(d, r)
