"""Source / Catalogue and their astropy Table form (ECSV, CSV, FITS, VOTable).

One column specification (:data:`COLUMNS`) drives everything: the :class:`Source`
fields, the units and UCDs of the table, and the reading back of files written by
this program or by others (missing optional columns get their defaults; a file
that gives ``maj`` in degrees is converted to arcsec).

Conventions (see DESIGN.md): ``x``/``y`` are 0-based pixels; ``pa`` is degrees east
of north; ``maj``/``min`` are FWHM in arcsec; the pixel-frame ellipse
(``maj_img``, ``min_img`` FWHM in pixels, ``theta_img`` degrees counter-clockwise
from +x) is kept so that images without a celestial WCS can be drawn and exported.

Catalogue metadata (``Catalogue.meta``) uses these keys (all optional, others are
kept in ECSV and, when simple scalars, in the other formats too):

``image`` (file name), ``image_path``, ``hdu``, ``plane`` (of a cube), ``model`` (name),
``model_version``, ``beam_maj``, ``beam_min`` (FWHM, arcsec), ``beam_pa`` (deg east of
north), ``bunit``, ``psf`` (the dirty beam file of the sidelobe test), ``radesys`` (frame of
ra/dec, e.g. ``ICRS``/``FK5``), ``equinox`` (only when not the frame's default), ``creator``,
``creator_version``. They are written by
:func:`.provenance.stamp`, which says what each caller overwrites and what it keeps.
"""

from __future__ import annotations

import dataclasses
import math
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from astropy import units as u
from astropy.table import MaskedColumn, Table

from .errors import DecorasError
from .fileio import atomic_path
from .formats import CatalogueFormat, catalogue_format, catalogue_format_for_path

__all__ = [
    "STATUSES",
    "ORIGINS",
    "CANDIDATE",
    "ACCEPTED",
    "REJECTED",
    "ColumnSpec",
    "COLUMNS",
    "COLUMN_NAMES",
    "COLUMN_BY_NAME",
    "META_KEYS",
    "Source",
    "Catalogue",
    "infer_format",
]

CANDIDATE, ACCEPTED, REJECTED = "candidate", "accepted", "rejected"
STATUSES: tuple[str, ...] = (CANDIDATE, ACCEPTED, REJECTED)
ORIGINS: tuple[str, ...] = ("model", "manual", "imported")


@dataclass(frozen=True)
class ColumnSpec:
    """One catalogue column: name, unit, Python type, description and UCD."""

    name: str
    unit: u.UnitBase | None
    dtype: type
    description: str
    ucd: str

    @property
    def default(self) -> Any:
        if self.dtype is float:
            return math.nan
        if self.dtype is int:
            return -1
        if self.dtype is bool:
            return False
        return ""


_DEG, _ARCSEC, _PIX = u.deg, u.arcsec, u.pix
_JYB, _JY, _ONE = u.Jy / u.beam, u.Jy, u.dimensionless_unscaled

COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("source_id", None, int, "Source identifier, unique in the catalogue", "meta.id;meta.main"),
    ColumnSpec("group", None, int, "Label shared by the components of one multi-component source (-1: a source "
               "on its own; files write source_id/component_id instead)", "meta.id.parent"),
    ColumnSpec("island", None, int, "Island: the connected region above the detection threshold the component "
               "lies in (-1: unknown)", "meta.id.assoc"),
    ColumnSpec("s_code", None, str, "PyBDSF source code: S single component alone in its island, C single "
               "component sharing its island, M multi-component source", "meta.code.class"),
    ColumnSpec("ra", _DEG, float, "Right ascension (NaN when the image has no celestial WCS)", "pos.eq.ra;meta.main"),
    ColumnSpec("dec", _DEG, float, "Declination (NaN when the image has no celestial WCS)", "pos.eq.dec;meta.main"),
    ColumnSpec("ra_err", _ARCSEC, float, "Uncertainty of ra (on the sky)", "stat.error;pos.eq.ra"),
    ColumnSpec("dec_err", _ARCSEC, float, "Uncertainty of dec", "stat.error;pos.eq.dec"),
    ColumnSpec("x", _PIX, float, "Pixel x of the centre, 0-based", "pos.cartesian.x;instr.det"),
    ColumnSpec("y", _PIX, float, "Pixel y of the centre, 0-based", "pos.cartesian.y;instr.det"),
    ColumnSpec("peak_flux", _JYB, float, "Peak brightness", "phot.flux.density;stat.max"),
    ColumnSpec("peak_flux_err", _JYB, float, "Uncertainty of peak_flux", "stat.error;phot.flux.density;stat.max"),
    ColumnSpec("total_flux", _JY, float, "Integrated flux density", "phot.flux.density"),
    ColumnSpec("total_flux_err", _JY, float, "Uncertainty of total_flux", "stat.error;phot.flux.density"),
    ColumnSpec("maj", _ARCSEC, float, "Major axis FWHM (as measured, convolved)", "phys.angSize.smajAxis"),
    ColumnSpec("min", _ARCSEC, float, "Minor axis FWHM (as measured, convolved)", "phys.angSize.sminAxis"),
    ColumnSpec("pa", _DEG, float, "Position angle of the major axis, east of north", "pos.posAng"),
    ColumnSpec("maj_deconv", _ARCSEC, float, "Major axis FWHM deconvolved from the beam", "phys.angSize.smajAxis"),
    ColumnSpec("min_deconv", _ARCSEC, float, "Minor axis FWHM deconvolved from the beam", "phys.angSize.sminAxis"),
    ColumnSpec("pa_deconv", _DEG, float, "Deconvolved position angle, east of north", "pos.posAng"),
    ColumnSpec("r_eff", _ARCSEC, float, "Effective radius", "phys.angSize"),
    ColumnSpec("snr", _ONE, float, "Signal-to-noise ratio (peak / local rms)", "stat.snr"),
    ColumnSpec("local_rms", _JYB, float, "Local noise rms", "stat.stdev;phot.flux.density"),
    ColumnSpec("det_prob", _ONE, float, "Detection probability (0-1)", "stat.probability"),
    ColumnSpec("sidelobe_of", None, int, "source_id of the brighter source whose dirty-beam sidelobe best "
               "explains this one (-1: none)", "meta.id.assoc"),
    ColumnSpec("p_sidelobe", _ONE, float, "Probability (0-1) that this is a sidelobe artefact of brighter sources "
               "(NaN: not tested, no dirty beam)", "stat.probability;src.class"),
    ColumnSpec("status", None, str, "Vetting status: candidate / accepted / rejected", "meta.code.status"),
    ColumnSpec("origin", None, str, "Where the source came from: model / manual / imported", "meta.code"),
    ColumnSpec("model", None, str, "Name of the model that found the source", "meta.id;meta.software"),
    ColumnSpec("note", None, str, "Free-text note", "meta.note"),
    ColumnSpec("edited", None, bool, "True when the user edited the measured values", "meta.code"),
    ColumnSpec("maj_img", _PIX, float, "Major axis FWHM in pixels (image frame)", "phys.angSize.smajAxis;instr.pixel"),
    ColumnSpec("min_img", _PIX, float, "Minor axis FWHM in pixels (image frame)", "phys.angSize.sminAxis;instr.pixel"),
    ColumnSpec("theta_img", _DEG, float, "Major-axis angle, counter-clockwise from the +x pixel axis",
               "pos.posAng;instr.det"),
    # cubes (core.cube): the plane a source was detected in, and its spectrum across the planes
    ColumnSpec("plane", None, int, "Plane of the cube (0-based along its FREQ or STOKES axis) the source was "
               "detected in (-1: a 2-D image)", "meta.id;em.freq"),
    ColumnSpec("freq", u.Hz, float, "Frequency of that plane (NaN: none)", "em.freq"),
    ColumnSpec("spectral_index", _ONE, float, "Spectral index alpha of S ~ nu^alpha, fitted to the source's "
               "flux in every plane (NaN: not measured)", "spect.index"),
    ColumnSpec("spectral_index_err", _ONE, float, "Uncertainty of spectral_index", "stat.error;spect.index"),
    # cross-matching (core.crossmatch): against a reference catalogue, catalogue meta xmatch_ref
    ColumnSpec("xmatch", None, str, "Cross-match against the reference catalogue: matched / unmatched ('': not "
               "cross-matched)", "meta.code"),
    ColumnSpec("match_name", None, str, "Name (or row) of the nearest reference source within the radius",
               "meta.id.cross"),
    ColumnSpec("match_sep", _ARCSEC, float, "Offset from that reference source", "pos.angDistance"),
    ColumnSpec("match_flux_ratio", _ONE, float, "Total flux over the reference source's flux",
               "phot.flux.density;arith.ratio"),
)
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
COLUMN_BY_NAME: dict[str, ColumnSpec] = {c.name: c for c in COLUMNS}

