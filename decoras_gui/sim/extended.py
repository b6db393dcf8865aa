"""Skies of extended emission on a pixel grid, as LOFAR sees them at 150 MHz.

Each source is drawn as an image of unit total flux on the field's grid and then scaled so that
its peak *as the restoring beam shows it* has the signal-to-noise drawn for it; the kinds:

* ``compact``: a point or a Gaussian smaller than 1.5 beams;
* ``fr2``: an FR II radio galaxy: two lobes (textured elliptical Gaussians, unequal in flux and
  arm length) with a hotspot at each outer end and a faint core;
* ``fr1``: an FR I: a bright core and two jets that widen and fade into plumes, gently bent;
* ``head-tail``: a compact head and a tail, curved (a quadratic Bezier path), fading and
  widening; one in three is a narrow-angle tail with two;
* ``halo``: a cluster halo, an exponential disc (Murgia et al. 2009) textured by a log-normal
  Gaussian random field with a Kolmogorov power-law spectrum;
* ``relic``: an arc of a large circle, with a sharp outer edge and an exponential decline inwards,
  its brightness modulated along the arc by a Gaussian random field (filaments).

A confusion background of faint compact sources (dN/dS ~ S^-1.7, peaks 0.1-3 sigma) lies under
every field. Positions and sizes are in pixels; ``beam_pix`` is the restoring beam's geometric
FWHM in pixels. Nothing here knows about visibilities: :mod:`.surface` observes these skies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import fft as sfft
from scipy.ndimage import fourier_gaussian

from .beam_fit import FWHM_SIGMA

#: the kinds of extended source, in the order ``kind_probs`` weights them
EXTENDED_KINDS = ("compact", "fr2", "fr1", "head-tail", "halo", "relic")
#: kinds whose extent is several beams (the restore task's figures count these)
RESOLVED_KINDS = frozenset(EXTENDED_KINDS[1:])


@dataclass(frozen=True)
class ExtendedSource:
    """One source of a sky: its kind, centre (pixels), total flux (Jy), largest extent (pixels)
    and the peak SNR drawn for it (restored peak over the image rms)."""

    kind: str
    x: float
    y: float
    flux: float
    extent_pix: float
    snr: float


@dataclass
class ExtendedSky:
    """The true sky (Jy/pixel), a label map (1 + index of the source that the restoring beam shows
    brightest in each pixel, where one shows above half the noise: its footprint; 0 elsewhere) and
    the sources."""

    image: np.ndarray
    labels: np.ndarray
    sources: list[ExtendedSource] = field(default_factory=list)
    background: np.ndarray | None = None  # the confusion background alone (Jy/pixel)


def gaussian(shape: tuple[int, int], x0: float, y0: float, maj: float, mn: float, pa_deg: float) -> np.ndarray:
    """An elliptical Gaussian of unit sum (FWHM ``maj``, ``mn`` pixels; ``pa_deg`` east of north,
    x increasing west as in the images), sampled at pixel centres; a point at the nearest pixel
    when both axes are under 0.3 pixel."""
    out = np.zeros(shape)
    if max(maj, mn) < 0.3:
        ix, iy = int(np.rint(x0)), int(np.rint(y0))
        if 0 <= iy < shape[0] and 0 <= ix < shape[1]:
            out[iy, ix] = 1.0
        return out
    maj, mn = max(maj, 0.3), max(mn, 0.3)
    half = int(np.ceil(3.0 * maj)) + 2
    ys = slice(max(int(y0) - half, 0), min(int(y0) + half + 1, shape[0]))
    xs = slice(max(int(x0) - half, 0), min(int(x0) + half + 1, shape[1]))
    if ys.start >= ys.stop or xs.start >= xs.stop:
        return out
    yy, xx = np.mgrid[ys, xs]
    dx, dy = -(xx - x0), yy - y0  # east, north
    t = np.deg2rad(pa_deg)
    a = dx * np.sin(t) + dy * np.cos(t)  # along the major axis
    b = dx * np.cos(t) - dy * np.sin(t)
    prof = np.exp(-0.5 * ((a / (maj / FWHM_SIGMA)) ** 2 + (b / (mn / FWHM_SIGMA)) ** 2))
    total = prof.sum()
    if total > 0:
        out[ys, xs] = prof / total
    return out


def random_field(shape: tuple[int, int], slope: float, rng: np.random.Generator, inner_pix: float = 0.0) -> np.ndarray:
    """A Gaussian random field of zero mean and unit variance whose power spectrum falls as
    k^-``slope`` (11/3: Kolmogorov), with scales beyond ``inner_pix`` only (0: all)."""
    ny, nx = shape
    ky = sfft.fftfreq(ny)[:, None]
    kx = sfft.rfftfreq(nx)[None, :]
    k = np.hypot(kx, ky)
    k[0, 0] = 1.0
    amp = k ** (-slope / 2.0)
    amp[0, 0] = 0.0
    if inner_pix > 0:
        amp *= np.exp(-0.5 * (k * inner_pix) ** 2)
    white = sfft.rfft2(rng.standard_normal(shape))
    g = sfft.irfft2(white * amp, s=shape)
    std = g.std()
    return g / std if std > 0 else g


def _path(p0, p1, p2, n: int) -> np.ndarray:
    """n points along the quadratic Bezier curve p0 -> p2 pulled towards p1: (n, 2)."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    return (1 - t) ** 2 * np.asarray(p0) + 2 * (1 - t) * t * np.asarray(p1) + t**2 * np.asarray(p2)


