"""How well a recovered surface-brightness map matches the true sky (the restore task's figures).

Every map is judged at one resolution, the restore task's (half the restoring beam, Jy/pixel): the
true sky convolved to it, the network's map as it is, WSClean's and Hogbom's CLEAN components
convolved to it. Per field (:func:`score_map`):

* ``sb_error``: the relative error of the surface brightness on the emission the image shows above
  3 sigma (the true sky at the restoring beam), sum |map - truth| / sum truth over those pixels;
* ``ssim``: the structural similarity (scikit-image) of the two, each in rms-per-beam units
  stretched by asinh, so that faint extended emission counts as well as bright cores;
* ``flux_ratio`` of each extended source (FR I/II, head-tail, halo, relic) above 10 sigma: the
  map's flux over the truth's within the source's footprint;
* ``dynamic_range``: the map's peak as the restoring beam would show it, over the rms of its error
  (map minus truth, both at the beam) away from every source;
* ``invented``: the flux of the map where there is no source (footprints and 1-sigma emission
  excluded) less the truth's there, in units of that sum's thermal noise.

:func:`summarise` turns the fields' scores into the table's figures; the targets of the issue are
``flux_within_10pc`` >= 0.9, ``ssim`` and ``sb_error`` better than WSClean multi-scale's, and
``invented`` within the noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..core.geometry import gaussian_area
from ..core.sky_map import seen_with_beam as at_beam


@dataclass
class MapScore:
    """The figures of one map on one field (see the module docstring)."""

    sb_error: float
    ssim: float
    flux_ratios: list[float] = field(default_factory=list)
    dynamic_range: float = math.nan
    invented: float = math.nan
    seconds: float = 0.0


def score_map(pred: np.ndarray, truth: np.ndarray, labels: np.ndarray, sources, rms: float,
              beam_pix: tuple[float, float, float], resolution_pix: tuple[float, float, float],
              seconds: float = 0.0) -> MapScore:
    """Score ``pred`` against ``truth`` (both Jy/pixel at ``resolution_pix``) on one field whose
    image has noise ``rms`` (Jy/beam) and restoring beam ``beam_pix``; ``labels`` and ``sources``:
    the sky's footprints and sources (:class:`decoras_gui.sim.extended.ExtendedSky`)."""
    from skimage.metrics import structural_similarity

    from ..sim.extended import RESOLVED_KINDS

    pred = np.nan_to_num(np.asarray(pred, float))
    truth = np.asarray(truth, float)
    area = gaussian_area(beam_pix[0], beam_pix[1])
    seen = at_beam(truth, beam_pix, resolution_pix)
    bright = seen > 3.0 * rms
    sb_error = float(np.abs(pred - truth)[bright].sum() / truth[bright].sum()) if bright.any() else math.nan
    a, b = (np.arcsinh(m * area / rms) for m in (pred, truth))
    span = float(max(b.max() - b.min(), 1e-6))
    ssim = float(structural_similarity(a, b, data_range=span, gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False))
    ratios = []
    for k, s in enumerate(sources, start=1):
        if s.kind in RESOLVED_KINDS and s.snr >= 10.0:
            mine = labels == k
            t = truth[mine].sum()
            if t > 0:
                ratios.append(float(pred[mine].sum() / t))
    free = (labels == 0) & (seen < rms)
    err_seen = at_beam(pred, beam_pix, resolution_pix) - seen
    noise = float(np.std(err_seen[free])) if free.sum() > 16 else math.nan
    peak = float(at_beam(pred, beam_pix, resolution_pix).max())
    dynamic_range = peak / noise if noise and noise > 0 else math.inf
    n_free = int(free.sum())
    invented = (float((pred[free] - truth[free]).sum()) / (rms * math.sqrt(n_free / area))
                if n_free > 16 else math.nan)
    return MapScore(sb_error, ssim, ratios, dynamic_range, invented, seconds)


def summarise(scores: list[MapScore]) -> dict:
    """The figures of a method over fields: medians of the per-field ones, the fraction of extended
    sources whose flux is within 10 %, the invented flux's spread, seconds per field."""
    def med(values) -> float:
        v = [x for x in values if x is not None and math.isfinite(x)]
        return float(np.median(v)) if v else math.nan

    ratios = [r for s in scores for r in s.flux_ratios]
    invented = [s.invented for s in scores if math.isfinite(s.invented)]
    return {
        "n_fields": len(scores),
        "sb_error": med(s.sb_error for s in scores),
        "ssim": med(s.ssim for s in scores),
        "flux_within_10pc": float(np.mean(np.abs(np.asarray(ratios) - 1.0) <= 0.1)) if ratios else math.nan,
        "flux_ratio_median": med(ratios),
        "n_extended": len(ratios),
        "dynamic_range": med(s.dynamic_range for s in scores),
        "invented_sigma_median": med(invented),
        "invented_sigma_rms": float(np.sqrt(np.mean(np.square(invented)))) if invented else math.nan,
        "seconds_per_field": float(np.mean([s.seconds for s in scores])) if scores else math.nan,
    }


ROWS = (
    ("sb_error", "surface-brightness error (> 3 sigma)", "{:.3f}"),
    ("ssim", "SSIM (asinh, vs truth)", "{:.3f}"),
    ("flux_within_10pc", "extended flux within 10 % (> 10 s.)", "{:.3f}"),
    ("flux_ratio_median", "extended flux ratio (median)", "{:.3f}"),
    ("n_extended", "extended sources judged", "{:d}"),
    ("dynamic_range", "dynamic range (peak / error rms)", "{:.0f}"),
    ("invented_sigma_median", "flux off sources (sigma, median)", "{:+.2f}"),
    ("invented_sigma_rms", "flux off sources (sigma, rms)", "{:.2f}"),
    ("seconds_per_field", "seconds per field", "{:.2f}"),
)


def format_table(methods: dict[str, dict], title: str = "", rows=ROWS) -> str:
    """One column per method, one row per figure (``rows``: (key, label, format) of each)."""
    names = list(methods)
    width = max(14, *(len(n) + 2 for n in names))
    lines = [title] if title else []
    lines.append(f"{'':38s}" + "".join(f"{n:>{width}s}" for n in names))
    for key, label, fmt in rows:
        cells = []
        for n in names:
            v = methods[n].get(key)
            ok = isinstance(v, (int, float)) and (isinstance(v, int) or math.isfinite(v))
            cells.append(fmt.format(v) if ok else "-")
        lines.append(f"{label:38s}" + "".join(f"{c:>{width}s}" for c in cells))
    return "\n".join(lines)
