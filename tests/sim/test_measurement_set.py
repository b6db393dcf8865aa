"""Simulated observations written as Measurement Sets, read back by casacore and by WSClean."""

from __future__ import annotations

import numpy as np
import pytest

from decoras_gui.sim.array import C_LIGHT, preset, uvw_tracks
from decoras_gui.sim.imaging import make_coverage
from decoras_gui.sim.instrument import get_instrument
from decoras_gui.sim.measurement_set import put_stokes_i, read_stokes_i, write_ms

ct = pytest.importorskip("casacore.tables")

DEC, RA = 52.0, 200.0


@pytest.fixture(scope="module")
def snapshot_ms(tmp_path_factory):
    schedule = preset("snapshot", "LOFAR-HBA")
    tracks = uvw_tracks(schedule, DEC)
    path = write_ms(tmp_path_factory.mktemp("ms") / "snap.ms", tracks, schedule, DEC, RA)
    return path, schedule, tracks


def test_rows_uvw_antennas_and_channels_are_the_tracks(snapshot_ms):
    path, schedule, tracks = snapshot_ms
    nf = len(schedule.freqs_hz)
    with ct.table(str(path), ack=False) as t:
        assert t.nrows() * nf == tracks.u.size
        uvw = t.getcol("UVW")
        lam = C_LIGHT / schedule.freqs_hz[0]
        n = t.nrows()
        assert np.allclose(uvw[:, 0], tracks.u[:n] * lam) and np.allclose(uvw[:, 2], tracks.w[:n] * lam)
        assert t.getcol("DATA").shape == (t.nrows(), nf, 2)
        a1, a2 = t.getcol("ANTENNA1"), t.getcol("ANTENNA2")
        assert np.all(a1 < a2)
        assert t.getcolkeyword("UVW", "MEASINFO")["Ref"] == "J2000"
    with ct.table(str(path / "ANTENNA"), ack=False) as t:
        inst = get_instrument("LOFAR-HBA")
        assert list(t.getcol("NAME")) == list(inst.station_names)
        assert np.allclose(t.getcol("POSITION"), inst.xyz)
        # UVW is POSITION2 - POSITION1 in the MS convention: the length of the first row's baseline
        pos = t.getcol("POSITION")
        assert np.linalg.norm(uvw[0]) == pytest.approx(np.linalg.norm(pos[a2[0]] - pos[a1[0]]), rel=1e-9)
    with ct.table(str(path / "SPECTRAL_WINDOW"), ack=False) as t:
        assert np.allclose(t.getcol("CHAN_FREQ")[0], schedule.freqs_hz)
    with ct.table(str(path / "FIELD"), ack=False) as t:
        assert np.allclose(np.rad2deg(t.getcol("PHASE_DIR")[0, 0]), [RA, DEC])


def test_times_give_the_pointing_its_hour_angles(snapshot_ms):
    import astropy.units as u
    from astropy.time import Time

    path, schedule, tracks = snapshot_ms
    with ct.table(str(path), ack=False) as t:
        times = t.getcol("TIME")
    first = Time(times[0] / 86400.0, format="mjd", scale="utc")
    lon = get_instrument("LOFAR-HBA").reference_longitude_deg
    lst = first.sidereal_time("mean", longitude=lon * u.deg).to_value(u.hourangle)
    ha = (lst - RA / 15.0 + 12.0) % 24.0 - 12.0
    assert ha == pytest.approx(float(tracks.ha[0]) * 12.0 / np.pi, abs=1e-3)
    assert np.all(np.diff(np.unique(times)) > 0)


def test_stokes_i_round_trips(snapshot_ms, tmp_path):
    path, schedule, tracks = snapshot_ms
    rng = np.random.default_rng(0)
    with ct.table(str(path), ack=False) as t:
        shape = (t.nrows(), len(schedule.freqs_hz))
    values = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    put_stokes_i(path, values, "MODEL_DATA")
    assert np.allclose(read_stokes_i(path, "MODEL_DATA"), values, atol=1e-6)


@pytest.mark.skipif(not __import__("shutil").which("wsclean"), reason="WSClean is not installed")
def test_wsclean_images_it_with_the_dirty_beam_the_simulator_computes(snapshot_ms, tmp_path):
    from decoras_gui.eval.wsclean import wsclean_image

    path, schedule, tracks = snapshot_ms
    cov = make_coverage(tracks, 128, 4000.0, 2, "uniform")
    psf = wsclean_image(path, tmp_path, "psf", 128, 4.0, ["-weight", "uniform"]).psf
    assert np.unravel_index(psf.argmax(), psf.shape) == (64, 64)
    assert np.sqrt(np.mean((psf - cov.beam_image) ** 2)) < 0.02  # two gridders, one beam
