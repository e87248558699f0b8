"""Prediction for many g(r) files, each at its own state, listed in a CSV manifest.

The manifest has a header with the columns ``file,T,rho`` (more columns are ignored; blank lines
and lines starting with ``#`` are skipped); ``file`` is relative to the manifest's directory
(or absolute), ``T`` in K, ``rho`` in nm^-3::

    file,T,rho
    argon_330K.xvg,330,16.5
    runs/ch4.xvg,345,13.7

A bad row (a missing field, a non-positive T) or a bad file (missing, malformed, too short)
gives a result with an ``error`` line for that row; the other rows are predicted all the same.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from deepilst.errors import DeepILSTError, InputError
from deepilst.fileio import write_text_atomic
from deepilst.units import check_positive

#: Columns of the summary CSV (:func:`write_summary`), in order.
SUMMARY_COLUMNS = ("file", "T", "rho", "C12", "C12_std", "C6", "C6_std", "sigma", "epsilon",
                   "T_reduced", "rho_reduced", "in_domain", "error")
MANIFEST_COLUMNS = ("file", "T", "rho")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def read_manifest(csv_path: str | Path) -> list[dict]:
    """Rows of a manifest as ``{"line": n, "file": str, "T": str, "rho": str}`` (text as written).

    Raises
    ------
    InputError
        The manifest cannot be read or lacks one of the columns file, T, rho.
    """
    p = Path(csv_path)
    try:
        text = p.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: cannot read manifest ({getattr(exc, 'strerror', None) or exc})") from None
    lines = [(n, ln) for n, ln in enumerate(text.splitlines(), start=1)
             if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise InputError(f"{p}: empty manifest (expected a header 'file,T,rho' and rows)")
    reader = csv.reader(io.StringIO("\n".join(ln for _, ln in lines)))
    header = [h.strip() for h in next(reader)]
    missing = [c for c in MANIFEST_COLUMNS if c not in header]
    if missing:
        raise InputError(f"{p}, line {lines[0][0]}: manifest header lacks {', '.join(missing)} "
                         f"(expected columns file,T,rho; got {','.join(header)})")
    idx = {c: header.index(c) for c in MANIFEST_COLUMNS}
    rows = []
    for (n, _), fields in zip(lines[1:], reader):
        rows.append({"line": n, **{c: fields[i].strip() if i < len(fields) else ""
                                   for c, i in idx.items()}})
    return rows


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def predict_manifest(csv_path: str | Path, model=None, column: int = 1) -> list[dict]:
    """Predict (C12, C6, ...) for every row of a manifest; one result per row, in order.

    Parameters
    ----------
    csv_path : the manifest (columns file, T [K], rho [nm^-3]; see the module docstring)
    model : a loaded model, a model directory, a shipped name, or None for the default
    column : data column of every file holding g(r) (1 = first after r)

    Returns
    -------
    list of dict
        For a good row the :func:`deepilst.predict.predict_file` result (``file`` as written in
        the manifest); for a bad row or file ``{"file", "T", "rho", "line", "error"}`` with the
        reason in one line (``T``, ``rho`` None when not numbers), so the list is valid JSON.

    Raises
    ------
    InputError
        The manifest itself cannot be read or lacks a column. A missing model raises
        :class:`deepilst.errors.ModelError` before any row is read.
    """
    from deepilst.predict import load_model, predict_file

    rows = read_manifest(csv_path)
    m = model if hasattr(model, "predict") else load_model(model)
    base = Path(csv_path).parent
    out: list[dict] = []
    for row in rows:
        try:
            if not row["file"]:
                raise InputError("no file given")
            t = check_positive("temperature", row["T"] or math.nan)
            rho = check_positive("density", row["rho"] or math.nan)
            d = predict_file(base / row["file"], t, rho, m, column)
            d["file"] = row["file"]
        except DeepILSTError as exc:
            d = {"file": row["file"], "T": _number(row["T"]), "rho": _number(row["rho"]),
                 "line": row["line"], "error": f"line {row['line']}: {_one_line(exc)}"}
        out.append(d)
    return out


def _cell(value) -> str:
    if value is None:
        return ""
    if type(value).__name__ in ("bool", "bool_"):  # Python or numpy
        return "true" if value else "false"
    if isinstance(value, float) or type(value).__name__.startswith("float"):
        return "" if math.isnan(value) else f"{float(value):.8g}"
    return str(value)


def summary_csv(results: list[dict]) -> str:
    """Results of :func:`predict_manifest` as CSV text with :data:`SUMMARY_COLUMNS` (units as in
    JSON: K, nm^-3, kJ mol^-1 nm^12, kJ mol^-1 nm^6, nm, kJ/mol); empty cells where a row
    failed, ``error`` empty where it did not."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(SUMMARY_COLUMNS)
    for d in results:
        w.writerow([_cell(d.get(c, "")) for c in SUMMARY_COLUMNS])
    return buf.getvalue()


def write_summary(results: list[dict], path: str | Path) -> Path:
    """Write :func:`summary_csv` to ``path`` atomically; returns the path."""
    write_text_atomic(path, summary_csv(results))
    return Path(path)
