"""Cross-matching detections against a survey catalogue (NVSS, FIRST, LoTSS, or any table).

A reference catalogue is read with astropy (FITS, VOTable, CSV, ECSV). Its layout is
recognised from its column names (:data:`LAYOUTS`: NVSS and FIRST as VizieR and HEASARC
serve them, LoTSS, PyBDSF and Aegean lists, our own catalogues); any other table works when the caller
names its columns (``columns={"ra": ..., "dec": ..., "flux": ..., "name": ...}``), and columns
with the UCD ``pos.eq.ra;meta.main`` / ``pos.eq.dec;meta.main`` are found without help.
Positions may be degrees or sexagesimal strings; fluxes are converted to Jy from the
column's unit, or from the survey's documented unit (mJy) when the file has none.

:func:`crossmatch` finds, with astropy's ``match_coordinates_sky``, the nearest reference
source of every detection and the nearest detection of every reference source. The radius
is a number of beams: of the coarser of the image's restoring beam and the survey's beam
(NVSS 45", FIRST 5.4", LoTSS 6"), as positional errors scale with it; ``radius_arcsec``
overrides. Detections get ``xmatch`` (matched / unmatched), ``match_name``, ``match_sep``
(arcsec) and ``match_flux_ratio`` (our total flux over the reference flux); the catalogue's
metadata names the reference (``xmatch_ref``) and the radius (``xmatch_radius``). Reference
sources inside the image that no detection matches are listed, and
:func:`reference_sources` turns them into candidates to vet.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord, match_coordinates_sky
from astropy.table import Table
from astropy.wcs.utils import wcs_to_celestial_frame as wcs_frame

from .catalogue import CANDIDATE, Catalogue, Source
from .errors import DecorasError
from .formats import catalogue_format, catalogue_format_for_path
from .geometry import sky_positions
from .provenance import sky_frame

__all__ = ["ReferenceLayout", "LAYOUTS", "ReferenceCatalogue", "read_reference", "reference_columns", "CrossMatch",
           "crossmatch", "match_radius", "reference_sources", "reference_pixels", "ROLES"]

#: what a reference column is used for
ROLES: tuple[str, ...] = ("ra", "dec", "flux", "name", "maj", "min", "pa")


@dataclass(frozen=True)
class ReferenceLayout:
    """How one survey's catalogue names its columns (lower case; the first present is used).

    ``signature``: columns that together say the file is this survey's; ``flux_unit`` and
    ``size_unit`` apply when a column has no unit; ``beam`` is the survey's resolution
    (arcsec); ``frame`` the frame its positions are in."""

    name: str
    signature: tuple[str, ...]
    ra: tuple[str, ...]
    dec: tuple[str, ...]
    flux: tuple[str, ...] = ()
    name_col: tuple[str, ...] = ()
    maj: tuple[str, ...] = ()
    min: tuple[str, ...] = ()
    pa: tuple[str, ...] = ()
    flux_unit: u.UnitBase = u.mJy
    size_unit: u.UnitBase = u.arcsec
    beam: float = math.nan
    frame: str = "icrs"


_RA = ("ra", "raj2000", "_raj2000", "ra_j2000", "ra_deg", "radeg", "ra2000", "alpha_j2000")
_DEC = ("dec", "dej2000", "_dej2000", "decj2000", "dec_j2000", "dec_deg", "dedeg", "de2000", "delta_j2000")

LAYOUTS: tuple[ReferenceLayout, ...] = (
    # NVSS, Condon et al. 1998: VizieR VIII/65/nvss and HEASARC's nvss table; 45" beam, fluxes in mJy
    ReferenceLayout("NVSS", ("s1.4",), _RA, _DEC, ("s1.4",), ("nvss", "name"), ("majaxis",), ("minaxis",), ("pa",),
                    beam=45.0, frame="fk5"),
    ReferenceLayout("NVSS", ("flux_20_cm",), _RA, _DEC, ("flux_20_cm",), ("name",), ("major_axis",),
                    ("minor_axis",), ("position_angle",), beam=45.0, frame="fk5"),
    # FIRST, Becker et al. 1995 / Helfand et al. 2015: VizieR VIII/92 and the survey's own FITS; 5.4" beam
    ReferenceLayout("FIRST", ("fpeak", "fint"), _RA, _DEC, ("fint",), ("first", "name", "seq"),
                    ("maj", "major", "fitted_major"), ("min", "minor", "fitted_minor"),
                    ("pa", "posang", "fitted_posang"),
                    beam=5.4, frame="fk5"),
    # LoTSS (Shimwell et al. 2019, 2022) and any PyBDSF source list: Total_flux in mJy, 6" beam
    ReferenceLayout("LoTSS", ("source_name", "total_flux", "isl_rms"), _RA, _DEC, ("total_flux",), ("source_name",),
                    ("maj",), ("min",), ("pa",), beam=6.0),
    # PyBDSF's own source and Gaussian lists (write_catalog, FITS or ASCII): Total_flux in Jy
    ReferenceLayout("PyBDSF", ("total_flux", "isl_rms", "s_code"), _RA, _DEC, ("total_flux",), ("source_id", "gaus_id"),
                    ("maj",), ("min",), ("pa",), flux_unit=u.Jy, size_unit=u.deg),
    # Aegean (Hancock et al. 2018) catalogues: int_flux in Jy, a/b FWHM in arcsec
    ReferenceLayout("Aegean", ("int_flux", "local_rms", "island"), ("ra",), ("dec",), ("int_flux",), ("uuid",),
                    ("a",), ("b",), ("pa",), flux_unit=u.Jy),
    # our own catalogues: total_flux in Jy
    ReferenceLayout("decoras", ("source_id", "total_flux", "det_prob"), ("ra",), ("dec",), ("total_flux",),
                    ("source_id",), ("maj",), ("min",), ("pa",), flux_unit=u.Jy),
)
_GENERIC = ReferenceLayout("columns", (), _RA, _DEC, ("total_flux", "int_flux", "flux", "s_int", "fint", "s"),
                           ("name", "source_name", "id", "source_id"), ("maj", "a", "major"), ("min", "b", "minor"),
                           ("pa", "pos_ang", "posang"))


@dataclass
class ReferenceCatalogue:
    """A survey catalogue for cross-matching: positions, fluxes (Jy) and sizes (arcsec, deg)."""

    path: Path
    layout: str
    coords: SkyCoord
    names: np.ndarray
    flux: np.ndarray
    maj: np.ndarray
    min: np.ndarray
    pa: np.ndarray
    beam: float = math.nan
    columns: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.names)

    @property
    def label(self) -> str:
        """``"NVSS (nvss_field.fits)"``"""
        return f"{self.layout} ({self.path.name})"


def _lower(colnames: Sequence[str]) -> dict[str, str]:
    return {c.lower(): c for c in colnames}


def _first(lower: Mapping[str, str], candidates: Sequence[str]) -> str | None:
    for c in candidates:
        if c in lower:
            return lower[c]
    return None


def _by_ucd(table: Table, ucd: str) -> str | None:
    for name in table.colnames:
        if str(table[name].meta.get("ucd", "")).lower().startswith(ucd):
            return name
    return None


def _layout_for(table: Table) -> ReferenceLayout:
    lower = _lower(table.colnames)
    for layout in LAYOUTS:
        if all(s in lower for s in layout.signature):
            return layout
    return _GENERIC


def _read_table(path: Path, format: str | None = None) -> Table:
    fmt = catalogue_format(format, path) if format else catalogue_format_for_path(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # VizieR units astropy does not know, W-warnings of VOTables
        try:
            if fmt.key == "votable":
                from astropy.io.votable import parse

                return parse(str(path)).get_first_table().to_table(use_names_over_ids=True)
            if fmt.key == "fits":
                return Table.read(path, format="fits", hdu=1 if _has_table_hdu(path) else None)
            return Table.read(path, format=fmt.astropy)
        except DecorasError:
            raise
        except Exception as exc:  # astropy raises many kinds on a bad file
            raise DecorasError(f"not a readable {fmt.label} table: {str(exc).splitlines()[0][:200]}", path) from None


def _has_table_hdu(path: Path) -> bool:
    from astropy.io import fits

    try:
        with fits.open(path, memmap=True) as hdul:
            return len(hdul) > 1 and isinstance(hdul[1], (fits.BinTableHDU, fits.TableHDU))
    except OSError as exc:
        raise DecorasError(f"not a FITS file: {exc}", path) from None


def _unit(col, default: u.UnitBase | None) -> u.UnitBase | None:
    unit = getattr(col, "unit", None)
    if unit is None or isinstance(unit, u.UnrecognizedUnit):
        return default
    return unit


def _floats(col) -> np.ndarray:
    data = col.filled(np.nan) if hasattr(col, "filled") and np.ma.isMaskedArray(col) else col
    return np.asarray(data, dtype=float)


def _to_jy(col, default: u.UnitBase) -> np.ndarray:
    values = _floats(col)
    unit = _unit(col, default)
    try:
        return (values * unit).to_value(u.Jy)
    except u.UnitConversionError:
        return (values * unit * u.beam).to_value(u.Jy)  # a peak in Jy/beam, read as a flux


def _positions(table: Table, ra_col: str, dec_col: str, frame: str, path: Path) -> SkyCoord:
    ra, dec = table[ra_col], table[dec_col]
    try:
        if ra.dtype.kind in "US" or dec.dtype.kind in "US" or ra.dtype.kind == "O":
            text_ra = [str(v) for v in np.asarray(ra)]
            text_dec = [str(v) for v in np.asarray(dec)]
            return SkyCoord(text_ra, text_dec, unit=(u.hourangle, u.deg), frame=frame)
        ra_unit = _unit(ra, u.deg)
        dec_unit = _unit(dec, u.deg)
        return SkyCoord(_floats(ra) * ra_unit, _floats(dec) * dec_unit, frame=frame)
    except (ValueError, u.UnitsError) as exc:
        raise DecorasError(f"columns {ra_col}/{dec_col} are not sky positions: {str(exc)[:160]}", path) from None


def _inspect(path: Path, format: str | None = None) -> tuple[Table, ReferenceLayout, dict[str, str]]:
    if not path.is_file():
        raise DecorasError("no such file", path)
    table = _read_table(path, format)
    if not len(table):
        raise DecorasError("the table has no rows", path)
    layout = _layout_for(table)
    lower = _lower(table.colnames)
    chosen: dict[str, str] = {}
    for role, candidates in (("ra", layout.ra), ("dec", layout.dec), ("flux", layout.flux),
                             ("name", layout.name_col), ("maj", layout.maj), ("min", layout.min), ("pa", layout.pa)):
        col = _first(lower, candidates)
        if col is None and role in ("ra", "dec"):
            col = _by_ucd(table, f"pos.eq.{role};meta.main") or _by_ucd(table, f"pos.eq.{role}")
        if col is not None:
            chosen[role] = col
    return table, layout, chosen


def reference_columns(path: str | os.PathLike) -> tuple[list[str], str, dict[str, str]]:
    """What a reference file holds: its column names, the layout recognised (``"columns"``
    when none) and the column chosen for each role (:data:`ROLES`), for a column chooser."""
    table, layout, chosen = _inspect(Path(path))
    return list(table.colnames), layout.name, chosen


def read_reference(path: str | os.PathLike, columns: Mapping[str, str] | None = None,
                   format: str | None = None) -> ReferenceCatalogue:
    """A reference catalogue from a FITS, VOTable, CSV or ECSV table (module docstring).

    ``columns`` names the column of a role (:data:`ROLES`) where the layout is not
    recognised or should be overridden; ``format`` (a catalogue format name) where the file
    name does not say (a table received over SAMP is a VOTable). A DecorasError names the file
    and, when no position columns can be found, lists the file's columns."""
    path = Path(path)
    table, layout, chosen = _inspect(path, format)
    for role, col in (columns or {}).items():
        if role not in ROLES:
            raise DecorasError(f"unknown column role {role!r} (use {', '.join(ROLES)})", path)
        if col:
            if col not in table.colnames:
                raise DecorasError(f"no column {col!r} (columns: {', '.join(table.colnames[:30])})", path)
            chosen[role] = col
    if "ra" not in chosen or "dec" not in chosen:
        raise DecorasError("cannot tell which columns hold RA and Dec: choose them (columns: "
                           f"{', '.join(table.colnames[:30])})", path)
    n = len(table)
    nan = np.full(n, np.nan)
    flux = _to_jy(table[chosen["flux"]], layout.flux_unit) if "flux" in chosen else nan
    sizes = {}
    for role in ("maj", "min"):
        sizes[role] = (_floats(table[chosen[role]]) * _unit(table[chosen[role]], layout.size_unit)).to_value(u.arcsec) \
            if role in chosen else nan
    pa = (_floats(table[chosen["pa"]]) * _unit(table[chosen["pa"]], u.deg)).to_value(u.deg) if "pa" in chosen else nan
    names = np.array([str(v).strip() for v in table[chosen["name"]]]) if "name" in chosen else \
        np.array([str(i + 1) for i in range(n)])
    coords = _positions(table, chosen["ra"], chosen["dec"], layout.frame, path)
    good = np.isfinite(coords.spherical.lon.deg) & np.isfinite(coords.spherical.lat.deg)
    if not good.any():
        raise DecorasError(f"no finite positions in {chosen['ra']}/{chosen['dec']}", path)
    name = layout.name if layout is not _GENERIC or columns is None else "columns"
    return ReferenceCatalogue(path, name, coords[good], names[good], flux[good], sizes["maj"][good],
                              sizes["min"][good], pa[good], layout.beam, chosen)


