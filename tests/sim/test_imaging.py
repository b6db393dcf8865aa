"""Visibilities, dirty images, noise and beams on real computed data."""

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.stats import sigma_clipped_stats
from photutils.centroids import centroid_2dg

from decoras_gui.sim.array import FULL_TRACK, MJIVE20, uvw_tracks
from decoras_gui.sim.config import SimConfig
from decoras_gui.sim.field import cached_coverage, simulate_sky
from decoras_gui.sim.imaging import (
    MAS,
    component_visibilities,
    dirty_image,
    fit_beam,
    make_coverage,
    model_visibilities,
    restored_components,
    thermal_noise,
)
from decoras_gui.sim.sky import SkyModel


def _sky(x, y, flux, maj=0.0, mn=0.0, pa=0.0, kind="point"):
    a = lambda v: np.atleast_1d(np.asarray(v, float))  # noqa: E731
    n = a(flux).size
    return SkyModel(a(x), a(y), a(flux), a(maj) * np.ones(n), a(mn) * np.ones(n), a(pa) * np.ones(n),
                    np.array([kind] * n), np.arange(n), np.ones(n, bool))


def test_gaussian_visibility_equals_the_transform_of_its_image():
    # a 12 x 5 mas Gaussian at PA 30, offset (7, -4) mas, sampled on a fine grid and DFT'd directly
    step = 0.25
    g = (np.arange(256) - 128) * step
    ll, mm = np.meshgrid(g, g)  # mas, l east / m north
    pa = np.deg2rad(30.0)
    d_l, d_m = ll - 7.0, mm + 4.0
    a_par = d_l * np.sin(pa) + d_m * np.cos(pa)
    a_perp = d_l * np.cos(pa) - d_m * np.sin(pa)
    sig = np.array([12.0, 5.0]) / (2 * np.sqrt(2 * np.log(2)))
    img = np.exp(-0.5 * ((a_par / sig[0]) ** 2 + (a_perp / sig[1]) ** 2))
    img *= 0.8 / img.sum()  # 0.8 Jy total
    rng = np.random.default_rng(0)
    uu, vv = rng.uniform(-4e7, 4e7, (2, 25))  # wavelengths, VLBA range at 1.4 GHz
    phase = -2j * np.pi * (uu[:, None] * (ll.ravel() * MAS)[None] + vv[:, None] * (mm.ravel() * MAS)[None])
    numeric = np.exp(phase) @ img.ravel()
    analytic = component_visibilities(uu, vv, [7.0 * MAS], [-4.0 * MAS], [0.8], [12.0], [5.0], [30.0])
    np.testing.assert_allclose(analytic, numeric, atol=2e-4 * 0.8)
    assert component_visibilities([0.0], [0.0], [0.0], [0.0], [0.8], [12.0], [5.0], [30.0])[0] == pytest.approx(0.8)


def test_point_at_phase_centre_peaks_at_its_flux():
    cfg = SimConfig(size=128, noise=False)
    f = simulate_sky(_sky(64, 64, 0.37), 0, cfg, dec_deg=30.0)
    assert np.unravel_index(np.argmax(f.dirty), f.dirty.shape) == (64, 64)
    assert f.dirty[64, 64] == pytest.approx(0.37, rel=0.01)
    assert f.beam_image[64, 64] == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(f.dirty, 0.37 * f.beam_image, atol=1e-6)


def test_offset_source_lands_where_the_wcs_says():
    cfg = SimConfig(size=128, noise=False)
    cov = cached_coverage(MJIVE20, 30.0, 128, 1.0, 2, "natural", 0.0)
    f = simulate_sky(_sky(64, 64, 0.0), 0, cfg, dec_deg=30.0, ra_deg=150.0)  # for the header / WCS
    centre = SkyCoord(150.0 * u.deg, 30.0 * u.deg, frame="fk5")
    for d_ra, d_dec in ((23.3, -17.6), (-31.7, 40.2), (5.5, 0.25)):
        target = centre.spherical_offsets_by(d_ra * u.mas, d_dec * u.mas)
        off = target.transform_to(centre.skyoffset_frame())
        a, b = off.lon.rad, off.lat.rad
        l, m = np.cos(b) * np.sin(a), np.sin(b)  # direction cosines, independently of the simulator
        dirty = dirty_image(cov, model_visibilities(cov, [l], [m], [1.0], [0.0], [0.0], [0.0]))
        px, py = f.wcs.world_to_pixel(target)
        y0, x0 = np.unravel_index(np.argmax(dirty), dirty.shape)
        h = 3
        cut = dirty[y0 - h:y0 + h + 1, x0 - h:x0 + h + 1]
        cx, cy = centroid_2dg(cut - cut.min())
        assert cx + x0 - h == pytest.approx(px, abs=0.1)
        assert cy + y0 - h == pytest.approx(py, abs=0.1)
        assert dirty.max() == pytest.approx(1.0, abs=0.03)  # sub-pixel: the peak pixel is near 1


