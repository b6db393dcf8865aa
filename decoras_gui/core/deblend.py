"""A deblended blend: two galaxies' images, their photometry, and the files they are written as.

:class:`DeblendResult` is the deblend task's result (``result_kind`` "components"): the cutout the
network read (image units, background subtracted), one :class:`DeblendedGalaxy` per component with
its image on the cutout's grid, and what the photometry rests on (noise, background, PSF FWHM and
zero point, each with where it came from). :meth:`DeblendResult.residual` is the cutout minus both
components: what is left is the noise (and any third object). :meth:`DeblendResult.write` writes the
component images as one FITS file (the cutout, each galaxy and the residual, one HDU each, with the
cutout's WCS) and :func:`photometry_table` the catalogue (ECSV, CSV or FITS by extension).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from .fileio import atomic_path


@dataclass
class DeblendedGalaxy:
    """One galaxy of a blend: its image and what was measured on it (pixels 0-based in the whole
    image, x along columns; fluxes in the image's unit)."""

    index: int  # 1 for the brighter
    image: np.ndarray  # on the cutout's grid
    flux: float
    flux_err: float  # from the noise alone
    mag: float  # AB, NaN without a zero point
    mag_err: float
    x: float
    y: float
    ra: float  # deg, NaN without a celestial WCS
    dec: float
    size_arcsec: float  # the adaptive moments' sigma (PSF included)
    e1: float  # observed distortion (a^2 - b^2) / (a^2 + b^2) components; NaN when moments fail
    e2: float
    significant: bool  # flux at least 5 times its noise


@dataclass
class DeblendResult:
    """The deblend of one cutout (see the module docstring)."""

    cutout: np.ndarray  # data minus the background, on the cutout's grid
    origin: tuple[int, int]  # (y0, x0) of the cutout in the image
    galaxies: list[DeblendedGalaxy]
    noise_sigma: float  # per pixel, image units
    background: float  # subtracted
    psf_fwhm_arcsec: float
    psf_source: str
    zero_point: float | None
    zero_point_source: str
    pixel_arcsec: float
    wcs: WCS | None  # the cutout's
    image_path: str = ""
    model: str = ""
    unit: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def model_image(self) -> np.ndarray:
        """The sum of the components: the data minus the noise, as the deblender sees it."""
        return np.sum([g.image for g in self.galaxies], axis=0) if self.galaxies else np.zeros_like(self.cutout)

    @property
    def residual(self) -> np.ndarray:
        return (self.cutout - self.model_image).astype(np.float32)

    @property
    def split(self) -> bool:
        """True when both components are significant: the blend was split in two."""
        return sum(g.significant for g in self.galaxies) == 2

    def header(self) -> fits.Header:
        h = self.wcs.to_header() if self.wcs is not None else fits.Header()
        if self.unit:
            h["BUNIT"] = self.unit
        h["ORIGIN"] = "decoras deblend"
        h["DBMODEL"] = (self.model, "deblending model")
        h["DBSRC"] = (Path(self.image_path).name[:60], "image deblended")
        h["DBX0"], h["DBY0"] = (self.origin[1], "cutout's first column in the image (0-based)"), \
            (self.origin[0], "cutout's first row in the image (0-based)")
        h["PSF_FWHM"] = (round(self.psf_fwhm_arcsec, 4), "[arcsec] PSF FWHM used")
        if self.zero_point is not None:
            h["MAGZP"] = (self.zero_point, "AB magnitude of one unit")
        h["SKYNOISE"] = (self.noise_sigma, "noise per pixel")
        h["SKYLEVEL"] = (self.background, "background subtracted")
        return h

    def write(self, path: str | os.PathLike) -> Path:
        """One FITS file: PRIMARY the cutout, GALAXY1, GALAXY2 the components, RESIDUAL the rest."""
        path = Path(path)
        h = self.header()
        hdus = [fits.PrimaryHDU(self.cutout.astype(np.float32), h)]
        for g in self.galaxies:
            gh = h.copy()
            gh["FLUX"] = (g.flux, "sum of the component")
            if math.isfinite(g.mag):
                gh["MAG"] = (round(g.mag, 4), "AB")
            hdus.append(fits.ImageHDU(g.image.astype(np.float32), gh, name=f"GALAXY{g.index}"))
        hdus.append(fits.ImageHDU(self.residual, h, name="RESIDUAL"))
        with atomic_path(path) as tmp:
            fits.HDUList(hdus).writeto(tmp, overwrite=True)
        return path


def photometry_table(results: list[DeblendResult], blend_ids: list[int] | None = None) -> Table:
    """One row per galaxy of each result: blend, galaxy, position, flux, magnitude, size, shape."""
    rows = []
    for k, r in enumerate(results):
        for g in r.galaxies:
            rows.append({"blend": (blend_ids[k] if blend_ids else k + 1), "galaxy": g.index,
                         "ra": g.ra, "dec": g.dec, "x": g.x, "y": g.y, "flux": g.flux, "flux_err": g.flux_err,
                         "mag": g.mag, "mag_err": g.mag_err, "size_arcsec": g.size_arcsec, "e1": g.e1, "e2": g.e2,
                         "significant": g.significant})
    names = ["blend", "galaxy", "ra", "dec", "x", "y", "flux", "flux_err", "mag", "mag_err", "size_arcsec", "e1",
             "e2", "significant"]
    t = Table(rows=rows, names=names) if rows else Table(names=names, dtype=[int, int] + [float] * 11 + [bool])
    t["ra"].unit = t["dec"].unit = "deg"
    t["size_arcsec"].unit = "arcsec"
    t["mag"].unit = t["mag_err"].unit = "mag"
    for col in ("ra", "dec"):
        t[col].format = ".7f"

    if results:
        r = results[0]
        t.meta.update({"image": r.image_path, "model": r.model, "unit": r.unit,
                       "zero_point": r.zero_point, "zero_point_source": r.zero_point_source,
                       "psf_fwhm_arcsec": r.psf_fwhm_arcsec, "psf_source": r.psf_source})
    return t


def write_photometry(results: list[DeblendResult], path: str | os.PathLike,
                     blend_ids: list[int] | None = None) -> Path:
    """The photometry of ``results`` as a catalogue (format from the extension: .ecsv, .csv, .fits)."""
    path = Path(path)
    t = photometry_table(results, blend_ids)
    fmt = {".csv": "ascii.csv", ".fits": "fits", ".fit": "fits"}.get(path.suffix.lower(), "ascii.ecsv")
    with atomic_path(path) as tmp:
        t.write(tmp, format=fmt, overwrite=True)
    return path
