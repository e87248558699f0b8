"""The committed datasets (data/v1_*.h5): schema, counts, finite values, provenance, identity,
disjointness and portability."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from deepilst.dataset import dataset_id, info, open_dataset
from deepilst.dataset.schema import SCHEMA_VERSION

DATA = Path(__file__).resolve().parents[1] / "data"
FILES = sorted(DATA.glob("v1_*.h5"))
NAMES = [f.stem.removeprefix("v1_") for f in FILES]
# design and the counts (simulations, physical samples) the committed files have
EXPECTED = {"argon": ("grid", 121, 121), "test": ("paper", 500, 500),
            "test_2runs": ("paper", 500, 500),
            "transfer": ("transfer", 201, 201), "train": ("reduced", 1133, 56650)}
# sha256 of the schema-1 files the committed ones were migrated from: the ids that trained
# models store (src/deepilst/shipped_models/*/model.json "datasets") and that prefix their split groups
SCHEMA1_SHA256 = {
    "argon": "e3a1041d69116348918a1e63843f762845e39e0ea62bb77ee7a17c4a7a18c53f",
    "test": "ceef762c61553eb4672c43c7da089ca9ee752f8d0ac198c9bfd93b6a2001acff",
    "test_2runs": "74cdc3bd547646c5ce7764c72e1f8334a29e337b917cbfd5b6ffe4c576cf9b75",
    "transfer": "617e74eb02de04135c6e66da5d81801c3412e6461f83bd876c951c055e4c305f",
    "train": "fa83d58e76a57dae767a26969b3798a90acebfd512f7c3e274211b5d5adbeaab",
}
ABSOLUTE = re.compile(rb"/(work|home|tmp|root)/")
needs_data = pytest.mark.skipif(set(NAMES) != set(EXPECTED), reason="committed datasets absent")


@pytest.mark.skipif(not FILES, reason="no committed datasets in data/")
@pytest.mark.parametrize("path", FILES, ids=NAMES)
def test_committed_dataset(path):
    name = path.stem.removeprefix("v1_")
    d = info(path)
    design, n_sims, n_samples = EXPECTED[name]
    assert d["schema_version"] == SCHEMA_VERSION
    assert d["design"] == design
    assert d["n_simulations"] == n_sims and d["n_samples"] == n_samples
    assert d["rc_sigma"] == 3.0
    prov = d["provenance"]
    assert prov["command"].startswith("deepilst dataset build") and prov["engines"]
    assert len(prov["seeds"]) == d["n_simulations"] and prov["cpu_s_total"] > 0
    with open_dataset(path) as h:
        s = h["sims"]
        for k in ("T", "rho", "C12", "C6", "T_reduced", "rho_reduced", "U", "U_sem", "P", "P_sem",
                  "g"):
            assert np.all(np.isfinite(s[k][:])), k
        assert np.all(s["g"][:, 0] == 0) and np.all(s["g_err"][:][:, 60:] >= 0)
        assert h["r"][:].shape == (301,)
        replicas = s["replicas"][:]
        assert len(h["samples"]["sim"][:]) == n_samples
    import h5py

    with h5py.File(path) as raw:  # stored (open_dataset synthesises it for schema-1 files)
        assert "replicas" in raw["sims"] and "T_star" not in raw["sims"]
    # the replicas histogram in the provenance is the one of sims/replicas; test_2runs pools
    # every test state run twice (seeds 7 and 104)
    k, c = np.unique(replicas.astype(int), return_counts=True)
    assert prov["replicas"] == {str(a): int(b) for a, b in zip(k, c)}
    assert prov["replicas"] == ({"2": 500} if name == "test_2runs" else {"1": n_sims})
    side = json.loads(path.with_suffix(".info.json").read_text())
    assert side["n_simulations"] == d["n_simulations"]
    assert side["file"] == f"data/{path.name}" and side["dataset_id"] == d["dataset_id"]


@pytest.mark.skipif(not FILES, reason="no committed datasets in data/")
@pytest.mark.parametrize("path", FILES, ids=NAMES)
def test_regression_dataset_ids_are_the_schema1_hashes(path):
    name = path.stem.removeprefix("v1_")
    with open_dataset(path) as h:
        assert h.attrs["dataset_id"] == SCHEMA1_SHA256[name]
        assert json.loads(h.attrs["provenance"])["migrated"]["from_sha256"] == SCHEMA1_SHA256[name]
    assert dataset_id(path) == SCHEMA1_SHA256[name]


def test_regression_shipped_models_name_the_training_file():
    models = sorted((DATA.parent / "src" / "deepilst" / "shipped_models").glob("*/model.json"))
    assert len(models) == 2 and (DATA / "v1_train.h5").exists()  # both are shipped
    for m in models:
        ids = {d["sha256"] for d in json.loads(m.read_text()).get("datasets", [])}
        assert SCHEMA1_SHA256["train"] in ids, m


def _states(path):
    with open_dataset(path) as h:
        s = h["sims"]
        keys = {x.decode() for x in s["key"][:]}
        rows = {tuple(r) for r in np.column_stack([s[k][:] for k in ("T", "rho", "C12", "C6")])}
    return keys, rows


@needs_data
def test_committed_datasets_share_no_simulation():
    """train, test, transfer and argon are disjoint by record key and by exact (T, rho, C12,
    C6); test_2runs holds exactly the test states (pooled with a second seed) and so shares
    none with the others either."""
    st = {n: _states(DATA / f"v1_{n}.h5") for n in EXPECTED}
    assert st["test_2runs"][0] == st["test"][0] and st["test_2runs"][1] == st["test"][1]
    names = ["argon", "test", "transfer", "train"]
    for i, a in enumerate(names):
        assert len(st[a][0]) == EXPECTED[a][1] and len(st[a][1]) == EXPECTED[a][1], a
        for b in names[i + 1:] + (["test_2runs"] if a != "test" else []):
            assert not (st[a][0] & st[b][0]), (a, b)
            assert not (st[a][1] & st[b][1]), (a, b)
    # no expanded training sample sits on an evaluation state either
    with open_dataset(DATA / "v1_train.h5") as h:
        s = h["samples"]
        train = {tuple(r) for r in np.column_stack([s[k][:] for k in ("T", "rho", "C12", "C6")])}
    for n in ("argon", "test", "transfer"):
        assert not (train & st[n][1]), n


def test_no_committed_data_file_holds_an_absolute_path():
    files = [f for f in DATA.rglob("*") if f.is_file()]
    assert files
    for f in files:
        assert not ABSOLUTE.search(f.read_bytes()), f


def test_all_data_files_together_below_100_mb():
    total = sum(f.stat().st_size for f in DATA.rglob("*") if f.is_file())
    assert total < 100 * 2**20, total


@pytest.mark.skipif(not (DATA / "v1_train.h5").exists(), reason="training set not committed")
def test_training_samples_stay_in_table1_and_keep_their_simulation():
    from deepilst.sampling import in_table1
    from deepilst.units import reduced_state

    with open_dataset(DATA / "v1_train.h5") as h:
        s = h["samples"]
        sim = s["sim"][:]
        assert sim.min() >= 0 and sim.max() < h.attrs["n_simulations"]
        T, rho, c12, c6 = (s[k][:] for k in ("T", "rho", "C12", "C6"))
        assert np.all(in_table1(T, rho, c12, c6))
        # every sample has the reduced state of its source simulation
        ts, rs = reduced_state(T, rho, c12, c6)
        assert np.allclose(rs, h["sims"]["rho_reduced"][:][sim], rtol=1e-9)
        assert np.allclose(ts, h["sims"]["T_reduced"][:][sim], rtol=1e-9)
