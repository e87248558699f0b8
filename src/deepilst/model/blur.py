"""What coarse input bins do to g(r), and undoing it before the network reads g.

A file histogrammed in bins wider than the model's 0.005 nm shells (or whose edges split them,
e.g. ``gmx rdf`` at 0.002 or 0.01 nm) is brought onto the shells by a smooth pair-count-conserving
reconstruction (:func:`deepilst.binning.to_shells`). The reconstruction cannot restore the
curvature of the first peak inside a bin: it flattens the peak and moves the network's answer
(0.02 nm bins: C12 -2 %, C6 -3 % on fluids of the benchmark domain, -5 / -23 % over all
validation fluids). The forward model knows what an LJ g(r) looks like inside a bin, so the
blur is measured on it, at the state the input shows, and subtracted:

    delta = g_fwd(shells) - reconstruct(g_fwd(input bins)),   g_shells <- g_shells + delta

The state is the likelihood fit's on the input's own bins (blind to the binning) when the fit
converges, else the network's on the uncorrected input if the forward model covers it; else no
correction (a solid, two phases, far beyond the training hull). Chosen on the 131 validation
fluids of the shipped ensemble's split (inputs histogrammed exactly from their 0.0005 nm
histograms at gmx and MDAnalysis placements): mean |change| against the network's answer on the
exact shells at 0.02 nm bins, C12 / C6, 5.3 / 23.5 % uncorrected, 0.45 / 2.6 % corrected (0.01 nm:
0.46 / 2.6 %, 0.18 / 1.1 %); over the 30 of them with 1.3 < T* < 12, rho* < 0.85, 2.1 / 3.0 %
and 0.27 / 0.38 % (``benchmarks/blur_validation.py``; an anchor from the fit only where the
forward model covers the fitted state, tried in a session's scratch run: 0.98 / 5.3 % over all).
``benchmarks/binning.py`` measures it on real ``gmx rdf`` and MDAnalysis files.
"""

from __future__ import annotations

import numpy as np

from deepilst.binning import BinGrid, reconstructs, to_shells
from deepilst.rdf import centered_edges

__all__ = ["blur", "correct_blur", "unblur"]


def blur(fm, bins: BinGrid, model_r: np.ndarray, temperature: float, density: float,
         c12: float, c6: float) -> np.ndarray:
    """What the input's bins and their reconstruction do to the forward model's g(r) on the
    shells of ``model_r`` [nm] at ``temperature`` [K], ``density`` [nm^-3], ``c12``, ``c6``:
    g on the shells minus g averaged over ``bins`` and reconstructed onto the shells (0 where
    the input does not reach)."""
    model_r = np.asarray(model_r, dtype=float)
    fine, _ = fm.shell_average(centered_edges(model_r), temperature, density, c12, c6, std=False)
    coarse, _ = fm.shell_average(bins.edges, temperature, density, c12, c6, std=False)
    back, _ = to_shells(bins, coarse, model_r)
    d = fine - back
    d[~np.isfinite(d)] = 0.0
    return d


def correct_blur(inp, model_r: np.ndarray, g: np.ndarray, temperature: float, density: float,
                 network: dict, fm=None, prod_ps: float | None = None, n_particles: int = 1000
                 ) -> tuple[np.ndarray, dict]:
    """``g`` [shells of ``model_r``, nm] read from ``inp`` (:class:`deepilst.rdfio.RDFInput`)
    with the blur of its bins removed, and a JSON-ready report.

    ``network``: the network's answer on ``g`` (``C12``, ``C6``, ``T_reduced``,
    ``rho_reduced``), the fit's start and the fallback state. Returns ``g`` unchanged with
    ``applied`` False when the bins are the model's shells or refine them, or when the fit
    fails and the forward model does not cover the network's state. The report: ``applied``,
    ``state_from`` ("fit" or "network"), ``T_reduced``, ``rho_reduced``, ``rms_delta_g`` and
    ``max_abs_delta_g`` (over the shells the input covers), or ``reason``."""
    from deepilst.errors import InputError
    from deepilst.model.forward import load_forward_model
    from deepilst.model.inverse import fit_state
    from deepilst.model.inverse_io import bin_errors

    b = inp.bins
    if not reconstructs(b, model_r):
        return g, {"applied": False, "reason": "the bins are the model's shells or refine them"}
    fm = fm if fm is not None else load_forward_model()
    state = None
    try:
        se, _ = bin_errors(b.centres, b.width, inp.g, temperature, density, network["C12"],
                           network["C6"], inp.g_err, prod_ps, n_particles)
        fit = fit_state(fm, b.edges, inp.g, se, density,
                        (network["T_reduced"], network["rho_reduced"]))
        if fit.converged:
            state = ("fit", fit.quantities(temperature, density))
    except InputError:
        pass
    if state is None and bool(fm.covers(network["T_reduced"], network["rho_reduced"])[0]):
        state = ("network", network)
    if state is None:
        return g, {"applied": False,
                   "reason": f"the fit failed and the forward model does not cover this state (T* = "
                             f"{network['T_reduced']:.3g}, rho* = {network['rho_reduced']:.3g})"}
    src, q = state
    d = blur(fm, b, model_r, temperature, density, q["C12"], q["C6"])
    # shells inside input bins with no pairs (the core): nothing to restore, and g there weighs
    # u(r) >> kT in P and U
    seen, _ = to_shells(b, np.asarray(inp.g, dtype=float), model_r, coarse="step")
    d[~(np.nan_to_num(seen) > 0)] = 0.0
    from deepilst.units import reduced_state

    t_red, rho_red = reduced_state(temperature, density, q["C12"], q["C6"])
    dd = d[np.isfinite(g) & (d != 0)]
    report = {"applied": True, "state_from": src, "T_reduced": float(t_red),
              "rho_reduced": float(rho_red),
              "rms_delta_g": float(np.sqrt(np.mean(dd**2))) if len(dd) else 0.0,
              "max_abs_delta_g": float(np.max(np.abs(dd))) if len(dd) else 0.0}
    return np.maximum(g + d, 0.0), report


def unblur(model, inp, grid: np.ndarray, g: np.ndarray, temperature: float, density: float,
           forward=None, prod_ps: float | None = None, n_particles: int = 1000
           ) -> tuple[np.ndarray, dict | None]:
    """``g`` on the shells of ``grid`` [nm], read from ``inp`` (:class:`deepilst.rdfio.RDFInput`),
    with the blur of its bins removed (:func:`deepilst.model.blur.correct_blur`, from the
    network's answer on ``g``) when the shells do not refine them, and the report (None when
    they do)."""
    if not reconstructs(inp.bins, grid):
        return g, None
    r_in = None if grid is model.r_grid else grid
    net = {k: float(v[0]) for k, v in model.predict(g[None], temperature, density, r=r_in).items()
           if k in ("C12", "C6", "T_reduced", "rho_reduced")}
    return correct_blur(inp, grid, g, temperature, density, net, forward, prod_ps, n_particles)
