"""benchmarks/finders.py, compare.py and speed.py run the real PyBDSF, Aegean and DECORAS."""

from __future__ import annotations

import json
import math
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

import compare  # noqa: E402
import finders  # noqa: E402
import speed  # noqa: E402

from decoras_gui.core.image import load_fits  # noqa: E402
from decoras_gui.sim import SimConfig, simulate_field  # noqa: E402
from decoras_gui.sim.output import write_field  # noqa: E402


@pytest.fixture(scope="module")
def one_bright_point(tmp_path_factory):
    """A 256^2 dirty image (mjive20) with one SNR-100 point source off centre, and its truth row."""
    cfg = replace(SimConfig(size=256, dec_deg=40.0), max_sources=1, empty_fraction=0.0, kind_probs=(1, 0, 0, 0),
                  snr_range=(100.0, 100.0))
    field = simulate_field((910999, 0), cfg)
    path = write_field(field, tmp_path_factory.mktemp("bright"), "bright")[0]
    return path, field.truth[0]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["decoras", "pybdsf", "aegean", "photutils"])
def test_each_finder_finds_a_bright_point_where_it_is(name, one_bright_point, bundled_model):
    """Positions through each tool's WCS output, peaks and sizes in our units: the adapters are right."""
    path, truth = one_bright_point
    finder = finders.available(bundled_model)[name]
    cat = finders.with_snr(finder(path), load_fits(path).rms_map())
    assert len(cat) >= 1
    best = min(cat, key=lambda s: math.hypot(s.x - truth["x"], s.y - truth["y"]))
    assert math.hypot(best.x - truth["x"], best.y - truth["y"]) < 1.0  # pixels (1 mas)
    assert best.peak_flux == pytest.approx(float(truth["peak_flux"]), rel=0.2)
    assert best.r_eff * 1000.0 == pytest.approx(float(truth["r_eff"]), rel=0.3)  # arcsec vs mas
    assert best.snr > 20


