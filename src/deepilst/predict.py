"""One-shot prediction: LJ parameters, their uncertainty, a domain check, pressure and energy,
and ready-to-paste force-field snippets, from g(r) at a known temperature and density.

Imports numpy (and safetensors when a model is loaded) only: no torch, so that
``deepilst predict`` starts fast.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from deepilst.model.blur import unblur
from deepilst.results import UNITS
from deepilst.units import RC_SIGMA, check_positive, cutoff_text

__all__ = ["describe", "load_model", "models_dir", "parse_err_column", "predict_arrays",
           "predict_file", "resolve_model", "unblur"]

DEFAULT_MODEL = "ensemble"
#: Version of the JSON document :func:`describe` returns (2: symbol keys T, rho, P, U; see
#: README "Output"; version 1 had temperature_K, density_nm3, pressure_bar, energy_kJ_mol).
RESULT_SCHEMA = 2
#: Input bins wider than this [nm] get a warning: the benchmark met its target up to 0.01 nm.
COARSE_BIN_NM = 0.01


def models_dir() -> Path:
    """Directory of the shipped models: package data ``deepilst/shipped_models`` (found in an
    installed wheel as in a checkout); the environment variable ``DEEPILST_MODELS`` overrides."""
    env = os.environ.get("DEEPILST_MODELS")
    return Path(env) if env else Path(__file__).resolve().parent / "shipped_models"


def resolve_model(name_or_path: str | Path | None) -> Path:
    """A model directory from a path or a shipped model's name."""
    p = Path(name_or_path or DEFAULT_MODEL)
    if p.is_dir():
        return p
    q = models_dir() / p
    if q.is_dir():
        return q
    from deepilst.errors import ModelError

    raise ModelError(f"model {str(name_or_path or DEFAULT_MODEL)!r}: no such directory and no shipped "
                     f"model of that name in {models_dir()}")


def load_model(name_or_path: str | Path | None = None):
    """Load a model directory or shipped model name (default: ``ensemble``)."""
    from deepilst.model.core import DeepILST

    return DeepILST.load(resolve_model(name_or_path))


def _thermo_draws(r, g, T, rho, c12, c6, res_i: dict, n_draws: int, seed: int,
                  rc_sigma: float = RC_SIGMA):
    """Pressure [bar] and energy [kJ/mol per particle] with standard deviations from draws of
    the parameters' predictive distribution (cutoff ``rc_sigma`` sigma of each draw, the
    model's convention)."""
    from deepilst.thermo import energy_from_rdf, pressure_from_rdf
    from deepilst.units import sigma_epsilon

    def pu(a12, a6):
        rc = rc_sigma * sigma_epsilon(a12, a6)[0]
        return (pressure_from_rdf(r, g, T, rho, a12, a6, rc), energy_from_rdf(r, g, rho, a12, a6, rc))

    p0, u0 = pu(c12, c6)
    rng = np.random.default_rng(seed)
    if "log_cov" in res_i:
        A = np.array([[-1.0, 4.0], [-1.0, 2.0]])
        cov = A @ res_i["log_cov"] @ A.T
        z = rng.multivariate_normal(np.zeros(2), cov, size=n_draws)
        draws = np.column_stack([c12 * np.exp(z[:, 0]), c6 * np.exp(z[:, 1])])
    else:
        draws = np.column_stack([c12 + res_i["C12_std"] * rng.standard_normal(n_draws),
                                 c6 + res_i["C6_std"] * rng.standard_normal(n_draws)])
        draws = draws[(draws > 0).all(axis=1)]
    if len(draws) < 2:
        return p0, float("nan"), u0, float("nan")
    from deepilst.thermo import pressure_energy_batch

    rc = rc_sigma * sigma_epsilon(draws[:, 0], draws[:, 1])[0]
    p, u = pressure_energy_batch(r, g, T, rho, draws[:, 0], draws[:, 1], rc)
    return p0, float(np.std(p, ddof=1)), u0, float(np.std(u, ddof=1))


