"""Consolidate run records into one HDF5 dataset; corresponding-states expansion; export.

HDF5 layout (schema version in ``attrs["schema_version"]``; units in each dataset's
``attrs["units"]``)::

    /sims/<field>       one row per simulation: T, rho, C12, C6, sigma, epsilon, T_star,
                        rho_star, g (n, 301), g_err, fine_g (n, n_fine; NaN-padded),
                        fine_g_err, energy, energy_sem, pressure, pressure_sem, phase,
                        replicas (independent runs pooled into the row), ...
    /r                  the model grid, nm
    /fine_dr            width of the fine histogram bins, nm
    /samples/<field>    physical samples: sim (row of /sims), T, rho, C12, C6 (reduced design:
                        ``expand`` samples per simulation by corresponding states; otherwise
                        one per simulation)
    attrs: design, n_simulations, n_samples, provenance (JSON), cutoff_convention, ...
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepilst import __version__
from deepilst.errors import DatasetError
from deepilst.fileio import write_with
from deepilst.rdf import centered_edges, model_grid, rebin
from deepilst.sampling import physical_candidates
from deepilst.units import KB, sigma_epsilon

SCHEMA_VERSION = 1
_SCALARS = {
    "T": ("spec.temperature", "K"), "rho": ("spec.density", "nm^-3"),
    "C12": ("spec.c12", "kJ mol^-1 nm^12"), "C6": ("spec.c6", "kJ mol^-1 nm^6"),
    "sigma": ("sigma", "nm"), "epsilon": ("epsilon", "kJ/mol"), "T_star": ("T_star", "1"),
    "rho_star": ("rho_star", "1"), "box_length": ("box_length", "nm"), "rc": ("rc", "nm"),
    "dt": ("dt", "ps"), "n_particles": ("spec.protocol.n_particles", "1"),
    "energy": ("energy.mean", "kJ/mol per particle"), "energy_sem": ("energy.sem", "kJ/mol"),
    "pressure": ("pressure.mean", "bar"), "pressure_sem": ("pressure.sem", "bar"),
    "T_measured": ("temperature_measured.mean", "K"),
    "solid_fraction": ("phase.solid_fraction", "1"),
    "dispersion_index": ("phase.dispersion_index", "1"),
    "equilibrated": ("equilibration.passed", "bool"), "seed": ("seed_used", "1"),
    "wall_s": ("wall_s", "s"), "cpu_s": ("cpu_s", "s"), "atom_steps": ("atom_steps", "1"),
    "replicas": ("replicas", "1"),
}


def _get(rec: dict, dotted: str):
    v = rec
    for part in dotted.split("."):
        v = v[part]
    return v


def _arr(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def load_records(run_dir: str | Path) -> list[dict]:
    """All records of a run directory (``systems/*.json``), sorted by design index then key."""
    d = Path(run_dir)
    files = sorted((d / "systems").glob("*.json")) if (d / "systems").is_dir() else []
    if not files:
        raise DatasetError(f"{d}: no finished systems (expected {d}/systems/*.json)")
    recs = []
    for f in files:
        try:
            recs.append(json.loads(f.read_text()))
        except ValueError as exc:
            raise DatasetError(f"{f}: not a valid record ({exc})") from None

    def order(r):
        t = r["spec"].get("tags", {})
        return (t.get("design", ""), int(t.get("index", 0)), r["key"])

    return sorted(recs, key=order)


# ---- corresponding states -------------------------------------------------------------------
def expand_g(fine_g: np.ndarray, fine_dr: float, sigma_sim: float, sigma_new: float,
             r: np.ndarray | None = None, fine_g_err: np.ndarray | None = None):
    """g(r) of a physical state with length scale ``sigma_new`` from a simulation at the same
    (T*, rho*) with ``sigma_sim`` (law of corresponding states: g(r) = g*(r / sigma)).

    The fine histogram (bins of ``fine_dr`` nm from 0) is rebinned exactly onto the model grid
    ``r`` (default 0..1.5 nm, 0.005 nm) scaled into the simulation's length units. Returns
    (g, g_err); NaN where the simulated range does not reach.
    """
    r = model_grid() if r is None else np.asarray(r, dtype=float)
    fine_g = np.asarray(fine_g, dtype=float)
    n = int(np.sum(np.isfinite(fine_g)))
    edges_fine = np.arange(n + 1) * fine_dr
    scale = sigma_sim / sigma_new
    new_edges = centered_edges(r) * scale
    err = None if fine_g_err is None else np.nan_to_num(np.asarray(fine_g_err, float)[:n])
    return rebin(edges_fine, fine_g[:n], new_edges, err)


def expansion_states(t_star: float, rho_star: float, k: int, seed: int,
                     sim_state: tuple[float, float, float, float],
                     r_reach_star: float, r_max: float = 1.5) -> np.ndarray:
    """``k`` physical states (rows T, rho, C12, C6) inside Table 1 sharing (T*, rho*): the
    simulated one first, then draws whose model grid (to ``r_max`` nm) stays inside the
    simulated range ``r_reach_star`` (in units of sigma)."""
    rng = np.random.default_rng(seed)
    rows = [np.asarray(sim_state, dtype=float)]
    tries = 0
    while len(rows) < k and tries < 400:
        cand = physical_candidates(t_star, rho_star, 4 * k, rng)
        for c in cand:
            sig = sigma_epsilon(c[2], c[3])[0]
            if (r_max + 0.0025) / sig <= r_reach_star:
                rows.append(c)
                if len(rows) == k:
                    break
        tries += 1
    return np.array(rows)


# ---- replicas -------------------------------------------------------------------------------
_PHASE_RANK = {"fluid": 0, "two-phase": 1, "solid": 2}


def _state_key(rec: dict) -> str:
    s = rec["spec"]
    return json.dumps([float(s["temperature"]), float(s["density"]), float(s["c12"]),
                       float(s["c6"]), rec["engine"], s["protocol"]], sort_keys=True)


def _pool_mean(values: list, sems: list, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean of independent estimates and its standard error."""
    v = np.array([_arr(np.atleast_1d(x)) for x in values])
    e = np.array([np.nan_to_num(_arr(np.atleast_1d(x))) for x in sems])
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
    order of first appearance is kept.
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
            for k in ("energy", "pressure", "energy_frames", "pressure_frames",
                      "temperature_measured"):
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


# ---- build ----------------------------------------------------------------------------------
def build(run_dir: str | Path | list[str | Path], out: str | Path,
          command: str | None = None) -> dict:
    """Consolidate the records of one or more run directories into one HDF5 file ``out``
    (atomic write). Independent runs of the same state, in one directory or across several
    (e.g. a second seed over the same grid), are pooled into one simulation row
    (:func:`pool_replicas`); ``sims/replicas`` counts them."""
    import h5py

    run_dirs = [Path(d) for d in (run_dir if isinstance(run_dir, (list, tuple)) else [run_dir])]
    recs = pool_replicas([x for d in run_dirs for x in load_records(d)])
    designs = sorted({r["spec"].get("tags", {}).get("design", "custom") for r in recs})
    design = designs[0] if len(designs) == 1 else "mixed"
    n = len(recs)
    r = model_grid()
    fine_dr = recs[0]["fine"]["dr"]
    n_fine = max(len(x["fine"]["g"]) for x in recs)
    fine_g = np.full((n, n_fine), np.nan, dtype=np.float32)
    fine_e = np.full((n, n_fine), np.nan, dtype=np.float32)
    for i, x in enumerate(recs):
        m = len(x["fine"]["g"])
        fine_g[i, :m] = _arr(x["fine"]["g"])
        fine_e[i, :m] = _arr(x["fine"]["g_err"])
        if abs(x["fine"]["dr"] - fine_dr) > 1e-12:
            raise DatasetError(f"record {x['key']}: fine dr {x['fine']['dr']} != {fine_dr}")
        if np.max(np.abs(np.asarray(x["r"], float) - r)) > 1e-9:
            raise DatasetError(f"record {x['key']}: r grid differs from the model grid")
    sims = {k: np.array([_get(x, path) for x in recs]) for k, (path, _u) in _SCALARS.items()}
    # physical samples
    s_sim, s_rows = [], []
    for i, x in enumerate(recs):
        tags = x["spec"].get("tags", {})
        k = int(tags.get("expand", 1)) if tags.get("design") == "reduced" else 1
        state = (x["spec"]["temperature"], x["spec"]["density"], x["spec"]["c12"], x["spec"]["c6"])
        if k > 1:
            reach = len(x["fine"]["g"]) * fine_dr / x["sigma"]
            seed = int(hashlib.sha256(x["key"].encode()).hexdigest()[:8], 16)
            rows = expansion_states(x["T_star"], x["rho_star"], k, seed, state, reach)
        else:
            rows = np.array([state])
        s_sim.extend([i] * len(rows))
        s_rows.append(rows)
    s_rows = np.vstack(s_rows)
    prov = {
        "deepilst": __version__, "python": platform.python_version(),
        "command": command or " ".join(sys.argv), "built": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                          time.gmtime()),
        "run_dir": " ".join(str(d) for d in run_dirs),
        "replicas": {str(k): int(v) for k, v in zip(*np.unique([x["replicas"] for x in recs],
                                                              return_counts=True))},
        "engines": sorted({x["engine"] for x in recs}),
        "engine_versions": sorted({f"{x['engine']} {x['versions'].get(x['engine'], '')}"
                                   for x in recs}),
        "protocols": sorted({json.dumps(x["spec"]["protocol"], sort_keys=True) for x in recs}),
        "seeds": [int(x["seed_used"]) for x in recs],
        "wall_s_total": float(np.sum(sims["wall_s"])), "cpu_s_total": float(np.sum(sims["cpu_s"])),
    }
    logs = [d / "runs.jsonl" for d in run_dirs if (d / "runs.jsonl").exists()]
    if logs:
        prov["generate_commands"] = [json.loads(ln).get("command") for f in logs for ln in
                                     f.read_text().splitlines() if ln.strip()]

    def writer(tmp: Path) -> None:
        with h5py.File(tmp, "w") as h:
            h.attrs["schema_version"] = SCHEMA_VERSION
            h.attrs["design"] = design
            h.attrs["n_simulations"] = n
            h.attrs["n_samples"] = len(s_sim)
            h.attrs["cutoff_convention"] = recs[0]["cutoff_convention"]
            h.attrs["rc_sigma"] = float(recs[0]["rc_sigma"])
            h.attrs["provenance"] = json.dumps(prov)
            h.create_dataset("r", data=r).attrs["units"] = "nm"
            h.create_dataset("fine_dr", data=fine_dr).attrs["units"] = "nm"
            g = h.create_group("sims")
            for k, (_p, unit) in _SCALARS.items():
                ds = g.create_dataset(k, data=sims[k].astype(float))
                ds.attrs["units"] = unit
            g.create_dataset("g", data=np.array([_arr(x["g"]) for x in recs]),
                             compression="gzip").attrs["units"] = "1"
            g.create_dataset("g_err", data=np.array([_arr(x["g_err"]) for x in recs]),
                             compression="gzip").attrs["units"] = "1"
            g.create_dataset("fine_g", data=fine_g, compression="gzip", shuffle=True)
            g.create_dataset("fine_g_err", data=fine_e, compression="gzip", shuffle=True)
            for k, f in (("phase", lambda x: x["phase"]["label"]), ("engine", lambda x: x["engine"]),
                         ("key", lambda x: x["key"]),
                         ("design", lambda x: x["spec"].get("tags", {}).get("design", "custom"))):
                g.create_dataset(k, data=np.array([f(x) for x in recs], dtype="S"))
            s = h.create_group("samples")
            s.create_dataset("sim", data=np.array(s_sim, dtype=np.int64))
            for j, k in enumerate(("T", "rho", "C12", "C6")):
                s.create_dataset(k, data=s_rows[:, j]).attrs["units"] = _SCALARS[k][1]

    write_with(out, writer)
    return info(out)


# ---- read -----------------------------------------------------------------------------------
def is_simulated_state(c12: float, c6: float, temperature: float,
                       sim_c12: float, sim_c6: float, sim_temperature: float) -> bool:
    """Whether a physical sample is its source simulation's own state (its g is stored as is;
    any other sample is expanded by corresponding states)."""
    return (abs(c12 - sim_c12) < 1e-15 and abs(c6 - sim_c6) < 1e-15
            and abs(temperature - sim_temperature) < 1e-9)


@dataclass
class Sample:
    temperature: float
    density: float
    c12: float
    c6: float
    r: np.ndarray
    g: np.ndarray
    g_err: np.ndarray
    sim: int
    phase: str


def open_dataset(path: str | Path):
    import h5py

    p = Path(path)
    if not p.exists():
        raise DatasetError(f"{p}: no such file")
    try:
        h = h5py.File(p, "r")
    except OSError:
        raise DatasetError(f"{p}: not an HDF5 dataset") from None
    if h.attrs.get("schema_version") != SCHEMA_VERSION:
        h.close()
        raise DatasetError(f"{p}: schema version {h.attrs.get('schema_version')!r}, "
                           f"expected {SCHEMA_VERSION}")
    return h


def info(path: str | Path) -> dict:
    """Summary of a dataset (design, counts, phase fractions, ranges, provenance)."""
    with open_dataset(path) as h:
        sims = h["sims"]
        phases = [p.decode() for p in sims["phase"][:]]
        n = int(h.attrs["n_simulations"])
        frac = {lab: phases.count(lab) / n for lab in ("fluid", "two-phase", "solid")}
        rng = {k: [float(np.min(sims[k][:])), float(np.max(sims[k][:]))]
               for k in ("T", "rho", "C12", "C6", "T_star", "rho_star")}
        g, ge = sims["g"][:], sims["g_err"][:]
        k = np.nanargmax(np.nan_to_num(g, nan=-1.0), axis=1)
        rows = np.arange(n)
        fp = ge[rows, k] / g[rows, k]
        size = Path(path).stat().st_size
        return {
            "file": str(path),
            "schema_version": int(h.attrs["schema_version"]),
            "design": str(h.attrs["design"]),
            "n_simulations": n,
            "n_samples": int(h.attrs["n_samples"]),
            "phase_fractions": frac,
            "equilibrated_fraction": float(np.mean(sims["equilibrated"][:])),
            "first_peak_rel_err": {"median": float(np.median(fp)),
                                   "p90": float(np.quantile(fp, 0.9)), "max": float(np.max(fp)),
                                   "fraction_below_1pct": float(np.mean(fp < 0.01))},
            "cpu_hours": float(np.sum(sims["cpu_s"][:]) / 3600.0),
            "wall_hours": float(np.sum(sims["wall_s"][:]) / 3600.0),
            "bytes": int(size), "bytes_per_simulation": int(size // n),
            "ranges": rng,
            "rc_sigma": float(h.attrs["rc_sigma"]),
            "cutoff_convention": str(h.attrs["cutoff_convention"]),
            "provenance": json.loads(h.attrs["provenance"]),
        }


def get_sample(path: str | Path, index: int) -> Sample:
    """Physical sample ``index`` (expanded by corresponding states where the design says so)."""
    with open_dataset(path) as h:
        ns = int(h.attrs["n_samples"])
        if not 0 <= index < ns:
            raise DatasetError(f"sample {index} out of range: {path} has {ns} samples (0..{ns - 1})")
        s = h["samples"]
        i = int(s["sim"][index])
        T, rho, c12, c6 = (float(s[k][index]) for k in ("T", "rho", "C12", "C6"))
        sims = h["sims"]
        r = h["r"][:]
        same = is_simulated_state(c12, c6, T, sims["C12"][i], sims["C6"][i], sims["T"][i])
        if same:
            g, ge = sims["g"][i], sims["g_err"][i]
        else:
            sig_new = sigma_epsilon(c12, c6)[0]
            g, ge = expand_g(sims["fine_g"][i], float(h["fine_dr"][()]), float(sims["sigma"][i]),
                             sig_new, r, sims["fine_g_err"][i])
        return Sample(T, rho, c12, c6, r, np.asarray(g), np.asarray(ge), i,
                      sims["phase"][i].decode())


def states_csv(path: str | Path, out: str | Path, rows: np.ndarray | None = None) -> int:
    """Write the simulated states of a dataset (one row per simulation: T [K], rho [nm^-3],
    C12, C6; only the simulation ``rows`` given, in their order) as a ``grid`` design CSV,
    exact to the last bit, so that ``generate --design grid`` with another seed re-runs the same
    states and ``build`` pools the runs. Returns the count."""
    from deepilst.fileio import write_text_atomic

    with open_dataset(path) as h:
        cols = [h["sims"][k][:] for k in ("T", "rho", "C12", "C6")]
    if rows is not None:
        cols = [c[np.asarray(rows)] for c in cols]
    rows = [",".join(repr(float(v)) for v in vals) for vals in zip(*cols)]
    write_text_atomic(out, "T,rho,C12,C6\n" + "\n".join(rows) + "\n")
    return len(rows)


def export_xvg(path: str | Path, index: int, out: str | Path) -> Path:
    """Write physical sample ``index`` as a GROMACS-style .xvg (r in nm, g, error)."""
    from deepilst.xvg import write_xvg

    s = get_sample(path, index)
    sig, eps = sigma_epsilon(s.c12, s.c6)
    write_xvg(out, s.r, [s.g, s.g_err], ["g(r)", "std. error"],
              title=f"deepilst sample {index}", comments=[
                  f"deepilst {__version__} dataset {Path(path).name} sample {index} (sim {s.sim})",
                  f"T = {s.temperature:.4f} K, rho = {s.density:.5f} nm^-3",
                  f"C12 = {s.c12:.6e} kJ mol^-1 nm^12, C6 = {s.c6:.6e} kJ mol^-1 nm^6",
                  f"sigma = {sig:.5f} nm, epsilon = {eps:.5f} kJ/mol, "
                  f"T* = {KB * s.temperature / eps:.4f}, rho* = {s.density * sig**3:.4f}",
                  f"phase: {s.phase}"])
    return Path(out)
