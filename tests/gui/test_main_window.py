"""The window on real files: open (one code path), detect with a real model, overlays
and table in step, selection both ways, threshold slider, cancel, errors, responsiveness."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest
from astropy.io import fits
from PySide6.QtCore import QItemSelectionModel, QMimeData, QObject, QPoint, QPointF, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from decoras_gui.core.catalogue import ACCEPTED, REJECTED, Source
from decoras_gui.core.edits import CatalogueEdit
from tests.conftest import sky_header

from .conftest import HOLD_LIMIT_S, detect_and_wait, hold_until_cancelled, network_tiles, open_and_wait


def _view_point(window, x, y) -> QPoint:
    canvas = window.canvas
    scene = canvas.vb.mapViewToScene(QPointF(x, y))
    return canvas.graphics.mapFromScene(scene)


def test_welcome_state(window):
    assert window.stack.currentWidget() is window.welcome
    assert "Open a FITS image (Ctrl+O) or try the sample" in window.welcome_label.text()
    assert not window.act_detect.isEnabled()


def test_open_4d_detect_and_views_agree(qtbot, window, vlba_fits):
    image = open_and_wait(qtbot, window, vlba_fits)
    assert image.shape == (256, 256) and len(image.extra_axes) == 2  # FREQ, STOKES squeezed
    assert window.stack.currentWidget() is window.views
    assert window.canvas.beam_item.isVisible() and window.canvas.scale_item.isVisible()
    assert window.stats.rows and any(label == "Beam" for label, _ in window.stats.rows)
    assert window.act_detect.isEnabled()

    cat = detect_and_wait(qtbot, window)
    n = len(cat)
    assert n > 0
    assert window.overlay.ellipse_count() == n
    assert window.table.row_count() == n
    assert sorted(window.table.shown_ids()) == sorted(window.overlay.shown_ids()) == sorted(cat.ids)
    assert cat.meta.get("model") == "vlba-l-band"  # the real bundled model

    # row -> ellipse (and the view centres on it)
    proxy = window.table.proxy
    sm = window.table.view.selectionModel()
    flags = QItemSelectionModel.SelectionFlag
    sm.select(proxy.index(0, 0), flags.ClearAndSelect | flags.Rows)
    sid = window.table.selected_ids()[0]
    assert window.doc.selected_ids == [sid]
    assert window.overlay.highlighted_ids == [sid]
    assert window.overlay.highlight.path().elementCount() > 0
    src = cat.get(sid)
    centre = window.canvas.vb.viewRect().center()
    assert abs(centre.x() - src.x) < 1.0 and abs(centre.y() - src.y) < 1.0

    # ellipse -> row: a real mouse click on another source's centre
    window.canvas.fit()
    other = next(s for s in cat if s.source_id != sid and window.overlay.source_at(s.x, s.y) == s.source_id)
    qtbot.mouseClick(window.canvas.graphics.viewport(), Qt.MouseButton.LeftButton,
                     pos=_view_point(window, other.x, other.y))
    qtbot.waitUntil(lambda: window.doc.selected_ids == [other.source_id], timeout=30000)
    assert window.table.selected_ids() == [other.source_id]
    assert window.overlay.highlighted_ids == [other.source_id]


def test_threshold_slider_hides_candidates_live(qtbot, window, vlba_fits):
    open_and_wait(qtbot, window, vlba_fits)
    cat = detect_and_wait(qtbot, window)
    probs = np.array([s.det_prob for s in cat])
    # a slider step (0.001) that splits the candidates (an untrained model's probabilities are close)
    steps = [v for v in range(1001) if 0 < np.sum(probs >= v / 1000) < len(probs)]
    assert steps, "no slider position splits the detections"
    value = steps[len(steps) // 2]
    threshold = value / 1000
    expected = int(np.sum(probs >= threshold))
    window.prob_slider.setValue(value)
    assert window.doc.min_prob == pytest.approx(threshold)
    assert window.prob_label.text() == f"P ≥ {threshold:.3f}"
    assert window.overlay.ellipse_count() == expected
    assert window.table.row_count() == expected
    assert all(cat.get(i).det_prob >= threshold for i in window.table.shown_ids())
    assert len(window.doc) == len(cat)  # nothing re-run, nothing removed
    # a vetted source stays visible below the slider
    low = min(cat, key=lambda s: s.det_prob)
    window.vetting.set_status(ACCEPTED, [low.source_id])
    assert low.source_id in window.overlay.shown_ids() and low.source_id in window.table.shown_ids()
    window.prob_slider.setValue(0)
    assert window.overlay.ellipse_count() == window.table.row_count() == len(cat)
    # status toggles hide ellipses and rows alike
    window.status_actions["candidate"].setChecked(False)
    assert window.overlay.ellipse_count() == window.table.row_count() == 1


def test_rerun_keeps_vetted_sources(qtbot, window, vlba_fits):
    open_and_wait(qtbot, window, vlba_fits)
    first = detect_and_wait(qtbot, window).copy()
    a, r = first[0], first[1]
    window.vetting.set_status(ACCEPTED, [a.source_id])
    window.vetting.set_status(REJECTED, [r.source_id])
    manual = Source(source_id=window.doc.catalogue.next_id(), x=5.0, y=250.0, origin="manual", status=ACCEPTED)
    window.doc.apply(CatalogueEdit.add(window.doc.catalogue, [manual], "add"))
    second = detect_and_wait(qtbot, window)
    assert second.get(a.source_id).status == ACCEPTED
    assert second.get(r.source_id).status == REJECTED
    assert second.get(manual.source_id).origin == "manual"
    candidates = [s for s in second if s.status == "candidate"]
    # the same network on the same image: every old candidate replaced, none near a kept source
    assert len(candidates) == len(first) - 2
    assert len(set(second.ids)) == len(second)
    assert window.overlay.ellipse_count() == window.table.row_count() == len(second)


def test_cancel_is_acted_on_before_the_next_tile(qtbot, window, big_noise_fits):
    """Cancel in the middle of the networks: no further tile is run, the catalogue is unchanged.
    (How soon that is in seconds: benchmarks/gui_detect_responsiveness.py.)"""
    open_and_wait(qtbot, window, big_noise_fits)
    before = list(window.doc.catalogue)
    worker = window.run_detection()
    held, tiles = hold_until_cancelled(worker)
    qtbot.waitUntil(held.is_set, timeout=60000)  # the worker has finished a batch and waits
    at_cancel = list(tiles)
    with qtbot.waitSignal(window.detection_cancelled, timeout=60000):
        window.tasks.cancel_button.click()
    assert tiles == at_cancel, f"tiles run after the cancel: {tiles[len(at_cancel):]}"
    done, total = tiles[-1]
    assert 1 <= done < total  # stopped mid-run
    qtbot.waitUntil(lambda: not window.busy, timeout=30000)
    assert list(window.doc.catalogue) == before
    assert not window.tasks.cancel_button.isVisible()
    assert window.act_detect.isEnabled()


class UiPing(QObject):
    """Lives in the UI thread: a ping emitted from another thread is answered by the UI
    thread's event loop (a queued connection)."""

    ping = Signal(object)

    def __init__(self):
        super().__init__()
        self.ping.connect(self._answer)

    @Slot(object)
    def _answer(self, answered: threading.Event) -> None:
        answered.set()


