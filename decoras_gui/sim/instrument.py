"""Instruments as data: an interferometer's stations, bands, sensitivities and schedules, read
from a TOML file.

The bundled files (``decoras_gui/sim/instruments/*.toml``, each sourced in its comments) cover
the VLBA, EVN, VLA (A-D), LOFAR HBA, MeerKAT and ATCA; files a user adds
(:func:`add_instrument`, ``decoras instruments add``) live in :func:`user_instruments_dir`;
the bundled names are reserved (a user's file of that name is ignored). A file holds:

* ``name``, ``full_name``, ``array`` ('vlbi' or 'connected'), ``telescop`` (the FITS
  TELESCOP the simulator writes), ``reference_longitude_deg`` (the meridian schedule hour
  angles refer to; default the stations' mean longitude), ``elevation_limit_deg``,
  ``quantisation_efficiency``;
* ``frame`` 'itrf' (geocentric X, Y, Z metres) or 'enu' (east, north, up metres about
  ``reference = [longitude deg, latitude deg, height m]``), and ``stations``: rows of
  ``[name, x, y, z, diameter m]``;
* ``[bands.NAME]``: ``centre_hz``, ``range_hz`` (what the receivers cover; default the centre
  / 1.2 to x 1.2), ``bandwidths_hz``, ``jitter_hz`` (how far random observations move the
  centre), and the SEFD: ``sefd_jy`` for every station with optional
  ``sefd_by_station``, or ``tsys_k`` and ``aperture_efficiency`` (SEFD = 2 k Tsys / (eta A));
* ``[schedules.NAME]``: ``band``, ``scan_ha_h``, ``scan_len_min``, ``nchan``,
  ``bandwidth_hz``, ``integration_s``.

A CASA antenna configuration file (``*.cfg``, as simobserve reads: ``x y z diam name`` rows
with ``# observatory=`` and ``# coordsys=XYZ|LOC`` headers) can be turned into an instrument
with :func:`instrument_from_cfg`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import astropy.units as u
import numpy as np
import tomllib
from astropy.coordinates import EarthLocation

from ..core.errors import DecorasError
from ..core.fileio import read_toml

BUNDLED_DIR = Path(__file__).resolve().parent / "instruments"
K_BOLTZMANN = 1.380649e-23
JY = 1e-26
DEFAULT_INSTRUMENT = "VLBA"
FRAMES = ("itrf", "enu")


def user_instruments_dir() -> Path:
    """Where instruments a user adds are kept (``$DECORAS_INSTRUMENTS``, else
    ``$XDG_DATA_HOME/decoras-gui/instruments``, else ``~/.local/share/decoras-gui/instruments``)."""
    from ..paths import user_data_dir

    env = os.environ.get("DECORAS_INSTRUMENTS")
    return Path(env) if env else user_data_dir() / "instruments"


@dataclass(frozen=True)
class Band:
    """A receiver band: where it is, how wide observations make it, and each station's SEFD."""

    name: str
    centre_hz: float
    bandwidths_hz: tuple[float, ...]
    jitter_hz: float
    sefd_jy: tuple[float, ...]  # one per station, in the instrument's station order
    range_hz: tuple[float, float] = (0.0, 0.0)  # what the receivers cover (default centre / 1.2 .. x 1.2)

    def __post_init__(self) -> None:
        if self.range_hz == (0.0, 0.0):
            object.__setattr__(self, "range_hz", (self.centre_hz / 1.2, self.centre_hz * 1.2))


@dataclass(frozen=True)
class ScheduleSpec:
    """A named typical schedule of an instrument (turned into a :class:`~.array.Schedule`)."""

    name: str
    band: str
    scan_ha_h: tuple[float, ...]
    scan_len_min: tuple[float, ...]
    nchan: int
    bandwidth_hz: float
    integration_s: float


