"""A cubic box of N molecules at a number density: the molecule's coordinates and topology, the
box filled by ``gmx insert-molecules`` (packmol when that cannot place them all)."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepilst.errors import InputError, ParameterError, SimulationError
from deepilst.molecular.gmx import run_gmx
from deepilst.molecular.registry import Molecule, get_molecule

#: Fraction of the box that van der Waals spheres of radius 0.11 nm (hydrogen 0.10) around
#: every atom may fill at most: random close packing of spheres is 0.64; overlapping spheres
#: of one molecule make this a generous upper bound for a fluid.
MAX_PACKING = 0.64
_VDW = {"H": 0.10}


@dataclass(frozen=True)
class MoleculeFiles:
    """What a run needs of one molecule: its name, atom names, single-molecule coordinates
    [nm], the topology text before ``[ system ]``, files to copy, and the include directory."""

    name: str
    atoms: tuple[str, ...]
    xyz: np.ndarray
    top_head: str
    copies: tuple[Path, ...]
    include_dir: str
    charged: bool
    source: dict


def shipped_files(molecule: Molecule) -> MoleculeFiles:
    """The files of a shipped molecule (its self-contained .itp)."""
    text = molecule.itp_path.read_text()
    return MoleculeFiles(molecule.name, molecule.atoms, molecule.positions(),
                         f'#include "{molecule.itp}"\n', (molecule.itp_path,), "",
                         _charged(text), {"molecule": molecule.name, **molecule.to_json()})


def _charged(itp_text: str) -> bool:
    """Whether any atom of the ``[ atoms ]`` sections carries a charge."""
    section = ""
    for line in itp_text.splitlines():
        s = line.split(";", 1)[0].strip()
        if s.startswith("["):
            section = s.strip("[] ").lower()
        elif section == "atoms" and s:
            parts = s.split()
            if len(parts) >= 7 and abs(float(parts[6])) > 0:
                return True
    return False


def read_gro(path: Path) -> tuple[list[str], np.ndarray]:
    """Atom names and positions [nm] of a .gro file."""
    lines = Path(path).read_text().splitlines()
    try:
        n = int(lines[1])
        atoms = lines[2:2 + n]
        names = [a[10:15].strip() for a in atoms]
        xyz = np.array([[float(a[20:28]), float(a[28:36]), float(a[36:44])] for a in atoms])
    except (IndexError, ValueError):
        raise InputError(f"{path}: not a .gro file (title, atom count, atom lines, box)") from None
    if len(names) != n:
        raise InputError(f"{path}: {len(names)} atom lines, the header says {n}")
    return names, xyz


def _expanded(path: Path, depth: int = 0) -> str:
    """Topology text with its ``#include`` files that lie next to it inlined (force-field
    includes found only in GROMACS' data directory are left out)."""
    out = []
    for line in path.read_text().splitlines():
        m = re.match(r'\s*#include\s+"([^"]+)"', line)
        inc = path.parent / m.group(1) if m else None
        if inc is not None and inc.is_file() and depth < 10:
            out.append(_expanded(inc, depth + 1))
        else:
            out.append(line)
    return "\n".join(out)


def user_files(top: str | Path, gro: str | Path) -> MoleculeFiles:
    """A user's molecule: a .top for one molecule type (everything before ``[ system ]`` is
    kept, its ``#include`` files are found next to it; the molecule is the one entry of its
    ``[ molecules ]``) and a .gro of one molecule."""
    top, gro = Path(top), Path(gro)
    for p in (top, gro):
        if not p.is_file():
            raise InputError(f"{p}: no such file (a user molecule needs its .top and a one-molecule .gro)")
    parts = re.split(r"^\s*\[\s*system\s*\]", top.read_text(), maxsplit=1, flags=re.M | re.I)
    tail = parts[1] if len(parts) > 1 else ""
    mols = re.split(r"^\s*\[\s*molecules\s*\]", tail, maxsplit=1, flags=re.M | re.I)
    entries = [ln.split(";", 1)[0].split() for ln in (mols[1] if len(mols) > 1 else "").splitlines()]
    entries = [e for e in entries if e]
    if len(entries) != 1:
        raise InputError(f"{top}: its [ molecules ] section must list exactly one molecule type "
                         f"(found {len(entries)}): the one the box is filled with")
    full = _expanded(top)
    # unresolved includes (a force field in GROMACS' data directory) may hold charges: use PME
    charged = _charged(full) or bool(re.search(r"^\s*#include", full, flags=re.M))
    atoms, xyz = read_gro(gro)
    return MoleculeFiles(entries[0][0], tuple(atoms), xyz, parts[0].rstrip() + "\n", (),
                         str(top.parent.resolve()), charged, {"top": top.name, "gro": gro.name})


def molecule_files(molecule: str | None = None, top: str | Path | None = None,
                   gro: str | Path | None = None) -> MoleculeFiles:
    """A shipped molecule by name, or a user's (.top and .gro), never both."""
    if (molecule is None) == (top is None or gro is None):
        raise ParameterError("give either a shipped molecule name or a user's .top and .gro "
                             "(both files), not both")
    return shipped_files(get_molecule(molecule)) if molecule is not None else user_files(top, gro)


def box_length(n_molecules: int, density: float) -> float:
    """Edge [nm] of the cubic box of ``n_molecules`` at ``density`` [nm^-3]."""
    return (n_molecules / density) ** (1.0 / 3.0)


