"""The software versions every benchmark's results carry in ``provenance.versions``."""

from __future__ import annotations

import platform


def versions(*modules: str, gromacs: bool = False) -> dict[str, str]:
    """deepilst, Python and numpy versions, then each of ``modules`` that imports (its
    ``__version__``) and, with ``gromacs``, the ``gmx`` found on PATH (absent without one)."""
    import numpy as np

    from deepilst import __version__

    out = {"deepilst": __version__, "python": platform.python_version(), "numpy": np.__version__}
    for mod in modules:
        try:
            out[mod] = str(__import__(mod).__version__)
        except ImportError:
            continue
    if gromacs:
        from deepilst.md.gromacs_engine import GromacsEngine

        if GromacsEngine.available():
            out["gromacs"] = GromacsEngine().version()
    return out
