"""scarlet2 (the JAX member of the LSST/scarlet family) as a second classical deblender.

:func:`scarlet2_deblend` models a single-band cutout as a :class:`scarlet2.Scene` with one
:class:`scarlet2.Source` per peak, in a model frame of the cutout's pixels whose PSF is scarlet2's
narrow default (a Gaussian of 0.7 pixel). The :class:`scarlet2.Observation` renders the scene through
the difference kernel to the cutout's PSF and scores it by its chi-square with inverse-variance
weights ``1 / noise_sigma**2``. Each object is its source rendered on the observation (PSF-convolved,
the cutout's shape); its flux is that image's sum, its centroid the image's flux-weighted centre
within one PSF FWHM of its peak.

Choices:

* peaks: unless ``positions`` are given, the local maxima of the cutout smoothed by a Gaussian of
  the PSF's FWHM (photutils' detection image) above :data:`DETECTION_NSIGMA` times its sigma-clipped
  noise (:func:`find_peaks`), or, with ``detector='photutils'``, the centroids
  :func:`~.deblend_baseline.photutils_deblend` finds. On 40 OOD blends the local maxima find both
  galaxies twice as often, with no more spurious peaks; segmentation deblending misses many
  companions at 2 FWHM. Every position moves uphill to the nearest local maximum of the smoothed
  cutout; at most :data:`MAX_SOURCES`, the brightest;
* morphology: free-form (one value per pixel of a :data:`BOX`-pixel box around the peak), positive
  and monotonic, as scarlet recommends for galaxies. scarlet2 0.5 has no monotonicity constraint
  (scarlet 1's proximal operator is gone), so our :class:`scarlet2.Morphology` builds it in: a pixel
  is the weighted geometric mean of its neighbours nearer the peak (weights: how well each points
  at the peak) times ``exp(-step)``, ``step > 0``; the peak is 1. That is
  ``log m = -(1 - W)^-1 step``, one fixed matrix for every source. A single inward neighbour (a tree)
  was tried first: it lets noise grow long one-pixel ridges. The source is zero outside its support,
  where the monotonic envelope of the smoothed cutout is above :data:`SUPPORT_THRESHOLD` times its
  noise, grown by two pixels (0.5 and 1 soaked up more noise; a point-symmetry constraint and a
  51-pixel box did no better);
* start: the morphology from the monotonic envelope of the cutout smoothed by half the PSF's FWHM,
  the amplitudes from a non-negative linear least-squares fit of those morphologies;
* fit: Adam (optax) on the log-amplitudes and log-steps at :data:`LEARNING_RATE`, at most
  ``max_iter`` steps, stopping when the chi-square changes by less than ``e_rel`` (relative) in a step.
  The whole fit is one jitted XLA loop, compiled once for each cutout shape and number of source
  slots (2, 4 or 8; unused slots stay empty) and reused for every blend: scarlet2's own ``fit``
  compiles anew at every call (its jit keys on fresh parameter and optimizer objects) and steps from
  Python, a second or more a blend. To keep the scene's static structure the same from blend to
  blend, every source's box is the whole frame (its ``center`` the frame's centre) and the morphology
  places its own box at the peak;
* JAX runs on the CPU in float32; scarlet2's validation printouts are off while it runs.
"""

from __future__ import annotations

import functools
import math
import os
import sys
import warnings
from typing import Sequence

import numpy as np

from .deblend_baseline import DeblendedObject

#: most sources modelled in one cutout (the brightest peaks are kept)
MAX_SOURCES = 8
#: side (pixels, odd) of the box a source's morphology fills, centred on its peak
BOX = 41
#: Adam's step in the log-amplitudes and in the log-steps of the morphologies
LEARNING_RATE = {"amplitude": 0.03, "steps": 0.05}
#: width (sigma, model pixels) of the model frame's Gaussian PSF: scarlet2's default
MODEL_PSF_SIGMA = 0.7
#: the smoothing (in PSF FWHMs) of the image the morphologies start from
START_SMOOTHING = 0.5
#: a source's support: where its monotonic envelope of the smoothed cutout is above this many times
#: the smoothed noise, grown by SUPPORT_GROWTH pixels
SUPPORT_THRESHOLD = 2.0
SUPPORT_GROWTH = 2
#: peaks are found above this many times the smoothed cutout's noise
DETECTION_NSIGMA = 5.0
_FLOOR = 1e-3  # faintest starting morphology value, relative to its peak
_MIN_STEP = 1e-2  # smallest starting step


