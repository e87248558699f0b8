"""Training the forward model: principal curves of the fluid training g*(x), one Gaussian
process per coefficient over the reduced state, and the calibration of its standard deviation.

``fit_forward`` builds a :class:`~deepilst.model.forward.ForwardModel` from
:class:`~deepilst.model.forward_data.ReducedCurves`; ``calibrate`` fits the factor on the GP
variance and the variance floor per x range by maximum likelihood on validation simulations
(:mod:`deepilst.model.forward_eval` holds the metrics).
"""

from __future__ import annotations

import math

import numpy as np

from deepilst.errors import ParameterError
from deepilst.model import forward_gp as gp
from deepilst.model.forward import COORDINATES, ForwardModel, raw_coords
from deepilst.model.forward_data import ReducedCurves

#: x ranges (edges) with one variance floor each (calibration)
FLOOR_EDGES = (0.0, 1.0, 1.3, 2.0, 3.0, 5.0)
#: grid points per axis of the tabulated GP means and log variances
GRID_MEAN = 128
GRID_VAR = 64


def fit_forward(curves: ReducedCurves, n_components: int = 20, coordinates: str = "logT_rho",
                n_sub: int = 400, seed: int = 0, progress: bool = False) -> ForwardModel:
    """Fit the forward model on the fluid simulations of ``curves``.

    Parameters
    ----------
    curves : training simulations as g*(x) with errors (:func:`reduced_curves`)
    n_components : principal curves K
    coordinates : GP inputs, one of :data:`~deepilst.model.forward.COORDINATES`
    n_sub : simulations in the seeded subset that fits each GP's hyper-parameters
    seed : seed of that subset
    """
    from scipy.spatial import ConvexHull
    from tqdm import tqdm

    if coordinates not in COORDINATES:
        raise ParameterError(f"coordinates must be one of {', '.join(COORDINATES)}")
    fluid = curves.phase == "fluid"
    if fluid.sum() < 10 or not 1 <= n_components <= min(fluid.sum() - 1, curves.G.shape[1]):
        raise ParameterError(f"need >= 10 fluid simulations and 1 <= n_components < their number; "
                             f"got {int(fluid.sum())} and {n_components}")
    G, E = curves.G[fluid], curves.E[fluid]
    mean = G.mean(axis=0)
    _, S, Vt = np.linalg.svd(G - mean, full_matrices=False)
    basis = Vt[:n_components]
    # a data-fixed sign per curve (LAPACK may flip it): the largest entry positive
    basis *= np.sign(basis[np.arange(n_components), np.argmax(np.abs(basis), axis=1)])[:, None]
    C = (G - mean) @ basis.T
    NV = (np.nan_to_num(E) ** 2) @ (basis.T**2)  # noise variance of each coefficient
    raw = raw_coords(curves.T_reduced, curves.rho_reduced, coordinates)
    cm, cs = raw[fluid].mean(axis=0), raw[fluid].std(axis=0)
    X = (raw[fluid] - cm) / cs
    thetas, alphas, prev = [], [], None
    for k in tqdm(range(n_components), desc="forward GPs", disable=not progress):
        start = None
        if prev is not None:  # the previous optimum, moved to this coefficient's variance
            shift = prev[0] - math.log(float(np.var(C[:, k])) + 1e-30)
            start = prev - np.r_[shift, np.zeros(X.shape[1] + 1), shift]
        th = gp.fit_hyper(X, C[:, k], NV[:, k], n_sub=n_sub, seed=seed + k, start=start)
        thetas.append(th)
        alphas.append(gp.condition(X, C[:, k], NV[:, k], th))
        prev = th
    lt_rho = np.column_stack([np.log(curves.T_reduced[fluid]), curves.rho_reduced[fluid]])
    hull = lt_rho[ConvexHull(lt_rho).vertices]
    states = np.column_stack([(raw - cm) / cs, fluid.astype(float)])
    explained = float(np.sum(S[:n_components] ** 2) / np.sum(S**2))
    arrays = {"mean": mean, "basis": basis, "X": X, "nv": NV, "theta": np.array(thetas),
              "alpha": np.array(alphas), "floor": np.zeros_like(mean), "hull": hull,
              "states": states}
    nd = X.shape[1]
    meta = {
        "dx": float(curves.edges[1] - curves.edges[0]), "x_max": float(curves.edges[-1]),
        "coordinates": coordinates, "coord_mean": cm.tolist(), "coord_std": cs.tolist(),
        "n_components": int(n_components), "explained_variance": explained,
        "n_train_simulations": int(fluid.sum()), "n_sub": int(n_sub), "seed": int(seed),
        "kernel": "Matern 5/2, ARD, per-simulation noise (block errors) x c + jitter",
        "gp": [{"signal_std": math.sqrt(gp.unpack(t, nd)[0]),
                "length_scales": gp.unpack(t, nd)[1].tolist(), "noise_factor": gp.unpack(t, nd)[2],
                "jitter": gp.unpack(t, nd)[3]} for t in thetas],
        "datasets": [{"file": f, "dataset_id": i} for f, i in zip(curves.files, curves.ids)],
        "train_rows": {"phase": "fluid", "n": int(fluid.sum())},
        "calibration": {"std_scale": 1.0, "floor_edges": list(FLOOR_EDGES),
                        "floor_var": [0.0] * (len(FLOOR_EDGES) - 1)},
    }
    model = ForwardModel(arrays, meta)
    add_grids(model, progress=progress)
    return model


