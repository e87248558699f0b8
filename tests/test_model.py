"""Model layer: features, numpy vs torch forward, splits, determinism, storage (see also
test_model_parts.py: config, calibration, domain, conventions, evaluation)."""

import json
from pathlib import Path

import numpy as np
import pytest

from deepilst.dataset import expand_g, open_dataset
from deepilst.model.data import load_arrays, split_groups
from deepilst.model.features import PaperFeatures, ReducedFeatures
from deepilst.model.nets import mixture_moments, numpy_forward

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]
ARGON = ROOT / "data" / "v1_argon.h5"


@pytest.fixture(scope="module")
def argon():
    return load_arrays(ARGON)


def test_split_by_simulation_never_leaks():
    groups = np.repeat([f"s{i}" for i in range(80)], 7)
    tr, va, te = split_groups(groups, seed=3)
    sets = [set(groups[i]) for i in (tr, va, te)]
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])
    assert len(tr) + len(va) + len(te) == len(groups)
    assert len(sets[0]) == 60 and len(sets[1]) == 10 and len(sets[2]) == 10


def test_reduced_features_follow_corresponding_states(argon):
    """g(x = r rho^(1/3)) of one simulation, expanded to a different (sigma, eps) at the same
    (T*, rho*), matches the original on the x grid: the feature is scale invariant."""
    with open_dataset(ARGON) as h:
        fine, dr, sig = h["sims"]["fine_g"][60], float(h["fine_dr"][()]), float(h["sims"]["sigma"][60])
    f = ReducedFeatures()
    z0, c0 = f.raw(argon.g[60][None], argon.rho[60])
    scale = 0.9  # a fluid with sigma 10 % smaller at the same rho*: density up by 1/0.9^3
    g2, _ = expand_g(fine, dr, sig, sig * scale)
    z1, c1 = f.raw(g2[None], argon.rho[60] / scale**3)
    assert c0[0] == c1[0] == 1.0
    m = f.x > 0.8  # beyond the core (linear interpolation of the steep rise differs most)
    assert np.max(np.abs(z0[0, m] - z1[0, m])) < 0.03
    assert np.mean(np.abs(z0[0] - z1[0])) < 0.005


def test_wall_features_trace_the_potential_in_the_dilute_limit():
    """In the dilute limit g = exp(-u/kB T): the x at which g first reaches level L solves
    u(r)/kB T = -ln L on the repulsive wall, r = x / rho^(1/3)."""
    from deepilst.model.features import rise_levels
    from deepilst.rdf import model_grid
    from deepilst.units import KB

    r = model_grid()
    sig, eps, T, rho = 0.34, 0.99, 200.0, 0.5
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        u = 4 * eps * ((sig / r) ** 12 - (sig / r) ** 6)
    g = np.exp(-u / (KB * T))
    f = ReducedFeatures(rise=12)
    x = f.wall(g[None], rho)[0]
    rr = np.linspace(0.25, sig * 2 ** (1 / 6), 200001)
    uu = 4 * eps * ((sig / rr) ** 12 - (sig / rr) ** 6) / (KB * T)
    exact = np.interp(-np.log(rise_levels(12)), uu[::-1], rr[::-1])
    assert np.all(np.abs(x / rho ** (1 / 3) - exact) < 2e-4)  # nm; grid step 0.005 nm
    # and, like g(x), the wall in x units is unchanged by a corresponding-states change
    s = 1.1
    g2 = np.interp(r / s, r, g)
    x2 = f.wall(g2[None], rho / s**3)[0]
    assert np.max(np.abs(x2 - x)) < 2e-3


def test_paper_features_are_eq3(argon):
    f = PaperFeatures().fit(argon.g, argon.T, argon.rho)
    X = f.transform(argon.g, argon.T, argon.rho)
    assert X.shape == (len(argon), 251 + 6)
    assert np.isclose(X[:, :251].max(), 1.0)  # g / dataset maximum
    s = X[:, 251:]
    assert np.allclose(s.min(axis=0), 0) and np.allclose(s.max(axis=0), 1)
    rho = argon.rho
    expect = (rho**2 - (rho**2).min()) / ((rho**2).max() - (rho**2).min())
    assert np.allclose(s[:, 1], expect, atol=1e-6)  # columns: rho, rho^2, rho^3, T, T^2, T^3


