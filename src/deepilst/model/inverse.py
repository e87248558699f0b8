"""The likelihood inverse: the reduced state (T*, rho*), hence C12, C6, sigma, epsilon, whose
forward-model g(r) best matches an input g(r) within its statistical errors (issue 14, item 3).

chi^2(u) = sum_b (g_b - G_b(u))^2 / (se_b^2 + s_b(u)^2) over the input's own bins b (the
forward model averaged over exactly those shells, :meth:`ForwardModel.operator`), with se_b
the input's standard errors and s_b the forward model's predictive std; u = (log T*, log rho*).
Levenberg-Marquardt from the network's answer and from the best point of a coarse scan of the
model's fluid states (the lower minimum wins), the model's std re-evaluated at each accepted
step. Covariance of u: the inverse Gauss-Newton curvature times ``cov_scale`` (calibrated on
validation, ``forward.json`` ``inverse``). chi^2 per point says whether the input is an LJ
fluid of this convention at all: above ``chi2_threshold`` the answer is out of domain.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from deepilst.model.forward import ForwardModel
from deepilst.model.targets import LOG_LINEAR, Z95, state_constants

#: bins that count: input or model g above this (the core carries no information, se = 0)
G_MIN = 0.05
#: defaults when the forward model carries no calibration of its own
COV_SCALE = 1.0
CHI2_THRESHOLD = 3.0


@dataclass
class InverseFit:
    """Result of :func:`fit_state`: the reduced state with its covariance and the residuals.

    Attributes
    ----------
    T_reduced, rho_reduced : the fit; log_cov : covariance (2, 2) of (log T*, log rho*)
    chi2_per_point, n_points : chi^2 / n over the bins used, their number
    start : (T*, rho*) the search began from; chi2_start_per_point at that point
    r, g, se : bin centres [nm], input g and its standard errors; g_model, g_model_std : the
    forward model there at the fit; used : the bins in chi^2
    """

    T_reduced: float
    rho_reduced: float
    log_cov: np.ndarray
    chi2_per_point: float
    n_points: int
    iterations: int
    converged: bool
    start: tuple[float, float]
    chi2_start_per_point: float
    r: np.ndarray = field(repr=False)
    g: np.ndarray = field(repr=False)
    se: np.ndarray = field(repr=False)
    g_model: np.ndarray = field(repr=False)
    g_model_std: np.ndarray = field(repr=False)
    used: np.ndarray = field(repr=False)
    covered: bool = True
    scan_best: tuple[float, float] | None = None

    @property
    def z(self) -> np.ndarray:
        """Normalised residuals (g - g_model) / sqrt(se^2 + g_model_std^2) (NaN off the fit)."""
        z = (self.g - self.g_model) / np.sqrt(self.se**2 + self.g_model_std**2)
        return np.where(self.used, z, np.nan)

    def quantities(self, temperature: float, density: float) -> dict:
        """C12, C6, sigma, epsilon, T_reduced, rho_reduced with ``_std`` and ``_95`` at the
        input's temperature [K] and density [nm^-3] (log-normal: exact in u)."""
        u = np.array([np.log(self.T_reduced), np.log(self.rho_reduced)])
        const = state_constants(np.array(temperature), np.array(density))
        out = {}
        for q, a in LOG_LINEAR.items():
            a = np.array(a)
            lm = float(const[q] + a @ u)
            ls = float(np.sqrt(max(a @ self.log_cov @ a, 0.0)))
            out[q] = float(np.exp(lm))
            out[q + "_std"] = out[q] * ls
            out[q + "_95"] = [float(np.exp(lm - Z95 * ls)), float(np.exp(lm + Z95 * ls))]
        return out

    def summary(self) -> dict:
        """The ``fit`` block of a prediction (JSON-ready)."""
        return {"chi2_per_point": self.chi2_per_point, "n_points": self.n_points,
                "iterations": self.iterations, "converged": self.converged,
                "start": {"T_reduced": self.start[0], "rho_reduced": self.start[1]},
                "chi2_start_per_point": self.chi2_start_per_point,
                "scan_best": None if self.scan_best is None else
                {"T_reduced": self.scan_best[0], "rho_reduced": self.scan_best[1]},
                "log_cov": self.log_cov.tolist(), "forward_model_covers": self.covered}

    def plot(self, ax=None, label: str | None = None):
        """Input g with its errors and the forward model at the fit (top), normalised residuals
        (bottom). Returns the two Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(2, 1, figsize=(7, 6), sharex=True,
                                 gridspec_kw={"height_ratios": [2, 1]})
        a, b = ax
        a.plot(self.r, self.g, ".", ms=2, color="k", label=label or "input")
        a.plot(self.r, self.g_model, "-", lw=1, color="C3", label="forward model at the fit")
        a.fill_between(self.r, self.g_model - 2 * self.g_model_std,
                       self.g_model + 2 * self.g_model_std, color="C3", alpha=0.3, lw=0)
        a.set_ylabel("g(r)")
        a.legend(frameon=False)
        a.set_title(f"T* = {self.T_reduced:.4g}, rho* = {self.rho_reduced:.4g}, "
                    f"chi2/point = {self.chi2_per_point:.2f} ({self.n_points} bins)")
        b.plot(self.r, self.z, ".", ms=2, color="k")
        for y in (-2, 2):
            b.axhline(y, color="C3", lw=0.8, ls="--")
        b.set_xlabel("r (nm)")
        b.set_ylabel("z")
        return a, b


def _chi2(fm: ForwardModel, op: dict, g: np.ndarray, se2: np.ndarray, U: np.ndarray,
          var_model: np.ndarray | None = None) -> np.ndarray:
    """chi^2 at states U = (log T*, log rho*) (m, 2); the model variance at each state unless
    ``var_model`` (n_bins,) is given."""
    t, r = np.exp(U[:, 0]), np.exp(U[:, 1])
    G, S = fm.apply(op, t, r, std=var_model is None)
    var = se2 + (S**2 if var_model is None else var_model)
    return np.sum((g - G) ** 2 / var, axis=1)


def _scan(fm: ForwardModel, op: dict, g: np.ndarray, se2: np.ndarray, n: int = 40
          ) -> tuple[np.ndarray, float]:
    """The best covered state (log T*, log rho*) of an n x n scan of the fluid hull's box."""
    hull = fm.a["hull"]
    lt = np.linspace(hull[:, 0].min(), hull[:, 0].max(), n)
    lr = np.linspace(np.log(hull[:, 1].min()), np.log(hull[:, 1].max()), n)
    A, B = np.meshgrid(lt, lr, indexing="ij")
    U = np.column_stack([A.ravel(), B.ravel()])
    U = U[fm.covers(np.exp(U[:, 0]), np.exp(U[:, 1]))]
    c = _chi2(fm, op, g, se2, U, var_model=np.zeros(len(g)))
    k = int(np.argmin(c))
    return U[k], float(c[k])


