"""The paper's validation route: simulate the fluid with given (or predicted) LJ parameters at
the input state and compare its g(r), pressure and energy with the input.

eps_rdf (paper eq. 7) is a fraction: int_0^rf |g_MD - g_input| r^2 dr / int_0^rf g_input r^2 dr.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deepilst.errors import ParameterError
from deepilst.md.spec import Protocol, SimSpec
from deepilst.rdf import eps_rdf
from deepilst.results import UNITS
from deepilst.thermo import energy_from_rdf, pressure_from_rdf
from deepilst.units import check_positive


def parse_params(text: str) -> tuple[float, float]:
    """(C12, C6) from ``"C12,C6"`` (kJ mol^-1 nm^12, kJ mol^-1 nm^6); ParameterError otherwise."""
    try:
        c12, c6 = str(text).split(",")
    except ValueError:
        raise ParameterError(f"params must be 'C12,C6', got {text!r}") from None
    return check_positive("C12", c12), check_positive("C6", c6)


def validate_params(r: np.ndarray, g: np.ndarray, temperature: float, density: float,
                    c12: float, c6: float, engine: str = "auto", protocol: Protocol | None = None,
                    seed: int = 0, r_f: float = 1.5) -> dict:
    """Run MD with (C12, C6) at (T [K], rho [nm^-3]) and compare with the input g(r) on the
    model grid ``r`` [nm].

    Returns eps_rdf (paper eq. 7 up to ``r_f`` nm, a fraction), the run's g(r) with standard
    errors, its pressure ``P`` [bar] and energy per particle ``U`` [kJ/mol] with ``_sem``, and the
    pressure and energy implied by the *input* g(r) with the same parameters (virial and energy
    routes, same cutoff convention), so that a user sees both the structural and thermodynamic
    mismatch.
    """
    from deepilst.md.simulate import run_simulation

    spec = SimSpec(temperature, density, c12, c6, engine=engine, seed=seed,
                   protocol=protocol or Protocol(equil_ps=50, prod_ps=350, n_particles=1000))
    run = run_simulation(spec)
    g_md = run.g
    g_in = np.asarray(g, dtype=float)
    return {
        "eps_rdf": eps_rdf(r, g_md, g_in, r_f=r_f),
        "r": np.asarray(r).tolist(), "g_input": g_in.tolist(),
        "g_md": g_md.tolist(), "g_md_sem": run.g_err.tolist(),
        "P": run.P.mean, "P_sem": run.P.sem, "U": run.U.mean, "U_sem": run.U.sem,
        "P_from_input_rdf": pressure_from_rdf(r, g_in, temperature, density, c12, c6, run.rc),
        "U_from_input_rdf": energy_from_rdf(r, g_in, density, c12, c6, run.rc),
        "phase": run.phase, "engine": run.engine, "T_reduced": run.T_reduced,
        "rho_reduced": run.rho_reduced, "cutoff_convention": run.cutoff_convention,
        "units": UNITS,
    }


def validate_file(path: str | Path, temperature: float, density: float,
                  params: tuple[float, float] | None = None, model=None, column: int = 1,
                  engine: str = "auto", protocol: Protocol | None = None, seed: int = 0) -> dict:
    """Validate LJ parameters against the g(r) in ``path`` at (T [K], rho [nm^-3]).

    ``params`` = (C12, C6) validates given parameters; ``None`` predicts them from the file with
    ``model`` (a model, a directory, a shipped name, or None for the default). Returns the
    :func:`validate_params` result plus ``C12``, ``C6``, ``parameters`` ("given" or
    "predicted"), the prediction's ``warnings``, ``T`` and ``rho``.
    """
    from deepilst.rdfio import load_rdf

    check_positive("temperature", temperature)
    check_positive("density", density)
    warnings: list[str] = []
    if params is not None:
        c12, c6 = (check_positive(k, v) for k, v in zip(("C12", "C6"), params))
        source = "given"
    r, g = load_rdf(path, column)
    if params is None:
        from deepilst.predict import load_model, predict_arrays

        m = model if hasattr(model, "predict") else load_model(model)
        pred = predict_arrays(m, g[None], temperature, density, thermo=False)[0]
        c12, c6, source, warnings = pred["C12"], pred["C6"], "predicted", pred["warnings"]
    res = validate_params(r, g, temperature, density, c12, c6, engine=engine, seed=seed,
                          protocol=protocol)
    res.update({"C12": c12, "C6": c6, "parameters": source, "warnings": warnings,
                "T": float(temperature), "rho": float(density), "file": str(path)})
    return res


def format_text(res: dict) -> str:
    """Human-readable report of a :func:`validate_file` result."""
    return "\n".join([
        f"{res['parameters']} C12 = {res['C12']:.5e}, C6 = {res['C6']:.5e}",
        f"eps_rdf = {100 * res['eps_rdf']:.3f} % (fraction {res['eps_rdf']:.5f}; engine "
        f"{res['engine']}, phase {res['phase']}, T* {res['T_reduced']:.3f}, rho* "
        f"{res['rho_reduced']:.3f})",
        f"MD:         P = {res['P']:.1f} +- {res['P_sem']:.1f} bar, "
        f"U/N = {res['U']:.4f} +- {res['U_sem']:.4f} kJ/mol",
        f"input g(r): P = {res['P_from_input_rdf']:.1f} bar, U/N = {res['U_from_input_rdf']:.4f} "
        "kJ/mol (same parameters)",
        f"cutoff: {res['cutoff_convention']}"])


def plot_overlay(path: str | Path, res: dict, label: str = "input") -> Path:
    """g(r) of the input against the validation run (PNG/PDF by suffix)."""
    from deepilst.plots import _plt, save_figure

    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    r = np.asarray(res["r"])
    ax.plot(r, res["g_input"], "o", ms=2.5, color="k", label=label)
    g_md, e = np.asarray(res["g_md"]), np.asarray(res["g_md_sem"])
    ax.plot(r, g_md, color="C3", lw=1.3, label=f"LJ MD ({res['engine']})")
    ax.fill_between(r, g_md - 2 * e, g_md + 2 * e, color="C3", alpha=0.3, lw=0)
    ax.set_xlabel("r / nm")
    ax.set_ylabel("g(r)")
    ax.set_title(f"eps_rdf = {100 * res['eps_rdf']:.2f} %", fontsize=9)
    ax.legend(frameon=False)
    fig.tight_layout()
    return save_figure(fig, path)
