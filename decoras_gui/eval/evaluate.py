"""`decoras evaluate`: a fresh simulated test set, detection, matching, honest figures.

SNR is measured as an astronomer would: a source's peak over the robust local rms of
the actual dirty image around it (so the sidelobes of bright neighbours count), for the
true sources (true peak) and for the detections (measured peak) alike.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from scipy.special import erf

from ..core.catalogue import Catalogue
from ..core.geometry import pixel_angle_from_pa
from ..core.image import SkyImage, load_fits
from ..ml.pipeline import detect
from ..ml.registry import DecorasModel
from ..sim.config import SimConfig
from ..sim.field import simulate_field
from ..sim.output import write_field
from .baseline import BASELINE_NAME, photutils_baseline
from .matching import match

SNR_BINS = ((3.0, 5.0), (5.0, 7.5), (7.5, 10.0), (10.0, 20.0), (20.0, math.inf))
WITHIN = 0.2  # "within 20 per cent"


@dataclass
class MethodRecords:
    """Per-source outcomes of one method over the whole test set."""

    truth_snr: list[float] = field(default_factory=list)
    truth_found: list[bool] = field(default_factory=list)
    truth_kind: list[str] = field(default_factory=list)
    det_snr: list[float] = field(default_factory=list)
    det_true: list[bool] = field(default_factory=list)
    empty_field_false: list[int] = field(default_factory=list)
    pos_err_mas: list[float] = field(default_factory=list)
    peak_ratio: list[float] = field(default_factory=list)
    matched_snr: list[float] = field(default_factory=list)  # true SNR of each matched source
    flux_ratio: list[float] = field(default_factory=list)
    reff_ratio: list[float] = field(default_factory=list)
    resolved: list[bool] = field(default_factory=list)
    matched_key: list[tuple[int, int]] = field(default_factory=list)  # (field number, truth row) per match
    fields_scored: int = 0
    seconds: float = 0.0
    pixels: int = 0


def _bin_label(lo: float, hi: float) -> str:
    return f"{lo:g}-{hi:g}" if math.isfinite(hi) else f">{lo:g}"


def _fraction_within(ratios: list[float], mask: list[bool] | None = None) -> float:
    r = np.asarray(ratios, float)
    if mask is not None:
        r = r[np.asarray(mask, bool)]
    r = r[np.isfinite(r)]
    return float(np.mean(np.abs(r - 1.0) <= WITHIN)) if r.size else float("nan")


def noise_limited_fraction_within(snr: list[float], within: float = WITHIN) -> float:
    """The fraction of sources whose peak an unbiased estimator with an error of one local rms
    would put within ``within`` of the truth: the best any method can do on these sources."""
    s = np.asarray(snr, float)
    s = s[np.isfinite(s) & (s > 0)]
    return float(np.mean(erf(within * s / math.sqrt(2.0)))) if s.size else float("nan")


def summarise(rec: MethodRecords) -> dict:
    """Completeness, purity, false detections, errors from per-source outcomes."""
    ts, tf = np.asarray(rec.truth_snr, float), np.asarray(rec.truth_found, bool)
    ds, dt = np.asarray(rec.det_snr, float), np.asarray(rec.det_true, bool)
    kinds = np.asarray(rec.truth_kind, str)
    out: dict = {"completeness": {}, "purity": {}, "completeness_x_purity": {}}
    for lo, hi in SNR_BINS:
        label = _bin_label(lo, hi)
        t = (ts >= lo) & (ts < hi)
        d = (ds >= lo) & (ds < hi)
        c = float(tf[t].mean()) if t.any() else float("nan")
        p = float(dt[d].mean()) if d.any() else float("nan")
        out["completeness"][label] = {"value": c, "n": int(t.sum())}
        out["purity"][label] = {"value": p, "n": int(d.sum())}
        out["completeness_x_purity"][label] = c * p if math.isfinite(c) and math.isfinite(p) else float("nan")
    low = ds < SNR_BINS[0][0]  # detections fainter than every bin still count against the catalogue
    out["purity_snr_below_3"] = {"value": float(dt[low].mean()) if low.any() else float("nan"), "n": int(low.sum())}
    out["purity_all"] = float(dt.mean()) if dt.size else float("nan")
    for name, lo, hi in (("completeness_snr_ge_7.5", 7.5, math.inf), ("completeness_snr_5_7.5", 5.0, 7.5)):
        t = (ts >= lo) & (ts < hi)
        out[name] = float(tf[t].mean()) if t.any() else float("nan")
    d = ds >= 5.5
    out["purity_snr_ge_5.5"] = float(dt[d].mean()) if d.any() else float("nan")
    d5 = ds >= 5.0
    out["purity_snr_ge_5"] = float(dt[d5].mean()) if d5.any() else float("nan")
    out["n_detections_snr_ge_5.5"] = int(d.sum())
    doubles = (kinds == "double") & (ts >= 5.0)
    out["double_completeness_snr_ge_5"] = float(tf[doubles].mean()) if doubles.any() else float("nan")
    out["n_double_components_snr_ge_5"] = int(doubles.sum())
    out["false_per_empty_field"] = float(np.mean(rec.empty_field_false)) if rec.empty_field_false else float("nan")
    out["n_empty_fields"] = len(rec.empty_field_false)
    pe = np.asarray(rec.pos_err_mas, float)
    out["position_error_mas"] = {"mean": float(pe.mean()) if pe.size else float("nan"),
                                 "std": float(pe.std()) if pe.size else float("nan"),
                                 "median": float(np.median(pe)) if pe.size else float("nan")}
    out["peak_within_20pc"] = _fraction_within(rec.peak_ratio)
    out["peak_within_20pc_noise_limit"] = noise_limited_fraction_within(rec.matched_snr)
    out["total_flux_within_20pc"] = _fraction_within(rec.flux_ratio)
    out["r_eff_within_20pc"] = _fraction_within(rec.reff_ratio)
    out["r_eff_within_20pc_resolved"] = _fraction_within(rec.reff_ratio, rec.resolved)
    out["peak_within_20pc_resolved"] = _fraction_within(rec.peak_ratio, rec.resolved)
    out["n_matched"] = len(rec.peak_ratio)
    out["n_matched_resolved"] = int(np.sum(rec.resolved))
    out["seconds_per_megapixel"] = rec.seconds / (rec.pixels / 1e6) if rec.pixels else float("nan")
    return out


def rms_at(rms_map: np.ndarray, x: float, y: float) -> float:
    """The local rms under pixel (x, y), clipped to the map."""
    iy = int(np.clip(round(float(y)), 0, rms_map.shape[0] - 1))
    ix = int(np.clip(round(float(x)), 0, rms_map.shape[1] - 1))
    return float(rms_map[iy, ix])


def score_field(truth, cat: Catalogue, image: SkyImage, rms_map: np.ndarray, cell_mas: float,
                beam, rec: MethodRecords) -> None:
    """Match one field's detections to its truth and append the outcomes to ``rec``."""
    tx, ty = np.asarray(truth["x"], float), np.asarray(truth["y"], float)
    sep = np.asarray(truth["separable"], bool) if len(truth) else np.zeros(0, bool)
    det_xy = np.array([[s.x, s.y] for s in cat], float).reshape(-1, 2)
    det_snr = np.array([s.snr for s in cat], float)
    bmaj, bmin = beam.bmaj / cell_mas, beam.bmin / cell_mas
    theta = pixel_angle_from_pa(image.wcs, image.shape[1] / 2, image.shape[0] / 2, beam.bpa)
    idx_sep = np.flatnonzero(sep)
    first = match(np.c_[tx[idx_sep], ty[idx_sep]], det_xy, bmaj, bmin, theta)
    true_det = np.zeros(len(cat), bool)
    found = np.zeros(len(idx_sep), bool)
    for ti, di in first.pairs:
        found[ti] = True
        true_det[di] = True
        row, src = truth[int(idx_sep[ti])], cat[di]
        rec.pos_err_mas.append(math.hypot(src.x - row["x"], src.y - row["y"]) * cell_mas)
        rec.peak_ratio.append(src.peak_flux / float(row["peak_flux"]))
        rec.matched_snr.append(float(row["peak_flux"]) / rms_at(rms_map, row["x"], row["y"]))
        rec.flux_ratio.append(src.total_flux / float(row["total_flux"]))
        rec.reff_ratio.append(src.r_eff * 1000.0 / float(row["r_eff"]))
        rec.resolved.append(float(row["maj"]) > 0.5 * beam.bmin)
        rec.matched_key.append((rec.fields_scored, int(idx_sep[ti])))
    # detections of components too close to a brighter one to count are neither found nor false
    idx_rest = np.flatnonzero(~sep)
    leftover = np.asarray(first.unmatched_detections, int)
    if idx_rest.size and leftover.size:
        second = match(np.c_[tx[idx_rest], ty[idx_rest]], det_xy[leftover], bmaj, bmin, theta)
        for _, dj in second.pairs:
            true_det[leftover[dj]] = True
    for k, i in enumerate(idx_sep):
        rec.truth_snr.append(float(truth["peak_flux"][i]) / rms_at(rms_map, tx[i], ty[i]))
        rec.truth_found.append(bool(found[k]))
        rec.truth_kind.append(str(truth["kind"][i]))
    rec.det_snr.extend(det_snr.tolist())
    rec.det_true.extend(true_det.tolist())
    if len(truth) == 0:
        rec.empty_field_false.append(int(len(cat)))
    rec.fields_scored += 1


