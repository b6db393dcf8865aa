"""SkyImage and load_fits(): the one way every part of the program opens an image."""

from __future__ import annotations

import math
import mmap
import os
import re
import warnings
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.io import fits
from astropy.stats import sigma_clipped_stats
from astropy.utils.exceptions import AstropyWarning
from astropy.wcs import WCS
from astropy.wcs.utils import proj_plane_pixel_scales

from .beam import Beam, beam_from_header
from .errors import DecorasError
from .fits_header import HeaderUnit, check_values, read_headers

#: Images larger than this many pixels get their rms from a regular subsample.
RMS_SAMPLE_PIXELS = 4_000_000
SAMPLE_CHUNK_ROWS = 1024  # rows read per chunk by strided_sample

_IMAGE_HDU_TYPES = (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU)


@dataclass(frozen=True)
class ExtraAxis:
    """A non-celestial axis (FREQ, STOKES, VELO...) of a 3-D or 4-D image."""

    fits_index: int  # 1-based FITS axis number
    name: str
    length: int
    value: float | None  # world value at the selected plane, when the header says


@dataclass
class SkyImage:
    """A 2-D plane of a radio image with everything needed to detect and measure on it.

    ``data`` is a 2-D float array indexed ``[y, x]`` (0-based pixels); for big files
    it is a view into a memory map, so nothing is read until used. Blanked pixels are
    any non-finite value (NaN or Inf).
    """

    path: Path
    data: np.ndarray
    header: fits.Header
    wcs: WCS | None
    beam: Beam | None
    unit: u.UnitBase
    hdu_index: int
    hdu_name: str
    plane: tuple[int, ...] = ()
    celestial_axes: tuple[int, int] = (1, 2)  # 1-based FITS axis numbers of (lon, lat)
    extra_axes: tuple[ExtraAxis, ...] = ()
    warnings: list[str] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.data.shape)  # type: ignore[return-value]

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def projection(self) -> str:
        """The projection code as the header wrote it (NCP stays NCP, though astropy maps it to SIN)."""
        ctype = str(self.header.get(f"CTYPE{self.celestial_axes[0]}", ""))
        return ctype[5:].strip("-") if len(ctype) > 5 else ""

    @property
    def has_celestial_wcs(self) -> bool:
        return self.wcs is not None

    @property
    def memory_mapped(self) -> bool:
        """True when ``data`` is a view into a memory-mapped file (nothing read yet)."""
        base = self.data
        while base is not None:
            if isinstance(base, (np.memmap, mmap.mmap)):
                return True
            base = getattr(base, "base", None)
        return False

    @cached_property
    def pixel_scale_deg(self) -> float | None:
        """Mean pixel size in degrees (geometric mean of the two axes), or None."""
        if self.wcs is None:
            return None
        scales = proj_plane_pixel_scales(self.wcs)
        return float(math.sqrt(abs(scales[0] * scales[1])))

    @property
    def beam_pixels(self) -> tuple[float, float] | None:
        """Beam FWHM (major, minor) in pixels, when both beam and WCS are known."""
        if self.beam is None or self.pixel_scale_deg is None:
            return None
        return self.beam.in_pixels(self.pixel_scale_deg)

    @cached_property
    def rms(self) -> float:
        """Robust background rms of the plane in ``unit`` (see :func:`robust_rms`)."""
        return robust_rms(self.data)

    def rms_map(self, box_size: int | None = None) -> np.ndarray:
        """Local rms map (photutils Background2D, sigma-clipped std in boxes)."""
        from photutils.background import Background2D, StdBackgroundRMS

        data = np.asarray(self.data, dtype=np.float32)
        if box_size is None:
            beam = self.beam_pixels
            box_size = int(max(16, min(128, 8 * beam[0]))) if beam else 64
        box_size = int(min(box_size, *data.shape))
        mask = ~np.isfinite(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AstropyWarning)
            bkg = Background2D(
                data,
                box_size,
                mask=mask,
                filter_size=(3, 3),
                bkg_rms_estimator=StdBackgroundRMS(),
                exclude_percentile=50.0,
            )
        return np.asarray(bkg.background_rms, dtype=np.float32)

    def cutout(self, y0: int, y1: int, x0: int, x1: int) -> "SkyImage":
        """The pixels [y0:y1, x0:x1] as an image of their own (a view: nothing is read from a
        memory map until used), its WCS shifted so sky positions stay the same."""
        wcs = self.wcs[y0:y1, x0:x1] if self.wcs is not None else None
        return replace(self, data=self.data[y0:y1, x0:x1], wcs=wcs, warnings=list(self.warnings))

    def world_at(self, x: float, y: float):
        """SkyCoord of a 0-based pixel position, or None without a celestial WCS."""
        if self.wcs is None:
            return None
        return self.wcs.pixel_to_world(x, y)