def psf_fwhm_pixels(psf: np.ndarray) -> float:
    """The FWHM (pixels) of a PSF image: the diameter of the disc of its area above half maximum."""
    p = np.asarray(psf, float)
    return 2.0 * math.sqrt(float((p >= 0.5 * p.max()).sum()) / math.pi)


def _smooth(data: np.ndarray, fwhm: float) -> np.ndarray:
    """``data`` convolved with a Gaussian of FWHM ``fwhm`` pixels."""
    from scipy import ndimage

    return ndimage.gaussian_filter(np.asarray(data, float), fwhm / 2.3548, mode="constant")


@functools.lru_cache(maxsize=2)
def _monotonic_operator(side: int):
    """For a box of ``side`` pixels with the peak at its centre: the weights W (sparse; row p: p's
    neighbours nearer the peak, by the cosine of the angle between the step to them and the direction
    to the peak, summing to 1) and the dense ``(1 - W)^-1`` (float32) that turns steps into
    log-depths."""
    from scipy import sparse

    c = side // 2
    y, x = np.mgrid[:side, :side]
    r = np.hypot(y - c, x - c)
    rows, cols, vals = [], [], []
    for p in range(side * side):
        py, px = divmod(p, side)
        if r[py, px] == 0:
            continue
        qs, ws = [], []
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                qy, qx = py + dy, px + dx
                if (dy or dx) and 0 <= qy < side and 0 <= qx < side and r[qy, qx] < r[py, px]:
                    cos = (dy * (c - py) + dx * (c - px)) / (math.hypot(dy, dx) * r[py, px])
                    if cos > 0:
                        qs.append(qy * side + qx)
                        ws.append(cos)
        total = sum(ws)
        rows += [p] * len(qs)
        cols += qs
        vals += [w / total for w in ws]
    n = side * side
    w = sparse.csr_matrix((vals, (rows, cols)), shape=(n, n))
    inverse = np.linalg.inv(np.eye(n) - w.toarray()).astype(np.float32)
    return w, inverse


def _peaks(smoothed: np.ndarray, positions: Sequence[tuple[float, float]]) -> list[tuple[int, int]]:
    """Each (x, y) position moved uphill on ``smoothed`` to a local maximum (at most 3 pixels), as
    (row, column); duplicates dropped, brightest first, at most :data:`MAX_SOURCES`."""
    h, w = smoothed.shape
    peaks: list[tuple[int, int]] = []
    for x, y in positions:
        r, c = int(np.clip(round(y), 0, h - 1)), int(np.clip(round(x), 0, w - 1))
        for _ in range(3):
            r0, r1, c0, c1 = max(r - 1, 0), min(r + 2, h), max(c - 1, 0), min(c + 2, w)
            i = int(np.argmax(smoothed[r0:r1, c0:c1]))
            nr, nc = r0 + i // (c1 - c0), c0 + i % (c1 - c0)
            if (nr, nc) == (r, c):
                break
            r, c = nr, nc
        if (r, c) not in peaks:
            peaks.append((r, c))
    peaks.sort(key=lambda p: -smoothed[p])
    return peaks[:MAX_SOURCES]


def _slots(n: int) -> int:
    """Source slots of the compiled fit for ``n`` sources: 2, 4 or 8."""
    return 2 if n <= 2 else 4 if n <= 4 else 8


def _cut(image: np.ndarray, peak: tuple[int, int], side: int) -> np.ndarray:
    """The ``side`` x ``side`` box of ``image`` centred on ``peak`` (zero outside the image)."""
    h = side // 2
    padded = np.pad(image, h)
    return padded[peak[0]:peak[0] + side, peak[1]:peak[1] + side]


def _steps(box: np.ndarray, w) -> np.ndarray:
    """The monotonic steps nearest ``box`` (peak at its centre): its log-depth below the peak less
    the weighted log-depth of each pixel's inward neighbours, where positive."""
    c = box.shape[0] // 2
    depth = -np.log(np.clip(box / max(float(box[c, c]), 1e-12), _FLOOR, 1.0)).ravel()
    return np.maximum(depth - w @ depth, 0.0).reshape(box.shape)