@pytest.mark.parametrize("act,out_act", [("tanh+sigmoid", "sigmoid"), ("silu", "identity")])
def test_numpy_forward_matches_torch(act, out_act):
    from deepilst.model.nets import StackedMLP

    net = StackedMLP([7, 12, 5, 3], 3, act, out_act, dropout={1: 0.25}, seed=4)
    x = np.random.default_rng(0).normal(size=(9, 7)).astype(np.float32)
    with torch.no_grad():
        t = net.forward(torch.from_numpy(x)).numpy()
    n = numpy_forward(net.state(), x, act, out_act)
    assert n.shape == (3, 9, 3)
    assert np.allclose(t, n, atol=1e-5)


def test_ensemble_spread_is_the_sample_covariance_of_member_means():
    rng = np.random.default_rng(2)
    mu = rng.normal(size=(5, 3, 2))
    m, S = mixture_moments(mu)
    assert np.allclose(m, mu.mean(axis=0))
    for i in range(3):
        assert np.allclose(S[i], np.cov(mu[:, i, :].T))


def _tiny(kind, seed=0):
    from deepilst.model.core import DeepILST

    cfg = {"epochs": 4, "patience": 2, "hidden": [16], "batch": 32}
    if kind == "ensemble":
        cfg["members"] = 2
    return DeepILST(kind, cfg, seed=seed)


@pytest.mark.parametrize("kind", ["ensemble", "paper"])
def test_training_is_deterministic_and_round_trips(kind, argon, tmp_path):
    from deepilst.model.core import DeepILST

    m1 = _tiny(kind).fit(argon, progress=False)
    m2 = _tiny(kind).fit(argon, progress=False)
    for k in m1.weights_:
        assert np.array_equal(m1.weights_[k], m2.weights_[k])
    m1.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    for key in ("features", "split", "datasets", "domain", "config", "cutoff_convention"):
        assert key in meta
    assert meta["datasets"][0]["sha256"] == argon.hashes[0]
    groups = [set(meta["split"][s]) for s in ("train", "val", "test")]
    assert not (groups[0] & groups[1]) and not (groups[0] & groups[2])
    assert not list((tmp_path / "m").glob("*.pt")) and not list((tmp_path / "m").glob("*.pkl"))
    m3 = DeepILST.load(tmp_path / "m")
    p1 = m1.predict(argon.g[:5], argon.T[:5], argon.rho[:5])
    p3 = m3.predict(argon.g[:5], argon.T[:5], argon.rho[:5])
    for k in ("C12", "C6", "sigma", "epsilon", "C12_std", "in_domain"):
        assert np.allclose(p1[k], p3[k], rtol=1e-6), k
    # the nearest-neighbour check: a training simulation's own RDF is at distance 0
    tr = m1._split_idx[0][:3]
    pt = m3.predict(argon.g[tr], argon.T[tr], argon.rho[tr])
    assert np.allclose(pt["neighbour_distance"], 0, atol=1e-2) and pt["neighbour_ok"].all()
    assert m3.domain.nn_ref_.shape == (len(groups[0]), m3.features_.transform(argon.g[:1], 300, 20).shape[1])
    # batch of one == row of a batch
    p_one = m3.predict(argon.g[2], argon.T[2], argon.rho[2])
    assert np.isclose(p_one["C12"][0], p3["C12"][2], rtol=1e-9)