def peak_within_on_common(a: MethodRecords, b: MethodRecords) -> dict:
    """Peak within 20 % of two methods scored on the same fields, over the true sources both found:
    ``{"a": fraction, "b": fraction, "noise_limit": the limit for those sources, "n": how many}``."""
    ka = {k: i for i, k in enumerate(a.matched_key)}
    kb = {k: i for i, k in enumerate(b.matched_key)}
    both = sorted(set(ka) & set(kb))
    return {"a": _fraction_within([a.peak_ratio[ka[k]] for k in both]),
            "b": _fraction_within([b.peak_ratio[kb[k]] for k in both]),
            "noise_limit": noise_limited_fraction_within([a.matched_snr[ka[k]] for k in both]), "n": len(both)}


def evaluate(model: DecorasModel, seed: int, n_fields: int, sim: SimConfig | None = None,
             device: str = "auto", progress: Callable[[int, int], None] | None = None,
             with_psf: bool = True) -> dict:
    """Simulate ``n_fields`` test fields with seeds (seed, i), detect, match, summarise; each field's
    dirty beam is given to the detection (its sidelobe test and dirty-beam channel) unless ``with_psf``
    is False."""
    base = sim or sim_config_for(model)
    records = {model.card.name: MethodRecords(), BASELINE_NAME: MethodRecords()}
    with tempfile.TemporaryDirectory(prefix="decoras-eval-") as tmp:
        for i in range(n_fields):
            f = simulate_field((seed, i), base)
            path, beam_path, _ = write_field(f, tmp, f"field_{i:05d}")
            image = load_fits(path)
            rms_map = image.rms_map()
            t0 = time.perf_counter()
            cat, _ = detect(image, model, device=device, rms_map=rms_map, psf=beam_path if with_psf else None)
            t1 = time.perf_counter()
            base_cat = photutils_baseline(image, rms_map=rms_map)
            t2 = time.perf_counter()
            for name, c, dt in ((model.card.name, cat, t1 - t0), (BASELINE_NAME, base_cat, t2 - t1)):
                rec = records[name]
                score_field(f.truth, c, image, rms_map, f.config.cell_mas, f.beam, rec)
                rec.seconds += dt
                rec.pixels += image.data.size
            for p in Path(tmp).glob(f"field_{i:05d}*"):
                p.unlink()
            if progress:
                progress(i + 1, n_fields)
    return {"seed": seed, "n_fields": n_fields, "model": model.label,
            "sim": {k: getattr(base, k) for k in ("size", "cell_mas", "schedule", "variety", "max_sources",
                                                  "empty_fraction", "snr_range", "crowded_fraction")},
            "methods": {name: summarise(rec) for name, rec in records.items()}}


