"""Scoring a field against its truth, the summary figures, and a small real evaluation."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from decoras_gui.core.catalogue import Catalogue, Source
from decoras_gui.core.image import load_fits
from decoras_gui.eval.evaluate import (
    MethodRecords,
    evaluate,
    format_report,
    noise_limited_fraction_within,
    score_field,
    summarise,
)
from decoras_gui.sim.config import SimConfig
from decoras_gui.sim.field import simulate_field
from decoras_gui.sim.output import write_field

CONFIG = SimConfig(size=128, schedule="mjive20", dec_deg=30.0, max_sources=5, empty_fraction=0.0,
                   kind_probs=(1.0, 0.0, 0.0, 0.0), snr_range=(20.0, 60.0))


@pytest.fixture(scope="module")
def field_and_image(tmp_path_factory):
    seed = next(s for s in range(999900, 999999) if len(simulate_field((s, 0), CONFIG).truth) >= 2)
    f = simulate_field((seed, 0), CONFIG)
    image = load_fits(write_field(f, tmp_path_factory.mktemp("eval"), "f")[0])
    return f, image


def perfect_catalogue(truth, shift_px: float = 0.0, peak_scale: float = 1.0) -> Catalogue:
    return Catalogue([Source(source_id=i + 1, x=float(r["x"]) + shift_px, y=float(r["y"]),
                             peak_flux=peak_scale * float(r["peak_flux"]), total_flux=float(r["total_flux"]),
                             r_eff=float(r["r_eff"]) / 1000.0, snr=10.0) for i, r in enumerate(truth)])


def test_perfect_catalogue_scores_perfectly(field_and_image):
    f, image = field_and_image
    rec = MethodRecords()
    rms = image.rms_map()
    score_field(f.truth, perfect_catalogue(f.truth), image, rms, CONFIG.cell_mas, f.beam, rec)
    assert all(rec.truth_found) and all(rec.det_true)
    assert np.allclose(rec.pos_err_mas, 0.0) and np.allclose(rec.peak_ratio, 1.0)
    s = summarise(rec)
    assert s["peak_within_20pc"] == 1.0 and s["position_error_mas"]["mean"] == pytest.approx(0.0)


def test_offsets_peaks_and_false_detections_are_counted(field_and_image):
    f, image = field_and_image
    cat = perfect_catalogue(f.truth, shift_px=0.5, peak_scale=1.3)
    far = Source(source_id=99, x=2.0, y=2.0, peak_flux=1.0, snr=6.0)  # nowhere near a true source
    cat = Catalogue([*cat, far])
    rec = MethodRecords()
    score_field(f.truth, cat, image, image.rms_map(), CONFIG.cell_mas, f.beam, rec)
    assert np.allclose(rec.pos_err_mas, 0.5 * CONFIG.cell_mas)
    s = summarise(rec)
    assert s["peak_within_20pc"] == 0.0  # 30 % too bright everywhere
    assert rec.det_true.count(False) == 1
    assert s["purity"]["5-7.5"]["value"] == 0.0 and s["purity"]["5-7.5"]["n"] == 1


def test_summary_bins_and_empty_fields():
    rec = MethodRecords(truth_snr=[4.0, 6.0, 6.5, 8.0, 30.0], truth_found=[False, True, False, True, True],
                        truth_kind=["point"] * 5, det_snr=[6.0, 8.0, 30.0, 2.0], det_true=[True, True, True, False],
                        empty_field_false=[0, 2])
    s = summarise(rec)
    assert s["completeness"]["5-7.5"]["value"] == 0.5 and s["completeness"]["3-5"]["value"] == 0.0
    assert s["completeness_snr_ge_7.5"] == 1.0
    assert s["purity_all"] == 0.75 and s["purity_snr_below_3"]["value"] == 0.0
    assert s["false_per_empty_field"] == 1.0


def test_noise_limit_of_peak_accuracy():
    # an unbiased estimator with a one-rms error lands within 20 % with probability erf(0.2 SNR / sqrt 2)
    assert noise_limited_fraction_within([5.0]) == pytest.approx(0.6827, abs=1e-4)
    assert noise_limited_fraction_within([10.0]) == pytest.approx(0.9545, abs=1e-4)
    assert noise_limited_fraction_within([5.0, 10.0, math.nan]) == pytest.approx((0.6827 + 0.9545) / 2, abs=1e-4)
    assert math.isnan(noise_limited_fraction_within([]))


def test_small_real_evaluation(bundled_model):
    result = evaluate(bundled_model, seed=999950, n_fields=3, sim=replace(CONFIG, size=256), device="cpu")
    report = format_report(result)
    assert set(result["methods"]) == {bundled_model.card.name, "photutils-5sigma"}
    ours = result["methods"][bundled_model.card.name]
    assert ours["n_matched"] > 0 and 0.0 <= ours["peak_within_20pc"] <= 1.0
    assert "noise limit" in report and "photutils-5sigma" in report


def test_peaks_are_compared_on_the_sources_both_methods_found():
    from decoras_gui.eval.evaluate import peak_within_on_common

    a, b = MethodRecords(), MethodRecords()
    # field 0: both found truth rows 0 and 1; field 1: only a found row 0, only b found row 2
    a.matched_key, a.peak_ratio, a.matched_snr = [(0, 0), (0, 1), (1, 0)], [1.05, 0.7, 1.0], [10.0, 6.0, 8.0]
    b.matched_key, b.peak_ratio, b.matched_snr = [(0, 1), (0, 0), (1, 2)], [1.1, 1.5, 0.5], [6.0, 10.0, 4.0]
    common = peak_within_on_common(a, b)
    assert common["n"] == 2
    assert common["a"] == 0.5 and common["b"] == 0.5  # a: 1.05 in, 0.7 out; b: 1.5 out, 1.1 in
    assert common["noise_limit"] == pytest.approx(noise_limited_fraction_within([10.0, 6.0]))
