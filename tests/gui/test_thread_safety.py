"""A detection running while the user closes the window, opens another file or asks again:
no crash, no orphan thread, and no sources of one image ever land on another."""

from __future__ import annotations

import threading

from PySide6.QtCore import QThread

from tests.gui.conftest import hold_until_cancelled, open_and_wait


def _start_and_wait_for_tiles(qtbot, window):
    started = []
    worker = window.run_detection()
    worker.progress.connect(lambda f, m: started.append(m) if "tile" in m else None)
    qtbot.waitUntil(lambda: bool(started), timeout=60000)
    return worker


def _running_qthreads(window) -> list[QThread]:
    return [t for t in window.tasks.findChildren(QThread) if t.isRunning()]


def test_close_while_detecting_leaves_no_thread(qtbot, window, big_noise_fits):
    """Closing mid-run cancels the networks before their next batch and joins the thread
    before close() returns. (How long closing takes: benchmarks/gui_detect_responsiveness.py.)"""
    open_and_wait(qtbot, window, big_noise_fits)
    python_threads = threading.active_count()
    held, tiles = hold_until_cancelled(window.run_detection())
    qtbot.waitUntil(held.is_set, timeout=60000)  # between two batches, waiting for a cancel
    assert _running_qthreads(window)
    at_close = list(tiles)
    window.ask_on_close = False
    window.close()
    assert _running_qthreads(window) == []  # joined by close()
    assert tiles == at_close and tiles[-1][0] < tiles[-1][1]  # no batch after the request
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=30000)
    assert threading.active_count() <= python_threads


def test_opening_another_image_while_detecting_never_mixes_catalogues(qtbot, window, big_noise_fits, vlba_fits):
    open_and_wait(qtbot, window, big_noise_fits)
    finished, cancelled = [], []
    window.detection_finished.connect(finished.append)
    window.detection_cancelled.connect(lambda: cancelled.append(True))
    _start_and_wait_for_tiles(qtbot, window)
    open_and_wait(qtbot, window, vlba_fits)  # the user opens another file meanwhile
    qtbot.waitUntil(lambda: not window.busy, timeout=60000)
    assert window.image.path == vlba_fits
    assert finished == [] and cancelled  # the old run was stopped, its result dropped
    assert len(window.doc) == 0 and window.doc.undo_stack.count() == 0
    qtbot.waitUntil(lambda: _running_qthreads(window) == [], timeout=60000)
    # and a detection on the new image works as usual
    with qtbot.waitSignal(window.detection_finished, timeout=180000):
        window.run_detection()
    assert len(window.doc) > 0
    assert {s.x < window.image.shape[1] and s.y < window.image.shape[0] for s in window.doc.catalogue} == {True}


def test_detect_again_while_running_is_one_run(qtbot, window, vlba_fits):
    open_and_wait(qtbot, window, vlba_fits)
    first = window.run_detection()
    second = window.run_detection()  # Ctrl+D pressed twice
    assert second is first
    window.act_detect.trigger()  # the toolbar button too
    with qtbot.waitSignal(window.detection_finished, timeout=180000):
        pass
    qtbot.waitUntil(lambda: not window.busy, timeout=60000)
    texts = [window.doc.undo_stack.text(i) for i in range(window.doc.undo_stack.count())]
    assert len([t for t in texts if t.startswith("Detect")]) == 1
    qtbot.waitUntil(lambda: _running_qthreads(window) == [], timeout=60000)