# Catalogue.meta key -> (FITS keyword, unit for VOTable PARAM or None, comment)
META_KEYS: dict[str, tuple[str, u.UnitBase | None, str]] = {
    "image": ("IMAGE", None, "image file name"),
    "image_path": ("IMGPATH", None, "image file path"),
    "hdu": ("IMGHDU", None, "image HDU"),
    "model": ("MODEL", None, "detection model name"),
    "model_version": ("MODELVER", None, "detection model version"),
    "beam_maj": ("BEAMMAJ", u.arcsec, "[arcsec] beam major axis FWHM"),
    "beam_min": ("BEAMMIN", u.arcsec, "[arcsec] beam minor axis FWHM"),
    "beam_pa": ("BEAMPA", u.deg, "[deg] beam position angle, east of north"),
    "bunit": ("BUNIT", None, "image brightness unit"),
    "psf": ("PSF", None, "dirty beam file of the sidelobe test"),
    "radesys": ("RADESYS", None, "frame of ra/dec"),
    "equinox": ("EQUINOX", None, "equinox of ra/dec (years)"),
    "creator": ("CREATOR", None, "program that wrote the catalogue"),
    "creator_version": ("CREATVER", None, "version of that program"),
}
_FITS_TO_META = {fits_key: key for key, (fits_key, _, _) in META_KEYS.items()}

# Other programs' column names (PyBDSF, Aegean), matched case-insensitively.
_ALIASES: dict[str, tuple[str, ...]] = {
    "source_id": ("id", "source", "source_id", "src_id"),
    "island": ("isl_id", "island_id"),
    "ra_err": ("e_ra", "err_ra"),
    "dec_err": ("e_dec", "err_dec"),
    "peak_flux_err": ("e_peak_flux", "err_peak_flux"),
    "total_flux": ("total_flux", "int_flux"),
    "total_flux_err": ("e_total_flux", "err_int_flux"),
    "maj": ("maj", "a"),
    "min": ("min", "b"),
    "maj_deconv": ("dc_maj",),
    "min_deconv": ("dc_min",),
    "pa_deconv": ("dc_pa",),
    "local_rms": ("isl_rms", "local_rms", "rms"),
    "spectral_index": ("spec_indx", "alpha"),
    "spectral_index_err": ("e_spec_indx", "alpha_err"),
}

def _format(path: str | os.PathLike, format: str | None) -> CatalogueFormat:
    return catalogue_format(format, path) if format is not None else catalogue_format_for_path(path)


def infer_format(path: str | os.PathLike, format: str | None = None) -> str:
    """The astropy format name for ``path`` ('ascii.ecsv', 'ascii.csv', 'fits', 'votable'):
    from ``format`` (any name :mod:`.formats` knows) when given, else from the extension."""
    return _format(path, format).astropy


# --------------------------------------------------------------------------- Source


