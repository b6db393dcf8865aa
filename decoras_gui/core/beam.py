"""The restoring (clean) beam of a radio image, and where headers hide it."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from astropy.io import fits

from .geometry import gaussian_area

DEG_TO_MAS = 3.6e6
DEG_TO_ARCSEC = 3600.0

# AIPS writes the beam of a CLEAN image only into HISTORY, in degrees:
#   HISTORY AIPS   CLEAN BMAJ=  4.7959E-06 BMIN=  3.5315E-06 BPA=   4.37
_AIPS_CLEAN = re.compile(
    r"AIPS\s+CLEAN\s+BMAJ\s*=\s*(?P<bmaj>[-+\d.Ee]+)\s+BMIN\s*=\s*(?P<bmin>[-+\d.Ee]+)"
    r"\s+BPA\s*=\s*(?P<bpa>[-+\d.Ee]+)"
)
# Miriad's RESTOR writes: "RESTOR: Beam =  1.200E+01 x  6.000E+00 arcsec, pa =  0.000E+00 degrees"
_MIRIAD_RESTOR = re.compile(
    r"RESTOR:\s+Beam\s*=\s*(?P<bmaj>[-+\d.Ee]+)\s*x\s*(?P<bmin>[-+\d.Ee]+)\s*arcsec,\s*"
    r"pa\s*=\s*(?P<bpa>[-+\d.Ee]+)"
)


@dataclass(frozen=True)
class Beam:
    """Elliptical Gaussian beam: FWHM axes in degrees, PA in degrees east of north."""

    major: float
    minor: float
    pa: float
    source: str = "header"

    @property
    def major_mas(self) -> float:
        return self.major * DEG_TO_MAS

    @property
    def minor_mas(self) -> float:
        return self.minor * DEG_TO_MAS

    @property
    def major_arcsec(self) -> float:
        return self.major * DEG_TO_ARCSEC

    @property
    def minor_arcsec(self) -> float:
        return self.minor * DEG_TO_ARCSEC

    def in_pixels(self, pixel_scale_deg: float) -> tuple[float, float]:
        """FWHM (major, minor) in pixels for square pixels of ``pixel_scale_deg``."""
        return self.major / pixel_scale_deg, self.minor / pixel_scale_deg

    def area_pixels(self, pixel_scale_deg: float) -> float:
        """Beam solid angle in pixels: pi/(4 ln 2) * FWHM_maj * FWHM_min."""
        return gaussian_area(*self.in_pixels(pixel_scale_deg))

    def describe(self) -> str:
        if self.major_arcsec >= 1.0:
            return f'{self.major_arcsec:.3g}" x {self.minor_arcsec:.3g}" at PA {self.pa:.1f} deg'
        return f"{self.major_mas:.3g} x {self.minor_mas:.3g} mas at PA {self.pa:.1f} deg"


def _valid(bmaj: float, bmin: float, bpa: float) -> bool:
    return all(math.isfinite(v) for v in (bmaj, bmin, bpa)) and bmaj > 0 and bmin > 0


def beam_from_header(header: fits.Header) -> Beam | None:
    """The beam from BMAJ/BMIN/BPA, else the last AIPS CLEAN or Miriad RESTOR HISTORY line."""
    try:
        bmaj = float(header["BMAJ"])
        bmin = float(header["BMIN"])
        bpa = float(header.get("BPA", 0.0))
        if _valid(bmaj, bmin, bpa):
            return _ordered(bmaj, bmin, bpa, "header BMAJ/BMIN/BPA")
    except (KeyError, TypeError, ValueError):
        pass
    history = [str(line) for line in header.get("HISTORY", [])]
    for line in reversed(history):  # the last CLEAN wins: that is the image's beam
        match = _AIPS_CLEAN.search(line)
        scale = 1.0
        label = "AIPS CLEAN HISTORY"
        if match is None:
            match = _MIRIAD_RESTOR.search(line)
            scale, label = 1.0 / DEG_TO_ARCSEC, "Miriad RESTOR HISTORY"
        if match is None:
            continue
        try:
            bmaj = float(match["bmaj"]) * scale
            bmin = float(match["bmin"]) * scale
            bpa = float(match["bpa"])
        except ValueError:
            continue
        if _valid(bmaj, bmin, bpa):
            return _ordered(bmaj, bmin, bpa, label)
    return None


def _ordered(bmaj: float, bmin: float, bpa: float, source: str) -> Beam:
    if bmin > bmaj:
        bmaj, bmin, bpa = bmin, bmaj, bpa + 90.0
    bpa = (bpa + 90.0) % 180.0 - 90.0
    return Beam(bmaj, bmin, bpa, source)
