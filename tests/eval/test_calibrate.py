"""Choosing the threshold, SNR floor and peak cap on validation fields with the bundled model."""

from __future__ import annotations

import math

from decoras_gui.core.catalogue import Catalogue, Source
from decoras_gui.eval.calibrate import (
    FLOORS,
    PEAK_CAPS,
    THRESHOLDS,
    above_floor,
    calibrate_threshold,
    capped,
    validation_fields,
)
from decoras_gui.ml.registry import load_model


def test_calibration_picks_the_best_allowed_triple_from_the_sweep():
    choice = calibrate_threshold(load_model(), data_seed=1, n_fields=8)
    assert choice["threshold"] in THRESHOLDS and choice["min_snr"] in FLOORS and choice["peak_cap"] in PEAK_CAPS
    assert len(choice["sweep"]) == len(THRESHOLDS) * len(FLOORS) * len(PEAK_CAPS)
    best = choice["sweep"][f"{choice['threshold']:.2f}/{choice['min_snr']:.1f}/{choice['peak_cap']:.1f}"]
    assert best == choice["chosen"]

    def allowed(v):
        return (v["purity_snr_ge_5"] >= 0.97 and v["false_per_empty_field"] <= 0.03 and v["purity_all"] >= 0.8
                and v["peak_within_20pc"] >= 0.95 * v["peak_noise_limit"])

    pool = [v for v in choice["sweep"].values() if allowed(v)]
    assert choice["constraints_met"] == bool(pool) == allowed(best)
    if not pool:  # the fallback: few false detections, purity within a standard error of the purest
        pool = [v for v in choice["sweep"].values() if v["false_per_empty_field"] <= 0.03]
        purest = max(pool, key=lambda v: v["purity_snr_ge_5"])
        p, n = purest["purity_snr_ge_5"], purest["n_detections_snr_ge_5"]
        pool = [v for v in pool if v["purity_snr_ge_5"] >= p - math.sqrt(p * (1 - p) / n)]
    assert best in pool
    cxp = [v["completeness_x_purity_snr_5_7.5"] for v in pool]
    top = max(x for x in cxp if math.isfinite(x))
    assert choice["best_objective"] == top
    # within one standard error of the best objective and of the best peaks, the best objective
    assert best["completeness_x_purity_snr_5_7.5"] >= top - choice["objective_standard_error"]
    near = [v for v in pool if v["completeness_x_purity_snr_5_7.5"] >= top - choice["objective_standard_error"]]
    ratio = [v["peak_within_20pc"] / v["peak_noise_limit"] for v in near]
    assert max(r for r in ratio if math.isfinite(r)) == choice["best_peaks_of_limit"]
    sharp = [v for v, r in zip(near, ratio) if r >= choice["best_peaks_of_limit"] - choice["peaks_standard_error"]]
    assert best in sharp
    assert best["completeness_x_purity_snr_5_7.5"] == max(v["completeness_x_purity_snr_5_7.5"] for v in sharp)


def test_validation_fields_are_of_the_ood_families_in_four_kinds():
    fields = list(validation_fields(load_model(), data_seed=1, n_fields=4))
    assert [f.config.variety for f in fields] == ["ood"] * 4
    assert [len(f.truth) == 0 for f in fields] == [True, False, False, False]
    assert fields[3].config.snr_range == (3.0, 1000.0) and fields[3].config.crowded_fraction == 0.3


def test_capped_peaks_are_bounded_by_the_restored_ones():
    restored = Catalogue([Source(peak_flux=1.0, total_flux=2.0, snr=4.0),
                          Source(peak_flux=2.0, total_flux=2.0, snr=8.0)])
    image = Catalogue([Source(peak_flux=1.6, total_flux=3.2, snr=6.4), Source(peak_flux=1.8, total_flux=1.8, snr=7.2)])
    out = capped(restored, image, 1.3)
    assert [s.peak_flux for s in out] == [1.3, 1.8]
    assert math.isclose(out[0].total_flux, 2.6) and math.isclose(out[0].snr, 5.2)
    assert capped(restored, image, 0.0) is restored


def test_above_floor_keeps_unknown_snr():
    cat = Catalogue([Source(snr=1.0), Source(snr=5.0), Source(snr=float("nan"))])
    assert [s.snr for s in above_floor(cat, 2.0)][0] == 5.0
    assert len(above_floor(cat, 2.0)) == 2