def test_logc_target_basis_round_trips(argon, tmp_path):
    """Members regressing (log C12, log C6) less their state constants: predictions map back
    to the same (T*, rho*) algebra and survive save / load."""
    from deepilst.model.core import DeepILST, ModelError

    m = _tiny("ensemble")
    m.config["target_basis"] = "logC12_logC6"
    m.config["feature_args"] = {}  # all features: 4 epochs on argon then land in range
    m.fit(argon, progress=False)
    v = m.targets.encode(argon)[m._split_idx[0]]
    assert np.allclose(v.mean(axis=0), 0, atol=1e-9) and np.allclose(v.std(axis=0), 1)
    p = m.predict(argon.g, argon.T, argon.rho)
    assert np.allclose(p["sigma"] ** 6 * p["C6"] / p["C12"], 1.0, rtol=1e-9)
    assert np.median(np.abs(p["C12"] / argon.C12 - 1)) < 0.5  # 4 epochs: in the right range
    m.save(tmp_path / "m")
    m2 = DeepILST.load(tmp_path / "m")
    p2 = m2.predict(argon.g, argon.T, argon.rho)
    for k in ("C12", "C6", "C6_std", "T_reduced", "C6_95"):
        assert np.allclose(p[k], p2[k], rtol=1e-9), k
    from deepilst.model.targets import basis_matrix

    with pytest.raises(ModelError, match="target_basis"):
        basis_matrix("nonsense")
    with pytest.raises(ModelError, match="target_basis"):
        DeepILST("ensemble", {"target_basis": "nonsense"}).fit(argon, progress=False)


def test_pca_input_keeps_structure_drops_noise_and_round_trips(argon, tmp_path):
    """With ``pca`` = k the network reads k projections: a training RDF is nearly unchanged by
    projecting (its features lie in the leading directions), white noise mostly is not, and a
    trained model predicts the same after save / load."""
    from deepilst.model.core import DeepILST

    f = ReducedFeatures(pca=8).fit(argon.g, argon.T, argon.rho)
    X = f.transform(argon.g, argon.T, argon.rho)
    P = f.network_input(X)
    assert P.shape == (len(argon), 8) and P.dtype == np.float32
    back = (P * f.comp_scale_) @ f.comp_
    assert np.mean((back - X) ** 2) < 0.01 * np.mean(X**2)
    noise = np.random.default_rng(0).standard_normal(X.shape)
    kept = f.network_input(noise) * f.comp_scale_
    assert np.sum(kept**2) < 0.05 * np.sum(noise**2)  # 8 of 381 directions
    g = ReducedFeatures.from_state(json.loads(json.dumps(f.to_state())))
    assert np.array_equal(g.network_input(X), P)
    assert np.array_equal(ReducedFeatures().fit(argon.g, argon.T, argon.rho).network_input(X), X)

    m = _tiny("ensemble")
    m.config["feature_args"] = {"pca": 8}
    m.fit(argon, progress=False)
    p = m.predict(argon.g, argon.T, argon.rho)
    m.save(tmp_path / "m")
    p2 = DeepILST.load(tmp_path / "m").predict(argon.g, argon.T, argon.rho)
    for k in ("C12", "C6", "C6_std", "shape_residual"):
        assert np.allclose(p[k], p2[k], rtol=1e-6), k
    # the projection travels in the safetensors file, not as JSON text
    from safetensors.numpy import load_file, save_file

    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    t = load_file(str(tmp_path / "m" / "weights.safetensors"))
    assert "pca_components" not in meta["features"] and t["features.pca_components"].shape[0] == 8
    # a model written with the projection in model.json (before that) loads the same
    meta["features"]["pca_components"] = t.pop("features.pca_components").tolist()
    (tmp_path / "m" / "model.json").write_text(json.dumps(meta))
    save_file(t, str(tmp_path / "m" / "weights.safetensors"))
    p3 = DeepILST.load(tmp_path / "m").predict(argon.g, argon.T, argon.rho)
    assert np.array_equal(p2["C6"], p3["C6"])


def test_load_rejects_non_models(tmp_path):
    from deepilst.model.core import DeepILST, ModelError

    (tmp_path / "model.json").write_text("{}")
    with pytest.raises(ModelError, match="not a deepilst model"):
        DeepILST.load(tmp_path)
    with pytest.raises(ModelError, match="unknown model kind"):
        DeepILST("forest")


