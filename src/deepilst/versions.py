"""The software versions every record, dataset, model and benchmark result carries."""

from __future__ import annotations

import platform


def versions(*modules: str, **programs: str) -> dict[str, str]:
    """deepilst, Python and numpy versions, then each of ``modules`` that imports (its
    ``__version__``; one that does not import is left out), then ``programs`` as given (name ->
    version string, e.g. ``gromacs="2022.5"``, which callers read from the program itself).

    Returns
    -------
    dict
        name -> version string.
    """
    import numpy as np

    from deepilst import __version__

    out = {"deepilst": __version__, "python": platform.python_version(), "numpy": np.__version__}
    for mod in modules:
        try:
            out[mod] = str(__import__(mod).__version__)
        except ImportError:
            continue
    out.update({name: str(v) for name, v in programs.items()})
    return out
