"""GROMACS-style .xvg files: one writer, one tolerant reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deepilst.fileio import write_text_atomic


def write_xvg(path: str | Path, x: np.ndarray, columns: list[np.ndarray], legends: list[str],
              title: str = "", xlabel: str = "r (nm)", ylabel: str = "g(r)",
              comments: list[str] | None = None) -> None:
    """Write x and data columns as an .xvg (xmgrace) file, atomically. NaN rows are dropped."""
    lines = [f"# {c}" for c in (comments or [])]
    lines += [f'@    title "{title}"', f'@    xaxis  label "{xlabel}"',
              f'@    yaxis  label "{ylabel}"', "@TYPE xy"]
    lines += [f'@ s{i} legend "{leg}"' for i, leg in enumerate(legends)]
    data = np.column_stack([np.asarray(x, dtype=float)] + [np.asarray(c, dtype=float) for c in columns])
    for row in data:
        if np.all(np.isfinite(row)):
            lines.append(" ".join(f"{v:.6g}" if i else f"{v:.5f}" for i, v in enumerate(row)))
    write_text_atomic(path, "\n".join(lines) + "\n")


def legend_of(line: str) -> str | None:
    """The legend of an xmgrace data set line ``@ sN legend "name"``, else None."""
    parts = line.split()
    if len(parts) > 2 and parts[0] == "@" and parts[1].startswith("s") and parts[2] == "legend":
        return line.split('"')[1] if '"' in line else ""
    return None


def scan(text: str, comments: tuple[str, ...] = ("#", "&")) -> tuple[list[tuple[int, str]], list[str]]:
    """Split xvg-like text into data lines (line number, stripped text) and data-set legends;
    blank lines, '@' markup and lines starting with ``comments`` are not data."""
    lines, legends = [], []
    for ln, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if not s or s.startswith(comments):
            continue
        if s.startswith("@"):
            leg = legend_of(s)
            if leg is not None:
                legends.append(leg)
            continue
        lines.append((ln, s))
    return lines, legends


def read_xvg(path: str | Path) -> tuple[np.ndarray, list[str]]:
    """Numeric rows of an .xvg file (array of shape (n, n_cols)) and its data-set legends.

    Lines starting with '#', '@' or '&' are header/markup; every other non-blank line must be
    numbers, all rows with the same number of columns.
    """
    p = Path(path)
    rows = []
    lines, legends = scan(p.read_text())
    for ln, s in lines:
        try:
            vals = [float(v) for v in s.split()]
        except ValueError:
            raise ValueError(f"{p}, line {ln}: expected numbers, got {s[:40]!r}") from None
        if rows and len(vals) != len(rows[0]):
            raise ValueError(f"{p}, line {ln}: {len(vals)} columns, expected {len(rows[0])}")
        rows.append(vals)
    if not rows:
        raise ValueError(f"{p}: no data rows")
    return np.array(rows), legends
