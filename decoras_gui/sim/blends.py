"""Blends of two galaxies in optical survey cutouts (VST/OmegaCAM r band at KiDS depth), by GalSim.

``simulate_blend(seed, config) -> BlendField`` draws a pair of galaxies, convolves each with the
field's PSF and draws it on the camera's pixels (:mod:`galsim`), and adds the sky's noise at the
survey's depth (:class:`~.camera.Camera`). The two noise-free component images are the truth a
deblender is judged against; their fluxes, centroids, sizes and shapes (GalSim's adaptive moments,
:func:`measure_shape`, measured on the noise-free components as on any method's) are the truth
table.

Two families, as for the radio tasks:

* ``variety = 'wide'`` (training): bulge (de Vaucouleurs, n = 4) plus disc (exponential) galaxies,
  r = 19-24, sizes from a magnitude-size relation with scatter, discs' ellipticities up to 0.75
  and rounder bulges; a Moffat PSF (FWHM and beta in the camera's ranges); white noise;
* ``variety = 'ood'`` (validation, never trained on): single Sersic galaxies of any index
  (0.5-6); a Kolmogorov PSF, slightly elliptical, of the same FWHMs; noise correlated between
  neighbouring pixels as a coadd's resampling leaves it (same rms per pixel).

Pairs: the brighter galaxy near the cutout's centre, the other at 0.5-3 PSF FWHM from it in any
direction, flux ratios 1-10 (log-uniform), both within the magnitude range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..core.errors import DecorasError
from .camera import Camera, get_camera
from .config import config_from_dict

#: side of the PSF image written beside a blend (pixels; odd, centred)
PSF_SIZE = 31


@dataclass(frozen=True)
class BlendConfig:
    """Everything but the seed that sets a blend (see the module docstring)."""

    camera: str = "VST-OmegaCAM-r"
    size: int = 64
    variety: str = "wide"
    mag_range: tuple[float, float] = (19.0, 24.0)
    separation_fwhm: tuple[float, float] = (0.5, 3.0)
    flux_ratio: tuple[float, float] = (1.0, 10.0)
    noise: bool = True

    def __post_init__(self) -> None:
        if self.variety not in ("wide", "ood"):
            raise DecorasError(f"unknown blend variety {self.variety!r} (wide, ood)")
        if self.size < 16:
            raise DecorasError(f"a blend cutout of {self.size} pixels is too small (16 or more)")

    @classmethod
    def from_dict(cls, d: dict) -> "BlendConfig":
        return config_from_dict(cls, d)

    @property
    def image_kind(self) -> str:
        """The kind of image the blends are (a model's domain says it): optical."""
        return "optical"


@dataclass(frozen=True)
class Galaxy:
    """One galaxy of a blend: its drawn truth (pixels 0-based, x along columns)."""

    flux: float  # ADU
    mag: float  # AB
    x: float  # centroid, pixels
    y: float
    hlr_arcsec: float  # half-light radius of the galaxy before the PSF
    e1: float  # intrinsic distortion (a^2 - b^2) / (a^2 + b^2) components
    e2: float
    profile: str  # 'bulge+disc' or 'sersic n=...'


@dataclass
class BlendField:
    """A simulated blend cutout (images ``size`` x ``size``, indexed [y, x], ADU)."""

    image: np.ndarray  # float32: the two galaxies, PSF-convolved, plus noise
    components: np.ndarray  # float32 (2, size, size): each galaxy alone, noise-free
    psf: np.ndarray  # float32 (PSF_SIZE, PSF_SIZE), unit sum, centred
    galaxies: tuple[Galaxy, Galaxy]
    psf_fwhm_arcsec: float
    psf_kind: str  # 'moffat beta=...' or 'kolmogorov'
    noise_sigma: float  # ADU per pixel
    camera: Camera
    config: BlendConfig
    seed: tuple[int, ...] = field(default=())

    @property
    def separation_fwhm(self) -> float:
        """The two galaxies' separation in units of the PSF FWHM."""
        a, b = self.galaxies
        return math.hypot(a.x - b.x, a.y - b.y) * self.camera.pixel_arcsec / self.psf_fwhm_arcsec

    @property
    def flux_ratio(self) -> float:
        a, b = self.galaxies
        return a.flux / b.flux


def _size_arcsec(rng: np.random.Generator, mag: float) -> float:
    """A half-light radius for an r magnitude: 0.5" at r = 21, shrinking by 10^(-0.1) a magnitude,
    with 0.13 dex scatter (about what deep surveys find), kept within 0.1-3"."""
    return float(np.clip(0.5 * 10 ** (-0.1 * (mag - 21.0) + 0.13 * rng.standard_normal()), 0.1, 3.0))


def _shape(rng: np.random.Generator, scale: float) -> tuple[float, float]:
    """Intrinsic distortion components with |e| ~ |N(0, scale)| below 0.75, random orientation."""
    e = min(abs(scale * rng.standard_normal()), 0.75)
    t = rng.uniform(0.0, np.pi)
    return float(e * np.cos(2 * t)), float(e * np.sin(2 * t))


def _galaxy(rng: np.random.Generator, flux: float, mag: float, variety: str):
    """A GalSim profile of ``flux`` ADU and its (hlr, e1, e2, profile name)."""
    import galsim

    hlr = _size_arcsec(rng, mag)
    e1, e2 = _shape(rng, 0.3)
    if variety == "wide":
        bt = float(rng.beta(1.0, 3.0))  # mostly disc-dominated
        disc = galsim.Exponential(half_light_radius=hlr).shear(e1=e1, e2=e2)
        b1, b2 = 0.5 * e1, 0.5 * e2  # bulges rounder, aligned
        bulge = galsim.DeVaucouleurs(half_light_radius=hlr * float(rng.uniform(0.2, 0.6))).shear(e1=b1, e2=b2)
        return galsim.Add([bulge * bt, disc * (1.0 - bt)]).withFlux(flux), hlr, e1, e2, f"bulge+disc B/T={bt:.2f}"
    n = float(rng.uniform(0.5, 6.0))
    gal = galsim.Sersic(n=n, half_light_radius=hlr, trunc=0.0).shear(e1=e1, e2=e2).withFlux(flux)
    return gal, hlr, e1, e2, f"sersic n={n:.2f}"


def _psf(rng: np.random.Generator, camera: Camera, variety: str):
    """The field's PSF profile, its FWHM (arcsec) and name."""
    import galsim

    fwhm = float(rng.uniform(*camera.psf_fwhm_range))
    if variety == "wide":
        beta = float(rng.uniform(*camera.moffat_beta_range))
        return galsim.Moffat(beta=beta, fwhm=fwhm), fwhm, f"moffat beta={beta:.2f}"
    g1, g2 = 0.05 * rng.standard_normal(2)
    return galsim.Kolmogorov(fwhm=fwhm).shear(g1=float(g1), g2=float(g2)), fwhm, "kolmogorov"


def _correlated(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Noise of rms ``sigma`` correlated over neighbouring pixels, as a coadd's resampling makes it
    (white noise through a separable [0.25, 0.5, 0.25] kernel, renormalised)."""
    from scipy import ndimage

    k = np.array([0.25, 0.5, 0.25])
    white = rng.standard_normal(shape)
    out = ndimage.convolve1d(ndimage.convolve1d(white, k, axis=0, mode="wrap"), k, axis=1, mode="wrap")
    return out * (sigma / math.sqrt(float((k**2).sum()) ** 2))


def _draw(profile, size: int, scale: float, x: float, y: float) -> np.ndarray:
    """``profile`` on a size x size grid of ``scale`` arcsec, centred at pixel (x, y) (0-based)."""
    c = (size - 1) / 2.0
    img = profile.drawImage(nx=size, ny=size, scale=scale, offset=(x - c, y - c), method="auto")
    return img.array.astype(np.float32)


def simulate_blend(seed, config: BlendConfig = BlendConfig()) -> BlendField:
    """One blend, a pure function of ``(seed, config)`` (``seed``: an int or a tuple of ints)."""
    import galsim

    key = tuple(int(s) for s in (seed if isinstance(seed, (tuple, list)) else (seed,)))
    rng = np.random.default_rng(list(key) + [41])
    camera = get_camera(config.camera)
    psf, fwhm, psf_kind = _psf(rng, camera, config.variety)
    lo, hi = config.mag_range
    ratio = float(np.exp(rng.uniform(*np.log(config.flux_ratio))))
    dmag = 2.5 * math.log10(ratio)
    if hi - dmag < lo:
        raise DecorasError(f"a flux ratio of {ratio:.3g} does not fit magnitudes {lo}-{hi}")
    m1 = float(rng.uniform(lo, hi - dmag))
    mags = (m1, m1 + dmag)
    c = (config.size - 1) / 2.0
    sep = float(rng.uniform(*config.separation_fwhm)) * fwhm / camera.pixel_arcsec
    phi = rng.uniform(0.0, 2 * np.pi)
    x1, y1 = c + rng.uniform(-0.5, 0.5, 2)
    x2, y2 = x1 + sep * np.cos(phi), y1 + sep * np.sin(phi)
    galaxies, components = [], []
    for mag, (x, y) in zip(mags, ((x1, y1), (x2, y2))):
        flux = camera.flux_of(mag)
        gal, hlr, e1, e2, name = _galaxy(rng, flux, mag, config.variety)
        components.append(_draw(galsim.Convolve([gal, psf]), config.size, camera.pixel_arcsec, float(x), float(y)))
        galaxies.append(Galaxy(flux, mag, float(x), float(y), hlr, e1, e2, name))
    comps = np.stack(components)
    sigma = camera.pixel_noise
    noise = np.zeros((config.size, config.size))
    if config.noise:
        noise = (rng.standard_normal(noise.shape) * sigma if config.variety == "wide"
                 else _correlated(rng, noise.shape, sigma))
    psf_img = psf.drawImage(nx=PSF_SIZE, ny=PSF_SIZE, scale=camera.pixel_arcsec).array
    psf_img = (psf_img / psf_img.sum()).astype(np.float32)
    image = (comps.sum(0) + noise).astype(np.float32)
    return BlendField(image, comps, psf_img, (galaxies[0], galaxies[1]), fwhm, psf_kind, float(sigma), camera,
                      config, key)


@dataclass(frozen=True)
class Shape:
    """Adaptive moments of one galaxy's image (GalSim HSM): centroid (pixels, 0-based), the
    Gaussian-weighted size sigma (pixels) and the observed distortion e1, e2."""

    x: float
    y: float
    sigma: float
    e1: float
    e2: float


def measure_shape(image: np.ndarray, x: float | None = None, y: float | None = None) -> Shape | None:
    """Adaptive moments of ``image`` (one galaxy, PSF-convolved), started at (x, y) when given;
    None when they do not converge (an image with too little flux)."""
    import galsim

    img = galsim.Image(np.ascontiguousarray(image, dtype=np.float64))
    guess = galsim.PositionD(x + 1.0, y + 1.0) if x is not None and y is not None else None
    try:
        m = galsim.hsm.FindAdaptiveMom(img, guess_centroid=guess, strict=True)
    except galsim.errors.GalSimHSMError:
        return None
    s = m.observed_shape
    return Shape(float(m.moments_centroid.x - 1.0), float(m.moments_centroid.y - 1.0), float(m.moments_sigma),
                 float(s.e1), float(s.e2))
