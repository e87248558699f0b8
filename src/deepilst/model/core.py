"""DeepILST models: the paper's network and our reduced-units deep ensemble.

A model directory holds ``weights.safetensors`` (network tensors, PCA bases of the domain
check and of the network input) and ``model.json`` (architecture, feature scalers, target
scaling, r grid, training domain, dataset hashes, split, metrics, provenance). No pickles;
loading needs numpy and safetensors only.

Targets
-------
* paper: (C12, C6) min-max scaled to Table 1, sigmoid output, MSE (eq. 5). Its uncertainty is
  the root-mean-square validation residual (one number per parameter).
* ensemble (ours): u = (log T*, log rho*); eight members trained with MSE on the reduced-units
  features to regress a linear map of u (``target_basis``: by default log C12 and log C6 less
  their state constants), standardised, and mapped back to u. The predictive covariance of u is
  c (E + R(u)): E the spread of the members' means (epistemic), R(u) a kernel-weighted
  covariance of validation residuals near the prediction (so C6 gets wider intervals where
  attraction barely shapes g), and c one scale factor fitted so that 95 % intervals of log C12
  and log C6 hold 95 % of the validation samples. Everything else is a linear function of u: log
  C12 = log(4 kB T) - u0 + 4 u1 - 4 log rho, log C6 = log(4 kB T) - u0 + 2 u1 - 2 log rho, log
  sigma = (u1 - log rho)/3, log eps = log(kB T) - u0, so standard deviations and 95 % intervals
  follow exactly in log space.
"""

from __future__ import annotations

import json
import math
import platform
import time
from pathlib import Path

import numpy as np

from deepilst import __version__
from deepilst.errors import ModelError
from deepilst.model.features import PaperFeatures, ReducedFeatures, features_from_state
from deepilst.model.nets import mixture_moments, numpy_forward
from deepilst.sampling import TABLE1
from deepilst.units import KB

WEIGHTS = "weights.safetensors"
_FEATURE_TENSORS = ("pca_components",)  # feature-state arrays stored in WEIGHTS
META = "model.json"
Z95 = 1.959963984540054
# rows: coefficients of (u0 = log T*, u1 = log rho*) in the log of each quantity
_LIN = {"C12": (-1.0, 4.0), "C6": (-1.0, 2.0), "sigma": (0.0, 1.0 / 3.0), "epsilon": (-1.0, 0.0),
        "T_star": (1.0, 0.0), "rho_star": (0.0, 1.0)}

PAPER_CONFIG = {"hidden": [48, 15], "act": "tanh+sigmoid", "out_act": "sigmoid",
                "members": 1, "dropout": {"1": 0.25}, "epochs": 1500, "batch": 64, "lr": 1e-3,
                "weight_decay": 0.0, "patience": 100, "input_noise": 0.0}
ENSEMBLE_CONFIG = {"hidden": [128, 128, 128], "act": "silu", "out_act": "identity",
                   "members": 8, "dropout": {}, "epochs": 300, "batch": 256, "lr": 5e-4,
                   "weight_decay": 1e-3, "patience": 60, "input_noise": 0.0,
                   "kernel_bandwidth": 0.35, "target_basis": "logC12_logC6", "stop_on": "fluid",
                   "g_noise": 0.0, "feature_args": {"pca": 32}}
# what models saved before a config key existed were trained with
_LEGACY = {"target_basis": "logT_logrho", "stop_on": "all", "g_noise": 0.0}
# what the ensemble's members regress (standardised): a linear function v = B u of
# u = (log T*, log rho*). "logC12_logC6" is (log C12, log C6) less their state constants, so the
# MSE weighs errors as the MAPE of C12 and C6 does.
BASES = {"logT_logrho": ((1.0, 0.0), (0.0, 1.0)),
         "logC12_logC6": (_LIN["C12"], _LIN["C6"])}


def _const(T: np.ndarray, rho: np.ndarray) -> dict[str, np.ndarray]:
    """The part of each log quantity that does not depend on u."""
    lkt = np.log(KB * T)
    lr = np.log(rho)
    return {"C12": np.log(4.0) + lkt - 4 * lr, "C6": np.log(4.0) + lkt - 2 * lr,
            "sigma": -lr / 3.0, "epsilon": lkt, "T_star": 0.0 * lr, "rho_star": 0.0 * lr}


