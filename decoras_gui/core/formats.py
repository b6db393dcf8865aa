"""The file formats and frames the program knows: one table each, no Qt.

* :data:`CATALOGUE_FORMATS`: catalogue table formats (ECSV, CSV, FITS, VOTable), each with
  its canonical key, the other names accepted for it (``vot``/``xml`` for ``votable``, the
  astropy names such as ``ascii.ecsv``), its file extensions and its astropy format name.
* :data:`REGION_FRAMES`: the coordinate frames of region files written here.
* :data:`REGION_FORMATS`: region file formats (DS9, CASA region text CRTF), told by extension.
* :data:`FITS_IMAGE_EXTENSIONS`: the file names of FITS images, for file dialogs and the
  desktop MIME type (``resources/decoras-fits.xml`` registers exactly these).

Everything else is derived from these tables: ``Catalogue.read``/``write`` dispatch, the
``--format`` and ``--frame`` choices of the ``decoras`` commands, and the plain file-dialog
filter strings (``"ECSV (*.ecsv)"``) the GUI hands to Qt.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import DecorasError

__all__ = [
    "CatalogueFormat",
    "CATALOGUE_FORMATS",
    "CATALOGUE_FORMAT_KEYS",
    "catalogue_format",
    "catalogue_format_for_path",
    "canonical_catalogue_format",
    "catalogue_format_help",
    "catalogue_file_filters",
    "catalogue_format_for_filter",
    "with_catalogue_extension",
    "CATALOGUE_LAYOUTS",
    "RegionFrame",
    "REGION_FRAMES",
    "REGION_FRAME_KEYS",
    "SKY_FRAME_KEYS",
    "region_frame_choices",
    "REGIONS_FILE_FILTER",
    "RegionFormat",
    "REGION_FORMATS",
    "REGION_FORMAT_KEYS",
    "region_format",
    "region_format_for_path",
    "region_open_filter",
    "FITS_IMAGE_EXTENSIONS",
    "fits_image_filter",
    "fits_mime_globs",
    "ALL_FILES_FILTER",
]

ALL_FILES_FILTER = "All files (*)"


def _glob_list(extensions: tuple[str, ...]) -> str:
    return " ".join(f"*{ext}" for ext in extensions)


# ------------------------------------------------------------------ catalogues


@dataclass(frozen=True)
class CatalogueFormat:
    """One catalogue file format.

    ``key`` is the canonical name (what ``--format`` stores and the GUI passes on);
    ``aliases`` are the other names accepted for it; ``extensions`` are lower-case file
    name endings, the first being the one written; ``astropy`` is the astropy
    ``Table.read``/``write`` format name.
    """

    key: str
    label: str
    extensions: tuple[str, ...]
    astropy: str
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Every name this format is known by: key, aliases, astropy name."""
        return tuple(dict.fromkeys((self.key, *self.aliases, self.astropy)))

    @property
    def extension(self) -> str:
        """The extension written (``.ecsv``, ``.csv``, ``.fits``, ``.vot``)."""
        return self.extensions[0]

    @property
    def file_filter(self) -> str:
        """The file-dialog filter string, e.g. ``"VOTable (*.vot *.votable *.xml)"``."""
        return f"{self.label} ({_glob_list(self.extensions)})"


CATALOGUE_FORMATS: tuple[CatalogueFormat, ...] = (
    CatalogueFormat("ecsv", "ECSV", (".ecsv",), "ascii.ecsv"),
    CatalogueFormat("csv", "CSV", (".csv",), "ascii.csv"),
    CatalogueFormat("fits", "FITS table", (".fits", ".fit", ".fts", ".fits.gz"), "fits"),
    CatalogueFormat("votable", "VOTable", (".vot", ".votable", ".xml"), "votable", ("vot", "xml")),
)
CATALOGUE_FORMAT_KEYS: tuple[str, ...] = tuple(f.key for f in CATALOGUE_FORMATS)
_BY_NAME: dict[str, CatalogueFormat] = {name: f for f in CATALOGUE_FORMATS for name in f.names}


def catalogue_format(name: str, path: str | os.PathLike | None = None) -> CatalogueFormat:
    """The format called ``name`` (key, alias or astropy name, any case); a DecorasError
    naming ``path`` when there is none."""
    try:
        return _BY_NAME[str(name).strip().lower()]
    except KeyError:
        raise DecorasError(f"unknown catalogue format {name!r} (use {catalogue_format_help()})", path) from None


def catalogue_format_for_path(path: str | os.PathLike) -> CatalogueFormat:
    """The format a file name says (by its extension, any case); a DecorasError when it says none."""
    name = Path(path).name.lower()
    matches = [(len(ext), f) for f in CATALOGUE_FORMATS for ext in f.extensions if name.endswith(ext)]
    if not matches:
        exts = ", ".join("/".join(f.extensions) for f in CATALOGUE_FORMATS)
        raise DecorasError(f"cannot tell the catalogue format from the file name (use {exts})", path)
    return max(matches, key=lambda m: m[0])[1]


def canonical_catalogue_format(name: str) -> str:
    """The canonical key for any name of a format (``'vot'`` -> ``'votable'``); an unknown
    name comes back unchanged (argparse ``type=``: its ``choices`` then reject it)."""
    found = _BY_NAME.get(str(name).strip().lower())
    return found.key if found else name