def _source_start(start: np.ndarray, detect: np.ndarray, peak: tuple[int, int], smooth_noise: float,
                  side: int) -> tuple[np.ndarray, np.ndarray]:
    """A source's starting log-steps and its support (both ``side`` x ``side``, centred on ``peak``)."""
    from scipy import ndimage

    w, inverse = _monotonic_operator(side)
    steps = _steps(_cut(start, peak, side), w)
    det = _cut(detect, peak, side)
    c = side // 2
    envelope = max(float(det[c, c]), 0.0) * np.exp(-(inverse @ _steps(det, w).ravel())).reshape(det.shape)
    support = envelope > SUPPORT_THRESHOLD * smooth_noise
    support[c, c] = True
    if SUPPORT_GROWTH:
        support = ndimage.binary_dilation(support, iterations=SUPPORT_GROWTH)
    return np.log(np.maximum(steps, _MIN_STEP)), support


@functools.lru_cache(maxsize=1)
def _morphology_class():
    """Our monotonic :class:`scarlet2.Morphology` (defined on first use: scarlet2 and JAX load lazily)."""
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import scarlet2

    class MonotonicMorphology(scarlet2.Morphology):
        """A free-form, positive, monotonic morphology in a box centred on ``peak``, drawn on the whole
        frame: ``exp(-(1 - W)^-1 exp(log_steps))`` inside ``support``, 1 at the peak, 0 elsewhere."""

        log_steps: jnp.ndarray  # (side, side)
        inverse: jnp.ndarray  # (side^2, side^2): (1 - W)^-1
        support: jnp.ndarray  # (side, side): 1 where the source may have flux
        peak: jnp.ndarray  # (2,) int: the box's centre in the frame (row, column)
        frame_shape: tuple = eqx.field(static=True)

        def __call__(self, **kwargs):
            side = self.log_steps.shape[0]
            steps = jnp.exp(self.log_steps.ravel()).at[side * side // 2].set(0.0)  # the peak: no step
            box = jnp.exp(-(self.inverse @ steps)).reshape(side, side) * self.support
            h, (height, width) = side // 2, self.frame_shape
            canvas = jnp.zeros((height + 2 * h, width + 2 * h), box.dtype)
            canvas = jax.lax.dynamic_update_slice(canvas, box, (self.peak[0], self.peak[1]))
            return canvas[h:h + height, h:h + width]

        @property
        def shape(self):
            return self.frame_shape

    return MonotonicMorphology


@functools.lru_cache(maxsize=1)
def _compiled_fit():
    """The jitted fit: (scene, observation, active, max_iter, e_rel) -> (rendered sources, steps)."""
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import optax

    def fit(scene, obs, active, max_iter, e_rel):
        n = len(scene.sources)

        def with_values(theta):
            log_amp, log_steps = theta
            amps = jnp.exp(log_amp) * active

            def where(s):
                return [x for src in s.sources for x in (src.spectrum, src.morphology.log_steps)]

            return eqx.tree_at(where, scene, [x for i in range(n) for x in (amps[i][None], log_steps[i])])

        def loss(theta):
            return 0.5 * obs._chisquare(with_values(theta)())

        # starting amplitudes: linear least squares of the unit-amplitude sources (a ridge for empty slots)
        log_steps = jnp.stack([src.morphology.log_steps for src in scene.sources])
        unit = with_values((jnp.zeros(n), log_steps))
        a = jnp.stack([obs.render(unit.evaluate_source(src)).ravel() for src in unit.sources])
        aw = a * obs.weights.ravel()
        normal = aw @ a.T
        normal = normal + 1e-6 * jnp.eye(n) * (jnp.trace(normal) / n + 1.0)
        rhs = aw @ obs.data.ravel()

        def sweep(_, amp):  # non-negative least squares by coordinate descent
            for k in range(n):
                amp = amp.at[k].set(jnp.maximum((rhs[k] - normal[k] @ amp + normal[k, k] * amp[k]) / normal[k, k], 0.0))
            return amp

        amp0 = jax.lax.fori_loop(0, 20, sweep, jnp.zeros(n))
        # a source the least squares leaves empty starts at a tenth of its amplitude fitted alone
        peak_amp = rhs / jnp.diag(normal)
        theta = (jnp.log(jnp.maximum(amp0, 0.1 * jnp.maximum(peak_amp, 0.0)) + 1e-12), log_steps)

        rates = (LEARNING_RATE["amplitude"], LEARNING_RATE["steps"])
        opt = optax.scale_by_adam()
        value_and_grad = jax.value_and_grad(loss)

        def step(carry):
            i, theta, state, last, _ = carry
            value, g = value_and_grad(theta)
            g = (g[0] * active, g[1] * active[:, None, None])
            updates, state = opt.update(g, state, theta)
            theta = jax.tree.map(lambda t, u, r: t - r * u, theta, updates, rates)
            return i + 1, theta, state, value, jnp.abs(last - value) / jnp.maximum(value, 1e-12)

        def going(carry):
            return (carry[0] < max_iter) & (carry[4] >= e_rel)

        inf = jnp.asarray(jnp.inf, jnp.float32)
        i, theta, _, _, _ = jax.lax.while_loop(going, step, (jnp.asarray(0), theta, opt.init(theta), inf, inf))
        final = with_values(theta)
        return jnp.stack([obs.render(final.evaluate_source(src))[0] for src in final.sources]), i

    return eqx.filter_jit(fit)


@functools.lru_cache(maxsize=8)
def _wcs(shape: tuple[int, int]):
    """A plain tangent-plane WCS for a frame of ``shape`` (rows, columns), one object per shape:
    frames sharing it keep the jitted fit's static arguments equal from blend to blend."""
    import astropy.wcs

    wcs = astropy.wcs.WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crpix = [shape[1] // 2 + 1, shape[0] // 2 + 1]
    wcs.pixel_shape = (shape[1], shape[0])
    return wcs


def smoothed_noise(detect: np.ndarray, noise_sigma: float, fwhm: float) -> float:
    """The rms of the noise in ``detect`` (the cutout smoothed by a Gaussian of FWHM ``fwhm``): its
    sigma-clipped standard deviation (correlated noise, as a coadd's, is smoothed less than white), or
    white noise's through the kernel where that fails."""
    from astropy.stats import sigma_clipped_stats

    _, _, rms = sigma_clipped_stats(detect, sigma=3.0)
    if rms > 0:
        return float(rms)
    impulse = np.zeros(detect.shape)
    impulse[detect.shape[0] // 2, detect.shape[1] // 2] = 1.0
    return noise_sigma * math.sqrt(float((_smooth(impulse, fwhm) ** 2).sum()))


def find_peaks(detect: np.ndarray, noise: float, nsigma: float = DETECTION_NSIGMA) -> list[tuple[float, float]]:
    """The (x, y) local maxima (3 x 3) of the smoothed cutout ``detect`` above ``nsigma`` times its
    noise rms ``noise`` (photutils' ``find_peaks``)."""
    from photutils.detection import find_peaks as photutils_find_peaks
    from photutils.utils.exceptions import NoDetectionsWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoDetectionsWarning)
        table = photutils_find_peaks(detect, nsigma * noise, box_size=3)
    return [] if table is None else [(float(r["x_peak"]), float(r["y_peak"])) for r in table]


def scarlet2_deblend(data: np.ndarray, psf: np.ndarray, noise_sigma: float,
                     positions: Sequence[tuple[float, float]] | None = None, max_iter: int = 200,
                     e_rel: float = 1e-6, psf_fwhm_pix: float | None = None,
                     detector: str = "peaks") -> list[DeblendedObject]:
    """The objects scarlet2 separates in ``data`` (background-subtracted, noise rms ``noise_sigma`` per
    pixel; ``psf``: the cutout's PSF image, odd-sized, centred), brightest first.

    ``positions``: the sources' (x, y) starting positions (pixels). None: found by ``detector``,
    ``'peaks'`` (:func:`find_peaks` on the cutout smoothed by the PSF's FWHM) or ``'photutils'`` (the
    centroids of :func:`~.deblend_baseline.photutils_deblend`). ``psf_fwhm_pix``: the PSF's FWHM
    (pixels), measured from ``psf`` when None."""
    from .deblend_baseline import photutils_deblend

    if detector not in ("peaks", "photutils"):
        raise ValueError(f"unknown detector {detector!r} (peaks, photutils)")
    data = np.asarray(data, np.float32)
    fwhm = float(psf_fwhm_pix) if psf_fwhm_pix else psf_fwhm_pixels(psf)
    detect = _smooth(data, fwhm)
    smooth_noise = smoothed_noise(detect, noise_sigma, fwhm)
    if positions is None:
        positions = (find_peaks(detect, smooth_noise) if detector == "peaks"
                     else [(o.x, o.y) for o in photutils_deblend(data, fwhm, noise_sigma)])
    if len(positions) == 0:
        return []
    peaks = _peaks(detect, positions)
    start = _smooth(data, START_SMOOTHING * fwhm)
    images, _ = _fit(data, np.asarray(psf, np.float32), float(noise_sigma), start, detect, smooth_noise, peaks,
                     int(max_iter), float(e_rel))
    h, w = data.shape
    y, x = np.mgrid[:h, :w]
    objects = []
    for (pr, pc), img in zip(peaks, images):
        flux = float(img.sum())
        if not flux > 0:
            continue
        near = np.where(((y - pr) ** 2 + (x - pc) ** 2 <= fwhm**2) & (img > 0), img, 0.0).astype(float)
        total = near.sum()
        cx, cy = ((float((near * x).sum() / total), float((near * y).sum() / total)) if total > 0
                  else (float(pc), float(pr)))
        objects.append(DeblendedObject(img.astype(np.float32), flux, cx, cy))
    return sorted(objects, key=lambda o: -o.flux)


def _fit(data: np.ndarray, psf: np.ndarray, noise_sigma: float, start: np.ndarray, detect: np.ndarray,
         smooth_noise: float, peaks: list[tuple[int, int]], max_iter: int, e_rel: float) -> tuple[np.ndarray, int]:
    """Build the scarlet2 observation and scene, fit it, and return each peak's source rendered on the
    observation and the number of steps taken."""
    if "jax" not in sys.modules:
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    import jax.numpy as jnp
    import scarlet2
    from scarlet2 import validation_utils

    shape = tuple(data.shape)
    n, slots = len(peaks), _slots(len(peaks))
    morphology = _morphology_class()
    switch = validation_utils.VALIDATION_SWITCH
    validation_utils.VALIDATION_SWITCH = False  # no printed validation reports
    try:
        with jax.default_device(jax.devices("cpu")[0]), warnings.catch_warnings():
            # scarlet2 reads every attribute of a source's centre (a JAX array), deprecated ones too
            warnings.simplefilter("ignore", DeprecationWarning)
            inverse = jnp.asarray(_monotonic_operator(BOX)[1])
            wcs = _wcs(shape)
            weights = np.full(shape, 1.0 / noise_sigma**2, np.float32)
            obs = scarlet2.Observation(data, weights, psf=scarlet2.ArrayPSF(jnp.asarray(psf)[None]), wcs=wcs)
            frame = scarlet2.Frame(scarlet2.Box((1,) + shape), psf=scarlet2.GaussianPSF(MODEL_PSF_SIGMA), wcs=wcs)
            obs.match(frame)
            centre = jnp.array([shape[0] // 2, shape[1] // 2])
            with scarlet2.Scene(frame) as scene:
                for k in range(slots):
                    if k < n:
                        log_steps, support = _source_start(start, detect, peaks[k], smooth_noise, BOX)
                        peak = peaks[k]
                    else:  # an empty slot: no support, no flux
                        log_steps, support, peak = np.zeros((BOX, BOX)), np.zeros((BOX, BOX)), (0, 0)
                    scarlet2.Source(centre, jnp.ones(1), morphology(
                        jnp.asarray(log_steps, jnp.float32), inverse, jnp.asarray(support, jnp.float32),
                        jnp.asarray(peak, jnp.int32), shape))
            active = jnp.asarray(np.arange(slots) < n, jnp.float32)
            images, steps = _compiled_fit()(scene, obs, active, jnp.asarray(max_iter), jnp.asarray(e_rel, jnp.float32))
            images = np.asarray(images)[:n]
    finally:
        validation_utils.VALIDATION_SWITCH = switch
    return images, int(steps)