@dataclass(frozen=True, eq=False)
class Instrument:
    """An interferometer read from its file (module docstring)."""

    name: str
    full_name: str
    array: str
    telescop: str
    station_names: tuple[str, ...]
    xyz: np.ndarray  # (N, 3) geocentric metres
    diameters_m: np.ndarray  # (N,)
    reference_longitude_deg: float
    elevation_limit_deg: float
    quantisation_efficiency: float
    bands: dict[str, Band]
    schedules: dict[str, ScheduleSpec]
    source: Path | None = None
    comment: str = field(default="", repr=False)

    @cached_property
    def geodetic(self) -> tuple[np.ndarray, np.ndarray]:
        """Geodetic (longitude east, latitude) in radians of each station (astropy WGS84)."""
        loc = EarthLocation.from_geocentric(self.xyz[:, 0], self.xyz[:, 1], self.xyz[:, 2], unit=u.m)
        geo = loc.to_geodetic()
        return np.asarray(geo.lon.to_value(u.rad)), np.asarray(geo.lat.to_value(u.rad))

    @cached_property
    def longest_baseline_m(self) -> float:
        d = self.xyz[:, None, :] - self.xyz[None, :, :]
        return float(np.sqrt((d ** 2).sum(-1)).max()) if len(self.xyz) > 1 else 0.0

    def band(self, name: str | None = None) -> Band:
        """The band called ``name`` (any case), or the first band when None."""
        if name is None:
            return next(iter(self.bands.values()))
        for key, band in self.bands.items():
            if key.lower() == name.lower():
                return band
        raise DecorasError(f"{self.name} has no band {name!r} (it has {', '.join(self.bands)})", self.source)

    def band_at(self, freq_hz: float) -> Band:
        """The band whose centre is nearest ``freq_hz``."""
        return min(self.bands.values(), key=lambda b: abs(math.log(b.centre_hz / freq_hz)))

    def resolution_mas(self, band: str | None = None) -> float:
        """lambda / longest baseline at the band's centre, in mas (about the beam's FWHM)."""
        lam = 299_792_458.0 / self.band(band).centre_hz
        return math.degrees(lam / max(self.longest_baseline_m, 1e-9)) * 3.6e6

    def station_index(self, names: tuple[str, ...]) -> np.ndarray:
        """Indices of ``names`` in this instrument's station order (unknown ones refused)."""
        bad = [n for n in names if n not in self.station_names]
        if bad:
            raise DecorasError(f"unknown {self.name} stations: {', '.join(bad)}", self.source)
        return np.array([self.station_names.index(n) for n in names], int)

    def describe(self) -> str:
        """One line: name, stations, bands and longest baseline."""
        bands = ", ".join(f"{b.name} {b.centre_hz / 1e9:.3g} GHz" for b in self.bands.values())
        km = self.longest_baseline_m / 1e3
        return (f"{self.name:12s} {len(self.station_names):3d} stations, longest baseline {km:,.1f} km; "
                f"bands {bands}; schedules {', '.join(self.schedules)}")


def _require(raw: dict, key: str, path: Path | None):
    if key not in raw:
        raise DecorasError(f"the instrument file has no {key!r}", path)
    return raw[key]


def _sefds(raw: dict, names: tuple[str, ...], diameters: np.ndarray, path: Path | None, band: str) -> tuple:
    by_station = raw.get("sefd_by_station", {})
    unknown = set(by_station) - set(names)
    if unknown:
        raise DecorasError(f"band {band}: sefd_by_station names unknown stations {sorted(unknown)}", path)
    if "sefd_jy" in raw:
        base = np.full(len(names), float(raw["sefd_jy"]))
    elif "tsys_k" in raw:
        eta = float(raw.get("aperture_efficiency", 0.6))
        area = eta * math.pi * (diameters / 2.0) ** 2
        base = 2.0 * K_BOLTZMANN * float(raw["tsys_k"]) / area / JY
    else:
        raise DecorasError(f"band {band} gives neither sefd_jy nor tsys_k", path)
    out = [float(by_station.get(n, b)) for n, b in zip(names, base)]
    if not all(s > 0 and math.isfinite(s) for s in out):
        raise DecorasError(f"band {band}: every SEFD must be a positive number", path)
    return tuple(out)


def _positions(raw: dict, rows: list, path: Path | None) -> np.ndarray:
    frame = str(raw.get("frame", "itrf")).lower()
    if frame not in FRAMES:
        raise DecorasError(f"unknown frame {frame!r} (itrf or enu)", path)
    local = np.array([[float(r[1]), float(r[2]), float(r[3])] for r in rows])
    if frame == "itrf":
        radius = np.sqrt((local ** 2).sum(1))
        if np.any((radius < 6.3e6) | (radius > 6.45e6)):
            raise DecorasError("ITRF station positions must lie on the Earth's surface (6,300-6,450 km "
                               "from its centre): are they local east/north/up offsets (frame = 'enu')?", path)
        return local
    ref = _require(raw, "reference", path)
    return enu_to_itrf(local, float(ref[0]), float(ref[1]), float(ref[2]))


def enu_to_itrf(enu: np.ndarray, lon_deg: float, lat_deg: float, height_m: float) -> np.ndarray:
    """Local east/north/up offsets (metres) about a WGS84 point, to geocentric X, Y, Z."""
    ref = EarthLocation.from_geodetic(lon_deg * u.deg, lat_deg * u.deg, height_m * u.m)
    origin = np.array([ref.x.to_value(u.m), ref.y.to_value(u.m), ref.z.to_value(u.m)])
    lon, lat = math.radians(lon_deg), math.radians(lat_deg)
    east = np.array([-math.sin(lon), math.cos(lon), 0.0])
    north = np.array([-math.sin(lat) * math.cos(lon), -math.sin(lat) * math.sin(lon), math.cos(lat)])
    up = np.array([math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)])
    return origin + enu[:, :1] * east + enu[:, 1:2] * north + enu[:, 2:3] * up


