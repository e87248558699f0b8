"""Ready-to-paste force-field snippets for one Lennard-Jones bead, in deepilst's cutoff convention.

The convention the models are trained with: forces and energies truncated at
r_c = ``rc_sigma`` sigma (no shift, no switch), analytic long-range corrections for energy and
pressure. Each snippet carries it:

* GROMACS: a topology (``[ defaults ]`` with comb-rule 1, ``[ atomtypes ]`` with C6/C12, a
  one-atom ``[ moleculetype ]``) and the mdp lines ``cutoff-scheme = Verlet``, ``vdwtype =
  cut-off``, ``vdw-modifier = None``, ``rvdw = rcoulomb = r_c``, ``coulombtype = cut-off``,
  ``DispCorr = EnerPres``. Tested with ``gmx grompp`` (no warnings).
* LAMMPS (``units real``: kcal/mol and Angstrom; ``units metal``: eV and Angstrom)::

      pair_style lj/cut <r_c in Angstrom>
      pair_modify shift no tail yes      # truncated, tail corrections for energy and pressure
      pair_coeff 1 1 <epsilon> <sigma in Angstrom>
      mass 1 <mass in g/mol>

* OpenMM: a ForceField XML file (``<AtomTypes>``, a one-atom ``<Residues>`` template,
  ``<NonbondedForce>`` with sigma [nm] and epsilon [kJ/mol]); create the system with
  ``nonbondedMethod=CutoffPeriodic, nonbondedCutoff=r_c, useDispersionCorrection=True``
  (OpenMM's plain cutoff for a periodic system is a truncation without switching). Tested with
  ``ForceField.createSystem``.
"""

from __future__ import annotations

import re

from deepilst.errors import ParameterError
from deepilst.units import KJ_MOL_PER_EV, KJ_PER_KCAL, RC_SIGMA, check_positive, sigma_epsilon

#: Allowed bead names: a letter, then letters, digits, ``_``, ``+`` or ``-`` (at most 16 in all),
#: so that one name is a valid GROMACS atom/molecule name, LAMMPS comment and XML attribute.
NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]{0,15}")
#: An element symbol as OpenMM spells it (``Ar``, ``C``, ``Xe``).
ELEMENT_PATTERN = re.compile(r"[A-Z][a-z]{0,2}")

__all__ = ["snippets", "gromacs_topology", "gromacs_mdp", "lammps", "openmm_xml"]


def _check_name(name: str) -> str:
    if not isinstance(name, str) or NAME_PATTERN.fullmatch(name) is None:
        raise ParameterError(f"name must be 1-16 characters, a letter first, then letters, digits, "
                             f"'_', '+' or '-' (no spaces), got {name!r}")
    return name


def _check_element(element: str | None) -> str | None:
    if element is None:
        return None
    if not isinstance(element, str) or ELEMENT_PATTERN.fullmatch(element) is None:
        raise ParameterError(f"element must be a chemical symbol such as 'Ar' or None, got {element!r}")
    return element


def gromacs_topology(c12: float, c6: float, name: str = "LJ", mass: float = 39.948) -> str:
    """GROMACS topology of one LJ bead type and a one-atom molecule of it.

    Parameters
    ----------
    c12, c6 : kJ mol^-1 nm^12 and kJ mol^-1 nm^6 (comb-rule 1 takes them as they are)
    name : atom type, atom and molecule name
    mass : amu

    Append ``[ system ]`` and ``[ molecules ]`` (``name N``) to make a complete ``topol.top``.
    """
    return ("[ defaults ]\n; nbfunc comb-rule gen-pairs fudgeLJ fudgeQQ\n"
            "  1      1         no        1.0     1.0\n\n"
            "[ atomtypes ]\n; name  at.num  mass      charge  ptype  c6            c12\n"
            f"  {name:<5} 0       {mass:<9.5f} 0.000   A      {c6:.8e}  {c12:.8e}\n\n"
            "[ moleculetype ]\n; name  nrexcl\n"
            f"  {name}  1\n\n"
            "[ atoms ]\n; nr type resnr residue atom cgnr charge mass\n"
            f"  1  {name}  1  {name}  {name}  1  0.000  {mass:.5f}\n")


