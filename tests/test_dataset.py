import json
import subprocess
import sys

import numpy as np
import pytest

from deepilst.dataset import build, expand_g, get_sample
from deepilst.md import Protocol
from deepilst.md.simulate import resolve_engine, simulate
from deepilst.rdf import eps_rdf
from deepilst.runner import build_specs, generate
from deepilst.sampling import make_design
from deepilst.units import KB, c12_c6, sigma_epsilon
from deepilst.xvg import read_xvg

from .helpers import argon_spec


@pytest.fixture(scope="module")
def reduced_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("red")
    pts = make_design("reduced", 2, seed=4, expand=5)
    proto = Protocol(equil_ps=4.0, prod_ps=10.0, n_particles=1000, sample_every=100, n_blocks=4)
    specs = build_specs(pts, resolve_engine("auto"), proto, seed=0)
    generate(specs, d / "run", workers=2, progress=False)
    return d


def test_build_info_export(reduced_run, tmp_path):
    h5 = tmp_path / "red.h5"
    res = build(reduced_run / "run", h5, command="test")
    assert res["design"] == "reduced"
    assert res["n_simulations"] == 2 and res["n_samples"] == 10
    r = subprocess.run([sys.executable, "-m", "deepilst.cli", "dataset", "info", str(h5), "--json"],
                       capture_output=True, text=True)
    js = json.loads(r.stdout)
    assert {"design", "n_simulations", "n_samples"} <= js.keys()
    assert js["provenance"]["command"] == "test"
    for i in range(10):
        s = get_sample(h5, i)
        ts = KB * s.temperature / sigma_epsilon(s.c12, s.c6)[1]
        sim = get_sample(h5, 5 * (i // 5))  # first sample of each sim is the simulated state
        ts0 = KB * sim.temperature / sigma_epsilon(sim.c12, sim.c6)[1]
        assert ts == pytest.approx(ts0, rel=1e-9)
        assert np.all(np.isfinite(s.g))
        assert 8.0 <= s.density <= 19.4 and 290 <= s.temperature <= 400
    out = tmp_path / "s3.xvg"
    r = subprocess.run([sys.executable, "-m", "deepilst.cli", "dataset", "export", str(h5),
                        "--sample", "3", "--xvg", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    data, legends = read_xvg(out)
    np.testing.assert_allclose(data[:, 1], get_sample(h5, 3).g, rtol=1e-5, atol=1e-6)
    r = subprocess.run([sys.executable, "-m", "deepilst.cli", "dataset", "export", str(h5),
                        "--sample", "99", "--xvg", str(tmp_path / "no.xvg")], capture_output=True,
                       text=True)
    assert r.returncode != 0 and "out of range" in r.stderr and not (tmp_path / "no.xvg").exists()


def test_phase_map(reduced_run, tmp_path):
    """What `dataset phases` draws: every simulated state in (rho*, T*) by phase label."""
    import h5py

    from deepilst.dataset import info, phase_points
    from deepilst.plots import plot_phase_map

    h5 = tmp_path / "red.h5"
    build(reduced_run / "run", h5)
    t, rho, labels = phase_points([h5, h5])
    assert t.shape == rho.shape == (4,) and len(labels) == 4
    with h5py.File(h5) as h:
        np.testing.assert_array_equal(t[:2], h["sims/T_reduced"][:])
        np.testing.assert_array_equal(rho[2:], h["sims/rho_reduced"][:])
    png = tmp_path / "phases.png"
    plot_phase_map(png, t, rho, labels, title="red")
    assert png.stat().st_size > 1000
    assert sum(info(h5)["phase_fractions"].values()) == pytest.approx(1.0)


def test_build_writes_schema2_with_id_and_portable_provenance(reduced_run, tmp_path,
                                                             monkeypatch):
    import h5py

    from deepilst.dataset import SCHEMA_VERSION, build_summary, dataset_id, load_records

    monkeypatch.chdir(reduced_run)
    res = build("run", tmp_path / "a.h5", command=f"deepilst dataset build {reduced_run / 'run'}")
    prov = res["provenance"]
    assert res["schema_version"] == SCHEMA_VERSION == 2
    assert prov["run_dir"] == "run" and prov["command"] == "deepilst dataset build run"
    assert all("--out " + str(reduced_run) not in c for c in prov["generate_commands"])
    assert prov["replicas"] == {"1": 2}
    assert res["file"] == "a.h5"  # outside the current directory: the name only
    with h5py.File(tmp_path / "a.h5") as h:
        assert "T_reduced" in h["sims"] and "U_sem" in h["sims"] and "energy" not in h["sims"]
        assert list(h["sims/replicas"][:]) == [1, 1]
        ident = h.attrs["dataset_id"]
    assert len(ident) == 64 and dataset_id(tmp_path / "a.h5") == ident
    # the id names the content: a rebuild (another time stamp, other bytes) keeps it
    monkeypatch.chdir(tmp_path)
    res_b = build(reduced_run / "run", tmp_path / "b.h5", command="x")
    assert res_b["dataset_id"] == ident
    assert res_b["provenance"]["run_dir"] == "$RUNS/" + "/".join((reduced_run / "run").parts[-2:])
    assert str(tmp_path) not in (tmp_path / "b.h5").read_bytes().decode("latin-1")
    assert build_summary(res_b) == "b.h5: 2 simulations, 10 samples (design reduced)"
    assert len(load_records(reduced_run / "run")) == 2


def test_identity_expansion_reproduces_grid(reduced_run, tmp_path):
    h5 = tmp_path / "red.h5"
    build(reduced_run / "run", h5)
    import h5py

    with h5py.File(h5) as h:
        sims = h["sims"]
        g, _ = expand_g(sims["fine_g"][0], float(h["fine_dr"][()]), sims["sigma"][0], sims["sigma"][0])
        np.testing.assert_allclose(g, sims["g"][0], rtol=1e-4, atol=1e-5)


def test_expanded_sample_equals_direct_simulation():
    """Corresponding states: g of state B expanded from a run at state A (same T*, rho*)
    equals a direct run at B within statistical error."""
    eng = resolve_engine("auto")
    a = argon_spec(2.0, 0.6, eng, n=1000, equil_ps=20, prod_ps=100, seed=11)
    sig_b, eps_b = 0.30, 0.55
    c12b, c6b = c12_c6(sig_b, eps_b)
    b = argon_spec(2.0, 0.6, eng, n=1000, equil_ps=20, prod_ps=100, seed=12, c12=c12b, c6=c6b)
    ra, rb = simulate(a), simulate(b)
    fa = np.array(ra["fine"]["g"], float)
    fe = np.array(ra["fine"]["g_err"], float)
    g_exp, e_exp = expand_g(fa, ra["fine"]["dr"], ra["sigma"], sig_b, fine_g_err=fe)
    r = np.array(rb["r"])
    gb = np.array(rb["g"], float)
    eb = np.array(rb["g_err"], float)
    m = np.isfinite(g_exp) & (r > 0.25)
    assert m.sum() > 200
    assert eps_rdf(r[m], g_exp[m], gb[m]) < 0.01
    z = np.abs(g_exp[m] - gb[m]) / np.sqrt(e_exp[m] ** 2 + eb[m] ** 2)
    assert np.mean(z < 3) > 0.95


@pytest.fixture(scope="module")
def replica_run(reduced_run):
    """The two states of ``reduced_run`` simulated again with another seed, through the states
    CSV that ``dataset states`` writes (the route the README gives for pooling runs)."""
    h5, csv = reduced_run / "first.h5", reduced_run / "states.csv"
    build(reduced_run / "run", h5)
    r = subprocess.run([sys.executable, "-m", "deepilst.cli", "dataset", "states", str(h5), "-o",
                        str(csv)], capture_output=True, text=True)
    assert r.returncode == 0 and "2 states" in r.stdout, r.stderr
    pts = make_design("grid", grid=csv)
    proto = Protocol(equil_ps=4.0, prod_ps=10.0, n_particles=1000, sample_every=100, n_blocks=4)
    specs = build_specs(pts, resolve_engine("auto"), proto, seed=1)
    generate(specs, reduced_run / "run2", workers=2, progress=False)
    return reduced_run / "run2"


def test_replicas_pooled(reduced_run, replica_run, tmp_path):
    import h5py

    one, two, pooled = tmp_path / "a.h5", tmp_path / "b.h5", tmp_path / "ab.h5"
    build(reduced_run / "run", one)
    build(replica_run, two)
    r = subprocess.run([sys.executable, "-m", "deepilst.cli", "dataset", "build",
                        str(reduced_run / "run"), str(replica_run), "-o", str(pooled)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "2 states x 2" in r.stdout
    with h5py.File(one) as a, h5py.File(two) as b, h5py.File(pooled) as p:
        assert p.attrs["n_simulations"] == 2 and p.attrs["n_samples"] == 10
        assert list(p["sims/replicas"][:]) == [2, 2]
        ga, gb, gp = a["sims/g"][:], b["sims/g"][:], p["sims/g"][:]
        assert not np.allclose(ga, gb)  # independent runs
        np.testing.assert_allclose(gp, 0.5 * (ga + gb), rtol=1e-12, equal_nan=True)
        ea, eb, ep = a["sims/g_err"][:], b["sims/g_err"][:], p["sims/g_err"][:]
        np.testing.assert_allclose(ep, 0.5 * np.hypot(ea, eb), rtol=1e-12, equal_nan=True)
        np.testing.assert_allclose(p["sims/cpu_s"][:], a["sims/cpu_s"][:] + b["sims/cpu_s"][:])
        np.testing.assert_allclose(p["sims/U"][:], 0.5 * (a["sims/U"][:] + b["sims/U"][:]))
        np.testing.assert_allclose(p["sims/P"][:], 0.5 * (a["sims/P"][:] + b["sims/P"][:]))
        assert json.loads(p.attrs["provenance"])["replicas"] == {"2": 2}
        assert list(a["sims/replicas"][:]) == [1, 1]
        # a pooled file is other data than either run: its own id
        assert len({f.attrs["dataset_id"] for f in (a, b, p)}) == 3
        # expanded samples come from the pooled fine histogram
        assert np.all(np.isfinite(get_sample(pooled, 3).g[50:]))


def test_pooled_phase_is_the_worst(reduced_run, replica_run):
    from deepilst.dataset import load_records, pool_replicas

    a, b = load_records(reduced_run / "run"), load_records(replica_run)
    b[0] = {**b[0], "phase": {**b[0]["phase"], "label": "solid"}}
    pooled = pool_replicas(a + b)
    assert len(pooled) == 2 and [x["replicas"] for x in pooled] == [2, 2]
    labels = {x["key"]: x["phase"]["label"] for x in pooled}
    assert labels[a[0]["key"]] == "solid" and labels[a[1]["key"]] == a[1]["phase"]["label"]
    # a single directory is left as it is
    assert [x["replicas"] for x in pool_replicas(a)] == [1, 1]


def test_states_csv_takes_chosen_rows(reduced_run, replica_run, tmp_path):
    from deepilst.dataset import states_csv

    h5 = reduced_run / "first.h5"  # written by the replica_run fixture
    full = (reduced_run / "states.csv").read_text().splitlines()
    assert states_csv(h5, tmp_path / "one.csv", rows=np.array([1])) == 1
    assert (tmp_path / "one.csv").read_text().splitlines() == [full[0], full[2]]
