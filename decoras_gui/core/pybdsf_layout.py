"""PyBDSF-style catalogue layouts: a source list (``srl``) and a Gaussian list (``gaul``) with
PyBDSF's column names and the units of the LoTSS-DR1 release (Shimwell et al. 2019):
positions in deg, their errors in arcsec, fluxes in mJy and mJy/beam, sizes in arcsec.

Downstream code written for LoTSS or RACS catalogues selects columns by these names, so it
reads ours unchanged. The layout is a view of the catalogue, not a second measurement:

* ``srl``: one row per source (:func:`.components.per_source`); ``gaul``: one row per
  component, with ``Gaus_id``, ``Source_id`` (0-based, as PyBDSF) and ``Isl_id``.
* ``E_Maj``, ``E_Min``, ``E_PA`` (and the deconvolved ones) are Condon (1997) errors from the
  peak, the local rms and the beam; NaN without a beam.
* The ``_tot`` errors add the systematic terms in quadrature, as LoTSS does: an astrometric
  error (arcsec) to ``E_RA``/``E_DEC`` and a flux-scale error (a fraction of the flux) to
  the fluxes. Both default to 0, as we know no calibration of the user's data; they are
  written to the metadata.
* ``Source_Name`` is an IAU name from the position, truncated (not rounded): ``PREFIX
  JHHMMSS.ss+DDMMSS.s``, with two more digits each when the beam is under an arcsecond.
* Native columns that PyBDSF has no name for (``snr``, ``det_prob``, ``p_sidelobe``, the
  vetting status...) follow, under their own names.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from astropy import units as u
from astropy.table import Table

from .catalogue import COLUMN_BY_NAME, Catalogue, Source
from .formats import CATALOGUE_LAYOUTS
from .geometry import condon_errors

__all__ = ["LAYOUTS", "SRL_COLUMNS", "GAUL_COLUMNS", "NATIVE_EXTRAS", "iau_name", "pybdsf_table"]

LAYOUTS: tuple[str, ...] = CATALOGUE_LAYOUTS
_MJY, _MJYB, _AS, _DEG = u.mJy, u.mJy / u.beam, u.arcsec, u.deg


@dataclass(frozen=True)
class _Col:
    name: str
    unit: u.UnitBase | None
    description: str


_SRL = (
    _Col("Source_Name", None, "IAU name from the position (truncated)"),
    _Col("RA", _DEG, "Right ascension"),
    _Col("E_RA", _AS, "Error of RA (statistical)"),
    _Col("E_RA_tot", _AS, "Error of RA with the astrometric systematic added in quadrature"),
    _Col("DEC", _DEG, "Declination"),
    _Col("E_DEC", _AS, "Error of DEC (statistical)"),
    _Col("E_DEC_tot", _AS, "Error of DEC with the astrometric systematic added in quadrature"),
    _Col("Peak_flux", _MJYB, "Peak brightness"),
    _Col("E_Peak_flux", _MJYB, "Error of Peak_flux (statistical)"),
    _Col("E_Peak_flux_tot", _MJYB, "Error of Peak_flux with the flux-scale error added in quadrature"),
    _Col("Total_flux", _MJY, "Integrated flux density"),
    _Col("E_Total_flux", _MJY, "Error of Total_flux (statistical)"),
    _Col("E_Total_flux_tot", _MJY, "Error of Total_flux with the flux-scale error added in quadrature"),
    _Col("Maj", _AS, "Major axis FWHM (convolved)"),
    _Col("E_Maj", _AS, "Error of Maj (Condon 1997)"),
    _Col("Min", _AS, "Minor axis FWHM (convolved)"),
    _Col("E_Min", _AS, "Error of Min (Condon 1997)"),
    _Col("DC_Maj", _AS, "Major axis FWHM deconvolved from the beam"),
    _Col("E_DC_Maj", _AS, "Error of DC_Maj"),
    _Col("DC_Min", _AS, "Minor axis FWHM deconvolved from the beam"),
    _Col("E_DC_Min", _AS, "Error of DC_Min"),
    _Col("PA", _DEG, "Position angle of the major axis, east of north (convolved)"),
    _Col("E_PA", _DEG, "Error of PA (Condon 1997)"),
    _Col("DC_PA", _DEG, "Deconvolved position angle, east of north"),
    _Col("E_DC_PA", _DEG, "Error of DC_PA"),
    _Col("Isl_rms", _MJYB, "Local noise rms"),
    _Col("S_Code", None, "S single Gaussian alone in its island, C single Gaussian sharing its island, "
         "M multi-Gaussian"),
    _Col("Mosaic_ID", None, "Image (mosaic) the source was found in"),
    _Col("Isl_id", None, "Island id, 0-based"),
)
SRL_COLUMNS: tuple[str, ...] = tuple(c.name for c in _SRL)

_GAUL_ONLY = {
    "Gaus_id": _Col("Gaus_id", None, "Gaussian (component) id, 0-based"),
    "Source_id": _Col("Source_id", None, "Id of the source the Gaussian belongs to, 0-based"),
    "Xposn": _Col("Xposn", u.pix, "Pixel x of the centre, 0-based"),
    "Yposn": _Col("Yposn", u.pix, "Pixel y of the centre, 0-based"),
    "Isl_Total_flux": _Col("Isl_Total_flux", _MJY, "Total flux of the island the Gaussian lies in"),
    "E_Isl_Total_flux": _Col("E_Isl_Total_flux", _MJY, "Error of Isl_Total_flux"),
}
_GAUL = (
    _SRL[0], _GAUL_ONLY["Gaus_id"], _SRL[-1], _GAUL_ONLY["Source_id"],
    *_SRL[1:7], *(_SRL[i] for i in (10, 11, 12, 7, 8, 9)),
    _GAUL_ONLY["Xposn"], _GAUL_ONLY["Yposn"], *_SRL[13:25],
    _GAUL_ONLY["Isl_Total_flux"], _GAUL_ONLY["E_Isl_Total_flux"], _SRL[25], _SRL[26], _SRL[27],
)
GAUL_COLUMNS: tuple[str, ...] = tuple(c.name for c in _GAUL)

#: native columns written after the PyBDSF ones (no PyBDSF name; none clashes, any case, in FITS)
NATIVE_EXTRAS: tuple[str, ...] = ("snr", "det_prob", "sidelobe_of", "p_sidelobe", "status", "origin",
                                  "model", "note")


def _truncate(value: float, decimals: int) -> tuple[int, int]:
    """(whole, fraction as an integer of ``decimals`` digits), truncated."""
    scaled = math.floor(value * 10**decimals + 1e-6)  # a millionth of the last digit: float noise
    return divmod(scaled, 10**decimals)


def iau_name(ra: float, dec: float, prefix: str = "DECORAS", fine: bool = False) -> str:
    """``PREFIX JHHMMSS.ss+DDMMSS.s`` (``fine``: ``JHHMMSS.ssss+DDMMSS.sss``), truncated as the
    IAU asks; empty for a position that is not finite."""
    if not (math.isfinite(ra) and math.isfinite(dec)):
        return ""
    rd, dd = (4, 3) if fine else (2, 1)
    secs, frac = _truncate((ra % 360.0) / 15.0 * 3600.0, rd)
    h, rem = divmod(secs, 3600)
    m, s = divmod(rem, 60)
    sign = "-" if dec < 0 else "+"
    asecs, dfrac = _truncate(abs(dec) * 3600.0, dd)
    d, drem = divmod(asecs, 3600)
    dm, ds = divmod(drem, 60)
    name = f"J{h:02d}{m:02d}{s:02d}.{frac:0{rd}d}{sign}{d:02d}{dm:02d}{ds:02d}.{dfrac:0{dd}d}"
    return f"{prefix} {name}" if prefix else name


def _quad(a: float, b: float) -> float:
    return math.hypot(a, b) if math.isfinite(a) else math.nan


def _shape_errors(s: Source, beam: tuple[float, float] | None) -> tuple[float, float, float]:
    """Condon (1997) errors of maj, min (arcsec) and PA (deg)."""
    if beam is None or not all(math.isfinite(v) for v in (s.peak_flux, s.local_rms, s.maj, s.min)):
        return math.nan, math.nan, math.nan
    err = condon_errors(s.peak_flux, s.local_rms, s.maj, s.min, math.sqrt(beam[0] * beam[1]))
    return err["maj"], err["min"], err["pa"]


def _rows(sources: Sequence[Source], meta, astrometric: float, flux_scale: float) -> dict[str, list]:
    beam = None
    if all(isinstance(meta.get(k), (int, float)) and meta.get(k) > 0 for k in ("beam_maj", "beam_min")):
        beam = (float(meta["beam_maj"]), float(meta["beam_min"]))
    fine = beam is not None and beam[0] < 1.0
    prefix = str(meta.get("name_prefix", "DECORAS"))
    mosaic = str(meta.get("image", "")).removesuffix(".gz").removesuffix(".fits") or "image"
    cols: dict[str, list] = {}

    def put(name: str, value) -> None:
        cols.setdefault(name, []).append(value)

    for s in sources:
        e_maj, e_min, e_pa = _shape_errors(s, beam)
        put("Source_Name", iau_name(s.ra, s.dec, prefix, fine))
        put("RA", s.ra)
        put("E_RA", s.ra_err)
        put("E_RA_tot", _quad(s.ra_err, astrometric))
        put("DEC", s.dec)
        put("E_DEC", s.dec_err)
        put("E_DEC_tot", _quad(s.dec_err, astrometric))
        for name, value, err in (("Peak_flux", s.peak_flux, s.peak_flux_err),
                                 ("Total_flux", s.total_flux, s.total_flux_err)):
            put(name, value * 1e3)
            put(f"E_{name}", err * 1e3)
            put(f"E_{name}_tot", _quad(err * 1e3, flux_scale * value * 1e3))
        put("Maj", s.maj)
        put("E_Maj", e_maj)
        put("Min", s.min)
        put("E_Min", e_min)
        put("DC_Maj", s.maj_deconv)
        put("E_DC_Maj", e_maj if math.isfinite(s.maj_deconv) else math.nan)
        put("DC_Min", s.min_deconv)
        put("E_DC_Min", e_min if math.isfinite(s.min_deconv) else math.nan)
        put("PA", s.pa)
        put("E_PA", e_pa)
        put("DC_PA", s.pa_deconv)
        put("E_DC_PA", e_pa if math.isfinite(s.pa_deconv) else math.nan)
        put("Isl_rms", s.local_rms * 1e3)
        put("S_Code", s.s_code or "S")
        put("Mosaic_ID", mosaic)
        put("Xposn", s.x)
        put("Yposn", s.y)
        for name in NATIVE_EXTRAS:
            put(name, getattr(s, name))
    return cols


def _island_ids(islands: Iterable[int]) -> list[int]:
    """0-based island ids; a row of unknown island (-1) gets an island of its own."""
    islands = list(islands)
    known = sorted({i for i in islands if i >= 0})
    number = {isl: k for k, isl in enumerate(known)}
    out, extra = [], len(known)
    for isl in islands:
        if isl >= 0:
            out.append(number[isl])
        else:
            out.append(extra)
            extra += 1
    return out


def pybdsf_table(cat: Catalogue, layout: str = "srl", statuses=None, astrometric_error: float = 0.0,
                 flux_scale_error: float = 0.0, name_prefix: str | None = None) -> Table:
    """The catalogue as a PyBDSF source list (``layout='srl'``) or Gaussian list (``'gaul'``),
    LoTSS-DR1 names and units, native extras after them (module docstring).
    ``astrometric_error`` (arcsec) and ``flux_scale_error`` (a fraction) go into the ``_tot``
    errors; ``name_prefix`` starts every ``Source_Name`` (default ``DECORAS``)."""
    from . import components

    if layout not in ("srl", "gaul"):
        raise ValueError(f"layout must be 'srl' or 'gaul', not {layout!r}")
    if astrometric_error < 0 or flux_scale_error < 0:
        raise ValueError("the systematic errors must not be negative")
    meta = dict(cat.meta)
    if name_prefix is not None:
        meta["name_prefix"] = name_prefix
    if layout == "srl":
        sources_cat, counts = components.per_source(cat, statuses)
        rows = list(sources_cat)
        spec = _SRL
        extra = {"Isl_id": _island_ids(s.island for s in rows), "n_components": counts}
    else:
        rows = list(cat.filter(statuses))
        sids, islands, codes = components.component_table_values(rows)
        rows = [s.replace(s_code=c or s.s_code) for s, c in zip(rows, codes)]
        source_index = {sid: k for k, sid in enumerate(dict.fromkeys(sids))}
        isl = _island_ids(islands)
        isl_flux: dict[int, list[Source]] = {}
        for i, s in zip(isl, rows):
            isl_flux.setdefault(i, []).append(s)
        extra = {
            "Gaus_id": list(range(len(rows))),
            "Source_id": [source_index[sid] for sid in sids],
            "Isl_id": isl,
            "Isl_Total_flux": [1e3 * float(np.nansum([m.total_flux for m in isl_flux[i]])) for i in isl],
            "E_Isl_Total_flux": [1e3 * math.sqrt(float(np.nansum([m.total_flux_err ** 2 for m in isl_flux[i]])))
                                 for i in isl],
        }
        spec = _GAUL
    values = _rows(rows, meta, astrometric_error, flux_scale_error)
    values.update(extra)
    table = Table(meta={k: v for k, v in cat.meta.items() if k != "name_prefix"})
    table.meta.update(layout=f"pybdsf-{layout}", astrometric_error_arcsec=float(astrometric_error),
                      flux_scale_error=float(flux_scale_error))
    for col in spec:
        data = values[col.name]
        if col.unit is None and col.name.endswith("_id"):
            table[col.name] = np.array(data, dtype=np.int64)
        elif col.unit is None:
            table[col.name] = np.array(data, dtype=str) if data else np.array([], dtype="U1")
        else:
            table[col.name] = np.array(data, dtype=np.float64)
        table[col.name].unit = col.unit
        table[col.name].description = col.description
    # our own id: of the source (srl), of the component (gaul: Source_id is PyBDSF's, and FITS
    # column names are case-blind)
    values["source_id" if layout == "srl" else "component_id"] = [s.source_id for s in rows]
    names = (("source_id",) if layout == "srl" else ("component_id",)) + NATIVE_EXTRAS
    names += ("n_components",) if layout == "srl" else ()
    for name in names:
        data = values[name]
        native = COLUMN_BY_NAME.get(name)
        if native is not None and native.dtype is str:
            table[name] = np.array(data, dtype=str) if data else np.array([], dtype="U1")
        else:
            table[name] = np.array(data)
        if native is not None:
            table[name].unit = native.unit
            table[name].description = native.description
            table[name].meta["ucd"] = native.ucd
    return table