def predict_arrays(model, g: np.ndarray, temperature, density, thermo: bool = True,
                   n_draws: int = 200, seed: int = 0, r: np.ndarray | None = None,
                   g_err: np.ndarray | None = None, prod_ps: float | None = None,
                   n_particles: int = 1000, input_noise: bool = True) -> list[dict]:
    """Predict for RDFs ``g`` (n, len(r)) on the grid ``r`` [nm] (default the model's) at
    temperatures [K] and densities [nm^-3]. Returns one result dict per RDF (see
    :func:`describe`), with the phase its structure shows (:mod:`deepilst.model.phase_check`);
    with ``thermo`` also ``P`` [bar] and ``U`` [kJ/mol per particle] with ``_std`` from
    ``n_draws`` parameter draws.

    With ``input_noise`` (ensemble only) the intervals include the input's own statistical noise
    beyond that of the 350-ps runs the model is calibrated on
    (:mod:`deepilst.model.input_noise`): from ``g_err`` (standard errors of g, same shape), else
    from the run length ``prod_ps`` [ps] of ``n_particles`` particles, else from g's bin-to-bin
    scatter; ``n_draws`` noisy copies of g each. ``input_noise`` in the result says which."""
    from deepilst.checks import required_r_max
    from deepilst.model.phase_check import shipped as phase_check

    g = np.array(g, dtype=float, ndmin=2)
    n = len(g)
    T = np.broadcast_to(np.asarray(temperature, dtype=float), (n,))
    rho = np.broadcast_to(np.asarray(density, dtype=float), (n,))
    for t, d in zip(T, rho):
        check_positive("temperature", float(t))
        check_positive("density", float(d))
    res = model.predict(g, T, rho, r=r)
    r_in = r
    r = model.r_grid if r is None else np.asarray(r, dtype=float)
    errs = None if g_err is None else np.array(g_err, dtype=float, ndmin=2)
    if errs is not None and errs.shape != g.shape:
        from deepilst.errors import InputError

        raise InputError(f"g_err has shape {errs.shape} but g has {g.shape}")
    pc = phase_check()
    proba = pc.predict_proba(g, T, rho, r=r)
    labels = pc.label_from_proba(proba)
    out = []
    for i in range(n):
        ri = {k: (v[i] if isinstance(v, np.ndarray) and len(v) == n else v) for k, v in res.items()}
        if input_noise and model.kind == "ensemble":
            from deepilst.model.input_noise import noise_aware

            one = {k: v[i:i + 1] for k, v in res.items() if isinstance(v, np.ndarray) and len(v) == n}
            up, info = noise_aware(model, g[i], float(T[i]), float(rho[i]), res=one,
                                   g_err=None if errs is None else errs[i], prod_ps=prod_ps,
                                   n_particles=n_particles, n_draws=n_draws, seed=seed + i, r=r_in)
            ri.update({k: v[0] for k, v in up.items()})
            ri["input_noise"] = info
        ri["phase"] = str(labels[i])
        ri["phase_probability"] = float(proba[i, pc.classes.index(ri["phase"])])
        ri["r_max_read"] = required_r_max(model, float(rho[i]))
        d = describe(ri, float(T[i]), float(rho[i]), model)
        if thermo:
            p, ps, u, us = _thermo_draws(r, g[i], float(T[i]), float(rho[i]), d["C12"], d["C6"], ri,
                                         n_draws, seed, model.rc_sigma)
            d.update(P=p, P_std=ps, U=u, U_std=us)
        out.append(d)
    return out


