"""The committed datasets (data/v1_*.h5): schema, counts, finite values, provenance."""

import json
from pathlib import Path

import numpy as np
import pytest

from deepilst.dataset import info, open_dataset

DATA = Path(__file__).resolve().parents[1] / "data"
FILES = sorted(DATA.glob("v1_*.h5"))
# minimum counts of issue 3 (simulations, physical samples) by set name
EXPECTED = {"argon": ("grid", 121, 121), "test": ("paper", 500, 500),
            "test_2runs": ("paper", 500, 500),
            "transfer": ("transfer", 200, 200), "train": ("reduced", 0, 26000)}


@pytest.mark.skipif(not FILES, reason="no committed datasets in data/")
@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_committed_dataset(path):
    name = path.stem.removeprefix("v1_")
    d = info(path)
    design, n_sims, n_samples = EXPECTED[name]
    assert d["design"] == design
    assert d["n_simulations"] >= n_sims and d["n_samples"] >= n_samples
    assert d["rc_sigma"] == 3.0
    prov = d["provenance"]
    assert prov["command"].startswith("deepilst dataset build") and prov["engines"]
    assert len(prov["seeds"]) == d["n_simulations"] and prov["cpu_s_total"] > 0
    with open_dataset(path) as h:
        s = h["sims"]
        for k in ("T", "rho", "C12", "C6", "energy", "pressure", "g"):
            assert np.all(np.isfinite(s[k][:])), k
        assert np.all(s["g"][:, 0] == 0) and np.all(s["g_err"][:][:, 60:] >= 0)
        assert h["r"][:].shape == (301,)
    # test_2runs: every test state run twice (seeds 7 and 104) and pooled
    # (files built before pooling existed carry no "replicas" entry)
    assert prov.get("replicas", {"1": d["n_simulations"]}) == (
        {"2": 500} if name == "test_2runs" else {"1": d["n_simulations"]})
    side = path.with_suffix(".info.json")
    assert json.loads(side.read_text())["n_simulations"] == d["n_simulations"]


def test_all_data_files_together_below_100_mb():
    total = sum(f.stat().st_size for f in DATA.rglob("*") if f.is_file())
    assert total < 100 * 2**20, total


@pytest.mark.skipif(not (DATA / "v1_train.h5").exists(), reason="training set not committed")
def test_training_samples_stay_in_table1_and_keep_their_simulation():
    from deepilst.sampling import in_table1

    with open_dataset(DATA / "v1_train.h5") as h:
        s = h["samples"]
        sim = s["sim"][:]
        assert sim.min() >= 0 and sim.max() < h.attrs["n_simulations"]
        assert np.all(in_table1(s["T"][:], s["rho"][:], s["C12"][:], s["C6"][:]))
        # every sample has the reduced state of its source simulation
        sig = (s["C12"][:] / s["C6"][:]) ** (1 / 6)
        rs = s["rho"][:] * sig**3
        assert np.allclose(rs, h["sims"]["rho_star"][:][sim], rtol=1e-9)
