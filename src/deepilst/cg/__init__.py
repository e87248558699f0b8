"""Coarse-graining molecular liquids into single LJ beads: ``coarse_grain`` (``deepilst cg``)."""

from deepilst.cg.report import CGReport
from deepilst.cg.workflow import coarse_grain

__all__ = ["CGReport", "coarse_grain"]
