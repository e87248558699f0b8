"""Centre-of-mass g(r) of the molecules of a trajectory, on the same path as our training data.

Each frame: atoms grouped into molecules (GROMACS molecule numbers from a .tpr, else bonded
fragments, else residues), every molecule made whole by the minimum image from its first atom,
its centre of mass taken with the topology's masses (virtual sites weigh nothing), and the
centres (Angstrom -> nm) histogrammed by :class:`deepilst.rdf.RDFAccumulator` on the 0.0005 nm
fine grid, in blocks of consecutive frames; then rebinned exactly (pair counts conserved) onto
the model's 0.005 nm shells with block standard errors. g is normalised by N(N-1)/2 distinct
pairs (an ideal gas gives 1 at every r; ``gmx rdf`` divides by N^2/2 and is lower by 1 - 1/N).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from deepilst.errors import InputError, ParameterError
from deepilst.rdf import DR, DR_FINE, R_MAX, RDFAccumulator, model_grid
from deepilst.xvg import write_xvg


def _universe(trajectory: str | Path, topology: str | Path):
    import MDAnalysis as mda

    for p in (topology, trajectory):
        if not Path(p).is_file():
            raise InputError(f"{p}: no such file")
    try:
        return mda.Universe(str(topology), str(trajectory))
    except Exception as exc:  # MDAnalysis raises many types for unreadable input
        raise InputError(f"cannot read {trajectory} with topology {topology}: {exc}") from None


def molecule_index(ag) -> tuple[np.ndarray, str]:
    """Molecule index (0..M-1) of every atom of the AtomGroup ``ag`` and how it was found."""
    if hasattr(ag, "molnums"):
        ids, how = ag.molnums, "molecule numbers (tpr)"
    else:
        try:
            ids, how = ag.fragindices, "bonded fragments"
        except Exception:  # no bonds in the topology
            ids, how = ag.resindices, "residues"
    return np.unique(np.asarray(ids), return_inverse=True)[1], how


def centres_of_mass(x: np.ndarray, masses: np.ndarray, mol: np.ndarray, n_mol: int,
                    box: float) -> np.ndarray:
    """Centres of mass [units of x] of molecules ``mol`` (index per atom) in a cubic periodic
    box of edge ``box``: each atom taken at its minimum image from its molecule's first atom,
    so molecules split across the boundary are whole (molecules must span < box/2)."""
    first = np.full(n_mol, -1)
    first[mol[::-1]] = np.arange(len(mol))[::-1]
    ref = x[first[mol]]
    d = x - ref
    d -= box * np.round(d / box)
    mtot = np.bincount(mol, weights=masses, minlength=n_mol)
    com = np.stack([np.bincount(mol, weights=masses * (ref[:, k] + d[:, k]), minlength=n_mol)
                    for k in range(3)], axis=1) / mtot[:, None]
    return com - box * np.floor(com / box)


class COMRDF:
    """Centre-of-mass g(r), freud style: ``COMRDF(n_blocks=10).compute(traj, top)``.

    Parameters
    ----------
    r_max : range of the output grid, nm (clipped to half the box less half a shell)
    dr : output shell width, nm (the model's 0.005 nm)
    n_blocks : blocks of consecutive frames for the standard errors
    """

    def __init__(self, r_max: float = R_MAX, dr: float = DR, n_blocks: int = 10) -> None:
        if not (n_blocks >= 2 and int(n_blocks) == n_blocks):
            raise ParameterError(f"n_blocks must be an integer >= 2, got {n_blocks}")
        self.r_max, self.dr, self.n_blocks = float(r_max), float(dr), int(n_blocks)
        self._res: dict | None = None

    def compute(self, trajectory: str | Path, topology: str | Path, select: str = "all",
                begin: float = 0.0, end: float | None = None, temperature: float | None = None,
                progress: bool = False) -> COMRDF:
        """Accumulate the frames of ``trajectory`` with time in [begin, end] ps.

        ``topology`` is a .tpr (best: masses and molecules as GROMACS has them), or any file
        MDAnalysis reads (.gro/.pdb: masses guessed from names, molecules = residues).
        ``select`` is an MDAnalysis selection of whole molecules; ``temperature`` [K] only goes
        into the header and JSON. Raises :class:`InputError` for unusable input.
        """
        u = _universe(trajectory, topology)
        try:
            ag = u.select_atoms(select)
        except Exception as exc:
            raise InputError(f"selection {select!r}: {exc}") from None
        if len(ag) == 0:
            raise InputError(f"selection {select!r} matches no atom of {topology}")
        mol, how = molecule_index(ag)
        n_mol = int(mol.max()) + 1
        if n_mol < 2:
            raise InputError(f"selection {select!r} holds {n_mol} molecule: a g(r) needs several")
        masses = np.asarray(ag.masses, dtype=float)
        mtot = np.bincount(mol, weights=masses, minlength=n_mol)
        if np.any(mtot <= 0):
            raise InputError(f"{topology}: molecules without mass; use the run's .tpr as topology")
        traj = u.trajectory
        times = np.array([traj[0].time + i * traj.dt for i in range(len(traj))]) if len(traj) > 1 \
            else np.array([traj[0].time])
        keep = times >= begin - 1e-6
        if end is not None:
            keep &= times <= end + 1e-6
        sel = np.flatnonzero(keep)
        if len(sel) < self.n_blocks:
            raise InputError(f"{trajectory}: {len(sel)} frames from {begin} ps on, fewer than the "
                             f"{self.n_blocks} blocks; lower begin or the number of blocks")
        dims = traj[int(sel[0])].dimensions
        box = float(dims[0]) / 10.0
        if not (np.allclose(dims[:3], dims[0], rtol=1e-5) and np.allclose(dims[3:], 90.0)):
            raise InputError(f"{trajectory}: box {dims[:3]} A, angles {dims[3:]}: the centre-of-mass "
                             "g(r) needs a cubic box")
        # the histogram reaches two fine bins past the last shell: its kernel can round a pair
        # beyond its range (float32) into the last fine bin instead of the overflow
        n_top = min(int(round(self.r_max / self.dr)),
                    int(math.floor((box / 2.0 - self.dr / 2.0 - 2 * DR_FINE) / self.dr + 1e-9)))
        r = model_grid(n_top * self.dr, self.dr)
        acc = RDFAccumulator(n_mol, box, r_max=r[-1] + self.dr / 2.0 + 2 * DR_FINE, dr=DR_FINE,
                             n_blocks=self.n_blocks)
        it = sel
        if progress:
            from tqdm import tqdm

            it = tqdm(sel, unit="frame", desc="COM g(r)", leave=False)
        vol = []
        for k, i in enumerate(it):
            ts = traj[int(i)]
            b = float(ts.dimensions[0]) / 10.0
            if abs(b - box) > 1e-4 * box:
                raise InputError(f"{trajectory}: the box changes ({box:.5f} -> {b:.5f} nm at "
                                 f"{ts.time} ps); the centre-of-mass g(r) needs an NVT trajectory")
            com = centres_of_mass(ag.positions.astype(np.float64) / 10.0, masses, mol, n_mol, box)
            acc.add_frame(com, block=k * self.n_blocks // len(sel))
            vol.append(b**3)
        g, err = acc.on_grid(r)
        self._res = {"r": r, "g": g, "g_err": err, "density": n_mol / float(np.mean(vol)),
                     "n_molecules": n_mol, "n_frames": len(sel), "box_length": box,
                     "begin": float(times[sel[0]]), "end": float(times[sel[-1]]),
                     "temperature": temperature, "molecules_from": how, "select": select,
                     "trajectory": Path(trajectory).name, "topology": Path(topology).name,
                     "mass": float(mtot.mean())}
        return self

    def _get(self, key: str):
        if self._res is None:
            raise RuntimeError("call compute() first")
        return self._res[key]

    r = property(lambda self: self._get("r"), doc="shell centres, nm (0.005 nm shells)")
    g = property(lambda self: self._get("g"), doc="centre-of-mass g(r) averaged over each shell")
    g_err = property(lambda self: self._get("g_err"), doc="block standard error of g")
    density = property(lambda self: self._get("density"), doc="molecules per nm^3")
    n_frames = property(lambda self: self._get("n_frames"), doc="frames used")
    n_molecules = property(lambda self: self._get("n_molecules"), doc="molecules selected")
    mass = property(lambda self: self._get("mass"), doc="mean molecular mass, amu")

    def first_peak(self) -> tuple[float, float, float]:
        """(r [nm], g, standard error of g) at the highest shell of g."""
        k = int(np.nanargmax(self.g))
        return float(self.r[k]), float(self.g[k]), float(self.g_err[k])

    def to_json(self) -> dict:
        """Summary without arrays."""
        self._get("r")
        d = {k: v for k, v in self._res.items() if k not in ("r", "g", "g_err")}
        rp, gp, ep = self.first_peak()
        d.update(r_peak=rp, g_peak=gp, g_peak_sem=ep, n_blocks=self.n_blocks, dr=self.dr,
                 fine_dr=DR_FINE, r_max=float(self.r[-1]))
        return d

    def write_xvg(self, path: str | Path, command: str = "") -> Path:
        """r [nm], g and its standard error as .xvg (the legend names the error, so
        :func:`deepilst.rdfio.inspect_rdf` and :meth:`deepilst.fit.Target.from_file` use it)."""
        j = self.to_json()
        t = j["temperature"]
        comments = [f"centre-of-mass g(r) by deepilst com-rdf{(': ' + command) if command else ''}",
                    f"molecules {j['n_molecules']} ({j['molecules_from']}), number density "
                    f"{j['density']:.6g} nm^-3, T {f'{t:g} K' if t else 'unknown'}",
                    f"frames {j['n_frames']} ({j['begin']:g}-{j['end']:g} ps), blocks {self.n_blocks}; "
                    f"fine histogram {DR_FINE} nm rebinned onto {self.dr} nm shells centred on r",
                    "g normalised by N(N-1)/2 distinct pairs; error column: block standard error"]
        write_xvg(path, self.r, [self.g, self.g_err], ["g(r)", "standard error"],
                  title="centre-of-mass g(r)", comments=comments)
        return Path(path)

    def plot(self, ax=None):
        """g(r) with a +-2 standard-error band on ``ax`` (a new figure if None); the Axes."""
        from deepilst.plots import draw_rdf

        return draw_rdf(self.r, self.g, self.g_err, ax=ax,
                        title=f"centre-of-mass g(r), {self.n_molecules} molecules, "
                              f"{self.density:.4g} nm^-3")


def com_rdf(trajectory: str | Path, topology: str | Path, select: str = "all", n_blocks: int = 10,
            begin: float = 0.0, end: float | None = None, temperature: float | None = None,
            r_max: float = R_MAX, progress: bool = False) -> COMRDF:
    """The centre-of-mass g(r) of ``trajectory`` (see :class:`COMRDF`)."""
    if temperature is not None and not (math.isfinite(temperature) and temperature > 0):
        raise ParameterError(f"temperature must be a positive number of kelvin, got {temperature}")
    return COMRDF(r_max, DR, n_blocks).compute(trajectory, topology, select, begin, end,
                                               temperature, progress)
