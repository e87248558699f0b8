"""All-atom NVT runs of a molecular liquid with GROMACS, resumable stage by stage.

Stages, each skipped when its output exists: the box (``start.gro``), energy minimisation
(``em.gro``), V-rescale equilibration (``eq.gro``, ``eq.cpt``), Nose-Hoover production in
chunks (``prod.xtc``, ``prod.edr``; each chunk extends the run with ``gmx convert-tpr -nsteps``
and continues from ``prod.cpt``, so a killed run loses at most one chunk), then the record
``run.json`` (spec, versions, times, P and U with standard errors), written atomically.
``state.json`` keeps the finished steps and the time spent so far.
"""

from __future__ import annotations

import math
import os
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from deepilst.errors import ParameterError, SimulationError
from deepilst.fileio import held, write_json_atomic
from deepilst.molecular.gmx import mdp_em, mdp_md, run_gmx
from deepilst.molecular.system import check_density, fill_box, molecule_files, write_topology
from deepilst.stats import mean_sem
from deepilst.units import check_positive
from deepilst.xvg import read_xvg

#: Version of the run record ``run.json`` (an older record is rewritten from the run's files).
SCHEMA = 2
#: Production thermostats.
THERMOSTATS = ("nose-hoover", "v-rescale")


@dataclass(frozen=True)
class AASpec:
    """One all-atom run. Lengths in ps, temperature in K, density in molecules per nm^3.

    ``molecule`` names a shipped molecule; otherwise ``top`` and ``gro`` give a user's (one
    molecule each). ``chunk_ps`` is the production written between checkpoints that another
    job may interleave with (the lock is taken per stage and per chunk). ``thermostat`` is the
    production's: "nose-hoover" (tau_T 0.2 ps, the paper's) or "v-rescale" (tau_T 0.1 ps; for
    flexible all-atom molecules whose Nose-Hoover production oscillated: all-atom CH4 swung
    between 90 and 1400 K).
    """

    temperature: float
    density: float
    molecule: str | None = None
    top: str | None = None
    gro: str | None = None
    n_molecules: int = 1000
    equil_ps: float = 100.0
    prod_ps: float = 1000.0
    chunk_ps: float = 100.0
    dt_ps: float = 0.002
    cutoff: float = 1.2
    xtc_ps: float = 1.0
    energy_ps: float = 0.1
    seed: int = 0
    thermostat: str = "nose-hoover"

    def check(self) -> None:
        """Validate at the door; raises :class:`ParameterError`."""
        check_positive("temperature", self.temperature)
        if self.thermostat not in THERMOSTATS:
            raise ParameterError(f"thermostat must be one of {', '.join(THERMOSTATS)}, "
                                 f"got {self.thermostat!r}")
        for k in ("equil_ps", "prod_ps", "chunk_ps", "dt_ps", "cutoff", "xtc_ps", "energy_ps"):
            check_positive(k, getattr(self, k))
        for k in ("xtc_ps", "energy_ps", "chunk_ps", "equil_ps", "prod_ps"):
            steps = getattr(self, k) / self.dt_ps
            if abs(steps - round(steps)) > 1e-6:
                raise ParameterError(f"{k} = {getattr(self, k)} ps is not a whole number of "
                                     f"time steps of {self.dt_ps} ps")
        if round(self.chunk_ps / self.xtc_ps, 6) % 1:
            raise ParameterError(f"chunk_ps {self.chunk_ps} must be a multiple of xtc_ps {self.xtc_ps}")

    def steps(self, ps: float) -> int:
        return int(round(ps / self.dt_ps))

    @property
    def box_length(self) -> float:
        return (self.n_molecules / self.density) ** (1.0 / 3.0)

    def key(self) -> dict:
        """Everything but the production length and chunking: what a directory is tied to."""
        d = asdict(self)
        for k in ("prod_ps", "chunk_ps"):
            d.pop(k)
        if d["thermostat"] == "nose-hoover":  # the default: directories made before it existed
            d.pop("thermostat")
        return d


def _versions() -> dict:
    from deepilst.md.gromacs_engine import _gmx_version
    from deepilst.molecular.gmx import gmx_or_raise
    from deepilst.versions import versions

    return versions(gromacs=_gmx_version(gmx_or_raise()))


def _state(d: Path) -> dict:
    import json

    p = d / "state.json"
    return json.loads(p.read_text()) if p.exists() else {"wall_s": 0.0, "cpu_s": 0.0,
                                                          "prod_steps": 0, "stages": {}}


