"""photutils deblending (the SExtractor way) and the deblend figures, on GalSim blends."""

from __future__ import annotations

import numpy as np
import pytest

from decoras_gui.eval.deblend_baseline import DeblendedObject, photutils_deblend
from decoras_gui.eval.deblend_metrics import match, score_blend, summarise
from decoras_gui.sim.blends import BlendConfig, simulate_blend


def fwhm_pix(f):
    return f.psf_fwhm_arcsec / f.camera.pixel_arcsec


def test_the_truth_itself_scores_perfectly_and_nothing_scores_nothing():
    f = simulate_blend((9, 0), BlendConfig())
    perfect = [DeblendedObject(c, float(c.sum()), g.x, g.y) for c, g in zip(f.components, f.galaxies)]
    s = score_blend(perfect[::-1], f)  # in any order: matched by position
    assert s.split and s.flux_ape == pytest.approx([0.0, 0.0], abs=1e-9)
    assert max(s.centroid_arcsec) == 0.0 and max(s.shape_error) < 1e-9 and min(s.ssim) == pytest.approx(1.0)
    none = score_blend([], f)
    assert not none.split and none.flux_ape == [1.0, 1.0] and none.ssim == [0.0, 0.0]
    one = score_blend(perfect[:1], f)  # the blend seen as one object: not split, one galaxy lost
    assert not one.split and one.flux_ape[1] == 1.0


def test_a_far_object_is_not_a_match():
    f = simulate_blend((9, 1), BlendConfig())
    corner = DeblendedObject(f.components[0], float(f.components[0].sum()), 0.0, 0.0)  # far from both
    assert match([corner], f) == [None, None]
    near = DeblendedObject(f.components[1], float(f.components[1].sum()), f.galaxies[1].x + 1.0, f.galaxies[1].y)
    assert match([corner, near], f) == [None, 1]


def test_photutils_splits_a_wide_equal_pair_and_measures_its_fluxes():
    # a wide, bright, equal pair: the easy case SExtractor-style deblending gets right
    cfg = BlendConfig(separation_fwhm=(2.8, 3.0), flux_ratio=(1.0, 1.3), mag_range=(21.5, 22.5))
    scores = []
    for i in range(6):
        f = simulate_blend((11, i), cfg)
        scores.append(score_blend(photutils_deblend(f.image, fwhm_pix(f), f.noise_sigma), f))
    s = summarise(scores)
    assert s["split_fraction"] >= 0.5 and s["flux_ape_median"] < 0.3
    # the figures come by separation and flux-ratio bin too
    assert s["by_separation"]["2-3"]["n_blends"] == 6 and s["by_ratio"]["1-2"]["n_blends"] == 6


def test_photutils_finds_nothing_in_pure_noise():
    f = simulate_blend((9, 2), BlendConfig())
    rng = np.random.default_rng(0)
    assert photutils_deblend(rng.standard_normal((64, 64)) * f.noise_sigma, fwhm_pix(f), f.noise_sigma) == []
