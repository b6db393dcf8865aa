"""Sources made of components, as PyBDSF groups its Gaussians: islands, sources, S/M/C codes. No Qt.

Every row of a :class:`~.catalogue.Catalogue` is one *component* (a fitted elliptical Gaussian)
and keeps its unique ``source_id``: vetting, edits, the journal and undo all key on it. Three
columns add the grouping as data:

``group``   a label shared by the components of one multi-component source (-1: the row is
            a source on its own);
``island``  a label of the connected region above the detection threshold the component
            sits in (-1: unknown, e.g. a source added by hand);
``s_code``  PyBDSF's code: 'S' a single-component source alone in its island, 'C' a
            single-component source sharing its island with other sources, 'M' a
            multi-component source.

The labels are opaque numbers made from the measured values of the component that names
them (:func:`label_for`), so they stay unique when the rows are renumbered (a new Detect run
merged in, an image done block by block). Files show small numbers instead: a source is
named by the ``source_id`` of its brightest component and islands are numbered 1, 2, ...
(:func:`component_table_values`, :func:`per_source`).

Grouping (:func:`assign_groups`) links two components (and, transitively, their sources) when
any of these holds:

1. PyBDSF's ``group_tol`` rule, for components of one island: the Gaussian model of the island
   along the line joining their centres never dips more than ``tol * thresh_isl * rms`` below
   the fainter peak and the centres are closer than ``tol / 2`` times the sum of their FWHMs
   along that line, or the model runs monotonically from one to the other;
2. emission bridges them: the restored (beam-free) map stays above ``bridge_snr`` x the local
   rms all along the line joining them (a jet whose knots the detection threshold cut into
   several islands; PyBDSF's islands are grown down to 3 sigma in the same way);
3. their FWHM ellipses come within about ``gap_beams`` beams of each other along the line
   joining them.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .catalogue import ACCEPTED, CANDIDATE, REJECTED, Catalogue, Source
from .geometry import FWHM_PER_SIGMA, deconvolve, moments_to_ellipse

__all__ = ["NO_GROUP", "GroupingSettings", "SourceGroup", "label_for", "assign_groups", "source_groups",
           "s_codes", "aggregate", "per_source", "component_table_values", "renumber_islands"]

NO_GROUP = -1
_LABEL_BITS = 47


@dataclass(frozen=True)
class GroupingSettings:
    """PyBDSF's grouping parameters (``group_tol``, ``thresh_isl``) and the cross-island test."""

    tol: float = 1.0  # PyBDSF group_tol: larger values make larger sources
    thresh_isl: float = 3.0  # PyBDSF thresh_isl (x the local rms) of the valley test
    bridge_snr: float = 3.0  # join components the restored map links above this x the local rms (0: off)
    reach_beams: float = 6.0  # farthest pair, in beam major axes, tested for a bridge
    gap_beams: float = 1.0  # join components whose FWHM ellipses are closer than about this many beams (-1: off)
    samples_per_pixel: float = 2.0  # points along the joining line


@dataclass(frozen=True)
class SourceGroup:
    """One source: its id (that of its brightest component), its component ids (brightest
    first, then in catalogue order), its island label and its S/M/C code."""

    source_id: int
    component_ids: tuple[int, ...]
    island: int
    s_code: str

    @property
    def multi(self) -> bool:
        return len(self.component_ids) > 1


def label_for(kind: str, s: Source) -> int:
    """A positive label from ``kind`` and a component's measured centre and peak: the same
    component gives the same label, another one (even at the same pixel of another block)
    a different one, whatever ids the rows get later."""
    data = kind.encode() + struct.pack("<ddd", float(s.x), float(s.y), float(s.peak_flux))
    value = int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little") >> (64 - _LABEL_BITS)
    return value or 1


# ------------------------------------------------------------------- grouping


def _cov(s: Source) -> np.ndarray:
    """Pixel covariance of a component's Gaussian (from its pixel FWHMs and angle)."""
    a = (s.maj_img if math.isfinite(s.maj_img) and s.maj_img > 0 else 1.0) / FWHM_PER_SIGMA
    b = (s.min_img if math.isfinite(s.min_img) and s.min_img > 0 else 1.0) / FWHM_PER_SIGMA
    t = math.radians(s.theta_img if math.isfinite(s.theta_img) else 0.0)
    c, sn = math.cos(t), math.sin(t)
    rot = np.array([[c, -sn], [sn, c]])
    return rot @ np.diag([a * a, b * b]) @ rot.T