def _along(shape, points: np.ndarray, widths: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Round Gaussians of FWHM ``widths`` at ``points`` with relative ``weights``: unit sum."""
    img = np.zeros(shape)
    for (x, y), w, a in zip(points, widths, weights):
        img += a * gaussian(shape, x, y, w, w, 0.0)
    s = img.sum()
    return img / s if s > 0 else img


def _textured(base: np.ndarray, rng: np.random.Generator, depth: float, scale_pix: float) -> np.ndarray:
    """``base`` multiplied by a log-normal random field of rms ``depth`` (in log) on scales beyond
    ``scale_pix``; unit sum again."""
    g = random_field(base.shape, 11.0 / 3.0, rng, inner_pix=scale_pix)
    img = base * np.exp(depth * g - 0.5 * depth**2)
    s = img.sum()
    return img / s if s > 0 else img


def _unit(v: float) -> np.ndarray:
    """The unit vector at position angle ``v`` (radians east of north) in pixel (x, y): x is west."""
    return np.array([-np.sin(v), np.cos(v)])


def shape_compact(shape, rng, x, y, beam_pix) -> tuple[np.ndarray, float]:
    size = beam_pix * rng.uniform(0.0, 1.5) if rng.random() < 0.6 else 0.0
    axial = rng.uniform(0.4, 1.0)
    return gaussian(shape, x, y, size, size * axial, rng.uniform(0, 180)), size


def shape_fr2(shape, rng, x, y, beam_pix, length) -> tuple[np.ndarray, float]:
    theta = rng.uniform(0, np.pi)
    axis = _unit(theta)
    img = np.zeros(shape)
    ratio = rng.uniform(0.7, 1.3)  # arm-length ratio: the source is seldom symmetric
    arms = (length * ratio / (1 + ratio), length / (1 + ratio))
    fluxes = (np.exp(rng.uniform(-0.7, 0.7)), 1.0)
    for side, arm, lobe_flux in zip((1, -1), arms, fluxes):
        end = np.array([x, y]) + side * axis * arm
        lobe_c = np.array([x, y]) + side * axis * arm * rng.uniform(0.6, 0.8)
        maj = max(arm * rng.uniform(0.4, 0.7), 1.5 * beam_pix)
        mn = max(maj * rng.uniform(0.35, 0.8), beam_pix)
        lobe = _textured(gaussian(shape, *lobe_c, maj, mn, np.rad2deg(theta)), rng, rng.uniform(0.2, 0.6), beam_pix)
        hot = gaussian(shape, *end, 0.5 * beam_pix, 0.4 * beam_pix, np.rad2deg(theta))
        f_hot = rng.uniform(0.1, 0.4)
        img += lobe_flux * ((1 - f_hot) * lobe + f_hot * hot)
    core = gaussian(shape, x, y, 0.2 * beam_pix, 0.2 * beam_pix, 0.0)
    img += rng.uniform(0.0, 0.1) * img.sum() * core
    return img / max(img.sum(), 1e-30), length


def shape_fr1(shape, rng, x, y, beam_pix, length) -> tuple[np.ndarray, float]:
    theta = rng.uniform(0, np.pi)
    img = np.zeros(shape)
    n = max(8, int(2.5 * length / beam_pix))
    opening = np.tan(np.deg2rad(rng.uniform(5.0, 25.0)))
    for side in (1, -1):
        arm = 0.5 * length * rng.uniform(0.8, 1.2)
        bend = rng.normal(0.0, 0.25) * arm
        d = side * _unit(theta)
        perp = np.array([d[1], -d[0]])
        p0 = np.array([x, y])
        p2 = p0 + d * arm + perp * bend
        p1 = p0 + d * arm * 0.5
        pts = _path(p0, p1, p2, n)
        s = np.linspace(0.0, 1.0, n)
        widths = 0.6 * beam_pix + s * arm * opening * 2
        weights = (0.15 + s) ** -rng.uniform(0.5, 1.5) * widths**2 / (widths[0] ** 2)
        weights *= np.exp(-s / rng.uniform(0.4, 1.5))
        img += rng.uniform(0.7, 1.3) * _along(shape, pts, widths, weights)
    img = _textured(img, rng, rng.uniform(0.1, 0.4), beam_pix)
    img += rng.uniform(0.05, 0.3) * gaussian(shape, x, y, 0.3 * beam_pix, 0.3 * beam_pix, 0.0)
    return img / max(img.sum(), 1e-30), length


def shape_head_tail(shape, rng, x, y, beam_pix, length) -> tuple[np.ndarray, float]:
    theta = rng.uniform(0, 2 * np.pi)
    img = np.zeros(shape)
    tails = 2 if rng.random() < 1 / 3 else 1
    spread = np.deg2rad(rng.uniform(10.0, 40.0)) if tails == 2 else 0.0
    n = max(8, int(2.5 * length / beam_pix))
    fade = rng.uniform(0.3, 1.0)
    for k in range(tails):
        t = theta + (k - 0.5) * spread if tails == 2 else theta
        d = _unit(t)
        perp = np.array([d[1], -d[0]])
        p0 = np.array([x, y])
        p2 = p0 + d * length + perp * rng.normal(0, 0.3) * length
        p1 = p0 + d * length * 0.5 + perp * rng.normal(0, 0.2) * length
        s = np.linspace(0.0, 1.0, n)
        widths = 0.7 * beam_pix + s * rng.uniform(0.1, 0.35) * length
        weights = np.exp(-s / fade) * widths / widths[0]
        img += _along(shape, _path(p0, p1, p2, n), widths, weights)
    img = _textured(img, rng, rng.uniform(0.1, 0.3), beam_pix)
    head = gaussian(shape, x, y, 0.4 * beam_pix, 0.3 * beam_pix, np.rad2deg(theta))
    img += rng.uniform(0.1, 0.5) * head * img.sum()
    return img / max(img.sum(), 1e-30), length


def shape_halo(shape, rng, x, y, beam_pix, length) -> tuple[np.ndarray, float]:
    ny, nx = shape
    yy, xx = np.mgrid[0:ny, 0:nx]
    re = length / 6.0  # e-folding radius: the halo's visible extent is about 3 r_e each side
    q, t = rng.uniform(0.6, 1.0), rng.uniform(0, np.pi)
    dx, dy = -(xx - x), yy - y
    a = dx * np.sin(t) + dy * np.cos(t)
    b = dx * np.cos(t) - dy * np.sin(t)
    disc = np.exp(-np.hypot(a, b / q) / re)
    img = _textured(disc, rng, rng.uniform(0.2, 0.6), 0.8 * beam_pix)
    return img, length


def shape_relic(shape, rng, x, y, beam_pix, length) -> tuple[np.ndarray, float]:
    ny, nx = shape
    yy, xx = np.mgrid[0:ny, 0:nx]
    radius = length / rng.uniform(0.5, 1.2)  # the arc spans length: 30-70 deg of its circle
    centre_dir = rng.uniform(0, 2 * np.pi)
    cx, cy = np.array([x, y]) - _unit(centre_dir) * radius
    r = np.hypot(xx - cx, yy - cy)
    phi = np.arctan2(-(xx - cx), yy - cy)  # angle east of north about the circle's centre
    dphi = (phi - centre_dir + np.pi) % (2 * np.pi) - np.pi
    half_span = 0.5 * length / radius
    width = beam_pix * rng.uniform(1.5, 5.0)
    inside = radius - r  # > 0 towards the circle's centre (the cluster)
    radial = np.where(inside >= 0, np.exp(-inside / width), np.exp(-0.5 * (inside / (0.4 * beam_pix)) ** 2))
    along = np.exp(-0.5 * (np.maximum(np.abs(dphi) - half_span, 0.0) / (0.1 * half_span + 1e-6)) ** 2)
    along *= np.abs(dphi) < 2.5 * half_span
    img = _textured(radial * along, rng, rng.uniform(0.3, 0.7), 0.7 * beam_pix)
    return img, length


SHAPES = {"compact": None, "fr2": shape_fr2, "fr1": shape_fr1, "head-tail": shape_head_tail,
          "halo": shape_halo, "relic": shape_relic}
#: extent of each kind in restoring beams (log-uniform)
EXTENT_BEAMS = {"fr2": (6.0, 40.0), "fr1": (5.0, 30.0), "head-tail": (5.0, 30.0), "halo": (12.0, 50.0),
                "relic": (10.0, 45.0)}


def restored_peak(unit: np.ndarray, beam_kernel_sigma: tuple[float, float]) -> float:
    """Peak (Jy/beam per Jy of total flux) of a unit-flux image convolved with a round-enough
    Gaussian beam of per-axis sigmas (pixels), the beam's area normalising to Jy/beam."""
    sy, sx = beam_kernel_sigma
    smooth = sfft.irfft2(fourier_gaussian(sfft.rfft2(unit), (sy, sx), n=unit.shape[1]), s=unit.shape)
    return float(smooth.max() * 2.0 * np.pi * sy * sx)


def beam_blur(image: np.ndarray, beam_pix: float) -> np.ndarray:
    """``image`` (Jy/pixel) convolved with a round Gaussian beam of FWHM ``beam_pix``, in Jy/beam."""
    s = beam_pix / FWHM_SIGMA
    out = sfft.irfft2(fourier_gaussian(sfft.rfft2(image), (s, s), n=image.shape[1]), s=image.shape)
    return out * 2.0 * np.pi * s * s


def confusion(shape, rng, beam_pix: float, rms: float, density_per_beam: float = 0.02) -> np.ndarray:
    """Faint compact sources (Jy/pixel), Poisson in number, peaks 0.1-3 rms from dN/dS ~ S^-1.7."""
    area_beams = shape[0] * shape[1] / (1.1331 * beam_pix**2)
    n = rng.poisson(density_per_beam * area_beams)
    img = np.zeros(shape)
    if n == 0:
        return img
    lo, hi, g = 0.1, 3.0, -0.7  # peaks in rms, drawn from S^-1.7 (cumulative S^-0.7)
    u = rng.random(n)
    peaks = (lo**g + u * (hi**g - lo**g)) ** (1.0 / g) * rms
    ix = rng.integers(0, shape[1], n)
    iy = rng.integers(0, shape[0], n)
    np.add.at(img, (iy, ix), peaks)  # a point of S Jy peaks at S Jy/beam
    return img


def draw_extended_sky(rng: np.random.Generator, size: int, beam_pix: float, rms: float, *,
                      max_sources: int = 6, kind_probs=(0.35, 0.2, 0.15, 0.12, 0.09, 0.09),
                      snr_range: tuple[float, float] = (3.0, 300.0), margin_pix: int = 8,
                      empty_fraction: float = 0.05, confusion_density: float = 0.02) -> ExtendedSky:
    """A sky of 0..``max_sources`` sources (``empty_fraction`` of skies hold none) of the kinds
    :data:`EXTENDED_KINDS` weighted by ``kind_probs``; each scaled so its peak under a round beam
    of FWHM ``beam_pix`` is ``snr`` x ``rms`` (snr log-uniform in ``snr_range``), over a confusion
    background. Extents are capped by the field (``margin_pix`` from the edges)."""
    shape = (size, size)
    sigma = beam_pix / FWHM_SIGMA
    image = np.zeros(shape)
    peaks_map = np.zeros(shape)
    labels = np.zeros(shape, np.int16)
    sources: list[ExtendedSource] = []
    n = 0 if rng.random() < empty_fraction else int(rng.integers(1, max_sources + 1))
    probs = np.asarray(kind_probs, float) / np.sum(kind_probs)
    for _ in range(n):
        kind = EXTENDED_KINDS[int(rng.choice(len(EXTENDED_KINDS), p=probs))]
        if kind == "compact":
            x, y = rng.uniform(margin_pix, size - margin_pix, 2)
            unit, extent = shape_compact(shape, rng, x, y, beam_pix)
        else:
            lo, hi = EXTENT_BEAMS[kind]
            cap = (size - 2 * margin_pix) / beam_pix * (0.9 if kind not in ("halo", "relic") else 0.8)
            extent = beam_pix * np.exp(rng.uniform(np.log(lo), np.log(max(min(hi, cap), lo * 1.01))))
            extent = min(extent, size - 2 * margin_pix)
            room = max(margin_pix + 0.5 * extent, margin_pix)
            x, y = (rng.uniform(room, size - room, 2) if size - 2 * room > 1 else (size / 2, size / 2))
            unit, extent = SHAPES[kind](shape, rng, x, y, beam_pix, extent)
        peak_per_jy = restored_peak(unit, (sigma, sigma))
        if peak_per_jy <= 0:
            continue
        snr = float(np.exp(rng.uniform(*np.log(snr_range))))
        flux = snr * rms / peak_per_jy
        src = flux * unit
        seen = beam_blur(src, beam_pix)  # Jy/beam: its footprint is where it shows above half the noise
        brighter = (seen > 0.5 * rms) & (seen > peaks_map)
        labels[brighter] = len(sources) + 1
        peaks_map[brighter] = seen[brighter]
        image += src
        sources.append(ExtendedSource(kind, float(x), float(y), float(flux), float(extent), snr))
    background = confusion(shape, rng, beam_pix, rms, confusion_density)
    return ExtendedSky((image + background).astype(np.float32), labels, sources, background.astype(np.float32))