def describe(ri: dict, T: float, rho: float, model) -> dict:
    """JSON-ready result for one RDF (schema :data:`RESULT_SCHEMA`), with domain warnings in
    words. Keys: ``T`` [K], ``rho`` [nm^-3], ``C12``, ``C6``, ``sigma``, ``epsilon``,
    ``T_reduced``, ``rho_reduced``, each estimate with ``_std`` and ``_95`` [lo, hi]; units in
    ``units``."""
    d: dict = {"schema": RESULT_SCHEMA, "T": T, "rho": rho, "model": model.kind}
    for k in ("C12", "C6", "sigma", "epsilon", "T_reduced", "rho_reduced"):
        d[k] = float(ri[k])
        d[k + "_std"] = float(ri[k + "_std"])
        d[k + "_95"] = [float(v) for v in ri[k + "_95"]]
    fluid = ri.get("phase", "fluid") == "fluid"
    d["in_domain"] = bool(ri["in_domain"]) and fluid
    d["domain"] = {"state_in_training_box": bool(ri["state_in_box"]),
                   "reduced_state_in_training_domain": bool(ri["reduced_in_domain"]),
                   "shape_residual": float(ri["shape_residual"]), "shape_ok": bool(ri["shape_ok"]),
                   "neighbour_distance": float(ri["neighbour_distance"]),
                   "neighbour_ok": bool(ri["neighbour_ok"]), "coverage": float(ri["coverage"])}
    for k in ("phase", "phase_probability", "r_max_read"):
        if k in ri:
            d["domain"][k] = ri[k]
    if "input_noise" in ri:
        d["input_noise"] = ri["input_noise"]
    w = []
    from deepilst.model.domain import design_box

    box = design_box(model.box_)
    if not ri["state_in_box"]:
        msg = (f"T = {T:g} K, rho = {rho:g} nm^-3 is outside the training box (T {box['T'][0]:g}-"
               f"{box['T'][1]:g} K, rho {box['rho'][0]:g}-{box['rho'][1]:g} nm^-3)")
        w.append(msg + ("; the paper network extrapolates here" if model.kind == "paper" else
                        "; the reduced-units model relies on corresponding states here"))
    if not ri["reduced_in_domain"]:
        w.append(f"the implied reduced state (T* = {ri['T_reduced']:.3g}, rho* = {ri['rho_reduced']:.3g}) "
                 "is outside the reduced states the model was trained on")
    if not ri["shape_ok"]:
        w.append(f"this g(r) is unlike the training RDFs (reconstruction residual "
                 f"{ri['shape_residual']:.2g} x the 99.9 % training level): not a simple LJ fluid?")
    if not ri["neighbour_ok"]:
        w.append(f"this g(r) is far from every training simulation (nearest-neighbour distance "
                 f"{ri['neighbour_distance']:.2g} x the level 99 % of fluid validation RDFs stay "
                 "within x 1.5): not a simple LJ fluid?")
    if not fluid:
        w.append(f"this g(r) looks like a {ri['phase']} system (probability "
                 f"{ri['phase_probability']:.2f} from its structure); the model was trained on "
                 "homogeneous fluids, so these parameters do not describe it")
    if ri["coverage"] < 0.999:
        w.append(f"at rho = {rho:g} nm^-3 the model reads g(r) up to r = {ri.get('r_max_read', 0):.4g}"
                 f" nm but the g given ends at {model.r_grid[-1]:g} nm ({100 * ri['coverage']:.0f} % "
                 "of the x = r rho^(1/3) range); pass g on a longer grid (predict_arrays(..., r=))")
    from deepilst.checks import plausibility_warnings

    w += plausibility_warnings(T, d["T_reduced"])
    rel = d["C6_std"] / d["C6"]
    if rel > 0.2:
        w.append(f"C6 is poorly determined (relative std {100 * rel:.0f} %): at T* = "
                 f"{d['T_reduced']:.3g} the attraction barely shapes g(r)")
    d["warnings"] = w
    d["rc_sigma"] = float(model.rc_sigma)
    d["cutoff_convention"] = cutoff_text(model.rc_sigma)
    d["units"] = UNITS
    return d


def parse_err_column(value: int | str | None) -> int | str | None:
    """An error-column choice: "auto", "none"/None, or a data column number >= 1."""
    from deepilst.errors import ParameterError

    if value is None or value in ("none", "auto"):
        return None if value in (None, "none") else "auto"
    if isinstance(value, bool):
        raise ParameterError(f"err_column must be 'auto', 'none' or a column number, got {value!r}")
    try:
        col = int(value)
    except (TypeError, ValueError):
        raise ParameterError(f"err_column must be 'auto', 'none' or a column number, got {value!r}"
                             ) from None
    if col < 1:
        raise ParameterError(f"err_column must be a data column number >= 1, got {col}")
    return col


