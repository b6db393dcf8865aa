"""Optical cameras as data: pixel scale, zero point, depth and seeing of an imaging survey.

A camera file (``decoras_gui/sim/cameras/*.toml``, each sourced in its comments) holds
``name``, the FITS ``telescop``, ``instrume`` and ``filter`` the simulator writes,
``pixel_arcsec``, ``zero_point`` (the AB magnitude of one ADU), the depth (``depth_mag``: the
5-sigma limiting magnitude in an aperture of ``depth_aperture_arcsec`` diameter), the seeing
(``psf_fwhm_range``, arcsec) and the Moffat ``moffat_beta_range`` of its PSFs, and ``gain``.
The radio interferometers are :mod:`.instrument`'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import tomllib

from ..core.errors import DecorasError

CAMERAS_DIR = Path(__file__).with_name("cameras")


@dataclass(frozen=True)
class Camera:
    """An imaging camera in one filter at a survey's depth (see the module docstring)."""

    name: str
    telescop: str
    instrume: str
    filter: str
    pixel_arcsec: float
    zero_point: float
    depth_mag: float
    depth_aperture_arcsec: float
    psf_fwhm_range: tuple[float, float]
    moffat_beta_range: tuple[float, float]
    gain: float = 1.0

    def flux_of(self, mag: float) -> float:
        """ADU of an AB magnitude."""
        return 10.0 ** (-0.4 * (mag - self.zero_point))

    def mag_of(self, flux: float) -> float:
        """AB magnitude of a flux in ADU (NaN for none)."""
        return self.zero_point - 2.5 * math.log10(flux) if flux > 0 else math.nan

    @property
    def pixel_noise(self) -> float:
        """The background noise per pixel (ADU) that makes a ``depth_mag`` source 5 sigma in the
        depth aperture: sigma_pix = F_lim / (5 sqrt(N_pix in the aperture))."""
        n_pix = math.pi * (0.5 * self.depth_aperture_arcsec / self.pixel_arcsec) ** 2
        return self.flux_of(self.depth_mag) / (5.0 * math.sqrt(n_pix))


@lru_cache(maxsize=None)
def get_camera(name: str) -> Camera:
    """The bundled camera ``name`` (case-insensitive; the file's stem or its ``name``)."""
    for path in sorted(CAMERAS_DIR.glob("*.toml")):
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
        if name.lower() in (path.stem.lower(), str(raw.get("name", "")).lower()):
            try:
                return Camera(**{**raw, "psf_fwhm_range": tuple(raw["psf_fwhm_range"]),
                                 "moffat_beta_range": tuple(raw["moffat_beta_range"])})
            except (TypeError, KeyError) as exc:
                raise DecorasError(f"camera file {path.name}: {exc}") from None
    known = ", ".join(p.stem for p in sorted(CAMERAS_DIR.glob("*.toml")))
    raise DecorasError(f"unknown camera {name!r} (known: {known})")
