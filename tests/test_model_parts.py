"""The parts of a model, each on its own: configuration, targets, calibration, domain, the
conventions a model file carries (r grid, cutoff) and the evaluation of dataset files."""

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binom

from deepilst.errors import ModelError, ParameterError
from deepilst.model.config import ENSEMBLE_CONFIG, grid_from_meta, model_config, rc_sigma_from_meta
from deepilst.model.data import load_arrays
from deepilst.model.domain import DOMAIN_KEYS, Domain
from deepilst.model.targets import LOG_LINEAR, Z95, EnsembleTargets
from deepilst.model.uncertainty import Calibration, ResidualStd
from deepilst.rdf import model_grid
from deepilst.units import RC_SIGMA, cutoff_text

ROOT = Path(__file__).resolve().parents[1]
ARGON = ROOT / "data" / "v1_argon.h5"
TEST = ROOT / "data" / "v1_test.h5"
MODELS = ROOT / "src" / "deepilst" / "shipped_models"


@pytest.fixture(scope="module")
def argon():
    return load_arrays(ARGON)


def _binomial_band(n: int, p: float = 0.95, alpha: float = 1e-3) -> tuple[float, float]:
    """Fractions of n Bernoulli(p) trials outside which a result has probability < alpha."""
    return binom.ppf(alpha / 2, n, p) / n, binom.ppf(1 - alpha / 2, n, p) / n


# ---- configuration --------------------------------------------------------------------------
def test_model_config_validates_overrides():
    assert model_config("ensemble", '{"lr": 1e-3}', epochs=5, members=3) == {
        "lr": 1e-3, "epochs": 5, "members": 3}
    assert model_config("paper", {"hidden": [8]}) == {"hidden": [8]}
    assert model_config("paper", None, epochs=7) == {"epochs": 7}
    with pytest.raises(ParameterError, match="config.*learning_rate"):
        model_config("ensemble", {"learning_rate": 1})
    with pytest.raises(ParameterError, match="config.*kernel_bandwidth"):
        model_config("paper", '{"kernel_bandwidth": 0.3}')  # an ensemble-only key
    with pytest.raises(ParameterError, match="config: not a JSON object"):
        model_config("ensemble", "{lr: 1}")
    with pytest.raises(ParameterError, match="config"):
        model_config("ensemble", "[1, 2]")
    with pytest.raises(ParameterError, match="members applies to the ensemble"):
        model_config("paper", None, members=2)
    with pytest.raises(ParameterError, match="epochs"):
        model_config("paper", None, epochs=0)
    with pytest.raises(ModelError, match="unknown model kind"):
        model_config("forest")
    for exc in (ParameterError, ModelError):
        with pytest.raises(ValueError):  # both stay ValueErrors for Python users
            raise exc("x")
    assert "--" not in str(pytest.raises(ParameterError, model_config, "paper", "{").value)


# ---- targets --------------------------------------------------------------------------------
def test_ensemble_targets_round_trip_and_invert(argon):
    t = EnsembleTargets("logC12_logC6").fit(argon)
    js, tensors = t.to_state()
    t2 = EnsembleTargets.from_state(json.loads(json.dumps(js)), tensors)
    assert np.array_equal(t.encode(argon), t2.encode(argon))
    # decoding what the members would output for the truth gives the truth (standardised u)
    v = t.encode(argon)
    assert np.allclose(t.decode(v[None])[0], t.standardised_u(argon), atol=1e-12)
    # a quantity's log is its state constant plus LOG_LINEAR . u
    from deepilst.model.targets import state_constants

    u = np.column_stack([np.log(argon.T_reduced), np.log(argon.rho_reduced)])
    const = state_constants(argon.T, argon.rho)
    for k in ("C12", "C6", "sigma", "epsilon"):
        assert np.allclose(const[k] + u @ np.array(LOG_LINEAR[k]), np.log(getattr(argon, k)))


# ---- calibration ----------------------------------------------------------------------------
def _synthetic(rng, n, width=1.0):
    """Predictions m (n, 2) of standardised u, no member spread, and truths whose errors are
    Gaussian with a covariance that varies with m (wider in u1 for large m0)."""
    m = rng.normal(size=(n, 2))
    sd = np.column_stack([0.1 + 0.05 * np.abs(m[:, 0]), 0.05 + 0.1 * (m[:, 0] > 0)])
    y = m + width * sd * rng.standard_normal((n, 2))
    return m, np.zeros((n, 2, 2)), y


