"""Restoring beams: the elliptical Gaussian fitted to a dirty beam's main lobe, and its algebra.

Light on purpose (numpy and scipy only, no astropy): the networks' dirty-beam channel
(:mod:`decoras_gui.ml.sidelobe_map`) fits the main lobe of a user's PSF in the process that runs
the networks, which should not import the simulator's VLBA array (astropy coordinates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage, optimize

#: FWHM of a Gaussian in units of its sigma (core.geometry.FWHM_PER_SIGMA, which imports astropy)
FWHM_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))


@dataclass(frozen=True)
class RestoringBeam:
    """Elliptical Gaussian restoring beam fitted to a dirty beam: FWHM in mas, PA in degrees east of north."""

    bmaj: float
    bmin: float
    bpa: float

    def cov(self) -> np.ndarray:
        """2x2 covariance (mas^2) in (l east, m north)."""
        return gaussian_cov(self.bmaj, self.bmin, self.bpa)

    def fwhm_along(self, pa_deg: float | np.ndarray) -> np.ndarray:
        """FWHM (mas) of the beam's 1-D cut along position angle ``pa_deg``."""
        e = np.stack([np.sin(np.deg2rad(pa_deg)), np.cos(np.deg2rad(pa_deg))])
        return FWHM_SIGMA * np.sqrt(np.einsum("i...,ij,j...->...", e, self.cov(), e))

    def to_core(self):
        """The same beam as a ``decoras_gui.core.beam.Beam`` (degrees)."""
        from ..core.beam import Beam

        return Beam(self.bmaj / 3.6e6, self.bmin / 3.6e6, self.bpa, "simulation")

    @property
    def area_mas2(self) -> float:
        """Beam solid angle 2 pi sigma_maj sigma_min (mas^2)."""
        return float(np.pi / (4 * np.log(2)) * self.bmaj * self.bmin)


def gaussian_cov(maj, mn, pa_deg) -> np.ndarray:
    """Covariance matrices (..., 2, 2) in (l east, m north) of Gaussians with FWHM maj, min, PA."""
    pa = np.deg2rad(np.asarray(pa_deg, float))
    e = np.stack([np.sin(pa), np.cos(pa)], -1)
    f = np.stack([np.cos(pa), -np.sin(pa)], -1)
    sa = (np.asarray(maj, float) / FWHM_SIGMA) ** 2
    sb = (np.asarray(mn, float) / FWHM_SIGMA) ** 2
    return (sa[..., None, None] * e[..., :, None] * e[..., None, :]
            + sb[..., None, None] * f[..., :, None] * f[..., None, :])


def cov_to_fwhm(cov: np.ndarray) -> tuple[float, float, float]:
    """(maj, min FWHM, PA deg E of N in [0, 180)) of a 2x2 covariance in (l, m)."""
    vals, vecs = np.linalg.eigh(cov)
    maj_vec = vecs[:, 1]
    pa = np.rad2deg(np.arctan2(maj_vec[0], maj_vec[1])) % 180.0
    return float(FWHM_SIGMA * np.sqrt(vals[1])), float(FWHM_SIGMA * np.sqrt(max(vals[0], 0.0))), float(pa)


def fit_beam(beam_img: np.ndarray, cell_mas: float, level: float = 0.35) -> RestoringBeam:
    """Fit an elliptical Gaussian (peak 1, centred) to the main lobe of a dirty beam.

    The main lobe is the connected region around the centre above ``level``; a log-linear
    fit gives the start for a scipy least-squares fit of the Gaussian itself.
    """
    c = beam_img.shape[0] // 2
    h = min(c, 64)
    cut = beam_img[c - h:c + h + 1, c - h:c + h + 1].astype(float)
    lab, _ = ndimage.label(cut > level)
    sel = lab == lab[h, h]
    yy, xx = np.nonzero(sel)
    dl = -(xx - h) * cell_mas
    dm = (yy - h) * cell_mas
    z = cut[sel]
    a = np.stack([dl**2, 2 * dl * dm, dm**2], 1)
    q0 = np.linalg.lstsq(a * z[:, None], -np.log(z) * z, rcond=None)[0]

    def resid(q):
        return np.exp(-(a @ q)) - z

    try:
        q = optimize.least_squares(resid, q0, method="lm").x
        inv = np.array([[q[0], q[1]], [q[1], q[2]]]) * 2.0  # exp(-d^T inv d / 2)
        if np.all(np.linalg.eigvalsh(inv) > 0):
            return RestoringBeam(*cov_to_fwhm(np.linalg.inv(inv)))
    except (np.linalg.LinAlgError, ValueError):
        pass
    return _moment_beam(dl, dm, level, cell_mas)


def _moment_beam(dl: np.ndarray, dm: np.ndarray, level: float, cell_mas: float) -> RestoringBeam:
    """The Gaussian whose part above ``level`` has the second moments of the main-lobe pixels
    (for a degenerate lobe the least-squares fit cannot take: a handful of pixels, or a line).

    Uniformly weighted, the region exp(-d^T C^-1 d / 2) >= L of a Gaussian has the covariance
    C (1 - L (1 + T)) / (1 - L), T = ln(1 / L); the widths are kept at half a pixel or more."""
    t = math.log(1.0 / level)
    shrink = (1.0 - level * (1.0 + t)) / (1.0 - level)
    d = np.stack([dl, dm])
    cov = (d @ d.T) / max(d.shape[1], 1) / shrink
    vals, vecs = np.linalg.eigh(cov)
    vals = np.maximum(vals, (0.5 * cell_mas / FWHM_SIGMA) ** 2 * FWHM_SIGMA**2 / 4.0)
    return RestoringBeam(*cov_to_fwhm(vecs @ np.diag(vals) @ vecs.T))