# ------------------------------------------------------------------ matching


@dataclass
class CrossMatch:
    """The result of :func:`crossmatch`: the catalogue with its match columns, and the
    reference side: which reference sources are inside the image, which matched."""

    catalogue: Catalogue
    reference: ReferenceCatalogue
    radius_arcsec: float
    inside: np.ndarray  # bool per reference source: in the image (or the detections' field)
    matched_ref: np.ndarray  # bool per reference source: a detection lies within the radius

    @property
    def unmatched_reference(self) -> np.ndarray:
        """Indices of the reference sources inside the field that no detection matches."""
        return np.flatnonzero(self.inside & ~self.matched_ref)

    def summary(self) -> dict[str, float | int | str]:
        cat = list(self.catalogue)
        matched = [s for s in cat if s.xmatch == "matched"]
        seps = np.array([s.match_sep for s in matched], float)
        ratios = np.array([s.match_flux_ratio for s in matched], float)
        ratios = ratios[np.isfinite(ratios)]
        return {"reference": self.reference.label, "radius_arcsec": self.radius_arcsec, "detections": len(cat),
                "matched": len(matched), "reference_in_field": int(self.inside.sum()),
                "reference_matched": int((self.inside & self.matched_ref).sum()),
                "reference_unmatched": int(len(self.unmatched_reference)),
                "median_sep_arcsec": float(np.median(seps)) if seps.size else math.nan,
                "median_flux_ratio": float(np.median(ratios)) if ratios.size else math.nan}


