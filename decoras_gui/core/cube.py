"""Cubes: detection on every plane of a FREQ (or STOKES) axis, per-source spectra, spectral indices.

A cube is an image with a non-celestial axis longer than one (:func:`cube_axis`). Planes are
read one at a time from the memory-mapped file (:func:`~decoras_gui.core.image.load_plane`),
so a cube larger than the memory works: nothing but the plane at hand is read.

* :func:`detect_cube` runs a 2-D detector on each chosen plane; every source gets its
  ``plane`` (0-based along the axis) and, on a FREQ axis, the plane's ``freq`` (Hz).
* :func:`measure_spectra` measures each source's flux density in every plane at its
  position: the beam-matched amplitude (the plane convolved with the restoring beam, read at
  the source's centre, in the image's unit: Jy/beam is the flux density of an unresolved
  source), its error the robust rms of that matched map. On a FREQ axis a power law
  S ~ nu^alpha is fitted by weighted least squares in log-log to the planes where the source
  is above ``min_snr``: ``spectral_index`` and ``spectral_index_err``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from astropy import units as u
from astropy.table import Table

from .catalogue import Catalogue
from .errors import Cancelled, DecorasError
from .image import SkyImage, load_plane, robust_rms

__all__ = ["CubeAxis", "cube_axis", "parse_planes", "plane_of", "detect_cube", "Spectra", "measure_spectra",
           "fit_spectral_index", "current_plane", "stamp_plane", "format_index"]

Progress = Callable[[float | None, str], None]


@dataclass(frozen=True)
class CubeAxis:
    """The axis a cube's planes run along: its position among the image's movable axes (the
    index into ``SkyImage.plane``), FITS name, length and world value of every plane."""

    position: int
    name: str
    length: int
    values: np.ndarray  # world value per plane (Hz on a FREQ axis), NaN where unknown
    unit: str

    @property
    def is_frequency(self) -> bool:
        return self.name.upper().startswith(("FREQ", "FREQUENCY"))

    def label(self, k: int) -> str:
        """``"1.4200 GHz (plane 3 of 0-15)"``, ``"STOKES V (plane 3 of 0-3)"``: 0-based, as the
        catalogue's ``plane`` and ``decoras detect --planes``."""
        v = float(self.values[k]) if 0 <= k < self.length else math.nan
        if self.is_frequency and math.isfinite(v):
            what = f"{v / 1e9:.4f} GHz"
        elif self.name.upper().startswith("STOKES") and math.isfinite(v):
            what = "STOKES " + {1: "I", 2: "Q", 3: "U", 4: "V"}.get(int(round(v)), str(int(round(v))))
        else:
            what = f"{self.name} {v:g}" if math.isfinite(v) else self.name
        return f"{what} (plane {k} of 0–{self.length - 1})"


def _axis_values(image: SkyImage, fits_index: int, length: int) -> np.ndarray:
    h = image.header
    try:
        crval = float(h.get(f"CRVAL{fits_index}", 0.0))
        crpix = float(h.get(f"CRPIX{fits_index}", 1.0))
        cdelt = float(h.get(f"CDELT{fits_index}", 1.0))
    except (TypeError, ValueError):
        return np.full(length, np.nan)
    return crval + (np.arange(length) + 1 - crpix) * cdelt


def cube_axis(image: SkyImage) -> CubeAxis | None:
    """The axis the planes of ``image`` run along: the first FREQ axis longer than one, else the
    first other non-celestial axis longer than one (STOKES...); None for a single plane."""
    movable = [a for a in image.extra_axes if a.length > 1]
    if not movable:
        return None
    pick = next((a for a in movable if a.name.upper().startswith("FREQ")), movable[0])
    unit = str(image.header.get(f"CUNIT{pick.fits_index}", "Hz" if pick.name.upper().startswith("FREQ") else ""))
    return CubeAxis(movable.index(pick), pick.name.split("-")[0].strip(), pick.length,
                    _axis_values(image, pick.fits_index, pick.length), unit.strip())


def plane_of(image: SkyImage, axis: CubeAxis, k: int) -> tuple[int, ...]:
    """The plane tuple of ``image`` with plane ``k`` along ``axis`` (other axes as they are)."""
    plane = list(image.plane) or [0] * (axis.position + 1)
    plane[axis.position] = int(k)
    return tuple(plane)


