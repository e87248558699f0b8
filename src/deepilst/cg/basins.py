"""A start in the other eps_rdf basin, found with two cheap CG runs.

Molecular centre-of-mass RDFs are not LJ RDFs, and their eps_rdf landscape over (C12, C6) has
(at least) two basins: soft, nearly purely repulsive beads (T* of 15-40) and a physical one
(T* near 1.5-4). The network, trained on LJ fluids, may answer in either. A fit started in one
basin stays there, so ``deepilst cg`` also tries a start in the other basin: fix T* (2.5 in the
physical basin, 20 in the soft one), put the bead size where the target's first rise sits, run,
move sigma by the ratio of the two rise positions, run again.
"""

from __future__ import annotations

from deepilst.fit.cgmd import CGEvaluation, CGEvaluator, basin
from deepilst.potentials import LJParams
from deepilst.rdf import rise_position
from deepilst.units import KB

#: Reduced temperature of the start placed in each basin.
BASIN_T_REDUCED = {"physical": 2.5, "soft": 20.0}
#: Rise position r(g = 1) / sigma of LJ fluids near those states (a first guess, corrected by
#: one CG run).
RISE_OVER_SIGMA = {"physical": 0.96, "soft": 0.86}


def params_at(sigma: float, T_reduced: float, temperature: float) -> LJParams:
    """LJ parameters of size ``sigma`` [nm] at reduced temperature ``T_reduced`` at T [K]."""
    eps = KB * temperature / T_reduced
    return LJParams(4 * eps * sigma**12, 4 * eps * sigma**6)


def other_basin(ev: CGEvaluator, first: CGEvaluation) -> tuple[str, list[CGEvaluation]]:
    """Two CG runs in the basin ``first`` is not in; returns (that basin, the two evaluations)."""
    t = ev.target
    which = "soft" if basin(first.T_reduced) == "physical" else "physical"
    t_star = BASIN_T_REDUCED[which]
    r_t = rise_position(t.r, t.g)
    sigma = r_t / RISE_OVER_SIGMA[which]
    runs = []
    for _ in range(2):
        p = params_at(sigma, t_star, t.temperature)
        e = ev.run(p.c12, p.c6)
        runs.append(e)
        sigma *= r_t / rise_position(e.result.r, e.result.g)
    return which, runs
