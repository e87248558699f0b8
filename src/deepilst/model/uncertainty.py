"""Predictive uncertainty: the ensemble's calibrated covariance, the paper network's constant.

Ensemble: the covariance of standardised u = (log T*, log rho*) is c (E + R(m)), E the spread of
the members' means (epistemic), R(m) a kernel-weighted covariance of validation residuals near
the prediction m (so C6 gets wider intervals where attraction barely shapes g), and c one scale
factor fitted so that 95 % intervals of log C12 and log C6 hold 95 % of the calibration
samples (:class:`Calibration`). Paper: the root-mean-square validation residual of each scaled
output (:class:`ResidualStd`).
"""

from __future__ import annotations

import numpy as np

from deepilst.model.targets import LOG_LINEAR, Z95

#: the quantities whose 95 % intervals the scale factor is fitted on
CALIBRATED = ("C12", "C6")


class Calibration:
    """Kernel residual covariance around stored residuals plus one scale factor.

    Parameters
    ----------
    bandwidth : kernel width in standardised-u units
    """

    def __init__(self, bandwidth: float = 0.35) -> None:
        self.bandwidth = float(bandwidth)

    def residual_cov(self, m: np.ndarray) -> np.ndarray:
        """Kernel-weighted covariance (n, 2, 2) of the stored residuals around predictions
        ``m`` (n, 2), with the global residual covariance as a prior of weight one sample."""
        h = self.bandwidth
        d2 = np.sum((m[:, None, :] - self.center_[None]) ** 2, axis=-1)
        w = np.exp(-0.5 * d2 / h**2)
        e = self.resid_
        outer = np.einsum("ki,kj->kij", e, e)
        glob = outer.mean(axis=0)
        return (np.einsum("nk,kij->nij", w, outer) + glob) / (w.sum(axis=1) + 1.0)[:, None, None]

    def fit(self, m: np.ndarray, epi: np.ndarray, y: np.ndarray, ystd: np.ndarray) -> Calibration:
        """Store the residuals ``y - m`` at predictions ``m`` (both (n, 2), standardised u) and
        fit the scale on the same samples (floored at 1), ``epi`` (n, 2, 2) the members' spread,
        ``ystd`` (2,) the standard deviations of u that standardise it."""
        self.center_ = m.astype(np.float64)
        self.resid_ = (y - m).astype(np.float64)
        return self.fit_scale(m, epi, y, ystd)

    def z_scores(self, m: np.ndarray, epi: np.ndarray, y: np.ndarray, ystd: np.ndarray,
                 quantities: tuple[str, ...] = CALIBRATED) -> np.ndarray:
        """|error| / unscaled predicted standard deviation of the log of each quantity, (k, n)."""
        S = epi + self.residual_cov(m)
        e = y - m
        out = []
        for q in quantities:
            a = np.array(LOG_LINEAR[q]) * ystd
            out.append(np.abs(e @ a) / np.sqrt(np.einsum("i,nij,j->n", a, S, a)))
        return np.array(out)

    def fit_scale(self, m: np.ndarray, epi: np.ndarray, y: np.ndarray, ystd: np.ndarray,
                  floor: float = 1.0) -> Calibration:
        """The variance factor c: the smallest that makes the 95 % intervals of log C12 and
        log C6 hold 95 % of the samples (``y`` true, ``m`` predicted), at least ``floor``."""
        facs = [float(np.quantile(z, 0.95) / Z95) for z in self.z_scores(m, epi, y, ystd)]
        self.scale_ = max(floor, max(facs)) ** 2
        return self

    def apply(self, m: np.ndarray, epi: np.ndarray) -> np.ndarray:
        """Calibrated covariance (n, 2, 2) of standardised u at predictions ``m``."""
        return self.scale_ * (epi + self.residual_cov(m))

    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(JSON part, tensors): the scale and bandwidth; the stored residuals."""
        return ({"calibration_scale": self.scale_, "kernel_bandwidth": self.bandwidth},
                {"cal_center": np.ascontiguousarray(self.center_),
                 "cal_resid": np.ascontiguousarray(self.resid_)})

    @classmethod
    def from_state(cls, state: dict, tensors: dict[str, np.ndarray]) -> Calibration:
        c = cls(state["kernel_bandwidth"])
        c.scale_ = float(state["calibration_scale"])
        c.center_, c.resid_ = tensors["cal_center"], tensors["cal_resid"]
        return c


class ResidualStd:
    """One standard deviation per output: the root-mean-square validation residual."""

    def fit(self, out: np.ndarray, y: np.ndarray) -> ResidualStd:
        """From outputs ``out`` and targets ``y``, both (n, d) in the network's units."""
        self.std_ = np.sqrt(np.mean((out - y) ** 2, axis=0))
        return self

    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        return {"resid_std": self.std_.tolist()}, {}

    @classmethod
    def from_state(cls, state: dict, tensors: dict[str, np.ndarray] | None = None) -> ResidualStd:
        r = cls()
        r.std_ = np.array(state["resid_std"])
        return r
