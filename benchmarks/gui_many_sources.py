"""Responsiveness figures (not a test): 20,000 sources and a 20,000-row reference catalogue in the window.

    QT_QPA_PLATFORM=offscreen python benchmarks/gui_many_sources.py [--sources 20000] [--reference 20000]

A 16-plane FREQ cube of 2048 x 2048 pixels is opened; the catalogue holds --sources sources
spread over its planes; a reference catalogue (NVSS layout, VOTable) of --reference rows is
cross-matched with it. Then each interaction is timed from the call to the end of the events
it causes (the view's repaint, the table's update), --repeats times:
pan, zoom, select a source, accept it (one undo step), undo, step to the next plane (its data
read and stretched off the UI thread: the longest the UI thread is busy, while the overlay and
the table follow the plane),
toggle a status, move the probability slider, toggle the cross-match layer, sort the table,
search the table. Prints the median and the worst of each, and whether every worst case is
under 100 ms.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sources", type=int, default=20000)
    p.add_argument("--reference", type=int, default=20000)
    p.add_argument("--size", type=int, default=2048)
    p.add_argument("--planes", type=int, default=16)
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--verbose", action="store_true", help="every time, not only the median and the worst")
    p.add_argument("--profile", metavar="NAME", default=None,
                   help="profile the interactions whose name starts with NAME (cProfile, top 30 by cumulative time)")
    args = p.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from gui_bench_env import isolated_gui_env

    tmp = isolated_gui_env()
    from astropy import units as u
    from astropy.io import fits
    from astropy.table import Table

    from decoras_gui.core.catalogue import Catalogue, Source

    n, planes = args.size, args.planes
    cube = tmp / "cube.fits"
    h = fits.Header()  # 1.5" pixels, a 6" beam, 16 planes of 1-2 GHz: a LoTSS-like field
    for k, (ctype, crval, cdelt, crpix) in enumerate((("RA---SIN", 150.0, -1.5 / 3600, n / 2 + 1),
                                                      ("DEC--SIN", 40.0, 1.5 / 3600, n / 2 + 1),
                                                      ("FREQ", 1.0e9, 1.0e9 / planes, 1.0),
                                                      ("STOKES", 1.0, 1.0, 1.0)), start=1):
        h[f"CTYPE{k}"], h[f"CRVAL{k}"], h[f"CDELT{k}"], h[f"CRPIX{k}"] = ctype, crval, cdelt, crpix
    h["EQUINOX"], h["BUNIT"] = 2000.0, "JY/BEAM"
    h["BMAJ"] = h["BMIN"] = 6 / 3600
    h["BPA"] = 0.0
    rng = np.random.default_rng(0)
    hdu = fits.PrimaryHDU(header=h)
    hdu.header["NAXIS"], hdu.header["BITPIX"] = 4, -32
    for i, v in enumerate((n, n, planes, 1), start=1):
        hdu.header[f"NAXIS{i}"] = v
    hdu.header.tofile(cube)
    with open(cube, "ab") as fh:  # plane by plane: the cube is never whole in memory
        for _ in range(planes):
            fh.write(rng.normal(0, 1e-4, (n, n)).astype(">f4").tobytes())
        fh.write(b"\0" * ((2880 - fh.tell() % 2880) % 2880))

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from decoras_gui.gui.main_window import MainWindow

    w = MainWindow()
    w.resize(1600, 1000)
    w.show()
    opened = []
    w.image_opened.connect(opened.append)
    w.tasks.failed.connect(lambda title, message: sys.exit(f"{title}: {message}"))
    w.open_path(cube)
    while not opened:
        app.processEvents()
        time.sleep(0.002)
    wcs = w.image.wcs
    x, y = rng.uniform(10, n - 10, args.sources), rng.uniform(10, n - 10, args.sources)
    sky = wcs.pixel_to_world(x, y)
    plane = rng.integers(0, planes, args.sources)
    sources = [Source(source_id=i + 1, x=float(x[i]), y=float(y[i]), ra=float(sky[i].ra.deg),
                      dec=float(sky[i].dec.deg), maj=6.0, min=6.0, pa=0.0, maj_img=4.0, min_img=4.0, theta_img=0.0,
                      peak_flux=1e-3, total_flux=1e-3, det_prob=float(rng.uniform(0.5, 1)), plane=int(plane[i]),
                      freq=1.4e9, status=("candidate", "accepted", "rejected")[i % 3])
               for i in range(args.sources)]
    t = time.perf_counter()
    w.doc.set_catalogue(Catalogue(sources, meta={"beam_maj": 6.0, "beam_min": 6.0, "radesys": "ICRS"}))
    app.processEvents()
    print(f"{args.sources} sources on {planes} planes shown (overlay, table): {time.perf_counter() - t:.2f} s")
    pick = rng.choice(args.sources, args.reference, replace=args.reference > args.sources)
    jitter = rng.normal(0, 1.0, (2, args.reference)) * u.arcsec  # 1" offsets
    ref_sky = sky[pick].spherical_offsets_by(jitter[0], jitter[1])
    ref = tmp / "nvss.vot"  # the NVSS layout of VizieR (VIII/65), positions in degrees
    Table({"NVSS": [f"J{i:06d}" for i in range(args.reference)], "RAJ2000": ref_sky.ra.deg * u.deg,
           "DEJ2000": ref_sky.dec.deg * u.deg, "S1.4": np.full(args.reference, 1.0) * u.mJy}).write(
        ref, format="votable")
    t = time.perf_counter()
    worker = w.crossmatch.run(str(ref), radius_beams=0.1)
    done = []
    worker.done.connect(lambda: done.append(1))
    while not done or w.crossmatch.result is None:
        app.processEvents()
        time.sleep(0.002)
    app.processEvents()
    print(f"cross-match with {args.reference} reference rows (read, match, layer drawn; off the UI thread): "
          f"{time.perf_counter() - t:.2f} s; {w.crossmatch.layer.counts}")

    from PySide6.QtCore import QEvent, QObject

    class PaintCounter(QObject):
        count = 0

        def eventFilter(self, obj, event):  # noqa: N802 - Qt's name
            if event.type() == QEvent.Type.Paint:
                PaintCounter.count += 1
            return False

    counter = PaintCounter()
    view = w.canvas.graphics.viewport()
    view.installEventFilter(counter)

    def timed(action) -> float:
        """From the call to the end of the events it causes (the table's update) and of one
        repaint of the image view: the one the events caused, else one forced."""
        t = time.perf_counter()
        painted = PaintCounter.count
        own = action()
        app.processEvents()
        app.processEvents()
        if PaintCounter.count == painted:
            view.repaint()
        return own if isinstance(own, float) else (time.perf_counter() - t) * 1e3

    def step_plane() -> float:
        """The next plane: the UI thread's longest stall (the call, then each event handled while the
        plane is read and stretched off the UI thread, the new plane shown); the wait is latency."""
        got = []
        w.plane_changed.connect(got.append)
        t = time.perf_counter()
        w.cube.step(1 if w.cube.plane < planes - 1 else -(planes - 1))
        stall = time.perf_counter() - t
        while not got:
            t = time.perf_counter()
            app.processEvents()
            stall = max(stall, time.perf_counter() - t)
            time.sleep(0.0005)
        for _ in range(2):
            t = time.perf_counter()
            app.processEvents()
            stall = max(stall, time.perf_counter() - t)
        w.plane_changed.disconnect(got.append)
        return stall * 1e3

    ids = rng.integers(1, args.sources + 1, args.repeats * 2)
    state = {"k": 0}

    def next_id() -> int:
        state["k"] += 1
        return int(ids[state["k"] % len(ids)])

    def toggle(action):
        return lambda: action.trigger()

    def slider():
        w.prob_slider.setValue(int(rng.integers(0, w.prob_slider.maximum())))

    def sort():
        from PySide6.QtCore import Qt

        order = Qt.SortOrder.AscendingOrder if state["k"] % 2 else Qt.SortOrder.DescendingOrder
        state["k"] += 1
        w.table.view.sortByColumn(int(rng.integers(0, 12)), order)

    def search():
        w.table.search.setText(str(next_id()) if state["k"] % 2 else "")
        state["k"] += 1

    def select():
        w.doc.set_selection([next_id()])

    def accept():
        w.doc.set_selection([next_id()])
        w.vetting.act_unvet.trigger() if w.doc.catalogue.get(w.doc.selected_ids[0]).status == "accepted" else \
            w.vetting.act_accept.trigger()  # always one undo step

    base = w.doc.undo_stack.index()  # the cross-match: not undone by the undo case

    def undo():
        if w.doc.undo_stack.index() > base:
            w.vetting.act_undo.trigger()

    w.canvas.fit()
    timed(lambda: None)
    cases = [
        ("pan", lambda: w.canvas.vb.translateBy(x=n / 100.0, y=n / 200.0)),
        ("zoom in/out", lambda: w.canvas.zoom(1.25 if state.setdefault("z", 0) % 2 == 0 else 0.8)),
        ("select a source", select),
        ("accept a source", accept),
        ("undo", undo),
        ("next plane (UI thread's longest stall)", step_plane),
        ("toggle the candidates", toggle(w.status_actions["candidate"])),
        ("probability slider", slider),
        ("toggle the cross-match layer", toggle(w.crossmatch.act_layer)),
        ("sort the table", sort),
        ("search the table", search),
    ]
    worst_all = 0.0
    print(f"interaction (median / worst of {args.repeats}, ms), {args.sources} sources, "
          f"{args.reference} reference rows:")
    for name, action in cases:
        times = []
        profiler = None
        if args.profile and name.startswith(args.profile):
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        for _ in range(args.repeats):
            if name.startswith("zoom"):
                state["z"] = state.get("z", 0) + 1
            times.append(timed(action))
        if profiler is not None:
            import pstats

            profiler.disable()
            pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(30)
        times = np.array(times)
        worst_all = max(worst_all, times.max())
        every = f"  {np.round(times).astype(int).tolist()}" if args.verbose else ""
        print(f"  {name:48s} {np.median(times):7.1f} / {times.max():7.1f}{every}")
    print(f"every interaction under 100 ms: {'yes' if worst_all < 100 else 'no'} (worst {worst_all:.1f} ms)")
    w.close()


if __name__ == "__main__":
    main()
