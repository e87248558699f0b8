"""Rewrite schema-1 datasets as schema 2 (:mod:`deepilst.dataset.schema`), keeping their ids.

    deepilst dataset migrate data/v1_*.h5 [--runs-root DIR] [--info]

rewrites each file in place (atomically); ``--runs-root`` is the run root of the machine that
built them (paths below it become ``$RUNS/...``); ``--info`` also rewrites
``<name>.info.json`` beside each file with :func:`deepilst.dataset.info`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from deepilst import __version__
from deepilst.dataset.read import info, open_dataset
from deepilst.dataset.schema import (
    SCHEMA_VERSION,
    V1_RENAMED,
    file_sha256,
    portable_command,
    portable_path,
)
from deepilst.errors import DatasetError
from deepilst.fileio import write_with


def migrate_provenance(prov: dict, n_simulations: int, replicas: np.ndarray,
                       runs_root: str | Path | None = None) -> dict:
    """A schema-1 provenance made portable (paths by :func:`portable_path`, commands by
    :func:`portable_command`) with the replicas histogram it may lack."""
    out = dict(prov)
    if "run_dir" in out:
        out["run_dir"] = " ".join(portable_path(d, runs_root=runs_root)
                                  for d in str(out["run_dir"]).split(" ") if d)
    if out.get("command"):
        out["command"] = portable_command(out["command"], runs_root=runs_root)
    if "generate_commands" in out:
        out["generate_commands"] = [None if c is None else portable_command(c, runs_root=runs_root)
                                    for c in out["generate_commands"]]
    if "replicas" not in out:
        k, c = np.unique(replicas.astype(int), return_counts=True)
        out["replicas"] = {str(a): int(b) for a, b in zip(k, c)}
    if sum(out["replicas"].values()) != n_simulations:
        raise DatasetError(f"provenance replicas {out['replicas']} do not add up to "
                           f"{n_simulations} simulations; the file is inconsistent, rebuild it")
    return out


def migrate(path_in: str | Path, path_out: str | Path,
            runs_root: str | Path | None = None) -> dict:
    """Write the schema-1 dataset ``path_in`` as schema 2 to ``path_out`` (may be the same
    path; atomic write).

    ``sims`` fields are renamed (:data:`~deepilst.dataset.schema.V1_RENAMED`) and copied with
    their dtype, compression and attributes; ``sims/replicas`` is added where missing (ones);
    ``attrs["dataset_id"]`` is the sha256 of ``path_in``, the id models saved for it; the
    provenance is made portable and records the migration. Every value read by
    :func:`deepilst.model.data.load_arrays` is unchanged. Returns the :func:`info` of the
    written file; raises :class:`DatasetError` if ``path_in`` is not a schema-1 dataset.
    """
    import h5py

    path_in = Path(path_in)
    with open_dataset(path_in) as h:
        if h.schema_version != 1:
            raise DatasetError(f"{path_in}: schema version {h.schema_version}, only schema 1 "
                               "is migrated; nothing to do")
    ident = file_sha256(path_in)
    old_name = {v: k for k, v in V1_RENAMED.items()}

    def writer(tmp: Path) -> None:
        with h5py.File(path_in, "r") as src, h5py.File(tmp, "w") as dst:
            for k, v in src.attrs.items():
                if k != "provenance":  # written once below (HDF5 keeps overwritten bytes)
                    dst.attrs[k] = v
            for k in src:
                if k != "sims":
                    src.copy(src[k], dst, name=k)
            sims = dst.create_group("sims")
            for k in src["sims"]:
                src.copy(src["sims"][k], sims, name=old_name.get(k, k))
            if "replicas" not in sims:
                n = src["sims"]["T"].shape[0]
                sims.create_dataset("replicas", data=np.ones(n)).attrs["units"] = "1"
            prov = migrate_provenance(json.loads(src.attrs["provenance"]),
                                      int(src.attrs["n_simulations"]), sims["replicas"][:],
                                      runs_root)
            prov["migrated"] = {"from_schema_version": 1, "from_sha256": ident,
                                "deepilst": __version__}
            dst.attrs["provenance"] = json.dumps(prov)
            dst.attrs["schema_version"] = SCHEMA_VERSION
            dst.attrs["dataset_id"] = ident

    write_with(path_out, writer)
    return info(path_out)
