"""``deepilst dataset build|info|export|states|phases``: datasets."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from deepilst.cli._common import add_json_flag, command_line


def add_dataset_commands(sub) -> None:
    d = sub.add_parser("dataset", help="consolidate, inspect and export datasets")
    ds = d.add_subparsers(dest="dataset_command", metavar="COMMAND")

    b = ds.add_parser("build", help="consolidate finished systems into one HDF5 dataset")
    b.add_argument("run_dirs", nargs="+", type=Path, help="directories written by generate (runs of "
                   "the same state, e.g. a second seed over the same grid, are pooled)")
    b.add_argument("-o", "--out", type=Path, required=True, help="HDF5 file to write")
    b.set_defaults(handler=_build)

    i = ds.add_parser("info", help="summarise a dataset")
    i.add_argument("path", type=Path)
    add_json_flag(i)
    i.set_defaults(handler=_info)

    e = ds.add_parser("export", help="write one sample as a GROMACS-style .xvg file")
    e.add_argument("path", type=Path)
    e.add_argument("--sample", type=int, required=True, help="sample index")
    e.add_argument("--xvg", type=Path, required=True, help="output .xvg")
    e.set_defaults(handler=_export)

    s = ds.add_parser("states", help="write a dataset's simulated states as a grid CSV",
                      description="Write a dataset's simulated states as a grid CSV (re-run them "
                      "with another seed, then `dataset build` both run directories to pool them).")
    s.add_argument("path", type=Path)
    s.add_argument("-o", "--out", type=Path, required=True, help="CSV to write (T,rho,C12,C6)")
    s.set_defaults(handler=_states)

    p = ds.add_parser("phases", help="plot simulated states in (rho*, T*) by phase label")
    p.add_argument("paths", nargs="+", type=Path, help="HDF5 datasets")
    p.add_argument("-o", "--out", type=Path, required=True, help="PNG/PDF to write")
    p.set_defaults(handler=_phases)

    m = ds.add_parser("migrate", help="rewrite schema-1 datasets as schema 2, in place",
                      description="Rewrite schema-1 datasets as schema 2 in place (atomically), "
                      "keeping their dataset ids; provenance paths become portable.")
    m.add_argument("paths", nargs="+", type=Path, help="HDF5 datasets")
    m.add_argument("--runs-root", default=None, help="run root of the machine that built them "
                   "(paths below it become $RUNS/...)")
    m.add_argument("--info", action="store_true", help="also rewrite <name>.info.json beside each")
    m.set_defaults(handler=_migrate)
    d.set_defaults(handler=lambda a: d.print_help() or 2)


def _build(a: argparse.Namespace) -> int:
    from deepilst.dataset import build, build_summary

    res = build(list(a.run_dirs), a.out, command=command_line())
    print(build_summary(res, a.out))
    return 0


def _info(a: argparse.Namespace) -> int:
    from deepilst.dataset import format_info, info

    res = info(a.path)
    print(json.dumps(res, indent=1) if a.json_out else format_info(res))
    return 0


def _export(a: argparse.Namespace) -> int:
    from deepilst.dataset import export_xvg

    print(export_xvg(a.path, a.sample, a.xvg))
    return 0


def _states(a: argparse.Namespace) -> int:
    from deepilst.dataset import states_csv

    print(f"{a.out}: {states_csv(a.path, a.out)} states")
    return 0


def _phases(a: argparse.Namespace) -> int:
    from deepilst.dataset import info, phase_points
    from deepilst.plots import plot_phase_map

    t, rho, labels = phase_points(a.paths)
    for p in a.paths:
        fr = info(p)["phase_fractions"]
        print(f"{p}: " + ", ".join(f"{k} {v:.1%}" for k, v in fr.items()))
    plot_phase_map(a.out, t, rho, labels, title=", ".join(Path(p).stem for p in a.paths))
    print(a.out)
    return 0


def _migrate(a: argparse.Namespace) -> int:
    from deepilst.dataset.migrate import migrate
    from deepilst.fileio import write_json_atomic

    for p in a.paths:
        res = migrate(p, p, runs_root=a.runs_root)
        if a.info:
            write_json_atomic(p.with_suffix(".info.json"), res, indent=1)
        print(f"{res['file']}: schema {res['schema_version']}, dataset_id {res['dataset_id'][:12]}")
    return 0
