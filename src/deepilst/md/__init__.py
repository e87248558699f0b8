"""MD backends and the driver that turns a state point into a record."""

from deepilst.md.spec import Protocol, SimSpec

__all__ = ["Protocol", "SimSpec", "get_engine", "resolve_engine", "run_simulation", "simulate"]


def __getattr__(name):
    if name in ("get_engine", "resolve_engine", "run_simulation", "simulate"):
        from deepilst.md import simulate as _s

        return getattr(_s, name)
    raise AttributeError(name)