def _catalogue_coords(cat: Catalogue, wcs) -> tuple[SkyCoord | None, np.ndarray]:
    """The detections' positions (where they have one), and which have one."""
    frame = sky_frame(cat.meta)
    celestial = wcs.celestial if wcs is not None and getattr(wcs, "has_celestial", False) else None
    ra, dec = sky_positions(list(cat), celestial, frame)
    good = np.isfinite(ra) & np.isfinite(dec)
    if not good.any():
        return None, good
    return SkyCoord(ra[good] * u.deg, dec[good] * u.deg, frame=frame), good


def _inside(ref: ReferenceCatalogue, wcs, shape, det: SkyCoord | None, radius: float) -> np.ndarray:
    if wcs is not None and shape is not None and getattr(wcs, "has_celestial", False):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x, y = wcs.celestial.world_to_pixel(ref.coords)
        ny, nx = shape[-2], shape[-1]
        return np.isfinite(x) & np.isfinite(y) & (x >= -0.5) & (x <= nx - 0.5) & (y >= -0.5) & (y <= ny - 0.5)
    if det is None:
        return np.zeros(len(ref), bool)
    pts = det
    x, y, z = pts.cartesian.xyz.value.mean(axis=1)
    centre = SkyCoord(math.degrees(math.atan2(y, x)) * u.deg, math.degrees(math.atan2(z, math.hypot(x, y))) * u.deg,
                      frame=pts.frame)
    extent = pts.separation(centre).max().to_value(u.arcsec) + radius
    return ref.coords.separation(centre).to_value(u.arcsec) <= extent


