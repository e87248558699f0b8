import numpy as np
import pytest

from deepilst.errors import ParameterError
from deepilst.sampling import TABLE1, TRANSFER, grid_design, in_table1, make_design, reduced_bounds
from deepilst.units import reduced_state


def test_paper_design_in_box_and_seeded():
    pts = make_design("paper", 200, seed=3)
    a = np.array([(p.temperature, p.density, p.c12, p.c6) for p in pts])
    assert in_table1(*a.T).all()
    b = np.array([(p.temperature, p.density, p.c12, p.c6) for p in make_design("paper", 200, seed=3)])
    np.testing.assert_array_equal(a, b)


def test_transfer_design_outside_box():
    pts = make_design("transfer", 300, seed=1)
    for p in pts:
        assert TRANSFER["T"][0] <= p.temperature <= TRANSFER["T"][1]
        assert TRANSFER["rho"][0] <= p.density <= TRANSFER["rho"][1]
        inside = (TABLE1["T"][0] <= p.temperature <= TABLE1["T"][1]
                  and TABLE1["rho"][0] <= p.density <= TABLE1["rho"][1])
        assert not inside


def test_reduced_design_feasible_and_consistent():
    pts = make_design("reduced", 64, seed=0, expand=10)
    (t0, t1), (r0, r1) = reduced_bounds()
    for p in pts:
        tags = dict(p.tags)
        assert in_table1(p.temperature, p.density, p.c12, p.c6)
        ts, rs = reduced_state(p.temperature, p.density, p.c12, p.c6)
        assert ts == pytest.approx(float(tags["T_star"]), rel=1e-6)
        assert rs == pytest.approx(float(tags["rho_star"]), rel=1e-6)
        assert t0 <= ts <= t1 and r0 <= rs <= r1
        assert tags["expand"] == "10"
    # space-filling over log T*: both ends populated
    lt = np.log([float(dict(p.tags)["T_star"]) for p in pts])
    assert lt.min() < np.log(1.0) < np.log(10.0) < lt.max()


def test_grid_design(tmp_path):
    f = tmp_path / "g.csv"
    f.write_text("T,rho,C12,C6\n300,10,9.7e-6,6.22e-3\n310,11,9.7e-6,6.22e-3\n")
    assert len(grid_design(f)) == 2
    f.write_text("T,rho,C12,C6\n300,-10,9.7e-6,6.22e-3\n")
    with pytest.raises(ParameterError, match="line 2"):
        grid_design(f)
    f.write_text("a,b\n1,2\n")
    with pytest.raises(ParameterError, match="columns"):
        grid_design(f)
    with pytest.raises(ParameterError, match="cannot read"):
        grid_design(tmp_path / "missing.csv")


def test_unknown_design():
    with pytest.raises(ParameterError, match="unknown design"):
        make_design("nope", 3)
