"""Catalogue <-> DS9 and CASA (CRTF) region files, through the ``regions`` package.

Convention (DS9, also stated in a comment line of every file written here):
an ellipse's semi-axes are FWHM / 2 -- i.e. the ``regions`` ``width``/``height``
are the full FWHM ``maj``/``min`` -- and in sky frames its angle is PA + 90 deg
(PA east of north; DS9 measures from the first, longitude-like axis). In the image
frame the pixel ellipse of the catalogue (``maj_img``, ``min_img``, ``theta_img``)
is written as is. Pixel centres are 0-based here; ``regions`` converts to and from
DS9's 1-based image coordinates.

Sources made of several components are grouped by a DS9 tag: each component's ellipse
carries ``tag={source N}`` (N: the id of the source's brightest component) besides its
status tag, so DS9's Region > Groups selects a source whole; reading the file back groups
the components again.

CASA region text (CRTF, ``.crtf``) holds the same ellipses in CASA's own convention:
``ellipse [[ra, dec], [FWHM maj / 2, FWHM min / 2], PA]`` -- the first radius along the
position angle, east of north (``regions`` height/width/angle = maj/min/PA). CRTF has no
tags: the status is the region's colour (:data:`STATUS_COLORS`, written as CASA's bare hex
``color=009E73``), the source id its label,
points are written as ``symbol`` (the only point shape CASA and ``regions`` both read),
and components are not grouped.
"""

from __future__ import annotations

import logging
import math
import os
import re
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.wcs import WCS
from astropy.wcs.utils import wcs_to_celestial_frame
from regions import (
    CirclePixelRegion,
    CircleSkyRegion,
    EllipsePixelRegion,
    EllipseSkyRegion,
    PixCoord,
    PointPixelRegion,
    PointSkyRegion,
    RegionMeta,
    Regions,
    RegionVisual,
)

from .catalogue import STATUSES, Catalogue, Source
from .errors import DecorasError
from .fileio import atomic_write_text
from .formats import REGION_FRAME_KEYS, SKY_FRAME_KEYS, region_format, region_format_for_path
from .geometry import sky_positions
from .provenance import sky_frame

__all__ = [
    "STATUS_COLORS",
    "SKY_FRAMES",
    "FRAMES",
    "CONVENTION_COMMENT",
    "RegionList",
    "catalogue_to_regions",
    "regions_to_text",
    "regions_to_crtf",
    "CRTF_CONVENTION_COMMENT",
    "write_regions",
    "read_regions",
    "regions_to_sources",
]

log = logging.getLogger(__name__)

#: Okabe-Ito colour-blind-safe colours per vetting status.
STATUS_COLORS: dict[str, str] = {
    "candidate": "#E69F00",  # orange
    "accepted": "#009E73",  # bluish green
    "rejected": "#D55E00",  # vermillion
}
SKY_FRAMES: tuple[str, ...] = SKY_FRAME_KEYS  # from formats.REGION_FRAMES
FRAMES: tuple[str, ...] = REGION_FRAME_KEYS
CONVENTION_COMMENT = (
    "# decoras-gui: ellipse semi-axes = FWHM/2, angle = PA + 90 deg in sky frames "
    "(DS9 convention, PA east of north)"
)
CRTF_CONVENTION_COMMENT = (
    "# decoras-gui: ellipse radii = FWHM maj/2, min/2, angle = PA east of north (CASA convention)"
    ", colour = status: " + ", ".join(f"{k} {v}" for k, v in STATUS_COLORS.items())
)
# no ';' in it: the regions parser splits lines at ';' even inside comments
_HEADER = "# Region file format: DS9 astropy/regions"
_SUPPORTED = (
    EllipseSkyRegion,
    EllipsePixelRegion,
    CircleSkyRegion,
    CirclePixelRegion,
    PointSkyRegion,
    PointPixelRegion,
)
_SKY_TYPES = (EllipseSkyRegion, CircleSkyRegion, PointSkyRegion)


