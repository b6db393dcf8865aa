"""Command-line options shared by several sub-commands, built from :mod:`decoras_gui.core.formats`."""

from __future__ import annotations

import argparse

from ..core.formats import (
    CATALOGUE_FORMAT_KEYS,
    CATALOGUE_LAYOUTS,
    REGION_FRAME_KEYS,
    canonical_catalogue_format,
    catalogue_format_help,
)


def add_format_argument(p: argparse.ArgumentParser, default: str | None, help: str) -> None:
    """``--format``: any name of a catalogue format; ``args.format`` holds its canonical key
    (``vot`` and ``xml`` become ``votable``)."""
    p.add_argument("--format", default=default, type=canonical_catalogue_format, choices=CATALOGUE_FORMAT_KEYS,
                   metavar="FORMAT", help=f"{help}: {catalogue_format_help()}")


def add_layout_arguments(p: argparse.ArgumentParser) -> None:
    """``--layout`` (native, or a PyBDSF srl/gaul list with LoTSS names) and the systematic
    errors of the PyBDSF lists' ``_tot`` columns."""
    p.add_argument("--layout", default="native", choices=CATALOGUE_LAYOUTS,
                   help="catalogue columns: native (default), srl (a PyBDSF source list with LoTSS-DR1 column names "
                   "and units, one row per source) or gaul (a PyBDSF Gaussian list, one row per component)")
    p.add_argument("--astrometric-error", type=float, default=0.0, metavar="ARCSEC",
                   help="srl/gaul: astrometric systematic added in quadrature to E_RA_tot, E_DEC_tot (default 0)")
    p.add_argument("--flux-scale-error", type=float, default=0.0, metavar="FRACTION",
                   help="srl/gaul: flux-scale error, a fraction of the flux, added in quadrature to the _tot flux "
                   "errors (default 0; LoTSS-DR1 used 0.2)")


def layout_options(args: argparse.Namespace) -> dict:
    """The keyword arguments of ``Catalogue.write`` that :func:`add_layout_arguments` gives."""
    return {"layout": getattr(args, "layout", "native"), "astrometric_error": getattr(args, "astrometric_error", 0.0),
            "flux_scale_error": getattr(args, "flux_scale_error", 0.0)}  # a survey's workers have no such options


def add_frame_argument(p: argparse.ArgumentParser, default: str = "fk5") -> None:
    """``--frame``: the frame of the DS9 region file."""
    p.add_argument("--frame", default=default, type=str.lower, choices=REGION_FRAME_KEYS,
                   help=f"region file frame (default {default})")
