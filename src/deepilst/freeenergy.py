"""Helmholtz energy per particle of the single-bead LJ fluid in deepilst's cutoff convention.

The CG model deepilst runs has forces truncated at r_c = 3 sigma without a shift, so its
trajectories follow the truncated-and-shifted pair energy u_TS(r) = u(r) - u(r_c) (r < r_c)
and its configurations are Boltzmann-distributed in U_TS = sum u_TS. Its excess Helmholtz
energy per particle, in units of kB T, is written as

    beta A_TS / N = a_Thol(T*, rho*) - b(rho*) / T* + delta_a(T*, rho*)

* a_Thol: the full (untruncated) LJ fluid, Thol et al. (2016), ``get_Ar00`` of teqp;
* b = u*_tail + u*(r_c*) rho* (2 pi / 3) r_c*^3 (units of epsilon): the mean-field difference
  between full LJ and the truncated-shifted model (exactly beta P_tail / rho, the tail the
  engines add to the pressure);
* delta_a: a correction fitted to our own MD (:func:`fit_correction`): a smooth surface whose
  derivatives match the residuals of the MD energies and pressures of the v1 training fluids,
  -d delta_a / d ln T* = beta U_MD - beta U_Thol and rho* d delta_a / d rho* = Z_MD - Z_Thol
  (a thermodynamic integration of our data in two dimensions). The Thol EOS is accurate to
  0.003 kB T per particle at T* < 3 and drifts beyond its range (0.14 kB T rms at T* 20-50).

The ideal-gas part, ln(rho Lambda^3) - 1, does not depend on (C12, C6) at fixed T, rho and
mass and is left out. Coefficients, the fitted domain (convex hull in (ln T*, rho*)) and the
vapour-liquid binodal of the Thol EOS ship in ``shipped_models/freeenergy/lj_correction.json``,
written by ``benchmarks/free_energy_check.py``.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from deepilst.errors import ModelError
from deepilst.units import RC_SIGMA

#: Where the shipped correction lives (package data).
CORRECTION_PATH = Path(__file__).resolve().parent / "shipped_models" / "freeenergy" / "lj_correction.json"


@lru_cache(maxsize=1)
def _thol():
    import teqp

    return teqp.build_LJ126_TholJPCRD2016()


def thol(T_reduced, rho_reduced) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Full LJ fluid (Thol 2016 via teqp) at reduced states (arrays broadcast together):
    beta A_ex / N, beta U / N and Z = beta P / rho (all dimensionless)."""
    t, r = np.broadcast_arrays(np.asarray(T_reduced, float), np.asarray(rho_reduced, float))
    m, z = _thol(), np.array([1.0])
    a, u, zz = (np.empty(t.shape) for _ in range(3))
    for i in np.ndindex(t.shape):
        ti, ri = float(t[i]), float(r[i])
        if not (ti > 0 and ri > 0 and math.isfinite(ti) and math.isfinite(ri)):
            a[i] = u[i] = zz[i] = np.nan
            continue
        a[i] = m.get_Ar00(ti, ri, z)
        u[i] = m.get_Ar10(ti, ri, z)
        zz[i] = 1.0 + m.get_Ar01(ti, ri, z)
    return a, u, zz


def convention_b(rho_reduced, rc_sigma: float = RC_SIGMA) -> np.ndarray:
    """b(rho*) [epsilon per particle]: energy tail (g = 1 beyond r_c) plus the mean-field shift
    u(r_c) rho (2 pi/3) r_c^3, for r_c = ``rc_sigma`` sigma; equals beta P_tail / rho times kT."""
    rc = float(rc_sigma)
    rho = np.asarray(rho_reduced, dtype=float)
    tail = 2.0 * math.pi * rho * (4.0 / (9.0 * rc**9) - 4.0 / (3.0 * rc**3))
    u_rc = 4.0 * (rc**-12 - rc**-6)
    return tail + u_rc * rho * (2.0 * math.pi / 3.0) * rc**3


