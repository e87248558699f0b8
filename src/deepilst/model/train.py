"""Train a model on dataset files and save it with its provenance (what ``deepilst train`` runs)."""

from __future__ import annotations

import time
from pathlib import Path


def train_model(data: list[str | Path], kind: str, out: str | Path, seed: int = 0,
                config: dict | str | None = None, epochs: int | None = None,
                members: int | None = None, threads: int | None = None,
                command: str | None = None, progress: bool = True):
    """Train a ``kind`` model ("paper" or "ensemble") on the HDF5 ``data`` files (split
    75/12.5/12.5 by source simulation, early stopping) and save it into ``out``.

    ``config`` overrides hyper-parameters (a dict or a JSON object text; keys of the model's
    config, checked by :func:`deepilst.model.config.model_config`); ``threads`` sets torch's CPU
    threads. The saved ``model.json`` records ``provenance``: the command, torch and Python
    versions, threads and wall time. Returns the trained :class:`~deepilst.model.core.DeepILST`.
    """
    import torch

    from deepilst.model.config import model_config
    from deepilst.model.core import DeepILST
    from deepilst.model.data import load_arrays
    from deepilst.versions import versions

    if threads:
        torch.set_num_threads(int(threads))
    t0 = time.time()
    cfg = model_config(kind, config, epochs=epochs, members=members)
    m = DeepILST(kind, cfg, seed=seed)
    arrays = load_arrays(*data, noise=float(m.config.get("g_noise", 0.0)), seed=seed)
    m.fit(arrays, progress=progress)
    m.save(out, extra={"provenance": {"command": command, **versions("torch"),
                                      "wall_s_total": time.time() - t0,
                                      "threads": torch.get_num_threads()}})
    return m
