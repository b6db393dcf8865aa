"""Choosing a model's detection threshold, SNR floor and peak cap on validation fields (never the test seeds).

The networks run once per field and the characterization twice per candidate threshold (the
restored map's peaks and the image fit's); the SNR floor (restored peak / local rms below which
a detection is not reported) and the peak cap (reported peak: the image fit's, at most that
multiple of the restored map's; 0 the restored map's) are applied to its result.  For a model
trained on the observation families the fields are drawn from the out-of-distribution validation
families (:mod:`decoras_gui.sim.observations`; other seeds than every test set), in four kinds:
empty, sparse, typical, and bright and crowded.  Of the (threshold, floor, cap) triples that keep
purity >= ``min_purity`` at SNR >= 5, at most ``max_false`` false detections per empty field,
purity >= ``min_purity_all`` over all detections and peaks within 20 % for at least
``min_peak_of_limit`` of the noise limit, choices closer than one standard error are not told
apart: of those within it of the highest completeness x purity at SNR 5-7.5 (issue 15's
objective), those within it of the best peaks (fraction within 20 % over the noise limit); of
them the one with the highest objective (then purity over all detections, then the higher
threshold) is written into the model card (``threshold``, ``min_snr``, ``peak_cap``).  Where no
triple meets every constraint (a model without its dirty beam), those with few enough false
detections and purity within a standard error of the purest are the pool instead.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

import numpy as np

from ..core.catalogue import Catalogue
from ..core.image import load_fits
from ..ml.characterize import CharacterizeSettings, bounded_peak, characterize
from ..ml.inference import run_networks
from ..ml.registry import DecorasModel
from ..sim.config import SimConfig
from ..sim.field import SimField, simulate_field
from ..sim.output import write_field
from .evaluate import MethodRecords, score_field, sim_config_for, summarise

#: Validation fields use seeds (data_seed, VALIDATION_OFFSET + i): far beyond any training index.
VALIDATION_OFFSET = 10**9
THRESHOLDS = (0.1, 0.15, 0.2, 0.3, 0.5, 0.7)  # a candidate needs a probability of 0.1 at least
FLOORS = (2.0, 2.5, 3.0, 3.5)
PEAK_CAPS = (0.0, 1.2, 1.3, 1.5, 2.0)


def above_floor(cat: Catalogue, floor: float) -> Catalogue:
    """The sources of ``cat`` whose SNR is not below ``floor`` (NaN SNR kept, as characterize does)."""
    return Catalogue([s for s in cat if not s.snr < floor], cat.meta)


def capped(restored: Catalogue, image: Catalogue, cap: float) -> Catalogue:
    """The sources of ``restored`` with the peaks (and so total fluxes and SNRs) of ``image``, the same
    sources characterized with unbounded image-fit peaks, at most ``cap`` x their own (0: as they are)."""
    if cap <= 0:
        return restored
    out = []
    for r, i in zip(restored, image):
        peak = bounded_peak(r.peak_flux, i.peak_flux, cap)
        scale = peak / r.peak_flux if r.peak_flux > 0 else 1.0
        out.append(r.replace(peak_flux=peak, total_flux=r.total_flux * scale, snr=r.snr * scale))
    return Catalogue(out, restored.meta)


def sweep(model: DecorasModel, fields: Iterable[SimField], thresholds: Sequence[float], floors: Sequence[float],
          progress: Callable[[int], None] | None = None, with_psf: bool = True,
          caps: Sequence[float] = (0.0,)) -> dict[tuple[float, float, float], MethodRecords]:
    """Score every (threshold, SNR floor, peak cap) triple on ``fields``: the networks run once per
    field, the characterization once per threshold and peak source, floor and cap filter its result.
    ``progress(done)`` after each field. A model that reads the dirty beam gets each field's (unless
    ``with_psf`` is False)."""
    records = {(float(t), float(f), float(c)): MethodRecords() for t in thresholds for f in floors for c in caps}
    with tempfile.TemporaryDirectory(prefix="decoras-cal-") as tmp:
        for i, f in enumerate(fields):
            image = load_fits(write_field(f, tmp, "val")[0])
            rms_map = image.rms_map()
            beam = image.beam_pixels
            psf = f.beam_image if model.card.reads_psf and with_psf else None
            maps = run_networks(image.data, image.rms, model, beam_minor_px=beam[1] if beam else None, device="cpu",
                                psf=psf)
            for t in thresholds:
                settings = CharacterizeSettings(threshold=float(t), min_snr=0.0)
                cat = characterize(image, maps, settings=settings, rms_map=rms_map)
                from_image = (characterize(image, maps, settings=replace(settings, peak_cap=math.inf), rms_map=rms_map)
                              if any(c > 0 for c in caps) else cat)
                for floor in floors:  # the floor is the restored peak's, as in characterize
                    low = above_floor(cat, floor)
                    kept = {s.source_id for s in low}
                    high = Catalogue([s for s in from_image if s.source_id in kept], cat.meta)
                    for cap in caps:
                        score_field(f.truth, capped(low, high, cap), image, rms_map, f.config.cell_mas, f.beam,
                                    records[(float(t), float(floor), float(cap))])
            if progress:
                progress(i + 1)
    return records


def validation_config(model: DecorasModel) -> SimConfig:
    """The fields a model is calibrated on: the OOD validation families for a model trained on the
    observation families (variety 'wide'), else its own."""
    own = sim_config_for(model)
    return replace(own, variety="ood") if own.variety == "wide" else own


def validation_fields(model: DecorasModel, data_seed: int, n_fields: int) -> Iterable[SimField]:
    """``n_fields`` calibration fields, seeds (data_seed, VALIDATION_OFFSET + i): empty, sparse,
    typical, bright and crowded in turn.  For a model trained on the observation families
    (variety 'wide'), of the out-of-distribution validation families, as the AutoML study's
    objective is; else of the model's own fields."""
    cfg = validation_config(model)
    kinds = (replace(cfg, max_sources=0, empty_fraction=1.0), replace(cfg, max_sources=3, empty_fraction=0.0),
             replace(cfg, max_sources=6, empty_fraction=0.0),
             replace(cfg, max_sources=8, empty_fraction=0.0, snr_range=(3.0, 1000.0), crowded_fraction=0.3))
    for i in range(n_fields):
        yield simulate_field((data_seed, VALIDATION_OFFSET + i), kinds[i % 4])


