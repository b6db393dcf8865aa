"""Visibilities, weighting, gridding and FFT to dirty images; the restoring beam.

Image geometry: ``size`` x ``size`` pixels of ``cell_mas``; the phase centre is pixel
(size // 2, size // 2) (0-based); x (numpy axis 1, FITS axis 1) increases to the *west*
(CDELT1 < 0), y to the north.  The cell size, i.e. the number of pixels per beam minor
axis (about 6 at 1 mas and 1.4 GHz), is a property the trained networks depend on.

Gridding is nearest-cell on a grid padded ``pad`` times (so sidelobes of sources do not
wrap round the field).  Model visibilities are evaluated analytically at the *centre* of
the cell each sample falls in, which makes the dirty image exactly the sky convolved with
the dirty beam (the FFT of the gridded weights): sources land where the WCS says at any
sub-pixel offset and a point of S Jy peaks at S Jy/beam.  Noise is drawn per visibility
and gridded with the same weights, so it is correlated like real dirty-image noise.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import fft as sfft

from ..core.errors import DecorasError
from .array import UVTracks
from .beam_fit import FWHM_SIGMA, RestoringBeam, _moment_beam, cov_to_fwhm, fit_beam, gaussian_cov  # noqa: F401

MAS = np.pi / (180.0 * 3600.0 * 1000.0)  # radians per milliarcsecond


def component_terms(u, v, l, m, flux, maj, mn, pa) -> np.ndarray:
    """Visibility of each component at each (u, v): (n_uv, n_components) complex.

    ``u, v`` in wavelengths; ``l, m`` offsets in radians (l east); ``maj, mn`` FWHM in mas
    (0 for a point); ``pa`` degrees east of north.  A component contributes
    S exp(-2 pi i (ul+vm)) G(u,v), G the analytic transform of the normalised elliptical
    Gaussian, exp(-2 pi^2 (s_maj^2 u_par^2 + s_min^2 u_perp^2)).
    """
    u = np.asarray(u, float)[:, None]
    v = np.asarray(v, float)[:, None]
    pa = np.deg2rad(np.asarray(pa, float))[None, :]
    s_maj = np.asarray(maj, float)[None, :] * MAS / FWHM_SIGMA
    s_min = np.asarray(mn, float)[None, :] * MAS / FWHM_SIGMA
    u_par = u * np.sin(pa) + v * np.cos(pa)
    u_perp = u * np.cos(pa) - v * np.sin(pa)
    amp = np.asarray(flux, float)[None, :] * np.exp(-2 * np.pi**2 * ((s_maj * u_par) ** 2 + (s_min * u_perp) ** 2))
    phase = -2 * np.pi * (u * np.asarray(l, float)[None, :] + v * np.asarray(m, float)[None, :])
    return amp * np.exp(1j * phase)


def component_visibilities(u, v, l, m, flux, maj, mn, pa) -> np.ndarray:
    """Exact visibilities (n_uv,) of points / elliptical Gaussians, V = sum S exp(-2 pi i (ul+vm)) G(u,v)
    (see :func:`component_terms`)."""
    return component_terms(u, v, l, m, flux, maj, mn, pa).sum(axis=1)


def smearing_factors(u, v, l, m, du, dv, bw) -> np.ndarray:
    """Time and bandwidth smearing of each component at each sample: (n_uv, n_components).

    Averaging exp(-2 pi i (u l + v m)) over an integration in which (u, v) moves by
    (du, dv), and over a rectangular channel of fractional width ``bw`` (u, v scale with
    frequency), multiplies each term by sinc(du l + dv m) sinc(bw (u l + v m)).
    """
    l = np.asarray(l, float)[None, :]
    m = np.asarray(m, float)[None, :]
    phase = np.asarray(u, float)[:, None] * l + np.asarray(v, float)[:, None] * m
    drift = np.asarray(du, float)[:, None] * l + np.asarray(dv, float)[:, None] * m
    return np.sinc(drift) * np.sinc(np.asarray(bw, float)[:, None] * phase)


def smeared_visibilities(u, v, l, m, flux, maj, mn, pa, du, dv, bw, cell_index=None,
                         chunk: int = 32768) -> np.ndarray:
    """Visibilities of the components at samples, smeared (:func:`smearing_factors`).

    ``u, v``: where the terms are evaluated; with ``cell_index`` the terms are computed once
    per (u, v) and sample k takes row ``cell_index[k]`` (the samples' own du, dv, bw still
    apply).  Done in chunks of samples to bound memory.
    """
    n = len(du)
    out = np.empty(n, complex)
    terms_all = component_terms(u, v, l, m, flux, maj, mn, pa) if cell_index is not None else None
    uu, vv = np.asarray(u, float), np.asarray(v, float)
    for a in range(0, n, chunk):
        b = min(a + chunk, n)
        if cell_index is None:
            terms, us, vs = component_terms(uu[a:b], vv[a:b], l, m, flux, maj, mn, pa), uu[a:b], vv[a:b]
        else:
            k = cell_index[a:b]
            terms, us, vs = terms_all[k], uu[k], vv[k]
        out[a:b] = (terms * smearing_factors(us, vs, l, m, du[a:b], dv[a:b], bw[a:b])).sum(axis=1)
    return out


class SampledCoverage:
    """What every coverage (one imaging route's gridding of kept samples) offers: the padded
    grid side and the number of samples; subclasses hold ``size``, ``pad`` and ``weight``."""

    size: int
    pad: int
    weight: np.ndarray

    @property
    def npad(self) -> int:
        return self.size * self.pad

    @property
    def n_vis(self) -> int:
        return int(self.weight.size)


@dataclass(frozen=True)
class Coverage(SampledCoverage):
    """Gridded uv coverage of one schedule/declination for one image geometry, with its beam.

    Samples are gridded on the half plane nx >= 0 of the padded grid (a sample with nx < 0
    goes to its Hermitian mirror, conjugated; one with nx = 0 to both cells), and the image
    is a pruned real inverse FFT of the occupied columns.
    """

    size: int
    cell_mas: float
    pad: int
    ncol: int  # occupied half-plane columns 0..ncol-1
    idx: np.ndarray  # half-plane flat grid index of each gridding entry
    src: np.ndarray  # sample feeding each entry
    conj: np.ndarray  # +1 / -1: entry takes the sample's value or its conjugate
    sign: np.ndarray  # (-1)^(nx+ny) of each entry: puts the phase centre mid-image
    ucell_u: np.ndarray  # (u, v) wavelengths of each distinct cell centre
    ucell_v: np.ndarray
    uinv: np.ndarray  # sample -> distinct cell
    weight: np.ndarray  # imaging weight of each kept sample
    sigma: np.ndarray  # thermal noise per real/imag part (Jy) of each kept sample
    ant1: np.ndarray
    ant2: np.ndarray
    scan: np.ndarray
    wsum: float  # sum of gridded weights over the full Hermitian plane
    rms: float  # predicted image rms (Jy/beam)
    beam_image: np.ndarray  # dirty beam, size x size float32, peak 1 at the phase centre
    beam: RestoringBeam
    # smearing of each kept sample (None: none; see smearing_factors)
    smear_du: np.ndarray | None = None
    smear_dv: np.ndarray | None = None
    smear_bw: np.ndarray | None = None

    gridder = "nearest"

    def visibilities(self, l, m, flux, maj, mn, pa) -> np.ndarray:
        """Model visibilities of components at the kept samples (:func:`model_visibilities`)."""
        return model_visibilities(self, l, m, flux, maj, mn, pa)

    def image(self, vis: np.ndarray) -> np.ndarray:
        """Dirty image of visibilities at the kept samples (:func:`dirty_image`)."""
        return dirty_image(self, vis)


def imaging_weights(nx: np.ndarray, ny: np.ndarray, w: np.ndarray, npad: int, weighting: str,
                    robust: float = 0.0) -> np.ndarray:
    """Imaging weights from natural weights ``w`` of samples in grid cells (nx, ny) of an
    ``npad`` grid: natural, uniform (divided by the cell's weight density, its Hermitian
    mirror included) or Briggs robust (``robust`` -2..2, as in AIPS/CASA)."""
    if weighting == "natural":
        return w
    full = (ny % npad) * npad + (nx % npad)
    mirror = (-ny % npad) * npad + (-nx % npad)
    dens = np.bincount(np.concatenate([full, mirror]), np.concatenate([w, w]), minlength=npad * npad)
    dk = dens[full]
    if weighting == "uniform":
        return w / dk
    if weighting in ("robust", "briggs"):
        f2 = (5.0 * 10.0 ** (-robust)) ** 2 / (np.sum(dens**2) / np.sum(2 * w))
        return w / (1.0 + dk * f2)
    raise DecorasError(f"unknown weighting {weighting!r} (natural, uniform, robust)")


def uv_taper(u: np.ndarray, v: np.ndarray, taper: float) -> np.ndarray:
    """Gaussian uv taper falling to 0.5 at ``taper`` x the longest sampled baseline (1 when 0)."""
    if taper <= 0:
        return np.ones(np.shape(u))
    r2 = np.asarray(u, float) ** 2 + np.asarray(v, float) ** 2
    half = taper * np.sqrt(r2.max())
    return np.exp(-np.log(2.0) * r2 / half**2)


def _smear_of(tracks: UVTracks, keep: np.ndarray) -> dict:
    if tracks.smear_du is None:
        return {}
    return {"smear_du": tracks.smear_du[keep], "smear_dv": tracks.smear_dv[keep], "smear_bw": tracks.smear_bw[keep]}


def make_coverage(tracks: UVTracks, size: int, cell_mas: float, pad: int = 2,
                  weighting: str = "natural", robust: float = 0.0, taper: float = 0.0) -> Coverage:
    """Grid the samples of ``tracks`` (dropping any beyond the grid's Nyquist limit), weight them
    (``taper``: :func:`uv_taper`), and compute the dirty beam and its fitted restoring beam."""
    if size < 16 or size % 2:
        raise DecorasError(f"image size must be an even number >= 16, not {size}")
    npad = size * pad
    dl = cell_mas * MAS
    nx = np.rint(-tracks.u * dl * npad).astype(np.int64)
    ny = np.rint(tracks.v * dl * npad).astype(np.int64)
    keep = (np.abs(nx) < npad // 2) & (np.abs(ny) < npad // 2)
    if not keep.any():
        raise DecorasError("no visibilities fall on the uv grid (cell size too large?)")
    nx, ny = nx[keep], ny[keep]
    sigma = tracks.sigma[keep]
    w = imaging_weights(nx, ny, 1.0 / sigma**2, npad, weighting, robust)
    if taper > 0:
        w = w * uv_taper(tracks.u[keep], tracks.v[keep], taper)
    full = (ny % npad) * npad + (nx % npad)
    # half-plane entries: the sample itself where nx >= 0, its mirror where nx <= 0
    s = np.arange(nx.size)
    pos, neg = nx >= 0, nx <= 0
    src = np.concatenate([s[pos], s[neg]])
    gx = np.concatenate([nx[pos], -nx[neg]])
    gy = np.concatenate([ny[pos], -ny[neg]])
    conj = np.concatenate([np.ones(pos.sum()), -np.ones(neg.sum())])
    ncol = int(gx.max()) + 1
    idx = (gy % npad) * ncol + gx
    sign = 1.0 - 2.0 * ((gx + gy) % 2)
    uniq, uinv = np.unique(full, return_inverse=True)
    ux, uy = uniq % npad, uniq // npad
    ucell_u = -(ux - npad * (ux >= npad // 2)) / (npad * dl)
    ucell_v = (uy - npad * (uy >= npad // 2)) / (npad * dl)
    wsum = 2.0 * float(w.sum())
    rms = float(np.sqrt(np.sum(w**2 * sigma**2)) / w.sum())
    cov = Coverage(size, cell_mas, pad, ncol, idx, src, conj, sign, ucell_u, ucell_v, uinv, w, sigma,
                   tracks.ant1[keep], tracks.ant2[keep], tracks.scan[keep], wsum, rms,
                   np.zeros(0, np.float32), RestoringBeam(0.0, 0.0, 0.0), **_smear_of(tracks, keep))
    beam_img = dirty_image(cov, np.ones(nx.size, complex))
    return replace(cov, beam_image=beam_img, beam=fit_beam(beam_img, cell_mas))


def dirty_image(cov: Coverage, vis: np.ndarray) -> np.ndarray:
    """Dirty image (Jy/beam, float32) of visibilities ``vis`` given at the kept samples of ``cov``."""
    wv = (cov.weight * vis)[cov.src] * cov.sign
    n = cov.npad * cov.ncol
    re = np.bincount(cov.idx, wv.real, minlength=n)
    im = np.bincount(cov.idx, wv.imag * cov.conj, minlength=n)
    grid = (re + 1j * im).reshape(cov.npad, cov.ncol)
    lo = cov.npad // 2 - cov.size // 2
    rows = sfft.ifft(grid, axis=0, workers=1)[lo:lo + cov.size]  # 1/npad normalisation
    img = sfft.irfft(rows, n=cov.npad, axis=1, workers=1)[:, lo:lo + cov.size]
    return (img * (cov.npad * cov.npad / cov.wsum)).astype(np.float32)


def model_visibilities(cov: Coverage, l, m, flux, maj, mn, pa) -> np.ndarray:
    """Model visibilities at the cell centre of each kept sample (see module docstring), smeared
    when the coverage carries smearing."""
    if np.size(flux) == 0:
        return np.zeros(cov.n_vis, complex)
    if cov.smear_du is not None:
        return smeared_visibilities(cov.ucell_u, cov.ucell_v, l, m, flux, maj, mn, pa, cov.smear_du,
                                    cov.smear_dv, cov.smear_bw, cell_index=cov.uinv)
    return component_visibilities(cov.ucell_u, cov.ucell_v, l, m, flux, maj, mn, pa)[cov.uinv]


def thermal_noise(cov: Coverage, rng: np.random.Generator) -> np.ndarray:
    """Complex Gaussian noise per kept sample, sigma per real/imaginary part."""
    n = cov.n_vis
    return cov.sigma * (rng.standard_normal(n) + 1j * rng.standard_normal(n))


def gain_errors(cov: Coverage, rng: np.random.Generator, amp_sigma: float, phase_deg: float) -> np.ndarray:
    """Antenna-based complex gain factor g_i conj(g_j) per sample, constant within a scan."""
    n_ant = int(max(cov.ant1.max(), cov.ant2.max())) + 1
    n_scan = int(cov.scan.max()) + 1
    g = (1.0 + amp_sigma * rng.standard_normal((n_scan, n_ant))) * np.exp(
        1j * np.deg2rad(phase_deg) * rng.standard_normal((n_scan, n_ant)))
    return g[cov.scan, cov.ant1] * np.conj(g[cov.scan, cov.ant2])


def restored_components(size: int, cell_mas: float, beam: RestoringBeam, x, y, flux, maj, mn, pa,
                        mask_level: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Noise-free sky convolved with the restoring beam (Jy/beam), the source mask, and each
    component's restored peak (Jy/beam).

    Each component restored is a Gaussian with covariance C_src + C_beam and peak
    S sqrt(det C_beam / det C); the mask marks pixels where any component's restored
    profile exceeds ``mask_level`` of its own peak (0.5: inside its restored FWHM ellipse).
    """
    img = np.zeros((size, size), np.float32)
    mask = np.zeros((size, size), bool)
    cb = beam.cov()
    ctot = gaussian_cov(maj, mn, pa) + cb
    peaks = np.asarray(flux, float) * np.sqrt(np.linalg.det(cb) / np.linalg.det(ctot))
    for k in range(np.size(flux)):
        half = int(np.ceil(5.0 * np.sqrt(np.linalg.eigvalsh(ctot[k])[1]) / cell_mas)) + 1
        x0, y0 = int(np.rint(x[k])), int(np.rint(y[k]))
        xs = slice(max(x0 - half, 0), min(x0 + half + 1, size))
        ys = slice(max(y0 - half, 0), min(y0 + half + 1, size))
        if xs.start >= xs.stop or ys.start >= ys.stop:
            continue
        yy, xx = np.mgrid[ys, xs]
        d = np.stack([-(xx - x[k]) * cell_mas, (yy - y[k]) * cell_mas], -1)
        q = np.einsum("...i,ij,...j->...", d, np.linalg.inv(ctot[k]), d)
        prof = np.exp(-0.5 * q)
        img[ys, xs] += (peaks[k] * prof).astype(np.float32)
        mask[ys, xs] |= prof > mask_level
    return img, mask, peaks
