"""Datasets: run records consolidated into HDF5 (schema in :mod:`deepilst.dataset.schema`),
replica pooling, corresponding-states expansion, reading and export.

Modules: ``records`` (run-directory records), ``pooling`` (replicas), ``corresponding``
(law of corresponding states), ``build`` (writing a dataset), ``read`` (opening, summary,
samples, export, phase points), ``schema`` (versions, names, ids, portable paths),
``migrate`` (schema 1 -> 2).
"""

from deepilst.dataset.build import build, build_summary
from deepilst.dataset.corresponding import expand_g, expansion_states, is_simulated_state
from deepilst.dataset.migrate import migrate
from deepilst.dataset.pooling import pool_replicas
from deepilst.dataset.read import (
    DatasetFile,
    Sample,
    dataset_id,
    export_xvg,
    format_info,
    get_sample,
    info,
    open_dataset,
    phase_points,
    states_csv,
)
from deepilst.dataset.records import load_records
from deepilst.dataset.schema import SCHEMA_VERSION, portable_path
from deepilst.errors import DatasetError

__all__ = [
    "SCHEMA_VERSION", "DatasetError", "DatasetFile", "Sample", "build", "build_summary",
    "dataset_id", "expand_g", "expansion_states", "export_xvg", "format_info", "get_sample", "info",
    "is_simulated_state", "load_records", "migrate", "open_dataset", "phase_points",
    "pool_replicas", "portable_path", "states_csv",
]
