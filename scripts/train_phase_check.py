"""Train the shipped phase classifier (deterministic: the same data give the same bytes).

    PYTHONPATH=src python scripts/train_phase_check.py [-o src/deepilst/shipped_models/phase]

Fits :class:`deepilst.model.phase_check.PhaseCheck` on the training simulations of
``data/v1_train.h5`` (every expanded sample; split by simulation with
``split_groups(seed=0)``, the split the shipped networks use), flags P(fluid) < 0.5 (the
class-balanced decision boundary; reported on validation), and records precision,
recall and false alarms on the internal test simulations and on the committed test,
two-run test and transfer files in ``phase_check.json``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from deepilst.model.data import load_arrays, split_groups  # noqa: E402
from deepilst.model.phase_check import PhaseCheck  # noqa: E402
from deepilst.rdf import model_grid  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
THRESHOLD = 0.5
EVAL = ("v1_test", "v1_test_2runs", "v1_transfer", "v1_argon")


def scores(pc: PhaseCheck, a) -> dict:
    """Flags against the labels of Arrays ``a``: non-fluid recall per label, precision, false
    alarms on fluids."""
    flag = pc.flag(a.g, a.T, a.rho)
    lab = pc.label(a.g, a.T, a.rho)
    fl = a.phase == "fluid"
    out = {"n": int(len(a)), "fluid": int(fl.sum()), "fluid_flagged": int(flag[fl].sum()),
           "false_alarm_rate": float(flag[fl].mean()) if fl.any() else 0.0,
           "precision": float((~fl[flag]).mean()) if flag.any() else 1.0}
    for p in ("two-phase", "solid"):
        m = a.phase == p
        out[p] = int(m.sum())
        out[p + "_flagged"] = int(flag[m].sum())
        out[p + "_labelled_right"] = int((lab[m] == p).sum())
    nf = ~fl
    out["recall"] = float(flag[nf].mean()) if nf.any() else 1.0
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--out", default=str(ROOT / "src/deepilst/shipped_models/phase"))
    args = ap.parse_args()
    data = load_arrays(ROOT / "data/v1_train.h5")
    tr, va, te = split_groups(data.group, seed=0)
    r = model_grid()
    d_tr = data.take(tr)
    pc = PhaseCheck.fit(d_tr.g, d_tr.rho, d_tr.phase, r,
                        meta={"trained_on": "data/v1_train.h5", "dataset_id": data.hashes[0],
                              "split": "deepilst.model.data.split_groups(group, seed=0)"})
    d_va = data.take(va)
    # the class-balanced decision boundary: on validation simulations it flags every solid and
    # two-phase sample (their P(fluid) < 1e-4) and 0.8 % of fluid ones (one hot, dense state)
    pc.threshold = THRESHOLD
    metrics = {"validation": scores(pc, d_va), "internal_test": scores(pc, data.take(te)),
               "train": scores(pc, d_tr)}
    for name in EVAL:
        metrics[name] = scores(pc, load_arrays(ROOT / f"data/{name}.h5"))
    pc.meta["metrics"] = metrics
    pc.save(args.out)
    for k, v in metrics.items():
        print(f"{k:14} {v}")


if __name__ == "__main__":
    main()
