"""The applicability domain of a model: where its training data say it may be trusted.

Checks, each fitted on training features and stored with the model:

* shape: root-mean-square residual of a feature vector after projection on the leading
  principal directions of the training features (99.9 % of their variance, at most 40), in
  units of 1.5 x its 99.9 % quantile over training (``shape_residual`` <= 1 is ``shape_ok``);
* reduced state: (log T*, rho*) of the prediction inside the convex hull of the training states;
* state box: T [K] and rho [nm^-3] inside the training ranges (decisive for the paper network,
  which reads T and rho directly);
* neighbour: root-mean-square feature distance to the nearest training simulation, in units of
  1.5 x the 99th percentile of fluid validation samples' distances;
* coverage: fraction of the reduced-units input range the g(r) reaches (from the features).
"""

from __future__ import annotations

import numpy as np


def design_box(box: dict) -> dict:
    """The training (T, rho) box with each bound that lies within 0.1 % of the Table 1 bound
    snapped to it: samples drawn uniformly from Table 1 fall a hair inside its edges (T from
    290.0005 K), and T = 290 K or rho = 19.4 nm^-3 are Table 1's own states."""
    from deepilst.sampling import TABLE1

    out = {}
    for k, (lo, hi) in box.items():
        a, b = TABLE1.get(k, (lo, hi))
        out[k] = [a if abs(lo - a) <= 1e-3 * abs(a) else lo, b if abs(hi - b) <= 1e-3 * abs(b) else hi]
    return out


DOMAIN_KEYS = ("state_in_box", "reduced_in_domain", "shape_residual", "shape_ok",
               "neighbour_distance", "neighbour_ok", "coverage", "in_domain")
#: coverage below this leaves a sample outside the domain
MIN_COVERAGE = 0.999


