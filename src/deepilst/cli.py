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
                        "RDFInputError"}:
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
    seed: int = typer.Option(0, help="design and simulation seed"),
    dry_run: bool = typer.Option(False, help="print the plan, run nothing"),
) -> None:
    """Simulate a design of LJ state points; one record per system in OUT/systems/."""
    from deepilst.md.simulate import resolve_engine
    from deepilst.md.spec import Protocol
    from deepilst.runner import build_specs
    from deepilst.runner import generate as run_generate
    from deepilst.sampling import make_design

    points = make_design(design, n, seed, grid, expand)
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
def validate(
    file: Path = typer.Argument(..., help="reference g(r): .xvg, VOTCA .dist.tgt, CSV"),
    temperature: float = typer.Option(..., "--temperature", "-T", help="K"),
    density: float = typer.Option(..., "--density", "-d", help="nm^-3"),
    params: str = typer.Option(..., help="C12,C6 to validate (kJ mol^-1 nm^12, nm^6)"),
    column: int = typer.Option(1, help="data column of FILE holding g(r)"),
    engine: str = typer.Option("auto", help="auto | gromacs | openmm"),
    n_particles: int = typer.Option(1000),
    equil_ps: float = typer.Option(50.0),
    prod_ps: float = typer.Option(350.0),
    seed: int = typer.Option(0),
    plot: Path | None = typer.Option(None, help="RDF overlay, PNG or PDF"),
    json_out: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Simulate the LJ fluid with the given parameters at the input state and compare g(r)."""
    from deepilst.md.spec import Protocol
    from deepilst.rdfio import load_rdf
    from deepilst.units import ParameterError, check_positive

    try:
        c12_s, c6_s = params.split(",")
    except ValueError:
        raise ParameterError(f"--params must be 'C12,C6', got {params!r}") from None
    c12, c6 = check_positive("C12", c12_s), check_positive("C6", c6_s)
    check_positive("temperature", temperature)
    check_positive("density", density)
    r, g = load_rdf(file, column)
    from deepilst.validate import plot_overlay, validate_params

    res = validate_params(r, g, temperature, density, c12, c6, engine=engine, seed=seed,
                          protocol=Protocol(equil_ps=equil_ps, prod_ps=prod_ps,
                                            n_particles=n_particles))
    if plot:
        plot_overlay(plot, r, g, res, label=file.name)
    summary = {k: v for k, v in res.items() if k not in ("r", "g_md", "g_md_err")}
    summary.update({"C12": c12, "C6": c6, "temperature": temperature, "density": density})
    if json_out:
        typer.echo(json.dumps(summary, indent=1))
        return
    typer.echo(f"eps_rdf = {100 * res['eps_rdf']:.3f} %   (engine {res['engine']}, phase "
               f"{res['phase']}, T* {res['T_star']:.3f}, rho* {res['rho_star']:.3f})")
    typer.echo(f"MD:         P = {res['pressure_bar']:.1f} +- {res['pressure_sem']:.1f} bar, "
               f"U/N = {res['energy_kJ_mol']:.4f} +- {res['energy_sem']:.4f} kJ/mol")
    typer.echo(f"input g(r): P = {res['pressure_from_input_rdf_bar']:.1f} bar, "
               f"U/N = {res['energy_from_input_rdf_kJ_mol']:.4f} kJ/mol (same parameters)")
    typer.echo(f"cutoff: {res['cutoff_convention']}")


@dataset_app.command("build")
@friendly
def dataset_build(run_dir: Path = typer.Argument(..., help="directory written by generate"),
                  out: Path = typer.Option(..., "-o", "--out", help="HDF5 file to write")) -> None:
    """Consolidate finished systems into one HDF5 dataset."""
    from deepilst.dataset import build

    res = build(run_dir, out, command=_command())
    typer.echo(f"{out}: {res['n_simulations']} simulations, {res['n_samples']} samples "
               f"(design {res['design']})")


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
