"""GUI speed figures (not a test): open an 8192x8192 image, pan it, select among 5,000 sources.

    QT_QPA_PLATFORM=offscreen python benchmarks/gui_open_pan.py [--size 8192]
    QT_QPA_PLATFORM=offscreen python benchmarks/gui_open_pan.py --size 16384   # 1 GiB, overview + detail

Prints: time from creating the window to the image shown; mean/max frame time of a pan
(each step moves the view and repaints synchronously); time for a selection change
with 5,000 ellipses overlaid (document -> overlay highlight + table row).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--size", type=int, default=8192)
    p.add_argument("--sources", type=int, default=5000)
    p.add_argument("--frames", type=int, default=30)
    args = p.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from gui_bench_env import isolated_gui_env

    tmp = isolated_gui_env()
    from huge_image import write_image  # written in row chunks: no whole-image array here

    n = args.size
    path = tmp / f"noise_{n}.fits"
    write_image(path, n)
    rng = np.random.default_rng(0)

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    t0 = time.perf_counter()
    from decoras_gui.core.catalogue import Catalogue, Source
    from decoras_gui.gui.main_window import MainWindow

    w = MainWindow()
    w.resize(1600, 1000)
    w.show()
    opened = []
    w.image_opened.connect(lambda im: opened.append(time.perf_counter()))
    w.open_path(path)
    while not opened:
        app.processEvents()
        time.sleep(0.002)
    w.canvas.graphics.viewport().repaint()
    app.processEvents()
    t_shown = time.perf_counter() - t0
    print(f"launch -> {n}x{n} image shown: {t_shown:.2f} s (window, load, stretch, first paint); "
          f"peak RSS so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB "
          f"(overview factor {w.canvas.overview_factor})")

    def pan_frames(label: str) -> None:
        vb = w.canvas.vb
        times = []
        for _ in range(args.frames):
            t = time.perf_counter()
            vb.translateBy(x=n / 200.0, y=n / 400.0)
            app.processEvents()
            w.canvas.graphics.viewport().repaint()
            times.append(time.perf_counter() - t)
        times = np.array(times[2:]) * 1e3
        print(f"pan frame time {label}: mean {times.mean():.1f} ms, max {times.max():.1f} ms")

    w.canvas.fit()
    pan_frames("(whole image in view)")
    w.canvas.zoom(8.0)
    pan_frames("(zoomed x8)")
    if w.canvas.overview_factor > 1:  # a huge image: time the full-resolution detail of the zoomed view
        w.canvas.zoom(4.0)
        t = time.perf_counter()
        w.display.render_detail()
        app.processEvents()
        w.canvas.graphics.viewport().repaint()
        print(f"full-resolution detail of the view zoomed x32, region {w.canvas.detail_region}: "
              f"{(time.perf_counter() - t) * 1e3:.0f} ms")
        pan_frames("(zoomed x32, over the detail)")

    sources = [Source(source_id=i + 1, x=float(rng.uniform(0, n)), y=float(rng.uniform(0, n)),
                      maj_img=8.0, min_img=4.0, theta_img=float(rng.uniform(0, 180)), det_prob=0.9,
                      status=("candidate", "accepted", "rejected")[i % 3]) for i in range(args.sources)]
    t = time.perf_counter()
    w.doc.set_catalogue(Catalogue(sources))
    app.processEvents()
    print(f"{args.sources} sources overlaid + table filled: {time.perf_counter() - t:.2f} s")
    w.canvas.fit()
    app.processEvents()
    w.canvas.graphics.viewport().repaint()  # the fitted view's first render is not part of a selection change
    sel = []
    for sid in rng.integers(1, args.sources + 1, 20):
        t = time.perf_counter()
        w.doc.set_selection([int(sid)])
        app.processEvents()
        w.canvas.graphics.viewport().repaint()
        sel.append(time.perf_counter() - t)
    sel = np.array(sel) * 1e3
    print(f"selection change with {args.sources} sources (incl. repaint): mean {sel.mean():.1f} ms, "
          f"median {np.median(sel):.1f} ms, max {sel.max():.1f} ms")
    pan_frames(f"with {args.sources} ellipses")
    w.close()


if __name__ == "__main__":
    main()