def release_pages(data: np.ndarray) -> None:
    """Tell the kernel the pages of a memory-mapped array may be dropped from memory (they
    are read again from the file when next used): a pass over a huge image then does not
    leave the whole file resident. Does nothing for arrays in memory."""
    base = data
    while base is not None and not isinstance(base, mmap.mmap):
        base = getattr(base, "base", None)
    if base is not None and hasattr(base, "madvise"):
        try:
            base.madvise(mmap.MADV_DONTNEED)
        except (OSError, ValueError):
            pass


# --------------------------------------------------------------------------- statistics


def strided_sample(data: np.ndarray, max_pixels: int = RMS_SAMPLE_PIXELS,
                   dtype: type = np.float64, finite_only: bool = True) -> np.ndarray:
    """Values (finite ones only, unless ``finite_only`` is False) of a regular subsample (every
    k-th pixel along both axes) of a possibly memory-mapped image, read in row chunks whose
    pages are released as it goes, so even a 16k x 16k map never becomes resident at once."""
    step = max(1, int(math.ceil(math.sqrt(data.size / max_pixels))))
    rows_per_chunk = step * max(1, SAMPLE_CHUNK_ROWS // step)
    parts = []
    for r0 in range(0, data.shape[0], rows_per_chunk):
        part = np.asarray(data[r0:r0 + rows_per_chunk:step, ::step], dtype=dtype).ravel()
        parts.append(part[np.isfinite(part)] if finite_only else part)
        release_pages(data)
    return np.concatenate(parts) if parts else np.zeros(0, dtype)


def robust_rms(data: np.ndarray) -> float:
    """Sigma-clipped noise estimate of an image (astropy), robust to sources and blanks.

    The MAD-based standard deviation is used first; pipelines that quantise pixel values
    (NVSS writes 0.1 mJy steps, leaving most pixels exactly 0) make it 0, and then the
    sigma-clipped standard deviation is used instead. Returns NaN for an image with no
    finite pixel.
    """
    sample = strided_sample(data)
    if sample.size == 0:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (AstropyWarning, RuntimeWarning))
        _, _, rms = sigma_clipped_stats(sample, sigma=3.0, maxiters=10, stdfunc="mad_std")
        if not rms > 0:
            _, _, rms = sigma_clipped_stats(sample, sigma=3.0, maxiters=10, stdfunc="std")
        if not rms > 0:  # quantisation coarser than the noise: a wide, mean-centred clip
            _, _, rms = sigma_clipped_stats(sample, sigma=5.0, maxiters=3, cenfunc="mean", stdfunc="std")
    return float(rms)


# ------------------------------------------------------------------------------- units

_UNIT_WORDS = {"jy": "Jy", "mjy": "mJy", "ujy": "uJy", "beam": "beam", "k": "K"}


def parse_bunit(text: str | None) -> tuple[u.UnitBase, str | None]:
    """Parse a BUNIT value as pipelines write it (JY/BEAM, Jy/beam, mJy/beam...)."""
    if text is None or not str(text).strip():
        return u.dimensionless_unscaled, "no BUNIT in the header: pixel values are unitless"
    raw = str(text).strip()
    for fmt in ("fits", None):
        try:
            return u.Unit(raw, format=fmt), None
        except ValueError:
            pass
    words = re.split(r"([/*.\s^()-]+)", raw)
    fixed = "".join(_UNIT_WORDS.get(w.lower(), w) for w in words)
    try:
        return u.Unit(fixed), None
    except ValueError:
        return u.dimensionless_unscaled, f"BUNIT {raw!r} is not a unit astropy knows: treated as unitless"


# -------------------------------------------------------------------------------- HDUs