class Correction:
    """delta_a(T*, rho*) = sum_ij c_ij x^i T_j(s): x = rho* / rho_scale (i = 1..n_rho, so
    delta_a vanishes at rho* -> 0), T_j Chebyshev polynomials of s, ln T* mapped from
    [tau_min, tau_max] onto [-1, 1] (held constant beyond)."""

    def __init__(self, coef: np.ndarray, tau_min: float, tau_max: float, rho_scale: float) -> None:
        self.coef = np.asarray(coef, dtype=float)  # (n_rho, n_tau)
        self.tau_min, self.tau_max, self.rho_scale = float(tau_min), float(tau_max), float(rho_scale)

    @property
    def shape(self) -> tuple[int, int]:
        return self.coef.shape

    def _s(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = (2.0 * np.log(t) - self.tau_min - self.tau_max) / (self.tau_max - self.tau_min)
        inside = np.abs(s) <= 1.0
        return np.clip(s, -1.0, 1.0), inside

    def design(self, T_reduced, rho_reduced) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Basis values at the states: (delta_a, -d/d ln T*, rho* d/d rho*) rows, each
        (n_states, n_rho * n_tau), so that ``design @ coef.ravel()`` evaluates them."""
        from numpy.polynomial import chebyshev as C

        t = np.atleast_1d(np.asarray(T_reduced, float))
        x = np.atleast_1d(np.asarray(rho_reduced, float)) / self.rho_scale
        n_rho, n_tau = self.shape
        s, inside = self._s(t)
        tj = C.chebvander(s, n_tau - 1)  # (n, n_tau)
        dtj = np.zeros_like(tj)
        for j in range(1, n_tau):
            dtj[:, j] = C.chebval(s, C.chebder(np.eye(n_tau)[j]))
        dtj *= np.where(inside, 2.0 / (self.tau_max - self.tau_min), 0.0)[:, None]
        # far outside the fitted hull (rho* of 1e3 and more, e.g. C2H6's network answer at
        # T* 3.5e5 on a map) the powers overflow to inf or nan without a warning: such states
        # are what :meth:`LJFreeEnergy.covers` flags
        with np.errstate(over="ignore", invalid="ignore"):
            xi = np.stack([x**i for i in range(1, n_rho + 1)], axis=1)  # (n, n_rho)
            i = np.arange(1, n_rho + 1)
            val = (xi[:, :, None] * tj[:, None, :]).reshape(len(t), -1)
            du = (-(xi[:, :, None]) * dtj[:, None, :]).reshape(len(t), -1)
            dz = ((i * xi)[:, :, None] * tj[:, None, :]).reshape(len(t), -1)
        return val, du, dz

    def __call__(self, T_reduced, rho_reduced) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(delta_a, its contribution to beta U, its contribution to Z) at the states."""
        shape = np.broadcast_shapes(np.shape(T_reduced), np.shape(rho_reduced))
        t, r = (np.broadcast_to(np.asarray(v, float), shape).ravel() for v in (T_reduced, rho_reduced))
        c = self.coef.ravel()
        with np.errstate(over="ignore", invalid="ignore"):  # see design()
            return tuple((m @ c).reshape(shape) for m in self.design(t, r))

    def to_json(self) -> dict:
        return {"coef": self.coef.tolist(), "tau_min": self.tau_min, "tau_max": self.tau_max,
                "rho_scale": self.rho_scale}

    @classmethod
    def from_json(cls, d: dict) -> Correction:
        return cls(d["coef"], d["tau_min"], d["tau_max"], d["rho_scale"])


def fit_correction(T_reduced, rho_reduced, r_u, r_u_err, r_z, r_z_err, n_rho: int = 5,
                   n_tau: int = 7, rho_scale: float = 2.0,
                   tau_range: tuple[float, float] | None = None) -> Correction:
    """Least-squares delta_a whose derivatives match the MD residuals at the given states:
    -d delta_a / d ln T* = ``r_u`` (beta U_MD - beta U_Thol) and rho* d delta_a / d rho* = ``r_z``
    (Z_MD - Z_Thol), each weighted by 1 / its error."""
    t = np.asarray(T_reduced, float)
    tau = np.log(t)
    lo, hi = tau_range if tau_range is not None else (float(tau.min()), float(tau.max()))
    corr = Correction(np.zeros((n_rho, n_tau)), lo, hi, rho_scale)
    _, du, dz = corr.design(t, rho_reduced)
    a = np.vstack([du / np.asarray(r_u_err, float)[:, None], dz / np.asarray(r_z_err, float)[:, None]])
    y = np.concatenate([np.asarray(r_u, float) / r_u_err, np.asarray(r_z, float) / r_z_err])
    scale = np.linalg.norm(a, axis=0)
    scale[scale == 0] = 1.0
    c, *_ = np.linalg.lstsq(a / scale, y, rcond=None)
    corr.coef = (c / scale).reshape(n_rho, n_tau)
    return corr


class LJFreeEnergy:
    """Excess Helmholtz energy per particle [kB T] of deepilst's CG LJ model at (T*, rho*).

    ``helmholtz`` is what relative-entropy maps need; ``energy`` and ``compressibility`` give
    the quantities MD reports (beta U/N, Z = beta P / rho, tails included) for checks;
    ``covers`` says where the surface was fitted (inside the convex hull of the fitted fluid
    states in (ln T*, rho*), outside the vapour-liquid binodal).
    """

    def __init__(self, meta: dict | None = None, rc_sigma: float = RC_SIGMA) -> None:
        self.meta = meta or {}
        self.rc_sigma = float(self.meta.get("rc_sigma", rc_sigma))
        c = self.meta.get("correction")
        self.correction = Correction.from_json(c) if c else None
        hull = self.meta.get("hull")
        self._hull = np.asarray(hull["equations"], float) if hull else None
        bn = self.meta.get("binodal")
        self._binodal = {k: np.asarray(v, float) for k, v in bn.items()} if bn else None

    @classmethod
    def load(cls, path: str | Path | None = None) -> LJFreeEnergy:
        """The shipped surface (default) or one written by ``benchmarks/free_energy_check.py``."""
        p = Path(path) if path is not None else CORRECTION_PATH
        if not p.is_file():
            raise ModelError(f"{p}: no free-energy correction file; regenerate it with "
                             "benchmarks/free_energy_check.py")
        return cls(json.loads(p.read_text()))

    def _parts(self, T_reduced, rho_reduced):
        t, r = np.broadcast_arrays(np.asarray(T_reduced, float), np.asarray(rho_reduced, float))
        a, u, z = thol(t, r)
        if self.correction is not None:
            da, du, dz = self.correction(t, r)
        else:
            da = du = dz = np.zeros(t.shape)
        return t, r, a, u, z, da, du, dz

    def helmholtz(self, T_reduced, rho_reduced) -> np.ndarray:
        """beta A_ex / N of the truncated-shifted model (r_c = rc_sigma sigma) [kB T]."""
        t, r, a, _, _, da, _, _ = self._parts(T_reduced, rho_reduced)
        return a - convention_b(r, self.rc_sigma) / t + da

    def energy(self, T_reduced, rho_reduced) -> np.ndarray:
        """beta U / N as MD reports it (truncated energies plus the tail) [kB T], to within
        beta u(r_c) (n_c - n_ideal) / 2 (n_c: neighbours inside r_c; |.| < 0.003 epsilon)."""
        _, _, _, u, _, _, du, _ = self._parts(T_reduced, rho_reduced)
        return u + du

    def compressibility(self, T_reduced, rho_reduced) -> np.ndarray:
        """Z = P / (rho kB T) as MD reports it (virial of the truncated forces plus the tail)."""
        _, _, _, _, z, _, _, dz = self._parts(T_reduced, rho_reduced)
        return z + dz

    def in_binodal(self, T_reduced, rho_reduced) -> np.ndarray:
        """True inside the vapour-liquid coexistence region of the Thol EOS."""
        t, r = np.broadcast_arrays(np.asarray(T_reduced, float), np.asarray(rho_reduced, float))
        if self._binodal is None:
            return np.zeros(t.shape, bool)
        b = self._binodal
        below = t < b["T_reduced"][-1]
        lo = np.interp(t, b["T_reduced"], b["rho_vapour"])
        hi = np.interp(t, b["T_reduced"], b["rho_liquid"])
        return below & (r > lo) & (r < hi)

    def covers(self, T_reduced, rho_reduced) -> np.ndarray:
        """True where the surface was fitted to MD: inside the hull of the fitted fluid states
        in (ln T*, rho*) and outside the binodal."""
        t, r = np.broadcast_arrays(np.asarray(T_reduced, float), np.asarray(rho_reduced, float))
        ok = np.isfinite(t) & np.isfinite(r) & (t > 0) & (r > 0)
        if self._hull is not None:
            pts = np.stack([np.log(np.where(ok, t, 1.0)), r], axis=-1)
            ok &= np.all(pts @ self._hull[:, :2].T + self._hull[:, 2] <= 1e-9, axis=-1)
        return ok & ~self.in_binodal(t, r)


def binodal_table(t_min: float = 0.7, step: float = 0.01) -> dict:
    """Vapour and liquid coexistence densities of the Thol EOS (Maxwell construction: equal
    pressure and chemical potential) from ``t_min`` to just below T_c*."""
    from scipy.optimize import fsolve

    m, z = _thol(), np.array([1.0])

    def eqs(x, t):
        rv, rl = math.exp(x[0]), x[1]
        zv, zl = 1 + m.get_Ar01(t, rv, z), 1 + m.get_Ar01(t, rl, z)
        mv = math.log(rv) + m.get_Ar00(t, rv, z) + zv - 1
        ml = math.log(rl) + m.get_Ar00(t, rl, z) + zl - 1
        return [rv * zv - rl * zl, mv - ml]

    x = [math.log(0.002), 0.843]
    rows = []
    for t in np.arange(t_min, 1.5, step):
        x, _, ier, _ = fsolve(eqs, x, args=(t,), full_output=True)
        rv, rl = math.exp(x[0]), float(x[1])
        if ier != 1 or rl - rv < 1e-3:
            break
        rows.append((float(t), rv, rl))
    t, rv, rl = map(list, zip(*rows))
    return {"T_reduced": t, "rho_vapour": rv, "rho_liquid": rl}
