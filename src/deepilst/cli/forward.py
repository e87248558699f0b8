"""``deepilst forward``: g(r) of an LJ fluid from the forward model, without MD."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from deepilst.cli._common import add_json_flag, add_state


def add_forward_commands(sub) -> None:
    p = sub.add_parser("forward", help="g(r) of an LJ fluid at (T, rho, C12, C6) without MD",
                       description="g(r) of a Lennard-Jones fluid (our cutoff convention, N = 1000 "
                       "runs) from the forward model, with its predictive standard deviation, in "
                       "milliseconds.")
    add_state(p)
    p.add_argument("--c12", type=float, required=True, help="C12, kJ mol^-1 nm^12")
    p.add_argument("--c6", type=float, required=True, help="C6, kJ mol^-1 nm^6")
    p.add_argument("--r-max", type=float, default=1.5, help="last shell centre, nm (default 1.5)")
    p.add_argument("--dr", type=float, default=0.005, help="shell width, nm (default 0.005)")
    p.add_argument("--model", default=None, help="forward model directory (default the shipped one)")
    p.add_argument("--xvg", type=Path, default=None, help="write r, g, std as .xvg")
    p.add_argument("--plot", type=Path, default=None, help="draw g(r) with its band (PNG/PDF)")
    add_json_flag(p)
    p.set_defaults(handler=_forward)


def _forward(a: argparse.Namespace) -> int:
    from deepilst.model.forward_rdf import format_forward, forward_rdf, plot_forward, write_forward_xvg

    res = forward_rdf(a.temperature, a.density, a.c12, a.c6, a.r_max, a.dr, a.model)
    if a.xvg is not None:
        write_forward_xvg(res, a.xvg)
    if a.plot is not None:
        plot_forward(res, a.plot)
    print(json.dumps(res, indent=1) if a.json_out else format_forward(res))
    return 0
