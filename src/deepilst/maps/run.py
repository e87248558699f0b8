"""``deepilst maps``: both error maps of a g(r) file, written as PNG, .npz and JSON."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from deepilst.errors import ModelError
from deepilst.maps.core import ErrorMaps
from deepilst.maps.grid import axes, default_ranges
from deepilst.units import check_positive

#: Files :func:`save` writes into the output directory.
FILES = {"eps_rdf_png": "eps_rdf.png", "eps_kl_png": "eps_kl.png", "npz": "maps.npz",
         "json": "maps.json"}


def load_forward():
    """The shipped forward model (:mod:`deepilst.model.forward`)."""
    try:
        from deepilst.model.forward import load_forward_model
    except ImportError as exc:
        raise ModelError(f"the forward model is not installed with this deepilst ({exc}); "
                         "eps_rdf maps need it") from None
    return load_forward_model()


def error_maps(path: str | Path, temperature: float, density: float, c12_range=None, c6_range=None,
               n: int = 150, scale: str = "log", model=None, forward=None, free_energy=None,
               kl_draws: int = 8, bin_width: float | None = None, r_unit: str | None = None
               ) -> ErrorMaps:
    """eps_rdf and eps_KL of LJ models over a (C12, C6) mesh for the g(r) in ``path``.

    Parameters
    ----------
    path : g(r) file (.xvg, VOTCA table, columns), read as a histogram onto the model shells
    temperature : K
    density : number density, nm^-3
    c12_range, c6_range : (lo, hi) of the mesh, kJ mol^-1 nm^12 / nm^6 (default: T* 0.8-60
        and sigma around the target's first rise, containing the network's answer)
    n : mesh points per axis
    scale : "log" or "linear" axes
    model : network for the red dot (a shipped name, directory or loaded model; default ensemble)
    forward : forward model (default: the shipped one)
    free_energy : :class:`deepilst.freeenergy.LJFreeEnergy` (default: the shipped surface)
    kl_draws : redraws of the target within its errors for the KL minimum's spread
    """
    from deepilst.fit.target import Target
    from deepilst.freeenergy import LJFreeEnergy
    from deepilst.predict import load_model, predict_file
    from deepilst.rdf import rise_position

    t0 = time.perf_counter()
    check_positive("temperature", temperature)
    check_positive("density", density)
    axes([1.0, 2.0], [1.0, 2.0], n, scale)  # validates n and scale before any work
    target = Target.from_file(path, temperature, density, bin_width=bin_width, r_unit=r_unit)
    if model is None or isinstance(model, (str, Path)):
        model = load_model(model)
    pred = predict_file(path, temperature, density, model=model, thermo=False, r_unit=r_unit,
                        bin_width=bin_width)
    t_net = time.perf_counter() - t0
    if c12_range is None or c6_range is None:
        d12, d6 = default_ranges(temperature, rise_position(target.r, target.g), (pred["C12"], pred["C6"]))
        c12_range = c12_range if c12_range is not None else d12
        c6_range = c6_range if c6_range is not None else d6
    c12, c6 = axes(c12_range, c6_range, n, scale)
    forward = forward if forward is not None else load_forward()
    free_energy = free_energy if free_energy is not None else LJFreeEnergy.load()
    maps = ErrorMaps(target, c12, c6, forward, free_energy, network=pred, kl_draws=kl_draws,
                     scale=scale).compute()
    maps.timing["network_s"] = t_net
    maps.timing["total_s"] = time.perf_counter() - t0
    return maps


def save(maps: ErrorMaps, out: str | Path) -> dict:
    """Write the two PNGs, the .npz (axes, maps, domain masks, reduced states, target g) and
    ``maps.json`` (``maps.to_json()`` with the names of the files) into directory ``out``;
    returns that document."""
    from deepilst.fileio import json_safe, write_json_atomic, write_with
    from deepilst.maps.figure import save_map

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {k: out / v for k, v in FILES.items()}
    if maps.eps_rdf is not None:
        save_map(maps, "rdf", paths["eps_rdf_png"])
    if maps.eps_kl is not None:
        save_map(maps, "kl", paths["eps_kl_png"])
    arrays = {"C12": maps.c12, "C6": maps.c6, "T_reduced": maps.T_reduced,
              "rho_reduced": maps.rho_reduced, "r": maps.target.r, "g_target": maps.target.g}
    if maps.eps_rdf is not None:
        arrays.update(eps_rdf=maps.eps_rdf, eps_rdf_covered=maps._rdf_covered)
    if maps.eps_kl is not None:
        arrays.update(eps_KL=maps.eps_kl, eps_KL_covered=maps._kl_covered)

    def write_npz(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)

    write_with(paths["npz"], write_npz)
    doc = maps.to_json()
    doc["files"] = {k: p.name for k, p in paths.items() if k == "json" or p.exists()}
    doc = json_safe(doc)
    write_json_atomic(paths["json"], doc, indent=1)
    return doc
