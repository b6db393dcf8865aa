"""Arrays, observing schedules and (u, v, w) tracks.

The stations, bands and sensitivities come from an instrument file
(:mod:`decoras_gui.sim.instrument`); the VLBA is the default. Hour angles in a
:class:`Schedule` are hour angles of the pointing at the instrument's reference meridian
(``reference_longitude_deg``; for the VLBA -107 deg, near Pie Town / Los Alamos); each
station's own hour angle follows from its longitude. ``Schedule.from_times`` converts UTC
timestamps into such hour angles with astropy sidereal time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import astropy.units as u
import numpy as np
from astropy.coordinates import Longitude
from astropy.time import Time

from ..core.errors import DecorasError
from .instrument import DEFAULT_INSTRUMENT, Instrument, get_instrument

C_LIGHT = 299_792_458.0  # m/s
OMEGA_EARTH = 7.2921159e-5  # rad/s, the Earth's sidereal rotation rate
ELEVATION_LIMIT = 10.0  # deg: the VLBA's, the default of a Schedule

_VLBA = get_instrument(DEFAULT_INSTRUMENT)
#: The VLBA's stations (from its instrument file), the default of a Schedule.
NAMES: tuple[str, ...] = _VLBA.station_names
REF_LONGITUDE = _VLBA.reference_longitude_deg
#: L-band system equivalent flux density of a VLBA antenna (Jy) and 2-bit quantisation efficiency.
SEFD_L = _VLBA.band("L").sefd_jy[0]
ETA_Q = _VLBA.quantisation_efficiency


def station_xyz(instrument: str = DEFAULT_INSTRUMENT) -> np.ndarray:
    """(N, 3) ITRF XYZ in metres of the instrument's stations, in its order."""
    return get_instrument(instrument).xyz


def station_geodetic(instrument: str = DEFAULT_INSTRUMENT) -> tuple[np.ndarray, np.ndarray]:
    """Geodetic (longitude east, latitude) in radians of each station (astropy WGS84)."""
    return get_instrument(instrument).geodetic


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
    ``instrument`` names the array (:func:`~.instrument.get_instrument`) whose ``stations`` these are.
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
    instrument: str = DEFAULT_INSTRUMENT

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
        ref = get_instrument(kw.get("instrument", DEFAULT_INSTRUMENT)).reference_longitude_deg
        lst = starts.sidereal_time("mean", longitude=ref * u.deg)
        ha = np.atleast_1d(Longitude(lst - ra_deg * u.deg, wrap_angle=180 * u.deg).to_value(u.hourangle))
        lengths = np.broadcast_to(np.asarray(len_min, float), ha.shape)
        return Schedule(name, tuple(float(h) for h in ha), tuple(float(x) for x in lengths), **kw)


def _band(centre: float, width: float, nchan: int) -> tuple[float, ...]:
    edges = centre - width / 2 + width / nchan * (np.arange(nchan) + 0.5)
    return tuple(float(f) for f in edges)


def preset(spec_name: str, instrument: Instrument | str = DEFAULT_INSTRUMENT) -> Schedule:
    """The instrument's named schedule (its file's ``[schedules.NAME]``) as a :class:`Schedule`."""
    inst = get_instrument(instrument) if isinstance(instrument, str) else instrument
    try:
        spec = inst.schedules[spec_name]
    except KeyError:
        names = ", ".join(schedule_names(inst))
        raise DecorasError(f"unknown {inst.name} schedule {spec_name!r}; choose one of {names}", inst.source) from None
    band = inst.bands[spec.band]
    return Schedule(spec.name, spec.scan_ha_h, spec.scan_len_min, _band(band.centre_hz, spec.bandwidth_hz, spec.nchan),
                    spec.bandwidth_hz / spec.nchan, spec.integration_s, inst.station_names,
                    inst.elevation_limit_deg, instrument=inst.name)


def schedule_names(instrument: Instrument | str = DEFAULT_INSTRUMENT) -> tuple[str, ...]:
    """The instrument's named schedules, and 'random'."""
    inst = get_instrument(instrument) if isinstance(instrument, str) else instrument
    return (*inst.schedules, "random")


#: mJIVE-20 (Deller & Middelberg 2014) VLBA snapshots and a 10-hour track (vlba.toml).
MJIVE20 = preset("mjive20")
FULL_TRACK = preset("full-track")