class RegionList(list):
    """A list of regions; ``skipped`` describes the regions that were left out."""

    def __init__(self, items: Iterable = (), skipped: Iterable[str] = ()):
        super().__init__(items)
        self.skipped: list[str] = list(skipped)


# ---------------------------------------------------------------------- helpers


def _finite(*values: float) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def _celestial(wcs: WCS | None) -> WCS | None:
    if wcs is None or not getattr(wcs, "has_celestial", False):
        return None
    return wcs.celestial


def _catalogue_frame(celestial: WCS | None, meta: Mapping | None = None):
    """The frame the catalogue's ra/dec are in: the image WCS frame, else the one its metadata
    names (``radesys``/``equinox``, see :mod:`.provenance`), else ICRS."""
    if celestial is not None:
        return wcs_to_celestial_frame(celestial)
    return sky_frame(meta)


def _norm180(angle_deg: float) -> float:
    return float(angle_deg) % 180.0


def _check_frame(frame: str) -> str:
    frame = str(frame).strip().lower()
    if frame not in FRAMES:
        raise ValueError(f"frame must be one of {FRAMES}, not {frame!r}")
    return frame


# ----------------------------------------------------------- catalogue -> regions


def _build(
    cat: Catalogue,
    wcs: WCS | None,
    frame: str,
    statuses,
    colors: Mapping[str, str] | None,
    labels: bool,
) -> tuple[Regions, str]:
    frame = _check_frame(frame)
    celestial = _celestial(wcs)
    cat_frame = _catalogue_frame(celestial, cat.meta)
    palette = dict(STATUS_COLORS)
    palette.update(colors or {})
    sources = list(cat.filter(statuses))

    def has_sky(s: Source) -> bool:
        return _finite(s.ra, s.dec) or (celestial is not None and _finite(s.x, s.y))

    def has_pix(s: Source) -> bool:
        return _finite(s.x, s.y) or (celestial is not None and _finite(s.ra, s.dec))

    if frame in SKY_FRAMES and not all(has_sky(s) for s in sources):
        log.warning("no sky position for some sources (no celestial WCS): writing image coordinates")
        frame = "image"

    if frame == "image":
        kept = [s for s in sources if has_pix(s)]
        for s in sources:
            if not has_pix(s):
                log.warning("source %s has no position: left out of the region file", s.source_id)
        centers = _pixel_centers(kept, celestial, cat_frame)
    else:
        kept = sources
        centers = _sky_centers(kept, celestial, cat_frame, frame)

    from .components import source_groups

    source_of = {c: g.source_id for g in source_groups(sources) if g.multi for c in g.component_ids}
    out = []
    for i, s in enumerate(kept):
        meta = RegionMeta(tag=[s.status])
        if s.source_id in source_of:  # a component of a multi-component source: grouped by a DS9 tag
            meta["tag"].append(f"{SOURCE_TAG} {source_of[s.source_id]}")
        if labels:
            meta["text"] = str(s.source_id)
        visual = RegionVisual(color=palette.get(s.status, STATUS_COLORS["candidate"]))
        if frame == "image":
            region = _pixel_region(s, PixCoord(*centers[i]), celestial)
        else:
            region = _sky_region(s, centers[i], celestial)
        region.meta = meta
        region.visual = visual
        out.append(region)
    return Regions(out), frame


def _sky_centers(sources: list[Source], celestial: WCS | None, cat_frame, frame: str):
    """Centres of all sources in ``frame``, computed in one vectorised transform."""
    if not sources:
        return []
    ra, dec = sky_positions(sources, celestial, cat_frame)  # has_sky() guaranteed a WCS where needed
    coords = SkyCoord(ra * u.deg, dec * u.deg, frame=cat_frame).transform_to(frame)
    return [coords[i] for i in range(len(coords))]


