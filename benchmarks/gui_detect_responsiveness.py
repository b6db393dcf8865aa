"""The window while it detects (not a test: prints figures): the longest stall of the UI thread
during a detection, how soon Cancel stops it, how long closing the window mid-run takes.

    QT_QPA_PLATFORM=offscreen python benchmarks/gui_detect_responsiveness.py [--size 1536]

The tests check the order of events on any machine (tests/gui/test_main_window.py: the UI
thread answers at every network tile, a cancel is acted on before the next tile;
tests/gui/test_thread_safety.py: close joins the thread); these are the seconds behind them
on this machine. The image is noise with a beam and a few point sources
(``huge_image.write_image``), detected with the bundled model on the CPU.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--size", type=int, default=1536, help="image side in pixels, a multiple of 512")
    p.add_argument("--tick-ms", type=int, default=20, help="interval of the UI-thread timer that measures stalls")
    args = p.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from gui_bench_env import isolated_gui_env

    tmp = isolated_gui_env()
    from huge_image import write_image

    path = tmp / f"noise_{args.size}.fits"
    write_image(path, args.size)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from decoras_gui.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])

    def wait_for(condition, what: str, limit_s: float = 600.0) -> None:
        t0 = time.perf_counter()
        while not condition():
            app.processEvents()
            time.sleep(0.001)
            if time.perf_counter() - t0 > limit_s:
                raise SystemExit(f"gave up waiting for {what}")

    def new_window() -> MainWindow:
        w = MainWindow()
        w.ask_on_close = False
        w.resize(1400, 900)
        w.show()
        opened = []
        w.image_opened.connect(opened.append)
        w.open_path(path)
        wait_for(lambda: bool(opened) and not w.busy, "the image")
        return w

    def start_and_wait_for_a_tile(w: MainWindow):
        tiles = []
        worker = w.run_detection(device="cpu")
        worker.progress.connect(lambda _f, m: tiles.append(m) if re.search(r"tile [1-9]\d*/", m) else None)
        wait_for(lambda: bool(tiles), "the first network tile")
        return worker

    # 1. a whole detection, a timer on the UI thread ticking every tick-ms
    w = new_window()
    ticks, finished = [], []
    timer = QTimer()
    timer.setInterval(args.tick_ms)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    w.detection_finished.connect(finished.append)
    timer.start()
    t0 = time.perf_counter()
    w.run_detection(device="cpu")
    wait_for(lambda: bool(finished), "the detection")
    seconds = time.perf_counter() - t0
    timer.stop()
    gaps = np.diff([t0, *ticks, time.perf_counter()])
    print(f"detect {args.size}^2 in the window: {seconds:.2f} s, {finished[0]} sources; UI-thread timer "
          f"({args.tick_ms} ms): longest gap {gaps.max() * 1e3:.0f} ms, 99th percentile "
          f"{np.percentile(gaps, 99) * 1e3:.0f} ms, {len(ticks)} ticks")

    # 2. Cancel clicked after the first batch of tiles
    cancelled = []
    w.detection_cancelled.connect(lambda: cancelled.append(time.perf_counter()))
    start_and_wait_for_a_tile(w)
    asked = time.perf_counter()
    w.tasks.cancel_button.click()
    wait_for(lambda: bool(cancelled), "the cancel")
    print(f"cancel: detection_cancelled {(cancelled[0] - asked) * 1e3:.0f} ms after the click")
    wait_for(lambda: not w.busy, "the end of the cancelled run")
    w.close()

    # 3. the window closed mid-run
    w = new_window()
    start_and_wait_for_a_tile(w)
    t = time.perf_counter()
    w.close()
    print(f"close mid-detection: {(time.perf_counter() - t) * 1e3:.0f} ms (cancel, join the thread)")


if __name__ == "__main__":
    main()