def in_polygon(pts: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Points (n, 2) inside a convex polygon given counter-clockwise (m, 2)."""
    a = poly
    b = np.roll(poly, -1, axis=0)
    cross = ((b[:, 0] - a[:, 0])[None] * (pts[:, 1:2] - a[:, 1][None])
             - (b[:, 1] - a[:, 1])[None] * (pts[:, 0:1] - a[:, 0][None]))
    return np.all(cross >= -1e-12, axis=1)


class Domain:
    """Fit with :meth:`fit` on training features; :meth:`evaluate` flags new samples."""

    def fit(self, X: np.ndarray, data, groups: np.ndarray, X_val: np.ndarray) -> Domain:
        """Fit every check.

        Parameters
        ----------
        X : features of the training samples (n, d), dimensionless
        data : their :class:`~deepilst.model.data.Arrays` (T [K], rho [nm^-3], T*, rho*)
        groups : source simulation of each training sample (n,)
        X_val : features of the fluid validation samples, which set the neighbour threshold
        """
        from scipy.spatial import ConvexHull

        mean = X.mean(axis=0)
        _, s, vt = np.linalg.svd(X - mean, full_matrices=False)
        var = s**2 / np.sum(s**2)
        k = int(min(np.searchsorted(np.cumsum(var), 0.999) + 1, 40))
        self.pca_mean_, self.pca_comp_ = mean.astype(np.float32), vt[:k].astype(np.float32)
        self.shape_threshold_ = float(1.5 * np.quantile(self.residual(X), 0.999))
        pts = np.column_stack([np.log(data.T_reduced), data.rho_reduced])
        self.hull_ = pts[ConvexHull(pts).vertices]  # counter-clockwise for 2-D hulls
        self.box = {"T": [float(data.T.min()), float(data.T.max())],
                    "rho": [float(data.rho.min()), float(data.rho.max())]}
        # one reference row per training simulation (its expanded samples are the same RDF in
        # reduced units); the threshold from fluid validation samples (the few two-phase and
        # solid ones lie far from everything and would set it by chance)
        _, first = np.unique(groups, return_index=True)
        self.nn_ref_ = np.ascontiguousarray(X[np.sort(first)], dtype=np.float32)
        self.nn_threshold_ = float(1.5 * np.quantile(self.neighbour_distance(X_val), 0.99))
        return self

    def residual(self, X: np.ndarray) -> np.ndarray:
        """Root-mean-square residual of features ``X`` (n, d) off the principal subspace."""
        Z = X - self.pca_mean_
        rec = (Z @ self.pca_comp_.T) @ self.pca_comp_
        return np.sqrt(np.mean((Z - rec) ** 2, axis=1))

    def neighbour_distance(self, X: np.ndarray) -> np.ndarray:
        """Root-mean-square feature difference to the nearest training simulation, (n,)."""
        R = self.nn_ref_.astype(np.float64)
        X = np.asarray(X, dtype=np.float64)
        d2 = np.sum(X**2, axis=1)[:, None] + np.sum(R**2, axis=1)[None] - 2.0 * X @ R.T
        return np.sqrt(np.maximum(d2.min(axis=1), 0.0) / X.shape[1])

    def evaluate(self, X: np.ndarray, temperature: np.ndarray, density: np.ndarray,
                 T_reduced: np.ndarray, rho_reduced: np.ndarray, coverage: np.ndarray,
                 need_box: bool = False) -> dict[str, np.ndarray]:
        """The checks for samples with features ``X`` (n, d) at temperatures [K] and densities
        [nm^-3], with predicted reduced states and input ``coverage`` (each (n,)). With
        ``need_box`` the state box is part of ``in_domain``. Returns the ``DOMAIN_KEYS``."""
        T, rho = temperature, density
        res: dict[str, np.ndarray] = {}
        box = design_box(self.box)
        res["state_in_box"] = ((T >= box["T"][0]) & (T <= box["T"][1])
                               & (rho >= box["rho"][0]) & (rho <= box["rho"][1]))
        res["reduced_in_domain"] = in_polygon(np.column_stack([np.log(T_reduced), rho_reduced]),
                                              self.hull_)
        res["shape_residual"] = self.residual(X) / self.shape_threshold_
        res["shape_ok"] = res["shape_residual"] <= 1.0
        if self.nn_ref_ is not None:
            res["neighbour_distance"] = self.neighbour_distance(X) / self.nn_threshold_
        else:  # models saved before the neighbour check existed
            res["neighbour_distance"] = np.zeros(len(X))
        res["neighbour_ok"] = res["neighbour_distance"] <= 1.0
        res["coverage"] = coverage
        ok = (res["reduced_in_domain"] & res["shape_ok"] & res["neighbour_ok"]
              & (coverage >= MIN_COVERAGE))
        if need_box:
            ok &= res["state_in_box"]
        res["in_domain"] = ok
        return res

    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(JSON part: ``model.json`` "domain", tensors: PCA basis and neighbour references)."""
        js = {"box": self.box, "reduced_hull_logT_rho": self.hull_.tolist(),
              "shape_threshold": self.shape_threshold_,
              "neighbour_threshold": self.nn_threshold_,
              "pca_components": int(len(self.pca_comp_))}
        t = {"pca_mean": np.ascontiguousarray(self.pca_mean_),
             "pca_components": np.ascontiguousarray(self.pca_comp_)}
        if self.nn_ref_ is not None:
            t["nn_reference"] = self.nn_ref_
        return js, t

    @classmethod
    def from_state(cls, state: dict, tensors: dict[str, np.ndarray]) -> Domain:
        d = cls()
        d.pca_mean_, d.pca_comp_ = tensors["pca_mean"], tensors["pca_components"]
        d.box, d.hull_ = state["box"], np.array(state["reduced_hull_logT_rho"])
        d.shape_threshold_ = float(state["shape_threshold"])
        d.nn_ref_ = tensors.get("nn_reference")
        d.nn_threshold_ = (float(state["neighbour_threshold"]) if d.nn_ref_ is not None
                           else float("nan"))
        return d
