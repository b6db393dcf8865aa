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
)


def card_figures(card: ModelCard) -> list[tuple[str, str]]:
    """(label, value) of the headline evaluation figures stored in ``card`` (none if unevaluated)."""
    ev = card.evaluation or {}
    ours = (ev.get("methods") or {}).get(card.name) or {}
    rows = []
    for key, label, fmt in HEADLINE:
        value = ours.get(key)
        if isinstance(value, (int, float)) and math.isfinite(value):
            rows.append((label, fmt.format(value)))
    pos = ours.get("position_error_mas") or {}
    if isinstance(pos.get("mean"), (int, float)):
        rows.append(("position error", f"{pos['mean']:.2f} +/- {pos.get('std', float('nan')):.2f} mas"))
    if rows and ev.get("seed") is not None:
        rows.append(("measured on", f"{ev.get('n_fields', '?')} simulated fields, seed {ev['seed']} "
                     f"({(ev.get('sim') or {}).get('schedule', '?')} schedules)"))
    return rows


def card_heading(card: ModelCard) -> str:
    """'name version (task label): instrument, band, image kind images; N px per beam minor axis'."""
    parts = [p for p in (card.instrument, card.band, f"{card.image_kind} images" if card.image_kind else "") if p]
    return (f"{card.name} {card.version} ({get_task(card.task).label}): {', '.join(parts) or 'instrument not stated'}; "
            f"trained for {card.pixels_per_beam_minor:.1f} pixels per beam minor axis")