def instrument_from_dict(raw: dict, path: Path | None = None) -> Instrument:
    """An :class:`Instrument` from a parsed file; every problem is a DecorasError naming ``path``."""
    try:
        name = str(_require(raw, "name", path))
        rows = _require(raw, "stations", path)
        if not isinstance(rows, list) or len(rows) < 2 or any(len(r) != 5 for r in rows):
            raise DecorasError("stations must be at least two rows of [name, x, y, z, diameter]", path)
        names = tuple(str(r[0]) for r in rows)
        if len(set(names)) != len(names):
            raise DecorasError("station names must be unique", path)
        diameters = np.array([float(r[4]) for r in rows])
        if np.any(diameters <= 0):
            raise DecorasError("station diameters must be positive", path)
        xyz = _positions(raw, rows, path)
        bands = {}
        for key, b in _require(raw, "bands", path).items():
            widths = tuple(float(w) for w in b.get("bandwidths_hz", [b.get("bandwidth_hz", 0.1 * b["centre_hz"])]))
            span = tuple(float(f) for f in b.get("range_hz", (0.0, 0.0)))
            if len(span) != 2 or span[0] > span[1]:
                raise DecorasError(f"band {key}: range_hz must be [low, high]", path)
            bands[key] = Band(key, float(b["centre_hz"]), widths, float(b.get("jitter_hz", 0.0)),
                              _sefds(b, names, diameters, path, key), span)
        if not bands:
            raise DecorasError("the instrument has no bands", path)
        schedules = {}
        for key, s in raw.get("schedules", {}).items():
            if key == "random":
                raise DecorasError("'random' is the simulator's own schedule: name it otherwise", path)
            band = str(s.get("band", next(iter(bands))))
            if band not in bands:
                raise DecorasError(f"schedule {key} names an unknown band {band!r}", path)
            starts, lengths = tuple(map(float, s["scan_ha_h"])), tuple(map(float, s["scan_len_min"]))
            if len(starts) != len(lengths) or not starts:
                raise DecorasError(f"schedule {key}: scan_ha_h and scan_len_min must be equally long", path)
            schedules[key] = ScheduleSpec(key, band, starts, lengths, int(s.get("nchan", 1)),
                                          float(s.get("bandwidth_hz", bands[band].bandwidths_hz[0])),
                                          float(s.get("integration_s", 10.0)))
        lon = raw.get("reference_longitude_deg")
        if lon is None:
            loc = EarthLocation.from_geocentric(*xyz.mean(0), unit=u.m)
            lon = round(float(loc.to_geodetic().lon.to_value(u.deg)), 1)
        return Instrument(
            name=name, full_name=str(raw.get("full_name", name)), array=str(raw.get("array", "connected")),
            telescop=str(raw.get("telescop", name)), station_names=names, xyz=xyz, diameters_m=diameters,
            reference_longitude_deg=float(lon), elevation_limit_deg=float(raw.get("elevation_limit_deg", 10.0)),
            quantisation_efficiency=float(raw.get("quantisation_efficiency", 0.88)), bands=bands,
            schedules=schedules, source=path)
    except DecorasError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise DecorasError(f"the instrument file is malformed ({type(exc).__name__}: {exc})", path) from None


def read_instrument(path: str | os.PathLike) -> Instrument:
    """Read one instrument file (TOML)."""
    return instrument_from_dict(read_toml(path, "instrument file"), Path(path))


def _files() -> dict[str, Path]:
    """Instrument name (upper case) -> file: the user's, then the bundled ones (which win)."""
    found: dict[str, Path] = {}
    for folder in (user_instruments_dir(), BUNDLED_DIR):
        if folder.is_dir():
            for path in sorted(folder.glob("*.toml")):
                try:
                    raw = tomllib.loads(path.read_text(encoding="utf-8"))
                except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
                    continue
                if isinstance(raw.get("name"), str):
                    found[raw["name"].upper()] = path
    return found


def available_instruments() -> list[Instrument]:
    """Every instrument the simulator knows, bundled and added, by name (unreadable files left out)."""
    out = []
    for path in _files().values():
        try:
            out.append(read_instrument(path))
        except DecorasError:
            continue
    return sorted(out, key=lambda i: i.name)


def instrument_names() -> tuple[str, ...]:
    return tuple(sorted(i.name for i in available_instruments()))