def _fwhm_along(cov: np.ndarray, direction: np.ndarray) -> float:
    """FWHM of a Gaussian of covariance ``cov`` along the unit vector ``direction``."""
    inv = np.linalg.inv(cov)
    return FWHM_PER_SIGMA / math.sqrt(float(direction @ inv @ direction))


def _model_along(points: np.ndarray, centres: np.ndarray, inv_covs: np.ndarray, peaks: np.ndarray) -> np.ndarray:
    """The sum of the Gaussians at ``points`` (n, 2)."""
    d = points[:, None, :] - centres[None, :, :]  # (n, k, 2)
    q = np.einsum("nki,kij,nkj->nk", d, inv_covs, d)
    return np.sum(peaks[None, :] * np.exp(-0.5 * q), axis=1)


def _same_source(i: int, j: int, comps: Sequence[Source], centres, covs, inv_covs, peaks, members,
                 settings: GroupingSettings) -> bool:
    """PyBDSF's test of two components of one island (module docstring)."""
    p1, p2 = centres[i], centres[j]
    delta = p2 - p1
    dist = float(np.hypot(*delta))
    if dist < 1e-6:
        return True
    direction = delta / dist
    n = max(3, int(math.ceil(dist * settings.samples_per_pixel)) + 1)
    line = p1[None, :] + np.linspace(0.0, 1.0, n)[:, None] * delta[None, :]
    m = np.asarray(members)
    values = _model_along(line, centres[m], inv_covs[m], peaks[m])
    lowest = float(np.min(values))
    rms = np.nanmean([comps[i].local_rms, comps[j].local_rms])
    rms = float(rms) if math.isfinite(rms) and rms > 0 else 0.0
    fainter = float(min(peaks[i], peaks[j]))
    deep_ok = lowest >= fainter or (fainter - lowest) <= settings.tol * settings.thresh_isl * rms
    monotonic = int(np.argmin(values)) in (0, n - 1) and int(np.argmax(values)) in (0, n - 1)
    near = dist <= 0.5 * settings.tol * (_fwhm_along(covs[i], direction) + _fwhm_along(covs[j], direction))
    return (deep_ok and near) or monotonic


def _touching(i: int, j: int, centres, covs, gap: float = 0.0) -> bool:
    """FWHM ellipses of two components come within ``gap`` beams of each other: centres within
    half the sum of their FWHMs along the line joining them plus ``gap`` times the smaller
    of the two (a component is at least the beam wide, so that is about a beam along the line)."""
    delta = centres[j] - centres[i]
    dist = float(np.hypot(*delta))
    if dist < 1e-6:
        return True
    direction = delta / dist
    a, b = _fwhm_along(covs[i], direction), _fwhm_along(covs[j], direction)
    return dist <= 0.5 * (a + b) + gap * min(a, b)


def _bridged(i: int, j: int, centres, restored: np.ndarray, rms_map: np.ndarray, level: float,
             samples_per_pixel: float) -> bool:
    """The restored map stays above ``level`` x the local rms along the line from i to j."""
    from scipy.ndimage import map_coordinates

    delta = centres[j] - centres[i]
    n = max(3, int(math.ceil(float(np.hypot(*delta)) * samples_per_pixel)) + 1)
    line = centres[i][None, :] + np.linspace(0.0, 1.0, n)[:, None] * delta[None, :]
    values = map_coordinates(restored, [line[:, 1], line[:, 0]], order=1, mode="nearest")
    noise = map_coordinates(rms_map, [line[:, 1], line[:, 0]], order=0, mode="nearest")
    ok = np.isfinite(values) & np.isfinite(noise) & (noise > 0)
    return bool(np.all(ok) and np.all(values >= level * noise))


