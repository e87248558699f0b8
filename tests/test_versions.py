"""deepilst.versions: the versions dict every record, dataset, model and result carries."""

import platform

import numpy as np

import deepilst
from deepilst.versions import versions


def test_versions_names_deepilst_python_numpy_modules_and_programs():
    v = versions("numpy", "no_such_module_here", gromacs="2022.5-test")
    assert v["deepilst"] == deepilst.__version__ and v["python"] == platform.python_version()
    assert v["numpy"] == np.__version__ and v["gromacs"] == "2022.5-test"
    assert "no_such_module_here" not in v  # a module that does not import is left out
    assert all(isinstance(x, str) for x in v.values())
