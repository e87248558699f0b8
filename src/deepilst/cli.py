"""Command-line interface (thin: every command calls the library). Heavy packages (numba,
openmm, h5py, torch) are imported inside the commands so that ``--help`` starts fast."""

from __future__ import annotations

import functools
import json
import shlex
import sys
from pathlib import Path

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="deepilst: Lennard-Jones parameters from g(r), and the MD data behind it.")
dataset_app = typer.Typer(no_args_is_help=True, help="Consolidate, inspect and export datasets.")
app.add_typer(dataset_app, name="dataset")


def _fail(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(2)


def friendly(fn):
    """Turn expected errors into one line on stderr and exit code 2 (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*a, **k):
        from deepilst.units import ParameterError

        try:
            return fn(*a, **k)
        except typer.Exit:
            raise
        except (ParameterError, FileNotFoundError, PermissionError) as exc:
            _fail(str(exc))
        except Exception as exc:  # known library errors by name, anything else re-raised
            names = {c.__name__ for c in type(exc).__mro__}
            if names & {"EngineUnavailable", "DatasetError", "SimulationError", "ValueError",
                        "RDFInputError", "ModelError"}:
                _fail(str(exc))
            raise

    return wrapper


def _command() -> str:
    return "deepilst " + " ".join(shlex.quote(a) for a in sys.argv[1:])


@app.command()
@friendly
def generate(
    design: str = typer.Option(..., help="paper | transfer | reduced | grid"),
    out: Path = typer.Option(..., "--out", "-o", help="output directory (resumable)"),
    n: int | None = typer.Option(None, help="number of systems (not for grid)"),
    grid: Path | None = typer.Option(None, help="CSV with columns T,rho,C12,C6 (design grid)"),
    engine: str = typer.Option("auto", help="auto | gromacs | openmm"),
    workers: int | None = typer.Option(None, help="local processes (default: all cores)"),
    scheduler: str | None = typer.Option(None, help="dask.distributed scheduler address"),
    cluster_config: Path | None = typer.Option(None, help="dask-jobqueue cluster JSON"),
    equil_ps: float = typer.Option(100.0, help="equilibration, ps"),
    prod_ps: float = typer.Option(900.0, help="production, ps"),
    n_particles: int = typer.Option(1000, help="particles per system"),
    sample_every: int = typer.Option(100, help="MD steps between analysed frames"),
    dt_ps: float | None = typer.Option(None, help="time step, ps (default: 0.008 time units)"),
    expand: int = typer.Option(50, help="reduced design: physical samples per simulation"),
    weighting: str = typer.Option("log", help="reduced design: log (even in log T*, rho*) | table1 "
                                  "(the density a uniform Table 1 box induces)"),
    seed: int = typer.Option(0, help="design and simulation seed"),
    dry_run: bool = typer.Option(False, help="print the plan, run nothing"),
) -> None:
    """Simulate a design of LJ state points; one record per system in OUT/systems/."""
    from deepilst.md.simulate import resolve_engine
    from deepilst.md.spec import Protocol
    from deepilst.runner import build_specs
    from deepilst.runner import generate as run_generate
    from deepilst.sampling import make_design

    points = make_design(design, n, seed, grid, expand, weighting)
    if scheduler is None and cluster_config is None:
        eng = resolve_engine(engine)
    else:
        eng = engine  # resolved on the workers
    protocol = Protocol(equil_ps=equil_ps, prod_ps=prod_ps, n_particles=n_particles,
                        dt_ps=dt_ps, sample_every=sample_every)
    specs = build_specs(points, eng, protocol, seed)
    steps = sum((s.n_equil_steps + s.n_prod_steps) * n_particles for s in specs)
    typer.echo(f"{len(specs)} systems, engine {eng}, {steps:.3g} atom-steps in total", err=True)
    if dry_run:
        return
    res = run_generate(specs, out, workers=workers, scheduler=scheduler,
                       cluster_config=cluster_config, command=_command())
    typer.echo(json.dumps(res))
    if res["failed"]:
        typer.echo(f"{res['failed']} systems failed; reasons in {out}/failed/", err=True)


@app.command()
@friendly
def simulate(
    temperature: float = typer.Option(..., "--temperature", "-T", help="K"),
    density: float = typer.Option(..., "--density", "-d", help="nm^-3"),
    c12: float = typer.Option(..., help="kJ mol^-1 nm^12"),
    c6: float = typer.Option(..., help="kJ mol^-1 nm^6"),
    engine: str = typer.Option("auto", help="auto | gromacs | openmm"),
    equil_ps: float = typer.Option(20.0, help="equilibration, ps"),
    prod_ps: float = typer.Option(100.0, help="production, ps"),
    n_particles: int = typer.Option(500, help="particles"),
    seed: int = typer.Option(0),
    xvg: Path | None = typer.Option(None, help="write g(r) as .xvg"),
    plot: Path | None = typer.Option(None, help="write a PNG/PDF plot of g(r)"),
    json_out: bool = typer.Option(False, "--json", help="print the summary as JSON"),
) -> None:
    """Simulate one LJ fluid and report g(r), energy, pressure and phase."""
    from deepilst.md.simulate import simulate as run
    from deepilst.md.spec import Protocol, SimSpec

    spec = SimSpec(temperature, density, c12, c6, engine=engine, seed=seed,
                   protocol=Protocol(equil_ps=equil_ps, prod_ps=prod_ps, n_particles=n_particles))
    from tqdm import tqdm

    with tqdm(total=spec.n_prod_steps // spec.protocol.sample_every, unit="frame",
              desc="production", file=sys.stderr, disable=json_out) as bar:
        def progress(i, n):
            bar.update(i - bar.n)

        rec = run(spec, progress=progress)
    import numpy as np

    r = np.asarray(rec["r"])
    g = np.array([np.nan if v is None else v for v in rec["g"]])
    ge = np.array([np.nan if v is None else v for v in rec["g_err"]])
    if xvg:
        from deepilst.xvg import write_xvg

        write_xvg(xvg, r, [g, ge], ["g(r)", "std. error"], title="deepilst simulate",
                  comments=[f"T = {temperature} K, rho = {density} nm^-3, C12 = {c12:g}, C6 = {c6:g}",
                            f"engine {rec['engine']}, {rec['cutoff_convention']}"])
    if plot:
        from deepilst.plots import plot_rdf

        plot_rdf(plot, r, g, ge, title=f"T = {temperature:g} K, rho = {density:g} nm$^{{-3}}$ "
                 f"({rec['engine']})")
    k = int(np.nanargmax(g))
    summary = {
        "engine": rec["engine"], "T_star": rec["T_star"], "rho_star": rec["rho_star"],
        "sigma": rec["sigma"], "epsilon": rec["epsilon"], "phase": rec["phase"]["label"],
        "first_peak_r": float(r[k]), "first_peak_g": float(g[k]), "first_peak_g_err": float(ge[k]),
        "energy_kJ_mol": rec["energy"]["mean"], "energy_sem": rec["energy"]["sem"],
        "pressure_bar": rec["pressure"]["mean"], "pressure_sem": rec["pressure"]["sem"],
        "equilibrated": rec["equilibration"]["passed"], "wall_s": rec["wall_s"],
        "cutoff_convention": rec["cutoff_convention"],
    }
    if json_out:
        typer.echo(json.dumps(summary, indent=1))
        return
    typer.echo(f"engine {summary['engine']}  T* = {rec['T_star']:.3f}  rho* = {rec['rho_star']:.3f}"
               f"  phase: {summary['phase']}")
    typer.echo(f"first peak g({r[k]:.3f} nm) = {g[k]:.3f} +- {ge[k]:.3f}")
    typer.echo(f"U/N = {summary['energy_kJ_mol']:.4f} +- {summary['energy_sem']:.4f} kJ/mol,"
               f"  P = {summary['pressure_bar']:.1f} +- {summary['pressure_sem']:.1f} bar")
    typer.echo("   r/nm    g(r)")
    for i in range(50, 301, 10):
        typer.echo(f"  {r[i]:.3f}  {g[i]:.4f}")

@app.command()
@friendly
def train(
    data: list[Path] = typer.Argument(..., help="training HDF5 dataset(s)"),
    model: str = typer.Option("ensemble", help="paper (the paper's network) | ensemble (ours)"),
    out: Path = typer.Option(..., "-o", "--out", help="model directory to write"),
    seed: int = typer.Option(0, help="seed of split, initialisation and batches"),
    epochs: int | None = typer.Option(None, help="maximum epochs (default: the model's)"),
    members: int | None = typer.Option(None, help="ensemble members (ensemble only)"),
    threads: int | None = typer.Option(None, help="torch CPU threads (default: torch's)"),
    config: str | None = typer.Option(None, help="JSON object overriding hyper-parameters, "
                                      "e.g. '{\"lr\": 1e-3}' (keys of the model's config)"),
) -> None:
    """Train a model on dataset(s), split 75/12.5/12.5 by source simulation; early stopping."""
    import time

    from deepilst.model.core import DeepILST
    from deepilst.model.data import load_arrays

    if threads:
        import torch

        torch.set_num_threads(threads)
    t0 = time.time()
    from deepilst.model.core import ENSEMBLE_CONFIG, PAPER_CONFIG

    cfg = {}
    if config is not None:
        try:
            cfg = json.loads(config)
        except ValueError:
            raise ValueError(f"--config: not a JSON object: {config!r}") from None
        known = PAPER_CONFIG if model == "paper" else ENSEMBLE_CONFIG
        bad = sorted(set(cfg) - set(known)) if isinstance(cfg, dict) else None
        if bad is None or bad:
            raise ValueError(f"--config: expected a JSON object with keys among "
                             f"{sorted(known)}; got {config!r}")
    if epochs is not None:
        cfg["epochs"] = epochs
    if members is not None:
        if model == "paper":
            raise ValueError("--members applies to the ensemble model only")
        cfg["members"] = members
    m = DeepILST(model, cfg, seed=seed)
    arrays = load_arrays(*data, noise=float(m.config.get("g_noise", 0.0)), seed=seed)
    m.fit(arrays)
    import platform

    import torch

    m.save(out, extra={"provenance": {"command": _command(), "torch": torch.__version__,
                                      "python": platform.python_version(),
                                      "wall_s_total": time.time() - t0,
                                      "threads": torch.get_num_threads()}})
    typer.echo(f"{out}: {model} model, {m.meta['epochs_run']} epochs, best epochs "
               f"{m.meta['best_epoch']}, {m.meta['train_wall_s']:.0f} s")


@app.command()
@friendly
def evaluate(
    model: str = typer.Argument(..., help="model directory or shipped model name"),
    data: list[Path] = typer.Argument(..., help="datasets; the model's own training file is "
                                      "reported as train/val/holdout by its saved split"),
    plot: Path | None = typer.Option(None, help="parity plot (PNG/PDF), like the paper's Fig. 2"),
    json_out: Path | None = typer.Option(None, "--json", help="write metrics as JSON"),
) -> None:
    """MAPE per parameter (all and fluid states), 95 % coverage, domain flags, regions."""
    import numpy as np

    from deepilst.fileio import write_text_atomic
    from deepilst.model.data import load_arrays
    from deepilst.model.evaluate import evaluate as run_eval
    from deepilst.model.evaluate import parity_plot, split_sets
    from deepilst.predict import load_model

    m = load_model(model)
    own = {d["sha256"] for d in m.meta.get("datasets", [])}
    sets = {}
    for p in data:
        a = load_arrays(p)
        if a.hashes[0] in own:  # the model's own training file: its saved split
            sets.update({("holdout" if k == "test" else k): v for k, v in split_sets(m, a).items()})
        else:
            sets[p.stem.removeprefix("v1_")] = a
    res = run_eval(m, sets)
    preds = res.pop("_pred")
    for name, r in res.items():
        typer.echo(f"{name:9s} n={r['n']:5d}  MAPE C12 {r['C12']['mape']:6.2f} %  C6 {r['C6']['mape']:6.2f} %"
                   f"  | fluid C12 {r['C12']['mape_fluid'] or float('nan'):6.2f} %  C6 "
                   f"{r['C6']['mape_fluid'] or float('nan'):6.2f} %  | 95 % cover C12 "
                   f"{r['C12']['coverage95']:.2f} C6 {r['C6']['coverage95']:.2f}"
                   f"  | in domain {r['in_domain_fraction']:.2f}")
    if plot:
        band = None
        if "train" in sets:
            from deepilst.sampling import TABLE1

            p, d = preds["train"], sets["train"]
            se = [((p[k] - getattr(d, k)) / (TABLE1[k][1] - TABLE1[k][0])) ** 2 for k in ("C12", "C6")]
            band = 4 * float(np.sqrt(np.mean(se)))
        parity_plot(plot, sets, preds, band, title=f"{m.kind} model")
        typer.echo(str(plot))
    if json_out:
        write_text_atomic(json_out, json.dumps({"model": str(model), "kind": m.kind, "sets": res},
                                               indent=1))
        typer.echo(str(json_out))


@app.command()
@friendly
def predict(
    files: list[Path] = typer.Argument(..., help="g(r) files: GROMACS .xvg, VOTCA .dist.tgt, CSV"),
    temperature: float = typer.Option(..., "--temperature", "-T", help="K"),
    density: float = typer.Option(..., "--density", "-d", help="number density, nm^-3"),
    model: str | None = typer.Option(None, help="model directory or shipped name (default ensemble)"),
    column: int = typer.Option(1, help="data column holding g(r) (1 = first after r)"),
    fmt: str = typer.Option("table", "--format", help="table | json"),
    snippet: bool = typer.Option(True, help="print GROMACS / LAMMPS / OpenMM snippets (table)"),
    mass: float = typer.Option(39.948, help="bead mass for the snippets, amu"),
) -> None:
    """Lennard-Jones C12, C6 (sigma, epsilon) with uncertainty from g(r) at (T, rho), in one shot."""
    from deepilst.predict import format_table, load_model, predict_file, snippets
    from deepilst.units import check_positive

    if fmt not in ("table", "json"):
        raise ValueError(f"--format must be 'table' or 'json', got {fmt!r}")
    check_positive("temperature", temperature)
    check_positive("density", density)
    m = load_model(model)
    results = [predict_file(f, temperature, density, m, column) for f in files]
    for d in results:
        d["snippets"] = snippets(d["C12"], d["C6"], mass=mass)
    if fmt == "json":
        typer.echo(json.dumps(results[0] if len(results) == 1 else results, indent=1))
        return
    for d in results:
        typer.echo(format_table(d))
        if snippet:
            for k, v in d["snippets"].items():
                typer.echo(f"--- {k}\n{v}")


@app.command()
@friendly
def study(
    name: str = typer.Argument(..., help="argon (the paper's Table 2 and Figure 3)"),
    data: Path = typer.Option(Path("data/v1_argon.h5"), help="argon grid dataset"),
    model: list[str] = typer.Option(["ensemble", "paper"], help="model(s): directory or shipped name"),
    md: bool = typer.Option(False, help="also run MD with the predicted parameters at every state"),
    md_model: list[str] = typer.Option([], help="run that MD for these of the models only "
                                       "(repeatable; implies --md for them)"),
    out: Path = typer.Option(Path("docs"), "-o", "--out", help="directory for JSON, table, figures"),
) -> None:
    """Predictions over the argon 11 x 11 grid (Table 2) and pressure maps (Figure 3)."""
    from deepilst.predict import load_model
    from deepilst.study import argon_study, table2_markdown, write_study

    if name != "argon":
        raise ValueError(f"unknown study {name!r}; available: argon")
    unknown = sorted(set(md_model) - set(model))
    if unknown:
        raise ValueError(f"--md-model {unknown[0]!r} is not among the --model values {model}")
    results = {}
    for mname in model:
        m = load_model(mname)
        results[Path(mname).name] = argon_study(data, m, md=md or mname in md_model)
    paths = write_study(out, results)
    typer.echo(table2_markdown({k: v["summary"] for k, v in results.items()}))
    for k, v in results.items():
        s = v["summary"]
        typer.echo(f"{k}: pressure error (virial route) mean {s['pressure_virial_mean_rel_err_pct']:.2f} %, "
                   f"median {s['pressure_virial_median_rel_err_pct']:.2f} %"
                   + (f"; MD with predicted parameters mean {s['pressure_md_mean_rel_err_pct']:.2f} %"
                      if "pressure_md_mean_rel_err_pct" in s else ""))
    for p in paths:
        typer.echo(str(p))


@app.command()
@friendly
def validate(
    file: Path = typer.Argument(..., help="reference g(r): .xvg, VOTCA .dist.tgt, CSV"),
    temperature: float = typer.Option(..., "--temperature", "-T", help="K"),
    density: float = typer.Option(..., "--density", "-d", help="nm^-3"),
    params: str | None = typer.Option(None, help="C12,C6 to validate (kJ mol^-1 nm^12, nm^6); "
                                      "default: the model's prediction from FILE"),
    model: str | None = typer.Option(None, help="model for the prediction (default ensemble)"),
    column: int = typer.Option(1, help="data column of FILE holding g(r)"),
    engine: str = typer.Option("auto", help="auto | gromacs | openmm"),
    n_particles: int = typer.Option(1000),
    equil_ps: float = typer.Option(50.0),
    prod_ps: float = typer.Option(350.0),
    seed: int = typer.Option(0),
    plot: Path | None = typer.Option(None, help="RDF overlay, PNG or PDF"),
    json_out: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Simulate the LJ fluid with the predicted (or given) parameters at the input state; compare."""
    from deepilst.md.spec import Protocol
    from deepilst.rdfio import load_rdf
    from deepilst.units import ParameterError, check_positive

    check_positive("temperature", temperature)
    check_positive("density", density)
    if params is not None:
        try:
            c12_s, c6_s = params.split(",")
        except ValueError:
            raise ParameterError(f"--params must be 'C12,C6', got {params!r}") from None
        c12, c6 = check_positive("C12", c12_s), check_positive("C6", c6_s)
        source = "given"
    r, g = load_rdf(file, column)
    if params is None:
        from deepilst.predict import load_model, predict_arrays

        pred = predict_arrays(load_model(model), g[None], temperature, density, thermo=False)[0]
        c12, c6, source = pred["C12"], pred["C6"], "predicted"
        for w in pred["warnings"]:
            typer.echo(f"warning: {w}", err=True)
    from deepilst.validate import plot_overlay, validate_params

    res = validate_params(r, g, temperature, density, c12, c6, engine=engine, seed=seed,
                          protocol=Protocol(equil_ps=equil_ps, prod_ps=prod_ps,
                                            n_particles=n_particles))
    if plot:
        plot_overlay(plot, r, g, res, label=file.name)
    summary = {k: v for k, v in res.items() if k not in ("r", "g_md", "g_md_err")}
    summary.update({"C12": c12, "C6": c6, "parameters": source, "temperature": temperature,
                    "density": density})
    if json_out:
        typer.echo(json.dumps(summary, indent=1))
        return
    typer.echo(f"{source} C12 = {c12:.5e}, C6 = {c6:.5e}")
    typer.echo(f"eps_rdf = {100 * res['eps_rdf']:.3f} %   (engine {res['engine']}, phase "
               f"{res['phase']}, T* {res['T_star']:.3f}, rho* {res['rho_star']:.3f})")
    typer.echo(f"MD:         P = {res['pressure_bar']:.1f} +- {res['pressure_sem']:.1f} bar, "
               f"U/N = {res['energy_kJ_mol']:.4f} +- {res['energy_sem']:.4f} kJ/mol")
    typer.echo(f"input g(r): P = {res['pressure_from_input_rdf_bar']:.1f} bar, "
               f"U/N = {res['energy_from_input_rdf_kJ_mol']:.4f} kJ/mol (same parameters)")
    typer.echo(f"cutoff: {res['cutoff_convention']}")


@dataset_app.command("build")
@friendly
def dataset_build(run_dirs: list[Path] = typer.Argument(
                      ..., help="directories written by generate (runs of the same state, "
                      "e.g. a second seed over the same grid, are pooled)"),
                  out: Path = typer.Option(..., "-o", "--out", help="HDF5 file to write")) -> None:
    """Consolidate finished systems into one HDF5 dataset."""
    from deepilst.dataset import build

    res = build(list(run_dirs), out, command=_command())
    pooled = {k: v for k, v in res["provenance"].get("replicas", {}).items() if k != "1"}
    extra = (", runs pooled per state: " + ", ".join(f"{v} states x {k}" for k, v in
                                                     pooled.items())) if pooled else ""
    typer.echo(f"{out}: {res['n_simulations']} simulations, {res['n_samples']} samples "
               f"(design {res['design']}){extra}")


@dataset_app.command("info")
@friendly
def dataset_info(path: Path, json_out: bool = typer.Option(False, "--json")) -> None:
    """Summarise a dataset."""
    from deepilst.dataset import info

    res = info(path)
    if json_out:
        typer.echo(json.dumps(res, indent=1))
        return
    typer.echo(f"{path}: design {res['design']}, {res['n_simulations']} simulations, "
               f"{res['n_samples']} samples")
    typer.echo("phases: " + ", ".join(f"{k} {v:.1%}" for k, v in res["phase_fractions"].items()))
    for k, (lo, hi) in res["ranges"].items():
        typer.echo(f"  {k:9s} {lo:.4g} .. {hi:.4g}")
    typer.echo(f"cutoff: {res['cutoff_convention']}")


@dataset_app.command("export")
@friendly
def dataset_export(path: Path, sample: int = typer.Option(..., help="sample index"),
                   xvg: Path = typer.Option(..., help="output .xvg")) -> None:
    """Write one sample as a GROMACS-style .xvg file."""
    from deepilst.dataset import export_xvg

    export_xvg(path, sample, xvg)
    typer.echo(str(xvg))


@dataset_app.command("states")
@friendly
def dataset_states(path: Path, out: Path = typer.Option(..., "-o", "--out",
                                                         help="CSV to write (T,rho,C12,C6)")) -> None:
    """Write a dataset's simulated states as a grid CSV (re-run them with another seed, then
    `dataset build` both run directories to pool the runs)."""
    from deepilst.dataset import states_csv

    typer.echo(f"{out}: {states_csv(path, out)} states")


@dataset_app.command("phases")
@friendly
def dataset_phases(paths: list[Path] = typer.Argument(..., help="HDF5 datasets"),
                   out: Path = typer.Option(..., "-o", "--out", help="PNG/PDF to write")) -> None:
    """Plot every simulated state in (rho*, T*) coloured by phase label; print phase fractions."""
    import numpy as np

    from deepilst.dataset import info, open_dataset
    from deepilst.plots import plot_phase_map

    ts, rs, labs = [], [], []
    for p in paths:
        with open_dataset(p) as h:
            ts.append(h["sims"]["T_star"][:])
            rs.append(h["sims"]["rho_star"][:])
            labs += [x.decode() for x in h["sims"]["phase"][:]]
        fr = info(p)["phase_fractions"]
        typer.echo(f"{p}: " + ", ".join(f"{k} {v:.1%}" for k, v in fr.items()))
    plot_phase_map(out, np.concatenate(ts), np.concatenate(rs), labs,
                   title=", ".join(Path(p).stem for p in paths))
    typer.echo(str(out))


@app.command()
def version() -> None:
    """Print the version."""
    from deepilst import __version__

    typer.echo(__version__)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
