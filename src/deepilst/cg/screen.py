"""The screen of ``deepilst cg``: candidates ranked by the forward model, no MD.

The network's answer and the forward model's eps_rdf minimum of each basin are ranked by the
forward model's eps_rdf against the target (:func:`screen`); the one to run is the lowest, or the
network's answer unless a minimum is lower by more than two CG runs could tell apart
(:func:`screen_pick`, :func:`screen_margin`); its run is checked against what the forward model
predicted for it (:func:`screen_check`).
"""

from __future__ import annotations

import math

import numpy as np

from deepilst.fit.cgmd import CGEvaluation, basin
from deepilst.fit.target import Target

#: A screened run is as the forward model predicted when its eps_rdf exceeds the prediction by
#: at most this many standard deviations (:func:`screen_check`); otherwise ``cg`` runs the
#: other candidates too. On the COM targets' 30 check runs (benchmarks/maps_md_check.py, 1000
#: beads, 250 ps) the largest z inside the forward model's domain was 2.6. Runs of fewer beads
#: measure more (argon, 300 beads: +0.1-0.3 %, z 6-7; 1000 beads at 40 or 100 ps: z 0.0 and
#: 0.3), so with them the check fails and every candidate is run: more runs, never a worse model.
SCREEN_Z_MAX = 3.0


def screen(target: Target, forward, prediction: dict, starts: dict[str, tuple[float, float]]
           ) -> list[dict]:
    """The network's answer and the map minima of each basin, ranked by the forward model's
    eps_rdf against the target (no MD), lowest first.

    Returns
    -------
    list of dicts ``name``, ``C12``, ``C6``, ``T_reduced``, ``basin``, ``eps_rdf_map`` (a
    fraction; None where the forward model does not cover the point: such points come last,
    in the order given)
    """
    from deepilst.maps.core import RDFScorer
    from deepilst.units import reduced_state

    scorer = RDFScorer(target, forward)
    points = [("network", prediction["C12"], prediction["C6"])]
    points += [(f"map minimum ({b})", *starts[b]) for b in ("physical", "soft") if b in starts]
    out = []
    for name, c12, c6 in points:
        t_red, rho_red = reduced_state(target.temperature, target.density, c12, c6)
        covered = bool(np.all(forward.covers(t_red, rho_red)))
        out.append({"name": name, "C12": float(c12), "C6": float(c6), "T_reduced": float(t_red),
                    "basin": basin(float(t_red)),
                    "eps_rdf_map": float(scorer([c12], [c6])[0]) if covered else None})
    scored = sorted((p for p in out if p["eps_rdf_map"] is not None), key=lambda p: p["eps_rdf_map"])
    return scored + [p for p in out if p["eps_rdf_map"] is None]


def screen_margin(target: Target, forward, c12: float, c6: float) -> float:
    """How much lower a map minimum's forward-model eps_rdf must be than the network's answer's
    for the screen to prefer it: what two CG runs could tell apart, two standard errors of
    their difference (2 sqrt(2) times the spread of a run's eps_rdf predicted at the network's
    answer, :meth:`~deepilst.maps.core.RDFScorer.predict_run`, the target's own errors standing
    in for the run's; the bin-to-bin scatter where the target has none). A fraction.

    On an LJ fluid the network's answer and the eps_rdf minimum lie within the target's noise
    of each other, and the network's is the more accurate (its C6 above all: the eps_rdf
    valley is flat along it); on molecular COM targets the minima are better by 0.3 % and more.
    """
    from deepilst.maps.core import RDFScorer
    from deepilst.stats import scatter_sem

    err = np.nan_to_num(np.asarray(target.g_err, float))
    if not np.any(err > 0):
        err = np.nan_to_num(scatter_sem(target.g))
    sd = RDFScorer(target, forward).predict_run(c12, c6, err)["predicted_sd"]
    return float(2.0 * math.sqrt(2.0) * sd)


def screen_pick(ranked: list[dict], margin: float) -> dict | None:
    """The candidate to run: the lowest forward-model eps_rdf of :func:`screen`, but the
    network's answer when it is covered and no more than ``margin`` above that."""
    scored = [p for p in ranked if p["eps_rdf_map"] is not None]
    if not scored:
        return None
    net = next((p for p in scored if p["name"] == "network"), None)
    if net is not None and net["eps_rdf_map"] - scored[0]["eps_rdf_map"] <= margin:
        return net
    return scored[0]


def screen_check(target: Target, forward, e: CGEvaluation, z_max: float = SCREEN_Z_MAX) -> dict:
    """Whether a CG run measured the eps_rdf the forward model predicted for it.

    z = (eps_rdf measured - predicted) / spread of the prediction
    (:meth:`deepilst.maps.core.RDFScorer.predict_run`); the run passes when z <= ``z_max``
    (a run better than predicted passes)."""
    from deepilst.maps.core import RDFScorer

    p = RDFScorer(target, forward).predict_run(e.params.c12, e.params.c6, e.result.g_err)
    z = (e.eps_rdf.mean - p["predicted"]) / p["predicted_sd"]
    return {"eps_rdf": e.eps_rdf.mean, "eps_rdf_sem": e.eps_rdf.sem,
            "eps_rdf_predicted": p["predicted"], "predicted_sd": p["predicted_sd"],
            "eps_rdf_map": p["map"], "z": float(z), "z_max": float(z_max),
            "passed": bool(z <= z_max)}