def _pixel_centers(sources: list[Source], celestial: WCS | None, cat_frame) -> list[tuple[float, float]]:
    """0-based pixel centres; from ra/dec through the WCS (vectorised) where x/y are NaN."""
    xs = np.array([s.x for s in sources], dtype=float)
    ys = np.array([s.y for s in sources], dtype=float)
    missing = ~(np.isfinite(xs) & np.isfinite(ys))
    if missing.any():
        ra = np.array([s.ra for s in sources], dtype=float)[missing]
        dec = np.array([s.dec for s in sources], dtype=float)[missing]
        px, py = celestial.world_to_pixel(SkyCoord(ra * u.deg, dec * u.deg, frame=cat_frame))
        xs[missing], ys[missing] = px, py
    return list(zip(xs.tolist(), ys.tolist()))


def _sky_region(s: Source, center: SkyCoord, celestial: WCS | None):
    if _finite(s.maj, s.min):
        pa = s.pa if _finite(s.pa) else 0.0
        return EllipseSkyRegion(
            center, width=s.maj * u.arcsec, height=s.min * u.arcsec, angle=(pa + 90.0) * u.deg
        )
    if celestial is not None and _finite(s.x, s.y, s.maj_img, s.min_img):
        theta = s.theta_img if _finite(s.theta_img) else 0.0
        sky = EllipsePixelRegion(
            PixCoord(s.x, s.y), width=s.maj_img, height=s.min_img, angle=theta * u.deg
        ).to_sky(celestial)
        return EllipseSkyRegion(center, width=sky.width, height=sky.height, angle=sky.angle)
    return PointSkyRegion(center)


def _pixel_region(s: Source, center: PixCoord, celestial: WCS | None):
    if _finite(s.maj_img, s.min_img):
        theta = s.theta_img if _finite(s.theta_img) else 0.0
        return EllipsePixelRegion(center, width=s.maj_img, height=s.min_img, angle=theta * u.deg)
    if celestial is not None and _finite(s.maj, s.min):
        pa = s.pa if _finite(s.pa) else 0.0
        sky_center = celestial.pixel_to_world(center.x, center.y)
        pix = EllipseSkyRegion(
            sky_center, width=s.maj * u.arcsec, height=s.min * u.arcsec, angle=(pa + 90.0) * u.deg
        ).to_pixel(celestial)
        return EllipsePixelRegion(center, width=pix.width, height=pix.height, angle=pix.angle)
    return PointPixelRegion(center)


def catalogue_to_regions(
    cat: Catalogue,
    wcs: WCS | None = None,
    frame: str = "fk5",
    statuses: Iterable[str] | str | None = None,
    colors: Mapping[str, str] | None = None,
    labels: bool = True,
) -> Regions:
    """The catalogue as ``regions`` objects (ellipses; points where no size is known).

    ``frame`` 'fk5'/'icrs' gives ``EllipseSkyRegion`` (width/height = FWHM maj/min,
    angle = PA + 90 deg), from ra/dec or, where those are NaN, from x/y through the
    celestial ``wcs``; when a source has neither, the whole set falls back to the
    image frame. ``frame='image'`` gives ``EllipsePixelRegion`` from x/y and the pixel
    ellipse (or from the sky values through ``wcs``). Each region has
    ``visual['color']`` from ``colors`` (default :data:`STATUS_COLORS`), ``meta['tag']
    = [status]`` and, with ``labels``, ``meta['text'] = str(source_id)``.
    """
    return _build(cat, wcs, frame, statuses, colors, labels)[0]


def regions_to_text(regs: Regions, frame: str, precision: int = 10) -> str:
    """DS9 text for ``regs`` (serialized by ``regions``) with the convention comment
    and an explicit frame line (``fk5``, ``icrs`` or ``image``), even when empty."""
    frame = _check_frame(frame)
    text = regs.serialize(format="ds9", precision=precision) if len(regs) else ""
    lines = text.splitlines()
    if not lines:
        lines = [_HEADER, frame]
    # regions names FK5 'j2000' (a DS9 alias); write the frame by its usual name
    lines = [frame if line.strip() in ("j2000", "fk5", "icrs", "image") else line for line in lines]
    if frame not in (line.strip() for line in lines):
        lines.insert(1, frame)
    lines.insert(1, CONVENTION_COMMENT)
    return "\n".join(lines) + "\n"


