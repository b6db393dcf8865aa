"""The dirty beam as a network input: where the bright sources' sidelobes fall in this image.

A dirty image is the sky convolved with the dirty beam (the PSF).  Given the PSF, the part of
the image that is sidelobe of the bright sources can be predicted: a short Högbom CLEAN finds
the bright emission (down to ``threshold`` sigma, loop gain ``gain``), and every component it
takes adds its flux times the PSF *less its main lobe* (the Gaussian restoring beam fitted
to it, as CLEAN restores with) to the predicted map: for the bright sources, the predicted map
is the dirty image less the restored one.  The networks
read that map as a second image channel aligned with the first, so they can learn what a
sidelobe is (a feature that matches the predicted pattern) rather than the patterns of one
simulator's beams.  A third, constant channel says whether a PSF was given at all.

The CLEAN subtracts the PSF in a window of at most ``window`` pixels around each component,
so the cost is bounded for any image size; it works in units of the image rms (signal-to-
noise), like the networks.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

#: CLEAN settings of the predicted-sidelobe channel (recorded in model cards)
THRESHOLD_SNR = 8.0
LOOP_GAIN = 0.5
MAX_COMPONENTS = 400
WINDOW = 512


def psf_centre(psf: np.ndarray) -> tuple[int, int]:
    """(row, column) of the PSF's peak."""
    finite = np.nan_to_num(psf, nan=-np.inf)
    return tuple(int(i) for i in np.unravel_index(np.argmax(finite), psf.shape))


def fit_main_lobe(psf: np.ndarray, centre: tuple[int, int], cell: float = 1.0):
    """The restoring beam (:class:`decoras_gui.sim.beam_fit.RestoringBeam`, FWHM in units of
    ``cell``) fitted to the PSF's main lobe, on the largest window centred on its peak ``centre``,
    peak-normalised: how the simulator fits its dirty beams (:func:`~decoras_gui.sim.beam_fit.fit_beam`)."""
    from ..sim.beam_fit import fit_beam

    cy, cx = centre
    h = min(cy, cx, psf.shape[0] - 1 - cy, psf.shape[1] - 1 - cx)
    core = np.nan_to_num(np.asarray(psf[cy - h:cy + h + 1, cx - h:cx + h + 1], float))
    return fit_beam(core / core[h, h], cell)


def main_lobe(psf: np.ndarray, centre: tuple[int, int]) -> np.ndarray:
    """The PSF's main lobe as an image: the elliptical Gaussian fitted to the region around its
    peak (:func:`fit_main_lobe`), peak 1 at ``centre``."""
    from ..core.errors import DecorasError
    from ..sim.beam_fit import gaussian_cov

    cy, cx = centre
    try:
        beam = fit_main_lobe(psf, centre)
        inv = np.linalg.inv(gaussian_cov(beam.bmaj, beam.bmin, beam.bpa))
    except (ValueError, np.linalg.LinAlgError, DecorasError):  # no fittable core: the positive region
        lab, _ = ndimage.label(np.nan_to_num(psf) > 0.5)
        return (lab == lab[centre]).astype(np.float32) * np.nan_to_num(psf)
    yy, xx = np.mgrid[:psf.shape[0], :psf.shape[1]]
    d = np.stack([-(xx - cx), yy - cy], -1).astype(float)  # (l east, m north) in pixels
    return np.exp(-0.5 * np.einsum("...i,ij,...j->...", d, inv, d)).astype(np.float32)


def sidelobe_psf(psf: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """The PSF (peak-normalised) and the PSF less its main lobe, cropped to ``WINDOW``
    around the peak; returns (psf, sidelobes stacked as (2, h, w)) and the peak's position."""
    psf = np.nan_to_num(np.asarray(psf, np.float32))
    cy, cx = psf_centre(psf)
    half = WINDOW // 2
    y0, x0 = max(0, cy - half), max(0, cx - half)
    crop = psf[y0:cy + half, x0:cx + half]
    crop = crop / crop[cy - y0, cx - x0]
    side = (crop - main_lobe(crop, (cy - y0, cx - x0))).astype(np.float32)
    return np.stack([crop, side]), (cy - y0, cx - x0)


def predicted_sidelobes(snr: np.ndarray, psf: np.ndarray, threshold: float = THRESHOLD_SNR,
                        gain: float = LOOP_GAIN, max_components: int = MAX_COMPONENTS) -> np.ndarray:
    """The bright sources' sidelobes in ``snr`` (an image in rms units, NaN-free), same units.

    ``psf``: the dirty beam on the image's pixel grid, any size, peak anywhere (normalised
    here).  Zero everywhere when nothing is brighter than ``threshold``.
    """
    residual = np.array(snr, dtype=np.float32, copy=True)
    out = np.zeros_like(residual)
    beams, (py, px) = sidelobe_psf(psf)
    bh, bw = beams.shape[1:]
    ny, nx = residual.shape
    for _ in range(max_components):
        k = int(np.argmax(residual))
        y, x = divmod(k, nx)
        peak = float(residual[y, x])
        if not peak >= threshold:
            break
        flux = gain * peak
        # overlap of the PSF window (peak at (py, px)) placed at (y, x) with the image
        iy0, ix0 = max(0, y - py), max(0, x - px)
        iy1, ix1 = min(ny, y - py + bh), min(nx, x - px + bw)
        by0, bx0 = iy0 - (y - py), ix0 - (x - px)
        sl_img = (slice(iy0, iy1), slice(ix0, ix1))
        sl_psf = (slice(by0, by0 + iy1 - iy0), slice(bx0, bx0 + ix1 - ix0))
        residual[sl_img] -= flux * beams[0][sl_psf]
        out[sl_img] += flux * beams[1][sl_psf]
    return out
