"""Which installed model suits an image: each card's domain against what the image's header says
(:mod:`decoras_gui.core.image_domain`).

A card's domain (``ModelCard.domain``) names its ``instrument`` (or ``instruments``, a list),
``freq_range_hz`` [low, high], ``image_kind`` and ``pixels_per_beam_range``. Each is checked:

* a **mismatch** -- another instrument, a frequency outside the range, dirty against restored --
  puts the image outside the model's domain;
* an **unknown** -- the header does not say -- is noted, and counts neither way;
* the beam sampling never excludes a model (the networks see the image resampled to their own
  sampling), but a resampling by more than :data:`RESAMPLE_NOTE` is noted.

The best model is the one with no mismatch and the most matches; among equals the default
model, then by name. When every model has a mismatch, the least bad is chosen and a warning
says why the image is outside every domain.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.image_domain import ImageDomain
from .registry import DEFAULT_MODEL, ModelCard

RESAMPLE_NOTE = 2.0  # a factor in the beam sampling worth telling


@dataclass
class DomainCheck:
    """One card against one image: what matched, what did not, what could not be told."""

    card: ModelCard
    matches: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    unknowns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def covers(self) -> bool:
        return not self.mismatches

    @property
    def score(self) -> tuple:
        return (not self.mismatches, -len(self.mismatches), len(self.matches),
                self.card.name == DEFAULT_MODEL)


def domain_text(card: ModelCard) -> str:
    """'VLBA, L (1.4 GHz) 1.2-1.8 GHz, dirty images, 3-8 pixels per beam' for a card."""
    d = card.domain
    inst = ", ".join(d.get("instruments") or [card.instrument]) or "any instrument"
    parts = [inst]
    fr = d.get("freq_range_hz")
    band = card.band
    if fr:
        parts.append(f"{band + ' ' if band else ''}{fr[0] / 1e9:.3g}-{fr[1] / 1e9:.3g} GHz")
    elif band:
        parts.append(band)
    parts.append(f"{card.image_kind} images" if card.image_kind else "dirty or restored images")
    if card.image_kind == "optical":
        from .card_summary import optical_sampling

        return ", ".join(parts + [optical_sampling(card)])
    span = card.pixels_per_beam_range
    parts.append(f"{span[0]:g}-{span[1]:g} pixels per beam" if span else
                 f"{card.pixels_per_beam_minor:.1f} pixels per beam")
    return ", ".join(parts)


def check(card: ModelCard, image: ImageDomain) -> DomainCheck:
    """How ``card``'s domain compares with ``image``'s (module docstring)."""
    out = DomainCheck(card)
    d = card.domain
    names = [str(n).upper() for n in (d.get("instruments") or ([card.instrument] if card.instrument else []))]
    if names:
        if not image.instrument:
            out.unknowns.append("the header names no telescope")
        elif image.instrument.upper() in names:
            out.matches.append(f"instrument {image.telescop}")
        else:
            out.mismatches.append(f"instrument {image.telescop or image.instrument}, not {' or '.join(names)}")
    fr = d.get("freq_range_hz")
    if fr:
        if image.freq_hz is None:
            out.unknowns.append("the header gives no frequency")
        elif float(fr[0]) <= image.freq_hz <= float(fr[1]):
            out.matches.append(f"{image.freq_hz / 1e9:.3g} GHz")
        else:
            out.mismatches.append(f"{image.freq_hz / 1e9:.3g} GHz, outside {fr[0] / 1e9:.3g}-{fr[1] / 1e9:.3g} GHz")
    if card.image_kind:
        if not image.kind:
            out.unknowns.append("the header does not say dirty or restored")
        elif image.kind == card.image_kind:
            out.matches.append(f"{image.kind} image")
        else:
            out.mismatches.append(f"a {image.kind} image ({image.kind_evidence}), not {card.image_kind}")
    ppb = image.pixels_per_beam_minor
    if ppb:
        lo, hi = card.pixels_per_beam_range or (card.pixels_per_beam_minor,) * 2
        if lo <= ppb <= hi:
            out.matches.append(f"{ppb:.1f} pixels per beam")
        else:
            factor = max(ppb / hi, lo / ppb)
            if factor > RESAMPLE_NOTE:
                out.notes.append(f"{ppb:.1f} pixels per beam, resampled by {factor:.1f}x to the model's "
                                 f"{lo:g}-{hi:g}")
    return out


@dataclass
class ModelChoice:
    """The model chosen for an image, every card's check, and the warning when none covers it."""

    image: ImageDomain
    checks: list[DomainCheck]

    @property
    def best(self) -> DomainCheck | None:
        return max(self.checks, key=lambda c: (c.score, _by_name(c.card))) if self.checks else None

    @property
    def card(self) -> ModelCard | None:
        return self.best.card if self.best else None

    @property
    def covered(self) -> bool:
        return bool(self.best and self.best.covers)

    def summary(self) -> str:
        """One line: the model chosen and why, for the status bar and the command line."""
        best = self.best
        if best is None:
            return "no model installed for this task"
        label = f"{best.card.name} {best.card.version}"
        if best.covers:
            why = "; ".join(best.matches) or "nothing in the header contradicts it"
            extra = f" (not told: {'; '.join(best.unknowns)})" if best.unknowns else ""
            return f"model {label}: its domain covers this image ({why}){extra}"
        return f"model {label}, but the image is outside its domain"

    def warning(self) -> str | None:
        """Why the image is outside every model's domain (None when one covers it)."""
        if self.covered or self.best is None:
            return None
        best = self.best
        lines = [f"This image ({self.image.describe()}) is outside the domain of every installed model; "
                 f"detections may be unreliable."]
        for c in sorted(self.checks, key=lambda c: (c.score, _by_name(c.card)), reverse=True):
            lines.append(f"{c.card.name} {c.card.version} is for {domain_text(c.card)}: {'; '.join(c.mismatches)}.")
        lines.append(f"Using {best.card.name}, the nearest.")
        return " ".join(lines)


def _by_name(card: ModelCard) -> tuple:
    return tuple(-ord(ch) for ch in card.name)  # alphabetical first among equals (max picks)


def choose_model(cards: list[ModelCard], image: ImageDomain) -> ModelChoice:
    """Check every card against ``image`` (module docstring)."""
    return ModelChoice(image, [check(card, image) for card in cards])
