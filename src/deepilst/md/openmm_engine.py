"""OpenMM backend: NVT Nose-Hoover, plain cutoff at r_c (truncated forces), long-range
dispersion correction for energy; g(r) accumulated from positions during the run. A spec with
a ``table`` runs that tabulated pair potential through a ``CustomNonbondedForce``."""

from __future__ import annotations

import os
import time

import numpy as np

from deepilst.md.base import Engine, EngineRun, FrameSink, SimulationError
from deepilst.md.spec import SimSpec
from deepilst.md.system import lattice_positions
from deepilst.units import KB

#: Points of the uniform grid a table is resampled on for ``Continuous1DFunction``.
TABLE_POINTS = 4000


def table_force(spec: SimSpec):
    """A ``CustomNonbondedForce`` running ``spec.table``: a ``Continuous1DFunction`` (natural
    cubic spline on a uniform resampling of the table) between the table's ends, its linear
    continuation below the first point (OpenMM's tabulated functions are zero outside their
    range), plain cutoff at the table's end, no long-range correction. A pure C12 r^-12 table
    (:attr:`~deepilst.md.spec.PairTable.repulsion_c12`) runs as that expression instead."""
    import openmm as mm

    c12 = spec.table.repulsion_c12
    if c12 is not None:
        # a pure C12 r^-12 runs analytically: on the CPU platform (1 thread, 1000 beads) a
        # Continuous1DFunction took 10.4 ms a step, this expression 2.5 ms
        f = mm.CustomNonbondedForce("c12 / r^12")
        f.addGlobalParameter("c12", c12)
        r1 = spec.table.r_max
    else:
        f = _spline_force(spec)
        r1 = f.getCutoffDistance()
    f.setNonbondedMethod(mm.CustomNonbondedForce.CutoffPeriodic)
    f.setCutoffDistance(r1)
    f.setUseSwitchingFunction(False)
    f.setUseLongRangeCorrection(False)
    for _ in range(spec.protocol.n_particles):
        f.addParticle([])
    return f


def _spline_force(spec: SimSpec):
    import openmm as mm

    pot = spec.table.potential()
    values, r0, r1 = pot.openmm_function(TABLE_POINTS)
    slope = float((pot.u[1] - pot.u[0]) / (pot.r[1] - pot.r[0]))
    f = mm.CustomNonbondedForce(
        "step(r - r0) * utab(r) + (1 - step(r - r0)) * (u0 + s0 * (r - r0))")
    f.addGlobalParameter("r0", r0)
    f.addGlobalParameter("u0", float(values[0]))
    f.addGlobalParameter("s0", slope)
    f.addTabulatedFunction("utab", mm.Continuous1DFunction(list(map(float, values)), r0, r1))
    f.setCutoffDistance(r1)
    return f


class OpenMMEngine(Engine):
    name = "openmm"

    def __init__(self, platform: str | None = None, threads: int = 1) -> None:
        self.platform_name = platform or os.environ.get("DEEPILST_OPENMM_PLATFORM")
        self.threads = threads

    @staticmethod
    def available() -> bool:
        try:
            import openmm  # noqa: F401
        except ImportError:
            return False
        return True

    def version(self) -> str:
        import openmm

        return openmm.__version__

    def _platform(self):
        import openmm as mm

        names = [mm.Platform.getPlatform(i).getName() for i in range(mm.Platform.getNumPlatforms())]
        if self.platform_name:
            name = self.platform_name
        else:
            name = next((p for p in ("CUDA", "OpenCL", "CPU") if p in names), "Reference")
        plat = mm.Platform.getPlatformByName(name)
        props = {"Threads": str(self.threads)} if name == "CPU" else {}
        if name in ("CUDA", "OpenCL"):
            props = {"Precision": "mixed"}
        return plat, props

    def _context(self, spec: SimSpec):
        import openmm as mm

        n = spec.protocol.n_particles
        L = spec.box_length
        system = mm.System()
        for _ in range(n):
            system.addParticle(spec.protocol.mass)
        system.setDefaultPeriodicBoxVectors(mm.Vec3(L, 0, 0), mm.Vec3(0, L, 0), mm.Vec3(0, 0, L))
        if spec.table is not None:
            system.addForce(table_force(spec))
        else:
            nb = mm.NonbondedForce()
            nb.setNonbondedMethod(mm.NonbondedForce.CutoffPeriodic)
            nb.setCutoffDistance(spec.rc)
            nb.setUseSwitchingFunction(False)
            nb.setUseDispersionCorrection(True)
            for _ in range(n):
                nb.addParticle(0.0, spec.sigma, spec.epsilon)
            system.addForce(nb)
        system.addForce(mm.CMMotionRemover())
        integ = mm.NoseHooverIntegrator(spec.temperature, 1.0 / spec.protocol.tau_t, spec.dt)
        plat, props = self._platform()
        ctx = mm.Context(system, integ, plat, props)
        ctx.setPositions(lattice_positions(n, L, spec.seed))
        ctx.setVelocitiesToTemperature(spec.temperature, int(spec.seed) % 2**31)
        return ctx, integ, plat.getName()

    def run(self, spec: SimSpec, sink: FrameSink) -> EngineRun:
        n = spec.protocol.n_particles
        k = spec.protocol.sample_every
        ctx, integ, plat = self._context(spec)
        try:
            integ.step(spec.n_equil_steps)
            n_frames = spec.n_prod_steps // k
            pot = np.empty(n_frames)
            temp = np.empty(n_frames)
            dof = 3 * n - 3
            for f in range(n_frames):
                integ.step(k)
                st = ctx.getState(getPositions=True, getEnergy=True)
                pos = st.getPositions(asNumpy=True)._value
                pot[f] = st.getPotentialEnergy()._value
                temp[f] = 2.0 * st.getKineticEnergy()._value / (dof * KB)
                if not (np.isfinite(pot[f]) and np.all(np.isfinite(pos))):
                    raise SimulationError(f"non-finite energy or positions at frame {f}")
                sink(np.asarray(pos, dtype=np.float64), f)
        except Exception as exc:  # OpenMM raises plain Exceptions on NaN
            if isinstance(exc, SimulationError):
                raise
            raise SimulationError(f"OpenMM: {exc}") from exc
        return EngineRun(pot, temp, None, plat, self.version())

    def run_bare(self, spec: SimSpec) -> float:
        t0 = time.perf_counter()
        ctx, integ, _ = self._context(spec)
        integ.step(spec.n_equil_steps + spec.n_prod_steps)
        ctx.getState(getEnergy=True)
        return time.perf_counter() - t0
