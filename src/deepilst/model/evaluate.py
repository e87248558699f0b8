"""Evaluation: MAPE (paper definition), calibration, regions of (T*, rho*), parity plots.

:func:`evaluate_files` is the whole ``deepilst evaluate`` command less its printing: which
dataset is the model's own training file (split by the saved split), metrics per set, the
paper's parity band and the text lines (:func:`format_metrics`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deepilst.sampling import TABLE1

T_STAR_BINS = (0.0, 1.5, 4.0, 15.0, np.inf)
RHO_STAR_BINS = (0.0, 0.5, 0.9, np.inf)


def mape(pred: np.ndarray, true: np.ndarray) -> float:
    """100 sum|pred - true| / sum|true| (the paper's definition, per parameter)."""
    pred, true = np.asarray(pred, float), np.asarray(true, float)
    return float(100.0 * np.sum(np.abs(pred - true)) / np.sum(np.abs(true)))


def mean_abs_pct(pred: np.ndarray, true: np.ndarray) -> float:
    """100 mean(|pred - true| / |true|): the per-state mean error (a secondary row; the paper's
    MAPE is :func:`mape`)."""
    pred, true = np.asarray(pred, float), np.asarray(true, float)
    return float(100.0 * np.mean(np.abs(pred - true) / np.abs(true)))


def set_metrics(pred: dict, data) -> dict:
    """MAPE of C12 and C6 (the paper's, on all states; then on fluid states, on in-domain
    states, and the per-state mean), 95 % coverage, domain fractions, and MAPE by region of
    (T*, rho*) for one set."""
    fl = data.phase == "fluid"
    dom = np.asarray(pred["in_domain"], bool)
    out: dict = {"n": int(len(data)), "n_fluid": int(fl.sum()), "n_in_domain": int(dom.sum())}
    for k in ("C12", "C6"):
        true = getattr(data, k)
        inside = (true >= pred[k + "_95"][:, 0]) & (true <= pred[k + "_95"][:, 1])
        out[k] = {"mape": mape(pred[k], true),
                  "mape_fluid": mape(pred[k][fl], true[fl]) if fl.any() else None,
                  "mape_in_domain": mape(pred[k][dom], true[dom]) if dom.any() else None,
                  "mape_fluid_in_domain": mape(pred[k][fl & dom], true[fl & dom])
                  if (fl & dom).any() else None,
                  "mean_abs_pct": mean_abs_pct(pred[k], true),
                  "mean_abs_pct_fluid": mean_abs_pct(pred[k][fl], true[fl]) if fl.any() else None,
                  "coverage95_fluid": float(np.mean(inside[fl])) if fl.any() else None,
                  "coverage95": float(np.mean(inside)),
                  "coverage95_in_domain": float(np.mean(inside[dom])) if dom.any() else None,
                  "flagged_or_covered": float(np.mean(inside | ~dom)),
                  "median_rel_std": float(np.median(pred[k + "_std"] / pred[k]))}
    out["in_domain_fraction"] = float(np.mean(dom))
    out["shape_ok_fraction"] = float(np.mean(pred["shape_ok"]))
    regions = []
    ts, rs = data.T_reduced, data.rho_reduced
    for a, b in zip(T_STAR_BINS[:-1], T_STAR_BINS[1:]):
        for c, d in zip(RHO_STAR_BINS[:-1], RHO_STAR_BINS[1:]):
            m = (ts >= a) & (ts < b) & (rs >= c) & (rs < d)
            if m.sum() >= 3:
                regions.append({"T_reduced": [a, b if np.isfinite(b) else None],
                                "rho_reduced": [c, d if np.isfinite(d) else None], "n": int(m.sum()),
                                "mape_C12": mape(pred["C12"][m], data.C12[m]),
                                "mape_C6": mape(pred["C6"][m], data.C6[m])})
    out["regions"] = regions
    return out


def evaluate(model, sets: dict[str, object]) -> dict:
    """Metrics of ``model`` on named :class:`~deepilst.model.data.Arrays` sets; returns
    ``{name: metrics}`` and the raw predictions under ``_pred``."""
    res, preds = {}, {}
    for name, data in sets.items():
        if len(data) == 0:
            continue
        p = model.predict(data.g, data.T, data.rho)
        preds[name] = p
        res[name] = set_metrics(p, data)
    res["_pred"] = preds
    return res


def split_sets(model, data) -> dict:
    """The train / validation / internal-test parts of ``data`` by the model's saved split
    (keys "train", "val", "test")."""
    sp = model.meta.get("split", {})
    out = {}
    for name in ("train", "val", "test"):
        groups = set(sp.get(name, []))
        idx = np.flatnonzero([g in groups for g in data.group])
        out[name] = data.take(idx)
    return out


def own_datasets(model) -> set[str]:
    """sha256 of the datasets ``model`` was trained on (from its metadata)."""
    return {d["sha256"] for d in model.meta.get("datasets", [])}


def set_name(path: str | Path) -> str:
    """The name a dataset file is reported under: its stem without the ``v1_`` prefix."""
    return Path(path).stem.removeprefix("v1_")


def named_sets(model, paths: list[str | Path]) -> dict:
    """Named :class:`~deepilst.model.data.Arrays` sets of the datasets ``paths``: the model's
    own training file (recognised by its sha256) as "train", "val" and "holdout" by the saved
    split, every other file under :func:`set_name`."""
    from deepilst.model.data import load_arrays

    own = own_datasets(model)
    sets: dict = {}
    for p in paths:
        a = load_arrays(p)
        if a.hashes[0] in own:
            sets.update({("holdout" if k == "test" else k): v
                         for k, v in split_sets(model, a).items()})
        else:
            sets[set_name(p)] = a
    return sets


def evaluate_files(model, paths: list[str | Path]) -> tuple[dict, dict, dict]:
    """Evaluate ``model`` on dataset files (see :func:`named_sets`).

    Returns
    -------
    (metrics ``{name: set_metrics}``, sets ``{name: Arrays}``, predictions ``{name: dict}``);
    sets with no samples are left out of metrics and predictions.
    """
    sets = named_sets(model, paths)
    res = evaluate(model, sets)
    preds = res.pop("_pred")
    return res, sets, preds


def parity_band(pred: dict, data) -> float:
    """The paper's parity band 4 sqrt(training loss), in Table 1 min-max units: the loss the
    mean squared error of C12 and C6 of ``pred`` on ``data`` (the training samples), each
    scaled by the width of its Table 1 range."""
    se = [((pred[k] - getattr(data, k)) / (TABLE1[k][1] - TABLE1[k][0])) ** 2
          for k in ("C12", "C6")]
    return 4 * float(np.sqrt(np.mean(se)))


def format_metrics(metrics: dict) -> list[str]:
    """One text line per set: MAPE (all, fluid), 95 % coverage, fraction in domain."""
    nan = float("nan")
    lines = []
    for name, r in metrics.items():
        c12, c6 = r["C12"], r["C6"]
        f12 = nan if c12["mape_fluid"] is None else c12["mape_fluid"]
        f6 = nan if c6["mape_fluid"] is None else c6["mape_fluid"]
        lines.append(f"{name:9s} n={r['n']:5d}  MAPE C12 {c12['mape']:6.2f} %  C6 {c6['mape']:6.2f} %"
                     f"  | fluid C12 {f12:6.2f} %  C6 {f6:6.2f} %  | 95 % cover C12 "
                     f"{c12['coverage95']:.2f} C6 {c6['coverage95']:.2f}"
                     f"  | in domain {r['in_domain_fraction']:.2f}")
    return lines


def evaluation_json(model_name: str, model, metrics: dict) -> dict:
    """The content of ``evaluation.json``: {"model", "kind", "sets": {name: metrics}}."""
    return {"model": str(model_name), "kind": model.kind, "sets": metrics}


def parity_plot(path: str | Path, sets: dict, preds: dict, band: float | None = None,
                title: str = "") -> Path:
    """Figure 2 of the paper: predicted vs true C12 (top) and C6 (bottom) per set, with the
    +-``band`` lines (band in Table 1 min-max units, the paper's 4 sqrt(training loss))."""
    from deepilst.plots import _plt, save_figure

    plt = _plt()

    names = [n for n in sets if n in preds]
    fig, axes = plt.subplots(2, len(names), figsize=(3.2 * len(names), 6.2), squeeze=False)
    for j, name in enumerate(names):
        data, p = sets[name], preds[name]
        for i, k in enumerate(("C12", "C6")):
            ax = axes[i, j]
            true, pr = getattr(data, k), p[k]
            fl = data.phase == "fluid"
            ax.errorbar(true[fl], pr[fl], yerr=p[k + "_std"][fl], fmt=".", ms=2, lw=0.3, alpha=0.5,
                        label="fluid")
            if (~fl).any():
                ax.plot(true[~fl], pr[~fl], "x", ms=3, color="C3", label="solid/two-phase")
            lo, hi = TABLE1[k]
            span = hi - lo
            lim = [min(true.min(), lo), max(true.max(), hi)]
            ax.plot(lim, lim, "k-", lw=0.8)
            if band is not None:
                ax.plot(lim, [v + band * span for v in lim], "k--", lw=0.6)
                ax.plot(lim, [v - band * span for v in lim], "k--", lw=0.6)
            ax.set_title(f"{name}: {k} MAPE {mape(pr, true):.2f} %", fontsize=9)
            ax.set_xlabel(f"true {k}")
            ax.set_ylabel(f"predicted {k}")
            ax.set_xlim(lim)
            ax.set_ylim(lim)
            ax.ticklabel_format(style="sci", scilimits=(0, 0))
            if i == 0 and j == 0:
                ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path, dpi=130)
