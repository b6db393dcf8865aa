"""`decoras deblend IMAGE --at RA,DEC --out DIR`: separate a blend of two galaxies, headless.

The image is an optical survey image (a cutout or a whole tile, ADU, counts or nanomaggies, with a
celestial WCS). The PSF's FWHM comes from ``--psf-fwhm``, else the header (PSF_FWHM, SEEING,
FWHM ...), else the PSF image (``--psf FILE``, else ``NAME_psf.fits`` beside the image); the zero point
from ``--zero-point``, else the header (MAGZP, PHOTZP ...; 22.5 for nanomaggies). The blends are at
``--at RA,DEC`` (degrees or sexagesimal, one or more), at ``--pixel X,Y`` (0-based), or at every row
of ``--catalog IN`` (a table with RA/Dec columns, or x/y pixel columns). For each blend DIR gets
``NAME_blendK.fits`` (the cutout, both galaxies and the residual, one HDU each, with the WCS), and
for all of them one catalogue ``NAME_deblend.ecsv`` (``--format csv`` or ``fits`` for others):
per galaxy its flux, magnitude, centroid, size and ellipticity.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli import command
from ..core.errors import DecorasError
from .progress import ProgressBar

#: column names a catalogue's right ascension / declination / pixel positions may have
RA_COLUMNS = ("ra", "raj2000", "ra_deg", "alpha_j2000", "ra_icrs", "ra_j2000")
DEC_COLUMNS = ("dec", "dej2000", "decj2000", "dec_deg", "delta_j2000", "de_icrs", "dec_j2000")
X_COLUMNS = ("x", "x_image", "xcentroid", "x_centroid", "x_pix")
Y_COLUMNS = ("y", "y_image", "ycentroid", "y_centroid", "y_pix")


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", help="optical FITS image with a celestial WCS")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--at", action="append", metavar="RA,DEC",
                       help="a blend's sky position (degrees, or 10:00:28.6,+02:12:21); repeat for more")
    where.add_argument("--pixel", action="append", metavar="X,Y", help="a blend's pixel position (0-based)")
    where.add_argument("--catalog", metavar="IN", help="a table of blends (RA/Dec or x/y columns; ECSV, CSV, FITS)")
    p.add_argument("--out", required=True, help="folder for the component images and the catalogue")
    p.add_argument("--model", default=None, help="deblend model: a name or a model card (default: vst-deblend)")
    p.add_argument("--psf-fwhm", type=float, default=None, help="the PSF's FWHM in arcsec (default: the header's)")
    p.add_argument("--psf", metavar="FILE",
                   help="the PSF image (its FWHM is used when neither --psf-fwhm nor the header gives one)")
    p.add_argument("--zero-point", type=float, default=None, help="AB magnitude of one image unit (default: "
                   "MAGZP/PHOTZP from the header)")
    p.add_argument("--format", choices=("ecsv", "csv", "fits"), default="ecsv", help="catalogue format")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))


def parse_sky(text: str):
    """A SkyCoord from 'RA,DEC' in degrees or sexagesimal (hours for RA with colons or h)."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    parts = [s.strip() for s in text.replace(" ", ",", 1).split(",") if s.strip()] if "," in text else text.split()
    if len(parts) != 2:
        raise DecorasError(f"--at {text!r}: give RA,DEC (e.g. 150.1172,2.2059 or 10:00:28.1,+02:12:21)")
    ra_unit = u.hourangle if any(c in parts[0] for c in ":h") else u.deg
    try:
        return SkyCoord(parts[0], parts[1], unit=(ra_unit, u.deg))
    except ValueError as exc:
        raise DecorasError(f"--at {text!r}: not a sky position ({exc})") from None


def _pixel(text: str) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise DecorasError(f"--pixel {text!r}: give X,Y in pixels (0-based)") from None
    return x, y


def _column(table, names: tuple[str, ...]):
    lower = {c.lower(): c for c in table.colnames}
    return next((table[lower[n]] for n in names if n in lower), None)