def add_grids(model: ForwardModel, n_mean: int = GRID_MEAN, n_var: int = GRID_VAR,
              margin: float = 0.15, progress: bool = False) -> None:
    """Tabulate the GP means (``n_mean`` x ``n_mean``) and log variances (``n_var`` x
    ``n_var``) of every coefficient over the box of the fluid training inputs (standardised,
    widened by ``margin``), so that inference interpolates instead of summing over every
    training simulation."""
    from tqdm import tqdm

    st = model.a["states"]
    X = st[st[:, 2] > 0.5, :2]
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    model.meta["grid_lo"], model.meta["grid_hi"] = lo.tolist(), hi.tolist()

    def pts(n):
        a, b = np.meshgrid(np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n),
                           indexing="ij")
        return np.column_stack([a.ravel(), b.ravel()])

    K = model.n_components
    model.a["grid_mean"] = model.exact_coefficients(pts(n_mean)).T.reshape(K, n_mean, n_mean)
    U = pts(n_var)
    lv = np.empty((K, n_var * n_var))
    for lo_i in tqdm(range(0, len(U), 512), desc="variance grid", disable=not progress):
        lv[:, lo_i:lo_i + 512] = np.log(np.maximum(model.exact_var(U[lo_i:lo_i + 512]).T, 1e-30))
    model.a["grid_logvar"] = lv.reshape(K, n_var, n_var)
    model._spline = None


def floor_profile(model: ForwardModel, floor_var) -> np.ndarray:
    """Variance floor per model x bin from one value per :data:`FLOOR_EDGES` range."""
    mid = 0.5 * (model.edges[1:] + model.edges[:-1])
    k = np.clip(np.searchsorted(FLOOR_EDGES, mid, side="right") - 1, 0, len(floor_var) - 1)
    return np.asarray(floor_var, dtype=float)[k]


def calibrate(model: ForwardModel, parts: list[dict]) -> dict:
    """Fit the factor c on the GP variance and the floor per x range by maximum likelihood of
    validation residuals: (g_val - g) ~ N(0, se^2 + c^2 v_gp + floor(x)), over the bins where
    g_val or g exceeds 0.05. ``parts``: per validation simulation dicts with ``g``, ``se``,
    ``v_gp`` (the GP part of the variance at c = 1), ``floor_design`` (bins x ranges: the
    per-range floor weights) and ``g_pred`` (:func:`deepilst.model.forward_eval.residual_parts`).
    Sets the model's calibration and returns it."""
    from scipy.optimize import minimize

    r = np.concatenate([p["g"] - p["g_pred"] for p in parts])
    se2 = np.concatenate([p["se"] ** 2 for p in parts])
    v = np.concatenate([p["v_gp"] for p in parts])
    D = np.concatenate([p["floor_design"] for p in parts])

    def nll(th):
        var = se2 + math.exp(2 * th[0]) * v + D @ np.exp(th[1:])
        return 0.5 * float(np.sum(r**2 / var + np.log(var)))

    th0 = np.r_[0.0, np.full(D.shape[1], math.log(1e-7))]
    res = minimize(nll, th0, method="L-BFGS-B",
                   bounds=[(-5.0, 5.0)] + [(math.log(1e-12), math.log(1e-2))] * D.shape[1])
    scale, fv = math.exp(res.x[0]), np.exp(res.x[1:])
    fv[fv < 1e-11] = 0.0
    cal = {"std_scale": scale, "floor_edges": list(FLOOR_EDGES), "floor_var": fv.tolist(),
           "n_points": int(len(r))}
    model.meta["calibration"] = {**model.meta.get("calibration", {}), **cal}
    model.std_scale = scale
    model.a["floor"] = floor_profile(model, fv)
    return model.meta["calibration"]