def match_radius(cat: Catalogue, ref: ReferenceCatalogue, radius_beams: float = 1.0,
                 radius_arcsec: float | None = None, beam_arcsec: float | None = None) -> float:
    """The matching radius in arcsec: ``radius_arcsec``, else ``radius_beams`` times the
    coarser of the image's beam (``beam_arcsec`` or the catalogue's ``beam_maj``) and the survey's."""
    if radius_arcsec is not None:
        if not radius_arcsec > 0:
            raise DecorasError("the matching radius must be positive")
        return float(radius_arcsec)
    if not radius_beams > 0:
        raise DecorasError("the matching radius must be positive")
    beams = [b for b in (beam_arcsec if beam_arcsec is not None else cat.meta.get("beam_maj"), ref.beam)
             if isinstance(b, (int, float)) and math.isfinite(b) and b > 0]
    if not beams:
        raise DecorasError("no beam to scale the radius by: the catalogue has no beam_maj and the reference layout "
                           "none; give the radius in arcsec", ref.path)
    return float(radius_beams * max(beams))


def crossmatch(cat: Catalogue, ref: ReferenceCatalogue, radius_beams: float = 1.0, radius_arcsec: float | None = None,
               beam_arcsec: float | None = None, wcs=None, shape=None) -> CrossMatch:
    """Match ``cat`` against ``ref`` (module docstring); ``wcs``/``shape`` of the image say
    which reference sources lie inside it (without them: the detections' field)."""
    radius = match_radius(cat, ref, radius_beams, radius_arcsec, beam_arcsec)
    det, good = _catalogue_coords(cat, wcs)
    matched_ref = np.zeros(len(ref), bool)
    out = cat.copy()
    out.meta["xmatch_ref"] = ref.label
    out.meta["xmatch_radius"] = radius
    if det is not None and len(ref):
        ref_coords = ref.coords.transform_to(det.frame)
        idx, sep, _ = match_coordinates_sky(det, ref_coords)  # each detection's nearest reference source
        sources = list(out)
        for i, j, d in zip(np.flatnonzero(good), idx, sep.to_value(u.arcsec)):
            s = sources[i]
            if d <= radius:
                ratio = s.total_flux / ref.flux[j] if math.isfinite(s.total_flux) and ref.flux[j] > 0 else math.nan
                out.update(s.source_id, xmatch="matched", match_name=str(ref.names[j]), match_sep=float(d),
                           match_flux_ratio=float(ratio))
            else:
                out.update(s.source_id, xmatch="unmatched", match_name="", match_sep=math.nan,
                           match_flux_ratio=math.nan)
        _, back_sep, _ = match_coordinates_sky(ref_coords, det)  # each reference source's nearest detection
        matched_ref = back_sep.to_value(u.arcsec) <= radius
    inside = _inside(ref, wcs, shape, det, radius)
    return CrossMatch(out, ref, radius, inside, matched_ref)