def test_event_loop_keeps_running_during_detection(qtbot, window, big_noise_fits):
    """At every network tile the worker waits until the UI thread's event loop has answered it:
    the networks run off the UI thread, and the UI thread is free while they do. (The longest
    UI stall in seconds: benchmarks/gui_detect_responsiveness.py.)"""
    open_and_wait(qtbot, window, big_noise_fits)  # 1200 x 1200: several batches of tiles
    ui = UiPing()
    answers = []  # (tiles done, worker thread is not the UI thread, UI answered)

    def at_tile(done: int, total: int) -> None:
        answered = threading.Event()
        ui.ping.emit(answered)
        answers.append((done, threading.get_ident() != threading.main_thread().ident,
                        answered.wait(HOLD_LIMIT_S)))

    with qtbot.waitSignal(window.detection_finished, timeout=180000):
        tiles = network_tiles(window.run_detection(), at_tile)
    assert len(tiles) >= 3 and tiles[-1][0] == tiles[-1][1]  # a run of several batches, to the end
    assert answers and all(off_ui and answered for _, off_ui, answered in answers), answers


@pytest.mark.parametrize("kind", ["text", "truncated"])
def test_bad_file_shows_error_and_keeps_image(qtbot, window, vlba_fits, tmp_path, kind):
    open_and_wait(qtbot, window, vlba_fits)
    bad = tmp_path / f"broken_{kind}.fits"
    if kind == "text":
        bad.write_text("this is not a FITS file\n" * 20)
    else:
        bad.write_bytes(vlba_fits.read_bytes()[:4000])
    with qtbot.waitSignal(window.task_failed, timeout=20000) as blocker:
        window.open_path(bad)
    assert str(bad) in blocker.args[0]
    box = window.error_box
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert bad.name in box.text()
    assert window.image.path == vlba_fits
    assert window.stack.currentWidget() is window.views
    box.accept()
    qtbot.waitUntil(lambda: window.error_box is None, timeout=30000)
    # still usable: the good file opens again
    open_and_wait(qtbot, window, vlba_fits)


