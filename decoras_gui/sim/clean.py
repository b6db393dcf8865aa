"""CLEAN-restored images: what imaging programs hand astronomers after deconvolution.

:func:`clean_restore` runs a Högbom CLEAN (Högbom 1974) on a dirty image with its dirty beam
and returns the restored image -- the residual plus the CLEAN components convolved with the
restoring beam -- as AIPS IMAGR, Difmap and WSClean write it. How deep and how carefully it
cleans is drawn per field (:func:`draw_clean`), because that is where real restored images
differ:

* the stopping threshold, 1-6 x the rms (a shallow clean leaves the faint sources' sidelobes
  in the residual), the loop gain (0.05-0.3) and an iteration limit (100-3000: a bright
  field stopped early keeps its sidelobes);
* CLEAN windows or none: half the fields are cleaned only inside boxes drawn around the
  emission brighter than 5 rms (as an astronomer draws them), the rest everywhere (CLEAN then
  also takes noise and sidelobe peaks above the threshold: spurious components, restored as
  beam-sized blobs).

The out-of-distribution validation fields (``variety`` 'ood') are CLEANed otherwise than
training ever does: loop gains of 0.3-0.5, iteration limits of 50, 500 or 5000, and windows
drawn around the emission above 3 rms.

Residual gain errors (``SimConfig.gain_*``) cannot be CLEANed away and stay as stripes and
rings around the bright sources; the dirty beam is the image's own, of the image's size, so
components far from the centre leave a little of their far sidelobes, as in programs that
use a beam no larger than the image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.signal import fftconvolve

from .imaging import RestoringBeam


@dataclass(frozen=True)
class CleanSettings:
    """How one field is CLEANed (recorded in the image's HISTORY)."""

    threshold_sigma: float
    gain: float
    niter: int
    windowed: bool
    window_sigma: float = 5.0


def draw_clean(rng: np.random.Generator, variety: str = "none") -> CleanSettings:
    """A CLEAN as imaging varies from field to field; of the validation family for 'ood'
    (module docstring)."""
    threshold = float(np.exp(rng.uniform(np.log(1.0), np.log(6.0))))
    if variety == "ood":
        return CleanSettings(threshold, float(rng.uniform(0.3, 0.5)), int(rng.choice([50, 500, 5000])),
                             bool(rng.random() < 0.5), 3.0)
    return CleanSettings(threshold, float(rng.uniform(0.05, 0.3)), int(rng.choice([100, 300, 1000, 3000])),
                         bool(rng.random() < 0.5))


def clean_windows(dirty: np.ndarray, rms: float, beam_px: float, level: float = 5.0) -> np.ndarray:
    """Boxes around the emission brighter than ``level`` rms, a beam wider on each side (as drawn by hand)."""
    bright = dirty > level * rms
    window = np.zeros(dirty.shape, bool)
    pad = int(np.ceil(beam_px)) + 1
    for sl in ndimage.find_objects(ndimage.label(bright)[0]):
        y0, y1 = max(sl[0].start - pad, 0), min(sl[0].stop + pad, dirty.shape[0])
        x0, x1 = max(sl[1].start - pad, 0), min(sl[1].stop + pad, dirty.shape[1])
        window[y0:y1, x0:x1] = True
    return window


def hogbom(dirty: np.ndarray, psf: np.ndarray, threshold: float, gain: float, niter: int,
           window: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Högbom CLEAN: (residual, component image, iterations done). ``psf``: its peak at
    (size // 2, size // 2) of its own grid, any size (normalised to 1 there); ``window`` limits
    where peaks are taken (outside it nothing is cleaned). A CLEAN whose residual grows past
    twice the dirty image's largest value (a beam that is not the image's) stops there."""
    residual = np.array(dirty, np.float32, copy=True)
    model = np.zeros_like(residual)
    if window is not None and not window.any():
        return residual, model, 0  # nothing bright enough to draw a window around
    ny, nx = residual.shape
    py, px = (s // 2 for s in psf.shape)
    psf = np.asarray(psf, np.float32) / np.float32(psf[py, px])
    bh, bw = psf.shape
    search = np.where(window, 0.0, -np.inf).astype(np.float32) if window is not None else None
    limit = 2.0 * float(np.max(np.abs(residual)))
    done = 0
    for done in range(1, niter + 1):
        k = int(np.argmax(residual + search if search is not None else residual))
        y, x = divmod(k, nx)
        peak = float(residual[y, x])
        if not (peak >= threshold and abs(peak) <= limit):
            done -= 1
            break
        flux = gain * peak
        iy0, ix0 = max(0, y - py), max(0, x - px)
        iy1, ix1 = min(ny, y - py + bh), min(nx, x - px + bw)
        by0, bx0 = iy0 - (y - py), ix0 - (x - px)
        residual[iy0:iy1, ix0:ix1] -= flux * psf[by0:by0 + iy1 - iy0, bx0:bx0 + ix1 - ix0]
        model[y, x] += flux
    return residual, model, done


def restoring_kernel(beam: RestoringBeam, cell_mas: float) -> np.ndarray:
    """The restoring beam on the pixel grid (peak 1 at the centre, out to 4 FWHM)."""
    half = int(np.ceil(2.0 * beam.bmaj / cell_mas)) + 1
    yy, xx = np.mgrid[-half:half + 1, -half:half + 1]
    d = np.stack([-xx * cell_mas, yy * cell_mas], -1).astype(float)  # (l east, m north), as the sky
    inv = np.linalg.inv(beam.cov())
    return np.exp(-0.5 * np.einsum("...i,ij,...j->...", d, inv, d)).astype(np.float32)


def clean_restore(dirty: np.ndarray, psf: np.ndarray, beam: RestoringBeam, cell_mas: float, rms: float,
                  settings: CleanSettings) -> tuple[np.ndarray, int]:
    """The restored image of ``dirty`` (Jy/beam) and the iterations CLEAN took."""
    window = clean_windows(dirty, rms, beam.bmin / cell_mas, settings.window_sigma) if settings.windowed else None
    residual, model, n = hogbom(dirty, psf, settings.threshold_sigma * rms, settings.gain, settings.niter, window)
    if n == 0:
        return residual, 0
    restored = residual + fftconvolve(model, restoring_kernel(beam, cell_mas), mode="same").astype(np.float32)
    if not np.all(np.isfinite(restored)):  # never hand on a broken image: the dirty one instead
        return np.asarray(dirty, np.float32), 0
    return restored.astype(np.float32), n
