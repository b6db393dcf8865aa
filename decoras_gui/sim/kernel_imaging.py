"""A second imaging route: convolutional gridding with a Kaiser-Bessel kernel, as imagers do.

:mod:`.imaging` grids each sample into the one cell it falls in and evaluates the model at
that cell's centre, so its dirty image is exactly the sky convolved with the dirty beam.
Real imagers (AIPS, CASA, WSClean) instead evaluate nothing at cell centres: the measured
visibility at its own (u, v) is spread over a W x W neighbourhood of cells with a smooth
kernel, the grid is Fourier transformed and divided by the kernel's transform (grid
correction).  The result differs in the details networks can learn by heart: aliasing, the
image-plane taper and its correction, the exact sampling of every baseline.  This module is
that route, for validation sets that training never sees (``SimConfig.gridder = 'kernel'``).

The kernel is Kaiser-Bessel with support ``KERNEL_SUPPORT`` cells and the shape parameter of
Beatty, Nishimura & Pauly (2005) for the grid's oversampling (``pad``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import fft as sfft
from scipy.special import i0

from ..core.errors import DecorasError
from .array import UVTracks
from .imaging import (
    MAS,
    RestoringBeam,
    SampledCoverage,
    _smear_of,
    component_visibilities,
    fit_beam,
    imaging_weights,
    smeared_visibilities,
    uv_taper,
)

KERNEL_SUPPORT = 6  # cells


def kb_beta(support: int, oversampling: float) -> float:
    """Kaiser-Bessel shape parameter (Beatty et al. 2005, eq. 5)."""
    a = float(oversampling)
    return float(np.pi * np.sqrt((support / a) ** 2 * (a - 0.5) ** 2 - 0.8))


def kb_kernel(d: np.ndarray, support: int, beta: float) -> np.ndarray:
    """The kernel at distances ``d`` (cells) from a sample; 0 beyond half the support."""
    x = 2.0 * np.asarray(d, float) / support
    inside = np.abs(x) <= 1.0
    out = np.zeros(np.shape(x))
    out[inside] = i0(beta * np.sqrt(1.0 - x[inside] ** 2)) / i0(beta)
    return out


def grid_correction(size: int, npad: int, support: int, beta: float) -> np.ndarray:
    """The kernel's continuous Fourier transform at the ``size`` central pixels of an ``npad``
    grid (1-D, peak-normalised): what the image is divided by."""
    t = np.linspace(-support / 2, support / 2, support * 64 + 1)
    k = kb_kernel(t, support, beta)
    p = np.arange(size) - size // 2
    c = (k[None, :] * np.cos(2 * np.pi * np.outer(p, t) / npad)).sum(axis=1)
    return c / c[size // 2]


@dataclass(frozen=True)
class KernelCoverage(SampledCoverage):
    """Kept samples and their kernel-gridding footprint for one image geometry, with the beam.

    Samples and their Hermitian mirrors are both gridded: entry arrays have 2 n rows, the
    first n the samples, the next n their mirrors (conjugated).
    """

    size: int
    cell_mas: float
    pad: int
    u: np.ndarray  # wavelengths of each kept sample
    v: np.ndarray
    base_x: np.ndarray  # (2n,) first grid column / row of each entry's footprint
    base_y: np.ndarray
    wx: np.ndarray  # (2n, W) kernel weights along x / y
    wy: np.ndarray
    weight: np.ndarray  # imaging weight of each kept sample
    sigma: np.ndarray
    ant1: np.ndarray
    ant2: np.ndarray
    scan: np.ndarray
    correction: np.ndarray  # (size, size) grid correction
    norm: float  # divides the raw image so that the dirty beam peaks at 1
    rms: float
    beam_image: np.ndarray
    beam: RestoringBeam
    smear_du: np.ndarray | None = None
    smear_dv: np.ndarray | None = None
    smear_bw: np.ndarray | None = None

    gridder = "kernel"

    def visibilities(self, l, m, flux, maj, mn, pa) -> np.ndarray:
        """Model visibilities at each sample's own (u, v), smeared when the coverage says so."""
        if np.size(flux) == 0:
            return np.zeros(self.n_vis, complex)
        if self.smear_du is not None:
            return smeared_visibilities(self.u, self.v, l, m, flux, maj, mn, pa, self.smear_du, self.smear_dv,
                                        self.smear_bw)
        return component_visibilities(self.u, self.v, l, m, flux, maj, mn, pa)

    def image(self, vis: np.ndarray) -> np.ndarray:
        """Dirty image (Jy/beam, float32): grid, inverse FFT, crop, grid-correct."""
        raw = self._raw_image(vis)
        return (raw / self.norm).astype(np.float32)

    def _raw_image(self, vis: np.ndarray) -> np.ndarray:
        npad, w = self.npad, self.wx.shape[1]
        val = self.weight * np.asarray(vis, complex)
        val = np.concatenate([val, np.conj(val)])
        re = np.zeros(npad * npad)
        im = np.zeros(npad * npad)
        for oy in range(w):
            rows = ((self.base_y + oy) % npad) * npad
            for ox in range(w):
                idx = rows + (self.base_x + ox) % npad
                k = self.wx[:, ox] * self.wy[:, oy]
                re += np.bincount(idx, val.real * k, minlength=npad * npad)
                im += np.bincount(idx, val.imag * k, minlength=npad * npad)
        grid = (re + 1j * im).reshape(npad, npad)
        img = sfft.fftshift(sfft.ifft2(grid, workers=1)).real
        lo = npad // 2 - self.size // 2
        return img[lo:lo + self.size, lo:lo + self.size] / self.correction


