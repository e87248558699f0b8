"""``deepilst predict`` and ``deepilst validate``: parameters from a user's g(r), and their check."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from deepilst.cli._common import add_json_flag, add_state


def add_predict_commands(sub) -> None:
    p = sub.add_parser("predict", help="LJ C12, C6 (sigma, epsilon) with uncertainty from g(r)",
                       description="Lennard-Jones C12, C6 (sigma, epsilon) with uncertainty from "
                       "g(r) at (T, rho), in one shot.")
    p.add_argument("files", nargs="+", type=Path, help="g(r) files: GROMACS .xvg, VOTCA .dist.tgt, CSV")
    add_state(p)
    p.add_argument("--model", default=None, help="model directory or shipped name (default ensemble)")
    p.add_argument("--column", type=int, default=1, help="data column holding g(r) (1 = first after r)")
    p.add_argument("--format", dest="fmt", choices=("table", "json"), default="table")
    p.add_argument("--snippet", action=argparse.BooleanOptionalAction, default=True,
                   help="print GROMACS / LAMMPS / OpenMM snippets (table format)")
    p.add_argument("--mass", type=float, default=39.948, help="bead mass for the snippets, amu")
    p.add_argument("--name", default="LJ", help="bead name for the snippets (no spaces)")
    p.add_argument("--element", default=None, help="element symbol for the OpenMM snippet (default none)")
    p.add_argument("--r-unit", choices=("nm", "A"), default=None,
                   help="unit of r in the files (default: the .xvg axis label, else nm)")
    p.add_argument("--bin-width", type=float, default=None,
                   help="bin width of the files, nm (default: inferred from the r column)")
    p.add_argument("--strict", action="store_true",
                   help="exit 3 and print no snippets when any input is outside the training domain")
    p.add_argument("--err-column", default="auto",
                   help="data column with the standard errors of g: a number, 'auto' (the next "
                   "column when the .xvg legend names an error) or 'none'")
    p.add_argument("--prod-ps", type=float, default=None,
                   help="production length of the run behind g, ps: sets the input's noise when "
                   "the file has no errors (default: estimated from g's bin-to-bin scatter)")
    p.add_argument("--n-particles", type=int, default=1000,
                   help="particles (molecules) in that run, with --prod-ps, and for a gmx rdf "
                   "file made with -rmax (its N^2 normalisation is corrected by N/(N-1); "
                   "without -rmax N comes from the box) (default 1000)")
    p.add_argument("--input-noise", action=argparse.BooleanOptionalAction, default=True,
                   help="widen the intervals by the input's own noise (default on)")
    p.add_argument("--method", choices=("network", "fit"), default="network",
                   help="network: the one-shot answer; fit: refine it by a chi2 fit of the forward "
                   "model over the file's own bins (adds chi2_per_point, the LJ-fluid check)")
    p.add_argument("--fit-plot", type=Path, default=None,
                   help="with --method fit: residual plot (PNG/PDF; one file only)")
    p.add_argument("--forward-model", default=None,
                   help="forward model directory for --method fit and the blur correction "
                   "(default the shipped one)")
    p.add_argument("--blur-correction", action=argparse.BooleanOptionalAction, default=True,
                   help="bins the model's 0.005 nm shells do not refine (e.g. 0.01, 0.02 nm): add "
                   "back the blur they cause on the forward model's g(r) before the network reads "
                   "g (default on; input_bins.blur_correction reports it)")
    p.set_defaults(handler=_predict)

    b = sub.add_parser("batch", help="predict for many g(r) files listed in a CSV manifest",
                       description="Predict for every row of a CSV manifest with columns file,T,rho "
                       "(files relative to the manifest); a bad row or file is reported and skipped.")
    b.add_argument("manifest", type=Path, help="CSV with columns file,T,rho")
    b.add_argument("-o", "--output", type=Path, default=None, help="summary CSV (default: print it)")
    b.add_argument("--model", default=None, help="model directory or shipped name (default ensemble)")
    b.add_argument("--column", type=int, default=1, help="data column holding g(r) (1 = first after r)")
    b.add_argument("--format", dest="fmt", choices=("csv", "json"), default="csv")
    b.set_defaults(handler=_batch)

    v = sub.add_parser("validate", help="simulate with predicted (or given) parameters and compare",
                       description="Simulate the LJ fluid with the predicted (or given) parameters "
                       "at the input state; compare g(r), pressure and energy with the input.")
    v.add_argument("file", type=Path, help="reference g(r): .xvg, VOTCA .dist.tgt, CSV")
    add_state(v)
    v.add_argument("--params", default=None, help="C12,C6 to validate (kJ mol^-1 nm^12, nm^6); "
                   "default: the model's prediction from FILE")
    v.add_argument("--model", default=None, help="model for the prediction (default ensemble)")
    v.add_argument("--column", type=int, default=1, help="data column of FILE holding g(r)")
    v.add_argument("--engine", default="auto", help="auto | gromacs | openmm")
    v.add_argument("--n-particles", type=int, default=1000)
    v.add_argument("--equil-ps", type=float, default=50.0)
    v.add_argument("--prod-ps", type=float, default=350.0)
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--plot", type=Path, default=None, help="RDF overlay, PNG or PDF")
    add_json_flag(v)
    v.set_defaults(handler=_validate)


def _predict(a: argparse.Namespace) -> int:
    from deepilst.predict import load_model, parse_err_column, predict_file
    from deepilst.snippets import snippets
    from deepilst.units import check_positive

    check_positive("temperature", a.temperature)
    check_positive("density", a.density)
    snippets(1.0, 1.0, name=a.name, mass=a.mass, element=a.element)  # bad options fail first
    err_col = parse_err_column(a.err_column)
    m = load_model(a.model)
    fwd = None
    if a.method == "fit" or a.forward_model is not None:
        from deepilst.model.forward import load_forward_model

        fwd = load_forward_model(a.forward_model)
    if a.fit_plot is not None and (a.method != "fit" or len(a.files) != 1):
        from deepilst.errors import ParameterError

        raise ParameterError("fit_plot needs method 'fit' and a single input file")
    results = [predict_file(f, a.temperature, a.density, m, a.column, r_unit=a.r_unit,
                            bin_width=a.bin_width, err_column=err_col, prod_ps=a.prod_ps,
                            n_particles=a.n_particles, input_noise=a.input_noise,
                            method=a.method, forward=fwd, fit_plot=a.fit_plot,
                            blur_correction=a.blur_correction)
               for f in a.files]
    refused = a.strict and not all(d["in_domain"] for d in results)
    if not refused:
        for d in results:
            d["snippets"] = snippets(d["C12"], d["C6"], name=a.name, mass=a.mass,
                                     element=a.element, rc_sigma=m.rc_sigma)
    if a.fmt == "json":
        print(json.dumps(results[0] if len(results) == 1 else results, indent=1))
    else:
        for d in results:
            print(format_table(d))
            if a.snippet and not refused:
                for k, v in d["snippets"].items():
                    print(f"--- {k}\n{v}")
    if refused:
        bad = ", ".join(d["file"] for d in results if not d["in_domain"])
        print(f"error: outside the training domain (strict): {bad}; no snippets", file=sys.stderr)
        return 3
    return 0


def _validate(a: argparse.Namespace) -> int:
    from deepilst.md.spec import Protocol
    from deepilst.validate import format_text, parse_params, plot_overlay, validate_file

    params = parse_params(a.params) if a.params is not None else None
    res = validate_file(a.file, a.temperature, a.density, params=params, model=a.model,
                        column=a.column, engine=a.engine, seed=a.seed,
                        protocol=Protocol(equil_ps=a.equil_ps, prod_ps=a.prod_ps,
                                          n_particles=a.n_particles))
    for w in res["warnings"]:
        print(f"warning: {w}", file=sys.stderr)
    if a.plot:
        plot_overlay(a.plot, res, label=a.file.name)
    if a.json_out:
        print(json.dumps({k: v for k, v in res.items()
                          if k not in ("r", "g_input", "g_md", "g_md_sem", "g_input_err")}, indent=1))
    else:
        print(format_text(res))
    return 0 if res["verdict"] == "PASS" else 1


def _batch(a: argparse.Namespace) -> int:
    from deepilst.batch import predict_manifest, summary_csv, write_summary

    results = predict_manifest(a.manifest, a.model, a.column)
    for d in results:
        if "error" in d:
            print(f"skipped: {d['error']}", file=sys.stderr)
    if a.output is not None:
        write_summary(results, a.output)
    if a.fmt == "json":
        print(json.dumps(results, indent=1))
    elif a.output is None:
        print(summary_csv(results), end="")
    return 2 if results and all("error" in d for d in results) else 0


def format_table(d: dict) -> str:
    """Human-readable report of one prediction."""
    lines = []
    if "file" in d:
        lines.append(f"input: {d['file']}  (T = {d['T']:g} K, rho = {d['rho']:g} nm^-3)")
    units = {"C12": "kJ mol^-1 nm^12", "C6": "kJ mol^-1 nm^6", "sigma": "nm", "epsilon": "kJ/mol"}
    lines.append(f"{'':9}{'value':>13}{'std':>12}{'95 % interval':>29}")
    for k, u in units.items():
        lo, hi = d[k + "_95"]
        lines.append(f"{k:9}{d[k]:13.5e}{d[k + '_std']:12.3e}   [{lo:.4e}, {hi:.4e}]  {u}")
    inn = d.get("input_noise")
    if inn and inn["source"] != "none":
        ratio = inn["noise_ratio"]
        lines.append(f"input noise ({inn['source']}): "
                     + ("unknown" if ratio is None else f"{ratio:.2g} x the variance of a 350-ps, "
                        "1000-particle run")
                     + (f"; adds C12 +- {inn['C12_std_from_input']:.2e}, C6 +- "
                        f"{inn['C6_std_from_input']:.2e} (in the std above)"
                        if inn["excess_weight"] > 0 else ""))
    bc = d.get("input_bins", {}).get("blur_correction") or {}
    if bc.get("applied"):
        lines.append(f"input bins {d['input_bins']['bin_width_nm']:g} nm: the blur they cause "
                     f"was added back from the forward model at the {bc['state_from']}'s state "
                     f"(rms {bc['rms_delta_g']:.2g}, max {bc['max_abs_delta_g']:.2g} in g)")
    if d.get("method") == "fit":
        lines.append(f"likelihood fit of the forward model: chi2/point = {d['chi2_per_point']:.3g} "
                     f"over {d['fit']['n_points']} bins (errors: {d['fit']['input_error']})")
    lines.append(f"T* = {d['T_reduced']:.4g}, rho* = {d['rho_reduced']:.4g}; "
                 f"{'inside' if d['in_domain'] else 'OUTSIDE'} the training domain ({d['model']} model)")
    if "P" in d:
        lines.append(f"pressure (virial route, from g and the predicted u): P = {d['P']:.1f} +- "
                     f"{d['P_std']:.1f} bar")
        lines.append(f"potential energy per particle: U = {d['U']:.4f} +- {d['U_std']:.4f} kJ/mol")
    lines.append(f"cutoff convention: {d['cutoff_convention']}")
    for w in d["warnings"]:
        lines.append(f"warning: {w}")
    return "\n".join(lines)