#: ``gmx mdrun -nstlist`` for our runs. Left to itself GROMACS 2022 lengthens a Verlet list's
#: life from 10 to 80-100 steps for soft beads (T* above ~60 at our time step: the force at the
#: cutoff is small, so its drift estimate allows it), and pairs outside the list walk into
#: each other: of 1000-bead runs at rho* 0.8 every one at T* 70-3.5e5 blew up or spiked (one
#: that passed every check had a pair at 333 kB T and T 6580 K for 5 ps). With 20 every such
#: run we tried was clean (T* 80, 90, 108, 333, 3.5e5; largest pair energy 12 kB T); physical
#: states (T* <= 8) get 25 from GROMACS anyway. Fixed-list runs (``verlet-buffer-tolerance =
#: -1``) keep their own nstlist.
GROMACS_NSTLIST = 20


def gromacs_mdp(rc: float, rc_sigma: float = RC_SIGMA) -> str:
    """The non-bonded mdp lines of the cutoff convention; ``rc`` [nm] = ``rc_sigma`` sigma."""
    return (f"; deepilst convention: LJ truncated at rc = {rc_sigma:g} sigma (no shift), "
            "dispersion correction for energy and pressure\n"
            f"; run with gmx mdrun -nstlist {GROMACS_NSTLIST}: soft beads (T* > ~60) blow up when "
            "GROMACS lengthens the pair list's life\n"
            "cutoff-scheme   = Verlet\n"
            "vdwtype         = cut-off\n"
            "vdw-modifier    = None\n"
            f"rvdw            = {rc:.6f}\n"
            "coulombtype     = cut-off\n"
            f"rcoulomb        = {rc:.6f}\n"
            "DispCorr        = EnerPres\n")


#: Pair-list radius beyond the cutoff of a pure repulsion C12 r^-12 in GROMACS, nm
#: (``verlet-buffer-tolerance = -1``, ``nstlist = 10``): about 3 standard deviations of a
#: pair's relative motion over 10 steps for F2 at 345 K, and a pair the list misses would lose
#: a force below 1e-4 kB T/nm (u(rc) = kB T / 3^12). Our boundary runs use it too.
REPULSION_LIST_BUFFER = 0.1


def gromacs_repulsion_list(rc: float, max_rlist: float | None = None) -> str:
    """The fixed pair-list mdp lines of a pure repulsion cut at ``rc`` [nm]: rlist
    REPULSION_LIST_BUFFER beyond rc, held at or below ``max_rlist`` [nm] (e.g. just under half
    the box) but never below rc."""
    rlist = rc + REPULSION_LIST_BUFFER
    if max_rlist is not None:
        rlist = max(min(rlist, max_rlist), rc)
    return ("verlet-buffer-tolerance = -1\n"
            "nstlist         = 10\n"
            f"rlist           = {rlist:.6f}\n")


def gromacs_mdp_repulsion(rc: float) -> str:
    """The non-bonded mdp lines of a pure repulsion C12 r^-12 (a relative-entropy answer on the
    boundary C6 = 0 of the LJ family) truncated at ``rc`` [nm], as deepilst ran it: no
    dispersion correction, and a fixed pair list. GROMACS 2022's automatic buffer
    (``verlet-buffer-tolerance`` 0.0005 or its default 0.005) estimates the energy drift from
    the force at the cutoff, which is nearly zero here, so it sets no buffer, and mdrun then
    lengthens ``nstlist`` from 10 to 100 (0.9 ps at our 9 fs step): pairs outside the cutoff
    when the list is built feel no repulsion until the next build, walk into each other, and
    the run blows up at that build (F2's cold-RE answer, 1000 beads: at step 100). With the
    list rebuilt every 10 steps they cannot."""
    return (f"; deepilst pure repulsion C12 r^-12 truncated at rc = {rc:.4f} nm (C6 = 0)\n"
            "cutoff-scheme   = Verlet\n"
            + gromacs_repulsion_list(rc)
            + "vdwtype         = cut-off\n"
            "vdw-modifier    = None\n"
            f"rvdw            = {rc:.6f}\n"
            "coulombtype     = cut-off\n"
            f"rcoulomb        = {rc:.6f}\n"
            "DispCorr        = no\n")


