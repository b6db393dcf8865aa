"""`decoras crossmatch CATALOGUE REFERENCE --out MATCHED.ecsv`: detections against a survey catalogue."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from ..cli import command
from ..core.errors import DecorasError


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("catalogue", help="our catalogue (ECSV, CSV, FITS, VOTable), e.g. from decoras detect")
    p.add_argument("reference", help="the reference catalogue (FITS, VOTable, CSV, ECSV): NVSS, FIRST and LoTSS "
                   "layouts are recognised, others need --ra-col/--dec-col")
    p.add_argument("--out", required=True, help="the catalogue with the match columns (xmatch, match_name, "
                   "match_sep, match_flux_ratio); format from the extension")
    p.add_argument("--radius", type=float, default=1.0, metavar="BEAMS",
                   help="matching radius in beams of the coarser of the image's and the survey's (default 1)")
    p.add_argument("--radius-arcsec", type=float, default=None, metavar="ARCSEC", help="matching radius in arcsec")
    p.add_argument("--beam", type=float, default=None, metavar="ARCSEC",
                   help="the image's beam FWHM (default: the catalogue's beam_maj)")
    for role, what in (("ra", "RA"), ("dec", "Dec"), ("flux", "flux density"), ("name", "source name")):
        p.add_argument(f"--{role}-col", default=None, metavar="COLUMN", help=f"the reference column of the {what}")
    p.add_argument("--image", default=None, metavar="FITS",
                   help="the image, whose footprint says which reference sources should have been found (default: "
                   "the catalogue's image_path when it is there)")
    p.add_argument("--add-unmatched", action="store_true",
                   help="add the reference sources inside the image that nothing matched as candidates to vet")


@command("crossmatch", "Cross-match a catalogue against a survey catalogue (NVSS, FIRST, LoTSS, any table).")(
    _add_arguments)
def run(args: argparse.Namespace) -> int:
    from ..core.catalogue import Catalogue
    from ..core.crossmatch import crossmatch, read_reference, reference_sources
    from ..core.image import load_fits

    cat = Catalogue.read(args.catalogue)
    columns = {role: getattr(args, f"{role}_col") for role in ("ra", "dec", "flux", "name")}
    ref = read_reference(args.reference, {k: v for k, v in columns.items() if v})
    image_path = args.image or cat.meta.get("image_path")
    wcs = shape = None
    if image_path and Path(image_path).is_file():
        image = load_fits(image_path, hdu=int(cat.meta.get("hdu", 0) or 0) if not args.image else None)
        wcs, shape = image.wcs, image.data.shape
    elif args.image:
        raise DecorasError("no such file", args.image)
    result = crossmatch(cat, ref, radius_beams=args.radius, radius_arcsec=args.radius_arcsec, beam_arcsec=args.beam,
                        wcs=wcs, shape=shape)
    out = result.catalogue
    s = result.summary()
    if args.add_unmatched:
        for source in reference_sources(ref, result.unmatched_reference, wcs=wcs):
            out.add(source)
    out.write(args.out)

    def f(v: float, fmt: str) -> str:
        return format(v, fmt) if math.isfinite(v) else "-"

    where = "in the image" if wcs is not None else "in the detections' field"
    print(f"{args.out}: {s['matched']} of {s['detections']} detections matched {s['reference']} within "
          f"{f(s['radius_arcsec'], '.3g')} arcsec (median offset {f(s['median_sep_arcsec'], '.3g')} arcsec, median "
          f"flux ratio {f(s['median_flux_ratio'], '.3f')}); {s['reference_matched']} of {s['reference_in_field']} "
          f"reference sources {where} found, {s['reference_unmatched']} not"
          + (" (added as candidates)" if args.add_unmatched and s["reference_unmatched"] else ""))
    return 0