def _crtf_region(reg):
    """The same shape in CASA's parameters: an ellipse's first radius along its angle."""
    meta = RegionMeta()
    if reg.meta.get("text") not in (None, ""):
        meta["label"] = str(reg.meta["text"])
    visual = RegionVisual(reg.visual)
    if isinstance(reg, (EllipseSkyRegion, EllipsePixelRegion)):
        angle = (reg.angle.to_value(u.deg) - 90.0) % 180.0  # (w, h, a) == (h, w, a - 90)
        reg = type(reg)(reg.center, width=reg.height, height=reg.width, angle=angle * u.deg)
    else:
        reg = reg.copy()
    reg.meta, reg.visual = meta, visual
    return reg


_CRTF_POINT = re.compile(r"^point\[\[([^\]]*)\]\]")
_CRTF_NUMBER = re.compile(r"(-?[0-9][0-9.]*(?:[eE][-+]?[0-9]+)?)deg")
#: per shape, the role of each number ``regions`` writes (all in deg): c = centre, r = length, a = angle
_CRTF_ROLES = {"ellipse": "ccrra", "circle": "ccr", "symbol": "cc", "point": "cc"}


def _crtf_numbers(line: str, pixels: bool, precision: int) -> str:
    """Numbers of one shape line in CASA units: centres in deg (or pix), lengths in arcsec
    (or pix), angles in deg, each with ``precision`` decimals; ``regions`` writes all in deg,
    which loses milliarcsecond radii to rounding."""
    roles = _CRTF_ROLES.get(line.split("[", 1)[0].strip(), "")
    found = list(_CRTF_NUMBER.finditer(line))
    if len(found) != len(roles):
        return line
    out, pos = [], 0
    for role, m in zip(roles, found):
        value = float(m.group(1))
        if role == "a":
            text = f"{value:.{precision}f}deg"
        elif pixels:
            text = f"{value:.{precision}f}pix"
        elif role == "r":
            text = f"{value * 3600.0:.{precision}f}arcsec"
        else:
            text = f"{value:.{precision}f}deg"
        out += [line[pos : m.start()], text]
        pos = m.end()
    return "".join(out) + line[pos:]


def regions_to_crtf(regs: Regions, frame: str, precision: int = 10) -> str:
    """CASA region text (CRTF) for regions built by :func:`catalogue_to_regions` (DS9
    parameters): ellipses re-expressed in CASA's convention, labels from ``text``, points as
    ``symbol``, lengths in arcsec (image frame: centres and lengths in pix, and no ``coord``,
    which CASA would not know); with the convention comment."""
    frame = _check_frame(frame)
    crtf = Regions([_crtf_region(r) for r in regs])
    if len(crtf):
        text = crtf.serialize(format="crtf", coordsys=frame, fmt=".17g")
    else:
        text = "#CRTFv0\nglobal coord=" + {"fk5": "J2000", "icrs": "ICRS", "image": ""}[frame] + "\n"
    lines = []
    for line in text.splitlines():
        if not line.strip() or (frame == "image" and line.startswith("global coord")):
            continue  # CASA knows no 'IMAGE' frame: pix units say it
        if not line.startswith(("#", "global")):
            line = _CRTF_POINT.sub(r"symbol[[\1], .]", line).replace("color=#", "color=")  # CASA: hex, no '#'
            line = _crtf_numbers(line, frame == "image", precision)
        lines.append(line)
    lines.insert(1, CRTF_CONVENTION_COMMENT)
    return "\n".join(lines) + "\n"


