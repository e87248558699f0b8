"""Analysis of runs with a tabulated pair potential: per-frame energy and virial from the
frame's fine pair histogram and the table.

The pair kernel of :class:`~deepilst.rdf.RDFAccumulator` evaluates LJ only; for a table each
frame's pair distances are already histogrammed in 0.0005 nm bins, and the energy and the sum
of r du/dr are the bin counts times u and r du/dr at the bin centres. The error of the midpoint
rule is u'' dr^2 / 24 per pair (about 1e-4 kJ/mol per pair in an LJ core, 1e-7 of U).
"""

from __future__ import annotations

import numpy as np

from deepilst.md.spec import PairTable
from deepilst.rdf import DR_FINE, RDFAccumulator

#: The cutoff convention of runs with a tabulated potential, in words.
TABLE_CONVENTION = ("tabulated pair potential truncated at the table's end (rc = r_max of the "
                    "table), no tail correction")


class TableAccumulator(RDFAccumulator):
    """:class:`RDFAccumulator` whose per-frame energy [kJ/mol] and virial sum of r du/dr
    [kJ/mol] come from ``table`` (pairs beyond the table's end contribute nothing)."""

    def __init__(self, n_particles: int, box_length: float, table: PairTable,
                 n_blocks: int = 10, dr: float = DR_FINE) -> None:
        super().__init__(n_particles, box_length, r_max=None, dr=dr, n_blocks=n_blocks)
        pot = table.potential()
        centres = (np.arange(self.nbins) + 0.5) * self.dr
        inside = centres < table.r_max
        self._u = np.where(inside, pot.energy(centres), 0.0)
        self._w = np.where(inside, -centres * pot.force(centres), 0.0)

    def add_frame(self, positions: np.ndarray, block: int = 0) -> tuple[float, float]:
        super().add_frame(positions, block)
        h = self._buf[: self.nbins]
        u, w = float(h @ self._u), float(h @ self._w)
        self.energies[-1] = u
        self.virials[-1] = w
        return u, w
