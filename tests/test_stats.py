import contextlib
import io

import numpy as np
import pytest

from deepilst.stats import detect_equilibration, mean_sem, statistical_inefficiency


def ar1(n, phi, seed):
    rng = np.random.default_rng(seed)
    x = np.empty(n)
    x[0] = 0
    for i in range(1, n):
        x[i] = phi * x[i - 1] + rng.normal()
    return x


def _pymbar():
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        from pymbar import timeseries
    return timeseries


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.9])
def test_matches_pymbar(phi):
    ts = _pymbar()
    x = ar1(2000, phi, 1)
    assert statistical_inefficiency(x) == pytest.approx(ts.statistical_inefficiency(x), rel=1e-6)
    y = np.concatenate([np.linspace(10, 0, 200), ar1(800, phi, 2)])
    t0, g, neff = detect_equilibration(y)
    r0, rg, rn = ts.detect_equilibration(y)
    assert t0 == r0 and g == pytest.approx(rg, rel=1e-6)


def test_ar1_inefficiency_and_sem():
    # AR(1): g = (1 + phi) / (1 - phi) = 19 for phi = 0.9
    x = ar1(200000, 0.9, 3)
    assert statistical_inefficiency(x) == pytest.approx(19.0, rel=0.1)
    m, s = mean_sem(x)
    assert abs(m) < 4 * s