def write_regions(
    cat: Catalogue,
    path: str | os.PathLike,
    wcs: WCS | None = None,
    frame: str = "fk5",
    statuses: Iterable[str] | str | None = None,
    colors: Mapping[str, str] | None = None,
    labels: bool = True,
    precision: int = 10,
    format: str | None = None,
) -> str:
    """Write a region file (atomically); returns the frame actually written
    ('image' when a sky frame was asked for but positions could not be put on the sky).
    ``format`` is ``ds9`` or ``crtf`` (CASA); by default the file name says (``.crtf`` is
    CASA, anything else DS9). ``precision`` is the number of decimals (10 decimals of a
    degree = 0.36 micro-arcsec)."""
    fmt = region_format(format, path) if format else region_format_for_path(path)
    regs, used = _build(cat, wcs, frame, statuses, colors, labels)
    if fmt.key == "crtf":
        text = regions_to_crtf(regs, used, precision=precision)
    else:
        text = regions_to_text(regs, used, precision=precision)
    try:
        atomic_write_text(path, text)
    except DecorasError:
        raise
    except OSError as exc:
        raise DecorasError(f"cannot write the region file: {exc.strerror or exc}", path) from exc
    return used


# ----------------------------------------------------------- regions -> catalogue


def _is_crtf(path: Path, text: str) -> bool:
    """CASA region text: a ``#CRTF`` first line, or (without one) a ``.crtf`` name."""
    for line in text.splitlines():
        if line.strip():
            return line.strip().upper().startswith("#CRTF")
    return region_format_for_path(path).key == "crtf"


_STATUS_OF_COLOR = {v.lower(): k for k, v in STATUS_COLORS.items()}


def _from_crtf(reg):
    """A CRTF region with DS9-like meta: the label as ``text``, the status from the colour."""
    meta = RegionMeta()
    label = reg.meta.get("label")
    if label not in (None, ""):
        meta["text"] = str(label)
    color = str(reg.visual.get("color", "")).lower()
    status = _STATUS_OF_COLOR.get(color) or _STATUS_OF_COLOR.get("#" + color)
    if status:
        meta["tag"] = [status]
    reg.meta = meta
    return reg


