"""A simulated blend as the files a survey cutout comes as: the image, its PSF, and the truth.

:func:`write_blend` writes ``NAME.fits`` (the cutout in ADU with a TAN WCS, the camera's
TELESCOP / INSTRUME / FILTER, ``MAGZP``, ``PSF_FWHM`` and ``SEEING`` in arcsec, ``PIXSCALE``),
``NAME_psf.fits`` (the PSF, unit sum), ``NAME_truth.fits`` (the two noise-free galaxies, a plane
each) and ``NAME_truth.ecsv`` (one row a galaxy: flux in the cutout and in all, magnitude,
centroid in pixels and on the sky, half-light radius, intrinsic and observed shapes).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from ..core.fileio import atomic_path
from .blends import BlendField, measure_shape


def blend_wcs(f: BlendField, ra_deg: float, dec_deg: float) -> WCS:
    """A TAN WCS for the cutout, centred on (ra, dec), north up and east left."""
    n = f.config.size
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [ra_deg, dec_deg]
    w.wcs.crpix = [(n + 1) / 2.0, (n + 1) / 2.0]
    scale = f.camera.pixel_arcsec / 3600.0
    w.wcs.cdelt = [-scale, scale]
    w.wcs.radesys = "ICRS"
    return w


def blend_header(f: BlendField, wcs: WCS) -> fits.Header:
    """The image's header: WCS, unit, camera, zero point and seeing."""
    h = wcs.to_header()
    h["BUNIT"] = ("ADU", "counts of the coadd")
    h["TELESCOP"], h["INSTRUME"], h["FILTER"] = f.camera.telescop, f.camera.instrume, f.camera.filter
    h["MAGZP"] = (f.camera.zero_point, "AB magnitude of 1 ADU")
    h["PSF_FWHM"] = (round(f.psf_fwhm_arcsec, 4), "[arcsec] FWHM of the PSF")
    h["SEEING"] = (round(f.psf_fwhm_arcsec, 4), "[arcsec] seeing FWHM")
    h["PIXSCALE"] = (f.camera.pixel_arcsec, "[arcsec] pixel side")
    h["SKYNOISE"] = (f.noise_sigma, "[ADU] background noise per pixel")
    h["ORIGIN"] = "decoras simulate (GalSim)"
    h["PSFMODEL"] = f.psf_kind
    return h


def truth_table(f: BlendField, wcs: WCS) -> Table:
    """The two galaxies' truth (see the module docstring)."""
    rows = []
    for k, (g, comp) in enumerate(zip(f.galaxies, f.components), start=1):
        ra, dec = wcs.pixel_to_world_values(g.x, g.y)
        seen = measure_shape(comp, g.x, g.y)
        rows.append({"id": k, "flux": float(comp.sum()), "flux_total": g.flux, "mag": g.mag, "x": g.x, "y": g.y,
                     "ra": float(ra), "dec": float(dec), "hlr_arcsec": g.hlr_arcsec, "e1": g.e1, "e2": g.e2,
                     "e1_observed": seen.e1 if seen else np.nan, "e2_observed": seen.e2 if seen else np.nan,
                     "profile": g.profile})
    t = Table(rows=rows)
    t["flux"].unit = t["flux_total"].unit = "adu"
    t["ra"].unit = t["dec"].unit = "deg"
    t["hlr_arcsec"].unit = "arcsec"
    t.meta.update({"psf_fwhm_arcsec": f.psf_fwhm_arcsec, "psf": f.psf_kind, "separation_fwhm": f.separation_fwhm,
                   "flux_ratio": f.flux_ratio, "camera": f.camera.name, "variety": f.config.variety,
                   "seed": list(f.seed), "noise_sigma": f.noise_sigma})
    return t


def write_blend(f: BlendField, folder: str | Path, name: str, ra_deg: float = 150.0,
                dec_deg: float = 2.0) -> dict[str, Path]:
    """Write the blend's four files into ``folder`` (atomically); their paths by kind."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    wcs = blend_wcs(f, ra_deg, dec_deg)
    header = blend_header(f, wcs)
    paths = {"image": folder / f"{name}.fits", "psf": folder / f"{name}_psf.fits",
             "components": folder / f"{name}_truth.fits", "truth": folder / f"{name}_truth.ecsv"}
    psf_header = fits.Header({"PIXSCALE": f.camera.pixel_arcsec, "PSF_FWHM": round(f.psf_fwhm_arcsec, 4)})
    for kind, data, h in (("image", f.image, header), ("psf", f.psf, psf_header), ("components", f.components, header)):
        with atomic_path(paths[kind]) as tmp:
            fits.PrimaryHDU(np.asarray(data, np.float32), h).writeto(tmp, overwrite=True)
    with atomic_path(paths["truth"]) as tmp:
        truth_table(f, wcs).write(tmp, format="ascii.ecsv", overwrite=True)
    return paths