def test_noise_rms_matches_prediction_and_is_correlated():
    cov = cached_coverage(MJIVE20, 30.0, 256, 1.0, 2, "natural", 0.0)
    # one snapshot field's rms scatters by ~3 % (few independent uv cells): average 4 fields
    ratios = []
    for seed in range(4):
        img = dirty_image(cov, thermal_noise(cov, np.random.default_rng(seed)))
        ratios.append(sigma_clipped_stats(img, sigma=3.0)[2] / cov.rms)
    assert np.mean(ratios) == pytest.approx(1.0, rel=0.05)
    assert np.all(np.abs(np.array(ratios) - 1.0) < 0.10)
    z = (img - img.mean()) / img.std()
    corr_x = np.mean(z[:, 1:] * z[:, :-1])
    corr_y = np.mean(z[1:, :] * z[:-1, :])
    assert corr_x > 0.5 and corr_y > 0.5  # beam minor axis ~5 pixels: not white noise
    far = np.mean(z[:, 40:] * z[:, :-40])
    assert abs(far) < 0.3


def test_restored_model_conserves_flux_and_masks_sources():
    cfg = SimConfig(size=128, noise=False)
    sky = _sky([40.3, 80.7], [50.2, 70.9], [0.02, 0.05], [0.0, 14.0], [0.0, 6.0], [0.0, 40.0],
               kind="gaussian")
    f = simulate_sky(sky, 0, cfg, dec_deg=30.0)
    beam_area_pix = f.beam.area_mas2 / cfg.cell_mas**2
    assert f.restored.sum() / beam_area_pix == pytest.approx(0.07, rel=0.01)
    assert f.restored.max() == pytest.approx(f.peaks.max(), rel=0.01)
    assert f.restored[f.mask].min() > 0.5 * f.peaks.min() - 1e-6
    assert f.mask[50, 40] and f.mask[71, 81] and not f.mask[10, 10]
    img, mask, peaks = restored_components(64, 1.0, f.beam, [32.0], [32.0], [0.01], [0.0], [0.0], [0.0])
    assert peaks[0] == pytest.approx(0.01) and img.max() == pytest.approx(0.01, rel=1e-6)


@pytest.mark.parametrize("dec", [-10.0, 0.0, 30.0, 60.0])
def test_mjive20_restoring_beam(dec):
    cov = cached_coverage(MJIVE20, dec, 256, 1.0, 2, "natural", 0.0)
    b = cov.beam
    if dec == 30.0:
        assert 12.0 <= b.bmaj <= 22.0 and 4.0 <= b.bmin <= 9.0
    assert 8.0 <= b.bmaj <= 25.0 and 3.5 <= b.bmin <= 10.0 and b.bmin <= b.bmaj


def test_beam_fit_recovers_a_gaussian_and_weighting_sharpens_it():
    yy, xx = np.mgrid[:128, :128] - 64.0
    cov = np.linalg.inv(np.array([[30.0, 8.0], [8.0, 12.0]]))
    d = np.stack([-xx, yy], -1)  # (l, m) with 1 mas pixels
    img = np.exp(-0.5 * np.einsum("...i,ij,...j", d, cov, d))
    from decoras_gui.sim.imaging import cov_to_fwhm

    b = fit_beam(img.astype(np.float32), 1.0)
    assert (b.bmaj, b.bmin, b.bpa) == pytest.approx(cov_to_fwhm(np.array([[30.0, 8.0], [8.0, 12.0]])), rel=1e-3)
    tr = uvw_tracks(FULL_TRACK, 45.0)
    nat = make_coverage(tr, 128, 1.0, 2, "natural")
    uni = make_coverage(tr, 128, 1.0, 2, "uniform")
    rob = make_coverage(tr, 128, 1.0, 2, "robust", 0.0)
    assert uni.beam.bmaj * uni.beam.bmin < rob.beam.bmaj * rob.beam.bmin < nat.beam.bmaj * nat.beam.bmin
    assert uni.rms > nat.rms


def test_gain_errors_corrupt_the_image():
    sky = _sky(64, 64, 0.1)
    clean = simulate_sky(sky, 3, SimConfig(size=128, noise=False), dec_deg=30.0)
    bad = simulate_sky(sky, 3, SimConfig(size=128, noise=False, gain_amp_sigma=0.1, gain_phase_deg=30.0), dec_deg=30.0)
    assert bad.dirty.max() < 0.98 * clean.dirty.max()
    assert np.abs(bad.dirty - clean.dirty).max() > 0.01
