"""Measuring sources from the network maps: exact answers on exact Gaussian maps."""

from __future__ import annotations

import math

import numpy as np
import pytest
from astropy.io import fits

from decoras_gui.core.image import load_fits
from decoras_gui.ml.characterize import CharacterizeSettings, characterize
from decoras_gui.ml.inference import NetworkMaps
from tests.conftest import sky_header

BEAM_MAS = (14.0, 5.0, 0.0)


def gaussian(shape, x0, y0, peak, fwhm_maj, fwhm_min, theta_deg):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    t = math.radians(theta_deg)
    a = (xx - x0) * math.cos(t) + (yy - y0) * math.sin(t)
    b = -(xx - x0) * math.sin(t) + (yy - y0) * math.cos(t)
    s = 2 * math.sqrt(2 * math.log(2))
    return peak * np.exp(-0.5 * ((a / (fwhm_maj / s)) ** 2 + (b / (fwhm_min / s)) ** 2))


@pytest.fixture
def image(tmp_path):
    h = sky_header(128, 128)
    h["BMAJ"], h["BMIN"], h["BPA"] = BEAM_MAS[0] / 3.6e6, BEAM_MAS[1] / 3.6e6, BEAM_MAS[2]
    rng = np.random.default_rng(0)
    path = tmp_path / "img.fits"
    fits.PrimaryHDU(rng.normal(0, 1e-4, (128, 128)).astype(np.float32), h).writeto(path)
    return load_fits(path)


def maps_for(restored: np.ndarray, components) -> NetworkMaps:
    prob = np.zeros_like(restored)
    for x0, y0, peak, a, b, t in components:
        prob = np.maximum(prob, (gaussian(restored.shape, x0, y0, 1.0, a, b, t) >= 0.5) * 0.97)
    return NetworkMaps(prob.astype(np.float32), restored.astype(np.float32), 1e-4, 1.0, "cpu")


def test_point_and_resolved_sources_are_measured_exactly(image):
    # a point source (beam-shaped, beam PA 0 -> major axis along pixel y) and a resolved one
    comps = [(40.3, 50.7, 5e-3, 14.0, 5.0, 90.0), (90.2, 80.6, 2e-3, 20.0, 9.0, 30.0)]
    restored = sum(gaussian((128, 128), *c) for c in comps)
    cat = characterize(image, maps_for(restored, comps), model_name="exact")
    assert len(cat) == 2
    point, resolved = sorted(cat, key=lambda s: s.x)
    assert point.x == pytest.approx(40.3, abs=0.02) and point.y == pytest.approx(50.7, abs=0.02)
    assert point.peak_flux == pytest.approx(5e-3, rel=0.01)
    assert point.total_flux == pytest.approx(5e-3, rel=0.02)  # a point: total = peak
    assert point.maj * 1000 == pytest.approx(14.0, rel=0.02) and point.min * 1000 == pytest.approx(5.0, rel=0.02)
    assert point.maj_deconv * 1000 < 2.0  # the beam explains it
    assert point.det_prob == pytest.approx(0.97)
    assert resolved.peak_flux == pytest.approx(2e-3, rel=0.01)
    assert resolved.maj_img == pytest.approx(20.0, rel=0.02) and resolved.min_img == pytest.approx(9.0, rel=0.02)
    assert resolved.theta_img == pytest.approx(30.0, abs=0.5)
    assert resolved.pa == pytest.approx(-60.0, abs=0.5)  # theta 30 deg from +x (west) -> PA -60 (= 120)
    assert resolved.total_flux == pytest.approx(2e-3 * 20 * 9 / (14 * 5), rel=0.03)
    assert resolved.r_eff * 1000 == pytest.approx(0.5 * math.sqrt(20 * 9), rel=0.02)
    assert resolved.snr == pytest.approx(2e-3 / resolved.local_rms)
    sky = image.wcs.pixel_to_world(90.2, 80.6)
    assert resolved.ra == pytest.approx(sky.ra.deg, abs=1e-8) and resolved.dec == pytest.approx(sky.dec.deg, abs=1e-8)
    assert cat.meta["model"] == "exact" and cat.meta["image"] == "img.fits"