def _stage(d: Path, st: dict, name: str, fn, lock) -> None:
    with held(lock):
        t0 = time.perf_counter()
        wall, cpu = fn()
    st["stages"][name] = {"wall_s": round(time.perf_counter() - t0, 2), "cpu_s": round(cpu, 2)}
    st["wall_s"] += time.perf_counter() - t0
    st["cpu_s"] += cpu
    write_json_atomic(d / "state.json", st, indent=1)


def run_aa(spec: AASpec, out: str | Path, lock: str | Path | None = None, threads: int = 1,
           progress: bool = True, command: str = "", target: str | Path | None = None,
           n_blocks: int = 10) -> dict:
    """Run (or resume) ``spec`` in directory ``out``; returns the record written to
    ``out/run.json``.

    Parameters
    ----------
    spec : the run
    out : run directory (created; a directory of another spec is refused)
    lock : a lock file taken (``flock``) around every MD stage and production chunk (default:
        the environment variable ``DEEPILST_LOCK``, else none)
    threads : OpenMP threads of mdrun
    progress : a tqdm bar over the production chunks
    command : the command line, kept in the record
    target : also write the coarse-graining target (COM g(r) .xvg and JSON, named after the
        molecule) into this directory (:func:`deepilst.molecular.targets.write_target`)
    n_blocks : blocks of the target's standard errors
    """
    import json

    spec.check()
    lock = lock if lock is not None else (os.environ.get("DEEPILST_LOCK") or None)
    files = molecule_files(spec.molecule, spec.top, spec.gro)
    check_density(files, spec.density, spec.n_molecules)
    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    kp = d / "spec.json"
    if kp.exists() and json.loads(kp.read_text()) != spec.key():
        raise ParameterError(f"{d} holds a run of another system or protocol ({kp}); "
                             "choose a new output directory")
    write_json_atomic(kp, spec.key(), indent=1)
    done = d / "run.json"
    if done.exists():
        rec = json.loads(done.read_text())
        if rec["spec"]["prod_ps"] >= spec.prod_ps and rec.get("schema") == SCHEMA:
            return _with_target(rec, d, target, n_blocks, command, progress)
    st = _state(d)
    T, rc, charged = spec.temperature, spec.cutoff, files.charged
    inc = f"-I{files.include_dir}" if files.include_dir else ""
    if not (d / "start.gro").exists():
        write_topology(d, files, spec.n_molecules)
        t0 = time.perf_counter()
        st["box_method"] = fill_box(d, files, spec.n_molecules, spec.density, spec.seed)
        st["stages"]["box"] = {"wall_s": round(time.perf_counter() - t0, 2)}
        write_json_atomic(d / "state.json", st, indent=1)
    if not (d / "em.gro").exists():
        (d / "em.mdp").write_text(mdp_em(T, rc, charged, inc))

        def em():
            run_gmx(["grompp", "-f", "em.mdp", "-c", "start.gro", "-p", "topol.top", "-o", "em.tpr",
                     "-po", "em.out.mdp"], d, "em.log.txt")
            return run_gmx(["mdrun", "-deffnm", "em", "-ntmpi", "1", "-ntomp", str(threads),
                            "-pin", "off"], d, "em.log.txt", threads=threads)
        _stage(d, st, "em", em, lock)
    if not (d / "eq.gro").exists():
        (d / "eq.mdp").write_text(mdp_md(T, rc, charged, spec.dt_ps, spec.steps(spec.equil_ps),
                                         spec.seed, False, 0, spec.steps(spec.energy_ps), inc))

        def eq():
            run_gmx(["grompp", "-f", "eq.mdp", "-c", "em.gro", "-p", "topol.top", "-o", "eq.tpr",
                     "-po", "eq.out.mdp"], d, "eq.log.txt")
            return run_gmx(["mdrun", "-deffnm", "eq", "-ntmpi", "1", "-ntomp", str(threads),
                            "-pin", "off"], d, "eq.log.txt", threads=threads)
        _stage(d, st, "equilibration", eq, lock)
    if not (d / "prod.tpr").exists():
        (d / "prod.mdp").write_text(mdp_md(T, rc, charged, spec.dt_ps, spec.steps(spec.chunk_ps),
                                           spec.seed, True, spec.steps(spec.xtc_ps),
                                           spec.steps(spec.energy_ps), inc, spec.thermostat))
        run_gmx(["grompp", "-f", "prod.mdp", "-c", "eq.gro", "-t", "eq.cpt", "-p", "topol.top",
                 "-o", "prod.tpr", "-po", "prod.out.mdp"], d, "prod.log.txt")
    total, chunk = spec.steps(spec.prod_ps), spec.steps(spec.chunk_ps)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=spec.prod_ps, initial=st["prod_steps"] * spec.dt_ps, unit="ps",
                   desc=f"{files.name} production", leave=False)
    while st["prod_steps"] < total:
        upto = min(st["prod_steps"] + chunk, total)

        def prod(upto=upto):
            run_gmx(["convert-tpr", "-s", "prod.tpr", "-nsteps", str(upto), "-o", "chunk.tpr"],
                    d, "prod.log.txt")
            cpi = ["-cpi", "prod.cpt"] if (d / "prod.cpt").exists() else []
            return run_gmx(["mdrun", "-s", "chunk.tpr", "-deffnm", "prod", *cpi, "-cpt", "5",
                            "-ntmpi", "1", "-ntomp", str(threads), "-pin", "off"], d,
                           "prod.log.txt", threads=threads)
        _stage(d, st, "production", prod, lock)
        if bar is not None:
            bar.update((upto - st["prod_steps"]) * spec.dt_ps)
        st["prod_steps"] = upto
        st.setdefault("chunks", []).append({"to_ps": round(upto * spec.dt_ps, 6),
                                            **st["stages"]["production"]})
        write_json_atomic(d / "state.json", st, indent=1)
    if bar is not None:
        bar.close()
    if st["prod_steps"] > total:  # an older, longer run in this directory: record it as it is
        spec = AASpec(**{**asdict(spec), "prod_ps": st["prod_steps"] * spec.dt_ps})
    rec = _record(d, spec, files, st, command)
    write_json_atomic(done, rec, indent=1)
    return _with_target(rec, d, target, n_blocks, command, progress)


