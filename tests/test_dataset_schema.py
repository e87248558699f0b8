"""Dataset schema 2: schema-1 files read through the name map, migration (ids and load_arrays
output kept), portable provenance paths, phase points. No MD runs: a real schema-1 file cut to
three simulations (tests/data/schema1_argon3.h5, from data/v1_argon.h5 before migration)."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from deepilst.dataset import (
    DatasetError,
    build_summary,
    dataset_id,
    info,
    migrate,
    open_dataset,
    phase_points,
    portable_path,
)
from deepilst.dataset.schema import V1_RENAMED, file_sha256, portable_command
from deepilst.model.data import load_arrays

V1 = Path(__file__).parent / "data" / "schema1_argon3.h5"
FIELDS = ("g", "T", "rho", "C12", "C6", "group", "phase", "equilibrated")


def test_schema1_file_reads_under_the_new_names():
    import h5py

    with h5py.File(V1) as raw:
        assert raw.attrs["schema_version"] == 1 and "T_star" in raw["sims"]
        assert "replicas" not in raw["sims"] and "dataset_id" not in raw.attrs
        old = {k: raw["sims"][v][:] for k, v in V1_RENAMED.items()}
    with open_dataset(V1) as h:
        assert h.schema_version == 1
        for k in V1_RENAMED:
            assert np.array_equal(h["sims"][k][:], old[k]) and k in h["sims"]
        assert np.array_equal(h["sims/U"][:], old["U"])
        assert list(h["sims"]["replicas"][:]) == [1.0, 1.0, 1.0]
        keys = h["sims"].keys()
        assert "T_reduced" in keys and "replicas" in keys and "T_star" not in keys
        with pytest.raises(KeyError):
            h["sims"]["T_star"]  # one spelling: the old name is not an alias
    d = info(V1)
    assert d["schema_version"] == 1 and d["n_simulations"] == 3
    assert d["ranges"]["T_reduced"][0] > 0 and d["dataset_id"] == file_sha256(V1)


def test_migration_keeps_load_arrays_output_and_id(tmp_path):
    out = tmp_path / "v2.h5"
    res = migrate(V1, out, runs_root="/srv/deepilst-runs")
    assert res["schema_version"] == 2 and res["n_simulations"] == 3
    sha = file_sha256(V1)
    assert dataset_id(out) == sha and dataset_id(V1) == sha
    a, b = load_arrays(V1), load_arrays(out)
    for k in FIELDS:
        x, y = getattr(a, k), getattr(b, k)
        assert x.dtype == y.dtype and np.array_equal(x, y), k
        assert x.tobytes() == y.tobytes(), k
    assert a.hashes == b.hashes == [sha] and b.group[0] == f"{sha[:12]}:0"
    import h5py

    with h5py.File(V1) as old, h5py.File(out) as new:
        assert new.attrs["schema_version"] == 2 and new.attrs["dataset_id"] == sha
        for k, v in V1_RENAMED.items():
            assert k in new["sims"] and v not in new["sims"]
            assert np.array_equal(new["sims"][k][:], old["sims"][v][:], equal_nan=True)
            assert new["sims"][k].attrs["units"] == old["sims"][v].attrs["units"]
        assert new["sims"]["fine_g"].compression == old["sims"]["fine_g"].compression
        assert list(new["sims"]["replicas"][:]) == [1, 1, 1]
        prov = json.loads(new.attrs["provenance"])
    assert prov["run_dir"] == "$RUNS/v1/argon"
    assert prov["command"] == "deepilst dataset build $RUNS/v1/argon -o data/v1_argon.h5"
    assert all("/srv/" not in c and "--out $RUNS/v1/argon" in c for c in prov["generate_commands"])
    assert prov["replicas"] == {"1": 3} and prov["migrated"]["from_sha256"] == sha
    assert b"/srv/" not in out.read_bytes()
    # without a run root: the last two components
    migrate(V1, tmp_path / "v2b.h5")
    assert info(tmp_path / "v2b.h5")["provenance"]["run_dir"] == "$RUNS/v1/argon"
    with pytest.raises(DatasetError, match="only schema 1"):
        migrate(out, tmp_path / "again.h5")


def test_migration_in_place(tmp_path):
    p = tmp_path / "x.h5"
    shutil.copy(V1, p)
    migrate(p, p)
    assert dataset_id(p) == file_sha256(V1) and info(p)["schema_version"] == 2


def test_open_dataset_refuses_an_unknown_schema(tmp_path):
    import h5py

    p = tmp_path / "future.h5"
    with h5py.File(p, "w") as h:
        h.attrs["schema_version"] = 99
    with pytest.raises(DatasetError, match="schema version 99, this deepilst reads 1, 2"):
        open_dataset(p)
    (tmp_path / "text.h5").write_text("no")
    with pytest.raises(DatasetError, match="not an HDF5 dataset"):
        open_dataset(tmp_path / "text.h5")
    with pytest.raises(DatasetError, match="no such file"):
        open_dataset(tmp_path / "absent.h5")


def test_phase_points(tmp_path):
    migrate(V1, tmp_path / "v2.h5")
    t, r, labels = phase_points([V1, tmp_path / "v2.h5"])
    assert t.shape == r.shape == (6,) and len(labels) == 6
    assert np.array_equal(t[:3], t[3:]) and labels[:3] == labels[3:]
    a = load_arrays(V1)
    np.testing.assert_allclose(t[:3], a.T_reduced, rtol=1e-9)
    np.testing.assert_allclose(r[:3], a.rho_reduced, rtol=1e-9)
    assert set(labels) <= {"fluid", "two-phase", "solid"}


def test_portable_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert portable_path(tmp_path / "runs" / "v1" / "test") == "runs/v1/test"
    assert portable_path("runs/v1/test") == "runs/v1/test"
    assert portable_path("/elsewhere/deepilst-runs/v1/test") == "$RUNS/v1/test"
    assert portable_path("/elsewhere/deepilst-runs/v1/test_rep2/runs",
                         runs_root="/elsewhere/deepilst-runs") == "$RUNS/v1/test_rep2/runs"
    assert portable_path("$RUNS/v1/test") == "$RUNS/v1/test"
    cmd = "deepilst generate --grid /x/r/v1/g.csv --out=/x/r/v1/a -o data/a.h5 --seed 7"
    assert portable_command(cmd, runs_root="/x/r") == (
        "deepilst generate --grid $RUNS/v1/g.csv --out=$RUNS/v1/a -o data/a.h5 --seed 7")


def test_build_summary():
    res = {"file": "data/x.h5", "n_simulations": 500, "n_samples": 500, "design": "paper",
           "provenance": {"replicas": {"2": 500}}}
    assert build_summary(res) == ("data/x.h5: 500 simulations, 500 samples (design paper), "
                                  "runs pooled per state: 500 states x 2")
    res["provenance"]["replicas"] = {"1": 500}
    assert build_summary(res, out="o.h5") == "o.h5: 500 simulations, 500 samples (design paper)"