def _header_shape(header: fits.Header) -> tuple[int, ...]:
    """FITS axis lengths (NAXIS1, NAXIS2, ...) from a header, without reading data."""
    naxis = int(header.get("ZNAXIS", header.get("NAXIS", 0)) or 0)
    key = "ZNAXIS" if "ZNAXIS" in header else "NAXIS"
    return tuple(int(header.get(f"{key}{i}", 0) or 0) for i in range(1, naxis + 1))


def _is_image(hdu: fits.hdu.base._BaseHDU) -> bool:
    if not isinstance(hdu, _IMAGE_HDU_TYPES):
        return False
    shape = _header_shape(hdu.header)
    return len(shape) >= 2 and sum(n > 1 for n in shape) >= 2


def _pick_hdu(hdul: fits.HDUList, hdu: int | str | None, path: Path) -> int:
    if hdu is not None:
        try:
            index = hdul.index_of(hdu)
            hdul[index]
        except (KeyError, IndexError, ValueError):
            raise DecorasError(f"there is no HDU {hdu!r} (the file has {len(hdul)})", path) from None
        if not _is_image(hdul[index]):
            raise DecorasError(f"HDU {hdu!r} does not hold a 2-D image", path)
        return index
    for index, candidate in enumerate(hdul):
        if _is_image(candidate):
            return index
    kinds = ", ".join(type(h).__name__ for h in hdul)
    raise DecorasError(f"no image in this FITS file (its HDUs: {kinds})", path)


def image_hdus(path: str | os.PathLike) -> list[tuple[int, str, tuple[int, ...]]]:
    """(index, name, FITS shape) of every HDU of ``path`` that holds an image."""
    path = Path(path)
    _read_checked(path)
    with _open(path) as hdul:
        return [(i, h.name, _header_shape(h.header)) for i, h in enumerate(hdul) if _is_image(h)]


def _needs_scaling(header: fits.Header) -> bool:
    if int(header.get("BITPIX", -32)) < 0:
        return False
    return "BLANK" in header or float(header.get("BSCALE", 1.0)) != 1.0 or float(header.get("BZERO", 0.0)) != 0.0


def _read_checked(path: Path) -> list[HeaderUnit]:
    """The raw headers of every HDU, their structure checked (see core/fits_header.py) before
    astropy walks them: a nonsense NAXIS or NAXISn must not hang or exhaust it."""
    if not path.exists():
        raise DecorasError("no such file", path)
    if path.is_dir():
        raise DecorasError("is a folder, not a FITS file", path)
    return read_headers(path)


