"""Measure a source inside a user-drawn ellipse: aperture photometry on the image.

Used when the astronomer moves, resizes or rotates a source's ellipse, or draws a new
one. The ellipse is given in the pixel frame (centre ``x``, ``y`` 0-based; FWHM-like
full axes ``maj_img``, ``min_img`` in pixels; ``theta_img`` degrees counter-clockwise
from +x, as in the catalogue). Everything the catalogue derives from it is updated:

* ``peak_flux``: the largest finite pixel inside the ellipse;
* ``total_flux``: the aperture sum (photutils ``ApertureMask``, exact overlap, over the
  ellipse's bounding box only) divided by the beam area in pixels,
  ``pi / (4 ln 2) * bmaj_px * bmin_px``, for Jy/beam images (the plain sum otherwise);
* sky columns through the WCS: ``ra``/``dec`` (native frame of the WCS), ``maj``/``min``
  (arcsec: pixels times the mean pixel scale), ``pa`` east of north
  (:func:`~.geometry.pa_from_pixel_angle`), deconvolved sizes, ``r_eff = 0.5 * sqrt(maj * min)``
  -- the conventions of the detections (``ml/characterize``), so an edited source and a
  detected one agree. (``regions``' ``EllipsePixelRegion.to_sky`` measures the sky ellipse
  of the local Jacobian instead: the same PA convention, angle = PA + 90, but on a sheared
  projection such as an NCP image far from its reference pixel its sizes differ by ~1 % and
  its PA by ~1 deg, and on sub-mas pixels its finite differences lose ~1e-7 in size and up
  to 0.2 deg in PA.)
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


def _aperture_values(data: np.ndarray, aperture) -> tuple[float, np.ndarray, int]:
    """(exact-overlap sum of the finite pixels, finite pixel values inside the ellipse by
    pixel centre, number of pixels inside by centre) of ``aperture`` on ``data``.

    Only the aperture's bounding box is read (and copied to float64): photutils'
    ``ApertureMask.get_overlap_slices`` gives where it lies in the image. The sum is
    photutils' ``aperture_photometry(method='exact')`` with non-finite pixels masked; pixels
    off the image count for nothing. An aperture off the image gives (NaN, [], 0)."""
    exact = aperture.to_mask(method="exact")
    centre = aperture.to_mask(method="center")  # same bounding box as the exact mask
    big, small = exact.get_overlap_slices(data.shape)
    if big is None:
        return math.nan, np.empty(0), 0
    box = np.asarray(data[big], dtype=np.float64)
    finite = np.isfinite(box)
    weights = exact.data[small]
    total = float((np.where(finite, box, 0.0) * weights)[(weights > 0) & finite].sum())
    inside = centre.data[small] > 0
    values = box[inside]
    return total, values[np.isfinite(values)], int(inside.sum())


def measure_ellipse(image: SkyImage, x: float, y: float, maj_img: float, min_img: float,
                    theta_img: float) -> dict[str, Any]:
    """The catalogue values of the source inside this pixel ellipse (a dict for ``Source.replace``).

    Reads only the ellipse's bounding box of ``image.data`` (a memory map stays unread
    elsewhere), so an edit costs what the ellipse covers, not what the image does."""
    from photutils.aperture import EllipticalAperture

    maj_img, min_img = float(abs(maj_img)), float(abs(min_img))
    theta_img = float(theta_img)
    if min_img > maj_img:  # keep maj >= min; the major axis turns by 90 degrees
        maj_img, min_img, theta_img = min_img, maj_img, theta_img + 90.0
    theta_img = (theta_img + 90.0) % 180.0 - 90.0
    maj_img, min_img = max(maj_img, MIN_AXIS_PIX), max(min_img, MIN_AXIS_PIX)
    x, y = float(x), float(y)
    data = image.data
    aperture = EllipticalAperture((x, y), a=0.5 * maj_img, b=0.5 * min_img, theta=math.radians(theta_img))
    aperture_sum, cut, n_pix = _aperture_values(data, aperture)
    peak = float(cut.max()) if cut.size else math.nan
    if not cut.size:  # a tiny ellipse between pixel centres: the nearest pixel
        n_pix = 0
        ix, iy = int(round(x)), int(round(y))
        if 0 <= iy < data.shape[0] and 0 <= ix < data.shape[1] and math.isfinite(float(data[iy, ix])):
            peak, n_pix = float(data[iy, ix]), 1
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
        # plain arrays, as geometry does: the same numbers as wcs.pixel_to_world without a SkyCoord
        lon, lat = wcs.all_pix2world(x, y, 0)
        arcsec = scale * 3600.0
        maj, mn = maj_img * arcsec, min_img * arcsec
        pa = pa_from_pixel_angle(wcs, x, y, theta_img)
        out.update(ra=float(lon) % 360.0, dec=float(lat), maj=maj, min=mn, pa=pa,
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
