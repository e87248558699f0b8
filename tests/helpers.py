"""Shared helpers for the tests: short, real simulations of argon-like states."""

from deepilst.md import Protocol, SimSpec
from deepilst.units import ARGON_C6, ARGON_C12, KB, sigma_epsilon

SIGMA, EPS = sigma_epsilon(ARGON_C12, ARGON_C6)


def argon_spec(t_star: float, rho_star: float, engine: str, n: int = 500, equil_ps: float = 20.0,
               prod_ps: float = 100.0, seed: int = 1, c12: float = ARGON_C12,
               c6: float = ARGON_C6) -> SimSpec:
    s, e = sigma_epsilon(c12, c6)
    return SimSpec(t_star * e / KB, rho_star / s**3, c12, c6, engine=engine, seed=seed,
                   protocol=Protocol(equil_ps=equil_ps, prod_ps=prod_ps, n_particles=n))
