"""One entry point for the CG baselines ``deepilst baseline`` runs: VOTCA-CSG's simplex and
relative entropy as users run them, and our own relative entropy, simplex and IBI; every one
returns a :class:`~deepilst.fit.result.FitResult` scored by the same evaluator."""

from __future__ import annotations

import inspect
from pathlib import Path

from deepilst.errors import ParameterError
from deepilst.fit.cgmd import CGEvaluator, CGProtocol
from deepilst.fit.result import FitResult
from deepilst.fit.target import Target
from deepilst.units import check_positive

#: method name -> (module, function) of the fit it runs
BASELINES = {"votca-simplex": ("deepilst.fit.votca", "votca_fit"),
             "votca-re": ("deepilst.fit.votca", "votca_fit"),
             "re": ("deepilst.fit.relent", "relative_entropy"),
             "simplex": ("deepilst.fit.simplex", "simplex"),
             "ibi": ("deepilst.fit.ibi", "ibi")}
#: the names the iteration limit goes by in the fits' signatures
_ITER_NAMES = ("iterations", "max_iter", "max_runs", "max_iterations")


def baseline_function(method: str):
    """The fit function of ``method`` (imported when asked for: VOTCA's driver and the
    tabulated engine are not loaded for the others)."""
    import importlib

    module, name = BASELINES[method]
    return getattr(importlib.import_module(module), name)


def run_baseline(method: str, target: Target, start: tuple[float, float],
                 work_dir: str | Path | None = None, iterations: int | None = None,
                 protocol: CGProtocol | None = None, seed: int = 1, **opts) -> FitResult:
    """Fit one LJ bead to ``target`` with a baseline method and score it with our protocol.

    Parameters
    ----------
    method : one of :data:`BASELINES` ("votca-simplex", "votca-re", "re", "simplex", "ibi")
    target : the g(r) to reproduce, at its (T [K], rho [nm^-3]), bead mass [amu]
    start : (C12 [kJ mol^-1 nm^12], C6 [kJ mol^-1 nm^6])
    work_dir : VOTCA's directory (VOTCA methods only; must be empty or absent)
    iterations : the method's iteration limit (default: the method's own)
    protocol : our CG run protocol (the validation run, and every run of our own methods)
    seed : first seed of our CG runs
    **opts : passed to the method (for VOTCA: fields of :class:`deepilst.fit.votca.VotcaOptions`)

    Returns
    -------
    FitResult (C12, C6, final validation run with eps_rdf, md_runs, wall_s, iterations,
    converged, history, notes)
    """
    if method not in BASELINES:
        raise ParameterError(f"method must be one of {', '.join(BASELINES)}, got {method!r}")
    start = (check_positive("start C12", start[0]), check_positive("start C6", start[1]))
    if iterations is not None and (int(iterations) != iterations or iterations < 1):
        raise ParameterError(f"iterations must be a positive integer, got {iterations}")
    ev = CGEvaluator(target, protocol or CGProtocol(), seed=seed)
    fn = baseline_function(method)
    if method.startswith("votca-"):
        if work_dir is None:
            raise ParameterError(f"{method} needs a work directory (work_dir) for VOTCA's files")
        opts.setdefault("seed", seed)  # VOTCA's velocities and lattice
        return fn(ev, method.split("-", 1)[1], start, work_dir, iterations, **opts)
    kw = dict(opts)
    if iterations is not None:
        names = [n for n in _ITER_NAMES if n in inspect.signature(fn).parameters]
        if not names:
            raise ParameterError(f"method {method!r} takes no iteration limit")
        kw[names[0]] = int(iterations)
    return fn(ev, start=start, **kw)
