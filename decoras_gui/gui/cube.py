"""Cubes in the window: the plane slider, detection on every plane, per-source spectra.

When the open image has a FREQ (or STOKES) axis longer than one, the Cube toolbar shows: a
slider and a spin box over the planes, the plane's frequency, and "Only this plane". Stepping
(the slider, PgDown / PgUp) shows the plane from the memory-mapped file, off the UI thread
(:meth:`MainWindow.show_plane`), and keeps the catalogue: with "Only this plane" the overlay
and the table show the sources detected on the plane shown (the document's plane filter).

Detect > Detect on All Planes… runs the window's model on a range of planes (one undo step)
and, on a FREQ axis, measures every source's spectrum across the planes with its spectral
index (:mod:`decoras_gui.core.cube`); Detect > Measure Spectra does the latter for the
catalogue as it is. The Spectrum dock plots the selected source's flux density against
frequency, its errors, the fitted power law and the plane shown.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ..core.cube import (
    CubeAxis,
    Spectra,
    cube_axis,
    current_plane,
    detect_cube,
    format_index,
    measure_spectra,
    plane_of,
)
from ..core.edits import CatalogueEdit
from ..core.image import SkyImage
from ..core.vetting import merge_detections
from .actions import make_action
from .document import CatalogueDocument

SPECTRUM_COLOR = "#56B4E9"


class SpectrumPlot(QWidget):
    """The selected source's spectrum: flux density (mJy/beam) against frequency (GHz)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.title = QLabel("Select a source after Detect > Measure Spectra", self)
        self.title.setWordWrap(True)
        self.plot = pg.PlotWidget(self)
        self.plot.setLabel("bottom", "frequency", units="Hz")
        self.plot.setLabel("left", "flux density (image unit)")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.points = pg.ScatterPlotItem(size=7, brush=pg.mkBrush(SPECTRUM_COLOR), pen=pg.mkPen("#ffffff", width=0.5))
        self.errors = pg.ErrorBarItem(pen=pg.mkPen(SPECTRUM_COLOR, width=1))
        self.fit = pg.PlotDataItem(pen=pg.mkPen("#E69F00", width=1.5, style=Qt.PenStyle.DashLine))
        self.marker = pg.InfiniteLine(angle=90, pen=pg.mkPen("#f0f0f0", width=1, style=Qt.PenStyle.DotLine))
        for item in (self.errors, self.points, self.fit, self.marker):
            self.plot.addItem(item)
        lay.addWidget(self.title)
        lay.addWidget(self.plot, 1)
        self.shown_id: int | None = None

    def clear(self, message: str) -> None:
        self.shown_id = None
        self.title.setText(message)
        self.points.setData([], [])
        self.errors.setData(x=np.array([]), y=np.array([]), height=np.array([]))
        self.fit.setData([], [])

    def show_spectrum(self, source_id: int, freq: np.ndarray, flux: np.ndarray, error: np.ndarray,
                      alpha: float, alpha_err: float, unit: str, x_is_freq: bool) -> None:
        self.shown_id = int(source_id)
        x = freq if x_is_freq else np.arange(len(flux), dtype=float)
        ok = np.isfinite(x) & np.isfinite(flux)
        self.plot.setLabel("bottom", "frequency" if x_is_freq else "plane", units="Hz" if x_is_freq else None)
        self.plot.setLabel("left", "flux density", units=unit)
        self.points.setData(x[ok], flux[ok])
        self.errors.setData(x=x[ok], y=flux[ok], height=2 * np.nan_to_num(error[ok]), beam=0)
        text = f"Source {source_id}"
        if math.isfinite(alpha) and x_is_freq:
            good = ok & (flux > 0)
            nu0 = float(np.exp(np.mean(np.log(x[good])))) if good.any() else float(np.nanmean(x))
            s0 = float(np.exp(np.mean(np.log(flux[good])))) if good.any() else math.nan
            grid = np.linspace(np.nanmin(x[ok]), np.nanmax(x[ok]), 100)
            # the fitted power law through the geometric-mean point of the planes it used
            self.fit.setData(grid, s0 * (grid / nu0) ** alpha)
            text += f": spectral index α = {format_index(alpha, alpha_err)}"
        else:
            self.fit.setData([], [])
            text += ": no spectral index (fewer than two planes above 3σ)" if x_is_freq else ""
        self.title.setText(text)

    def set_marker(self, value: float | None) -> None:
        self.marker.setVisible(value is not None and math.isfinite(value))
        if value is not None and math.isfinite(value):
            self.marker.setValue(value)


