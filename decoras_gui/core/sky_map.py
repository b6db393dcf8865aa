"""SkyMap: a recovered surface-brightness map of an image (the restore task's result).

The map is the sky in Jy/pixel on the image's own grid, at a stated resolution: a Gaussian of
``resolution`` (FWHM major, minor in arcsec, position angle in degrees east of north), finer than the
image's restoring beam. It knows the image it came from, so that it can be convolved back to the
image's beam (:meth:`SkyMap.convolved`), give the residual against the image (image minus map
convolved with the PSF, or with the restoring beam for a CLEANed image: :meth:`SkyMap.residual`),
the flux inside a pixel mask (:meth:`SkyMap.flux_in`), and be written as FITS with the image's
celestial WCS and ``BUNIT = 'JY/PIXEL'`` (:meth:`SkyMap.write`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS
from scipy import fft as sfft

from .errors import DecorasError
from .fileio import atomic_path
from .geometry import FWHM_PER_SIGMA, gaussian_area


def gaussian_kernel_cov(maj_pix: float, min_pix: float, pa_deg: float) -> np.ndarray:
    """Pixel-frame covariance (x west, y north) of a Gaussian of FWHM ``maj_pix`` x ``min_pix``
    at position angle ``pa_deg`` east of north."""
    t = np.deg2rad(pa_deg)
    along = np.array([-np.sin(t), np.cos(t)])  # (x, y) of the major axis: north through east
    across = np.array([np.cos(t), np.sin(t)])
    s1, s2 = maj_pix / FWHM_PER_SIGMA, min_pix / FWHM_PER_SIGMA
    return s1**2 * np.outer(along, along) + s2**2 * np.outer(across, across)


def convolve_gaussian(image: np.ndarray, cov: np.ndarray, peak_normalised: bool = False) -> np.ndarray:
    """``image`` convolved with the Gaussian of pixel covariance ``cov`` (FFT, zero-padded so
    nothing wraps round). Unit-sum kernel: flux is kept; with ``peak_normalised`` the kernel's peak
    is 1 instead (Jy/pixel -> Jy/beam for a beam of that shape)."""
    ny, nx = image.shape
    py, px = sfft.next_fast_len(2 * ny), sfft.next_fast_len(2 * nx)
    ky = sfft.fftfreq(py)[:, None]
    kx = sfft.rfftfreq(px)[None, :]
    # the transform of exp(-x^T C^-1 x / 2) / (2 pi sqrt|C|) is exp(-2 pi^2 k^T C k)
    q = cov[0, 0] * kx**2 + 2 * cov[0, 1] * kx * ky + cov[1, 1] * ky**2
    transfer = np.exp(-2.0 * np.pi**2 * q)
    padded = np.zeros((py, px))
    padded[:ny, :nx] = np.nan_to_num(image)
    out = sfft.irfft2(sfft.rfft2(padded) * transfer, s=(py, px))[:ny, :nx]  # the kernel sits at the origin
    if peak_normalised:
        out = out * (2.0 * np.pi * np.sqrt(np.linalg.det(cov)))
    return out.astype(np.float32)


def seen_with_beam(sky: np.ndarray, beam_pix: tuple[float, float, float],
                   resolution_pix: tuple[float, float, float] | None = None) -> np.ndarray:
    """A Jy/pixel map (at ``resolution_pix``, a Gaussian finer than the beam; None: of points) as a
    restoring beam of ``beam_pix`` (FWHM major, minor in pixels, PA deg) shows it, Jy/beam: convolved
    with what the beam adds to the map's own resolution."""
    cov = gaussian_kernel_cov(*beam_pix)
    if resolution_pix is not None:
        w, v = np.linalg.eigh(cov - gaussian_kernel_cov(*resolution_pix))
        cov = (v * np.clip(w, 1e-6, None)) @ v.T  # the beam is the coarser: what remains is a Gaussian
    return (convolve_gaussian(sky, cov) * gaussian_area(beam_pix[0], beam_pix[1])).astype(np.float32)


def convolve_psf(image: np.ndarray, psf: np.ndarray) -> np.ndarray:
    """``image`` (Jy/pixel) convolved with a dirty beam ``psf`` (peak 1 at its pixel
    (ny // 2, nx // 2)), zero-padded: Jy/beam."""
    ny, nx = image.shape
    py, px = sfft.next_fast_len(ny + psf.shape[0]), sfft.next_fast_len(nx + psf.shape[1])
    kernel = np.zeros((py, px))
    cy, cx = psf.shape[0] // 2, psf.shape[1] // 2
    kernel[:psf.shape[0], :psf.shape[1]] = psf
    kernel = np.roll(kernel, (-cy, -cx), axis=(0, 1))
    padded = np.zeros((py, px))
    padded[:ny, :nx] = np.nan_to_num(image)
    out = sfft.irfft2(sfft.rfft2(padded) * sfft.rfft2(kernel), s=(py, px))[:ny, :nx]
    return out.astype(np.float32)


