"""The "real users' RDFs" table (issue 13, section 1), rerun: every row fixed or refused.

    python benchmarks/real_inputs.py [--md]

Each row feeds `deepilst predict` (the installed command, as a user runs it) the input that
went wrong before: other tools' files at several bin widths, garbage (self pairs, Angstrom,
wrong density, unnormalised, coordination numbers, Celsius, solids), r ranges, Table 1's edge
temperatures; the snippets are checked with `gmx grompp` and OpenMM; with ``--md`` a validation
run with the true and with 30 %-wrong parameters (under ``flock`` on the MD lock). Rows measured
by their own benchmarks (input noise, cutoff conventions, bin widths over many states) are
collated from ``benchmarks/results/``. Writes ``benchmarks/results/real_inputs.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
FIX = ROOT / "tests" / "data"
LOCK = os.environ.get("DEEPILST_MD_LOCK", str(Path(tempfile.gettempdir()) / "deepilst-md.lock"))
ARGON = (9.70e-6, 6.22e-3)
#: temporary directories whose names are cut from recorded messages (no machine paths)
SCRUB: list[str] = []


def cli(*args: str, md: bool = False) -> dict:
    """Run ``deepilst ARGS`` like a user; exit status, first stderr line, JSON if printed."""
    exe = Path(sys.executable).parent / "deepilst"
    cmd = [str(exe) if exe.exists() else sys.executable, *([] if exe.exists() else
                                                          ["-m", "deepilst.cli"]), *args]
    if md and shutil.which("flock"):
        cmd = ["flock", LOCK, *cmd]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    err = (p.stderr.strip().splitlines() or [""])[-1]
    for d in SCRUB:
        err = err.replace(d + os.sep, "")
    out: dict = {"exit": p.returncode, "stderr": err}
    try:
        out["json"] = json.loads(p.stdout)
    except ValueError:
        pass
    return out


def _write(path: Path, r: np.ndarray, g: np.ndarray, xlabel: str = "r (nm)") -> Path:
    from deepilst.xvg import write_xvg

    write_xvg(path, r, [g], ["g(r)"], xlabel=xlabel)
    return path


def _pred_row(name: str, res: dict, truth: tuple[float, float] | None = None) -> dict:
    row = {"row": name, "exit": res["exit"]}
    d = res.get("json")
    if res["exit"] != 0 or d is None:
        row["error"] = res["stderr"]
        return row
    row.update(in_domain=d["in_domain"], warnings=d["warnings"],
               phase=d["domain"].get("phase"), r_max_read=d["domain"].get("r_max_read"),
               coverage=d["domain"].get("coverage"), bins=d.get("input_bins"))
    if truth is not None:
        row["C12_err_pct"] = 100 * (d["C12"] / truth[0] - 1)
        row["C6_err_pct"] = 100 * (d["C6"] / truth[1] - 1)
        row["truth_in_95"] = [bool(d[k + "_95"][0] <= t <= d[k + "_95"][1])
                              for k, t in zip(("C12", "C6"), truth)]
    return row


def bin_width_rows() -> list[dict]:
    """Row 1: one argon trajectory (345 K, 13.7 nm^-3) as gmx rdf and MDAnalysis wrote it."""
    from deepilst.predict import load_model
    from deepilst.rdfio import read_rdf, to_model_grid

    m = load_model("ensemble")
    rows = []
    for f, unit in (("argon_gmx_rdf_bin0.002.xvg", None), ("argon_gmx_rdf_bin0.005.xvg", None),
                    ("argon_gmx_rdf_bin0.02.xvg", None), ("argon_mda_rdf_bin0.01.dat", "A"),
                    ("argon_exact_model_grid.xvg", None)):
        args = ["predict", str(FIX / f), "-T", "345", "-d", "13.7", "--format", "json"]
        row = _pred_row(f"bin width: {f}", cli(*args, *(["--r-unit", unit] if unit else [])), ARGON)
        r, g = read_rdf(FIX / f, r_unit=unit or "nm")  # the old path: linear interpolation
        old = m.predict(to_model_grid(r, g, grid=m.r_grid, r_max=min(1.5, r[-1]))[None], 345.0, 13.7)
        row["old_path_C12_err_pct"] = float(100 * (old["C12"][0] / ARGON[0] - 1))
        row["old_path_C6_err_pct"] = float(100 * (old["C6"][0] / ARGON[1] - 1))
        rows.append(row)
    return rows


def garbage_rows(work: Path) -> list[dict]:
    """Row 3: the inputs that gave confident numbers before."""
    from deepilst.dataset import export_xvg, get_sample
    from deepilst.rdfio import read_rdf

    src = export_xvg(DATA / "v1_argon.h5", 60, work / "argon.xvg")  # 345 K, 13.7 nm^-3
    s = get_sample(DATA / "v1_argon.h5", 60)
    T, rho = s.temperature, s.density
    r, g = read_rdf(src)
    dr = r[1] - r[0]
    shell = 4 * np.pi * r**2 * dr
    mda = np.loadtxt(FIX / "argon_mda_rdf_bin0.01.dat")  # Angstrom, exclusion_block=(1, 1)
    spike = mda.copy()
    v1 = 4 / 3 * np.pi * (0.1 * mda[0, 0] * 2) ** 3  # first bin [0, 0.01 nm], nm^3
    spike[0, 1] += 1.0 / (rho * v1)  # the self pairs MDAnalysis counts without exclusion_block
    np.savetxt(work / "self_pairs.dat", spike)
    cases = {
        "self-pair spike (MDAnalysis, no exclusion_block)": (work / "self_pairs.dat", T, rho,
                                                             ["--r-unit", "A"]),
        "r in Angstrom, read as nm": (_write(work / "angstrom.xvg", 10 * r, g, "r"), T, rho, []),
        "density 0.0137 (1e-3 x)": (src, T, rho / 1e3, []),
        "density 13700 (1e3 x)": (src, T, rho * 1e3, []),
        "gmx rdf -norm none (pair counts)": (_write(work / "norm_none.xvg", r, g * rho * shell), T,
                                              rho, []),
        "gmx rdf -norm number_density": (_write(work / "norm_density.xvg", r, g * rho), T, rho, []),
        "gmx rdf -cn (coordination number)": (_write(work / "cn.xvg", r,
                                                     np.cumsum(g * rho * shell)), T, rho, []),
        "T in Celsius (71.85 for 345 K)": (src, T - 273.15, rho, []),
    }
    rows = []
    for name, (f, t, d, extra) in cases.items():
        rows.append(_pred_row(name, cli("predict", str(f), "-T", f"{t:.6g}", "-d", f"{d:.6g}",
                                        "--format", "json", *extra)))
    return rows


def solid_rows(work: Path) -> dict:
    """Row 3, solids: the solid and two-phase test states, one by one through the CLI."""
    from deepilst.dataset import export_xvg, get_sample, open_dataset

    with open_dataset(DATA / "v1_test.h5") as h:
        phase = np.array([x.decode() for x in h["sims"]["phase"][:]])
    out = {"solid": [], "two-phase": []}
    for i in np.flatnonzero(phase != "fluid"):
        s = get_sample(DATA / "v1_test.h5", int(i))
        f = export_xvg(DATA / "v1_test.h5", int(i), work / f"test_{i}.xvg")
        res = cli("predict", str(f), "-T", f"{s.temperature:.8g}", "-d", f"{s.density:.8g}",
                  "--format", "json", "--strict")
        d = res.get("json") or {}
        out[phase[i]].append({"index": int(i), "exit": res["exit"],
                              "in_domain": d.get("in_domain"),
                              "phase_check": (d.get("domain") or {}).get("phase"),
                              "C6_err_pct": 100 * (d["C6"] / s.c6 - 1) if "C6" in d else None})
    return {k: {"n": len(v), "flagged": sum(1 for x in v if x["in_domain"] is False
                                            or x["exit"] != 0), "states": v}
            for k, v in out.items()}


def range_rows(work: Path) -> list[dict]:
    """Row 4: a dense RDF cut at 1.2 nm; a dilute one reaching 3.9 nm."""
    from deepilst.dataset import expand_g, get_sample, open_dataset
    from deepilst.rdf import model_grid

    rows = []
    i = 63  # argon grid: 345 K, 17.12 nm^-3
    s = get_sample(DATA / "v1_argon.h5", i)
    keep = s.r <= 1.2 + 1e-9
    f = _write(work / "dense_to_1.2nm.xvg", s.r[keep], s.g[keep])
    rows.append(_pred_row(f"rho {s.density:.2f}, file to 1.2 nm", cli(
        "predict", str(f), "-T", f"{s.temperature:.8g}", "-d", f"{s.density:.8g}", "--format",
        "json"), (s.c12, s.c6)))
    with open_dataset(DATA / "v1_transfer.h5") as h:
        sims = h["sims"]
        j = int(np.argmin(np.abs(sims["rho"][:] - 2.0)))
        fine = sims["fine_g"][j]
        fine_dr = float(h["fine_dr"][()])
        T, rho = float(sims["T"][j]), float(sims["rho"][j])
        c12, c6, sig = (float(sims[k][j]) for k in ("C12", "C6", "sigma"))
    n = int(np.sum(np.isfinite(fine)))
    rr = model_grid(r_max=np.floor((n * fine_dr - 0.003) / 0.005) * 0.005)
    g, _ = expand_g(fine, fine_dr, sig, sig, rr)
    f = _write(work / "dilute_to_3.9nm.xvg", rr, g)
    rows.append(_pred_row(f"rho {rho:.2f}, file to {rr[-1]:.2f} nm", cli(
        "predict", str(f), "-T", f"{T:.8g}", "-d", f"{rho:.8g}", "--format", "json"), (c12, c6)))
    return rows


def edge_rows() -> list[dict]:
    """Row 6: Table 1's own edge temperatures are inside the training box."""
    from deepilst.dataset import export_xvg, get_sample

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        SCRUB.append(tmp)
        for i in (0, 120):  # 290 K, 8 nm^-3 and 400 K, 19.4 nm^-3
            s = get_sample(DATA / "v1_argon.h5", i)
            f = export_xvg(DATA / "v1_argon.h5", i, Path(tmp) / f"edge_{i}.xvg")
            row = _pred_row(f"T = {s.temperature:g} K, rho = {s.density:g} (Table 1 edge)", cli(
                "predict", str(f), "-T", f"{s.temperature:g}", "-d", f"{s.density:g}",
                "--format", "json"), ARGON)
            row["outside_box_warning"] = any("training box" in w for w in row.get("warnings", []))
            rows.append(row)
    return rows


