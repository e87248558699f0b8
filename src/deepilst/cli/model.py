"""``deepilst train``, ``deepilst evaluate`` and ``deepilst study``: the models."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from deepilst.cli._common import command_line


def add_model_commands(sub) -> None:
    t = sub.add_parser("train", help="train a model on dataset(s)",
                       description="Train a model on dataset(s), split 75/12.5/12.5 by source "
                       "simulation; early stopping.")
    t.add_argument("data", nargs="+", type=Path, help="training HDF5 dataset(s)")
    t.add_argument("--model", default="ensemble", help="paper (the paper's network) | ensemble (ours)")
    t.add_argument("-o", "--out", type=Path, required=True, help="model directory to write")
    t.add_argument("--seed", type=int, default=0, help="seed of split, initialisation and batches")
    t.add_argument("--epochs", type=int, default=None, help="maximum epochs (default: the model's)")
    t.add_argument("--members", type=int, default=None, help="ensemble members (ensemble only)")
    t.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    t.add_argument("--config", default=None, help="JSON object overriding hyper-parameters, e.g. "
                   "'{\"lr\": 1e-3}' (keys of the model's config)")
    t.set_defaults(handler=_train)

    e = sub.add_parser("evaluate", help="MAPE, coverage and domain flags of a model on datasets")
    e.add_argument("model", help="model directory or shipped model name")
    e.add_argument("data", nargs="+", type=Path, help="datasets; the model's own training file is "
                   "reported as train/val/holdout by its saved split")
    e.add_argument("--plot", type=Path, default=None, help="parity plot (PNG/PDF), the paper's Fig. 2")
    e.add_argument("--json", dest="json_out", type=Path, default=None, help="write metrics as JSON")
    e.set_defaults(handler=_evaluate)

    s = sub.add_parser("study", help="the argon study: Table 2 and Figure 3 of the paper")
    s.add_argument("name", help="argon (the paper's Table 2 and Figure 3)")
    s.add_argument("--data", type=Path, default=Path("data/v1_argon.h5"), help="argon grid dataset")
    s.add_argument("--model", action="append", default=None,
                   help="model directory or shipped name (repeatable; default ensemble and paper)")
    s.add_argument("--md", action="store_true", help="also run MD with the predicted parameters")
    s.add_argument("--md-model", action="append", default=[],
                   help="run that MD for this model only (repeatable; implies --md for it)")
    s.add_argument("-o", "--out", type=Path, default=Path("docs"), help="directory for JSON, table, figures")
    s.set_defaults(handler=_study)


def _train(a: argparse.Namespace) -> int:
    from deepilst.model.train import train_model

    m = train_model(a.data, a.model, a.out, seed=a.seed, config=a.config, epochs=a.epochs,
                    members=a.members, threads=a.threads, command=command_line())
    print(f"{a.out}: {m.kind} model, {m.meta['epochs_run']} epochs, best epochs "
          f"{m.meta['best_epoch']}, {m.meta['train_wall_s']:.0f} s")
    return 0


def _evaluate(a: argparse.Namespace) -> int:
    from deepilst.fileio import write_text_atomic
    from deepilst.model.evaluate import (
        evaluate_files,
        evaluation_json,
        format_metrics,
        parity_band,
        parity_plot,
    )
    from deepilst.predict import load_model

    m = load_model(a.model)
    res, sets, preds = evaluate_files(m, a.data)
    for line in format_metrics(res):
        print(line)
    if a.plot:
        band = parity_band(preds["train"], sets["train"]) if "train" in sets else None
        parity_plot(a.plot, sets, preds, band, title=f"{m.kind} model")
        print(a.plot)
    if a.json_out:
        write_text_atomic(a.json_out, json.dumps(evaluation_json(a.model, m, res),
                                                 indent=1))
        print(a.json_out)
    return 0


def _study(a: argparse.Namespace) -> int:
    from deepilst.study import format_summary, run_study

    results, paths = run_study(a.name, a.data, a.model or ["ensemble", "paper"], a.md_model,
                               md=a.md, out=a.out)
    print(format_summary(results))
    for p in paths:
        print(p)
    return 0
