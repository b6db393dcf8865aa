"""The dirty beam (PSF) of an image: found beside it, loaded, checked and put on its pixel grid.

Imaging programs write the PSF next to the image; :func:`find_psf` looks for, in order,
``NAME_psf.fits``, ``NAME-psf.fits``, ``NAME.psf.fits`` (each also ``.fits.gz``), WSClean's
``BASE-psf.fits`` for an image ``BASE-dirty.fits`` / ``BASE-image.fits`` (also with a
``-MFS`` or channel part, ``BASE-MFS-image.fits`` -> ``BASE-MFS-psf.fits``), and this
program's simulator's ``NAME_beam.fits`` (``decoras simulate``), where NAME is the image's file
name without ``.fits`` / ``.fits.gz`` / ``.fz``.

:func:`load_psf` reads it with :func:`~.image.load_fits` (any HDU, 2-D or 4-D with degenerate
FREQ/STOKES axes), checks that it is a beam (its maximum near the centre, no value of either
sign as large as that peak outside the main lobe, big enough to matter), normalises the peak
to 1 and, when its pixels are not the image's, resamples it onto the image's pixel size
(``scipy.ndimage.map_coordinates``, cubic) about its centre. Anything else is refused with a
:class:`~.errors.DecorasError` naming the file.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import DecorasError
from .image import SkyImage, load_fits

__all__ = ["DirtyBeam", "find_psf", "psf_candidates", "load_psf", "MIN_SIZE", "SCALE_TOLERANCE"]

#: smallest PSF side (pixels) accepted: anything smaller holds no sidelobes worth testing
MIN_SIZE = 16
#: relative pixel-size difference below which the PSF is used as it is
SCALE_TOLERANCE = 0.01
#: how far (fraction of the side, at least 2 pixels) the PSF's maximum may lie from its centre
CENTRE_TOLERANCE = 0.05
#: a value outside the main lobe this close to the peak (either sign) means it is not a beam
SIDELOBE_LIMIT = 0.99
_IMAGE_SUFFIXES = (".fits.gz", ".fits.fz", ".fits", ".fit", ".fts", ".fz")
_WSCLEAN_KINDS = ("-dirty", "-image", "-residual", "-model")


@dataclass
class DirtyBeam:
    """A dirty beam on an image's pixel grid: ``data`` [y, x] with peak 1 at ``centre`` (y, x).

    ``source`` is the file it came from; ``scale_ratio`` the PSF's pixel size over the image's
    (1 when used as it is); ``notes`` say what was done to it (normalised, resampled).
    """

    source: Path
    data: np.ndarray
    centre: tuple[int, int]
    scale_ratio: float = 1.0
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.data.shape)  # type: ignore[return-value]

    def at(self, dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
        """The beam at integer pixel offsets (dy, dx) from its centre; NaN where it does not reach."""
        dy, dx = np.asarray(dy, dtype=np.int64), np.asarray(dx, dtype=np.int64)
        iy, ix = dy + self.centre[0], dx + self.centre[1]
        inside = (iy >= 0) & (iy < self.data.shape[0]) & (ix >= 0) & (ix < self.data.shape[1])
        out = np.full(np.broadcast(iy, ix).shape, np.nan)
        out[inside] = self.data[iy[inside], ix[inside]]
        return out

    def main_lobe(self, level: float = 0.5) -> np.ndarray:
        """Boolean mask of the connected region around the centre where the beam is >= ``level``."""
        from scipy import ndimage

        labels, _ = ndimage.label(self.data >= level)
        return labels == labels[self.centre]


def _stem(path: Path) -> str:
    name = path.name
    for suffix in _IMAGE_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def psf_candidates(image_path: str | os.PathLike) -> list[Path]:
    """The file names :func:`find_psf` tries for ``image_path``, in order (see the module docstring)."""
    path = Path(image_path)
    stem, folder = _stem(path), path.parent
    names = [f"{stem}{sep}psf{ext}" for sep in ("_", "-", ".") for ext in (".fits", ".fits.gz")]
    for kind in _WSCLEAN_KINDS:
        if stem.endswith(kind):
            base = stem[: -len(kind)]
            names += [f"{base}-psf.fits", f"{base}-psf.fits.gz"]
    names += [f"{stem}_beam.fits", f"{stem}_beam.fits.gz"]
    out: list[Path] = []
    for n in names:
        candidate = folder / n
        if candidate != path and candidate not in out:
            out.append(candidate)
    return out


def find_psf(image_path: str | os.PathLike) -> Path | None:
    """The dirty beam written beside ``image_path`` by the imaging program, or None."""
    for candidate in psf_candidates(image_path):
        if candidate.is_file():
            return candidate
    return None


def load_psf(path: str | os.PathLike, image: SkyImage | None = None) -> DirtyBeam:
    """Read, check and normalise the dirty beam in ``path``, on ``image``'s pixel grid.

    Without ``image`` (or when either file has no celestial WCS) the PSF's pixels are taken
    to be the image's. Raises :class:`DecorasError` naming ``path`` when it is not a beam.
    """
    path = Path(path)
    psf = load_fits(path)
    data = np.array(psf.data, dtype=np.float64)
    ny, nx = data.shape
    if min(ny, nx) < MIN_SIZE:
        raise DecorasError(f"the dirty beam is only {nx} x {ny} pixels (at least {MIN_SIZE} x {MIN_SIZE} "
                           "are needed to hold its sidelobes)", path)
    finite = np.isfinite(data)
    if finite.mean() < 0.5:
        raise DecorasError("most of the dirty beam's pixels are blank (NaN): not a dirty beam", path)
    notes: list[str] = []
    if not finite.all():
        notes.append(f"{int((~finite).sum())} blank pixels of the dirty beam taken as 0")
        data = np.where(finite, data, 0.0)
    centre = _checked_centre(data, path)
    peak = float(data[centre])
    if not peak > 0:
        raise DecorasError(f"the dirty beam's central maximum is {peak:g}, not positive: not a dirty beam", path)
    if abs(peak - 1.0) > 1e-3:
        notes.append(f"the dirty beam's peak {peak:.4g} normalised to 1")
    data /= peak
    _check_sidelobes(data, centre, path)
    ratio = 1.0
    if image is not None and image.pixel_scale_deg and psf.pixel_scale_deg:
        ratio = psf.pixel_scale_deg / image.pixel_scale_deg
    if abs(ratio - 1.0) > SCALE_TOLERANCE:
        data, centre = _resample(data, centre, ratio, path)
        notes.append(f"the dirty beam's pixels ({psf.pixel_scale_deg * 3.6e6:.4g} mas) resampled to the image's "
                     f"({image.pixel_scale_deg * 3.6e6:.4g} mas)")  # type: ignore[union-attr]
    elif image is not None and (image.pixel_scale_deg is None or psf.pixel_scale_deg is None):
        notes.append("the dirty beam's pixel size could not be compared with the image's (no celestial WCS): "
                     "taken to be the same")
    return DirtyBeam(path, data.astype(np.float32), centre, ratio, notes)


def _checked_centre(data: np.ndarray, path: Path) -> tuple[int, int]:
    ny, nx = data.shape
    iy, ix = np.unravel_index(int(np.argmax(data)), data.shape)
    tol_y, tol_x = max(2.0, CENTRE_TOLERANCE * ny), max(2.0, CENTRE_TOLERANCE * nx)
    if abs(iy - (ny - 1) / 2) > tol_y or abs(ix - (nx - 1) / 2) > tol_x:
        raise DecorasError(f"its maximum is at pixel ({ix}, {iy}), not near the centre ({(nx - 1) / 2:g}, "
                           f"{(ny - 1) / 2:g}) of its {nx} x {ny} pixels: not a dirty beam", path)
    return int(iy), int(ix)


def _check_sidelobes(data: np.ndarray, centre: tuple[int, int], path: Path) -> None:
    """Refuse a map whose largest value outside the main lobe is (nearly) as large as the peak."""
    from scipy import ndimage

    labels, _ = ndimage.label(data >= 0.5)
    outside = labels != labels[centre]
    if not outside.any():
        return
    worst = float(np.max(np.abs(data[outside])))
    if worst >= SIDELOBE_LIMIT:
        iy, ix = np.unravel_index(int(np.argmax(np.where(outside, np.abs(data), -np.inf))), data.shape)
        raise DecorasError(f"the value at pixel ({ix}, {iy}) is {worst:.3g} of the central peak: a dirty beam "
                           "peaks at its centre alone; this looks like an image, not a PSF", path)


def _resample(data: np.ndarray, centre: tuple[int, int], ratio: float, path: Path) -> tuple[np.ndarray,
                                                                                          tuple[int, int]]:
    """``data`` (pixels ``ratio`` x the image's) sampled at the image's pixel size about ``centre``."""
    from scipy import ndimage

    cy, cx = centre
    half_y = int(math.floor(min(cy, data.shape[0] - 1 - cy) * ratio))
    half_x = int(math.floor(min(cx, data.shape[1] - 1 - cx) * ratio))
    if min(half_y, half_x) < MIN_SIZE // 2:
        raise DecorasError(f"on the image's pixels the dirty beam would be only {2 * half_x + 1} x {2 * half_y + 1} "
                           f"pixels (its pixels are {ratio:.3g} x the image's)", path)
    if (2 * half_y + 1) * (2 * half_x + 1) > 64_000_000:
        raise DecorasError(f"its pixels are {ratio:.3g} x the image's: resampled it would be "
                           f"{2 * half_x + 1} x {2 * half_y + 1} pixels, too large", path)
    yy = cy + (np.arange(-half_y, half_y + 1) / ratio)
    xx = cx + (np.arange(-half_x, half_x + 1) / ratio)
    grid = np.meshgrid(yy, xx, indexing="ij")
    out = ndimage.map_coordinates(data, grid, order=3, mode="constant", cval=0.0)
    out /= out[half_y, half_x]
    return out, (half_y, half_x)