def _with_target(rec: dict, d: Path, target, n_blocks: int, command: str, progress: bool) -> dict:
    if target is not None:
        from deepilst.molecular.targets import write_target

        rec = dict(rec, target=write_target(d, target, n_blocks=n_blocks, command=command,
                                            progress=progress))
    return rec


def energies(d: Path, n_molecules: int) -> dict:
    """P [bar], U [kJ/mol per molecule] and T [K] of ``d/prod.edr`` with standard errors
    corrected for correlation (:func:`deepilst.stats.mean_sem`)."""
    run_gmx(["energy", "-f", "prod.edr", "-o", "energy.xvg"], d, "energy.log.txt",
            stdin="Potential\nPressure\nTemperature\n\n")
    data, legends = read_xvg(d / "energy.xvg")
    col = {name: i + 1 for i, name in enumerate(legends)}
    try:
        pot, pres, temp = (data[:, col[k]] for k in ("Potential", "Pressure", "Temperature"))
    except KeyError as exc:
        raise SimulationError(f"gmx energy did not report {exc} ({d / 'energy.xvg'})") from None
    if not np.all(np.isfinite(pot)):
        raise SimulationError(f"non-finite energies in {d / 'prod.edr'}")
    out = {}
    for key, x, scale in (("P", pres, 1.0), ("U", pot, 1.0 / n_molecules), ("T", temp, 1.0)):
        m, s = mean_sem(x)
        out[key], out[f"{key}_sem"] = m * scale, s * scale
    out["n_energy_frames"] = len(pot)
    return out


def _record(d: Path, spec: AASpec, files, st: dict, command: str) -> dict:
    from deepilst.results import UNITS

    e = energies(d, spec.n_molecules)
    ns = spec.prod_ps / 1000.0
    prod_wall = sum(c["wall_s"] for c in st.get("chunks", []))
    return {
        "schema": SCHEMA, "kind": "deepilst.aa", "molecule": files.name, "spec": asdict(spec),
        "charged": files.charged,
        "force_field": files.source, "box_method": st.get("box_method"),
        "box_length": spec.box_length, "T_target": spec.temperature, "rho": spec.density,
        **e, "wall_s": round(st["wall_s"], 1), "cpu_s": round(st["cpu_s"], 1),
        "prod_wall_s": round(prod_wall, 1),
        "ns_per_day": round(ns * 86400.0 / prod_wall, 3) if prod_wall > 0 else math.nan,
        "files": {"topology": "prod.tpr", "trajectory": "prod.xtc", "energy": "prod.edr"},
        "versions": _versions(), "host_cpu": platform.machine(), "command": command,
        "units": {"T": UNITS["T"], "rho": "molecules nm^-3", "P": UNITS["P"], "U": "kJ/mol per molecule",
                  "box_length": "nm", "wall_s": "s"},
    }