def predict_file(path: str | Path, temperature: float, density: float, model=None,
                 column: int = 1, thermo: bool = True, r_unit: str | None = None,
                 bin_width: float | None = None, err_column: int | str | None = "auto",
                 prod_ps: float | None = None, n_particles: int = 1000,
                 input_noise: bool = True, method: str = "network", forward=None,
                 fit_plot: str | Path | None = None, blur_correction: bool = True) -> dict:
    """Predict from an RDF file (.xvg, VOTCA table, CSV/whitespace; see :mod:`deepilst.rdfio`).

    The file is read as a histogram: its bins are recovered from the r column (``bin_width``
    [nm] overrides; ``r_unit`` "nm" or "A", default the .xvg axis label, else nm) and averaged
    onto the model's shells conserving pair counts, as training data are made. The raw input
    is checked first (:func:`deepilst.checks.check_rdf`: InputError for what cannot be a g(r)
    at this state, or does not reach the r the model reads); any input reaching that r is
    accepted. A ``gmx rdf`` self-RDF (N^2 pairs) is put on training data's N(N-1) (N from the
    box, else ``n_particles``: :func:`deepilst.rdfio.inspect_rdf`); ``input_bins`` says all.

    ``err_column``: data column with the standard errors of g ("auto": the next column when an
    .xvg legend names an error; None: none). Without errors the input's noise comes from
    ``prod_ps`` [ps] of ``n_particles`` particles, else from g's scatter (see
    :func:`predict_arrays`).

    ``method`` "fit": the likelihood fit of the forward model (``forward``: a
    :class:`~deepilst.model.forward.ForwardModel`, default the shipped one) over the file's own
    bins from the network's answer (:mod:`deepilst.model.inverse`; same keys, plus
    ``chi2_per_point`` and ``fit``); ``fit_plot``: write its residual plot there.

    ``blur_correction`` (network method): bins that the model's shells do not refine (wider
    than 0.005 nm, or edges splitting the shells) flatten the first peak; the blur the same bins
    cause on the forward model's g(r) at the state the input shows is added back before the
    network reads g (:mod:`deepilst.model.blur`; ``input_bins.blur_correction`` reports it)."""
    from deepilst.checks import check_rdf, required_r_max
    from deepilst.rdf import DR
    from deepilst.rdfio import inspect_rdf, shells_of

    check_positive("temperature", temperature)
    check_positive("density", density)
    if prod_ps is not None:
        check_positive("prod_ps", prod_ps)
    if int(n_particles) < 2:
        from deepilst.errors import ParameterError

        raise ParameterError(f"n_particles must be >= 2, got {n_particles}")
    err_column = parse_err_column(err_column)
    model = model if model is not None else load_model()
    inp = inspect_rdf(path, column, bin_width=bin_width, r_unit=r_unit, density=density,
                      n_particles=n_particles)
    need = required_r_max(model, density)
    check_rdf(inp.bins.centres, inp.g, temperature, density, str(path), r_max_read=need)
    if err_column is None or not input_noise:
        inp = inp.with_errors(None, None)
    elif err_column != "auto":
        e = inspect_rdf(path, int(err_column), bin_width=bin_width, r_unit=r_unit)
        inp = inp.with_errors(e.g, int(err_column))
    grid = model.r_grid
    if need > grid[-1] + 1e-9 and model.kind != "paper":  # dilute: read beyond the model grid
        step = float(grid[1] - grid[0]) if len(grid) > 1 else DR
        grid = np.round(step * np.arange(int(np.ceil(need / step)) + 1), 10)
    g, ge = shells_of(inp, grid, str(path), r_max=min(need, float(grid[-1])))
    if ge is not None:
        ge = np.where(np.isfinite(ge), ge, 0.0)
    r_in = None if grid is model.r_grid else grid
    blur_info = None
    if method == "network" and blur_correction:
        g, blur_info = unblur(model, inp, grid, g, temperature, density, forward, prod_ps,
                              n_particles)
    d = predict_arrays(model, g[None], temperature, density, thermo=thermo,
                       r=r_in, g_err=None if ge is None else ge[None], prod_ps=prod_ps,
                       n_particles=n_particles, input_noise=input_noise)[0]
    d["method"] = "network"
    if method == "fit":
        d = _fit(d, inp, temperature, density, forward, prod_ps, n_particles, thermo, grid, g,
                 model.rc_sigma, fit_plot)
    elif method != "network":
        from deepilst.errors import ParameterError

        raise ParameterError(f"method must be 'network' or 'fit', got {method!r}")
    d["file"] = str(path)
    d["input_bins"] = inp.describe()
    if blur_info is not None:
        d["input_bins"]["blur_correction"] = blur_info
    w = inp.bins.width
    if (w is not None and w > COARSE_BIN_NM * (1 + 1e-6) and d["method"] == "network"
            and not (blur_info or {}).get("applied")):
        why = (blur_info or {}).get("reason", "the correction was switched off")
        d["warnings"].append(
            f"the file's bins are {w:g} nm wide, coarser than {COARSE_BIN_NM:g} nm: they blur the "
            f"first peak, and the blur could not be corrected ({why}); uncorrected, 0.02 nm bins "
            "moved C12 by 2.4-3.6 % and C6 by 3.6-4.8 % on average over ten test states "
            "(benchmarks/binning.py), more than the stated intervals; histogram at 0.01 nm or "
            "finer")
    return d


def _fit(d, inp, T, rho, forward, prod_ps, n_particles, thermo, r, g, rc_sigma, plot) -> dict:
    """The network's answer ``d`` refined by the likelihood fit on the input's own bins."""
    from deepilst.model.inverse_io import fit_input

    out, fit = fit_input(d, inp, T, rho, forward, prod_ps, n_particles, plot)
    if thermo:
        p, ps, u, us = _thermo_draws(r, g, T, rho, out["C12"], out["C6"], {"log_cov": fit.log_cov},
                                     200, 0, rc_sigma)
        out.update(P=p, P_std=ps, U=u, U_std=us)
    return out
