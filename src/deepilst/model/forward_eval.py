"""The forward model against MD: eps_rdf, interval coverage and chi^2 per point on dataset
simulations (each on its own 0.005 nm model grid, as ``simulate`` writes it).

The run-to-run eps_rdf of the MD protocol comes from two independent runs of each state: a
dataset of single runs and the dataset of the same states pooled with a second run
(``data/v1_test.h5`` and ``data/v1_test_2runs.h5``): with equal production lengths the second
run is 2 g_pooled - g_1 (:func:`second_run`).
"""

from __future__ import annotations

import numpy as np

from deepilst.model.forward import ForwardModel

#: points that count: the MD or the model g above this (the core, g = 0 +- 0, is left out)
G_MIN = 0.05
#: reduced-temperature regions of the reports
T_REGIONS = ((0.0, 1.5), (1.5, 4.0), (4.0, 15.0), (15.0, float("inf")))


def load_sims(path) -> dict:
    """Simulations of a dataset: ``g``, ``g_err`` (n, len(r)) on ``r`` [nm], ``T`` [K],
    ``rho`` [nm^-3], ``C12``, ``C6``, ``T_reduced``, ``rho_reduced``, ``phase``, ``replicas``."""
    from deepilst.dataset import open_dataset

    with open_dataset(path) as h:
        s = h["sims"]
        out = {k: s[k][:] for k in ("g", "g_err", "T", "rho", "C12", "C6", "T_reduced",
                                    "rho_reduced", "replicas")}
        out["phase"] = np.array([x.decode() for x in s["phase"][:]])
        out["key"] = np.array([x.decode() for x in s["key"][:]])
        out["r"] = h["r"][:]
    return out


def second_run(single: dict, pooled: dict) -> dict:
    """The second run of each state from a single-run set and the same states pooled with
    one more run of equal length: g_2 = 2 g_pooled - g_1, se_2^2 = 4 se_pooled^2 - se_1^2
    (floored at se_1^2 / 4)."""
    if not np.array_equal(single["key"], pooled["key"]):
        raise ValueError("the two sets do not hold the same states in the same order")
    out = dict(single)
    out["g"] = 2.0 * pooled["g"] - single["g"]
    v = 4.0 * pooled["g_err"] ** 2 - single["g_err"] ** 2
    out["g_err"] = np.sqrt(np.maximum(v, single["g_err"] ** 2 / 4.0))
    return out


def predict_sims(model: ForwardModel, sims: dict, idx=None, std: bool = True
                 ) -> tuple[np.ndarray, np.ndarray | None]:
    """The model's g (and g_std) on each simulation's grid at its reduced state, (n, len(r))."""
    from deepilst.rdf import centered_edges

    idx = np.arange(len(sims["g"])) if idx is None else np.asarray(idx)
    ce = centered_edges(sims["r"])
    G = np.empty((len(idx), len(sims["r"])))
    S = np.empty_like(G) if std else None
    for j, i in enumerate(idx):
        g, s = model.reduced_shell_average(ce * sims["rho"][i] ** (1.0 / 3.0),
                                           sims["T_reduced"][i], sims["rho_reduced"][i], std=std)
        G[j] = g[0]
        if std:
            S[j] = s[0]
    return G, S


def residual_parts(model: ForwardModel, sims: dict, idx) -> list[dict]:
    """What :func:`deepilst.model.forward_fit.calibrate` needs per simulation ``idx``."""
    from deepilst.model.forward_fit import FLOOR_EDGES
    from deepilst.rdf import centered_edges

    ce = centered_edges(sims["r"])
    parts = []
    nf = len(FLOOR_EDGES) - 1
    for i in idx:
        xe = ce * sims["rho"][i] ** (1.0 / 3.0)
        t, r = sims["T_reduced"][i], sims["rho_reduced"][i]
        op = model.operator(xe)
        g, _ = model.apply(op, t, r)
        v = model.coefficient_var(t, r) @ op["basis"] ** 2
        m = (np.maximum(g[0], sims["g"][i]) > G_MIN) & np.isfinite(sims["g"][i])
        xm = 0.5 * (xe[1:] + xe[:-1])
        k = np.clip(np.searchsorted(FLOOR_EDGES, xm, side="right") - 1, 0, nf - 1)
        D = np.zeros((len(xm), nf))
        D[np.arange(len(xm)), k] = 1.0
        D[xm > model.x_max] = 0.0
        parts.append({"g": sims["g"][i][m], "se": np.nan_to_num(sims["g_err"][i][m]),
                      "v_gp": v[0][m], "floor_design": D[m], "g_pred": g[0][m]})
    return parts


