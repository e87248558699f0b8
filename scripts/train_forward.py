"""Train, calibrate and evaluate the forward model g*(x; T*, rho*) (``deepilst forward``).

    flock "${TMPDIR:-/tmp}"/deepilst-md.lock env PYTHONPATH=src python scripts/train_forward.py \
        [-o src/deepilst/shipped_models/forward] [--components 20] [--dx 0.002]

Trains on the fluid simulations of data/v1_train.h5, calibrates the predictive standard
deviation on the covered fluid states of data/v1_test_2runs.h5 (two pooled runs per state),
records validation metrics against MD (data/v1_test.h5 with the run-to-run eps_rdf from its
second runs, data/v1_test_2runs.h5, data/v1_transfer.h5) in the model's ``forward.json``, and
calibrates the likelihood inverse (covariance factor, chi2 level) on data/v1_transfer.h5.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--out", default="src/deepilst/shipped_models/forward")
    ap.add_argument("--train", default="data/v1_train.h5")
    ap.add_argument("--calibrate", default="data/v1_test_2runs.h5")
    ap.add_argument("--test", default="data/v1_test.h5")
    ap.add_argument("--transfer", default="data/v1_transfer.h5")
    ap.add_argument("--components", type=int, default=20)
    ap.add_argument("--coordinates", default="logT_rho")
    ap.add_argument("--dx", type=float, default=0.002)
    # (the transfer set also calibrates the likelihood inverse: forward_calibrate)
    ap.add_argument("--n-sub", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)

    import scipy

    from deepilst import __version__
    from deepilst.model.forward_data import reduced_curves
    from deepilst.model.forward_eval import load_sims, metrics, residual_parts, second_run
    from deepilst.model.forward_fit import calibrate, fit_forward

    t0 = time.time()
    curves = reduced_curves(a.train, dx=a.dx)
    model = fit_forward(curves, a.components, a.coordinates, a.n_sub, a.seed, progress=True)
    t_fit = time.time() - t0
    pooled = load_sims(a.calibrate)
    fl = np.flatnonzero(pooled["phase"] == "fluid")
    fc = fl[model.covers(pooled["T_reduced"][fl], pooled["rho_reduced"][fl])]
    cal = calibrate(model, residual_parts(model, pooled, fc))
    print("calibration", cal, file=sys.stderr)
    single = load_sims(a.test)
    run2 = second_run(single, pooled)
    val = {}
    f1 = np.flatnonzero(single["phase"] == "fluid")
    val["test_single_run"] = metrics(model, single, f1, other=run2)
    val["test_2runs_pooled"] = metrics(model, pooled, fl)
    tr = load_sims(a.transfer)
    cov = model.covers(tr["T_reduced"], tr["rho_reduced"])
    ft = np.flatnonzero((tr["phase"] == "fluid") & cov)
    val["transfer_covered"] = metrics(model, tr, ft)
    fc = f1[model.covers(single["T_reduced"][f1], single["rho_reduced"][f1])]
    val["test_single_run_covered"] = metrics(model, single, fc, other=run2)
    for k, v in val.items():
        print(k, {q: w for q, w in v.items() if q not in ("per_sim", "regions")}, file=sys.stderr)
        v.pop("per_sim")
    nonfluid = single["phase"] != "fluid"
    val["covers"] = {
        "test_fluid_covered": float(np.mean(model.covers(single["T_reduced"][f1],
                                                         single["rho_reduced"][f1]))),
        "test_nonfluid_not_covered": float(np.mean(~model.covers(
            single["T_reduced"][nonfluid], single["rho_reduced"][nonfluid]))),
        "transfer_fluid_covered": float(np.mean(cov[tr["phase"] == "fluid"]))}
    model.save(a.out)  # the forward model is complete here; the inverse's calibration follows
    # the likelihood inverse: covariance factor and chi2 level, on the covered fluid transfer
    # states (from the ensemble's answers; data/v1_test* stay for the comparison with it)
    from deepilst.model.forward_calibrate import calibrate_inverse, fit_sims
    from deepilst.predict import load_model

    ens = load_model("ensemble")
    ti = np.arange(len(tr["g"]))  # every transfer simulation; the calibration picks the fluids
    p = ens.predict(tr["g"][ti], tr["T"][ti], tr["rho"][ti])
    model.meta["inverse"] = {"cov_scale": 1.0}
    rows = fit_sims(model, tr, ti, np.column_stack([p["T_reduced"], p["rho_reduced"]]),
                    progress=True)
    inv = calibrate_inverse(model, rows, tr, a.transfer)
    print("inverse", inv, file=sys.stderr)
    from deepilst.dataset.read import open_dataset

    with open_dataset(a.train) as h:
        model.meta["rc_sigma"] = float(h.attrs["rc_sigma"])
        model.meta["cutoff_convention"] = str(h.attrs["cutoff_convention"])
    model.meta["validation"] = val
    model.meta["provenance"] = {
        "command": "python scripts/train_forward.py " + " ".join(argv if argv is not None
                                                                 else sys.argv[1:]),
        "deepilst": __version__, "python": platform.python_version(),
        "numpy": np.__version__, "scipy": scipy.__version__, "seed": a.seed,
        "fit_wall_s": round(t_fit, 1), "total_wall_s": round(time.time() - t0, 1)}
    model.save(a.out)
    print(f"wrote {a.out} ({time.time() - t0:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
