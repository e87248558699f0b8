"""The forward model: g(r) of a Lennard-Jones fluid at (T, rho, C12, C6) without MD.

Corresponding states (cutoff 3 sigma): g(r; T, rho, C12, C6) = g*(x; T*, rho*) with x = r
rho^(1/3). The model holds g*(x) as a mean curve plus K principal curves on bins of ``dx`` in
x (0 to ``x_max``), whose coefficients are Gaussian processes over the reduced state
(u = standardised (log T*, rho*), Matern 5/2, one length scale per coordinate) conditioned on
the fluid training simulations with their own block errors (:mod:`~deepilst.model.forward_gp`,
fitted by :mod:`~deepilst.model.forward_fit`).

Shell averages over any bins are exact for this piecewise-constant g*: the user's edges in nm
become x edges (times rho^(1/3), the same for every (C12, C6) at one density), and each bin
gets the pair-count weighted average of the model bins it overlaps. Bins (or parts of bins)
beyond ``x_max`` get g = 1 and g_std = 0 there: the model says nothing past x_max (r of 1.8-2.5
nm at 8-19.4 nm^-3), and a 1000-particle fluid's g is within its noise of 1 there.

The predictive standard deviation of a bin is sqrt(c^2 sum_k var_k B_k^2 + floor), with var_k
the GP posterior variance of coefficient k, B_k the bin average of principal curve k, c a
factor and floor a per-x variance, both calibrated on validation simulations (``meta
["calibration"]``). numpy (+ scipy for std) only; the directory holds ``forward.json`` and
``forward.safetensors``, no pickles.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from deepilst.errors import ModelError, ParameterError
from deepilst.model import forward_gp as gp

META = "forward.json"
WEIGHTS = "forward.safetensors"
FORMAT = "deepilst-forward"
#: the arrays of a model directory (float64: the GP means need them)
TENSORS = ("mean", "basis", "X", "nv", "theta", "alpha", "floor", "hull", "states")
#: tabulated GP means and log variances (optional: without them the GP is evaluated exactly)
GRIDS = ("grid_mean", "grid_logvar")
#: nearest training simulations (any phase) that must all be fluid for covers()
N_NEIGHBOURS = 4


#: GP input coordinates a model can use (compared in benchmarks/forward_model.py): (log T*,
#: rho*), (log T*, log rho*), and (log T*, z) with z = rho* T*^(-1/4), the variable of the
#: soft-sphere limit
COORDINATES = ("logT_rho", "logT_logrho", "logT_z")


def raw_coords(t: np.ndarray, r: np.ndarray, coordinates: str = "logT_rho") -> np.ndarray:
    """Unstandardised GP inputs (m, 2) of reduced states (T*, rho*) (:data:`COORDINATES`)."""
    lt = np.log(t)
    if coordinates == "logT_rho":
        return np.column_stack([lt, r])
    if coordinates == "logT_logrho":
        return np.column_stack([lt, np.log(r)])
    if coordinates == "logT_z":
        return np.column_stack([lt, r * t**-0.25])
    raise ModelError(f"coordinates must be one of {', '.join(COORDINATES)}, got {coordinates!r}")


def shipped_dir() -> Path:
    """The shipped forward model: package data ``deepilst/shipped_models/forward``
    (``DEEPILST_MODELS`` overrides the models directory, as for the networks)."""
    import os

    env = os.environ.get("DEEPILST_MODELS")
    base = Path(env) if env else Path(__file__).resolve().parents[1] / "shipped_models"
    return base / "forward"


def _state_arrays(T_reduced, rho_reduced) -> tuple[np.ndarray, np.ndarray, bool]:
    t = np.asarray(T_reduced, dtype=float)
    r = np.asarray(rho_reduced, dtype=float)
    scalar = t.ndim == 0 and r.ndim == 0
    t, r = np.broadcast_arrays(np.atleast_1d(t), np.atleast_1d(r))
    if not (np.all(np.isfinite(t) & (t > 0)) and np.all(np.isfinite(r) & (r > 0))):
        raise ParameterError("T_reduced and rho_reduced must be finite and positive")
    return t.ravel(), r.ravel(), scalar


class ForwardModel:
    """g*(x; T*, rho*) with a predictive standard deviation. Build with
    :func:`deepilst.model.forward_fit.fit_forward` or :meth:`load`."""

    def __init__(self, arrays: dict[str, np.ndarray], meta: dict) -> None:
        self.a = {k: np.asarray(v, dtype=float) for k, v in arrays.items()}
        self.meta = dict(meta)
        self.edges = np.round(np.arange(len(self.a["mean"]) + 1) * float(meta["dx"]), 12)
        self.x_max = float(self.edges[-1])
        self.coord_mean = np.asarray(meta["coord_mean"], dtype=float)
        self.coord_std = np.asarray(meta["coord_std"], dtype=float)
        cal = meta.get("calibration", {})
        self.std_scale = float(cal.get("std_scale", 1.0))
        self._chol: list | None = None
        self._spline: np.ndarray | None = None

    @property
    def n_components(self) -> int:
        """Number of principal curves K."""
        return len(self.a["basis"])

    @property
    def rc_sigma(self) -> float:
        """The cutoff convention of the training data, in units of sigma."""
        return float(self.meta.get("rc_sigma", 3.0))

    # ---- the reduced state -------------------------------------------------------------------
    def coords(self, T_reduced, rho_reduced) -> np.ndarray:
        """Standardised GP inputs (m, 2) of reduced states: (raw - mean) / std with raw the
        model's ``coordinates`` (:data:`COORDINATES`; shipped: (log T*, rho*))."""
        t, r, _ = _state_arrays(T_reduced, rho_reduced)
        raw = raw_coords(t, r, self.meta.get("coordinates", "logT_rho"))
        return (raw - self.coord_mean) / self.coord_std

    def exact_coefficients(self, U: np.ndarray, chunk: int = 2048) -> np.ndarray:
        """GP posterior-mean coefficients (m, K) at standardised inputs ``U`` (m, 2)."""
        X, th, al = self.a["X"], self.a["theta"], self.a["alpha"]
        out = np.empty((len(U), self.n_components))
        for lo in range(0, len(U), chunk):
            u = U[lo:lo + chunk]
            for k in range(self.n_components):
                s2, ls, _, _ = gp.unpack(th[k], X.shape[1])
                out[lo:lo + chunk, k] = s2 * gp.matern52(u, X, ls) @ al[k]
        return out

    def exact_var(self, U: np.ndarray) -> np.ndarray:
        """GP posterior variances (m, K) at standardised inputs ``U`` (the first call factorises
        the K training matrices, ~0.1 s each; they are kept)."""
        from scipy.linalg import cho_factor

        X, nv, th = self.a["X"], self.a["nv"], self.a["theta"]
        if self._chol is None:
            self._chol = [cho_factor(gp.gram(X, nv[:, k], th[k]), lower=True)
                          for k in range(self.n_components)]
        return np.column_stack([gp.posterior_var(U, X, nv[:, k], th[k], self._chol[k])
                                for k in range(self.n_components)])

    def _on_grid(self, U: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Interpolated grid values (m, K) of ``grid_mean`` (cubic spline) or ``grid_logvar``
        (linear) at the points of ``U`` inside the grid box, and that mask."""
        from scipy.ndimage import map_coordinates, spline_filter

        lo, hi = np.asarray(self.meta["grid_lo"]), np.asarray(self.meta["grid_hi"])
        grid = self.a[name]
        n = np.array(grid.shape[1:])
        pos = (U - lo) / (hi - lo) * (n - 1)
        inside = np.all((pos >= 0) & (pos <= n - 1), axis=1)
        out = np.empty((len(U), len(grid)))
        if not inside.any():
            return out, inside
        order = 3 if name == "grid_mean" else 1
        if order == 3 and self._spline is None:
            self._spline = np.stack([spline_filter(g, order=3, mode="nearest") for g in grid])
        src = self._spline if order == 3 else grid
        for k in range(len(grid)):
            out[inside, k] = map_coordinates(src[k], pos[inside].T, order=order, mode="nearest",
                                             prefilter=False)
        return out, inside

    def coefficients(self, T_reduced, rho_reduced) -> np.ndarray:
        """Posterior-mean coefficients (m, K) of the principal curves: interpolated from the
        stored grid of GP means (cubic spline, within 1e-4 of the GP in g), the GP itself
        outside the grid box."""
        U = self.coords(T_reduced, rho_reduced)
        if "grid_mean" not in self.a:
            return self.exact_coefficients(U)
        out, inside = self._on_grid(U, "grid_mean")
        if not inside.all():
            out[~inside] = self.exact_coefficients(U[~inside])
        return out

    def coefficient_var(self, T_reduced, rho_reduced) -> np.ndarray:
        """GP posterior variances (m, K) of the coefficients: interpolated (log, linear) from the
        stored grid, exact outside the grid box."""
        U = self.coords(T_reduced, rho_reduced)
        if "grid_logvar" not in self.a:
            return self.exact_var(U)
        out, inside = self._on_grid(U, "grid_logvar")
        out = np.exp(out)
        if not inside.all():
            out[~inside] = self.exact_var(U[~inside])
        return out

    def covers(self, T_reduced, rho_reduced) -> np.ndarray:
        """True where the model may be trusted: (log T*, rho*) inside the convex hull of the
        fluid training states and the nearest :data:`N_NEIGHBOURS` training simulations (of
        any phase, in the standardised coordinates) all fluid, i.e. not near freezing or
        liquid-vapour coexistence."""
        from deepilst.model.domain import in_polygon

        t, r, _ = _state_arrays(T_reduced, rho_reduced)
        inside = in_polygon(np.column_stack([np.log(t), r]), self.a["hull"])
        st = self.a["states"]  # (n, 3): standardised coords and 1 for fluid
        U = self.coords(t, r)
        d2 = ((U[:, None, :] - st[None, :, :2]) ** 2).sum(-1)
        near = np.argsort(d2, axis=1)[:, :N_NEIGHBOURS]
        return inside & np.all(st[near, 2] > 0.5, axis=1)

    # ---- g*(x) --------------------------------------------------------------------------------
    def _bins(self, x_edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from deepilst.model.forward_data import smooth_shell_matrix

        return smooth_shell_matrix(self.edges, x_edges)

    def operator(self, x_edges: np.ndarray) -> dict[str, np.ndarray]:
        """What shell averages over bins with edges ``x_edges`` (in x = r rho^(1/3)) need, for
        any number of states: ``mean`` (n_bins,) and ``basis`` (K, n_bins), the bin averages
        of the mean and principal curves (with g = 1 beyond x_max), ``floor`` (n_bins,) the
        variance floor, ``beyond`` the fraction of each bin past x_max."""
        M, beyond = self._bins(np.asarray(x_edges, dtype=float))
        return {"mean": M @ self.a["mean"] + beyond, "basis": self.a["basis"] @ M.T,
                "floor": M @ self.a["floor"], "beyond": beyond}

    def apply(self, op: dict, T_reduced, rho_reduced, std: bool = False
              ) -> tuple[np.ndarray, np.ndarray | None]:
        """(g, g_std) (m, n_bins) of an :meth:`operator` at reduced states."""
        g = np.maximum(op["mean"] + self.coefficients(T_reduced, rho_reduced) @ op["basis"], 0.0)
        if not std:
            return g, None
        var = self.std_scale**2 * self.coefficient_var(T_reduced, rho_reduced) @ op["basis"] ** 2
        return g, np.sqrt(var + op["floor"])

    def reduced_shell_average(self, x_edges: np.ndarray, T_reduced, rho_reduced,
                              std: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """Shell averages of g* over bins with edges ``x_edges`` in x = r rho^(1/3) at reduced
        states: (g, g_std) of shape (m, n_bins), g_std None unless ``std``."""
        return self.apply(self.operator(x_edges), T_reduced, rho_reduced, std)

    def g_reduced(self, s, T_reduced, rho_reduced) -> np.ndarray:
        """g* at s = r / sigma (point values: the model's bin values interpolated linearly
        between bin centres; 1 beyond x_max). Shape (len(s),) for one state, else (m, len(s))."""
        t, r, scalar = _state_arrays(T_reduced, rho_reduced)
        s = np.asarray(s, dtype=float)
        c = self.coefficients(t, r)
        vals = np.maximum(self.a["mean"][None] + c @ self.a["basis"], 0.0)
        mid = 0.5 * (self.edges[1:] + self.edges[:-1])
        out = np.array([np.interp(s * rr ** (1.0 / 3.0), mid, v, right=1.0)
                        for rr, v in zip(r, vals)])
        return out[0] if scalar else out

    # ---- physical states ----------------------------------------------------------------------
    def shell_average(self, edges, temperature: float, density: float, c12, c6,
                      std: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        """g(r) averaged over the shells between ``edges`` [nm] (n_bins + 1, increasing, >= 0)
        at ``temperature`` [K] and ``density`` [nm^-3] for ``c12``, ``c6`` (scalars, or 1-d
        arrays of length m). Returns (g, g_std): (n_bins,) for scalars, else (m, n_bins);
        g_std None when ``std`` is False. Bins beyond the model's x_max get g = 1 and g_std 0.
        """
        from deepilst.units import check_positive, reduced_state

        e = np.asarray(edges, dtype=float)
        if e.ndim != 1 or len(e) < 2 or not np.all(np.isfinite(e)) or e[0] < 0 \
                or np.any(np.diff(e) <= 0):
            raise ParameterError("edges must be a 1-d increasing array of >= 2 finite radii >= 0 nm")
        temperature = check_positive("temperature", temperature)
        density = check_positive("density", density)
        scalar = np.ndim(c12) == 0 and np.ndim(c6) == 0
        c12a, c6a = np.broadcast_arrays(np.atleast_1d(np.asarray(c12, float)),
                                        np.atleast_1d(np.asarray(c6, float)))
        if c12a.ndim != 1:
            raise ParameterError("c12 and c6 must be scalars or 1-d arrays")
        t, r = reduced_state(np.full(len(c12a), temperature), np.full(len(c12a), density),
                             c12a, c6a)
        g, s = self.reduced_shell_average(e * density ** (1.0 / 3.0), t, r, std=std)
        if scalar:
            return g[0], None if s is None else s[0]
        return g, s

    # ---- persistence --------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write :data:`META` and :data:`WEIGHTS` into ``directory`` (atomically each)."""
        from safetensors.numpy import save_file

        from deepilst.fileio import atomic_path, write_text_atomic

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        with atomic_path(d / WEIGHTS) as tmp:
            save_file({k: np.ascontiguousarray(self.a[k], dtype=np.float64) for k in TENSORS + GRIDS
                       if k in self.a}, str(tmp))
        write_text_atomic(d / META, json.dumps({"format": FORMAT, "format_version": 1,
                                                **self.meta}, indent=1) + "\n")
        return d

    @classmethod
    def load(cls, directory: str | Path) -> ForwardModel:
        """Load a model directory (:data:`META` + :data:`WEIGHTS`)."""
        from safetensors.numpy import load_file

        d = Path(directory)
        if not (d / META).is_file() or not (d / WEIGHTS).is_file():
            raise ModelError(f"{d}: not a forward model directory (expected {META} and {WEIGHTS}); "
                             "train one with scripts/train_forward.py or use the shipped one")
        meta = json.loads((d / META).read_text())
        if meta.get("format") != FORMAT:
            raise ModelError(f"{d / META}: not a deepilst forward model (format {meta.get('format')!r})")
        t = load_file(str(d / WEIGHTS))
        missing = [k for k in TENSORS if k not in t]
        if missing:
            raise ModelError(f"{d / WEIGHTS}: missing arrays {', '.join(missing)}; retrain the model")
        meta.pop("format")
        meta.pop("format_version", None)
        return cls(t, meta)


_CACHE: dict[str, ForwardModel] = {}


def load_forward_model(directory: str | Path | None = None) -> ForwardModel:
    """The shipped forward model (default; loaded once) or a model directory."""
    d = Path(directory) if directory is not None else shipped_dir()
    key = str(d.resolve())
    if key not in _CACHE:
        _CACHE[key] = ForwardModel.load(d)
    return _CACHE[key]
