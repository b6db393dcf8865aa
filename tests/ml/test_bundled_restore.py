"""The bundled restore models on the bundled LOFAR sample (WSClean's dirty image and PSF)."""

from __future__ import annotations

import numpy as np

from decoras_gui.cli import main
from decoras_gui.core.image import load_fits
from decoras_gui.core.image_domain import image_domain
from decoras_gui.core.psf import find_psf
from decoras_gui.ml.model_choice import choose_model
from decoras_gui.ml.registry import available_models
from decoras_gui.paths import resources_dir

SAMPLE = resources_dir() / "sample_lofar-dirty.fits"


def test_the_lofar_sample_is_for_the_dirty_restore_model_not_a_detection_model():
    image = load_fits(SAMPLE)
    restore = choose_model(available_models(task="restore"), image_domain(image))
    detect = choose_model(available_models(task="detect"), image_domain(image))
    assert restore.covered and restore.card.name == "lofar-restore" and restore.card.image_kind == "dirty"
    assert not detect.covered  # VLBI models: another instrument, another band
    assert find_psf(SAMPLE).name == "sample_lofar-psf.fits"  # WSClean's PSF, found beside it


def test_decoras_restore_explains_the_samples_emission(tmp_path, capsys):
    out, res = tmp_path / "map.fits", tmp_path / "residual.fits"
    assert main(["restore", str(SAMPLE), "--out", str(out), "--residual", str(res)]) == 0
    err = capsys.readouterr().err
    assert "lofar-restore" in err and "fitted to the dirty beam" in err and "the header's" in err
    image, sky, residual = load_fits(SAMPLE), load_fits(out), load_fits(res)
    assert sky.header["BUNIT"] == "JY/PIXEL" and sky.header["DCRKIND"] == "dirty"
    assert np.all(np.isfinite(sky.data)) and sky.data.min() >= 0 and sky.data.sum() > 0
    # the map convolved with the dirty beam accounts for much of the image: less is left than was there
    assert np.nanstd(residual.data) < 0.8 * np.nanstd(image.data)
