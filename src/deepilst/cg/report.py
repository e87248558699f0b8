"""What ``deepilst cg`` found: the network's answer, the candidates, the chosen model, the bill."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deepilst.fit.cgmd import CGEvaluation, basin
from deepilst.fit.result import FitResult
from deepilst.fit.target import Target
from deepilst.results import UNITS
from deepilst.units import cutoff_text


@dataclass
class CGReport:
    """Result of :func:`deepilst.cg.coarse_grain`.

    Attributes
    ----------
    target : the COM g(r) and its state
    prediction : the network's prediction (``deepilst predict`` JSON)
    network : the network's one-shot answer, with its CG run where it was run
    candidates : (name, CG evaluation) of every model run (the screened one first, else the
        network's)
    chosen : the model kept from the candidates
    refined : the relative-entropy refinement from ``chosen`` (or None)
    md_runs : CG runs in all (validation runs included)
    wall_s : wall time in all, s
    n_particles : the protocol's beads (a run whose cutoff needed a larger box says so)
    """

    target: Target
    prediction: dict
    network: FitResult
    candidates: list[tuple[str, CGEvaluation]]
    chosen: FitResult
    refined: FitResult | None
    md_runs: int
    wall_s: float
    n_particles: int = 1000

    def _box(self, e: CGEvaluation) -> str:
        return "" if e.n_particles == self.n_particles else (
            f"  [{e.n_particles} beads: box grown to hold its cutoff]")

    @property
    def final(self) -> FitResult:
        """The model recommended: the refinement if run, else the chosen candidate."""
        return self.refined if self.refined is not None else self.chosen

    def to_json(self) -> dict:
        f = self.final
        d = {"C12": f.C12, "C6": f.C6, **{k: v for k, v in f.to_json().items() if k in (
            "sigma", "epsilon", "T_reduced", "rho_reduced", "eps_rdf", "eps_rdf_sem",
            "eps_rdf_floor", "P", "P_sem", "U", "U_sem", "basin")},
             "method": f.method, "md_runs": self.md_runs, "wall_s": self.wall_s,
             "target": self.target.to_json(),
             "network": self.network.to_json(),
             "candidates": [dict(name=n, **e.to_json(), basin=basin(e.T_reduced))
                            for n, e in self.candidates],
             "chosen": self.chosen.to_json(),
             "refined": None if self.refined is None else self.refined.to_json(),
             "lj_chi2_per_point": self.prediction.get("lj_chi2_per_point"),
             "warnings": self.prediction.get("warnings", []),
             "cutoff_convention": cutoff_text(self.prediction.get("rc_sigma", 3.0)),
             "units": UNITS}
        for k in ("history",):
            d["network"].pop(k, None)
            d["chosen"].pop(k, None)
        return d

    def format_text(self) -> str:
        t, f = self.target, self.final
        lines = [f"target {t.name}: T = {t.temperature:g} K, rho = {t.density:g} nm^-3, "
                 f"bead mass {t.mass:g} amu"]
        n = self.network
        if n.final is None:
            fm = n.extra.get("eps_rdf_map")
            fm = "" if fm is None else f", forward-model eps_rdf {100 * fm:.3f} %"
            lines.append(f"network      C12 = {n.C12:.4e}  C6 = {n.C6:.4e}  T* = "
                         f"{n.extra.get('T_reduced', float('nan')):.3g} ({n.basin})  not run: "
                         f"{n.extra.get('failed') or n.extra.get('not_run', '')}{fm}")
        else:
            lines.append(f"network      C12 = {n.C12:.4e}  C6 = {n.C6:.4e}  T* = "
                         f"{n.final.T_reduced:.3g} ({n.basin})  eps_rdf = "
                         f"{100 * n.final.eps_rdf.mean:.3f} +- {100 * n.final.eps_rdf.sem:.3f} %"
                         + self._box(n.final))
        for name, e in self.candidates[1 if n.final is not None else 0:]:
            lines.append(f"{name:<12} C12 = {e.params.c12:.4e}  C6 = {e.params.c6:.4e}  T* = "
                         f"{e.T_reduced:.3g} ({basin(e.T_reduced)})  eps_rdf = "
                         f"{100 * e.eps_rdf.mean:.3f} +- {100 * e.eps_rdf.sem:.3f} %"
                         + self._box(e))
        lines += self._screen_lines()
        if self.refined is not None:
            r = self.refined
            lines.append(f"relative entropy from {r.extra.get('from')}: {r.iterations} iterations, "
                         f"converged {r.converged}")
        e = f.final
        lines += [f"final ({f.method}): C12 = {f.C12:.5e} kJ mol^-1 nm^12, C6 = {f.C6:.5e} "
                  f"kJ mol^-1 nm^6", "  " + f.shape_text(),
                  f"  eps_rdf = {100 * e.eps_rdf.mean:.3f} +- {100 * e.eps_rdf.sem:.3f} % "
                  f"(noise floor {100 * e.eps_rdf_floor:.3f} %)",
                  f"  CG pressure {e.result.P:.1f} bar, energy {e.result.U:.3f} kJ/mol per bead"]
        if t.P == t.P:
            err = f" +- {t.P_sem:.1f}" if t.P_sem == t.P_sem else ""
            lines.append(f"  all-atom pressure {t.P:.1f}{err} bar")
        lines.append(f"{self.md_runs} CG runs, {self.wall_s:.1f} s in all; "
                     f"{cutoff_text(self.prediction.get('rc_sigma', 3.0))}")
        chi2 = self.prediction.get("lj_chi2_per_point")
        if chi2 is not None:
            lines.append(f"best LJ g(r) vs the input: chi2/point = {chi2:.3g} (about 1 for an LJ "
                         "fluid; a single bead cannot be exact for a molecular liquid, and the "
                         "network's intervals do not describe this misfit: eps_rdf does)")
        lines += [f"warning: {w}" for w in self.prediction.get("warnings", [])]
        return "\n".join(lines)

    def _screen_lines(self) -> list[str]:
        ranked, check = self.chosen.extra.get("screen"), self.chosen.extra.get("screen_check")
        if not ranked:
            return []
        out = ["screen (forward model, no MD): " + ", ".join(
            f"{p['name']} {100 * p['eps_rdf_map']:.3f} %" if p["eps_rdf_map"] is not None
            else f"{p['name']} outside its domain" for p in ranked)]
        pick, margin = self.chosen.extra.get("screen_pick"), self.chosen.extra.get("screen_margin")
        if pick:
            out.append(f"  run first: {pick}" + ("" if margin is None else
                       f" (the network's answer unless a minimum is lower by more than "
                       f"{100 * margin:.3f} %)"))
        if check and "z" in check:
            verdict = ("worse than predicted: every candidate run" if not check["passed"] else
                       "as predicted; the network's answer, which the forward model cannot "
                       "judge, run too" if len(self.candidates) > 1 else
                       "as predicted: no other run needed")
            out.append(f"  screened run: eps_rdf {100 * check['eps_rdf']:.3f} % "
                       f"against {100 * check['eps_rdf_predicted']:.3f} +- "
                       f"{100 * check['predicted_sd']:.3f} % predicted (z = {check['z']:.2f}), "
                       + verdict)
        elif check:
            out.append(f"  screened model could not be run ({check.get('failed')}): every "
                       "candidate run")
        return out

    def plot(self, ax=None):
        """The paper's Figure 4 for this target: COM g(r) and the CG models' g(r)."""
        from deepilst.plots import draw_overlay

        curves = [] if self.network.final is None else [("network", self.network.final.result.g)]
        if self.chosen.final is not self.network.final:
            curves.append((f"{self.chosen.extra.get('from')}", self.chosen.final.result.g))
        if self.refined is not None and self.refined.final is not None:
            curves.append(("network -> relative entropy", self.refined.final.result.g))
        return draw_overlay(self.target.r, self.target.g, curves, ax=ax,
                            title=f"{self.target.name}: T = {self.target.temperature:g} K, "
                                  f"rho = {self.target.density:g} nm$^{{-3}}$")

    def save_plot(self, path: str | Path) -> Path:
        from deepilst.plots import save_figure

        ax = self.plot()
        ax.figure.tight_layout()
        return save_figure(ax.figure, path)