def calibrate_threshold(model: DecorasModel, data_seed: int, n_fields: int = 240, min_purity: float = 0.97,
                        max_false: float = 0.03, min_purity_all: float = 0.8, min_peak_of_limit: float = 0.95,
                        progress: Callable[[int, int], None] | None = None, with_psf: bool = True) -> dict:
    """Sweep thresholds, SNR floors and peak caps on validation fields (given their dirty beams, unless
    ``with_psf`` is False); the choice and the figures behind it."""
    report = (lambda done: progress(done, n_fields)) if progress else None
    records = sweep(model, validation_fields(model, data_seed, n_fields), THRESHOLDS, FLOORS, progress=report,
                    caps=PEAK_CAPS, with_psf=with_psf)
    table = {}
    for (t, floor, cap), rec in records.items():
        s = summarise(rec)
        n_ge_5 = int(np.sum(np.asarray(rec.det_snr, float) >= 5.0))
        table[f"{t:.2f}/{floor:.1f}/{cap:.1f}"] = {
            "threshold": t, "min_snr": floor, "peak_cap": cap,
            "completeness_snr_5_7.5": s["completeness_snr_5_7.5"], "n_snr_5_7.5": s["completeness"]["5-7.5"]["n"],
            "purity_snr_5_7.5": s["purity"]["5-7.5"]["value"],
            "completeness_x_purity_snr_5_7.5": s["completeness_x_purity"]["5-7.5"],
            "completeness_snr_ge_7.5": s["completeness_snr_ge_7.5"], "purity_snr_ge_5": s["purity_snr_ge_5"],
            "purity_all": s["purity_all"], "false_per_empty_field": s["false_per_empty_field"],
            "peak_within_20pc": s["peak_within_20pc"], "peak_noise_limit": s["peak_within_20pc_noise_limit"],
            "n_matched": s["n_matched"], "n_detections_snr_ge_5": n_ge_5,
            "r_eff_within_20pc_resolved": s["r_eff_within_20pc_resolved"]}

    def allowed(v: dict) -> bool:
        return (v["purity_snr_ge_5"] >= min_purity and v["false_per_empty_field"] <= max_false
                and v["purity_all"] >= min_purity_all
                and v["peak_within_20pc"] >= min_peak_of_limit * v["peak_noise_limit"])

    def objective(v: dict) -> float:
        return _finite(v["completeness_x_purity_snr_5_7.5"])

    def peaks(v: dict) -> float:
        return _finite(v["peak_within_20pc"] / v["peak_noise_limit"])

    pool = [k for k, v in table.items() if allowed(v)]
    if not pool:  # nothing meets them all: few false detections, then the purest (within a standard error)
        pool = [k for k, v in table.items() if v["false_per_empty_field"] <= max_false] or list(table)
        purest = table[max(pool, key=lambda k: _finite(table[k]["purity_snr_ge_5"]))]
        floor_p = purest["purity_snr_ge_5"] - _binomial_se(purest["purity_snr_ge_5"], purest["n_detections_snr_ge_5"])
        pool = [k for k in pool if _finite(table[k]["purity_snr_ge_5"]) >= floor_p] or pool  # NaN: no detections
    # choices closer than one standard error are not told apart by these fields: of those near the
    # best objective, those near the best peaks; of them the best objective, then catalogue purity
    top = table[max(pool, key=lambda k: objective(table[k]))]
    se = _binomial_se(top["completeness_snr_5_7.5"], top["n_snr_5_7.5"])
    near = [k for k in pool if objective(table[k]) >= objective(top) - se]
    sharpest = table[max(near, key=lambda k: peaks(table[k]))]
    se_peaks = _binomial_se(sharpest["peak_within_20pc"], sharpest["n_matched"])
    near = [k for k in near if peaks(table[k]) >= peaks(sharpest) - se_peaks]
    best = table[max(near, key=lambda k: (objective(table[k]), _finite(table[k]["purity_all"]), table[k]["threshold"]))]
    return {"threshold": best["threshold"], "min_snr": best["min_snr"], "peak_cap": best["peak_cap"],
            "min_purity": min_purity, "max_false_per_empty_field": max_false, "min_purity_all": min_purity_all,
            "min_peak_of_noise_limit": min_peak_of_limit, "n_fields": n_fields,
            "constraints_met": bool(allowed(best)), "objective": "completeness x purity at SNR 5-7.5",
            "best_objective": objective(top), "objective_standard_error": se,
            "best_peaks_of_limit": peaks(sharpest), "peaks_standard_error": se_peaks,
            "seeds": f"({data_seed}, {VALIDATION_OFFSET}..{VALIDATION_OFFSET + n_fields - 1}): empty, sparse, typical, "
                     "bright and crowded in turn",
            "family": validation_config(model).variety, "with_psf": with_psf,
            "chosen": best, "sweep": table}


def _binomial_se(fraction: float, n: int) -> float:
    """The standard error of a fraction measured on ``n`` sources (0 where unknown)."""
    if not (math.isfinite(fraction) and n > 0):
        return 0.0
    return math.sqrt(max(fraction * (1.0 - fraction), 0.0) / n)


def _finite(x: float) -> float:
    return x if math.isfinite(x) else -1.0
