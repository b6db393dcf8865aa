"""``decoras-gui --self-test``: check an install end to end, offscreen, in a temporary folder.

Opens the bundled sample in the real window, detects with the bundled model, exports a DS9
region file and an ECSV catalogue through the window's own export code, reads both back
and checks them, then prints one line and exits 0 (1 on any failure, saying what). The
user's settings and autosave journal are never touched.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

TIMEOUT_S = 300


def _wait(app, done, what: str, timeout: float = TIMEOUT_S) -> None:
    t0 = time.monotonic()
    while not done():
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        app.processEvents()
        time.sleep(0.01)


def _check(condition: bool, problem: str) -> None:
    if not condition:
        raise RuntimeError(problem)


def run_self_test(model_dir: str | None = None) -> int:
    """Returns the exit code; prints a one-line summary either way."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="decoras-self-test-") as tmp:
        tmp_path = Path(tmp)
        os.environ["DECORAS_GUI_SETTINGS"] = str(tmp_path / "settings.ini")
        os.environ["DECORAS_JOURNAL_DIR"] = str(tmp_path / "journal")
        # pyqtgraph's colormap menu imports matplotlib when it is installed, which writes its
        # font cache under ~/.cache and ~/.config: keep that in the temporary folder too
        os.environ["MPLCONFIGDIR"] = str(tmp_path / "matplotlib")
        try:
            summary = _run(tmp_path, model_dir)
        except Exception as exc:  # report anything: this is the check of an install
            print(f"decoras-gui self-test FAILED: {type(exc).__name__}: {exc}", flush=True)
            return 1
    print(f"decoras-gui self-test passed in {time.perf_counter() - t0:.1f} s: {summary}", flush=True)
    return 0


def _run(tmp: Path, model_dir: str | None) -> str:
    import pyqtgraph as pg
    from astropy import units as u
    from astropy.table import Table
    from PySide6.QtWidgets import QApplication

    from .. import __version__
    from ..core.regions_io import read_regions
    from ..paths import resources_dir
    from .main_window import MainWindow

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow(model_dir=model_dir)
    window.ask_on_close = False
    try:
        sample = resources_dir() / "sample_vlba_dirty.fits"
        _check(sample.is_file(), f"the bundled sample is missing ({sample})")
        opened, finished, failed = [], [], []
        window.image_opened.connect(opened.append)
        window.detection_finished.connect(finished.append)
        window.open_path(sample)
        _wait(app, lambda: opened and not window.busy, "the sample to open")
        worker = window.run_detection()
        _check(worker is not None,
               f"Detect did not start: no detection model in {window.model_dir or 'the bundled models'}")
        worker.failed.connect(failed.append)
        _wait(app, lambda: finished or failed or not window.busy, "the detection")
        _check(not failed, f"detection failed: {failed[0] if failed else ''}")
        catalogue = window.doc.catalogue
        _check(len(catalogue) > 0, "the bundled model found no source in the bundled sample")
        model, version = window.current_model()
        regions_path, catalogue_path = tmp / "sample.reg", tmp / "sample.ecsv"
        window.exchange.export_regions(regions_path, frame="fk5")
        window.exchange.export_catalogue(catalogue_path)
        regions = read_regions(regions_path)
        _check(len(regions) == len(catalogue),
               f"the region file holds {len(regions)} regions for {len(catalogue)} sources")
        table = Table.read(catalogue_path, format="ascii.ecsv")
        _check(len(table) == len(catalogue), f"the catalogue holds {len(table)} rows for {len(catalogue)} sources")
        _check(table["ra"].unit == u.deg and table["peak_flux"].unit == u.Jy / u.beam,
               f"catalogue units lost (ra {table['ra'].unit}, peak_flux {table['peak_flux'].unit})")
        _check(table.meta.get("model") == model, "the catalogue does not name its model")
        return (f"decoras-gui {__version__}, {sample.name}: {len(catalogue)} sources with {model} {version}; "
                f"DS9 regions and ECSV catalogue written and read back")
    finally:
        window.close()
