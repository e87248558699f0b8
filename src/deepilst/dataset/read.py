"""Reading datasets (schema 1 and 2, under the schema-2 names): summary, samples, export."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepilst import __version__
from deepilst.dataset.corresponding import expand_g, is_simulated_state
from deepilst.dataset.schema import READABLE_VERSIONS, V1_RENAMED, file_sha256
from deepilst.errors import DatasetError
from deepilst.units import reduced_state, sigma_epsilon


class SimsGroup:
    """The ``/sims`` group under schema-2 names: a schema-1 file's renamed fields are found
    under their new names (:data:`~deepilst.dataset.schema.V1_RENAMED`) and a missing
    ``replicas`` reads as ones. Indexing returns the h5py dataset (or, for synthesised
    ``replicas``, a numpy array)."""

    def __init__(self, group, schema_version: int) -> None:
        self._g = group
        self._v1 = schema_version == 1
        self._old = set(V1_RENAMED.values())

    def _name(self, key: str) -> str | None:
        if self._v1 and key in self._old:
            return None  # one spelling: a schema-1 name is not an alias
        if key in self._g:
            return key
        if self._v1 and key in V1_RENAMED and V1_RENAMED[key] in self._g:
            return V1_RENAMED[key]
        return None

    def __getitem__(self, key: str):
        name = self._name(key)
        if name is not None:
            return self._g[name]
        if self._v1 and key == "replicas":
            return np.ones(self._g["T"].shape[0])
        raise KeyError(f"sims/{key}")

    def __contains__(self, key: str) -> bool:
        return self._name(key) is not None or (self._v1 and key == "replicas")

    def keys(self) -> list[str]:
        """Field names (schema-2 spelling)."""
        back = {v: k for k, v in V1_RENAMED.items()} if self._v1 else {}
        names = [back.get(k, k) for k in self._g]
        if self._v1 and "replicas" not in names:
            names.append("replicas")
        return sorted(names)

    def __iter__(self):
        return iter(self.keys())


class DatasetFile:
    """An open dataset (read-only; a context manager). ``h["sims"]`` (and ``h["sims/X"]``)
    is a :class:`SimsGroup`; other members and ``attrs`` are h5py's."""

    def __init__(self, h5, path: Path) -> None:
        self._h = h5
        self.path = path
        self.schema_version = int(h5.attrs["schema_version"])
        self.attrs = h5.attrs

    def __getitem__(self, key: str):
        head, _, rest = key.partition("/")
        if head == "sims":
            sims = SimsGroup(self._h["sims"], self.schema_version)
            return sims[rest] if rest else sims
        return self._h[key]

    def __contains__(self, key: str) -> bool:
        return key in self._h

    def keys(self):
        return self._h.keys()

    def close(self) -> None:
        self._h.close()

    def __enter__(self) -> DatasetFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_dataset(path: str | Path) -> DatasetFile:
    """Open a dataset for reading (schema 1 or 2; read it under the schema-2 names).

    Raises
    ------
    DatasetError
        No such file, not HDF5, or a schema version this deepilst cannot read.
    """
    import h5py

    p = Path(path)
    if not p.exists():
        raise DatasetError(f"{p}: no such file")
    try:
        h = h5py.File(p, "r")
    except OSError:
        raise DatasetError(f"{p}: not an HDF5 dataset (build one with `deepilst dataset build`)"
                           ) from None
    v = h.attrs.get("schema_version")
    v = v.item() if hasattr(v, "item") else v
    if v not in READABLE_VERSIONS:
        h.close()
        raise DatasetError(f"{p}: schema version {v!r}, this deepilst reads "
                           f"{', '.join(map(str, READABLE_VERSIONS))}; rebuild it with "
                           "`deepilst dataset build` or upgrade deepilst")
    return DatasetFile(h, p)


def dataset_id(path: str | Path) -> str:
    """The identity of a dataset (64 hex digits): ``attrs["dataset_id"]``, or for a schema-1
    file the sha256 of its bytes (see :mod:`deepilst.dataset.schema`)."""
    with open_dataset(path) as h:
        ident = h.attrs.get("dataset_id")
    return str(ident) if ident is not None else file_sha256(path)


def _display_path(path: str | Path) -> str:
    p = Path(os.path.abspath(path))
    cwd = Path.cwd()
    return p.relative_to(cwd).as_posix() if cwd in p.parents else p.name


