"""Acceptance 6: bad input -> one-line error, non-zero exit, nothing written."""

import os
import subprocess
import sys

import pytest


def run(args, env=None, cwd=None):
    e = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "deepilst.cli", *args], capture_output=True,
                          text=True, env=e, cwd=cwd, timeout=300)


def _assert_clean_error(r, out):
    assert r.returncode != 0
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), r.stderr
    assert "Traceback" not in r.stderr
    assert not out.exists()


ARGON = ["--c12", "9.7e-6", "--c6", "6.22e-3"]


@pytest.mark.parametrize("field,args", [
    ("T", ["-T", "-5", "-d", "13.7", *ARGON]),
    ("T", ["-T", "0", "-d", "13.7", *ARGON]),
    ("T", ["-T", "nan", "-d", "13.7", *ARGON]),
    ("rho", ["-T", "300", "-d", "-1", *ARGON]),
    ("rho", ["-T", "300", "-d", "0", *ARGON]),
    ("C12", ["-T", "300", "-d", "13.7", "--c12", "0", "--c6", "6.22e-3"]),
    ("C12", ["-T", "300", "-d", "13.7", "--c12", "nan", "--c6", "6.22e-3"]),
    ("C6", ["-T", "300", "-d", "13.7", "--c12", "9.7e-6", "--c6", "-1e-3"]),
])
def test_simulate_rejects_bad_state(tmp_path, field, args):
    out = tmp_path / "g.xvg"
    r = run(["simulate", *args, "--xvg", str(out)])
    _assert_clean_error(r, out)
    assert field in r.stderr


def test_unknown_design(tmp_path):
    out = tmp_path / "run"
    r = run(["generate", "--design", "nope", "--n", "2", "--out", str(out)])
    _assert_clean_error(r, out)
    assert "design" in r.stderr


def test_unreadable_grid(tmp_path):
    out = tmp_path / "run"
    r = run(["generate", "--design", "grid", "--grid", str(tmp_path / "missing.csv"), "--out",
             str(out)])
    _assert_clean_error(r, out)
    assert "missing.csv" in r.stderr


def test_bad_grid_values(tmp_path):
    g = tmp_path / "g.csv"
    g.write_text("T,rho,C12,C6\n300,nan,9.7e-6,6.22e-3\n")
    out = tmp_path / "run"
    r = run(["generate", "--design", "grid", "--grid", str(g), "--out", str(out)])
    _assert_clean_error(r, out)
    assert "line 2" in r.stderr


def test_gromacs_requested_but_absent(tmp_path):
    out = tmp_path / "run"
    r = run(["generate", "--design", "paper", "--n", "2", "--out", str(out), "--engine",
             "gromacs"], env={"DEEPILST_GMX": "/nonexistent/gmx"})
    _assert_clean_error(r, out)
    assert "gmx" in r.stderr


def test_dataset_commands_on_bad_files(tmp_path):
    bad = tmp_path / "x.h5"
    bad.write_text("not hdf5")
    r = run(["dataset", "info", str(bad)])
    assert r.returncode != 0 and r.stderr.startswith("error:") and "Traceback" not in r.stderr
    out = tmp_path / "empty.h5"
    r = run(["dataset", "build", str(tmp_path), "-o", str(out)])
    _assert_clean_error(r, out)


def test_help_is_fast():
    r = run(["--help"])
    assert r.returncode == 0 and "generate" in r.stdout
    # heavy packages are not imported by --help
    code = ("import sys; from deepilst.cli import main; "
            "print(any(m in sys.modules for m in ('openmm', 'numba', 'torch', 'h5py')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False"
