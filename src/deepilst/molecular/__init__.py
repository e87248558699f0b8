"""All-atom molecular liquids (GROMACS) and their centre-of-mass g(r), for coarse-graining.

``MOLECULES``/``get_molecule``: the shipped force fields (CO, F2, CH4, N2, C2H6; sources in
each file); ``AASpec``/``run_aa``: a resumable NVT run of N molecules at (T, rho);
``com_rdf``/``COMRDF``: the centre-of-mass g(r) of a trajectory on the model's shells with
block standard errors; ``write_target``: a coarse-graining target (.xvg + JSON) from a run.
Heavy packages (MDAnalysis, tqdm) are imported when used.
"""

from deepilst.molecular.aa import AASpec, run_aa
from deepilst.molecular.comrdf import COMRDF, com_rdf
from deepilst.molecular.registry import MOLECULES, Molecule, get_molecule
from deepilst.molecular.targets import noise_floor, write_target

__all__ = ["AASpec", "COMRDF", "MOLECULES", "Molecule", "com_rdf", "get_molecule", "noise_floor",
           "run_aa", "write_target"]
