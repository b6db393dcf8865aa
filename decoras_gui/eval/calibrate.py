"""Choosing a model's detection threshold and SNR floor on validation fields (never the test seeds).

The networks run once per field and the characterization once per candidate threshold; the
SNR floor (measured peak / local rms below which a detection is not reported) is a filter on
its result.  Every fourth validation field is empty.  Of the (threshold, floor) pairs that keep
purity >= ``min_purity`` above SNR 5.5, at most ``max_false`` false detections per empty field
and purity >= ``min_purity_all`` over all detections, the one with the highest completeness x
purity above SNR 5 is written into the model card (``threshold``, ``min_snr``).
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

import numpy as np

from ..core.catalogue import Catalogue
from ..core.image import load_fits
from ..ml.characterize import CharacterizeSettings, characterize
from ..ml.inference import run_networks
from ..ml.registry import DecorasModel
from ..sim.field import SimField, simulate_field
from ..sim.output import write_field
from .evaluate import MethodRecords, score_field, sim_config_for, summarise

#: Validation fields use seeds (data_seed, VALIDATION_OFFSET + i): far beyond any training index.
VALIDATION_OFFSET = 10**9
THRESHOLDS = tuple(np.round(np.arange(0.10, 0.951, 0.05), 2))
FLOORS = (2.0, 2.5, 3.0, 3.5, 4.0)


def above_floor(cat: Catalogue, floor: float) -> Catalogue:
    """The sources of ``cat`` whose SNR is not below ``floor`` (NaN SNR kept, as characterize does)."""
    return Catalogue([s for s in cat if not s.snr < floor], cat.meta)


def sweep(model: DecorasModel, fields: Iterable[SimField], thresholds: Sequence[float], floors: Sequence[float],
          progress: Callable[[int], None] | None = None,
          with_psf: bool = True) -> dict[tuple[float, float], MethodRecords]:
    """Score every (threshold, SNR floor) pair on ``fields``: the networks run once per field, the
    characterization once per threshold, the floor filters its result. ``progress(done)`` after each field.
    A model that reads the dirty beam gets each field's (unless ``with_psf`` is False)."""
    records = {(float(t), float(f)): MethodRecords() for t in thresholds for f in floors}
    with tempfile.TemporaryDirectory(prefix="decoras-cal-") as tmp:
        for i, f in enumerate(fields):
            image = load_fits(write_field(f, tmp, "val")[0])
            rms_map = image.rms_map()
            beam = image.beam_pixels
            psf = f.beam_image if model.card.uses_psf and with_psf else None
            maps = run_networks(image.data, image.rms, model, beam_minor_px=beam[1] if beam else None, device="cpu",
                                psf=psf)
            for t in thresholds:
                cat = characterize(image, maps, settings=CharacterizeSettings(threshold=float(t), min_snr=0.0),
                                   rms_map=rms_map)
                for floor in floors:
                    score_field(f.truth, above_floor(cat, floor), image, rms_map, f.config.cell_mas, f.beam,
                                records[(float(t), float(floor))])
            if progress:
                progress(i + 1)
    return records


def calibrate_threshold(model: DecorasModel, data_seed: int, n_fields: int = 80, min_purity: float = 0.97,
                        max_false: float = 0.03, min_purity_all: float = 0.8,
                        progress: Callable[[int, int], None] | None = None) -> dict:
    """Sweep thresholds and SNR floors on validation fields; returns the choice and the figures behind it."""
    cfg = sim_config_for(model)
    empty = replace(cfg, max_sources=0, empty_fraction=1.0)
    fields = (simulate_field((data_seed, VALIDATION_OFFSET + i), empty if i % 4 == 3 else cfg) for i in range(n_fields))
    report = (lambda done: progress(done, n_fields)) if progress else None
    records = sweep(model, fields, THRESHOLDS, FLOORS, progress=report)
    table = {}
    for (t, floor), rec in records.items():
        s = summarise(rec)
        ts, tf = np.asarray(rec.truth_snr), np.asarray(rec.truth_found)
        ds, dt = np.asarray(rec.det_snr), np.asarray(rec.det_true)
        comp = float(tf[ts >= 5].mean()) if (ts >= 5).any() else float("nan")
        pur = float(dt[ds >= 5].mean()) if (ds >= 5).any() else float("nan")
        table[f"{t:.2f}/{floor:.1f}"] = {
            "threshold": t, "min_snr": floor, "completeness_snr_ge_5": comp, "purity_snr_ge_5": pur,
            "completeness_snr_5_7.5": s["completeness_snr_5_7.5"], "purity_all": s["purity_all"],
            "purity_snr_ge_5.5": s["purity_snr_ge_5.5"], "false_per_empty_field": s["false_per_empty_field"]}

    def allowed(v: dict) -> bool:
        return (v["purity_snr_ge_5.5"] >= min_purity and v["false_per_empty_field"] <= max_false
                and v["purity_all"] >= min_purity_all)

    def score(key: str) -> tuple[float, float]:
        v = table[key]
        value = v["completeness_snr_ge_5"] * v["purity_snr_ge_5"]
        return (value if math.isfinite(value) else -1.0, v["purity_all"])

    pool = [k for k, v in table.items() if allowed(v)] or list(table)
    best = table[max(pool, key=score)]
    return {"threshold": best["threshold"], "min_snr": best["min_snr"], "min_purity": min_purity,
            "max_false_per_empty_field": max_false, "min_purity_all": min_purity_all, "n_fields": n_fields,
            "constraints_met": bool(allowed(best)),
            "seeds": f"({data_seed}, {VALIDATION_OFFSET}..{VALIDATION_OFFSET + n_fields - 1}), every 4th empty",
            "sweep": table}
