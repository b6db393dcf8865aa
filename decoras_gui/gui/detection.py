"""Detect in the window: the model's task run off the UI thread, its catalogue merged as one undo step.

:class:`DetectionController` loads the chosen model once (cached per folder and name), runs
its task (:func:`decoras_gui.ml.tasks.get_task`) on the open image through the window's
:class:`~.task_bar.TaskBar`, and merges the new detections into the document's catalogue
(:func:`~decoras_gui.core.vetting.merge_detections`: vetted, edited and manual sources stay).
A result that comes back for an image no longer open is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ..core.edits import CatalogueEdit
from ..core.image import SkyImage
from ..core.vetting import merge_detections
from .document import CatalogueDocument
from .task_bar import TaskBar
from .vetting import Notify
from .workers import Worker


class DetectionController(QObject):
    finished = Signal(int)  # sources in the catalogue after merging
    cancelled = Signal()

    def __init__(self, doc: CatalogueDocument, tasks: TaskBar, image: Callable[[], SkyImage | None],
                 model_dir: Path | None, notify: Notify, parent: QObject | None = None):
        super().__init__(parent)
        self.doc, self.tasks, self.image, self.model_dir, self.notify = doc, tasks, image, model_dir, notify
        self._models: dict[str, object] = {}

    @property
    def running(self) -> Worker | None:
        return self.tasks.running("detection")

    def start(self, model_name: str, device: str = "auto", threshold: float | None = None) -> Worker:
        """Run the model on the open image (one run at a time: a second call returns the first)."""
        if self.running is not None:
            return self.running
        image, folder, cache = self.image(), self.model_dir, self._models

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
            progress(0.0, f"detecting with {model.label} on {device}…")
            out = get_task(model.card.task).run(
                image, model, device=device, threshold=threshold, progress=progress, cancel=cancel)
            return image, out.result

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
        self.doc.apply(CatalogueEdit.replace_all(self.doc.catalogue, merged, f"Detect: {len(catalogue)} detections"))
        self.notify(f"{len(catalogue)} detections; catalogue now {len(merged)} sources (was {before}).", 10000)
        self.finished.emit(len(merged))

    def _cancelled(self) -> None:
        self.notify("Detection cancelled: the catalogue is unchanged.", 8000)
        self.cancelled.emit()


__all__ = ["DetectionController"]