def group_indices(comps: Sequence[Source], islands: Sequence[int],
                  settings: GroupingSettings = GroupingSettings(), restored: np.ndarray | None = None,
                  rms_map: np.ndarray | None = None, beam_px: float | None = None) -> list[int]:
    """A group index per component (equal index: one source), by the rules of the module
    docstring; ``islands[k]`` is component k's island (-1: none). The bridge test needs the
    restored map and the rms map (pixels of the components' frame); ``beam_px`` is the beam
    FWHM in pixels (default: the smallest component minor axis)."""
    n = len(comps)
    parent = list(range(n))

    def find(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    if n == 0:
        return []
    centres = np.array([[s.x, s.y] for s in comps], dtype=float)
    covs = np.array([_cov(s) for s in comps])
    inv_covs = np.linalg.inv(covs)
    peaks = np.array([s.peak_flux if math.isfinite(s.peak_flux) else 0.0 for s in comps], dtype=float)
    by_island: dict[int, list[int]] = {}
    for k, isl in enumerate(islands):
        if isl >= 0:
            by_island.setdefault(int(isl), []).append(k)
    for members in by_island.values():
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                i, j = members[a], members[b]
                if find(i) != find(j) and _same_source(i, j, comps, centres, covs, inv_covs, peaks, members,
                                                       settings):
                    union(i, j)
    if n > 1:
        from scipy.spatial import cKDTree

        if beam_px is None or not beam_px > 0:
            minors = [s.min_img for s in comps if math.isfinite(s.min_img) and s.min_img > 0]
            beam_px = min(minors) if minors else 3.0
        biggest = float(np.max([s.maj_img if math.isfinite(s.maj_img) else 1.0 for s in comps]))
        reach = max(settings.reach_beams * beam_px, biggest + max(settings.gap_beams, 0.0) * beam_px)
        bridge = settings.bridge_snr > 0 and restored is not None and rms_map is not None
        for i, j in sorted(cKDTree(centres).query_pairs(reach)):
            if find(i) == find(j):
                continue
            if settings.gap_beams >= 0 and _touching(i, j, centres, covs, settings.gap_beams):
                union(i, j)
            elif bridge and _bridged(i, j, centres, restored, rms_map, settings.bridge_snr,
                                     settings.samples_per_pixel):
                union(i, j)
    return [find(k) for k in range(n)]


def assign_groups(sources: Sequence[Source], islands: Sequence[int],
                  settings: GroupingSettings = GroupingSettings(), restored: np.ndarray | None = None,
                  rms_map: np.ndarray | None = None, beam_px: float | None = None) -> list[Source]:
    """``sources`` with ``group``, ``island`` and ``s_code`` set: components grouped into
    sources (:func:`group_indices`, which says what the maps are for); labels from
    :func:`label_for` (a group's from its brightest component, an island's from its brightest
    component)."""
    comps = list(sources)
    index = group_indices(comps, islands, settings, restored, rms_map, beam_px)
    groups: dict[int, list[int]] = {}
    for k, g in enumerate(index):
        groups.setdefault(g, []).append(k)
    island_members: dict[int, list[int]] = {}
    for k, isl in enumerate(islands):
        if isl >= 0:
            island_members.setdefault(int(isl), []).append(k)
    island_label = {isl: label_for("island", comps[max(ks, key=lambda k: _peak(comps[k]))])
                    for isl, ks in island_members.items()}
    group_label = {g: label_for("source", comps[max(ks, key=lambda k: _peak(comps[k]))])
                   for g, ks in groups.items() if len(ks) > 1}
    sources_in_island: dict[int, set[int]] = {}
    for k, isl in enumerate(islands):
        if isl >= 0:
            sources_in_island.setdefault(int(isl), set()).add(index[k])
    out = []
    for k, s in enumerate(comps):
        g, isl = index[k], int(islands[k])
        if len(groups[g]) > 1:
            code = "M"
        elif isl >= 0 and len(sources_in_island[isl]) > 1:
            code = "C"
        else:
            code = "S"
        out.append(s.replace(group=group_label.get(g, NO_GROUP), island=island_label.get(isl, NO_GROUP),
                             s_code=code))
    return out


def _peak(s: Source) -> float:
    return s.peak_flux if math.isfinite(s.peak_flux) else -math.inf


# ------------------------------------------------------------- reading groups


def source_groups(sources: Iterable[Source]) -> list[SourceGroup]:
    """The sources the rows make (in the order of their first component): components with
    the same ``group`` label form one; a row without one is a source on its own. Codes are
    computed from the rows given (a source sharing its island with another one is 'C')."""
    rows = list(sources)
    order: dict[object, list[Source]] = {}
    for s in rows:
        key = ("g", s.group) if s.group != NO_GROUP else ("s", s.source_id)
        order.setdefault(key, []).append(s)
    per_island: dict[int, int] = {}
    for members in order.values():
        for isl in {m.island for m in members if m.island != NO_GROUP}:
            per_island[isl] = per_island.get(isl, 0) + 1
    out = []
    for members in order.values():
        main = max(members, key=_peak)
        ids = (main.source_id,) + tuple(m.source_id for m in members if m is not main)
        islands = [m.island for m in main_first(members, main) if m.island != NO_GROUP]
        island = islands[0] if islands else NO_GROUP
        if len(members) > 1:
            code = "M"
        elif island != NO_GROUP and per_island.get(island, 0) > 1:
            code = "C"
        else:
            code = "S"
        out.append(SourceGroup(main.source_id, ids, island, code))
    return out


def main_first(members: Sequence[Source], main: Source) -> list[Source]:
    return [main] + [m for m in members if m is not main]


def s_codes(sources: Iterable[Source]) -> dict[int, str]:
    """Component id -> the S/M/C code of its source among ``sources``."""
    return {cid: g.s_code for g in source_groups(sources) for cid in g.component_ids}


def renumber_islands(groups: Sequence[SourceGroup]) -> dict[int, int]:
    """Island label -> 1, 2, ... in the order the sources meet them (-1 stays -1)."""
    out: dict[int, int] = {NO_GROUP: NO_GROUP}
    for g in groups:
        if g.island not in out:
            out[g.island] = len(out)
    return out


def component_table_values(sources: Sequence[Source]) -> tuple[list[int], list[int], list[str]]:
    """For a per-component table of ``sources``: each row's source id (its source's brightest
    component's id), its island number (1, 2, ...; -1 unknown) and its S/M/C code."""
    groups = source_groups(sources)
    numbers = renumber_islands(groups)
    of: dict[int, SourceGroup] = {cid: g for g in groups for cid in g.component_ids}
    sids = [of[s.source_id].source_id for s in sources]
    islands = [numbers.get(s.island, numbers.get(of[s.source_id].island, NO_GROUP)) for s in sources]
    codes = [of[s.source_id].s_code for s in sources]
    return sids, islands, codes


# ------------------------------------------------------------------ aggregates


def _weights(members: Sequence[Source]) -> np.ndarray:
    flux = np.array([m.total_flux for m in members], dtype=float)
    if not np.all(np.isfinite(flux) & (flux > 0)):
        flux = np.array([m.peak_flux for m in members], dtype=float)
    if not np.all(np.isfinite(flux) & (flux > 0)):
        flux = np.ones(len(members))
    return flux / flux.sum()


def _moments_ellipse(means: np.ndarray, covs: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float, float, float]:
    """Flux-weighted centre and the FWHM ellipse (major, minor, angle from the first axis
    towards the second, deg) of a sum of Gaussians: PyBDSF's moments of a multi-Gaussian source."""
    centre = np.sum(w[:, None] * means, axis=0)
    d = means - centre
    cov = np.sum(w[:, None, None] * (covs + d[:, :, None] * d[:, None, :]), axis=0)
    maj, mn, angle = moments_to_ellipse(cov[0, 0], cov[0, 1], cov[1, 1])
    return centre, maj, mn, angle


def _sky_cov(s: Source) -> np.ndarray | None:
    """Covariance (arcsec^2) of a component in (east, north) from maj, min, pa."""
    if not (math.isfinite(s.maj) and math.isfinite(s.min) and math.isfinite(s.pa)):
        return None
    a, b = s.maj / FWHM_PER_SIGMA, max(s.min, 0.0) / FWHM_PER_SIGMA
    t = math.radians(s.pa)
    major = np.array([math.sin(t), math.cos(t)])  # east, north
    minor = np.array([math.cos(t), -math.sin(t)])
    return a * a * np.outer(major, major) + b * b * np.outer(minor, minor)


def _status(members: Sequence[Source]) -> str:
    statuses = {m.status for m in members}
    if statuses == {REJECTED}:
        return REJECTED
    live = statuses - {REJECTED}
    return ACCEPTED if live == {ACCEPTED} else CANDIDATE


def _rss(values: Iterable[float]) -> float:
    v = np.array(list(values), dtype=float)
    return float(np.sqrt(np.sum(v * v))) if v.size and np.all(np.isfinite(v)) else math.nan


def aggregate(members: Sequence[Source], meta: Mapping | None = None, s_code: str = "M",
              island: int = NO_GROUP) -> Source:
    """One source's row from its components, PyBDSF style: total flux summed, peak the
    highest, centre flux-weighted, size from the moments of the sum of the Gaussians
    (deconvolved from the beam in ``meta``), SNR and detection probability the highest.
    Rejected components count only when all of them are rejected. The row has the id of
    the brightest component."""
    use = [m for m in members if m.status != REJECTED] or list(members)
    main = max(use, key=_peak)
    if len(use) == 1:
        return main.replace(group=NO_GROUP, island=island, s_code=s_code, status=_status(members))
    w = _weights(use)
    means = np.array([[m.x, m.y] for m in use], dtype=float)
    covs = np.array([_cov(m) for m in use])
    (x, y), maj_img, min_img, theta_img = _moments_ellipse(means, covs, w)
    values = dict(
        x=float(x), y=float(y), maj_img=maj_img, min_img=min_img, theta_img=theta_img,
        peak_flux=main.peak_flux, peak_flux_err=main.peak_flux_err,
        total_flux=float(np.sum([m.total_flux for m in use])), total_flux_err=_rss(m.total_flux_err for m in use),
        snr=float(np.nanmax([m.snr for m in use])) if any(math.isfinite(m.snr) for m in use) else math.nan,
        det_prob=float(np.nanmax([m.det_prob for m in use])) if any(math.isfinite(m.det_prob) for m in use)
        else math.nan,
        local_rms=main.local_rms, status=_status(members), edited=any(m.edited for m in use),
        note="; ".join(dict.fromkeys(m.note for m in use if m.note)),
        group=NO_GROUP, island=island, s_code=s_code,
    )
    sky = [_sky_cov(m) for m in use]
    if all(c is not None for c in sky) and all(math.isfinite(m.ra) and math.isfinite(m.dec) for m in use):
        dec0 = math.radians(main.dec)
        offsets = np.array([[((m.ra - main.ra + 180.0) % 360.0 - 180.0) * math.cos(dec0) * 3600.0,
                             (m.dec - main.dec) * 3600.0] for m in use])
        (east, north), maj, mn, angle = _moments_ellipse(offsets, np.array(sky), w)
        pa = (90.0 - angle + 90.0) % 180.0 - 90.0  # angle from east towards north -> PA east of north
        values.update(
            ra=(main.ra + east / 3600.0 / math.cos(dec0)) % 360.0, dec=main.dec + north / 3600.0,
            ra_err=_rss(wi * m.ra_err for wi, m in zip(w, use)), dec_err=_rss(wi * m.dec_err for wi, m in zip(w, use)),
            maj=maj, min=mn, pa=pa, r_eff=0.5 * math.sqrt(maj * mn),
        )
        beam = [meta.get(k) if meta else None for k in ("beam_maj", "beam_min", "beam_pa")]
        if all(isinstance(b, (int, float)) and math.isfinite(b) for b in beam) and beam[0] > 0:
            dmaj, dmin, dpa = deconvolve(maj, mn, pa, *beam)
            values.update(maj_deconv=dmaj, min_deconv=dmin, pa_deconv=dpa)
        else:
            values.update(maj_deconv=math.nan, min_deconv=math.nan, pa_deconv=math.nan)
    else:
        values.update(ra=main.ra, dec=main.dec, maj=math.nan, min=math.nan, pa=math.nan, r_eff=math.nan,
                      maj_deconv=math.nan, min_deconv=math.nan, pa_deconv=math.nan)
    return main.replace(**values)


def per_source(cat: Catalogue, statuses: Iterable[str] | str | None = None) -> tuple[Catalogue, list[int]]:
    """The per-source catalogue of ``cat`` (its components of ``statuses``): one row per
    source (:func:`aggregate`), with the id of its brightest component, its island numbered
    1, 2, ... and its code; and the number of components of each row."""
    rows = list(cat.filter(statuses))
    groups = source_groups(rows)
    numbers = renumber_islands(groups)
    by_id = {s.source_id: s for s in rows}
    out, counts = Catalogue(meta=cat.meta), []
    for g in groups:
        members = [by_id[c] for c in g.component_ids]
        out.add(aggregate(members, cat.meta, g.s_code, numbers[g.island]))
        counts.append(len([m for m in members if m.status != REJECTED]) or len(members))
    return out, counts


def status_of(members: Sequence[Source]) -> str:
    """The status a source shows for its components (rejected ones count only when all are)."""
    return _status(members) if members else CANDIDATE
