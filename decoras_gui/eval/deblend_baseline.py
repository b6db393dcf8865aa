"""The classical deblender the deblend task is measured against: photutils, the SExtractor way.

:func:`photutils_deblend` smooths the cutout with a Gaussian of the PSF's FWHM, finds the
connected pixels above ``nsigma`` (3) times the smoothed image's sigma-clipped noise
(``detect_sources``), splits them by multi-threshold deblending (``deblend_sources``: 32
exponential levels, contrast 0.005, as SExtractor's DEBLEND_NTHRESH / DEBLEND_MINCONT), and
measures every segment (``SourceCatalog``): its isophotal flux and centroid. Each object's image
is the data inside its segment, the way segmentation photometry assigns the pixels.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np


@dataclass
class DeblendedObject:
    """One object a deblender returns: its image (the cutout's shape), flux and centroid (pixels)."""

    image: np.ndarray
    flux: float
    x: float
    y: float


def photutils_deblend(data: np.ndarray, psf_fwhm_pix: float, noise_sigma: float, nsigma: float = 3.0,
                      n_pixels: int = 5, contrast: float = 0.005) -> list[DeblendedObject]:
    """The objects photutils finds and deblends in ``data`` (background-subtracted, noise rms
    ``noise_sigma`` per pixel), brightest first."""
    from astropy.convolution import convolve
    from astropy.stats import sigma_clipped_stats
    from photutils.segmentation import SourceCatalog, deblend_sources, detect_sources, make_2dgaussian_kernel
    from photutils.utils.exceptions import NoDetectionsWarning

    size = 2 * int(math.ceil(1.5 * psf_fwhm_pix)) + 1
    kernel = make_2dgaussian_kernel(psf_fwhm_pix, size=size)
    smoothed = convolve(np.asarray(data, float), kernel)
    # the smoothed image's own noise (sigma-clipped: correlated noise, as a coadd's, is smoothed less)
    _, _, smooth_noise = sigma_clipped_stats(smoothed, sigma=3.0)
    if not smooth_noise > 0:
        smooth_noise = noise_sigma * math.sqrt(float((kernel.array ** 2).sum()))  # white noise through the kernel
    with warnings.catch_warnings():  # an empty cutout is an answer (no objects), not a warning
        warnings.simplefilter("ignore", NoDetectionsWarning)
        segm = detect_sources(smoothed, nsigma * smooth_noise, n_pixels)
    if segm is None:
        return []
    if segm.n_labels and np.any(segm.areas >= 2 * n_pixels):
        segm = deblend_sources(smoothed, segm, n_pixels, n_levels=32, contrast=contrast, progress_bar=False)
    cat = SourceCatalog(np.asarray(data, float), segm, convolved_data=smoothed)
    objects = []
    for row in cat:
        label = int(row.label)
        image = np.where(segm.data == label, data, 0.0).astype(np.float32)
        objects.append(DeblendedObject(image, float(row.segment_flux), float(row.x_centroid), float(row.y_centroid)))
    return sorted(objects, key=lambda o: -o.flux)
