"""A huge image is shown from a block-averaged overview; zooming in renders full-resolution
detail of the visible region, in the full image's coordinates."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from decoras_gui.gui import display as disp
from tests.conftest import sky_header
from tests.gui.conftest import open_and_wait


def test_overview_is_nan_aware_block_means():
    data = np.arange(36, dtype=np.float32).reshape(6, 6)
    data[0, 0] = np.nan
    data[4:6, 4:6] = np.nan
    ov = disp.overview(data, 2)
    assert ov.shape == (3, 3)
    assert ov[0, 0] == pytest.approx(np.mean([1, 6, 7]))
    assert ov[1, 2] == pytest.approx(np.mean([16, 17, 22, 23]))
    assert np.isnan(ov[2, 2])
    assert disp.overview(np.zeros((7, 9)), 2).shape == (3, 4)  # partial edge blocks left out
    assert disp.overview_factor((16384, 16384)) == 4 and disp.overview_factor((300, 200)) == 1


def test_detail_region_clips_and_refuses_big_views():
    assert disp.detail_region((-10.2, 50.3, 20.0, 30.0), (100, 40)) == (0, 40, 20, 31)
    assert disp.detail_region((0, 5000, 0, 10), (100, 10000)) is None
    assert disp.detail_region((200, 300, 0, 10), (100, 100)) is None


def test_huge_image_overview_and_detail(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setattr(disp, "OVERVIEW_MAX", 512)
    monkeypatch.setattr(disp, "DETAIL_MAX", 400)
    n = 1536
    rng = np.random.default_rng(1)
    data = rng.normal(0, 1e-3, (n, n)).astype(np.float32)
    data[1000, 300] = 0.05  # one bright pixel: smeared in the overview, sharp in the detail
    path = tmp_path / "big.fits"
    fits.PrimaryHDU(data, sky_header(n, n)).writeto(path)
    open_and_wait(qtbot, window, path)
    canvas = window.canvas
    assert canvas.overview_factor == 3 and canvas.shape == (n, n)
    assert canvas.image_item.image.shape == (512, 512)
    rect = canvas.image_item.mapRectToParent(canvas.image_item.boundingRect())
    assert (rect.left(), rect.width()) == pytest.approx((-0.5, n))  # full-image coordinates
    assert not canvas.detail_item.isVisible()
    canvas.center_on(300.0, 1000.0, size=10.0)  # zoom onto the bright pixel
    qtbot.waitUntil(lambda: canvas.detail_item.isVisible(), timeout=30000)
    x0, x1, y0, y1 = canvas.detail_region
    assert x0 <= 300 < x1 and y0 <= 1000 < y1 and x1 - x0 <= 400
    patch = canvas.detail_item.image
    assert patch.shape == (y1 - y0, x1 - x0)
    assert patch[1000 - y0, 300 - x0] == pytest.approx(1.0)  # the maximum of the image, unsmeared
    assert canvas.detail_item.lut is canvas.image_item.lut or np.array_equal(canvas.detail_item.lut,
                                                                                canvas.image_item.lut)
    canvas.fit()  # zoomed out again: the overview alone
    qtbot.waitUntil(lambda: not canvas.detail_item.isVisible(), timeout=30000)
