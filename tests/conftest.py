import os
import shutil

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")

HAS_GMX = shutil.which(os.environ.get("DEEPILST_GMX", "gmx")) is not None
needs_gmx = pytest.mark.skipif(not HAS_GMX, reason="GROMACS (gmx) not on PATH: apt-get install gromacs")
ENGINES = [pytest.param("gromacs", marks=[needs_gmx, pytest.mark.gromacs]), "openmm"]


@pytest.fixture(params=ENGINES)
def engine(request):
    return request.param
