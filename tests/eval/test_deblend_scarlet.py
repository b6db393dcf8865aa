"""scarlet2 deblending of GalSim blends: a well separated pair split and measured, noise left alone."""

from __future__ import annotations

import numpy as np
import pytest

from decoras_gui.eval.deblend_metrics import score_blend
from decoras_gui.eval.deblend_scarlet import psf_fwhm_pixels, scarlet2_deblend
from decoras_gui.sim.blends import BlendConfig, simulate_blend


@pytest.mark.slow
@pytest.mark.parametrize("seed", [(7, 2), (7, 13)])
def test_scarlet2_splits_a_well_separated_pair_and_measures_its_fluxes(seed):
    f = simulate_blend(seed, BlendConfig(variety="wide"))
    assert f.separation_fwhm >= 2.0 and f.flux_ratio < 3.0  # a well separated pair, not too unequal
    objects = scarlet2_deblend(f.image, f.psf, f.noise_sigma)
    s = score_blend(objects, f)
    assert len(objects) == 2 and s.split
    assert max(s.flux_ape) < 0.15, s.flux_ape
    assert objects[0].flux >= objects[1].flux  # brightest first
    for o in objects:  # each object is its model rendered on the cutout
        assert o.image.shape == f.image.shape and o.image.min() >= -1e-3 * o.image.max()
        assert o.flux == pytest.approx(float(o.image.sum()), rel=1e-5)
    again = scarlet2_deblend(f.image, f.psf, f.noise_sigma)  # deterministic
    assert [o.flux for o in again] == [o.flux for o in objects]


def test_scarlet2_finds_nothing_in_pure_noise():
    f = simulate_blend((9, 2), BlendConfig())
    noise = np.random.default_rng(0).standard_normal((64, 64)) * f.noise_sigma
    assert scarlet2_deblend(noise, f.psf, f.noise_sigma) == []
    assert scarlet2_deblend(noise, f.psf, f.noise_sigma, detector="photutils") == []


def test_the_psf_fwhm_is_measured_from_its_image():
    f = simulate_blend((9, 3), BlendConfig())
    assert psf_fwhm_pixels(f.psf) == pytest.approx(f.psf_fwhm_arcsec / f.camera.pixel_arcsec, rel=0.15)
