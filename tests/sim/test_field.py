"""Whole fields: determinism, truth catalogue, FITS output and the simulate entry point."""

import hashlib

import astropy.units as u
import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from decoras_gui.core.errors import DecorasError
from decoras_gui.sim import SimConfig, run_simulate, simulate_field, simulate_sky
from decoras_gui.sim.sky import SkyModel

SMALL = SimConfig(size=128, dec_deg=30.0, max_sources=4, empty_fraction=0.0)


def test_same_seed_same_field_different_seed_different_field():
    a, b, c = simulate_field(11, SMALL), simulate_field(11, SMALL), simulate_field(12, SMALL)
    np.testing.assert_array_equal(a.dirty, b.dirty)
    np.testing.assert_array_equal(a.restored, b.restored)
    assert not np.array_equal(a.dirty, c.dirty)
    assert simulate_field((3, 1), SMALL).ra_deg != simulate_field((3, 2), SMALL).ra_deg
    rnd = SimConfig(size=128, schedule="random")
    np.testing.assert_array_equal(simulate_field(5, rnd).beam_image, simulate_field(5, rnd).beam_image)
    assert simulate_field(5, rnd).schedule != simulate_field(6, rnd).schedule


def test_field_products_are_consistent():
    f = simulate_field(4, SMALL)
    t = f.truth
    assert f.dirty.dtype == np.float32 and f.dirty.shape == (128, 128) == f.mask.shape == f.restored.shape
    assert len(t) >= 1 and t["ra"].unit == u.deg and t["maj"].unit == u.mas and t["peak_flux"].unit == u.Jy / u.beam
    assert set(t.colnames) >= {"ra", "dec", "x", "y", "peak_flux", "total_flux", "maj", "min", "pa", "kind",
                               "group", "snr", "r_eff", "separable"}
    px, py = f.wcs.world_to_pixel_values(t["ra"], t["dec"])
    np.testing.assert_allclose(px, t["x"], atol=1e-6)
    np.testing.assert_allclose(py, t["y"], atol=1e-6)
    np.testing.assert_allclose(t["snr"], t["peak_flux"] / f.rms)
    thermal = np.asarray(t["snr_thermal"])
    assert np.all((thermal > 3.0 - 1e-9) | (~t["separable"]) | (t["kind"] == "jet"))
    assert f.mask.any() and f.rms > 0.9 * f.rms_predicted
    xi, yi = np.rint(t["x"]).astype(int), np.rint(t["y"]).astype(int)
    assert f.mask[yi, xi].all()
    empty = simulate_field(1, SimConfig(size=128, dec_deg=30.0, empty_fraction=1.0))
    assert len(empty.truth) == 0 and not empty.mask.any() and not empty.restored.any()


def test_close_double_counts_as_one_source_wide_double_as_two():
    f0 = simulate_field(0, SMALL)
    beam = f0.beam
    along = float(beam.fwhm_along(90.0))  # an east-west pair: separation along PA 90
    for factor, separable in ((0.8, False), (2.0, True)):
        sep_pix = factor * along / SMALL.cell_mas
        x = np.array([64.0 + sep_pix / 2, 64.0 - sep_pix / 2])  # x runs west
        sky = SkyModel(x, np.array([64.0, 64.0]), np.array([0.01, 0.004]), np.zeros(2), np.zeros(2),
                       np.zeros(2), np.array(["double", "double"]), np.zeros(2, int), np.ones(2, bool))
        from decoras_gui.sim.sky import _mark_separability

        cols = {k: list(v) for k, v in zip(("x", "y", "flux", "maj", "min", "pa", "separable"),
                                           (sky.x, sky.y, sky.flux, sky.maj, sky.min, sky.pa, sky.separable))}
        _mark_separability(cols, beam, SMALL)
        assert cols["separable"] == [True, separable]


