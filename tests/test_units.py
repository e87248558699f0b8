import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deepilst.errors import ParameterError
from deepilst.potentials import LJParams
from deepilst.units import (
    ARGON_C6,
    ARGON_C12,
    c12_c6,
    physical_state,
    reduced_state,
    sigma_epsilon,
)

pos = st.floats(min_value=1e-8, max_value=1e8, allow_nan=False, allow_infinity=False)


def test_argon_reference_numbers():
    s, e = sigma_epsilon(ARGON_C12, ARGON_C6)
    assert s == pytest.approx(0.34054, abs=5e-5)
    assert e == pytest.approx(0.99712, abs=5e-5)


@given(st.floats(0.1, 1.0), st.floats(0.01, 20.0))
def test_sigma_epsilon_round_trip(sigma, eps):
    c12, c6 = c12_c6(sigma, eps)
    s2, e2 = sigma_epsilon(c12, c6)
    assert s2 == pytest.approx(sigma, rel=1e-12)
    assert e2 == pytest.approx(eps, rel=1e-12)


@given(pos, pos)
def test_c12_c6_round_trip(c12, c6):
    s, e = sigma_epsilon(c12, c6)
    a, b = c12_c6(s, e)
    assert a == pytest.approx(c12, rel=1e-9)
    assert b == pytest.approx(c6, rel=1e-9)


@given(st.floats(50, 1000), st.floats(0.1, 50), st.floats(1e-7, 1e-3), st.floats(1e-4, 0.1))
def test_reduced_physical_round_trip(t, rho, c12, c6):
    ts, rs = reduced_state(t, rho, c12, c6)
    s, e = sigma_epsilon(c12, c6)
    t2, rho2 = physical_state(ts, rs, s, e)
    assert t2 == pytest.approx(t, rel=1e-12)
    assert rho2 == pytest.approx(rho, rel=1e-12)


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf, "x", None])
def test_validation_rejects(bad):
    with pytest.raises(ParameterError):
        sigma_epsilon(bad, 1e-3)
    with pytest.raises(ParameterError):
        LJParams(1e-5, bad)
    with pytest.raises(ParameterError):
        reduced_state(bad, 10.0, 1e-5, 1e-3)


def test_ljparams_properties():
    p = LJParams.from_sigma_epsilon(0.34, 1.0)
    assert p.sigma == pytest.approx(0.34)
    assert p.epsilon == pytest.approx(1.0)


def test_sigma_epsilon_on_arrays_matches_scalars():
    import numpy as np

    c12 = np.array([9.7e-6, 5e-6, 1e-4])
    c6 = np.array([6.22e-3, 2e-3, 1.5e-2])
    s, e = sigma_epsilon(c12, c6)
    for i in range(3):
        assert (s[i], e[i]) == sigma_epsilon(float(c12[i]), float(c6[i]))
    with pytest.raises(ParameterError, match="C6"):
        sigma_epsilon(c12, np.array([1e-3, -1.0, 1e-3]))