@pytest.mark.slow
def test_compare_runs_every_finder_and_writes_json_and_plot(tmp_path, capsys):
    assert compare.main(["--scale", "0.02", "--set", "ood", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    result = json.loads((tmp_path / "compare.json").read_text())
    assert set(result["methods"]) >= {"decoras", "pybdsf", "aegean", "photutils"}
    assert result["set"] == "ood"
    assert result["n_fields"] == sum(max(1, round(g.n_fields * 0.02)) for g in compare.SETS["ood"])
    for figures in result["methods"].values():
        assert figures["seconds_per_megapixel"] > 0
        assert 0.0 <= figures["completeness_snr_ge_7.5"] <= 1.0
    assert "targets:" in text and "C x P at SNR 5-7.5" in text and "pybdsf" in text
    png = (tmp_path / "compare.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    # a later run is compared with this one
    assert compare.main(["--scale", "0.02", "--finders", "decoras", "--out", str(tmp_path / "again"),
                         "--previous", str(tmp_path / "compare.json")]) == 0
    assert "change for decoras from the previous run" in capsys.readouterr().out


def test_targets_are_judged_against_the_figures():
    good = {"completeness_x_purity": {compare._bin_label(lo, hi): 0.9 for lo, hi in compare.SNR_BINS},
            "purity_snr_ge_5": 0.99, "completeness_snr_5_7.5": 0.9, "completeness_snr_ge_7.5": 0.99,
            "false_per_empty_field": 0.0, "position_error_mas": {"mean": 0.4}, "peak_within_20pc": 0.97,
            "peak_within_20pc_noise_limit": 0.98, "r_eff_within_20pc_resolved": 0.96,
            "peak_within_20pc_common": {"photutils": {"a": 0.95, "b": 0.9, "noise_limit": 0.97, "n": 50}}}
    weak = {**good, "completeness_x_purity": {k: 0.25 for k in good["completeness_x_purity"]},
            "peak_within_20pc": 0.9}
    assert all(ok for _, ok in compare.verdicts({"decoras": good, "decoras-nopsf": weak, "photutils": weak}))
    worse = {**good, "completeness_snr_5_7.5": 0.7, "peak_within_20pc": 0.8,
             "peak_within_20pc_common": {"photutils": {"a": 0.85, "b": 0.9, "noise_limit": 0.97, "n": 50}}}
    verdict = dict(compare.verdicts({"decoras": worse, "photutils": weak}))
    assert verdict["completeness SNR 5-7.5 >= 0.85"] is False
    assert verdict["peak within 20 % >= photutils', each on the sources it found"] is False
    assert verdict["peak within 20 % >= photutils', on the sources both found"] is False
    assert verdict["C x P at SNR 5-7.5 >= 3x the best classical"] is True
    assert not dict(compare.verdicts({"decoras": good, "pybdsf": good}))["C x P at SNR 5-7.5 >= 3x the best classical"]
    # without photutils in the run, the comparison with it cannot be judged
    assert dict(compare.verdicts({"decoras": {**good, "peak_within_20pc_common": {}}, "pybdsf": weak}))[
        "peak within 20 % >= photutils', on the sources both found"] is None


@pytest.mark.parametrize("name", ["vlba-l-band", "evn-l-band", "vlbi-restored"])
def test_the_cards_ood_figures_print_beside_the_peers(name):
    """Each bundled model's card states OOD figures; the report shows them as columns of their own,
    which never count as a peer in the targets."""
    from decoras_gui.ml.registry import load_model

    card = load_model(name).card
    columns = compare.card_ood(card)
    assert columns and all(k.startswith("card ood") for k in columns)
    family = next(iter(columns.values()))
    weak = {**family, "completeness_x_purity": {k: 0.0 for k in family["completeness_x_purity"]}}
    result = {"model": f"{name} {card.version}", "n_fields": 1, "seed": "1", "failures": {},
              "methods": {"decoras": weak, "pybdsf": weak, "aegean": weak}, "card_ood": columns}
    text = compare.report(result)
    head = next(line for line in text.splitlines() if "pybdsf" in line and "aegean" in line)
    assert all(k in head for k in columns)
    purity = next(line for line in text.splitlines() if line.startswith("purity SNR >= 5.5"))
    assert f"{family['purity_snr_ge_5.5']:.3f}" in purity
    # the card's column is not a peer: against peers of C x P 0, DECORAS's 0 is not 3x better
    assert "C x P at SNR 5-7.5: decoras 0.000, best other 0.000" in text


@pytest.mark.slow
def test_speed_prints_times_memory_and_ratios(tmp_path, capsys):
    out = tmp_path / "speed.json"
    assert speed.main(["--sizes", "256", "--batch", "2", "--timeout", "300", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    figures = json.loads(out.read_text())
    row = figures["sizes"]["256"]
    for name in ("decoras/cpu", "pybdsf/cpu", "aegean/cpu"):
        assert row[name]["seconds"] > 0 and row[name]["peak_rss_mb"] > 50, row[name]
        assert row[name]["n_sources"] >= 1
    assert figures["batch"]["decoras detect (one call)"]["seconds"] > 0
    assert "pybdsf/decoras" in text and "2 images of 512^2" in text
    assert np.isfinite(figures["batch"]["pybdsf (one process)"]["seconds"])


def test_threshold_sweep_prints_a_row_per_pair(capsys):
    import threshold_sweep

    assert threshold_sweep.main(["--n-fields", "2", "--thresholds", "0.2", "0.5", "--floors", "2", "3"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[2:]]
    assert [(float(r[0]), float(r[1])) for r in rows] == [(0.2, 2.0), (0.2, 3.0), (0.5, 2.0), (0.5, 3.0)]
    with pytest.raises(SystemExit, match="reserved"):
        threshold_sweep.main(["--seed", "999001"])


@pytest.mark.skipif(not __import__("shutil").which("wsclean"), reason="WSClean is not installed (scripts/setup)")
def test_restore_compare_runs_the_network_beside_wsclean_on_the_same_visibilities(tmp_path, capsys):
    """benchmarks/restore_compare.py on one small field: every method scored, the JSON and the figure."""
    pytest.importorskip("casacore.tables")
    import restore_compare

    from decoras_gui.ml.train import TrainConfig, train

    config = TrainConfig.from_dict({
        "name": "restore-bench", "task": "restore", "instrument": "LOFAR-HBA", "band": "HBA", "image_kind": "dirty",
        "steps": 40, "batch_size": 2, "crop": 64, "data_seed": 5, "torch_seed": 5, "threads": 1, "workers": 0,
        "log_every": 20, "checkpoint_every": 40, "psf_dropout": 0.25,
        "sim": {"size": 128, "variety": "wide", "image_kind": "dirty", "observations": 2},
        "restoration": {"widths": [8, 16], "convs_per_level": 1, "psf_channel": True}})
    card = train(config, tmp_path / "models", tmp_path / "run", log=lambda s: None).card
    clean = TrainConfig.from_dict({**config.to_dict(), "name": "restored-bench", "image_kind": "restored",
                                   "psf_dropout": 1.0, "sim": {**config.to_dict()["sim"], "image_kind": "restored"}})
    clean_card = train(clean, tmp_path / "models", tmp_path / "run-clean", log=lambda s: None).card
    out = tmp_path / "restore.json"
    assert restore_compare.main(["--model", str(card), "--restored-model", str(clean_card), "--fields", "1",
                                 "--size", "128", "--json", str(out), "--figure", str(tmp_path / "restore.png")]) == 0
    text = capsys.readouterr().out
    figures = json.loads(out.read_text())
    assert set(figures["restored"]) == set(restore_compare.METHODS)
    assert set(figures["maps"]) == {*restore_compare.METHODS, restore_compare.ON_RESTORED}
    assert figures["restored_model"].startswith("restored-bench")  # the CLEANed image's model, on WSClean's
    assert figures["maps"][restore_compare.ON_RESTORED]["n_fields"] == 1
    for method in restore_compare.METHODS:
        assert figures["maps"][method]["n_fields"] == 1 and figures["maps"][method]["seconds_per_field"] > 0
        assert 0.0 <= figures["maps"][method]["sb_error"] < 10.0
    assert "WSClean version" in text and "targets:" in text and "wsclean-multiscale" in text
    png = (tmp_path / "restore.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