def make_kernel_coverage(tracks: UVTracks, size: int, cell_mas: float, pad: int = 2, weighting: str = "natural",
                         robust: float = 0.0, taper: float = 0.0, support: int = KERNEL_SUPPORT) -> KernelCoverage:
    """Kernel-gridding coverage of ``tracks`` (samples beyond the grid's edge dropped), weighted
    as :func:`.imaging.make_coverage` does, with its dirty beam and fitted restoring beam."""
    if size < 16 or size % 2:
        raise DecorasError(f"image size must be an even number >= 16, not {size}")
    npad = size * pad
    dl = cell_mas * MAS
    cx = -tracks.u * dl * npad
    cy = tracks.v * dl * npad
    edge = npad // 2 - support
    keep = (np.abs(cx) < edge) & (np.abs(cy) < edge)
    if not keep.any():
        raise DecorasError("no visibilities fall on the uv grid (cell size too large?)")
    cx, cy = cx[keep], cy[keep]
    sigma = tracks.sigma[keep]
    w = imaging_weights(np.rint(cx).astype(np.int64), np.rint(cy).astype(np.int64), 1.0 / sigma**2, npad,
                        weighting, robust)
    if taper > 0:
        w = w * uv_taper(tracks.u[keep], tracks.v[keep], taper)
    beta = kb_beta(support, pad)
    ex, ey = np.concatenate([cx, -cx]), np.concatenate([cy, -cy])
    base_x = np.floor(ex).astype(np.int64) - support // 2 + 1
    base_y = np.floor(ey).astype(np.int64) - support // 2 + 1
    offs = np.arange(support)
    wx = kb_kernel(base_x[:, None] + offs[None, :] - ex[:, None], support, beta)
    wy = kb_kernel(base_y[:, None] + offs[None, :] - ey[:, None], support, beta)
    c1 = grid_correction(size, npad, support, beta)
    rms = float(np.sqrt(np.sum(w**2 * sigma**2)) / w.sum())
    cov = KernelCoverage(size, cell_mas, pad, tracks.u[keep], tracks.v[keep], base_x, base_y, wx, wy, w, sigma,
                         tracks.ant1[keep], tracks.ant2[keep], tracks.scan[keep], np.outer(c1, c1), 1.0, rms,
                         np.zeros(0, np.float32), RestoringBeam(0.0, 0.0, 0.0), **_smear_of(tracks, keep))
    raw = cov._raw_image(np.ones(cov.n_vis, complex))
    c = size // 2
    cov = replace(cov, norm=float(raw[c, c]))
    beam_img = (raw / cov.norm).astype(np.float32)
    return replace(cov, beam_image=beam_img, beam=fit_beam(beam_img, cell_mas))
