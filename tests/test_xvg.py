import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from deepilst.xvg import read_xvg, write_xvg

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=32)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 40), st.integers(1, 3)), elements=finite))
def test_round_trip(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("x") / "a.xvg"
    x = np.arange(len(data)) * 0.005
    write_xvg(p, x, list(data.T), [f"c{i}" for i in range(data.shape[1])], comments=["hello"])
    got, legends = read_xvg(p)
    assert legends == [f"c{i}" for i in range(data.shape[1])]
    np.testing.assert_allclose(got[:, 0], x, atol=1e-5)
    np.testing.assert_allclose(got[:, 1:], data, rtol=1e-5, atol=1e-30)


def test_malformed(tmp_path):
    p = tmp_path / "bad.xvg"
    p.write_text("# c\n@ s0 legend \"g\"\n0.0 1.0\n0.005 abc\n")
    with pytest.raises(ValueError, match="line 4"):
        read_xvg(p)
    p.write_text("0 1\n0.005 1 2\n")
    with pytest.raises(ValueError, match="columns"):
        read_xvg(p)
    p.write_text("# only header\n")
    with pytest.raises(ValueError, match="no data"):
        read_xvg(p)