def test_hdu_chooser_for_multi_extension_file(qtbot, window, tmp_path):
    path = tmp_path / "two.fits"
    h = sky_header(40, 30)
    fits.HDUList([fits.PrimaryHDU(np.zeros((30, 40), np.float32), h),
                  fits.ImageHDU(np.ones((20, 24), np.float32), sky_header(24, 20), name="SECOND")]).writeto(path)
    window.open_path(path)
    qtbot.waitUntil(lambda: getattr(window, "plane_dialog", None) is not None and window.plane_dialog.isVisible(),
                    timeout=20000)
    dialog = window.plane_dialog
    assert dialog.hdu_combo.count() == 2
    dialog.hdu_combo.setCurrentIndex(1)
    with qtbot.waitSignal(window.image_opened, timeout=20000):
        dialog.accept()
    assert window.image.hdu_index == 1 and window.image.shape == (20, 24)


def test_plane_chooser_for_cube(qtbot, window, tmp_path):
    """A cube of one FREQ axis opens on its first plane (the Cube toolbar steps); one with a FREQ
    and a STOKES axis asks which plane."""
    path = tmp_path / "cube.fits"
    data = np.stack([np.full((16, 20), k, np.float32) for k in range(3)])
    fits.PrimaryHDU(data, sky_header(20, 16, naxis=3)).writeto(path)
    image = open_and_wait(qtbot, window, path)
    assert image.plane == (0,) and getattr(window, "plane_dialog", None) is None and window.cube.bar.isVisible()
    both = tmp_path / "cube4.fits"
    data4 = np.stack([np.stack([np.full((16, 20), 10 * s + k, np.float32) for k in range(3)]) for s in range(2)])
    fits.PrimaryHDU(data4, sky_header(20, 16, naxis=4)).writeto(both)
    window.open_path(both)
    qtbot.waitUntil(lambda: getattr(window, "plane_dialog", None) is not None and window.plane_dialog.isVisible(),
                    timeout=20000)
    dialog = window.plane_dialog
    assert len(dialog.plane_spins) == 2 and dialog.plane_spins[0].maximum() == 2
    dialog.plane_spins[0].setValue(2)
    dialog.plane_spins[1].setValue(1)
    with qtbot.waitSignal(window.image_opened, timeout=20000):
        dialog.accept()
    assert window.image.plane == (2, 1)
    assert float(np.nanmax(window.image.data)) == 12.0
    # explicit choice from the command line path: no dialog
    window.plane_dialog = None
    image = open_and_wait(qtbot, window, path, hdu=0, plane=1)
    assert image.plane == (1,) and window.plane_dialog is None


def test_drag_and_drop_opens(qtbot, window, vlba_fits):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(vlba_fits))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the QPoint constructor, the only one
        enter = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                                Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.image_opened, timeout=20000):
        QApplication.sendEvent(window, event)
    assert window.image.path == vlba_fits


