"""Simulated observations as Measurement Sets (python-casacore), for imagers such as WSClean.

:func:`write_ms` writes one row per baseline and integration of ``uvw_tracks(schedule, dec)``
with every sampled frequency as a channel: ANTENNA (every station of the instrument, ITRF
positions), SPECTRAL_WINDOW, POLARIZATION (XX, YY: Stokes I is their mean), DATA_DESCRIPTION,
FIELD (the pointing, J2000) and OBSERVATION, UVW in metres (MS convention: POSITION2 -
POSITION1, J2000), TIME from the hour angles (the UTC at which the pointing has that local
hour angle, on a fixed date), and natural weights 1 / sigma^2. DATA starts as zeros; fill it
with :func:`put_stokes_i` (after an imager has predicted the sky into MODEL_DATA, say).

python-casacore is an optional dependency (``pip install python-casacore``, in the bench extra);
without it these functions raise a DecorasError saying so.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from ..core.errors import DecorasError
from .array import C_LIGHT, Schedule, UVTracks
from .instrument import get_instrument

#: CASA's correlation type codes for the linear feeds of LOFAR (and most arrays' XX / YY)
CORR_XX, CORR_YY = 9, 12
SIDEREAL_PER_SOLAR = 1.002737909350795
#: the date the simulated observations are placed on (any will do: only the hour angles matter)
EPOCH = "2025-03-01T00:00:00"


def _tables():
    try:
        import casacore.tables as ct
    except ImportError:
        raise DecorasError("writing Measurement Sets needs python-casacore (pip install python-casacore)") from None
    return ct


def sample_times_mjd_s(ha_rad: np.ndarray, ra_deg: float, reference_longitude_deg: float) -> np.ndarray:
    """UTC (MJD seconds, as the MS TIME column) at which a source at ``ra_deg`` has hour angle
    ``ha_rad`` at ``reference_longitude_deg``, on the day of :data:`EPOCH` onwards."""
    import astropy.units as u
    from astropy.time import Time

    t0 = Time(EPOCH, scale="utc")
    lst0 = t0.sidereal_time("mean", longitude=reference_longitude_deg * u.deg).to_value(u.hourangle)
    ha_h = np.asarray(ha_rad, float) * 12.0 / np.pi
    first = float(ha_h.min())
    lead = ((ra_deg / 15.0 + first - lst0) % 24.0) / SIDEREAL_PER_SOLAR  # solar hours to the first sample
    return t0.mjd * 86400.0 + (lead + (ha_h - first) / SIDEREAL_PER_SOLAR) * 3600.0


def write_ms(path: str | Path, tracks: UVTracks, schedule: Schedule, dec_deg: float, ra_deg: float,
             source_name: str = "SIMULATED") -> Path:
    """Write ``tracks`` (from :func:`~.array.uvw_tracks` of ``schedule`` at ``dec_deg``) as an MS
    at ``path`` (replaced if it exists), pointing at (``ra_deg``, ``dec_deg``); returns the path."""
    ct = _tables()
    if tracks.ha is None:
        raise DecorasError("these uv tracks carry no sample times (made before uvw_tracks kept them)")
    path = Path(path)
    if path.exists():
        shutil.rmtree(path)
    inst = get_instrument(schedule.instrument)
    freqs = np.asarray(schedule.freqs_hz, float)
    nf = freqs.size
    n = tracks.u.size // nf  # rows: the samples of the first frequency, in order
    lam0 = C_LIGHT / freqs[0]
    uvw = np.stack([tracks.u[:n], tracks.v[:n], tracks.w[:n]], axis=1) * lam0
    sigma = tracks.sigma.reshape(nf, n).T  # (row, channel), per real/imaginary part of Stokes I
    times = sample_times_mjd_s(tracks.ha[:n], ra_deg, inst.reference_longitude_deg)

    desc = ct.maketabdesc([ct.makearrcoldesc("DATA", 0j, valuetype="complex", shape=[nf, 2]),
                           ct.makearrcoldesc("MODEL_DATA", 0j, valuetype="complex", shape=[nf, 2]),
                           ct.makearrcoldesc("WEIGHT_SPECTRUM", 0.0, valuetype="float", shape=[nf, 2])])
    ms = ct.default_ms(str(path), desc)
    try:
        ms.addrows(n)
        ms.putcol("UVW", uvw)
        ms.putcol("ANTENNA1", tracks.ant1[:n].astype(np.int32))
        ms.putcol("ANTENNA2", tracks.ant2[:n].astype(np.int32))
        ms.putcol("TIME", times)
        ms.putcol("TIME_CENTROID", times)
        ms.putcol("INTERVAL", np.full(n, schedule.integration_s))
        ms.putcol("EXPOSURE", np.full(n, schedule.integration_s))
        ms.putcol("SCAN_NUMBER", tracks.scan[:n].astype(np.int32) + 1)
        ms.putcol("DATA", np.zeros((n, nf, 2), np.complex64))
        ms.putcol("MODEL_DATA", np.zeros((n, nf, 2), np.complex64))
        ms.putcol("FLAG", np.zeros((n, nf, 2), bool))
        ms.putcol("FLAG_ROW", np.zeros(n, bool))
        # each of XX and YY carries the Stokes I value and noise: its weight is 1 / (2 sigma^2)
        w = (0.5 / sigma**2).astype(np.float32)
        ms.putcol("WEIGHT_SPECTRUM", np.repeat(w[:, :, None], 2, axis=2))
        ms.putcol("WEIGHT", np.repeat(w.mean(axis=1, keepdims=True), 2, axis=1))
        ms.putcol("SIGMA", np.repeat(np.sqrt(2.0) * sigma.mean(axis=1, keepdims=True), 2, axis=1))
        ms.putcolkeyword("UVW", "MEASINFO", {"type": "uvw", "Ref": "J2000"})
    finally:
        ms.close()
    _write_subtables(ct, path, inst, schedule, freqs, dec_deg, ra_deg, times, source_name)
    return path


def _write_subtables(ct, path: Path, inst, schedule: Schedule, freqs: np.ndarray, dec_deg: float, ra_deg: float,
                     times: np.ndarray, source_name: str) -> None:
    def open_sub(name: str):
        return ct.table(str(path / name), readonly=False, ack=False)

    with open_sub("ANTENNA") as t:
        k = len(inst.station_names)
        t.addrows(k)
        t.putcol("NAME", list(inst.station_names))
        t.putcol("STATION", list(inst.station_names))
        t.putcol("POSITION", np.asarray(inst.xyz, float))
        t.putcol("DISH_DIAMETER", np.asarray(inst.diameters_m, float))
        t.putcol("MOUNT", ["X-Y"] * k)
        t.putcol("TYPE", ["GROUND-BASED"] * k)
        t.putcol("OFFSET", np.zeros((k, 3)))
        t.putcol("FLAG_ROW", np.zeros(k, bool))
    width = float(schedule.chan_width_hz)
    with open_sub("SPECTRAL_WINDOW") as t:
        t.addrows(1)
        t.putcol("NUM_CHAN", np.array([freqs.size], np.int32))
        t.putcol("CHAN_FREQ", freqs[None, :])
        t.putcol("CHAN_WIDTH", np.full((1, freqs.size), width))
        t.putcol("EFFECTIVE_BW", np.full((1, freqs.size), width))
        t.putcol("RESOLUTION", np.full((1, freqs.size), width))
        t.putcol("REF_FREQUENCY", np.array([float(freqs.mean())]))
        t.putcol("TOTAL_BANDWIDTH", np.array([width * freqs.size]))
        t.putcol("MEAS_FREQ_REF", np.array([5], np.int32))  # TOPO
        t.putcol("NAME", [f"{inst.name} {freqs.mean() / 1e6:.1f} MHz"])
        t.putcol("NET_SIDEBAND", np.array([1], np.int32))
    with open_sub("POLARIZATION") as t:
        t.addrows(1)
        t.putcol("NUM_CORR", np.array([2], np.int32))
        t.putcol("CORR_TYPE", np.array([[CORR_XX, CORR_YY]], np.int32))
        t.putcol("CORR_PRODUCT", np.array([[[0, 0], [1, 1]]], np.int32))
        t.putcol("FLAG_ROW", np.zeros(1, bool))
    with open_sub("DATA_DESCRIPTION") as t:
        t.addrows(1)
        t.putcol("SPECTRAL_WINDOW_ID", np.array([0], np.int32))
        t.putcol("POLARIZATION_ID", np.array([0], np.int32))
        t.putcol("FLAG_ROW", np.zeros(1, bool))
    direction = np.deg2rad([[[ra_deg, dec_deg]]])
    with open_sub("FIELD") as t:
        t.addrows(1)
        for col in ("PHASE_DIR", "DELAY_DIR", "REFERENCE_DIR"):
            t.putcol(col, direction)
        t.putcol("NAME", [source_name])
        t.putcol("CODE", [""])
        t.putcol("NUM_POLY", np.array([0], np.int32))
        t.putcol("TIME", np.array([float(times.min())]))
        t.putcol("FLAG_ROW", np.zeros(1, bool))
    with open_sub("OBSERVATION") as t:
        t.addrows(1)
        t.putcol("TELESCOPE_NAME", [inst.telescop or inst.name])
        t.putcol("OBSERVER", ["decoras simulate"])
        t.putcol("TIME_RANGE", np.array([[float(times.min()), float(times.max())]]))
        t.putcol("FLAG_ROW", np.zeros(1, bool))


def read_stokes_i(path: str | Path, column: str = "DATA") -> np.ndarray:
    """Stokes I, (XX + YY) / 2, of ``column``: (rows, channels) complex."""
    ct = _tables()
    with ct.table(str(path), ack=False) as t:
        data = t.getcol(column)
    return 0.5 * (data[:, :, 0] + data[:, :, 1])


def put_stokes_i(path: str | Path, values: np.ndarray, column: str = "DATA") -> None:
    """Write Stokes I ``values`` (rows, channels) into XX and YY of ``column``."""
    ct = _tables()
    values = np.asarray(values, np.complex64)
    with ct.table(str(path), readonly=False, ack=False) as t:
        t.putcol(column, np.repeat(values[:, :, None], 2, axis=2))


def tracks_order(tracks: UVTracks, n_freqs: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, channel) of each sample of ``tracks``: samples run over rows, then channels."""
    n = tracks.u.size // n_freqs
    k = np.arange(tracks.u.size)
    return k % n, k // n
