"""Phase of a system from its g(r) alone: homogeneous fluid, two-phase, or solid.

A multinomial logistic regression on g read at x = r rho^(1/3) (mean interparticle spacings,
so corresponding states make it independent of sigma and epsilon) and on log g at the first
peak, trained on the phase labels of the committed datasets (:mod:`deepilst.phase`: q6
crystallinity and density inhomogeneity of the MD frames), split by simulation. Solids show
split and sharp shells, two-phase states a tail above 1 (the liquid's local density exceeds
the mean). Inference is numpy only; the model is ``phase_check.json`` (grid, scalers,
classes, threshold, metrics) and ``phase_check.safetensors`` (coefficients), no pickles.

``PhaseCheck.flag`` is True where P(fluid) < ``threshold`` (0.5 in the shipped classifier,
the class-balanced decision boundary; its metrics are stored in ``phase_check.json``).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from deepilst.errors import ModelError
from deepilst.phase import LABELS

META = "phase_check.json"
WEIGHTS = "phase_check.safetensors"
#: x = r rho^(1/3) grid the classifier reads
X_GRID = np.linspace(0.4, 3.0, 105)
R_MIN = 0.25  # nm; below, g is taken as 0 (as the networks do)


def default_dir() -> Path:
    """The shipped classifier: package data ``deepilst/shipped_models/phase``."""
    return Path(__file__).resolve().parents[1] / "shipped_models" / "phase"


def phase_features(g: np.ndarray, r: np.ndarray, density) -> np.ndarray:
    """Features (n, len(X_GRID) + 1): g at x = r rho^(1/3) on :data:`X_GRID` (1 beyond the
    input, 0 below ``R_MIN`` nm) and log of the largest g, from g (n, len(r)) on the grid
    ``r`` [nm] at densities [nm^-3] (scalar or (n,))."""
    g = np.nan_to_num(np.array(g, dtype=float, ndmin=2), nan=0.0)
    g[:, np.asarray(r) < R_MIN - 1e-9] = 0.0
    rho = np.broadcast_to(np.asarray(density, dtype=float), (len(g),))
    out = np.empty((len(g), len(X_GRID) + 1))
    for i in range(len(g)):
        out[i, :-1] = np.interp(X_GRID / rho[i] ** (1.0 / 3.0), r, g[i], right=1.0)
    out[:, -1] = np.log(np.maximum(g.max(axis=1), 1e-3))
    return out


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class PhaseCheck:
    """Phase classifier from g(r). Build with :meth:`fit` or :meth:`load`."""

    def __init__(self, mean: np.ndarray, std: np.ndarray, W: np.ndarray, b: np.ndarray,
                 classes: tuple[str, ...] = LABELS, threshold: float = 0.5,
                 meta: dict | None = None) -> None:
        self.mean, self.std = np.asarray(mean, float), np.asarray(std, float)
        self.W, self.b = np.asarray(W, float), np.asarray(b, float)
        self.classes = tuple(classes)
        self.threshold = float(threshold)
        self.meta = dict(meta or {})

    # ---- inference ----------------------------------------------------------------------------
    def predict_proba(self, g: np.ndarray, temperature, density,
                      r: np.ndarray | None = None) -> np.ndarray:
        """Probabilities (n, k) of :attr:`classes` for g (n, len(r)) on the grid ``r`` [nm]
        (default the model grid) at densities [nm^-3]. ``temperature`` [K] is accepted for a
        uniform signature and not used (T* is unknown without epsilon)."""
        from deepilst.rdf import model_grid

        r = model_grid() if r is None else np.asarray(r, dtype=float)
        X = (phase_features(g, r, density) - self.mean) / self.std
        return _softmax(X @ self.W.T + self.b)

    def p_fluid(self, g, temperature, density, r=None) -> np.ndarray:
        """P(fluid) (n,)."""
        return self.predict_proba(g, temperature, density, r)[:, self.classes.index("fluid")]

    def label(self, g, temperature, density, r=None) -> np.ndarray:
        """Most probable phase (n,) of str; "fluid" unless P(fluid) < :attr:`threshold`."""
        return self.label_from_proba(self.predict_proba(g, temperature, density, r))

    def label_from_proba(self, p: np.ndarray) -> np.ndarray:
        """:meth:`label` from class probabilities ``p`` (n, classes) already computed."""
        i_f = self.classes.index("fluid")
        other = p.copy()
        other[:, i_f] = -1.0
        lab = np.array(self.classes)[np.argmax(other, axis=1)]
        return np.where(p[:, i_f] >= self.threshold, "fluid", lab)

    def flag(self, g, temperature, density, r=None) -> np.ndarray:
        """True (n,) where the input does not look like a homogeneous fluid."""
        return self.p_fluid(g, temperature, density, r) < self.threshold

    # ---- training -----------------------------------------------------------------------------
    @classmethod
    def fit(cls, g: np.ndarray, density: np.ndarray, labels: np.ndarray, r: np.ndarray,
            l2: float = 1e-3, meta: dict | None = None) -> PhaseCheck:
        """Fit on g (n, len(r)) at densities [nm^-3] with phase ``labels`` (n,), classes
        weighted to equal total weight, L2 penalty ``l2`` (per sample, standardised inputs);
        L-BFGS from zero (deterministic)."""
        from scipy.optimize import minimize

        F = phase_features(g, r, density)
        mean, std = F.mean(axis=0), np.maximum(F.std(axis=0), 1e-3)
        X = (F - mean) / std
        classes = tuple(c for c in LABELS if np.any(labels == c))
        y = np.array([classes.index(c) for c in labels])
        Y = np.eye(len(classes))[y]
        w = (len(y) / (len(classes) * np.bincount(y)))[y]
        w = w / w.sum()
        k, d = len(classes), X.shape[1]

        def loss(theta):
            W, b = theta[: k * d].reshape(k, d), theta[k * d:]
            Z = X @ W.T + b
            Z = Z - Z.max(axis=1, keepdims=True)
            lse = np.log(np.exp(Z).sum(axis=1))
            P = np.exp(Z - lse[:, None])
            f = np.sum(w * (lse - np.sum(Y * Z, axis=1))) + 0.5 * l2 * np.sum(W**2)
            G = (P - Y) * w[:, None]
            return f, np.concatenate([(G.T @ X + l2 * W).ravel(), G.sum(axis=0)])

        res = minimize(loss, np.zeros(k * d + k), jac=True, method="L-BFGS-B",
                       options={"maxiter": 2000, "gtol": 1e-9})
        W, b = res.x[: k * d].reshape(k, d), res.x[k * d:]
        return cls(mean, std, W, b, classes, meta={**(meta or {}), "l2": l2,
                                                   "iterations": int(res.nit)})

    # ---- persistence --------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write :data:`META` and :data:`WEIGHTS` into ``directory`` (atomically each; tensors
        float32, so a retrain on the same data gives the same bytes)."""
        from safetensors.numpy import save_file

        from deepilst.fileio import atomic_path, write_text_atomic

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        t = {"mean": self.mean, "std": self.std, "W": self.W, "b": self.b}
        with atomic_path(d / WEIGHTS) as tmp:
            save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in t.items()}, str(tmp))
        meta = {"format": "deepilst-phase-check", "format_version": 1, "classes": list(self.classes),
                "threshold": self.threshold, "x_grid": [float(X_GRID[0]), float(X_GRID[-1]),
                                                        len(X_GRID)], "r_min_nm": R_MIN, **self.meta}
        write_text_atomic(d / META, json.dumps(meta, indent=1) + "\n")
        return d

    @classmethod
    def load(cls, directory: str | Path | None = None) -> PhaseCheck:
        """Load a classifier directory (default :func:`default_dir`)."""
        from safetensors.numpy import load_file

        d = Path(directory) if directory is not None else default_dir()
        if not (d / META).is_file() or not (d / WEIGHTS).is_file():
            raise ModelError(f"{d}: not a phase classifier (expected {META} and {WEIGHTS})")
        meta = json.loads((d / META).read_text())
        if meta.get("format") != "deepilst-phase-check":
            raise ModelError(f"{d / META}: not a deepilst phase classifier")
        lo, hi, n = meta["x_grid"]
        if not np.allclose(np.linspace(lo, hi, n), X_GRID):
            raise ModelError(f"{d / META}: x grid {lo}-{hi} ({n}) differs from this version's")
        t = {k: v.astype(float) for k, v in load_file(str(d / WEIGHTS)).items()}
        rest = {k: v for k, v in meta.items() if k not in ("classes", "threshold")}
        return cls(t["mean"], t["std"], t["W"], t["b"], tuple(meta["classes"]),
                   meta["threshold"], rest)


@lru_cache(maxsize=1)
def shipped() -> PhaseCheck:
    """The shipped classifier, loaded once (lazily, on first use)."""
    return PhaseCheck.load(default_dir())