def snippet_row() -> dict:
    """Row 5: the snippets' tests (real `gmx grompp` on a generated box, OpenMM createSystem)."""
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        str(ROOT / "tests" / "test_snippets.py")], capture_output=True, text=True)
    return {"row": "snippets run as written (tests/test_snippets.py)", "exit": p.returncode,
            "summary": (p.stdout.strip().splitlines() or [""])[-1]}


def validate_rows(work: Path) -> list[dict]:
    """Row 6: validate with the true parameters and with 30 %-wrong C12 (short MD)."""
    from deepilst.dataset import export_xvg

    f = export_xvg(DATA / "v1_argon.h5", 60, work / "argon_345.xvg")
    rows = []
    for name, c12 in (("true", ARGON[0]), ("C12 +30 %", 1.3 * ARGON[0])):
        res = cli("validate", str(f), "-T", "345", "-d", "13.7", "--params", f"{c12:.6g},{ARGON[1]}",
                  "--n-particles", "500", "--equil-ps", "10", "--prod-ps", "60", "--seed", "7",
                  "--json", md=True)
        d = res.get("json") or {}
        rows.append({"row": f"validate, {name} parameters", "exit": res["exit"],
                     "verdict": d.get("verdict"), "chi2_per_point": d.get("chi2_per_point"),
                     "eps_rdf": d.get("eps_rdf")})
    return rows


