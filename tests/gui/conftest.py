"""GUI fixtures: real FITS files, a tiny real model trained once per session, a window
with its settings in a temporary ini file (never the user's)."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from tests.conftest import sky_header

pytest.importorskip("pytestqt")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TINY_MODEL_CONFIG = {
    "name": "tiny", "steps": 5, "batch_size": 2, "crop": 64, "workers": 0, "log_every": 5,
    "checkpoint_every": 5, "sim": {"size": 64, "margin_pix": 8},
    "detection": {"widths": [8, 16]}, "characterization": {"widths": [8, 16]},
}
#: low enough that the untrained tiny model finds sources, so counts can be compared
TINY_THRESHOLD = 0.0


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> Path:
    """A folder holding a tiny but real trained model ("tiny"): 5 steps on simulated fields."""
    from decoras_gui.ml.train import TrainConfig, train

    tmp = tmp_path_factory.mktemp("tiny_model")
    train(TrainConfig.from_dict(TINY_MODEL_CONFIG), tmp / "models", tmp / "run", log=lambda s: None)
    return tmp / "models"


@pytest.fixture(scope="session")
def vlba_fits(tmp_path_factory) -> Path:
    """A real 4-D (RA, Dec, FREQ, STOKES) simulated VLBA dirty image, 256 x 256, with
    several sources bright enough for the bundled model to find."""
    from decoras_gui.sim import SimConfig, run_simulate

    config = SimConfig(max_sources=8, empty_fraction=0.0, snr_range=(12.0, 80.0))
    return run_simulate(1, 11, 256, tmp_path_factory.mktemp("vlba"), config=config)[0]


@pytest.fixture(scope="session")
def big_noise_fits(tmp_path_factory) -> Path:
    """A 1200 x 1200 noise image with a beam: many network tiles, so a run can be cancelled."""
    path = tmp_path_factory.mktemp("big") / "noise_1200.fits"
    rng = np.random.default_rng(5)
    header = sky_header(1200, 1200)
    header["BMAJ"], header["BMIN"], header["BPA"] = 4e-6, 1.5e-6, 10.0
    fits.PrimaryHDU(rng.normal(0, 1e-3, (1200, 1200)).astype(np.float32), header).writeto(path)
    return path


@pytest.fixture(autouse=True)
def gui_settings(tmp_path, monkeypatch) -> Path:
    ini = tmp_path / "decoras-gui.ini"
    monkeypatch.setenv("DECORAS_GUI_SETTINGS", str(ini))
    return ini


@pytest.fixture(autouse=True)
def journal_dir(tmp_path, monkeypatch) -> Path:
    """The autosave journal of every test window goes here, never into the user's data dir."""
    folder = tmp_path / "journal"
    monkeypatch.setenv("DECORAS_JOURNAL_DIR", str(folder))
    monkeypatch.delenv("DECORAS_GUI_RESTORE", raising=False)
    return folder


@pytest.fixture
def make_window(qtbot):
    """A main window with the bundled model (pass model_dir=tiny_models for the tiny one)."""
    from decoras_gui.gui.main_window import MainWindow

    made = []

    def make(**kw):
        w = MainWindow(**kw)
        qtbot.addWidget(w)
        w.resize(1200, 800)
        w.show()
        made.append(w)
        return w

    yield make
    for w in made:
        w.tasks.cancel_all()
        w.tasks.wait_all(30000)


@pytest.fixture
def window(make_window):
    return make_window()


def open_and_wait(qtbot, window, path, timeout=30000, **kw):
    with qtbot.waitSignal(window.image_opened, timeout=timeout):
        window.open_path(path, **kw)
    wait_layout_settled(qtbot, window)
    return window.image


def wait_layout_settled(qtbot, window, timeout=30000) -> None:
    """The canvas has replaced the welcome page: process events until its mapping from image
    pixels to the viewport is the same after a round of posted events (layout requests, resizes)
    as before it, so points can be mapped."""
    from PySide6.QtCore import QPointF
    from PySide6.QtWidgets import QApplication

    canvas = window.canvas

    def mapping():
        QApplication.sendPostedEvents()
        QApplication.processEvents()
        view = canvas.graphics
        points = [view.mapFromScene(canvas.vb.mapViewToScene(QPointF(x, y))) for x, y in ((0, 0), (100, 100))]
        return view.viewport().size(), [(p.x(), p.y()) for p in points]

    before = [None]

    def settled() -> bool:
        now = mapping()
        same, before[0] = now == before[0], now
        return same and window.stack.currentWidget() is window.views and canvas.isVisible()

    qtbot.waitUntil(settled, timeout=timeout)


TILE = re.compile(r"tile (\d+)/(\d+)")
#: a worker waiting in a test's hook gives up after this long (a hang, not a slow machine)
HOLD_LIMIT_S = 120.0


def network_tiles(worker, at_tile=None) -> list[tuple[int, int]]:
    """Record the network tiles a detection worker reports, in the worker's own thread (a
    direct connection to its progress signal, so the record does not wait for the UI thread):
    (tiles done, total) in order. ``at_tile(done, total)``, when given, runs there too, while
    the worker waits for it."""
    from PySide6.QtCore import Qt

    tiles = []

    def on_progress(_fraction, message: str) -> None:
        m = TILE.search(message)
        if m:
            tiles.append((int(m.group(1)), int(m.group(2))))
            if at_tile is not None:
                at_tile(*tiles[-1])

    worker.progress.connect(on_progress, Qt.ConnectionType.DirectConnection)
    return tiles


def hold_until_cancelled(worker) -> tuple[threading.Event, list[tuple[int, int]]]:
    """Make a detection worker wait, after its first batch of network tiles, until it is asked
    to cancel (its ``cancel()`` called, by the Cancel button or by closing the window): the
    request is then certain to come between two batches. Returns (set once it waits, the
    tiles reported)."""
    held, asked = threading.Event(), threading.Event()
    cancel = worker.cancel

    def cancel_then_release() -> None:
        cancel()
        asked.set()

    worker.cancel = cancel_then_release

    def at_tile(done: int, total: int) -> None:
        if done >= 1 and not held.is_set():
            assert threading.get_ident() != threading.main_thread().ident  # never the UI thread
            held.set()
            asked.wait(HOLD_LIMIT_S)

    return held, network_tiles(worker, at_tile)


def detect_and_wait(qtbot, window, timeout=180000, **kw):
    with qtbot.waitSignal(window.detection_finished, timeout=timeout):
        window.run_detection(**kw)
    qtbot.waitUntil(lambda: not window.busy, timeout=60000)
    return window.doc.catalogue
