"""The errors deepilst raises on purpose: one base class, one module (imports nothing).

Every error a user can cause (a bad file, an impossible parameter, a missing engine, a failed
simulation) is a :class:`DeepILSTError`; the command line turns exactly these into a one-line
``error:`` and exit status 2. Anything else is a bug and keeps its traceback. Messages name the
parameter or file and the fix, never a command-line flag: the same checks serve Python users.

Each class also derives from the built-in exception Python users would expect (ValueError for
bad input, RuntimeError for failed runs), so ``except ValueError`` keeps working.
"""

from __future__ import annotations


class DeepILSTError(Exception):
    """Base of every error deepilst raises deliberately."""


class ParameterError(DeepILSTError, ValueError):
    """A physical or configuration parameter is invalid (non-finite, non-positive, unknown)."""


class InputError(DeepILSTError, ValueError):
    """A user's input file cannot be used; the message names the file and what was expected."""


class DatasetError(DeepILSTError, ValueError):
    """A dataset file is missing, malformed or of an unknown schema."""


class ModelError(DeepILSTError, ValueError):
    """A model directory is missing or malformed, or a model is used before it is trained."""


class EngineUnavailable(DeepILSTError, RuntimeError):
    """The requested MD engine is not installed on this machine."""


class SimulationError(DeepILSTError, RuntimeError):
    """A simulation failed (engine error, non-finite values, blown-up or frozen system)."""


#: Kept for code written against deepilst <= 0.1 (``deepilst.rdfio.RDFInputError``).
RDFInputError = InputError
