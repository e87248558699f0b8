"""Training hyper-parameters of the two models (the one place that validates overrides), and
the conventions a saved model records about its training data (r grid, cutoff)."""

from __future__ import annotations

import json
import re

import numpy as np

from deepilst.errors import ModelError, ParameterError
from deepilst.units import RC_SIGMA

KINDS = ("paper", "ensemble")

PAPER_CONFIG = {"hidden": [48, 15], "act": "tanh+sigmoid", "out_act": "sigmoid",
                "members": 1, "dropout": {"1": 0.25}, "epochs": 1500, "batch": 64, "lr": 1e-3,
                "weight_decay": 0.0, "patience": 100, "input_noise": 0.0}
ENSEMBLE_CONFIG = {"hidden": [128, 128, 128], "act": "silu", "out_act": "identity",
                   "members": 8, "dropout": {}, "epochs": 300, "batch": 256, "lr": 5e-4,
                   "weight_decay": 1e-3, "patience": 60, "input_noise": 0.0,
                   "kernel_bandwidth": 0.35, "target_basis": "logC12_logC6", "stop_on": "fluid",
                   "g_noise": 0.0, "feature_args": {"pca": 32}}
# what models saved before a config key existed were trained with
_LEGACY = {"target_basis": "logT_logrho", "stop_on": "all", "g_noise": 0.0}


def check_kind(kind: str) -> str:
    """``kind`` if it names a model ("paper" or "ensemble"), else :class:`ModelError`."""
    if kind not in KINDS:
        raise ModelError(f"unknown model kind {kind!r}; expected 'paper' or 'ensemble'")
    return kind


def default_config(kind: str) -> dict:
    """A fresh copy of the default hyper-parameters of ``kind``."""
    return json.loads(json.dumps(PAPER_CONFIG if check_kind(kind) == "paper" else ENSEMBLE_CONFIG))


def stored_config(kind: str, config: dict) -> dict:
    """The configuration a saved model was trained with: keys it lacks (written before they
    existed) take their value of that time (``_LEGACY``), not today's default."""
    return {**_LEGACY, **config} if check_kind(kind) == "ensemble" else dict(config)


def model_config(kind: str, overrides: dict | str | None = None, epochs: int | None = None,
                 members: int | None = None) -> dict:
    """The overrides of the default configuration of ``kind``, validated.

    Parameters
    ----------
    kind : "paper" or "ensemble"
    overrides : keys of the model's configuration (a dict, or a JSON object as text)
    epochs : maximum training epochs (overrides ``overrides["epochs"]``)
    members : ensemble members (the ensemble only)

    Returns
    -------
    dict of overrides, to pass as ``DeepILST(kind, config=...)``.

    Raises
    ------
    ModelError for an unknown kind; ParameterError for text that is not a JSON object, unknown
    keys, ``members`` for the paper model, or non-positive ``epochs`` / ``members``.
    """
    known = default_config(kind)
    cfg = overrides
    if isinstance(overrides, str):
        try:
            cfg = json.loads(overrides)
        except ValueError:
            raise ParameterError(f"config: not a JSON object: {overrides!r}") from None
    cfg = {} if cfg is None else cfg
    if not isinstance(cfg, dict):
        raise ParameterError(f"config: expected a JSON object with keys among {sorted(known)}; "
                             f"got {overrides!r}")
    bad = sorted(set(cfg) - set(known))
    if bad:
        raise ParameterError(f"config: unknown keys {bad} for the {kind} model; expected keys "
                             f"among {sorted(known)}")
    cfg = dict(cfg)
    for name, value in (("epochs", epochs), ("members", members)):
        if value is None:
            continue
        if name == "members" and kind == "paper":
            raise ParameterError("members applies to the ensemble model only")
        if int(value) != value or value < 1:
            raise ParameterError(f"{name} must be a positive integer, got {value!r}")
        cfg[name] = int(value)
    return cfg


def grid_from_meta(d: dict) -> np.ndarray:
    """The r grid [nm] of ``model.json`` ``r_grid_nm`` ({start, stop, step})."""
    start, stop, step = float(d["start"]), float(d["stop"]), float(d["step"])
    return np.round(start + np.arange(0, int(round((stop - start) / step)) + 1) * step, 10)


def rc_sigma_from_meta(meta: dict) -> float:
    """The cutoff [sigma] a model's training data used: ``rc_sigma``, else the number in the
    ``cutoff_convention`` text, else the default of files that predate both (``RC_SIGMA``)."""
    if "rc_sigma" in meta:
        return float(meta["rc_sigma"])
    m = re.match(r"\s*rc\s*=\s*([0-9.eE+-]+)\s*sigma", str(meta.get("cutoff_convention", "")))
    return float(m.group(1)) if m else RC_SIGMA