def catalogue_positions(path: str, image) -> list[tuple[float, float]]:
    """Pixel positions (x, y) of the rows of a catalogue of blends."""
    import astropy.units as u
    import numpy as np
    from astropy.coordinates import SkyCoord
    from astropy.table import Table

    try:
        table = Table.read(path)
    except Exception as exc:  # astropy raises many kinds for an unreadable table
        raise DecorasError(f"cannot read the catalogue ({exc})", path) from None
    ra, dec = _column(table, RA_COLUMNS), _column(table, DEC_COLUMNS)
    if ra is not None and dec is not None:
        if image.wcs is None:
            raise DecorasError("the image has no celestial WCS to place the catalogue's RA/Dec", image.path)
        unit = ra.unit or u.deg
        coords = SkyCoord(np.asarray(ra, float) * unit, np.asarray(dec, float) * (dec.unit or u.deg))
        x, y = image.wcs.world_to_pixel(coords)
        return list(zip(np.atleast_1d(x).tolist(), np.atleast_1d(y).tolist()))
    x, y = _column(table, X_COLUMNS), _column(table, Y_COLUMNS)
    if x is not None and y is not None:
        return list(zip(np.asarray(x, float).tolist(), np.asarray(y, float).tolist()))
    raise DecorasError(f"the catalogue has no RA/Dec (or x/y) columns (it has: {', '.join(table.colnames)})", path)


def positions_of(args: argparse.Namespace, image) -> list[tuple[float, float]]:
    """The blends' pixel positions from --at, --pixel or --catalog, each checked to be on the image."""
    if args.catalog:
        pos = catalogue_positions(args.catalog, image)
    elif args.pixel:
        pos = [_pixel(t) for t in args.pixel]
    else:
        if image.wcs is None:
            raise DecorasError("--at needs the image's celestial WCS (use --pixel X,Y)", image.path)
        pos = []
        for text in args.at:
            x, y = image.wcs.world_to_pixel(parse_sky(text))
            pos.append((float(x), float(y)))
    ny, nx = image.shape
    off = [i for i, (x, y) in enumerate(pos) if not (-0.5 <= x < nx - 0.5 and -0.5 <= y < ny - 0.5)]
    if off:
        raise DecorasError(f"{len(off)} of the {len(pos)} positions are outside the image (the first: "
                           f"pixel {pos[off[0]][0]:.1f}, {pos[off[0]][1]:.1f})", image.path)
    if not pos:
        raise DecorasError("no blend positions given (the catalogue is empty)", args.catalog or image.path)
    return pos


@command("deblend", "Separate blended pairs of galaxies in an optical image: component images and photometry.")(
    _add_arguments)
def run(args: argparse.Namespace) -> int:
    import numpy as np
    from astropy.io import fits

    from ..core.deblend import write_photometry
    from ..core.image import load_fits
    from ..core.psf import find_psf
    from ..ml.registry import load_model
    from ..ml.tasks.deblend import deblend_image

    image = load_fits(args.image)
    positions = positions_of(args, image)
    model = load_model(args.model or "vst-deblend", task="deblend")
    psf = None
    psf_path = args.psf or find_psf(image.path)
    if args.psf_fwhm is None and psf_path:
        try:
            psf = np.asarray(fits.getdata(psf_path), float).squeeze()
        except (OSError, ValueError) as exc:
            raise DecorasError(f"cannot read the PSF image ({exc})", psf_path) from None
        if psf.ndim != 2:
            raise DecorasError("the PSF image is not 2-D", psf_path)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    bar = ProgressBar("deblend")
    try:
        results = deblend_image(image, model, positions, psf_fwhm_arcsec=args.psf_fwhm, zero_point=args.zero_point,
                                psf=psf, device=args.device, progress=bar)
    finally:
        bar.close()
    stem = image.path.stem
    for k, r in enumerate(results, start=1):
        r.write(out / f"{stem}_blend{k}.fits")
    cat = write_photometry(results, out / f"{stem}_deblend.{args.format}")
    first = results[0]
    print(f"{image.path.name}: {model.label}; {len(results)} blend(s), {sum(r.split for r in results)} split in two; "
          f"PSF FWHM {first.psf_fwhm_arcsec:.3g}\" ({first.psf_source}), zero point "
          f"{'-' if first.zero_point is None else f'{first.zero_point:.3f}'} ({first.zero_point_source}); "
          f"wrote {cat} and {len(results)} FITS file(s) in {out}", file=sys.stderr)
    for r in results[:5]:
        for g in r.galaxies:
            mag = f"{g.mag:.3f}" if np.isfinite(g.mag) else "-"
            print(f"  galaxy {g.index}: flux {g.flux:.4g} +- {g.flux_err:.2g}, mag {mag}, ({g.x:.2f}, {g.y:.2f}), "
                  f"e1 {g.e1:+.3f}, e2 {g.e2:+.3f}" + ("" if g.significant else " (not significant)"),
                  file=sys.stderr)
    for note in sorted({n for r in results for n in r.notes}):
        print(f"  note: {note}", file=sys.stderr)
    return 0