def info(path: str | Path) -> dict:
    """Summary of a dataset: design, counts, phase fractions, first-peak relative error of g,
    CPU/wall hours, size, ranges (T [K], rho [nm^-3], C12, C6, T_reduced, rho_reduced),
    cutoff convention, dataset id and provenance. ``file`` is the path relative to the current
    directory when under it, else the file name."""
    with open_dataset(path) as h:
        sims = h["sims"]
        phases = [p.decode() for p in sims["phase"][:]]
        n = int(h.attrs["n_simulations"])
        frac = {lab: phases.count(lab) / n for lab in ("fluid", "two-phase", "solid")}
        rng = {k: [float(np.min(sims[k][:])), float(np.max(sims[k][:]))]
               for k in ("T", "rho", "C12", "C6", "T_reduced", "rho_reduced")}
        g, ge = sims["g"][:], sims["g_err"][:]
        k = np.nanargmax(np.nan_to_num(g, nan=-1.0), axis=1)
        rows = np.arange(n)
        fp = ge[rows, k] / g[rows, k]
        size = Path(path).stat().st_size
        res = {
            "file": _display_path(path),
            "schema_version": h.schema_version,
            "design": str(h.attrs["design"]),
            "n_simulations": n,
            "n_samples": int(h.attrs["n_samples"]),
            "phase_fractions": frac,
            "equilibrated_fraction": float(np.mean(sims["equilibrated"][:])),
            "first_peak_rel_err": {"median": float(np.median(fp)),
                                   "p90": float(np.quantile(fp, 0.9)), "max": float(np.max(fp)),
                                   "fraction_below_1pct": float(np.mean(fp < 0.01))},
            "cpu_hours": float(np.sum(sims["cpu_s"][:]) / 3600.0),
            "wall_hours": float(np.sum(sims["wall_s"][:]) / 3600.0),
            "bytes": int(size), "bytes_per_simulation": int(size // n),
            "ranges": rng,
            "rc_sigma": float(h.attrs["rc_sigma"]),
            "cutoff_convention": str(h.attrs["cutoff_convention"]),
            "provenance": json.loads(h.attrs["provenance"]),
        }
    res["dataset_id"] = dataset_id(path)
    return res


def format_info(res: dict) -> str:
    """Human-readable summary of an :func:`info` dict."""
    lines = [f"{res['file']}: design {res['design']}, {res['n_simulations']} simulations, "
             f"{res['n_samples']} samples (schema {res['schema_version']})",
             "phases: " + ", ".join(f"{k} {v:.1%}" for k, v in res["phase_fractions"].items())]
    lines += [f"  {k:11s} {lo:.4g} .. {hi:.4g}" for k, (lo, hi) in res["ranges"].items()]
    lines.append(f"cutoff: {res['cutoff_convention']}")
    return "\n".join(lines)


def phase_points(paths: list[str | Path]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Every simulated state of the datasets, in order: (T_reduced, rho_reduced, phase labels)
    for a phase map (:func:`deepilst.plots.plot_phase_map`)."""
    ts, rs, labels = [], [], []
    for p in paths:
        with open_dataset(p) as h:
            ts.append(h["sims"]["T_reduced"][:])
            rs.append(h["sims"]["rho_reduced"][:])
            labels += [x.decode() for x in h["sims"]["phase"][:]]
    return np.concatenate(ts), np.concatenate(rs), labels


@dataclass
class Sample:
    """One physical sample: state (temperature [K], density [nm^-3], c12, c6), g on the model
    grid r [nm] with its standard error, source simulation row and its phase label."""

    temperature: float
    density: float
    c12: float
    c6: float
    r: np.ndarray
    g: np.ndarray
    g_err: np.ndarray
    sim: int
    phase: str


def get_sample(path: str | Path, index: int) -> Sample:
    """Physical sample ``index`` (expanded by corresponding states where the design says so).

    Raises
    ------
    DatasetError
        ``index`` is out of range.
    """
    with open_dataset(path) as h:
        ns = int(h.attrs["n_samples"])
        if not 0 <= index < ns:
            raise DatasetError(f"sample {index} out of range: {path} has {ns} samples (0..{ns - 1})")
        s = h["samples"]
        i = int(s["sim"][index])
        T, rho, c12, c6 = (float(s[k][index]) for k in ("T", "rho", "C12", "C6"))
        sims = h["sims"]
        r = h["r"][:]
        same = is_simulated_state(c12, c6, T, sims["C12"][i], sims["C6"][i], sims["T"][i])
        if same:
            g, ge = sims["g"][i], sims["g_err"][i]
        else:
            sig_new = sigma_epsilon(c12, c6)[0]
            g, ge = expand_g(sims["fine_g"][i], float(h["fine_dr"][()]), float(sims["sigma"][i]),
                             sig_new, r, sims["fine_g_err"][i])
        return Sample(T, rho, c12, c6, r, np.asarray(g), np.asarray(ge), i,
                      sims["phase"][i].decode())


def states_csv(path: str | Path, out: str | Path, rows: np.ndarray | None = None) -> int:
    """Write the simulated states of a dataset (one row per simulation: T [K], rho [nm^-3],
    C12, C6; only the simulation ``rows`` given, in their order) as a ``grid`` design CSV,
    exact to the last bit, so that ``generate --design grid`` with another seed re-runs the same
    states and ``build`` pools the runs. Returns the count."""
    from deepilst.fileio import write_text_atomic

    with open_dataset(path) as h:
        cols = [h["sims"][k][:] for k in ("T", "rho", "C12", "C6")]
    if rows is not None:
        cols = [c[np.asarray(rows)] for c in cols]
    lines = [",".join(repr(float(v)) for v in vals) for vals in zip(*cols)]
    write_text_atomic(out, "T,rho,C12,C6\n" + "\n".join(lines) + "\n")
    return len(lines)


def export_xvg(path: str | Path, index: int, out: str | Path) -> Path:
    """Write physical sample ``index`` as a GROMACS-style .xvg (r in nm, g, error)."""
    from deepilst.xvg import write_xvg

    s = get_sample(path, index)
    sig, eps = sigma_epsilon(s.c12, s.c6)
    t_red, rho_red = reduced_state(s.temperature, s.density, s.c12, s.c6)
    write_xvg(out, s.r, [s.g, s.g_err], ["g(r)", "std. error"],
              title=f"deepilst sample {index}", comments=[
                  f"deepilst {__version__} dataset {Path(path).name} sample {index} (sim {s.sim})",
                  f"T = {s.temperature:.4f} K, rho = {s.density:.5f} nm^-3",
                  f"C12 = {s.c12:.6e} kJ mol^-1 nm^12, C6 = {s.c6:.6e} kJ mol^-1 nm^6",
                  f"sigma = {sig:.5f} nm, epsilon = {eps:.5f} kJ/mol, "
                  f"T* = {t_red:.4f}, rho* = {rho_red:.4f}",
                  f"phase: {s.phase}"])
    return Path(out)
