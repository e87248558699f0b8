"""Reading the records of a run directory (``systems/*.json``, written by ``generate``)."""

from __future__ import annotations

import json
from pathlib import Path

from deepilst.errors import DatasetError


def record_value(rec: dict, dotted: str):
    """The value at a dotted path of a record (``"energy.mean"``); ``"a|b"`` tries the
    spellings in turn (records written by older versions keep their names)."""
    alternatives = dotted.split("|")
    for i, path in enumerate(alternatives):
        v = rec
        try:
            for part in path.split("."):
                v = v[part]
        except KeyError:
            if i == len(alternatives) - 1:
                raise
            continue
        return v
    raise KeyError(dotted)


def load_records(run_dir: str | Path) -> list[dict]:
    """All records of a run directory (``systems/*.json``), sorted by design, design index,
    then key.

    Raises
    ------
    DatasetError
        The directory holds no finished system, or a record is not valid JSON.
    """
    d = Path(run_dir)
    files = sorted((d / "systems").glob("*.json")) if (d / "systems").is_dir() else []
    if not files:
        raise DatasetError(f"{d}: no finished systems (expected {d}/systems/*.json); "
                           "run `deepilst generate --out` into it first")
    recs = []
    for f in files:
        try:
            recs.append(json.loads(f.read_text()))
        except ValueError as exc:
            raise DatasetError(f"{f}: not a valid record ({exc}); delete it and rerun generate "
                               "(it resumes)") from None

    def order(r):
        t = r["spec"].get("tags", {})
        return (t.get("design", ""), int(t.get("index", 0)), r["key"])

    return sorted(recs, key=order)
