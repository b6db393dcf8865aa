"""VLBA geometry: station positions, (u, v, w) rotation, elevation limits, schedules."""

import numpy as np
import pytest

from decoras_gui.core.errors import DecorasError
from decoras_gui.sim.array import (
    C_LIGHT,
    FULL_TRACK,
    MJIVE20,
    NAMES,
    REF_LONGITUDE,
    get_schedule,
    station_geodetic,
    station_xyz,
    uvw_tracks,
    with_stations,
)


def test_stations_are_where_the_vlba_is():
    lon, lat = (np.rad2deg(a) for a in station_geodetic())
    where = dict(zip(NAMES, zip(lon, lat)))
    assert len(NAMES) == 10
    assert where["MK"] == pytest.approx((-155.455, 19.801), abs=0.01)
    assert where["SC"] == pytest.approx((-64.584, 17.757), abs=0.01)
    assert where["BR"] == pytest.approx((-119.683, 48.131), abs=0.01)
    assert where["HN"] == pytest.approx((-71.986, 42.934), abs=0.01)
    radius = np.linalg.norm(station_xyz(), axis=1)
    assert np.all((radius > 6.35e6) & (radius < 6.39e6))


def _source_vector(gha: np.ndarray, dec_deg: float) -> np.ndarray:
    d = np.deg2rad(dec_deg)
    return np.stack([np.cos(d) * np.cos(-gha), np.cos(d) * np.sin(-gha), np.full_like(gha, np.sin(d))], -1)


def test_uvw_is_a_rotation_of_the_baseline_with_w_towards_the_source():
    tr = uvw_tracks(MJIVE20, 35.0)
    xyz = station_xyz()
    lam = C_LIGHT / tr.freq
    b = xyz[tr.ant2] - xyz[tr.ant1]
    uvw = np.stack([tr.u, tr.v, tr.w], -1) * lam[:, None]
    np.testing.assert_allclose(np.linalg.norm(uvw, axis=1), np.linalg.norm(b, axis=1), rtol=1e-9)
    # w is the baseline projected on the source direction
    ha, scan = MJIVE20.hour_angles()
    gha = ha - np.deg2rad(REF_LONGITUDE)
    # samples are ordered (channel, time, baseline): recover the time of each via its w
    s_all = _source_vector(gha, 35.0)
    w_all = b @ s_all.T  # (n, T)
    assert np.all(np.min(np.abs(w_all - uvw[:, 2:3]), axis=1) < 1e-3)
    # the longest VLBA baseline (MK-SC) is about 8600 km
    assert np.max(tr.u * lam) < 8.7e6 and np.max(np.hypot(tr.u, tr.v) * lam) > 5e6


def test_stations_below_the_elevation_limit_give_no_baselines():
    dec = -10.0
    sched = FULL_TRACK
    tr = uvw_tracks(sched, dec)
    xyz = station_xyz()
    lon, lat = station_geodetic()
    up_vec = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], -1)
    lam = C_LIGHT / tr.freq
    b = xyz[tr.ant2] - xyz[tr.ant1]
    # recover each sample's hour angle from its (u, v) rotation: u = sin H bx + cos H by
    ha, _ = sched.hour_angles()
    gha = ha - np.deg2rad(REF_LONGITUDE)
    cand = np.sin(gha)[None] * b[:, :1] + np.cos(gha)[None] * b[:, 1:2]
    t_idx = np.argmin(np.abs(cand - (tr.u * lam)[:, None]), axis=1)
    s = _source_vector(gha[t_idx], dec)
    el1 = np.rad2deg(np.arcsin(np.sum(up_vec[tr.ant1] * s, 1)))
    el2 = np.rad2deg(np.arcsin(np.sum(up_vec[tr.ant2] * s, 1)))
    assert el1.min() > 10.0 - 0.01 and el2.min() > 10.0 - 0.01
    # ...and a 10-hour track at dec -10 really loses baselines to the limit
    assert tr.u.size < 45 * ha.size * len(sched.freqs_hz)


def test_schedules():
    snap, full = uvw_tracks(MJIVE20, 30.0), uvw_tracks(FULL_TRACK, 30.0)
    assert full.u.size > 3 * snap.u.size
    r1, r2 = (get_schedule("random", np.random.default_rng(s)) for s in (1, 2))
    assert r1 != r2 and r1 == get_schedule("random", np.random.default_rng(1))
    rs = [get_schedule("random", np.random.default_rng(s)) for s in range(40)]
    assert any(len(r.stations) < 10 for r in rs) and any(len(r.freqs_hz) > 1 for r in rs)
    few = uvw_tracks(with_stations(MJIVE20, ("BR", "FD", "KP", "LA")), 30.0)
    assert set(np.unique(np.concatenate([few.ant1, few.ant2]))) <= {NAMES.index(n) for n in ("BR", "FD", "KP", "LA")}
    with pytest.raises(DecorasError):
        get_schedule("nonsense")
    with pytest.raises(DecorasError):
        with_stations(MJIVE20, ("XX",))


def test_schedule_from_times_matches_astropy_altaz():
    import astropy.units as u
    from astropy.coordinates import AltAz, EarthLocation, SkyCoord
    from astropy.time import Time
    from astropy.utils import iers

    from decoras_gui.sim.array import Schedule

    with iers.conf.set_temp("auto_download", False):
        t = Time("2015-03-01T06:00:00", scale="utc") + np.array([0.0, 2.0]) * u.hour
        sched = Schedule.from_times("obs", t, 2.0, 150.0)
        assert sched.scan_len_min == (2.0, 2.0)
        i = NAMES.index("MK")
        lon, lat = station_geodetic()
        loc = EarthLocation.from_geocentric(*station_xyz()[i], unit=u.m)
        alt = SkyCoord(150 * u.deg, 20 * u.deg, frame="fk5").transform_to(AltAz(obstime=t, location=loc)).alt.deg
    ha = np.deg2rad(np.array(sched.scan_ha_h) * 15.0 - REF_LONGITUDE) + lon[i]
    d = np.deg2rad(20.0)
    el = np.rad2deg(np.arcsin(np.sin(lat[i]) * np.sin(d) + np.cos(lat[i]) * np.cos(d) * np.cos(ha)))
    np.testing.assert_allclose(el, alt, atol=0.5)  # precession since J2000 ignored
