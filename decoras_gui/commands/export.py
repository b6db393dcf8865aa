"""`decoras export SESSION`: DS9 or CASA regions and catalogues from a saved vetting session, headless."""

from __future__ import annotations

import argparse
import sys

from ..cli import command
from ..core.errors import DecorasError
from .options import add_format_argument, add_frame_argument, add_layout_arguments, layout_options


def _add_arguments(p: argparse.ArgumentParser) -> None:
    from ..core.catalogue import STATUSES  # astropy.table: only when this command's options are read

    p.add_argument("session", help="session file saved by decoras-gui (.decoras)")
    p.add_argument("--regions", help="output region file: DS9 (.reg) or CASA region text (.crtf)")
    p.add_argument("--catalog", "--catalogue", dest="catalog",
                   help="output catalogue (format from the extension unless --format)")
    add_format_argument(p, default=None, help="catalogue format (default: from the extension)")
    p.add_argument("--statuses", default=None,
                   help=f"comma-separated statuses to export ({', '.join(STATUSES)}; default: all)")
    add_frame_argument(p)
    p.add_argument("--no-labels", action="store_true", help="no source-id text labels in the region file")
    p.add_argument("--per", choices=("component", "source"), default="component",
                   help="catalogue rows: one per component (source_id names its source; default) or one per "
                   "source (its components aggregated)")
    add_layout_arguments(p)


def parse_statuses(text: str | None) -> list[str] | None:
    if not text:
        return None
    from ..core.catalogue import STATUSES

    out = [t.strip().lower() for t in text.split(",") if t.strip()]
    bad = [t for t in out if t not in STATUSES]
    if bad:
        raise DecorasError(f"unknown status {', '.join(bad)} (use {', '.join(STATUSES)})")
    return out


@command("export", "Export DS9 or CASA regions and catalogues from a saved vetting session.")(_add_arguments)
def run(args: argparse.Namespace) -> int:
    from ..core.image import load_fits
    from ..core.provenance import stamp
    from ..core.regions_io import write_regions
    from ..core.session import check_image, load_session

    if not args.regions and not args.catalog:
        raise DecorasError("nothing to do: give --regions and/or --catalog")
    statuses = parse_statuses(args.statuses)
    session = load_session(args.session)
    cat = session.catalogue
    image = None
    state = check_image(session)
    if state == "missing":
        print(f"decoras export: warning: the image {session.image_path} is not there; "
              "regions come from the catalogue's ra/dec", file=sys.stderr)
    else:
        if state == "changed":
            print(f"decoras export: warning: {session.image_path} has changed since the session was saved "
                  "(checksum differs)", file=sys.stderr)
        try:
            image = load_fits(session.image_path, hdu=session.hdu,
                              plane=tuple(session.plane) if session.plane else None)
        except DecorasError as exc:
            print(f"decoras export: warning: {exc}", file=sys.stderr)
    # the image's provenance when it is there (older sessions lack radesys), else the session's
    stamp(cat, image, model=session.model or None, model_version=session.model_version, creator="decoras")
    wcs = image.wcs if image is not None else None
    selected = cat.filter(statuses)
    if args.regions:
        used = write_regions(cat, args.regions, wcs=wcs, frame=args.frame, statuses=statuses,
                             labels=not args.no_labels)
        print(f"{args.regions}: {len(selected)} regions ({used})")
    if args.catalog:
        cat.write(args.catalog, format=args.format, statuses=statuses, per=args.per, **layout_options(args))
        print(f"{args.catalog}: {len(selected)} sources")
    return 0
