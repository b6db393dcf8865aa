"""From the two network maps to a catalogue of measured sources.

1. The detection probability map is segmented (photutils ``detect_sources``) at the
   model's threshold, and blended segments are split on the recovered brightness
   (``deblend_sources``), so close doubles come out as two sources.
2. Each source is measured on the recovered (beam-free, restored) map: photutils
   ``SourceCatalog`` gives first guesses, an elliptical Gaussian fit (astropy modeling)
   over the source and its wings, with neighbouring sources masked, gives position, peak,
   FWHM and orientation; integrated flux is peak x (source area / beam area).
   Centres are then refit on the image's own pixels with that shape held (``ml.refine``).
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
from ..core.components import assign_groups
from ..core.geometry import (
    FWHM_PER_SIGMA,
    condon_errors,
    deconvolve,
    gaussian_area,
    moments_to_ellipse,
    pa_from_pixel_angle,
    pixel_angle_from_pa,
)
from ..core.image import SkyImage
from .inference import NetworkMaps
from .refine import refine_positions


@dataclass(frozen=True)
class CharacterizeSettings:
    threshold: float = 0.5  # detection probability that bounds a source
    min_snr: float = 2.0  # measured peak / local rms below which nothing is reported
    min_area_beams: float = 0.15  # smallest source segment, in beam (FWHM-ellipse) areas
    deblend_contrast: float = 0.005
    fit: bool = True
    refine: bool = True  # refit centres on the image itself (ml.refine)
    # the reported peak: the amplitude of that fit on the image (less the predicted sidelobes), at most
    # peak_cap x the restored map's peak; 0: the restored map's peak (inf: the image fit's, unbounded)
    peak_cap: float = 0.0
    beam_shape_at_low_snr: bool = False  # refit faint sources' centres with the beam's shape (ml.refine)


def _beam_px(image: SkyImage, fallback_minor_px: float) -> tuple[float, float, float]:
    """Beam (FWHM major px, FWHM minor px, PA deg) or a round beam of the model's sampling."""
    pix = image.beam_pixels
    if pix is None:
        return fallback_minor_px, fallback_minor_px, 0.0
    return pix[0], pix[1], image.beam.pa


