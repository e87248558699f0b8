"""Law of corresponding states: g(r) of a physical state from a simulation at the same
(T*, rho*) with another length scale."""

from __future__ import annotations

import numpy as np

from deepilst.rdf import DR, R_MAX, centered_edges, model_grid, rebin
from deepilst.sampling import physical_candidates
from deepilst.units import sigma_epsilon


def expand_g(fine_g: np.ndarray, fine_dr: float, sigma_sim: float, sigma_new: float,
             r: np.ndarray | None = None, fine_g_err: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray | None]:
    """g(r) of a physical state with length scale ``sigma_new`` [nm] from a simulation at the
    same (T*, rho*) with ``sigma_sim`` [nm] (g(r) = g*(r / sigma)).

    The fine histogram (bins of ``fine_dr`` nm from 0; trailing NaN padding ignored) is
    rebinned exactly onto the model grid ``r`` [nm] (default :func:`deepilst.rdf.model_grid`)
    scaled into the simulation's length units. Returns (g, g_err); g_err is None without
    ``fine_g_err``; NaN where the simulated range does not reach.
    """
    r = model_grid() if r is None else np.asarray(r, dtype=float)
    fine_g = np.asarray(fine_g, dtype=float)
    n = int(np.sum(np.isfinite(fine_g)))
    edges_fine = np.arange(n + 1) * fine_dr
    scale = sigma_sim / sigma_new
    new_edges = centered_edges(r) * scale
    err = None if fine_g_err is None else np.nan_to_num(np.asarray(fine_g_err, float)[:n])
    return rebin(edges_fine, fine_g[:n], new_edges, err)


def expansion_states(t_reduced: float, rho_reduced: float, k: int, seed: int,
                     sim_state: tuple[float, float, float, float],
                     r_reach_reduced: float, r_max: float = R_MAX) -> np.ndarray:
    """``k`` physical states (rows T [K], rho [nm^-3], C12, C6) inside Table 1 sharing
    (T*, rho*): the simulated one first, then seeded draws whose model grid (to ``r_max`` nm,
    plus half a bin) stays inside the simulated range ``r_reach_reduced`` (units of sigma).
    Fewer than ``k`` rows when 400 rounds of draws do not find enough."""
    rng = np.random.default_rng(seed)
    rows = [np.asarray(sim_state, dtype=float)]
    tries = 0
    while len(rows) < k and tries < 400:
        cand = physical_candidates(t_reduced, rho_reduced, 4 * k, rng)
        for c in cand:
            sig = sigma_epsilon(c[2], c[3])[0]
            if (r_max + DR / 2) / sig <= r_reach_reduced:
                rows.append(c)
                if len(rows) == k:
                    break
        tries += 1
    return np.array(rows)


def is_simulated_state(c12: float, c6: float, temperature: float,
                       sim_c12: float, sim_c6: float, sim_temperature: float) -> bool:
    """Whether a physical sample (C12, C6, T [K]) is its source simulation's own state (its g
    is stored as is; any other sample is expanded by corresponding states)."""
    return (abs(c12 - sim_c12) < 1e-15 and abs(c6 - sim_c6) < 1e-15
            and abs(temperature - sim_temperature) < 1e-9)
