"""Model layer: features, numpy vs torch forward, Gaussian head, splits, determinism, storage."""

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


def test_calibrated_intervals_cover_validation_samples(argon):
    """After fitting, 95 % intervals of C12 and C6 hold >= 95 % of the validation samples
    (the calibration target), and the residual covariance is positive semi-definite."""
    m = _tiny("ensemble").fit(argon, progress=False)
    tr, va, te = m._split_idx
    d = argon.take(va)
    p = m.predict(d.g, d.T, d.rho)
    for k in ("C12", "C6"):
        inside = (getattr(d, k) >= p[k + "_lo"]) & (getattr(d, k) <= p[k + "_hi"])
        assert inside.mean() >= 0.95 - 1e-9
    R = m._residual_cov(m.cal_center_[:20])
    assert np.all(np.linalg.eigvalsh(R) >= -1e-12)


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
    # batch of one == row of a batch
    p_one = m3.predict(argon.g[2], argon.T[2], argon.rho[2])
    assert np.isclose(p_one["C12"][0], p3["C12"][2], rtol=1e-9)


def test_load_rejects_non_models(tmp_path):
    from deepilst.model.core import DeepILST, ModelError

    (tmp_path / "model.json").write_text("{}")
    with pytest.raises(ModelError, match="not a deepilst model"):
        DeepILST.load(tmp_path)
    with pytest.raises(ModelError, match="unknown model kind"):
        DeepILST("forest")
