"""Consolidating run directories into one HDF5 dataset (schema: :mod:`deepilst.dataset.schema`)."""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

from deepilst.dataset.corresponding import expansion_states
from deepilst.dataset.pooling import pool_replicas
from deepilst.dataset.read import info
from deepilst.dataset.records import load_records, record_value
from deepilst.dataset.schema import (
    SCALAR_FIELDS,
    SCHEMA_VERSION,
    content_id,
    portable_command,
    portable_path,
)
from deepilst.errors import DatasetError
from deepilst.fileio import write_with
from deepilst.rdf import model_grid
from deepilst.results import decode_array
from deepilst.versions import versions


def _samples(recs: list[dict], fine_dr: float) -> tuple[list[int], np.ndarray]:
    """Physical samples: source row of each, and rows (T, rho, C12, C6)."""
    s_sim, s_rows = [], []
    for i, x in enumerate(recs):
        tags = x["spec"].get("tags", {})
        k = int(tags.get("expand", 1)) if tags.get("design") == "reduced" else 1
        state = (x["spec"]["temperature"], x["spec"]["density"], x["spec"]["c12"], x["spec"]["c6"])
        if k > 1:
            reach = len(x["fine"]["g"]) * fine_dr / x["sigma"]
            seed = int(hashlib.sha256(x["key"].encode()).hexdigest()[:8], 16)
            rows = expansion_states(record_value(x, SCALAR_FIELDS["T_reduced"][0]),
                                    record_value(x, SCALAR_FIELDS["rho_reduced"][0]),
                                    k, seed, state, reach)
        else:
            rows = np.array([state])
        s_sim.extend([i] * len(rows))
        s_rows.append(rows)
    return s_sim, np.vstack(s_rows)


def _provenance(recs: list[dict], run_dirs: list[Path], sims: dict, command: str | None,
                runs_root: str | Path | None) -> dict:
    prov = {
        **versions("h5py"),
        "command": portable_command(command or " ".join(sys.argv), runs_root=runs_root),
        "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "run_dir": " ".join(portable_path(d, runs_root=runs_root) for d in run_dirs),
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
        cmds = [json.loads(ln).get("command") for f in logs for ln in f.read_text().splitlines()
                if ln.strip()]
        prov["generate_commands"] = [None if c is None else portable_command(c, runs_root=runs_root)
                                     for c in cmds]
    return prov


def build(run_dir: str | Path | list[str | Path], out: str | Path,
          command: str | None = None, runs_root: str | Path | None = None) -> dict:
    """Consolidate the records of one or more run directories into one HDF5 file ``out``
    (schema :data:`~deepilst.dataset.schema.SCHEMA_VERSION`, atomic write).

    Independent runs of the same state, in one directory or across several (e.g. a second seed
    over the same grid), are pooled into one simulation row (:func:`pool_replicas`);
    ``sims/replicas`` counts them. Paths in the provenance are written by
    :func:`~deepilst.dataset.schema.portable_path` (relative to the current directory, else
    ``$RUNS/...`` below ``runs_root``). ``command`` defaults to ``sys.argv``.

    Returns
    -------
    dict
        :func:`info` of the written file.

    Raises
    ------
    DatasetError
        A run directory has no records, or records disagree on the fine bin width or r grid.
    """
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
    where = " ".join(str(d) for d in run_dirs)
    for i, x in enumerate(recs):
        m = len(x["fine"]["g"])
        fine_g[i, :m] = decode_array(x["fine"]["g"])
        fine_e[i, :m] = decode_array(x["fine"]["g_err"])
        if abs(x["fine"]["dr"] - fine_dr) > 1e-12:
            raise DatasetError(f"{where}: record {x['key']} has fine dr {x['fine']['dr']} != "
                               f"{fine_dr}; build runs of one protocol version together")
        if np.max(np.abs(np.asarray(x["r"], float) - r)) > 1e-9:
            raise DatasetError(f"{where}: record {x['key']}: r grid differs from the model grid; "
                               "re-run it with this deepilst version")
    sims = {k: np.array([record_value(x, path) for x in recs])
            for k, (path, _u) in SCALAR_FIELDS.items()}
    s_sim, s_rows = _samples(recs, fine_dr)
    prov = _provenance(recs, run_dirs, sims, command, runs_root)
    ident = content_id([x.get("replica_keys", [x["key"]]) for x in recs], np.array(s_sim), s_rows)

    def writer(tmp: Path) -> None:
        with h5py.File(tmp, "w") as h:
            h.attrs["schema_version"] = SCHEMA_VERSION
            h.attrs["dataset_id"] = ident
            h.attrs["design"] = design
            h.attrs["n_simulations"] = n
            h.attrs["n_samples"] = len(s_sim)
            h.attrs["cutoff_convention"] = recs[0]["cutoff_convention"]
            h.attrs["rc_sigma"] = float(recs[0]["rc_sigma"])
            h.attrs["provenance"] = json.dumps(prov)
            h.create_dataset("r", data=r).attrs["units"] = "nm"
            h.create_dataset("fine_dr", data=fine_dr).attrs["units"] = "nm"
            g = h.create_group("sims")
            for k, (_p, unit) in SCALAR_FIELDS.items():
                ds = g.create_dataset(k, data=sims[k].astype(float))
                ds.attrs["units"] = unit
            g.create_dataset("g", data=np.array([decode_array(x["g"]) for x in recs]),
                             compression="gzip").attrs["units"] = "1"
            g.create_dataset("g_err", data=np.array([decode_array(x["g_err"]) for x in recs]),
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
                s.create_dataset(k, data=s_rows[:, j]).attrs["units"] = SCALAR_FIELDS[k][1]

    write_with(out, writer)
    return info(out)


def build_summary(res: dict, out: str | Path | None = None) -> str:
    """One line for a built dataset from its :func:`info` dict: file (``out``, default the
    dict's ``file``), counts, design and the states whose runs were pooled
    (``"..., runs pooled per state: 500 states x 2"``)."""
    pooled = {k: v for k, v in res["provenance"].get("replicas", {}).items() if k != "1"}
    extra = (", runs pooled per state: " + ", ".join(f"{v} states x {k}" for k, v in
                                                     pooled.items())) if pooled else ""
    name = res["file"] if out is None else out
    return (f"{name}: {res['n_simulations']} simulations, {res['n_samples']} samples "
            f"(design {res['design']}){extra}")