@lru_cache(maxsize=32)
def _cached(path: str, mtime: float) -> Instrument:
    return read_instrument(path)


def get_instrument(name: str = DEFAULT_INSTRUMENT) -> Instrument:
    """The instrument called ``name`` (any case), or read from ``name`` when it is a .toml path."""
    if name.endswith(".toml"):
        path = Path(name)
    else:
        path = _files().get(name.upper())
        if path is None:
            raise DecorasError(f"unknown instrument {name!r}; known: {', '.join(instrument_names())} "
                               f"(add one with 'decoras instruments add FILE')")
    try:
        mtime = path.stat().st_mtime
    except OSError:
        raise DecorasError("no such instrument file", path) from None
    return _cached(str(path), mtime)


def instrument_from_cfg(path: str | os.PathLike, name: str, band: dict) -> dict:
    """An instrument (as a TOML-ready dict) from a CASA antenna configuration file: rows
    ``x y z diam [name]``, ``# coordsys=XYZ`` (geocentric) or ``LOC`` (local east/north/up
    about ``# COFA=lon,lat`` or the ``reference`` given in ``band``), ``# observatory=``.
    ``band``: ``{"name", "centre_hz", "sefd_jy" or "tsys_k" ...}``."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DecorasError("no such station file", path) from None
    except UnicodeDecodeError:
        raise DecorasError("the station file is not text", path) from None
    meta, rows = {}, []
    for line in lines:
        s = line.strip()
        if not s:
            continue
        if s.startswith("#"):
            if "=" in s:
                k, v = s.lstrip("#").split("=", 1)
                meta[k.strip().lower()] = v.strip()
            continue
        parts = s.split()
        try:
            x, y, z, d = (float(p) for p in parts[:4])
        except ValueError:
            raise DecorasError(f"cannot read station row {s!r} (expected x y z diameter [name])", path) from None
        rows.append([parts[4] if len(parts) > 4 else f"A{len(rows):02d}", x, y, z, d])
    if len(rows) < 2:
        raise DecorasError("the station file holds fewer than two stations", path)
    raw: dict = {"name": name, "full_name": meta.get("observatory", name), "telescop": meta.get("observatory", name),
                 "stations": rows}
    coordsys = meta.get("coordsys", "XYZ").upper()
    if coordsys.startswith("LOC"):
        ref = band.get("reference")
        if ref is None and "cofa" in meta:
            lon, lat = (float(v) for v in meta["cofa"].split(","))
            ref = [lon, lat, 0.0]
        if ref is None:
            raise DecorasError("the station file is in local coordinates (coordsys=LOC) but gives no COFA: "
                               "say where the array is (--reference LON,LAT,HEIGHT)", path)
        raw.update(frame="enu", reference=list(ref))
    elif coordsys.startswith("XYZ"):
        raw["frame"] = "itrf"
    else:
        raise DecorasError(f"unsupported coordsys {coordsys!r} (XYZ or LOC)", path)
    b = {k: v for k, v in band.items() if k not in ("name", "reference")}
    raw["bands"] = {band.get("name", "band"): b}
    return raw


def bundled_names() -> set[str]:
    """Names (upper case) of the bundled instruments, which a user's file cannot take."""
    names = set()
    for path in BUNDLED_DIR.glob("*.toml"):
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        names.add(str(raw.get("name", "")).upper())
    return names


def add_instrument(path: str | os.PathLike, *, name: str | None = None, band: dict | None = None,
                   replace_existing: bool = False) -> Path:
    """Check an instrument file (TOML) or a CASA antenna configuration (``.cfg``, with ``name``
    and ``band``) and write it to :func:`user_instruments_dir`; returns the file written."""
    import tomli_w

    path = Path(path)
    if path.suffix.lower() == ".toml":
        raw = read_toml(path, "instrument file")
        if name:
            raw["name"] = name
    else:
        if not name or not band:
            raise DecorasError("a station file needs a name and a band (--name, --band-centre with --sefd or "
                               "--tsys)", path)
        raw = instrument_from_cfg(path, name, band)
    inst = instrument_from_dict(raw, path)  # every check, before anything is written
    if inst.name.upper() in bundled_names():
        raise DecorasError(f"{inst.name} is a bundled instrument: give yours another name (--name)", path)
    folder = user_instruments_dir()
    target = folder / f"{inst.name.lower().replace(' ', '-')}.toml"
    if target.exists() and not replace_existing:
        raise DecorasError(f"an instrument {inst.name} was added before (--replace to overwrite it)", target)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        header = f"# added by decoras instruments add from {path.name}\n"
        target.write_text(header + tomli_w.dumps(raw), encoding="utf-8")
    except OSError as exc:
        raise DecorasError(f"cannot write the instrument file: {exc.strerror}", target) from None
    return target
