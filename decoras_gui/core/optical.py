"""What an optical image's header says about its PSF and photometric zero point.

An optical survey image has no restoring beam, and its unit may be ADU, counts, electrons or
nanomaggies. The deblend task needs two numbers from it, each with where it came from (shown to
the user, who can type another):

* :func:`psf_fwhm_arcsec`: the PSF's FWHM from ``PSF_FWHM``, ``SEEING``, ``FWHM``, ``PSFFWHM``,
  ``FWHM_PSF`` or ``PSF_SIZE`` -- arcsec, unless the keyword's comment says pixels;
* :func:`zero_point`: the AB magnitude of one image unit from ``MAGZP``, ``PHOTZP``, ``MAGZERO``,
  ``ZEROPT``, ``MAGZPT``, ``ZP`` or ``ZPAB``; a nanomaggy image (SDSS, DESI Legacy Surveys) has 22.5.

:func:`is_optical` tells an optical image from a radio one (no beam, not Jy/beam).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from astropy.io import fits

#: header keywords that hold the PSF's FWHM, in the order they are trusted
PSF_FWHM_KEYS = ("PSF_FWHM", "PSFFWHM", "FWHM_PSF", "SEEING", "FWHM", "PSF_SIZE")
#: header keywords that hold the zero point (AB magnitude of one unit)
ZERO_POINT_KEYS = ("MAGZP", "PHOTZP", "MAGZERO", "ZEROPT", "MAGZPT", "ZPAB", "ZP")
#: the AB magnitude of one nanomaggy
NANOMAGGY_ZP = 22.5


@dataclass(frozen=True)
class HeaderValue:
    """A number read from a header, and the keyword (or rule) it came from."""

    value: float
    source: str


def _number(header: fits.Header, key: str) -> float | None:
    try:
        v = float(header[key])
    except (KeyError, TypeError, ValueError):
        return None
    return v if math.isfinite(v) and v > 0 else None


def psf_fwhm_arcsec(header: fits.Header, pixel_arcsec: float | None) -> HeaderValue | None:
    """The PSF's FWHM in arcsec from ``header`` (a value in pixels converted with ``pixel_arcsec``),
    or None when no keyword holds a usable one."""
    for key in PSF_FWHM_KEYS:
        v = _number(header, key)
        if v is None:
            continue
        comment = str(header.comments[key]).lower()
        if "pix" in comment:
            if not pixel_arcsec:
                continue
            return HeaderValue(v * pixel_arcsec, f"{key} ({v:g} pixels)")
        return HeaderValue(v, key)
    return None


def zero_point(header: fits.Header, unit_text: str = "") -> HeaderValue | None:
    """The zero point (AB mag of one image unit) from ``header``, 22.5 for nanomaggies, else None."""
    for key in ZERO_POINT_KEYS:
        v = _number(header, key)
        if v is not None and 10.0 < v < 40.0:
            return HeaderValue(v, key)
    unit = (unit_text or str(header.get("BUNIT", ""))).strip().lower()
    if unit.startswith("nanomagg") or unit == "nmgy":
        return HeaderValue(NANOMAGGY_ZP, "nanomaggies (BUNIT)")
    return None


def is_optical(header: fits.Header, has_beam: bool) -> bool:
    """True for an image that looks optical: no restoring beam, not in Jy/beam, and either a
    filter / seeing / zero point keyword or a unit of counts."""
    if has_beam:
        return False
    unit = str(header.get("BUNIT", "")).strip().lower()
    if "jy" in unit:
        return False
    hints = ("FILTER", "SEEING", "PSF_FWHM", "MAGZP", "PHOTZP", "EXPTIME", "GAIN", "AIRMASS")
    return any(k in header for k in hints) or unit in ("adu", "counts", "count", "e-", "electrons", "nanomaggy",
                                                      "nanomaggies")