def collated() -> dict:
    out = {}
    for name in ("binning", "binning_1500ps", "binning_s71", "binning_s71_1500ps", "input_noise",
                 "input_noise_b", "cutoff_conventions"):
        p = ROOT / "benchmarks" / "results" / f"{name}.json"
        out[name] = json.loads(p.read_text()).get("summary", "see file") if p.exists() else None
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--md", action="store_true", help="also run the two validation MD runs")
    args = ap.parse_args()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        SCRUB.append(str(work))
        res = {"bin_width": bin_width_rows(), "garbage": garbage_rows(work),
               "solids": solid_rows(work), "r_range": range_rows(work), "edges": edge_rows(),
               "snippets": snippet_row(),
               "validate": validate_rows(work) if args.md else "not run (pass --md)",
               "collated": collated()}
    import deepilst

    res["provenance"] = {"command": "python benchmarks/real_inputs.py " + " ".join(sys.argv[1:]),
                         "deepilst": deepilst.__version__, "python": platform.python_version(),
                         "wall_s": time.perf_counter() - t0,
                         "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    from deepilst.fileio import write_json_atomic

    write_json_atomic(ROOT / "benchmarks" / "results" / "real_inputs.json", res, indent=1)
    for k in ("bin_width", "garbage", "r_range", "edges"):
        for row in res[k]:
            tail = row.get("error") or (f"C12 {row.get('C12_err_pct', float('nan')):+.2f} % C6 "
                                        f"{row.get('C6_err_pct', float('nan')):+.2f} %, in domain "
                                        f"{row.get('in_domain')}; " + " | ".join(row["warnings"]))
            print(f"{row['row'][:55]:55s} exit {row['exit']}  {tail[:110]}")
    for k, v in res["solids"].items():
        print(f"test-set {k}: {v['flagged']} of {v['n']} flagged or refused")
    print(res["snippets"]["row"], res["snippets"]["summary"])
    if isinstance(res["validate"], list):
        for row in res["validate"]:
            print(row)


if __name__ == "__main__":
    main()