def test_calibration_scale_recovers_the_known_width():
    """Residuals drawn from the distribution the residual model stores: scale ~ 1 (unfloored);
    residuals twice as wide: scale ~ 4 (a variance factor)."""
    rng = np.random.default_rng(7)
    ystd = np.array([1.0, 1.0])
    cal = Calibration(0.35).fit(*_synthetic(rng, 6000), ystd)
    m, epi, y = _synthetic(rng, 6000)
    assert abs(cal.fit_scale(m, epi, y, ystd, floor=0.0).scale_ - 1.0) < 0.15
    m, epi, y = _synthetic(rng, 6000, width=2.0)
    assert abs(cal.fit_scale(m, epi, y, ystd, floor=0.0).scale_ / 4.0 - 1.0) < 0.15
    R = cal.residual_cov(m[:50])
    assert np.all(np.linalg.eigvalsh(R) >= -1e-12)


def test_calibrated_intervals_cover_held_out_synthetic_samples():
    """Residual model from one draw, scale fitted on a second (1.5 x wider), the 95 %
    intervals of log C12 and log C6 hold 95 % of a fresh third draw (within the binomial
    band): too wide fails as well as too narrow."""
    rng = np.random.default_rng(11)
    ystd = np.array([0.7, 0.3])
    cal = Calibration(0.35).fit(*_synthetic(rng, 6000), ystd)
    cal.fit_scale(*_synthetic(rng, 6000, width=1.5), ystd)
    assert 1.5**2 * 0.85 < cal.scale_ < 1.5**2 * 1.15
    m, epi, y = _synthetic(rng, 4000, width=1.5)
    S = cal.apply(m, epi)
    lo, hi = _binomial_band(len(m))
    for q in ("C12", "C6"):
        a = np.array(LOG_LINEAR[q]) * ystd
        inside = np.abs((y - m) @ a) <= Z95 * np.sqrt(np.einsum("i,nij,j->n", a, S, a))
        assert lo <= inside.mean() <= hi, (q, inside.mean())


def test_calibration_and_residual_std_round_trip():
    rng = np.random.default_rng(3)
    m, epi, y = _synthetic(rng, 300)
    cal = Calibration(0.2).fit(m, epi, y, np.ones(2))
    js, t = cal.to_state()
    cal2 = Calibration.from_state(json.loads(json.dumps(js)), t)
    assert cal2.bandwidth == 0.2 and cal2.scale_ == cal.scale_
    assert np.array_equal(cal.apply(m[:9], epi[:9]), cal2.apply(m[:9], epi[:9]))
    r = ResidualStd().fit(y, m)
    assert np.array_equal(ResidualStd.from_state(json.loads(json.dumps(r.to_state()[0]))).std_,
                          r.std_)


def test_shipped_ensemble_intervals_cover_held_out_test_set():
    """The shipped ensemble on v1_test.h5 (500 independent simulations, used neither for
    training nor calibration): 95 % intervals of C12 and C6 hold 95 % of the truths, within
    the binomial band (0.918 to 0.980 at probability 1e-3)."""
    from deepilst.model.core import DeepILST

    m = DeepILST.load(MODELS / "ensemble")
    a = load_arrays(TEST)
    p = m.predict(a.g, a.T, a.rho)
    lo, hi = _binomial_band(len(a))
    for k in ("C12", "C6"):
        true = getattr(a, k)
        inside = (true >= p[k + "_95"][:, 0]) & (true <= p[k + "_95"][:, 1])
        assert lo <= inside.mean() <= hi, (k, inside.mean())


# ---- domain ---------------------------------------------------------------------------------
def test_domain_round_trips_and_flags(argon):
    from deepilst.model.features import ReducedFeatures

    f = ReducedFeatures(pca=8).fit(argon.g, argon.T, argon.rho)
    X = f.transform(argon.g, argon.T, argon.rho)
    fluid = argon.phase == "fluid"
    d = Domain().fit(X, argon, argon.group, X[fluid])
    js, t = d.to_state()
    d2 = Domain.from_state(json.loads(json.dumps(js)), t)
    args = (X, argon.T, argon.rho, argon.T_reduced, argon.rho_reduced, f.coverage(argon.rho))
    r1, r2 = d.evaluate(*args), d2.evaluate(*args)
    assert set(r1) == set(DOMAIN_KEYS)
    for k in DOMAIN_KEYS:
        assert np.array_equal(r1[k], r2[k]), k
    assert r1["state_in_box"].all() and r1["reduced_in_domain"].all()
    assert np.max(d.neighbour_distance(X)) < 1e-3  # training RDFs are their own neighbours
    far = d.evaluate(X + 5.0, argon.T * 3, argon.rho, argon.T_reduced * 10, argon.rho_reduced,
                     f.coverage(argon.rho), need_box=True)
    assert not far["in_domain"].any() and not far["state_in_box"].any()
    assert not far["neighbour_ok"].any() and not far["reduced_in_domain"].any()


