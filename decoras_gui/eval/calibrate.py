"""Choosing a model's detection threshold on validation fields (never the test seeds).

The networks run once per field (detections below the default SNR floor of 2 are never
reported); the characterization is repeated for each candidate
threshold, and the threshold that maximises completeness x purity above SNR 5 while
keeping purity >= ``min_purity`` above SNR 5.5 is written into the model card (the purity
of all detections is recorded beside it).
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable

import numpy as np

from ..core.image import load_fits
from ..ml.characterize import CharacterizeSettings, characterize
from ..ml.inference import run_networks
from ..ml.registry import DecorasModel
from ..sim.field import simulate_field
from ..sim.output import write_field
from .evaluate import MethodRecords, score_field, sim_config_for, summarise

#: Validation fields use seeds (data_seed, VALIDATION_OFFSET + i): far beyond any training index.
VALIDATION_OFFSET = 10**9
THRESHOLDS = tuple(np.round(np.arange(0.10, 0.951, 0.05), 2))


def calibrate_threshold(model: DecorasModel, data_seed: int, n_fields: int = 80, min_purity: float = 0.97,
                        progress: Callable[[int, int], None] | None = None) -> dict:
    """Sweep thresholds on validation fields; returns the choice and the figures behind it."""
    cfg = sim_config_for(model)
    records = {t: MethodRecords() for t in THRESHOLDS}
    with tempfile.TemporaryDirectory(prefix="decoras-cal-") as tmp:
        for i in range(n_fields):
            f = simulate_field((data_seed, VALIDATION_OFFSET + i), cfg)
            image = load_fits(write_field(f, tmp, "val")[0])
            rms_map = image.rms_map()
            beam = image.beam_pixels
            maps = run_networks(image.data, image.rms, model, beam_minor_px=beam[1] if beam else None, device="cpu")
            for t in THRESHOLDS:
                cat = characterize(image, maps, settings=CharacterizeSettings(threshold=float(t)), rms_map=rms_map)
                score_field(f.truth, cat, image, rms_map, cfg.cell_mas, f.beam, records[t])
            if progress:
                progress(i + 1, n_fields)
    table = {}
    for t, rec in records.items():
        s = summarise(rec)
        ts, tf = np.asarray(rec.truth_snr), np.asarray(rec.truth_found)
        ds, dt = np.asarray(rec.det_snr), np.asarray(rec.det_true)
        comp = float(tf[ts >= 5].mean()) if (ts >= 5).any() else float("nan")
        pur = float(dt[ds >= 5].mean()) if (ds >= 5).any() else float("nan")
        table[float(t)] = {"completeness_snr_ge_5": comp, "purity_snr_ge_5": pur,
                           "purity_all": s["purity_all"], "purity_snr_ge_5.5": s["purity_snr_ge_5.5"],
                           "false_per_empty_field": s["false_per_empty_field"]}
    ok = [t for t, v in table.items() if v["purity_snr_ge_5.5"] >= min_purity]
    pool = ok or list(table)

    def score(t: float) -> float:
        v = table[t]
        value = v["completeness_snr_ge_5"] * v["purity_snr_ge_5"]
        return value if math.isfinite(value) else -1.0

    best = max(pool, key=score)
    return {"threshold": best, "min_purity": min_purity, "n_fields": n_fields,
            "seeds": f"({data_seed}, {VALIDATION_OFFSET}..{VALIDATION_OFFSET + n_fields - 1})", "sweep": table}
