"""The paper's argon study (Table 2 and Figure 3): predictions over the 11 x 11 (T, rho) grid
of argon RDFs and the pressure implied by the predicted parameters, beside the MD pressure.

Pressure from the predicted parameters is computed two ways:

* ``virial``: the virial route with the *input* (MD) g(r) and the predicted potential
  (:func:`deepilst.thermo.pressure_from_rdf`, cutoff 3 sigma of the prediction plus tails);
  costs nothing.
* ``md`` (optional): a new MD run with the predicted parameters at each state, as the paper did.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from deepilst.units import ARGON_C6, ARGON_C12

#: The paper's Table 2 (mean +- spread over the 121 states, error of the mean) and its Figure 3
#: pressure error. The paper gives no per-state errors.
PAPER_TABLE2 = {"C12_mean": 10.3e-6, "C12_std": 0.116e-6, "C12_rel_err": 6.18,
                "C6_mean": 6.23e-3, "C6_std": 0.0053e-3, "C6_rel_err": 0.16,
                "pressure_mean_rel_err": 17.0}


def argon_study(dataset: str | Path, model, md: bool = False, md_protocol=None,
                progress: bool = True) -> dict:
    """Predict (C12, C6) at every state of the argon grid dataset and compare pressures.

    Returns a JSON-ready dict: per-state arrays (T [K], rho [nm^-3], C12, C6 and their std,
    P_md, P_pred [bar], ...) and the summary (Table 2 as mean +- std, relative errors, mean and
    median relative pressure error), with the paper's numbers beside ours.
    """
    from deepilst.dataset import open_dataset
    from deepilst.model.data import load_arrays
    from deepilst.predict import predict_arrays

    a = load_arrays(dataset)
    with open_dataset(dataset) as h:
        p_md = h["sims"]["P"][:]
        p_md_sem = h["sims"]["P_sem"][:]
        u_md = h["sims"]["U"][:]
    preds = predict_arrays(model, a.g, a.T, a.rho, thermo=True)
    c12 = np.array([d["C12"] for d in preds])
    c6 = np.array([d["C6"] for d in preds])
    p_pred = np.array([d["P"] for d in preds])
    p_pred_std = np.array([d["P_std"] for d in preds])
    u_pred = np.array([d["U"] for d in preds])
    res = {"T": a.T.tolist(), "rho": a.rho.tolist(), "C12": c12.tolist(), "C6": c6.tolist(),
           "C12_std": [d["C12_std"] for d in preds], "C6_std": [d["C6_std"] for d in preds],
           "in_domain": [d["in_domain"] for d in preds],
           "P_md": p_md.tolist(), "P_md_sem": p_md_sem.tolist(), "U_md": u_md.tolist(),
           "P_pred_virial": p_pred.tolist(), "P_pred_virial_std": p_pred_std.tolist(),
           "U_pred_virial": u_pred.tolist()}
    rel_p = np.abs(p_pred - p_md) / np.abs(p_md)
    summary = {
        "n_states": int(len(c12)), "model": model.kind,
        "C12_mean": float(c12.mean()), "C12_std": float(c12.std(ddof=1)),
        "C12_rel_err_pct": float(100 * abs(c12.mean() - ARGON_C12) / ARGON_C12),
        "C6_mean": float(c6.mean()), "C6_std": float(c6.std(ddof=1)),
        "C6_rel_err_pct": float(100 * abs(c6.mean() - ARGON_C6) / ARGON_C6),
        "C12_mape_pct": float(100 * np.mean(np.abs(c12 - ARGON_C12)) / ARGON_C12),
        "C6_mape_pct": float(100 * np.mean(np.abs(c6 - ARGON_C6)) / ARGON_C6),
        "pressure_virial_mean_rel_err_pct": float(100 * rel_p.mean()),
        "pressure_virial_median_rel_err_pct": float(100 * np.median(rel_p)),
        "energy_virial_mean_rel_err_pct": float(100 * np.mean(np.abs(u_pred - u_md) / np.abs(u_md))),
        "in_domain_fraction": float(np.mean(res["in_domain"])),
        "paper": PAPER_TABLE2,
    }
    if md:
        p_run = _md_pressures(a.T, a.rho, c12, c6, md_protocol, progress)
        res["P_pred_md"] = p_run[:, 0].tolist()
        res["P_pred_md_sem"] = p_run[:, 1].tolist()
        rel = np.abs(p_run[:, 0] - p_md) / np.abs(p_md)
        summary["pressure_md_mean_rel_err_pct"] = float(100 * rel.mean())
        summary["pressure_md_median_rel_err_pct"] = float(100 * np.median(rel))
    res["summary"] = summary
    return res


def _md_pressures(T, rho, c12, c6, protocol, progress: bool) -> np.ndarray:
    from tqdm import tqdm

    from deepilst.md.simulate import run_simulation
    from deepilst.md.spec import Protocol, SimSpec

    protocol = protocol or Protocol(equil_ps=50, prod_ps=350, n_particles=1000)
    out = []
    for i in tqdm(range(len(T)), desc="md", disable=not progress):
        run = run_simulation(SimSpec(float(T[i]), float(rho[i]), float(c12[i]), float(c6[i]),
                                     protocol=protocol, seed=1000 + i))
        out.append((run.P.mean, run.P.sem))
    return np.array(out)


STUDIES = ("argon",)


def run_study(name: str, data: str | Path, models: list[str], md_models: list[str] = (),
              md: bool = False, out: str | Path = "docs") -> tuple[dict, list[Path]]:
    """Run a named study (``argon``: the paper's Table 2 and Figure 3) for each model (directory
    or shipped name), with MD at the predicted parameters for ``md_models`` (all with ``md``);
    write its JSON, table and figures into ``out``. Returns (results by model name, paths)."""
    from deepilst.errors import ParameterError
    from deepilst.predict import load_model

    if name not in STUDIES:
        raise ParameterError(f"unknown study {name!r}; available: {', '.join(STUDIES)}")
    unknown = sorted(set(md_models) - set(models))
    if unknown:
        raise ParameterError(f"md model {unknown[0]!r} is not among the models {list(models)}")
    results = {Path(m).name: argon_study(data, load_model(m), md=md or m in md_models)
               for m in models}
    return results, write_study(out, results)


def format_summary(results: dict) -> str:
    """Table 2 in markdown and the pressure errors of each model, as text."""
    lines = [table2_markdown({k: v["summary"] for k, v in results.items()})]
    for k, v in results.items():
        s = v["summary"]
        lines.append(f"{k}: pressure error (virial route) mean "
                     f"{s['pressure_virial_mean_rel_err_pct']:.2f} %, median "
                     f"{s['pressure_virial_median_rel_err_pct']:.2f} %"
                     + (f"; MD with predicted parameters mean {s['pressure_md_mean_rel_err_pct']:.2f} %"
                        if "pressure_md_mean_rel_err_pct" in s else ""))
    return "\n".join(lines)


def plot_pressure_maps(path: str | Path, res: dict) -> Path:
    """Figure 3: MD pressure, pressure from the predicted parameters, and their relative error
    over the (T, rho) grid."""
    from deepilst.plots import _plt, save_figure

    plt = _plt()

    T, rho = np.array(res["T"]), np.array(res["rho"])
    key = "P_pred_md" if "P_pred_md" in res else "P_pred_virial"
    p_md, p_pr = np.array(res["P_md"]), np.array(res[key])
    err = 100 * np.abs(p_pr - p_md) / np.abs(p_md)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    vmin, vmax = min(p_md.min(), p_pr.min()), max(p_md.max(), p_pr.max())
    for ax, z, title, kw in ((axes[0], p_md, "P from MD (true argon), bar", {"vmin": vmin, "vmax": vmax}),
                             (axes[1], p_pr, f"P with predicted C12, C6 ({key.split('_')[-1]}), bar",
                              {"vmin": vmin, "vmax": vmax}),
                             (axes[2], err, f"|error| %  (mean {err.mean():.2f} %)", {})):
        sc = ax.tricontourf(rho, T, z, levels=20, **kw)
        ax.plot(rho, T, "k.", ms=1.5)
        fig.colorbar(sc, ax=ax)
        ax.set_xlabel("rho / nm^-3")
        ax.set_ylabel("T / K")
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path, dpi=130)


def table2_markdown(summaries: dict[str, dict]) -> str:
    """Table 2 as markdown: the paper's row and one row per model summary.

    Two errors per parameter: the error of the mean over the 121 states (Table 2's definition,
    |mean - true| / true) and the mean per-state error (mean |pred - true| / true), which says
    how far a single prediction lands; the paper reports only the first."""
    p = PAPER_TABLE2
    lines = ["| | C12 (1e-6) | C12 error of the mean | C12 per-state error | C6 (1e-3) | "
             "C6 error of the mean | C6 per-state error | mean P error |",
             "|---|---|---|---|---|---|---|---|",
             "| true argon | 9.70 | | | 6.22 | | | |",
             f"| paper (DeepILST 2019) | {p['C12_mean'] * 1e6:.2f} +- {p['C12_std'] * 1e6:.3f} | "
             f"{p['C12_rel_err']:.2f} % | not given | {p['C6_mean'] * 1e3:.2f} +- "
             f"{p['C6_std'] * 1e3:.4f} | {p['C6_rel_err']:.2f} % | not given | "
             f"{p['pressure_mean_rel_err']:.0f} % |"]
    for name, s in summaries.items():
        pe = s.get("pressure_md_mean_rel_err_pct", s["pressure_virial_mean_rel_err_pct"])
        lines.append(f"| {name} | {s['C12_mean'] * 1e6:.3f} +- {s['C12_std'] * 1e6:.3f} | "
                     f"{s['C12_rel_err_pct']:.2f} % | {s['C12_mape_pct']:.2f} % | "
                     f"{s['C6_mean'] * 1e3:.3f} +- {s['C6_std'] * 1e3:.3f} | "
                     f"{s['C6_rel_err_pct']:.2f} % | {s['C6_mape_pct']:.2f} % | {pe:.2f} % |")
    return "\n".join(lines) + "\n"


def write_study(out_dir: str | Path, results: dict[str, dict]) -> list[Path]:
    """Write argon_study.json, argon_table2.md and argon_pressure_<model>.png into ``out_dir``."""
    from deepilst.fileio import write_text_atomic

    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    paths = [d / "argon_study.json", d / "argon_table2.md"]
    write_text_atomic(paths[0], json.dumps(results, indent=1))
    write_text_atomic(paths[1], table2_markdown({k: v["summary"] for k, v in results.items()}))
    for name, res in results.items():
        paths.append(plot_pressure_maps(d / f"argon_pressure_{name}.png", res))
    return paths