def _lm(fm, op, g, se2, u0, max_iter: int) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """Levenberg-Marquardt on chi^2(u) from u0; the model's variance re-evaluated at each
    accepted point. Returns (u, J^T J at u, iterations, converged)."""
    lam, h = 1e-3, 1e-4
    u = np.asarray(u0, dtype=float)

    def pred(uu):
        G, S = fm.apply(op, np.exp(uu[:, 0]), np.exp(uu[:, 1]), std=False)
        return G

    _, S = fm.apply(op, np.exp(u[0]), np.exp(u[1]), std=True)
    w = 1.0 / np.sqrt(se2 + S[0] ** 2)
    c = float(np.sum(((g - pred(u[None])[0]) * w) ** 2))
    converged = False
    it = 0
    while it < max_iter:
        it += 1
        P = pred(np.array([u, u + [h, 0], u - [h, 0], u + [0, h], u - [0, h]]))
        J = np.column_stack([(P[1] - P[2]) / (2 * h), (P[3] - P[4]) / (2 * h)]) * w[:, None]
        res = (g - P[0]) * w
        A = J.T @ J
        grad = J.T @ res
        while True:
            step = np.linalg.solve(A + lam * np.diag(np.diag(A) + 1e-12), grad)
            un = u + step
            cn = float(np.sum(((g - pred(un[None])[0]) * w) ** 2))
            if cn <= c or lam > 1e8:
                break
            lam *= 4.0
        if cn > c:
            converged = True  # no step lowers chi^2: a minimum
            break
        u, lam = un, max(lam / 3.0, 1e-9)
        _, S = fm.apply(op, np.exp(u[0]), np.exp(u[1]), std=True)
        w = 1.0 / np.sqrt(se2 + S[0] ** 2)
        c_new = float(np.sum(((g - pred(u[None])[0]) * w) ** 2))
        small = np.max(np.abs(step)) < 1e-6 or abs(c - c_new) < 1e-9 * max(c, 1.0)
        c = c_new
        if small:
            converged = True
            break
    P = pred(np.array([u + [h, 0], u - [h, 0], u + [0, h], u - [0, h]]))
    J = np.column_stack([(P[0] - P[1]) / (2 * h), (P[2] - P[3]) / (2 * h)]) * w[:, None]
    return u, J.T @ J, it, converged


