"""Generation: resumable, atomic, robust to SIGKILL, local pool and Dask."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deepilst.md import Protocol
from deepilst.runner import build_specs, generate
from deepilst.sampling import grid_design

PROTO = Protocol(equil_ps=4.0, prod_ps=10.0, n_particles=256, sample_every=100, n_blocks=4)


def _grid(tmp_path: Path, n: int) -> Path:
    f = tmp_path / "grid.csv"
    rows = [f"{300 + 10 * i},{12 + 0.2 * i},9.7e-6,6.22e-3" for i in range(n)]
    f.write_text("T,rho,C12,C6\n" + "\n".join(rows) + "\n")
    return f


def _records(out: Path) -> list[Path]:
    """Finished records (temp files of an interrupted writer start with a dot)."""
    return [f for f in (out / "systems").glob("*.json") if not f.name.startswith(".")]


def _check_dir(out: Path, n: int) -> None:
    files = sorted((out / "systems").glob("*.json"))
    assert len(files) == n
    keys = [json.loads(f.read_text())["key"] for f in files]  # every file is valid JSON
    assert sorted(keys) == sorted(f.stem for f in files)
    assert len(set(keys)) == n
    assert not list(out.rglob(".deepilst-tmp-*"))


def test_generate_and_resume(tmp_path):
    specs = build_specs(grid_design(_grid(tmp_path, 3)), "openmm", PROTO, seed=0)
    out = tmp_path / "run"
    res = generate(specs, out, workers=2, progress=False)
    assert res["done"] == 3 and res["failed"] == 0
    _check_dir(out, 3)
    mtimes = {f: f.stat().st_mtime for f in (out / "systems").glob("*.json")}
    res = generate(specs, out, workers=2, progress=False)
    assert res["already_done"] == 3 and res["done"] == 0
    assert mtimes == {f: f.stat().st_mtime for f in (out / "systems").glob("*.json")}
    assert len((out / "runs.jsonl").read_text().splitlines()) == 2


def test_sigkill_mid_run_then_resume(tmp_path):
    """Acceptance 5: SIGKILL mid-run, rerun: every system ends exactly once, every file valid."""
    grid = _grid(tmp_path, 6)
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "deepilst.cli", "generate", "--design", "grid", "--grid",
           str(grid), "--out", str(out), "--engine", "openmm", "--workers", "2",
           "--equil-ps", "4", "--prod-ps", "10", "--n-particles", "256", "--sample-every", "100"]
    p = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    t0 = time.time()
    while time.time() - t0 < 300:
        if len(_records(out)) >= 1:
            break
        time.sleep(0.05)
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    time.sleep(0.5)
    n_before = len(_records(out))
    assert 1 <= n_before < 6, sorted(p.name for p in (out / "systems").iterdir())
    for f in _records(out):
        json.loads(f.read_text())
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res["done"] + res["already_done"] == 6
    assert res["already_done"] >= n_before
    _check_dir(out, 6)


def test_dask_local_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    specs = build_specs(grid_design(_grid(tmp_path, 2)), "openmm", PROTO, seed=1)
    out = tmp_path / "run"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        res = generate(specs, out, client=client, progress=False)
    assert res["done"] == 2
    _check_dir(out, 2)


def test_atomic_write_permissions_and_cleanup(tmp_path):
    from deepilst.fileio import atomic_path, write_json_atomic

    p = tmp_path / "a.json"
    write_json_atomic(p, {"x": 1})
    assert p.stat().st_mode & 0o044  # readable by others, not 0600 like mkstemp
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "b.json") as tmp:
            tmp.write_text("partial")
            raise RuntimeError("boom")
    assert not (tmp_path / "b.json").exists() and not list(tmp_path.glob(".deepilst-tmp-*"))