def test_random_fields_cover_the_advertised_variety():
    cfg = SimConfig(size=128, dec_deg=30.0, max_sources=6, empty_fraction=0.2)
    fields = [simulate_field(s, cfg) for s in range(30)]
    kinds = set().union(*(set(f.sky.kind) for f in fields))
    assert kinds == {"point", "gaussian", "double", "core", "jet"}
    assert any(len(f.sky) == 0 for f in fields)
    xy = np.concatenate([np.r_[f.sky.x, f.sky.y] for f in fields])
    assert xy.min() >= cfg.margin_pix and xy.max() < cfg.size - cfg.margin_pix
    snr = np.concatenate([f.peaks[f.sky.kind != "jet"] / f.rms_predicted for f in fields])
    assert snr.min() >= 3.0 - 1e-9 and snr.max() <= 200.0 + 1e-6 and np.median(snr) < 40
    decs = {simulate_field(s, SimConfig(size=64, max_sources=0)).dec_deg for s in range(20)}
    assert len(decs) > 5 and min(decs) >= -10 and max(decs) <= 70


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_run_simulate_is_deterministic_and_writes_valid_fits(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    done = []
    paths = run_simulate(2, 42, 64, a, progress=lambda i, n: done.append((i, n)))
    run_simulate(2, 42, 64, b)
    run_simulate(2, 43, 64, c)
    assert done == [(1, 2), (2, 2)]
    assert sorted(_digest(a)) == ["field_00000.fits", "field_00000_beam.fits", "field_00000_truth.ecsv",
                                  "field_00001.fits", "field_00001_beam.fits", "field_00001_truth.ecsv"]
    assert _digest(a) == _digest(b)
    assert _digest(a)["field_00000.fits"] != _digest(c)["field_00000.fits"]
    with fits.open(paths[0]) as hdul:
        h, data = hdul[0].header, hdul[0].data
        assert data.shape == (1, 1, 64, 64) and h["NAXIS"] == 4
        assert (h["CTYPE1"], h["CTYPE2"], h["CTYPE3"], h["CTYPE4"]) == ("RA---SIN", "DEC--SIN", "FREQ", "STOKES")
        assert h["BUNIT"] == "JY/BEAM" and h["TELESCOP"] == "VLBA" and h["CDELT1"] < 0 and h["EQUINOX"] == 2000.0
        assert 12 / 3.6e6 < h["BMAJ"] < 25 / 3.6e6 and "OBSRA" in h and "OBSDEC" in h
        assert any("DECORAS SIM" in str(x) for x in h["HISTORY"])
        w = WCS(h)
        assert w.has_celestial and w.celestial.world_axis_physical_types[:2] == ["pos.eq.ra", "pos.eq.dec"]
        beam = fits.getdata(a / "field_00000_beam.fits")
        assert beam[0, 0, 32, 32] == pytest.approx(1.0, rel=1e-5)
    t = Table.read(a / "field_00000_truth.ecsv")
    assert t["ra"].unit == u.deg and t["total_flux"].unit == u.Jy
    assert t.meta["schedule"] == "mjive20"
    with pytest.raises(DecorasError):
        run_simulate(1, 0, 64, tmp_path / "d", schedule="nope")
    with pytest.raises(DecorasError):
        SimConfig(size=63)


def test_core_image_reader_finds_the_beam(tmp_path):
    image = pytest.importorskip("decoras_gui.core.image")
    path = run_simulate(1, 9, 64, tmp_path)[0]
    sky = image.load_fits(path)
    assert sky.shape == (64, 64) and sky.beam is not None
    want = fits.getheader(path)
    assert sky.beam.major == pytest.approx(want["BMAJ"]) and sky.beam.minor == pytest.approx(want["BMIN"])
    np.testing.assert_allclose(sky.data, fits.getdata(path)[0, 0])


def test_simulate_sky_observes_given_sources():
    sky = SkyModel(np.array([50.0]), np.array([70.0]), np.array([0.05]), np.zeros(1), np.zeros(1), np.zeros(1),
                   np.array(["point"]), np.zeros(1, int), np.ones(1, bool))
    f = simulate_sky(sky, 1, SimConfig(size=128), dec_deg=45.0)
    y, x = np.unravel_index(np.argmax(f.dirty), f.dirty.shape)
    assert (abs(x - 50) <= 1) and (abs(y - 70) <= 1)
    # the measured rms of a dirty image includes the source's own sidelobes (~6 % of its peak)
    assert f.truth["snr_thermal"][0] == pytest.approx(0.05 / f.rms_predicted)
    assert 5 < f.truth["snr"][0] < f.truth["snr_thermal"][0]
