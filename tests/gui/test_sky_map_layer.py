"""Recover Surface Brightness in the window: a real (tiny) restore model, the map as a layer,
blink, side by side, the residual, flux in a region, export."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from decoras_gui.core.image import load_fits
from tests.gui.conftest import open_and_wait

RESTORE_CONFIG = {
    "name": "tiny-restore", "task": "restore", "instrument": "LOFAR-HBA", "band": "HBA", "image_kind": "dirty",
    "steps": 40, "batch_size": 2, "crop": 64, "data_seed": 5, "torch_seed": 5, "threads": 1, "workers": 0,
    "log_every": 20, "checkpoint_every": 40, "psf_dropout": 0.25,
    "sim": {"size": 128, "variety": "wide", "image_kind": "dirty", "observations": 2},
    "restoration": {"widths": [8, 16], "convs_per_level": 1, "psf_channel": True},
}


@pytest.fixture(scope="module")
def restore_models(tmp_path_factory):
    """A folder holding a tiny but real restore model (40 steps on LOFAR fields)."""
    from decoras_gui.ml.train import TrainConfig, train

    tmp = tmp_path_factory.mktemp("restore_models")
    train(TrainConfig.from_dict(RESTORE_CONFIG), tmp / "models", tmp / "run", log=lambda s: None)
    return tmp / "models"


@pytest.fixture(scope="module")
def lofar_fits(tmp_path_factory):
    """A simulated dirty LOFAR HBA image (FITS, with its beam) and its dirty beam beside it."""
    from decoras_gui.ml.tasks.restore import field_image
    from decoras_gui.sim.surface import SurfaceConfig, simulate_surface_field

    folder = tmp_path_factory.mktemp("lofar")
    f = simulate_surface_field((31, 0), SurfaceConfig(size=128, observations=2, empty_fraction=0.0))
    image = field_image(f)
    h = image.wcs.to_header()
    h["BUNIT"], h["BMAJ"], h["BMIN"], h["BPA"] = "JY/BEAM", image.beam.major, image.beam.minor, image.beam.pa
    h["TELESCOP"], h["NITER"], h["CRVAL3"], h["CTYPE3"] = "LOFAR", 0, f.freq_hz, "FREQ"
    fits.writeto(folder / "lofar.fits", f.image, h)
    fits.writeto(folder / "lofar_psf.fits", f.psf, h)
    return folder / "lofar.fits"


def recover(qtbot, window):
    with qtbot.waitSignal(window.sky_map.finished, timeout=120_000) as done:
        window.sky_map.act_restore.trigger()
    return done.args[0]


def test_the_map_opens_as_a_layer_blinks_and_sits_beside_the_image(qtbot, make_window, restore_models, lofar_fits):
    window = make_window(model_dir=restore_models)
    sm = window.sky_map
    assert not sm.act_restore.isEnabled()  # no image yet
    image = open_and_wait(qtbot, window, lofar_fits)
    assert sm.act_restore.isEnabled() and not sm.act_blink.isEnabled()
    # no detection model covers a LOFAR image; the status bar names the restore model that does
    assert "Restore model: tiny-restore" in window.model_status.text() and "⚠" not in window.model_status.text()
    assert window.table.model.size_unit == "arcsec"  # a 6" beam: sizes in arcsec before any source
    sky = recover(qtbot, window)
    assert sky.data.shape == image.shape and sm.mode == "map"
    assert window.display.layer is not None and sm.mode_actions["map"].isChecked()
    assert sm.residual is not None  # the dirty beam beside the image gave it
    # blink: the view alternates, by the controller's own signal (no waiting on the clock)
    sm.act_blink.trigger()
    with qtbot.waitSignal(sm.mode_changed, timeout=10_000) as first:
        pass
    with qtbot.waitSignal(sm.mode_changed, timeout=10_000) as second:
        pass
    assert {first.args[0], second.args[0]} == {"image", "map"}
    sm.act_blink.trigger()
    assert not sm._blink.isActive()
    sm.mode_actions["residual"].trigger()
    assert sm.mode == "residual" and np.array_equal(window.display.layer, sm.residual)
    sm.mode_actions["map"].trigger()
    sm.act_side.trigger()
    assert sm.side.isVisible() and window.display.layer is None  # the image beside its map
    window.canvas.center_on(40.0, 60.0, 30.0)
    (x0, x1), (y0, y1) = window.canvas.vb.viewRange()
    (a0, a1), (b0, b1) = sm.side.vb.viewRange()
    assert (a0 + a1) / 2 == pytest.approx((x0 + x1) / 2, abs=0.5)  # the same place of the sky in both
    assert (b0 + b1) / 2 == pytest.approx((y0 + y1) / 2, abs=0.5)
    sm.act_side.trigger()
    assert not sm.side.isVisible()


def test_flux_in_a_region_and_export(qtbot, make_window, restore_models, lofar_fits, tmp_path):
    window = make_window(model_dir=restore_models)
    image = open_and_wait(qtbot, window, lofar_fits)
    sky = recover(qtbot, window)
    ny, nx = image.shape
    whole, _ = window.sky_map.flux_in(nx / 2, ny / 2, 4.0 * nx, 4.0 * ny, 0.0)
    assert whole == pytest.approx(sky.total_flux(), rel=1e-6)
    half, _ = window.sky_map.flux_in(nx / 4, ny / 2, nx / 2, 4.0 * ny, 0.0)
    assert 0.0 <= half <= whole
    out = window.sky_map.export(tmp_path / "map.fits")
    back = load_fits(out)
    assert back.header["BUNIT"] == "JY/PIXEL" and np.allclose(back.data, sky.data, equal_nan=True)
    # a new image: the old map is not its
    open_and_wait(qtbot, window, lofar_fits)
    assert window.sky_map.sky is None and not window.sky_map.act_export.isEnabled()
    assert window.display.layer is None
