"""Run one system with any backend and reduce it to a small, self-describing record."""

from __future__ import annotations

import math
import resource
import time
from dataclasses import replace

import numpy as np

from deepilst.errors import ParameterError
from deepilst.md.base import Engine, EngineUnavailable, SimulationError
from deepilst.md.spec import SimSpec
from deepilst.phase import PhaseDetector
from deepilst.rdf import DR_FINE, RDFAccumulator, model_grid
from deepilst.results import SimulationResult, encode_array
from deepilst.stats import detect_equilibration, mean_sem
from deepilst.thermo import energy_tail, pressure_tail
from deepilst.units import CUTOFF_CONVENTION, KB, KJ_MOL_NM3_TO_BAR
from deepilst.versions import versions as software_versions

RECORD_SCHEMA = 1


def resolve_engine(name: str) -> str:
    """'auto' -> 'gromacs' when gmx is on PATH, else 'openmm'. Raises EngineUnavailable."""
    from deepilst.md.gromacs_engine import GromacsEngine
    from deepilst.md.openmm_engine import OpenMMEngine

    if name == "auto":
        return "gromacs" if GromacsEngine.available() else "openmm"
    if name == "gromacs" and not GromacsEngine.available():
        raise EngineUnavailable(
            "engine 'gromacs': no 'gmx' on PATH (apt-get install gromacs, or set DEEPILST_GMX)")
    if name == "openmm" and not OpenMMEngine.available():
        raise EngineUnavailable("engine 'openmm': the openmm package is not installed "
                                "(pip install openmm)")
    if name not in ("gromacs", "openmm"):
        raise EngineUnavailable(f"unknown engine {name!r}; expected auto, gromacs or openmm")
    return name


def get_engine(name: str) -> Engine:
    name = resolve_engine(name)
    if name == "gromacs":
        from deepilst.md.gromacs_engine import GromacsEngine

        return GromacsEngine()
    from deepilst.md.openmm_engine import OpenMMEngine

    return OpenMMEngine()


