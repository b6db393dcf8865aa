"""Deblend in the window: an optical FITS image (written as a survey cutout comes), the bundled
vst-deblend model found where the window finds its models, the panel's stamps and photometry
table, the PSF FWHM and zero-point fields, the export, and the display defaults of optical data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from tests.gui.conftest import open_and_wait

MODEL = "vst-deblend"
#: a bright (r < 20), well separated (2.6 PSF FWHM) pair of similar brightness
SEED = 159
SIZE = 128
#: (mag, mag err, flux, flux err, RA, Dec, x, y, size, e1, e2) after the galaxy number
MAG, X, Y = 1, 7, 8


@pytest.fixture(scope="module")
def blend(tmp_path_factory):
    """The blend (its truth) and its files: NAME.fits in ADU with MAGZP, PSF_FWHM and SEEING."""
    from decoras_gui.sim.blend_files import write_blend
    from decoras_gui.sim.blends import BlendConfig, simulate_blend

    f = simulate_blend(SEED, BlendConfig(size=SIZE))
    assert f.separation_fwhm >= 2.0 and max(g.mag for g in f.galaxies) < 22.0
    return f, write_blend(f, tmp_path_factory.mktemp("blend"), "blend")


@pytest.fixture(scope="module")
def no_psf_fits(blend, tmp_path_factory):
    """The same image with every PSF keyword taken out of its header (it stays optical: MAGZP, FILTER)."""
    from decoras_gui.core.optical import PSF_FWHM_KEYS

    path = tmp_path_factory.mktemp("nopsf") / "nopsf.fits"
    with fits.open(blend[1]["image"]) as hdul:
        header = hdul[0].header.copy()
        data = hdul[0].data.copy()
    for key in PSF_FWHM_KEYS:
        header.remove(key, ignore_missing=True)
    fits.writeto(path, data, header)
    return path


@pytest.fixture
def deblend_window(make_window):
    """A window with the models it finds by itself (the bundled ones, then the user's)."""
    from decoras_gui.ml.registry import available_models

    if MODEL not in [c.name for c in available_models(None, task="deblend")]:
        pytest.skip(f"the bundled deblend model {MODEL} is not installed (models/{MODEL}.json)")
    return make_window()


def centre_of(f) -> tuple[float, float]:
    """The middle of the pair (where a box dragged round the blend is centred)."""
    return (sum(g.x for g in f.galaxies) / 2.0, sum(g.y for g in f.galaxies) / 2.0)


def peak_of(f) -> tuple[float, float]:
    """The brighter galaxy's centre: where a source finder puts the blend (the model's cutouts are
    centred so in training, give or take 8 pixels)."""
    g = min(f.galaxies, key=lambda g: g.mag)
    return g.x, g.y


def finished(qtbot, window, run):
    """The result of the deblend that ``run()`` starts; a failed run fails the test at once, with its message."""
    out = []
    on_result, on_failure = out.append, (lambda message: out.append(f"deblending failed: {message}"))
    window.deblend.finished.connect(on_result)
    window.task_failed.connect(on_failure)
    try:
        run()
        qtbot.waitUntil(lambda: bool(out), timeout=120_000)
    finally:
        window.deblend.finished.disconnect(on_result)
        window.task_failed.disconnect(on_failure)
    if isinstance(out[0], str):
        pytest.fail(out[0])
    qtbot.waitUntil(lambda: not window.busy, timeout=60_000)
    return out[0]


def deblend(qtbot, window, *at, side=None):
    return finished(qtbot, window, lambda: window.deblend.start(*at, side=side))


def matched(panel, f) -> list[tuple[int, object]]:
    """(table row, true galaxy) pairs: the pairing of the two rows with the two galaxies that puts
    the measured centroids nearest the true ones."""
    rows = [(panel.value(r, X), panel.value(r, Y)) for r in range(panel.table.rowCount())]
    truth = list(f.galaxies)

    def cost(order):
        return sum(math.hypot(x - g.x, y - g.y) for (x, y), g in zip(rows, order))

    best = min((truth, truth[::-1]), key=cost)
    return list(enumerate(best))


def test_an_optical_image_is_shown_with_zscale_and_a_radio_one_keeps_its_defaults(qtbot, make_window, blend,
                                                                                 vlba_fits, gui_settings):
    from decoras_gui.gui import display as disp
    from decoras_gui.gui.settings import Settings

    window = make_window()
    open_and_wait(qtbot, window, blend[1]["image"])
    assert window.display.settings.limits == "zscale" and window.display.settings.stretch == "linear"
    assert window.display.limits_combo.currentData() == "zscale"
    # the automatic look is not the user's choice: a radio image next gets the defaults, and so does the ini
    open_and_wait(qtbot, window, vlba_fits)
    default = disp.DisplaySettings()
    assert (window.display.settings.stretch, window.display.settings.limits) == (default.stretch, default.limits)
    open_and_wait(qtbot, window, blend[1]["image"])
    window.close()
    saved = disp.DisplaySettings.from_dict(Settings().display())
    assert saved.limits == default.limits
    # a stretch the user picks is kept for optical images too
    w2 = make_window()
    open_and_wait(qtbot, w2, blend[1]["image"])
    w2.display.limits_combo.setCurrentIndex(w2.display.limits_combo.findData("99.5"))
    open_and_wait(qtbot, w2, blend[1]["image"])
    assert w2.display.settings.limits == "99.5"


def test_deblend_shows_two_galaxies_and_their_photometry(qtbot, deblend_window, blend, tmp_path):
    window = deblend_window
    f, paths = blend
    dc, panel = window.deblend, window.deblend.panel
    assert not dc.act_deblend.isEnabled() and not dc.act_export_components.isEnabled()  # no image yet
    open_and_wait(qtbot, window, paths["image"])
    assert dc.act_deblend.isEnabled() and not dc.act_export_photometry.isEnabled()
    # the fields come from the header, each naming its keyword
    assert float(panel.fwhm_edit.text()) == pytest.approx(f.psf_fwhm_arcsec, rel=1e-3)
    assert "PSF_FWHM" in panel.fwhm_source.text()
    assert float(panel.zp_edit.text()) == pytest.approx(f.camera.zero_point) and "MAGZP" in panel.zp_source.text()

    result = deblend(qtbot, window, *peak_of(f))
    assert result.psf_source == "PSF_FWHM" and result.zero_point_source == "MAGZP"
    assert window.deblend_dock.isVisible()
    for key in ("data", "galaxy1", "galaxy2", "residual"):
        stamp = panel.stamps[key]
        assert stamp.data is not None and not stamp.image.pixmap().isNull()
    assert np.array_equal(panel.stamps["galaxy1"].data, result.galaxies[0].image)
    assert panel.table.rowCount() == 2
    for row, truth in matched(panel, f):
        assert panel.value(row, MAG) == pytest.approx(truth.mag, abs=0.3)
    assert dc.act_export_components.isEnabled() and dc.act_export_photometry.isEnabled()
    assert all(item.isVisible() for item in dc.markers.ellipses)  # the two galaxies on the image

    # an edited zero point is the model's: every magnitude one fainter
    before = [panel.value(r, MAG) for r in range(2)]
    panel.zp_edit.setText(f"{f.camera.zero_point + 1:g}")
    again = finished(qtbot, window, panel.rerun_button.click)
    assert again.zero_point_source == "given"
    after = [panel.value(r, MAG) for r in range(2)]
    assert after == pytest.approx([m + 1.0 for m in before], abs=1e-3)

    # export: one FITS of four images, one catalogue of two rows
    fits_path = dc.export_components(tmp_path / "components.fits")
    with fits.open(fits_path) as hdul:
        assert len(hdul) == 4
        assert [h.name for h in hdul[1:]] == ["GALAXY1", "GALAXY2", "RESIDUAL"]
        assert hdul["GALAXY1"].data.shape == result.cutout.shape
    table = Table.read(dc.export_photometry(tmp_path / "photometry.ecsv"), format="ascii.ecsv")
    assert len(table) == 2 and np.allclose(sorted(table["mag"]), sorted(after), atol=1e-3)


def test_deblend_the_selected_source_or_a_drawn_box(qtbot, deblend_window, blend):
    from decoras_gui.core.catalogue import Catalogue, Source

    window = deblend_window
    f, paths = blend
    open_and_wait(qtbot, window, paths["image"])
    dc = window.deblend
    x, y = centre_of(f)
    assert dc.start() is None and dc.box_tool.active  # nothing selected: drag a box
    assert window.act_cancel.isEnabled()  # Esc leaves the box tool
    window.act_cancel.trigger()
    assert not dc.box_tool.active and not window.act_cancel.isEnabled()
    dc.act_deblend.trigger()
    assert dc.box_tool.active
    result = finished(qtbot, window, lambda: dc.box_tool.drawn.emit(x, y, 48.0, 40.0, 0.0))
    assert not dc.box_tool.active and result.cutout.shape == (48, 48)
    assert dc.panel.table.rowCount() == 2
    # a selected source a little off a galaxy: the 64-pixel cutout is centred on the galaxy it is on
    g = f.galaxies[0]
    window.doc.set_catalogue(Catalogue([Source(source_id=1, x=g.x + 2.0, y=g.y - 1.5)]))
    window.doc.set_selection([1])
    result = finished(qtbot, window, dc.act_deblend.trigger)
    assert result.cutout.shape == (64, 64) and not dc.box_tool.active
    assert abs(result.origin[0] + 32 - g.y) <= 1.5 and abs(result.origin[1] + 32 - g.x) <= 1.5
    assert any("centred on the galaxy nearest" in n for n in result.notes)


def test_no_psf_fwhm_gives_a_message_not_an_exception(qtbot, deblend_window, no_psf_fits, blend):
    window = deblend_window
    open_and_wait(qtbot, window, no_psf_fits)
    panel = window.deblend.panel
    assert panel.fwhm_edit.text() == "" and "not in the header" in panel.fwhm_source.text()
    x, y = centre_of(blend[0])
    with qtbot.waitSignal(window.deblend.refused, timeout=10_000) as refused:
        assert window.deblend.start(x, y) is None
    assert "PSF" in refused.args[0] and "FWHM" in refused.args[0]
    assert "FWHM" in window.statusBar().currentMessage() and panel.message.text() == refused.args[0]
    assert window.error_box is None and not window.busy
    # typed in, it is used
    panel.fwhm_edit.setText(f"{blend[0].psf_fwhm_arcsec:.3f}")
    result = deblend(qtbot, window, x, y)
    assert result.psf_source == "given" and panel.table.rowCount() == 2 and not panel.message.isVisible()