def fit_state(fm: ForwardModel, edges: np.ndarray, g: np.ndarray, se: np.ndarray,
              density: float, start: tuple[float, float], max_iter: int = 100,
              scan: bool = True) -> InverseFit:
    """Fit (T*, rho*) to g given on bins ``edges`` [nm] (n + 1) with standard errors ``se``
    (n,) at ``density`` [nm^-3], from ``start`` = (T*, rho*) (the network's answer).

    Bins beyond the model's range, with non-finite g, or where neither the input nor the model
    at the start exceeds ``G_MIN`` are left out. With ``scan`` the search also starts from the
    best state of a coarse scan of the model's fluid states, and the lower minimum is kept.
    """
    from deepilst.errors import InputError

    edges = np.asarray(edges, dtype=float)
    g_all = np.asarray(g, dtype=float)
    se_all = np.nan_to_num(np.asarray(se, dtype=float), nan=0.0)
    op_all = fm.operator(edges * density ** (1.0 / 3.0))
    g0, _ = fm.apply(op_all, start[0], start[1])
    used = (np.isfinite(g_all) & (op_all["beyond"] == 0)
            & (np.maximum(np.nan_to_num(g_all), g0[0]) > G_MIN))
    if used.sum() < 10:
        raise InputError(f"only {int(used.sum())} bins of g(r) lie inside the forward model's range "
                         "with g > 0.05; give g(r) over the first coordination shells at least")
    op = {k: (v[:, used] if v.ndim == 2 else v[used]) for k, v in op_all.items()}
    gu, se2 = g_all[used], se_all[used] ** 2
    u0 = np.log(np.asarray(start, dtype=float))
    c0 = float(_chi2(fm, op, gu, se2, u0[None])[0])
    cands = [u0]
    ub = None
    if scan:
        ub, _ = _scan(fm, op, gu, se2)
        cands.append(ub)
    best = None
    for uc in cands:
        u, A, it, conv = _lm(fm, op, gu, se2, uc, max_iter)
        c = float(_chi2(fm, op, gu, se2, u[None])[0])
        if best is None or c < best[4] - 1e-9:
            best = (u, A, it, conv, c)
    u, A, it, conv, c = best
    cal = fm.meta.get("inverse", {})
    try:
        cov = np.linalg.inv(A) * float(cal.get("cov_scale", COV_SCALE))
    except np.linalg.LinAlgError:
        cov = np.full((2, 2), np.inf)
    t, r = float(np.exp(u[0])), float(np.exp(u[1]))
    Gm, Sm = fm.apply(op_all, t, r, std=True)
    n = int(used.sum())
    return InverseFit(t, r, cov, c / n, n, it, conv, (float(start[0]), float(start[1])), c0 / n,
                      0.5 * (edges[1:] + edges[:-1]), g_all, se_all, Gm[0], Sm[0], used,
                      bool(fm.covers(t, r)[0]),
                      None if ub is None else (float(np.exp(ub[0])), float(np.exp(ub[1]))))


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