def _open(path: Path, memmap: bool = True) -> fits.HDUList:
    """astropy's HDU list of a file whose headers :func:`_read_checked` has passed."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AstropyWarning)
            hdul = fits.open(path, memmap=memmap, lazy_load_hdus=False, ignore_missing_simple=False)
    except Exception as exc:  # OSError, ValueError, zlib.error, AttributeError...: astropy on odd bytes
        raise DecorasError(f"not a readable FITS file ({_short(exc)})", path) from None
    if len(hdul) == 0:
        hdul.close()
        raise DecorasError("not a readable FITS file (no HDU)", path)
    return hdul


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "No SIMPLE card found" in text:
        return "it does not start with a SIMPLE card"
    return text.split(". If ")[0][:200]


# ------------------------------------------------------------------------------- WCS


def _celestial_axes(header: fits.Header, naxis: int) -> tuple[WCS | None, int, int, list[str]]:
    """Full WCS plus the 0-based FITS indices of the longitude and latitude axes."""
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            full = WCS(header, naxis=naxis, fix=True)
        except Exception as exc:  # astropy raises many kinds on broken WCS keywords
            notes.append(f"the WCS keywords are unusable ({_short(exc)}): pixel coordinates only")
            return None, 0, 1, notes
    if not full.has_celestial:
        notes.append("no celestial WCS in the header: pixel coordinates only")
        return None, 0, 1, notes
    return full, int(full.wcs.lng), int(full.wcs.lat), notes


def _celestial_wcs(full: WCS, lng: int, lat: int, ny: int, nx: int, path: Path) -> tuple[WCS | None, str | None]:
    wcs = full.sub([lng + 1, lat + 1])
    wcs.array_shape = (ny, nx)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            probe = wcs.pixel_to_world_values(np.array([nx / 2.0]), np.array([ny / 2.0]))
    except Exception as exc:
        return None, f"the celestial WCS cannot convert pixels ({_short(exc)}): pixel coordinates only"
    if not np.all(np.isfinite(probe)):  # each card passed core/fits_header.py, but together they are nonsense
        cards = ", ".join(f"{k}{a + 1}" for k in ("CRPIX", "CRVAL", "CDELT") for a in (lng, lat))
        raise DecorasError(f"the celestial WCS ({cards} or the CD/PC matrix, projection {full.wcs.ctype[lng][5:]}) "
                           "puts the image centre off the sky", path)
    return wcs, None


# ------------------------------------------------------------------------------ planes


def _select_plane(
    shape: tuple[int, ...], header: fits.Header, lng: int, lat: int, plane, path: Path
) -> tuple[tuple, tuple[int, ...], tuple[ExtraAxis, ...]]:
    """Numpy index selecting one celestial plane, the chosen plane, and the extra axes."""
    extra = [i for i in range(len(shape)) if i not in (lng, lat)]
    movable = [i for i in extra if shape[i] > 1]
    if plane is None:
        chosen = [0] * len(movable)
    elif isinstance(plane, (int, np.integer)):
        chosen = [int(plane)] + [0] * max(0, len(movable) - 1)
        if not movable and int(plane) != 0:
            raise DecorasError(f"plane {plane} asked for, but the image has a single plane", path)
    else:
        chosen = [int(p) for p in plane]
        if len(chosen) != len(movable):
            raise DecorasError(f"plane {tuple(plane)} does not match the {len(movable)} non-degenerate extra axes",
                               path)
    index_fits = [0] * len(shape)
    for axis, value in zip(movable, chosen):
        if not 0 <= value < shape[axis]:
            name = header.get(f"CTYPE{axis + 1}", f"axis {axis + 1}")
            raise DecorasError(f"plane {value} is outside {name} (length {shape[axis]})", path)
        index_fits[axis] = value
    axes = []
    for axis in extra:
        ctype = str(header.get(f"CTYPE{axis + 1}", f"AXIS{axis + 1}")).strip() or f"AXIS{axis + 1}"
        try:
            value = float(header.get(f"CRVAL{axis + 1}", 0.0)) + (
                index_fits[axis] + 1 - float(header.get(f"CRPIX{axis + 1}", 1.0))
            ) * float(header.get(f"CDELT{axis + 1}", 1.0))
        except (TypeError, ValueError):
            value = None
        if value is not None and not math.isfinite(value):  # finite cards, but their product overflows
            value = None
        axes.append(ExtraAxis(axis + 1, ctype, shape[axis], value))
    # numpy index: axes reversed; celestial axes kept as slices
    np_index = tuple(slice(None) if i in (lng, lat) else index_fits[i] for i in reversed(range(len(shape))))
    return np_index, tuple(chosen), tuple(axes)


def _stokes_note(axes: tuple[ExtraAxis, ...]) -> str | None:
    for axis in axes:
        if axis.name.upper().startswith("STOKES") and axis.value is not None:
            code = int(round(axis.value))
            if code not in (1, 2, 3, 4, -1, -2, -3, -4, -5, -6, -7, -8):
                return f"STOKES value {code} is not defined by FITS: treated as total intensity (I)"
    return None


# ----------------------------------------------------------------------------- loading


def _plane_data(hdu, np_index: tuple, lng: int, lat: int, path: Path) -> tuple[np.ndarray, list[str]]:
    notes: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AstropyWarning)
            data = hdu.data
    except Exception as exc:  # truncated or inconsistent files raise many kinds here
        raise DecorasError(f"the image data cannot be read ({_short(exc)}); the file may be truncated", path) from None
    if data is None:
        raise DecorasError("the image HDU holds no data", path)
    try:
        plane = data[np_index]
    except (IndexError, ValueError, TypeError) as exc:
        raise DecorasError(f"the image data do not match the header ({_short(exc)})", path) from None
    if plane.ndim != 2:
        raise DecorasError(f"the selected plane is {plane.ndim}-D, not 2-D", path)
    if lat < lng:  # numpy order is [..., lat, lng] already when lng is the lower FITS axis
        plane = plane.T
    header = hdu.header
    blank = header.get("BLANK")
    if plane.dtype.kind in "iu":
        values = plane.astype(np.float32 if plane.dtype.itemsize <= 2 else np.float64)
        if blank is not None:  # an integer: core/fits_header.py refuses any other BLANK on integer data
            values[plane == int(blank)] = np.nan
        plane = values
    elif blank is not None:
        notes.append("BLANK keyword on floating-point data is invalid FITS: ignored (NaN marks blanks)")
    return plane, notes


def load_fits(path: str | os.PathLike, hdu: int | str | None = None, plane=None) -> SkyImage:
    """Open a FITS image (any HDU; 2-, 3- or 4-D; plain, gzipped or tile-compressed).

    ``hdu`` picks an HDU by index or name (default: the first one holding an image);
    ``plane`` picks the plane of a cube: an int for the first non-degenerate extra axis
    or a tuple with one index per non-degenerate extra axis (default: plane 0).
    Raises :class:`DecorasError`, naming the file, for anything it cannot read.
    """
    path = Path(path)
    units = _read_checked(path)
    hdul = _open(path)
    try:
        if len(hdul) != len(units):
            raise DecorasError(f"astropy reads {len(hdul)} HDUs where the headers chain {len(units)}: "
                               "a damaged file", path)
        index = _pick_hdu(hdul, hdu, path)
        check_values(units[index], path)
        if _needs_scaling(hdul[index].header):  # astropy cannot memory-map scaled integers
            hdul.close()
            hdul = _open(path, memmap=False)
        chosen = hdul[index]
        header = chosen.header.copy()
        shape = _header_shape(chosen.header)
        if any(n <= 0 for n in shape):
            key = units[index].image_key("NAXIS") + str(shape.index(0) + 1)
            raise DecorasError(f"{key} = 0: an image axis has length 0 (shape {shape})", path)
        full, lng, lat, notes = _celestial_axes(header, len(shape))
        if shape[lng] <= 1 or shape[lat] <= 1:
            raise DecorasError(f"the celestial axes have lengths {shape[lng]} x {shape[lat]}", path)
        np_index, plane_chosen, extra = _select_plane(shape, header, lng, lat, plane, path)
        data, data_notes = _plane_data(chosen, np_index, lng, lat, path)
        notes += data_notes
        wcs = None
        if full is not None:
            wcs, note = _celestial_wcs(full, lng, lat, data.shape[0], data.shape[1], path)
            if note:
                notes.append(note)
        stokes = _stokes_note(extra)
        if stokes:
            notes.append(stokes)
        beam = beam_from_header(header)
        if beam is None:
            notes.append("no beam (BMAJ/BMIN/BPA or AIPS CLEAN HISTORY) in the header")
        unit, unit_note = parse_bunit(header.get("BUNIT"))
        if unit_note:
            notes.append(unit_note)
        return SkyImage(
            path=path,
            data=data,
            header=header,
            wcs=wcs,
            beam=beam,
            unit=unit,
            hdu_index=index,
            hdu_name=chosen.name or ("PRIMARY" if index == 0 else f"HDU {index}"),
            plane=plane_chosen,
            celestial_axes=(lng + 1, lat + 1),
            extra_axes=extra,
            warnings=notes,
        )
    except DecorasError:
        hdul.close()
        raise
    except Exception as exc:  # a last guard: astropy raises many kinds on odd files
        hdul.close()
        raise DecorasError(f"cannot read this image ({type(exc).__name__}: {_short(exc)})", path) from None


def load_plane(image: SkyImage, plane) -> SkyImage:
    """Another plane of the cube ``image`` came from: the same header, WCS, beam and unit,
    the data of ``plane`` (as for :func:`load_fits`) memory-mapped from the file, without
    checking the headers again (stepping through the planes of a cube)."""
    path = image.path
    if _needs_scaling(image.header):
        return load_fits(path, hdu=image.hdu_index, plane=plane)
    hdul = _open(path)
    try:
        chosen = hdul[image.hdu_index]
        shape = _header_shape(chosen.header)
        lng, lat = image.celestial_axes[0] - 1, image.celestial_axes[1] - 1
        np_index, plane_chosen, extra = _select_plane(shape, image.header, lng, lat, plane, path)
        data, _ = _plane_data(chosen, np_index, lng, lat, path)
    except DecorasError:
        hdul.close()
        raise
    except Exception as exc:  # the file changed under us: astropy raises many kinds
        hdul.close()
        raise DecorasError(f"cannot read plane {plane} ({type(exc).__name__}: {_short(exc)})", path) from None
    return replace(image, data=data, plane=plane_chosen, extra_axes=extra, warnings=list(image.warnings))
