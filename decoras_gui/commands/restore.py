"""`decoras restore IMAGE --out MAP.fits`: recover the surface brightness of an image, headless.

The image (dirty, or CLEAN-restored) is read as everywhere else (:func:`decoras_gui.core.image.load_fits`);
its restoring beam (BMAJ/BMIN/BPA) is needed. The map is written in Jy/pixel with the image's WCS
(:class:`decoras_gui.core.sky_map.SkyMap`). ``--residual FILE`` also writes the image less the
map as the image shows it: convolved with the dirty beam (``--psf FILE``, else the one found beside
the image) for a dirty image, or with the restoring beam for a restored one. Without ``--model``
the installed restore model made for the image's kind is used. Ctrl-C cancels between tiles.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli import command
from ..core.errors import DecorasError
from .progress import ProgressBar


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", help="FITS image (dirty or CLEAN-restored)")
    p.add_argument("--out", required=True, help="the recovered sky map (FITS, Jy/pixel)")
    p.add_argument("--model", default=None, help="restore model: a name or a model card (.json) (default: the "
                   "installed restore model for the image's kind)")
    p.add_argument("--psf", metavar="FILE", help="dirty beam FITS file of a dirty image: the network's sidelobe "
                   "channel and --residual (default: the one beside the image)")
    p.add_argument("--residual", metavar="FILE", help="also write the image less the map as the image shows it")
    p.add_argument("--floor", type=float, default=None,
                   help="surface brightness (rms per beam) below which the map is zero (default: the model's)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))


def choose_restore_model(kind: str | None) -> str:
    """The installed restore model for images of ``kind`` ('dirty', 'restored', None: any)."""
    from ..ml.registry import available_models

    cards = available_models(task="restore")
    if not cards:
        raise DecorasError("no model for recovering surface brightness is installed (train one: decoras train "
                           "--config models/lofar-restore.toml)")
    fitting = [c for c in cards if kind is None or c.image_kind == kind]
    return (fitting or cards)[0].name


@command("restore", "Recover the surface brightness of an image (a sky map in Jy/pixel) with a restore model.")(
    _add_arguments)
def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..core.image import load_fits
    from ..core.image_domain import kind_of
    from ..core.psf import find_psf, load_psf
    from ..ml.registry import load_model
    from ..ml.tasks import get_task

    image = load_fits(args.image)
    name = args.model or choose_restore_model(kind_of(image)[0] or None)
    model = load_model(name, task="restore")
    psf_path = args.psf or (find_psf(image.path) if model.card.image_kind == "dirty" else None)
    psf = load_psf(psf_path, image) if psf_path else None
    bar = ProgressBar("restore")
    try:
        out = get_task("restore").run(image, model, device=args.device, threshold=args.floor, progress=bar,
                                      psf=psf)
    finally:
        bar.close()
    sky = out.result
    path = sky.write(args.out)
    print(f"{image.path.name}: {model.label}; total flux {sky.total_flux():.4g} Jy; wrote {path}", file=sys.stderr)
    for note in out.notes:
        print(f"  note: {note}", file=sys.stderr)
    if args.residual:
        if model.card.image_kind == "dirty" and psf is None:
            raise DecorasError("the residual of a dirty image needs its dirty beam (--psf FILE)", image.path)
        residual = sky.residual(np.asarray(image.data, np.float32), psf.data if psf is not None else None)
        _write_like(image, residual, Path(args.residual))
        print(f"  residual rms {float(np.nanstd(residual)):.3g} {image.unit}; wrote {args.residual}", file=sys.stderr)
    return 0


def _write_like(image, data, path: Path) -> None:
    """``data`` as a FITS image with ``image``'s celestial WCS, unit and beam (atomically)."""
    import numpy as np
    from astropy.io import fits

    from ..core.fileio import atomic_path

    header = image.wcs.to_header() if image.wcs is not None else fits.Header()
    header["BUNIT"] = image.header.get("BUNIT", "JY/BEAM")
    if image.beam is not None:
        header["BMAJ"], header["BMIN"], header["BPA"] = image.beam.major, image.beam.minor, image.beam.pa
    header["ORIGIN"] = "decoras restore (residual)"
    with atomic_path(path) as tmp:
        fits.PrimaryHDU(np.asarray(data, np.float32), header).writeto(tmp, overwrite=True)
