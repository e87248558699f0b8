"""The shipped all-atom molecules: name -> force field file, mass, atoms, geometry, sources.

Each force field is one self-contained include file in ``deepilst/molecular/ff/`` holding its
own ``[ defaults ]``, atom types (and cross terms) and the ``[ moleculetype ]``: a topology is
``#include "<NAME>.itp"`` plus ``[ system ]`` and ``[ molecules ]``. Every number's source is
in the file's header comment and in :attr:`Molecule.sources`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from deepilst.errors import ParameterError


@dataclass(frozen=True)
class Molecule:
    """One shipped molecule.

    Attributes
    ----------
    name : registry key, also the GROMACS molecule and residue name
    itp : file name of its force field in ``deepilst/molecular/ff``
    mass : molecular mass, amu
    atoms : atom names in topology order (virtual sites included)
    xyz : a reference geometry, nm, shape (len(atoms), 3)
    description : one line
    sources : where the numbers come from
    """

    name: str
    itp: str
    mass: float
    atoms: tuple[str, ...]
    xyz: tuple[tuple[float, float, float], ...]
    description: str
    sources: str

    @property
    def itp_path(self) -> Path:
        """Path of the force-field include file (package data)."""
        return Path(str(resources.files("deepilst.molecular") / "ff" / self.itp))

    def positions(self) -> np.ndarray:
        """Reference geometry of one molecule, nm, shape (n_atoms, 3)."""
        return np.asarray(self.xyz, dtype=float)

    def to_json(self) -> dict:
        return {"name": self.name, "itp": self.itp, "mass": self.mass, "atoms": list(self.atoms),
                "description": self.description, "sources": self.sources}


def _tetrahedral(b: float) -> list[tuple[float, float, float]]:
    a = b / math.sqrt(3.0)
    return [(a, a, a), (a, -a, -a), (-a, a, -a), (-a, -a, a)]


def _ethane() -> list[tuple[float, float, float]]:
    cc, ch, ang = 0.1529, 0.109, math.radians(110.7)
    z, rr = ch * math.cos(ang), ch * math.sin(ang)  # H of C1 below C1 (z < 0)
    out = [(0.0, 0.0, 0.0)]
    out += [(rr * math.cos(math.radians(p)), rr * math.sin(math.radians(p)), z) for p in (0, 120, 240)]
    out += [(0.0, 0.0, cc)]
    out += [(rr * math.cos(math.radians(p)), rr * math.sin(math.radians(p)), cc - z)
            for p in (60, 180, 300)]
    return out


_GROMOS = "GROMOS 54A7 (Schmid et al., Eur. Biophys. J. 40, 843 (2011)) as in GROMACS' gromos54a7.ff"

MOLECULES: dict[str, Molecule] = {m.name: m for m in (
    Molecule("CO", "CO.itp", 12.011 + 15.9994, ("C", "O"), ((0, 0, 0), (0, 0, 0.112)),
             "carbon monoxide, GROMOS 54A7 C and O types, rigid 0.112 nm bond, no charges",
             f"{_GROMOS}: types C, O and their C-O pair term; bond gb_4 and charges 0 from the "
             "heme-CO ligand of aminoacids.rtp"),
    Molecule("F2", "F2.itp", 2 * 18.9984, ("F1", "F2"), ((0, 0, 0), (0, 0, 0.1412)),
             "fluorine, GROMOS 54A7 F type, rigid 0.1412 nm bond (experimental), no charges",
             f"{_GROMOS}: type F; bond 0.1412 nm: experimental r_e (Huber & Herzberg 1979)"),
    Molecule("CH4", "CH4.itp", 12.011 + 4 * 1.008, ("C", "H1", "H2", "H3", "H4"),
             tuple([(0.0, 0.0, 0.0)] + _tetrahedral(0.109)),
             "methane, all-atom: GROMOS 54A7 C and HC types, bonds and angles; OPLS-AA charges",
             f"{_GROMOS}: types C, HC, C-HC pair term, bond gb_3, angle ga_10; charges C -0.24, "
             "H +0.06 e from OPLS-AA (Jorgensen et al., JACS 118, 11225 (1996))"),
    Molecule("N2", "N2.itp", 2 * 14.0067, ("N1", "N2", "M"), ((0, 0, 0), (0, 0, 0.110), (0, 0, 0.055)),
             "nitrogen, TraPPE three-site model (two LJ sites, a central charge site), rigid",
             "TraPPE (Potoff & Siepmann, AIChE J. 47, 1676 (2001)): sigma 0.331 nm, eps/kB 36.0 K, "
             "q(N) -0.482 e, q(M) +0.964 e, N-N 0.110 nm"),
    Molecule("C2H6", "C2H6.itp", 2 * 12.011 + 6 * 1.008,
             ("C1", "H11", "H12", "H13", "C2", "H21", "H22", "H23"), tuple(_ethane()),
             "ethane, all-atom OPLS-AA",
             "OPLS-AA (Jorgensen et al., JACS 118, 11225 (1996)) as in GROMACS' oplsaa.ff: "
             "opls_135/opls_140, CT-CT/CT-HC bonds, angles, HC-CT-CT-HC RB dihedral"),
)}


def get_molecule(name: str) -> Molecule:
    """The shipped molecule ``name`` (case-insensitive). Raises :class:`ParameterError`."""
    key = {k.upper(): k for k in MOLECULES}.get(str(name).upper())
    if key is None:
        raise ParameterError(f"unknown molecule {name!r}: the shipped ones are "
                             f"{', '.join(MOLECULES)} (or give your own .top and .gro)")
    return MOLECULES[key]
