"""Atomic file writes: a temp file in the target directory, fsync, then rename."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

TMP_PREFIX = ".deepilst-tmp-"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path next to ``path``; on success it is renamed onto ``path``,
    on any error it is removed, so ``path`` is either complete or untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def json_safe(obj):
    """``obj`` with NaN and infinities as None and numpy scalars/arrays as Python values, so
    that ``json.dumps`` writes strict JSON (other tools reject ``NaN``)."""
    import math

    import numpy as np

    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_json_atomic(path: str | Path, obj, indent: int | None = None) -> None:
    write_text_atomic(path, json.dumps(obj, indent=indent, allow_nan=True) + "\n")


def write_with(path: str | Path, writer: Callable[[Path], None]) -> None:
    """Call ``writer(tmp_path)`` and atomically move the result onto ``path``."""
    with atomic_path(path) as tmp:
        writer(tmp)


def clean_stale_tmp(directory: str | Path) -> int:
    """Remove temp files left by a killed writer; returns how many were removed."""
    n = 0
    d = Path(directory)
    if d.is_dir():
        for p in d.glob(TMP_PREFIX + "*"):
            p.unlink(missing_ok=True)
            n += 1
    return n


@contextmanager
def held(lock: str | Path | None):
    """Hold an exclusive ``flock`` on the file ``lock`` (None: no lock) while the block runs,
    as ``flock(1)`` does, so that MD jobs sharing a machine take turns."""
    if lock is None:
        yield
        return
    import fcntl

    with open(lock, "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