# ---- conventions read from the model --------------------------------------------------------
def _tiny_ensemble(argon):
    from deepilst.model.core import DeepILST

    cfg = {"epochs": 3, "patience": 2, "hidden": [16], "batch": 32, "members": 2}
    return DeepILST("ensemble", cfg).fit(argon, progress=False)


def test_model_grid_and_cutoff_come_from_model_json(argon, tmp_path):
    """A saved model states its grid and cutoff; a model.json with another grid and cutoff is
    honoured (features read g on that grid), and files without rc_sigma read the text."""
    from deepilst.model.core import DeepILST

    m = _tiny_ensemble(argon)
    m.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["rc_sigma"] == RC_SIGMA and meta["cutoff_convention"] == cutoff_text(RC_SIGMA)
    assert meta["r_grid_nm"] == {"start": 0.0, "stop": 1.5, "step": 0.005}
    m1 = DeepILST.load(tmp_path / "m")
    assert m1.rc_sigma == RC_SIGMA and np.array_equal(m1.r_grid, model_grid())
    assert m1.box_ == m1.domain.box == m.box_
    meta.update(r_grid_nm={"start": 0.0, "stop": 1.2, "step": 0.005}, rc_sigma=2.5,
                cutoff_convention=cutoff_text(2.5))
    (tmp_path / "m" / "model.json").write_text(json.dumps(meta))
    m2 = DeepILST.load(tmp_path / "m")
    assert m2.rc_sigma == 2.5 and len(m2.r_grid) == 241 and m2.r_grid[-1] == 1.2
    assert m2.features_.r is m2.r_grid
    p = m2.predict(argon.g[:4, :241], argon.T[:4], argon.rho[:4])
    cov_full = m1.predict(argon.g[:4], argon.T[:4], argon.rho[:4])["coverage"]
    assert np.all(p["coverage"] <= cov_full) and np.any(p["coverage"] < cov_full)
    with pytest.raises(ModelError, match="241"):
        m2.predict(argon.g[:4], argon.T[:4], argon.rho[:4])
    # files written before rc_sigma existed: the number in the text, else the default
    assert rc_sigma_from_meta({"cutoff_convention": cutoff_text(2.5)}) == 2.5
    assert rc_sigma_from_meta({}) == RC_SIGMA
    assert np.array_equal(grid_from_meta({"start": 0.0, "stop": 1.5, "step": 0.005}), model_grid())


def test_shipped_models_state_their_conventions():
    from deepilst.model.core import DeepILST

    for name in ("ensemble", "paper"):
        m = DeepILST.load(MODELS / name)
        assert m.rc_sigma == 3.0 and np.array_equal(m.r_grid, model_grid())
        assert m.config == {**({"target_basis": "logT_logrho", "stop_on": "all", "g_noise": 0.0}
                               if name == "ensemble" else {}), **m.meta["config"]}
    assert set(ENSEMBLE_CONFIG) >= set(DeepILST.load(MODELS / "ensemble").config)


def test_saved_model_round_trips_its_parts(argon, tmp_path):
    """Every key of a prediction survives save / load exactly, and the intervals are (n, 2)."""
    from deepilst.model.core import QUANTITIES, DeepILST

    m = _tiny_ensemble(argon)
    p = m.predict(argon.g[:6], argon.T[:6], argon.rho[:6])
    p2 = DeepILST.load(m.save(tmp_path / "m")).predict(argon.g[:6], argon.T[:6], argon.rho[:6])
    assert set(p) == set(p2) == ({q + s for q in QUANTITIES for s in ("", "_std", "_95")}
                                 | set(DOMAIN_KEYS) | {"log_cov"})
    for k in p:
        assert np.array_equal(p[k], p2[k]), k
    for q in QUANTITIES:
        assert p[q + "_95"].shape == (6, 2)
        assert np.all((p[q + "_95"][:, 0] < p[q]) & (p[q] < p[q + "_95"][:, 1]))


