"""Long tasks of the window, shown in its status bar: a progress bar, Cancel, and one worker per kind.

:class:`TaskBar` starts each task in a thread of its own (:class:`~.workers.TaskRunner`),
shows its progress and message, and keeps one worker per name ("open", "detection"...)
so the window can ask what runs. A failure is reported through :attr:`TaskBar.failed`
with a title that says what failed; the window shows it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QProgressBar, QPushButton, QStatusBar

from .workers import TaskRunner, Worker

TITLES = {"open": "Cannot open the image", "detection": "Detection failed", "crossmatch": "Cross-match failed"}


class TaskBar(QObject):
    failed = Signal(str, str)  # title, message
    idle_changed = Signal()  # a task started or ended

    def __init__(self, status_bar: QStatusBar, parent: QObject | None = None):
        super().__init__(parent)
        self.status_bar = status_bar
        self.runner = TaskRunner(self)
        self.current: dict[str, Worker] = {}
        self.progress = QProgressBar(status_bar)
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel", status_bar)
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_all)
        status_bar.addPermanentWidget(self.progress)
        status_bar.addPermanentWidget(self.cancel_button)

    def start(self, task: Callable, name: str, message: str) -> Worker:
        """Run ``task(progress, cancel)`` off the UI thread; a newer task of the same name replaces
        the older one in :attr:`current` (which is cancelled)."""
        old = self.current.get(name)
        if old is not None:
            old.cancel()
        worker = self.runner.start(task, name)
        self.current[name] = worker
        # bound slots of this UI-thread object: queued to the UI thread (a lambda would run in the worker's)
        worker.progress.connect(self._progress)
        worker.failed.connect(self._failed)
        worker.done.connect(self._done)
        self.progress.setRange(0, 0)  # busy until the task says how far it is
        self.progress.setFormat(message)
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)
        self.status_bar.showMessage(message)
        self.idle_changed.emit()
        return worker

    def running(self, name: str) -> Worker | None:
        """The worker of ``name`` still running, if any."""
        return self.current.get(name)

    def is_current(self, worker: object) -> bool:
        return worker is not None and self.current.get(getattr(worker, "name", "")) is worker

    @property
    def busy(self) -> bool:
        return bool(self.current)

    def cancel(self, name: str) -> None:
        worker = self.current.get(name)
        if worker is not None:
            worker.cancel()

    def cancel_all(self) -> None:
        for worker in list(self.current.values()):
            worker.cancel()
        self.runner.cancel_all()
        self.progress.setFormat("Cancelling…")

    def wait_all(self, msecs: int) -> None:
        self.runner.wait_all(msecs)

    def _progress(self, fraction, message: str) -> None:
        if fraction is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * max(0.0, min(1.0, float(fraction)))))
        if message:
            self.progress.setFormat(f"{message}  %p%" if fraction is not None else message)
            self.status_bar.showMessage(message)

    def _failed(self, message: str) -> None:
        worker = self.sender()
        self.failed.emit(TITLES.get(getattr(worker, "name", ""), "Task failed"), message)

    def _done(self) -> None:
        worker = self.sender()
        if worker is not None and self.current.get(worker.name) is worker:
            del self.current[worker.name]
        if not self.current:
            self.progress.setVisible(False)
            self.cancel_button.setVisible(False)
            self.status_bar.clearMessage()
        self.idle_changed.emit()


__all__ = ["TaskBar"]