def _sizes(ref: ReferenceCatalogue) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """FWHM major, minor (arcsec) and PA (deg) of every reference source: the survey's beam, a
    circle, where the catalogue gives no size; NaN where neither is known."""
    beam = ref.beam if math.isfinite(ref.beam) and ref.beam > 0 else math.nan
    sized = np.isfinite(ref.maj) & (ref.maj > 0)
    maj = np.where(sized, ref.maj, beam)
    mn = np.where(sized & np.isfinite(ref.min) & (ref.min > 0), ref.min, maj)
    pa = np.where(sized & np.isfinite(ref.pa), ref.pa, 0.0)
    return maj, mn, pa


def reference_pixels(ref: ReferenceCatalogue, wcs) -> tuple[np.ndarray, ...]:
    """Pixel ellipses of every reference source on the image: x, y (0-based), FWHM major and
    minor (pixels) and the angle of the major axis (deg, counter-clockwise from +x), all
    vectorised; a source without a size gets the survey's beam, or 3 pixels without one.
    The sky's north and east at each source come from the WCS, so rotated or sheared images
    draw right."""
    celestial = wcs.celestial
    frame = wcs_frame(celestial)
    c = ref.coords.transform_to(frame)
    lon, lat = c.spherical.lon.deg, c.spherical.lat.deg
    step = 1.0  # arcsec
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x, y = celestial.world_to_pixel(SkyCoord(lon * u.deg, lat * u.deg, frame=frame))
        xn, yn = celestial.world_to_pixel(SkyCoord(lon * u.deg, (lat + step / 3600.0) * u.deg, frame=frame))
        cosd = np.maximum(np.cos(np.radians(lat)), 1e-9)
        xe, ye = celestial.world_to_pixel(SkyCoord((lon + step / 3600.0 / cosd) * u.deg, lat * u.deg, frame=frame))
    north = np.stack([xn - x, yn - y]) / step  # pixels per arcsec towards north
    east = np.stack([xe - x, ye - y]) / step
    maj, mn, pa = _sizes(ref)
    pa = np.radians(pa)
    along = north * np.cos(pa) + east * np.sin(pa)
    across = north * np.cos(pa + np.pi / 2) + east * np.sin(pa + np.pi / 2)
    maj_px = maj * np.hypot(*along)
    min_px = mn * np.hypot(*across)
    fallback = ~np.isfinite(maj_px)
    maj_px[fallback] = min_px[fallback] = 3.0
    theta = np.degrees(np.arctan2(along[1], along[0]))
    return np.asarray(x, float), np.asarray(y, float), maj_px, min_px, theta