def lammps(sigma: float, epsilon: float, rc: float, mass: float, units: str = "real",
           name: str = "LJ") -> str:
    """LAMMPS lines for atom type 1 (``units real``: kcal/mol; ``units metal``: eV; Angstrom).

    ``sigma`` and ``rc`` in nm, ``epsilon`` in kJ/mol, ``mass`` in amu (g/mol in both styles).
    """
    if units == "real":
        e, word = epsilon / KJ_PER_KCAL, "kcal/mol"
    elif units == "metal":
        e, word = epsilon / KJ_MOL_PER_EV, "eV"
    else:
        raise ParameterError(f"units must be 'real' or 'metal', got {units!r}")
    return (f"# units {units}: epsilon in {word}, lengths in Angstrom; bead {name}\n"
            f"pair_style lj/cut {10 * rc:.6f}\n"
            "pair_modify shift no tail yes\n"
            f"pair_coeff 1 1 {e:.8g} {10 * sigma:.6f}   # epsilon sigma\n"
            f"mass 1 {mass:.5f}\n")


def openmm_xml(sigma: float, epsilon: float, rc: float, name: str = "LJ", mass: float = 39.948,
               element: str | None = None) -> str:
    """OpenMM ForceField XML for one bead: atom type, one-atom residue template, LJ parameters.

    ``sigma`` [nm], ``epsilon`` [kJ/mol], ``rc`` [nm] (used in the createSystem comment),
    ``mass`` [amu]; ``element`` None leaves the type without an element (OpenMM allows that;
    topology atoms then need ``element=None`` too).
    """
    el = "" if element is None else f' element="{element}"'
    return ("<ForceField>\n"
            f"<!-- createSystem(topology, nonbondedMethod=CutoffPeriodic, nonbondedCutoff={rc:.6f}"
            "*nanometer, useDispersionCorrection=True): truncated at rc, no switching function -->\n"
            " <AtomTypes>\n"
            f'  <Type name="{name}" class="{name}"{el} mass="{mass:.5f}"/>\n'
            " </AtomTypes>\n"
            " <Residues>\n"
            f'  <Residue name="{name}">\n'
            f'   <Atom name="{name}" type="{name}"/>\n'
            "  </Residue>\n"
            " </Residues>\n"
            ' <NonbondedForce coulomb14scale="1.0" lj14scale="1.0">\n'
            f'  <Atom type="{name}" charge="0.0" sigma="{sigma:.8g}" epsilon="{epsilon:.8g}"/>\n'
            " </NonbondedForce>\n"
            "</ForceField>\n")


def snippets(c12: float, c6: float, name: str = "LJ", mass: float = 39.948,
             element: str | None = None, rc_sigma: float = RC_SIGMA) -> dict[str, str]:
    """Force-field snippets for one LJ bead in the model's cutoff convention.

    Parameters
    ----------
    c12, c6 : LJ coefficients, kJ mol^-1 nm^12 and kJ mol^-1 nm^6
    name : bead (atom type, residue, molecule) name; no spaces (see :data:`NAME_PATTERN`)
    mass : amu
    element : chemical symbol for OpenMM, or None for none
    rc_sigma : cutoff in units of sigma (the model's ``rc_sigma``)

    Returns
    -------
    dict with ``gromacs`` (topology), ``gromacs_mdp`` (non-bonded mdp lines), ``lammps_real``,
    ``lammps_metal`` and ``openmm`` (ForceField XML); see the module docstring.

    Raises
    ------
    ParameterError
        Non-positive or non-finite c12, c6, mass or rc_sigma; a bad name or element.
    """
    sig, eps = sigma_epsilon(c12, c6)
    c12, c6 = float(c12), float(c6)
    mass = check_positive("mass", mass)
    rc = check_positive("rc_sigma", rc_sigma) * sig
    name, element = _check_name(name), _check_element(element)
    return {"gromacs": gromacs_topology(c12, c6, name, mass),
            "gromacs_mdp": gromacs_mdp(rc, rc_sigma),
            "lammps_real": lammps(sig, eps, rc, mass, "real", name),
            "lammps_metal": lammps(sig, eps, rc, mass, "metal", name),
            "openmm": openmm_xml(sig, eps, rc, name, mass, element)}