def equilibration_check(x: np.ndarray) -> dict:
    """Automatic equilibration detection (pymbar's estimator, :mod:`deepilst.stats`) on the
    production energy series. ``passed`` is True when the equilibrated region starts within
    the first 20 % of the production run, i.e. the discarded equilibration was long enough."""
    x = np.asarray(x, dtype=float)
    if len(x) < 10:
        return {"passed": False, "t0_fraction": math.nan, "reason": "fewer than 10 frames"}
    t0, g, neff = detect_equilibration(x, nskip=max(1, len(x) // 100))
    frac = float(t0) / len(x)
    return {"passed": bool(frac <= 0.2), "t0_fraction": frac, "g": float(g), "n_eff": float(neff)}


def simulate_once(spec: SimSpec, engine: Engine | None = None, progress=None) -> dict:
    """Run ``spec`` once and return its record (a JSON-serialisable dict).

    Raises :class:`SimulationError` on any failure; nothing is written here.
    """
    table = spec.table
    # a general table needs OpenMM; a pure C12 r^-12 one is LJ with C6 = 0 for any engine
    general_table = table is not None and table.repulsion_c12 is None
    if engine is None:
        engine = get_engine("openmm" if general_table and spec.engine == "auto" else spec.engine)
    if general_table and engine.name != "openmm":
        raise ParameterError(f"engine {engine.name!r} cannot run a tabulated pair potential: use "
                             "engine 'openmm'")
    n = spec.protocol.n_particles
    L = spec.box_length
    V = L**3
    if table is None:
        acc = RDFAccumulator(n, L, r_max=None, dr=DR_FINE, n_blocks=spec.protocol.n_blocks,
                             rc=spec.rc, c12=spec.c12, c6=spec.c6)
    else:
        from deepilst.md.tabulated import TableAccumulator

        acc = TableAccumulator(n, L, table, n_blocks=spec.protocol.n_blocks)
    n_frames = spec.n_prod_steps // spec.protocol.sample_every
    per_block = n_frames // spec.protocol.n_blocks
    phase = PhaseDetector()
    q6_from = n_frames - phase.max_q6_frames

    last: dict = {"pos": None, "moved": None}

    def sink(pos: np.ndarray, f: int) -> None:
        # frozen-system check: only the last two frames are compared
        if f == n_frames - 2:
            last["pos"] = pos.copy()
        elif f == n_frames - 1 and last["pos"] is not None:
            d = pos - last["pos"]
            d -= L * np.rint(d / L)
            last["moved"] = float(np.mean(np.sum(d * d, axis=1)))  # nm^2 between frames
        acc.add_frame(pos, block=min(f // per_block, spec.protocol.n_blocks - 1))
        if f % max(1, n_frames // 50) == 0 or f >= q6_from:
            phase.add_frame(pos, L, q6=f >= q6_from)
        if progress is not None:
            progress(f + 1, n_frames)

    t0 = time.perf_counter()
    c0 = resource.getrusage(resource.RUSAGE_SELF).ru_utime + resource.getrusage(
        resource.RUSAGE_CHILDREN).ru_utime
    run = engine.run(spec, sink)
    wall = time.perf_counter() - t0
    cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime + resource.getrusage(
        resource.RUSAGE_CHILDREN).ru_utime - c0

    if acc.frames.sum() != n_frames:
        raise SimulationError(f"analysed {acc.frames.sum()} frames, expected {n_frames}")
    g_fine, g_fine_err = acc.result()
    r = model_grid()
    g, g_err = acc.on_grid(r)
    if not np.all(np.isfinite(g_fine)):
        raise SimulationError("non-finite g(r)")

    if table is None:
        u_tail = energy_tail(spec.density, spec.c12, spec.c6, spec.rc)
        p_tail = pressure_tail(spec.density, spec.c12, spec.c6, spec.rc)
    else:  # a table's potential is zero beyond its end: no tail
        u_tail = p_tail = 0.0
    # our own per-frame thermodynamics from the same frames (engine-independent)
    u_frames = np.asarray(acc.energies) / n + u_tail
    t_kin = np.asarray(run.temperature, dtype=float)
    w = np.asarray(acc.virials)
    p_frames = (n * KB * t_kin - w / 3.0) / V * KJ_MOL_NM3_TO_BAR + p_tail
    u_engine = np.asarray(run.potential, dtype=float) / n
    if run.pressure is not None:
        p_engine = np.asarray(run.pressure, dtype=float)
        p_source = f"{engine.name} (engine virial" + (
            " + dispersion correction)" if table is None else ", no tail)")
    else:
        p_engine = p_frames
        p_source = "deepilst pair virial of the production frames + tail correction"
    if not (np.all(np.isfinite(u_engine)) and np.all(np.isfinite(p_engine))):
        raise SimulationError("non-finite energy or pressure")
    t_mean, t_sem = mean_sem(t_kin)
    if not abs(t_mean - spec.temperature) <= 0.1 * spec.temperature:  # also catches NaN
        raise SimulationError(f"thermostat failed: <T> = {t_mean:.1f} K for {spec.temperature} K")
    if last["moved"] is not None and not last["moved"] > 1e-6:
        raise SimulationError("particles did not move between the last frames (frozen system)")

    # per-frame sums over pairs inside rc of r^-12 and r^-6 (dU/dC12 and -dU/dC6 of a
    # configuration): their covariance is the relative-entropy Hessian (deepilst.fit)
    uu = np.asarray(acc.energies)
    s12 = -(w + 6.0 * uu) / (6.0 * spec.c12)
    s6 = -(w + 12.0 * uu) / (6.0 * spec.c6)
    pair_cov = np.cov(np.vstack([s12, s6])) if len(uu) > 1 else np.full((2, 2), np.nan)
    u_mean, u_sem = mean_sem(u_engine)
    p_mean, p_sem = mean_sem(p_engine)
    uf_mean, uf_sem = mean_sem(u_frames)
    pf_mean, pf_sem = mean_sem(p_frames)
    ph = phase.result()
    versions = software_versions(**{engine.name: run.version})
    rec = {
        "schema": RECORD_SCHEMA,
        "key": spec.key(),
        "spec": spec.to_dict(),
        "engine": engine.name,
        "platform": run.platform,
        "versions": versions,
        "units": {"r": "nm", "T": "K", "rho": "nm^-3", "C12": "kJ mol^-1 nm^12",
                  "C6": "kJ mol^-1 nm^6", "energy": "kJ/mol per particle", "pressure": "bar"},
        "cutoff_convention": CUTOFF_CONVENTION,
        "rc_sigma": spec.protocol.rc_sigma,
        "rc": spec.rc,
        "sigma": spec.sigma,
        "epsilon": spec.epsilon,
        "T_star": spec.T_reduced,
        "rho_star": spec.rho_reduced,
        "box_length": L,
        "dt": spec.dt,
        "n_equil_steps": spec.n_equil_steps,
        "n_prod_steps": spec.n_prod_steps,
        "n_frames": int(n_frames),
        "r": encode_array(r, 8),
        "g": encode_array(g),
        "g_err": encode_array(g_err, 4),
        "fine": {"dr": DR_FINE, "g": encode_array(g_fine, 5), "g_err": encode_array(g_fine_err, 3)},
        "energy": {"mean": u_mean, "sem": u_sem, "source": f"{engine.name} potential energy / N"},
        "pressure": {"mean": p_mean, "sem": p_sem, "source": p_source},
        "energy_frames": {"mean": uf_mean, "sem": uf_sem},
        "pressure_frames": {"mean": pf_mean, "sem": pf_sem},
        "tail": {"energy": u_tail, "pressure": p_tail},
        "pair_sums": {"what": "per-frame sums over pairs inside rc of r^-12 and r^-6, nm^-12 and "
                      "nm^-6", "mean": [float(np.mean(s12)), float(np.mean(s6))],
                      "cov": pair_cov.tolist(), "n_frames": int(len(uu))},
        "temperature_measured": {"mean": t_mean, "sem": t_sem},
        "equilibration": equilibration_check(u_engine),
        "phase": ph.to_dict(),
        "wall_s": wall,
        "cpu_s": cpu,
        "atom_steps": int(n * (spec.n_equil_steps + spec.n_prod_steps)),
    }
    if table is not None:
        # LJ pair sums mean nothing for a table; its cutoff is the table's end
        from deepilst.md.tabulated import TABLE_CONVENTION

        del rec["pair_sums"], rec["rc_sigma"]
        rec["cutoff_convention"] = TABLE_CONVENTION
        rec["potential"] = "table"
    return rec


def simulate(spec: SimSpec, engine: Engine | None = None, retries: int = 1,
             progress=None) -> dict:
    """Run ``spec``; on failure retry up to ``retries`` times with a new seed and half the
    previous time step (blow-ups of very hot, soft fluids, T* > ~80, need it).

    The record's ``seed_used``, ``attempts`` and ``dt`` say what happened; ``spec``/``key`` stay
    those of the requested task. Raises :class:`SimulationError` with all reasons if every try
    fails.
    """
    reasons = []
    for attempt in range(retries + 1):
        seed = spec.seed if attempt == 0 else (spec.seed * 7919 + 104729 * attempt) % 2**31
        run = replace(spec, seed=seed)
        if attempt > 0:
            run = replace(run, protocol=replace(spec.protocol, dt_ps=spec.dt / 2**attempt))
        try:
            rec = simulate_once(run, engine, progress)
        except (SimulationError, EngineUnavailable) as exc:
            reasons.append(f"seed {seed}: {exc}")
            if isinstance(exc, EngineUnavailable):
                break
            continue
        rec["key"] = spec.key()
        rec["spec"] = spec.to_dict()
        rec["seed_used"] = seed
        rec["attempts"] = attempt + 1
        rec["failed_attempts"] = reasons
        return rec
    raise SimulationError("; ".join(reasons))


def run_simulation(spec: SimSpec, engine: Engine | None = None, retries: int = 1,
                   progress=None) -> SimulationResult:
    """:func:`simulate` with the record decoded into a typed :class:`SimulationResult`."""
    return SimulationResult.from_record(simulate(spec, engine, retries, progress))