class PlanesDialog(QDialog):
    """The range of planes Detect on All Planes… runs on (0-based, as the catalogue's ``plane``)."""

    def __init__(self, axis: CubeAxis, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Detect on all planes")
        form = QFormLayout(self)
        self.first, self.last = QSpinBox(self), QSpinBox(self)
        for spin in (self.first, self.last):
            spin.setRange(0, axis.length - 1)
        self.last.setValue(axis.length - 1)
        form.addRow("From plane", self.first)
        form.addRow("To plane", self.last)
        note = QLabel(f"{axis.name} axis, {axis.length} planes. Each plane is read from the file in turn; "
                      + ("every source's spectrum and spectral index follow." if axis.is_frequency else ""), self)
        note.setWordWrap(True)
        form.addRow(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Detect")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def planes(self) -> list[int]:
        a, b = sorted((self.first.value(), self.last.value()))
        return list(range(a, b + 1))


class CubeController(QObject):
    """The Cube toolbar, the cube actions and the Spectrum dock's plot of one window."""

    spectra_measured = Signal(object)  # Spectra

    def __init__(self, window, doc: CatalogueDocument, tasks, image: Callable[[], SkyImage | None],
                 notify: Callable[[str, int], None]):
        super().__init__(window)
        self.w, self.doc, self.tasks, self.image, self.notify = window, doc, tasks, image, notify
        self.axis: CubeAxis | None = None
        self.spectra: Spectra | None = None
        self.dialog: PlanesDialog | None = None
        self.bar = QToolBar("Cube", window)
        self.bar.setObjectName("cubeToolbar")
        self.slider = QSlider(Qt.Orientation.Horizontal, self.bar)
        self.slider.setMinimumWidth(260)
        self.slider.setTracking(True)
        self.spin = QSpinBox(self.bar)
        self.label = QLabel("", self.bar)
        self.label.setMinimumWidth(200)
        self.only_plane = QCheckBox("Only this plane", self.bar)
        self.only_plane.setChecked(True)
        self.only_plane.setToolTip("Show only the sources detected on the plane shown (overlay and table)")
        self.bar.addWidget(QLabel(" Plane ", self.bar))
        self.bar.addWidget(self.slider)
        self.bar.addWidget(self.spin)
        self.bar.addWidget(self.label)
        self.bar.addWidget(self.only_plane)
        self.bar.setVisible(False)
        self.plot = SpectrumPlot()

        def act(*args, **kw):
            return make_action(window, *args, **kw)

        self.act_next = act("&Next Plane", lambda: self.step(1), ("PgDown",), "Show the next plane of the cube",
                            name="next_plane")
        self.act_prev = act("&Previous Plane", lambda: self.step(-1), ("PgUp",), "Show the previous plane of the cube",
                            name="previous_plane")
        self.act_detect = act("Detect on &All Planes…", self.detect_dialog, (),
                              "Detect on every plane of the cube (or a range), then measure the spectra",
                              name="detect_planes")
        self.act_spectra = act("Measure &Spectra", self.measure, (),
                               "Every source's flux density in every plane, and its spectral index",
                               name="measure_spectra")
        self.slider.valueChanged.connect(self._slider_moved)
        self.spin.valueChanged.connect(self.slider.setValue)
        self.only_plane.toggled.connect(lambda _on: self._filter())
        doc.selection_changed.connect(self._selection)  # the window connects reset/added/removed to update_actions
        self.update_actions()

    # ------------------------------------------------------------------ state
    @property
    def plane(self) -> int:
        image = self.image()
        return current_plane(image, self.axis) if image is not None and self.axis is not None else -1

    def update_actions(self, *_) -> None:
        cube = self.axis is not None
        for a in (self.act_next, self.act_prev, self.act_detect, self.act_spectra):
            a.setEnabled(cube)
        self.act_spectra.setEnabled(cube and len(self.doc) > 0)

    def image_opened(self, image: SkyImage) -> None:
        """A new image: the bar for a cube, hidden otherwise; spectra of another image are gone."""
        self.axis = cube_axis(image)
        self.spectra = None
        self.bar.setVisible(self.axis is not None)
        if self.axis is not None:
            for widget, lo, hi in ((self.slider, 0, self.axis.length - 1), (self.spin, 0, self.axis.length - 1)):
                widget.blockSignals(True)
                widget.setRange(lo, hi)
                widget.blockSignals(False)
            self._show_plane_state(self.plane)
            self.plot.clear("Select a source after Detect > Measure Spectra (or Detect on All Planes…)")
        else:
            self.plot.clear("Spectra are for cubes: this image has a single plane")
        self._filter()
        self.update_actions()

    def plane_changed(self, image: SkyImage) -> None:
        self._show_plane_state(self.plane)
        self._filter()

    def _show_plane_state(self, k: int) -> None:
        for widget, value in ((self.slider, k), (self.spin, k)):
            widget.blockSignals(True)
            widget.setValue(value)
            widget.blockSignals(False)
        self.label.setText(self.axis.label(k) if self.axis is not None and k >= 0 else "")
        if self.axis is not None and k >= 0:
            self.plot.set_marker(float(self.spectra.freq[list(self.spectra.planes).index(k)])
                                 if self.spectra is not None and k in self.spectra.planes and self.axis.is_frequency
                                 else (float(k) if not self.axis.is_frequency else None))

    def _filter(self) -> None:
        on = self.axis is not None and self.only_plane.isChecked()
        self.doc.set_plane(self.plane if on else None)

    # ------------------------------------------------------------------ stepping
    def set_plane(self, k: int):
        """Show plane ``k`` (0-based) of the cube."""
        if self.axis is None or self.image() is None:
            return None
        k = max(0, min(self.axis.length - 1, int(k)))
        self._show_plane_state(k)
        if k == self.plane:
            return None
        return self.w.show_plane(plane_of(self.image(), self.axis, k))

    def step(self, delta: int):
        return self.set_plane(self.slider.value() + delta)

    def _slider_moved(self, k: int) -> None:
        self.set_plane(k)

    # ------------------------------------------------------------------ detect, spectra
    def detect_dialog(self) -> PlanesDialog | None:
        if self.axis is None:
            return None
        d = PlanesDialog(self.axis, self.w)
        d.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        d.accepted.connect(lambda: self.detect(d.planes()))
        self.dialog = d
        d.open()
        return d

    def detect(self, planes: list[int]):
        """The window's model on each of ``planes``, then (FREQ axis) the spectra; one undo step."""
        image = self.image()
        if image is None or self.axis is None:
            return None
        model_name = self.w.model_combo.currentData() or self.w.current_model()[0]
        device = self.w.device_combo.currentData() or "auto"
        threshold = self.w.detect_threshold
        model_dir, is_freq = self.w.model_dir, self.axis.is_frequency

        def task(progress, cancel):
            from ..ml.registry import load_model
            from ..ml.tasks import get_task

            progress(None, f"loading model {model_name}…")
            model = load_model(model_name, model_dir, task="detect")

            def one(plane: SkyImage):
                return get_task("detect").run(plane, model, device=device, threshold=threshold, cancel=cancel).result

            cat = detect_cube(image, planes, one, progress=progress, cancelled=cancel)
            spectra = None
            if is_freq and len(cat):
                cat, spectra = measure_spectra(cat, image, progress=progress, cancelled=cancel)
            return image, cat, spectra

        worker = self.tasks.start(task, "detection", f"Detecting on {len(planes)} planes…")
        worker.succeeded.connect(self._detected)
        return worker

    def _detected(self, result) -> None:
        if not result:
            return
        image, cat, spectra = result
        if (image.path, image.hdu_index) != (self.image().path, self.image().hdu_index):
            return
        merged = merge_detections(self.doc.catalogue, cat)
        planes = sorted({s.plane for s in cat})
        span = f"{planes[0]}–{planes[-1]}" if planes else "none"
        self.doc.apply(CatalogueEdit.replace_all(self.doc.catalogue, merged,
                                                 f"Detect on planes {span}: {len(cat)} detections"))
        if spectra is not None:
            self._set_spectra(self._rekeyed(spectra, cat, merged))
        self.notify(f"{len(cat)} detections on {len(planes)} planes; catalogue now {len(merged)} sources.", 10000)

    @staticmethod
    def _rekeyed(spectra: Spectra, cat, merged) -> Spectra:
        """The spectra under the ids the merged catalogue gave the detections (same position, plane)."""
        key = {(round(s.x, 3), round(s.y, 3), s.plane): s.source_id for s in merged}
        ids = [key.get((round(s.x, 3), round(s.y, 3), s.plane), -1) for s in cat]
        return Spectra(np.array(ids, dtype=np.int64), spectra.planes, spectra.freq, spectra.flux, spectra.error,
                       spectra.unit, spectra.axis)

    def measure(self):
        """Spectra and spectral indices of the catalogue as it is, off the UI thread; one undo step."""
        image = self.image()
        if image is None or self.axis is None or not len(self.doc):
            return None
        cat = self.doc.catalogue.copy()

        def task(progress, cancel):
            return measure_spectra(cat, image, progress=progress, cancelled=cancel)

        worker = self.tasks.start(task, "spectra", f"Measuring spectra on {self.axis.length} planes…")
        worker.succeeded.connect(self._measured)
        return worker

    def _measured(self, result) -> None:
        if not result:
            return
        out, spectra = result
        live = self.doc.catalogue
        new = live.copy()
        by_id = {s.source_id: s for s in out}
        for s in list(new):
            m = by_id.get(s.source_id)
            if m is not None:
                new.update(s.source_id, spectral_index=m.spectral_index, spectral_index_err=m.spectral_index_err)
        self.doc.apply(CatalogueEdit.replace_all(live, new, f"Measure spectra on {len(spectra.planes)} planes"))
        self._set_spectra(spectra)
        fitted = sum(math.isfinite(s.spectral_index) for s in new)
        self.notify(f"Spectra of {len(new)} sources; spectral index fitted for {fitted}.", 10000)

    def _set_spectra(self, spectra: Spectra) -> None:
        self.spectra = spectra
        self._show_plane_state(self.plane)
        self._selection(self.doc.selected_ids)
        self.spectra_measured.emit(spectra)

    def _selection(self, ids: list) -> None:
        if not ids:
            return
        sid = int(ids[0])
        if self.spectra is None:
            self.plot.clear("Detect > Measure Spectra gives every source's spectrum")
            return
        found = self.spectra.of(sid)
        if found is None or sid not in self.doc.catalogue:
            self.plot.clear(f"Source {sid} has no spectrum yet: Detect > Measure Spectra")
            return
        s = self.doc.catalogue.get(sid)
        flux, error = found
        self.plot.show_spectrum(sid, self.spectra.freq, flux, error, s.spectral_index, s.spectral_index_err,
                                str(self.spectra.unit), self.axis is not None and self.axis.is_frequency)


__all__ = ["CubeController", "SpectrumPlot", "PlanesDialog"]
