"""How well a deblender separated a blend of two galaxies (the deblend task's figures).

Per blend (:func:`score_blend`), the method's objects are matched to the two true galaxies by
centroid (the assignment of least total distance, each match within one PSF FWHM):

* ``split``: exactly two objects found and both galaxies matched (the blend correctly split);
* per matched galaxy: the absolute percentage error of its flux against the flux the noise-free
  galaxy has in the cutout, the centroid error (arcsec), the error of its shape |e - e_true|
  (GalSim adaptive moments of the object's image against the noise-free galaxy's), and the SSIM
  of its image against the noise-free galaxy (scikit-image, on the galaxy's data range).

An unmatched galaxy counts as a 100 % flux error and an SSIM of 0. :func:`summarise` gives the
medians and means, and the same by separation and flux-ratio bin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..sim.blends import BlendField, measure_shape
from .deblend_baseline import DeblendedObject

#: separation bins (PSF FWHM) and flux-ratio bins the figures are given in
SEPARATION_BINS = ((0.5, 1.0), (1.0, 1.5), (1.5, 2.0), (2.0, 3.0))
RATIO_BINS = ((1.0, 2.0), (2.0, 5.0), (5.0, 10.0))


@dataclass
class BlendScore:
    """One method's figures on one blend."""

    separation_fwhm: float
    flux_ratio: float
    n_found: int
    split: bool
    flux_ape: list[float] = field(default_factory=list)  # per galaxy, fraction (1.0: unmatched)
    centroid_arcsec: list[float] = field(default_factory=list)  # matched galaxies only
    shape_error: list[float] = field(default_factory=list)
    ssim: list[float] = field(default_factory=list)
    seconds: float = 0.0


def match(objects: list[DeblendedObject], f: BlendField) -> list[int | None]:
    """For each true galaxy, the index of its object (None: unmatched), least total distance,
    each within one PSF FWHM."""
    from scipy.optimize import linear_sum_assignment

    if not objects:
        return [None, None]
    radius = f.psf_fwhm_arcsec / f.camera.pixel_arcsec
    cost = np.array([[math.hypot(o.x - g.x, o.y - g.y) for o in objects] for g in f.galaxies])
    rows, cols = linear_sum_assignment(cost)
    out: list[int | None] = [None, None]
    for r, c in zip(rows, cols):
        if cost[r, c] <= radius:
            out[r] = int(c)
    return out


def score_blend(objects: list[DeblendedObject], f: BlendField, seconds: float = 0.0) -> BlendScore:
    """``objects`` (a method's, on ``f.image``) against the blend's truth."""
    from skimage.metrics import structural_similarity

    s = BlendScore(f.separation_fwhm, f.flux_ratio, len(objects), False, seconds=seconds)
    matched = match(objects, f)
    s.split = len(objects) == 2 and all(m is not None for m in matched)
    for g, truth, m in zip(f.galaxies, f.components, matched):
        if m is None:
            s.flux_ape.append(1.0)
            s.ssim.append(0.0)
            continue
        o = objects[m]
        true_flux = float(truth.sum())
        s.flux_ape.append(abs(o.flux - true_flux) / true_flux)
        s.centroid_arcsec.append(math.hypot(o.x - g.x, o.y - g.y) * f.camera.pixel_arcsec)
        mine, theirs = measure_shape(o.image, o.x, o.y), measure_shape(truth, g.x, g.y)
        if mine is not None and theirs is not None:
            s.shape_error.append(math.hypot(mine.e1 - theirs.e1, mine.e2 - theirs.e2))
        span = float(truth.max() - truth.min()) or 1.0
        s.ssim.append(float(structural_similarity(o.image.astype(float), truth.astype(float), data_range=span)))
    return s


def _stats(scores: list[BlendScore]) -> dict:
    ape = [a for s in scores for a in s.flux_ape]
    cen = [c for s in scores for c in s.centroid_arcsec]
    shp = [e for s in scores for e in s.shape_error]
    ssim = [x for s in scores for x in s.ssim]

    def mean(v):
        return float(np.mean(v)) if v else math.nan

    def median(v):
        return float(np.median(v)) if v else math.nan

    return {"n_blends": len(scores), "split_fraction": mean([float(s.split) for s in scores]),
            "flux_mape": mean(ape), "flux_ape_median": median(ape), "centroid_arcsec_median": median(cen),
            "shape_error_median": median(shp), "ssim_median": median(ssim),
            "seconds_per_blend": mean([s.seconds for s in scores])}


def summarise(scores: list[BlendScore]) -> dict:
    """A method's figures over blends, overall and by separation and flux-ratio bin."""
    out = _stats(scores)
    out["by_separation"] = {f"{lo:g}-{hi:g}": _stats([s for s in scores if lo <= s.separation_fwhm < hi])
                            for lo, hi in SEPARATION_BINS}
    out["by_ratio"] = {f"{lo:g}-{hi:g}": _stats([s for s in scores if lo <= s.flux_ratio < hi])
                       for lo, hi in RATIO_BINS}
    wide = [s for s in scores if s.separation_fwhm >= 1.0]
    out["at_least_1_fwhm"] = _stats(wide)
    return out


#: the figures a deblend table shows: (key, label, format)
ROWS = (
    ("split_fraction", "split into two", "{:.3f}"),
    ("flux_mape", "flux MAPE", "{:.3f}"),
    ("flux_ape_median", "flux APE (median)", "{:.3f}"),
    ("centroid_arcsec_median", "centroid error (arcsec)", "{:.3f}"),
    ("shape_error_median", "|e - e_true| (median)", "{:.3f}"),
    ("ssim_median", "SSIM per galaxy (median)", "{:.3f}"),
    ("seconds_per_blend", "seconds per blend", "{:.4f}"),
    ("n_blends", "blends", "{:d}"),
)


def format_report(methods: dict[str, dict], title: str, bins: bool = True) -> str:
    """Tables of :func:`summarise`'s figures, one column per method: overall, at 1 FWHM or more,
    and (``bins``) per separation and flux-ratio bin."""
    from .restore_metrics import format_table

    parts = [format_table(methods, title, ROWS),
             format_table({n: r["at_least_1_fwhm"] for n, r in methods.items()}, "separations of 1 FWHM or more",
                          ROWS)]
    if bins:
        first = next(iter(methods.values()))
        for group, label in (("by_separation", "separation (FWHM)"), ("by_ratio", "flux ratio")):
            for name in first[group]:
                parts.append(format_table({n: r[group][name] for n, r in methods.items()}, f"{label} {name}", ROWS))
    return "\n\n".join(parts)
