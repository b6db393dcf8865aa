"""Detect in the window: the model's task run off the UI thread, its catalogue merged as one undo step.

:class:`DetectionController` loads the chosen model once (cached per folder and name), runs
its task (:func:`decoras_gui.ml.tasks.get_task`) on the open image through the window's
:class:`~.task_bar.TaskBar`, and merges the new detections into the document's catalogue
(:func:`~decoras_gui.core.vetting.merge_detections`: vetted, edited and manual sources stay).
A result that comes back for an image no longer open is dropped.

The dirty beam of the open image (:mod:`decoras_gui.core.psf`) is looked for beside it when it
opens (:meth:`DetectionController.image_opened`; the status bar says which file, or that there is
none) or chosen with File > Open Dirty Beam… (:meth:`DetectionController.open_beam_dialog`,
loaded and checked at once, errors in a dialog naming the file); the next Detect gives it to the
task, which runs the sidelobe test (:mod:`decoras_gui.core.sidelobes`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QFileDialog, QLabel, QWidget

from ..core.edits import CatalogueEdit
from ..core.errors import DecorasError
from ..core.formats import fits_image_filter
from ..core.image import SkyImage
from ..core.psf import DirtyBeam, find_psf, load_psf
from ..core.sidelobes import is_flagged, renumber_sidelobe_of
from ..core.vetting import merge_detections
from .document import CatalogueDocument
from .task_bar import TaskBar
from .vetting import Notify
from .workers import Worker


class DetectionController(QObject):
    finished = Signal(int)  # sources in the catalogue after merging
    cancelled = Signal()
    psf_changed = Signal(object)  # the dirty beam's path (None: none)

    def __init__(self, doc: CatalogueDocument, tasks: TaskBar, image: Callable[[], SkyImage | None],
                 model_dir: Path | None, notify: Notify, parent: QObject | None = None,
                 error: Callable[[str, str], object] | None = None):
        super().__init__(parent)
        self.doc, self.tasks, self.image, self.model_dir, self.notify = doc, tasks, image, model_dir, notify
        self.error = error
        self._models: dict[str, object] = {}
        self.psf_path: Path | None = None  # the open image's dirty beam, used by the next Detect
        self._psf: tuple[SkyImage, DirtyBeam] | None = None  # loaded (for that image), else loaded by Detect
        self.psf_label = QLabel("")  # in the status bar: which dirty beam the next Detect uses
        self.psf_label.setObjectName("psfLabel")
        tasks.status_bar.addPermanentWidget(self.psf_label)

    # ------------------------------------------------------------ dirty beam
    def image_opened(self, image: SkyImage) -> None:
        """A new image: its dirty beam is the one found beside it (or none)."""
        self.psf_path, self._psf = find_psf(image.path), None
        if self.psf_path is not None:
            message = (f"Dirty beam {self.psf_path.name} found beside {image.name}: Detect tests every "
                       "detection against its sidelobes.")
        else:
            message = (f"No dirty beam beside {image.name}: Detect skips the sidelobe test "
                       "(File > Open Dirty Beam… gives one).")
        self._show_psf(message)

    def _show_psf(self, message: str) -> None:
        name = self.psf_path.name if self.psf_path is not None else None
        self.psf_label.setText(f"PSF: {name}" if name else "No PSF")
        self.psf_label.setToolTip(str(self.psf_path) if name else "No dirty beam: Detect skips the sidelobe test "
                                  "(File > Open Dirty Beam…)")
        # after the opening task has ended (its end clears the status bar)
        QTimer.singleShot(0, self, lambda: self.notify(message, 10000))
        self.psf_changed.emit(self.psf_path)

    def open_beam_dialog(self) -> DirtyBeam | None:
        """File > Open Dirty Beam…: choose the open image's PSF file."""
        image = self.image()
        if image is None:
            return None
        parent = self.parent() if isinstance(self.parent(), QWidget) else None
        path, _ = QFileDialog.getOpenFileName(parent, "Open Dirty Beam", str(image.path.parent),
                                              fits_image_filter(all_files=True))
        return self.load_beam(path) if path else None

    def load_beam(self, path: str | Path) -> DirtyBeam | None:
        """Read and check ``path`` as the open image's dirty beam; a file that is not one is refused in a
        dialog naming it (the beam in use stays)."""
        image = self.image()
        if image is None:
            return None
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            beam = load_psf(path, image)
        except DecorasError as exc:
            if self.error is not None:
                self.error("Cannot use the dirty beam", str(exc))
            return None
        finally:
            QApplication.restoreOverrideCursor()
        self.psf_path, self._psf = Path(path), (image, beam)
        extra = f" ({'; '.join(beam.notes)})" if beam.notes else ""
        self._show_psf(f"Dirty beam {beam.name} loaded{extra}: the next Detect tests every detection against "
                       "its sidelobes.")
        return beam

    @property
    def running(self) -> Worker | None:
        return self.tasks.running("detection")

    def start(self, model_name: str, device: str = "auto", threshold: float | None = None) -> Worker:
        """Run the model on the open image (one run at a time: a second call returns the first)."""
        if self.running is not None:
            return self.running
        image, folder, cache = self.image(), self.model_dir, self._models
        psf_path = self.psf_path
        psf = self._psf[1] if self._psf is not None and self._psf[0] is image else None

        def task(progress, cancel):
            from ..ml.registry import load_model
            from ..ml.tasks import get_task

            key = f"{folder}:{model_name}"
            model = cache.get(key)
            if model is None:
                progress(None, f"loading model {model_name}…")
                model = cache[key] = load_model(model_name, folder, task="detect")
            if cancel():
                return None
            beam = psf
            if beam is None and psf_path is not None:
                progress(None, f"reading the dirty beam {psf_path.name}…")
                beam = load_psf(psf_path, image)
            progress(0.0, f"detecting with {model.label} on {device}…")
            out = get_task(model.card.task).run(
                image, model, device=device, threshold=threshold, progress=progress, cancel=cancel, psf=beam)
            from ..core.cube import stamp_plane

            return image, stamp_plane(out.result, image)  # on a cube: the plane detected on

        worker = self.tasks.start(task, "detection", "Detecting sources…")
        worker.succeeded.connect(self._detected)
        worker.cancelled.connect(self._cancelled)
        return worker

    def cancel(self) -> None:
        self.tasks.cancel("detection")

    def _detected(self, result) -> None:
        if result is None:
            return self._cancelled()
        image, catalogue = result
        if image is not self.image():  # another image was opened meanwhile: these sources are not its
            return self._cancelled()
        before = len(self.doc)
        merged = merge_detections(self.doc.catalogue, catalogue)
        renumber_sidelobe_of(merged, catalogue)
        self.doc.apply(CatalogueEdit.replace_all(self.doc.catalogue, merged, f"Detect: {len(catalogue)} detections"))
        sidelobes = sum(is_flagged(s.p_sidelobe) for s in catalogue)
        tested = (f" ({sidelobes} likely sidelobes, flagged in their note)" if self.psf_path is not None
                  else " (no dirty beam: sidelobe test skipped)")
        message = f"{len(catalogue)} detections{tested}; catalogue now {len(merged)} sources (was {before})."
        self.notify(message, 10000)
        QTimer.singleShot(0, self, lambda: self.notify(message, 10000))  # again once the task's end cleared it
        self.finished.emit(len(merged))

    def _cancelled(self) -> None:
        self.notify("Detection cancelled: the catalogue is unchanged.", 8000)
        self.cancelled.emit()


__all__ = ["DetectionController"]
