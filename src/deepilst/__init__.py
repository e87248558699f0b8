"""deepilst: one-shot inverse liquid-state theory for Lennard-Jones fluids."""

__version__ = "0.1.0"