def test_a_close_double_is_deblended_into_two(image):
    # two point sources 1.3 beam minor axes apart along the minor axis (pixel x)
    comps = [(60.0, 64.0, 3e-3, 14.0, 5.0, 90.0), (66.5, 64.0, 2e-3, 14.0, 5.0, 90.0)]
    restored = sum(gaussian((128, 128), *c) for c in comps)
    prob = (restored >= 0.5 * 2e-3).astype(np.float32)  # one blended island
    cat = characterize(image, NetworkMaps(prob, restored.astype(np.float32), 1e-4, 1.0, "cpu"))
    assert len(cat) == 2
    xs = sorted(s.x for s in cat)
    assert xs[0] == pytest.approx(60.0, abs=0.5) and xs[1] == pytest.approx(66.5, abs=0.5)


def test_nothing_detected_gives_an_empty_catalogue(image):
    restored = np.zeros((128, 128), np.float32)
    cat = characterize(image, NetworkMaps(restored.copy(), restored, 1e-4, 1.0, "cpu"))
    assert len(cat) == 0 and cat.meta["image"] == "img.fits"


def test_fragments_on_the_same_position_are_merged():
    from decoras_gui.ml.characterize import _drop_duplicates

    bright = {"x": 50.0, "y": 50.0, "peak": 1.0}
    fragment = {"x": 50.8, "y": 50.5, "peak": 0.02}
    neighbour = {"x": 57.0, "y": 50.0, "peak": 0.5}
    kept = _drop_duplicates([(1, bright), (2, fragment), (3, neighbour)], bmin_px=5.0)
    assert [label for label, _ in kept] == [1, 3]


def test_peak_cap_takes_the_image_fit_bounded_by_the_restored_peak(tmp_path):
    # the image holds a point of 2e-3 and one of 1e-3; the restored map under-restores both (1.5e-3, 2e-4)
    h = sky_header(128, 128)
    h["BMAJ"], h["BMIN"], h["BPA"] = BEAM_MAS[0] / 3.6e6, BEAM_MAS[1] / 3.6e6, BEAM_MAS[2]
    rng = np.random.default_rng(1)
    sky = gaussian((128, 128), 40.0, 50.0, 2e-3, 14.0, 5.0, 90.0) + gaussian((128, 128), 90.0, 80.0, 1e-3, 14.0, 5.0,
                                                                              90.0)
    path = tmp_path / "img.fits"
    fits.PrimaryHDU((sky + rng.normal(0, 1e-5, sky.shape)).astype(np.float32), h).writeto(path)
    image = load_fits(path)
    comps = [(40.0, 50.0, 1.5e-3, 14.0, 5.0, 90.0), (90.0, 80.0, 2e-4, 14.0, 5.0, 90.0)]
    maps = maps_for(sum(gaussian((128, 128), *c) for c in comps), comps)
    restored = sorted(characterize(image, maps, settings=CharacterizeSettings(min_snr=0.0)), key=lambda s: s.x)
    assert [s.peak_flux for s in restored] == pytest.approx([1.5e-3, 2e-4], rel=0.01)
    fitted = sorted(characterize(image, maps, settings=CharacterizeSettings(min_snr=0.0, peak_cap=math.inf)),
                    key=lambda s: s.x)
    assert [s.peak_flux for s in fitted] == pytest.approx([2e-3, 1e-3], rel=0.02)
    capped = sorted(characterize(image, maps, settings=CharacterizeSettings(min_snr=0.0, peak_cap=1.5)),
                    key=lambda s: s.x)
    assert [s.peak_flux for s in capped] == pytest.approx([2e-3, 3e-4], rel=0.02)  # the second bounded at 1.5x
    assert capped[1].total_flux == pytest.approx(3e-4, rel=0.03) and capped[1].snr == pytest.approx(
        capped[1].peak_flux / capped[1].local_rms)
    # the SNR floor is the restored peak's: the faint one stays out however bright the image says it is
    rms = capped[1].local_rms
    floor = 0.5 * (2e-4 + 3e-4) / rms
    kept = characterize(image, maps, settings=CharacterizeSettings(min_snr=floor, peak_cap=1.5))
    assert len(kept) == 1 and kept[0].x == pytest.approx(40.0, abs=0.1)
