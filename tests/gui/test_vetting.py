"""Vetting in the real window: keys, mouse drags on the graphics view, undo, exports, sessions.

Everything runs on real widgets (offscreen), a real simulated 4-D VLBA FITS image, real
files; key presses and mouse events go to the window and the view's viewport.
"""

from __future__ import annotations

import math
import shutil
import time

import numpy as np
import pytest
from astropy import units as u
from astropy.io.votable import parse as parse_votable
from astropy.io.votable import validate as validate_votable
from astropy.table import Table
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from decoras_gui.core.catalogue import Catalogue, Source
from decoras_gui.core.errors import DecorasError
from decoras_gui.core.fileio import atomic_path
from decoras_gui.core.measure import measure_ellipse
from decoras_gui.core.regions_io import read_regions, regions_to_sources
from decoras_gui.gui.source_table import COLUMN_INDEX
from tests.gui.conftest import open_and_wait

POSITIONS = [(60.0, 60.0, 0.95, 3.0), (200.0, 70.0, 0.85, 12.0), (128.0, 190.0, 0.4, 6.0),
             (40.0, 200.0, 0.2, 2.0), (210.0, 210.0, 0.65, 8.0), (100.0, 120.0, 0.05, 1.5)]


def snapshot(window) -> list[Source]:
    return list(window.doc.catalogue)


def assert_same(a: list[Source], b: list[Source]) -> None:
    assert [s.source_id for s in a] == [s.source_id for s in b]
    for s, t in zip(a, b):
        assert s == t, (s, t)


def build_catalogue(image) -> Catalogue:
    cat = Catalogue(meta={"image": image.name, "image_path": str(image.path), "model": "tiny",
                          "model_version": "0.0.1"})
    for i, (x, y, prob, snr) in enumerate(POSITIONS):
        m = measure_ellipse(image, x, y, 7.0, 4.0, 20.0 * i)
        m["snr"] = snr
        cat.add(Source(source_id=i + 1, det_prob=prob, model="tiny", **m))
    return cat


@pytest.fixture
def vet(qtbot, window, vlba_fits):
    image = open_and_wait(qtbot, window, vlba_fits)
    window.doc.set_catalogue(build_catalogue(image))
    window.activateWindow()
    qtbot.waitActive(window, timeout=30000)
    qtbot.waitUntil(lambda: window.canvas.vb.width() > 100, timeout=30000)
    return window


