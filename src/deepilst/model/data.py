"""Training arrays from v1 HDF5 datasets, and splits by source simulation (no leakage)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deepilst.dataset import dataset_id, expand_g, is_simulated_state, open_dataset
from deepilst.units import reduced_state, sigma_epsilon


@dataclass
class Arrays:
    """One row per physical sample. ``group`` identifies the source simulation across files."""

    g: np.ndarray            # (n, 301) on the model grid
    T: np.ndarray            # K
    rho: np.ndarray          # nm^-3
    C12: np.ndarray          # kJ mol^-1 nm^12
    C6: np.ndarray           # kJ mol^-1 nm^6
    group: np.ndarray        # str: "<dataset id[:12]>:<sim row>"
    phase: np.ndarray        # str
    equilibrated: np.ndarray  # bool
    files: list[str] = field(default_factory=list)
    #: dataset ids of ``files`` (:func:`deepilst.dataset.dataset_id`: ``attrs["dataset_id"]``,
    #: or the sha256 of a schema-1 file), the ids models store under "sha256"
    hashes: list[str] = field(default_factory=list)
    noisy: np.ndarray | None = None  # bool: g carries added noise (see load_arrays)
    noise: float = 0.0               # the ``noise`` factor load_arrays was called with

    def __post_init__(self) -> None:
        if self.noisy is None:
            self.noisy = np.zeros(len(self.T), dtype=bool)

    def __len__(self) -> int:
        return len(self.T)

    @property
    def sigma(self) -> np.ndarray:
        """sigma [nm] of each sample."""
        return sigma_epsilon(self.C12, self.C6)[0]

    @property
    def epsilon(self) -> np.ndarray:
        """epsilon [kJ/mol] of each sample."""
        return sigma_epsilon(self.C12, self.C6)[1]

    @property
    def T_reduced(self) -> np.ndarray:
        """T* = kB T / epsilon of each sample."""
        return reduced_state(self.T, self.rho, self.C12, self.C6)[0]

    @property
    def rho_reduced(self) -> np.ndarray:
        """rho* = rho sigma^3 of each sample."""
        return reduced_state(self.T, self.rho, self.C12, self.C6)[1]

    def take(self, idx: np.ndarray) -> Arrays:
        return Arrays(self.g[idx], self.T[idx], self.rho[idx], self.C12[idx], self.C6[idx],
                      self.group[idx], self.phase[idx], self.equilibrated[idx], self.files,
                      self.hashes, self.noisy[idx], self.noise)


def load_arrays(*paths: str | Path, noise: float = 0.0, seed: int = 0) -> Arrays:
    """Every physical sample of the given datasets, expanded by corresponding states where the
    file says so (g rebinned exactly from the simulation's fine histogram).

    ``noise`` > 0 (training augmentation): each expanded sample is rebinned from the fine
    histogram plus Gaussian noise of ``noise`` times its own statistical error (fine_g_err), a
    fresh draw per sample (seeded), so the network sees each simulation's g with many noise
    realisations and cannot learn one run's noise. The simulated state itself stays clean
    (``noisy`` False): models validate and calibrate on clean samples only.

    ``group`` is ``f"{dataset_id[:12]}:{sim_row}"`` and ``hashes`` the dataset ids
    (:func:`deepilst.dataset.dataset_id`), so a schema-1 file and its schema-2 migration give
    the same groups.
    """
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    rng = np.random.default_rng(seed)
    parts = []
    files, hashes = [], []
    for p in paths:
        hx = dataset_id(p)
        files.append(str(p))
        hashes.append(hx)
        with open_dataset(p) as h:
            sims, s = h["sims"], h["samples"]
            r = h["r"][:]
            fine_dr = float(h["fine_dr"][()])
            g_sim = sims["g"][:]
            sim = s["sim"][:]
            T, rho, c12, c6 = (s[k][:] for k in ("T", "rho", "C12", "C6"))
            sC12, sC6, sT, ssig = (sims[k][:] for k in ("C12", "C6", "T", "sigma"))
            fine = sims["fine_g"][:] if len(sim) > len(sims["T"]) else None
            fine_err = (sims["fine_g_err"][:] if fine is not None and noise > 0 else None)
            phase = np.array([x.decode() for x in sims["phase"][:]])
            eq = sims["equilibrated"][:].astype(bool)
        g = np.empty((len(sim), len(r)))
        noisy = np.zeros(len(sim), dtype=bool)
        for j, i in enumerate(sim):
            if is_simulated_state(c12[j], c6[j], T[j], sC12[i], sC6[i], sT[i]):
                g[j] = g_sim[i]
            else:
                sig_new = sigma_epsilon(c12[j], c6[j])[0]
                fg = fine[i]
                if fine_err is not None:
                    fg = fg + noise * np.nan_to_num(fine_err[i]) * rng.standard_normal(len(fg))
                    noisy[j] = True
                g[j] = expand_g(fg, fine_dr, float(ssig[i]), sig_new, r)[0]
        group = np.array([f"{hx[:12]}:{i}" for i in sim])
        parts.append(Arrays(g, T, rho, c12, c6, group, phase[sim], eq[sim], noisy=noisy))
    cat = {k: np.concatenate([getattr(a, k) for a in parts])
           for k in ("g", "T", "rho", "C12", "C6", "group", "phase", "equilibrated", "noisy")}
    return Arrays(**cat, files=files, hashes=hashes, noise=float(noise))


def split_groups(groups: np.ndarray, fractions=(0.75, 0.125, 0.125), seed: int = 0
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row indices of train / validation / test, split by source simulation (``groups``)."""
    u = np.unique(groups)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(u))
    n1 = int(round(fractions[0] * len(u)))
    n2 = n1 + int(round(fractions[1] * len(u)))
    which = np.empty(len(u), dtype=int)
    which[perm[:n1]], which[perm[n1:n2]], which[perm[n2:]] = 0, 1, 2
    lookup = dict(zip(u, which))
    w = np.array([lookup[x] for x in groups])
    return tuple(np.flatnonzero(w == k) for k in range(3))