def random_schedule(rng: np.random.Generator, instrument: Instrument | str = DEFAULT_INSTRUMENT,
                    band: str | None = None) -> Schedule:
    """A random snapshot variation: 2-6 scans of 1-5 min over 0.5-4 h of hour angle,
    0-2 stations missing, 1-4 channels across one of the band's bandwidths, its centre moved by
    up to its jitter (VLBA L band: 32-128 MHz near 1.4 GHz)."""
    inst = get_instrument(instrument) if isinstance(instrument, str) else instrument
    rx = inst.band(band)
    names = inst.station_names
    n_scans = int(rng.integers(2, 7))
    spread = rng.uniform(0.5, 4.0)
    centre = rng.uniform(-1.5, 1.5)
    starts = np.sort(centre + spread * (rng.random(n_scans) - 0.5))
    lengths = rng.uniform(1.0, 5.0, n_scans)
    missing = rng.choice(len(names), size=int(rng.choice([0, 0, 1, 2])), replace=False)
    stations = tuple(n for i, n in enumerate(names) if i not in set(missing.tolist()))
    nchan = int(rng.integers(1, 5))
    width = float(rng.choice(list(rx.bandwidths_hz)))
    return Schedule(
        "random", tuple(float(s) for s in starts), tuple(float(x) for x in lengths),
        _band(rx.centre_hz + rng.uniform(-rx.jitter_hz, rx.jitter_hz), width, nchan), width / nchan, 10.0, stations,
        inst.elevation_limit_deg, instrument=inst.name,
    )


def get_schedule(name: str, rng: np.random.Generator | None = None, instrument: str = DEFAULT_INSTRUMENT,
                 band: str | None = None) -> Schedule:
    """The instrument's schedule by name, or a random variation (``'random'``, needs ``rng``)."""
    if name == "random":
        if rng is None:
            raise DecorasError("the random schedule needs a random generator")
        return random_schedule(rng, instrument, band)
    return preset(name, instrument)


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
    # hour angle (rad, at the instrument's reference longitude) of each sample: its time
    ha: np.ndarray | None = None


def uvw_tracks(schedule: Schedule, dec_deg: float) -> UVTracks:
    """(u, v, w) tracks for a pointing at declination ``dec_deg`` (TMS eq. 4.1, ITRF baselines).

    A station below ``schedule.elevation_limit_deg`` contributes no baselines at that time.
    The thermal noise per sample follows the radiometer equation for Stokes I with each
    station's SEFD in the instrument's band nearest the schedule's frequencies.
    """
    if not -90.0 <= dec_deg <= 90.0:
        raise DecorasError(f"declination {dec_deg} deg is outside -90..90")
    inst = get_instrument(schedule.instrument)
    idx = inst.station_index(schedule.stations)
    xyz = inst.xyz[idx]
    lon, lat = (a[idx] for a in inst.geodetic)
    ha_ref, scan = schedule.hour_angles()
    gha = ha_ref - np.deg2rad(inst.reference_longitude_deg)  # Greenwich hour angle of the source
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

    sefd = np.asarray(inst.band_at(float(np.mean(schedule.freqs_hz))).sefd_jy, float)[idx]
    same = bool(np.all(sefd == sefd[0]))
    ref = float(sefd[0]) if same else 1.0  # one SEFD for all: as a scalar (the per-baseline factors are then 1)
    sigma = ref / (inst.quantisation_efficiency * np.sqrt(2.0 * schedule.chan_width_hz * schedule.integration_s))
    sigma /= np.sqrt(2.0)
    n = t_idx.size
    rel = np.ones(len(idx)) if same else sefd
    if schedule.sefd_scale:
        scale = np.asarray(schedule.sefd_scale, float)
        if scale.size != len(idx):
            raise DecorasError("sefd_scale needs one factor per station of the schedule")
        rel = rel * scale
    if schedule.sefd_scale or not same:
        sig = np.tile(sigma * np.sqrt(rel[i[b_idx]] * rel[j[b_idx]]), nf)
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
        sigma=sig, ha=np.tile(ha_ref[t_idx], nf), **smear,
    )


def with_stations(schedule: Schedule, stations: tuple[str, ...]) -> Schedule:
    """A copy of ``schedule`` using only ``stations`` (of its instrument)."""
    get_instrument(schedule.instrument).station_index(tuple(stations))
    return replace(schedule, stations=tuple(stations))
