"""What every command shares: the error boundary, the command line for provenance, validators."""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from collections.abc import Callable
from typing import NoReturn


class Parser(argparse.ArgumentParser):
    """argparse with deepilst's error style: one ``error:`` line naming the command and the
    fix, exit status 2; numbers such as ``-1e-3`` are values, not options."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")

    def error(self, message: str) -> NoReturn:
        print(f"error: {self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def fail(msg: str) -> int:
    """Print ``error: msg`` (one line) on stderr; return exit status 2."""
    print("error: " + " ".join(str(msg).split()), file=sys.stderr)
    return 2


def run_handler(handler: Callable[[argparse.Namespace], int | None], args: argparse.Namespace) -> int:
    """Call a command's handler; deliberate errors become one line and exit status 2."""
    from deepilst.errors import DeepILSTError

    try:
        return int(handler(args) or 0)
    except DeepILSTError as exc:
        return fail(str(exc))
    except OSError as exc:
        if exc.filename is None:  # not about a file the user named: a bug or a system problem
            raise
        return fail(f"{exc.filename}: {exc.strerror or exc}")
    except KeyboardInterrupt:
        return fail("interrupted")


def command_line() -> str:
    """The command as typed (``deepilst ...``), for provenance records."""
    return "deepilst " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def add_state(p: argparse.ArgumentParser) -> None:
    """-T/--temperature [K] and -d/--density [nm^-3], both required."""
    p.add_argument("-T", "--temperature", type=float, required=True, help="temperature, K")
    p.add_argument("-d", "--density", type=float, required=True, help="number density, nm^-3")


def add_json_flag(p: argparse.ArgumentParser, dest: str = "json_out") -> None:
    p.add_argument("--json", dest=dest, action="store_true", help="print JSON")


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        v = int(text)
    except ValueError:
        v = 0
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v


def add_max_beads(p: argparse.ArgumentParser) -> None:
    """``--max-beads``: how far a CG run's box may grow to hold a long cutoff."""
    p.add_argument("--max-beads", type=positive_int, default=None,
                   help="run a model whose cutoff reaches half the box of --n-particles beads "
                   "in a larger box, of up to this many beads (default: refuse it and say how "
                   "many it needs)")
