"""The final numbers (benchmarks/results/fresh_sets.json) belong to the committed fresh sets
and the shipped models: retraining a model or redrawing a set without re-scoring fails here."""

import json
import sys
from pathlib import Path

import pytest

from deepilst.dataset.schema import file_sha256

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "benchmarks" / "results" / "fresh_sets.json"
MODELS = ROOT / "src" / "deepilst" / "shipped_models"


@pytest.mark.skipif(not RESULT.exists(), reason="fresh sets not scored yet")
def test_final_numbers_are_of_the_committed_sets_and_shipped_models():
    text = RESULT.read_text()
    res = json.loads(text)
    assert '"/' not in text  # no absolute path of the machine that scored them
    for d in res["provenance"]["datasets"].values():
        assert file_sha256(ROOT / d["file"]) == d["sha256"], d["file"]
    for name, m in res["provenance"]["models"].items():
        assert file_sha256(MODELS / name / "weights.safetensors") == m["weights_sha256"], name
    for s in ("fresh_test", "fresh_transfer"):
        assert set(res["results"][s]) == {"ensemble", "paper", "fit"}
        for m in res["results"][s].values():
            assert m["C12"]["mape"] > 0 and m["C6"]["mape"] > 0


def test_a_second_look_is_refused(tmp_path, monkeypatch, capsys):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import fresh_sets

    out = tmp_path / "fresh_sets.json"
    out.write_text("{}")
    monkeypatch.setattr(fresh_sets, "OUT", out)
    monkeypatch.setattr(fresh_sets, "ROOT", tmp_path)
    assert fresh_sets.main([]) == 2
    assert "already evaluated once" in capsys.readouterr().err


def test_table_puts_the_papers_mape_first():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import fresh_sets

    row = {"n": 3, "in_domain_fraction": 0.5,
           "C12": {"mape": 1.0, "mape_fluid": None, "mape_in_domain": 2.0, "mean_abs_pct": 3.0,
                   "coverage95": 0.9},
           "C6": {"mape": 4.0, "mape_fluid": 5.0, "mape_in_domain": 6.0, "mean_abs_pct": 7.0,
                  "coverage95": 0.8}}
    md = fresh_sets.table({"s": {"m": row}}).splitlines()
    assert "**MAPE C12 (all)**" in md[0]
    assert md[2] == ("| s | m | 3 | **1.00 %** | **4.00 %** | n/a | 5.00 % | 2.00 % | 6.00 % "
                     "| 3.00 % | 7.00 % | 0.90 / 0.80 | 0.50 |")
