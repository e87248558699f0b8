"""DeepILST models: the paper's network and our reduced-units deep ensemble.

A model directory holds ``weights.safetensors`` (network tensors, PCA bases of the domain
check and of the network input, calibration residuals) and ``model.json`` (architecture,
feature scalers, target scaling, r grid, cutoff convention, training domain, dataset hashes,
split, metrics, provenance). No pickles; loading needs numpy and safetensors only.

:class:`DeepILST` orchestrates its parts, each of which fits, saves and loads itself:
features (:mod:`~deepilst.model.features`), targets (:mod:`~deepilst.model.targets`), networks
(:mod:`~deepilst.model.nets`), uncertainty (:mod:`~deepilst.model.uncertainty`) and the
applicability domain (:mod:`~deepilst.model.domain`); hyper-parameters in
:mod:`~deepilst.model.config`.

* paper: (C12, C6) min-max scaled to Table 1, sigmoid output, MSE (eq. 5). Its uncertainty is
  the root-mean-square validation residual (one number per parameter).
* ensemble (ours): members regress a linear map of u = (log T*, log rho*) from reduced-units
  features; the covariance of u is calibrated on validation samples, and every reported
  quantity is log-linear in u, so standard deviations and 95 % intervals follow exactly.
"""

from __future__ import annotations

import copy
import json
import math
import time
from pathlib import Path

import numpy as np

from deepilst.errors import ModelError
from deepilst.model.config import (  # noqa: F401  (re-exported)
    ENSEMBLE_CONFIG,
    PAPER_CONFIG,
    check_kind,
    default_config,
    grid_from_meta,
    rc_sigma_from_meta,
    stored_config,
)
from deepilst.model.domain import Domain
from deepilst.model.features import PaperFeatures, ReducedFeatures, features_from_state
from deepilst.model.nets import mixture_moments, numpy_forward
from deepilst.model.targets import LOG_LINEAR, Z95, EnsembleTargets, PaperTargets, state_constants
from deepilst.model.uncertainty import Calibration, ResidualStd
from deepilst.rdf import DR, R_MAX, model_grid
from deepilst.units import KB, RC_SIGMA, cutoff_text, sigma_epsilon
from deepilst.versions import versions

WEIGHTS = "weights.safetensors"
_FEATURE_TENSORS = ("pca_components",)  # feature-state arrays stored in WEIGHTS
META = "model.json"
#: the quantities a prediction reports, each with ``_std`` and ``_95``
QUANTITIES = tuple(LOG_LINEAR)