def segment(maps: NetworkMaps, beam_area_px: float, settings: CharacterizeSettings):
    """(islands, deblended sources) segmentation images, or (None, None) when nothing is found."""
    prob = np.nan_to_num(maps.probability, nan=0.0)
    n_pixels = max(4, int(round(settings.min_area_beams * beam_area_px)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoDetectionsWarning)
        islands = detect_sources(prob, settings.threshold, n_pixels)
    if islands is None:
        return None, None
    restored = np.nan_to_num(maps.restored, nan=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyWarning)
        sources = deblend_sources(restored, islands, max(3, n_pixels // 2), n_levels=32,
                                  contrast=settings.deblend_contrast, progress_bar=False)
    return islands, sources


#: Islands with more components than this are fitted one component at a time.
MAX_JOINT_COMPONENTS = 6


def _gaussian(guess: dict) -> models.Gaussian2D:
    g = models.Gaussian2D(amplitude=guess["peak"], x_mean=guess["x"], y_mean=guess["y"],
                          x_stddev=max(guess["sig_a"], 0.5), y_stddev=max(guess["sig_b"], 0.5),
                          theta=math.radians(guess["theta"]))
    g.amplitude.bounds = (0.0, None)
    g.x_stddev.bounds = (0.3, None)
    g.y_stddev.bounds = (0.3, None)
    return g


def _fit_group(restored: np.ndarray, use: np.ndarray, box: tuple[slice, slice], guesses: list[dict]):
    """Fit a sum of elliptical Gaussians (one per guess) jointly over the pixels ``use`` of ``box``.

    Returns one measurement per guess, None where the fit failed."""
    cut = restored[box]
    use = use & np.isfinite(cut)
    yy, xx = np.mgrid[box]
    model = _gaussian(guesses[0])
    for guess in guesses[1:]:
        model = model + _gaussian(guess)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fitting.TRFLSQFitter()(model, xx[use], yy[use], cut[use], maxiter=300)
    parts = [fit] if len(guesses) == 1 else list(fit)
    return [_accept(part, guess) for part, guess in zip(parts, guesses)]


def _accept(fit: models.Gaussian2D, guess: dict) -> dict | None:
    sx, sy = float(fit.x_stddev.value), float(fit.y_stddev.value)
    theta = math.degrees(float(fit.theta.value))
    if sy > sx:
        sx, sy, theta = sy, sx, theta + 90.0
    reach = 2 * guess["sig_a"] + 2
    ok = (math.isfinite(sx) and math.isfinite(sy) and fit.amplitude.value > 0
          and abs(fit.x_mean.value - guess["x"]) < reach and abs(fit.y_mean.value - guess["y"]) < reach
          and sx < 6 * max(guess["sig_a"], 1.0))
    if not ok:
        return None
    return {"x": float(fit.x_mean.value), "y": float(fit.y_mean.value), "peak": float(fit.amplitude.value),
            "maj": FWHM_PER_SIGMA * sx, "min": FWHM_PER_SIGMA * sy, "theta": (theta + 90.0) % 180.0 - 90.0}


def _padded_box(slices: list[tuple[slice, slice]], pad: int, shape: tuple[int, int]) -> tuple[slice, slice]:
    y0 = max(0, min(s[0].start for s in slices) - pad)
    y1 = min(shape[0], max(s[0].stop for s in slices) + pad)
    x0 = max(0, min(s[1].start for s in slices) - pad)
    x1 = min(shape[1], max(s[1].stop for s in slices) + pad)
    return slice(y0, y1), slice(x0, x1)


def measure_components(restored: np.ndarray, islands, sources, bmaj_px: float, bmin_px: float,
                       fit: bool = True) -> list[tuple[int, dict]]:
    """(source label, measurement) for every deblended source.

    photutils ``SourceCatalog`` moments give the first guesses; then the components of each
    island are fitted together as a sum of Gaussians over the island and its wings (other
    islands masked), so a close neighbour's light is not given to the wrong source.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cat = SourceCatalog(restored, sources)
        xc, yc = np.asarray(cat.x_centroid), np.asarray(cat.y_centroid)
        peaks = np.asarray(cat.max_value)
        cov = np.asarray(cat.covariance)
        labels = np.asarray(cat.labels)
        slices = cat.slices
    guesses, first = {}, {}
    for k, label in enumerate(labels):
        maj0, min0, theta0 = moments_to_ellipse(cov[k, 0, 0], cov[k, 0, 1], cov[k, 1, 1])
        guesses[label] = {"x": xc[k], "y": yc[k], "peak": peaks[k], "theta": theta0,
                          "sig_a": max(maj0, bmaj_px) / FWHM_PER_SIGMA, "sig_b": max(min0, bmin_px) / FWHM_PER_SIGMA,
                          "slice": slices[k]}
        first[label] = {"x": xc[k], "y": yc[k], "peak": peaks[k], "maj": max(maj0, bmaj_px),
                        "min": max(min0, bmin_px), "theta": theta0}
    results = dict(first)
    if fit:
        pad = int(math.ceil(bmaj_px))
        members: dict[int, list[int]] = {}
        for label in labels:
            sl = guesses[label]["slice"]
            inside = sources.data[sl] == label
            members.setdefault(int(np.max(islands.data[sl][inside])), []).append(int(label))
        for island, group in members.items():
            box = _padded_box([guesses[g]["slice"] for g in group], pad, restored.shape)
            chunks = [group] if len(group) <= MAX_JOINT_COMPONENTS else [[g] for g in group]
            for chunk in chunks:
                # fitted alone: its own box with its siblings masked; jointly: the island's box
                alone = len(chunk) == 1 and len(group) > 1
                fit_box = _padded_box([guesses[chunk[0]]["slice"]], pad, restored.shape) if alone else box
                isl = islands.data[fit_box]
                use = (isl == 0) | (isl == island)
                if alone:
                    src = sources.data[fit_box]
                    use &= (src == 0) | (src == chunk[0])
                fitted = _fit_group(restored, use, fit_box, [guesses[g] for g in chunk])
                for label, value in zip(chunk, fitted):
                    if value is not None:
                        if abs(value["peak"] / first[label]["peak"] - 1.0) > 0.1:
                            value["peak"] = first[label]["peak"]  # a poor fit: keep the map's own peak
                        results[label] = value
    return _drop_duplicates([(int(label), results[label]) for label in labels], bmin_px)


def _drop_duplicates(measured: list[tuple[int, dict]], bmin_px: float) -> list[tuple[int, dict]]:
    """Deblended fragments whose fit converged onto a brighter component (centres closer than
    half a beam minor axis) are the same source: keep the brightest only."""
    order = sorted(range(len(measured)), key=lambda i: -measured[i][1]["peak"])
    kept: list[int] = []
    for i in order:
        m = measured[i][1]
        if all(math.hypot(m["x"] - measured[j][1]["x"], m["y"] - measured[j][1]["y"]) >= 0.5 * bmin_px for j in kept):
            kept.append(i)
    return [measured[i] for i in sorted(kept)]


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
    beam_area = gaussian_area(bmaj_px, bmin_px)
    meta = catalogue_meta(image, model_name, model_version)
    islands, sources = segment(maps, beam_area, settings)
    if sources is None:
        return Catalogue([], meta)
    restored = np.nan_to_num(maps.restored, nan=0.0)
    prob = np.nan_to_num(maps.probability, nan=0.0)
    if rms_map is None:
        rms_map = image.rms_map()
    measured = measure_components(restored, islands, sources, bmaj_px, bmin_px, settings.fit)
    if settings.refine:
        data = image.data
        if maps.sidelobes is not None:  # the bright sources' predicted sidelobes taken off the image first
            data = np.asarray(data, np.float32) - np.nan_to_num(maps.sidelobes)
        theta = pixel_angle_from_pa(image.wcs, image.shape[1] / 2, image.shape[0] / 2, bpa) if image.wcs else bpa
        beam = (bmaj_px, bmin_px, theta) if settings.beam_shape_at_low_snr else None
        measured = refine_positions(data, measured, bmin_px, beam=beam, rms=maps.rms)
    found, in_island = [], []
    for label, values in measured:
        sl = sources.slices[sources.get_index(label)]
        det_prob = float(np.max(prob[sl][sources.data[sl] == label]))
        source = _source(image, values, det_prob, rms_map, (bmaj_px, bmin_px, bpa), image.pixel_scale_deg,
                         model_name)
        if not source.snr < settings.min_snr:  # NaN SNR (no noise estimate) is kept
            if settings.peak_cap > 0:  # the floor was the restored peak's: sidelobe-lifted pixels lift no one over it
                source = _source(image, _image_peak(values, settings.peak_cap), det_prob, rms_map,
                                 (bmaj_px, bmin_px, bpa), image.pixel_scale_deg, model_name)
            found.append(source)
            in_island.append(int(np.max(islands.data[sl][sources.data[sl] == label])))
    found = assign_groups(found, in_island, restored=restored, rms_map=rms_map,
                          beam_px=math.sqrt(bmaj_px * bmin_px))  # sources of components (core.components)
    return Catalogue(found, meta)


def bounded_peak(restored_peak: float, image_peak: float | None, cap: float) -> float:
    """The peak to report: the image fit's, at most ``cap`` x the restored map's; the restored one
    for ``cap`` 0 or where there is no usable image fit."""
    if not (cap > 0 and image_peak and image_peak > 0 and restored_peak > 0):
        return restored_peak
    return min(float(image_peak), cap * restored_peak)


def _image_peak(fit: dict, cap: float) -> dict:
    """``fit`` with its peak :func:`bounded_peak` of its restored and image-fit (``image_peak``) ones."""
    return {**fit, "peak": bounded_peak(fit["peak"], fit.get("image_peak"), cap)}


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
            ra=float(sky.spherical.lon.deg), dec=float(sky.spherical.lat.deg),  # the image's own frame
            ra_err=pos_err, dec_err=pos_err,
            maj=maj_px * arcsec, min=min_px * arcsec, pa=pa,
            maj_deconv=dmaj * arcsec, min_deconv=dmin * arcsec, pa_deconv=dpa,
            r_eff=0.5 * math.sqrt(maj_px * min_px) * arcsec,
        )
    return Source(**values)


def catalogue_meta(image: SkyImage, model_name: str, model_version: str) -> dict:
    """The metadata of a detection catalogue: image, model and creator, by the rules of
    :func:`decoras_gui.core.provenance.stamp` (ra/dec stay in the image's own frame)."""
    from ..core.provenance import stamp

    return dict(stamp({}, image, model=model_name, model_version=model_version, creator="decoras"))
