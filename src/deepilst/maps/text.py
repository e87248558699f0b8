"""A few lines of text for ``deepilst maps``."""

from __future__ import annotations

from pathlib import Path


def _line(name: str, m: dict | None, unit: str, scale: float = 1.0) -> str:
    if not m:
        return f"{name:<16} none in the mesh's domain"
    s = (f"{name:<16} C12 = {m['C12']:.4e}  C6 = {m['C6']:.4e}  T* = {m['T_reduced']:.3g} "
         f"({m['basin']})  value = {scale * m['value']:.4g} {unit}")
    if m.get("local") is False:
        s += "  [not a minimum of its own: on the basin's or the mesh's edge]"
    if m.get("C12_std") is not None:
        s += f"  (target noise: C12 +- {m['C12_std']:.2e}, C6 +- {m['C6_std']:.2e})"
    return s


def format_text(doc: dict, out: str | Path) -> str:
    """Human-readable summary of a map document (:meth:`deepilst.maps.ErrorMaps.to_json`)."""
    g = doc["grid"]
    lines = [f"target {doc['target']}: T = {doc['T']:g} K, rho = {doc['rho']:g} nm^-3; "
             f"{g['n_C12']} x {g['n_C6']} {g['scale']} mesh, C12 {g['C12_range'][0]:.3e}-"
             f"{g['C12_range'][1]:.3e}, C6 {g['C6_range'][0]:.3e}-{g['C6_range'][1]:.3e}"]
    for b, m in (doc.get("rdf_minima") or {}).items():
        lines.append(_line(f"eps_rdf {b}", m, "%", 100.0))
    lines.append(_line("eps_KL minimum", doc.get("kl_min"), "kT/particle"))
    n = doc.get("network")
    if n:
        rdf = "n/a" if n["eps_rdf"] is None else f"{100 * n['eps_rdf']:.3f} %"
        kl = "n/a" if n["eps_KL"] is None else f"{n['eps_KL']:.4g} kT/particle"
        lines.append(f"{'network':<16} C12 = {n['C12']:.4e}  C6 = {n['C6']:.4e}  T* = "
                     f"{n['T_reduced']:.3g} ({n['basin']})  eps_rdf = {rdf}  eps_KL = {kl}")
    d = doc["domain"]
    fr = [f"{k.split('_covered')[0]} {100 * v:.0f} %" for k, v in d.items() if v is not None]
    lines.append("mesh inside the domain: " + ", ".join(fr))
    lines.append(f"time: {doc['timing'].get('total_s', float('nan')):.2f} s; files in {out}: "
                 + ", ".join(doc.get("files", {}).values()))
    return "\n".join(lines)