def catalogue_format_help() -> str:
    """``'ecsv, csv, fits, votable (or vot, xml)'``: the names, canonical first."""
    return ", ".join(f.key + (f" (or {', '.join(f.aliases)})" if f.aliases else "") for f in CATALOGUE_FORMATS)


def catalogue_file_filters() -> list[str]:
    """File-dialog filters, one per format in table order (join with ``';;'`` for Qt)."""
    return [f.file_filter for f in CATALOGUE_FORMATS]


def catalogue_format_for_filter(file_filter: str) -> CatalogueFormat | None:
    """The format whose :attr:`CatalogueFormat.file_filter` is ``file_filter`` (what a
    file dialog returns as the selected filter), or None."""
    for f in CATALOGUE_FORMATS:
        if f.file_filter == file_filter.strip():
            return f
    return None


def with_catalogue_extension(path: str | os.PathLike, fmt: CatalogueFormat | str) -> Path:
    """``path`` with its catalogue extension (any format's, e.g. ``.fits.gz``) replaced by
    ``fmt``'s; a name without one gets ``fmt``'s appended (``cat.v2`` -> ``cat.v2.ecsv``)."""
    fmt = fmt if isinstance(fmt, CatalogueFormat) else catalogue_format(fmt)
    path = Path(path)
    lower = path.name.lower()
    endings = sorted((e for f in CATALOGUE_FORMATS for e in f.extensions), key=len, reverse=True)
    stem = path.name
    for ext in endings:
        if lower.endswith(ext) and len(lower) > len(ext):
            stem = path.name[: -len(ext)]
            break
    return path.with_name(stem + fmt.extension)


#: catalogue column layouts: ours, and PyBDSF's source and Gaussian lists (core.pybdsf_layout)
CATALOGUE_LAYOUTS: tuple[str, ...] = ("native", "srl", "gaul")


# ------------------------------------------------------------------ region frames


@dataclass(frozen=True)
class RegionFrame:
    """A frame DS9 region files are written in: key (the DS9 frame line), label, sky or pixels."""

    key: str
    label: str
    is_sky: bool


REGION_FRAMES: tuple[RegionFrame, ...] = (
    RegionFrame("fk5", "FK5 (J2000)", True),
    RegionFrame("icrs", "ICRS", True),
    RegionFrame("image", "Image pixels", False),
)
REGION_FRAME_KEYS: tuple[str, ...] = tuple(f.key for f in REGION_FRAMES)
SKY_FRAME_KEYS: tuple[str, ...] = tuple(f.key for f in REGION_FRAMES if f.is_sky)


@dataclass(frozen=True)
class RegionFormat:
    """One region file format: key (the ``regions`` format name), label, file extensions
    (the first is the one written)."""

    key: str
    label: str
    extensions: tuple[str, ...]

    @property
    def file_filter(self) -> str:
        """The file-dialog filter string, e.g. ``"CASA regions (CRTF) (*.crtf)"``."""
        return f"{self.label} ({_glob_list(self.extensions)})"


REGION_FORMATS: tuple[RegionFormat, ...] = (
    RegionFormat("ds9", "DS9 regions", (".reg",)),
    RegionFormat("crtf", "CASA regions (CRTF)", (".crtf",)),
)
REGION_FORMAT_KEYS: tuple[str, ...] = tuple(f.key for f in REGION_FORMATS)
REGIONS_FILE_FILTER = ";;".join(f.file_filter for f in REGION_FORMATS)


def region_format(name: str, path: str | os.PathLike | None = None) -> RegionFormat:
    """The region format called ``name`` (``ds9`` or ``crtf``, any case)."""
    for f in REGION_FORMATS:
        if f.key == str(name).strip().lower():
            return f
    raise DecorasError(f"unknown region format {name!r} (use {', '.join(REGION_FORMAT_KEYS)})", path)


def region_format_for_path(path: str | os.PathLike) -> RegionFormat:
    """The format a region file's name says: ``.crtf`` is CASA region text, anything else DS9."""
    name = Path(path).name.lower()
    for f in REGION_FORMATS:
        if any(name.endswith(ext) for ext in f.extensions):
            return f
    return REGION_FORMATS[0]


def region_open_filter() -> str:
    """The filter of a dialog opening a region file: any known kind first, then each, then all files."""
    every = _glob_list(tuple(e for f in REGION_FORMATS for e in f.extensions))
    return f"Region files ({every});;{REGIONS_FILE_FILTER};;{ALL_FILES_FILTER}"




def region_frame_choices() -> list[tuple[str, str]]:
    """``(label, key)`` for each frame, in table order (e.g. for a combo box's items)."""
    return [(f.label, f.key) for f in REGION_FRAMES]


# ------------------------------------------------------------------ FITS images

#: File name endings of FITS images (lower case); ``.fz`` is fpack tile compression.
FITS_IMAGE_EXTENSIONS: tuple[str, ...] = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fits.fz", ".fz")


def fits_image_filter(all_files: bool = False) -> str:
    """``"FITS images (*.fits *.fit ... *.FITS)"`` (upper-case ``*.FITS`` too, for dialogs
    that match case); with ``all_files`` followed by ``;;All files (*)``."""
    text = f"FITS images ({_glob_list(FITS_IMAGE_EXTENSIONS)} *.FITS)"
    return f"{text};;{ALL_FILES_FILTER}" if all_files else text


def fits_mime_globs() -> list[str]:
    """The glob patterns the desktop MIME type registers for FITS images."""
    return [f"*{ext}" for ext in FITS_IMAGE_EXTENSIONS]
