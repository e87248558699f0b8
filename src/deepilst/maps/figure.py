"""The paper's Figure 5 panels: a map over (C12, C6), its minima as white crosses, the network's
answer as a red dot, grey hatching where the map is undefined, dashed lines of constant T*."""

from __future__ import annotations

import numpy as np

from deepilst.units import KB

#: Reduced temperatures drawn as dashed guides (T* = 8 separates the two basins).
T_GUIDES = (1.5, 3.0, 8.0, 20.0, 50.0)


def draw_map(maps, which: str = "rdf", ax=None):
    """Draw ``maps.eps_rdf`` (which="rdf") or ``maps.eps_kl`` ("kl") of a computed
    :class:`deepilst.maps.ErrorMaps` on ``ax`` (a new figure if None); returns the Axes."""
    from matplotlib import patheffects
    from matplotlib.colors import LogNorm
    from matplotlib.patches import Rectangle

    from deepilst.plots import _plt

    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(5.6, 4.6))
    values = maps.eps_rdf if which == "rdf" else maps.eps_kl
    if values is None:
        raise ValueError(f"no {which} map was computed")
    c12, c6 = maps.c12, maps.c6
    x0, x1, y0, y1 = c12[0], c12[-1], c6[0], c6[-1]
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor="0.85", edgecolor="0.6",
                           hatch="///", lw=0, zorder=0))
    if which == "rdf":
        v = np.where(values > 0, values, np.nan)
        label = r"$\epsilon_{rdf}$ (fraction)"
        floor = max(float(np.nanmin(v)) if np.isfinite(v).any() else 1e-3, 1e-4)
    else:
        floor = 1e-4
        v = np.maximum(values, floor)
        label = r"$\epsilon_{KL}$ - min  ($k_BT$ per particle)"
    vmax = float(np.nanmax(v)) if np.isfinite(v).any() else 1.0
    mesh = ax.pcolormesh(c12, c6, np.ma.masked_invalid(v), shading="nearest", cmap="viridis",
                         norm=LogNorm(vmin=floor, vmax=max(vmax, floor * 10)), zorder=1)
    ax.figure.colorbar(mesh, ax=ax, label=label)
    if maps.scale == "log":
        ax.set_xscale("log")
        ax.set_yscale("log")
    kt = KB * maps.target.temperature
    y = np.geomspace(y0, y1, 200)
    for t in T_GUIDES:
        x = y**2 * t / (4.0 * kt)  # C12 = C6^2 T* / (4 kT): constant epsilon
        k = (x >= x0) & (x <= x1)
        if k.sum() > 1:
            ax.plot(x[k], y[k], color="w", lw=0.7, ls="--" if t != 8.0 else "-.", alpha=0.7, zorder=2)
            ax.annotate(f"T*={t:g}", (x[k][0], y[k][0]), color="w", fontsize=7, ha="left",
                        va="bottom", rotation=27, zorder=3,
                        path_effects=[patheffects.withStroke(linewidth=1.5, foreground="k")])
    mins = ([m for m in maps.rdf_minima.values() if m and m["local"]] if which == "rdf"
            else [maps.kl_min] if maps.kl_min else [])
    for m in mins:
        ax.plot(m["C12"], m["C6"], "x", color="w", ms=10, mew=2.2, zorder=4)
    n = maps.network
    if n is not None:
        ax.plot(n["C12"], n["C6"], "o", color="red", ms=6, mec="k", mew=0.6, zorder=5)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel(r"$C_{12}$ / kJ mol$^{-1}$ nm$^{12}$")
    ax.set_ylabel(r"$C_6$ / kJ mol$^{-1}$ nm$^6$")
    t = maps.target
    ax.set_title(f"{t.name}: {'eps_rdf' if which == 'rdf' else 'eps_KL'} at {t.temperature:g} K, "
                 f"{t.density:g} nm$^{{-3}}$", fontsize=9)
    return ax


def save_map(maps, which: str, path) -> None:
    """Draw one map and write it to ``path`` (PNG or PDF by suffix, atomically)."""
    from deepilst.plots import save_figure

    ax = draw_map(maps, which)
    ax.figure.tight_layout()
    save_figure(ax.figure, path)
