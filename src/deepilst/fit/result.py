"""What every CG fitting method returns: the same fields, measured the same way."""

from __future__ import annotations

from dataclasses import dataclass, field

from deepilst.fit.cgmd import CGEvaluation, basin
from deepilst.results import UNITS


@dataclass
class FitResult:
    """Outcome of one CG parametrisation against a target.

    Attributes
    ----------
    method : "network", "network+re", "re", "simplex", "ibi", "votca-simplex", "votca-re"
    C12, C6 : final LJ parameters, kJ mol^-1 nm^12 and kJ mol^-1 nm^6 (NaN for IBI's table)
    final : the validation CG run of the final parameters, scored against the target (eps_rdf
        with its standard error, RE gradient with its error, P, U)
    md_runs : CG simulations the method itself ran (the validation run not included)
    wall_s : wall time from start to parameters, s (the validation run not included)
    iterations : iterations of the method
    converged : whether its own stopping test passed
    start : where it started (C12, C6), or None
    history : per-iteration JSON-ready rows
    notes : anything a user should know (e.g. steps that were limited)
    """

    method: str
    C12: float
    C6: float
    final: CGEvaluation | None
    md_runs: int
    wall_s: float
    iterations: int = 0
    converged: bool = False
    start: tuple[float, float] | None = None
    history: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    @property
    def basin(self) -> str:
        """"soft" or "physical" (see :func:`deepilst.fit.cgmd.basin`)."""
        if self.final is None:
            return "unknown"
        return basin(self.final.result.T_reduced)

    def to_json(self) -> dict:
        """JSON-ready summary (eps_rdf as a fraction)."""
        d = {"method": self.method, "C12": self.C12, "C6": self.C6, "md_runs": self.md_runs,
             "wall_s": self.wall_s, "iterations": self.iterations, "converged": self.converged,
             "start": None if self.start is None else {"C12": self.start[0], "C6": self.start[1]},
             "basin": self.basin, "notes": self.notes, "history": self.history,
             "units": UNITS, **self.extra}
        if self.final is not None:
            f = self.final.to_json()
            d.update({k: f[k] for k in ("sigma", "epsilon", "T_reduced", "rho_reduced", "eps_rdf",
                                        "eps_rdf_sem", "eps_rdf_floor", "P", "P_sem", "U",
                                        "U_sem", "gradient", "gradient_err")})
        return d
