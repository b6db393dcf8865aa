"""The window chooses the model for the image it opens, says so in the status bar, warns when
the image is outside every model's domain, and lists the models in Help > Models…."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gui.conftest import open_and_wait

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "resources" / "sample_vlba_dirty.fits"
REAL = REPO.parent / "shared" / "data" / "real"
EVN = REAL / "evn_L_4C39.25_n05l1_ICLN.fits"
W51 = REAL / "nvas_vla_K_W51.fits"


def test_the_sample_gets_the_bundled_model_and_the_status_bar_says_it_covers_it(qtbot, window):
    open_and_wait(qtbot, window, SAMPLE)
    assert window.model_combo.currentData() == "vlba-l-band"
    assert "covers this image" in window.model_status.text()
    assert window.model_status.property("warning") is False
    assert window.model_choice.covered


def test_a_restored_vlbi_image_gets_the_restored_model_and_one_outside_every_domain_a_warning(qtbot, window):
    if not EVN.is_file():
        pytest.skip("the observed images are not here")
    open_and_wait(qtbot, window, EVN)
    assert window.model_combo.currentData() == "vlbi-restored"
    assert window.model_status.property("warning") is False and "covers this image" in window.model_status.text()
    open_and_wait(qtbot, window, W51)
    assert window.model_status.property("warning") is True
    assert "outside its domain" in window.model_status.text()
    tip = window.model_status.toolTip()
    assert "outside the domain of every installed model" in tip and "VLA" in tip and "22.5 GHz" in tip
    # choosing another model by hand says whether it covers the image
    window.model_combo.setCurrentIndex(window.model_combo.findData("vlba-l-band"))
    assert window.model_status.property("warning") is True
    # back on a dirty VLBA image the warning goes
    open_and_wait(qtbot, window, SAMPLE)
    assert window.model_status.property("warning") is False and window.model_combo.currentData() == "vlba-l-band"


def test_the_models_dialog_lists_each_model_against_the_open_image(qtbot, window):
    open_and_wait(qtbot, window, SAMPLE)
    window.act_models.trigger()
    dialog = window.models_dialog
    qtbot.waitUntil(dialog.isVisible)
    table = dialog.table
    assert table.rowCount() == len(dialog.cards) >= 1
    names = [table.item(r, 0).text() for r in range(table.rowCount())]
    row = next(r for r, n in enumerate(names) if n.startswith("vlba-l-band"))
    assert table.item(row, 5).text() == "covers it"
    assert "VLBA" in table.item(row, 2).text()
    assert float(table.item(row, 3).text()) > 0.5  # the card's OOD purity, shown
    text = dialog.details.toPlainText()
    assert "Domain:" in text and "Study" in text and "AutoML study" in text
    dialog.close()
