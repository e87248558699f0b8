"""The small interface every MD backend implements."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from deepilst.errors import EngineUnavailable, SimulationError
from deepilst.md.spec import SimSpec

__all__ = ["Engine", "EngineRun", "EngineUnavailable", "FrameSink", "SimulationError"]

#: Called with (positions [nm], shape (N, 3); production frame index) for every analysed frame.
FrameSink = Callable[[np.ndarray, int], None]


@dataclass
class EngineRun:
    """Per-frame series of the production run, as reported by the engine itself.

    potential : total potential energy incl. dispersion correction, kJ/mol
    temperature : instantaneous kinetic temperature, K
    pressure : pressure incl. dispersion correction, bar (None if the engine reports none)
    """

    potential: np.ndarray
    temperature: np.ndarray
    pressure: np.ndarray | None
    platform: str
    version: str
    extra: dict = field(default_factory=dict)


class Engine:
    """An MD backend: runs ``spec`` and feeds production frames to ``sink``."""

    name = "base"

    @staticmethod
    def available() -> bool:
        raise NotImplementedError

    def version(self) -> str:
        raise NotImplementedError

    def run(self, spec: SimSpec, sink: FrameSink) -> EngineRun:
        raise NotImplementedError

    def run_bare(self, spec: SimSpec) -> float:
        """Run the same MD with no analysis at all; returns wall seconds (for benchmarks)."""
        raise NotImplementedError