def molecular_volume(files: MoleculeFiles, grid: float = 0.01) -> float:
    """Volume [nm^3] of the union of van der Waals spheres (0.11 nm, hydrogen 0.10 nm) around
    the molecule's atoms (virtual sites named M or MW excluded), on a grid."""
    xyz = np.array([p for a, p in zip(files.atoms, files.xyz) if a.upper() not in ("M", "MW")])
    rad = np.array([_VDW.get(a[:1].upper(), 0.11) for a, _ in zip(files.atoms, files.xyz)
                    if a.upper() not in ("M", "MW")])
    lo, hi = xyz.min(axis=0) - 0.12, xyz.max(axis=0) + 0.12
    axes = [np.arange(a, b, grid) + grid / 2 for a, b in zip(lo, hi)]
    g = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    inside = np.zeros(len(g), dtype=bool)
    for p, r in zip(xyz, rad):
        inside |= np.sum((g - p) ** 2, axis=1) <= r * r
    return float(inside.sum() * grid**3)


def check_density(files: MoleculeFiles, density: float, n_molecules: int) -> None:
    """Refuse states no fluid of these molecules can have: non-positive density or molecule
    count, or molecules whose van der Waals volume would fill more than :data:`MAX_PACKING`."""
    if not (math.isfinite(density) and density > 0):
        raise ParameterError(f"density must be a positive number of molecules per nm^3, got {density}")
    if int(n_molecules) < 2:
        raise ParameterError(f"n_molecules must be at least 2, got {n_molecules}")
    v = molecular_volume(files)
    if density * v > MAX_PACKING:
        raise ParameterError(
            f"density {density:g} nm^-3 is too high to pack {files.name}: its molecules "
            f"({v:.4f} nm^3 of van der Waals volume each) would fill {100 * density * v:.0f} % of "
            f"the box; the most a fluid can hold is about {MAX_PACKING / v:.1f} nm^-3")


def write_molecule_gro(path: Path, files: MoleculeFiles) -> None:
    """One molecule as a .gro (residue 1 named after the molecule) in a 1 nm box."""
    lines = [files.name, f"{len(files.atoms):5d}"]
    for i, (a, (x, y, z)) in enumerate(zip(files.atoms, files.xyz)):
        lines.append(f"{1:5d}{files.name[:5]:<5s}{a[:5]:>5s}{(i + 1) % 100000:5d}{x:8.3f}{y:8.3f}{z:8.3f}")
    lines.append("   1.00000   1.00000   1.00000")
    path.write_text("\n".join(lines) + "\n")


def write_topology(d: Path, files: MoleculeFiles, n_molecules: int) -> None:
    """``topol.top`` (and copies of the shipped include files) in the run directory ``d``."""
    for src in files.copies:
        shutil.copyfile(src, d / src.name)
    (d / "topol.top").write_text(f"{files.top_head}\n[ system ]\n{files.name} x {n_molecules} "
                                 f"(deepilst aa)\n\n[ molecules ]\n{files.name}  {n_molecules}\n")


def fill_box(d: Path, files: MoleculeFiles, n_molecules: int, density: float, seed: int) -> str:
    """Write ``d/start.gro``: ``n_molecules`` molecules in a cubic box at ``density``.

    ``gmx insert-molecules`` first (random positions and orientations, 1000 tries per
    molecule); packmol when that places fewer. Returns the method used.
    """
    L = box_length(n_molecules, density)
    write_molecule_gro(d / "molecule.gro", files)
    run_gmx(["insert-molecules", "-ci", "molecule.gro", "-nmol", str(n_molecules), "-box",
             *[f"{L:.5f}"] * 3, "-try", "1000", "-seed", str(int(seed) % 2**31 or 1),
             "-o", "inserted.gro"], d, "build.log")
    n = int((d / "inserted.gro").read_text().splitlines()[1])
    if n == n_molecules * len(files.atoms):
        (d / "inserted.gro").rename(d / "start.gro")
        return "gmx insert-molecules"
    return _packmol(d, files, n_molecules, L, seed)


def _packmol(d: Path, files: MoleculeFiles, n_molecules: int, L: float, seed: int) -> str:
    exe = shutil.which("packmol")
    if exe is None:
        raise SimulationError(f"gmx insert-molecules could not place {n_molecules} {files.name} in a "
                              f"{L:.3f} nm box and packmol is not installed (apt-get install packmol)")
    xyz_a = files.xyz * 10.0
    with open(d / "molecule.pdb", "w") as fh:
        for i, (a, p) in enumerate(zip(files.atoms, xyz_a)):
            fh.write(f"HETATM{i + 1:5d} {a[:4]:<4s} {files.name[:3]:>3s} A   1    "
                     f"{p[0]:8.3f}{p[1]:8.3f}{p[2]:8.3f}  1.00  0.00\n")
        fh.write("END\n")
    box_a = L * 10.0 - 1.0  # packmol does not know periodicity: keep 1 A from the faces
    (d / "packmol.inp").write_text(
        f"tolerance 1.6\nfiletype pdb\noutput packed.pdb\nseed {int(seed) % 2**31 or 1}\n"
        f"structure molecule.pdb\n  number {n_molecules}\n  inside cube 0.5 0.5 0.5 {box_a:.3f}\n"
        "end structure\n")
    with open(d / "packmol.inp") as inp, open(d / "build.log", "a") as log:
        p = subprocess.run([exe], stdin=inp, stdout=log, stderr=subprocess.STDOUT, cwd=d)
    if p.returncode != 0 or not (d / "packed.pdb").exists():
        raise SimulationError(f"neither gmx insert-molecules nor packmol could place {n_molecules} "
                              f"{files.name} in a {L:.3f} nm box (log: {d / 'build.log'})")
    run_gmx(["editconf", "-f", "packed.pdb", "-o", "start.gro", "-box", *[f"{L:.5f}"] * 3,
             "-noc"], d, "build.log")
    return "packmol"