def read_regions(path: str | os.PathLike) -> RegionList:
    """Ellipse, circle and point regions (sky or pixel) from a DS9 or CASA (CRTF) region
    file; CRTF is told by its ``#CRTF`` first line or a ``.crtf`` name.

    Other shapes are left out, described in ``result.skipped`` and logged. A file
    that is missing, not text, or holds nothing ``regions`` can parse raises
    :class:`DecorasError` naming it.
    """
    path = Path(path)
    if not path.exists():
        raise DecorasError("no such file", path)
    if not path.is_file():
        raise DecorasError("not a file", path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DecorasError("not a text (region) file", path) from None
    except OSError as exc:
        raise DecorasError(f"cannot read the file: {exc.strerror or exc}", path) from exc
    crtf = _is_crtf(path, text)
    kind = "CASA (CRTF)" if crtf else "DS9"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            regs = Regions.parse(text, format="crtf" if crtf else "ds9")
        except Exception as exc:  # regions raises ValueError and others on bad lines
            raise DecorasError(f"not a readable {kind} region file: {exc}", path) from None
    if crtf:
        regs = Regions([_from_crtf(r) for r in regs])
    problems = [str(w.message) for w in caught]
    content = [
        line
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not len(regs) and problems:
        raise DecorasError(f"no regions could be read: {problems[0]}", path)
    if not len(regs) and any(line.strip().lower() not in FRAMES + ("j2000", "physical", "galactic")
                             and not line.strip().lower().startswith("global")
                             for line in content):
        raise DecorasError("no regions found in the file", path)
    kept, skipped = [], []
    for reg in regs:
        if isinstance(reg, _SUPPORTED):
            kept.append(reg)
        else:
            skipped.append(type(reg).__name__)
    skipped += problems
    for item in skipped:
        log.warning("%s: skipped %s", path, item)
    return RegionList(kept, skipped)


#: The DS9 tag naming the source a component belongs to: ``tag={source 12}``.
SOURCE_TAG = "source"


def _tag_source(meta) -> int | None:
    """The source number of a ``tag={source N}`` region tag, or None."""
    tags = meta.get("tag") or []
    for tag in [tags] if isinstance(tags, str) else tags:
        words = str(tag).split()
        if len(words) == 2 and words[0].lower() == SOURCE_TAG and words[1].lstrip("-").isdigit():
            return int(words[1])
    return None


def _tag_status(meta) -> str:
    tags = meta.get("tag") or []
    if isinstance(tags, str):
        tags = [tags]
    for tag in tags:
        if str(tag).strip().lower() in STATUSES:
            return str(tag).strip().lower()
    return "candidate"


def _ellipse_axes(width: float, height: float, angle: float) -> tuple[float, float, float]:
    """(major, minor, angle of the major axis) with major >= minor."""
    if width < height:
        return height, width, angle + 90.0
    return width, height, angle


def regions_to_sources(regs: Iterable, wcs: WCS | None = None, frame=None) -> list[Source]:
    """Sources (origin 'imported', ``source_id`` -1 for ``Catalogue.add`` to assign)
    from ellipse, circle and point regions; other shapes are ignored.

    Ellipses: maj/min = full width/height (FWHM), PA = angle - 90 deg for sky
    regions; circles: FWHM = diameter. With a celestial ``wcs`` both the sky and the
    pixel description are filled (x/y 0-based, pixel ellipse through the WCS), and
    ra/dec are in the WCS frame; without one, sky regions keep their own frame
    (or ``frame`` when given) and pixel regions get NaN ra/dec. ``tag={status}``
    sets the status and ``text`` goes to the note; regions sharing a ``tag={source N}`` are
    the components of one source (their ``group``).
    """
    celestial = _celestial(wcs)
    target = frame if frame is not None else (
        wcs_to_celestial_frame(celestial) if celestial is not None else None
    )
    sources, tagged = [], []
    for reg in regs:
        if not isinstance(reg, _SUPPORTED):
            continue
        try:
            source = _region_to_source(reg, celestial, target)
        except (ValueError, TypeError, ArithmeticError, np.linalg.LinAlgError) as exc:
            log.warning("region %s left out: %s", reg, exc)  # e.g. a NaN or infinite size
            continue
        if source is not None:
            sources.append(source)
            tagged.append(_tag_source(reg.meta))
    counts = {n: tagged.count(n) for n in set(tagged) if n is not None}
    return [s.replace(group=n) if n is not None and counts[n] > 1 else s for s, n in zip(sources, tagged)]


def _region_to_source(reg, celestial: WCS | None, target) -> Source | None:
    """One supported region as a Source; None when its centre is not a finite position."""
    values: dict = {}
    if isinstance(reg, _SKY_TYPES):
        sky, pix = reg, (reg.to_pixel(celestial) if celestial is not None else None)
    else:
        pix, sky = reg, (reg.to_sky(celestial) if celestial is not None else None)
    if sky is not None:
        center = sky.center if target is None else sky.center.transform_to(target)
        sph = center.spherical
        values.update(ra=float(sph.lon.deg), dec=float(sph.lat.deg))
        if isinstance(sky, EllipseSkyRegion):
            maj, mn, ang = _ellipse_axes(
                sky.width.to_value(u.arcsec), sky.height.to_value(u.arcsec), sky.angle.to_value(u.deg)
            )
            values.update(maj=maj, min=mn, pa=_norm180(ang - 90.0))
        elif isinstance(sky, CircleSkyRegion):
            d = 2 * sky.radius.to_value(u.arcsec)
            values.update(maj=d, min=d)
    if pix is not None:
        values.update(x=float(pix.center.x), y=float(pix.center.y))
        if isinstance(pix, EllipsePixelRegion):
            maj, mn, ang = _ellipse_axes(float(pix.width), float(pix.height), pix.angle.to_value(u.deg))
            values.update(maj_img=maj, min_img=mn, theta_img=_norm180(ang))
        elif isinstance(pix, CirclePixelRegion):
            d = 2 * float(pix.radius)
            values.update(maj_img=d, min_img=d)
    text = reg.meta.get("text", "")
    values = {k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in values.items()}
    centre = [values[k] for k in ("x", "y", "ra", "dec") if k in values]
    if not centre or not all(math.isfinite(v) for v in centre):
        return None
    return Source(origin="imported", status=_tag_status(reg.meta), note="" if text is None else str(text), **values)