class DeepILST:
    """A trained model. Build with :meth:`fit` or :meth:`load`; predict with :meth:`predict`.

    Parameters
    ----------
    kind : "paper" (the paper's network) or "ensemble" (ours)
    config : training hyper-parameters overriding PAPER_CONFIG / ENSEMBLE_CONFIG (validate
        user input with :func:`deepilst.model.config.model_config`)
    seed : seed of splits, initialisation and batches
    r_grid : the r grid [nm] of the training RDFs (default :func:`deepilst.rdf.model_grid`)
    rc_sigma : cutoff of the training simulations [sigma] (default ``units.RC_SIGMA``)
    """

    def __init__(self, kind: str = "ensemble", config: dict | None = None, seed: int = 0,
                 r_grid: np.ndarray | None = None, rc_sigma: float = RC_SIGMA) -> None:
        self.kind = check_kind(kind)
        self.config = default_config(kind)
        self.config.update(config or {})
        self.seed = int(seed)
        self.r_grid = model_grid(R_MAX, DR) if r_grid is None else np.asarray(r_grid, float)
        self.rc_sigma = float(rc_sigma)
        self.meta: dict = {}
        self.weights_: dict[str, np.ndarray] | None = None

    @property
    def box_(self) -> dict:
        """Training ranges {"T": [lo, hi] K, "rho": [lo, hi] nm^-3} (``self.domain.box``)."""
        return self.domain.box

    def _grid_meta(self) -> dict:
        r = self.r_grid
        return {"start": float(r[0]), "stop": float(r[-1]), "step": float(np.round(r[1] - r[0], 10))}

    def _check_g(self, g: np.ndarray) -> None:
        if g.shape[1] != len(self.r_grid):
            raise ModelError(f"g has {g.shape[1]} points per RDF but the model reads "
                             f"{len(self.r_grid)} (r = {self.r_grid[0]:g}..{self.r_grid[-1]:g} nm "
                             f"in {self.r_grid[1] - self.r_grid[0]:g} nm steps)")

    # ---- training -----------------------------------------------------------------------------
    def _target_parts(self):
        if self.kind == "paper":
            return PaperTargets()
        return EnsembleTargets(self.config["target_basis"])

    def fit(self, data, split: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
            progress: bool = True) -> DeepILST:
        """Train on :class:`deepilst.model.data.Arrays` (g on ``r_grid``, split by source
        simulation; ``split`` row indices of train / validation / test override the default)."""
        from deepilst.model.data import split_groups
        from deepilst.model.nets import train_stacked

        t0 = time.time()
        want = float(self.config.get("g_noise", 0.0))
        if data.noise != want:
            raise ModelError(f"config g_noise = {want} but the arrays were loaded with noise = "
                             f"{data.noise}: use load_arrays(..., noise={want})")
        self._check_g(data.g)
        c = self.config
        stop = c.get("stop_on", "all")  # the paper network: all validation samples
        if stop not in ("all", "fluid"):
            raise ModelError(f"unknown stop_on {stop!r}; expected 'all' or 'fluid'")
        self.targets = self._target_parts()  # an unknown basis fails before training
        tr, va, te = split if split is not None else split_groups(data.group, seed=self.seed)
        va = va[~data.noisy[va]]  # validate and calibrate on clean samples only
        d_tr = data.take(tr)
        feats = (PaperFeatures(r=self.r_grid) if self.kind == "paper"
                 else ReducedFeatures(**c.get("feature_args", {}), r=self.r_grid))
        self.features_ = feats.fit(d_tr.g, d_tr.T, d_tr.rho)
        if self.kind == "ensemble":
            self.targets.fit(d_tr)
        X = self.features_.transform(data.g, data.T, data.rho)
        Y = self.targets.encode(data)
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
            m, epi = self._ensemble_moments(X[va])
            self.uncertainty = Calibration(c["kernel_bandwidth"]).fit(
                m, epi, self.targets.standardised_u(data.take(va)), self.targets.std_)
        else:
            self.uncertainty = ResidualStd().fit(self._forward(X[va])[0], Y[va])
            self.train_loss_ = float(np.mean((self._forward(X[tr])[0] - Y[tr]) ** 2))
        self.domain = Domain().fit(X[tr], d_tr, d_tr.group, X[va_fluid])
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

    def _forward(self, X: np.ndarray) -> np.ndarray:
        """Every member's output (members, n, 2) for features ``X``."""
        return numpy_forward(self.weights_, self.features_.network_input(X), self.config["act"],
                             self.config["out_act"])

    def _ensemble_moments(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean over members (n, 2) and their covariance (n, 2, 2), standardised u units."""
        out = np.clip(self._forward(X), -8.0, 8.0)  # keep wild extrapolations finite; flagged
        return mixture_moments(self.targets.decode(out))

    # ---- prediction ---------------------------------------------------------------------------
    def predict(self, g: np.ndarray, temperature, density,
                r: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Predict LJ parameters for RDFs ``g`` (n, len(r_grid)) on the model's r grid at
        temperatures [K] and densities [nm^-3] (arrays of n, or scalars for one RDF). The
        ensemble also reads g on another uniform grid ``r`` [nm] from 0 (e.g. one reaching
        x = 3 at a density below 8 nm^-3); the paper network reads its own grid only.

        Returns
        -------
        dict of arrays (length n): C12 [kJ mol^-1 nm^12], C6 [kJ mol^-1 nm^6], sigma [nm],
        epsilon [kJ/mol], T_reduced, rho_reduced, each with ``_std`` (predictive standard
        deviation) and ``_95`` ((n, 2) 95 % interval [lo, hi]); the domain check
        (``deepilst.model.domain.DOMAIN_KEYS``); for the ensemble ``log_cov`` (n, 2, 2), the
        covariance of (log T*, log rho*).
        """
        if self.weights_ is None:
            raise ModelError("model is not trained: call fit() or DeepILST.load()")
        g = np.array(g, dtype=float, ndmin=2)
        feats = self.features_
        if r is None or (len(r) == len(self.r_grid) and np.allclose(r, self.r_grid)):
            self._check_g(g)
        elif self.kind == "paper":
            raise ModelError("the paper network reads g on its own r grid only (r = "
                             f"{self.r_grid[0]:g}..{self.r_grid[-1]:g} nm)")
        else:
            if g.shape[1] != len(r):
                raise ModelError(f"g has {g.shape[1]} points per RDF but r has {len(r)}")
            feats = copy.copy(feats)
            feats.r = np.asarray(r, dtype=float)
        n = len(g)
        T = np.broadcast_to(np.asarray(temperature, dtype=float), (n,)).copy()
        rho = np.broadcast_to(np.asarray(density, dtype=float), (n,)).copy()
        X = feats.transform(g, T, rho)
        res: dict[str, np.ndarray] = {}
        if self.kind == "paper":
            c12, c6 = self.targets.decode(self._forward(X)[0])
            c12s, c6s = (np.full(n, s) for s in self.uncertainty.std_ * self.targets.spans())
            sig, eps = sigma_epsilon(c12, c6)
            # first-order propagation of independent C12, C6 errors
            rs = np.sqrt((c12s / c12 / 6) ** 2 + (c6s / c6 / 6) ** 2)
            re_ = np.sqrt((2 * c6s / c6) ** 2 + (c12s / c12) ** 2)
            vals = {"C12": (c12, c12s), "C6": (c6, c6s), "sigma": (sig, sig * rs),
                    "epsilon": (eps, eps * re_), "T_reduced": (KB * T / eps, KB * T / eps * re_),
                    "rho_reduced": (rho * sig**3, rho * sig**3 * 3 * rs)}
            for k, (v, s) in vals.items():
                res[k], res[k + "_std"] = v, s
                res[k + "_95"] = np.column_stack([v - Z95 * s, v + Z95 * s])
        else:
            m, epi = self._ensemble_moments(X)
            S = self.uncertainty.apply(m, epi)
            D = np.diag(self.targets.std_)
            m = m * self.targets.std_ + self.targets.mean_
            S = D @ S @ D
            const = state_constants(T, rho)
            for k, (a0, a1) in LOG_LINEAR.items():
                a = np.array([a0, a1])
                lm = const[k] + m @ a
                ls = np.sqrt(np.einsum("i,nij,j->n", a, S, a))
                res[k] = np.exp(lm)
                res[k + "_std"] = res[k] * ls
                res[k + "_95"] = np.column_stack([np.exp(lm - Z95 * ls), np.exp(lm + Z95 * ls)])
            res["log_cov"] = S
        res.update(self.domain.evaluate(X, T, rho, res["T_reduced"], res["rho_reduced"],
                                        feats.coverage(rho),
                                        need_box=self.kind == "paper"))
        return res

    # ---- persistence --------------------------------------------------------------------------
    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(``model.json`` content without training history, tensors of ``weights.safetensors``)."""
        tensors = {k: np.ascontiguousarray(v) for k, v in self.weights_.items()}
        dom, t = self.domain.to_state()
        tensors.update(t)
        features = self.features_.to_state()
        for k in _FEATURE_TENSORS:  # large feature arrays go with the tensors, not the JSON
            if k in features:
                tensors["features." + k] = np.ascontiguousarray(features.pop(k), dtype=float)
        targets, _ = self.targets.to_state()
        unc, t = self.uncertainty.to_state()
        tensors.update(t)
        if self.kind == "ensemble":
            targets.update(unc)
        meta = {
            "format": "deepilst-model", "format_version": 1, "kind": self.kind, "seed": self.seed,
            "config": self.config, "features": features, "r_grid_nm": self._grid_meta(),
            "targets": targets, "domain": dom, "cutoff_convention": cutoff_text(self.rc_sigma),
            "rc_sigma": self.rc_sigma,
            "versions": versions("torch"),
        }
        if self.kind == "paper":
            meta.update(unc)
            meta["train_loss"] = self.train_loss_
        return meta, tensors

    def save(self, directory: str | Path, extra: dict | None = None) -> Path:
        """Write ``weights.safetensors`` and ``model.json`` into ``directory`` (atomically each);
        ``extra`` keys are added to ``model.json``."""
        from safetensors.numpy import save_file

        from deepilst.fileio import atomic_path, write_text_atomic

        if self.weights_ is None:
            raise ModelError("model is not trained: call fit() before save()")
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        state, tensors = self.to_state()
        with atomic_path(d / WEIGHTS) as tmp:
            save_file(tensors, str(tmp))
        # what this object holds now wins over a loaded model's stored description
        meta = {**self.meta, **state, **(extra or {})}
        write_text_atomic(d / META, json.dumps(meta, indent=1))
        return d

    @classmethod
    def from_state(cls, meta: dict, tensors: dict[str, np.ndarray]) -> DeepILST:
        """A model from ``model.json`` content and its tensors (see :meth:`to_state`)."""
        kind = meta["kind"]
        cfg = stored_config(kind, meta["config"])
        m = cls(kind, cfg, meta["seed"], grid_from_meta(meta["r_grid_nm"]) if "r_grid_nm" in meta
                else None, rc_sigma_from_meta(meta))
        t = tensors
        m.weights_ = {k: v for k, v in t.items() if k[0] in "Wb" and k[1:].isdigit()}
        m.features_ = features_from_state(
            {**meta["features"], **{k: t["features." + k] for k in _FEATURE_TENSORS
                                    if "features." + k in t}}, m.r_grid)
        m.domain = Domain.from_state(meta["domain"], t)
        if kind == "paper":
            m.targets = PaperTargets.from_state(meta["targets"])
            m.uncertainty = ResidualStd.from_state(meta)
            m.train_loss_ = meta.get("train_loss", math.nan)
        else:
            m.targets = EnsembleTargets.from_state(meta["targets"], basis=cfg["target_basis"])
            m.uncertainty = Calibration.from_state(
                {"kernel_bandwidth": cfg["kernel_bandwidth"], **meta["targets"]}, t)
        m.meta = meta
        return m

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
        try:
            return cls.from_state(meta, load_file(str(d / WEIGHTS)))
        except KeyError as exc:
            raise ModelError(f"{d}: incomplete model description (missing {exc})") from None
