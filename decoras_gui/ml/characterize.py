"""From the two network maps to a catalogue of measured sources.

1. The detection probability map is segmented (photutils ``detect_sources``) at the
   model's threshold, and blended segments are split on the recovered brightness
   (``deblend_sources``), so close doubles come out as two sources.
2. Each source is measured on the recovered (beam-free, restored) map: photutils
   ``SourceCatalog`` gives first guesses, an elliptical Gaussian fit (astropy modeling)
   over the source and its wings, with neighbouring sources masked, gives position, peak,
   FWHM and orientation; integrated flux is peak x (source area / beam area).
3. SNR is the measured peak over the local rms of the image around the source.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from astropy.modeling import fitting, models
from astropy.utils.exceptions import AstropyWarning
from photutils.segmentation import SourceCatalog, deblend_sources, detect_sources
from photutils.utils.exceptions import NoDetectionsWarning

from ..core.catalogue import Catalogue, Source
from ..core.geometry import (FWHM_PER_SIGMA, condon_errors, deconvolve, moments_to_ellipse,
                             pa_from_pixel_angle)
from ..core.image import SkyImage
from .inference import NetworkMaps


@dataclass(frozen=True)
class CharacterizeSettings:
    threshold: float = 0.5  # detection probability that bounds a source
    min_area_beams: float = 0.15  # smallest source segment, in beam (FWHM-ellipse) areas
    deblend_contrast: float = 0.005
    fit: bool = True


def _beam_px(image: SkyImage, fallback_minor_px: float) -> tuple[float, float, float]:
    """Beam (FWHM major px, FWHM minor px, PA deg) or a round beam of the model's sampling."""
    pix = image.beam_pixels
    if pix is None:
        return fallback_minor_px, fallback_minor_px, 0.0
    return pix[0], pix[1], image.beam.pa


