"""``deepilst maps``: eps_rdf and eps_KL over a (C12, C6) mesh, with no MD (the paper's Fig. 5)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from deepilst.cli._common import add_state


def add_maps_commands(sub) -> None:
    p = sub.add_parser("maps", help="eps_rdf and eps_KL maps over (C12, C6) without MD (Fig. 5)",
                       description="Error maps of single-bead LJ models against a g(r): eps_rdf "
                       "(eq. 7) from the forward model and eps_KL (relative entropy per particle) "
                       "from the target g(r) and the LJ free energy, over an n x n mesh of "
                       "(C12, C6). Writes eps_rdf.png, eps_kl.png, maps.npz and maps.json into "
                       "--out (white crosses: minima; red dot: the network's answer).")
    p.add_argument("file", type=Path, help="g(r) file (.xvg, VOTCA .dist.tgt, columns)")
    add_state(p)
    p.add_argument("--c12-range", default=None, metavar="LO,HI",
                   help="C12 range, kJ mol^-1 nm^12 (default: T* 0.8-60 around the target's size)")
    p.add_argument("--c6-range", default=None, metavar="LO,HI", help="C6 range, kJ mol^-1 nm^6")
    p.add_argument("--n", type=int, default=150, help="mesh points per axis (default 150)")
    p.add_argument("--scale", choices=("log", "linear"), default="log", help="axis scale")
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--model", default=None, help="network for the red dot (default ensemble)")
    p.add_argument("--kl-draws", type=int, default=8,
                   help="redraws of the target within its errors for the KL minimum's spread")
    p.add_argument("--r-unit", choices=("nm", "A"), default=None)
    p.add_argument("--bin-width", type=float, default=None, help="the file's bin width, nm")
    p.add_argument("--format", dest="fmt", choices=("text", "json"), default="text")
    p.set_defaults(handler=_maps)


def _pair(name: str, text: str | None):
    from deepilst.maps.grid import check_range

    if text is None:
        return None
    return check_range(name, text.split(","))


def _maps(a: argparse.Namespace) -> int:
    from deepilst.maps import error_maps, save
    from deepilst.maps.text import format_text

    c12 = _pair("C12 range", a.c12_range)
    c6 = _pair("C6 range", a.c6_range)
    if not a.file.is_file():
        raise FileNotFoundError(2, "no such file", str(a.file))
    maps = error_maps(a.file, a.temperature, a.density, c12, c6, n=a.n, scale=a.scale, model=a.model,
                      kl_draws=a.kl_draws, bin_width=a.bin_width, r_unit=a.r_unit)
    doc = save(maps, a.out)
    if a.fmt == "json":
        print(json.dumps(doc, indent=1))
    else:
        print(format_text(doc, a.out))
    return 0
