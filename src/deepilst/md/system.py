"""Initial configurations."""

from __future__ import annotations

import math

import numpy as np


def lattice_positions(n: int, box: float, seed: int = 0) -> np.ndarray:
    """N positions [nm] on an fcc lattice filling a cubic box of edge ``box`` [nm].

    When N is not 4k^3 the smallest fcc lattice with at least N sites is used and random
    sites are left empty (vacancies help fluids melt quickly). A small random displacement
    (1 % of the lattice constant) breaks the symmetry.
    """
    k = int(math.ceil((n / 4.0) ** (1.0 / 3.0) - 1e-9))
    a = box / k
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    cells = np.stack(np.meshgrid(np.arange(k), np.arange(k), np.arange(k), indexing="ij"), -1)
    sites = (cells.reshape(-1, 1, 3) + basis[None]).reshape(-1, 3) * a
    rng = np.random.default_rng(seed)
    if len(sites) > n:
        sites = sites[np.sort(rng.choice(len(sites), n, replace=False))]
    sites = sites + rng.normal(scale=0.01 * a, size=sites.shape)
    return np.mod(sites + 0.25 * a, box)
