"""LOFAR HBA restore fields: exact visibilities of a pixel sky, LoTSS-like beams, families."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from decoras_gui.core.errors import DecorasError
from decoras_gui.sim.imaging import MAS
from decoras_gui.sim.surface import (
    SurfaceConfig,
    _cached_observation,
    draw_lofar_observation,
    image_visibilities,
    simulate_surface_field,
)

CFG = SurfaceConfig(size=128)


def test_a_pixel_sky_has_the_visibilities_of_points_at_its_pixel_centres():
    obs, cov = _cached_observation("wide", (4, 0, 1), 128, 2, (3.0, 6.0), (15.0, 85.0), "LOFAR-HBA")
    sky = np.zeros((128, 128))
    sky[70, 50], sky[20, 100] = 1.0, 0.25
    l = -(np.array([50, 100]) - 64) * cov.cell_mas * MAS  # x increases to the west
    m = (np.array([70, 20]) - 64) * cov.cell_mas * MAS
    exact = cov.visibilities(l, m, np.array([1.0, 0.25]), np.zeros(2), np.zeros(2), np.zeros(2))
    assert np.abs(image_visibilities(cov, sky) - exact).max() < 1e-9
    dirty = cov.image(image_visibilities(cov, sky))
    assert np.unravel_index(dirty.argmax(), dirty.shape) == (70, 50) and dirty.max() == pytest.approx(1.0, abs=0.02)


def test_training_fields_look_like_lotss_and_are_reproducible():
    f = simulate_surface_field((11, 0), CFG)
    g = simulate_surface_field((11, 0), CFG)
    assert np.array_equal(f.image, g.image) and np.array_equal(f.truth, g.truth)
    bmaj, bmin = f.beam.bmaj / 1000.0, f.beam.bmin / 1000.0  # arcsec
    assert 3.0 < bmin <= bmaj < 12.0  # about 6" with Briggs weighting near -0.5
    assert 3.0 <= f.beam_pix * (bmin / np.sqrt(bmaj * bmin)) <= 6.01  # pixels per beam minor axis
    assert 20e-6 < f.rms < 500e-6  # Jy/beam: an 4-8 h HBA track
    assert 120e6 <= f.freq_hz <= 168e6 and f.observation.schedule.instrument == "LOFAR-HBA"
    assert f.image.shape == f.truth.shape == f.psf.shape == (128, 128)
    assert np.unravel_index(f.psf.argmax(), f.psf.shape) == (64, 64) and f.psf.max() == pytest.approx(1.0)


def test_fields_share_an_observation_in_groups_and_the_families_differ():
    a, b = simulate_surface_field((12, 0), CFG), simulate_surface_field((12, 1), CFG)
    c = simulate_surface_field((12, CFG.fields_per_observation), CFG)
    assert a.observation == b.observation and a.observation != c.observation
    assert not np.array_equal(a.truth, b.truth)
    rng = np.random.default_rng(0)
    wide = [draw_lofar_observation(rng, "wide", (3, 6), (15, 85)) for _ in range(20)]
    ood = [draw_lofar_observation(rng, "ood", (3, 6), (15, 85)) for _ in range(20)]
    assert {o.family for o in wide} == {"track"} and {o.weighting for o in wide} == {"natural", "uniform", "robust"}
    assert all(-1.0 <= o.robust <= 1.0 and o.taper == 0.0 for o in wide)
    assert {o.family for o in ood} <= {"split-track", "short-track", "outage"} and len({o.family for o in ood}) > 1
    # weightings training never uses: Briggs beyond |R| = 1.2, or tapered
    assert all((o.weighting == "robust" and abs(o.robust) >= 1.2) or o.taper >= 0.2 for o in ood)
    assert min(o.gain_phase_deg for o in ood) >= max(o.gain_phase_deg for o in wide)


def test_a_noise_free_dirty_field_is_the_sky_convolved_with_its_dirty_beam():
    cfg = replace(CFG, noise=False, gain_errors=False, observations=1)
    f = simulate_surface_field((13, 0), cfg)
    pad = np.zeros((256, 256))
    pad[64:192, 64:192] = f.truth
    psf = np.zeros((256, 256))
    psf[64:192, 64:192] = f.psf  # the beam is needed only within the image's extent of each source
    conv = np.real(np.fft.ifft2(np.fft.fft2(pad) * np.fft.fft2(np.fft.ifftshift(psf))))[64:192, 64:192]
    inner = np.s_[32:96, 32:96]  # where every source's beam within +-64 px is all there is
    assert np.abs(f.image - conv)[inner].max() < 0.02 * np.abs(f.image).max() + 1e-9
    noisy = simulate_surface_field((13, 0), replace(cfg, gain_errors=True))
    if noisy.observation.gain_amp > 0:
        assert not np.allclose(noisy.image, f.image)


def test_restored_fields_are_cleaned_and_keep_the_dirty_image():
    f = simulate_surface_field((14, 2), replace(CFG, image_kind="restored"))
    assert f.dirty is not None and f.clean is not None and f.clean[1] > 0
    assert np.std(f.image - f.dirty) > 0


def test_unknown_family_or_kind_is_refused():
    with pytest.raises(DecorasError, match="variety"):
        SurfaceConfig(variety="narrow")
    with pytest.raises(DecorasError, match="image kind"):
        SurfaceConfig(image_kind="model")