@dataclass
class SkyMap:
    """The sky (Jy/pixel) recovered from an image, on the image's grid."""

    data: np.ndarray  # float32 [y, x], Jy/pixel; NaN where the image was blank
    wcs: WCS | None  # the image's celestial WCS
    pixel_arcsec: float  # pixel side
    resolution: tuple[float, float, float]  # FWHM major, minor (arcsec) and PA (deg) of the map
    image_beam: tuple[float, float, float] | None  # the image's restoring beam, same units
    image_name: str = ""
    model: str = ""  # the model's label ('lofar-restore 1.0.0')
    image_kind: str = "dirty"  # what it was recovered from: a dirty or a CLEAN-restored image
    notes: list[str] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int]:
        return self.data.shape

    def total_flux(self) -> float:
        """Sum of the map, Jy."""
        return float(np.nansum(self.data))

    def flux_in(self, mask: np.ndarray) -> float:
        """Flux (Jy) of the map inside the pixels where ``mask`` is true."""
        mask = np.asarray(mask, bool)
        if mask.shape != self.data.shape:
            raise DecorasError(f"a region of {mask.shape} pixels does not fit a map of {self.data.shape}")
        return float(np.nansum(self.data[mask]))

    def convolved(self, beam: tuple[float, float, float] | None = None) -> np.ndarray:
        """The map as an image with the restoring beam ``beam`` (default the image's) would show
        it, Jy/beam: the map convolved with what the beam adds to the map's own resolution."""
        beam = beam or self.image_beam
        if not beam:
            raise DecorasError("the image has no restoring beam to convolve the map with")
        return seen_with_beam(self.data, self._in_pixels(beam), self._in_pixels(self.resolution))

    def _in_pixels(self, beam: tuple[float, float, float]) -> tuple[float, float, float]:
        return (beam[0] / self.pixel_arcsec, beam[1] / self.pixel_arcsec, beam[2])

    @property
    def beam_area_pixels(self) -> float:
        """The image's restoring beam's area in pixels: Jy/pixel times it reads as Jy/beam."""
        if not self.image_beam:
            raise DecorasError("the image has no restoring beam")
        bmaj, bmin, _ = self._in_pixels(self.image_beam)
        return gaussian_area(bmaj, bmin)

    def residual(self, image: np.ndarray, psf: np.ndarray | None = None) -> np.ndarray:
        """``image`` less what the map predicts it holds: the map convolved with the dirty beam
        ``psf`` (a dirty image; the map's own resolution, half a beam or less, smooths the prediction
        that little more), or with the image's restoring beam (a CLEAN-restored one)."""
        if image.shape != self.data.shape:
            raise DecorasError(f"an image of {image.shape} pixels is not the map's {self.data.shape}")
        if psf is not None:
            extra = convolve_psf(np.nan_to_num(self.data), psf)
        else:
            extra = self.convolved()
        return (np.asarray(image, np.float32) - extra).astype(np.float32)

    def header(self) -> fits.Header:
        """A FITS header: the image's celestial WCS, BUNIT, the map's resolution, provenance."""
        h = self.wcs.to_header() if self.wcs is not None else fits.Header()
        h["BUNIT"] = ("JY/PIXEL", "surface brightness per pixel")
        h["RESBMAJ"] = (self.resolution[0] / 3600.0, "[deg] FWHM major axis of the map's resolution")
        h["RESBMIN"] = (self.resolution[1] / 3600.0, "[deg] FWHM minor axis of the map's resolution")
        h["RESBPA"] = (self.resolution[2], "[deg] position angle of the map's resolution")
        if self.image_beam:
            h["IMBMAJ"] = (self.image_beam[0] / 3600.0, "[deg] restoring beam of the image it came from")
            h["IMBMIN"] = (self.image_beam[1] / 3600.0, "[deg]")
            h["IMBPA"] = (self.image_beam[2], "[deg]")
        h["ORIGIN"] = "decoras restore"
        h["DCRMODEL"] = (self.model[:68], "the model that recovered the map")
        if self.image_name:
            h["DCRIMAGE"] = (Path(self.image_name).name[:68], "the image the map was recovered from")
        h["DCRKIND"] = (self.image_kind, "dirty or restored: what the image was")
        for note in self.notes:
            h.add_history(note[:70])
        return h

    def write(self, path: str | os.PathLike) -> Path:
        """Write the map as a FITS image (atomically); returns the path."""
        path = Path(path)
        with atomic_path(path) as tmp:
            fits.PrimaryHDU(np.asarray(self.data, np.float32), self.header()).writeto(tmp, overwrite=True)
        return path
