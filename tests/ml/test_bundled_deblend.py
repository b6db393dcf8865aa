"""The bundled deblend model: its card, and its figures against photutils on fresh blends."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits
from scipy import ndimage

from decoras_gui.core.image import load_fits
from decoras_gui.eval.deblend_baseline import photutils_deblend
from decoras_gui.eval.deblend_metrics import score_blend, summarise
from decoras_gui.ml.registry import available_models, load_model
from decoras_gui.ml.tasks import get_task
from decoras_gui.ml.tasks.deblend import deblend_blends, deblend_image
from decoras_gui.sim.blend_files import write_blend
from decoras_gui.sim.blends import BlendConfig, simulate_blend


@pytest.fixture(scope="module")
def model():
    return load_model("vst-deblend", task="deblend")


def test_the_card_says_what_the_model_is_for_and_how_it_was_found(model):
    card = model.card
    assert card.task == "deblend" and card.instrument == "VST" and card.image_kind == "optical"
    assert card.domain["pixel_arcsec"] == 0.214 and card.domain["psf_fwhm_range_arcsec"] == [0.6, 1.0]
    assert card.domain["depth_mag"] == 24.9
    study = card.training["automl"]
    assert study["sampler"] == "TPE" and study["trials"] >= 6 and "importances" in study
    assert card.training["calibration"]["at_least_1_fwhm"]["ood"]["split_fraction"] > 0.5
    assert [c.name for c in available_models(task="deblend")] == ["vst-deblend"]


def _figures(model, variety: str, seed: int, n: int = 60) -> tuple[dict, dict]:
    blends = [simulate_blend((seed, i), BlendConfig(variety=variety)) for i in range(n)]
    ours = summarise([score_blend(o, f) for o, f in zip(deblend_blends(blends, model, "cpu"), blends)])
    theirs = summarise([score_blend(photutils_deblend(f.image, f.psf_fwhm_arcsec / 0.214, f.noise_sigma), f)
                        for f in blends])
    return ours["at_least_1_fwhm"], theirs["at_least_1_fwhm"]


def test_on_the_ood_family_it_splits_and_measures_better_than_photutils(model):
    ours, theirs = _figures(model, "ood", 990_101)
    assert ours["split_fraction"] >= 0.75 and ours["split_fraction"] > theirs["split_fraction"] + 0.3
    assert ours["flux_mape"] <= 0.40 and ours["flux_mape"] < theirs["flux_mape"]
    assert ours["centroid_arcsec_median"] < 0.15


def test_on_its_own_family_it_splits_nearly_every_pair(model):
    ours, _ = _figures(model, "wide", 990_102)
    assert ours["split_fraction"] >= 0.95 and ours["flux_mape"] <= 0.15


def test_deblending_a_file_recovers_magnitudes_and_shapes(model, tmp_path):
    for i in range(100):
        f = simulate_blend((990_103, i), BlendConfig(size=96))
        if 2.0 < f.separation_fwhm < 2.8 and f.flux_ratio < 2.5 and max(g.mag for g in f.galaxies) < 21.5:
            break
    paths = write_blend(f, tmp_path, "b")
    image = load_fits(paths["image"])
    # the neighbour first: point at it, and it is galaxy 1 of the result
    g2 = f.galaxies[1]
    out = get_task("deblend").run(image, model, at=(g2.x, g2.y), device="cpu")
    r = out.result
    assert r.split and r.psf_source == "PSF_FWHM" and r.zero_point_source == "MAGZP"
    first = r.galaxies[0] if np.hypot(r.galaxies[0].x - g2.x, r.galaxies[0].y - g2.y) < 1.5 else r.galaxies[1]
    assert abs(first.mag - (30.0 - 2.5 * np.log10(f.components[1].sum()))) < 0.15
    # the same blend on 0.3" pixels is resampled to the model's for the network, flux kept
    z = 0.214 / 0.3
    coarse_data = ndimage.zoom(np.asarray(image.data, float), z, order=1, prefilter=False) / z**2
    h = image.header.copy()
    h["CDELT1"], h["CDELT2"] = h["CDELT1"] / z, h["CDELT2"] / z
    h["CRPIX1"], h["CRPIX2"] = (h["CRPIX1"] - 0.5) * z + 0.5, (h["CRPIX2"] - 0.5) * z + 0.5
    fits.PrimaryHDU(coarse_data.astype(np.float32), h).writeto(tmp_path / "coarse.fits")
    coarse = load_fits(tmp_path / "coarse.fits")
    g1 = f.galaxies[0]
    results = deblend_image(coarse, model, [((g1.x + 0.5) * z - 0.5, (g1.y + 0.5) * z - 0.5)], device="cpu")
    assert any("resampled" in n for n in results[0].notes) and results[0].split
    total = sum(g.flux for g in results[0].galaxies)
    assert total == pytest.approx(float(f.components.sum()), rel=0.1)
