"""Measure a source inside a user-drawn ellipse: aperture photometry on the image.

Used when the astronomer moves, resizes or rotates a source's ellipse, or draws a new
one. The ellipse is given in the pixel frame (centre ``x``, ``y`` 0-based; FWHM-like
full axes ``maj_img``, ``min_img`` in pixels; ``theta_img`` degrees counter-clockwise
from +x, as in the catalogue). Everything the catalogue derives from it is updated:

* ``peak_flux``: the largest finite pixel inside the ellipse;
* ``total_flux``: the aperture sum (photutils, exact overlap) divided by the beam area in
  pixels, ``pi / (4 ln 2) * bmaj_px * bmin_px``, for Jy/beam images (the plain sum
  otherwise);
* sky columns through the WCS: ``ra``/``dec`` (native frame of the WCS), ``maj``/``min``
  (arcsec), ``pa`` east of north (:func:`~.geometry.pa_from_pixel_angle`), deconvolved
  sizes, ``r_eff = 0.5 * sqrt(maj * min)``;
* errors: ``local_rms`` (robust rms of the image), ``snr = peak / rms``, Condon (1997)
  position/peak errors; the total flux error is ``rms * sqrt(N_pix / beam_area)``.

No Qt here.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .geometry import condon_errors, deconvolve, pa_from_pixel_angle
from .image import SkyImage

MIN_AXIS_PIX = 0.5  # smaller ellipses are widened to this (a half pixel) before measuring
def _is_per_beam(image: SkyImage) -> bool:
    text = image.unit.to_string().lower().replace(" ", "") if image.unit is not None else ""
    return "beam" in text


def beam_area_pixels(image: SkyImage) -> float | None:
    """Beam solid angle in pixels (pi/(4 ln2) * bmaj_px * bmin_px), or None without beam/WCS."""
    if image.beam is None or image.pixel_scale_deg is None:
        return None
    return image.beam.area_pixels(image.pixel_scale_deg)


def measure_ellipse(image: SkyImage, x: float, y: float, maj_img: float, min_img: float,
                    theta_img: float) -> dict[str, Any]:
    """The catalogue values of the source inside this pixel ellipse (a dict for ``Source.replace``)."""
    from photutils.aperture import EllipticalAperture, aperture_photometry

    maj_img, min_img = float(abs(maj_img)), float(abs(min_img))
    theta_img = float(theta_img)
    if min_img > maj_img:  # keep maj >= min; the major axis turns by 90 degrees
        maj_img, min_img, theta_img = min_img, maj_img, theta_img + 90.0
    theta_img = (theta_img + 90.0) % 180.0 - 90.0
    maj_img, min_img = max(maj_img, MIN_AXIS_PIX), max(min_img, MIN_AXIS_PIX)
    x, y = float(x), float(y)
    data = np.asarray(image.data, dtype=np.float64)
    aperture = EllipticalAperture((x, y), a=0.5 * maj_img, b=0.5 * min_img, theta=math.radians(theta_img))
    finite = np.isfinite(data)
    table = aperture_photometry(np.where(finite, data, 0.0), aperture, mask=~finite, method="exact")
    aperture_sum = float(table["aperture_sum"][0])
    mask = aperture.to_mask(method="center")
    cut = mask.get_values(data)
    cut = cut[np.isfinite(cut)] if cut is not None and len(cut) else np.array([])
    n_pix = float(mask.get_values(np.ones_like(data)).sum()) if cut.size else 0.0
    peak = float(cut.max()) if cut.size else math.nan
    if not cut.size:  # a tiny ellipse between pixel centres: the nearest pixel
        ix, iy = int(round(x)), int(round(y))
        if 0 <= iy < data.shape[0] and 0 <= ix < data.shape[1] and finite[iy, ix]:
            peak, n_pix = float(data[iy, ix]), 1.0
    beam_area = beam_area_pixels(image)
    if _is_per_beam(image) and beam_area:
        total = aperture_sum / beam_area
    else:
        total = aperture_sum
    rms = float(image.rms) if math.isfinite(image.rms) else math.nan
    out: dict[str, Any] = {
        "x": x, "y": y, "maj_img": maj_img, "min_img": min_img, "theta_img": theta_img,
        "peak_flux": peak, "total_flux": total, "local_rms": rms,
        "snr": peak / rms if rms > 0 and math.isfinite(peak) else math.nan,
        "peak_flux_err": rms,
        "total_flux_err": (rms * math.sqrt(max(n_pix, 1.0) / beam_area) if beam_area and rms > 0
                           else rms * math.sqrt(max(n_pix, 1.0))),
        "ra": math.nan, "dec": math.nan, "ra_err": math.nan, "dec_err": math.nan,
        "maj": math.nan, "min": math.nan, "pa": math.nan, "maj_deconv": math.nan, "min_deconv": math.nan,
        "pa_deconv": math.nan, "r_eff": math.nan,
    }
    wcs = image.wcs
    scale = image.pixel_scale_deg
    if wcs is not None and scale:
        sky = wcs.pixel_to_world(x, y)
        sph = sky.spherical
        arcsec = scale * 3600.0
        maj, mn = maj_img * arcsec, min_img * arcsec
        pa = pa_from_pixel_angle(wcs, x, y, theta_img)
        out.update(ra=float(sph.lon.deg) % 360.0, dec=float(sph.lat.deg), maj=maj, min=mn, pa=pa,
                   r_eff=0.5 * math.sqrt(maj * mn))
        if image.beam is not None:
            b = image.beam
            dmaj, dmin, dpa = deconvolve(maj, mn, pa, b.major_arcsec, b.minor_arcsec, b.pa)
            out.update(maj_deconv=dmaj, min_deconv=dmin, pa_deconv=dpa)
            beam_geo = math.sqrt(b.major_arcsec * b.minor_arcsec)
            err = condon_errors(peak, rms, maj, mn, beam_geo)
            if math.isfinite(err["x_major"]):
                p = math.radians(pa)
                out["ra_err"] = math.hypot(err["x_major"] * math.sin(p), err["x_minor"] * math.cos(p))
                out["dec_err"] = math.hypot(err["x_major"] * math.cos(p), err["x_minor"] * math.sin(p))
                out["peak_flux_err"] = err["peak"]
    return out


__all__ = ["measure_ellipse", "beam_area_pixels"]
