"""Error maps of single-bead LJ models over (C12, C6) without an MD grid (the paper's Figure 5):
eps_rdf from the forward model, eps_KL (relative entropy) from the target g(r) and the LJ
free energy (:mod:`deepilst.freeenergy`)."""

from deepilst.maps.core import ErrorMaps
from deepilst.maps.kl import re_gradient_ts, relative_entropy
from deepilst.maps.run import error_maps, save

__all__ = ["ErrorMaps", "error_maps", "re_gradient_ts", "relative_entropy", "save"]