def reference_sources(ref: ReferenceCatalogue, indices: Sequence[int], wcs=None, frame=None) -> list[Source]:
    """Reference sources as candidates to vet (origin 'manual', a note naming the survey):
    ra/dec in ``frame`` (default ICRS), pixel position and ellipse through the celestial
    ``wcs`` when there is one (a beam-sized circle where the survey gives no size)."""
    out = []
    pixels = reference_pixels(ref, wcs) if wcs is not None and getattr(wcs, "has_celestial", False) else None
    maj, mn, pa = _sizes(ref)
    for j in indices:
        c = ref.coords[j]
        if frame is not None:
            c = c.transform_to(frame)
        values = dict(ra=float(c.spherical.lon.deg), dec=float(c.spherical.lat.deg), maj=float(maj[j]),
                      min=float(mn[j]), pa=float(pa[j]), origin="manual", status=CANDIDATE,
                      note=f"from {ref.layout} {ref.names[j]}", xmatch="matched", match_name=str(ref.names[j]),
                      match_sep=0.0)
        if pixels is not None:
            x, y, maj_px, min_px, theta = (float(a[j]) for a in pixels)
            values.update(x=x, y=y, maj_img=maj_px, min_img=min_px, theta_img=theta)
        out.append(Source(**values))
    return out
