"""Command-line interface: a thin shell over the library (argparse; one module per group).

Every command parses its arguments, calls one library function and prints the result. Errors
deepilst raises on purpose (:class:`deepilst.errors.DeepILSTError`) and operating-system errors on
a named file become one line ``error: ...`` on stderr and exit status 2, without a traceback;
anything else is a bug and keeps its traceback. Library modules are imported inside the
commands, so ``deepilst --help`` and ``deepilst predict`` start fast (no torch, numba, h5py).
"""

from __future__ import annotations

import argparse
import sys

from deepilst.cli._common import Parser, run_handler
from deepilst.cli.baseline import add_baseline_commands
from deepilst.cli.cg import add_cg_commands
from deepilst.cli.data import add_dataset_commands
from deepilst.cli.forward import add_forward_commands
from deepilst.cli.maps import add_maps_commands
from deepilst.cli.md import add_md_commands
from deepilst.cli.model import add_model_commands
from deepilst.cli.molecular import add_molecular_commands
from deepilst.cli.predict import add_predict_commands

__all__ = ["build_parser", "main"]


def _version(args: argparse.Namespace) -> None:
    from deepilst import __version__

    print(__version__)


def build_parser() -> argparse.ArgumentParser:
    """The ``deepilst`` parser with every sub-command."""
    p = Parser(
        prog="deepilst",
        description="deepilst: Lennard-Jones parameters from g(r), and the MD data behind it.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    add_md_commands(sub)
    add_model_commands(sub)
    add_predict_commands(sub)
    add_forward_commands(sub)
    add_dataset_commands(sub)
    add_cg_commands(sub)
    add_baseline_commands(sub)
    add_molecular_commands(sub)
    add_maps_commands(sub)
    v = sub.add_parser("version", help="print the version")
    v.set_defaults(handler=_version)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:  # no command: the overview, as an error
        parser.print_help(sys.stderr)
        return 2
    return run_handler(args.handler, args)
