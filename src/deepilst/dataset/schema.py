"""The HDF5 dataset schema: versions, field names and units, dataset identity, portable paths.

Layout of schema 2 (version in ``attrs["schema_version"]``; units in each dataset's
``attrs["units"]``)::

    /sims/<field>       one row per simulation: T, rho, C12, C6, sigma, epsilon, T_reduced,
                        rho_reduced, g (n, 301), g_err, fine_g (n, n_fine; NaN-padded),
                        fine_g_err, U, U_sem (potential energy per particle, kJ/mol), P, P_sem
                        (pressure, bar), phase, replicas (independent runs pooled into the row;
                        1 where nothing was pooled), key, engine, design, ...
    /r                  the model grid, nm
    /fine_dr            width of the fine histogram bins, nm
    /samples/<field>    physical samples: sim (row of /sims), T, rho, C12, C6 (reduced design:
                        ``expand`` samples per simulation by corresponding states; otherwise
                        one per simulation)
    attrs: schema_version, dataset_id, design, n_simulations, n_samples, provenance (JSON),
           cutoff_convention, rc_sigma

``attrs["dataset_id"]`` (64 hex digits) names the data, not the bytes: models group samples
by ``f"{dataset_id[:12]}:{sim_row}"`` and recognise their own training file by it. A built
file stores :func:`content_id` (sha256 over the simulations' record keys in row order and
the sample rows); a file migrated from schema 1 stores the sha256 of the schema-1 file it came
from, so the ids that trained models saved stay valid. A schema-1 file has no attribute: its
id is the sha256 of its bytes (:func:`deepilst.dataset.read.dataset_id`).

Provenance holds no absolute path and no host name. Every path in ``run_dir`` and in the
commands (``command``, ``generate_commands``) is written by :func:`portable_path`: relative to
the directory the build ran in when it lies under it (``scripts/make_dataset_v1.sh`` runs
from the repository root, so ``runs/v1/test``), otherwise ``$RUNS/<rest>``, where ``$RUNS``
stands for a machine-specific run root that is not recorded and ``<rest>`` is the path below
``runs_root`` when one is given, else the last two components (``$RUNS/v1/test``).

Schema 1 (deepilst 0.1, before this module) differs only in names: ``sims/T_star``,
``rho_star``, ``energy``, ``energy_sem``, ``pressure``, ``pressure_sem`` (:data:`V1_RENAMED`),
``sims/replicas`` only where runs were pooled, no ``dataset_id`` and absolute paths in the
provenance. :func:`deepilst.dataset.read.open_dataset` reads it under the schema-2 names;
:func:`deepilst.dataset.migrate.migrate` rewrites it as schema 2.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

SCHEMA_VERSION = 2
#: schema versions :func:`deepilst.dataset.read.open_dataset` reads
READABLE_VERSIONS = (1, 2)
#: per-simulation scalar fields: name -> (record path, "|" between alternative spellings of
#: older records; units)
SCALAR_FIELDS = {
    "T": ("spec.temperature", "K"), "rho": ("spec.density", "nm^-3"),
    "C12": ("spec.c12", "kJ mol^-1 nm^12"), "C6": ("spec.c6", "kJ mol^-1 nm^6"),
    "sigma": ("sigma", "nm"), "epsilon": ("epsilon", "kJ/mol"),
    "T_reduced": ("T_reduced|T_star", "1"), "rho_reduced": ("rho_reduced|rho_star", "1"),
    "box_length": ("box_length", "nm"), "rc": ("rc", "nm"),
    "dt": ("dt", "ps"), "n_particles": ("spec.protocol.n_particles", "1"),
    "U": ("U.mean|energy.mean", "kJ/mol per particle"), "U_sem": ("U.sem|energy.sem", "kJ/mol"),
    "P": ("P.mean|pressure.mean", "bar"), "P_sem": ("P.sem|pressure.sem", "bar"),
    "T_measured": ("temperature_measured.mean", "K"),
    "solid_fraction": ("phase.solid_fraction", "1"),
    "dispersion_index": ("phase.dispersion_index", "1"),
    "equilibrated": ("equilibration.passed", "bool"), "seed": ("seed_used", "1"),
    "wall_s": ("wall_s", "s"), "cpu_s": ("cpu_s", "s"), "atom_steps": ("atom_steps", "1"),
    "replicas": ("replicas", "1"),
}
#: per-simulation string fields (stored as bytes)
STRING_FIELDS = ("phase", "engine", "key", "design")
#: schema-2 name -> schema-1 name of the renamed ``sims`` fields
V1_RENAMED = {"T_reduced": "T_star", "rho_reduced": "rho_star", "U": "energy",
              "U_sem": "energy_sem", "P": "pressure", "P_sem": "pressure_sem"}
#: placeholder for a machine-specific run root in provenance paths
RUNS_PLACEHOLDER = "$RUNS"


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def content_id(keys: Iterable[Iterable[str]], sample_sim: np.ndarray,
               sample_rows: np.ndarray) -> str:
    """Dataset id of a built file (hex sha256): the record keys of each simulation row (the
    pooled replicas' keys sorted within a row, rows in file order), then the samples' source
    rows (int64) and their (T, rho, C12, C6) rows (float64, little-endian)."""
    h = hashlib.sha256()
    for row in keys:
        h.update(("\t".join(sorted(row)) + "\n").encode())
    h.update(np.ascontiguousarray(sample_sim, dtype="<i8").tobytes())
    h.update(np.ascontiguousarray(sample_rows, dtype="<f8").tobytes())
    return h.hexdigest()


def portable_path(path: str | Path, base: str | Path | None = None,
                  runs_root: str | Path | None = None) -> str:
    """``path`` in the machine-independent form of the provenance (see the module docstring):
    relative to ``base`` (default: the current directory) when under it, else
    ``$RUNS/<path below runs_root>`` when under ``runs_root``, else ``$RUNS/<parent>/<name>``.
    A relative ``path`` is taken relative to ``base``."""
    base_p = Path(os.path.abspath(base if base is not None else Path.cwd()))
    p = Path(path)
    if str(path).startswith(RUNS_PLACEHOLDER):
        return str(path)
    p = Path(os.path.abspath(base_p / p))
    if p == base_p or base_p in p.parents:
        return p.relative_to(base_p).as_posix() or "."
    if runs_root is not None:
        root = Path(os.path.abspath(runs_root))
        if p == root or root in p.parents:
            return "/".join([RUNS_PLACEHOLDER, *p.relative_to(root).parts])
    return "/".join([RUNS_PLACEHOLDER, *p.parts[-2:]])


def portable_command(command: str, base: str | Path | None = None,
                     runs_root: str | Path | None = None) -> str:
    """A command line with every absolute path (a word, or the value of ``--opt=/path``)
    rewritten by :func:`portable_path`; other words are kept."""
    def word(w: str) -> str:
        head, eq, tail = w.partition("=")
        if eq and tail.startswith("/") and head.startswith("-"):
            return f"{head}={portable_path(tail, base, runs_root)}"
        return portable_path(w, base, runs_root) if w.startswith("/") else w

    return " ".join(word(w) for w in command.split(" "))