def parse_planes(text: str | None, length: int) -> list[int]:
    """0-based planes from ``all``, ``5``, ``2:10`` (10 excluded, as Python) or ``0,3,7``."""
    text = (text or "all").strip().lower()
    if text in ("all", "*", ""):
        return list(range(length))
    out: list[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if ":" in part:
                a, b = part.split(":", 1)
                out += list(range(int(a) if a else 0, int(b) if b else length))
            else:
                out.append(int(part))
    except ValueError:
        raise DecorasError(f"cannot read the planes {text!r} (use all, 5, 2:10 or 0,3,7)") from None
    bad = [k for k in out if not 0 <= k < length]
    if bad:
        raise DecorasError(f"planes {bad} are outside the cube's {length} planes (0-{length - 1})")
    return sorted(dict.fromkeys(out))


def _plane_freq(axis: CubeAxis, k: int) -> float:
    if not axis.is_frequency:
        return math.nan
    v = float(axis.values[k])
    try:
        return float((v * u.Unit(axis.unit or "Hz")).to_value(u.Hz))
    except (ValueError, u.UnitsError):
        return v


def current_plane(image: SkyImage, axis: CubeAxis | None = None) -> int:
    """The plane of ``image`` along its cube axis (-1: not a cube)."""
    axis = axis or cube_axis(image)
    if axis is None or len(image.plane) <= axis.position:
        return -1
    return int(image.plane[axis.position])


def stamp_plane(cat: Catalogue, image: SkyImage) -> Catalogue:
    """``cat`` (detected on ``image``) with every source's ``plane`` and ``freq`` set, when
    ``image`` is a plane of a cube; unchanged otherwise."""
    axis = cube_axis(image)
    k = current_plane(image, axis)
    if k < 0:
        return cat
    freq = _plane_freq(axis, k)
    out = Catalogue(meta=dict(cat.meta))
    for s in cat:
        out.add(s.replace(plane=k, freq=freq))
    return out


def _require_axis(image: SkyImage) -> CubeAxis:
    axis = cube_axis(image)
    if axis is None:
        raise DecorasError("not a cube: the image has a single plane", image.path)
    return axis


def _each_plane(image: SkyImage, axis: CubeAxis, planes: Sequence[int], what: str, progress: Progress | None,
                cancelled: Callable[[], bool] | None):
    """(plane number, the plane read from the memory map) for each of ``planes``, saying
    progress and stopping with Cancelled when asked."""
    for n, k in enumerate(planes):
        if cancelled is not None and cancelled():
            raise Cancelled(f"{what} cancelled")
        if progress is not None:
            progress(n / max(1, len(planes)), f"{what}: plane {k} of 0–{axis.length - 1}")
        yield k, load_plane(image, plane_of(image, axis, k))


def detect_cube(image: SkyImage, planes: Sequence[int], detect: Callable[[SkyImage], Catalogue],
                progress: Progress | None = None, cancelled: Callable[[], bool] | None = None) -> Catalogue:
    """Run ``detect`` (one 2-D plane -> its catalogue) on each of ``planes`` of the cube
    ``image`` and gather the sources, each with its ``plane`` and ``freq``, renumbered 1, 2, ...
    in plane order; the catalogue's metadata is the first plane's, with ``cube_axis`` and
    ``planes`` added."""
    axis = _require_axis(image)
    out: Catalogue | None = None
    for k, plane in _each_plane(image, axis, planes, "detection", progress, cancelled):
        cat = detect(plane)
        if out is None:
            out = Catalogue(meta=dict(cat.meta))
        freq = _plane_freq(axis, k)
        for s in cat:
            group = s.group if s.group < 0 else s.group + 100000 * (k + 1)  # components stay within their plane
            out.add(s.replace(source_id=-1, plane=int(k), freq=freq, group=group))
    out = out if out is not None else Catalogue()
    out.meta["cube_axis"] = axis.name
    out.meta["planes"] = ",".join(str(k) for k in planes)
    if progress is not None:
        progress(1.0, f"{len(out)} sources on {len(planes)} planes")
    return out


# ------------------------------------------------------------------ spectra


@dataclass
class Spectra:
    """Flux densities of every source in every measured plane: ``flux[i, k]`` and ``error[i, k]``
    for the catalogue's i-th source and ``planes[k]``, in ``unit``."""

    source_ids: np.ndarray
    planes: np.ndarray
    freq: np.ndarray  # Hz (NaN on a non-frequency axis)
    flux: np.ndarray
    error: np.ndarray
    unit: u.UnitBase
    axis: str

    def of(self, source_id: int) -> tuple[np.ndarray, np.ndarray] | None:
        hits = np.flatnonzero(self.source_ids == int(source_id))
        return (self.flux[hits[0]], self.error[hits[0]]) if hits.size else None

    def to_table(self) -> Table:
        """The long form: one row per source and plane (``source_id, plane, freq, flux, flux_err``)."""
        n_s, n_p = self.flux.shape
        t = Table(meta={"cube_axis": self.axis})
        t["source_id"] = np.repeat(self.source_ids, n_p)
        t["plane"] = np.tile(self.planes, n_s)
        t["freq"] = np.tile(self.freq, n_s) * u.Hz
        t["flux"] = self.flux.ravel() * self.unit
        t["flux_err"] = self.error.ravel() * self.unit
        t["source_id"].description = "source_id of the catalogue row"
        t["flux"].description = "beam-matched flux density at the source's position in the plane"
        return t


def _matched_filter(data: np.ndarray, beam_px: tuple[float, float] | None, pa_img: float) -> np.ndarray:
    """The plane convolved with the beam, normalised so a point source of peak S reads S."""
    from scipy.signal import fftconvolve

    clean = np.nan_to_num(np.asarray(data, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    if beam_px is None:
        return clean
    fwhm = 2.0 * math.sqrt(2.0 * math.log(2.0))
    sa, sb = beam_px[0] / fwhm, beam_px[1] / fwhm
    half = int(math.ceil(3 * max(sa, sb)))
    yy, xx = np.mgrid[-half:half + 1, -half:half + 1]
    t = math.radians(pa_img)
    xr = xx * math.cos(t) + yy * math.sin(t)
    yr = -xx * math.sin(t) + yy * math.cos(t)
    kernel = np.exp(-0.5 * ((xr / sa) ** 2 + (yr / sb) ** 2)).astype(np.float32)
    return fftconvolve(clean, kernel[::-1, ::-1], mode="same") / float(np.sum(kernel * kernel))


def fit_spectral_index(freq: np.ndarray, flux: np.ndarray, error: np.ndarray,
                       min_snr: float = 3.0) -> tuple[float, float]:
    """(alpha, its 1-sigma error) of S ~ nu^alpha: weighted least squares of log S on log nu over
    the planes with S >= ``min_snr`` error; NaN with fewer than two such planes at distinct
    frequencies."""
    f, s, e = (np.asarray(a, float) for a in (freq, flux, error))
    ok = np.isfinite(f) & (f > 0) & np.isfinite(s) & np.isfinite(e) & (e > 0) & (s >= min_snr * e)
    if ok.sum() < 2 or np.unique(f[ok]).size < 2:
        return math.nan, math.nan
    x = np.log10(f[ok])
    y = np.log10(s[ok])
    sy = e[ok] / (s[ok] * math.log(10.0))
    w = 1.0 / sy**2
    xm = np.sum(w * x) / np.sum(w)
    sxx = np.sum(w * (x - xm) ** 2)
    if sxx <= 0:
        return math.nan, math.nan
    alpha = float(np.sum(w * (x - xm) * (y - np.sum(w * y) / np.sum(w))) / sxx)
    err = float(math.sqrt(1.0 / sxx))
    if ok.sum() > 2:  # scatter beyond the errors widens the error (reduced chi-square > 1)
        resid = y - (np.sum(w * y) / np.sum(w) + alpha * (x - xm))
        chi2 = float(np.sum(w * resid**2) / (ok.sum() - 2))
        err *= math.sqrt(max(1.0, chi2))
    return alpha, err


def measure_spectra(cat: Catalogue, image: SkyImage, planes: Sequence[int] | None = None, min_snr: float = 3.0,
                    progress: Progress | None = None,
                    cancelled: Callable[[], bool] | None = None) -> tuple[Catalogue, Spectra]:
    """Every source's flux in every plane of the cube ``image`` (module docstring): the catalogue
    with ``spectral_index``/``spectral_index_err`` (FREQ axis only), and the spectra."""
    from scipy.ndimage import map_coordinates

    axis = _require_axis(image)
    planes = list(range(axis.length)) if planes is None else list(planes)
    sources = list(cat)
    xs = np.array([s.x for s in sources], float)
    ys = np.array([s.y for s in sources], float)
    flux = np.full((len(sources), len(planes)), np.nan)
    error = np.full_like(flux, np.nan)
    pa_img = 0.0
    if image.beam is not None and image.wcs is not None:
        from .geometry import pixel_angle_from_pa

        pa_img = pixel_angle_from_pa(image.wcs, image.shape[1] / 2, image.shape[0] / 2, image.beam.pa)
    inside = np.isfinite(xs) & np.isfinite(ys)
    for n, (k, plane) in enumerate(_each_plane(image, axis, planes, "spectra", progress, cancelled)):
        matched = _matched_filter(plane.data, plane.beam_pixels, pa_img)
        rms = robust_rms(matched)
        if inside.any():
            flux[inside, n] = map_coordinates(matched, [ys[inside], xs[inside]], order=1, mode="nearest")
        error[:, n] = rms
    freq = np.array([_plane_freq(axis, k) for k in planes])
    out = cat.copy()
    if axis.is_frequency:
        for i, s in enumerate(sources):
            alpha, err = fit_spectral_index(freq, flux[i], error[i], min_snr)
            out.update(s.source_id, spectral_index=alpha, spectral_index_err=err)
    if progress is not None:
        progress(1.0, f"spectra of {len(sources)} sources on {len(planes)} planes")
    spectra = Spectra(np.array([s.source_id for s in sources], dtype=np.int64), np.array(planes, dtype=np.int64),
                      freq, flux, error, image.unit, axis.name)
    return out, spectra


def format_index(alpha: float, err: float) -> str:
    """``-0.70 ± 0.05`` (``± 0.004`` for errors under 0.01); '' when not measured."""
    if not math.isfinite(alpha):
        return ""
    if not math.isfinite(err):
        return f"{alpha:+.2f}"
    return f"{alpha:+.2f} ± {err:.2f}" if err >= 0.01 else f"{alpha:+.3f} ± {err:.1g}"


