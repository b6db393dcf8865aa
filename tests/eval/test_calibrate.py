"""Choosing the threshold and SNR floor on validation fields with the bundled model."""

from __future__ import annotations

from decoras_gui.eval.calibrate import FLOORS, THRESHOLDS, above_floor, calibrate_threshold
from decoras_gui.ml.registry import load_model


def test_calibration_picks_an_allowed_pair_from_the_sweep():
    choice = calibrate_threshold(load_model(), data_seed=1, n_fields=4)
    assert choice["threshold"] in [float(t) for t in THRESHOLDS] and choice["min_snr"] in FLOORS
    assert len(choice["sweep"]) == len(THRESHOLDS) * len(FLOORS)
    best = choice["sweep"][f"{choice['threshold']:.2f}/{choice['min_snr']:.1f}"]

    def allowed(v):
        return (v["purity_snr_ge_5.5"] >= 0.97 and v["false_per_empty_field"] <= 0.03
                and v["purity_all"] >= 0.8)

    pool = [v for v in choice["sweep"].values() if allowed(v)]
    assert choice["constraints_met"] == bool(pool) == allowed(best)
    cxp = [v["completeness_snr_ge_5"] * v["purity_snr_ge_5"] for v in (pool or choice["sweep"].values())]
    assert best["completeness_snr_ge_5"] * best["purity_snr_ge_5"] == max(x for x in cxp if x == x)


def test_above_floor_keeps_unknown_snr():
    from decoras_gui.core.catalogue import Catalogue, Source

    cat = Catalogue([Source(snr=1.0), Source(snr=5.0), Source(snr=float("nan"))])
    assert [s.snr for s in above_floor(cat, 2.0)][0] == 5.0
    assert len(above_floor(cat, 2.0)) == 2