@dataclass(frozen=True, eq=False)
class Source:
    """One source: a row of the catalogue. Immutable; change with :meth:`replace`.

    Equality compares every field, NaN equal to NaN (a source read back from a
    file equals the one written).
    """

    source_id: int = -1
    group: int = -1
    island: int = -1
    s_code: str = ""
    ra: float = math.nan
    dec: float = math.nan
    ra_err: float = math.nan
    dec_err: float = math.nan
    x: float = math.nan
    y: float = math.nan
    peak_flux: float = math.nan
    peak_flux_err: float = math.nan
    total_flux: float = math.nan
    total_flux_err: float = math.nan
    maj: float = math.nan
    min: float = math.nan
    pa: float = math.nan
    maj_deconv: float = math.nan
    min_deconv: float = math.nan
    pa_deconv: float = math.nan
    r_eff: float = math.nan
    snr: float = math.nan
    local_rms: float = math.nan
    det_prob: float = math.nan
    sidelobe_of: int = -1
    p_sidelobe: float = math.nan
    status: str = CANDIDATE
    origin: str = "model"
    model: str = ""
    note: str = ""
    edited: bool = False
    maj_img: float = math.nan
    min_img: float = math.nan
    theta_img: float = math.nan
    plane: int = -1
    freq: float = math.nan
    spectral_index: float = math.nan
    spectral_index_err: float = math.nan
    xmatch: str = ""
    match_name: str = ""
    match_sep: float = math.nan
    match_flux_ratio: float = math.nan

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {self.status!r}")
        if self.origin not in ORIGINS:
            raise ValueError(f"origin must be one of {ORIGINS}, not {self.origin!r}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Source):
            return NotImplemented
        for name in COLUMN_NAMES:
            a, b = getattr(self, name), getattr(other, name)
            if a != b and not (isinstance(a, float) and isinstance(b, float) and a != a and b != b):
                return False
        return True

    def __hash__(self) -> int:
        return hash((self.source_id, self.status, self.x, self.y, self.ra, self.dec))

    def replace(self, **changes: Any) -> Source:
        """A copy with ``changes`` applied (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


assert tuple(f.name for f in dataclasses.fields(Source)) == COLUMN_NAMES


# ------------------------------------------------------------------------ Catalogue


class Catalogue:
    """An ordered collection of :class:`Source` (unique ``source_id``) plus ``meta``."""

    def __init__(self, sources: Iterable[Source] = (), meta: Mapping[str, Any] | None = None):
        self.meta: dict[str, Any] = dict(meta or {})
        self._sources: list[Source] = []
        self._pos: dict[int, int] = {}
        for source in sources:
            self.add(source)

    # -- container protocol
    def __len__(self) -> int:
        return len(self._sources)

    def __iter__(self) -> Iterator[Source]:
        return iter(list(self._sources))

    def __getitem__(self, index: int) -> Source:
        return self._sources[index]

    def __contains__(self, source_id: object) -> bool:
        return source_id in self._pos

    def __repr__(self) -> str:
        return f"<Catalogue {len(self)} sources, image={self.meta.get('image')!r}>"

    @property
    def ids(self) -> list[int]:
        return [s.source_id for s in self._sources]

    def next_id(self) -> int:
        """The next free source id (one more than the largest, starting at 1)."""
        return max(self._pos, default=0) + 1

    def index(self, source_id: int) -> int:
        """Position of ``source_id``; KeyError if absent."""
        try:
            return self._pos[source_id]
        except KeyError:
            raise KeyError(f"no source with id {source_id}") from None

    def get(self, source_id: int) -> Source:
        """The source with ``source_id``; KeyError if absent."""
        return self._sources[self.index(source_id)]

    # -- edits
    def add(self, source: Source, index: int | None = None) -> Source:
        """Append ``source`` (or insert it at ``index``); returns it as stored.

        A negative ``source_id`` gets the next free id; a taken one is a ValueError.
        """
        sid = int(source.source_id)
        if sid < 0:
            source = source.replace(source_id=self.next_id())
        elif sid in self._pos:
            raise ValueError(f"source id {sid} is already in the catalogue")
        if index is None or index >= len(self._sources):
            self._pos[source.source_id] = len(self._sources)
            self._sources.append(source)
        else:
            self._sources.insert(max(index, 0), source)
            self._reindex()
        return source

    def remove(self, source_id: int) -> Source:
        """Remove and return the source with ``source_id``; KeyError if absent."""
        source = self._sources.pop(self.index(source_id))
        self._reindex()
        return source

    def remove_many(self, source_ids: Iterable[int]) -> list[Source]:
        """Remove every source whose id is in ``source_ids`` (absent ids are ignored), in one
        pass; returns the removed sources in row order."""
        gone = {int(i) for i in source_ids}
        removed = [s for s in self._sources if s.source_id in gone]
        if removed:
            self._sources = [s for s in self._sources if s.source_id not in gone]
            self._reindex()
        return removed

    def update(self, source_id: int, **changes: Any) -> tuple[Source, Source]:
        """Apply ``changes`` to one source; returns ``(old, new)`` (for undo)."""
        pos = self.index(source_id)
        if "source_id" in changes and changes["source_id"] != source_id:
            raise ValueError("the source id cannot be changed by update()")
        old = self._sources[pos]
        new = old.replace(**changes)
        self._sources[pos] = new
        return old, new

    def _reindex(self) -> None:
        self._pos = {s.source_id: i for i, s in enumerate(self._sources)}

    def copy(self) -> Catalogue:
        import copy as _copy

        new = Catalogue(meta=_copy.deepcopy(self.meta))
        new._sources = list(self._sources)
        new._pos = dict(self._pos)
        return new

    def filter(self, statuses: Iterable[str] | str | None = None) -> Catalogue:
        """A new catalogue (same meta) holding only sources whose status is in ``statuses``."""
        wanted = _check_statuses(statuses)
        new = self.copy()
        if wanted is not None:
            new._sources = [s for s in self._sources if s.status in wanted]
            new._reindex()
        return new

    # -- tables
    def to_table(self, statuses: Iterable[str] | str | None = None, per: str | None = None) -> Table:
        """The catalogue as an astropy Table: one column per :data:`COLUMNS`, with units,
        descriptions and UCDs (``col.meta['ucd']``); ``meta`` copied into ``table.meta``.

        ``per`` None gives the rows as held (sessions); ``"component"`` one row per component
        with ``source_id`` naming its source (the id of the source's brightest component),
        ``component_id`` its own id, islands numbered 1, 2, ...; ``"source"`` one row per
        source (:func:`.components.per_source`) with ``n_components``."""
        if per is not None:
            return _grouped_table(self, statuses, per)
        sources = self.filter(statuses)._sources
        table = Table(meta=_plain_meta(self.meta))
        for spec in COLUMNS:
            values = [getattr(s, spec.name) for s in sources]
            if spec.dtype is float:
                data = np.array(values, dtype=np.float64)
            elif spec.dtype is int:
                data = np.array(values, dtype=np.int64)
            elif spec.dtype is bool:
                data = np.array(values, dtype=bool)
            else:
                data = np.array(values, dtype=str) if values else np.array([], dtype="U1")
            table[spec.name] = data
            col = table[spec.name]
            col.unit = spec.unit
            col.description = spec.description
            col.meta["ucd"] = spec.ucd
        return table

    @classmethod
    def from_table(cls, table: Table, path: str | os.PathLike | None = None) -> Catalogue:
        """A catalogue from an astropy Table (ours, or PyBDSF/Aegean-like).

        Missing optional columns get their defaults; units are converted to the
        column specification (a column without a unit is taken to be in the spec
        unit). The table needs a position: ``ra``/``dec`` or ``x``/``y``.
        ``path`` only serves to name the file in errors.
        """
        names = _match_columns(table.colnames)
        component_col = _find_column(table.colnames, COMPONENT_ID.name, _COMPONENT_ALIASES)
        has_sky = "ra" in names and "dec" in names
        has_pix = "x" in names and "y" in names
        if not (has_sky or has_pix):
            raise DecorasError(
                "not a source catalogue: it needs ra/dec or x/y columns "
                f"(found: {', '.join(table.colnames[:12]) or 'no columns'})",
                path,
            )
        columns: dict[str, list[Any]] = {}
        nrows = len(table)
        for spec in COLUMNS:
            if spec.name in names:
                columns[spec.name] = _column_values(table[names[spec.name]], spec, path)
            else:
                columns[spec.name] = [spec.default] * nrows
        if component_col is not None:  # a per-component file: rows keyed by component, grouped by source
            _component_rows(columns, table[component_col], path)
        meta = _meta_from_table(table.meta)
        cat = cls(meta=meta)
        for i in range(nrows):
            row = {name: columns[name][i] for name in COLUMN_NAMES}
            row["status"] = (row["status"] or CANDIDATE).strip().lower()
            row["origin"] = (row["origin"] or "imported").strip().lower()
            try:
                source = Source(**row)
                cat.add(source)
            except ValueError as exc:
                raise DecorasError(f"row {i + 1}: {exc}", path) from None
        return cat

    # -- files
    def write(
        self,
        path: str | os.PathLike,
        format: str | None = None,
        statuses: Iterable[str] | str | None = None,
        overwrite: bool = True,
        per: str = "component",
        layout: str = "native",
        astrometric_error: float = 0.0,
        flux_scale_error: float = 0.0,
    ) -> Path:
        """Write the catalogue, atomically; the format comes from the extension
        (:data:`.formats.CATALOGUE_FORMATS`) unless ``format`` (a key or alias) is given.
        ``per``: one row per ``"component"`` (default) or per ``"source"`` (:meth:`to_table`).
        ``layout`` ``"srl"`` or ``"gaul"`` writes a PyBDSF source or Gaussian list with LoTSS
        column names instead (:mod:`.pybdsf_layout`; ``per`` is then implied), the systematic
        errors going into its ``_tot`` columns. Returns the path written."""
        path = Path(path)
        fmt = _format(path, format)
        if path.exists() and not overwrite:
            raise DecorasError("the file exists and overwrite is off", path)
        if layout == "native":
            table = self.to_table(statuses, per=per)
        else:
            from .pybdsf_layout import pybdsf_table

            try:
                table = pybdsf_table(self, layout, statuses, astrometric_error=astrometric_error,
                                     flux_scale_error=flux_scale_error)
            except ValueError as exc:
                raise DecorasError(str(exc), path) from None
        writer = _WRITERS.get(fmt.key)
        try:
            with atomic_path(path) as tmp:
                if writer is not None:
                    writer(table, tmp)
                else:
                    table.write(tmp, format=fmt.astropy)
        except DecorasError:
            raise
        except OSError as exc:
            raise DecorasError(f"cannot write the catalogue: {exc.strerror or exc}", path) from exc
        return path

    @classmethod
    def read(cls, path: str | os.PathLike, format: str | None = None) -> Catalogue:
        """Read a catalogue written by :meth:`write` (or a compatible one)."""
        path = Path(path)
        if not path.exists():
            raise DecorasError("no such file", path)
        if not path.is_file():
            raise DecorasError("not a file", path)
        fmt = _format(path, format)
        reader = _READERS.get(fmt.key)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                table = reader(path) if reader is not None else Table.read(path, format=fmt.astropy)
        except DecorasError:
            raise
        except Exception as exc:  # astropy raises many kinds for a bad file
            raise DecorasError(f"cannot read the catalogue as {fmt.astropy}: {_short(exc)}", path) from exc
        return cls.from_table(table, path=path)


# ------------------------------------------------------------------- grouped tables

#: The column a per-component file adds: the component's own id (``source_id`` then names its source).
COMPONENT_ID = ColumnSpec("component_id", None, int, "Component identifier, unique in the catalogue",
                          "meta.id")
N_COMPONENTS = ColumnSpec("n_components", None, int, "Number of components of the source", "meta.number")
_COMPONENT_ALIASES = ("component_id", "gaus_id", "comp_id")
PER_CHOICES = ("component", "source")


def _find_column(colnames: list[str], name: str, aliases: tuple[str, ...]) -> str | None:
    lower = {c.lower(): c for c in colnames}
    for alias in (name, *aliases):
        if alias in lower:
            return lower[alias]
    return None


def _set_column(table: Table, index: int, spec: ColumnSpec, values: list[int]) -> None:
    """Put ``spec``'s column at ``index`` (replacing the column there)."""
    table.remove_column(table.colnames[index])
    table.add_column(np.array(values, dtype=np.int64), name=spec.name, index=index)
    col = table[spec.name]
    col.description = spec.description
    col.meta["ucd"] = spec.ucd


def _grouped_table(cat: Catalogue, statuses, per: str) -> Table:
    from . import components

    if per not in PER_CHOICES:
        raise ValueError(f"per must be one of {PER_CHOICES}, not {per!r}")
    if per == "source":
        sources, counts = components.per_source(cat, statuses)
        table = sources.to_table()
        _set_column(table, table.colnames.index("group"), N_COMPONENTS, counts)
        return table
    table = cat.to_table(statuses)
    rows = cat.filter(statuses)._sources
    sids, islands, codes = components.component_table_values(rows)
    ids = [s.source_id for s in rows]
    table["source_id"][:] = sids
    _set_column(table, table.colnames.index("group"), COMPONENT_ID, ids)
    table["island"][:] = islands
    if len(table):  # a row never grouped (added by hand, read from a file without codes) keeps ''
        codes = [code if s.s_code else "" for code, s in zip(codes, rows)]
        table.replace_column("s_code", np.array(codes, dtype=str))
    _describe(table, "s_code")
    return table


def _describe(table: Table, name: str) -> None:
    spec = COLUMN_BY_NAME[name]
    table[name].description = spec.description
    table[name].meta["ucd"] = spec.ucd


def _component_rows(columns: dict[str, list[Any]], component_col, path) -> None:
    """Rows of a per-component file back to rows keyed by component: ``source_id`` <- the
    component id, ``group`` <- the source id where the source has several components."""
    comp = _column_values(component_col, COMPONENT_ID, path)
    sids = columns["source_id"]
    size: dict[int, int] = {}
    for sid in sids:
        size[sid] = size.get(sid, 0) + 1
    columns["group"] = [sid if size[sid] > 1 and sid >= 0 else -1 for sid in sids]
    columns["source_id"] = comp


# -------------------------------------------------------------------------- helpers


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def _check_statuses(statuses: Iterable[str] | str | None) -> set[str] | None:
    if statuses is None:
        return None
    wanted = {statuses} if isinstance(statuses, str) else set(statuses)
    bad = wanted - set(STATUSES)
    if bad:
        raise ValueError(f"unknown status {sorted(bad)}; use {STATUSES}")
    return wanted


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, u.Quantity):
        return value.value.item() if value.isscalar else value.value.tolist()
    if isinstance(value, Path):
        return str(value)
    return value


def _plain_meta(meta: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): _plain(v) for k, v in meta.items()}


