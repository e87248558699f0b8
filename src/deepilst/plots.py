"""Figures (matplotlib, Agg backend; PNG or PDF by file suffix)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deepilst.fileio import write_with


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: str | Path, dpi: int = 150) -> Path:
    """Write ``fig`` to ``path`` atomically (PNG or PDF by suffix) and close it."""
    plt = _plt()
    suffix = Path(path).suffix.lstrip(".") or "png"
    write_with(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format=suffix))
    plt.close(fig)
    return Path(path)


def draw_rdf(r: np.ndarray, g: np.ndarray, g_err: np.ndarray | None = None, ax=None,
             title: str = ""):
    """Draw g(r) (r in nm) with a +-2 standard-error band on ``ax`` (a new figure if None);
    returns the Axes."""
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(r, g, lw=1.3, color="C0", label="g(r)")
    if g_err is not None:
        ax.fill_between(r, g - 2 * g_err, g + 2 * g_err, color="C0", alpha=0.3, lw=0,
                        label="±2 s.e.")
    ax.axhline(1.0, color="0.6", lw=0.8, ls=":")
    ax.set_xlabel("r / nm")
    ax.set_ylabel("g(r)")
    ax.set_title(title, fontsize=9)
    ax.legend(frameon=False)
    return ax


def plot_rdf(path: str | Path, r: np.ndarray, g: np.ndarray, g_err: np.ndarray | None = None,
             title: str = "", ax=None):
    """Plot g(r) (r in nm) with a +-2 standard-error band and save it to ``path`` (atomically)."""
    ax = draw_rdf(r, g, g_err, ax=ax, title=title)
    ax.figure.tight_layout()
    save_figure(ax.figure, path)
    return ax


def plot_phase_map(path: str | Path, t_reduced, rho_reduced, labels, title: str = ""):
    """Scatter of simulated states in (rho*, T*) coloured by phase label."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    colors = {"fluid": "C0", "two-phase": "C3", "solid": "k"}
    labels = np.asarray(labels)
    for lab, c in colors.items():
        m = labels == lab
        if m.any():
            ax.scatter(np.asarray(rho_reduced)[m], np.asarray(t_reduced)[m], s=8, c=c,
                       label=f"{lab} ({m.sum()})")
    ax.set_yscale("log")
    ax.set_xlabel(r"$\rho^*$")
    ax.set_ylabel(r"$T^*$")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8, loc="best", framealpha=0.9)
    fig.tight_layout()
    save_figure(fig, path)


def draw_overlay(r: np.ndarray, g_ref: np.ndarray, curves: list[tuple[str, np.ndarray]], ax=None,
                 title: str = "", ref_label: str = "all-atom (COM)", every: int = 3):
    """The paper's Figure 4: a reference g(r) as open circles (every ``every``-th point) and
    model g(r) curves ``[(label, g), ...]`` on the same r [nm]; returns the Axes."""
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    m = np.isfinite(g_ref)
    ax.plot(r[m][::every], g_ref[m][::every], "o", mfc="none", mec="k", ms=3.5, mew=0.7,
            label=ref_label)
    styles = ["-", "--", "-.", ":"]
    for i, (label, g) in enumerate(curves):
        ax.plot(r, g, styles[i % len(styles)], lw=1.3, color=f"C{(3 + i) % 10}", label=label)
    ax.axhline(1.0, color="0.6", lw=0.8, ls=":")
    ax.set_xlim(left=max(0.0, float(r[m][np.argmax(g_ref[m] > 0.01)]) - 0.05))
    ax.set_xlabel("r / nm")
    ax.set_ylabel("g(r)")
    ax.set_title(title, fontsize=9)
    ax.legend(frameon=False, fontsize=8)
    return ax
