"""What an image is, read from its header: the instrument, the frequency, dirty or restored, and
the beam sampling -- what a model's domain is compared with (:mod:`decoras_gui.ml.model_choice`).

The image kind comes from the strongest evidence the header and the file name carry:

* an iteration count: ``NITER`` (CASA, AIPS keyword), WSClean's ``WSCNITER``, the AIPS HISTORY
  line ``CLEAN NITER= N`` or ``IMAGR NITER = N``: 0 is dirty, more is CLEANed and restored;
* a deconvolution task in the HISTORY (Miriad ``RESTOR``/``CLEAN``/``MFCLEAN``, CASA
  ``tclean``, Difmap ``restore``), or the simulator's own "dirty, no deconvolution";
* the file name: ``dirty`` (WSClean's ``-dirty.fits``), or AIPS' ``ICLN``/``ICL001`` classes.

Anything else is '' (unknown): the header does not say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the header functions run before any image is read (decoras detect's choice)
    from .image import SkyImage

#: TELESCOP / INSTRUME values and the instrument names they stand for
TELESCOPE_ALIASES = {"EVLA": "VLA", "JVLA": "VLA", "MEERKAT": "MEERKAT", "LOFAR": "LOFAR-HBA",
                     "ATCA": "ATCA", "VLBA": "VLBA", "EVN": "EVN", "VLA": "VLA"}

_NITER = re.compile(r"\b(?:CLEAN|IMAGR)\s+NITER\s*=\s*(\d+)", re.IGNORECASE)
_DECONVOLVED = re.compile(r"^\s*(RESTOR|MFCLEAN|CLEAN|MOSSDI|MAXEN)\s*:|\btclean\b|\brestore\b",
                          re.IGNORECASE)


@dataclass(frozen=True)
class ImageDomain:
    """An image's instrument ('' unknown), frequency (Hz, None unknown), kind ('dirty',
    'restored', '' unknown) with the evidence for it, and beam minor axis in pixels."""

    instrument: str
    telescop: str
    freq_hz: float | None
    kind: str
    kind_evidence: str
    pixels_per_beam_minor: float | None

    def describe(self) -> str:
        parts = [self.telescop or "telescope not stated",
                 f"{self.freq_hz / 1e9:.3g} GHz" if self.freq_hz else "frequency not stated",
                 f"{self.kind} image" if self.kind else "dirty or restored not stated"]
        if self.pixels_per_beam_minor:
            parts.append(f"{self.pixels_per_beam_minor:.1f} pixels per beam minor axis")
        return ", ".join(parts)


def instrument_of(header) -> tuple[str, str]:
    """(instrument name, the header's own word for it) from TELESCOP, else INSTRUME."""
    for key in ("TELESCOP", "INSTRUME"):
        value = str(header.get(key, "") or "").strip()
        if value:
            word = value.upper().replace(" ", "")
            for alias, name in TELESCOPE_ALIASES.items():
                if word == alias or word.startswith(alias + "-"):
                    return name, value
            return value.upper(), value
    return "", ""


def frequency_of(image: SkyImage) -> float | None:
    """The observing frequency (Hz): the FREQ axis at the plane shown, else the header's."""
    for axis in image.extra_axes:
        if axis.name.upper().startswith("FREQ") and axis.value:
            return float(axis.value)
    return header_frequency(image.header)


def header_frequency(h) -> float | None:
    """The frequency (Hz) a header gives: a FREQ axis' reference value, else RESTFRQ / FREQ."""
    for i in range(1, max(int(h.get("NAXIS", 0) or 0), int(h.get("WCSAXES", 0) or 0), 4) + 1):  # degenerate axes too
        value = h.get(f"CRVAL{i}")
        if str(h.get(f"CTYPE{i}", "")).upper().startswith("FREQ") and isinstance(value, (int, float)) \
                and 1e6 < value < 1e13:
            return float(value)
    for key in ("RESTFRQ", "RESTFREQ", "FREQ"):
        value = h.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 1e6 < value < 1e13:
            return float(value)
    return None


def kind_of(image: SkyImage) -> tuple[str, str]:
    """('dirty' | 'restored' | '', the evidence) -- the module docstring's rules."""
    return header_kind(image.header, image.path.name)


def header_kind(h, file_name: str) -> tuple[str, str]:
    """:func:`kind_of` from a header and the file's name alone."""
    for key in ("NITER", "WSCNITER"):
        value = h.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return ("restored" if value > 0 else "dirty"), f"{key} = {int(value)}"
    history = [str(line) for line in h.get("HISTORY", [])]
    for line in history:
        if "DECORAS SIM dirty" in line:
            return "dirty", "the simulator's HISTORY (no deconvolution)"
    counts = [int(m.group(1)) for line in history for m in [_NITER.search(line)] if m]
    if counts:
        return ("restored" if max(counts) > 0 else "dirty"), f"HISTORY CLEAN NITER = {max(counts)}"
    for line in history:
        m = _DECONVOLVED.search(line)
        if m:
            return "restored", f"HISTORY names {m.group(0).strip(' :')}"
    name = file_name.lower()
    if "dirty" in name:
        return "dirty", "the file name"
    if re.search(r"icln|icl0\d\d", name):
        return "restored", "the file name (an AIPS CLEAN image class)"
    return "", "the header does not say"


def header_domain(header, file_name: str) -> ImageDomain:
    """What an image is from its primary header alone (no beam sampling): cheap enough to choose a
    model before the image is read (``decoras detect``)."""
    instrument, telescop = instrument_of(header)
    kind, evidence = header_kind(header, file_name)
    return ImageDomain(instrument, telescop, header_frequency(header), kind, evidence, None)


def image_domain(image: SkyImage) -> ImageDomain:
    """What ``image`` is (module docstring)."""
    instrument, telescop = instrument_of(image.header)
    kind, evidence = kind_of(image)
    beam = image.beam_pixels
    return ImageDomain(instrument, telescop, frequency_of(image), kind, evidence, float(beam[1]) if beam else None)
