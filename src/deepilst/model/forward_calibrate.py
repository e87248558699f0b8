"""Calibration of the likelihood inverse on validation simulations: the factor on its
curvature covariance and the chi^2-per-point level above which an input is not an LJ fluid.

Each validation RDF (a dataset row: g on the 0.005 nm model grid with its block errors) is fitted
from the network's answer (:func:`deepilst.model.inverse.fit_state`, covariance factor 1); then

* ``cov_scale`` = (q / 1.96)^2 with q the 95th percentile of |z| over the fluid simulations the
  forward model covers, z the error of log C12 and of log C6 (pooled) in units of their raw
  standard deviations, so that 95 % intervals hold 95 % of them;
* ``chi2_threshold`` = ``CHI2_MARGIN`` x the 99.5th percentile of their chi^2 per point.
"""

from __future__ import annotations

import numpy as np

from deepilst.model.forward import ForwardModel
from deepilst.model.targets import LOG_LINEAR, Z95

#: margin on the 99.5th percentile of the LJ fluids' chi^2 per point
CHI2_MARGIN = 1.5


def fit_sims(fm: ForwardModel, sims: dict, idx, starts: np.ndarray, progress: bool = False
             ) -> list[dict]:
    """Fit each simulation ``idx`` of ``sims`` (:func:`deepilst.model.forward_eval.load_sims`)
    from ``starts`` (len(idx), 2) = (T*, rho*); rows with the fitted state, the covariance as
    the model stores it, chi^2 per point, convergence and coverage."""
    from tqdm import tqdm

    from deepilst.model.inverse import fit_state
    from deepilst.rdf import centered_edges

    ce = centered_edges(sims["r"])
    rows = []
    for j, i in enumerate(tqdm(np.asarray(idx), desc="fits", disable=not progress)):
        f = fit_state(fm, ce, sims["g"][i], sims["g_err"][i], float(sims["rho"][i]),
                      (float(starts[j][0]), float(starts[j][1])))
        rows.append({"row": int(i), "T_reduced": f.T_reduced, "rho_reduced": f.rho_reduced,
                     "log_cov": f.log_cov.tolist(), "chi2_per_point": f.chi2_per_point,
                     "n_points": f.n_points, "converged": f.converged, "covered": f.covered,
                     "iterations": f.iterations})
    return rows


def log_errors(rows: list[dict], sims: dict) -> tuple[np.ndarray, np.ndarray]:
    """Errors of log C12 and log C6 (n, 2) of fitted rows against the simulations' truth, and
    their standard deviations (n, 2) from the rows' covariances."""
    err, sd = [], []
    for r in rows:
        i = r["row"]
        du = np.array([np.log(r["T_reduced"] / sims["T_reduced"][i]),
                       np.log(r["rho_reduced"] / sims["rho_reduced"][i])])
        cov = np.array(r["log_cov"])
        a = np.array([LOG_LINEAR["C12"], LOG_LINEAR["C6"]])
        err.append(a @ du)
        sd.append(np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", a, cov, a), 0.0)))
    return np.array(err), np.array(sd)


def calibrate_inverse(fm: ForwardModel, rows: list[dict], sims: dict, source: str) -> dict:
    """Set ``fm.meta["inverse"]`` from rows fitted with covariance factor 1 (module docstring);
    ``source`` names the validation set. Returns the calibration."""
    fluid = np.array([sims["phase"][r["row"]] == "fluid" and r["covered"] for r in rows])
    err, sd = log_errors([r for r, f in zip(rows, fluid) if f], sims)
    z = np.abs(err / sd).ravel()
    q = float(np.quantile(z[np.isfinite(z)], 0.95))
    chi2 = np.array([r["chi2_per_point"] for r, f in zip(rows, fluid) if f])
    cal = {"cov_scale": (q / Z95) ** 2, "chi2_threshold": CHI2_MARGIN * float(np.quantile(chi2, 0.995)),
           "calibrated_on": source, "n": int(fluid.sum()),
           "chi2_per_point_fluid_median": float(np.median(chi2)),
           "chi2_per_point_fluid_p995": float(np.quantile(chi2, 0.995))}
    fm.meta["inverse"] = cal
    return cal