def test_train_cli_takes_a_config_and_rejects_unknown_keys(tmp_path):
    import subprocess
    import sys

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "deepilst.cli", "train", str(ARGON), *args],
                              capture_output=True, text=True, timeout=300)

    out = tmp_path / "m"
    r = cli("-o", str(out), "--epochs", "3", "--members", "2", "--threads", "1", "--config",
            '{"hidden": [16], "target_basis": "logC12_logC6", "feature_args": {"rise": 8}}')
    assert r.returncode == 0, r.stderr
    meta = json.loads((out / "model.json").read_text())
    assert meta["config"]["hidden"] == [16] and meta["config"]["members"] == 2
    assert meta["features"]["rise"] == 8 and meta["targets"]["basis"] == "logC12_logC6"
    bad = tmp_path / "bad"
    r = cli("-o", str(bad), "--config", '{"learning_rate": 1}')
    assert r.returncode == 2 and "config" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not bad.exists()


def test_models_saved_before_the_basis_option_load_as_trained(argon, tmp_path):
    """A model.json without target_basis / stop_on (written before they existed) loads with the
    settings it was trained with, not today's defaults."""
    from deepilst.model.core import DeepILST

    m = _tiny("ensemble")
    m.config.update(target_basis="logT_logrho", stop_on="all")
    m.fit(argon, progress=False).save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    for k in ("target_basis", "stop_on"):
        del meta["config"][k]
    for k in ("basis", "basis_mean", "basis_std"):
        del meta["targets"][k]
    (tmp_path / "m" / "model.json").write_text(json.dumps(meta))
    m2 = DeepILST.load(tmp_path / "m")
    assert m2.config["target_basis"] == "logT_logrho"
    p, p2 = m.predict(argon.g, argon.T, argon.rho), m2.predict(argon.g, argon.T, argon.rho)
    assert np.allclose(p["C6"], p2["C6"], rtol=1e-9)


def _train_subset(path, n_sims=4):
    """The first ``n_sims`` simulations of the committed training file and their samples."""
    import h5py

    src = ROOT / "data" / "v1_train.h5"
    with h5py.File(src, "r") as h, h5py.File(path, "w") as o:
        o.attrs["schema_version"] = h.attrs["schema_version"]
        for k in ("r", "fine_dr"):
            o[k] = h[k][()]
        keep = h["samples"]["sim"][:] < n_sims
        for k in h["samples"]:
            o[f"samples/{k}"] = h["samples"][k][:][keep]
        for k in ("g", "fine_g", "fine_g_err", "C12", "C6", "T", "sigma", "phase", "equilibrated"):
            o[f"sims/{k}"] = h["sims"][k][:n_sims]
    return path


@pytest.mark.skipif(not (ROOT / "data" / "v1_train.h5").exists(), reason="training set absent")
def test_noise_augmentation_draws_from_the_statistical_error(tmp_path):
    """load_arrays(noise=s): expanded samples are rebinned from the fine histogram plus
    s x its error, so (noisy - clean) / (rebinned error) has standard deviation ~ s; the
    simulated state stays clean; a model refuses arrays loaded with another noise."""
    from deepilst.dataset import expand_g, open_dataset
    from deepilst.model.core import DeepILST, ModelError

    f = _train_subset(tmp_path / "sub.h5")
    clean = load_arrays(f)
    noisy = load_arrays(f, noise=2.0, seed=1)
    assert not clean.noisy.any() and noisy.noise == 2.0
    assert noisy.noisy.sum() == len(noisy) - 4  # one clean simulated state per simulation
    assert np.array_equal(noisy.g[~noisy.noisy], clean.g[~noisy.noisy])
    with open_dataset(f) as h:
        sims = h["sims"]
        sim = h["samples"]["sim"][:]
        z = []
        for j in np.flatnonzero(noisy.noisy)[:60]:
            i = sim[j]
            _, err = expand_g(sims["fine_g"][i], float(h["fine_dr"][()]), float(sims["sigma"][i]),
                              float(noisy.sigma[j]), fine_g_err=sims["fine_g_err"][i])
            ok = np.isfinite(err) & (err > 0)
            z.append((noisy.g[j] - clean.g[j])[ok] / err[ok])
    z = np.concatenate(z)
    assert 1.8 < np.std(z) < 2.2, np.std(z)
    assert abs(np.mean(z)) < 0.1
    with pytest.raises(ModelError, match="g_noise"):
        DeepILST("ensemble", {"g_noise": 1.0}).fit(clean, progress=False)
    with pytest.raises(ValueError, match="noise"):
        load_arrays(f, noise=-1)
