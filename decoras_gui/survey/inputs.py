"""The images of a survey run, and the name each one's outputs get in the output folder."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ..core.errors import DecorasError

#: the file names :func:`decoras_gui.core.psf.find_psf` takes for a dirty beam, and what the
#: simulator writes beside each field: not images to detect on
_NOT_IMAGES = ("_psf", "-psf", ".psf", "_beam", "-beam", "_truth", "_model", "-model", "_residual", "-residual")
FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fits.fz", ".fz")


def stem_of(path: str | os.PathLike) -> str:
    """The name without its FITS extensions: ``field_0001.fits.gz`` -> ``field_0001``."""
    name = Path(path).name
    for suffix in sorted(FITS_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return Path(name).stem


def is_fits_name(path: str | os.PathLike) -> bool:
    return Path(path).name.lower().endswith(FITS_SUFFIXES)


def folder_images(folder: str | os.PathLike) -> list[Path]:
    """The FITS images of ``folder`` (not its subfolders), sorted by name: dirty beams, truth and
    model images written beside an image (``NAME_psf.fits``, ``NAME_beam.fits``, ...) are left out."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DecorasError("not a folder", folder)
    found = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or not is_fits_name(path):
            continue
        if stem_of(path).lower().endswith(_NOT_IMAGES):
            continue
        found.append(path)
    if not found:
        raise DecorasError("no FITS images in the folder", folder)
    return found


def expand(names: Iterable[str | os.PathLike]) -> list[Path]:
    """The inputs of a run: files as given, folders by their FITS images; each file once (by its
    absolute path), in the order given."""
    out: list[Path] = []
    seen: set[Path] = set()
    for name in names:
        path = Path(name)
        for item in (folder_images(path) if path.is_dir() else [path]):
            key = item.absolute()
            if key not in seen:
                seen.add(key)
                out.append(key)
    return out


def unique_stems(paths: list[Path], taken: dict[Path, str] | None = None) -> dict[Path, str]:
    """An output name for every input, unique in the run: the file's stem, or, where two inputs
    share one, the stem with its folder's name in front (then a number). ``taken`` (the names a
    resumed run's manifest already gave) is kept as it is."""
    names = dict(taken or {})
    used = set(names.values())
    counts: dict[str, int] = {}
    for path in paths:
        if path not in names:
            counts[stem_of(path)] = counts.get(stem_of(path), 0) + 1
    for path in paths:
        if path in names:
            continue
        stem = stem_of(path)
        name = stem if counts[stem] == 1 and stem not in used else f"{path.parent.name}_{stem}"
        base, k = name, 2
        while name in used:
            name, k = f"{base}_{k}", k + 1
        names[path] = name
        used.add(name)
    return names