def format_report(result: dict) -> str:
    """The evaluation as a side-by-side text table."""
    methods = list(result["methods"])
    width = max(18, *(len(m) + 2 for m in methods))
    head = f"{'':34s}" + "".join(f"{m:>{width}s}" for m in methods)
    lines = [f"evaluation of {result['model']} on {result['n_fields']} fields, seed {result['seed']}", head]

    def row(label: str, values: list[str]) -> None:
        lines.append(f"{label:34s}" + "".join(f"{v:>{width}s}" for v in values))

    def fmt(x: float, digits: int = 3) -> str:
        return "-" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"

    ms = [result["methods"][m] for m in methods]
    for key, title in (("completeness", "completeness, true SNR"), ("purity", "purity, detected SNR")):
        for lo, hi in SNR_BINS:
            label = _bin_label(lo, hi)
            row(f"{title} {label}", [f"{fmt(m[key][label]['value'])} ({m[key][label]['n']})" for m in ms])
    for lo, hi in SNR_BINS:
        label = _bin_label(lo, hi)
        row(f"completeness x purity {label}", [fmt(m["completeness_x_purity"][label]) for m in ms])
    row("purity, detected SNR < 3", [f"{fmt(m['purity_snr_below_3']['value'])} ({m['purity_snr_below_3']['n']})"
                                      for m in ms])
    row("purity, all detections", [fmt(m["purity_all"]) for m in ms])
    row("completeness SNR >= 7.5", [fmt(m["completeness_snr_ge_7.5"]) for m in ms])
    row("purity SNR >= 5.5", [fmt(m["purity_snr_ge_5.5"]) for m in ms])
    row("close doubles completeness SNR>=5", [fmt(m["double_completeness_snr_ge_5"]) for m in ms])
    row("false detections / empty field", [fmt(m["false_per_empty_field"]) for m in ms])
    row("position error mas (mean+/-std)",
        [f"{fmt(m['position_error_mas']['mean'], 2)}+/-{fmt(m['position_error_mas']['std'], 2)}" for m in ms])
    row("peak within 20%", [fmt(m["peak_within_20pc"]) for m in ms])
    row("  noise limit for these sources", [fmt(m.get("peak_within_20pc_noise_limit", float("nan"))) for m in ms])
    row("total flux within 20%", [fmt(m["total_flux_within_20pc"]) for m in ms])
    row("r_eff within 20% (all)", [fmt(m["r_eff_within_20pc"]) for m in ms])
    row("r_eff within 20% (resolved)", [fmt(m["r_eff_within_20pc_resolved"]) for m in ms])
    row("seconds per megapixel", [fmt(m["seconds_per_megapixel"], 2) for m in ms])
    return "\n".join(lines)


def sim_config_for(model: DecorasModel, **changes):
    """The fields a model is meant for -- its training configuration's ``eval_sim`` when it has one
    (a fine-tuned model), else the fields it was trained on -- optionally changed."""
    config = model.card.training.get("config", {})
    raw = config.get("eval_sim") or config.get("sim", {})
    cfg = model.task.sim_config(raw)  # the task's simulator (detection: a SimConfig)
    return replace(cfg, **changes)