def _match_columns(colnames: list[str]) -> dict[str, str]:
    """Spec name -> table column name (exact, then case-insensitive, then aliases)."""
    lower = {c.lower(): c for c in colnames}
    out: dict[str, str] = {}
    for spec in COLUMNS:
        if spec.name in colnames:
            out[spec.name] = spec.name
        elif spec.name in lower:
            out[spec.name] = lower[spec.name]
        else:
            for alias in _ALIASES.get(spec.name, ()):
                if alias in lower:
                    out[spec.name] = lower[alias]
                    break
    return out


def _column_values(col, spec: ColumnSpec, path) -> list[Any]:
    mask = np.asarray(col.mask) if isinstance(col, MaskedColumn) else None
    data = col.filled() if isinstance(col, MaskedColumn) and spec.dtype is not float else col
    try:
        if spec.dtype is float:
            values = np.asarray(data, dtype=np.float64) if mask is None else np.asarray(
                col.filled(np.nan), dtype=np.float64
            )
            if spec.unit is not None and col.unit is not None and col.unit != spec.unit:
                values = (values * col.unit).to_value(spec.unit)
            out: list[Any] = values.tolist()
        elif spec.dtype is int:
            out = [int(v) for v in np.asarray(data)]
        elif spec.dtype is bool:
            out = [_to_bool(v) for v in np.asarray(data)]
        else:
            out = [_to_str(v) for v in np.asarray(data)]
    except (ValueError, TypeError, u.UnitsError) as exc:
        raise DecorasError(f"column {col.name!r}: {_short(exc)}", path) from None
    if mask is not None and spec.dtype is not float:
        out = [spec.default if m else v for v, m in zip(out, mask)]
    return out


