"""Manifest prediction: per-file T and rho, and one bad row does not stop the others."""

import csv
import json
import shutil
from pathlib import Path

import pytest

from deepilst.batch import SUMMARY_COLUMNS, predict_manifest, read_manifest, write_summary
from deepilst.errors import InputError

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "argon_330K_16.5nm3.xvg"


@pytest.fixture
def manifest(tmp_path):
    (tmp_path / "rdfs").mkdir()
    shutil.copy(EXAMPLE, tmp_path / "a.xvg")
    shutil.copy(EXAMPLE, tmp_path / "rdfs" / "b.xvg")
    p = tmp_path / "manifest.csv"
    p.write_text("file,T,rho\n"
                 "a.xvg,330,16.5\n"
                 "# a comment line\n"
                 "rdfs/b.xvg, 330 , 16.5\n"
                 "missing.xvg,330,16.5\n"
                 "a.xvg,-5,16.5\n")
    return p


def test_good_rows_are_predicted_and_bad_ones_report_one_line(manifest, tmp_path):
    res = predict_manifest(manifest)
    assert [d["file"] for d in res] == ["a.xvg", "rdfs/b.xvg", "missing.xvg", "a.xvg"]
    for d in res[:2]:
        assert "error" not in d and d["T"] == 330.0 and d["rho"] == 16.5
        assert d["C12"] == pytest.approx(9.70e-6, rel=0.05) and d["C6"] == pytest.approx(6.22e-3, rel=0.1)
    assert res[0]["C12"] == res[1]["C12"]
    missing, negative = res[2], res[3]
    assert "missing.xvg" in missing["error"] and "line 5" in missing["error"]
    assert "temperature" in negative["error"] and "-5" in negative["error"] and negative["T"] == -5.0
    assert all("\n" not in d["error"] for d in res[2:])

    out = write_summary(res, tmp_path / "out" / "summary.csv")
    rows = list(csv.DictReader(out.open()))
    assert tuple(rows[0]) == SUMMARY_COLUMNS and len(rows) == 4
    assert float(rows[0]["C12"]) == pytest.approx(res[0]["C12"], rel=1e-7)
    assert rows[0]["in_domain"] in ("true", "false") and rows[0]["error"] == ""
    assert rows[2]["C12"] == "" and rows[2]["error"] == missing["error"]
    assert rows[3]["T"] == "-5" and rows[3]["rho"] == "16.5"


def test_malformed_rows_do_not_stop_the_rest(tmp_path):
    shutil.copy(EXAMPLE, tmp_path / "a.xvg")
    (tmp_path / "bad.xvg").write_text("0.0 1\n0.1 1\n0.2 1\n")  # too short a range
    p = tmp_path / "m.csv"
    p.write_text("rho,file,T,note\n16.5,a.xvg,abc,x\n16.5,,330,y\n16.5,bad.xvg,330,z\n,a.xvg,330\n"
                 "16.5,a.xvg,330,ok\n")
    res = predict_manifest(p)
    assert len(res) == 5 and [("error" in d) for d in res] == [True] * 4 + [False]
    assert "temperature" in res[0]["error"] and "no file" in res[1]["error"]
    assert "covers" in res[2]["error"] and "density" in res[3]["error"]
    assert res[0]["T"] is None and res[3]["rho"] is None
    json.dumps(res, allow_nan=False)  # error rows are valid JSON


@pytest.mark.parametrize("text", ["", "file,T\na.xvg,330\n", "# only a comment\n"])
def test_a_bad_manifest_raises_input_error(tmp_path, text):
    p = tmp_path / "m.csv"
    p.write_text(text)
    with pytest.raises(InputError, match="manifest"):
        read_manifest(p)
    with pytest.raises(InputError, match="manifest"):
        read_manifest(tmp_path / "none.csv")
