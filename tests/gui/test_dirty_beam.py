"""The dirty beam in the window: found beside an image when it opens, chosen with File > Open Dirty
Beam… (the real menu action and file dialog), refused in a dialog naming the file when it is not
one, and used by the next Detect: the table shows sidelobe_of and p_sidelobe."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit

from decoras_gui.gui.source_table import COLUMN_INDEX
from tests.conftest import write_bright_point
from tests.gui.conftest import detect_and_wait, open_and_wait


@pytest.fixture(scope="module")
def bright(tmp_path_factory):
    """A 400-sigma point source (the bundled model finds false detections on its sidelobes),
    as bright.fits + bright_beam.fits, and a copy of the image with no PSF beside it."""
    image, beam = write_bright_point(tmp_path_factory.mktemp("bright"))
    alone = tmp_path_factory.mktemp("alone") / "alone.fits"
    shutil.copy(image, alone)
    return image, beam, alone


#: vlba-l-band 1.0.0 (kept for the refactoring guard): no dirty-beam channel, so it takes the bright
#: point's sidelobes for sources -- what the sidelobe test flags (the bundled 2.0.0 finds the point alone)
V1_MODELS = str(Path(__file__).resolve().parents[1] / "data" / "refactor" / "model")


@pytest.fixture
def v1_window(make_window):
    return make_window(model_dir=V1_MODELS)


def _menu_action(window, text: str):
    for menu_action in window.menuBar().actions():
        if menu_action.text().replace("&", "") == "File":
            for a in menu_action.menu().actions():
                if a.text().replace("&", "") == text:
                    return a
    raise AssertionError(f"no File > {text}")


def _wait_message(qtbot, window, text: str) -> None:
    qtbot.waitUntil(lambda: text in window.statusBar().currentMessage(), timeout=10000)


def _choose_in_file_dialog(qtbot, path) -> list:
    """Answer the next modal file dialog with ``path`` (the real dialog, driven as a user would)."""
    seen = []

    def answer():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QFileDialog):
            if len(seen) < 200:  # 10 s
                seen.append(None)
                QTimer.singleShot(50, answer)
            return
        seen[:] = [dialog.windowTitle()]
        dialog.findChild(QLineEdit, "fileNameEdit").setText(str(path))  # typed, as a user would
        dialog.accept()

    QTimer.singleShot(50, answer)
    return seen


def test_found_beside_the_image_and_used_by_detect(qtbot, v1_window, bright):
    window = v1_window
    image, beam, _ = bright
    open_and_wait(qtbot, window, image)
    assert window.detection.psf_path == beam
    _wait_message(qtbot, window, "bright_beam.fits found beside bright.fits")
    assert window.detection.psf_label.text() == "PSF: bright_beam.fits"
    cat = detect_and_wait(qtbot, window)
    assert len(cat) >= 2 and all(0.0 <= s.p_sidelobe <= 1.0 for s in cat)
    flagged = [s for s in cat if s.p_sidelobe > 0.5]
    assert flagged and all(s.sidelobe_of in cat for s in flagged)  # ids of this catalogue, after merging
    brightest = max(cat, key=lambda s: s.peak_flux)
    assert all(s.sidelobe_of == brightest.source_id for s in flagged)
    _wait_message(qtbot, window, f"{len(flagged)} likely sidelobes")
    model = window.table.model
    row = model.row_of(flagged[0].source_id)
    text = model.data(model.index(row, COLUMN_INDEX["sidelobe_of"]))
    assert text == str(brightest.source_id)
    assert float(model.data(model.index(row, COLUMN_INDEX["p_sidelobe"]))) > 0.5
    header = model.headerData(COLUMN_INDEX["p_sidelobe"], Qt.Orientation.Horizontal)
    assert header.replace("\n", "") == "P(side-lobe)"


def test_open_dirty_beam_from_the_menu(qtbot, v1_window, bright, tmp_path):
    window = v1_window
    image, beam, alone = bright
    open_and_wait(qtbot, window, alone)
    assert window.detection.psf_path is None
    _wait_message(qtbot, window, "No dirty beam beside alone.fits")
    assert window.detection.psf_label.text() == "No PSF"
    cat = detect_and_wait(qtbot, window)
    assert all(math.isnan(s.p_sidelobe) for s in cat)
    action = _menu_action(window, "Open Dirty Beam…")
    assert action.isEnabled()
    seen = _choose_in_file_dialog(qtbot, beam)
    with qtbot.waitSignal(window.detection.psf_changed, timeout=30000):
        action.trigger()
    assert seen == ["Open Dirty Beam"]
    assert window.detection.psf_path == beam
    _wait_message(qtbot, window, "Dirty beam bright_beam.fits loaded")
    assert window.detection.psf_label.text() == "PSF: bright_beam.fits"
    cat = detect_and_wait(qtbot, window)
    assert all(0.0 <= s.p_sidelobe <= 1.0 for s in cat) and any(s.p_sidelobe > 0.5 for s in cat)


def test_a_file_that_is_not_a_beam_is_refused_naming_it(qtbot, window, bright, tmp_path):
    image, beam, _ = bright
    open_and_wait(qtbot, window, image)
    wrong = tmp_path / "not_a_beam.fits"
    data = np.random.default_rng(0).normal(size=(64, 64)).astype(np.float32)
    data[3, 3] = 40.0
    fits.PrimaryHDU(data).writeto(wrong)
    _choose_in_file_dialog(qtbot, wrong)
    _menu_action(window, "Open Dirty Beam…").trigger()
    qtbot.waitUntil(lambda: window.error_box is not None, timeout=30000)
    assert "not_a_beam.fits" in window.error_box.text() and "not a dirty beam" in window.error_box.text()
    assert window.error_box.windowTitle() == "Cannot use the dirty beam"
    assert window.detection.psf_path == beam  # the beam found beside the image stays in use
    window.error_box.close()


def test_no_image_no_dirty_beam_action(window):
    assert not _menu_action(window, "Open Dirty Beam…").isEnabled()
