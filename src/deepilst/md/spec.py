"""Specification of one LJ-fluid simulation and the protocol it runs with."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from deepilst.errors import ParameterError
from deepilst.potentials import LJParams, TabulatedPotential
from deepilst.units import ARGON_MASS, KB, RC_SIGMA, check_positive

#: Default fraction of the time unit sigma*sqrt(m/max(eps, kB T)) used as the time step;
#: validated by benchmarks/dt_validation.py (NVE drift and g(r) against 0.002 at four states).
DT_FRACTION = 0.008


@dataclass(frozen=True)
class Protocol:
    """How a system is simulated (all times in ps).

    Attributes
    ----------
    equil_ps : equilibration time discarded before sampling, ps
    prod_ps : production time over which g(r) and averages are taken, ps
    n_particles : number of LJ particles
    dt_ps : time step in ps; ``None`` picks ``DT_FRACTION`` of the time unit
        sigma*sqrt(m/max(eps, kB T)) (validated by NVE drift, see benchmarks/)
    tau_t : Nose-Hoover time constant, ps
    mass : particle mass, amu (does not change equilibrium structure)
    rc_sigma : cutoff in units of sigma
    sample_every : MD steps between analysed frames
    n_blocks : blocks for the statistical error of g(r)
    """

    equil_ps: float = 100.0
    prod_ps: float = 900.0
    n_particles: int = 1000
    dt_ps: float | None = None
    tau_t: float = 0.2
    mass: float = ARGON_MASS
    rc_sigma: float = RC_SIGMA
    sample_every: int = 100
    n_blocks: int = 10

    def __post_init__(self) -> None:
        if not math.isfinite(self.equil_ps) or self.equil_ps < 0:
            raise ParameterError(f"equil_ps must be >= 0, got {self.equil_ps}")
        check_positive("prod_ps", self.prod_ps)
        if int(self.n_particles) != self.n_particles or self.n_particles < 2:
            raise ParameterError(f"n_particles must be an integer >= 2, got {self.n_particles}")
        if self.dt_ps is not None:
            check_positive("dt_ps", self.dt_ps)
        check_positive("tau_t", self.tau_t)
        check_positive("mass", self.mass)
        check_positive("rc_sigma", self.rc_sigma)
        if int(self.sample_every) != self.sample_every or self.sample_every < 1:
            raise ParameterError(f"sample_every must be a positive integer, got {self.sample_every}")
        if int(self.n_blocks) != self.n_blocks or self.n_blocks < 2:
            raise ParameterError(f"n_blocks must be an integer >= 2, got {self.n_blocks}")


@dataclass(frozen=True)
class PairTable:
    """A tabulated pair potential as a run carries it: u [kJ/mol] at increasing r [nm].

    The run's cutoff is the table's last r (u = 0 beyond, no tail correction); below its first
    r the potential continues linearly with the slope of its first interval. A table that is a
    pure repulsion C12 r^-12 (:attr:`repulsion_c12`) is an LJ pair with C6 = 0, which GROMACS
    runs too.
    """

    r: tuple[float, ...]
    u: tuple[float, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "r", tuple(float(x) for x in self.r))
        object.__setattr__(self, "u", tuple(float(x) for x in self.u))
        self.potential()  # validates (ParameterError)

    @classmethod
    def from_potential(cls, pot: TabulatedPotential) -> PairTable:
        return cls(tuple(pot.r), tuple(pot.u))

    def potential(self) -> TabulatedPotential:
        """The table as a :class:`~deepilst.potentials.TabulatedPotential` (spline)."""
        return TabulatedPotential(list(self.r), list(self.u))

    @property
    def r_max(self) -> float:
        """End of the table = the cutoff of a run with it, nm."""
        return self.r[-1]

    @property
    def repulsion_c12(self) -> float | None:
        """C12 [kJ mol^-1 nm^12] when every point of the table is C12 r^-12 (relative 1e-9),
        else None. Such a table is the LJ pair (C12, C6 = 0) truncated at the table's end:
        engines run it without a table (GROMACS by its LJ kernels, OpenMM analytically); below
        the first point it is then r^-12 instead of the linear continuation, which matters
        only where u is already above (r_max / r_0)^12 of u(r_max)."""
        r = np.asarray(self.r)
        c = np.asarray(self.u) * r**12
        if not (np.all(np.isfinite(c)) and c[0] > 0):
            return None
        return float(c.mean()) if float(np.ptp(c)) <= 1e-9 * float(c.mean()) else None


@dataclass(frozen=True)
class SimSpec:
    """One state point: temperature [K], density [nm^-3], C12, C6, engine, seed, protocol.

    With ``table`` the particles interact through that tabulated potential instead (OpenMM;
    GROMACS too when the table is a pure repulsion C12 r^-12), truncated at the table's end;
    C12 and C6 are then a reference LJ that sets the time step and the reduced state reported
    with the run. Specs without a table have the same keys
    and records as before tables existed.
    """

    temperature: float
    density: float
    c12: float
    c6: float
    engine: str = "auto"
    seed: int = 0
    protocol: Protocol = field(default_factory=Protocol)
    #: free-form labels carried into the record (design name, index, expansion targets)
    tags: tuple[tuple[str, str], ...] = ()
    #: a tabulated pair potential replacing the LJ one (OpenMM; GROMACS for pure C12 r^-12)
    table: PairTable | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "temperature", check_positive("T", self.temperature))
        object.__setattr__(self, "density", check_positive("rho", self.density))
        object.__setattr__(self, "c12", check_positive("C12", self.c12))
        object.__setattr__(self, "c6", check_positive("C6", self.c6))
        if self.engine not in ("auto", "gromacs", "openmm"):
            raise ParameterError(f"engine must be auto, gromacs or openmm, got {self.engine!r}")
        if isinstance(self.table, dict):
            object.__setattr__(self, "table", PairTable(**self.table))
        if self.table is not None and self.engine == "gromacs" \
                and self.table.repulsion_c12 is None:
            raise ParameterError(
                "engine 'gromacs' cannot run a tabulated pair potential (GROMACS 2022's Verlet "
                "scheme has no tabulated non-bonded potentials; only a pure C12 r^-12 table runs "
                "there, as LJ with C6 = 0): use engine 'openmm' or 'auto'")
        if self.rc >= 0.5 * self.box_length:
            raise ParameterError(
                f"box too small: cutoff {self.rc:.3f} nm >= half box {0.5 * self.box_length:.3f} nm"
                f" (rho*={self.rho_reduced:.3g}); use more particles"
            )

    # ---- derived quantities -------------------------------------------------------------
    @property
    def lj(self) -> LJParams:
        """The pair potential of this system."""
        return LJParams(self.c12, self.c6)

    @property
    def sigma(self) -> float:
        """sigma [nm]."""
        return self.lj.sigma

    @property
    def epsilon(self) -> float:
        """epsilon [kJ/mol]."""
        return self.lj.epsilon

    @property
    def T_reduced(self) -> float:
        return KB * self.temperature / self.epsilon

    @property
    def rho_reduced(self) -> float:
        return self.density * self.sigma**3

    @property
    def rc(self) -> float:
        """Cutoff radius, nm (a table's end for a tabulated potential)."""
        if self.table is not None:
            return self.table.r_max
        return self.protocol.rc_sigma * self.sigma

    @property
    def box_length(self) -> float:
        """Cubic box edge, nm."""
        return (self.protocol.n_particles / self.density) ** (1.0 / 3.0)

    @property
    def time_unit(self) -> float:
        """sigma*sqrt(m/max(eps, kB T)), ps: the shortest dynamical time of the system."""
        e = max(self.epsilon, KB * self.temperature)
        return self.sigma * math.sqrt(self.protocol.mass / e)

    @property
    def dt(self) -> float:
        """Time step, ps."""
        if self.protocol.dt_ps is not None:
            return self.protocol.dt_ps
        return DT_FRACTION * self.time_unit

    @property
    def n_equil_steps(self) -> int:
        k = self.protocol.sample_every
        return int(math.ceil(self.protocol.equil_ps / self.dt / k)) * k

    @property
    def n_prod_steps(self) -> int:
        k = self.protocol.sample_every * self.protocol.n_blocks
        return max(1, int(round(self.protocol.prod_ps / self.dt / k))) * k

    # ---- identity -----------------------------------------------------------------------
    def to_dict(self) -> dict:
        d = asdict(self)
        d["tags"] = dict(self.tags)
        if self.table is None:
            del d["table"]  # keys and records of LJ runs stay as they were
        else:
            d["table"] = {"r": list(self.table.r), "u": list(self.table.u)}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> SimSpec:
        d = dict(d)
        d["protocol"] = Protocol(**d.get("protocol", {}))
        d["tags"] = tuple(sorted((str(k), str(v)) for k, v in dict(d.get("tags", {})).items()))
        return cls(**d)

    def key(self) -> str:
        """Stable hash of the full spec and the resolved time step (16 hex digits): the task's
        identity and file name."""
        d = dict(self.to_dict(), dt_resolved=float(f"{self.dt:.12g}"))
        blob = json.dumps(d, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def with_seed(self, seed: int) -> SimSpec:
        return replace(self, seed=int(seed))
