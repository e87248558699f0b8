"""What the networks regress, and the way back to C12, C6, sigma, epsilon, T*, rho*.

* paper: (C12, C6) min-max scaled to Table 1 (:class:`PaperTargets`).
* ensemble: u = (log T*, log rho*). Members regress a linear map v = B u (``BASES``; by default
  log C12 and log C6 less their state constants), standardised (:class:`EnsembleTargets`).
  Every reported quantity is linear in u in log space: log X = ``state_constants`` [X] +
  ``LOG_LINEAR`` [X] . u, so its standard deviation and 95 % interval follow exactly.
"""

from __future__ import annotations

import numpy as np

from deepilst.errors import ModelError
from deepilst.sampling import TABLE1
from deepilst.units import KB

#: the two-sided 95 % quantile of the standard normal distribution
Z95 = 1.959963984540054
#: coefficients of (u0 = log T*, u1 = log rho*) in the log of each quantity
LOG_LINEAR = {"C12": (-1.0, 4.0), "C6": (-1.0, 2.0), "sigma": (0.0, 1.0 / 3.0),
              "epsilon": (-1.0, 0.0), "T_reduced": (1.0, 0.0), "rho_reduced": (0.0, 1.0)}
_LIN = LOG_LINEAR
#: what the ensemble's members regress: rows of B in v = B u. "logC12_logC6" is (log C12,
#: log C6) less their state constants, so the MSE weighs errors as the MAPE of C12 and C6 does.
BASES = {"logT_logrho": ((1.0, 0.0), (0.0, 1.0)),
         "logC12_logC6": (_LIN["C12"], _LIN["C6"])}


def state_constants(temperature: np.ndarray, density: np.ndarray) -> dict[str, np.ndarray]:
    """The part of each log quantity that does not depend on u, at temperatures [K] and
    densities [nm^-3] (log of kJ/mol, nm and kJ mol^-1 nm^k units)."""
    lkt = np.log(KB * temperature)
    lr = np.log(density)
    return {"C12": np.log(4.0) + lkt - 4 * lr, "C6": np.log(4.0) + lkt - 2 * lr,
            "sigma": -lr / 3.0, "epsilon": lkt, "T_reduced": 0.0 * lr, "rho_reduced": 0.0 * lr}


_const = state_constants


def reduced_log_state(data) -> np.ndarray:
    """u = (log T*, log rho*) of each sample of :class:`~deepilst.model.data.Arrays`, (n, 2)."""
    return np.column_stack([np.log(data.T_reduced), np.log(data.rho_reduced)])


def basis_matrix(name: str) -> np.ndarray:
    """B (2, 2) of the target basis ``name`` (a key of ``BASES``)."""
    if name not in BASES:
        raise ModelError(f"unknown target_basis {name!r}; expected one of {sorted(BASES)}")
    return np.array(BASES[name], dtype=float)


class PaperTargets:
    """(C12, C6) min-max scaled to the Table 1 ranges (the paper's sigmoid output)."""

    kind = "paper"

    @staticmethod
    def encode(data) -> np.ndarray:
        """Scaled (C12, C6) of each sample, (n, 2), dimensionless."""
        c12 = (data.C12 - TABLE1["C12"][0]) / (TABLE1["C12"][1] - TABLE1["C12"][0])
        c6 = (data.C6 - TABLE1["C6"][0]) / (TABLE1["C6"][1] - TABLE1["C6"][0])
        return np.column_stack([c12, c6])

    @staticmethod
    def decode(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(C12 [kJ mol^-1 nm^12], C6 [kJ mol^-1 nm^6]) from network outputs ``y`` (n, 2)."""
        return (TABLE1["C12"][0] + y[:, 0] * (TABLE1["C12"][1] - TABLE1["C12"][0]),
                TABLE1["C6"][0] + y[:, 1] * (TABLE1["C6"][1] - TABLE1["C6"][0]))

    @staticmethod
    def spans() -> np.ndarray:
        """Width of the Table 1 ranges of (C12, C6): one scaled unit in physical units."""
        return np.array([TABLE1["C12"][1] - TABLE1["C12"][0], TABLE1["C6"][1] - TABLE1["C6"][0]])

    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        return {"paper": "C12, C6 min-max scaled to Table 1", "table1": TABLE1}, {}

    @classmethod
    def from_state(cls, state: dict, tensors: dict[str, np.ndarray] | None = None) -> PaperTargets:
        return cls()


class EnsembleTargets:
    """Standardised v = B u with u = (log T*, log rho*), and u standardised for the
    uncertainty model (``mean_``/``std_`` of u, ``vmean_``/``vstd_`` of v over training)."""

    kind = "ensemble"

    def __init__(self, basis: str = "logC12_logC6") -> None:
        self.basis = basis
        self.B = basis_matrix(basis)

    def fit(self, data) -> EnsembleTargets:
        u = reduced_log_state(data)
        self.mean_, self.std_ = u.mean(axis=0), u.std(axis=0)
        v = u @ self.B.T
        self.vmean_, self.vstd_ = v.mean(axis=0), v.std(axis=0)
        return self

    def encode(self, data) -> np.ndarray:
        """What the members regress for each sample, (n, 2), standardised."""
        return (reduced_log_state(data) @ self.B.T - self.vmean_) / self.vstd_

    def standardised_u(self, data) -> np.ndarray:
        """(u - mean) / std of each sample, (n, 2)."""
        return (reduced_log_state(data) - self.mean_) / self.std_

    def decode(self, out: np.ndarray) -> np.ndarray:
        """Standardised u from member outputs ``out`` (members, n, 2)."""
        u = (out * self.vstd_ + self.vmean_) @ np.linalg.inv(self.B).T
        return (u - self.mean_) / self.std_

    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        return ({"ensemble": "standardised (log T*, log rho*)", "mean": self.mean_.tolist(),
                 "std": self.std_.tolist(), "basis": self.basis,
                 "basis_mean": self.vmean_.tolist(), "basis_std": self.vstd_.tolist()}, {})

    @classmethod
    def from_state(cls, state: dict, tensors: dict[str, np.ndarray] | None = None,
                   basis: str | None = None) -> EnsembleTargets:
        """From :meth:`to_state`; ``basis`` (the model's config) wins over ``state["basis"]``
        (files written before the basis existed lack it and used "logT_logrho")."""
        t = cls(basis or state.get("basis", "logT_logrho"))
        t.mean_, t.std_ = np.array(state["mean"]), np.array(state["std"])
        t.vmean_ = np.array(state.get("basis_mean", t.mean_))
        t.vstd_ = np.array(state.get("basis_std", t.std_))
        return t