def key(qtbot, window, k, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(window.canvas.graphics.viewport(), k, modifier)


def to_viewport(window, x: float, y: float) -> QPoint:
    scene = window.canvas.vb.mapViewToScene(QPointF(x, y))
    return window.canvas.graphics.mapFromScene(scene)


def _mouse(widget, kind, pos: QPoint, buttons) -> None:
    from PySide6.QtGui import QMouseEvent

    local = QPointF(pos)
    glob = QPointF(widget.mapToGlobal(pos))
    button = Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
    ev = QMouseEvent(kind, local, glob, button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, ev)


def drag(window, p0, p1, steps: int = 10) -> None:
    """A real left-button drag on the view's viewport (press, moves with the button held,
    release), from data point p0 to data point p1."""
    vp = window.canvas.graphics.viewport()
    a, b = to_viewport(window, *p0), to_viewport(window, *p1)
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    _mouse(vp, QEvent.Type.MouseMove, a, none)
    _mouse(vp, QEvent.Type.MouseButtonPress, a, left)
    for i in range(1, steps + 1):
        p = QPoint(round(a.x() + (b.x() - a.x()) * i / steps), round(a.y() + (b.y() - a.y()) * i / steps))
        time.sleep(0.02)  # pyqtgraph drops mouse moves closer than its rate limit (100 Hz)
        _mouse(vp, QEvent.Type.MouseMove, p, left)
    _mouse(vp, QEvent.Type.MouseButtonRelease, b, none)
    QApplication.processEvents()


def table_text(window, sid: int, col: str) -> str:
    m = window.table.model
    return m.data(m.index(m.row_of(sid), COLUMN_INDEX[col]))


def view_centre(window) -> tuple[float, float]:
    r = window.canvas.vb.viewRect()
    return r.center().x(), r.center().y()


# ------------------------------------------------------------------ keys

def test_keys_accept_reject_unvet_next_previous(qtbot, vet):
    w = vet
    before = snapshot(w)
    key(qtbot, w, Qt.Key.Key_N)
    assert w.doc.selected_ids == [1]
    cx, cy = view_centre(w)
    assert (cx, cy) == pytest.approx((60.0, 60.0), abs=0.6)  # the view centres on it
    key(qtbot, w, Qt.Key.Key_A)
    assert w.doc.catalogue.get(1).status == "accepted"
    assert table_text(w, 1, "status") == "accepted"
    assert 1 in [int(i) for i in w.overlay.ids[w.overlay.status == "accepted"]]
    key(qtbot, w, Qt.Key.Key_N)
    assert w.doc.selected_ids == [2]
    assert view_centre(w) == pytest.approx((200.0, 70.0), abs=0.6)
    key(qtbot, w, Qt.Key.Key_R)
    assert w.doc.catalogue.get(2).status == "rejected"
    key(qtbot, w, Qt.Key.Key_Tab)
    assert w.doc.selected_ids == [3]
    key(qtbot, w, Qt.Key.Key_P)
    key(qtbot, w, Qt.Key.Key_P)
    assert w.doc.selected_ids == [1]
    key(qtbot, w, Qt.Key.Key_U)
    assert w.doc.catalogue.get(1).status == "candidate"
    # auto-advance: a decision moves on to the next source
    w.vetting.act_auto.setChecked(True)
    w.doc.set_selection([4])
    key(qtbot, w, Qt.Key.Key_A)
    assert w.doc.catalogue.get(4).status == "accepted" and w.doc.selected_ids == [5]
    assert w.doc.undo_stack.count() == 4
    for _ in range(4):
        key(qtbot, w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert_same(snapshot(w), before)
    key(qtbot, w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert w.doc.catalogue.get(1).status == "accepted"


def test_delete_key_and_undo_puts_row_back(qtbot, vet):
    w = vet
    before = snapshot(w)
    w.doc.set_selection([3])
    key(qtbot, w, Qt.Key.Key_Delete)
    assert 3 not in w.doc.catalogue and w.table.model.rowCount() == 5
    assert 3 not in w.overlay.shown_ids()
    w.doc.undo_stack.undo()
    assert_same(snapshot(w), before)
    assert w.doc.catalogue.index(3) == 2


def test_note_dialog_and_threshold_menu(qtbot, vet):
    w = vet
    before = snapshot(w)
    w.doc.set_selection([2])
    key(qtbot, w, Qt.Key.Key_T)
    d = w.vetting.dialog
    assert d is not None and d.isVisible()
    d.setTextValue("core-jet; check the 2 GHz image ✓")
    d.accept()
    assert w.doc.catalogue.get(2).note == "core-jet; check the 2 GHz image ✓"
    after_note = snapshot(w)
    # Vetting > Accept by threshold: P >= 0.6 accepts 1, 2, 5
    w.vetting.act_bulk_accept.trigger()
    d = w.vetting.dialog
    d.value.setValue(0.6)
    assert d.preview.text().startswith("3 sources will change")
    d.accept()
    assert [s.source_id for s in w.doc.catalogue if s.status == "accepted"] == [1, 2, 5]
    w.vetting.act_bulk_reject.trigger()
    d = w.vetting.dialog
    d.quantity.setCurrentIndex(d.quantity.findData("snr"))
    d.value.setValue(2.5)
    d.accept()
    assert [s.source_id for s in w.doc.catalogue if s.status == "rejected"] == [4, 6]
    assert [w.doc.undo_stack.text(i) for i in range(w.doc.undo_stack.count())][-2:] == [
        "Accept 3 sources with P ≥ 0.6", "Reject 2 sources with SNR < 2.5"]
    w.doc.undo_stack.undo()
    w.doc.undo_stack.undo()
    assert_same(snapshot(w), after_note)
    w.doc.undo_stack.undo()
    assert_same(snapshot(w), before)


# ------------------------------------------------------------------ mouse

def test_drag_ellipse_moves_it_and_remeasures(qtbot, vet):
    w = vet
    image = w.image
    data = np.asarray(image.data)
    py, px = np.unravel_index(np.nanargmax(data), data.shape)  # the brightest pixel
    s0 = w.doc.catalogue.get(3)
    # put source 3 eight pixels off the peak, zoomed in
    w.vetting.commit_ellipse(3, float(px) - 8.0, float(py), 7.0, 4.0, 0.0)
    w.doc.undo_stack.clear()
    start = snapshot(w)
    w.doc.set_selection([3])
    w.canvas.center_on(float(px), float(py), size=7.0)
    qtbot.waitUntil(lambda: w.vetting.edit.roi.isVisible(), timeout=30000)
    old = w.doc.catalogue.get(3)
    old_peak_text = table_text(w, 3, "peak")
    drag(w, (old.x, old.y), (old.x + 8.0, old.y))
    new = w.doc.catalogue.get(3)
    assert new.x == pytest.approx(px, abs=0.6) and new.y == pytest.approx(py, abs=0.6)
    assert new.edited and new.peak_flux > old.peak_flux
    assert new.peak_flux == pytest.approx(float(data[py, px]), rel=1e-6)
    assert new.total_flux != old.total_flux
    sky = image.wcs.pixel_to_world(new.x, new.y)
    assert new.ra == pytest.approx(sky.spherical.lon.deg, abs=1e-10)
    assert table_text(w, 3, "peak") != old_peak_text
    assert table_text(w, 3, "edited") == "✎"
    assert w.doc.undo_stack.text(w.doc.undo_stack.count() - 1) == "Edit source 3"
    w.doc.undo_stack.undo()
    assert_same(snapshot(w), start)
    assert w.vetting.edit.ellipse()[:2] == pytest.approx((old.x, old.y), abs=1e-6)  # handles follow undo
    assert s0.source_id == 3


def test_rotate_and_resize_handles(qtbot, vet):
    w = vet
    w.doc.set_selection([1])
    s = w.doc.catalogue.get(1)
    w.canvas.center_on(s.x, s.y, size=7.0)
    qtbot.waitUntil(lambda: w.vetting.edit.roi.isVisible(), timeout=30000)
    roi = w.vetting.edit.roi
    rotate = [h for h in roi.getHandles() if h.typ == "r"][0]
    hp = roi.mapToParent(rotate.pos())
    before = snapshot(w)
    # drag the rotate handle a quarter turn around the centre
    c = QPointF(s.x, s.y)
    v = hp - c
    drag(w, (hp.x(), hp.y()), (c.x() - v.y(), c.y() + v.x()))
    new = w.doc.catalogue.get(1)
    assert new.edited
    turn = (new.theta_img - s.theta_img) % 180.0
    assert turn == pytest.approx(90.0, abs=6.0)
    assert new.pa != s.pa and new.x == pytest.approx(s.x, abs=1e-6)
    w.doc.undo_stack.undo()
    assert_same(snapshot(w), before)
    # the side handle stretches the major axis only
    side = [h for h in roi.getHandles() if h.typ == "s"]
    state = roi.getState()
    left = [h for h in side if abs(h.pos().y() - 0.5 * state["size"][1]) < 1e-6 and h.pos().x() < 1e-6][0]
    lp = roi.mapToParent(left.pos())
    t = math.radians(s.theta_img)
    drag(w, (lp.x(), lp.y()), (lp.x() - 4 * math.cos(t), lp.y() - 4 * math.sin(t)))
    new = w.doc.catalogue.get(1)
    assert new.maj_img == pytest.approx(s.maj_img + 4.0, abs=0.6)
    assert new.min_img == pytest.approx(s.min_img, abs=1e-6)
    assert new.maj > s.maj and new.r_eff > s.r_eff


def test_drawn_ellipse_adds_a_measured_manual_source(qtbot, vet):
    w = vet
    before = snapshot(w)
    w.canvas.center_on(160.0, 140.0, size=10.0)
    key(qtbot, w, Qt.Key.Key_M)
    assert w.vetting.act_add.isChecked()
    drag(w, (150.0, 135.0), (170.0, 145.0))
    assert len(w.doc) == len(before) + 1
    s = w.doc.catalogue[len(w.doc) - 1]
    assert s.origin == "manual" and s.source_id == 7
    assert s.x == pytest.approx(160.0, abs=0.6) and s.y == pytest.approx(140.0, abs=0.6)
    assert s.maj_img == pytest.approx(20.0, abs=1.0) and s.min_img == pytest.approx(10.0, abs=1.0)
    m = measure_ellipse(w.image, s.x, s.y, s.maj_img, s.min_img, s.theta_img)
    assert s.total_flux == pytest.approx(m["total_flux"]) and math.isfinite(s.peak_flux)
    assert w.table.model.row_of(7) is not None and 7 in w.overlay.shown_ids()
    assert w.doc.selected_ids == [7]
    key(qtbot, w, Qt.Key.Key_M)  # the tool off: a drag pans again
    assert not w.vetting.act_add.isChecked()
    rect = w.canvas.vb.viewRect()
    drag(w, (150.0, 135.0), (160.0, 135.0))
    assert len(w.doc) == len(before) + 1 and w.canvas.vb.viewRect() != rect
    w.vetting.act_undo.trigger()
    assert_same(snapshot(w), before)


def test_history_view_lists_the_commands(qtbot, vet):
    w = vet
    w.doc.set_selection([1])
    w.vetting.set_status("accepted")
    w.vetting.set_note("x")
    model = w.history_view.model()
    texts = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert texts == ["Opened", "Accept source 1", "Note on source 1"]
    assert w.isWindowModified()


# ------------------------------------------------------------------ export / import

def test_exports_read_back(qtbot, vet, tmp_path):
    w = vet
    w.vetting.set_status("accepted", [1, 2])
    w.vetting.set_status("rejected", [3])
    w.vetting.set_note("ünïcode note", [1])
    for ext, fmt in ((".ecsv", None), (".csv", None), (".fits", None), (".vot", None)):
        path = tmp_path / f"cat{ext}"
        w.exchange.export_catalogue(path, statuses=["accepted", "candidate"], format=fmt)
        back = Catalogue.read(path)
        assert [s.status for s in back] == ["accepted", "accepted", "candidate", "candidate", "candidate"]
        assert back.get(1).note == "ünïcode note"
        if ext != ".csv":  # CSV has neither units nor metadata
            assert back.meta["image"] == w.image.name and back.meta["model"] == "tiny"
            assert back.meta["model_version"] == "0.0.1"
            t = Table.read(path) if ext != ".vot" else parse_votable(str(path)).get_first_table().to_table()
            assert t["ra"].unit == u.deg and t["maj"].unit == u.arcsec and t["peak_flux"].unit == u.Jy / u.beam
            assert back.get(2).peak_flux == pytest.approx(w.doc.catalogue.get(2).peak_flux)
    assert validate_votable(str(tmp_path / "cat.vot"), output=None)
    for frame in ("fk5", "icrs", "image"):
        path = tmp_path / f"r_{frame}.reg"
        assert w.exchange.export_regions(path, frame, statuses=["accepted"]) == frame
        text = path.read_text()
        assert frame in [ln.strip() for ln in text.splitlines()] and "FWHM/2" in text
        regs = read_regions(path)
        assert len(regs) == 2
        back = regions_to_sources(regs, wcs=w.image.wcs)
        assert back[0].x == pytest.approx(w.doc.catalogue.get(1).x, abs=1e-3)
    # the dialogs write the same files
    d = w.exchange.export_dialog("regions")
    d.path_row.edit.setText(str(tmp_path / "dialog.reg"))
    d.frame.setCurrentIndex(d.frame.findData("icrs"))
    d.status_checks["candidate"].setChecked(False)
    d.accept()
    assert len(read_regions(tmp_path / "dialog.reg")) == 2
    d = w.exchange.export_dialog("regions")  # CASA: the format combo gives the file its extension
    d.path_row.edit.setText(str(tmp_path / "dialog.reg"))
    d.region_format.setCurrentIndex(d.region_format.findData("crtf"))
    assert d.path_row.path().endswith("dialog.crtf")
    d.accept()
    kept = [s for s in w.doc.catalogue if s.status != "rejected"]
    casa = read_regions(tmp_path / "dialog.crtf")
    assert len(casa) == len(kept) and (tmp_path / "dialog.crtf").read_text().startswith("#CRTF")
    assert sorted(r.meta["tag"][0] for r in casa) == sorted(s.status for s in kept)
    assert w.exchange.import_sources(tmp_path / "dialog.crtf") == len(kept)
    d = w.exchange.export_dialog("catalogue")  # a PyBDSF source list, LoTSS names
    d.path_row.edit.setText(str(tmp_path / "srl.fits"))
    d.format.setCurrentIndex(d.format.findData("fits"))
    d.layout_box.setCurrentIndex(d.layout_box.findData("srl"))
    assert not d.per.isEnabled()
    d.accept()
    srl = Table.read(tmp_path / "srl.fits")
    assert srl.colnames[:2] == ["Source_Name", "RA"] and "status" in srl.colnames and "rejected" not in srl["status"]
    d = w.exchange.export_dialog("png")
    d.path_row.edit.setText(str(tmp_path / "view.png"))
    d.accept()
    img = QImage(str(tmp_path / "view.png"))
    assert not img.isNull() and img.width() > 200


def test_atomic_export_keeps_the_old_file(qtbot, vet, tmp_path):
    w = vet
    path = tmp_path / "cat.ecsv"
    w.exchange.export_catalogue(path)
    old = path.read_bytes()
    with pytest.raises(RuntimeError):
        with atomic_path(path) as tmp:
            tmp.write_text("# %ECSV 1.0\n# half a catalog", encoding="utf-8")
            raise RuntimeError("killed mid-write")
    assert path.read_bytes() == old
    # a real export failing inside the writer: meta that ECSV cannot represent
    w.doc.catalogue.meta["bad"] = object()
    with pytest.raises(Exception):
        w.exchange.export_catalogue(path)
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".cat.ecsv")) == []


def test_import_regions_as_sources_and_reference(qtbot, vet, tmp_path):
    w = vet
    reg = tmp_path / "pybdsf.reg"
    reg.write_text("# Region file format: DS9\nimage\n"
                   "ellipse(61,61,4,2,30) # text={a}\nellipse(101,51,3,3,0)\ncircle(31,181,2)\n")
    before = snapshot(w)
    n = w.exchange.load_reference(reg)
    assert n == 3 and w.exchange.act_reference.isEnabled() and w.exchange.reference.item.isVisible()
    assert w.exchange.reference.item.pen().style() == Qt.PenStyle.DashLine
    assert_same(snapshot(w), before)  # the reference layer is not the catalogue
    w.exchange.act_reference.setChecked(False)
    assert not w.exchange.reference.item.isVisible()
    assert w.exchange.import_sources(reg) == 3
    new = list(w.doc.catalogue)[len(before):]
    assert [s.origin for s in new] == ["imported"] * 3 and {s.status for s in new} == {"candidate"}
    assert new[0].x == pytest.approx(60.0) and new[0].maj_img == pytest.approx(8.0)
    assert math.isfinite(new[0].total_flux)
    w.doc.undo_stack.undo()
    assert_same(snapshot(w), before)


# ------------------------------------------------------------------ sessions

def test_session_save_and_open_round_trip(qtbot, vet, make_window, tmp_path):
    w = vet
    w.doc.set_selection([2])
    w.vetting.set_status("accepted")
    w.vetting.set_note("jet")
    w.vetting.commit_ellipse(5, 211.0, 209.0, 9.0, 5.0, 45.0)
    w.display.set_settings(w.display.settings.replace(colormap="viridis", stretch="sqrt"))
    w.canvas.set_view_range([50.0, 150.0, 40.0, 140.0])
    rng = w.canvas.view_range()
    path = w.sessions.save(tmp_path / "vet")
    assert path.name == "vet.decoras" and not w.isWindowModified()
    w2 = make_window()
    with qtbot.waitSignal(w2.sessions.session_opened, timeout=30000):
        w2.sessions.open(path)
    assert_same(snapshot(w2), snapshot(w))
    assert w2.display.settings.colormap == "viridis" and w2.display.settings.stretch == "sqrt"
    assert math.isnan(w2.display.settings.vmin)  # NaN -> JSON null -> NaN
    got = w2.canvas.view_range()  # same centre and height; the width follows the canvas' aspect
    assert 0.5 * (got[0] + got[1]) == pytest.approx(0.5 * (rng[0] + rng[1]), abs=0.5)
    assert got[2:] == pytest.approx(rng[2:], abs=1.0) or got[1] - got[0] == pytest.approx(rng[1] - rng[0], abs=1.0)
    assert w2.doc.undo_stack.count() == 0


def test_session_with_moved_and_changed_image(qtbot, vet, make_window, tmp_path, vlba_fits):
    w = vet
    w.vetting.set_status("rejected", [4])
    moved = tmp_path / "old" / vlba_fits.name
    moved.parent.mkdir()
    shutil.copy(vlba_fits, moved)
    w2 = make_window()
    open_and_wait(qtbot, w2, moved)
    w2.doc.set_catalogue(Catalogue(snapshot(w), meta=w.doc.catalogue.meta))
    path = w2.sessions.save(tmp_path / "moved.decoras")
    new_home = tmp_path / "new"
    new_home.mkdir()
    shutil.move(str(moved), new_home / vlba_fits.name)
    w3 = make_window()
    w3.sessions.open(path)
    d = w3.sessions.locate_dialog
    assert d is not None and d.isVisible()  # asks where the image went
    with qtbot.waitSignal(w3.sessions.session_opened, timeout=30000):
        d.selectFile(str(new_home / vlba_fits.name))
        d.accept()
    assert w3.image.path.parent == new_home
    assert w3.doc.catalogue.get(4).status == "rejected" and w3.sessions.warning_box is None
    # the same name, other bytes: opened, with a warning
    with open(new_home / vlba_fits.name, "r+b") as fh:
        fh.seek(-4, 2)
        fh.write(b"\x00\x01\x02\x03")
    w4 = make_window()
    w4.sessions.session_path = None
    from decoras_gui.core.session import load_session

    s = load_session(path)
    s.image_path = str(new_home / vlba_fits.name)
    with qtbot.waitSignal(w4.sessions.session_opened, timeout=30000):
        w4.sessions.apply(s)
    assert w4.sessions.warning_box is not None and "checksum" in w4.sessions.warning_box.text()
    assert len(w4.doc) == len(w.doc)


def test_bad_session_file_shows_error(qtbot, window, tmp_path):
    p = tmp_path / "junk.decoras"
    p.write_text("not json")
    window.sessions.open(p)
    assert window.error_box is not None and "junk.decoras" in window.error_box.text()
    with pytest.raises(DecorasError):
        from decoras_gui.core.session import load_session

        load_session(p)


def test_shift_tab_goes_back(qtbot, vet):
    w = vet
    w.doc.set_selection([3])
    key(qtbot, w, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert w.doc.selected_ids == [2]


def test_detect_run_is_undoable(qtbot, window, vlba_fits):
    from tests.gui.conftest import detect_and_wait

    open_and_wait(qtbot, window, vlba_fits)
    window.doc.set_catalogue(build_catalogue(window.image))
    window.vetting.set_status("accepted", [1])
    before = snapshot(window)
    detect_and_wait(qtbot, window)
    assert snapshot(window) != before  # the unvetted candidates were replaced by the model's detections
    assert window.doc.undo_stack.text(window.doc.undo_stack.count() - 1).startswith("Detect")
    window.vetting.act_undo.trigger()
    assert_same(snapshot(window), before)
    assert window.overlay.ellipse_count() == len(before) == window.table.row_count()


def test_restore_dialog_after_a_crash(qtbot, make_window, vlba_fits, journal_dir, tmp_path):
    """A journal left by a killed process: the next window asks, the user clicks Restore."""
    import subprocess
    import sys

    from decoras_gui.core.session import Session, file_sha256, save_session

    image = __import__("decoras_gui.core.image", fromlist=["load_fits"]).load_fits(vlba_fits)
    cat = build_catalogue(image)
    cat.update(2, status="rejected", note="sidelobe")
    start = save_session(Session(cat, str(vlba_fits), file_sha256(vlba_fits)), tmp_path / "s.decoras")
    code = ("import os, signal; from decoras_gui.core.session import Journal, load_session;"
            f"s = load_session({str(start)!r}); j = Journal({str(journal_dir)!r}); j.start(s);"
            "from decoras_gui.core.edits import CatalogueEdit; c = s.catalogue;"
            "j.record(CatalogueEdit.update(c, [c.get(5).replace(status='accepted')], 'Accept 5'));"
            "os.kill(os.getpid(), signal.SIGKILL)")
    subprocess.run([sys.executable, "-c", code], check=False)
    w = make_window()
    clicked = []

    def click_restore():
        box = w.sessions.restore_box
        if box is None:
            return qtbot_timer()
        assert "Restore" in box.windowTitle() and "6 sources" in box.text()
        clicked.append(True)
        [b for b in box.buttons() if b.text() == "Restore"][0].click()

    from PySide6.QtCore import QTimer

    def qtbot_timer():
        QTimer.singleShot(50, click_restore)

    qtbot_timer()
    with qtbot.waitSignal(w.sessions.session_opened, timeout=30000):
        assert w.sessions.offer_restore() == "restore"
    assert clicked
    got = w.doc.catalogue
    assert got.get(2).status == "rejected" and got.get(2).note == "sidelobe" and got.get(5).status == "accepted"
    assert w.isWindowModified()  # restored work is unsaved until saved
    assert w.sessions.orphans() == []


def test_opening_another_image_keeps_unsaved_vetting(qtbot, vet, tmp_path, journal_dir):
    """Unsaved decisions on image 1 survive opening image 2: their journal is set aside."""
    from decoras_gui.core.session import replay_journal

    w = vet
    w.vetting.set_status("accepted", [1, 2])
    first = w.sessions.journal.path
    other = tmp_path / "other.fits"
    shutil.copy(w.image.path, other)
    open_and_wait(qtbot, w, other)
    assert len(w.doc) == 0 and w.sessions.journal.path != first
    assert first.exists()
    session, _ = replay_journal(first)
    assert [s.status for s in session.catalogue][:2] == ["accepted", "accepted"]


def test_keys_work_from_the_table_but_not_while_typing_a_search(qtbot, vet):
    w = vet
    w.doc.set_selection([2])
    w.table.view.setFocus()
    qtbot.keyClick(w.table.view, Qt.Key.Key_R)
    assert w.doc.catalogue.get(2).status == "rejected"
    w.table.search.setFocus()
    qtbot.keyClick(w.table.search, Qt.Key.Key_A)
    assert w.table.search.text() == "a" and w.doc.catalogue.get(2).status == "rejected"
