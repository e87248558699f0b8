"""``deepilst cg``: a single-bead LJ model of a molecular liquid from its centre-of-mass g(r).

The network answers in one shot. Because molecular COM RDFs can have two eps_rdf basins (see
:mod:`deepilst.cg.basins`) and the network, trained on LJ fluids, may answer in the wrong one,
the forward model's eps_rdf map (:mod:`deepilst.maps`, no MD) proposes the lowest point of each
basin, and the network's answer and those minima are ranked by the forward model's eps_rdf
(:mod:`deepilst.cg.screen`, no MD). One CG run (eps_rdf, eq. 7, pressure, energy) checks the best, or the
network's answer unless a minimum is lower by more than two runs could tell apart
(:func:`screen_pick`, :func:`screen_margin`). When it measures the eps_rdf the forward model
predicted for it (:func:`screen_check`), that is the answer, unless the forward model could
not judge the network's answer (outside its domain): then that is run too. Otherwise, or where
the forward model ranks nothing, every candidate is run and the best kept (the network's
unless another is lower by more than two standard errors); where the forward model proposes no
minimum in a basin, two CG runs search it instead. With
``refine="re"`` relative entropy starts from the minimum of the eps_KL map (its own objective,
located without MD from the target g(r) and the LJ free energy) or, where that map has none,
from the best candidate. Every candidate is reported with its basin; nothing is clipped to
Table 1.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from deepilst.cg.basins import other_basin, rise_position
from deepilst.cg.report import CGReport
from deepilst.cg.screen import screen, screen_check, screen_margin, screen_pick
from deepilst.errors import InputError, ParameterError
from deepilst.fit.cgmd import CGEvaluation, CGEvaluator, CGProtocol, basin
from deepilst.fit.result import FitResult
from deepilst.fit.target import Target
from deepilst.units import ARGON_MASS, check_positive

REFINE_METHODS = ("re",)


def map_starts(target: Target, prediction: dict, n: int = 90, kl: bool = False
               ) -> dict[str, tuple[float, float]]:
    """The forward model's lowest eps_rdf point in each basin, {basin: (C12, C6)}, and with
    ``kl`` the minimum of eps_KL (relative entropy per particle from the target g(r) and the
    LJ free energy, :mod:`deepilst.maps.kl`) under the key "kl".

    An eps_rdf map over the default (C12, C6) range of ``deepilst maps`` (T* 0.8-60, sizes
    around the target's first rise, the network's answer included), ``n`` x ``n`` points, the
    minima polished off the mesh; no MD. Empty where the forward model is not installed or
    covers no part of the map.
    """
    return _landscape(target, prediction, n, kl)[0]


def _landscape(target: Target, prediction: dict, n: int = 90, kl: bool = False):
    """(:func:`map_starts`' dict, the forward model or None)."""
    from deepilst.errors import ModelError
    from deepilst.maps.core import ErrorMaps
    from deepilst.maps.grid import axes, default_ranges
    from deepilst.maps.run import load_forward

    free_energy = None
    if kl:
        from deepilst.freeenergy import LJFreeEnergy

        free_energy = LJFreeEnergy.load()
    try:
        forward = load_forward()
        r12, r6 = default_ranges(target.temperature, rise_position(target.r, target.g),
                                 (prediction["C12"], prediction["C6"]))
        c12, c6 = axes(r12, r6, n, "log")
        maps = ErrorMaps(target, c12, c6, forward, free_energy, network=prediction,
                         kl_draws=0).compute()
    except (ModelError, ValueError):
        return {}, None
    out = {b: (m["C12"], m["C6"]) for b, m in sorted(maps.rdf_minima.items()) if m is not None}
    if kl and maps.kl_min is not None:
        out["kl"] = (maps.kl_min["C12"], maps.kl_min["C6"])
    return out, forward


def _lj_misfit(path, temperature: float, density: float, model) -> float | None:
    """chi2 per point of the best LJ g(r) (the likelihood fit, ``predict --method fit``) against
    the input: about 1 for an LJ fluid; a molecular COM g(r) gives tens. None where the
    forward model cannot say."""
    from deepilst.errors import DeepILSTError
    from deepilst.predict import predict_file

    try:
        d = predict_file(path, temperature, density, model=model, thermo=False, method="fit")
    except (DeepILSTError, ValueError, ImportError):
        return None
    v = d.get("chi2_per_point")
    return None if v is None or not math.isfinite(v) else float(v)


def _try_run(ev: CGEvaluator, c12: float, c6: float) -> tuple[CGEvaluation | None, str]:
    """A CG run, or (None, why) for a model that cannot be run here (e.g. a bead whose cutoff
    exceeds half the box) or whose run failed."""
    from deepilst.errors import SimulationError

    try:
        return ev.run(c12, c6), ""
    except (ParameterError, SimulationError) as exc:
        return None, str(exc).splitlines()[0][:200]


def _better(a: CGEvaluation, b: CGEvaluation) -> bool:
    """True when ``b`` has a lower eps_rdf than ``a`` by more than two combined errors."""
    d = a.eps_rdf.mean - b.eps_rdf.mean
    return d > 2.0 * math.hypot(a.eps_rdf.sem, b.eps_rdf.sem)


def coarse_grain(path: str | Path, temperature: float, density: float, mass: float = ARGON_MASS,
                 refine: str | None = None, basin_check: bool = True, screen_first: bool = True,
                 protocol: CGProtocol | None = None, model=None, seed: int = 1,
                 target_P: float | None = None, target_P_sem: float | None = None,
                 re_options: dict | None = None) -> CGReport:
    """Parametrise one LJ bead per molecule to reproduce the g(r) in ``path``.

    Parameters
    ----------
    path : COM g(r) file (e.g. from ``deepilst com-rdf`` or ``gmx rdf -selrpos mol_com``)
    temperature : K
    density : molecules per nm^3
    mass : bead mass (the molecule's), amu; it does not change the structure
    refine : None or "re" (relative entropy from the eps_KL map minimum, else the best start)
    basin_check : also consider the forward model's eps_rdf minimum of each basin (and, where
        it has none, a CG search in the other basin); False: the network's answer alone
    screen_first : with ``basin_check``, rank the network's answer and the map minima by the
        forward model's eps_rdf (no MD) and run only the best (the network's answer unless a
        minimum is lower by more than :func:`screen_margin`); the others are run only when
        that run's eps_rdf is worse than predicted (:func:`screen_check`) or the forward model
        ranks nothing; the network's answer is also run where the forward model cannot judge
        it. False: run every candidate (up to three runs)
    protocol : CG run protocol (beads, equilibration, production, engine)
    target_P, target_P_sem : the all-atom pressure and its error, bar, shown beside the CG's

    Returns
    -------
    CGReport with the network's answer, the screen, the candidates run, the chosen model and
    the bill (md_runs, wall_s)
    """
    from deepilst.predict import load_model, predict_file

    check_positive("temperature", temperature)
    check_positive("density", density)
    check_positive("mass", mass)
    if refine is not None and refine not in REFINE_METHODS:
        raise ParameterError(f"refine must be one of {', '.join(REFINE_METHODS)}, got {refine!r}")
    protocol = protocol or CGProtocol()
    t0 = time.perf_counter()
    model = model if model is not None else load_model()
    pred = predict_file(path, temperature, density, model=model, thermo=False,
                        prod_ps=None, n_particles=protocol.n_particles)
    t_net = time.perf_counter() - t0
    pred["lj_chi2_per_point"] = _lj_misfit(path, temperature, density, model)
    target = Target.from_file(path, temperature, density, mass)
    if target_P is not None:
        target = Target(target.r, target.g, target.g_err, temperature, density, mass, target.name,
                        float(target_P), float("nan") if target_P_sem is None else target_P_sem,
                        source=target.source)
    ev = CGEvaluator(target, protocol, seed=seed)
    starts, forward = (_landscape(target, pred, kl=refine == "re") if basin_check or refine
                       else ({}, None))
    ranked = (screen(target, forward, pred, starts)
              if basin_check and forward is not None and any(b in starts for b in
                                                             ("physical", "soft")) else [])
    candidates: list[tuple[str, CGEvaluation]] = []
    net_eval, why, check = None, "", None
    margin, first = None, None
    net_screen = next((p for p in ranked if p["name"] == "network"), None)
    net_unjudged = net_screen is not None and net_screen["eps_rdf_map"] is None
    if screen_first and ranked:
        if net_screen is not None and not net_unjudged:
            margin = screen_margin(target, forward, net_screen["C12"], net_screen["C6"])
        first = screen_pick(ranked, margin or 0.0)
    if first is not None:
        e, why_first = _try_run(ev, first["C12"], first["C6"])
        if e is not None:
            candidates.append((first["name"], e))
            check = screen_check(target, forward, e)
            if first["name"] == "network":
                net_eval = e
        else:
            check = {"passed": False, "failed": why_first}
    screened = check is not None and check["passed"]
    # the network's answer is run (first among the candidates) unless the screen judged it and
    # its pick ran as predicted; an answer the forward model cannot judge (outside its domain)
    # is kept unless the screened model is better by more than two standard errors
    if net_eval is None and (not screened or net_unjudged):
        net_eval, why = _try_run(ev, pred["C12"], pred["C6"])
        if net_eval is not None:
            candidates.insert(0, ("network", net_eval))
    if not screened and basin_check:  # every candidate by MD
        for which, (c12, c6) in starts.items():
            if which == "kl":
                continue
            if any(abs(math.log(c12 / e.params.c12)) < 0.01 and
                   abs(math.log(c6 / e.params.c6)) < 0.01 for _, e in candidates):
                continue  # (nearly) a point already run
            e, _ = _try_run(ev, c12, c6)
            if e is not None:
                candidates.append((f"map minimum ({which})", e))
        if net_eval is not None and (basin(net_eval.T_reduced) == "physical" and "soft" not in
                                     starts or (basin(net_eval.T_reduced) == "soft"
                                                and "physical" not in starts)):
            which, runs = other_basin(ev, net_eval)
            candidates += [(f"{which} start {i + 1}", e) for i, e in enumerate(runs)]
    net_extra = {"T_reduced": pred["T_reduced"], "C12_std": pred["C12_std"], "C6_std": pred["C6_std"],
                 "in_domain": pred["in_domain"], "warnings": pred["warnings"]}
    if net_screen is not None:
        net_extra["eps_rdf_map"] = net_screen["eps_rdf_map"]
    if why:
        net_extra["failed"] = why
        pred["warnings"] = [*pred["warnings"], f"the network's answer cannot be run as a CG "
                            f"model ({why}); the forward model's proposals are used instead"]
    elif net_eval is None and screened:
        net_extra["not_run"] = (f"the forward model's screen put {first['name']} lower by more "
                                f"than its margin ({100 * (margin or 0.0):.3f} %)")
    network = FitResult("network", pred["C12"], pred["C6"], net_eval, md_runs=0, wall_s=t_net,
                        iterations=1, converged=net_eval is not None, extra=net_extra)
    if not candidates and refine == "re" and "kl" in starts:
        e, _ = _try_run(ev, *starts["kl"])  # relative entropy's own start, run once here
        if e is not None:
            candidates.append(("eps_KL map minimum", e))
    if not candidates:
        raise InputError(f"{path}: no single LJ bead to offer: the network's answer (T* = "
                         f"{pred['T_reduced']:.3g}, rho* = {pred['rho_reduced']:.3g}) cannot be run "
                         f"({why}) and " + ("the forward model proposes no model for this "
                                            "g(r); " if basin_check else "no other start was "
                                            "asked for (basin check off); ") +
                         "check T, the density (molecules per nm^3) and that the file is a "
                         "centre-of-mass g(r) of a liquid")
    best_name, best = candidates[0]
    for name, e in candidates[1:]:
        if _better(best, e):
            best_name, best = name, e
    method = ("network" if not basin_check else
              "network+screen" if screened else "network+basin-check")
    chosen = FitResult(method, best.params.c12, best.params.c6, best, md_runs=ev.md_runs,
                       wall_s=time.perf_counter() - t0,
                       iterations=len(candidates), converged=True,
                       start=(pred["C12"], pred["C6"]),
                       extra={"from": best_name, "screen": ranked, "screen_margin": margin,
                              "screen_pick": None if first is None else first["name"],
                              "screen_check": check})
    refined = None
    if refine == "re":
        from deepilst.fit.relent import relative_entropy

        wall_before = ev.md_wall_s
        t1 = time.perf_counter()
        # relative entropy's own minimum, located on the eps_KL map (no MD), is the start; it
        # lies where eps_rdf's need not (molecular COM RDFs: often the other basin)
        start, start_name = (starts["kl"], "eps_KL map minimum") if "kl" in starts else (
            (best.params.c12, best.params.c6), best_name)
        refined = relative_entropy(ev, start=start, **(re_options or {}))
        refined.method = "network+re"
        refined.extra["md_runs_total"] = ev.md_runs
        refined.extra["from"] = start_name
        refined.extra["refine_wall_s"] = time.perf_counter() - t1
        refined.extra["md_wall_s"] = ev.md_wall_s - wall_before
    return CGReport(target=target, prediction=pred, network=network, candidates=candidates,
                    chosen=chosen, refined=refined, md_runs=ev.md_runs,
                    wall_s=time.perf_counter() - t0, n_particles=protocol.n_particles)
