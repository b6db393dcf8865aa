"""The VLBA: station positions, observing schedules and (u, v, w) tracks.

Hour angles in a :class:`Schedule` are hour angles of the pointing at the array's
reference meridian (``REF_LONGITUDE``, near Pie Town / Los Alamos); each station's
own hour angle follows from its longitude.  ``Schedule.from_times`` converts UTC
timestamps into such hour angles with astropy sidereal time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import astropy.units as u
import numpy as np
from astropy.coordinates import EarthLocation, Longitude
from astropy.time import Time

from ..core.errors import DecorasError
from .schedule_names import SCHEDULE_NAMES

C_LIGHT = 299_792_458.0  # m/s
OMEGA_EARTH = 7.2921159e-5  # rad/s, the Earth's sidereal rotation rate

#: Geocentric ITRF positions (metres) of the ten VLBA antennas (VLBA station list / ITRF2008).
STATIONS: dict[str, tuple[float, float, float]] = {
    "BR": (-2112065.2, -3705356.5, 4726813.7),
    "FD": (-1324009.3, -5332181.9, 3231962.4),
    "HN": (1446374.9, -4447939.7, 4322306.2),
    "KP": (-1995678.8, -5037317.7, 3357328.0),
    "LA": (-1449752.6, -4975298.6, 3709123.8),
    "MK": (-5464075.2, -2495248.1, 2148297.4),
    "NL": (-130872.5, -4762317.1, 4226851.0),
    "OV": (-2409150.4, -4478573.1, 3838617.3),
    "PT": (-1640953.9, -5014816.0, 3575411.8),
    "SC": (2607848.6, -5488069.6, 1932739.6),
}
NAMES: tuple[str, ...] = tuple(STATIONS)
REF_LONGITUDE = -107.0  # deg east: the array's reference meridian for schedule hour angles
ELEVATION_LIMIT = 10.0  # deg
#: L-band system equivalent flux density of a VLBA antenna (Jy) and 2-bit quantisation efficiency.
SEFD_L = 289.0
ETA_Q = 0.88


@lru_cache(maxsize=1)
def station_xyz() -> np.ndarray:
    """(10, 3) ITRF XYZ in metres, in the order of ``NAMES``."""
    return np.array([STATIONS[n] for n in NAMES], dtype=float)


@lru_cache(maxsize=1)
def station_geodetic() -> tuple[np.ndarray, np.ndarray]:
    """Geodetic (longitude east, latitude) in radians of each station (astropy WGS84)."""
    xyz = station_xyz()
    loc = EarthLocation.from_geocentric(xyz[:, 0], xyz[:, 1], xyz[:, 2], unit=u.m)
    geo = loc.to_geodetic()
    return np.asarray(geo.lon.to_value(u.rad)), np.asarray(geo.lat.to_value(u.rad))


@dataclass(frozen=True)
class Schedule:
    """Scans (start hour angle, length), time sampling, frequencies and stations used.

    ``scan_ha_h`` are the hour angles (hours, at ``REF_LONGITUDE``) of scan starts;
    ``scan_len_min`` their lengths in minutes; ``freqs_hz`` the frequencies sampled and
    ``integration_s`` the time step sampled: each sample stands for ``chan_width_hz`` x
    ``integration_s`` of data (its thermal noise).  With ``smearing`` the visibilities are
    averaged over the correlator's own channel width ``smear_width_hz`` and integration time
    ``smear_time_s`` (bandwidth and time smearing; 0: the sampled width / step), so a 64-channel
    12-hour track can be sampled coarsely and still smear as 64 channels of 2 s would.
    ``sefd_scale`` multiplies each station's SEFD (empty: all 1; in ``stations`` order).
    """

    name: str
    scan_ha_h: tuple[float, ...]
    scan_len_min: tuple[float, ...]
    freqs_hz: tuple[float, ...] = (1.4e9,)
    chan_width_hz: float = 16e6
    integration_s: float = 10.0
    stations: tuple[str, ...] = NAMES
    elevation_limit_deg: float = ELEVATION_LIMIT
    smearing: bool = False
    smear_width_hz: float = 0.0
    smear_time_s: float = 0.0
    sefd_scale: tuple[float, ...] = ()

    def hour_angles(self) -> tuple[np.ndarray, np.ndarray]:
        """Hour angles (rad, reference meridian) of every integration, and its scan index."""
        step_h = self.integration_s / 3600.0
        ha, scan = [], []
        for i, (h0, length) in enumerate(zip(self.scan_ha_h, self.scan_len_min)):
            n = max(1, int(round(length * 60.0 / self.integration_s)))
            ha.append(h0 + step_h * (np.arange(n) + 0.5))
            scan.append(np.full(n, i))
        # Sidereal hours -> radians (scan lengths are in solar time; the 0.3 % difference is ignored).
        return np.concatenate(ha) * (np.pi / 12.0), np.concatenate(scan)

    @staticmethod
    def from_times(name: str, starts: Time, len_min, ra_deg: float, **kw) -> "Schedule":
        """Schedule from UTC scan start times for a source at ``ra_deg`` (astropy sidereal time)."""
        lst = starts.sidereal_time("mean", longitude=REF_LONGITUDE * u.deg)
        ha = np.atleast_1d(Longitude(lst - ra_deg * u.deg, wrap_angle=180 * u.deg).to_value(u.hourangle))
        lengths = np.broadcast_to(np.asarray(len_min, float), ha.shape)
        return Schedule(name, tuple(float(h) for h in ha), tuple(float(x) for x in lengths), **kw)


def _band(centre: float, width: float, nchan: int) -> tuple[float, ...]:
    edges = centre - width / 2 + width / nchan * (np.arange(nchan) + 0.5)
    return tuple(float(f) for f in edges)


#: mJIVE-20 (Deller & Middelberg 2014) observed thousands of FIRST sources as VLBA filler-time
#: snapshots at 1.4 GHz, each target getting a few minutes split into short scans.  We model
#: this as three 2-minute scans at hour angles -0.75, 0 and +0.75 h (a 1.5 h spread), 10 s
#: integrations, four 16 MHz channels spanning 64 MHz around 1.4 GHz.
MJIVE20 = Schedule("mjive20", (-0.75, 0.0, 0.75), (2.0, 2.0, 2.0), _band(1.4e9, 64e6, 4))
#: A 10-hour track centred on transit, 2-minute integrations, the same band.
FULL_TRACK = Schedule("full-track", (-5.0,), (600.0,), _band(1.4e9, 64e6, 4), integration_s=120.0)
PRESETS = {"mjive20": MJIVE20, "full-track": FULL_TRACK}


def random_schedule(rng: np.random.Generator) -> Schedule:
    """A random snapshot variation: 2-6 scans of 1-5 min over 0.5-4 h of hour angle,
    0-2 stations missing, 1-4 channels across a 32-128 MHz band near 1.4 GHz."""
    n_scans = int(rng.integers(2, 7))
    spread = rng.uniform(0.5, 4.0)
    centre = rng.uniform(-1.5, 1.5)
    starts = np.sort(centre + spread * (rng.random(n_scans) - 0.5))
    lengths = rng.uniform(1.0, 5.0, n_scans)
    missing = rng.choice(len(NAMES), size=int(rng.choice([0, 0, 1, 2])), replace=False)
    stations = tuple(n for i, n in enumerate(NAMES) if i not in set(missing.tolist()))
    nchan = int(rng.integers(1, 5))
    width = float(rng.choice([32e6, 64e6, 128e6]))
    return Schedule(
        "random", tuple(float(s) for s in starts), tuple(float(x) for x in lengths),
        _band(1.4e9 + rng.uniform(-20e6, 20e6), width, nchan), width / nchan, 10.0, stations,
    )


def get_schedule(name: str, rng: np.random.Generator | None = None) -> Schedule:
    """A preset by name, or a random variation (``'random'``, needs ``rng``)."""
    if name == "random":
        if rng is None:
            raise DecorasError("the random schedule needs a random generator")
        return random_schedule(rng)
    try:
        return PRESETS[name]
    except KeyError:
        raise DecorasError(f"unknown schedule {name!r}; choose one of {', '.join(SCHEDULE_NAMES)}") from None


@dataclass(frozen=True)
class UVTracks:
    """Visibility samples: (u, v, w) in wavelengths, one per baseline x integration x channel."""

    u: np.ndarray
    v: np.ndarray
    w: np.ndarray
    ant1: np.ndarray  # station index (into NAMES) of each sample
    ant2: np.ndarray
    scan: np.ndarray
    freq: np.ndarray  # Hz
    sigma: np.ndarray  # thermal noise (Jy) on each of the real and imaginary parts
    # smearing (None without): change of (u, v) over one correlator integration (wavelengths),
    # and the correlator channel width over the frequency
    smear_du: np.ndarray | None = None
    smear_dv: np.ndarray | None = None
    smear_bw: np.ndarray | None = None


def uvw_tracks(schedule: Schedule, dec_deg: float) -> UVTracks:
    """(u, v, w) tracks for a pointing at declination ``dec_deg`` (TMS eq. 4.1, ITRF baselines).

    A station below ``schedule.elevation_limit_deg`` contributes no baselines at that time.
    The thermal noise per sample follows the radiometer equation for Stokes I with the
    VLBA L-band SEFD.
    """
    if not -90.0 <= dec_deg <= 90.0:
        raise DecorasError(f"declination {dec_deg} deg is outside -90..90")
    idx = np.array([NAMES.index(s) for s in schedule.stations])
    xyz = station_xyz()[idx]
    lon, lat = (a[idx] for a in station_geodetic())
    ha_ref, scan = schedule.hour_angles()
    gha = ha_ref - np.deg2rad(REF_LONGITUDE)  # Greenwich hour angle of the source
    dec = np.deg2rad(dec_deg)
    lha = gha[:, None] + lon[None, :]  # (T, A) local hour angles
    sin_el = np.sin(lat) * np.sin(dec) + np.cos(lat) * np.cos(dec) * np.cos(lha)
    up = sin_el > np.sin(np.deg2rad(schedule.elevation_limit_deg))
    i, j = np.triu_indices(len(idx), k=1)
    b = xyz[j] - xyz[i]  # (B, 3) baseline vectors
    sh, ch = np.sin(gha)[:, None], np.cos(gha)[:, None]
    sd, cd = np.sin(dec), np.cos(dec)
    bx, by, bz = b[:, 0][None], b[:, 1][None], b[:, 2][None]
    um = sh * bx + ch * by
    vm = -sd * ch * bx + sd * sh * by + cd * bz
    wm = cd * ch * bx - cd * sh * by + sd * bz
    ok = up[:, i] & up[:, j]  # (T, B)
    t_idx, b_idx = np.nonzero(ok)
    lam = C_LIGHT / np.asarray(schedule.freqs_hz)  # (F,)
    nf = lam.size

    def per_chan(a: np.ndarray) -> np.ndarray:
        return (a[t_idx, b_idx][None, :] / lam[:, None]).ravel()

    sigma = SEFD_L / (ETA_Q * np.sqrt(2.0 * schedule.chan_width_hz * schedule.integration_s)) / np.sqrt(2.0)
    n = t_idx.size
    if schedule.sefd_scale:
        scale = np.asarray(schedule.sefd_scale, float)
        if scale.size != len(idx):
            raise DecorasError("sefd_scale needs one factor per station of the schedule")
        sig = np.tile(sigma * np.sqrt(scale[i[b_idx]] * scale[j[b_idx]]), nf)
    else:
        sig = np.full(n * nf, sigma)
    smear = {}
    if schedule.smearing:
        # d(u, v)/dt from TMS eq. 4.1: du/dH = cos H bx - sin H by, dv/dH = sin(dec) u
        t_int = schedule.smear_time_s or schedule.integration_s
        dh = OMEGA_EARTH * t_int
        dum = ch * bx - sh * by
        smear = {"smear_du": per_chan(dum * dh), "smear_dv": per_chan(sd * um * dh),
                 "smear_bw": np.repeat((schedule.smear_width_hz or schedule.chan_width_hz)
                                       / np.asarray(schedule.freqs_hz), n)}
    return UVTracks(
        u=per_chan(um), v=per_chan(vm), w=per_chan(wm),
        ant1=np.tile(idx[i[b_idx]], nf), ant2=np.tile(idx[j[b_idx]], nf),
        scan=np.tile(scan[t_idx], nf), freq=np.repeat(np.asarray(schedule.freqs_hz), n),
        sigma=sig, **smear,
    )


def with_stations(schedule: Schedule, stations: tuple[str, ...]) -> Schedule:
    """A copy of ``schedule`` using only ``stations``."""
    bad = set(stations) - set(NAMES)
    if bad:
        raise DecorasError(f"unknown VLBA stations: {', '.join(sorted(bad))}")
    return replace(schedule, stations=tuple(stations))
