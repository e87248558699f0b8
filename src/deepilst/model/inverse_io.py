"""Reading an input for the likelihood inverse and reporting its fit: the input's errors on its
own bins, the residual plot, and the network's prediction turned into the fit's
(:func:`fit_input`, what ``predict_file(..., method="fit")`` runs)."""

from __future__ import annotations

import numpy as np

from deepilst.model.forward import ForwardModel
from deepilst.model.inverse import CHI2_THRESHOLD, COV_SCALE, InverseFit, fit_state


def point_edges(r: np.ndarray) -> np.ndarray:
    """Edges for point values at ``r`` [nm]: midpoints between them, the ends at the first and
    last r (a bin per point)."""
    r = np.asarray(r, dtype=float)
    return np.r_[r[0], 0.5 * (r[1:] + r[:-1]), r[-1]]


def save_plot(fit: InverseFit, path, label: str | None = None) -> None:
    """Write :meth:`InverseFit.plot` to ``path`` (PNG or PDF by suffix)."""
    from deepilst.plots import _plt, save_figure

    fig, ax = _plt().subplots(2, 1, figsize=(7, 6), sharex=True,
                              gridspec_kw={"height_ratios": [2, 1]})
    fit.plot(ax, label)
    fig.tight_layout()
    save_figure(fig, path)


def fit_input(d: dict, inp, temperature: float, density: float, fm: ForwardModel | None = None,
              prod_ps: float | None = None, n_particles: int = 1000, plot=None
              ) -> tuple[dict, InverseFit]:
    """The network's prediction ``d`` for a file read as ``inp``
    (:class:`deepilst.rdfio.RDFInput`) refined by the fit on the file's own bins (errors from
    :func:`bin_errors`); ``plot``: write the residual plot there. Returns (:func:`refine`'s
    dict, the fit)."""
    from deepilst.model.forward import load_forward_model

    fm = fm if fm is not None else load_forward_model()
    b = inp.bins
    edges = b.edges if b.edges is not None else point_edges(b.centres)
    se, src = bin_errors(b.centres, b.width, inp.g, temperature, density, d["C12"], d["C6"],
                         inp.g_err, prod_ps, n_particles)
    fit = fit_state(fm, edges, inp.g, se, density, (d["T_reduced"], d["rho_reduced"]))
    if plot is not None:
        save_plot(fit, plot, label=d.get("file"))
    return refine(d, fit, temperature, density, fm, src), fit


def bin_errors(r: np.ndarray, width: float | None, g: np.ndarray, temperature: float,
               density: float, c12: float, c6: float, g_err: np.ndarray | None = None,
               prod_ps: float | None = None, n_particles: int = 1000) -> tuple[np.ndarray, str]:
    """Standard errors of an input g on its own bins (centres ``r`` [nm], ``width`` [nm], None
    for point values: read as 0.005 nm shells) and where they come from: the file's error
    column ("file"); the reference noise model of :mod:`deepilst.model.input_noise` for
    ``prod_ps`` ps of ``n_particles`` particles, scaled to the bin width (variance ~ 1 /
    width), raised to g's scatter level when that is higher ("prod_ps"); g's own bin-to-bin
    scatter, in the reference model's shape ("scatter")."""
    from deepilst.model import input_noise as inn
    from deepilst.rdf import DR

    if g_err is not None:
        return np.nan_to_num(np.asarray(g_err, dtype=float), nan=0.0), "file"
    w = DR if width is None else float(width)
    ref = inn.reference_sigma(r, g, temperature, density, c12, c6) * np.sqrt(DR / w)
    est = {}
    if prod_ps is not None:
        est["prod_ps"] = (inn.REF_PROD_PS / prod_ps) * (inn.REF_N_PARTICLES / n_particles)
    s2 = inn.noise_ratio(r, g, inn.scatter_sigma(g), ref)
    if np.isfinite(s2):
        est["scatter"] = s2
    if not est:
        return ref, "reference"
    src = max(est, key=lambda k: (est[k], k == "prod_ps"))
    return ref * np.sqrt(est[src]), src


def refine(d: dict, fit: InverseFit, temperature: float, density: float, fm: ForwardModel,
           source: str) -> dict:
    """A network prediction ``d`` (:func:`deepilst.predict.describe`) turned into the fit's:
    the same keys with the fit's estimates and intervals, ``method`` "fit",
    ``chi2_per_point``, a ``fit`` block (with the network's answer and the input error
    source), the domain extended by the chi^2 and coverage checks."""
    cal = fm.meta.get("inverse", {})
    thr = float(cal.get("chi2_threshold", CHI2_THRESHOLD))
    out = dict(d)
    net = {k: d[k] for k in ("C12", "C6", "T_reduced", "rho_reduced")}
    out.update(fit.quantities(temperature, density))
    out["method"] = "fit"
    out["chi2_per_point"] = fit.chi2_per_point
    out["fit"] = {**fit.summary(), "network": net, "input_error": source,
                  "chi2_threshold": thr, "cov_scale": float(cal.get("cov_scale", COV_SCALE))}
    chi2_ok = fit.chi2_per_point <= thr
    out["domain"] = {**d["domain"], "chi2_ok": chi2_ok, "forward_model_covers": fit.covered}
    out["in_domain"] = bool(d["in_domain"] and chi2_ok and fit.covered)
    w = [x for x in d["warnings"] if not x.startswith("C6 is poorly determined")]
    rel = out["C6_std"] / out["C6"]
    if rel > 0.2:
        w.append(f"C6 is poorly determined (relative std {100 * rel:.0f} %): at T* = "
                 f"{out['T_reduced']:.3g} the attraction barely shapes g(r)")
    if not chi2_ok:
        w.append(f"the best LJ g(r) misses this one by chi2/point = {fit.chi2_per_point:.3g} (LJ "
                 f"fluids of this cutoff convention stay below {thr:g}): not an LJ fluid, or its "
                 "errors are understated; look at the residual plot")
    if not fit.covered:
        w.append(f"the fitted state (T* = {fit.T_reduced:.3g}, rho* = {fit.rho_reduced:.3g}) lies "
                 "outside the forward model's fluid states (beyond its training hull, or near "
                 "freezing or liquid-vapour coexistence)")
    if not fit.converged:
        w.append("the chi2 fit did not converge")
    out["warnings"] = w
    return out