def metrics(model: ForwardModel, sims: dict, idx=None, other: dict | None = None) -> dict:
    """eps_rdf of the model against each simulation (model grid to 1.5 nm), the share of points
    within 2 and 1 combined sigma (sqrt(g_std^2 + se_MD^2)), chi^2 per point, and with
    ``other`` (the second runs of the same states) the run-to-run eps_rdf; medians overall and
    by T* region, and the per-simulation arrays."""
    from deepilst.rdf import eps_rdf

    idx = np.arange(len(sims["g"])) if idx is None else np.asarray(idx)
    G, S = predict_sims(model, sims, idx)
    r = sims["r"]
    eps, rr, cov2, cov1, cov2m, chi2 = [], [], [], [], [], []
    for j, i in enumerate(idx):
        g, se = sims["g"][i], np.nan_to_num(sims["g_err"][i])
        eps.append(eps_rdf(r, G[j], g))
        if other is not None:
            rr.append(eps_rdf(r, other["g"][i], g))
        m = (np.maximum(G[j], g) > G_MIN) & np.isfinite(g)
        z = (g[m] - G[j][m]) / np.sqrt(S[j][m] ** 2 + se[m] ** 2)
        cov2.append(np.mean(np.abs(z) < 2))
        cov1.append(np.mean(np.abs(z) < 1))
        chi2.append(np.mean(z**2))
        with np.errstate(divide="ignore"):
            zm = np.abs(g[m] - G[j][m]) / np.maximum(S[j][m], 1e-300)
        cov2m.append(np.mean(zm < 2))
    eps, cov2, cov1, chi2 = map(np.array, (eps, cov2, cov1, chi2))
    T = sims["T_reduced"][idx]
    out = {"n": int(len(idx)), "eps_rdf_median": float(np.median(eps)),
           "eps_rdf_mean": float(np.mean(eps)), "eps_rdf_p90": float(np.quantile(eps, 0.9)),
           "coverage_2sigma": float(np.mean(cov2)), "coverage_1sigma": float(np.mean(cov1)),
           "coverage_2sigma_model_std_only": float(np.mean(cov2m)),
           "chi2_per_point_median": float(np.median(chi2)), "regions": {}}
    if other is not None:
        rr = np.array(rr)
        out["run_to_run_eps_rdf_median"] = float(np.median(rr))
        out["ratio_of_medians"] = float(np.median(eps) / np.median(rr))
    for lo, hi in T_REGIONS:
        m = (T >= lo) & (T < hi)
        if m.any():
            reg = {"n": int(m.sum()), "eps_rdf_median": float(np.median(eps[m])),
                   "coverage_2sigma": float(np.mean(cov2[m]))}
            if other is not None:
                reg["run_to_run_eps_rdf_median"] = float(np.median(rr[m]))
            out["regions"][f"T* {lo:g}-{hi:g}"] = reg
    out["per_sim"] = {"eps_rdf": eps.tolist(), "coverage_2sigma": cov2.tolist(),
                      "chi2_per_point": chi2.tolist(),
                      **({"run_to_run_eps_rdf": rr.tolist()} if other is not None else {})}
    return out


def structure_regions(g: np.ndarray) -> dict[str, np.ndarray]:
    """Masks (n, n_r) of the repulsive wall (g from 0.05 up to 0.9 of its maximum, before it),
    the first peak (7 points around the maximum) and the rest (g > 0.05) of RDFs (n, n_r)."""
    n, k = g.shape
    top = np.argmax(np.nan_to_num(g), axis=1)
    col = np.arange(k)[None, :]
    gmax = g[np.arange(n), top][:, None]
    wall = (g > G_MIN) & (col < top[:, None]) & (g < 0.9 * gmax)
    peak = np.abs(col - top[:, None]) <= 3
    return {"wall": wall, "peak": peak, "rest": (g > G_MIN) & ~wall & ~peak}


def region_residuals(model: ForwardModel, sims: dict, idx=None) -> dict:
    """chi^2 per point (with the model's std and the MD errors), 2-sigma coverage and the
    root-mean-square residual and MD error on the wall, the first peak and the rest
    (:func:`structure_regions`), over all simulations ``idx`` and by T* region."""
    idx = np.arange(len(sims["g"])) if idx is None else np.asarray(idx)
    G, S = predict_sims(model, sims, idx)
    g, se = sims["g"][idx], np.nan_to_num(sims["g_err"][idx])
    z = (g - G) / np.sqrt(S**2 + se**2)
    regs = structure_regions(g)
    T = sims["T_reduced"][idx]
    out: dict = {}
    for name, m in regs.items():
        out[name] = {"chi2_per_point": float(np.mean(z[m] ** 2)),
                     "coverage_2sigma": float(np.mean(np.abs(z[m]) < 2)),
                     "rms_residual": float(np.sqrt(np.mean((g - G)[m] ** 2))),
                     "rms_md_error": float(np.sqrt(np.mean(se[m] ** 2))),
                     "rms_model_std": float(np.sqrt(np.mean(S[m] ** 2))),
                     "by_T": {}}
        for lo, hi in T_REGIONS:
            mm = m & ((T >= lo) & (T < hi))[:, None]
            if mm.any():
                out[name]["by_T"][f"T* {lo:g}-{hi:g}"] = {
                    "chi2_per_point": float(np.mean(z[mm] ** 2)),
                    "rms_residual": float(np.sqrt(np.mean((g - G)[mm] ** 2)))}
    return out