def _to_str(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value).strip()


def _to_bool(value: Any) -> bool:
    if isinstance(value, (bytes, str)):
        text = _to_str(value).lower()
        if text in ("true", "t", "1", "yes", "y"):
            return True
        if text in ("false", "f", "0", "no", "n", ""):
            return False
        raise ValueError(f"not a boolean: {text!r}")
    return bool(value)


def _meta_from_table(meta: Mapping[str, Any]) -> dict[str, Any]:
    """Our meta keys back from ECSV (as written), FITS header or VOTable INFO/PARAM."""
    skip = {"EXTNAME", "COMMENT", "HISTORY", "DATE", "ID", "ucd", "utype", "ref"}
    out: dict[str, Any] = {}
    for key, value in meta.items():
        if key in skip or key == "" or key.startswith("TUCD") or key.startswith("TCOMM"):
            continue
        key = _FITS_TO_META.get(key, key)
        if key not in META_KEYS and key.isupper():
            key = key.lower()
        out[key] = _plain(value)
    return out


def _write_fits(table: Table, tmp: Path) -> None:
    from astropy.io import fits

    plain = Table(table, meta={}, copy=True)
    for name in table.colnames:  # FITS strings are bytes: keep non-ASCII notes as UTF-8
        if table[name].dtype.kind == "U" and len(plain):
            encoded = np.array([v.encode("utf-8") for v in plain[name]])
            plain.replace_column(name, encoded, copy=False)
            plain[name].description = table[name].description
            plain[name].meta["ucd"] = table[name].meta.get("ucd", "")
    hdu = fits.table_to_hdu(plain)
    hdu.name = "CATALOGUE"
    header = hdu.header
    for i, name in enumerate(table.colnames, start=1):
        header[f"TCOMM{i}"] = (table[name].description or "")[:68]
        header[f"TUCD{i}"] = table[name].meta.get("ucd", "")
    for key, value in table.meta.items():
        value = _plain(value)
        if not isinstance(value, (str, int, float, bool)) or value is None:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            continue
        if isinstance(value, str) and not value.isascii():
            value = value.encode("ascii", "backslashreplace").decode("ascii")
        if key in META_KEYS:
            fits_key, _, comment = META_KEYS[key]
            header[fits_key] = (value, comment)
        elif len(key) <= 8 and key.replace("_", "").replace("-", "").isalnum():
            header[key.upper()] = value
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(tmp)


