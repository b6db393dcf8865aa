"""Command-line options shared by several sub-commands, built from :mod:`decoras_gui.core.formats`."""

from __future__ import annotations

import argparse

from ..core.formats import (
    CATALOGUE_FORMAT_KEYS,
    REGION_FRAME_KEYS,
    canonical_catalogue_format,
    catalogue_format_help,
)


def add_format_argument(p: argparse.ArgumentParser, default: str | None, help: str) -> None:
    """``--format``: any name of a catalogue format; ``args.format`` holds its canonical key
    (``vot`` and ``xml`` become ``votable``)."""
    p.add_argument("--format", default=default, type=canonical_catalogue_format, choices=CATALOGUE_FORMAT_KEYS,
                   metavar="FORMAT", help=f"{help}: {catalogue_format_help()}")


def add_frame_argument(p: argparse.ArgumentParser, default: str = "fk5") -> None:
    """``--frame``: the frame of the DS9 region file."""
    p.add_argument("--frame", default=default, type=str.lower, choices=REGION_FRAME_KEYS,
                   help=f"region file frame (default {default})")
