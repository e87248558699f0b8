"""Pooling independent runs (replicas) of the same state into one simulation record."""

from __future__ import annotations

import json

import numpy as np

from deepilst.results import decode_array

_PHASE_RANK = {"fluid": 0, "two-phase": 1, "solid": 2}
#: record entries {"mean", "sem"} averaged over replicas (both spellings of older records)
_POOLED_MEANS = ("U", "P", "energy", "pressure", "energy_frames", "pressure_frames",
                 "temperature_measured")


def _state_key(rec: dict) -> str:
    s = rec["spec"]
    return json.dumps([float(s["temperature"]), float(s["density"]), float(s["c12"]),
                       float(s["c6"]), rec["engine"], s["protocol"]], sort_keys=True)


def _pool_mean(values: list, sems: list, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean of independent estimates and its standard error."""
    v = np.array([decode_array(np.atleast_1d(x)) for x in values])
    e = np.array([np.nan_to_num(decode_array(np.atleast_1d(x))) for x in sems])
    ww = w[:, None] * np.isfinite(v)
    tot = ww.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(tot > 0, np.sum(ww * np.nan_to_num(v), axis=0) / tot, np.nan)
        sem = np.where(tot > 0, np.sqrt(np.sum((ww * e) ** 2, axis=0)) / tot, np.nan)
    return mean, sem


def pool_replicas(recs: list[dict]) -> list[dict]:
    """Records of the same state (T, rho, C12, C6, engine and protocol; seeds differ) pooled
    into one (runs of one state by two engines stay apart: they are how engines are compared).

    g, the fine histogram, energy, pressure and temperature are averaged with the production
    frames as weights and their standard errors combined as independent; a state is fluid only
    if every replica is (else the worst label: solid > two-phase); CPU time, wall time and atom
    steps add up. Each returned record carries ``replicas`` (1 where nothing was pooled) and the
    order of first appearance is kept; pooled records list ``replica_keys`` and
    ``replica_seeds``.
    """
    groups: dict[str, list[dict]] = {}
    for x in recs:
        groups.setdefault(_state_key(x), []).append(x)
    out = []
    for grp in groups.values():
        x = dict(grp[0])
        x["replicas"] = len(grp)
        if len(grp) > 1:
            w = np.array([float(y["n_frames"]) for y in grp])
            x["g"], x["g_err"] = (a.tolist() for a in _pool_mean(
                [y["g"] for y in grp], [y["g_err"] for y in grp], w))
            m = min(len(y["fine"]["g"]) for y in grp)
            fg, fe = _pool_mean([y["fine"]["g"][:m] for y in grp],
                                [y["fine"]["g_err"][:m] for y in grp], w)
            x["fine"] = {**grp[0]["fine"], "g": fg.tolist(), "g_err": fe.tolist()}
            for k in (k for k in _POOLED_MEANS if k in grp[0]):
                mean, sem = _pool_mean([y[k]["mean"] for y in grp], [y[k]["sem"] for y in grp], w)
                x[k] = {**grp[0][k], "mean": float(mean[0]), "sem": float(sem[0])}
            labels = [y["phase"]["label"] for y in grp]
            x["phase"] = {"label": max(labels, key=lambda lab: _PHASE_RANK.get(lab, 3)),
                          "solid_fraction": max(y["phase"]["solid_fraction"] for y in grp),
                          "dispersion_index": max(y["phase"]["dispersion_index"] for y in grp),
                          "replica_labels": labels}
            x["equilibration"] = {**grp[0]["equilibration"],
                                  "passed": all(y["equilibration"]["passed"] for y in grp)}
            for k in ("wall_s", "cpu_s", "atom_steps", "n_frames", "n_prod_steps"):
                x[k] = sum(y[k] for y in grp)
            x["replica_keys"] = [y["key"] for y in grp]
            x["replica_seeds"] = [int(y["seed_used"]) for y in grp]
        out.append(x)
    return out
