"""`decoras info FILE`: what load_fits found in an image."""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING

from ..cli import command

if TYPE_CHECKING:  # astropy is imported when an image is opened, not when the command line is read
    from ..core.image import SkyImage


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="FITS image (.fits, .fits.gz, .fz)")
    p.add_argument("--hdu", help="HDU index or name (default: the first image HDU)")
    p.add_argument("--plane", type=int, help="plane of a cube (default 0)")


def describe(image: SkyImage) -> list[str]:
    """Human-readable lines describing an opened image."""
    ny, nx = image.shape
    lines = [
        f"file:        {image.path}",
        f"HDU:         {image.hdu_index} ({image.hdu_name})",
        f"shape:       {nx} x {ny} pixels (x by y)",
    ]
    if image.extra_axes:
        axes = ", ".join(
            f"{a.name}[{a.length}]" + (f"={a.value:.6g}" if a.value is not None else "") for a in image.extra_axes
        )
        lines.append(f"plane:       {image.plane or (0,)} of {axes}")
    if image.wcs is not None:
        centre = image.world_at((nx - 1) / 2.0, (ny - 1) / 2.0)
        icrs = centre.icrs
        lines.append(
            f"centre:      {icrs.ra.to_string(unit='hourangle', sep=':', precision=4)} "
            f"{icrs.dec.to_string(sep=':', precision=3, alwayssign=True)} "
            f"({icrs.ra.deg:.6f}, {icrs.dec.deg:+.6f} deg; {image.projection or 'unknown'} projection)"
        )
        scale = image.pixel_scale_deg
        lines.append(f"pixel scale: {scale * 3.6e6:.4g} mas ({scale * 3600:.4g} arcsec)")
    else:
        lines.append("WCS:         none (pixel coordinates only)")
    if image.beam is not None:
        beam = image.beam
        text = f"beam:        {beam.major_mas:.4g} x {beam.minor_mas:.4g} mas FWHM"
        if beam.major_arcsec >= 1.0:
            text += f' ({beam.major_arcsec:.4g}" x {beam.minor_arcsec:.4g}")'
        text += f", PA {beam.pa:.2f} deg"
        pix = image.beam_pixels
        if pix is not None:
            text += f" = {pix[0]:.3g} x {pix[1]:.3g} pixels"
        lines.append(text + f" (from {beam.source})")
    else:
        lines.append("beam:        unknown")
    lines.append(f"unit:        {image.unit.to_string() or 'dimensionless'}")
    rms = image.rms
    unit = image.unit.to_string()
    lines.append(f"rms:         {rms:.4g} {unit}" if math.isfinite(rms) else "rms:         undefined (no finite pixel)")
    for note in image.warnings:
        lines.append(f"warning:     {note}")
    return lines


@command("info", "Describe a FITS image: HDU, plane, WCS, beam, unit, noise.")(_add_arguments)
def run(args: argparse.Namespace) -> int:
    hdu = args.hdu
    if hdu is not None and hdu.isdigit():
        hdu = int(hdu)
    from ..core.image import load_fits

    image = load_fits(args.file, hdu=hdu, plane=args.plane)
    print("\n".join(describe(image)))
    return 0