def test_cursor_readout(qtbot, window, vlba_fits):
    image = open_and_wait(qtbot, window, vlba_fits)
    x, y = 100, 60
    qtbot.mouseMove(window.canvas.graphics.viewport(), _view_point(window, x, y))
    qtbot.waitUntil(lambda: "0-based" in window.readout.text(), timeout=30000)
    text = window.readout.text()
    assert f"x {x}  y {y}" in text
    assert "RA " in text and "Dec " in text and "σ" in text
    assert "Jy / beam" in text or "Jy/beam" in text
    assert "0-based" in window.readout.toolTip()
    world = image.world_at(x, y)
    assert f"{world.ra.deg:.6f}" in text


def test_header_dialog_filters(qtbot, window, vlba_fits):
    open_and_wait(qtbot, window, vlba_fits)
    dialog = window.show_header()
    total = len(dialog.shown_cards())
    assert total > 10
    dialog.search.setText("ctype")
    cards = dialog.shown_cards()
    assert 0 < len(cards) < total and all("CTYPE" in c for c in cards)
    assert "RA---SIN" in "\n".join(cards)
    dialog.close()


def test_display_controls_restretch(qtbot, window, vlba_fits):
    open_and_wait(qtbot, window, vlba_fits)
    before = window.canvas.image_item.image.copy()
    window.display.stretch_combo.setCurrentIndex(window.display.stretch_combo.findData("linear"))
    window.display.limits_combo.setCurrentIndex(window.display.limits_combo.findData("minmax"))
    after = window.canvas.image_item.image
    assert window.display.settings.stretch == "linear" and window.display.settings.limits == "minmax"
    assert not np.allclose(before, after)
    assert np.nanmin(after) == pytest.approx(0.0, abs=1e-6) and np.nanmax(after) == pytest.approx(1.0, abs=1e-6)
    window.display.cmap_combo.setCurrentIndex(window.display.cmap_combo.findData("viridis"))
    window.display.invert_check.setChecked(True)
    assert window.display.settings.colormap == "viridis" and window.display.settings.invert
    window.display.limits_combo.setCurrentIndex(window.display.limits_combo.findData("manual"))
    window.display.vmax_spin.setValue(window.display.limits[0] + 1e-4)
    assert window.display.limits[1] == pytest.approx(window.display.limits[0] + 1e-4)


def test_settings_persist(qtbot, make_window, vlba_fits, gui_settings):
    w = make_window()
    open_and_wait(qtbot, w, vlba_fits)
    w.display.stretch_combo.setCurrentIndex(w.display.stretch_combo.findData("sqrt"))
    w.display.cmap_combo.setCurrentIndex(w.display.cmap_combo.findData("gray"))
    w.device_combo.setCurrentIndex(w.device_combo.findData("cpu"))
    w.close()
    assert gui_settings.is_file()
    w2 = make_window()
    assert w2.display.settings.stretch == "sqrt" and w2.display.settings.colormap == "gray"
    assert w2.device_combo.currentData() == "cpu"
    assert w2.settings.recent_files()[0] == str(vlba_fits.resolve())
    assert w2.settings.last_folder() == str(vlba_fits.resolve().parent)


def test_labels_and_overlay_toggle(qtbot, window, vlba_fits):
    open_and_wait(qtbot, window, vlba_fits)
    cat = detect_and_wait(qtbot, window)
    window.act_labels.setChecked(True)
    assert window.overlay.label_count == len(cat)
    window.act_overlay.setChecked(False)
    assert not any(item.isVisible() for item in window.overlay.items.values())
    window.act_overlay.setChecked(True)
    assert window.overlay.ellipse_count() == len(cat)


def test_about_shows_the_version_and_the_model_figures(qtbot, window):
    from decoras_gui import __version__
    from decoras_gui.ml.registry import load_model

    card = load_model().card
    box = window.about()
    text = box.text()
    assert f"decoras-gui {__version__}" in text and f"{card.name} {card.version}" in text
    # the headline figures are the out-of-distribution ones (with the dirty beam)
    ood = card.evaluation["by_family"]["ood, with its dirty beam"]["methods"][card.name]
    assert "purity, SNR &gt;= 5.5" in text and f"{ood['purity_snr_ge_5.5']:.3f}" in text
    assert "position error" in text
    box.close()
