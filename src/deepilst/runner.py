"""Run many systems: resumable, one file per finished system, local pool or Dask cluster.

Layout of an output directory::

    out/systems/<key>.json   one record per finished system (written atomically)
    out/failed/<key>.json    failure reasons of systems that failed twice (not data)
    out/runs.jsonl           one line per ``generate`` invocation (command, counts, times)

A task's key is a hash of its full spec, so a rerun skips finished systems; a SIGKILL at any
moment loses at most the systems in flight and never leaves a partial record.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from deepilst.fileio import clean_stale_tmp, write_json_atomic
from deepilst.md.spec import Protocol, SimSpec
from deepilst.sampling import StatePoint


def build_specs(points: Iterable[StatePoint], engine: str, protocol: Protocol,
                seed: int) -> list[SimSpec]:
    """One :class:`SimSpec` per state point; per-system seeds derived from ``seed``."""
    return [SimSpec(p.temperature, p.density, p.c12, p.c6, engine=engine,
                    seed=(int(seed) * 1_000_003 + i) % 2**31, protocol=protocol, tags=p.tags)
            for i, p in enumerate(points)]


def plan_design(design: str, protocol: Protocol, n: int | None = None, seed: int = 0,
                grid: str | Path | None = None, expand: int = 50, weighting: str = "log",
                engine: str = "auto", distributed: bool = False) -> tuple[list[SimSpec], str, float]:
    """The systems a design asks for: (specs, engine name, total atom-steps).

    ``engine`` "auto" is resolved here (GROMACS when ``gmx`` is on PATH, else OpenMM) unless the
    run is ``distributed``, where workers resolve it on their own machines.
    """
    from deepilst.md.simulate import resolve_engine
    from deepilst.sampling import make_design

    points = make_design(design, n, seed, grid, expand, weighting)
    eng = engine if distributed else resolve_engine(engine)
    specs = build_specs(points, eng, protocol, seed)
    steps = float(sum((s.n_equil_steps + s.n_prod_steps) * s.protocol.n_particles for s in specs))
    return specs, eng, steps


def record_path(out: Path, key: str) -> Path:
    return out / "systems" / f"{key}.json"


def is_done(out: Path, key: str) -> bool:
    """True when a complete, valid record for ``key`` exists."""
    p = record_path(out, key)
    if not p.exists():
        return False
    try:
        rec = json.loads(p.read_text())
    except (OSError, ValueError):
        return False
    return rec.get("key") == key and "g" in rec


def run_task(spec_dict: dict, out: str) -> tuple[str, str, float, str]:
    """Simulate one system and write its record (or failure). Runs in worker processes.

    Returns (key, "done" | "failed" | "skipped", wall seconds, message).
    """
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from deepilst.md.base import SimulationError
    from deepilst.md.simulate import simulate

    spec = SimSpec.from_dict(spec_dict)
    key = spec.key()
    outp = Path(out)
    if is_done(outp, key):
        return key, "skipped", 0.0, ""
    t0 = time.perf_counter()
    try:
        rec = simulate(spec, retries=1)
    except SimulationError as exc:
        write_json_atomic(outp / "failed" / f"{key}.json",
                          {"key": key, "spec": spec.to_dict(), "reason": str(exc)}, indent=1)
        return key, "failed", time.perf_counter() - t0, str(exc)
    write_json_atomic(record_path(outp, key), rec)
    (outp / "failed" / f"{key}.json").unlink(missing_ok=True)
    return key, "done", time.perf_counter() - t0, ""


def _local(todo: list[dict], out: Path, workers: int):
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as ex:
        futs = [ex.submit(run_task, d, str(out)) for d in todo]
        for f in as_completed(futs):
            yield f.result()


def dask_client(scheduler: str | None, cluster_config: str | Path | None):
    """A dask.distributed Client: to ``scheduler`` (tcp://host:port), or to a dask-jobqueue
    cluster described by a JSON file ``{"kind": "slurm", "cluster": {...}, "jobs": N}``."""
    from distributed import Client

    if cluster_config is not None:
        cfg = json.loads(Path(cluster_config).read_text())
        kind = cfg.get("kind", "slurm").lower()
        import dask_jobqueue

        cls = {"slurm": dask_jobqueue.SLURMCluster, "pbs": dask_jobqueue.PBSCluster,
               "sge": dask_jobqueue.SGECluster, "lsf": dask_jobqueue.LSFCluster}[kind]
        cluster = cls(**cfg.get("cluster", {}))
        cluster.scale(jobs=int(cfg.get("jobs", 1)))
        return Client(cluster)
    return Client(scheduler)


def _dask(todo: list[dict], out: Path, client):
    from distributed import as_completed

    futs = client.map(run_task, todo, out=str(out), pure=False)
    for f in as_completed(futs):
        yield f.result()


def generate(specs: list[SimSpec], out: str | Path, workers: int | None = None,
             scheduler: str | None = None, cluster_config: str | Path | None = None,
             client=None, progress: bool = True, command: str | None = None) -> dict:
    """Run every spec not yet finished in ``out``; returns counts and timings.

    Parameters
    ----------
    specs : systems to run
    out : output directory (created)
    workers : local processes (default: number of CPU cores); ignored with a Dask cluster
    scheduler : address of a dask.distributed scheduler
    cluster_config : JSON file describing a dask-jobqueue cluster
    client : an existing dask.distributed Client (tests, notebooks)
    """
    out = Path(out)
    (out / "systems").mkdir(parents=True, exist_ok=True)
    for sub in (out, out / "systems", out / "failed"):
        clean_stale_tmp(sub)
    seen: set[str] = set()
    todo = []
    for s in specs:
        k = s.key()
        if k in seen:
            continue
        seen.add(k)
        if not is_done(out, k):
            todo.append(s.to_dict())
    counts = {"requested": len(seen), "already_done": len(seen) - len(todo), "done": 0,
              "failed": 0}
    t0 = time.time()
    bar = None
    if progress and todo:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), unit="sys", desc="generate", file=sys.stderr,
                   dynamic_ncols=True)
    try:
        if todo:
            if client is not None:
                results = _dask(todo, out, client)
            elif scheduler or cluster_config:
                client = dask_client(scheduler, cluster_config)
                results = _dask(todo, out, client)
            else:
                workers = workers or os.cpu_count() or 1
                results = _local(todo, out, max(1, min(workers, len(todo))))
            for key, status, _wall, msg in results:
                if status in ("done", "skipped"):
                    counts["done"] += 1
                else:
                    counts["failed"] += 1
                    if bar is not None:
                        bar.write(f"system {key} failed: {msg}")
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    counts["wall_s"] = time.time() - t0
    entry = dict(counts, command=command or " ".join(sys.argv), time=time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    with open(out / "runs.jsonl", "a") as fh:
        fh.write(json.dumps(entry) + "\n")
    return counts
