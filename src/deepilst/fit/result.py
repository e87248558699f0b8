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
    extra : method-specific fields; ``boundary`` when relative entropy ended on C6 = 0 (the
        pure repulsion C12 r^-12 cut at its ``rc`` [nm]; :mod:`deepilst.fit.relent`)
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
        if "boundary" in self.extra:
            return "soft"
        if self.final is None:  # not run: the basin of the parameters, where known
            t = self.extra.get("T_reduced")
            return "unknown" if t is None else basin(float(t))
        return basin(self.final.result.T_reduced)

    def shape_text(self) -> str:
        """One line on the pair potential's shape: sigma, epsilon, T* and basin, or, on the
        boundary C6 = 0, the pure repulsion and its cutoff."""
        b = self.extra.get("boundary")
        if b:
            return (f"no well: the pure repulsion C12 r^-12, cut at {b['rc']:.4g} nm (u = 0 "
                    "beyond, no shift); relative entropy is lowest at C6 = 0 for this target")
        if self.final is None:
            return "not run"
        e = self.final
        return (f"sigma = {e.params.sigma:.4f} nm, epsilon = {e.params.epsilon:.4f} kJ/mol, "
                f"T* = {e.T_reduced:.3g} ({self.basin} basin)")

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
                                        "U_sem", "gradient", "gradient_err", "n_particles")})
            if "boundary" in self.extra:  # C6 = 0: no well, no sigma; T* is unbounded
                d.update(sigma=None, epsilon=0.0, T_reduced=None, rho_reduced=None)
        return d
