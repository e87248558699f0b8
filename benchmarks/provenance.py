"""The software versions every benchmark's results carry in ``provenance.versions``."""

from __future__ import annotations


def versions(*modules: str, gromacs: bool = False) -> dict[str, str]:
    """:func:`deepilst.versions.versions` of ``modules`` and, with ``gromacs``, the ``gmx``
    found on PATH (absent without one)."""
    from deepilst.versions import versions as software

    programs = {}
    if gromacs:
        from deepilst.md.gromacs_engine import GromacsEngine

        if GromacsEngine.available():
            programs["gromacs"] = GromacsEngine().version()
    return software(*modules, **programs)
