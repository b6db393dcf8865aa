"""benchmarks/deblend_compare.py: every method on the same GalSim blends, overall and by bin."""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

import deblend_compare  # noqa: E402


def test_deblend_compare_prints_and_writes_every_methods_figures(tmp_path, capsys):
    out = tmp_path / "deblend.json"
    assert deblend_compare.main(["--blends", "12", "--seed", "5", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "12 ood blends" in text and "photutils" in text and "separation (FWHM) 2-3" in text
    figures = json.loads(out.read_text())["methods"]["photutils"]
    assert figures["n_blends"] == 12 and 0.0 <= figures["split_fraction"] <= 1.0
    assert sum(b["n_blends"] for b in figures["by_separation"].values()) == 12
    assert figures["seconds_per_blend"] > 0