def _write_votable(table: Table, tmp: Path) -> None:
    from astropy.io.votable.tree import Info, Param, VOTableFile

    vot = VOTableFile.from_table(Table(table, meta={}, copy=False))
    vot_table = vot.resources[0].tables[0]
    vot_table.name = "catalogue"
    vot_table.description = "decoras-gui source catalogue"
    for key, value in table.meta.items():
        value = _plain(value)
        if isinstance(value, str):
            vot.resources[0].infos.append(Info(name=key, value=value))
        elif isinstance(value, bool):
            vot_table.params.append(
                Param(vot, name=key, datatype="boolean", value=value)
            )
        elif isinstance(value, int):
            vot_table.params.append(Param(vot, name=key, datatype="long", value=value))
        elif isinstance(value, float):
            unit = META_KEYS.get(key, (None, None, None))[1]
            param = Param(vot, name=key, datatype="double", value=value)
            if unit is not None:
                param.unit = unit
            vot_table.params.append(param)
    vot.to_xml(str(tmp))


def _read_votable(path: Path) -> Table:
    from astropy.io.votable import parse

    vot = parse(str(path), verify="ignore")
    resource_tables = [(r, t) for r in vot.resources for t in r.tables]
    if not resource_tables:
        raise DecorasError("the VOTable holds no table", path)
    resource, vot_table = resource_tables[0]
    table = vot_table.to_table(use_names_over_ids=True)
    meta: dict[str, Any] = {}
    for info in list(vot.infos) + list(resource.infos) + list(vot_table.infos):
        if info.name in ("QUERY_STATUS",):
            continue
        meta[info.name] = info.value
    for param in vot_table.params:
        meta[param.name] = _plain(param.value)
    table.meta = meta
    return table


def _read_fits(path: Path) -> Table:
    return Table.read(path, format="fits", character_as_bytes=True)


# Formats (keys of formats.CATALOGUE_FORMATS) with a writer or reader of their own here;
# the others go straight through astropy under the format's astropy name.
_WRITERS = {"fits": _write_fits, "votable": _write_votable}
_READERS = {"fits": _read_fits, "votable": _read_votable}
