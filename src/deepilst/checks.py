"""Sanity checks of a user's raw g(r) before any prediction: refuse what cannot be a g(r).

Each check raises :class:`deepilst.errors.InputError` with one line: the file, what is wrong,
and the fix. Messages name parameters (``r_unit``, ``density``), and a command-line option
only where passing it is the fix. Checks, in order (the first that fails is reported):

* temperature: T < :data:`T_MIN` K is no classical fluid (refused);
* self-pair spike: g >> 1 at r below half the excluded core, as MDAnalysis ``InterRDF`` gives
  for a self-RDF without ``exclusion_block=(1, 1)`` (the N self pairs in the first bin);
* coordination number (``gmx rdf -cn``): monotone increasing and well above 1 at the end;
* normalisation (``gmx rdf -norm none`` or ``number_density``): the tail's level or its
  growth (counts per shell grow like r^2) is not that of a g(r) approaching 1;
* r in Angstrom: the first peak lies beyond :data:`R_PEAK_MAX_NM` nm;
* density: the first peak at x1 = r_peak rho^(1/3) mean spacings outside
  [:data:`X1_MIN`, :data:`X1_MAX`] (calibrated on every committed RDF, with a margin);
* range: the input must reach the r a model reads at this density (:func:`required_r_max`)
  and start in the excluded core or below :data:`R_MIN_READ` nm;
* structure: a g(r) has an excluded core and a first peak (a flat or monotone g has neither).

:func:`plausibility_warnings` adds words (no refusal) after a prediction, e.g. an epsilon
that suggests T was given in Celsius.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from deepilst.errors import InputError
from deepilst.units import KB, check_positive

#: Below this temperature [K] no classical fluid exists (liquid helium boils at 4.2 K).
T_MIN = 1.0
#: Temperatures [K] below this get the "Celsius?" warning when epsilon looks implausibly small.
T_CELSIUS_SUSPECT = 120.0
#: epsilon/kB [K] below this (helium's is 10.2 K, neon's 36 K) makes a low T suspect.
EPS_K_MIN = 30.0
#: Accepted first-peak position x1 = r_peak rho^(1/3). Committed RDFs (all datasets, every
#: phase) span 0.456-1.104; physically x1 <= 2^(1/6) = 1.12 for nearest neighbours at close
#: packing, and dilute gases reach 1.12 (rho sigma^3)^(1/3) (0.30 at rho* = 0.02).
X1_MIN = 0.25
X1_MAX = 1.35
#: A first peak beyond this [nm] means r is in Angstrom (sigma of simple fluids <= ~0.7 nm).
R_PEAK_MAX_NM = 2.0
#: g above this at r below half the core edge is a self-pair spike.
G_SPIKE = 2.0
#: g below this counts as the excluded core.
G_CORE = 0.01
#: A coordination number ends above this (the running count at x = 2 is ~30).
CN_END_MIN = 3.0
#: The tail of a g(r) (mean over x in [max(0.6 x_end, 1.5), x_end]) lies in this range:
#: committed fluids 0.93-1.25, two-phase states up to 4.2.
TAIL_RANGE = (0.6, 5.0)
#: log-log slope of g over the tail above which it grows like pair counts (slope 2 + that of g:
#: 1.66-2.47 for the committed fluids' counts). Committed RDFs (window from x >= 1.5, ending
#: beyond x = 2.2): fluids -0.34 to 0.47, two-phase < 0, solids up to 1.26.
TAIL_SLOPE_MAX = 1.4
#: The networks read g from this r [nm] (below, g is taken as 0).
R_MIN_READ = 0.25


@dataclass
class RDFCheck:
    """What :func:`check_rdf` found about an accepted input (lengths nm, x = r rho^(1/3))."""

    r_peak: float
    x_peak: float
    tail: float
    r_max_input: float
    r_max_read: float | None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"r_peak": self.r_peak, "x_peak": self.x_peak, "tail": self.tail,
                "r_max_input": self.r_max_input, "r_max_read": self.r_max_read}


def required_r_max(model, density: float) -> float:
    """The largest r [nm] a model reads at ``density`` [nm^-3]: x_max rho^(-1/3) for the
    reduced-units ensemble (x = r rho^(1/3) up to ``model.features_.x_max``, 3.0: 1.167 nm at
    17 nm^-3, 2.38 nm at 2 nm^-3), the end of the r grid (1.5 nm) for the paper network."""
    rho = check_positive("density", density)
    x_max = getattr(getattr(model, "features_", None), "x_max", None)
    if x_max is None:
        return float(model.r_grid[-1])
    return float(x_max) / rho ** (1.0 / 3.0)


def _self_spike(r: np.ndarray, g: np.ndarray) -> tuple[int, int] | None:
    """(index of the largest g > ``G_SPIKE`` that lies before the excluded core at r below half
    the core's edge, index of the core's last point), or None. In a solid the core between two
    shells ends at ~1.4 r1, never beyond 2 r1, so its shells do not count."""
    core = np.flatnonzero(g < G_CORE)
    rise = np.flatnonzero(g >= 1.0)
    for i in np.flatnonzero(g > G_SPIKE):
        later = core[core > i]
        if len(later) == 0:
            return None
        after = rise[rise > later[0]]
        j = int(after[0]) if len(after) else len(r) - 1
        if r[i] < 0.5 * r[j]:
            pre = np.flatnonzero((g[:j] > G_SPIKE) & (r[:j] < 0.5 * r[j]))
            return int(pre[np.argmax(g[pre])]), j - 1
    return None


def _tail(x: np.ndarray, g: np.ndarray) -> tuple[float, float | None]:
    """(mean g over the tail window, log-log slope there or None where the window is short)."""
    x_end = float(x[-1])
    w = x >= max(0.6 * x_end, 1.5) if x_end > 1.5 / 0.6 else x >= 0.6 * x_end
    level = float(np.mean(g[w]))
    if x_end < 2.2 or w.sum() < 5 or np.any(g[w] <= 0):
        return level, None
    lx, lg = np.log(x[w]), np.log(g[w])
    a = lx - lx.mean()
    return level, float(np.dot(lg - lg.mean(), a) / np.dot(a, a))


def check_rdf(r, g, temperature: float, density: float, source: str = "input",
              r_max_read: float | None = None) -> RDFCheck:
    """Refuse a raw input that cannot be a g(r) at this temperature and density.

    Parameters
    ----------
    r : distances as read [nm], increasing
    g : g(r) as read
    temperature : K
    density : number density [nm^-3]
    source : file name (or words) the messages start with
    r_max_read : the largest r [nm] the model reads (:func:`required_r_max`); None skips the
        range check

    Returns
    -------
    RDFCheck: first peak (r [nm], x), tail level, the input's end and ``r_max_read``.

    Raises
    ------
    InputError
        one line naming ``source``, the problem and the fix.
    """
    r = np.asarray(r, dtype=float)
    g = np.asarray(g, dtype=float)
    T = check_positive("temperature", temperature)
    rho = check_positive("density", density)
    if len(r) < 3 or len(r) != len(g):
        raise InputError(f"{source}: need r and g(r) of equal length, at least 3 points")
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(g))) or np.any(np.diff(r) <= 0):
        raise InputError(f"{source}: r must increase strictly and r, g(r) must be finite")
    if T < T_MIN:
        raise InputError(f"{source}: temperature = {T:g} K is below {T_MIN:g} K, where no classical "
                         "fluid exists: give T in kelvin")
    # self-pair spike: large g before the excluded core
    spike = _self_spike(r, g)
    if spike is not None:
        i, k = spike
        raise InputError(
            f"{source}: g = {g[i]:.4g} at r = {r[i]:.4g} nm, before the excluded core (g < "
            f"{G_CORE:g} up to {r[k]:.4g} nm): a self-pair term, as MDAnalysis InterRDF counts "
            "without exclusion_block; recompute with InterRDF(ag, ag, exclusion_block=(1, 1)) "
            f"or drop the rows below {r[k]:.4g} nm")
    # coordination number: monotone, far above 1 at the end
    tol = 1e-6 * max(1.0, float(np.max(np.abs(g))))
    if g[-1] > CN_END_MIN and np.all(np.diff(g) >= -tol):
        raise InputError(f"{source}: the values rise monotonically to {g[-1]:.4g}: a coordination "
                         "number (gmx rdf -cn output), not g(r); pass the -o file of gmx rdf")
    x = r * rho ** (1.0 / 3.0)
    level, slope = _tail(x, g)
    if not TAIL_RANGE[0] <= level <= TAIL_RANGE[1] or (slope is not None and slope > TAIL_SLOPE_MAX):
        how = (f"grows like r^{slope:.1f}" if slope is not None and slope > TAIL_SLOPE_MAX
               else f"has mean {level:.4g}")
        hint = (f" (about the density {rho:g} nm^-3: gmx rdf -norm number_density; divide by it)"
                if abs(level / rho - 1.0) < 0.25 else " (gmx rdf -norm none or number_density?)")
        raise InputError(f"{source}: g(r) is not normalised: its tail (r >= {r[x >= 0.6 * x[-1]][0]:.3g}"
                         f" nm) {how} instead of approaching 1{hint}; use gmx rdf -norm rdf "
                         "(the default) or MDAnalysis InterRDF(norm='rdf')")
    ip = int(np.argmax(g))
    r_peak = float(r[ip])
    peaked = 0 < ip < len(r) - 1 and g[0] < 0.5 * g[ip]
    x1 = r_peak * rho ** (1.0 / 3.0)
    if peaked and r_peak > R_PEAK_MAX_NM:
        raise InputError(f"{source}: the first peak of g is at r = {r_peak:.4g} (nm?); no simple fluid "
                         f"has it beyond {R_PEAK_MAX_NM:g} nm: r looks like Angstrom; divide r by 10 or "
                         "pass r_unit='A' (--r-unit A)")
    if peaked and not X1_MIN <= x1 <= X1_MAX:
        lo, hi = (X1_MIN / r_peak) ** 3, (X1_MAX / r_peak) ** 3
        raise InputError(
            f"{source}: density = {rho:g} nm^-3 puts the first peak (r = {r_peak:.4g} nm) at "
            f"{x1:.3g} mean spacings (x = r rho^(1/3)); fluids have {X1_MIN:g}-{X1_MAX:g}, i.e. "
            f"{lo:.3g}-{hi:.3g} nm^-3 here: give density in particles per nm^3")
    if r_max_read is not None:
        tol = 0.0025
        if r[-1] < r_max_read - tol:
            raise InputError(
                f"{source}: r covers {r[0]:.4g}-{r[-1]:.4g} nm; at density = {rho:g} nm^-3 the model "
                f"reads g(r) up to r = {r_max_read:.4g} nm: compute g(r) further (gmx rdf -rmax, "
                "InterRDF range; half the box at most)")
        if r[0] > R_MIN_READ + tol and g[0] >= G_CORE:
            raise InputError(f"{source}: r starts at {r[0]:.4g} nm where g = {g[0]:.3g} > 0; the "
                             f"model reads from r = {R_MIN_READ:g} nm: give g(r) from {R_MIN_READ:g}"
                             " nm (or from the excluded core, where g = 0)")
    if not peaked:
        raise InputError(f"{source}: g(r) has no excluded core and first peak (largest g = "
                         f"{g[ip]:.4g} at r = {r_peak:.4g} nm, the {'first' if ip == 0 else 'last'} "
                         "point): not the g(r) of a fluid")
    return RDFCheck(r_peak, float(x1), level, float(r[-1]), r_max_read)


def plausibility_warnings(temperature: float, T_reduced: float) -> list[str]:
    """Warnings (words; nothing refused) about a prediction at ``temperature`` [K] with
    predicted reduced temperature T* = kB T / epsilon: an epsilon/kB below
    :data:`EPS_K_MIN` K at T < :data:`T_CELSIUS_SUSPECT` K suggests T in Celsius."""
    out = []
    eps_k = temperature / T_reduced
    if temperature < T_CELSIUS_SUSPECT and eps_k < EPS_K_MIN:
        out.append(f"T = {temperature:g} K gives epsilon/kB = {eps_k:.3g} K (eps = "
                   f"{KB * eps_k:.3g} kJ/mol), below neon's 36 K: if T is in Celsius, pass "
                   f"T = {temperature + 273.15:g} K")
    return out
