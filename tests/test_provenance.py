"""Committed files hold no absolute path of a machine and no host name (provenance rule)."""

import platform
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PATTERN = re.compile(rb"(?<![A-Za-z0-9_.~-])/(work|home|root|tmp|Users|scratch)/")


def _tracked() -> list[Path]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / p for p in out.decode().split("\0") if p]


def test_no_absolute_machine_paths_in_tracked_files():
    me = Path(__file__).resolve()
    bad = []
    for p in _tracked():
        if p.resolve() == me or not p.is_file():
            continue
        data = p.read_bytes()
        for m in PATTERN.finditer(data):
            line = data[max(0, m.start() - 40):m.end() + 40].decode(errors="replace")
            bad.append(f"{p.relative_to(ROOT)}: ...{line}...")
    assert not bad, "\n".join(bad[:20])


def test_no_host_name_in_tracked_files():
    host = platform.node().encode()
    if len(host) < 6:  # a short name ('ci', 'box') would match ordinary text
        pytest.skip(f"host name {host!r} too short to search for")
    me = Path(__file__).resolve()
    bad = [str(p.relative_to(ROOT)) for p in _tracked()
           if p.is_file() and p.resolve() != me and host in p.read_bytes()]
    assert not bad, bad