def segment(maps: NetworkMaps, beam_area_px: float, settings: CharacterizeSettings):
    """Segmentation image of the sources (deblended), or None when nothing is detected."""
    prob = np.nan_to_num(maps.probability, nan=0.0)
    n_pixels = max(4, int(round(settings.min_area_beams * beam_area_px)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoDetectionsWarning)
        segm = detect_sources(prob, settings.threshold, n_pixels)
    if segm is None:
        return None, n_pixels
    restored = np.nan_to_num(maps.restored, nan=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyWarning)
        segm = deblend_sources(restored, segm, max(3, n_pixels // 2), n_levels=32,
                               contrast=settings.deblend_contrast, progress_bar=False)
    return segm, n_pixels


def _fit_gaussian(restored: np.ndarray, segm_data: np.ndarray, label: int, guess: dict, pad: int):
    """Fit an elliptical Gaussian to one source on the restored map (others masked)."""
    ny, nx = restored.shape
    y0, y1 = max(0, guess["ymin"] - pad), min(ny, guess["ymax"] + pad + 1)
    x0, x1 = max(0, guess["xmin"] - pad), min(nx, guess["xmax"] + pad + 1)
    cut = restored[y0:y1, x0:x1]
    labels = segm_data[y0:y1, x0:x1]
    use = np.isfinite(cut) & ((labels == 0) | (labels == label))
    yy, xx = np.mgrid[y0:y1, x0:x1]
    g = models.Gaussian2D(
        amplitude=guess["peak"], x_mean=guess["x"], y_mean=guess["y"],
        x_stddev=max(guess["sig_a"], 0.5), y_stddev=max(guess["sig_b"], 0.5),
        theta=math.radians(guess["theta"]),
    )
    g.amplitude.bounds = (0.0, None)
    g.x_stddev.bounds = (0.3, None)
    g.y_stddev.bounds = (0.3, None)
    fitter = fitting.TRFLSQFitter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fitter(g, xx[use], yy[use], cut[use], maxiter=200)
    sx, sy = float(fit.x_stddev.value), float(fit.y_stddev.value)
    theta = math.degrees(float(fit.theta.value))
    if sy > sx:
        sx, sy, theta = sy, sx, theta + 90.0
    ok = (math.isfinite(sx) and math.isfinite(sy) and fit.amplitude.value > 0
          and abs(fit.x_mean.value - guess["x"]) < 2 * guess["sig_a"] + 2
          and abs(fit.y_mean.value - guess["y"]) < 2 * guess["sig_a"] + 2
          and sx < 6 * max(guess["sig_a"], 1.0))
    if not ok:
        return None
    return {"x": float(fit.x_mean.value), "y": float(fit.y_mean.value), "peak": float(fit.amplitude.value),
            "maj": FWHM_PER_SIGMA * sx, "min": FWHM_PER_SIGMA * sy, "theta": (theta + 90.0) % 180.0 - 90.0}


def characterize(
    image: SkyImage,
    maps: NetworkMaps,
    *,
    model_name: str = "",
    model_version: str = "",
    fallback_beam_minor_px: float = 5.0,
    settings: CharacterizeSettings = CharacterizeSettings(),
    rms_map: np.ndarray | None = None,
) -> Catalogue:
    """Measure every detected source; returns a Catalogue of status 'candidate' sources."""
    bmaj_px, bmin_px, bpa = _beam_px(image, fallback_beam_minor_px)
    beam_area = math.pi / (4 * math.log(2)) * bmaj_px * bmin_px
    meta = _catalogue_meta(image, model_name, model_version)
    segm, _ = segment(maps, beam_area, settings)
    if segm is None:
        return Catalogue([], meta)
    restored = np.nan_to_num(maps.restored, nan=0.0)
    prob = np.nan_to_num(maps.probability, nan=0.0)
    if rms_map is None:
        rms_map = image.rms_map()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cat = SourceCatalog(restored, segm)
        xc, yc = np.asarray(cat.x_centroid), np.asarray(cat.y_centroid)
        peaks = np.asarray(cat.max_value)
        cxx, cxy, cyy = (np.asarray(cat.covariance)[:, i, j] for i, j in ((0, 0), (0, 1), (1, 1)))
        labels = np.asarray(cat.labels)
        slices = cat.slices
    scale_deg = image.pixel_scale_deg
    pad = int(math.ceil(bmaj_px))
    sources = []
    for k, label in enumerate(labels):
        sl = slices[k]
        maj0, min0, theta0 = moments_to_ellipse(cxx[k], cxy[k], cyy[k])
        guess = {"x": xc[k], "y": yc[k], "peak": peaks[k], "theta": theta0,
                 "sig_a": max(maj0, bmaj_px) / FWHM_PER_SIGMA, "sig_b": max(min0, bmin_px) / FWHM_PER_SIGMA,
                 "ymin": sl[0].start, "ymax": sl[0].stop - 1, "xmin": sl[1].start, "xmax": sl[1].stop - 1}
        fit = _fit_gaussian(restored, segm.data, label, guess, pad) if settings.fit else None
        if fit is None:  # moments of the recovered emission (never smaller than the beam)
            fit = {"x": xc[k], "y": yc[k], "peak": peaks[k], "maj": max(maj0, bmaj_px),
                   "min": max(min0, bmin_px), "theta": theta0}
        in_segment = segm.data[sl] == label
        det_prob = float(np.max(prob[sl][in_segment]))
        sources.append(_source(image, fit, det_prob, rms_map, (bmaj_px, bmin_px, bpa), scale_deg,
                               model_name))
    return Catalogue(sources, meta)


def _source(image: SkyImage, fit: dict, det_prob: float, rms_map: np.ndarray, beam_px, scale_deg,
            model_name: str) -> Source:
    x, y = fit["x"], fit["y"]
    bmaj_px, bmin_px, bpa = beam_px
    iy = int(np.clip(round(y), 0, rms_map.shape[0] - 1))
    ix = int(np.clip(round(x), 0, rms_map.shape[1] - 1))
    local_rms = float(rms_map[iy, ix])
    peak = fit["peak"]
    maj_px, min_px, theta = fit["maj"], fit["min"], fit["theta"]
    total = peak * (maj_px * min_px) / (bmaj_px * bmin_px)
    errors = condon_errors(peak, local_rms, maj_px, min_px, math.sqrt(bmaj_px * bmin_px))
    pa = pa_from_pixel_angle(image.wcs, x, y, theta)
    values = dict(
        source_id=-1, x=x, y=y, peak_flux=peak, peak_flux_err=errors["peak"],
        total_flux=total, total_flux_err=total * math.hypot(errors["peak"] / peak,
                                                            0.5 * errors["maj"] / maj_px + 0.5 * errors["min"] / min_px)
        if peak > 0 else float("nan"),
        snr=peak / local_rms if local_rms > 0 else float("nan"), local_rms=local_rms, det_prob=det_prob,
        maj_img=maj_px, min_img=min_px, theta_img=theta, status="candidate", origin="model", model=model_name,
    )
    if image.wcs is not None and scale_deg:
        arcsec = scale_deg * 3600.0
        sky = image.wcs.pixel_to_world(x, y)
        dmaj, dmin, dpa = deconvolve(maj_px, min_px, pa, bmaj_px, bmin_px, bpa) if image.beam else (
            float("nan"),) * 3
        pos_err = math.hypot(errors["x_major"], errors["x_minor"]) / math.sqrt(2.0) * arcsec
        values.update(
            ra=float(sky.icrs.ra.deg) if hasattr(sky, "icrs") else float(sky.ra.deg),
            dec=float(sky.icrs.dec.deg) if hasattr(sky, "icrs") else float(sky.dec.deg),
            ra_err=pos_err, dec_err=pos_err,
            maj=maj_px * arcsec, min=min_px * arcsec, pa=pa,
            maj_deconv=dmaj * arcsec, min_deconv=dmin * arcsec, pa_deconv=dpa,
            r_eff=0.5 * math.sqrt(maj_px * min_px) * arcsec,
        )
    return Source(**values)


def _catalogue_meta(image: SkyImage, model_name: str, model_version: str) -> dict:
    meta = {"image": image.name, "image_path": str(image.path), "hdu": image.hdu_index,
            "model": model_name, "model_version": model_version, "bunit": image.unit.to_string()}
    if image.beam is not None:
        meta.update(beam_maj=image.beam.major_arcsec, beam_min=image.beam.minor_arcsec, beam_pa=image.beam.pa)
    if image.wcs is not None:
        meta["radesys"] = "ICRS"
    return meta
