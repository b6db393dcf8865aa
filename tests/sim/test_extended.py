"""Skies of extended emission: each kind is positive, where it was put, and as bright as drawn."""

from __future__ import annotations

import numpy as np
import pytest

from decoras_gui.sim.extended import (
    EXTENDED_KINDS,
    beam_blur,
    draw_extended_sky,
    gaussian,
    random_field,
)

RMS = 1e-4
BEAM = 4.0  # pixels


def one(kind: str, seed: int, snr: float = 40.0):
    probs = [1.0 if k == kind else 0.0 for k in EXTENDED_KINDS]
    return draw_extended_sky(np.random.default_rng(seed), 256, BEAM, RMS, max_sources=1, kind_probs=probs,
                             snr_range=(snr, snr), empty_fraction=0.0, confusion_density=0.0)


@pytest.mark.parametrize("kind", EXTENDED_KINDS)
def test_each_kind_is_positive_scaled_to_its_snr_and_labelled(kind):
    for seed in range(3):
        sky = one(kind, seed)
        (src,) = sky.sources
        assert src.kind == kind and np.all(sky.image >= 0)
        assert sky.image.sum() == pytest.approx(src.flux, rel=1e-4)
        # the peak as the restoring beam shows it is the SNR drawn
        assert beam_blur(sky.image.astype(float), BEAM).max() == pytest.approx(40.0 * RMS, rel=0.02)
        labelled = sky.labels == 1
        assert sky.image[labelled].sum() > 0.8 * src.flux  # the footprint holds most of it (tails fade below)
        if kind != "compact":
            ys, xs = np.nonzero(labelled)
            extent = max(np.ptp(xs), np.ptp(ys))
            assert extent > 2 * BEAM, (kind, extent)  # resolved: several beams across


def test_extended_sources_stay_inside_the_field_and_skies_are_reproducible():
    a = draw_extended_sky(np.random.default_rng(5), 128, BEAM, RMS, max_sources=6, empty_fraction=0.0)
    b = draw_extended_sky(np.random.default_rng(5), 128, BEAM, RMS, max_sources=6, empty_fraction=0.0)
    assert np.array_equal(a.image, b.image) and a.sources == b.sources
    for s in a.sources:
        assert 0 <= s.x < 128 and 0 <= s.y < 128
    sources = a.image - a.background
    rim = sources.sum() - sources[2:-2, 2:-2].sum()
    assert rim < 0.05 * sources.sum()  # little of any source spills to the field's edge


def test_confusion_background_is_faint_and_an_empty_sky_has_only_it():
    sky = draw_extended_sky(np.random.default_rng(1), 256, BEAM, RMS, empty_fraction=1.0, confusion_density=0.05)
    assert sky.sources == [] and not sky.labels.any()
    assert np.array_equal(sky.image, sky.background) and sky.background.max() <= 3.0 * RMS + 1e-12
    assert (sky.background > 0).sum() > 50


def test_gaussian_has_unit_sum_its_width_and_orientation():
    g = gaussian((101, 101), 50.0, 50.0, 12.0, 4.0, 0.0)  # major axis north-south
    assert g.sum() == pytest.approx(1.0)
    assert g[:, 50].sum() > g[50, :].sum()  # more along the column through the centre
    profile = g[:, 50] / g[50, 50]
    assert np.sum(profile > 0.5) == pytest.approx(12, abs=1)  # FWHM in pixels


def test_random_field_has_unit_variance_and_power_law_spectrum():
    g = random_field((256, 256), 11.0 / 3.0, np.random.default_rng(0))
    assert g.std() == pytest.approx(1.0) and abs(g.mean()) < 1e-6
    p = np.abs(np.fft.rfft2(g)) ** 2
    k = np.hypot(np.fft.fftfreq(256)[:, None], np.fft.rfftfreq(256)[None, :])
    lo, hi = (k > 0.02) & (k < 0.04), (k > 0.2) & (k < 0.4)
    slope = np.log(p[hi].mean() / p[lo].mean()) / np.log(k[hi].mean() / k[lo].mean())
    assert slope == pytest.approx(-11.0 / 3.0, abs=0.4)