def _in_polygon(pts: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Points (n, 2) inside a convex polygon given counter-clockwise (m, 2)."""
    a = poly
    b = np.roll(poly, -1, axis=0)
    cross = ((b[:, 0] - a[:, 0])[None] * (pts[:, 1:2] - a[:, 1][None])
             - (b[:, 1] - a[:, 1])[None] * (pts[:, 0:1] - a[:, 0][None]))
    return np.all(cross >= -1e-12, axis=1)


class DeepILST:
    """A trained model. Build with :meth:`fit` or :meth:`load`; predict with :meth:`predict`.

    Parameters
    ----------
    kind : "paper" (the paper's network) or "ensemble" (ours)
    config : training hyper-parameters (defaults: PAPER_CONFIG / ENSEMBLE_CONFIG)
    seed : seed of splits, initialisation and batches
    """

    def __init__(self, kind: str = "ensemble", config: dict | None = None, seed: int = 0) -> None:
        if kind not in ("paper", "ensemble"):
            raise ModelError(f"unknown model kind {kind!r}; expected 'paper' or 'ensemble'")
        self.kind = kind
        self.config = dict(PAPER_CONFIG if kind == "paper" else ENSEMBLE_CONFIG)
        self.config.update(config or {})
        self.seed = int(seed)
        self.meta: dict = {}
        self.weights_: dict[str, np.ndarray] | None = None

    # ---- targets ------------------------------------------------------------------------------
    def _targets(self, a) -> np.ndarray:
        if self.kind == "paper":
            c12 = (a.C12 - TABLE1["C12"][0]) / (TABLE1["C12"][1] - TABLE1["C12"][0])
            c6 = (a.C6 - TABLE1["C6"][0]) / (TABLE1["C6"][1] - TABLE1["C6"][0])
            return np.column_stack([c12, c6])
        return (self._u(a) @ self._basis().T - self.vmean_) / self.vstd_

    @staticmethod
    def _u(a) -> np.ndarray:
        return np.column_stack([np.log(a.T_reduced), np.log(a.rho_reduced)])

    def _basis(self) -> np.ndarray:
        name = self.config["target_basis"]
        if name not in BASES:
            raise ModelError(f"unknown target_basis {name!r}; expected one of {sorted(BASES)}")
        return np.array(BASES[name], dtype=float)

    # ---- training -----------------------------------------------------------------------------
    def fit(self, data, split: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
            progress: bool = True) -> DeepILST:
        """Train on :class:`deepilst.model.data.Arrays` (split by source simulation)."""
        from deepilst.model.data import split_groups
        from deepilst.model.nets import train_stacked

        t0 = time.time()
        want = float(self.config.get("g_noise", 0.0))
        if data.noise != want:
            raise ModelError(f"config g_noise = {want} but the arrays were loaded with noise = "
                             f"{data.noise}: use load_arrays(..., noise={want})")
        tr, va, te = split if split is not None else split_groups(data.group, seed=self.seed)
        va = va[~data.noisy[va]]  # validate and calibrate on clean samples only
        d_tr = data.take(tr)
        feats = (PaperFeatures() if self.kind == "paper"
                 else ReducedFeatures(**self.config.get("feature_args", {})))
        self.features_ = feats.fit(d_tr.g, d_tr.T, d_tr.rho)
        if self.kind == "ensemble":
            u = self._u(d_tr)
            self.ymean_, self.ystd_ = u.mean(axis=0), u.std(axis=0)
            v = u @ self._basis().T
            self.vmean_, self.vstd_ = v.mean(axis=0), v.std(axis=0)
        X = self.features_.transform(data.g, data.T, data.rho)
        Y = self._targets(data)
        c = self.config
        stop = c.get("stop_on", "all")  # the paper network: all validation samples
        if stop not in ("all", "fluid"):
            raise ModelError(f"unknown stop_on {stop!r}; expected 'all' or 'fluid'")
        # early stopping watches all validation samples, or only those of fluid simulations
        # (the few solids, far off, otherwise decide when members stop)
        va_fluid = va[data.phase[va] == "fluid"]
        vs = va_fluid if stop == "fluid" else va
        net_in = self.features_.network_input
        res = train_stacked(net_in(X[tr]), Y[tr], net_in(X[vs]), Y[vs], hidden=c["hidden"],
                            members=c["members"],
                            act=c["act"], out_act=c["out_act"], epochs=c["epochs"],
                            batch=c["batch"], lr=c["lr"], weight_decay=c["weight_decay"],
                            patience=c["patience"],
                            dropout={int(k): v for k, v in c["dropout"].items()},
                            input_noise=c["input_noise"], seed=self.seed, progress=progress)
        self.weights_ = res["weights"]
        if self.kind == "ensemble":
            self._fit_calibration(X[va], (self._u(data)[va] - self.ymean_) / self.ystd_)
        if self.kind == "paper":
            out = numpy_forward(self.weights_, X[va], c["act"], c["out_act"])[0]
            self.resid_std_ = np.sqrt(np.mean((out - Y[va]) ** 2, axis=0))
            self.train_loss_ = float(np.mean((numpy_forward(self.weights_, X[tr], c["act"],
                                                            c["out_act"])[0] - Y[tr]) ** 2))
        self._fit_domain(X[tr], d_tr)
        self._fit_neighbours(X[tr], d_tr.group, X[va_fluid])
        self.meta = {
            "best_epoch": res["best_epoch"], "best_val": res["best_val"],
            "epochs_run": len(res["history"]), "history": res["history"],
            "split": {"train": sorted(set(data.group[tr])), "val": sorted(set(data.group[va])),
                      "test": sorted(set(data.group[te]))},
            "datasets": [{"file": Path(f).name, "sha256": h} for f, h in zip(data.files, data.hashes)],
            "n_samples": {"train": int(len(tr)), "val": int(len(va)), "test": int(len(te))},
            "train_wall_s": time.time() - t0,
        }
        self._split_idx = (tr, va, te)
        return self

    def _ensemble_moments(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean over members (n, 2) and their covariance (n, 2, 2), standardised u units."""
        out = numpy_forward(self.weights_, self.features_.network_input(X), self.config["act"],
                            self.config["out_act"])
        out = np.clip(out, -8.0, 8.0)  # keep wild extrapolations finite; the domain check flags them
        u = (out * self.vstd_ + self.vmean_) @ np.linalg.inv(self._basis()).T
        return mixture_moments((u - self.ymean_) / self.ystd_)

    def _residual_cov(self, m: np.ndarray) -> np.ndarray:
        """Kernel-weighted covariance of the validation residuals around predictions ``m``
        (n, 2), with the global residual covariance as a prior of weight one sample."""
        h = float(self.config["kernel_bandwidth"])
        d2 = np.sum((m[:, None, :] - self.cal_center_[None]) ** 2, axis=-1)
        w = np.exp(-0.5 * d2 / h**2)
        e = self.cal_resid_
        outer = np.einsum("ki,kj->kij", e, e)
        glob = outer.mean(axis=0)
        return (np.einsum("nk,kij->nij", w, outer) + glob) / (w.sum(axis=1) + 1.0)[:, None, None]

    def _fit_calibration(self, Xva: np.ndarray, Yva: np.ndarray) -> None:
        """Residual model and one scale factor so that 95 % intervals of log C12 and log C6
        hold 95 % of the validation samples."""
        m, epi = self._ensemble_moments(Xva)
        self.cal_center_ = m.astype(np.float64)
        self.cal_resid_ = (Yva - m).astype(np.float64)
        S = epi + self._residual_cov(m)
        e = Yva - m
        facs = []
        for a0, a1 in (_LIN["C12"], _LIN["C6"]):
            a = np.array([a0, a1]) * self.ystd_
            z = np.abs(e @ a) / np.sqrt(np.einsum("i,nij,j->n", a, S, a))
            facs.append(float(np.quantile(z, 0.95) / Z95))
        self.cal_scale_ = max(1.0, max(facs)) ** 2

    def _fit_domain(self, X: np.ndarray, d) -> None:
        from scipy.spatial import ConvexHull

        mean = X.mean(axis=0)
        _, s, vt = np.linalg.svd(X - mean, full_matrices=False)
        var = s**2 / np.sum(s**2)
        k = int(min(np.searchsorted(np.cumsum(var), 0.999) + 1, 40))
        self.pca_mean_, self.pca_comp_ = mean.astype(np.float32), vt[:k].astype(np.float32)
        res = self._residual(X)
        self.shape_threshold_ = float(1.5 * np.quantile(res, 0.999))
        pts = np.column_stack([np.log(d.T_reduced), d.rho_reduced])
        hull = ConvexHull(pts)
        self.hull_ = pts[hull.vertices]  # counter-clockwise for 2-D hulls
        self.box_ = {"T": [float(d.T.min()), float(d.T.max())],
                     "rho": [float(d.rho.min()), float(d.rho.max())]}

    def _fit_neighbours(self, Xtr: np.ndarray, groups: np.ndarray, Xva: np.ndarray) -> None:
        """Reference features, one row per training simulation (its expanded samples are the
        same RDF in reduced units), and the distance threshold: 1.5 x the 99th percentile of
        the nearest-neighbour distances of ``Xva``, the fluid validation samples (the few
        two-phase and solid ones lie far from everything and would set it by chance)."""
        _, first = np.unique(groups, return_index=True)
        self.nn_ref_ = np.ascontiguousarray(Xtr[np.sort(first)], dtype=np.float32)
        self.nn_threshold_ = float(1.5 * np.quantile(self._nn_distance(Xva), 0.99))

    def _nn_distance(self, X: np.ndarray) -> np.ndarray:
        """Root-mean-square feature difference to the nearest training simulation."""
        R = self.nn_ref_.astype(np.float64)
        X = np.asarray(X, dtype=np.float64)
        d2 = np.sum(X**2, axis=1)[:, None] + np.sum(R**2, axis=1)[None] - 2.0 * X @ R.T
        return np.sqrt(np.maximum(d2.min(axis=1), 0.0) / X.shape[1])

    def _residual(self, X: np.ndarray) -> np.ndarray:
        Z = X - self.pca_mean_
        rec = (Z @ self.pca_comp_.T) @ self.pca_comp_
        return np.sqrt(np.mean((Z - rec) ** 2, axis=1))

    # ---- prediction ---------------------------------------------------------------------------
    def predict(self, g: np.ndarray, temperature, density) -> dict[str, np.ndarray]:
        """Predict LJ parameters for RDFs ``g`` (n, 301) on the model grid at temperatures [K]
        and densities [nm^-3] (arrays of n, or scalars for one RDF).

        Returns arrays (length n): C12, C6, sigma, epsilon, T_star, rho_star, each with ``_std``
        and ``_lo``/``_hi`` (95 % interval), plus the domain check: ``state_in_box``,
        ``reduced_in_domain``, ``shape_residual``, ``shape_ok``, ``neighbour_distance``,
        ``neighbour_ok``, ``coverage``, ``in_domain``.
        """
        if self.weights_ is None:
            raise ModelError("model is not trained: call fit() or DeepILST.load()")
        g = np.array(g, dtype=float, ndmin=2)
        n = len(g)
        T = np.broadcast_to(np.asarray(temperature, dtype=float), (n,)).copy()
        rho = np.broadcast_to(np.asarray(density, dtype=float), (n,)).copy()
        c = self.config
        X = self.features_.transform(g, T, rho)
        res: dict[str, np.ndarray] = {}
        if self.kind == "paper":
            y = numpy_forward(self.weights_, X, c["act"], c["out_act"])[0]
            c12 = TABLE1["C12"][0] + y[:, 0] * (TABLE1["C12"][1] - TABLE1["C12"][0])
            c6 = TABLE1["C6"][0] + y[:, 1] * (TABLE1["C6"][1] - TABLE1["C6"][0])
            c12s = np.full(n, self.resid_std_[0] * (TABLE1["C12"][1] - TABLE1["C12"][0]))
            c6s = np.full(n, self.resid_std_[1] * (TABLE1["C6"][1] - TABLE1["C6"][0]))
            sig = (np.abs(c12) / np.abs(c6)) ** (1 / 6)
            eps = c6**2 / (4 * np.abs(c12))
            # first-order propagation of independent C12, C6 errors
            rs = np.sqrt((c12s / c12 / 6) ** 2 + (c6s / c6 / 6) ** 2)
            re = np.sqrt((2 * c6s / c6) ** 2 + (c12s / c12) ** 2)
            vals = {"C12": (c12, c12s), "C6": (c6, c6s), "sigma": (sig, sig * rs),
                    "epsilon": (eps, eps * re), "T_star": (KB * T / eps, KB * T / eps * re),
                    "rho_star": (rho * sig**3, rho * sig**3 * 3 * rs)}
            for k, (v, s) in vals.items():
                res[k], res[k + "_std"] = v, s
                res[k + "_lo"], res[k + "_hi"] = v - Z95 * s, v + Z95 * s
        else:
            m, epi = self._ensemble_moments(X)
            S = self.cal_scale_ * (epi + self._residual_cov(m))
            D = np.diag(self.ystd_)
            m = m * self.ystd_ + self.ymean_
            S = D @ S @ D
            const = _const(T, rho)
            for k, (a0, a1) in _LIN.items():
                a = np.array([a0, a1])
                lm = const[k] + m @ a
                ls = np.sqrt(np.einsum("i,nij,j->n", a, S, a))
                res[k] = np.exp(lm)
                res[k + "_std"] = res[k] * ls
                res[k + "_lo"], res[k + "_hi"] = np.exp(lm - Z95 * ls), np.exp(lm + Z95 * ls)
            res["log_cov"] = S
        # domain
        res["state_in_box"] = ((T >= self.box_["T"][0]) & (T <= self.box_["T"][1])
                               & (rho >= self.box_["rho"][0]) & (rho <= self.box_["rho"][1]))
        pts = np.column_stack([np.log(res["T_star"]), res["rho_star"]])
        res["reduced_in_domain"] = _in_polygon(pts, self.hull_)
        res["shape_residual"] = self._residual(X) / self.shape_threshold_
        res["shape_ok"] = res["shape_residual"] <= 1.0
        if getattr(self, "nn_ref_", None) is not None:
            res["neighbour_distance"] = self._nn_distance(X) / self.nn_threshold_
        else:  # models saved before the neighbour check existed
            res["neighbour_distance"] = np.zeros(n)
        res["neighbour_ok"] = res["neighbour_distance"] <= 1.0
        if isinstance(self.features_, ReducedFeatures):
            res["coverage"] = self.features_.coverage(rho)
        else:
            res["coverage"] = np.ones(n)
        ok = (res["reduced_in_domain"] & res["shape_ok"] & res["neighbour_ok"]
              & (res["coverage"] >= 0.999))
        if self.kind == "paper":  # the paper network reads T and rho directly
            ok &= res["state_in_box"]
        res["in_domain"] = ok
        return res

    # ---- persistence --------------------------------------------------------------------------
    def save(self, directory: str | Path, extra: dict | None = None) -> Path:
        """Write ``weights.safetensors`` and ``model.json`` into ``directory`` (atomically each)."""
        from safetensors.numpy import save_file

        from deepilst.fileio import atomic_path, write_text_atomic

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        tensors = {k: np.ascontiguousarray(v) for k, v in self.weights_.items()}
        tensors["pca_mean"] = np.ascontiguousarray(self.pca_mean_)
        tensors["pca_components"] = np.ascontiguousarray(self.pca_comp_)
        tensors["nn_reference"] = self.nn_ref_
        if self.kind == "ensemble":
            tensors["cal_center"] = np.ascontiguousarray(self.cal_center_)
            tensors["cal_resid"] = np.ascontiguousarray(self.cal_resid_)
        features = self.features_.to_state()
        for k in _FEATURE_TENSORS:  # large feature arrays go with the tensors, not the JSON
            if k in features:
                tensors["features." + k] = np.ascontiguousarray(features.pop(k), dtype=float)
        with atomic_path(d / WEIGHTS) as tmp:
            save_file(tensors, str(tmp))
        meta = {
            "format": "deepilst-model", "format_version": 1, "kind": self.kind, "seed": self.seed,
            "config": self.config, "features": features,
            "r_grid_nm": {"start": 0.0, "stop": 1.5, "step": 0.005},
            "targets": ({"paper": "C12, C6 min-max scaled to Table 1", "table1": TABLE1}
                        if self.kind == "paper" else
                        {"ensemble": "standardised (log T*, log rho*)", "mean": self.ymean_.tolist(),
                         "std": self.ystd_.tolist(), "calibration_scale": self.cal_scale_,
                         "basis": self.config["target_basis"],
                         "basis_mean": self.vmean_.tolist(), "basis_std": self.vstd_.tolist()}),
            "domain": {"box": self.box_, "reduced_hull_logT_rho": self.hull_.tolist(),
                       "shape_threshold": self.shape_threshold_,
                       "neighbour_threshold": self.nn_threshold_,
                       "pca_components": int(len(self.pca_comp_))},
            "cutoff_convention": "rc = 3 sigma, plain truncation (no shift), analytic tail "
                                 "corrections for energy and pressure",
            "versions": {"deepilst": __version__, "python": platform.python_version()},
        }
        # what this object holds now wins over a loaded model's stored description
        meta = {**self.meta, **meta, **(extra or {})}
        if self.kind == "paper":
            meta["resid_std"] = self.resid_std_.tolist()
            meta["train_loss"] = self.train_loss_
        write_text_atomic(d / META, json.dumps(meta, indent=1))
        return d

    @classmethod
    def load(cls, directory: str | Path) -> DeepILST:
        """Load a model directory written by :meth:`save`."""
        from safetensors.numpy import load_file

        d = Path(directory)
        if not (d / META).is_file() or not (d / WEIGHTS).is_file():
            raise ModelError(f"{d}: not a deepilst model (expected {META} and {WEIGHTS})")
        try:
            meta = json.loads((d / META).read_text())
        except ValueError as exc:
            raise ModelError(f"{d / META}: not valid JSON ({exc})") from None
        if meta.get("format") != "deepilst-model":
            raise ModelError(f"{d / META}: not a deepilst model description")
        cfg = ({**_LEGACY, **meta["config"]} if meta["kind"] == "ensemble" else meta["config"])
        m = cls(meta["kind"], cfg, meta["seed"])
        t = load_file(str(d / WEIGHTS))
        m.weights_ = {k: v for k, v in t.items() if k[0] in "Wb" and k[1:].isdigit()}
        m.pca_mean_, m.pca_comp_ = t["pca_mean"], t["pca_components"]
        m.features_ = features_from_state(
            {**meta["features"], **{k: t["features." + k] for k in _FEATURE_TENSORS
                                    if "features." + k in t}})
        dom = meta["domain"]
        m.box_, m.hull_ = dom["box"], np.array(dom["reduced_hull_logT_rho"])
        m.shape_threshold_ = float(dom["shape_threshold"])
        if "nn_reference" in t:
            m.nn_ref_, m.nn_threshold_ = t["nn_reference"], float(dom["neighbour_threshold"])
        if m.kind == "paper":
            m.resid_std_ = np.array(meta["resid_std"])
            m.train_loss_ = meta.get("train_loss", math.nan)
        else:
            m.ymean_ = np.array(meta["targets"]["mean"])
            m.ystd_ = np.array(meta["targets"]["std"])
            m.vmean_ = np.array(meta["targets"].get("basis_mean", m.ymean_))
            m.vstd_ = np.array(meta["targets"].get("basis_std", m.ystd_))
            m.cal_scale_ = float(meta["targets"]["calibration_scale"])
            m.cal_center_, m.cal_resid_ = t["cal_center"], t["cal_resid"]
        m.meta = meta
        return m
