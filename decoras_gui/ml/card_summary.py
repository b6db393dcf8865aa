"""A model card's headline figures as short text lines (Help > About, `decoras info --models`)."""

from __future__ import annotations

import math

from .registry import ModelCard
from .tasks import get_task

#: (key in the card's evaluation of the model, label, format)
HEADLINE = (
    ("completeness_snr_ge_7.5", "completeness, SNR >= 7.5", "{:.3f}"),
    ("completeness_snr_5_7.5", "completeness, SNR 5-7.5", "{:.3f}"),
    ("purity_snr_ge_5.5", "purity, SNR >= 5.5", "{:.3f}"),
    ("false_per_empty_field", "false detections per empty field", "{:.3f}"),
    ("peak_within_20pc", "peak within 20 %", "{:.3f}"),
    ("r_eff_within_20pc_resolved", "effective radius within 20 % (resolved)", "{:.3f}"),
    # restoration's (eval.restore_metrics)
    ("ssim", "SSIM against the truth", "{:.3f}"),
    ("sb_error", "surface-brightness error (> 3 sigma)", "{:.3f}"),
    ("flux_within_10pc", "extended flux within 10 %", "{:.3f}"),
    ("flux_ratio_median", "extended flux ratio (median)", "{:.3f}"),
    ("invented_sigma_median", "flux off the sources (sigma)", "{:+.2f}"),
    # deblending's (eval.deblend_metrics), over all separations
    ("split_fraction", "blends split into two", "{:.3f}"),
    ("flux_mape", "flux MAPE per galaxy", "{:.3f}"),
)


#: the family whose figures lead (out of distribution counts: the generalisation bar)
LEADING_FAMILIES = ("ood, with its dirty beam", "ood, no dirty beam", "ood, restored images (no dirty beam)", "ood")


def card_figures(card: ModelCard) -> list[tuple[str, str]]:
    """(label, value) of the headline evaluation figures stored in ``card`` (none if unevaluated):
    those of the out-of-distribution family when the card has them, else its main evaluation;
    then one line per family of test fields."""
    ev = card.evaluation or {}
    families = ev.get("by_family") or {}
    lead = next((k for k in LEADING_FAMILIES if k in families), None)
    shown = families[lead] if lead else ev
    ours = (shown.get("methods") or {}).get(card.name) or {}
    rows = []
    for key, label, fmt in HEADLINE:
        value = ours.get(key)
        if isinstance(value, (int, float)) and math.isfinite(value):
            rows.append((label, fmt.format(value)))
    pos = ours.get("position_error_mas") or {}
    if isinstance(pos.get("mean"), (int, float)):
        rows.append(("position error", f"{pos['mean']:.2f} +/- {pos.get('std', float('nan')):.2f} mas"))
    if rows and shown.get("seed") is not None:
        fields = _fields_of(shown.get("sim") or {"variety": shown.get("family")})
        rows.append(("measured on", f"{shown.get('n_fields', '?')} simulated fields, seed {shown['seed']} "
                     f"({fields}{', ' + lead.split(', ', 1)[1] if lead and ', ' in lead else ''})"))
    for family, result in sorted(families.items()):  # e.g. 'ood, with its dirty beam'
        figures = ((result or {}).get("methods") or {}).get(card.name) or {}
        parts = [f"{label} {fmt.format(figures[key])}" for key, label, fmt in FAMILY_FIGURES
                 if isinstance(figures.get(key), (int, float)) and math.isfinite(figures[key])]
        if parts:
            rows.append((f"{family} ({result.get('n_fields', '?')} fields)", "; ".join(parts)))
    return rows


def _fields_of(sim: dict) -> str:
    """'training families' / 'validation families' / 'random schedules' for a test set's sim summary."""
    variety = sim.get("variety", "none")
    if variety == "wide":
        return "the training families"
    if variety == "ood":
        return "the validation families"
    return f"{sim.get('schedule', '?')} schedules"


#: the figures shown for each family of test fields (in-distribution, out-of-distribution, ...)
FAMILY_FIGURES = (
    ("purity_snr_ge_5", "purity SNR>=5", "{:.3f}"),
    ("completeness_snr_5_7.5", "completeness 5-7.5", "{:.3f}"),
    ("false_per_empty_field", "false/empty field", "{:.3f}"),
    ("peak_within_20pc", "peak 20 %", "{:.3f}"),
    ("ssim", "SSIM", "{:.3f}"),
    ("sb_error", "SB error", "{:.3f}"),
    ("flux_ratio_median", "flux ratio", "{:.3f}"),
    ("split_fraction", "split", "{:.3f}"),
    ("flux_mape", "flux MAPE", "{:.3f}"),
)


def card_heading(card: ModelCard) -> str:
    """'name version (task label): instrument, band, image kind images; N px per beam minor axis'."""
    parts = [p for p in (card.instrument, card.band, f"{card.image_kind} images" if card.image_kind else "") if p]
    head = f"{card.name} {card.version} ({get_task(card.task).label}): {', '.join(parts) or 'instrument not stated'}"
    if card.image_kind == "optical":
        return f"{head}; trained for {optical_sampling(card)}"
    span = card.pixels_per_beam_range
    sampling = (f"{span[0]:g}-{span[1]:g}" if span else f"{card.pixels_per_beam_minor:.1f}")
    beam = "; reads the dirty beam" if card.reads_psf else ""
    return f"{head}; trained for {sampling} pixels per beam minor axis{beam}"


def optical_sampling(card: ModelCard) -> str:
    """'0.214" pixels, PSF FWHM 0.6-1" (depth 24.9)' for an optical model's card."""
    d = card.domain
    lo, hi = d.get("psf_fwhm_range_arcsec") or (math.nan, math.nan)
    depth = f" (5-sigma depth {d['depth_mag']:g})" if "depth_mag" in d else ""
    return f"{d.get('pixel_arcsec', card.cell_mas / 1000.0):g}\" pixels, PSF FWHM {lo:g}-{hi:g}\"{depth}"


def study_lines(card: ModelCard) -> list[str]:
    """The AutoML study behind a model, from its card: trials, the best, what mattered most."""
    study = (card.training or {}).get("automl") or {}
    if not study:
        return []
    lines = [f"AutoML study {study.get('study', '?')}: {study.get('trials', '?')} trials "
             f"({study.get('complete', '?')} complete, {study.get('pruned', '?')} pruned, "
             f"{study.get('feasible', '?')} feasible); {study.get('sampler', '')}; {study.get('pruner', '')}"
             + (f"; objective: {study['objective']}" if study.get("objective") else "")]
    best = study.get("best") or {}
    if isinstance(best.get("value"), (int, float)):
        lines.append(f"best trial {best.get('number', '?')}: score {best['value']:.3f}"
                     + (f" on {study['validation']}" if study.get("validation") else ""))
    importances = study.get("importances") or {}
    if importances:
        top = sorted(importances.items(), key=lambda kv: -float(kv[1]))[:4]
        lines.append("parameters that mattered most: " + ", ".join(f"{k} {float(v):.2f}" for k, v in top))
    return lines
