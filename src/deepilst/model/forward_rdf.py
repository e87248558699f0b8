"""g(r) of an LJ fluid from the forward model, without MD: what ``deepilst forward`` prints,
writes and draws."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from deepilst.results import UNITS


def forward_rdf(temperature: float, density: float, c12: float, c6: float, r_max: float = 1.5,
                dr: float = 0.005, model=None) -> dict:
    """g(r) on the shells of r = 0, dr, ..., r_max [nm] (each [r - dr/2, r + dr/2], as
    ``simulate`` writes them) at ``temperature`` [K], ``density`` [nm^-3], ``c12``, ``c6``,
    with its predictive standard deviation. ``model``: a
    :class:`~deepilst.model.forward.ForwardModel` or a directory (default the shipped one).

    Returns a JSON-ready dict: ``r``, ``g``, ``g_std`` (lists), ``T``, ``rho``, ``C12``, ``C6``,
    ``sigma``, ``epsilon``, ``T_reduced``, ``rho_reduced``, ``covered`` (the state is inside the
    model's fluid states), ``warnings``, ``rc_sigma``, ``cutoff_convention``, ``wall_s``,
    ``units``.
    """
    from deepilst.errors import ParameterError
    from deepilst.model.forward import ForwardModel, load_forward_model
    from deepilst.rdf import centered_edges, model_grid
    from deepilst.units import check_positive, cutoff_text, reduced_state, sigma_epsilon

    t0 = time.perf_counter()
    r_max = check_positive("r_max", r_max)
    dr = check_positive("dr", dr)
    if r_max / dr > 1e5:
        raise ParameterError(f"r_max / dr = {r_max / dr:.3g} bins: too many; use dr >= {r_max / 1e5:g}")
    fm = model if isinstance(model, ForwardModel) else load_forward_model(model)
    r = model_grid(r_max, dr)
    g, s = fm.shell_average(centered_edges(r), temperature, density, c12, c6)
    t_red, rho_red = reduced_state(temperature, density, c12, c6)
    sig, eps = sigma_epsilon(c12, c6)
    covered = bool(fm.covers(t_red, rho_red)[0])
    w = []
    if not covered:
        w.append(f"T* = {t_red:.4g}, rho* = {rho_red:.4g} is outside the forward model's fluid states "
                 "(beyond its training hull, or near freezing or liquid-vapour coexistence): this "
                 "g(r) is an extrapolation, and MD may show a solid or two phases")
    x_end = fm.x_max / density ** (1.0 / 3.0)
    if r_max > x_end:
        w.append(f"beyond r = {x_end:.3f} nm (x = r rho^(1/3) = {fm.x_max:g}) the model has no data: "
                 "g = 1 with std 0 there")
    return {"T": float(temperature), "rho": float(density), "C12": float(c12), "C6": float(c6),
            "sigma": float(sig), "epsilon": float(eps), "T_reduced": float(t_red),
            "rho_reduced": float(rho_red), "covered": covered, "warnings": w,
            "rc_sigma": fm.rc_sigma, "cutoff_convention": cutoff_text(fm.rc_sigma),
            "r": r.tolist(), "g": g.tolist(), "g_std": s.tolist(),
            "wall_s": time.perf_counter() - t0, "units": UNITS}


def write_forward_xvg(res: dict, path: str | Path) -> Path:
    """Write a :func:`forward_rdf` result as .xvg (r, g, std) with the state in the header."""
    from deepilst import __version__
    from deepilst.xvg import write_xvg

    write_xvg(path, np.array(res["r"]), [np.array(res["g"]), np.array(res["g_std"])],
              ["g(r)", "std. dev. (forward model)"], title="deepilst forward",
              comments=[f"deepilst {__version__} forward model (no MD)",
                        f"T = {res['T']:g} K, rho = {res['rho']:g} nm^-3, C12 = {res['C12']:.6e}, "
                        f"C6 = {res['C6']:.6e}",
                        f"T* = {res['T_reduced']:.5g}, rho* = {res['rho_reduced']:.5g}, "
                        f"covered: {res['covered']}", res["cutoff_convention"]])
    return Path(path)


def plot_forward(res: dict, path: str | Path) -> Path:
    """Draw a :func:`forward_rdf` result with its +-2 std band (PNG or PDF)."""
    from deepilst.plots import draw_rdf, save_figure

    ax = draw_rdf(np.array(res["r"]), np.array(res["g"]), np.array(res["g_std"]),
                  title=f"forward model: T* = {res['T_reduced']:.3g}, rho* = {res['rho_reduced']:.3g}")
    return save_figure(ax.figure, path)


def format_forward(res: dict) -> str:
    """Human-readable summary of a :func:`forward_rdf` result."""
    g = np.array(res["g"])
    r = np.array(res["r"])
    k = int(np.argmax(g))
    lines = [f"T = {res['T']:g} K, rho = {res['rho']:g} nm^-3, C12 = {res['C12']:.5e}, "
             f"C6 = {res['C6']:.5e} (sigma {res['sigma']:.5f} nm, epsilon {res['epsilon']:.5f} kJ/mol)",
             f"T* = {res['T_reduced']:.4g}, rho* = {res['rho_reduced']:.4g}; "
             f"{'inside' if res['covered'] else 'OUTSIDE'} the forward model's fluid states",
             f"first peak: g = {g[k]:.4f} +- {res['g_std'][k]:.4f} at r = {r[k]:.3f} nm; "
             f"{len(r)} shells to {r[-1]:g} nm in {1000 * res['wall_s']:.1f} ms",
             f"cutoff convention: {res['cutoff_convention']}"]
    lines += [f"warning: {w}" for w in res["warnings"]]
    return "\n".join(lines)