# ---- evaluation of dataset files ------------------------------------------------------------
def test_evaluate_files_splits_the_models_own_training_file(argon, tmp_path):
    from deepilst.model.core import DeepILST
    from deepilst.model.evaluate import evaluate_files, format_metrics, parity_band

    m = DeepILST.load(_tiny_ensemble(argon).save(tmp_path / "m"))
    metrics, sets, preds = evaluate_files(m, [ARGON])
    assert set(metrics) <= {"train", "val", "holdout"} and "train" in metrics
    assert sum(len(s) for s in sets.values()) == len(argon)
    lines = format_metrics(metrics)
    assert len(lines) == len(metrics) and lines[0].startswith("train ")
    band = parity_band(preds["train"], sets["train"])
    assert band > 0 and np.isfinite(band)
    # a perfect prediction has no band
    assert parity_band({"C12": sets["train"].C12, "C6": sets["train"].C6}, sets["train"]) == 0.0


def test_set_metrics_rows_on_a_known_case():
    """The paper's MAPE (sum|err| / sum|true|) differs from the per-state mean; the fluid and
    in-domain rows take their subsets."""
    from types import SimpleNamespace

    from deepilst.model.evaluate import mape, mean_abs_pct, set_metrics

    true = np.array([1.0, 2.0, 4.0, 8.0])
    pred = true * np.array([1.1, 1.0, 0.5, 1.0])  # errors 0.1, 0, 2, 0
    assert mape(pred, true) == pytest.approx(100 * 2.1 / 15)
    assert mean_abs_pct(pred, true) == pytest.approx(100 * (0.1 + 0.5) / 4)
    class Data(SimpleNamespace):
        def __len__(self) -> int:
            return len(self.C12)

    data = Data(C12=true, C6=true, phase=np.array(["fluid", "fluid", "solid", "fluid"]),
                T_reduced=np.ones(4), rho_reduced=np.ones(4))
    band = np.stack([pred * 0.95, pred * 1.05], axis=1)
    p = {"C12": pred, "C6": pred, "C12_95": band, "C6_95": band, "C12_std": pred * 0.02,
         "C6_std": pred * 0.02, "in_domain": np.array([True, True, False, True]),
         "shape_ok": np.ones(4, bool)}
    m = set_metrics(p, data)
    assert m["n_in_domain"] == 3 and m["n_fluid"] == 3
    assert m["C6"]["mape"] == pytest.approx(100 * 2.1 / 15)
    assert m["C6"]["mape_fluid"] == pytest.approx(100 * 0.1 / 11)
    assert m["C6"]["mape_in_domain"] == pytest.approx(100 * 0.1 / 11)
    assert m["C6"]["mean_abs_pct_fluid"] == pytest.approx(100 * 0.1 / 3)
    assert m["C6"]["coverage95"] == 0.5 and m["C6"]["coverage95_fluid"] == pytest.approx(2 / 3)


@pytest.mark.parametrize("name", ["ensemble", "paper"])
def test_regression_shipped_evaluation_json_reproduced(name):
    """evaluate_files on v1_test.h5 gives the "test" metrics stored in the shipped
    evaluation.json (written by ``deepilst evaluate`` with the model)."""
    from deepilst.model.core import DeepILST
    from deepilst.model.evaluate import evaluate_files

    stored = json.loads((MODELS / name / "evaluation.json").read_text())["sets"]["test"]
    metrics, _, _ = evaluate_files(DeepILST.load(MODELS / name), [TEST])
    assert list(metrics) == ["test"]
    new = json.loads(json.dumps(metrics["test"]))
    assert stored.keys() <= new.keys()  # rows added since (in-domain, per-state mean) are extra
    for k in ("C12", "C6"):
        for key, v in stored[k].items():
            assert new[k][key] == pytest.approx(v, rel=1e-9), (k, key)
    assert len(new["regions"]) == len(stored["regions"])
    for a, b in zip(new["regions"], stored["regions"]):
        assert (a["T_reduced"], a["rho_reduced"], a["n"]) == (b["T_reduced"], b["rho_reduced"], b["n"])
        for key in ("mape_C12", "mape_C6"):
            assert a[key] == pytest.approx(b[key], rel=1e-9)
    assert new["in_domain_fraction"] == stored["in_domain_fraction"]


def test_principal_directions_have_a_data_fixed_sign():
    """The feature projection does not depend on the sign LAPACK happens to return."""
    import numpy as np

    from deepilst.model.features import orient_components

    rng = np.random.default_rng(3)
    vt = np.linalg.qr(rng.normal(size=(20, 5)))[0].T
    a = orient_components(vt)
    b = orient_components(vt * np.array([1, -1, 1, -1, -1])[:, None])
    assert np.array_equal(a, b)
    assert np.all(a[np.arange(5), np.argmax(np.abs(a), axis=1)] > 0)
